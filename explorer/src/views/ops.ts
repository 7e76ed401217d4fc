// Operations and events as people read them: a sentence for each lifecycle operation
// (auctions, servicing, STRIPS, repo, funds), and every field with accounts, instruments,
// auctions and repos as links and amounts in their instrument's scale. Nothing is dropped:
// a field this page does not know is shown as the node sent it.

import type { Auction } from "../api.js";
import { h } from "../dom.js";
import { amount, fraction, time } from "../format.js";
import { accountLink, auctionLink, instrumentLink, participantLink, quantity, repoLink } from "../links.js";
import { app, scaleOf } from "../state.js";

type Op = Record<string, unknown>;
type Cell = string | HTMLElement;

/** What the page knows beyond the operation itself: auctions, for their securities' scales. */
export interface OpContext {
  auctions: Map<number, Auction>;
}

const ACCOUNT_KEYS = new Set(["account", "paying_account", "issuer_cash_account", "borrower_account", "lender_account"]);
const INSTRUMENT_KEYS = new Set(["instrument", "cash_instrument", "fund", "principal_component"]);
/** Operations whose `from`/`to` are accounts (not legs). */
const FROM_TO_ACCOUNTS = new Set(["Mint", "Burn", "RecoverAccount"]);

const num = (v: unknown) => Number(v);
const str = (v: unknown) => String(v);

interface Collateral {
  instrument: number;
  amount: string;
}

function collateral(v: unknown): HTMLElement {
  const list = (Array.isArray(v) ? v : []) as Collateral[];
  if (!list.length) return h("span", { class: "muted" }, "none");
  return h("span", {}, list.map((c, i) => [i ? ", " : "", quantity(c.amount, c.instrument)]).flat());
}

/** The scale of the security an auction sells (0 when unknown). */
function auctionScale(ctx: OpContext, auction: unknown): number {
  const a = ctx.auctions.get(num(auction));
  return a ? scaleOf(a.security) : 0;
}

/** The new or reopened security of an AnnounceAuction, and its scale. */
function announced(op: Op): { label: Cell; scale: number } {
  const sec = op.security as { new?: { id: number; name: string; scale: number; kind?: { type: string; maturity_date?: string } }; reopen?: number } | undefined;
  if (sec?.new) {
    const k = sec.new.kind;
    const what = k ? `${k.type.replaceAll("_", " ")}${k.maturity_date ? ` maturing ${k.maturity_date}` : ""}` : "";
    return {
      label: h("span", {}, "new issue: ", h("a", { href: `#/instrument/${sec.new.id}` }, sec.new.name), ` (instrument ${sec.new.id}${what ? `, ${what}` : ""})`),
      scale: sec.new.scale,
    };
  }
  if (sec?.reopen !== undefined) return { label: h("span", {}, "reopening of ", instrumentLink(sec.reopen)), scale: scaleOf(sec.reopen) };
  return { label: JSON.stringify(sec), scale: 0 };
}

/** The scale an operation's `amount` is in. */
function amountScale(op: Op, ctx: OpContext): number {
  if (op.op === "SubmitBid") return auctionScale(ctx, op.auction);
  if (op.instrument !== undefined) return scaleOf(num(op.instrument));
  return 0;
}

/** A dividend per share: `amount_per_unit` cash minor units per `per_units` security minor units. */
function perShare(op: Op): string {
  const cashScale = scaleOf(num(op.cash_instrument));
  const secScale = scaleOf(num(op.instrument));
  const v = fraction(BigInt(str(op.amount_per_unit)) * 10n ** BigInt(secScale), BigInt(str(op.per_units)) * 10n ** BigInt(cashScale), 9);
  return v;
}

/** One field of an operation or event, readable. */
export function fieldValue(key: string, v: unknown, op: Op, ctx: OpContext): Cell {
  if (v === null || v === undefined) {
    if (key === "maturity") return "none (open-ended)";
    return "–";
  }
  if (ACCOUNT_KEYS.has(key)) return accountLink(num(v));
  if ((key === "from" || key === "to") && FROM_TO_ACCOUNTS.has(str(op.op))) return accountLink(num(v));
  if (INSTRUMENT_KEYS.has(key)) return instrumentLink(num(v));
  if (key === "auction") return auctionLink(num(v));
  if (key === "repo") return repoLink(num(v));
  if (key === "lei" || key === "owner" || key === "bidder" || key === "issuer") return participantLink(str(v));
  if (key === "kind" && typeof v === "object") return kindText(v as Record<string, unknown>);
  if (key === "policy" && typeof v === "object") return policyText(v as Record<string, unknown>);
  if (key.endsWith("_ms") && typeof v === "number") return time(v);
  if (key === "collateral" || key === "give_back" || key === "deliver") return collateral(v);
  if (key === "security" && op.op === "AnnounceAuction") return announced(op).label;
  if (key === "amount") return h("span", { class: "num" }, amount(str(v), amountScale(op, ctx)));
  if (key === "cash_amount") return h("span", { class: "num" }, amount(str(v), scaleOf(num(op.cash_instrument))));
  if (key === "offering" || key === "max_noncompetitive_per_bidder" || key === "max_noncompetitive_total") {
    return h("span", { class: "num" }, amount(str(v), announced(op).scale));
  }
  if (key === "award_cap_bp") return `${fraction(BigInt(num(v)), 100n, 2)}% of the offering`;
  if (key === "max_price" || key === "nav") return `${str(v)} per 100`;
  if (key === "reinvest") return v ? "yes: in new shares at the record date's NAV" : "no: paid in cash";
  if (typeof v === "boolean") return v ? "yes" : "no";
  if (typeof v === "object") return h("code", {}, JSON.stringify(v));
  return str(v);
}

/** An instrument's kind and terms as the API writes them (`{"type": "treasury_bill", …}`). */
function kindText(k: Record<string, unknown>): Cell {
  const terms = Object.entries(k)
    .filter(([key]) => key !== "type")
    .map(([key, v]) => (key === "underlying" ? [`${key}: `, instrumentLink(num(v))] : [`${key.replaceAll("_", " ")} ${str(v).replaceAll("_", " ")}`]));
  return h("span", {}, str(k.type).replaceAll("_", " "), ...terms.flatMap((t) => [", ", ...t]));
}

function policyText(p: Record<string, unknown>): string {
  const list = (v: unknown) => (Array.isArray(v) && v.length ? v.join(", ") : "any");
  const parts = [
    p.kyc_required ? "verified KYC required" : "no KYC required",
    `jurisdictions ${list(p.allowed_jurisdictions)}`,
    `investor classes ${list(p.allowed_investor_classes)}`,
  ];
  if (p.max_balance_per_holder !== undefined) parts.push(`at most ${str(p.max_balance_per_holder)} per holder`);
  if (p.max_holders !== undefined) parts.push(`at most ${str(p.max_holders)} holders`);
  if (p.lockup_until_ms !== undefined) parts.push(`locked up until ${time(num(p.lockup_until_ms))}`);
  return parts.join("; ").replaceAll("_", " ");
}

/** A sentence saying what a lifecycle operation does (null for the others). */
export function opSummary(op: Op, ctx: OpContext): Cell[] | null {
  const f = (k: string) => fieldValue(k, op[k], op, ctx);
  switch (op.op) {
    case "CreateInstrument":
      return ["Creates ", h("a", { href: `#/instrument/${str(op.id)}` }, str(op.name)), ` (instrument ${str(op.id)}): `, f("kind"), "."];
    case "AnnounceAuction": {
      const s = announced(op);
      return ["Announces ", f("auction"), ": ", s.label, ", offering ", f("offering"), "; bids close ", f("close_at_ms"), ", issue ", str(op.issue_date), "; paid in ", f("cash_instrument"), " to ", f("issuer_cash_account"), "."];
    }
    case "SubmitBid":
      return [
        op.kind === "competitive" ? `A competitive bid at ${str(op.rate)}` : "A noncompetitive bid (at the stop-out's price)",
        " for ",
        f("amount"),
        " of par in ",
        f("auction"),
        ", from ",
        f("account"),
        ", whose cash is held until the close.",
      ];
    case "WithdrawBid":
      return [`Withdraws bid #${str(op.seq)} from `, f("auction"), " (its hold is released)."];
    case "CancelAuction":
      return ["Cancels ", f("auction"), " (every hold is released)."];
    case "SetServicing":
      return [f("paying_account"), " pays the coupons and redemption of ", f("instrument"), " in ", f("cash_instrument"), "."];
    case "ClaimEntitlement":
      return ["Claims, for ", f("account"), `, the payment distribution ${str(op.distribution)} of `, f("instrument"), " could not credit when it ran."];
    case "EnableStrips":
      return ["Makes ", f("instrument"), " eligible for STRIPS; its principal component is ", f("principal_component"), "."];
    case "Strip":
      return ["Strips ", f("amount"), " of ", f("instrument"), " in ", f("account"), " into its principal and interest components."];
    case "Reconstitute":
      return ["Rebuilds ", f("amount"), " of ", f("instrument"), " in ", f("account"), " from its principal and interest components."];
    case "OpenRepo":
      return [
        f("lender_account"),
        " lends ",
        quantity(str(op.cash_amount), num(op.cash_instrument)),
        " to ",
        f("borrower_account"),
        " against ",
        f("collateral"),
        ` at ${str(op.rate)} (ACT/360), `,
        op.maturity ? `until ${str(op.maturity)}` : "open-ended",
        ": ",
        f("repo"),
        ".",
      ];
    case "CloseRepo":
      return ["Closes ", f("repo"), ": the cash with its interest goes back against the collateral."];
    case "SubstituteCollateral":
      return ["In ", f("repo"), " the lender gives back ", f("give_back"), " and receives ", f("deliver"), "."];
    case "PublishNav":
      return ["Publishes the NAV of ", f("fund"), ` for ${str(op.date)}: ${str(op.nav)} per share.`];
    case "DeclareDividend":
      return [
        "Declares a dividend of ",
        `${perShare(op)} `,
        f("cash_instrument"),
        " per unit of ",
        f("instrument"),
        ` to holders of record on ${str(op.record_date)}, from `,
        f("paying_account"),
        op.reinvest ? ", reinvested in new shares at that date's NAV." : ", paid in cash.",
      ];
    case "RegisterRemoteLedger":
      return [
        `Registers the ledger ${str(op.chain_id)} (${str(op.name)}) whose finality certificates this one will verify, `,
        `under group key ${str(op.group_public_key).slice(0, 16)}… in namespace ${str(op.namespace)}.`,
      ];
    case "SuspendRemoteLedger":
      return [`Suspends the remote ledger ${str(op.chain_id)}: its proofs are refused until it is resumed.`];
    case "ResumeRemoteLedger":
      return [`Resumes the remote ledger ${str(op.chain_id)}.`];
    case "LockCrossLedger": {
      const cross = (op.cross ?? {}) as Record<string, unknown>;
      return [
        `Locks hold ${str(op.hold)} as the ${str(cross.role).toLowerCase()} of a cross-ledger swap: `,
        `its counterpart is hold ${str(cross.hold)} on ${str(cross.chain_id)}, paying ${str(cross.amount)} of instrument ${str(cross.instrument)} to account ${str(cross.payee)} there`,
        op.proof ? ", locked against a proof that the leader's hold is held for it." : ".",
      ];
    }
    case "TransferBatch": {
      const transfers = Array.isArray(op.transfers) ? op.transfers : [];
      const linked = transfers.filter((t) => (t as Record<string, unknown>).linked === true).length;
      return [
        `An institution batch of ${transfers.length} transfers under one approval, each with its own result`,
        linked > 0 ? ` (${linked} linked to the next: a linked chain applies all or none).` : ".",
      ];
    }
    case "ProveCrossLedger": {
      const proof = (op.proof ?? {}) as Record<string, unknown>;
      return [
        `Releases or refunds cross-ledger hold ${str(op.hold)} by a proof of its counterpart's state on ${str(proof.chain_id)}.`,
      ];
    }
    default:
      return null;
  }
}

const MOVE_KINDS: Record<string, string> = {
  mint: "minted",
  burn: "burned",
  transfer: "transfer",
  settle: "settlement",
  instruction: "matched instruction",
  hold_release: "hold released",
  forced: "forced transfer",
  recovery: "account recovery",
  auction: "auction issue (award or payment)",
  coupon: "coupon payment",
  redemption: "redemption",
  strip: "STRIPS strip or reconstitution",
  repo: "repo leg",
  dividend: "dividend",
};

export function moveKind(kind: unknown, reason?: unknown): string {
  const k = str(kind);
  return `${MOVE_KINDS[k] ?? k}${reason !== null && reason !== undefined ? ` (reason ${str(reason)})` : ""}`;
}

/** An event other than `moved`, as a sentence or its fields. */
export function eventDetails(e: Op, ctx: OpContext): Cell[] {
  const f = (k: string) => fieldValue(k, e[k], e, ctx);
  const rule = () => `${str(e.name)} (${str(e.code)})`;
  const secAmount = (k: string) => h("span", { class: "num" }, amount(str(e[k]), auctionScale(ctx, e.auction)));
  const dist = () => [`distribution ${str(e.seq)} of `, f("instrument")];
  switch (e.event) {
    case "auction_announced":
      return [f("auction"), " announced"];
    case "bid_submitted":
      return [`bid #${str(e.seq)} in `, f("auction"), " by ", f("bidder")];
    case "bid_withdrawn":
      return [`bid #${str(e.seq)} withdrawn from `, f("auction")];
    case "auction_cancelled":
      return [f("auction"), " cancelled"];
    case "auction_closed":
      return [f("auction"), ` closed: stop-out ${str(e.stop_out)}, allotment ${str(e.allotment_pct)}%, price ${str(e.price)}, awarded `, secAmount("awarded")];
    case "auction_failed":
      return [f("auction"), " failed: no competitive bid"];
    case "award_failed":
      return ["the award of ", f("bidder"), " in ", f("auction"), ` could not settle: ${rule()}`];
    case "auction_issued":
      return [f("auction"), " issued ", secAmount("issued")];
    case "servicing_set":
      return ["servicing set for ", f("instrument")];
    case "distribution_started":
      return [...dist(), ` (${str(e.kind)}) started: gross ${str(e.gross)} cash minor units held`];
    case "distribution_unfunded":
      return [...dist(), ` unfunded: ${rule()}; retried every block`];
    case "entitlement_unpaid":
      return [...dist(), ": ", f("account"), ` not credited ${str(e.amount)} cash minor units (${rule()}); it can be claimed later`];
    case "entitlement_claimed":
      return [...dist(), ": ", f("account"), ` claimed ${str(e.amount)} cash minor units`];
    case "distribution_completed":
      return [...dist(), ` done: ${str(e.holders)} holders paid; paid ${str(e.paid)}, unpaid ${str(e.unpaid)}, retained ${str(e.retained)} (cash minor units)`];
    case "instrument_matured":
      return [f("instrument"), " matured"];
    case "strips_enabled":
      return [f("instrument"), " eligible for STRIPS"];
    case "stripped":
      return [f("amount"), " of ", f("instrument"), " in ", f("account"), " split into its principal and interest components"];
    case "reconstituted":
      return [f("amount"), " of ", f("instrument"), " in ", f("account"), " rebuilt from its principal and interest components"];
    case "repo_opened":
      return [f("repo"), " opened"];
    case "repo_closed":
      return [f("repo"), ` closed: ${str(e.paid)} repaid, ${str(e.manufactured)} of manufactured coupons netted (cash minor units)`];
    case "repo_failed":
      return [f("repo"), ` could not close: ${rule()}`];
    case "collateral_substituted":
      return ["collateral substituted in ", f("repo")];
    case "nav_published":
      return ["NAV of ", f("fund"), ` published for ${str(e.date)}`];
    case "dividend_declared":
      return [`dividend (distribution ${str(e.seq)}) declared on `, f("instrument")];
    default: {
      const rest = Object.entries(e).filter(([k]) => k !== "event");
      return rest.flatMap(([k, v], i) => [i ? "; " : "", `${k.replaceAll("_", " ")}: `, fieldValue(k, v, e, ctx)]);
    }
  }
}

/** A readable event name: `auction_closed` → `auction closed`. */
export function eventName(e: Op): string {
  return str(e.event).replaceAll("_", " ");
}

/** Auction ids an operation or event refers to. */
export function auctionsNamed(items: Op[]): number[] {
  return items.filter((x) => x.auction !== undefined).map((x) => num(x.auction));
}

/** Instrument ids a list of operations or events names that this page does not know. */
export function unknownInstruments(items: Op[]): boolean {
  return items.some((x) =>
    ["instrument", "cash_instrument", "fund", "principal_component"].some((k) => x[k] !== undefined && !app.instruments.has(num(x[k]))),
  );
}
