// Auctions (31 CFR 356 single-price, run by the ledger): the list, one auction's terms and,
// after the close, its result (public), and its bids as the signed-in reader may see them
// (`GET /auction/{id}/bids`: a bidder its own; the issuer, regulators and auditors all).

import { ApiFailure, describe, type Auction, type AuctionResult, type Bid, type Bidder } from "../api.js";
import { facts, h, link, notice, replace, section, table } from "../dom.js";
import { amount, pct, time } from "../format.js";
import { accountLink, instrumentLink, participantLink } from "../links.js";
import { api, app, instrumentName, loadReference, onBlock, scaleOf } from "../state.js";

const STATUS_TEXT: Record<string, string> = {
  open: "open for bids",
  closed: "closed: awards set, issue pending",
  issued: "issued: awards delivered against payment",
  failed: "failed: no competitive bid",
  cancelled: "cancelled by the issuer",
};

/** Statuses a later block can still change. */
const live = (a: Auction) => a.status === "open" || a.status === "closed";

export async function fetchAuctions(): Promise<Auction[]> {
  return (await api.get<{ auctions: Auction[] }>("/auctions")).auctions;
}

/** Makes sure the page knows the auctioned security (a new one appears with the announcement). */
async function knowSecurities(list: Auction[]): Promise<void> {
  if (list.some((a) => !app.instruments.has(a.security))) await loadReference().catch(() => undefined);
}

function isBill(a: Auction): boolean {
  return app.instruments.get(a.security)?.kind.type === "treasury_bill";
}

function field(name: string, ...children: (string | HTMLElement)[]): HTMLElement {
  return h("span", { "data-field": name }, ...children);
}

function par(a: Auction, minor: string): string {
  return amount(minor, scaleOf(a.security));
}

function closes(a: Auction): (string | HTMLElement)[] {
  return [time(a.close_at_ms), a.status === "open" ? h("span", { class: "muted" }, " (the ledger closes it in the first block at or after this time; this page updates then)") : ""];
}

function termsFacts(a: Auction): HTMLElement {
  return facts([
    ["status", [field("status", a.status), h("span", { class: "muted" }, ` — ${STATUS_TEXT[a.status] ?? ""}`)]],
    ["security", [instrumentLink(a.security), a.new_security ? " (new issue)" : " (reopening)"]],
    ["issuer", participantLink(a.issuer)],
    ["offering", field("offering", par(a, a.offering))],
    ["bids in multiples of", par(a, a.increment)],
    ["rate tick", a.rate_tick],
    ["bids close", closes(a)],
    ["issue date", a.issue_date],
    ["paid in", [instrumentLink(a.cash_instrument), " to the issuer's ", accountLink(a.issuer_cash_account)]],
    ["noncompetitive limit", `${par(a, a.max_noncompetitive_per_bidder)} per bidder, ${par(a, a.max_noncompetitive_total)} in all`],
    ["award cap", `${pct(a.award_cap_pct)} of the offering per bidder`],
    ["maximum price", `${a.max_price} per 100 (each bid holds cash at this price until the close)`],
    ...(a.bids !== undefined ? ([["bids recorded", String(a.bids)]] as [string, string][]) : []),
  ]);
}

function resultFacts(a: Auction, r: AuctionResult): HTMLElement {
  const over = BigInt(r.over_allotment);
  return facts([
    ["stop-out rate", [field("stop_out", r.stop_out), h("span", { class: "muted" }, " — the highest accepted rate; every winner pays the price it sets")]],
    ["low rate", r.low_rate],
    ["allotment at the stop-out", [field("allotment_pct", pct(r.allotment_pct)), h("span", { class: "muted" }, " of each bid at the stop-out rate is awarded")]],
    ["price per 100", field("price", r.price)],
    ["accrued interest per 100", r.accrued_per_100],
    ["coupon", isBill(a) ? "none (a bill is sold at a discount)" : field("coupon", r.coupon)],
    ["noncompetitive awarded", par(a, r.noncompetitive)],
    ["competitive awarded", par(a, r.competitive)],
    ["total awarded", field("total_awarded", par(a, r.total_awarded))],
    ["over-allotment", field("over_allotment", over < 0n ? `${par(a, (-over).toString())} unsold` : par(a, r.over_allotment))],
    ["tendered", par(a, r.tendered)],
    ["bid-to-cover", field("bid_to_cover", r.bid_to_cover)],
    ["issued", [field("issued", par(a, r.issued)), a.status === "issued" ? "" : h("span", { class: "muted" }, " (at the issue)")]],
  ]);
}

function bidsTables(a: Auction, bids: Bid[], bidders: Bidder[]): HTMLElement[] {
  const cashScale = scaleOf(a.cash_instrument);
  const open = a.status === "open";
  const out = [
    h("h4", {}, "Bids"),
    bids.length
      ? table(
          ["#", "bidder", "account", "type", "rate", "par bid", "cash held", "awarded"],
          bids.map((b) => [
            String(b.seq),
            participantLink(b.bidder),
            accountLink(b.account),
            b.kind,
            b.rate ?? "–",
            h("span", { class: "num" }, par(a, b.amount)),
            h("span", { class: "num" }, amount(b.hold, cashScale)),
            open ? "–" : h("span", { class: "num", "data-award": String(b.seq) }, par(a, b.award)),
          ]),
          { class: "list bids" },
        )
      : h("p", { class: "muted" }, "No bids you may see."),
  ];
  if (bidders.length) {
    out.push(
      h("h4", {}, "Bidders: awards and cost"),
      table(
        ["bidder", "account", "type", "par bid", "cash held now", "awarded", "cost", "settlement"],
        bidders.map((b) => [
          participantLink(b.bidder),
          accountLink(b.account),
          b.competitive ? "competitive" : "noncompetitive",
          h("span", { class: "num" }, par(a, b.bid)),
          h("span", { class: "num" }, amount(b.held, cashScale)),
          open ? "–" : h("span", { class: "num" }, par(a, b.award)),
          open ? "–" : h("span", { class: "num" }, amount(b.cost, cashScale)),
          b.failure ? h("span", { class: "bad" }, `failed: ${b.failure}`) : a.status === "issued" ? h("span", { class: "ok" }, "settled") : "–",
        ]),
        { class: "list bidders" },
      ),
    );
  }
  return out;
}

/** The bids the signed-in reader may see, loaded into the returned element. */
function bidsBox(a: Auction): HTMLElement {
  const box = h("div", { class: "bids-box" });
  const s = api.session;
  if (!s) {
    replace(
      box,
      notice(
        "note",
        h("span", { class: "bids-signin" }, "Sign in to see bids."),
        " Bids are private: a bidder sees its own; the issuer, regulators and auditors see all (the result above is public).",
      ),
    );
    return box;
  }
  const all = s.readsAll || s.lei === a.issuer;
  replace(box, h("p", { class: "muted" }, "loading bids…"));
  api
    .get<{ bids: Bid[]; bidders: Bidder[] }>(`/auction/${a.id}/bids`, true)
    .then((r) =>
      replace(
        box,
        h(
          "p",
          { class: "bids-scope muted" },
          all
            ? `Signed in as ${s.participant.legal_name}: ${s.lei === a.issuer ? "the issuer" : "a regulator or auditor"}, who sees every bid.`
            : `Signed in as ${s.participant.legal_name}: the API shows a bidder its own bids only.`,
        ),
        bidsTables(a, r.bids, r.bidders),
      ),
    )
    .catch((e) => replace(box, notice("error", e instanceof ApiFailure ? `Bids not visible: ${describe(e)}` : describe(e))));
  return box;
}

/** Everything about one auction: terms, status, result, and the bids the reader may see. */
export function auctionDetails(a: Auction, heading: boolean): HTMLElement {
  return h(
    "div",
    { class: "auction", "data-auction": String(a.id), "data-status": a.status },
    heading ? h("h3", {}, link(`#/auction/${a.id}`, `Auction ${a.id}`), ` — ${a.new_security ? "new issue" : "reopening"}, ${a.status}`) : null,
    termsFacts(a),
    a.result
      ? h("div", {}, h("h4", {}, "Result of the close"), resultFacts(a, a.result))
      : a.status === "failed"
        ? notice("note", "No competitive bid was recognized: every hold was released and the announced security deleted.")
        : a.status === "cancelled"
          ? notice("note", "Cancelled before the close: every hold was released.")
          : notice("note", "The result (stop-out, allotment, price, awards) is set by the ledger at the close."),
    bidsBox(a),
  );
}

/** Redraws while the auction can still change, at most once a second, as blocks arrive. */
function whileLive(isLive: () => boolean, redraw: () => Promise<void>): () => void {
  let busy = false;
  let last = Date.now();
  return onBlock(() => {
    if (busy || !isLive() || Date.now() - last < 1000) return;
    busy = true;
    last = Date.now();
    redraw()
      .catch(() => undefined)
      .finally(() => (busy = false));
  });
}

export async function auctionsView(root: HTMLElement): Promise<() => void> {
  let list = await fetchAuctions();
  await knowSecurities(list);
  const body = h("div");
  const draw = () =>
    replace(
      body,
      list.length
        ? table(
            ["auction", "security", "status", "offering", "bids close", "issue date", "stop-out", "allotment", "price", "bid-to-cover", "issued"],
            [...list].reverse().map((a) => [
              link(`#/auction/${a.id}`, `Auction ${a.id}`),
              instrumentLink(a.security),
              a.status,
              par(a, a.offering),
              time(a.close_at_ms),
              a.issue_date,
              a.result?.stop_out ?? "–",
              a.result ? pct(a.result.allotment_pct) : "–",
              a.result?.price ?? "–",
              a.result?.bid_to_cover ?? "–",
              a.result ? par(a, a.result.issued) : "–",
            ]),
            { id: "auctions" },
          )
        : h("p", { class: "muted" }, "No auction has been announced."),
    );
  draw();
  replace(
    root,
    h("h1", {}, "Auctions"),
    h("p", { class: "muted" }, "Single-price auctions of Treasury securities, newest first. The ledger closes each at its time, sets the stop-out rate, allotment and price, and issues the awards delivery versus payment."),
    body,
  );
  return whileLive(
    () => list.some(live),
    async () => {
      list = await fetchAuctions();
      await knowSecurities(list);
      draw();
    },
  );
}

export async function auctionView(root: HTMLElement, id: number): Promise<() => void> {
  let a = await api.get<Auction>(`/auction/${id}`);
  await knowSecurities([a]);
  const draw = () =>
    replace(
      root,
      h("h1", {}, `Auction ${a.id}: ${instrumentName(a.security)}`),
      auctionDetails(a, false),
      section("Security", h("p", {}, instrumentLink(a.security), h("span", { class: "muted" }, " — terms, servicing and holders"))),
    );
  draw();
  return whileLive(
    () => live(a),
    async () => {
      const next = await api.get<Auction>(`/auction/${id}`);
      if (next.status === a.status) return;
      a = next;
      await knowSecurities([a]);
      draw();
    },
  );
}

/** Auctions of one security, for its instrument page. */
export function auctionsOf(security: number, list: Auction[]): HTMLElement {
  const mine = list.filter((a) => a.security === security);
  return section(
    "Auctions",
    h(
      "div",
      { id: "instrument-auctions" },
      mine.length ? [...mine].reverse().map((a) => auctionDetails(a, true)) : h("p", { class: "muted" }, "This security has not been sold at auction on this ledger."),
    ),
  );
}
