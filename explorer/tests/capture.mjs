// Captures real answers of a running development network for the verifier's test vectors
// (crates/sdk/testdata/explorer_capture_*.json, read by crates/sdk/tests/explorer_vectors.rs):
// holding and receipt proofs (present and absent holdings) with the certified blocks they are against, and a
// certified block that carries transactions.
//
//   node build.mjs --test-bundle && node tests/capture.mjs http://127.0.0.1:26601 <height with txs> [tx id …] > …/explorer_capture_N.json
//
// Each transaction id adds a proof of its receipt.
//
// The network must be a `tally localnet` (it signs with the dev keys of GET /dev/keys).
// `tests/recapture.sh` runs the whole capture (two fresh networks, every fixture file).

import { SigningKey } from "../.build/auth.mjs";
import { readFileSync } from "node:fs";

const [api, txHeight, ...txIds] = process.argv.slice(2);
if (!api || !txHeight) {
  console.error("usage: node tests/capture.mjs <api url> <height of a block with transactions>");
  process.exit(2);
}

async function get(path, key) {
  const headers = {};
  if (key) {
    const nonce = crypto.getRandomValues(new Uint8Array(16));
    headers.authorization = key.authorization(chain.chain_id, "GET", path, BigInt(Date.now() + 60_000), nonce);
  }
  const r = await fetch(api + path, { headers });
  if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return r.json();
}

const chain = await get("/chain");
const regulator = new SigningKey((await get("/dev/keys")).keys.find((k) => k.name === "regulator").secret_key);
const other = JSON.parse(readFileSync(new URL("../../crates/sdk/testdata/holding_proofs.json", import.meta.url), "utf8"));

const out = {
  note: "Captured from a 4-validator `tally localnet` by explorer/tests/capture.mjs: holding proofs with the certified block each is against, and a certified block with transactions. other_group_public_key belongs to another network.",
  group_public_key: chain.group_public_key,
  other_group_public_key: other.group_public_key,
  blocks: [await get(`/block/${txHeight}/certified`)],
};
for (const [name, account, instrument] of [
  ["central_bank_cash", 100, 1],
  ["dealer_a_note", 300, 2],
  ["dealer_b_cash", 400, 1],
  ["regulator_note_absent", 600, 2],
]) {
  const proof = await get(`/proof/holding/${account}/${instrument}`, regulator);
  const certified = await get(`/block/${proof.height}/certified`);
  out[name] = { account, instrument, proof, certified };
}
for (const [i, id] of txIds.entries()) {
  const proof = await get(`/proof/receipt/${id}`, regulator);
  const certified = await get(`/block/${proof.height}/certified`);
  out[`receipt_${i}`] = { tx_id: id, proof, certified };
}
console.log(JSON.stringify(out, null, 2));
