//! Apply blocks of verified transactions to the ledger state: pure, deterministic, no I/O.
//!
//! `Ledger::apply_block(store, env, txs)` takes the state (any [Store]), the block's
//! height and time (from consensus), and transactions that passed
//! [`tally_types::verify_batch`], and returns one [Receipt] per transaction. A
//! transaction applies entirely or not at all; a rejected one changes nothing but its
//! receipt record and carries a [`tally_types::ResultCode`]. Every receipt is kept in the
//! state (table `0d`), so it survives restarts and can be proven against the root. Nothing here reads a clock, draws randomness, uses
//! floating point or iterates an unordered collection.

pub mod auction;
mod block;
pub mod coupons;
pub mod demo;
mod events;
mod exec;
pub mod fuzz;
pub mod query;
pub mod schema;
pub mod store;

pub use block::{BlockEnv, BlockError, Genesis, GenesisError, Ledger};
pub use events::{BlockOutcome, Event, MoveKind, Receipt};
pub use exec::repurchase_price;
pub use query::StateReader;
pub use store::{Commit, MemStore, Store};
