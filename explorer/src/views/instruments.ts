// Instruments: Treasury bills, notes and bonds with their terms, coupon schedule, next
// event, supply and holder count; cash tokens by issuer; everything else.
//
// Auctions (issue 5) are not in the node's API yet: `instrumentSections` is where a section
// per instrument plugs in (an auction section that lists bids as the reader may see them,
// the stop-out, allotment and awards will be added there when the API serves them).

import type { Instrument } from "../api.js";
import { facts, h, link, notice, replace, section, table } from "../dom.js";
import { amount, time } from "../format.js";
import { api, app, loadReference, recent } from "../state.js";

const KIND_NAMES: Record<string, string> = {
  cash: "cash token",
  treasury_bill: "Treasury bill",
  treasury_note: "Treasury note",
  treasury_bond: "Treasury bond",
  equity: "equity",
  fund: "fund share",
  unique: "unique asset",
};

const isTreasury = (i: Instrument) => i.kind.type.startsWith("treasury_");

function issuerName(lei: string): string {
  return app.participants.get(lei)?.legal_name ?? lei;
}

function ids(i: Instrument): string {
  return [i.isin && `ISIN ${i.isin}`, i.cusip && `CUSIP ${i.cusip}`].filter(Boolean).join(" · ");
}

/** Today by the chain's clock (the newest block's time), else the browser's. */
function chainToday(): string {
  const ms = recent.length ? recent[recent.length - 1].block.time_ms : Date.now();
  return new Date(ms).toISOString().slice(0, 10);
}

function addMonths(date: string, months: number, endOfMonth: boolean): string {
  const [y, m, d] = date.split("-").map(Number);
  const total = y * 12 + (m - 1) + months;
  const year = Math.floor(total / 12);
  const month = total % 12;
  const last = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const day = endOfMonth ? last : Math.min(d, last);
  return `${year}-${String(month + 1).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
}

/**
 * Semiannual coupon dates of a note or bond, from the terms: every six months back from
 * maturity (keeping the end-of-month rule) while after the dated date.
 */
export function couponDates(dated: string, maturity: string): string[] {
  const [y, m, d] = maturity.split("-").map(Number);
  const eom = new Date(Date.UTC(y, m, 0)).getUTCDate() === d;
  const out: string[] = [];
  for (let k = 0; k < 400; k++) {
    const date = k === 0 ? maturity : addMonths(maturity, -6 * k, eom);
    if (date <= dated) break;
    out.push(date);
  }
  return out.reverse();
}

/** Half of a percentage written as a decimal string ("4.125%" → "2.0625%"), exactly. */
export function halfRate(rate: string): string {
  const m = /^(\d+)(?:\.(\d+))?%?$/.exec(rate.trim());
  if (!m) return `${rate} / 2`;
  const frac = `${m[2] ?? ""}0`;
  const v = BigInt(m[1] + frac) / 2n;
  const s = v.toString().padStart(frac.length + 1, "0");
  const out = `${s.slice(0, s.length - frac.length)}.${s.slice(s.length - frac.length)}`.replace(/\.?0+$/, "");
  return `${out}%`;
}

function terms(i: Instrument): [string, string | HTMLElement][] {
  const k = i.kind;
  switch (k.type) {
    case "cash":
      return [["currency", k.currency], ["cash kind", k.cash_kind.replaceAll("_", " ")]];
    case "treasury_bill":
      return [["issue date", k.issue_date], ["maturity", k.maturity_date], ["pricing", "discount (no coupon)"]];
    case "treasury_note":
    case "treasury_bond":
      return [["coupon", `${k.coupon_rate} a year, paid semiannually (ACT/ACT)`], ["dated date", k.dated_date], ["maturity", k.maturity_date]];
    case "fund":
      return [["fund kind", k.fund_kind]];
    case "unique":
      return [["title", k.title]];
    default:
      return [];
  }
}

/** The next scheduled event by the instrument's terms. */
function nextEvent(i: Instrument): string {
  const today = chainToday();
  const k = i.kind;
  if (k.type === "treasury_note" || k.type === "treasury_bond") {
    const next = couponDates(k.dated_date, k.maturity_date).find((d) => d >= today);
    if (!next) return "matured";
    return next === k.maturity_date ? `${next}: final coupon and redemption at par` : `${next}: coupon of ${halfRate(k.coupon_rate)} of face`;
  }
  if (k.type === "treasury_bill") return k.maturity_date >= today ? `${k.maturity_date}: redemption at par` : "matured";
  return "none scheduled";
}

/** Sections an instrument page shows below its terms; auctions plug in here (issue 5). */
const instrumentSections: ((i: Instrument) => HTMLElement | null)[] = [
  (i) => {
    const k = i.kind;
    if (k.type !== "treasury_note" && k.type !== "treasury_bond") return null;
    const today = chainToday();
    const dates = couponDates(k.dated_date, k.maturity_date);
    return section(
      "Coupon schedule",
      h("p", { class: "muted" }, `Computed in this page from the terms: ${dates.length} semiannual payments of ${halfRate(k.coupon_rate)} of face each; the last with the principal.`),
      table(
        ["#", "date", "payment", ""],
        dates.map((d, n) => [
          String(n + 1),
          d,
          d === k.maturity_date ? `${halfRate(k.coupon_rate)} + 100% (redemption)` : halfRate(k.coupon_rate),
          d < today ? h("span", { class: "muted" }, "past") : "",
        ]),
        { id: "coupon-schedule" },
      ),
    );
  },
  (i) =>
    isTreasury(i)
      ? section(
          "Auctions",
          notice("note", "This node's API does not serve auctions yet (bids, stop-out, allotment and awards arrive with the auction operations)."),
        )
      : null,
];

function row(i: Instrument): (string | HTMLElement)[] {
  return [
    link(`#/instrument/${i.id}`, i.name),
    KIND_NAMES[i.kind.type] ?? i.kind.type,
    ids(i),
    amount(i.total_supply, i.scale),
    String(i.holder_count),
    i.status,
  ];
}

export async function instrumentsView(root: HTMLElement): Promise<void> {
  await loadReference();
  const all = [...app.instruments.values()];
  const treasuries = all.filter(isTreasury);
  const cash = all.filter((i) => i.kind.type === "cash");
  const other = all.filter((i) => !isTreasury(i) && i.kind.type !== "cash");
  const head = ["instrument", "kind", "identifiers", "supply", "holders", "status"];
  const byIssuer = new Map<string, Instrument[]>();
  for (const c of cash) byIssuer.set(c.issuer, [...(byIssuer.get(c.issuer) ?? []), c]);
  replace(
    root,
    h("h1", {}, "Instruments"),
    section("Treasuries", treasuries.length ? table(head, treasuries.map(row), { id: "treasuries" }) : h("p", { class: "muted" }, "None.")),
    section(
      "Cash tokens by issuer",
      [...byIssuer.entries()].map(([issuer, list]) =>
        h("div", {}, h("h3", {}, issuerName(issuer)), table(head, list.map(row))),
      ),
    ),
    other.length ? section("Other instruments", table(head, other.map(row))) : null,
  );
}

export async function instrumentView(root: HTMLElement, id: string): Promise<void> {
  const i = await api.get<Instrument>(`/instrument/${encodeURIComponent(id)}`);
  if (!app.participants.size) await loadReference().catch(() => undefined);
  const p = i.policy;
  replace(
    root,
    h("h1", {}, i.name),
    facts([
      ["kind", KIND_NAMES[i.kind.type] ?? i.kind.type],
      ["identifiers", h("span", { id: "instrument-ids" }, ids(i) || "none")],
      ["instrument id", String(i.id)],
      ["issuer", [issuerName(i.issuer), " ", h("span", { class: "muted" }, i.issuer)]],
      ...terms(i),
      ["next event", h("span", { id: "next-event" }, nextEvent(i))],
      ["supply", h("span", { id: "instrument-supply" }, amount(i.total_supply, i.scale))],
      ["holders", h("span", { id: "instrument-holders" }, String(i.holder_count))],
      ["scale", `${i.scale} decimals, minimum increment ${i.min_increment}`],
      ["status", i.status],
    ]),
    section(
      "Compliance policy",
      facts([
        ["KYC", p.kyc_required ? "verified KYC required" : "not required"],
        ["jurisdictions", p.allowed_jurisdictions.length ? p.allowed_jurisdictions.join(", ") : "any"],
        ["investor classes", p.allowed_investor_classes.length ? p.allowed_investor_classes.join(", ") : "any"],
        ["holding cap", p.max_balance_per_holder ?? "none"],
        ["holder cap", p.max_holders !== undefined ? String(p.max_holders) : "none"],
        ["lock-up", p.lockup_until_ms !== undefined ? `until ${time(p.lockup_until_ms)}` : "none"],
      ]),
    ),
    instrumentSections.map((s) => s(i)),
  );
}

