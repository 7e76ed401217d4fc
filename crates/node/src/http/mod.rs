//! The HTTP API every node serves: submit signed transactions, follow them to finality,
//! read the ledger (with read authorization), fetch blocks with their finality
//! certificates and Merkle proofs of state, stream events, and describe itself
//! (`/openapi.json`, `/docs`). `docs/api.md` is the reference.

pub mod auth;
pub mod error;
mod explorer;
pub mod json;
pub mod lifecycle;
mod openapi;
mod proofs;
pub mod types;

use crate::app::{AppState, MempoolHandle, Scheme, StateDb};
use crate::engine::Variant;
use crate::genesis::to_hex;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use commonware_consensus::types::Height;
use commonware_glue::stateful::db::Shared;
use commonware_runtime::tokio::Context as TokioContext;
use error::{ApiCode, ApiError};
use std::sync::{Arc, OnceLock};
use tally_ledger::{StateReader, Store as _};
use tally_types::limits::MAX_TX_BYTES;
use tally_types::model::Role;
use tally_types::{AccountId, Hash32, HoldId, InstrumentId, Lei, PublicKey, Timestamp};
use types::*;

pub use explorer::{DEV_KEYS_ENV, dev_keys};
pub use openapi::{ApiDoc, docs_page, reference_markdown};

/// The state store as the API reads it (for proofs).
pub type Db = Shared<StateDb<TokioContext>>;

/// What the API handlers share.
#[derive(Clone)]
pub struct Api {
    /// Chain id.
    pub chain_id: String,
    /// Name of the validator serving this API.
    pub node: String,
    /// Chain facts clients pin (group key, validators).
    pub chain: Arc<ChainInfo>,
    /// Application state.
    pub state: AppState,
    /// Mempool.
    pub mempool: MempoolHandle,
    /// Threads for batch verification on admission.
    pub verify_threads: usize,
    /// Admitted transactions to forward to the other validators.
    pub gossip: futures::channel::mpsc::Sender<Vec<Vec<u8>>>,
    /// Marshal: finalized blocks and certificates (none in tests without consensus).
    pub marshal: Option<commonware_consensus::marshal::core::Mailbox<Scheme, Variant>>,
    /// The state store, once glue has opened it.
    pub db: Arc<OnceLock<Db>>,
    /// Read tokens already used.
    pub replay: Arc<auth::ReplayGuard>,
    /// Prometheus text of the node's metrics.
    pub metrics: Arc<dyn Fn() -> String + Send + Sync>,
    /// Names of the validators this node is connected to.
    pub peers: Arc<dyn Fn() -> Vec<String> + Send + Sync>,
    /// Admission requests verifying at once ([MAX_ADMISSIONS]); more are refused as
    /// `Overloaded` before any work.
    pub admitting: Arc<tokio::sync::Semaphore>,
    /// Event streams that may be open at once ([MAX_STREAMS]).
    pub streams: Arc<tokio::sync::Semaphore>,
    /// The demo world's development keys, served to the explorer's dev menu on a
    /// development network only ([dev_keys]); `None` everywhere else.
    pub dev_keys: Option<Arc<Vec<DevKey>>>,
}

/// Most submission requests one node admits (decodes and verifies) at once; more are
/// refused with `429 Overloaded` and `Retry-After` before their body is decoded. Each
/// carries up to [MAX_SUBMIT_BATCH] transactions, and verification spreads each over all
/// cores, so a few keep the machine busy.
pub const MAX_ADMISSIONS: usize = 4;

/// Most event streams one node serves at once; more get `503 Unavailable`.
pub const MAX_STREAMS: usize = 256;

/// Most transactions in one `POST /txs`.
pub const MAX_SUBMIT_BATCH: usize = 4_096;
/// Largest `POST /txs` body.
pub const MAX_SUBMIT_BYTES: usize = 8 * 1024 * 1024;
/// Most accounts or holdings one account or participant query lists.
pub const MAX_LISTED: usize = 1_000;
/// Most blocks one `GET /blocks` returns.
pub const MAX_BLOCKS_PAGE: u64 = 100;

/// Every route with its OpenAPI description: the served router and `/openapi.json` come
/// from this one list, so they cannot disagree.
fn routes() -> utoipa_axum::router::OpenApiRouter<Api> {
    use utoipa::OpenApi as _;
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(livez))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
        .routes(routes!(openapi_json))
        .routes(routes!(docs))
        .routes(routes!(status))
        .routes(routes!(chain))
        .routes(routes!(submit))
        .routes(routes!(submit_batch))
        .routes(routes!(tx_status))
        .routes(routes!(blocks))
        .routes(routes!(block))
        .routes(routes!(certified_block))
        .routes(routes!(certified_header))
        .routes(routes!(participants))
        .routes(routes!(remote_ledgers))
        .routes(routes!(remote_ledger))
        .routes(routes!(participant))
        .routes(routes!(participant_accounts))
        .routes(routes!(key_info))
        .routes(routes!(instruments))
        .routes(routes!(instrument))
        .routes(routes!(account))
        .routes(routes!(holding))
        .routes(routes!(instruction))
        .routes(routes!(hold))
        .routes(routes!(lifecycle::auctions))
        .routes(routes!(lifecycle::auction))
        .routes(routes!(lifecycle::auction_bids))
        .routes(routes!(lifecycle::servicing))
        .routes(routes!(lifecycle::strips))
        .routes(routes!(lifecycle::repo))
        .routes(routes!(proofs::holding))
        .routes(routes!(proofs::receipt))
        .routes(routes!(proofs::hold))
        .routes(routes!(block_events))
        .routes(routes!(account_events))
        .routes(routes!(recent_account_events))
        .routes(routes!(explorer::root))
        .routes(routes!(explorer::bare))
        .routes(routes!(explorer::index))
        .routes(routes!(explorer::file))
        .routes(routes!(explorer::keys))
}

/// The OpenAPI document of the served routes.
pub fn openapi() -> &'static utoipa::openapi::OpenApi {
    static DOC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOC.get_or_init(|| routes().split_for_parts().1)
}

/// The router.
pub fn router(api: Api) -> Router {
    let (router, _) = routes().split_for_parts();
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_SUBMIT_BYTES))
        .with_state(api)
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::api(
        ApiCode::MethodNotAllowed,
        format!("{method} is not served on {}", uri.path()),
    )
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::not_found(format!("no route {}", uri.path()))
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// What `GET /chain` reports, from the genesis file.
pub fn chain_info(genesis: &crate::genesis::GenesisFile) -> ChainInfo {
    ChainInfo {
        chain_id: genesis.chain_id.clone(),
        genesis_time_ms: genesis.genesis_time_ms,
        group_public_key: genesis.threshold.group_public_key.clone(),
        consensus_namespace: to_hex(crate::engine::CONSENSUS_NAMESPACE),
        validators: genesis
            .validators
            .iter()
            .map(|v| ValidatorInfo {
                name: v.name.clone(),
                public_key: v.public_key.clone(),
                p2p_address: v.p2p_address.to_string(),
                api_address: v.api_address.to_string(),
            })
            .collect(),
    }
}

/// Names of the validators the p2p tracker reports connected, read from the metrics text
/// (`network_tracker_directory_connected{peer="<key hex>"}`); `names` maps key hex to name.
pub fn connected_peers(metrics: &str, names: &[(String, String)]) -> Vec<String> {
    const PREFIX: &str = "network_tracker_directory_connected{peer=\"";
    let mut out: Vec<String> = metrics
        .lines()
        .filter_map(|l| l.strip_prefix(PREFIX))
        .filter_map(|rest| rest.split('"').next())
        .filter_map(|key| names.iter().find(|(k, _)| k == key).map(|(_, n)| n.clone()))
        .collect();
    out.sort();
    out.dedup();
    out
}

// ---------------------------------------------------------------------------------------
// Read authorization

/// Who is reading.
#[derive(Clone, Debug)]
pub struct Principal {
    /// The participant.
    pub lei: Lei,
    /// Regulators and auditors read everything.
    pub reads_all: bool,
}

/// The reader of a request: `None` without a token; an error for a bad token.
fn principal(
    api: &Api,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<Option<Principal>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::from(auth::AuthError::Malformed))?;
    let token = auth::ReadToken::parse(value)?;
    let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let now = now_ms();
    token.check(&api.chain_id, method.as_str(), path, now)?;
    let (owner, record) = api
        .state
        .read(|r| {
            let owner = r.key_owner(&token.key)?;
            let record = r.participant(&owner)?;
            Some((owner, record))
        })
        .ok_or_else(|| {
            ApiError::api(
                ApiCode::Unauthenticated,
                "the token's key is not registered to any participant",
            )
        })?;
    if record.suspended {
        return Err(ApiError::api(
            ApiCode::Forbidden,
            "the participant is suspended",
        ));
    }
    api.replay.use_once(&token, now)?;
    let roles = record.profile.roles;
    Ok(Some(Principal {
        lei: owner,
        reads_all: roles.has(Role::Regulator) || roles.has(Role::Auditor),
    }))
}

/// Account `id`, if it exists and `reader` may read it.
fn readable_account(
    api: &Api,
    reader: &Reader,
    id: AccountId,
) -> Result<tally_ledger::schema::AccountRecord, ApiError> {
    let record = api
        .state
        .read(|r| r.account(id))
        .ok_or_else(|| ApiError::not_found(format!("no account {}", id.0)))?;
    allow(&reader.0, &[record.owner])?;
    Ok(record)
}

/// Allows `who` to read data owned by any of `owners`.
fn allow(who: &Option<Principal>, owners: &[Lei]) -> Result<(), ApiError> {
    match who {
        None => Err(ApiError::api(
            ApiCode::Unauthenticated,
            "this data is visible to its owner, the regulator and auditors: send a read token (Authorization: Tally …)",
        )),
        Some(p) if p.reads_all || owners.contains(&p.lei) => Ok(()),
        Some(p) => Err(ApiError::api(
            ApiCode::Forbidden,
            format!("participant {} may not read this", p.lei),
        )),
    }
}

/// Authorization of a request, as an extractor-like helper.
struct Reader(Option<Principal>);

impl<S> axum::extract::FromRequestParts<S> for Reader
where
    Api: axum::extract::FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        let api = Api::from_ref(state);
        principal(&api, &parts.method, &parts.uri, &parts.headers).map(Reader)
    }
}

use axum::extract::FromRef as _;

// ---------------------------------------------------------------------------------------
// Parameters

fn parse_account(s: &str) -> Result<AccountId, ApiError> {
    s.parse::<u64>()
        .map(AccountId)
        .map_err(|_| ApiError::param(format!("account id must be a decimal u64, got {s:?}")))
}

fn parse_instrument_id(s: &str) -> Result<InstrumentId, ApiError> {
    s.parse::<u64>()
        .map(InstrumentId)
        .map_err(|_| ApiError::param(format!("instrument id must be a decimal u64, got {s:?}")))
}

fn parse_hash(s: &str, what: &str) -> Result<Hash32, ApiError> {
    Hash32::from_hex(s).ok_or_else(|| ApiError::param(format!("{what} must be 64 hex characters")))
}

fn parse_lei(s: &str) -> Result<Lei, ApiError> {
    Lei::parse(s).map_err(|e| ApiError::param(format!("invalid LEI {s:?}: {e}")))
}

fn parse_height(s: &str) -> Result<u64, ApiError> {
    s.parse::<u64>()
        .map_err(|_| ApiError::param(format!("height must be a decimal u64, got {s:?}")))
}

fn page_limit(page: &Page) -> Result<usize, ApiError> {
    match page.limit {
        None => Ok(DEFAULT_PAGE),
        Some(l) if (1..=MAX_PAGE).contains(&l) => Ok(l),
        Some(l) => Err(ApiError::param(format!(
            "limit must be 1 to {MAX_PAGE}, got {l}"
        ))),
    }
}

fn query<T: serde::de::DeserializeOwned>(
    q: Result<Query<T>, axum::extract::rejection::QueryRejection>,
) -> Result<T, ApiError> {
    q.map(|Query(t)| t)
        .map_err(|e| ApiError::param(e.body_text()))
}

// ---------------------------------------------------------------------------------------
// Health, metrics, description

/// The process is up.
#[utoipa::path(get, path = "/livez", tag = "node", responses((status = 200, description = "alive", body = String)))]
async fn livez() -> &'static str {
    "ok"
}

/// The node has its state and a finalized block to serve from.
#[utoipa::path(get, path = "/readyz", tag = "node", responses(
    (status = 200, description = "ready", body = String),
    (status = 503, description = "still starting", body = error::ErrorBody)))]
async fn readyz(State(api): State<Api>) -> Result<&'static str, ApiError> {
    if api.state.last_finalized().is_some() && api.db.get().is_some() {
        Ok("ready")
    } else {
        Err(ApiError::api(
            ApiCode::Unavailable,
            "the node is still starting",
        ))
    }
}

/// Prometheus metrics of the node (consensus, storage, network, API).
#[utoipa::path(get, path = "/metrics", tag = "node", responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain")))]
async fn metrics(State(api): State<Api>) -> Response {
    let mut text = (api.metrics)();
    let mempool = api.mempool.lock().len();
    let height = api.state.last_finalized().map_or(0, |b| b.height);
    text.push_str(&format!(
        "# HELP tally_finalized_height Height of the newest finalized block applied.\n# TYPE tally_finalized_height gauge\ntally_finalized_height {height}\n\
         # HELP tally_mempool_size Transactions waiting in the mempool.\n# TYPE tally_mempool_size gauge\ntally_mempool_size {mempool}\n"
    ));
    let p = api.state.pipeline_metrics();
    for (name, help, value) in [
        (
            "tally_block_budget_txs",
            "Transactions this validator's next proposal may carry (time budget).",
            p.block_budget_txs as u64,
        ),
        (
            "tally_block_cost_per_tx_ns",
            "Learned processing cost per transaction, in nanoseconds.",
            p.cost_per_tx_ns,
        ),
        (
            "tally_drain_per_second",
            "Transactions finalized per second, recent average.",
            p.drain_per_s,
        ),
        (
            "tally_admission_limit",
            "Mempool size above which the API refuses new transactions as Overloaded.",
            p.admission_limit as u64,
        ),
        (
            "tally_candidate_blocks",
            "Executed blocks not yet finalized.",
            p.candidates as u64,
        ),
        (
            "tally_unfolded_layers",
            "Finalized layers not yet folded into the base state.",
            p.unfolded_layers as u64,
        ),
    ] {
        text.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}\n"
        ));
    }
    text.push_str("# HELP tally_blocks_refused_total Proposed blocks this validator refused, by reason.\n# TYPE tally_blocks_refused_total counter\n");
    for (reason, n) in p.refused {
        text.push_str(&format!(
            "tally_blocks_refused_total{{reason=\"{reason}\"}} {n}\n"
        ));
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// The OpenAPI document of this API.
#[utoipa::path(get, path = "/openapi.json", tag = "node", responses((status = 200, description = "OpenAPI 3.1 document", body = Object)))]
async fn openapi_json() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        openapi().to_pretty_json().unwrap_or_default(),
    )
        .into_response()
}

/// A browsable page of the API reference (no external resources).
#[utoipa::path(get, path = "/docs", tag = "node", responses((status = 200, description = "HTML", body = String, content_type = "text/html")))]
async fn docs() -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        docs_page(),
    )
        .into_response()
}

/// The node's finalized height, state root, validators and peers (connected as of at most a
/// second ago).
#[utoipa::path(get, path = "/status", tag = "chain", responses((status = 200, body = Status)))]
async fn status(State(api): State<Api>) -> Json<Status> {
    let last = api.state.last_finalized();
    let mempool = api.mempool.lock().len();
    Json(Status {
        chain_id: api.chain_id.clone(),
        finalized_height: last.as_ref().map_or(0, |b| b.height),
        state_root: last
            .as_ref()
            .map_or_else(|| to_hex(&[0u8; 32]), |b| b.state_root.to_hex()),
        finalized_time_ms: last.as_ref().map_or(0, |b| b.time.0),
        mempool_size: mempool,
        node: api.node.clone(),
        validators: api.chain.validators.clone(),
        peers: (api.peers)(),
    })
}

/// What a client pins to verify the chain: chain id, group key, validators.
#[utoipa::path(get, path = "/chain", tag = "chain", responses((status = 200, body = ChainInfo)))]
async fn chain(State(api): State<Api>) -> Json<ChainInfo> {
    Json((*api.chain).clone())
}

// ---------------------------------------------------------------------------------------
// Submission

use axum::extract::rejection::BytesRejection;

/// A request body, or the JSON refusal of one too large or unreadable.
fn read_body(
    body: Result<axum::body::Bytes, BytesRejection>,
) -> Result<axum::body::Bytes, ApiError> {
    body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::api(
                ApiCode::TooLarge,
                format!("request bodies are limited to {MAX_SUBMIT_BYTES} bytes"),
            )
        } else {
            ApiError::api(ApiCode::Malformed, e.body_text())
        }
    })
}

/// Admits `raw` through the mempool and forwards what was admitted to the other
/// validators. `None` if the OS gave no randomness for batch verification.
fn admit(api: &Api, raw: Vec<Vec<u8>>) -> Option<Vec<Result<Hash32, crate::mempool::AdmitError>>> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).ok()?;
    let mut rng = <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::from_seed(seed);
    // Expiries are checked against the ledger's clock (a development network may run
    // ahead of the wall clock: crate::clock).
    let now = Timestamp(crate::clock::ledger_ms(now_ms()));
    let results =
        api.mempool
            .admit_checked(now, &raw, api.verify_threads, &mut rng, Some(&api.state));
    let admitted: Vec<Vec<u8>> = raw
        .into_iter()
        .zip(&results)
        .filter(|(_, r)| r.is_ok())
        .map(|(tx, _)| tx)
        .collect();
    if !admitted.is_empty() {
        // A full gossip queue drops: the transaction still waits here for this
        // validator's turn to propose.
        let _ = api.gossip.clone().try_send(admitted);
    }
    Some(results)
}

/// Load shedding at the edge, before a request's body is decoded: refuses with
/// `429 Overloaded` (and `Retry-After`) when [MAX_ADMISSIONS] requests are already being
/// admitted, or when the mempool already holds as much as the network drains in
/// `budget::ADMITTED_BACKLOG`. Otherwise returns the admission slot to hold.
fn shed(api: &Api) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
    let overloaded = || ApiError::from(crate::mempool::AdmitError::Overloaded);
    let permit = Arc::clone(&api.admitting)
        .try_acquire_owned()
        .map_err(|_| overloaded())?;
    if api.mempool.lock().len() >= api.state.admission_limit() {
        return Err(overloaded());
    }
    Ok(permit)
}

/// Runs [admit] off the async workers (verification is CPU-bound), holding an
/// admission slot from [shed].
async fn admit_blocking(
    api: Api,
    raw: Vec<Vec<u8>>,
    permit: tokio::sync::OwnedSemaphorePermit,
) -> Result<Vec<Result<Hash32, crate::mempool::AdmitError>>, ApiError> {
    let admitted = tokio::task::spawn_blocking(move || admit(&api, raw)).await;
    drop(permit);
    match admitted {
        Ok(Some(results)) => Ok(results),
        Ok(None) => Err(ApiError::api(ApiCode::Unavailable, "no OS randomness")),
        Err(_) => Err(ApiError::api(ApiCode::Internal, "admission failed")),
    }
}

/// Submit one signed transaction: its canonical binary encoding
/// (`application/octet-stream`), or `{"tx": "<hex of it>"}` (`application/json`).
/// Answers at once with its id; follow it with `GET /tx/{id}` or `GET /events/blocks`.
#[utoipa::path(post, path = "/tx", tag = "transactions",
    request_body(content(
        (Vec<u8> = "application/octet-stream"),
        (SubmitJson = "application/json")),
        description = "a signed transaction"),
    responses(
        (status = 202, description = "admitted", body = Submitted),
        (status = 400, description = "malformed, bad signature, expired", body = error::ErrorBody),
        (status = 403, description = "unknown sender", body = error::ErrorBody),
        (status = 409, description = "duplicate, nonce taken or already used", body = error::ErrorBody),
        (status = 413, description = "too large", body = error::ErrorBody),
        (status = 429, description = "overloaded: retry after the Retry-After seconds", body = error::ErrorBody),
        (status = 503, description = "mempool full", body = error::ErrorBody)))]
async fn submit(
    State(api): State<Api>,
    headers: HeaderMap,
    body: Result<axum::body::Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Submitted>), ApiError> {
    let body = read_body(body)?;
    let permit = shed(&api)?;
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("application/json"));
    let raw = if is_json {
        if body.len() > 2 * MAX_TX_BYTES + 64 {
            return Err(crate::mempool::AdmitError::TooLarge.into());
        }
        let parsed: SubmitJson = serde_json::from_slice(&body).map_err(|e| {
            ApiError::api(
                ApiCode::Malformed,
                format!("expected {{\"tx\": \"<hex>\"}}: {e}"),
            )
        })?;
        crate::genesis::from_hex(&parsed.tx)
            .map_err(|e| ApiError::api(ApiCode::Malformed, format!("field tx: {e}")))?
    } else {
        body.to_vec()
    };
    if raw.len() > MAX_TX_BYTES {
        return Err(crate::mempool::AdmitError::TooLarge.into());
    }
    let results = admit_blocking(api, vec![raw], permit).await?;
    match results.into_iter().next() {
        Some(Ok(id)) => Ok((StatusCode::ACCEPTED, Json(Submitted { tx_id: id.to_hex() }))),
        Some(Err(e)) => Err(e.into()),
        None => Err(ApiError::api(ApiCode::Internal, "no admission result")),
    }
}

/// Submit many signed transactions: the body is the canonical encoding of a list of
/// encoded transactions (a varint count, then each as a varint length and its bytes), at
/// most 4,096 of them and 8 MiB. One result per transaction, in order.
#[utoipa::path(post, path = "/txs", tag = "transactions",
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses(
        (status = 200, body = BatchResults),
        (status = 400, description = "not a list of encoded transactions", body = error::ErrorBody),
        (status = 413, description = "too large", body = error::ErrorBody),
        (status = 429, description = "overloaded: nothing admitted, retry after the Retry-After seconds", body = error::ErrorBody)))]
async fn submit_batch(
    State(api): State<Api>,
    body: Result<axum::body::Bytes, BytesRejection>,
) -> Result<Json<BatchResults>, ApiError> {
    let body = read_body(body)?;
    let permit = shed(&api)?;
    let raw = crate::mempool::decode_batch(body.as_ref(), MAX_SUBMIT_BATCH).map_err(|e| {
        ApiError::api(
            ApiCode::Malformed,
            format!("expected a list of at most {MAX_SUBMIT_BATCH} encoded transactions: {e}"),
        )
    })?;
    let results = admit_blocking(api, raw, permit).await?;
    // Nothing admitted because the network is at capacity: say so for the whole request,
    // with Retry-After, as a single transaction's submission would.
    if !results.is_empty()
        && results
            .iter()
            .all(|r| matches!(r, Err(crate::mempool::AdmitError::Overloaded)))
    {
        return Err(crate::mempool::AdmitError::Overloaded.into());
    }
    let results = results
        .into_iter()
        .map(|r| match r {
            Ok(id) => BatchResult {
                tx_id: Some(id.to_hex()),
                code: None,
                name: None,
                message: None,
            },
            Err(e) => {
                let e = ApiError::from(e);
                BatchResult {
                    tx_id: None,
                    code: Some(e.body.code),
                    name: Some(e.body.name),
                    message: Some(e.body.message),
                }
            }
        })
        .collect();
    Ok(Json(BatchResults { results }))
}

// ---------------------------------------------------------------------------------------
// Transactions and blocks

/// A finalized block's encoding, from memory or marshal's archive.
async fn stored_block(api: &Api, height: u64) -> Option<crate::block::LedgerBlock> {
    let marshal = api.marshal.as_ref()?;
    marshal
        .get_block(Height::new(height))
        .await
        .map(|b| b.inner().clone())
}

/// A transaction's status and receipt; its body and events to its parties, the regulator
/// and auditors (others see status and result code only).
#[utoipa::path(get, path = "/tx/{id}", tag = "transactions",
    params(("id" = String, Path, description = "transaction id (hex)")),
    responses((status = 200, body = TxInfo), (status = 400, body = error::ErrorBody), (status = 401, body = error::ErrorBody)))]
async fn tx_status(
    State(api): State<Api>,
    reader: Reader,
    Path(id): Path<String>,
) -> Result<Json<TxInfo>, ApiError> {
    let id = parse_hash(&id, "transaction id")?;
    let receipt = api.state.read(|r| r.receipt(&id));
    let Some(receipt) = receipt else {
        let pending = api.mempool.lock().contains(&id);
        return Ok(Json(TxInfo {
            tx_id: id.to_hex(),
            status: if pending { "pending" } else { "unknown" }.to_string(),
            height: None,
            index: None,
            code: None,
            code_name: None,
            code_description: None,
            failed_op: None,
            transaction: None,
            events: None,
            batch: None,
        }));
    };
    let code = receipt.result_code();
    let mut info = TxInfo {
        tx_id: id.to_hex(),
        status: "final".to_string(),
        height: Some(receipt.height),
        index: Some(receipt.index),
        code: Some(code.code()),
        code_name: Some(code.name().to_string()),
        code_description: Some(code.description().to_string()),
        failed_op: receipt.failed_op,
        transaction: None,
        events: None,
        batch: None,
    };
    if let Some(who) = &reader.0 {
        // The body, if this reader is a party (or reads everything).
        if let Some(block) = stored_block(&api, receipt.height).await {
            let index = usize::try_from(receipt.index).unwrap_or(usize::MAX);
            if let Some(signed) = block
                .txs
                .get(index)
                .and_then(|raw| tally_types::SignedTx::decode_bounded(raw).ok())
            {
                let tx = &signed.tx;
                let mut owners: Vec<Lei> = Vec::new();
                api.state.read(|r| {
                    owners.extend(r.key_owner(&tx.sender));
                    for a in signed.approvals.iter() {
                        owners.extend(r.key_owner(&a.key));
                    }
                    for op in tx.operations.iter() {
                        for acct in json::operation_accounts(op) {
                            owners.extend(r.account(acct).map(|a| a.owner));
                        }
                    }
                });
                if allow(&Some(who.clone()), &owners).is_ok() {
                    info.transaction = Some(json::transaction(tx));
                    info.batch = api
                        .state
                        .read(|r| r.batch_result(&id))
                        .map(|b| json::batch_result(&b));
                    info.events = api.state.finalized_at(receipt.height).and_then(|b| {
                        b.outcome
                            .receipts
                            .get(index)
                            .filter(|r| r.tx_id == id)
                            .map(|r| r.events.iter().map(json::event).collect())
                    });
                }
            }
        }
    }
    Ok(Json(info))
}

fn block_info(b: &crate::app::FinalizedBlock, certificate: Option<String>, txs: bool) -> BlockInfo {
    let parent = b.parent;
    BlockInfo {
        height: b.height,
        digest: b.digest.to_hex(),
        parent: parent.to_hex(),
        state_root: b.state_root.to_hex(),
        time_ms: b.time.0,
        tx_count: b.outcome.receipts.len(),
        certificate,
        txs: txs.then(|| {
            b.outcome
                .receipts
                .iter()
                .map(|r| TxSummary {
                    tx_id: r.tx_id.to_hex(),
                    code: r.code.code(),
                    code_name: r.code.name().to_string(),
                    batch_applied: r.batch.as_ref().map(|b| b.applied()),
                })
                .collect()
        }),
    }
}

async fn certificate_hex(api: &Api, height: u64) -> Option<String> {
    use commonware_codec::Encode as _;
    let marshal = api.marshal.as_ref()?;
    marshal
        .get_finalization(Height::new(height))
        .await
        .map(|f| to_hex(&f.encode()))
}

/// The header of a finalized block from the archive (for blocks no longer in memory).
/// Decoding its transactions and hashing it run on the blocking pool.
async fn archived_block_info(api: &Api, height: u64, txs: bool) -> Option<BlockInfo> {
    use commonware_cryptography::Digestible as _;
    let block = stored_block(api, height).await?;
    let certificate = certificate_hex(api, height).await;
    let api = api.clone();
    off_executor(move || {
        let summaries = txs.then(|| {
            // Result codes are in the state's receipt table.
            let chain = tally_types::ChainId::new(&api.chain_id).expect("valid chain id");
            let ids: Vec<Hash32> = block
                .txs
                .iter()
                .filter_map(|raw| tally_types::SignedTx::decode_bounded(raw).ok())
                .map(|s| s.tx.id(&chain))
                .collect();
            api.state.read(|r| {
                ids.iter()
                    .map(|id| {
                        let code = r.receipt(id).map(|rec| rec.result_code());
                        TxSummary {
                            tx_id: id.to_hex(),
                            code: code.map_or(u16::MAX, |c| c.code()),
                            code_name: code
                                .map_or_else(|| "Unknown".to_string(), |c| c.name().to_string()),
                            batch_applied: r.batch_result(id).map(|b| b.applied()),
                        }
                    })
                    .collect()
            })
        });
        BlockInfo {
            height,
            digest: Hash32(block.digest().0).to_hex(),
            parent: Hash32(block.parent.0).to_hex(),
            state_root: Hash32(block.state_root.0).to_hex(),
            time_ms: block.time.0,
            tx_count: block.txs.len(),
            certificate,
            txs: summaries,
        }
    })
    .await
    .ok()
}

async fn block_at(api: &Api, height: u64, txs: bool) -> Option<BlockInfo> {
    if let Some(b) = api.state.finalized_at(height) {
        return Some(block_info(&b, certificate_hex(api, height).await, txs));
    }
    archived_block_info(api, height, txs).await
}

/// Query of `GET /block/{height}`.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct BlockQuery {
    /// Include every transaction's id and result code.
    #[serde(default)]
    txs: bool,
}

/// A finalized block: header, state root, finality certificate and (with `?txs=true`) its
/// transactions' ids and result codes.
#[utoipa::path(get, path = "/block/{height}", tag = "chain",
    params(("height" = u64, Path, description = "block height"), BlockQuery),
    responses((status = 200, body = BlockInfo), (status = 400, body = error::ErrorBody), (status = 404, body = error::ErrorBody)))]
async fn block(
    State(api): State<Api>,
    Path(height): Path<String>,
    q: Result<Query<BlockQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<BlockInfo>, ApiError> {
    let height = parse_height(&height)?;
    let q = query(q)?;
    block_at(&api, height, q.txs)
        .await
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("block {height} is not finalized")))
}

/// Query of `GET /blocks`.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct BlocksQuery {
    /// Newest height to list (default: the newest finalized).
    before: Option<u64>,
    /// How many (1–100, default 20).
    limit: Option<u64>,
}

/// Finalized blocks, newest first.
#[utoipa::path(get, path = "/blocks", tag = "chain", params(BlocksQuery),
    responses((status = 200, body = BlockList), (status = 400, body = error::ErrorBody)))]
async fn blocks(
    State(api): State<Api>,
    q: Result<Query<BlocksQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<BlockList>, ApiError> {
    let q = query(q)?;
    let limit = q.limit.unwrap_or(20);
    if !(1..=MAX_BLOCKS_PAGE).contains(&limit) {
        return Err(ApiError::param(format!(
            "limit must be 1 to {MAX_BLOCKS_PAGE}"
        )));
    }
    let newest = api.state.last_finalized().map_or(0, |b| b.height);
    let top = q.before.unwrap_or(newest).min(newest);
    let mut out = Vec::new();
    // At most `limit` heights are looked at, whether or not each is still stored.
    let lowest = top.saturating_sub(limit - 1).max(1);
    for h in (lowest..=top).rev() {
        if let Some(b) = block_at(&api, h, false).await {
            out.push(b);
        }
    }
    Ok(Json(BlockList { blocks: out }))
}

/// A finalized block and its own finality certificate (hex), or why not.
async fn block_and_certificate(
    api: &Api,
    height: u64,
) -> Result<(crate::block::LedgerBlock, String), ApiError> {
    let block = stored_block(api, height)
        .await
        .ok_or_else(|| ApiError::not_found(format!("block {height} is not finalized")))?;
    let certificate = certificate_hex(api, height).await.ok_or_else(|| {
        ApiError::not_found(format!(
            "no certificate stored for block {height} (finalized through a descendant)"
        ))
    })?;
    Ok((block, certificate))
}

/// Runs `job` (hashing or encoding a block of up to 8 MiB) on the blocking pool, off the
/// executor that serves every request.
async fn off_executor<T: Send + 'static>(
    job: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(job)
        .await
        .map_err(|_| ApiError::api(ApiCode::Unavailable, "the node is shutting down"))
}

/// A finalized block's full encoding and certificate, to check it without trusting the node.
#[utoipa::path(get, path = "/block/{height}/certified", tag = "chain",
    params(("height" = u64, Path, description = "block height")),
    responses((status = 200, body = CertifiedBlock), (status = 404, body = error::ErrorBody)))]
async fn certified_block(
    State(api): State<Api>,
    Path(height): Path<String>,
) -> Result<Json<CertifiedBlock>, ApiError> {
    use commonware_codec::Encode as _;
    let height = parse_height(&height)?;
    let (block, certificate) = block_and_certificate(&api, height).await?;
    let block = off_executor(move || to_hex(&block.encode())).await?;
    Ok(Json(CertifiedBlock {
        height,
        block,
        certificate,
    }))
}

/// A finalized block's header and certificate: enough to prove its state root final (and
/// any state proof against it) without the transactions, for other ledgers and light
/// clients.
#[utoipa::path(get, path = "/block/{height}/header", tag = "chain",
    params(("height" = u64, Path, description = "block height")),
    responses((status = 200, body = CertifiedHeader), (status = 404, body = error::ErrorBody)))]
async fn certified_header(
    State(api): State<Api>,
    Path(height): Path<String>,
) -> Result<Json<CertifiedHeader>, ApiError> {
    let height = parse_height(&height)?;
    let (block, certificate) = block_and_certificate(&api, height).await?;
    let header = off_executor(move || to_hex(&block.header())).await?;
    Ok(Json(CertifiedHeader {
        height,
        header,
        certificate,
    }))
}

// ---------------------------------------------------------------------------------------
// Reference data (open)

/// Participants, by LEI (public reference data).
#[utoipa::path(get, path = "/participants", tag = "reference", params(Page),
    responses((status = 200, body = ParticipantList), (status = 400, body = error::ErrorBody)))]
async fn participants(
    State(api): State<Api>,
    q: Result<Query<Page>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<ParticipantList>, ApiError> {
    let page = query(q)?;
    let limit = page_limit(&page)?;
    let start = match &page.after {
        Some(a) => {
            let mut k = tally_ledger::schema::keys::participant(&parse_lei(a)?);
            k.push(0);
            k
        }
        None => vec![tally_ledger::schema::tag::PARTICIPANT],
    };
    let end = vec![tally_ledger::schema::tag::PARTICIPANT + 1];
    let list = api.state.read(|r| {
        r.0.scan(&start, &end, limit)
            .into_iter()
            .filter_map(|(k, v)| {
                let lei = Lei::parse(std::str::from_utf8(&k[1..]).ok()?).ok()?;
                let rec: tally_ledger::schema::ParticipantRecord = tally_ledger::schema::decode(&v);
                Some(json::participant(&lei, &rec))
            })
            .collect()
    });
    Ok(Json(ParticipantList { participants: list }))
}

/// Most remote ledgers `GET /remote-ledgers` lists.
const MAX_REMOTE_LEDGERS_LISTED: usize = 1_000;

/// Ledgers whose finality this one verifies, by chain id (public reference data).
#[utoipa::path(get, path = "/remote-ledgers", tag = "reference",
    responses((status = 200, body = RemoteLedgerList)))]
async fn remote_ledgers(State(api): State<Api>) -> Json<RemoteLedgerList> {
    use tally_ledger::schema::tag::REMOTE_LEDGER;
    let list = api.state.read(|r| {
        r.0.scan(
            &[REMOTE_LEDGER],
            &[REMOTE_LEDGER + 1],
            MAX_REMOTE_LEDGERS_LISTED,
        )
        .into_iter()
        .filter_map(|(k, v)| {
            let chain = std::str::from_utf8(&k[1..]).ok()?;
            let rec: tally_ledger::schema::RemoteLedgerRecord = tally_ledger::schema::decode(&v);
            Some(json::remote_ledger(chain, &rec))
        })
        .collect()
    });
    Json(RemoteLedgerList {
        remote_ledgers: list,
    })
}

/// One remote ledger.
#[utoipa::path(get, path = "/remote-ledger/{chain_id}", tag = "reference",
    params(("chain_id" = String, Path)),
    responses((status = 200, body = RemoteLedgerInfo), (status = 400, body = error::ErrorBody), (status = 404, body = error::ErrorBody)))]
async fn remote_ledger(
    State(api): State<Api>,
    Path(chain): Path<String>,
) -> Result<Json<RemoteLedgerInfo>, ApiError> {
    let chain = tally_types::ChainId::new(&chain)
        .ok_or_else(|| ApiError::param("chain id must be 1 to 32 printable characters"))?;
    let rec = api
        .state
        .read(|r| r.remote_ledger(&chain))
        .ok_or_else(|| ApiError::not_found(format!("no remote ledger {}", chain.as_str())))?;
    Ok(Json(json::remote_ledger(chain.as_str(), &rec)))
}

/// One participant.
#[utoipa::path(get, path = "/participant/{lei}", tag = "reference",
    params(("lei" = String, Path)),
    responses((status = 200, body = ParticipantInfo), (status = 404, body = error::ErrorBody)))]
async fn participant(
    State(api): State<Api>,
    Path(lei): Path<String>,
) -> Result<Json<ParticipantInfo>, ApiError> {
    let lei = parse_lei(&lei)?;
    api.state
        .read(|r| r.participant(&lei))
        .map(|p| Json(json::participant(&lei, &p)))
        .ok_or_else(|| ApiError::not_found(format!("no participant {lei}")))
}

/// A key's owner and next nonces (to build the next transaction).
#[utoipa::path(get, path = "/key/{key}", tag = "reference",
    params(("key" = String, Path, description = "ed25519 public key (hex)")),
    responses((status = 200, body = KeyInfo), (status = 400, body = error::ErrorBody)))]
async fn key_info(
    State(api): State<Api>,
    Path(key): Path<String>,
) -> Result<Json<KeyInfo>, ApiError> {
    use commonware_codec::DecodeExt as _;
    let key = crate::genesis::from_hex(&key)
        .ok()
        .and_then(|b| PublicKey::decode(commonware_codec::Copying(b.as_slice())).ok())
        .ok_or_else(|| ApiError::param("key must be 64 hex characters of an ed25519 public key"))?;
    let (owner, next) = api.state.read(|r| (r.key_owner(&key), r.next_nonce(&key)));
    let pending = api.mempool.lock().next_free_nonce(&key, next);
    Ok(Json(KeyInfo {
        public_key: to_hex(key.as_ref()),
        owner: owner.map(|l| l.to_string()),
        next_nonce: next,
        next_pending_nonce: pending,
    }))
}

/// Instruments, by id (public reference data).
#[utoipa::path(get, path = "/instruments", tag = "reference", params(Page),
    responses((status = 200, body = InstrumentList), (status = 400, body = error::ErrorBody)))]
async fn instruments(
    State(api): State<Api>,
    q: Result<Query<Page>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<InstrumentList>, ApiError> {
    let page = query(q)?;
    let limit = page_limit(&page)?;
    let start = match &page.after {
        Some(a) => {
            let id = parse_instrument_id(a)?;
            match id.0.checked_add(1) {
                Some(next) => tally_ledger::schema::keys::instrument(InstrumentId(next)),
                None => {
                    return Ok(Json(InstrumentList {
                        instruments: Vec::new(),
                    }));
                }
            }
        }
        None => vec![tally_ledger::schema::tag::INSTRUMENT],
    };
    let end = vec![tally_ledger::schema::tag::INSTRUMENT + 1];
    let list = api.state.read(|r| {
        r.0.scan(&start, &end, limit)
            .into_iter()
            .filter_map(|(k, v)| {
                let id = InstrumentId(u64::from_be_bytes(k.get(1..9)?.try_into().ok()?));
                let rec: tally_ledger::schema::InstrumentRecord = tally_ledger::schema::decode(&v);
                Some(json::instrument(id, &rec))
            })
            .collect()
    });
    Ok(Json(InstrumentList { instruments: list }))
}

/// Resolves an instrument id, ISIN or CUSIP.
fn resolve_instrument(r: &StateReader<'_, crate::app::Snapshot>, s: &str) -> Option<InstrumentId> {
    if let Ok(id) = s.parse::<u64>() {
        return Some(InstrumentId(id));
    }
    if let Ok(isin) = tally_types::Isin::parse(s) {
        return r.instrument_by_isin(&isin);
    }
    if let Ok(cusip) = tally_types::Cusip::parse(s) {
        return r.instrument_by_cusip(&cusip);
    }
    None
}

/// One instrument, by id, ISIN or CUSIP.
#[utoipa::path(get, path = "/instrument/{id}", tag = "reference",
    params(("id" = String, Path, description = "instrument id, ISIN or CUSIP")),
    responses((status = 200, body = InstrumentInfo), (status = 404, body = error::ErrorBody)))]
async fn instrument(
    State(api): State<Api>,
    Path(id): Path<String>,
) -> Result<Json<InstrumentInfo>, ApiError> {
    api.state
        .read(|r| {
            let iid = resolve_instrument(r, &id)?;
            r.instrument(iid).map(|rec| json::instrument(iid, &rec))
        })
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no instrument {id:?} (an id, ISIN or CUSIP)")))
}

// ---------------------------------------------------------------------------------------
// Participant data (read authorization)

/// A participant's accounts (to the participant, the regulator and auditors).
#[utoipa::path(get, path = "/participant/{lei}/accounts", tag = "accounts",
    params(("lei" = String, Path)), security(("read_token" = [])),
    responses((status = 200, body = AccountList), (status = 401, body = error::ErrorBody), (status = 403, body = error::ErrorBody)))]
async fn participant_accounts(
    State(api): State<Api>,
    reader: Reader,
    Path(lei): Path<String>,
) -> Result<Json<AccountList>, ApiError> {
    let lei = parse_lei(&lei)?;
    allow(&reader.0, &[lei])?;
    let accounts = api.state.read(|r| r.accounts_of(&lei, MAX_LISTED));
    Ok(Json(AccountList {
        accounts: accounts.into_iter().map(|a| a.0).collect(),
    }))
}

/// An account with its holdings (to its owner, the regulator and auditors).
#[utoipa::path(get, path = "/account/{id}", tag = "accounts",
    params(("id" = u64, Path)), security(("read_token" = [])),
    responses((status = 200, body = AccountInfo), (status = 401, body = error::ErrorBody), (status = 403, body = error::ErrorBody), (status = 404, body = error::ErrorBody)))]
async fn account(
    State(api): State<Api>,
    reader: Reader,
    Path(id): Path<String>,
) -> Result<Json<AccountInfo>, ApiError> {
    let id = parse_account(&id)?;
    let record = readable_account(&api, &reader, id)?;
    let holdings = api.state.read(|r| {
        r.holdings(id, MAX_LISTED)
            .into_iter()
            .map(|(iid, h)| {
                let scale = r.instrument(iid).map_or(0, |i| i.scale);
                json::holding(id, iid, scale, &h)
            })
            .collect()
    });
    Ok(Json(json::account(id, &record, holdings)))
}

/// One holding (to the account's owner, the regulator and auditors).
#[utoipa::path(get, path = "/account/{id}/holding/{instrument}", tag = "accounts",
    params(("id" = u64, Path), ("instrument" = String, Path, description = "instrument id, ISIN or CUSIP")), security(("read_token" = [])),
    responses((status = 200, body = HoldingInfo), (status = 401, body = error::ErrorBody), (status = 403, body = error::ErrorBody), (status = 404, body = error::ErrorBody)))]
async fn holding(
    State(api): State<Api>,
    reader: Reader,
    Path((id, instrument)): Path<(String, String)>,
) -> Result<Json<HoldingInfo>, ApiError> {
    let id = parse_account(&id)?;
    readable_account(&api, &reader, id)?;
    api.state
        .read(|r| {
            let iid = resolve_instrument(r, &instrument)?;
            let scale = r.instrument(iid)?.scale;
            Some(json::holding(id, iid, scale, &r.holding(id, iid)))
        })
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no instrument {instrument:?}")))
}

/// A pending or matched instruction (to its parties, the regulator and auditors).
#[utoipa::path(get, path = "/instruction/{id}", tag = "accounts",
    params(("id" = String, Path, description = "instruction id (hex)")), security(("read_token" = [])),
    responses((status = 200, body = InstructionInfo), (status = 401, body = error::ErrorBody), (status = 403, body = error::ErrorBody), (status = 404, body = error::ErrorBody)))]
async fn instruction(
    State(api): State<Api>,
    reader: Reader,
    Path(id): Path<String>,
) -> Result<Json<InstructionInfo>, ApiError> {
    let id = parse_hash(&id, "instruction id")?;
    let (record, owners) = api
        .state
        .read(|r| {
            let rec = r.instruction(&id)?;
            let owners: Vec<Lei> = rec
                .legs
                .iter()
                .flat_map(|l| [l.from, l.to])
                .filter_map(|a| r.account(a).map(|a| a.owner))
                .collect();
            Some((rec, owners))
        })
        .ok_or_else(|| {
            ApiError::not_found("no such instruction (settled and expired ones are removed)")
        })?;
    allow(&reader.0, &owners)?;
    Ok(Json(json::instruction(&id, &record)))
}

/// A hold (to the payer, the beneficiary, the regulator and auditors).
/// A hold id from a path segment.
fn parse_hold_id(id: &str) -> Result<HoldId, ApiError> {
    id.parse::<u64>()
        .map(HoldId)
        .map_err(|_| ApiError::param("hold id must be a decimal u64"))
}

#[utoipa::path(get, path = "/hold/{id}", tag = "accounts",
    params(("id" = u64, Path)), security(("read_token" = [])),
    responses((status = 200, body = HoldInfo), (status = 401, body = error::ErrorBody), (status = 403, body = error::ErrorBody), (status = 404, body = error::ErrorBody)))]
async fn hold(
    State(api): State<Api>,
    reader: Reader,
    Path(id): Path<String>,
) -> Result<Json<HoldInfo>, ApiError> {
    let id = parse_hold_id(&id)?;
    let (record, owners) = api
        .state
        .read(|r| {
            let rec = r.hold(id)?;
            let owners: Vec<Lei> = [rec.leg.from, rec.leg.to]
                .into_iter()
                .filter_map(|a| r.account(a).map(|a| a.owner))
                .collect();
            Some((rec, owners))
        })
        .ok_or_else(|| ApiError::not_found(format!("no hold {}", id.0)))?;
    allow(&reader.0, &owners)?;
    Ok(Json(json::hold(id, &record)))
}

// ---------------------------------------------------------------------------------------
// Event streams

fn stream_permit(api: &Api) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
    api.streams.clone().try_acquire_owned().map_err(|_| {
        ApiError::api(
            ApiCode::Unavailable,
            format!("at most {MAX_STREAMS} event streams at once"),
        )
    })
}

fn sse_stream<T: serde::Serialize + Send + 'static>(
    permit: tokio::sync::OwnedSemaphorePermit,
    mut rx: tokio::sync::broadcast::Receiver<Arc<crate::app::FinalizedBlock>>,
    map: impl Fn(&crate::app::FinalizedBlock) -> Vec<T> + Send + 'static,
) -> Sse<impl futures::Stream<Item = Result<SseEvent, std::convert::Infallible>>> {
    let stream = async_stream(move |tx| async move {
        let _permit = permit; // released when the client goes away
        loop {
            match rx.recv().await {
                Ok(block) => {
                    for item in map(&block) {
                        let data = serde_json::to_string(&item).unwrap_or_default();
                        if tx
                            .send(
                                SseEvent::default()
                                    .event("message")
                                    .id(block.height.to_string())
                                    .data(data),
                            )
                            .await
                            .is_err()
                        {
                            return;
                        }
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    let data = format!("{{\"missed\":{n}}}");
                    if tx
                        .send(SseEvent::default().event("lagged").data(data))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// A stream fed by a task through a bounded channel (ends when the client goes away).
fn async_stream<F, Fut>(
    f: F,
) -> impl futures::Stream<Item = Result<SseEvent, std::convert::Infallible>>
where
    F: FnOnce(tokio::sync::mpsc::Sender<SseEvent>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    tokio::spawn(f(tx));
    futures::stream::unfold(
        rx,
        |mut rx| async move { rx.recv().await.map(|e| (Ok(e), rx)) },
    )
}

/// Server-sent events: every finalized block (header, transaction ids and codes), as it
/// is finalized. An event named `lagged` says how many blocks a slow reader missed.
#[utoipa::path(get, path = "/events/blocks", tag = "events",
    responses((status = 200, description = "text/event-stream of BlockEvent", body = BlockEvent, content_type = "text/event-stream")))]
async fn block_events(State(api): State<Api>) -> Result<Response, ApiError> {
    let permit = stream_permit(&api)?;
    let rx = api.state.subscribe();
    Ok(sse_stream(permit, rx, |b| {
        vec![BlockEvent {
            block: block_info(b, None, true),
        }]
    })
    .into_response())
}

/// Server-sent events: what each finalized transaction does to one account (to its owner,
/// the regulator and auditors).
#[utoipa::path(get, path = "/events/account/{id}", tag = "events",
    params(("id" = u64, Path)), security(("read_token" = [])),
    responses((status = 200, description = "text/event-stream of AccountEvent", body = AccountEvent, content_type = "text/event-stream"),
        (status = 401, body = error::ErrorBody), (status = 403, body = error::ErrorBody)))]
async fn account_events(
    State(api): State<Api>,
    reader: Reader,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_account(&id)?;
    readable_account(&api, &reader, id)?;
    let permit = stream_permit(&api)?;
    let rx = api.state.subscribe();
    Ok(sse_stream(permit, rx, move |b| events_of_account(b, id)).into_response())
}

/// What one finalized block did to account `id`, in order.
fn events_of_account(b: &crate::app::FinalizedBlock, id: AccountId) -> Vec<AccountEvent> {
    let mut out = Vec::new();
    for e in &b.outcome.block_events {
        if json::event_accounts(e).contains(&id) {
            out.push(AccountEvent {
                height: b.height,
                tx_id: None,
                event: json::event(e),
            });
        }
    }
    for r in &b.outcome.receipts {
        for e in &r.events {
            if json::event_accounts(e).contains(&id) {
                out.push(AccountEvent {
                    height: b.height,
                    tx_id: Some(r.tx_id.to_hex()),
                    event: json::event(e),
                });
            }
        }
    }
    out
}

/// Query of `GET /account/{id}/events`.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct RecentQuery {
    /// How many events (1–100, default 50).
    limit: Option<usize>,
}

/// An account's recent events, newest first: what the finalized blocks this node still
/// keeps in memory (the last 1,024, fewer if they hold over 2,000,000 receipts and events)
/// did to it (to its owner, the regulator and auditors).
#[utoipa::path(get, path = "/account/{id}/events", tag = "accounts",
    params(("id" = u64, Path), RecentQuery), security(("read_token" = [])),
    responses((status = 200, body = AccountEvents), (status = 400, body = error::ErrorBody),
        (status = 401, body = error::ErrorBody), (status = 403, body = error::ErrorBody), (status = 404, body = error::ErrorBody)))]
async fn recent_account_events(
    State(api): State<Api>,
    reader: Reader,
    Path(id): Path<String>,
    q: Result<Query<RecentQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<AccountEvents>, ApiError> {
    let id = parse_account(&id)?;
    let q = query(q)?;
    let limit = match q.limit {
        None => DEFAULT_PAGE,
        Some(l) if (1..=MAX_PAGE).contains(&l) => l,
        Some(l) => {
            return Err(ApiError::param(format!(
                "limit must be 1 to {MAX_PAGE}, got {l}"
            )));
        }
    };
    readable_account(&api, &reader, id)?;
    let blocks = api.state.finalized_blocks();
    let mut events = Vec::new();
    for b in blocks.iter().rev() {
        let mut of_block = events_of_account(b, id);
        of_block.reverse();
        events.extend(of_block);
        if events.len() >= limit {
            break;
        }
    }
    events.truncate(limit);
    Ok(Json(AccountEvents {
        oldest_height_kept: blocks.first().map_or(0, |b| b.height),
        events,
    }))
}
