//! Named bounds. Every one is checked when decoding, so no input can exceed it.

/// Operations in one transaction.
pub const MAX_OPS_PER_TX: usize = 64;
/// Approvals (key, signature) on one transaction.
pub const MAX_APPROVALS_PER_TX: usize = 16;
/// Legs in one settlement or instruction.
pub const MAX_LEGS: usize = 32;
/// Keys registered to one participant.
pub const MAX_KEYS_PER_PARTICIPANT: usize = 16;
/// Jurisdictions listed in one compliance policy.
pub const MAX_POLICY_JURISDICTIONS: usize = 64;
/// Bytes of a legal name.
pub const MAX_LEGAL_NAME_BYTES: usize = 200;
/// Bytes of an instrument name.
pub const MAX_INSTRUMENT_NAME_BYTES: usize = 100;
/// Bytes of a unique asset's title metadata.
pub const MAX_TITLE_BYTES: usize = 512;
/// Bytes of a trade reference (ISO 20022 allows 35 characters).
pub const MAX_TRADE_REF_BYTES: usize = 35;
/// Bytes of a chain id.
pub const MAX_CHAIN_ID_BYTES: usize = 32;
/// Bytes of a remote ledger's consensus namespace (Tally's is `TALLY_CONSENSUS_V1`).
pub const MAX_NAMESPACE_BYTES: usize = 64;
/// Bytes of a remote block header a proof carries (a Tally header is at most 260).
pub const MAX_REMOTE_HEADER_BYTES: usize = 512;
/// Bytes of a remote finality certificate a proof carries (a Tally one is about 130).
pub const MAX_REMOTE_CERTIFICATE_BYTES: usize = 512;
/// Bytes of the remote state key a proof is about.
pub const MAX_REMOTE_KEY_BYTES: usize = 64;
/// Bytes of the remote state value a proof shows (a hold record is about 200).
pub const MAX_REMOTE_VALUE_BYTES: usize = 1024;
/// Bytes of a remote Merkle proof (64 digests and the proof's frame fit with room).
pub const MAX_REMOTE_MERKLE_BYTES: usize = 8 * 1024;
/// Remote proofs one block may carry: each costs a pairing check (about 1.6 ms) unless
/// its certificate was checked before, so this bounds what a flood of proofs can add to
/// a block's verification.
pub const MAX_REMOTE_PROOFS_PER_BLOCK: usize = 64;
/// Transfers in one institution batch ([crate::ops::TransferBatch]): TigerBeetle's
/// batch size, so one signature covers as many transfers as one of its requests.
pub const MAX_BATCH_TRANSFERS: usize = 8_190;
/// Encoded size of one signed transaction: a full batch (8,190 transfers of 41 bytes,
/// about 328 KiB) with every approval fits.
pub const MAX_TX_BYTES: usize = 384 * 1024;
/// How far past the block time a transaction's expiry may lie (one day).
pub const MAX_TX_TTL_MS: u64 = 86_400_000;
/// How far past the block time an instruction's expiry may lie (30 days).
pub const MAX_INSTRUCTION_TTL_MS: u64 = 30 * 86_400_000;
/// Holdings moved by one key-loss recovery (instruments held by the lost account).
pub const MAX_RECOVERY_HOLDINGS: usize = 256;
/// Decimal places an instrument may declare.
pub const MAX_SCALE: u8 = 18;
/// Instructions expired at the start of one block; the rest wait for the next block.
pub const MAX_EXPIRIES_PER_BLOCK: usize = 10_000;
/// Scheduled lifecycle work done at the start of one block (one unit per bid closed or
/// issued, per holder paid, two per holder redeemed); the rest continues in the next
/// block. Sized from `cargo bench -p tally-ledger --bench lifecycle`: about 65 ms of
/// execution per block for coupons (docs/benchmarks.md).
pub const MAX_LIFECYCLE_WORK_PER_BLOCK: usize = 10_000;
/// Bids one auction holds.
pub const MAX_BIDS_PER_AUCTION: u32 = 10_000;
/// How far ahead of the block time an auction may close, and its issue follow the close
/// (30 days).
pub const MAX_AUCTION_LEAD_MS: u64 = 30 * 86_400_000;
/// Collateral positions in one repo.
pub const MAX_REPO_COLLATERAL: usize = 8;
