//! Result codes: the stable outcome of every transaction.
//!
//! Each code has a fixed number and name that never change meaning. A rejected
//! transaction carries the first failing check in this order of precedence:
//! transaction checks (1xx), then each operation in order, and within an operation
//! authorization (2xx), validation (3xx), existence (4xx), compliance (6xx), and last
//! the state of balances, holds and instructions (5xx).
//! `docs/result-codes.md` lists them all with their meaning.

use core::fmt;

macro_rules! result_codes {
    ($( $(#[doc = $doc:literal])* $name:ident = $num:literal, )*) => {
        /// The outcome of a transaction.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[repr(u16)]
        pub enum ResultCode {
            $( $(#[doc = $doc])* $name = $num, )*
        }

        impl ResultCode {
            /// Every code, in numeric order.
            pub const ALL: &'static [ResultCode] = &[$(ResultCode::$name,)*];

            /// The stable numeric code.
            pub const fn code(self) -> u16 {
                self as u16
            }

            /// The stable name.
            pub const fn name(self) -> &'static str {
                match self { $( ResultCode::$name => stringify!($name), )* }
            }

            /// The code for a number, if assigned.
            pub const fn from_code(code: u16) -> Option<Self> {
                match code { $( $num => Some(ResultCode::$name), )* _ => None }
            }

            /// One line describing the code.
            pub fn description(self) -> &'static str {
                match self { $( ResultCode::$name => concat!($($doc, )*).trim(), )* }
            }
        }
    };
}

result_codes! {
    /// Applied.
    Ok = 0,

    /// The block time is past the transaction's expiry.
    TxExpired = 100,
    /// The expiry lies further past the block time than `MAX_TX_TTL_MS`.
    TxExpiryTooFar = 101,
    /// The sender key is not registered to any participant.
    UnknownSender = 102,
    /// The nonce was already used by this sender: a replay.
    NonceReused = 103,
    /// The nonce skips ahead of the sender's next nonce.
    NonceGap = 104,
    /// An approving key is not registered to any participant.
    UnknownSigner = 105,

    /// The approving participants lack the role or ownership the operation needs.
    Unauthorized = 200,
    /// The approving keys of the acting participant weigh less than its threshold.
    InsufficientApprovals = 201,
    /// The acting participant is suspended.
    ParticipantSuspended = 202,

    /// An amount is zero.
    ZeroAmount = 300,
    /// An amount is not a multiple of the instrument's minimum increment.
    NotMultipleOfIncrement = 301,
    /// Legs are empty, repeat an account pair and instrument, or move within one account.
    InvalidLegs = 302,
    /// A transfer's source and destination are the same account.
    SameAccount = 303,
    /// A key threshold is zero or above the total key weight.
    InvalidThreshold = 304,
    /// Instrument terms are inconsistent (scale, increment, dates, kind-specific rules).
    InvalidInstrumentTerms = 305,
    /// A compliance policy is inconsistent.
    InvalidPolicy = 306,
    /// The participant would hold more than `MAX_KEYS_PER_PARTICIPANT` keys, or a key weight is zero.
    InvalidKeys = 307,
    /// An expiry or deadline is not in the future or lies too far ahead.
    InvalidDeadline = 308,
    /// The roles requested are not allowed (e.g. the operator role after genesis).
    InvalidRoles = 309,
    /// A key being registered did not co-sign the transaction (proof of possession).
    KeyNotApproved = 310,
    /// Auction terms are inconsistent (dates, offering, limits, cash, first coupon period).
    InvalidAuctionTerms = 311,
    /// A bid's rate is off the tick or its amount below the minimum to bid.
    InvalidBid = 312,
    /// Repo terms are inconsistent (collateral, cash, rate or maturity).
    InvalidRepoTerms = 313,
    /// Dividend terms are inconsistent (kind, amount, date, reinvestment without a NAV).
    InvalidDistribution = 314,
    /// An interest component of the amount stripped or reconstituted is not a whole
    /// multiple of the component's increment.
    InvalidStripAmount = 315,
    /// A remote ledger's terms are invalid: its chain id is this ledger's own, its name or
    /// namespace is empty, or its group key is not a BLS12-381 G2 point.
    InvalidRemoteLedger = 316,
    /// A cross-ledger lock's terms are invalid: a leader carries a proof or a follower
    /// none, the counterpart is on this ledger, or a follower's deadline is not its
    /// leader's.
    InvalidCrossLedgerTerms = 317,
    /// A remote proof reached execution unchecked (a node fault; proofs are checked, and
    /// bad ones refused, before a transaction is admitted or a block is voted for).
    RemoteProofUnchecked = 318,
    /// A transfer batch is empty, or is not the only operation of its transaction.
    InvalidBatch = 319,
    /// A batch's last transfer is linked to a next one that does not exist, so its chain
    /// never closes; every transfer of that chain is refused with this code.
    LinkedChainOpen = 320,

    /// No participant has this LEI.
    ParticipantNotFound = 400,
    /// A participant with this LEI exists.
    ParticipantExists = 401,
    /// No account has this id.
    AccountNotFound = 402,
    /// An account with this id exists.
    AccountExists = 403,
    /// No instrument has this id.
    InstrumentNotFound = 404,
    /// An instrument with this id exists.
    InstrumentExists = 405,
    /// Another instrument already has this ISIN or CUSIP.
    IdentifierInUse = 406,
    /// The key is not registered to the participant.
    KeyNotFound = 407,
    /// The key is already registered (to this or another participant).
    KeyInUse = 408,
    /// No pending instruction has this id.
    InstructionNotFound = 409,
    /// This participant already submitted this half of the instruction.
    DuplicateInstruction = 410,
    /// No hold has this id.
    HoldNotFound = 411,
    /// A hold with this id exists.
    HoldExists = 412,
    /// No auction has this id.
    AuctionNotFound = 413,
    /// An auction with this id exists.
    AuctionExists = 414,
    /// The auction has no bid with this sequence number.
    BidNotFound = 415,
    /// No repo has this id.
    RepoNotFound = 416,
    /// A repo with this id exists.
    RepoExists = 417,
    /// The account has no unpaid entitlement in this distribution.
    EntitlementNotFound = 418,
    /// A NAV is already published for this fund and date.
    NavExists = 419,
    /// No remote ledger is registered under this chain id.
    RemoteLedgerNotFound = 420,
    /// A remote ledger is already registered under this chain id.
    RemoteLedgerExists = 421,

    /// The available balance (balance less held and frozen amounts) is too small.
    InsufficientBalance = 500,
    /// The unfrozen amount exceeds what is frozen.
    InsufficientFrozen = 501,
    /// A balance or supply would overflow.
    Overflow = 502,
    /// The hold's deadline has not passed, so it cannot be refunded yet.
    HoldNotExpired = 503,
    /// The hold's deadline has passed, so it can no longer be released.
    HoldExpired = 504,
    /// The preimage is missing or does not hash to the hold's hash-lock.
    PreimageMismatch = 505,
    /// The instrument has matured and no longer moves.
    InstrumentMatured = 506,
    /// The amount is locked in holds or instructions and cannot be moved by force.
    AmountLocked = 507,
    /// The account is not owned by the participant required (e.g. recovery target).
    AccountOwnerMismatch = 508,
    /// The account holds more instruments than one recovery may move.
    TooManyHoldings = 509,
    /// The instruction's legs do not involve the submitting participant as a payer.
    NotAParty = 510,
    /// The auction is not open for bids (closed, issued, failed or cancelled).
    AuctionClosed = 511,
    /// The bidder's noncompetitive bids would exceed the per-bidder limit.
    NoncompetitiveLimit = 512,
    /// The auction's noncompetitive total is reached.
    NoncompetitiveFull = 513,
    /// A bidder may not bid both competitively and noncompetitively in one auction.
    MixedBidTypes = 514,
    /// The auction holds `MAX_BIDS_PER_AUCTION` bids.
    TooManyBids = 515,
    /// A bidder's bids in one auction must all use one account.
    BidAccountMismatch = 516,
    /// The instrument is not eligible for STRIPS (no principal component enabled).
    NotStripsEligible = 517,
    /// The repo is closed, or a term repo not yet failed (it closes at its maturity).
    RepoNotOpen = 518,
    /// The instrument is announced for auction and not issued yet.
    InstrumentNotIssued = 519,
    /// The instrument's register is closed while a coupon or redemption is paid to its
    /// holders of record (a few blocks).
    BookClosed = 520,
    /// Servicing cannot change while a coupon or redemption of the instrument is paid,
    /// or after it matured.
    ServicingBusy = 521,
    /// The hold was already released or refunded (a hold's outcome is final and stays
    /// recorded under its id).
    HoldClosed = 522,
    /// The remote ledger is suspended (or, to resume it, not suspended).
    RemoteLedgerSuspended = 523,
    /// The remote proof's certificate is under another group key or namespace than the
    /// ones registered for its chain, or its chain is not the counterpart's.
    RemoteKeyMismatch = 524,
    /// The proven record is not this hold's counterpart: another state key, a record that
    /// is not a hold, or terms, parties or role that do not match the swap.
    RemoteRecordMismatch = 525,
    /// The counterpart's proven state does not justify the action: e.g. still held before
    /// its deadline, or released when a lock was expected.
    RemoteOutcomeUnproven = 526,
    /// A cross-ledger hold moves only against a proof of its counterpart (ReleaseHold, and
    /// RefundHold of a follower, are refused).
    CrossLedgerHold = 527,
    /// The hold is not a cross-ledger hold.
    NotCrossLedgerHold = 528,
    /// Another transfer of the same linked chain failed, so this one was not applied.
    LinkedChainFailed = 529,

    /// Compliance: the holder's KYC is not verified.
    KycNotVerified = 600,
    /// Compliance: the holder's KYC expired before the block date.
    KycExpired = 601,
    /// Compliance: the holder's jurisdiction is not allowed for the instrument.
    JurisdictionNotAllowed = 602,
    /// Compliance: the holder's investor class is not allowed for the instrument.
    InvestorClassNotAllowed = 603,
    /// Compliance: the credit would take the holder above the instrument's maximum balance.
    MaxBalanceExceeded = 604,
    /// Compliance: the credit would add a holder beyond the instrument's maximum holder count.
    MaxHoldersExceeded = 605,
    /// Compliance: the instrument is locked up until a later date.
    LockedUp = 606,
    /// Compliance: the instrument is paused.
    InstrumentPaused = 607,
    /// Compliance: the account is frozen.
    AccountFrozen = 608,
    /// Compliance: the holder is suspended.
    HolderSuspended = 609,
}

impl ResultCode {
    /// Whether the code is a compliance rule (6xx), i.e. names the rule that refused.
    pub const fn is_compliance(self) -> bool {
        self.code() >= 600 && self.code() < 700
    }
}

impl fmt::Display for ResultCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_sorted_unique_and_round_trip() {
        assert!(
            ResultCode::ALL
                .windows(2)
                .all(|w| w[0].code() < w[1].code())
        );
        for &c in ResultCode::ALL {
            assert_eq!(ResultCode::from_code(c.code()), Some(c));
            assert!(!c.description().is_empty());
        }
        assert_eq!(ResultCode::from_code(9999), None);
    }
}
