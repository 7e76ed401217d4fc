//! A minimal HTTP API per node: submit a signed transaction, read a transaction's status,
//! and the node's status. The interfaces work grows this into the full API; these routes
//! and fields stay stable.

use crate::app::{AppState, MempoolHandle};
use crate::genesis::to_hex;
use crate::mempool::AdmitError;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use tally_types::limits::MAX_TX_BYTES;
use tally_types::{Hash32, Timestamp};

/// What the API handlers share.
#[derive(Clone)]
pub struct Api {
    /// Chain id.
    pub chain_id: String,
    /// Application state.
    pub state: AppState,
    /// Mempool.
    pub mempool: MempoolHandle,
    /// Validator names, in genesis order.
    pub validators: Vec<String>,
    /// Threads for batch verification on admission.
    pub verify_threads: usize,
    /// Admitted transactions to forward to the other validators.
    pub gossip: futures::channel::mpsc::Sender<Vec<Vec<u8>>>,
}

/// Most transactions in one `POST /txs`.
pub const MAX_SUBMIT_BATCH: usize = 4_096;
/// Largest `POST /txs` body.
pub const MAX_SUBMIT_BYTES: usize = 8 * 1024 * 1024;

/// The router.
pub fn router(api: Api) -> Router {
    Router::new()
        .route("/tx", post(submit))
        .route("/txs", post(submit_batch))
        .route("/tx/{id}", get(tx_status))
        .route("/status", get(status))
        .route("/block/{height}", get(block))
        .layer(DefaultBodyLimit::max(MAX_SUBMIT_BYTES))
        .with_state(api)
}

fn error(status: StatusCode, code: &str, message: impl ToString) -> Response {
    (
        status,
        Json(json!({ "code": code, "message": message.to_string() })),
    )
        .into_response()
}

fn now() -> Timestamp {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    Timestamp(ms)
}

fn admit_error_status(e: &AdmitError) -> StatusCode {
    match e {
        AdmitError::Full | AdmitError::SenderFull => StatusCode::SERVICE_UNAVAILABLE,
        AdmitError::Duplicate | AdmitError::NonceTaken => StatusCode::CONFLICT,
        AdmitError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// Admits `raw` through the mempool and forwards what was admitted to the other validators
/// (if the gossip queue is full, an admitted transaction still waits here for this
/// validator's turn to propose). `None` if the OS gave no randomness for batch
/// verification.
fn admit(api: &Api, raw: Vec<Vec<u8>>) -> Option<Vec<Result<Hash32, AdmitError>>> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).ok()?;
    let mut rng = <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::from_seed(seed);
    let results = api.mempool.admit(now(), &raw, api.verify_threads, &mut rng);
    let admitted: Vec<Vec<u8>> = raw
        .into_iter()
        .zip(&results)
        .filter(|(_, r)| r.is_ok())
        .map(|(tx, _)| tx)
        .collect();
    if !admitted.is_empty() {
        let _ = api.gossip.clone().try_send(admitted);
    }
    Some(results)
}

/// Runs [admit] off the async workers (verification is CPU-bound).
async fn admit_blocking(
    api: Api,
    raw: Vec<Vec<u8>>,
) -> Result<Vec<Result<Hash32, AdmitError>>, Response> {
    match tokio::task::spawn_blocking(move || admit(&api, raw)).await {
        Ok(Some(results)) => Ok(results),
        Ok(None) => Err(error(
            StatusCode::SERVICE_UNAVAILABLE,
            "NoEntropy",
            "no OS randomness",
        )),
        Err(_) => Err(error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal",
            "admission failed",
        )),
    }
}

async fn submit(State(api): State<Api>, body: axum::body::Bytes) -> Response {
    if body.len() > MAX_TX_BYTES {
        let e = AdmitError::TooLarge;
        return error(admit_error_status(&e), e.name(), e);
    }
    let results = match admit_blocking(api, vec![body.to_vec()]).await {
        Ok(results) => results,
        Err(response) => return response,
    };
    match results.into_iter().next() {
        Some(Ok(id)) => {
            (StatusCode::ACCEPTED, Json(json!({ "tx_id": id.to_hex() }))).into_response()
        }
        Some(Err(e)) => error(admit_error_status(&e), e.name(), e),
        None => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal",
            "no admission result",
        ),
    }
}

/// `POST /txs`: many signed transactions in one request, for bulk loads and load
/// generation. The body is the canonical encoding of a list of encoded transactions (a
/// varint count, then each as a varint length and its bytes), at most [MAX_SUBMIT_BATCH]
/// of them. The answer lists one result per transaction, in order: `{"tx_id"}` or
/// `{"code","message"}` as `POST /tx` would give.
async fn submit_batch(State(api): State<Api>, body: axum::body::Bytes) -> Response {
    let raw = match crate::mempool::decode_batch(body.as_ref(), MAX_SUBMIT_BATCH) {
        Ok(raw) => raw,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "Malformed",
                format!("expected a list of at most {MAX_SUBMIT_BATCH} encoded transactions: {e}"),
            );
        }
    };
    let results = match admit_blocking(api, raw).await {
        Ok(results) => results,
        Err(response) => return response,
    };
    let out: Vec<serde_json::Value> = results
        .into_iter()
        .map(|r| match r {
            Ok(id) => json!({ "tx_id": id.to_hex() }),
            Err(e) => json!({ "code": e.name(), "message": e.to_string() }),
        })
        .collect();
    Json(json!({ "results": out })).into_response()
}

async fn tx_status(State(api): State<Api>, Path(id): Path<String>) -> Response {
    let Some(id) = Hash32::from_hex(&id) else {
        return error(
            StatusCode::BAD_REQUEST,
            "BadTxId",
            "expected 64 hex characters",
        );
    };
    if let Some((height, r)) = api.state.find_receipt(&id) {
        return Json(json!({
            "tx_id": id.to_hex(),
            "status": "final",
            "height": height,
            "code": r.code.code(),
            "code_name": r.code.name(),
            "failed_op": r.failed_op,
        }))
        .into_response();
    }
    let pending = api.mempool.0.lock().is_ok_and(|p| p.contains(&id));
    let status = if pending { "pending" } else { "unknown" };
    Json(json!({ "tx_id": id.to_hex(), "status": status })).into_response()
}

/// Query of `GET /block/{height}`.
#[derive(serde::Deserialize)]
struct BlockQuery {
    /// Include every transaction's id and result code.
    #[serde(default)]
    txs: bool,
}

async fn block(
    State(api): State<Api>,
    Path(height): Path<String>,
    Query(query): Query<BlockQuery>,
) -> Response {
    let Ok(height) = height.parse::<u64>() else {
        return error(
            StatusCode::BAD_REQUEST,
            "BadHeight",
            "expected a block height",
        );
    };
    match api.state.finalized_block(height) {
        Some((digest, state_root, time, tx_count)) => {
            let mut body = json!({
                "height": height,
                "digest": digest.to_hex(),
                "state_root": state_root.to_hex(),
                "time_ms": time.0,
                "tx_count": tx_count,
            });
            if query.txs {
                let txs: Vec<serde_json::Value> = api
                    .state
                    .finalized_block_receipts(height)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(id, code)| json!({ "tx_id": id.to_hex(), "code_name": code.name() }))
                    .collect();
                body["txs"] = serde_json::Value::Array(txs);
            }
            Json(body).into_response()
        }
        None => error(
            StatusCode::NOT_FOUND,
            "BlockNotFound",
            format!("block {height} is not finalized or no longer in memory"),
        ),
    }
}

async fn status(State(api): State<Api>) -> Response {
    let last = api.state.last_finalized();
    let mempool = api.mempool.0.lock().map_or(0, |p| p.len());
    Json(json!({
        "chain_id": api.chain_id,
        "finalized_height": last.as_ref().map_or(0, |b| b.height),
        "state_root": last.as_ref().map_or_else(|| to_hex(&[0u8; 32]), |b| b.state_root.to_hex()),
        "finalized_time_ms": last.as_ref().map_or(0, |b| b.time.0),
        "mempool_size": mempool,
        "validators": api.validators,
    }))
    .into_response()
}
