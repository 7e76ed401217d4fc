// The explorer's verifier: what `tally_sdk::verify` checks, in the browser.
//
// 1. A certified block (`GET /block/{h}/certified`): the block decodes, has the claimed
//    height, the SHA-256 of its header (the encoding with the transactions field replaced
//    by that field's SHA-256) is the payload the finalization certificate signs, in the
//    block's round, and the certificate's two BLS12-381 threshold signatures (MinSig: signatures in
//    G1, the group key in G2) verify under the group key: the vote over the proposal in the
//    namespace `TALLY_CONSENSUS_V1_FINALIZE`, the seed over the round in
//    `TALLY_CONSENSUS_V1_SEED`. Messages are `varint(len(namespace)) ‖ namespace ‖ message`
//    hashed to G1 with the DST `BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_`.
// 2. A state proof (`GET /proof/holding/{a}/{i}`): for the key asked about, against the
//    certified block's state root (see qmdb.ts).

import { bls12_381 } from "@noble/curves/bls12-381.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { DecodeError, Reader, bytesToHex, concat, equalBytes, hexToBytes, varint } from "./codec.js";
import { MAX_KEY_BYTES, verifyExclusion, verifyInclusion } from "./qmdb.js";

export { DecodeError, bytesToHex, hexToBytes } from "./codec.js";

/** The node's consensus namespace (`tally_node::engine::CONSENSUS_NAMESPACE`). */
export const CONSENSUS_NAMESPACE = "TALLY_CONSENSUS_V1";
/** Hash-to-curve DST of commonware's MinSig message signatures. */
export const SIGNATURE_DST = "BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_";
/** Limits of a block's encoding (`tally_node::block`). */
const MAX_BLOCK_TXS = 10_000;
const MAX_TX_BYTES = 32 * 1024;
const MAX_BLOCK_TX_BYTES = 8 * 1024 * 1024;

/** Why something did not verify. */
export class VerifyError extends Error {
  constructor(
    readonly kind:
      | "GroupKey"
      | "Decode"
      | "Height"
      | "Digest"
      | "Round"
      | "Signature"
      | "StateRoot"
      | "Key"
      | "Kind"
      | "Merkle",
    message: string,
  ) {
    super(message);
    this.name = "VerifyError";
  }
}

export interface CertifiedBlock {
  height: number;
  block: string;
  certificate: string;
}

export interface StateProof {
  height: number;
  state_root: string;
  key: string;
  value?: string | null;
  kind: string;
  proof: string;
}

/** What a verified block says. */
export interface VerifiedBlock {
  height: bigint;
  epoch: bigint;
  view: bigint;
  digest: string;
  parent: string;
  timeMs: bigint;
  txCount: number;
  stateRoot: string;
  opsRoot: string;
}

interface Round {
  epoch: bigint;
  view: bigint;
}

function decodeBlock(bytes: Uint8Array): VerifiedBlock & { round: Round } {
  const r = new Reader(bytes, "block");
  const epoch = r.u64var();
  const view = r.u64var();
  r.bytes(32); // leader's ed25519 key
  r.u64var(); // parent view
  r.digest(); // parent payload
  const parent = r.digest();
  const height = r.u64var();
  const timeMs = r.u64be();
  const txsFrom = r.offset;
  const txCount = r.len(MAX_BLOCK_TXS, "transactions");
  let txBytes = 0;
  for (let i = 0; i < txCount; i++) txBytes += r.vec(MAX_TX_BYTES, "transaction").length;
  if (txBytes > MAX_BLOCK_TX_BYTES) throw new DecodeError("block: transactions exceed 8 MiB");
  const txsTo = r.offset;
  const stateRoot = r.digest();
  const opsRoot = r.digest();
  const rangeStart = r.u64var();
  const rangeEnd = r.u64var();
  if (rangeStart > 1n << 62n || rangeEnd > 1n << 62n) throw new DecodeError("block: location out of range");
  if (!(rangeStart < rangeEnd)) throw new DecodeError("block: empty operation range");
  r.end();
  return {
    height,
    epoch,
    view,
    round: { epoch, view },
    // The certificate signs the header: the encoding with the transactions replaced by
    // their SHA-256 (node/src/block.rs, LedgerBlock::header).
    digest: bytesToHex(
      sha256(concat(bytes.subarray(0, txsFrom), sha256(bytes.subarray(txsFrom, txsTo)), bytes.subarray(txsTo))),
    ),
    parent: bytesToHex(parent),
    timeMs,
    txCount,
    stateRoot: bytesToHex(stateRoot),
    opsRoot: bytesToHex(opsRoot),
  };
}

interface Finalization {
  round: Round;
  proposal: Uint8Array;
  roundBytes: Uint8Array;
  payload: Uint8Array;
  vote: Uint8Array;
  seed: Uint8Array;
}

function decodeFinalization(bytes: Uint8Array): Finalization {
  const r = new Reader(bytes, "certificate");
  const epoch = r.u64var();
  const view = r.u64var();
  const roundEnd = r.offset;
  r.u64var(); // parent view
  const payload = r.digest();
  const proposal = r.slice(0, r.offset);
  const vote = r.bytes(48);
  const seed = r.bytes(48);
  r.end();
  return { round: { epoch, view }, proposal, roundBytes: r.slice(0, roundEnd), payload, vote, seed };
}

/** `union_unique`: the namespace's length as a varint, the namespace, the message. */
function unionUnique(namespace: string, message: Uint8Array): Uint8Array {
  const ns = new TextEncoder().encode(namespace);
  return concat(varint(ns.length), ns, message);
}

type G2Point = ReturnType<typeof bls12_381.G2.Point.fromBytes>;

/** Parses the group key: a compressed G2 point, not the identity. */
export function parseGroupKey(hex: string): G2Point {
  try {
    const point = bls12_381.G2.Point.fromBytes(hexToBytes(hex.trim(), "group key"));
    if (point.equals(bls12_381.G2.Point.ZERO)) throw new Error("the identity");
    return point;
  } catch (e) {
    throw new VerifyError("GroupKey", `group public key: ${(e as Error).message}`);
  }
}

function verifySignature(group: G2Point, namespace: string, message: Uint8Array, sig: Uint8Array): boolean {
  const sigs = bls12_381.shortSignatures;
  let point;
  try {
    point = sigs.Signature.fromBytes(sig);
  } catch {
    return false;
  }
  if (point.equals(bls12_381.G1.Point.ZERO)) return false;
  const hashed = sigs.hash(unionUnique(namespace, message), SIGNATURE_DST);
  return sigs.verify(point, hashed, group);
}

/**
 * Checks a certified block against the group key (hex) and returns what the block says.
 * Throws a VerifyError saying which check failed.
 */
export function verifyCertifiedBlock(groupKeyHex: string, certified: CertifiedBlock): VerifiedBlock {
  const group = parseGroupKey(groupKeyHex);
  let block;
  let fin;
  try {
    block = decodeBlock(hexToBytes(certified.block, "block"));
    fin = decodeFinalization(hexToBytes(certified.certificate, "certificate"));
  } catch (e) {
    if (e instanceof DecodeError) throw new VerifyError("Decode", e.message);
    throw e;
  }
  if (block.height !== BigInt(certified.height)) {
    throw new VerifyError("Height", `block height ${block.height} is not the claimed ${certified.height}`);
  }
  if (bytesToHex(fin.payload) !== block.digest) {
    throw new VerifyError(
      "Digest",
      `the certificate finalizes digest ${bytesToHex(fin.payload)}, not this block's ${block.digest}`,
    );
  }
  if (fin.round.epoch !== block.round.epoch || fin.round.view !== block.round.view) {
    throw new VerifyError("Round", "the certificate's round is not the block's");
  }
  const voteOk = verifySignature(group, `${CONSENSUS_NAMESPACE}_FINALIZE`, fin.proposal, fin.vote);
  const seedOk = voteOk && verifySignature(group, `${CONSENSUS_NAMESPACE}_SEED`, fin.roundBytes, fin.seed);
  if (!voteOk || !seedOk) {
    throw new VerifyError("Signature", "the finality certificate does not verify under the group key");
  }
  const { round: _round, ...out } = block;
  return out;
}

/**
 * Checks a state proof for `expectedKeyHex` against a trusted state root (a certified
 * block's). Returns the proven value (hex) or null for a proven absence; throws a
 * VerifyError otherwise.
 */
export function verifyStateProof(proof: StateProof, expectedKeyHex: string, trustedRootHex: string): string | null {
  if (proof.key.toLowerCase() !== expectedKeyHex.toLowerCase()) {
    throw new VerifyError("Key", `the proof is for key ${proof.key}, expected ${expectedKeyHex}`);
  }
  let named: Uint8Array;
  let trusted: Uint8Array;
  let key: Uint8Array;
  let bytes: Uint8Array;
  try {
    named = hexToBytes(proof.state_root, "state_root");
    trusted = hexToBytes(trustedRootHex, "trusted root");
    if (named.length !== 32 || trusted.length !== 32) throw new DecodeError("a root is not 32 bytes");
    key = hexToBytes(proof.key, "key");
    if (key.length > MAX_KEY_BYTES) throw new DecodeError("key longer than 64 bytes");
    bytes = hexToBytes(proof.proof, "proof");
  } catch (e) {
    if (e instanceof DecodeError) throw new VerifyError("Decode", e.message);
    throw e;
  }
  if (!equalBytes(named, trusted)) {
    throw new VerifyError("StateRoot", `the proof is against ${proof.state_root}, the certified block has ${trustedRootHex}`);
  }
  const value = proof.value ?? null;
  try {
    if (proof.kind === "inclusion" && value !== null) {
      const v = hexToBytes(value, "value");
      if (!verifyInclusion(bytes, key, v, trusted)) throw new VerifyError("Merkle", "the Merkle proof does not verify");
      return bytesToHex(v);
    }
    if (proof.kind === "exclusion" && value === null) {
      if (!verifyExclusion(bytes, key, trusted)) throw new VerifyError("Merkle", "the Merkle proof does not verify");
      return null;
    }
  } catch (e) {
    if (e instanceof DecodeError) throw new VerifyError("Decode", e.message);
    throw e;
  }
  throw new VerifyError("Kind", `proof kind ${JSON.stringify(proof.kind)} is not inclusion (with a value) or exclusion`);
}

/** The state key of a holding: tag 0x09, account and instrument as u64 BE. */
export function holdingKey(account: bigint, instrument: bigint): string {
  const out = new Uint8Array(17);
  out[0] = 0x09;
  const view = new DataView(out.buffer);
  view.setBigUint64(1, account);
  view.setBigUint64(9, instrument);
  return bytesToHex(out);
}

/** A proven holding record: balance, held and frozen, each a u128 BE (absent: zero). */
export function decodeHolding(valueHex: string | null): { balance: bigint; held: bigint; frozen: bigint } {
  if (valueHex === null) return { balance: 0n, held: 0n, frozen: 0n };
  const b = hexToBytes(valueHex, "holding");
  if (b.length !== 48) throw new VerifyError("Decode", "a holding record is 48 bytes");
  const u128 = (at: number) => BigInt(`0x${bytesToHex(b.subarray(at, at + 16))}`);
  return { balance: u128(0), held: u128(16), frozen: u128(32) };
}

/** The state key of a transaction's receipt: tag 0x0d, the transaction id. */
export function receiptKey(txIdHex: string): string {
  const id = hexToBytes(txIdHex, "transaction id");
  if (id.length !== 32) throw new VerifyError("Decode", "a transaction id is 32 bytes");
  return `0d${bytesToHex(id)}`;
}

/** A proven receipt record: height (u64 BE), position (u32 BE), code (u16 BE), failed operation (option of u16 BE). */
export function decodeReceipt(valueHex: string): { height: bigint; index: number; code: number; failedOp: number | null } {
  const r = new Reader(hexToBytes(valueHex, "receipt"), "receipt");
  try {
    const height = r.u64be();
    const b = r.bytes(6);
    const index = new DataView(b.buffer, b.byteOffset).getUint32(0);
    const code = new DataView(b.buffer, b.byteOffset).getUint16(4);
    let failedOp: number | null = null;
    if (r.bool()) {
      const f = r.bytes(2);
      failedOp = new DataView(f.buffer, f.byteOffset).getUint16(0);
    }
    r.end();
    return { height, index, code, failedOp };
  } catch (e) {
    if (e instanceof DecodeError) throw new VerifyError("Decode", e.message);
    throw e;
  }
}
