// The Tally explorer and participant console: a single page, routed by the URL's hash,
// talking only to the node that served it.

import { describe, type Chain, type DevKey } from "./api.js";
import { facts, h, notice, replace, section } from "./dom.js";
import { api, app, loadReference, onBlock, pinKey, restoreSession, signIn, signOut, startFeed, trustedKey } from "./state.js";
import { accountView, accountsView, participantView } from "./views/accounts.js";
import { auctionView, auctionsView } from "./views/auctions.js";
import { blockView, blocksView, repoView, txView } from "./views/blocks.js";
import { instrumentView, instrumentsView } from "./views/instruments.js";
import { networkView } from "./views/network.js";
import { searchView } from "./views/search.js";
import { certificateCheck } from "./views/verifying.js";
import { CONSENSUS_NAMESPACE, parseGroupKey } from "./verify/index.js";

const view = () => document.getElementById("view") as HTMLElement;
let cleanup: (() => void) | null = null;

type Route = (root: HTMLElement, ...args: string[]) => Promise<void | (() => void)> | (() => void) | void;

const routes: [RegExp, Route][] = [
  [/^$|^network$/, (r) => networkView(r)],
  [/^blocks$/, (r) => blocksView(r)],
  [/^blocks\/before\/(\d+)$/, (r, b) => blocksView(r, Number(b))],
  [/^block\/(\d+)$/, (r, n) => blockView(r, Number(n))],
  [/^tx\/([0-9a-fA-F]{64})$/, (r, id) => txView(r, id.toLowerCase())],
  [/^instruments$/, (r) => instrumentsView(r)],
  [/^instrument\/([A-Za-z0-9]{1,20})$/, (r, id) => instrumentView(r, id)],
  [/^auctions$/, (r) => auctionsView(r)],
  [/^auction\/(\d{1,20})$/, (r, id) => auctionView(r, Number(id))],
  [/^repo\/(\d{1,20})$/, (r, id) => repoView(r, Number(id))],
  [/^accounts$/, (r) => accountsView(r)],
  [/^account\/(\d+)$/, (r, id) => accountView(r, Number(id))],
  [/^participant\/([A-Za-z0-9]{20})$/, (r, lei) => participantView(r, lei)],
  [/^search\/(.+)$/, (r, q) => searchView(r, decodeURIComponent(q))],
  [/^verify$/, (r) => verifyView(r)],
];

async function route(): Promise<void> {
  cleanup?.();
  cleanup = null;
  const path = location.hash.replace(/^#\/?/, "");
  const root = view();
  for (const a of document.querySelectorAll("nav a")) {
    const target = (a.getAttribute("href") ?? "").replace(/^#\/?/, "");
    a.classList.toggle("active", target !== "" && path.startsWith(target.replace(/s$/, "")));
  }
  for (const [re, f] of routes) {
    const m = re.exec(path);
    if (!m) continue;
    try {
      const out = await f(root, ...m.slice(1));
      if (typeof out === "function") cleanup = out;
    } catch (e) {
      replace(root, notice("error", describe(e)));
    }
    return;
  }
  replace(root, notice("error", `No page ${path}.`));
}

/** The Verify page: which group key the page trusts, and pinning it. */
async function verifyView(root: HTMLElement): Promise<void> {
  if (chainHeight === 0) {
    chainHeight = (await api.get<{ finalized_height: number }>("/status")).finalized_height;
  }
  const chain = app.chain!;
  const key = trustedKey();
  const input = h("textarea", { id: "pin-input", rows: 3, placeholder: "group public key (hex) from the genesis file's threshold.group_public_key" }) as HTMLTextAreaElement;
  const msg = h("div");
  const mismatch = key.source === "pinned" && key.hex !== chain.group_public_key;
  replace(
    root,
    h("h1", {}, "Verification"),
    h(
      "p",
      {},
      "This page checks finality certificates and Merkle proofs itself (TypeScript with the audited @noble libraries), never taking the node's word: a block is final if its certificate is a BLS12-381 threshold signature of the network's group key. The key must come from somewhere you trust — the genesis file or the operator — so pin it here.",
    ),
    facts([
      ["key in use", h("code", { id: "key-in-use" }, key.hex)],
      ["where it came from", key.source === "pinned" ? "pinned in this browser" : "served by this node (GET /chain): not pinned"],
      ["this node serves", h("code", {}, chain.group_public_key)],
      ["consensus namespace", `${new TextDecoder().decode(Uint8Array.from(chain.consensus_namespace.match(/../g)?.map((x) => parseInt(x, 16)) ?? []))} (the page verifies under ${CONSENSUS_NAMESPACE})`],
    ]),
    mismatch ? notice("error", "The pinned key differs from the one this node serves: certificates from this node will not verify.") : null,
    section(
      "Pin a key",
      input,
      h(
        "p",
        {},
        h("button", {
          onclick: () => {
            try {
              const hex = input.value.trim().toLowerCase();
              parseGroupKey(hex);
              pinKey(hex);
              void verifyView(root);
            } catch (e) {
              replace(msg, notice("error", describe(e)));
            }
          },
        }, "pin this key"),
        " ",
        h("button", { onclick: () => { pinKey(chain.group_public_key); void verifyView(root); } }, "pin the key this node serves"),
        " ",
        h("button", { onclick: () => { pinKey(null); void verifyView(root); } }, "unpin"),
      ),
      msg,
    ),
    section("Latest block", chainHeight > 0 ? certificateCheck(chainHeight) : h("p", { class: "muted" }, "No block yet.")),
  );
}

let chainHeight = 0;

function signInPanel(): void {
  const box = document.getElementById("signin") as HTMLElement;
  const s = api.session;
  if (s) {
    replace(
      box,
      h("span", { id: "signed-in-as", title: s.lei }, `${s.participant.legal_name}${s.readsAll ? " (reads all)" : ""}`),
      " ",
      h("button", { class: "small", id: "sign-out", onclick: () => { signOut(); signInPanel(); void route(); } }, "sign out"),
    );
    return;
  }
  const secret = h("input", { id: "secret-key", type: "password", placeholder: "secret key (64 hex)", autocomplete: "off", size: 22 }) as HTMLInputElement;
  const err = h("span", { class: "bad" });
  const go = async (hex: string) => {
    try {
      await signIn(hex);
      signInPanel();
      void route();
    } catch (e) {
      err.textContent = ` ${describe(e)}`;
    }
  };
  const dev = app.devKeys.length
    ? h(
        "details",
        { id: "dev-menu", class: "dev" },
        h("summary", {}, "Dev keys"),
        h(
          "div",
          { class: "dev-list" },
          h("p", { class: "muted" }, "Development network only: these keys are public."),
          app.devKeys.map((k: DevKey) =>
            h("button", { class: "small", "data-dev-key": k.name, onclick: () => void go(k.secret_key) }, `${k.name} — ${k.legal_name} (account ${k.account}; ${k.roles.join(", ")})`),
          ),
        ),
      )
    : null;
  replace(
    box,
    h("form", { onsubmit: (e: Event) => { e.preventDefault(); void go(secret.value); } }, secret, " ", h("button", { class: "small" }, "sign in")),
    dev,
    err,
  );
}

async function boot(): Promise<void> {
  const form = document.getElementById("search") as HTMLFormElement;
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const q = (document.getElementById("q") as HTMLInputElement).value.trim();
    if (q) location.hash = `#/search/${encodeURIComponent(q)}`;
  });
  try {
    app.chain = await api.get<Chain>("/chain");
  } catch (e) {
    replace(view(), notice("error", `This node does not answer GET /chain: ${describe(e)}`));
    return;
  }
  api.chainId = app.chain.chain_id;
  document.getElementById("chain-id")!.textContent = app.chain.chain_id;
  try {
    app.devKeys = (await api.get<{ keys: DevKey[] }>("/dev/keys")).keys;
  } catch {
    app.devKeys = []; // not a development network
  }
  // Reference data (instruments for scales and names, participants for names): small, public.
  await loadReference().catch(() => undefined);
  await restoreSession();
  signInPanel();
  void startFeed();
  onBlock((s) => {
    chainHeight = s.block.height;
    const el = document.getElementById("head-height");
    if (el) el.textContent = `height ${s.block.height}`;
  });
  window.addEventListener("hashchange", () => void route());
  await route();
}

void boot();
