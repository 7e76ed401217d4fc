// One search box: a block height, a transaction id, an account, a key, an LEI, an ISIN or
// a CUSIP (or part of a participant's or instrument's name). One match opens it; several
// are listed.

import { ApiFailure, type Block, type Instrument, type Participant, type TxInfo } from "../api.js";
import { h, link, notice, replace } from "../dom.js";
import { api, app, loadReference } from "../state.js";

interface Match {
  href: string;
  label: string;
}

async function exists<T>(path: string, signed = false): Promise<T | null> {
  try {
    return await api.get<T>(path, signed);
  } catch (e) {
    if (e instanceof ApiFailure && (e.status === 404 || e.status === 400)) return null;
    throw e;
  }
}

export async function search(q: string): Promise<Match[]> {
  const query = q.trim();
  const upper = query.toUpperCase();
  const out: Match[] = [];
  if (!query) return out;
  if (/^\d{1,20}$/.test(query)) {
    const n = query.replace(/^0+(?=\d)/, "");
    if (await exists<Block>(`/block/${n}`)) out.push({ href: `#/block/${n}`, label: `Block ${n}` });
    if (api.session) {
      try {
        if (await exists(`/account/${n}`, true)) out.push({ href: `#/account/${n}`, label: `Account ${n}` });
      } catch (e) {
        if (e instanceof ApiFailure && e.status === 403) out.push({ href: `#/account/${n}`, label: `Account ${n} (not visible to you)` });
      }
    } else {
      out.push({ href: `#/account/${n}`, label: `Account ${n} (sign in to see it)` });
    }
  }
  if (/^[0-9a-fA-F]{64}$/.test(query)) {
    const id = query.toLowerCase();
    const tx = await exists<TxInfo>(`/tx/${id}`);
    if (tx && tx.status !== "unknown") out.push({ href: `#/tx/${id}`, label: `Transaction ${id} (${tx.status})` });
    const key = await exists<{ owner?: string }>(`/key/${id}`);
    if (key?.owner) out.push({ href: `#/participant/${key.owner}`, label: `Key of participant ${key.owner}` });
  }
  if (/^[A-Z0-9]{18}[0-9]{2}$/.test(upper)) {
    const p = await exists<Participant>(`/participant/${upper}`);
    if (p) out.push({ href: `#/participant/${p.lei}`, label: `${p.legal_name} (LEI ${p.lei})` });
  }
  if (/^[A-Z]{2}[A-Z0-9]{9}[0-9]$/.test(upper) || /^[A-Z0-9]{8}[0-9]$/.test(upper)) {
    const i = await exists<Instrument>(`/instrument/${upper}`);
    if (i) out.push({ href: `#/instrument/${i.id}`, label: `${i.name} (${i.isin === upper ? "ISIN" : "CUSIP"} ${upper})` });
  }
  if (out.length === 0 && query.length >= 3) {
    if (!app.instruments.size) await loadReference();
    const needle = query.toLowerCase();
    for (const i of app.instruments.values()) {
      if (i.name.toLowerCase().includes(needle)) out.push({ href: `#/instrument/${i.id}`, label: i.name });
    }
    for (const p of app.participants.values()) {
      if (p.legal_name.toLowerCase().includes(needle)) out.push({ href: `#/participant/${p.lei}`, label: p.legal_name });
    }
  }
  return out;
}

export async function searchView(root: HTMLElement, q: string): Promise<void> {
  replace(root, h("h1", {}, "Search"), h("p", { class: "muted" }, `Searching for “${q}”…`));
  const matches = await search(q);
  const definite = matches.filter((m) => !m.label.includes("(sign in") && !m.label.includes("not visible"));
  if (definite.length === 1 && matches.length === 1) {
    location.replace(definite[0].href);
    return;
  }
  replace(
    root,
    h("h1", {}, "Search"),
    matches.length
      ? h("ul", { id: "search-results" }, matches.map((m) => h("li", {}, link(m.href, m.label))))
      : notice("note", `Nothing found for “${q}”: try a block height, a transaction id, an account, an LEI, an ISIN or a CUSIP.`),
  );
}
