//! Receipts and events: what applying a block reports.

use tally_types::model::AccountKind;
use tally_types::ops::ReasonCode;
use tally_types::{AccountId, Amount, Hash32, HoldId, InstrumentId, Lei, PublicKey, ResultCode};

/// Why units moved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MoveKind {
    /// Issued by the issuer.
    Mint,
    /// Destroyed by the issuer.
    Burn,
    /// Free-of-payment transfer.
    Transfer,
    /// A leg of a settlement.
    Settle,
    /// A leg of a matched instruction.
    Instruction,
    /// A hold paid to its beneficiary.
    HoldRelease,
    /// Ordered by the regulator.
    Forced(ReasonCode),
    /// Key-loss recovery.
    Recovery(ReasonCode),
}

/// Something that happened, in the order it happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// Units moved (`from` is `None` for a mint, `to` is `None` for a burn).
    Moved {
        /// Why.
        kind: MoveKind,
        /// Debited account.
        from: Option<AccountId>,
        /// Credited account.
        to: Option<AccountId>,
        /// Instrument.
        instrument: InstrumentId,
        /// Amount.
        amount: Amount,
    },
    /// A participant was registered.
    ParticipantRegistered(Lei),
    /// A participant's identity fields changed.
    ParticipantUpdated(Lei),
    /// A participant was suspended.
    ParticipantSuspended(Lei, ReasonCode),
    /// A suspension was lifted.
    ParticipantReinstated(Lei),
    /// A key was added to a participant.
    KeyAdded(Lei, PublicKey),
    /// A key was removed from a participant.
    KeyRemoved(Lei, PublicKey),
    /// A participant's thresholds changed.
    ThresholdsChanged(Lei),
    /// An account was opened.
    AccountOpened(AccountId, Lei, AccountKind),
    /// An account was frozen.
    AccountFrozen(AccountId, ReasonCode),
    /// An account was unfrozen.
    AccountUnfrozen(AccountId),
    /// An instrument was created.
    InstrumentCreated(InstrumentId),
    /// An instrument's policy changed.
    PolicyUpdated(InstrumentId),
    /// An instrument was paused.
    InstrumentPaused(InstrumentId),
    /// An instrument resumed.
    InstrumentUnpaused(InstrumentId),
    /// One side of an instruction is in and its debit legs are held.
    InstructionSubmitted(Hash32, Lei),
    /// Every side is in and every leg settled.
    InstructionMatched(Hash32),
    /// A side withdrew its half.
    InstructionCancelled(Hash32, Lei),
    /// An instruction lapsed unmatched; its holds were released.
    InstructionExpired(Hash32),
    /// A hold was placed.
    HoldPlaced(HoldId),
    /// A hold was paid to its beneficiary.
    HoldReleased(HoldId),
    /// A hold went back to the payer.
    HoldRefunded(HoldId),
    /// Part of a holding was frozen.
    HoldingFrozen(AccountId, InstrumentId, Amount, ReasonCode),
    /// Part of a holding was unfrozen.
    HoldingUnfrozen(AccountId, InstrumentId, Amount),
}

/// The outcome of one transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// Transaction id.
    pub tx_id: Hash32,
    /// Result code: `Ok`, or why nothing changed.
    pub code: ResultCode,
    /// Index of the operation that failed, if one did.
    pub failed_op: Option<u16>,
    /// What the transaction did (empty if rejected).
    pub events: Vec<Event>,
}

impl Receipt {
    /// Whether the transaction applied.
    pub fn is_ok(&self) -> bool {
        self.code == ResultCode::Ok
    }
}

/// What applying a block produced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockOutcome {
    /// Events of the block itself (expirations), before any transaction.
    pub block_events: Vec<Event>,
    /// One receipt per transaction, in block order.
    pub receipts: Vec<Receipt>,
}
