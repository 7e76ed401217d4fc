//! Define Tally's identifiers, operations and signed transactions, with one canonical encoding.
//!
//! This crate is pure: no I/O, no clock, no async runtime. It is shared by the ledger
//! (which executes [VerifiedTx]s), the node, the API and the SDK.

pub mod amount;
pub mod codec;
pub mod codes;
pub mod ids;
mod iso_tables;
pub mod limits;
pub mod model;
pub mod ops;
pub mod remote;
pub mod time;
pub mod tx;

pub use amount::{Amount, Rate};
pub use codes::ResultCode;
pub use ids::{
    AccountId, AuctionId, Country, Currency, Cusip, Hash32, HoldId, InstrumentId, Isin, Lei, RepoId,
};
pub use ops::Operation;
pub use time::{Date, Timestamp};
pub use tx::{
    ChainId, SignedTx, Transaction, VerifiedTx, verify_batch, verify_batch_with, verify_one,
    verify_one_with,
};

/// Re-exported so users need not depend on commonware-cryptography directly.
pub use commonware_cryptography::ed25519::{PrivateKey, PublicKey, Signature};
