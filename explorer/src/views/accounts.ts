// Accounts: holdings and recent history for the signed-in participant; the regulator and
// auditors see every participant's. What is shown is what the API's read authorization
// allows: a participant asking for another's account gets the API's refusal, shown as is.

import { ApiFailure, describe, type Account, type AccountEvent, type Participant } from "../api.js";
import { facts, h, link, notice, replace, section, table } from "../dom.js";
import { amount } from "../format.js";
import { api, app, instrumentName, loadReference } from "../state.js";
import { opContext } from "./blocks.js";
import { eventDetails, eventName, moveKind, type OpContext } from "./ops.js";
import { holdingCheck } from "./verifying.js";

function signInFirst(): HTMLElement {
  return notice(
    "note",
    "Account data is visible only to its owner, the regulator and auditors. Sign in with a participant key (top right) to see yours.",
  );
}

function holdingsTable(a: Account): HTMLElement {
  if (!a.holdings.length) return h("p", { class: "muted" }, "No holdings.");
  return table(
    ["instrument", "balance", "held", "frozen", "available", "proof"],
    a.holdings.map((x) => [
      link(`#/instrument/${x.instrument}`, instrumentName(x.instrument)),
      h("span", { class: "num", "data-balance": `${a.id}/${x.instrument}` }, amount(x.balance, x.scale)),
      amount(x.held, x.scale),
      amount(x.frozen, x.scale),
      amount(x.available, x.scale),
      holdingCheck(a.id, x.instrument),
    ]),
    { class: "list holdings", "data-account": String(a.id) },
  );
}

function eventsTable(list: AccountEvent[], id: number, ctx: OpContext): HTMLElement {
  if (!list.length) return h("p", { class: "muted" }, "No recent events.");
  return table(
    ["block", "transaction", "event", "amount", "counterparty"],
    list.map((e) => {
      const ev = e.event;
      const inst = app.instruments.get(Number(ev.instrument));
      const moved = ev.event === "moved";
      const incoming = moved && Number(ev.to) === id;
      const other = moved ? (incoming ? ev.from : ev.to) : null;
      return [
        link(`#/block/${e.height}`, String(e.height)),
        e.tx_id ? link(`#/tx/${e.tx_id}`, h("code", {}, e.tx_id.slice(0, 12) + "…")) : h("span", { class: "muted", title: "scheduled lifecycle work of the block (auction issue, coupon, redemption, dividend)" }, "at block start"),
        moved ? `${moveKind(ev.kind, ev.reason)} ${incoming ? "in" : "out"}` : [eventName(ev), ": ", ...eventDetails(ev, ctx)],
        moved ? `${incoming ? "+" : "−"}${amount(String(ev.amount), inst?.scale ?? 0)} ${instrumentName(Number(ev.instrument))}` : "",
        other === null || other === undefined ? "–" : link(`#/account/${Number(other)}`, `account ${Number(other)}`),
      ];
    }),
    { class: "list history" },
  );
}

/** One account: holdings (each provable) and recent history. */
export async function accountView(root: HTMLElement, id: number): Promise<void> {
  if (!api.session) {
    replace(root, h("h1", {}, `Account ${id}`), signInFirst());
    return;
  }
  if (!app.instruments.size) await loadReference();
  let a: Account;
  try {
    a = await api.get<Account>(`/account/${id}`, true);
  } catch (e) {
    const refused = e instanceof ApiFailure && (e.status === 403 || e.status === 401);
    replace(
      root,
      h("h1", {}, `Account ${id}`),
      notice(
        "error",
        h("span", { id: "account-refused" }, refused ? "Not visible to you" : "Cannot show this account"),
        `: ${describe(e)}`,
      ),
    );
    return;
  }
  const owner = app.participants.get(a.owner);
  const history = h("div", {}, h("p", { class: "muted" }, "loading…"));
  replace(
    root,
    h("h1", {}, `Account ${a.id}`),
    facts([
      ["owner", [owner?.legal_name ?? a.owner, " ", link(`#/participant/${a.owner}`, a.owner)]],
      ["kind", a.kind],
      ["frozen", a.frozen ? h("span", { class: "bad" }, "frozen") : "no"],
    ]),
    section("Holdings", holdingsTable(a)),
    section("Recent history", history),
  );
  try {
    const ev = await api.get<{ oldest_height_kept: number; events: AccountEvent[] }>(`/account/${id}/events?limit=50`, true);
    const ctx = await opContext(ev.events.map((x) => x.event));
    replace(
      history,
      eventsTable(ev.events, id, ctx),
      h("p", { class: "muted" }, `From the finalized blocks this node keeps in memory (height ${ev.oldest_height_kept} on).`),
    );
  } catch (e) {
    replace(history, notice("error", describe(e)));
  }
}

async function participantAccounts(p: Participant): Promise<HTMLElement> {
  try {
    const { accounts } = await api.get<{ accounts: number[] }>(`/participant/${p.lei}/accounts`, true);
    const details = await Promise.all(accounts.map((id) => api.get<Account>(`/account/${id}`, true)));
    return h(
      "div",
      { class: "participant", "data-lei": p.lei },
      h("h3", {}, p.legal_name, " ", h("span", { class: "muted" }, `${p.lei} · ${p.roles.join(", ")}`)),
      details.length
        ? details.map((a) => h("div", {}, h("h4", {}, link(`#/account/${a.id}`, `Account ${a.id}`), ` (${a.kind})`), holdingsTable(a)))
        : h("p", { class: "muted" }, "No accounts."),
    );
  } catch (e) {
    return notice("error", `${p.legal_name}: ${describe(e)}`);
  }
}

/** The signed-in participant's accounts; every participant's for the regulator. */
export async function accountsView(root: HTMLElement): Promise<void> {
  const s = api.session;
  if (!s) {
    replace(root, h("h1", {}, "Accounts"), signInFirst());
    return;
  }
  await loadReference();
  const who = s.readsAll ? [...app.participants.values()] : [s.participant];
  replace(
    root,
    h("h1", {}, "Accounts"),
    notice(
      "note",
      s.readsAll
        ? `Signed in as ${s.participant.legal_name} (${s.participant.roles.join(", ")}): the API shows every participant's accounts.`
        : `Signed in as ${s.participant.legal_name}: the API shows only its own accounts.`,
    ),
    h("div", { id: "accounts" }, h("p", { class: "muted" }, "loading…")),
  );
  const parts = await Promise.all(who.map(participantAccounts));
  const box = document.getElementById("accounts");
  if (box) replace(box, parts);
}

export async function participantView(root: HTMLElement, lei: string): Promise<void> {
  const p = await api.get<Participant>(`/participant/${encodeURIComponent(lei)}`);
  replace(
    root,
    h("h1", {}, p.legal_name),
    facts([
      ["LEI", h("span", { id: "participant-lei" }, p.lei)],
      ["roles", p.roles.join(", ")],
      ["jurisdiction", p.jurisdiction],
      ["investor class", p.investor_class.replaceAll("_", " ")],
      ["KYC", `${p.kyc_status}, expires ${p.kyc_expires_on}`],
      ["keys", p.keys.map((k) => h("div", {}, h("code", {}, k.public_key), ` weight ${k.weight}`))],
      ["suspended", p.suspended ? h("span", { class: "bad" }, "yes") : "no"],
    ]),
    api.session ? section("Accounts", await participantAccounts(p)) : signInFirst(),
  );
}
