//! [Client]: one typed method per route of the node's HTTP API.
//!
//! Reads of participant data take an optional signing key: with one, the request carries
//! a read token (`Authorization: Tally …`, see `tally_node::http::auth`) signed for that
//! exact method, path and query, on this chain, valid for a minute, used once.

use crate::error::SdkError;
use crate::sse::{RawEvent, SseReader};
use crate::types::*;
use crate::verify;
use commonware_codec::Encode as _;
use serde::de::DeserializeOwned;
use std::io::BufReader;
use std::marker::PhantomData;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use tally_types::{AccountId, Hash32, InstrumentId, PrivateKey, PublicKey, SignedTx};

/// Largest answer read into memory (a certified block of 8 MiB of transactions is 16 MiB
/// of hex).
pub const MAX_RESPONSE_BYTES: u64 = 64 * 1024 * 1024;
/// How long a read token lives.
pub const TOKEN_LIFETIME_MS: u64 = 60_000;
/// Interval between polls while waiting for a transaction to be final.
pub const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// Longest an ordinary request may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Part of an error body kept when it is not JSON.
/// Times a submission refused as `429 Overloaded` is retried.
const OVERLOAD_RETRIES: u32 = 5;
/// Wait before the first retry of an overloaded submission (the node's `Retry-After`);
/// each further retry waits one more of these.
const OVERLOAD_BACKOFF: Duration = Duration::from_secs(1);

const MAX_ERROR_TEXT: usize = 512;

/// A client of one node's HTTP API. Cheap to share by reference; caches the chain facts
/// (`GET /chain`) after the first call that needs them.
pub struct Client {
    base: String,
    agent: ureq::Agent,
    stream_agent: ureq::Agent,
    chain: OnceLock<ChainInfo>,
}

/// A holding verified against a certified state root.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerifiedHolding {
    /// Height of the certified block.
    pub height: u64,
    /// Its state root, which the proof verified against.
    pub state_root: Hash32,
    /// Whether the holding record exists (an absent one is a proven zero).
    pub present: bool,
    /// The holding.
    pub holding: tally_ledger::schema::Holding,
}

/// A parsed event of a stream.
#[derive(Clone, Debug, PartialEq)]
pub enum Event<T> {
    /// An event of the stream's type; `id` is the block height the node tags it with.
    Data {
        /// Height of the block the event comes from.
        id: Option<u64>,
        /// The event.
        data: T,
    },
    /// The reader was too slow and the node dropped this many blocks' events.
    Lagged {
        /// Blocks missed.
        missed: u64,
    },
}

/// A stream of server-sent events as an iterator; it ends when the node closes it.
pub struct EventStream<T> {
    reader: SseReader<BufReader<ureq::BodyReader<'static>>>,
    _type: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> Iterator for EventStream<T> {
    type Item = Result<Event<T>, SdkError>;

    fn next(&mut self) -> Option<Self::Item> {
        let raw = match self.reader.next()? {
            Ok(raw) => raw,
            Err(e) => return Some(Err(SdkError::Decode(e.to_string()))),
        };
        Some(parse_event(&raw))
    }
}

/// Parses one raw event of a node stream.
pub fn parse_event<T: DeserializeOwned>(raw: &RawEvent) -> Result<Event<T>, SdkError> {
    if raw.event == "lagged" {
        let v: serde_json::Value = serde_json::from_str(&raw.data)
            .map_err(|e| SdkError::Decode(format!("lagged event: {e}")))?;
        let missed = v
            .get("missed")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0);
        return Ok(Event::Lagged { missed });
    }
    let data = serde_json::from_str(&raw.data)
        .map_err(|e| SdkError::Decode(format!("{} event: {e}", raw.event)))?;
    Ok(Event::Data {
        id: raw.id.as_deref().and_then(|s| s.parse().ok()),
        data,
    })
}

fn agent(timeout: Option<Duration>) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(timeout)
        .timeout_connect(Some(Duration::from_secs(10)))
        .build()
        .into()
}

/// Checks that a path segment given as text (an ISIN, a CUSIP, an id) cannot change the
/// route: letters and digits only.
fn segment(s: &str, what: &str) -> Result<String, SdkError> {
    if s.is_empty() || s.len() > 64 || !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(SdkError::Invalid(format!(
            "{what} must be letters and digits, got {s:?}"
        )));
    }
    Ok(s.to_string())
}

fn query(params: &[(&str, Option<String>)]) -> String {
    let parts: Vec<String> = params
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

impl Client {
    /// A client of the node whose API is at `api_url` (e.g. `http://127.0.0.1:26601`).
    /// Nothing is requested until a method is called.
    pub fn new(api_url: impl Into<String>) -> Self {
        let mut base: String = api_url.into();
        while base.ends_with('/') {
            base.pop();
        }
        Self {
            base,
            agent: agent(Some(REQUEST_TIMEOUT)),
            stream_agent: agent(None),
            chain: OnceLock::new(),
        }
    }

    /// The API's base URL.
    pub fn url(&self) -> &str {
        &self.base
    }

    // -----------------------------------------------------------------------------------
    // Plumbing

    fn auth_header(&self, key: &PrivateKey, method: &str, path: &str) -> Result<String, SdkError> {
        let chain = self.chain()?.chain_id;
        let mut nonce = [0u8; 16];
        getrandom::fill(&mut nonce)
            .map_err(|e| SdkError::Invalid(format!("no OS randomness: {e}")))?;
        let expires = crate::now_ms().saturating_add(TOKEN_LIFETIME_MS);
        Ok(tally_node::http::auth::sign(
            key, &chain, method, path, expires, nonce,
        ))
    }

    fn transport(&self, path: &str, e: ureq::Error) -> SdkError {
        SdkError::Transport {
            url: format!("{}{path}", self.base),
            message: e.to_string(),
        }
    }

    /// Turns a non-2xx answer into [SdkError::Api] (or [SdkError::Http] if its body is not
    /// the node's error body).
    fn check(
        &self,
        path: &str,
        mut resp: ureq::http::Response<ureq::Body>,
    ) -> Result<ureq::http::Response<ureq::Body>, SdkError> {
        let status = resp.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(resp);
        }
        let text = resp
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BYTES)
            .lossy_utf8(true)
            .read_to_string()
            .map_err(|e| self.transport(path, e))?;
        match serde_json::from_str::<ErrorBody>(&text) {
            Ok(body) => Err(SdkError::Api { status, body }),
            Err(_) => {
                let mut text = text;
                if text.len() > MAX_ERROR_TEXT {
                    let mut end = MAX_ERROR_TEXT;
                    while !text.is_char_boundary(end) {
                        end -= 1;
                    }
                    text.truncate(end);
                }
                Err(SdkError::Http { status, text })
            }
        }
    }

    fn get_raw(
        &self,
        agent: &ureq::Agent,
        path: &str,
        key: Option<&PrivateKey>,
    ) -> Result<ureq::http::Response<ureq::Body>, SdkError> {
        let mut req = agent.get(format!("{}{path}", self.base));
        if let Some(key) = key {
            req = req.header("Authorization", self.auth_header(key, "GET", path)?);
        }
        let resp = req.call().map_err(|e| self.transport(path, e))?;
        self.check(path, resp)
    }

    fn read_body(
        &self,
        path: &str,
        mut resp: ureq::http::Response<ureq::Body>,
    ) -> Result<Vec<u8>, SdkError> {
        resp.body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BYTES)
            .read_to_vec()
            .map_err(|e| self.transport(path, e))
    }

    /// `GET path` (signed with `key` if given), parsed as JSON.
    pub fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        key: Option<&PrivateKey>,
    ) -> Result<T, SdkError> {
        let resp = self.get_raw(&self.agent, path, key)?;
        let bytes = self.read_body(path, resp)?;
        serde_json::from_slice(&bytes).map_err(|e| SdkError::Decode(format!("{path}: {e}")))
    }

    /// `GET path` as text.
    fn get_text(&self, path: &str) -> Result<String, SdkError> {
        let resp = self.get_raw(&self.agent, path, None)?;
        let bytes = self.read_body(path, resp)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// POSTs `body`, retrying (after the node's `Retry-After`, growing each time) while
    /// the node answers `429 Overloaded`: an overloaded node kept nothing, so sending the
    /// same bytes again is safe.
    fn post_bytes<T: DeserializeOwned>(&self, path: &str, body: &[u8]) -> Result<T, SdkError> {
        let mut attempt: u32 = 0;
        loop {
            match self.post_bytes_once(path, body) {
                Err(SdkError::Api { status: 429, .. }) if attempt < OVERLOAD_RETRIES => {
                    attempt += 1;
                    std::thread::sleep(OVERLOAD_BACKOFF * attempt);
                }
                other => return other,
            }
        }
    }

    fn post_bytes_once<T: DeserializeOwned>(&self, path: &str, body: &[u8]) -> Result<T, SdkError> {
        let resp = self
            .agent
            .post(format!("{}{path}", self.base))
            .content_type("application/octet-stream")
            .send(body)
            .map_err(|e| self.transport(path, e))?;
        let resp = self.check(path, resp)?;
        let bytes = self.read_body(path, resp)?;
        serde_json::from_slice(&bytes).map_err(|e| SdkError::Decode(format!("{path}: {e}")))
    }

    fn stream<T: DeserializeOwned>(
        &self,
        path: &str,
        key: Option<&PrivateKey>,
    ) -> Result<EventStream<T>, SdkError> {
        let resp = self.get_raw(&self.stream_agent, path, key)?;
        let reader = resp.into_body().into_reader();
        Ok(EventStream {
            reader: SseReader::new(BufReader::new(reader)),
            _type: PhantomData,
        })
    }

    // -----------------------------------------------------------------------------------
    // Node

    /// `GET /livez`: the process answers.
    pub fn livez(&self) -> Result<(), SdkError> {
        self.get_text("/livez").map(|_| ())
    }

    /// `GET /readyz`: whether the node has its state and a finalized block (`false` while
    /// it answers 503 Unavailable).
    pub fn readyz(&self) -> Result<bool, SdkError> {
        match self.get_text("/readyz") {
            Ok(_) => Ok(true),
            Err(SdkError::Api { status: 503, .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// `GET /metrics`: Prometheus text.
    pub fn metrics(&self) -> Result<String, SdkError> {
        self.get_text("/metrics")
    }

    /// `GET /openapi.json`: the API's OpenAPI document.
    pub fn openapi(&self) -> Result<serde_json::Value, SdkError> {
        self.get_json("/openapi.json", None)
    }

    /// `GET /docs`: the HTML reference page.
    pub fn docs(&self) -> Result<String, SdkError> {
        self.get_text("/docs")
    }

    // -----------------------------------------------------------------------------------
    // Chain

    /// `GET /status`: finalized height, state root and time, mempool, validators, peers.
    pub fn status(&self) -> Result<Status, SdkError> {
        self.get_json("/status", None)
    }

    /// `GET /chain`: chain id, genesis time, group key, validators. Fetched once, then
    /// cached. The group key it reports is the node's claim: verify against a key pinned
    /// out of band.
    pub fn chain(&self) -> Result<ChainInfo, SdkError> {
        if let Some(c) = self.chain.get() {
            return Ok(c.clone());
        }
        let info: ChainInfo = self.get_json("/chain", None)?;
        Ok(self.chain.get_or_init(|| info).clone())
    }

    /// The chain id, as signed into transactions and read tokens.
    pub fn chain_id(&self) -> Result<tally_types::ChainId, SdkError> {
        let id = self.chain()?.chain_id;
        tally_types::ChainId::new(&id)
            .ok_or_else(|| SdkError::Decode(format!("invalid chain id {id:?}")))
    }

    // -----------------------------------------------------------------------------------
    // Transactions

    /// `POST /tx`: submits a signed transaction; its id once admitted to the mempool.
    pub fn submit(&self, signed: &SignedTx) -> Result<Hash32, SdkError> {
        let answer: Submitted = self.post_bytes("/tx", &signed.to_bytes())?;
        Hash32::from_hex(&answer.tx_id)
            .ok_or_else(|| SdkError::Decode(format!("tx id {:?}", answer.tx_id)))
    }

    /// `POST /txs`: submits many signed transactions; one result per transaction, in order.
    pub fn submit_batch(&self, signed: &[SignedTx]) -> Result<Vec<BatchResult>, SdkError> {
        let list: Vec<Vec<u8>> = signed.iter().map(SignedTx::to_bytes).collect();
        let answer: BatchResults = self.post_bytes("/txs", &list.encode())?;
        Ok(answer.results)
    }

    /// `GET /tx/{id}`: status and result; with the key of a party (or of the regulator),
    /// the transaction's body and events too.
    pub fn tx(&self, id: &Hash32, key: Option<&PrivateKey>) -> Result<TxInfo, SdkError> {
        self.get_json(&format!("/tx/{}", id.to_hex()), key)
    }

    /// Polls `GET /tx/{id}` every [POLL_INTERVAL] until the transaction is final, for at
    /// most `timeout`.
    pub fn wait_final(&self, id: &Hash32, timeout: Duration) -> Result<TxInfo, SdkError> {
        self.wait_final_with(id, timeout, None, |_, _| {})
    }

    /// As [Client::wait_final], signing each poll with `key` (for the body and events) and
    /// calling `progress` after each poll that is not final (e.g. to draw a spinner).
    pub fn wait_final_with(
        &self,
        id: &Hash32,
        timeout: Duration,
        key: Option<&PrivateKey>,
        mut progress: impl FnMut(&TxInfo, Duration),
    ) -> Result<TxInfo, SdkError> {
        let start = Instant::now();
        loop {
            let info = self.tx(id, key)?;
            if info.status == "final" {
                return Ok(info);
            }
            let waited = start.elapsed();
            if waited >= timeout {
                return Err(SdkError::Timeout {
                    what: format!(
                        "transaction {} to be final (last seen {})",
                        id.to_hex(),
                        info.status
                    ),
                    waited_ms: u64::try_from(waited.as_millis()).unwrap_or(u64::MAX),
                });
            }
            progress(&info, waited);
            std::thread::sleep(POLL_INTERVAL);
        }
    }

    // -----------------------------------------------------------------------------------
    // Blocks

    /// `GET /blocks`: finalized blocks, newest first, from `before` (default the newest),
    /// at most `limit` (1–100, default 20).
    pub fn blocks(&self, before: Option<u64>, limit: Option<u64>) -> Result<BlockList, SdkError> {
        let q = query(&[
            ("before", before.map(|b| b.to_string())),
            ("limit", limit.map(|l| l.to_string())),
        ]);
        self.get_json(&format!("/blocks{q}"), None)
    }

    /// `GET /block/{height}`: header, certificate and (with `txs`) transaction results.
    pub fn block(&self, height: u64, txs: bool) -> Result<BlockInfo, SdkError> {
        let q = if txs { "?txs=true" } else { "" };
        self.get_json(&format!("/block/{height}{q}"), None)
    }

    /// `GET /block/{height}/certified`: the block's encoding and finality certificate.
    pub fn certified_block(&self, height: u64) -> Result<CertifiedBlock, SdkError> {
        self.get_json(&format!("/block/{height}/certified"), None)
    }

    /// `GET /block/{height}/header`: the block's header and finality certificate.
    pub fn certified_header(&self, height: u64) -> Result<CertifiedHeader, SdkError> {
        self.get_json(&format!("/block/{height}/header"), None)
    }

    // -----------------------------------------------------------------------------------
    // Reference data

    /// `GET /participants`: by LEI, after `after`, at most `limit` (1–100).
    pub fn participants(
        &self,
        after: Option<&str>,
        limit: Option<usize>,
    ) -> Result<ParticipantList, SdkError> {
        let after = after.map(|a| segment(a, "LEI")).transpose()?;
        let q = query(&[("after", after), ("limit", limit.map(|l| l.to_string()))]);
        self.get_json(&format!("/participants{q}"), None)
    }

    /// `GET /remote-ledgers`.
    pub fn remote_ledgers(&self) -> Result<RemoteLedgerList, SdkError> {
        self.get_json("/remote-ledgers", None)
    }

    /// `GET /remote-ledger/{chain_id}`.
    pub fn remote_ledger(&self, chain: &str) -> Result<RemoteLedgerInfo, SdkError> {
        if chain.is_empty() || chain.len() > 32 {
            return Err(SdkError::Invalid(format!(
                "chain id must be 1 to 32 bytes, got {chain:?}"
            )));
        }
        // Percent-encoded: a chain id may hold any printable character.
        let segment: String = chain
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    char::from(b).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect();
        self.get_json(&format!("/remote-ledger/{segment}"), None)
    }

    /// `GET /participant/{lei}`.
    pub fn participant(&self, lei: &str) -> Result<ParticipantInfo, SdkError> {
        self.get_json(&format!("/participant/{}", segment(lei, "LEI")?), None)
    }

    /// `GET /participant/{lei}/accounts` (read token of the participant or a regulator).
    pub fn participant_accounts(
        &self,
        lei: &str,
        key: Option<&PrivateKey>,
    ) -> Result<AccountList, SdkError> {
        self.get_json(
            &format!("/participant/{}/accounts", segment(lei, "LEI")?),
            key,
        )
    }

    /// `GET /key/{key}`: owner and next nonces of a key.
    pub fn key_info(&self, key: &PublicKey) -> Result<KeyInfo, SdkError> {
        self.get_json(&format!("/key/{}", crate::to_hex(key.as_ref())), None)
    }

    /// `GET /instruments`: by id, after `after`, at most `limit` (1–100).
    pub fn instruments(
        &self,
        after: Option<InstrumentId>,
        limit: Option<usize>,
    ) -> Result<InstrumentList, SdkError> {
        let q = query(&[
            ("after", after.map(|a| a.0.to_string())),
            ("limit", limit.map(|l| l.to_string())),
        ]);
        self.get_json(&format!("/instruments{q}"), None)
    }

    /// `GET /instrument/{id}`: by id, ISIN or CUSIP.
    pub fn instrument(&self, id: &str) -> Result<InstrumentInfo, SdkError> {
        self.get_json(
            &format!(
                "/instrument/{}",
                segment(id, "instrument id, ISIN or CUSIP")?
            ),
            None,
        )
    }

    // -----------------------------------------------------------------------------------
    // Participant data

    /// `GET /account/{id}`: the account and its holdings.
    pub fn account(
        &self,
        id: AccountId,
        key: Option<&PrivateKey>,
    ) -> Result<AccountInfo, SdkError> {
        self.get_json(&format!("/account/{}", id.0), key)
    }

    /// `GET /account/{id}/holding/{instrument}` (instrument by id, ISIN or CUSIP).
    pub fn holding(
        &self,
        account: AccountId,
        instrument: &str,
        key: Option<&PrivateKey>,
    ) -> Result<HoldingInfo, SdkError> {
        let instrument = segment(instrument, "instrument id, ISIN or CUSIP")?;
        self.get_json(&format!("/account/{}/holding/{instrument}", account.0), key)
    }

    /// `GET /instruction/{id}`.
    pub fn instruction(
        &self,
        id: &Hash32,
        key: Option<&PrivateKey>,
    ) -> Result<InstructionInfo, SdkError> {
        self.get_json(&format!("/instruction/{}", id.to_hex()), key)
    }

    /// `GET /hold/{id}`.
    pub fn hold(
        &self,
        id: tally_types::HoldId,
        key: Option<&PrivateKey>,
    ) -> Result<HoldInfo, SdkError> {
        self.get_json(&format!("/hold/{}", id.0), key)
    }

    /// `GET /auctions`: every auction with terms and results (public).
    pub fn auctions(&self) -> Result<AuctionList, SdkError> {
        self.get_json("/auctions", None)
    }

    /// `GET /auction/{id}`: terms and, after the close, the result (public).
    pub fn auction(&self, id: tally_types::AuctionId) -> Result<AuctionInfo, SdkError> {
        self.get_json(&format!("/auction/{}", id.0), None)
    }

    /// `GET /auction/{id}/bids`: the bids and bidders the reader may see.
    pub fn auction_bids(
        &self,
        id: tally_types::AuctionId,
        key: Option<&PrivateKey>,
    ) -> Result<AuctionBids, SdkError> {
        self.get_json(&format!("/auction/{}/bids", id.0), key)
    }

    /// `GET /instrument/{id}/servicing`: paying account, payment dates, distributions.
    pub fn servicing(&self, id_isin_or_cusip: &str) -> Result<ServicingInfo, SdkError> {
        self.get_json(
            &format!(
                "/instrument/{}/servicing",
                segment(id_isin_or_cusip, "instrument id, ISIN or CUSIP")?
            ),
            None,
        )
    }

    /// `GET /repo/{id}`: a repo (to its parties, regulators and auditors).
    pub fn repo(
        &self,
        id: tally_types::RepoId,
        key: Option<&PrivateKey>,
    ) -> Result<RepoInfo, SdkError> {
        self.get_json(&format!("/repo/{}", id.0), key)
    }

    /// `GET /instrument/{id}/strips`: principal and interest components of a note.
    pub fn strips(&self, id_isin_or_cusip: &str) -> Result<StripsInfo, SdkError> {
        self.get_json(
            &format!(
                "/instrument/{}/strips",
                segment(id_isin_or_cusip, "instrument id, ISIN or CUSIP")?
            ),
            None,
        )
    }

    // -----------------------------------------------------------------------------------
    // Proofs

    /// `GET /proof/holding/{account}/{instrument}`: Merkle proof of a holding.
    pub fn proof_holding(
        &self,
        account: AccountId,
        instrument: InstrumentId,
        key: Option<&PrivateKey>,
    ) -> Result<StateProof, SdkError> {
        self.get_json(
            &format!("/proof/holding/{}/{}", account.0, instrument.0),
            key,
        )
    }

    /// `GET /proof/receipt/{id}`: Merkle proof of a transaction's receipt.
    pub fn proof_receipt(
        &self,
        id: &Hash32,
        key: Option<&PrivateKey>,
    ) -> Result<StateProof, SdkError> {
        self.get_json(&format!("/proof/receipt/{}", id.to_hex()), key)
    }

    /// `GET /proof/hold/{id}`: Merkle proof of a hold's record (terms, status,
    /// counterpart).
    pub fn proof_hold(
        &self,
        id: tally_types::HoldId,
        key: Option<&PrivateKey>,
    ) -> Result<StateProof, SdkError> {
        self.get_json(&format!("/proof/hold/{}", id.0), key)
    }

    /// Fetches block `height` with its certificate and verifies it against `group_key`
    /// (hex), locally.
    pub fn verified_block(
        &self,
        height: u64,
        group_key: &str,
    ) -> Result<tally_node::block::LedgerBlock, SdkError> {
        let certified = self.certified_block(height)?;
        Ok(verify::verify_block(group_key, &certified)?)
    }

    /// A holding checked without trusting the node: the Merkle proof of the holding, the
    /// block at the proof's height with its finality certificate, the certificate against
    /// `group_key` (hex, pinned out of band), the proof against the block's state root.
    /// Returns the height and the holding (zero if the proof shows it absent).
    pub fn verified_holding(
        &self,
        account: AccountId,
        instrument: InstrumentId,
        key: Option<&PrivateKey>,
        group_key: &str,
    ) -> Result<(u64, tally_ledger::schema::Holding), SdkError> {
        self.verified_holding_detail(account, instrument, key, group_key)
            .map(|v| (v.height, v.holding))
    }

    /// As [Client::verified_holding], with the certified state root and whether the
    /// holding was proven present or absent.
    pub fn verified_holding_detail(
        &self,
        account: AccountId,
        instrument: InstrumentId,
        key: Option<&PrivateKey>,
        group_key: &str,
    ) -> Result<VerifiedHolding, SdkError> {
        let proof = self.proof_holding(account, instrument, key)?;
        let block = self.verified_block(proof.height, group_key)?;
        let state_key = tally_ledger::schema::keys::holding(account, instrument);
        let value = verify::verify_state_proof_for(&proof, &state_key, &block.state_root)?;
        let holding = verify::decode_holding(value.as_deref())?;
        Ok(VerifiedHolding {
            height: block.height.get(),
            state_root: Hash32(block.state_root.0),
            present: value.is_some(),
            holding,
        })
    }

    // -----------------------------------------------------------------------------------
    // Events

    /// `GET /events/blocks`: every block as it is finalized.
    pub fn block_events(&self) -> Result<EventStream<BlockEvent>, SdkError> {
        self.stream("/events/blocks", None)
    }

    /// `GET /events/account/{id}`: what each finalized transaction does to the account.
    pub fn account_events(
        &self,
        id: AccountId,
        key: Option<&PrivateKey>,
    ) -> Result<EventStream<AccountEvent>, SdkError> {
        self.stream(&format!("/events/account/{}", id.0), key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_cannot_change_the_route() {
        assert!(segment("US91282CJL63", "isin").is_ok());
        for bad in ["", "../status", "a/b", "a?b=1", "a b", "é"] {
            assert!(segment(bad, "x").is_err(), "{bad}");
        }
    }

    #[test]
    fn queries_skip_absent_parameters() {
        assert_eq!(query(&[("a", None), ("b", None)]), "");
        assert_eq!(
            query(&[
                ("before", Some("5".into())),
                ("limit", None),
                ("x", Some("1".into()))
            ]),
            "?before=5&x=1"
        );
    }

    #[test]
    fn batches_encode_as_the_node_decodes_them() {
        let list: Vec<Vec<u8>> = vec![vec![1, 2, 3], vec![], vec![9; 300]];
        let decoded = tally_node::mempool::decode_batch(&list.encode(), 10).unwrap();
        assert_eq!(decoded, list);
    }

    #[test]
    fn events_and_lagged_notices_parse() {
        let raw = RawEvent {
            event: "message".into(),
            id: Some("12".into()),
            data: r#"{"height":12,"event":{"type":"moved"}}"#.into(),
        };
        let e: Event<AccountEvent> = parse_event(&raw).unwrap();
        assert!(matches!(e, Event::Data { id: Some(12), ref data } if data.height == 12));
        let lagged = RawEvent {
            event: "lagged".into(),
            id: None,
            data: r#"{"missed":3}"#.into(),
        };
        assert!(matches!(
            parse_event::<AccountEvent>(&lagged).unwrap(),
            Event::Lagged { missed: 3 }
        ));
    }
}
