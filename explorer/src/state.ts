// What every view shares: the API, the chain's identity and the group key used to verify,
// the signed-in participant, and the live feed of finalized blocks.

import { NodeApi, type Block, type Chain, type DevKey, type Instrument, type Participant } from "./api.js";
import { SigningKey } from "./auth.js";

export const api = new NodeApi();

/** Where the group key that verification uses came from. */
export interface TrustedKey {
  hex: string;
  source: "pinned" | "node";
}

export const app = {
  chain: null as Chain | null,
  devKeys: [] as DevKey[],
  instruments: new Map<number, Instrument>(),
  participants: new Map<string, Participant>(),
};

const PIN_PREFIX = "tally.groupKey.";
const SESSION_KEY = "tally.session.secret";

/** The group key verification uses: the pinned one if any, else the node's (and says so). */
export function trustedKey(): TrustedKey {
  const chain = app.chain;
  if (!chain) throw new Error("chain not loaded");
  const pinned = localStorage.getItem(PIN_PREFIX + chain.chain_id);
  return pinned ? { hex: pinned, source: "pinned" } : { hex: chain.group_public_key, source: "node" };
}

export function pinKey(hex: string | null): void {
  const id = app.chain?.chain_id ?? "";
  if (hex) localStorage.setItem(PIN_PREFIX + id, hex.trim().toLowerCase());
  else localStorage.removeItem(PIN_PREFIX + id);
}

/** Signs in with a secret key: finds the participant the ledger registered it to. */
export async function signIn(secretHex: string): Promise<void> {
  const key = new SigningKey(secretHex);
  const info = await api.get<{ owner?: string }>(`/key/${key.publicKeyHex}`);
  if (!info.owner) throw new Error("this key is not registered to any participant on this chain");
  const participant = await api.get<Participant>(`/participant/${info.owner}`);
  api.session = {
    key,
    lei: info.owner,
    participant,
    readsAll: participant.roles.some((r) => r === "regulator" || r === "auditor"),
  };
  // The tab keeps the key until it closes; nothing is sent anywhere but signatures.
  sessionStorage.setItem(SESSION_KEY, secretHex.trim());
}

export function signOut(): void {
  api.session = null;
  sessionStorage.removeItem(SESSION_KEY);
}

export async function restoreSession(): Promise<void> {
  const secret = sessionStorage.getItem(SESSION_KEY);
  if (secret) {
    try {
      await signIn(secret);
    } catch {
      signOut();
    }
  }
}

/** Every instrument, a page of 100 at a time (STRIPS add one instrument per payment date). */
async function allInstruments(): Promise<Instrument[]> {
  const out: Instrument[] = [];
  for (let page = 0; page < 20; page++) {
    const after = out.length ? `&after=${out[out.length - 1].id}` : "";
    const { instruments } = await api.get<{ instruments: Instrument[] }>(`/instruments?limit=100${after}`);
    out.push(...instruments);
    if (instruments.length < 100) break;
  }
  return out;
}

export async function loadReference(): Promise<void> {
  const [instruments, participants] = await Promise.all([
    allInstruments(),
    api.get<{ participants: Participant[] }>("/participants?limit=100"),
  ]);
  app.instruments = new Map(instruments.map((i) => [i.id, i]));
  app.participants = new Map(participants.participants.map((p) => [p.lei, p]));
}

/** An instrument's decimals (0 when this page does not know it). */
export function scaleOf(id: number): number {
  return app.instruments.get(id)?.scale ?? 0;
}

export function participantName(lei: string): string {
  return app.participants.get(lei)?.legal_name ?? lei;
}

export function instrumentName(id: number): string {
  return app.instruments.get(id)?.name ?? `instrument ${id}`;
}

// --- The live feed of finalized blocks -----------------------------------------------------

/** A finalized block as the feed saw it arrive. */
export interface SeenBlock {
  block: Block;
  /** When this page received the block's event (the browser's clock). */
  seenMs: number;
}

type Listener = (b: SeenBlock) => void;
const listeners = new Set<Listener>();
/** The newest blocks seen, newest last (bounded). */
export const recent: SeenBlock[] = [];
const MAX_RECENT = 600;
export const feed = { connected: false, lagged: 0 };

export function onBlock(f: Listener): () => void {
  listeners.add(f);
  return () => listeners.delete(f);
}

/** Follows `/events/blocks` for the page's lifetime, reconnecting after a failure. */
export async function startFeed(): Promise<void> {
  for (;;) {
    const ctl = new AbortController();
    try {
      await api.stream("/events/blocks", false, ctl.signal, (name, data) => {
        feed.connected = true;
        if (name === "lagged") {
          feed.lagged += Number((data as { missed?: number }).missed ?? 0);
          return;
        }
        const seen = { block: data as Block, seenMs: Date.now() };
        recent.push(seen);
        if (recent.length > MAX_RECENT) recent.splice(0, recent.length - MAX_RECENT);
        for (const f of listeners) f(seen);
      });
    } catch {
      /* reconnect below */
    }
    feed.connected = false;
    await new Promise((r) => setTimeout(r, 1000));
  }
}
