// Links to the records the ledger names by number or LEI, labelled as a reader knows them.

import { h, link } from "./dom.js";
import { amount } from "./format.js";
import { instrumentName, participantName, scaleOf } from "./state.js";

export function accountLink(id: number): HTMLElement {
  return link(`#/account/${id}`, `account ${id}`);
}

export function instrumentLink(id: number): HTMLElement {
  return link(`#/instrument/${id}`, instrumentName(id));
}

export function auctionLink(id: number): HTMLElement {
  return link(`#/auction/${id}`, `auction ${id}`);
}

export function repoLink(id: number): HTMLElement {
  return link(`#/repo/${id}`, `repo ${id}`);
}

export function participantLink(lei: string): HTMLElement {
  return link(`#/participant/${lei}`, participantName(lei));
}

/** `1,000.00 USD central-bank reserves`: an amount in its instrument's scale, named. */
export function quantity(minor: string, instrument: number, scale = scaleOf(instrument)): HTMLElement {
  return h("span", {}, h("span", { class: "num" }, amount(minor, scale)), " ", instrumentLink(instrument));
}
