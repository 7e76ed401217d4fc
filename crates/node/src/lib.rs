//! Replicate the ledger across validators: mempool, speculative state, blocks, consensus.
//!
//! The node is the only place where I/O, clocks and Commonware's runtime live; it feeds
//! verified transactions and block context to the pure `tally-ledger` state machine.

pub mod app;
pub mod block;
pub mod budget;
pub mod clock;
pub mod engine;
pub mod genesis;
pub mod http;
pub mod mempool;
pub mod remote;
pub mod run;
pub mod state_cache;
