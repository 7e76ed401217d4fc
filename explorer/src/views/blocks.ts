// Blocks (a list that updates live), a block page with its certificate, a transaction
// page with every operation, every leg, the receipt and, for a rejection, the rule, and a
// repo (to its parties, the regulator and auditors).

import { ApiFailure, describe, type Auction, type Block, type Leg, type Repo, type TxInfo } from "../api.js";
import { facts, h, link, notice, replace, section, table } from "../dom.js";
import { amount, time } from "../format.js";
import { accountLink, instrumentLink, quantity } from "../links.js";
import { api, app, instrumentName, loadReference, onBlock } from "../state.js";
import { fetchAuctions } from "./auctions.js";
import { blockRows } from "./network.js";
import { auctionsNamed, eventDetails, eventName, fieldValue, moveKind, opSummary, unknownInstruments, type OpContext } from "./ops.js";
import { certificateCheck, receiptCheck } from "./verifying.js";

export function blocksView(root: HTMLElement, before?: number): () => void {
  const list = h("div");
  const more = h("p");
  let blocks: Block[] = [];
  const draw = () => {
    replace(list, blockRows(blocks));
    const oldest = blocks.length ? blocks[blocks.length - 1].height : 0;
    replace(more, oldest > 1 ? link(`#/blocks/before/${oldest - 1}`, "older blocks →") : "");
  };
  replace(
    root,
    h("h1", {}, "Blocks"),
    before === undefined ? notice("note", "Newest first; new blocks appear as they are finalized.") : null,
    list,
    more,
  );
  const q = before === undefined ? "limit=50" : `limit=50&before=${before}`;
  api
    .get<{ blocks: Block[] }>(`/blocks?${q}`)
    .then((r) => {
      blocks = r.blocks;
      draw();
    })
    .catch((e) => replace(list, notice("error", describe(e))));
  if (before !== undefined) return () => undefined;
  return onBlock((s) => {
    if (blocks.some((b) => b.height === s.block.height)) return;
    blocks = [s.block, ...blocks].sort((a, b) => b.height - a.height).slice(0, 100);
    draw();
  });
}

function codeCell(code: number, name: string): HTMLElement {
  return h("span", { class: code === 0 ? "ok" : "bad" }, `${name} (${code})`);
}

export async function blockView(root: HTMLElement, height: number): Promise<void> {
  const b = await api.get<Block>(`/block/${height}?txs=true`);
  replace(
    root,
    h("h1", {}, `Block ${b.height}`),
    certificateCheck(b.height),
    facts([
      ["height", String(b.height)],
      ["time", time(b.time_ms)],
      ["digest", h("code", {}, b.digest)],
      ["parent", [h("code", {}, b.parent), " ", b.height > 1 ? link(`#/block/${b.height - 1}`, "previous") : ""]],
      ["state root", h("code", { id: "block-state-root" }, b.state_root)],
      ["transactions", String(b.tx_count)],
      ["next", link(`#/block/${b.height + 1}`, "next block")],
    ]),
    section(
      "Transactions",
      b.txs && b.txs.length
        ? table(
            ["#", "transaction", "result"],
            b.txs.map((t, i) => [String(i), link(`#/tx/${t.tx_id}`, h("code", {}, t.tx_id)), codeCell(t.code, t.code_name)]),
          )
        : h("p", { class: "muted" }, "No transactions."),
      h(
        "p",
        { class: "muted", id: "block-events-note" },
        "Scheduled lifecycle work — auction closes and issues, coupon, redemption and dividend payments — runs at the start of a block, before its transactions. The API does not list a block's own events; what that work did to an account is in the account's history (marked “at block start”).",
      ),
    ),
    section(
      "Finality certificate",
      b.certificate
        ? h("pre", { class: "hex" }, b.certificate)
        : notice("note", "This node holds no certificate of its own for this block (it was finalized through a descendant's)."),
    ),
  );
}

function legRow(l: Leg): (HTMLElement | string)[] {
  const inst = app.instruments.get(l.instrument);
  return [
    accountLink(l.from),
    "→",
    accountLink(l.to),
    amount(l.amount, inst?.scale ?? 0),
    link(`#/instrument/${l.instrument}`, instrumentName(l.instrument)),
  ];
}

/** One operation: its name, what it does, its legs (both sides of a DvP/PvP) and its other fields. */
function operation(op: Record<string, unknown>, i: number, failed: number | undefined, ctx: OpContext): HTMLElement {
  const legs = (op.legs as Leg[] | undefined) ?? (op.leg ? [op.leg as Leg] : []);
  const rest = Object.entries(op).filter(([k]) => !["op", "legs", "leg"].includes(k));
  const parties = new Set(legs.flatMap((l) => [l.from, l.to]));
  const kind =
    legs.length >= 2
      ? legs.every((l) => app.instruments.get(l.instrument)?.kind.type === "cash")
        ? "payment versus payment"
        : "delivery versus payment"
      : "";
  const summary = opSummary(op, ctx);
  return h(
    "div",
    { class: `op${failed === i ? " failed" : ""}`, "data-op": String(op.op) },
    h("h3", {}, `${i}. ${String(op.op)}`, kind ? h("span", { class: "muted" }, ` — ${kind}, ${legs.length} legs between ${parties.size} accounts`) : "", failed === i ? h("span", { class: "bad" }, " — this operation failed") : ""),
    summary ? h("p", { class: "op-summary" }, ...summary) : null,
    legs.length ? table(["from", "", "to", "amount", "instrument"], legs.map(legRow), { class: "list legs" }) : null,
    rest.length ? facts(rest.map(([k, v]) => [k.replaceAll("_", " "), fieldValue(k, v, op, ctx)])) : null,
  );
}

function eventRow(e: Record<string, unknown>, ctx: OpContext): (HTMLElement | string | (HTMLElement | string)[])[] {
  if (e.event === "moved") {
    const inst = app.instruments.get(Number(e.instrument));
    return [
      "moved",
      e.from === null ? "–" : accountLink(Number(e.from)),
      e.to === null ? "–" : accountLink(Number(e.to)),
      `${amount(String(e.amount), inst?.scale ?? 0)} ${instrumentName(Number(e.instrument))}`,
      moveKind(e.kind, e.reason),
    ];
  }
  return [eventName(e), "", "", "", eventDetails(e, ctx)];
}

/** What the page needs to show these operations and events readably. */
export async function opContext(items: Record<string, unknown>[]): Promise<OpContext> {
  const ctx: OpContext = { auctions: new Map() };
  const named = auctionsNamed(items);
  if (named.length) {
    const list: Auction[] = await fetchAuctions().catch(() => []);
    for (const a of list) ctx.auctions.set(a.id, a);
  }
  const announcedNew = items.some((x) => x.op === "AnnounceAuction");
  if (!app.instruments.size || unknownInstruments(items) || announcedNew || [...ctx.auctions.values()].some((a) => !app.instruments.has(a.security))) {
    await loadReference().catch(() => undefined);
  }
  return ctx;
}

/** Result codes 600–699 are compliance rules (docs/result-codes.md). */
function ruleOf(tx: TxInfo): HTMLElement | null {
  if (tx.code === undefined || tx.code === 0) return null;
  const compliance = tx.code >= 600 && tx.code < 700;
  return notice(
    "error",
    h("strong", { id: "tx-rule" }, compliance ? `Compliance rule failed: ${tx.code_name}` : `Rejected: ${tx.code_name}`),
    ` (code ${tx.code}) — ${tx.code_description ?? ""}`,
    tx.failed_op !== undefined ? ` Operation ${tx.failed_op} failed; nothing in the transaction was applied.` : "",
  );
}

export async function txView(root: HTMLElement, id: string): Promise<void> {
  if (!app.instruments.size) await loadReference();
  const tx = await api.get<TxInfo>(`/tx/${id}`, true);
  const body = tx.transaction;
  const ctx = await opContext([...(body?.operations ?? []), ...(tx.events ?? [])]);
  const session = api.session;
  replace(
    root,
    h("h1", {}, "Transaction"),
    h("p", {}, h("code", {}, tx.tx_id)),
    facts([
      ["status", h("span", { id: "tx-status" }, tx.status)],
      ["block", tx.height !== undefined ? link(`#/block/${tx.height}`, String(tx.height)) : "–"],
      ["position", tx.index !== undefined ? String(tx.index) : "–"],
      ["result", tx.code !== undefined ? [h("span", { id: "tx-code", class: tx.code === 0 ? "ok" : "bad" }, `${tx.code_name} (${tx.code})`), ` ${tx.code_description ?? ""}`] : "–"],
      ["sender key", body ? h("code", {}, body.sender) : "–"],
      ["nonce", body ? String(body.nonce) : "–"],
      ["expires", body ? time(body.expires_at_ms) : "–"],
    ]),
    ruleOf(tx),
    tx.batch
      ? section(
          "Transfer batch: each transfer's result",
          h("p", { id: "tx-batch" }, `${tx.batch.applied} of ${tx.batch.transfers} transfers applied; every transfer not listed below applied, and a linked chain applied all or none.`),
          tx.batch.failures.length
            ? table(["transfer", "result"], tx.batch.failures.map((f) => [`#${f.index}`, `${f.code_name} (${f.code})`]), { id: "tx-batch-failures" })
            : null,
        )
      : null,
    body
      ? section("Operations", body.operations.map((op, i) => operation(op, i, tx.failed_op, ctx)))
      : notice(
          "note",
          session
            ? `${session.participant.legal_name} is not a party to this transaction: the API shows its body and events only to its parties, the regulator and auditors.`
            : "Sign in as a party to see the operations and legs (the API shows a transaction's body only to its parties, the regulator and auditors).",
        ),
    tx.events && tx.events.length
      ? section("Receipt: what it did", table(["event", "from", "to", "amount", "what"], tx.events.map((e) => eventRow(e, ctx)), { id: "tx-events" }))
      : null,
    tx.status === "final" ? section("Verified in this browser", receiptCheck(tx), h("p", { class: "muted" }, "The block that included it:"), certificateCheck(tx.height!)) : null,
  );
  if (tx.status === "pending") setTimeout(() => location.hash === `#/tx/${id}` && void txView(root, id).catch(() => undefined), 1000);
}

/** A repo: its parties, collateral, cash, rate and state (the API shows it to its parties, the regulator and auditors). */
export async function repoView(root: HTMLElement, id: number): Promise<void> {
  if (!api.session) {
    replace(root, h("h1", {}, `Repo ${id}`), notice("note", "A repo is visible to its two parties, the regulator and auditors. Sign in (top right) to see it."));
    return;
  }
  let r: Repo;
  try {
    r = await api.get<Repo>(`/repo/${id}`, true);
  } catch (e) {
    const refused = e instanceof ApiFailure && (e.status === 403 || e.status === 401);
    replace(root, h("h1", {}, `Repo ${id}`), notice("error", refused ? "Not visible to you" : "Cannot show this repo", `: ${describe(e)}`));
    return;
  }
  if (unknownInstruments([{ cash_instrument: r.cash_instrument }, ...r.collateral])) await loadReference().catch(() => undefined);
  replace(
    root,
    h("h1", {}, `Repo ${r.id}`),
    facts([
      ["status", h("span", { id: "repo-status", class: r.status === "failed" ? "bad" : "" }, r.status)],
      ["borrower (cash in, collateral out)", accountLink(r.borrower_account)],
      ["lender (cash out, collateral in)", accountLink(r.lender_account)],
      ["cash lent", quantity(r.cash_amount, r.cash_instrument)],
      ["collateral with the lender", r.collateral.length ? r.collateral.map((c, i) => [i ? ", " : "", quantity(c.amount, c.instrument)]).flat() : "none"],
      ["rate", `${r.rate} (ACT/360)`],
      ["opened", time(r.opened_at_ms)],
      ["term", r.maturity ? `closes ${r.maturity}` : "open-ended (closed on request)"],
      ["manufactured coupons so far", [amount(r.manufactured, app.instruments.get(r.cash_instrument)?.scale ?? 0), " ", instrumentLink(r.cash_instrument), h("span", { class: "muted" }, " (received by the lender on the collateral; netted at the close)")]],
      ...(r.failure ? ([["last close refused", h("span", { class: "bad" }, r.failure)]] as [string, HTMLElement][]) : []),
    ]),
  );
}
