//! Apply blocks of verified transactions to the ledger state: pure, deterministic, no I/O.
