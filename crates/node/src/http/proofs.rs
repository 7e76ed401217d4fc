//! Merkle proofs of state entries (a holding, a receipt) against the state root of the
//! newest finalized block, from the authenticated store (QMDB).
//!
//! QMDB proves against its current root only, which is the state root of the newest
//! finalized block the store has applied; the answer names that block's height, whose
//! certificate (`GET /block/{height}/certified`) the client checks to trust the root.

use super::error::{ApiCode, ApiError};
use super::types::StateProof;
use super::{Api, Reader, allow, parse_account, parse_hash, parse_instrument_id};
use crate::genesis::to_hex;
use axum::Json;
use axum::extract::{Path, State};
use commonware_codec::Encode as _;
use tally_ledger::schema::keys;

/// Proves the current value (or absence) of `key`.
pub(super) async fn prove(api: &Api, key: Vec<u8>) -> Result<StateProof, ApiError> {
    let db = api
        .db
        .get()
        .ok_or_else(|| ApiError::api(ApiCode::Unavailable, "the state store is still opening"))?;
    let guard = db.read().await;
    let root = guard.root();
    let metadata = guard
        .get_metadata()
        .await
        .map_err(|e| ApiError::api(ApiCode::Internal, format!("reading state metadata: {e}")))?;
    let height = crate::app::metadata_height(metadata.as_deref())
        .ok_or_else(|| ApiError::api(ApiCode::Unavailable, "no finalized state yet"))?;
    let value = guard
        .get(&key)
        .await
        .map_err(|e| ApiError::api(ApiCode::Internal, format!("reading state: {e}")))?;
    let (kind, proof) = match &value {
        Some(_) => (
            "inclusion",
            guard
                .key_value_proof(key.clone())
                .await
                .map_err(|e| ApiError::api(ApiCode::Internal, format!("proving: {e}")))?
                .encode(),
        ),
        None => (
            "exclusion",
            guard
                .exclusion_proof(&key)
                .await
                .map_err(|e| ApiError::api(ApiCode::Internal, format!("proving absence: {e}")))?
                .encode(),
        ),
    };
    drop(guard);
    Ok(StateProof {
        height,
        state_root: to_hex(&root.0),
        key: to_hex(&key),
        value: value.map(|v| to_hex(&v)),
        kind: kind.to_string(),
        proof: to_hex(&proof),
    })
}

/// A Merkle proof of one holding (balance, held, frozen) against a certified state root
/// (to the account's owner, the regulator and auditors). An absent holding (zero) gets an
/// exclusion proof.
#[utoipa::path(get, path = "/proof/holding/{account}/{instrument}", tag = "proofs",
    params(("account" = u64, Path), ("instrument" = u64, Path)), security(("read_token" = [])),
    responses((status = 200, body = StateProof), (status = 401, body = super::error::ErrorBody),
        (status = 403, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody)))]
pub(super) async fn holding(
    State(api): State<Api>,
    reader: Reader,
    Path((account, instrument)): Path<(String, String)>,
) -> Result<Json<StateProof>, ApiError> {
    let account = parse_account(&account)?;
    let instrument = parse_instrument_id(&instrument)?;
    super::readable_account(&api, &reader, account)?;
    prove(&api, keys::holding(account, instrument))
        .await
        .map(Json)
}

/// A Merkle proof of a transaction's receipt (height, position, result code) against a
/// certified state root (to the transaction's sender, the regulator and auditors).
#[utoipa::path(get, path = "/proof/receipt/{id}", tag = "proofs",
    params(("id" = String, Path, description = "transaction id (hex)")), security(("read_token" = [])),
    responses((status = 200, body = StateProof), (status = 401, body = super::error::ErrorBody),
        (status = 403, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody)))]
pub(super) async fn receipt(
    State(api): State<Api>,
    reader: Reader,
    Path(id): Path<String>,
) -> Result<Json<StateProof>, ApiError> {
    let id = parse_hash(&id, "transaction id")?;
    let receipt = api
        .state
        .read(|r| r.receipt(&id))
        .ok_or_else(|| ApiError::not_found("no receipt for this transaction (not final)"))?;
    // The sender's participant reads its receipts; the body decides who else is a party,
    // so without the block at hand only the sender, the regulator and auditors may.
    let mut owners = Vec::new();
    if let Some(block) = super::stored_block(&api, receipt.height).await {
        let index = usize::try_from(receipt.index).unwrap_or(usize::MAX);
        if let Some(signed) = block
            .txs
            .get(index)
            .and_then(|raw| tally_types::SignedTx::decode_bounded(raw).ok())
        {
            api.state.read(|r| {
                owners.extend(r.key_owner(&signed.tx.sender));
                for op in signed.tx.operations.iter() {
                    for acct in super::json::operation_accounts(op) {
                        owners.extend(r.account(acct).map(|a| a.owner));
                    }
                }
            });
        }
    }
    allow(&reader.0, &owners)?;
    prove(&api, keys::receipt(&id)).await.map(Json)
}

/// A Merkle proof of a hold's record (terms, status and, for a cross-ledger hold, its
/// counterpart) against a certified state root: what the other ledger of a cross-ledger
/// swap locks, releases or refunds against (to the hold's parties, the regulator and
/// auditors).
#[utoipa::path(get, path = "/proof/hold/{id}", tag = "proofs",
    params(("id" = u64, Path)), security(("read_token" = [])),
    responses((status = 200, body = StateProof), (status = 401, body = super::error::ErrorBody),
        (status = 403, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody)))]
pub(super) async fn hold(
    State(api): State<Api>,
    reader: Reader,
    Path(id): Path<String>,
) -> Result<Json<StateProof>, ApiError> {
    let id = super::parse_hold_id(&id)?;
    let owners = api
        .state
        .read(|r| {
            let rec = r.hold(id)?;
            Some(
                [rec.leg.from, rec.leg.to]
                    .into_iter()
                    .filter_map(|a| r.account(a).map(|a| a.owner))
                    .collect::<Vec<_>>(),
            )
        })
        .ok_or_else(|| ApiError::not_found(format!("no hold {}", id.0)))?;
    allow(&reader.0, &owners)?;
    prove(&api, keys::hold(id)).await.map(Json)
}
