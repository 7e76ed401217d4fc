// The browser's verifier and read-token signer agree with the Rust ones on every vector
// Rust generated (crates/sdk/tests/explorer_vectors.rs): it accepts exactly the valid
// certificates and proofs, proves the same values, and signs the same tokens.
// Run with `npm test` (which bundles src/ for node first).

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { decodeHolding, decodeReceipt, verifyCertifiedBlock, verifyStateProof, VerifyError } from "../.build/verify.mjs";
import { SigningKey } from "../.build/auth.mjs";

const vectors = JSON.parse(readFileSync(new URL("./vectors.json", import.meta.url), "utf8"));

function verdict(f) {
  try {
    return { ok: true, value: f() };
  } catch (e) {
    if (!(e instanceof VerifyError)) throw e; // anything else is a bug, not a verdict
    return { ok: false, error: e };
  }
}

test("there are valid and tampered vectors of every kind", () => {
  for (const list of [vectors.certificates, vectors.proofs]) {
    assert.ok(list.filter((c) => c.valid).length >= 2);
    assert.ok(list.filter((c) => !c.valid).length >= 20);
  }
  const valid = vectors.proofs.filter((c) => c.valid);
  assert.ok(valid.some((c) => c.expected_key.startsWith("0d") && c.value !== null), "a receipt");
  assert.ok(valid.some((c) => c.expected_key.startsWith("09") && c.value === null), "an absent holding");
  assert.ok(valid.some((c) => c.expected_key.startsWith("09") && c.value !== null), "a present holding");
});

for (const c of vectors.certificates) {
  test(`certificate: ${c.name}`, () => {
    const v = verdict(() => verifyCertifiedBlock(c.group_public_key, c.certified));
    assert.equal(v.ok, c.valid, v.ok ? "accepted what Rust refused" : `refused: ${v.error.message}`);
    if (v.ok) {
      assert.equal(v.value.stateRoot, c.state_root);
      assert.equal(v.value.height, BigInt(c.certified.height));
    }
  });
}

for (const c of vectors.proofs) {
  test(`proof: ${c.name}`, () => {
    const v = verdict(() => verifyStateProof(c.proof, c.expected_key, c.trusted_root));
    assert.equal(v.ok, c.valid, v.ok ? "accepted what Rust refused" : `refused: ${v.error.message}`);
    if (v.ok) {
      assert.equal(v.value, c.value);
      // The proven record decodes to what the ledger's Rust types decode.
      if (c.expected_key.startsWith("09")) {
        const h = decodeHolding(v.value);
        assert.deepEqual(
          { balance: String(h.balance), held: String(h.held), frozen: String(h.frozen) },
          c.decoded,
        );
      } else if (c.expected_key.startsWith("0d")) {
        const r = decodeReceipt(v.value);
        assert.deepEqual(
          { height: String(r.height), index: r.index, code: r.code, failed_op: r.failedOp },
          c.decoded,
        );
      }
    }
  });
}

for (const t of vectors.read_tokens) {
  test(`read token: ${t.method} ${t.path} on ${t.chain}`, () => {
    const key = new SigningKey(t.secret_key);
    assert.equal(key.publicKeyHex, t.public_key);
    const nonce = Uint8Array.from(Buffer.from(t.nonce, "hex"));
    assert.equal(key.authorization(t.chain, t.method, t.path, BigInt(t.expires_ms), nonce), t.authorization);
  });
}
