// The node's API, from the page: same origin only, read tokens signed by the key the
// browser holds, server-sent events read over fetch (EventSource cannot send a token).

import { SigningKey, TOKEN_LIFETIME_MS } from "./auth.js";

/** A refusal of the API (`{"code", "name", "message"}`) or a transport failure. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    readonly codeName: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiFailure";
  }
}

export interface Validator {
  name: string;
  public_key: string;
  p2p_address: string;
  api_address: string;
}
export interface Chain {
  chain_id: string;
  genesis_time_ms: number;
  group_public_key: string;
  consensus_namespace: string;
  validators: Validator[];
}
export interface Status {
  chain_id: string;
  finalized_height: number;
  state_root: string;
  finalized_time_ms: number;
  mempool_size: number;
  node: string;
  validators: Validator[];
  peers: string[];
}
export interface TxSummary {
  tx_id: string;
  code: number;
  code_name: string;
}
export interface Block {
  height: number;
  digest: string;
  parent: string;
  state_root: string;
  time_ms: number;
  tx_count: number;
  certificate?: string;
  txs?: TxSummary[];
}
export interface Leg {
  from: number;
  to: number;
  instrument: number;
  amount: string;
}
export interface TxInfo {
  tx_id: string;
  status: string;
  height?: number;
  index?: number;
  code?: number;
  code_name?: string;
  code_description?: string;
  failed_op?: number;
  transaction?: { sender: string; nonce: number; expires_at_ms: number; operations: Record<string, unknown>[] };
  events?: Record<string, unknown>[];
  /** An applied transfer batch's per-transfer outcomes (to its approvers, the regulator and auditors). */
  batch?: { transfers: number; applied: number; failures: { index: number; code: number; code_name: string }[] };
}
export interface Holding {
  account: number;
  instrument: number;
  scale: number;
  balance: string;
  held: string;
  frozen: string;
  available: string;
}
export interface Account {
  id: number;
  owner: string;
  kind: string;
  frozen: boolean;
  holdings: Holding[];
}
export interface Participant {
  lei: string;
  legal_name: string;
  roles: string[];
  jurisdiction: string;
  investor_class: string;
  kyc_status: string;
  kyc_expires_on: string;
  keys: { public_key: string; weight: number }[];
  suspended: boolean;
}
export type Kind =
  | { type: "cash"; currency: string; cash_kind: string }
  | { type: "treasury_bill"; issue_date: string; maturity_date: string }
  | { type: "treasury_note" | "treasury_bond"; coupon_rate: string; dated_date: string; maturity_date: string }
  | { type: "equity" }
  | { type: "fund"; fund_kind: string }
  | { type: "unique"; title: string }
  | { type: "strip_principal"; underlying: number; maturity_date: string }
  | { type: "strip_interest"; payment_date: string };
export interface Instrument {
  id: number;
  issuer: string;
  name: string;
  isin?: string;
  cusip?: string;
  scale: number;
  min_increment: string;
  kind: Kind;
  policy: {
    kyc_required: boolean;
    allowed_jurisdictions: string[];
    allowed_investor_classes: string[];
    max_balance_per_holder?: string;
    max_holders?: number;
    lockup_until_ms?: number;
  };
  status: string;
  total_supply: string;
  holder_count: number;
  /** The register is closed while a coupon, redemption or dividend is being paid. */
  book_closed?: boolean;
}
/** What an auction's close found (`GET /auction/{id}` after the close). */
export interface AuctionResult {
  stop_out: string;
  low_rate: string;
  allotment_pct: string;
  price: string;
  accrued_per_100: string;
  coupon: string;
  noncompetitive: string;
  competitive: string;
  total_awarded: string;
  over_allotment: string;
  tendered: string;
  bid_to_cover: string;
  issued: string;
}
export interface Auction {
  id: number;
  issuer: string;
  security: number;
  new_security: boolean;
  status: string;
  offering: string;
  increment: string;
  rate_tick: string;
  close_at_ms: number;
  issue_date: string;
  cash_instrument: number;
  issuer_cash_account: number;
  max_noncompetitive_per_bidder: string;
  max_noncompetitive_total: string;
  award_cap_pct: string;
  max_price: string;
  bids?: number;
  result?: AuctionResult;
}
export interface Bid {
  seq: number;
  bidder: string;
  account: number;
  kind: string;
  rate?: string;
  amount: string;
  hold: string;
  award: string;
}
export interface Bidder {
  bidder: string;
  account: number;
  competitive: boolean;
  bid: string;
  held: string;
  award: string;
  cost: string;
  failure?: string;
}
export interface Distribution {
  seq: number;
  kind: string;
  date: string;
  status: string;
  per_unit: string;
  supply: string;
  gross: string;
  paid: string;
  unpaid: string;
  retained: string;
  holders: number;
}
export interface Servicing {
  instrument: number;
  status: string;
  book_closed: boolean;
  paying_account?: number;
  cash_instrument?: number;
  schedule: string[];
  distributions: Distribution[];
}
export interface Strips {
  instrument: number;
  principal_component?: number;
  interest: { date: string; component?: number }[];
}
export interface Repo {
  id: number;
  status: string;
  borrower_account: number;
  lender_account: number;
  collateral: { instrument: number; amount: string }[];
  cash_instrument: number;
  cash_amount: string;
  rate: string;
  opened_at_ms: number;
  maturity?: string;
  failure?: string;
  manufactured: string;
}
export interface AccountEvent {
  height: number;
  tx_id?: string;
  event: Record<string, unknown>;
}
export interface DevKey {
  name: string;
  legal_name: string;
  lei: string;
  account: number;
  roles: string[];
  public_key: string;
  secret_key: string;
}

/** Who is signed in: the key, and the participant the ledger knows it by. */
export interface Session {
  key: SigningKey;
  lei: string;
  participant: Participant;
  /** Regulators and auditors read every account. */
  readsAll: boolean;
}

function randomNonce(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(16));
}

export class NodeApi {
  session: Session | null = null;
  chainId = "";

  private async send(path: string, signed: boolean): Promise<Response> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (signed && this.session) {
      const expires = BigInt(Date.now() + TOKEN_LIFETIME_MS);
      headers.authorization = this.session.key.authorization(this.chainId, "GET", path, expires, randomNonce());
    }
    let resp: Response;
    try {
      resp = await fetch(path, { headers, cache: "no-store" });
    } catch (e) {
      throw new ApiFailure(0, 0, "Unreachable", `the node did not answer: ${(e as Error).message}`);
    }
    if (!resp.ok) {
      let body: { code?: number; name?: string; message?: string } = {};
      try {
        body = await resp.json();
      } catch {
        /* not JSON */
      }
      throw new ApiFailure(resp.status, body.code ?? 0, body.name ?? `HTTP ${resp.status}`, body.message ?? resp.statusText);
    }
    return resp;
  }

  /** `GET path` as JSON; signed with the session's key when `signed` and signed in. */
  async get<T>(path: string, signed = false): Promise<T> {
    return (await this.send(path, signed)).json() as Promise<T>;
  }

  async text(path: string): Promise<string> {
    return (await this.send(path, false)).text();
  }

  /**
   * Follows a server-sent event stream until `signal` aborts; calls `onEvent` with each
   * event's name and parsed data.
   */
  async stream(
    path: string,
    signed: boolean,
    signal: AbortSignal,
    onEvent: (name: string, data: unknown) => void,
  ): Promise<void> {
    const headers: Record<string, string> = { accept: "text/event-stream" };
    if (signed && this.session) {
      headers.authorization = this.session.key.authorization(
        this.chainId,
        "GET",
        path,
        BigInt(Date.now() + TOKEN_LIFETIME_MS),
        randomNonce(),
      );
    }
    const resp = await fetch(path, { headers, signal, cache: "no-store" });
    if (!resp.ok || !resp.body) throw new ApiFailure(resp.status, 0, `HTTP ${resp.status}`, "stream refused");
    const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    let name = "message";
    let data: string[] = [];
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value;
      // Bound what one unterminated event may hold.
      if (buf.length > 4 * 1024 * 1024) throw new ApiFailure(0, 0, "TooLarge", "event too large");
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl).replace(/\r$/, "");
        buf = buf.slice(nl + 1);
        if (line === "") {
          if (data.length > 0) {
            try {
              onEvent(name, JSON.parse(data.join("\n")));
            } catch {
              /* a malformed event is skipped */
            }
          }
          name = "message";
          data = [];
        } else if (line.startsWith("event:")) {
          name = line.slice(6).trim();
        } else if (line.startsWith("data:")) {
          data.push(line.slice(5).replace(/^ /, ""));
        }
      }
    }
  }
}

/** A readable message for any failure. */
export function describe(e: unknown): string {
  if (e instanceof ApiFailure) {
    return e.code ? `${e.codeName} (${e.code}): ${e.message}` : e.message;
  }
  return e instanceof Error ? e.message : String(e);
}
