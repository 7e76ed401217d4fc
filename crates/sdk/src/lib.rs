//! Talk to a Tally node from Rust: typed API calls, signed transactions, local checks of
//! certificates and Merkle proofs, a key store.
//!
//! ```no_run
//! use tally_sdk::{Client, TxBuilder};
//! # fn main() -> Result<(), tally_sdk::SdkError> {
//! let client = Client::new("http://127.0.0.1:26601");
//! let status = client.status()?;
//! println!("height {} root {}", status.finalized_height, status.state_root);
//! # Ok(()) }
//! ```
//!
//! Everything the node answers is typed with the node's own JSON types
//! (`tally_node::http::types`), re-exported as [types]. Nothing here trusts the node for
//! what [verify] checks: a block's finality certificate (against the network's group
//! key, pinned out of band) and a Merkle proof of a state entry (against that block's
//! state root).

pub mod client;
pub mod error;
pub mod keystore;
pub mod sse;
pub mod txb;
pub mod verify;
pub mod xswap;

pub use client::{Client, Event, EventStream, VerifiedHolding};
pub use error::SdkError;
pub use keystore::{KeyStore, StoredKey, install_dev_keys};
pub use txb::{Submission, TxBuilder};

/// The node's JSON types (requests and answers of the HTTP API).
pub mod types {
    pub use tally_node::http::error::ErrorBody;
    pub use tally_node::http::lifecycle::{
        AuctionBids, AuctionInfo, AuctionList, AuctionResultInfo, BidInfo, BidderInfo,
        DistributionInfo, InterestComponentInfo, RepoInfo, ServicingInfo, StripsInfo,
    };
    pub use tally_node::http::types::*;
}

/// Lower-case hex of bytes.
pub fn to_hex(bytes: &[u8]) -> String {
    tally_node::genesis::to_hex(bytes)
}

/// Bytes from hex (`None` if not an even number of hex digits).
pub fn from_hex(s: &str) -> Option<Vec<u8>> {
    tally_node::genesis::from_hex(s).ok()
}

/// Milliseconds since the Unix epoch by the local clock (0 if the clock is before 1970).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
