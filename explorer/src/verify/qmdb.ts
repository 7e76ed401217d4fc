// Verification of the node's QMDB proofs (commonware-storage 2026.10.0,
// `qmdb::current::ordered` over an MMR, SHA-256, 32-byte bitmap chunks), written from the
// Rust source's description of the format and checked against the Rust verifier by the
// vectors in tests/vectors.json. docs/explorer.md explains each step.
//
// The state root is `SHA-256(ops_root ‖ grafted_root [‖ next_bit (u64 BE) ‖ partial_chunk_digest])`.
// The grafted tree is the operations MMR in which every node at height 8 (one per complete
// 256-bit chunk of the activity bitmap) is replaced by `SHA-256(chunk ‖ node)` (or kept when
// the chunk is all zero). A proof names one operation's location, its bitmap chunk, and the
// digests needed to rebuild the grafted root from the operation; the root folds the peaks
// backward and commits the family, the bagging policy and the leaf count.

import { sha256 } from "@noble/hashes/sha2.js";
import { DecodeError, Reader, concat, equalBytes, u64be, varint, vecBytes } from "./codec.js";

/** Most digests one proof may carry (`tally_sdk::verify::MAX_PROOF_DIGESTS`). */
export const MAX_PROOF_DIGESTS = 64;
/** Longest state key (`tally_sdk::verify::MAX_KEY_BYTES`). */
export const MAX_KEY_BYTES = 64;
/** Largest state value (`tally_sdk::verify::MAX_VALUE_BYTES`). */
export const MAX_VALUE_BYTES = 65_536;
/** Bitmap chunk size of the node's store, in bytes (`StateDb`'s `N = 32`). */
const CHUNK_BYTES = 32;
const CHUNK_BITS = BigInt(CHUNK_BYTES * 8);
/** log2 of the chunk size in bits: the height at which chunks are grafted. */
const GRAFTING_HEIGHT = 8;
/** Largest leaf count of an MMR (2^62). */
const MAX_LEAVES = 1n << 62n;
/** `Family::DOMAIN` of the MMR and `Bagging::domain` of backward folding. */
const ROOT_DOMAIN = Uint8Array.of(0, 1);
/** Operation tags of QMDB's variable-encoded operations. */
const UPDATE_CONTEXT = 0xd2;
const COMMIT_CONTEXT = 0xd3;

function h(...parts: Uint8Array[]): Uint8Array {
  return sha256(concat(...parts));
}

// --- MMR positions (all as bigint: they are u64 in Rust) ---------------------------------

function popcount(n: bigint): bigint {
  let c = 0n;
  while (n > 0n) {
    c += n & 1n;
    n >>= 1n;
  }
  return c;
}

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/** Position of the leaf at `loc`: `2·loc − popcount(loc)`. */
export function locationToPosition(loc: bigint): bigint {
  return 2n * loc - popcount(loc);
}

/** The location of the leaf at `pos`, or null if `pos` is not a leaf. */
export function positionToLocation(pos: bigint): bigint | null {
  const f = (n: bigint) => 2n * n - popcount(n);
  let n = pos >> 1n;
  for (let i = 0; i < 3; i++) n = (pos + popcount(n)) >> 1n;
  for (const c of [n, n - 1n, n + 1n]) {
    if (c >= 0n && f(c) === pos) return c;
  }
  return null;
}

/** Height of the node at `pos`. */
export function posToHeight(pos: bigint): number {
  if (pos === 0n) return 0;
  let size = (1n << BigInt(bitLength(pos))) - 1n;
  while (size !== 0n) {
    if (pos >= size) pos -= size;
    size >>= 1n;
  }
  return Number(pos);
}

function subtreeRootPosition(leafStart: bigint, height: number): bigint {
  return locationToPosition(leafStart) + (1n << BigInt(height + 1)) - 2n;
}

function leftmostLeaf(pos: bigint, height: number): bigint {
  const loc = positionToLocation(pos + 2n - (1n << BigInt(height + 1)));
  if (loc === null) throw new DecodeError("leftmost descendant is not a leaf");
  return loc;
}

/** A perfect subtree: root position, height, first leaf. */
interface Subtree {
  pos: bigint;
  height: number;
  leafStart: bigint;
}

const leafEnd = (s: Subtree) => s.leafStart + (1n << BigInt(s.height));
const isBefore = (s: Subtree, start: bigint) => leafEnd(s) <= start;
const isOutside = (s: Subtree, start: bigint, end: bigint) =>
  isBefore(s, start) || s.leafStart >= end;
const isInside = (s: Subtree, start: bigint, end: bigint) =>
  s.leafStart >= start && leafEnd(s) <= end;

function children(s: Subtree): [Subtree, Subtree] {
  const height = s.height - 1;
  return [
    { pos: s.pos - (1n << BigInt(s.height)), height, leafStart: s.leafStart },
    { pos: s.pos - 1n, height, leafStart: s.leafStart + (1n << BigInt(height)) },
  ];
}

/** The peaks of an MMR of `leaves` leaves, tallest (leftmost) first. */
function peaks(leaves: bigint): Subtree[] {
  const out: Subtree[] = [];
  let leafStart = 0n;
  for (let height = bitLength(leaves) - 1; height >= 0; height--) {
    if (((leaves >> BigInt(height)) & 1n) === 1n) {
      out.push({ pos: subtreeRootPosition(leafStart, height), height, leafStart });
      leafStart += 1n << BigInt(height);
    }
  }
  return out;
}

function collectSiblings(s: Subtree, start: bigint, end: bigint, out: Subtree[]): void {
  if (isOutside(s, start, end)) {
    out.push(s);
    return;
  }
  if (isInside(s, start, end)) return;
  if (s.height > 0) {
    const [l, r] = children(s);
    collectSiblings(l, start, end, out);
    collectSiblings(r, start, end, out);
  }
}

// --- The grafting hasher (commonware `grafting::Verifier`) ---------------------------------

class GraftingHasher {
  constructor(
    private readonly startChunk: bigint,
    private readonly chunks: Uint8Array[],
    private readonly graftableChunks: bigint,
  ) {}

  leaf(pos: bigint, element: Uint8Array): Uint8Array {
    return h(u64be(pos), element);
  }

  node(pos: bigint, left: Uint8Array, right: Uint8Array): Uint8Array {
    const digest = h(u64be(pos), left, right);
    if (posToHeight(pos) !== GRAFTING_HEIGHT) return digest;
    const chunkIdx = leftmostLeaf(pos, GRAFTING_HEIGHT) >> BigInt(GRAFTING_HEIGHT);
    if (chunkIdx >= this.graftableChunks) return digest;
    const local = chunkIdx - this.startChunk;
    if (local < 0n || local >= BigInt(this.chunks.length)) return digest;
    const chunk = this.chunks[Number(local)];
    return chunk.every((b) => b === 0) ? digest : h(chunk, digest);
  }
}

// --- The Merkle proof (commonware `merkle::proof::Proof`) ---------------------------------

interface MerkleProof {
  leaves: bigint;
  inactivePeaks: bigint;
  digests: Uint8Array[];
}

class ProofError extends Error {}

/** Rebuilds the root of `proof` from `element` at `loc` (`reconstruct_root_inner`, backward bagging). */
function reconstructRoot(
  proof: MerkleProof,
  hasher: GraftingHasher,
  element: Uint8Array,
  loc: bigint,
): Uint8Array {
  if (loc >= MAX_LEAVES) throw new ProofError("start location out of bounds");
  const start = loc;
  const end = loc + 1n;
  if (end > proof.leaves) throw new ProofError("end location out of bounds");
  if (proof.leaves > MAX_LEAVES) throw new ProofError("leaf count out of bounds");

  // The range plan: peaks before, overlapping and after the proven range.
  const before: Subtree[] = [];
  const overlapping: Subtree[] = [];
  const after: Subtree[] = [];
  for (const p of peaks(proof.leaves)) {
    if (isBefore(p, start)) before.push(p);
    else if (p.leafStart >= end) after.push(p);
    else overlapping.push(p);
  }
  const siblings: Subtree[] = [];
  for (const p of overlapping) collectSiblings(p, start, end, siblings);

  // The blueprint for backward bagging.
  const total = before.length + overlapping.length + after.length;
  if (proof.inactivePeaks > BigInt(total)) throw new ProofError("more inactive peaks than peaks");
  const inactive = Number(proof.inactivePeaks);
  const foldCount = Math.min(inactive, before.length);
  const foldPrefix = before.slice(0, foldCount);
  const prefixActive = before.slice(foldCount);
  const firstAfter = before.length + overlapping.length;
  const individual = Math.min(Math.max(inactive - firstAfter, 0), after.length);
  const afterPeaks = after.slice(0, individual);
  const suffixPeaks = after.slice(individual);

  // The digest layout: [fold acc?] [active prefix peaks] [after peaks] [suffix acc?] [siblings].
  const hasFold = foldPrefix.length > 0 ? 1 : 0;
  const hasSuffix = suffixPeaks.length > 0 ? 1 : 0;
  const required = hasFold + prefixActive.length + afterPeaks.length + hasSuffix + siblings.length;
  if (proof.digests.length !== required) {
    throw new ProofError(`proof has ${proof.digests.length} digests, the layout needs ${required}`);
  }
  let at = 0;
  const take = (n: number) => proof.digests.slice(at, (at += n));
  const foldAcc = take(hasFold);
  const prefixDigests = take(prefixActive.length);
  const afterDigests = take(afterPeaks.length);
  const suffixAcc = take(hasSuffix);
  const siblingDigests = take(siblings.length);

  const peakDigests: Uint8Array[] = [...foldAcc, ...prefixDigests];
  let cursor = 0;
  let consumed = false;
  const rebuild = (s: Subtree): Uint8Array => {
    if (isOutside(s, start, end)) {
      if (cursor >= siblingDigests.length) throw new ProofError("missing sibling digests");
      return siblingDigests[cursor++];
    }
    if (s.height === 0) {
      if (consumed) throw new ProofError("missing elements");
      consumed = true;
      return hasher.leaf(s.pos, element);
    }
    const [l, r] = children(s);
    const left = rebuild(l);
    const right = rebuild(r);
    return hasher.node(s.pos, left, right);
  };
  for (const p of overlapping) peakDigests.push(rebuild(p));
  peakDigests.push(...afterDigests, ...suffixAcc);
  if (!consumed || cursor !== siblingDigests.length) throw new ProofError("unused proof input");

  // Fold the peaks into the root (`root_with_folded_peaks`).
  const toFold = hasFold ? Math.max(inactive - foldPrefix.length, 0) + 1 : inactive;
  let acc = peakDigests[0];
  let next = 1;
  for (let i = 0; i < toFold - 1; i++) {
    if (next >= peakDigests.length) throw new ProofError("too few peaks to fold");
    acc = h(acc, peakDigests[next++]);
  }
  const rest = peakDigests.slice(next);
  if (rest.length > 0) {
    let bag = rest[rest.length - 1];
    for (let i = rest.length - 2; i >= 0; i--) bag = h(rest[i], bag);
    acc = h(acc, bag);
  }
  const leavesBe = u64be(proof.leaves);
  return inactive === 0
    ? h(ROOT_DOMAIN, leavesBe, acc)
    : h(ROOT_DOMAIN, leavesBe, u64be(BigInt(inactive)), acc);
}

// --- Operation proofs (commonware `qmdb::current::proof`) ---------------------------------

interface OperationProof {
  loc: bigint;
  chunk: Uint8Array;
  proof: MerkleProof;
  partialChunkDigest: Uint8Array | null;
  opsRoot: Uint8Array;
}

function readLocation(r: Reader): bigint {
  const v = r.u64var();
  if (v > MAX_LEAVES) throw new DecodeError("location exceeds MAX_LEAVES");
  return v;
}

function readOperationProof(r: Reader): OperationProof {
  const loc = readLocation(r);
  const chunk = r.bytes(CHUNK_BYTES);
  const leaves = readLocation(r);
  const inactivePeaks = r.u64var();
  const count = r.len(MAX_PROOF_DIGESTS, "digests");
  const digests: Uint8Array[] = [];
  for (let i = 0; i < count; i++) digests.push(r.digest());
  // An MMR carries no pending chunk (the slot encodes to nothing).
  const partialChunkDigest = r.bool() ? r.digest() : null;
  const opsRoot = r.digest();
  return { loc, chunk, proof: { leaves, inactivePeaks, digests }, partialChunkDigest, opsRoot };
}

/** True if `p` proves the operation encoded as `op` active under `root`. */
function verifyOperation(p: OperationProof, op: Uint8Array, root: Uint8Array): boolean {
  const bit = p.loc % CHUNK_BITS;
  if ((p.chunk[Number(bit / 8n)] & (1 << Number(bit % 8n))) === 0) return false; // inactive
  const leaves = p.proof.leaves;
  const end = p.loc + 1n;
  if (end > leaves) return false;
  const startChunk = p.loc / CHUNK_BITS;
  const completeChunks = leaves / CHUNK_BITS;
  const nextBit = leaves % CHUNK_BITS;
  // In an MMR every complete chunk is graftable at once (no pending chunk).
  const graftable = completeChunks;
  if (nextBit !== 0n) {
    if (p.partialChunkDigest === null) return false;
    if (startChunk === completeChunks && !equalBytes(p.partialChunkDigest, sha256(p.chunk))) {
      return false;
    }
  } else if (p.partialChunkDigest !== null) {
    return false;
  }
  let grafted: Uint8Array;
  try {
    grafted = reconstructRoot(p.proof, new GraftingHasher(startChunk, [p.chunk], graftable), op, p.loc);
  } catch (e) {
    if (e instanceof ProofError || e instanceof DecodeError) return false;
    throw e;
  }
  const combined =
    p.partialChunkDigest === null
      ? h(p.opsRoot, grafted)
      : h(p.opsRoot, grafted, u64be(nextBit), p.partialChunkDigest);
  return equalBytes(combined, root);
}

function updateOp(key: Uint8Array, value: Uint8Array, nextKey: Uint8Array): Uint8Array {
  return concat(Uint8Array.of(UPDATE_CONTEXT), vecBytes(key), vecBytes(value), vecBytes(nextKey));
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** `key` lies in the cyclic span `[start, end)` (wrapping when `start >= end`). */
function containsCyclic(start: Uint8Array, end: Uint8Array, key: Uint8Array): boolean {
  const afterStart = compareBytes(key, start) >= 0;
  const beforeEnd = compareBytes(key, end) < 0;
  return compareBytes(start, end) >= 0 ? afterStart || beforeEnd : afterStart && beforeEnd;
}

/** Decodes and checks a proof that `key` has `value` (a `KeyValueProof`). */
export function verifyInclusion(
  proofBytes: Uint8Array,
  key: Uint8Array,
  value: Uint8Array,
  root: Uint8Array,
): boolean {
  const r = new Reader(proofBytes, "inclusion proof");
  const p = readOperationProof(r);
  const nextKey = r.vec(MAX_KEY_BYTES, "next key");
  r.end();
  return verifyOperation(p, updateOp(key, value, nextKey), root);
}

/** Decodes and checks a proof that `key` has no value (an `ExclusionProof`). */
export function verifyExclusion(proofBytes: Uint8Array, key: Uint8Array, root: Uint8Array): boolean {
  const r = new Reader(proofBytes, "exclusion proof");
  const tag = r.u8();
  if (tag === 0) {
    const p = readOperationProof(r);
    const spanKey = r.vec(MAX_KEY_BYTES, "key");
    const spanValue = r.vec(MAX_VALUE_BYTES, "value");
    const nextKey = r.vec(MAX_KEY_BYTES, "next key");
    r.end();
    if (equalBytes(spanKey, key) || !containsCyclic(spanKey, nextKey, key)) return false;
    return verifyOperation(p, updateOp(spanKey, spanValue, nextKey), root);
  }
  if (tag === 1) {
    const p = readOperationProof(r);
    const metadata = r.bool() ? r.vec(MAX_VALUE_BYTES, "metadata") : null;
    r.end();
    const op = concat(
      Uint8Array.of(COMMIT_CONTEXT),
      metadata === null ? Uint8Array.of(0) : concat(Uint8Array.of(1), vecBytes(metadata)),
      varint(p.loc),
    );
    return verifyOperation(p, op, root);
  }
  throw new DecodeError(`exclusion proof: unknown variant ${tag}`);
}
