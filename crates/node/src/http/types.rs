//! The JSON the API speaks. Amounts are strings of minor units (a `u128` does not fit a
//! JSON number safely); the instrument's `scale` says where the decimal point goes.
//! Identifiers are hex (keys, ids, digests), decimal (account, instrument and hold ids),
//! or their standard text (LEI, ISIN, CUSIP).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /tx` as JSON.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitJson {
    /// The signed transaction's canonical encoding, hex.
    pub tx: String,
}

/// `POST /tx` accepted the transaction.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Submitted {
    /// Transaction id (hex): follow it with `GET /tx/{id}`.
    pub tx_id: String,
}

/// One transaction's admission in `POST /txs`: either `tx_id`, or `code`, `name` and
/// `message` as `POST /tx` would refuse it.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct BatchResult {
    /// Transaction id, if admitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx_id: Option<String>,
    /// Refusal code, if refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
    /// Refusal name, if refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Refusal message, if refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// `POST /txs` results, one per transaction, in order.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct BatchResults {
    /// Results in submission order.
    pub results: Vec<BatchResult>,
}

/// A validator of the network.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ValidatorInfo {
    /// Display name.
    pub name: String,
    /// Ed25519 identity key (hex).
    pub public_key: String,
    /// Peer-to-peer address.
    pub p2p_address: String,
    /// HTTP API address.
    pub api_address: String,
}

/// `GET /status`: this node's view of the chain.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Status {
    /// Chain id.
    pub chain_id: String,
    /// Height of the newest finalized block this node has applied.
    pub finalized_height: u64,
    /// State root after it (hex).
    pub state_root: String,
    /// Its block time, ms since epoch.
    pub finalized_time_ms: u64,
    /// Transactions waiting in this node's mempool.
    pub mempool_size: usize,
    /// Which validator serves this API.
    pub node: String,
    /// The validator set.
    pub validators: Vec<ValidatorInfo>,
    /// Validators this node has an authenticated connection to (by name).
    pub peers: Vec<String>,
}

/// `GET /chain`: what a client pins to verify the chain without trusting a node.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ChainInfo {
    /// Chain id (signed into every transaction).
    pub chain_id: String,
    /// Genesis time, ms since epoch.
    pub genesis_time_ms: u64,
    /// BLS12-381 group public key (hex, G2): verifies every finality certificate.
    pub group_public_key: String,
    /// Namespace of consensus signatures (hex of its bytes).
    pub consensus_namespace: String,
    /// The validator set.
    pub validators: Vec<ValidatorInfo>,
}

/// A transaction's id and result in a block.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TxSummary {
    /// Transaction id (hex).
    pub tx_id: String,
    /// Result code (0: applied).
    pub code: u16,
    /// Result code name.
    pub code_name: String,
    /// For an applied transfer batch: how many of its transfers applied (which ones, and
    /// why the others did not, `GET /tx/{id}` tells its parties).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_applied: Option<u16>,
}

/// A finalized block's header, with its finality certificate.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct BlockInfo {
    /// Height.
    pub height: u64,
    /// Block digest (hex): SHA-256 of the block's header (its encoding with the
    /// transactions replaced by their SHA-256); the certificate signs it.
    pub digest: String,
    /// Parent digest (hex).
    pub parent: String,
    /// State root after the block (hex): proofs verify against it.
    pub state_root: String,
    /// Block time, ms since epoch.
    pub time_ms: u64,
    /// Transactions in the block.
    pub tx_count: usize,
    /// Finalization certificate (hex of its canonical encoding), when this node stores one
    /// for the height (blocks repaired from a later certificate have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<String>,
    /// Transaction ids and result codes (with `?txs=true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub txs: Option<Vec<TxSummary>>,
}

/// `GET /blocks`: newest first.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct BlockList {
    /// Blocks, newest first.
    pub blocks: Vec<BlockInfo>,
}

/// `GET /block/{height}/certified`: everything needed to check a block independently.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct CertifiedBlock {
    /// Height.
    pub height: u64,
    /// The block's canonical encoding (hex). The certificate signs SHA-256 of its header:
    /// this encoding with the transactions replaced by their SHA-256 (docs/node.md).
    pub block: String,
    /// The finalization certificate (hex).
    pub certificate: String,
}

/// A finalized block's header and certificate: a state root proven final in a few
/// hundred bytes, without the block's transactions.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct CertifiedHeader {
    /// Height.
    pub height: u64,
    /// The header (hex): the block's encoding with its transactions replaced by their
    /// SHA-256. The certificate signs SHA-256 of these bytes.
    pub header: String,
    /// The finalization certificate (hex).
    pub certificate: String,
}

/// A holding of one instrument in one account.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct HoldingInfo {
    /// Account id.
    pub account: u64,
    /// Instrument id.
    pub instrument: u64,
    /// Decimal places of the instrument.
    pub scale: u8,
    /// Units owned (minor units, including held and frozen).
    pub balance: String,
    /// Units locked by holds and pending instructions.
    pub held: String,
    /// Units frozen by the regulator.
    pub frozen: String,
    /// Units that may be debited.
    pub available: String,
}

/// An account and its holdings.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct AccountInfo {
    /// Account id.
    pub id: u64,
    /// Owner LEI.
    pub owner: String,
    /// own, omnibus or segregated.
    pub kind: String,
    /// Frozen accounts are neither debited nor credited.
    pub frozen: bool,
    /// Holdings, by instrument id.
    pub holdings: Vec<HoldingInfo>,
}

/// A participant's accounts.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct AccountList {
    /// Account ids, ascending.
    pub accounts: Vec<u64>,
}

/// A participant as registered.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ParticipantInfo {
    /// Identity, keys and thresholds.
    #[serde(flatten)]
    pub entry: crate::genesis::ParticipantEntry,
    /// Suspended participants can neither act nor move assets.
    pub suspended: bool,
}

/// A ledger whose finality this one verifies.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct RemoteLedgerInfo {
    /// Its chain id.
    pub chain_id: String,
    /// Display name.
    pub name: String,
    /// Certificate scheme (`ThresholdMinSigVrf`).
    pub scheme: String,
    /// The namespace its consensus signs in.
    pub namespace: String,
    /// Its BLS12-381 threshold group public key (G2, compressed, hex).
    pub group_public_key: String,
    /// Whether its proofs are refused for now.
    pub suspended: bool,
}

/// `GET /remote-ledgers`: by chain id.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct RemoteLedgerList {
    /// Registered remote ledgers, ascending by chain id (at most 1,000).
    pub remote_ledgers: Vec<RemoteLedgerInfo>,
}

/// `GET /participants`: by LEI.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ParticipantList {
    /// Participants, ascending by LEI.
    pub participants: Vec<ParticipantInfo>,
}

/// An instrument with its terms, policy and totals.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct InstrumentInfo {
    /// Terms and policy, as in a genesis file.
    #[serde(flatten)]
    pub entry: crate::genesis::InstrumentEntry,
    /// active, paused, matured, or announced (for auction, not issued yet).
    pub status: String,
    /// Units in existence (minor units).
    pub total_supply: String,
    /// Accounts with a non-zero balance.
    pub holder_count: u64,
    /// The register is closed while a coupon or redemption is paid.
    #[serde(default)]
    pub book_closed: bool,
}

/// `GET /instruments`: by id.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct InstrumentList {
    /// Instruments, ascending by id.
    pub instruments: Vec<InstrumentInfo>,
}

/// A key's owner and nonces, for building the next transaction.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct KeyInfo {
    /// The key (hex).
    pub public_key: String,
    /// The participant it belongs to, if registered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// The next nonce in the finalized state.
    pub next_nonce: u64,
    /// The nonce to sign the key's next transaction with: the first from `next_nonce` on
    /// that no transaction waiting in this node's mempool holds. Waiting transactions past
    /// a gap do not count (they wait for the gap to fill, or leave at their expiry).
    pub next_pending_nonce: u64,
}

/// A leg of a settlement.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct LegInfo {
    /// Debited account.
    pub from: u64,
    /// Credited account.
    pub to: u64,
    /// Instrument.
    pub instrument: u64,
    /// Amount (minor units).
    pub amount: String,
}

/// A pending or matched instruction.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct InstructionInfo {
    /// Instruction id (hex).
    pub id: String,
    /// Trade reference.
    pub trade_ref: String,
    /// Every leg.
    pub legs: Vec<LegInfo>,
    /// Unmatched halves lapse at this instant (ms since epoch).
    pub expires_at_ms: u64,
    /// LEIs whose halves are in.
    pub submitted: Vec<String>,
    /// Settled (kept as a tombstone until expiry).
    pub matched: bool,
}

/// A hold.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct HoldInfo {
    /// Hold id.
    pub id: u64,
    /// The promised movement.
    pub leg: LegInfo,
    /// SHA-256 hash-lock (hex), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash_lock: Option<String>,
    /// Release until, refund after (ms since epoch).
    pub deadline_ms: u64,
    /// `Held`, or its final outcome: `Released` or `Refunded` (the record is kept).
    pub status: String,
    /// For one leg of a cross-ledger swap: its side and its counterpart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cross: Option<CrossLegInfo>,
}

/// One leg of a cross-ledger swap: its side and the counterpart hold on the remote
/// ledger (docs/interop.md).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct CrossLegInfo {
    /// `Leader` or `Follower`.
    pub role: String,
    /// The remote ledger's chain id.
    pub chain_id: String,
    /// The counterpart hold's id there.
    pub hold: u64,
    /// The account there the counterpart pays.
    pub payee: u64,
    /// The instrument there.
    pub instrument: u64,
    /// The amount there (minor units, decimal string).
    pub amount: String,
}

/// A transaction's status, receipt and (for its parties) body and events.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TxInfo {
    /// Transaction id (hex).
    pub tx_id: String,
    /// pending (in this node's mempool), final, or unknown.
    pub status: String,
    /// Block height, when final.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u64>,
    /// Position in the block, when final.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    /// Result code, when final (0: applied).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
    /// Result code name, when final.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_name: Option<String>,
    /// What the code means, when final.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_description: Option<String>,
    /// Index of the operation that failed, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_op: Option<u16>,
    /// Sender, nonce, expiry and operations (to the transaction's parties, the
    /// regulator and auditors).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub transaction: Option<serde_json::Value>,
    /// What it did (to the same readers; kept for recent blocks only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub events: Option<Vec<serde_json::Value>>,
    /// For an applied transfer batch, each transfer's outcome (to the same readers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<BatchInfo>,
}

/// The outcome of every transfer of an applied transfer batch.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct BatchInfo {
    /// Transfers in the batch.
    pub transfers: u16,
    /// How many applied.
    pub applied: u16,
    /// The refused ones, by position (every transfer not listed applied).
    pub failures: Vec<BatchFailureInfo>,
}

/// One refused transfer of a batch.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct BatchFailureInfo {
    /// Position in the batch.
    pub index: u16,
    /// Result code.
    pub code: u16,
    /// Its name.
    pub code_name: String,
}

/// A Merkle proof of one state entry against a certified state root.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct StateProof {
    /// Height of the block whose state root the proof verifies against.
    pub height: u64,
    /// That state root (hex); check it against the block's certificate.
    pub state_root: String,
    /// The state key (hex): see `docs/state.md`.
    pub key: String,
    /// The value (hex of the record's encoding), absent for an exclusion proof.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// `inclusion` (the key holds the value) or `exclusion` (the key is absent).
    pub kind: String,
    /// The QMDB proof (hex of its canonical encoding).
    pub proof: String,
}

/// Event of `GET /events/blocks`: a newly finalized block.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct BlockEvent {
    /// The block.
    #[serde(flatten)]
    pub block: BlockInfo,
}

/// Event of `GET /events/account/{id}`: what a finalized transaction did to the account.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct AccountEvent {
    /// Block height.
    pub height: u64,
    /// Transaction id (hex); absent for block-level events (expirations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx_id: Option<String>,
    /// The event.
    #[schema(value_type = Object)]
    pub event: serde_json::Value,
}

/// Paging of lists: `after` (exclusive) and `limit` (at most 100, default 50).
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Page {
    /// Start after this key (exclusive).
    pub after: Option<String>,
    /// Most items returned (1–100, default 50).
    pub limit: Option<usize>,
}

/// Most items one list returns.
pub const MAX_PAGE: usize = 100;
/// Items a list returns without `limit`.
pub const DEFAULT_PAGE: usize = 50;

/// One development key of the demo world (`GET /dev/keys`).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct DevKey {
    /// Short name (the CLI's key name).
    pub name: String,
    /// Legal name of the participant.
    pub legal_name: String,
    /// The participant's LEI.
    pub lei: String,
    /// Its main account.
    pub account: u64,
    /// Its roles.
    pub roles: Vec<String>,
    /// The ed25519 public key (hex).
    pub public_key: String,
    /// The ed25519 secret key (hex of its 32-byte seed): public, development only.
    pub secret_key: String,
}

/// The demo world's development keys (`GET /dev/keys`).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct DevKeys {
    /// What these keys are.
    pub note: String,
    /// One per demo participant.
    pub keys: Vec<DevKey>,
}

/// An account's recent events (`GET /account/{id}/events`), newest first.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct AccountEvents {
    /// Height of the oldest block the node still keeps in memory: events before it are not
    /// listed.
    pub oldest_height_kept: u64,
    /// The events, newest first.
    pub events: Vec<AccountEvent>,
}
