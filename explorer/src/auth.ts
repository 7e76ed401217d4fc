// Read tokens, signed in the browser exactly as `tally_node::http::auth::sign` does:
// ed25519 over `varint(13) ‖ "TALLY_READ_V1" ‖ chain ‖ 0 ‖ method ‖ 0 ‖ path and query ‖ 0 ‖
// expires (u64 BE) ‖ nonce`, sent as
// `Authorization: Tally <key hex>:<expires ms>:<nonce hex>:<signature hex>`.

import { ed25519 } from "@noble/curves/ed25519.js";
import { bytesToHex, concat, hexToBytes, u64be, varint } from "./verify/codec.js";

/** Domain tag of read-token signatures (`READ_NAMESPACE`). */
export const READ_NAMESPACE = "TALLY_READ_V1";
/** How long a token the explorer signs lives (the node accepts at most 120 s). */
export const TOKEN_LIFETIME_MS = 60_000;

const utf8 = (s: string) => new TextEncoder().encode(s);

/** The bytes a token signs (`auth::payload`, behind the namespace prefix). */
export function tokenMessage(
  chain: string,
  method: string,
  pathAndQuery: string,
  expiresMs: bigint,
  nonce: Uint8Array,
): Uint8Array {
  const zero = Uint8Array.of(0);
  const ns = utf8(READ_NAMESPACE);
  return concat(
    varint(ns.length),
    ns,
    utf8(chain),
    zero,
    utf8(method),
    zero,
    utf8(pathAndQuery),
    zero,
    u64be(expiresMs),
    nonce,
  );
}

/** A participant key held by the browser. */
export class SigningKey {
  readonly secret: Uint8Array;
  readonly publicKeyHex: string;

  constructor(secretHex: string) {
    const secret = hexToBytes(secretHex.trim(), "secret key");
    if (secret.length !== 32) throw new Error("a secret key is 64 hex characters (32 bytes)");
    this.secret = secret;
    this.publicKeyHex = bytesToHex(ed25519.getPublicKey(secret));
  }

  /** The `Authorization` header value for one request. */
  authorization(
    chain: string,
    method: string,
    pathAndQuery: string,
    expiresMs: bigint,
    nonce: Uint8Array,
  ): string {
    if (nonce.length !== 16) throw new Error("a token nonce is 16 bytes");
    const sig = ed25519.sign(tokenMessage(chain, method, pathAndQuery, expiresMs, nonce), this.secret);
    return `Tally ${this.publicKeyHex}:${expiresMs}:${bytesToHex(nonce)}:${bytesToHex(sig)}`;
  }
}
