// Instruments: Treasury bills, notes and bonds with their terms, the ledger's own payment
// schedule and distributions (`GET /instrument/{id}/servicing`), STRIPS components, the
// next event, supply and holder count, and the auctions that sold them; cash tokens by
// issuer; everything else.

import { ApiFailure, type Auction, type Instrument, type Servicing, type Strips } from "../api.js";
import { facts, h, link, notice, replace, section, table } from "../dom.js";
import { amount, fraction, time } from "../format.js";
import { accountLink, instrumentLink } from "../links.js";
import { api, app, loadReference, scaleOf } from "../state.js";
import { auctionsOf, fetchAuctions } from "./auctions.js";

const KIND_NAMES: Record<string, string> = {
  cash: "cash token",
  treasury_bill: "Treasury bill",
  treasury_note: "Treasury note",
  treasury_bond: "Treasury bond",
  equity: "equity",
  fund: "fund share",
  unique: "unique asset",
  strip_principal: "STRIPS principal component",
  strip_interest: "STRIPS interest component",
};

const isTreasury = (i: Instrument) => i.kind.type.startsWith("treasury_");
const isStrip = (i: Instrument) => i.kind.type.startsWith("strip_");

function issuerName(lei: string): string {
  return app.participants.get(lei)?.legal_name ?? lei;
}

function ids(i: Instrument): string {
  return [i.isin && `ISIN ${i.isin}`, i.cusip && `CUSIP ${i.cusip}`].filter(Boolean).join(" · ");
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
    case "strip_principal":
      return [["underlying", link(`#/instrument/${k.underlying}`, app.instruments.get(k.underlying)?.name ?? `instrument ${k.underlying}`)], ["pays", `par at ${k.maturity_date}`]];
    case "strip_interest":
      return [["pays", `the interest due ${k.payment_date} on the stripped notes and bonds of its issuer`]];
    default:
      return [];
  }
}

/** The next event, from the ledger's schedule (servicing) and the security's auctions. */
function nextEvent(i: Instrument, s: Servicing | null, auctions: Auction[]): string {
  const k = i.kind;
  const pending = auctions.find((a) => a.security === i.id && (a.status === "open" || a.status === "closed"));
  if (pending) {
    return pending.status === "open"
      ? `auction ${pending.id} closes ${time(pending.close_at_ms)}; issue ${pending.issue_date}`
      : `auction ${pending.id} issues ${pending.issue_date}`;
  }
  if (!s) return i.status === "matured" ? "matured" : "none scheduled";
  if (s.book_closed) return "a payment is being made now (the register is closed until every holder is paid)";
  const declared = s.distributions.find((d) => d.status === "declared");
  const unserviced = s.paying_account === undefined ? " — no paying account is set: the ledger pays nothing until the issuer sets servicing" : "";
  const next = s.schedule[0];
  if (next) {
    if (k.type === "treasury_bill") return `${next}: redemption at par${unserviced}`;
    if (k.type === "treasury_note" || k.type === "treasury_bond") {
      const what = next === k.maturity_date ? "last coupon and redemption at par" : `coupon (${halfRate(k.coupon_rate)} of face for a regular half-year)`;
      return `${next}: ${what}${unserviced}`;
    }
    return `${next}${unserviced}`;
  }
  if (declared) return `${declared.date}: ${declared.kind} dividend, record date`;
  return s.status === "matured" || i.status === "matured" ? "matured" : "none scheduled";
}

/** What a payment date pays, by the terms. */
function paymentLabel(i: Instrument, date: string): string {
  const k = i.kind;
  if (k.type === "treasury_bill") return "principal at par";
  if ((k.type === "treasury_note" || k.type === "treasury_bond") && date === k.maturity_date) return "last coupon + principal at par";
  return "coupon";
}

/**
 * Cash per 100 of face from a distribution's `per_unit` (cash minor units per security
 * minor unit, as `num/den`): `num × 100 × 10^security scale / (den × 10^cash scale)`.
 */
function per100(perUnit: string, securityScale: number, cashScale: number): string {
  const m = /^(\d+)\/(\d+)$/.exec(perUnit);
  if (!m) return perUnit;
  return fraction(BigInt(m[1]) * 100n * 10n ** BigInt(securityScale), BigInt(m[2]) * 10n ** BigInt(cashScale), 6);
}

function servicingSection(i: Instrument, s: Servicing): HTMLElement {
  const cashScale = s.cash_instrument !== undefined ? scaleOf(s.cash_instrument) : 0;
  const cash = (v: string) => h("span", { class: "num" }, amount(v, cashScale));
  const k = i.kind;
  const coupon = k.type === "treasury_note" || k.type === "treasury_bond" ? k.coupon_rate : null;
  return section(
    "Servicing: payments by the ledger",
    facts([
      ["paying account", s.paying_account !== undefined ? [accountLink(s.paying_account), " (the issuer's)"] : h("span", { class: "bad" }, "not set: nothing is paid until the issuer sets it")],
      ["paid in", s.cash_instrument !== undefined ? instrumentLink(s.cash_instrument) : "–"],
      [
        "register",
        s.book_closed
          ? h("span", { id: "book-closed", class: "bad" }, "closed: a payment is running; no transfer, mint, burn or settlement of this instrument until every holder of record is paid")
          : h("span", { id: "book-closed" }, "open"),
      ],
    ]),
    h("h3", {}, "Payment dates"),
    s.schedule.length
      ? [
          h(
            "p",
            { class: "muted" },
            "The remaining payment dates as the ledger schedules them. Holders of record at the start (00:00 UTC) of each date are paid",
            coupon ? `; a regular half-year's coupon is ${halfRate(coupon)} of face (ACT/ACT), a short first period pays less.` : ".",
          ),
          table(["#", "date", "pays"], s.schedule.map((d, n) => [String(n + 1), d, paymentLabel(i, d)]), { id: "payment-schedule" }),
        ]
      : h("p", { class: "muted", id: "payment-schedule-none" }, s.status === "matured" ? "None: the security has matured." : "None scheduled."),
    h("h3", {}, "Distributions"),
    s.distributions.length
      ? table(
          ["#", "kind", "date", "status", "cash per 100 units", "supply of record", "gross", "paid", "unpaid (entitlements)", "retained", "holders paid"],
          s.distributions.map((d) => [
            String(d.seq),
            d.kind,
            d.date,
            h("span", { class: d.status === "unfunded" ? "bad" : d.status === "done" ? "ok" : "" }, d.status),
            per100(d.per_unit, i.scale, cashScale),
            h("span", { class: "num" }, amount(d.supply, i.scale)),
            cash(d.gross),
            cash(d.paid),
            cash(d.unpaid),
            cash(d.retained),
            String(d.holders),
          ]),
          { id: "distributions" },
        )
      : h("p", { class: "muted" }, "None yet."),
  );
}

function stripsSection(st: Strips | null): HTMLElement {
  if (!st || st.principal_component === undefined) {
    return section("STRIPS", h("p", { class: "muted", id: "strips-none" }, "Not enabled: the issuer has not made this security eligible for STRIPS."));
  }
  return section(
    "STRIPS",
    facts([["principal component", h("span", { id: "strips-principal" }, instrumentLink(st.principal_component))]]),
    table(
      ["payment date", "interest component"],
      st.interest.map((x) => [x.date, x.component !== undefined ? instrumentLink(x.component) : h("span", { class: "muted" }, "not created")]),
      { id: "strips" },
    ),
  );
}

async function optional<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof ApiFailure && e.status === 404) return null;
    throw e;
  }
}

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
  const strips = all.filter(isStrip);
  const other = all.filter((i) => !isTreasury(i) && !isStrip(i) && i.kind.type !== "cash");
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
    strips.length ? section("STRIPS components", table(head, strips.map(row), { id: "strips-components" })) : null,
    other.length ? section("Other instruments", table(head, other.map(row))) : null,
  );
}

export async function instrumentView(root: HTMLElement, id: string): Promise<void> {
  const i = await api.get<Instrument>(`/instrument/${encodeURIComponent(id)}`);
  if (!app.participants.size || !app.instruments.has(i.id)) await loadReference().catch(() => undefined);
  const k = i.kind;
  const noteOrBond = k.type === "treasury_note" || k.type === "treasury_bond";
  const [servicing, strips, auctions] = await Promise.all([
    k.type === "cash" ? null : optional(api.get<Servicing>(`/instrument/${i.id}/servicing`)),
    noteOrBond ? optional(api.get<Strips>(`/instrument/${i.id}/strips`)) : null,
    isTreasury(i) ? fetchAuctions() : ([] as Auction[]),
  ]);
  const serviced = servicing && (isTreasury(i) || servicing.paying_account !== undefined || servicing.distributions.length > 0);
  const p = i.policy;
  replace(
    root,
    h("h1", {}, i.name),
    facts([
      ["kind", KIND_NAMES[k.type] ?? k.type],
      ["identifiers", h("span", { id: "instrument-ids" }, ids(i) || "none")],
      ["instrument id", String(i.id)],
      ["issuer", [issuerName(i.issuer), " ", h("span", { class: "muted" }, i.issuer)]],
      ...terms(i),
      ["next event", h("span", { id: "next-event" }, nextEvent(i, servicing, auctions))],
      ["supply", h("span", { id: "instrument-supply" }, amount(i.total_supply, i.scale))],
      ["holders", h("span", { id: "instrument-holders" }, String(i.holder_count))],
      ["scale", `${i.scale} decimals, minimum increment ${i.min_increment}`],
      ["status", h("span", { id: "instrument-status" }, i.status)],
    ]),
    i.book_closed ? notice("note", "The register is closed: the ledger is paying this instrument's holders of record; nothing moves it until the payment is done.") : null,
    serviced ? servicingSection(i, servicing) : null,
    noteOrBond ? stripsSection(strips) : null,
    isTreasury(i) ? auctionsOf(i.id, auctions) : null,
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
  );
}
