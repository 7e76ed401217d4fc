//! A minimal HTTP API per node: submit a signed transaction, read a transaction's status,
//! and the node's status. The interfaces work grows this into the full API; these routes
//! and fields stay stable.

use crate::app::{AppState, MempoolHandle};
use crate::genesis::to_hex;
use axum::extract::{DefaultBodyLimit, Path, State};
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
    pub gossip: futures::channel::mpsc::Sender<Vec<u8>>,
}

/// The router.
pub fn router(api: Api) -> Router {
    Router::new()
        .route("/tx", post(submit))
        .route("/tx/{id}", get(tx_status))
        .route("/status", get(status))
        .route("/block/{height}", get(block))
        .layer(DefaultBodyLimit::max(MAX_TX_BYTES + 1024))
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

async fn submit(State(api): State<Api>, body: axum::body::Bytes) -> Response {
    let mut seed = [0u8; 32];
    if getrandom::fill(&mut seed).is_err() {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "NoEntropy",
            "no OS randomness",
        );
    }
    let mut rng = <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::from_seed(seed);
    let result = {
        let mut pool = match api.mempool.0.lock() {
            Ok(pool) => pool,
            Err(_) => {
                return error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal",
                    "mempool unavailable",
                );
            }
        };
        pool.admit(now(), &[body.to_vec()], api.verify_threads, &mut rng)
            .pop()
    };
    match result {
        Some(Ok(id)) => {
            // Forward to the other validators; if the queue is full the transaction still
            // waits here for this validator's turn to propose.
            let _ = api.gossip.clone().try_send(body.to_vec());
            (StatusCode::ACCEPTED, Json(json!({ "tx_id": id.to_hex() }))).into_response()
        }
        Some(Err(e)) => {
            let status = match e {
                crate::mempool::AdmitError::Full | crate::mempool::AdmitError::SenderFull => {
                    StatusCode::SERVICE_UNAVAILABLE
                }
                crate::mempool::AdmitError::Duplicate | crate::mempool::AdmitError::NonceTaken => {
                    StatusCode::CONFLICT
                }
                crate::mempool::AdmitError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
                _ => StatusCode::BAD_REQUEST,
            };
            error(status, e.name(), e)
        }
        None => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal",
            "no admission result",
        ),
    }
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

async fn block(State(api): State<Api>, Path(height): Path<String>) -> Response {
    let Ok(height) = height.parse::<u64>() else {
        return error(
            StatusCode::BAD_REQUEST,
            "BadHeight",
            "expected a block height",
        );
    };
    match api.state.finalized_block(height) {
        Some((digest, state_root, time, tx_count)) => Json(json!({
            "height": height,
            "digest": digest.to_hex(),
            "state_root": state_root.to_hex(),
            "time_ms": time.0,
            "tx_count": tx_count,
        }))
        .into_response(),
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
