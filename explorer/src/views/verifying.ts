// Verification in the page: certificates and proofs are checked here, with the group key
// this browser trusts, not taken from the node's word.

import { ApiFailure, describe, type TxInfo } from "../api.js";
import { h, link } from "../dom.js";
import { amount, short } from "../format.js";
import { api, instrumentName, app, trustedKey } from "../state.js";
import {
  decodeHolding,
  decodeReceipt,
  holdingKey,
  receiptKey,
  verifyCertifiedBlock,
  verifyStateProof,
  type CertifiedBlock,
  type StateProof,
  type VerifiedBlock,
} from "../verify/index.js";

/** Fetches block `height` with its certificate and verifies it under the trusted group key. */
export async function certifiedBlock(height: number): Promise<VerifiedBlock> {
  const certified = await api.get<CertifiedBlock>(`/block/${height}/certified`);
  return verifyCertifiedBlock(trustedKey().hex, certified);
}

const keySource = () =>
  trustedKey().source === "pinned" ? "the group key pinned in this browser" : "the group key this node serves (not pinned)";

/** A box that verifies block `height`'s certificate when shown. */
export function certificateCheck(height: number, onVerified?: (b: VerifiedBlock) => void): HTMLElement {
  const box = h("div", { id: "cert-status", class: "verify pending" }, "verifying the finality certificate in this browser…");
  const started = performance.now();
  certifiedBlock(height)
    .then((b) => {
      const took = Math.round(performance.now() - started);
      box.className = "verify ok";
      box.replaceChildren(
        h("strong", {}, "✓ certificate verified"),
        ` in this browser (${took} ms): the block's header hashes to ${short(b.digest)}, the finalization certificate signs it in round (epoch ${b.epoch}, view ${b.view}), and both BLS12-381 threshold signatures (vote and seed) verify under ${keySource()}. State root ${short(b.stateRoot)} is final.`,
      );
      onVerified?.(b);
    })
    .catch((e) => {
      box.className = "verify bad";
      box.replaceChildren(h("strong", {}, "✗ certificate NOT verified"), `: ${describe(e)}`);
    });
  return box;
}

/** A button that proves one holding (Merkle proof against a certified state root). */
export function holdingCheck(account: number, instrument: number): HTMLElement {
  const out = h("span", { class: "proof" });
  const button = h(
    "button",
    {
      class: "small",
      "data-proof": `${account}/${instrument}`,
      onclick: async () => {
        button.setAttribute("disabled", "");
        out.className = "proof pending";
        out.textContent = " proving…";
        try {
          const proof = await api.get<StateProof>(`/proof/holding/${account}/${instrument}`, true);
          const block = await certifiedBlock(proof.height);
          const value = verifyStateProof(proof, holdingKey(BigInt(account), BigInt(instrument)), block.stateRoot);
          const holding = decodeHolding(value);
          const scale = app.instruments.get(instrument)?.scale ?? 0;
          out.className = "proof ok";
          out.replaceChildren(
            h("strong", {}, " ✓ proof verified"),
            `: balance ${amount(holding.balance, scale)} of ${instrumentName(instrument)} `,
            `(${value === null ? "proven absent, so zero" : "inclusion"}) against the state root of `,
            link(`#/block/${proof.height}`, `block ${proof.height}`),
            ", whose certificate verified here too",
          );
        } catch (e) {
          out.className = "proof bad";
          out.textContent = ` ✗ not verified: ${describe(e)}`;
          button.removeAttribute("disabled");
        }
      },
    },
    "verify",
  );
  return h("span", {}, button, out);
}

/**
 * A box that proves a final transaction's receipt (block, position, result code) against
 * a certified state root, and checks it says what the page shows.
 */
export function receiptCheck(tx: TxInfo): HTMLElement {
  const box = h("div", { id: "receipt-status", class: "verify pending" }, "proving the receipt in this browser…");
  (async () => {
    const proof = await api.get<StateProof>(`/proof/receipt/${tx.tx_id}`, true);
    const block = await certifiedBlock(proof.height);
    const value = verifyStateProof(proof, receiptKey(tx.tx_id), block.stateRoot);
    if (value === null) throw new Error("the proof says there is no receipt");
    const r = decodeReceipt(value);
    if (r.height !== BigInt(tx.height ?? -1) || r.index !== tx.index || r.code !== tx.code) {
      throw new Error(`the proven receipt (height ${r.height}, position ${r.index}, code ${r.code}) is not what the node reported`);
    }
    box.className = "verify ok";
    box.replaceChildren(
      h("strong", {}, "✓ receipt verified"),
      `: a Merkle proof shows the ledger's state records this transaction final at height ${r.height}, position ${r.index}, result code ${r.code}${r.failedOp === null ? "" : ` (operation ${r.failedOp} failed)`}, against the state root of `,
      link(`#/block/${proof.height}`, `block ${proof.height}`),
      `, whose certificate verified under ${keySource()}.`,
    );
  })().catch((e) => {
    const refused = e instanceof ApiFailure && (e.status === 401 || e.status === 403);
    box.className = refused ? "verify pending" : "verify bad";
    box.replaceChildren(
      refused
        ? `The receipt's proof is for the transaction's parties, the regulator and auditors: ${describe(e)}`
        : h("span", {}, h("strong", {}, "✗ receipt NOT verified"), `: ${describe(e)}`),
    );
  });
  return box;
}
