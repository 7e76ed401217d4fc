// The parts of commonware-codec's canonical encoding the verifier reads: fixed-width
// big-endian integers, LEB128 varints (canonical only, as the Rust decoder insists),
// length-prefixed byte vectors, booleans and options. Every read is bounded; a short,
// overlong or non-canonical input is a DecodeError, never a wrong value.

/** Input that is not a canonical, in-bounds encoding. */
export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DecodeError";
  }
}

export function hexToBytes(hex: string, what: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new DecodeError(`${what} is not hex`);
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  }
  return out;
}

export function bytesToHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const len = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(len);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/** Big-endian encoding of a u64. */
export function u64be(v: bigint): Uint8Array {
  if (v < 0n || v >= 1n << 64n) throw new DecodeError("u64 out of range");
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, v);
  return out;
}

/** LEB128 encoding of an unsigned integer (what commonware's `UInt` and `usize` write). */
export function varint(v: bigint | number): Uint8Array {
  let n = BigInt(v);
  const out: number[] = [];
  do {
    let byte = Number(n & 0x7fn);
    n >>= 7n;
    if (n > 0n) byte |= 0x80;
    out.push(byte);
  } while (n > 0n);
  return Uint8Array.from(out);
}

/** A length-prefixed byte vector (`Vec<u8>`): varint length, then the bytes. */
export function vecBytes(bytes: Uint8Array): Uint8Array {
  return concat(varint(bytes.length), bytes);
}

/** A cursor over an encoding. */
export class Reader {
  private at = 0;
  constructor(
    private readonly buf: Uint8Array,
    private readonly what: string,
  ) {}

  get offset(): number {
    return this.at;
  }

  remaining(): number {
    return this.buf.length - this.at;
  }

  bytes(n: number): Uint8Array {
    if (n < 0 || this.at + n > this.buf.length) {
      throw new DecodeError(`${this.what}: ends early (needs ${n} more bytes)`);
    }
    const out = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  /** The bytes read between two offsets. */
  slice(from: number, to: number): Uint8Array {
    return this.buf.subarray(from, to);
  }

  u8(): number {
    return this.bytes(1)[0];
  }

  bool(): boolean {
    const b = this.u8();
    if (b > 1) throw new DecodeError(`${this.what}: invalid bool ${b}`);
    return b === 1;
  }

  u64be(): bigint {
    const b = this.bytes(8);
    return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0);
  }

  /** A canonical LEB128 varint of at most `bits` bits (the Rust `varint::Decoder`). */
  varint(bits: number): bigint {
    let result = 0n;
    let read = 0;
    for (;;) {
      const byte = this.u8();
      if (byte === 0 && read > 0) {
        throw new DecodeError(`${this.what}: non-canonical varint`);
      }
      const remainingBits = bits - read;
      if (remainingBits <= 7) {
        const relevant = byte === 0 ? 0 : 32 - Math.clz32(byte);
        if (relevant > remainingBits) {
          throw new DecodeError(`${this.what}: varint overflows ${bits} bits`);
        }
      }
      result |= BigInt(byte & 0x7f) << BigInt(read);
      if ((byte & 0x80) === 0) return result;
      read += 7;
    }
  }

  u64var(): bigint {
    return this.varint(64);
  }

  /** A `usize` length (a u32 varint), at most `max`. */
  len(max: number, what: string): number {
    const n = Number(this.varint(32));
    if (n > max) throw new DecodeError(`${this.what}: ${what} length ${n} exceeds ${max}`);
    return n;
  }

  /** A `Vec<u8>` of at most `max` bytes. */
  vec(max: number, what: string): Uint8Array {
    return this.bytes(this.len(max, what));
  }

  digest(): Uint8Array {
    return this.bytes(32);
  }

  /** Refuses trailing bytes (the Rust `decode` requires the whole input to be read). */
  end(): void {
    if (this.at !== this.buf.length) {
      throw new DecodeError(`${this.what}: ${this.buf.length - this.at} trailing bytes`);
    }
  }
}
