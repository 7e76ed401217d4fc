//! Receipts and events: what applying a block reports.

use crate::schema::DistributionKind;
use tally_types::model::AccountKind;
use tally_types::ops::ReasonCode;
use tally_types::{
    AccountId, Amount, AuctionId, ChainId, Hash32, HoldId, InstrumentId, Lei, PublicKey, Rate,
    RepoId, ResultCode,
};

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
    /// An auction award issued, or its price paid.
    Auction,
    /// A coupon paid to a holder of record.
    Coupon,
    /// Principal paid (and the units burned) at maturity.
    Redemption,
    /// A note stripped into components, or components reconstituted into the note.
    Strip,
    /// A leg of a repo's opening, closing or collateral substitution.
    Repo,
    /// A dividend paid in cash, or shares issued by reinvesting it.
    Dividend,
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
    /// A remote ledger was registered.
    RemoteLedgerRegistered(ChainId),
    /// A remote ledger was suspended.
    RemoteLedgerSuspended(ChainId),
    /// A suspended remote ledger was resumed.
    RemoteLedgerResumed(ChainId),
    /// Part of a holding was frozen.
    HoldingFrozen(AccountId, InstrumentId, Amount, ReasonCode),
    /// Part of a holding was unfrozen.
    HoldingUnfrozen(AccountId, InstrumentId, Amount),
    /// An auction was announced.
    AuctionAnnounced(AuctionId),
    /// A bid was recorded; its cash is held until the close.
    BidSubmitted {
        /// Auction.
        auction: AuctionId,
        /// The bid's sequence number (to withdraw it).
        seq: u32,
        /// The bidder.
        bidder: Lei,
    },
    /// A bid was withdrawn and its hold released.
    BidWithdrawn(AuctionId, u32),
    /// The issuer cancelled an open auction.
    AuctionCancelled(AuctionId),
    /// An auction closed: allotted at one price.
    AuctionClosed {
        /// Auction.
        auction: AuctionId,
        /// The highest accepted rate.
        stop_out: Rate,
        /// Share of bids at the stop-out awarded, in basis points.
        pct_bp: u16,
        /// The single price, in millionths per 100 of par.
        price: u64,
        /// Par awarded in all.
        awarded: Amount,
    },
    /// An auction closed without any competitive bid: nothing awarded.
    AuctionFailed(AuctionId),
    /// One winner's award could not settle at issue (its cash or a compliance rule); it
    /// was not issued and its hold was released.
    AwardFailed {
        /// Auction.
        auction: AuctionId,
        /// The bidder.
        bidder: Lei,
        /// Why.
        code: ResultCode,
    },
    /// An auction's awards were issued against cash.
    AuctionIssued {
        /// Auction.
        auction: AuctionId,
        /// Par issued.
        issued: Amount,
    },
    /// An instrument's paying account and cash were set.
    ServicingSet(InstrumentId),
    /// A coupon or redemption reached its record moment: the register is closed and the
    /// gross amount is being held.
    DistributionStarted {
        /// Instrument.
        instrument: InstrumentId,
        /// Distribution sequence number.
        seq: u32,
        /// Coupon or redemption.
        kind: DistributionKind,
        /// Cash held to pay it.
        gross: Amount,
    },
    /// The paying account could not hold the gross amount; retried each block.
    DistributionUnfunded {
        /// Instrument.
        instrument: InstrumentId,
        /// Distribution sequence number.
        seq: u32,
        /// Why the hold failed.
        code: ResultCode,
    },
    /// A holder's payment was refused; it stays held for the holder to claim.
    EntitlementUnpaid {
        /// Instrument.
        instrument: InstrumentId,
        /// Distribution sequence number.
        seq: u32,
        /// Holder's account.
        account: AccountId,
        /// Cash owed.
        amount: Amount,
        /// The rule that refused the credit.
        code: ResultCode,
    },
    /// A holder collected an unpaid entitlement.
    EntitlementClaimed {
        /// Instrument.
        instrument: InstrumentId,
        /// Distribution sequence number.
        seq: u32,
        /// Holder's account.
        account: AccountId,
        /// Cash paid.
        amount: Amount,
    },
    /// Every holder of record was visited; the register reopens.
    DistributionCompleted {
        /// Instrument.
        instrument: InstrumentId,
        /// Distribution sequence number.
        seq: u32,
        /// Cash paid.
        paid: Amount,
        /// Cash left held as entitlements.
        unpaid: Amount,
        /// Cash released to the issuer (rounding and its own holdings).
        retained: Amount,
        /// Holders paid.
        holders: u64,
    },
    /// An instrument reached maturity: nothing moves, and its redemption starts.
    InstrumentMatured(InstrumentId),
    /// A note or bond became eligible for STRIPS.
    StripsEnabled(InstrumentId),
    /// Par of a note was stripped into its components.
    Stripped {
        /// Account.
        account: AccountId,
        /// The note or bond.
        instrument: InstrumentId,
        /// Par stripped.
        amount: Amount,
    },
    /// A fund's NAV was published.
    NavPublished(InstrumentId, tally_types::Date),
    /// A dividend was declared.
    DividendDeclared(InstrumentId, u32),
    /// A repo opened.
    RepoOpened(RepoId),
    /// A repo closed: collateral returned, repurchase price paid.
    RepoClosed {
        /// Repo.
        repo: RepoId,
        /// Cash paid by the borrower: the repurchase price less manufactured payments.
        paid: Amount,
        /// Coupons on the collateral received by the lender and netted.
        manufactured: Amount,
    },
    /// A repo's closing legs could not settle; either party may retry.
    RepoFailed {
        /// Repo.
        repo: RepoId,
        /// Why.
        code: ResultCode,
    },
    /// A repo's collateral was substituted.
    CollateralSubstituted(RepoId),
    /// Components were reconstituted into par of the note.
    Reconstituted {
        /// Account.
        account: AccountId,
        /// The note or bond.
        instrument: InstrumentId,
        /// Par rebuilt.
        amount: Amount,
    },
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
    /// For an applied transfer batch: each transfer's outcome (also recorded in the
    /// state, table `1e`).
    pub batch: Option<crate::schema::BatchResult>,
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
