//! Operations: the typed changes a transaction asks for. A transaction holds several and
//! is atomic: every operation applies, or none does.

use crate::amount::Amount;
use crate::amount::Rate;
use crate::codec::{BoundedVec, Text};
use crate::codec_struct;
use crate::ids::{AccountId, AuctionId, Hash32, HoldId, InstrumentId, Lei, RepoId};
use crate::limits::*;
use crate::model::*;
use crate::remote::{RemoteLeg, RemoteProof};
use crate::time::Date;
use crate::time::Timestamp;
use crate::tx::ChainId;
use bytes::BufMut;
use commonware_codec::Buf;
use commonware_codec::{EncodeSize, Error, Read, ReadExt, Write};
use commonware_cryptography::ed25519::PublicKey;

/// A reason code recorded with supervisory actions (freezes, forced transfers, recovery),
/// e.g. a court-order or case reference number agreed with the operator.
pub type ReasonCode = u16;

macro_rules! payload {
    ($(#[$doc:meta])* $name:ident { $($(#[$fdoc:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
                pub struct $name { $($(#[$fdoc])* pub $field: $ty),* }
        codec_struct!($name { $($field),* });
    };
}

payload!(
    /// Register a new participant (operator only).
    RegisterParticipant {
        /// The participant's LEI, its identity on the ledger.
        lei: Lei,
        /// Identity fields.
        profile: Profile,
        /// Keys and weights.
        keys: BoundedVec<WeightedKey, MAX_KEYS_PER_PARTICIPANT>,
        /// Weight needed to act for the participant.
        threshold: u16,
        /// Weight needed to change the participant's keys and thresholds.
        admin_threshold: u16,
    }
);
payload!(
    /// Replace a participant's identity fields (operator only).
    UpdateParticipant {
        /// Participant.
        lei: Lei,
        /// New identity fields.
        profile: Profile,
    }
);
payload!(
    /// Suspend a participant: it can neither act nor be debited or credited (operator or regulator).
    SuspendParticipant {
        /// Participant.
        lei: Lei,
        /// Why.
        reason: ReasonCode,
    }
);
payload!(
    /// Lift a suspension (operator or regulator).
    ReinstateParticipant {
        /// Participant.
        lei: Lei,
    }
);
payload!(
    /// Add a key to a participant (the participant at its admin threshold, or an operator
    /// and a regulator together).
    AddKey {
        /// Participant.
        lei: Lei,
        /// New key and weight.
        key: WeightedKey,
    }
);
payload!(
    /// Replace one key by another with the same weight.
    RotateKey {
        /// Participant.
        lei: Lei,
        /// Key to retire.
        old: PublicKey,
        /// Key to take its place.
        new: PublicKey,
    }
);
payload!(
    /// Remove a key; the remaining weight must still meet both thresholds.
    RemoveKey {
        /// Participant.
        lei: Lei,
        /// Key to remove.
        key: PublicKey,
    }
);
payload!(
    /// Change a participant's approval thresholds.
    SetThresholds {
        /// Participant.
        lei: Lei,
        /// Weight needed to act.
        threshold: u16,
        /// Weight needed for key and threshold changes.
        admin_threshold: u16,
    }
);
payload!(
    /// Open an account for a participant (the participant itself, or the operator).
    OpenAccount {
        /// New account id.
        account: AccountId,
        /// Owner.
        owner: Lei,
        /// Purpose.
        kind: AccountKind,
    }
);
payload!(
    /// Freeze a whole account: no debits or credits (operator or regulator).
    FreezeAccount {
        /// Account.
        account: AccountId,
        /// Why.
        reason: ReasonCode,
    }
);
payload!(
    /// Unfreeze an account (operator or regulator).
    UnfreezeAccount {
        /// Account.
        account: AccountId,
    }
);
payload!(
    /// Create an instrument (its issuer, or the operator on the issuer's behalf).
    CreateInstrument {
        /// New instrument id.
        instrument: InstrumentId,
        /// Issuing participant (must hold the issuer role).
        issuer: Lei,
        /// Display name.
        name: Text<MAX_INSTRUMENT_NAME_BYTES>,
        /// ISIN and CUSIP, where assigned.
        ids: SecurityIds,
        /// Decimal places of the minor unit.
        scale: u8,
        /// Every amount must be a multiple of this (Treasuries: $100 face).
        min_increment: Amount,
        /// Kind and terms.
        kind: InstrumentKind,
        /// Compliance policy.
        policy: Policy,
    }
);
payload!(
    /// Replace an instrument's compliance policy (issuer or operator).
    UpdatePolicy {
        /// Instrument.
        instrument: InstrumentId,
        /// New policy.
        policy: Policy,
    }
);
payload!(
    /// Pause an instrument: nothing moves (issuer, operator or regulator).
    PauseInstrument {
        /// Instrument.
        instrument: InstrumentId,
    }
);
payload!(
    /// Resume a paused instrument (issuer, operator or regulator).
    UnpauseInstrument {
        /// Instrument.
        instrument: InstrumentId,
    }
);
payload!(
    /// Create new units in an account (issuer only).
    Mint {
        /// Instrument.
        instrument: InstrumentId,
        /// Credited account.
        to: AccountId,
        /// Amount.
        amount: Amount,
    }
);
payload!(
    /// Destroy units held in one of the issuer's own accounts (issuer only).
    Burn {
        /// Instrument.
        instrument: InstrumentId,
        /// Debited account (owned by the issuer).
        from: AccountId,
        /// Amount.
        amount: Amount,
    }
);
payload!(
    /// Move units free of payment (owner of the debited account).
    Transfer {
        /// The movement.
        leg: Leg,
    }
);
payload!(
    /// One transfer of a [TransferBatch].
    BatchTransfer {
        /// The movement (free of payment, as [Transfer]).
        leg: Leg,
        /// Linked to the next transfer: a run of linked transfers and the first unlinked
        /// one after them form a chain that applies all or none.
        linked: bool,
    }
);
payload!(
    /// An institution batch: up to `MAX_BATCH_TRANSFERS` transfers under one signature
    /// (the approvals covering every debited owner at its threshold). Unlike the
    /// operations of a transaction, the transfers are not atomic together: each gets its
    /// own result code, and only a linked chain applies all or none. It must be the only
    /// operation of its transaction.
    TransferBatch {
        /// The transfers, applied in order.
        transfers: BoundedVec<BatchTransfer, MAX_BATCH_TRANSFERS>,
    }
);
payload!(
    /// Settle several legs atomically (DvP, PvP): every debited owner must approve.
    Settle {
        /// The legs.
        legs: BoundedVec<Leg, MAX_LEGS>,
    }
);
payload!(
    /// Submit one side of a two-sided instruction. The instruction id is
    /// SHA-256(trade_ref ‖ legs ‖ expiry); when both payers' halves are in, it settles.
    Instruct {
        /// Trade reference both sides agree on.
        trade_ref: Text<MAX_TRADE_REF_BYTES>,
        /// Every leg of the trade (both sides').
        legs: BoundedVec<Leg, MAX_LEGS>,
        /// Unmatched halves lapse at this instant.
        expires_at: Timestamp,
    }
);
payload!(
    /// Withdraw one's own pending half of an instruction.
    CancelInstruction {
        /// Instruction id.
        instruction: Hash32,
    }
);
payload!(
    /// Lock an amount for a beneficiary, with an optional SHA-256 hash-lock and a deadline.
    PlaceHold {
        /// New hold id.
        hold: HoldId,
        /// The movement the hold promises.
        leg: Leg,
        /// If set, release needs a preimage hashing to this.
        hash_lock: Option<Hash32>,
        /// Release is possible until, and refund only after, this instant.
        deadline: Timestamp,
    }
);
payload!(
    /// Pay a hold to its beneficiary: by the payer, or by anyone with the preimage.
    ReleaseHold {
        /// Hold.
        hold: HoldId,
        /// Preimage of the hash-lock.
        preimage: Option<Hash32>,
    }
);
payload!(
    /// Return a hold to the payer: after the deadline, or at any time by the beneficiary.
    RefundHold {
        /// Hold.
        hold: HoldId,
    }
);
payload!(
    /// Lock one leg of a cross-ledger swap (docs/interop.md): a hold whose counterpart is
    /// a hold on a registered remote ledger. The payer signs. The leader locks first and
    /// carries no proof; the follower carries a proof that the leader's hold is held for
    /// this swap, and takes the leader's deadline.
    LockCrossLedger {
        /// New hold id.
        hold: HoldId,
        /// The movement the hold promises.
        leg: Leg,
        /// The leader's deadline: release until, refund after (the follower repeats the
        /// leader's).
        deadline: Timestamp,
        /// Leader or follower.
        role: CrossRole,
        /// The counterpart hold on the remote ledger and what it pays.
        counterpart: RemoteLeg,
        /// The follower's proof that the leader's hold is held for this swap.
        proof: Option<RemoteProof>,
    }
);
payload!(
    /// Release or refund a cross-ledger hold by what its counterpart's proven state
    /// justifies: anyone may submit it (the proof is the authority).
    ProveCrossLedger {
        /// The local cross-ledger hold.
        hold: HoldId,
        /// A proof of the counterpart hold's record on the remote ledger.
        proof: RemoteProof,
    }
);
payload!(
    /// Freeze part of a holding (regulator or operator).
    FreezeHolding {
        /// Account.
        account: AccountId,
        /// Instrument.
        instrument: InstrumentId,
        /// Amount added to the frozen part.
        amount: Amount,
        /// Why.
        reason: ReasonCode,
    }
);
payload!(
    /// Unfreeze part of a holding (regulator or operator).
    UnfreezeHolding {
        /// Account.
        account: AccountId,
        /// Instrument.
        instrument: InstrumentId,
        /// Amount released from the frozen part.
        amount: Amount,
    }
);
payload!(
    /// Move units by order of the regulator (e.g. a court order), frozen units included.
    ForcedTransfer {
        /// The movement.
        leg: Leg,
        /// Why.
        reason: ReasonCode,
    }
);
payload!(
    /// Key-loss recovery: move every holding of an account to another account of the same
    /// participant and freeze the old one (regulator or operator).
    RecoverAccount {
        /// Account whose keys were lost.
        from: AccountId,
        /// New account of the same owner.
        to: AccountId,
        /// Why.
        reason: ReasonCode,
    }
);

/// What a Treasury auction bid asks for (31 CFR 356.12).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BidKind {
    /// Any amount at the auction's single price, accepted in full first.
    Noncompetitive,
    /// At this yield (notes, bonds) or discount rate (bills) or better.
    Competitive(Rate),
}

impl Write for BidKind {
    fn write(&self, buf: &mut impl BufMut) {
        match self {
            Self::Noncompetitive => buf.put_u8(0),
            Self::Competitive(rate) => {
                buf.put_u8(1);
                rate.write(buf);
            }
        }
    }
}
impl EncodeSize for BidKind {
    fn encode_size(&self) -> usize {
        match self {
            Self::Noncompetitive => 1,
            Self::Competitive(rate) => 1 + rate.encode_size(),
        }
    }
}
impl Read for BidKind {
    type Cfg = ();
    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, Error> {
        match u8::read(buf)? {
            0 => Ok(Self::Noncompetitive),
            1 => Ok(Self::Competitive(Rate::read(buf)?)),
            other => Err(Error::InvalidEnum(other)),
        }
    }
}

/// The security an auction sells.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AuctionSecurity {
    /// A new bill, note or bond, created now as announced (nothing moves until the
    /// issue date). A note or bond states a coupon rate of 0: the close sets it from the
    /// stop-out yield.
    New(CreateInstrument),
    /// More of an existing note or bond of the issuer, at its coupon (a reopening).
    Reopen(InstrumentId),
}

impl Write for AuctionSecurity {
    fn write(&self, buf: &mut impl BufMut) {
        match self {
            Self::New(create) => {
                buf.put_u8(0);
                create.write(buf);
            }
            Self::Reopen(id) => {
                buf.put_u8(1);
                id.write(buf);
            }
        }
    }
}
impl EncodeSize for AuctionSecurity {
    fn encode_size(&self) -> usize {
        1 + match self {
            Self::New(create) => create.encode_size(),
            Self::Reopen(id) => id.encode_size(),
        }
    }
}
impl Read for AuctionSecurity {
    type Cfg = ();
    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, Error> {
        match u8::read(buf)? {
            0 => Ok(Self::New(CreateInstrument::read(buf)?)),
            1 => Ok(Self::Reopen(InstrumentId::read(buf)?)),
            other => Err(Error::InvalidEnum(other)),
        }
    }
}

payload!(
    /// Announce a single-price Treasury auction (the issuer). Bids are taken until
    /// `close_at`; the close finds the stop-out rate and every award; on `issue_date` the
    /// security is minted to each winner against its cash, DvP. `docs/lifecycle.md`.
    AnnounceAuction {
        /// New auction id.
        auction: AuctionId,
        /// What is sold.
        security: AuctionSecurity,
        /// Par offered, in the security's minor units (a multiple of its increment).
        offering: Amount,
        /// Bids are accepted while the block time is before this instant.
        close_at: Timestamp,
        /// Awards are issued and paid at the start of this date (UTC).
        issue_date: Date,
        /// The cash bidders pay in (its increment must be 1).
        cash_instrument: InstrumentId,
        /// The issuer's account that receives the cash and later pays coupons.
        issuer_cash_account: AccountId,
        /// Largest noncompetitive par one bidder may bid (Treasury: $10 million).
        max_noncompetitive_per_bidder: Amount,
        /// Largest noncompetitive par in all; below the offering, so that competitive
        /// bids always set the rate.
        max_noncompetitive_total: Amount,
        /// Largest award per competitive bidder, in basis points of the offering (3,500).
        award_cap_bp: u16,
        /// Highest price the auction can reach, in millionths per 100 of par (at least
        /// 100,000,000 = par): bids hold `amount × max_price / 100` of cash until the close.
        max_price: u64,
    }
);
payload!(
    /// Bid in an open auction (owner of the account; the account pays and receives).
    SubmitBid {
        /// Auction.
        auction: AuctionId,
        /// The bidder's account: its cash is held until the close.
        account: AccountId,
        /// Noncompetitive, or competitive at a rate.
        kind: BidKind,
        /// Par bid, in the security's minor units.
        amount: Amount,
    }
);
payload!(
    /// Withdraw one's own bid before the close; its cash hold is released.
    WithdrawBid {
        /// Auction.
        auction: AuctionId,
        /// The bid's sequence number (from its `BidSubmitted` event).
        seq: u32,
    }
);
payload!(
    /// Cancel an open auction (the issuer): every hold is released and a new security
    /// announced with it is deleted.
    CancelAuction {
        /// Auction.
        auction: AuctionId,
    }
);
payload!(
    /// Name the issuer account and cash that pay an instrument's coupons and redemption
    /// (the issuer). Schedules the next coupon and the maturity.
    SetServicing {
        /// Note, bond or bill.
        instrument: InstrumentId,
        /// The issuer's account that pays.
        paying_account: AccountId,
        /// The cash paid.
        cash_instrument: InstrumentId,
    }
);
payload!(
    /// Collect a payment a distribution could not credit when it ran (the account owner).
    ClaimEntitlement {
        /// Instrument the distribution paid on.
        instrument: InstrumentId,
        /// The distribution's sequence number on that instrument.
        distribution: u32,
        /// The account entitled.
        account: AccountId,
    }
);

payload!(
    /// Make a note or bond eligible for STRIPS (the issuer): names its principal
    /// component, a `StripPrincipal` instrument of the issuer for this underlying. Interest
    /// components are `StripInterest` instruments of the issuer, one per payment date.
    EnableStrips {
        /// The note or bond.
        instrument: InstrumentId,
        /// Its principal component.
        principal_component: InstrumentId,
    }
);
payload!(
    /// Strip par of a note or bond into its principal component and one interest
    /// component per remaining payment date (owner of the account).
    Strip {
        /// The account holding the note; it receives the components.
        account: AccountId,
        /// The note or bond.
        instrument: InstrumentId,
        /// Par stripped.
        amount: Amount,
    }
);
payload!(
    /// Rebuild par of a note or bond from its principal component and the interest
    /// components of every remaining payment date (owner of the account).
    Reconstitute {
        /// The account holding the components; it receives the note.
        account: AccountId,
        /// The note or bond.
        instrument: InstrumentId,
        /// Par rebuilt.
        amount: Amount,
    }
);

/// A position of a repo's collateral.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Collateral {
    /// The security.
    pub instrument: InstrumentId,
    /// Par, in its minor units.
    pub amount: Amount,
}
codec_struct!(Collateral { instrument, amount });

payload!(
    /// Open a repo (both owners approve): collateral moves from the borrower to the
    /// lender and cash from the lender to the borrower, atomically. It closes at the
    /// maturity (a term repo) or when either party asks (open-ended).
    OpenRepo {
        /// New repo id.
        repo: RepoId,
        /// The borrower's account: delivers collateral, receives cash.
        borrower_account: AccountId,
        /// The lender's account: receives collateral, pays cash.
        lender_account: AccountId,
        /// Collateral, one position per instrument.
        collateral: BoundedVec<Collateral, MAX_REPO_COLLATERAL>,
        /// Cash lent.
        cash_instrument: InstrumentId,
        /// Cash amount, in its minor units.
        cash_amount: Amount,
        /// Repo rate (ACT/360).
        rate: Rate,
        /// Closing date (start of day, UTC); none for an open-ended repo.
        maturity: Option<Date>,
    }
);
payload!(
    /// Close an open-ended repo, or retry the close of a failed one (either party).
    CloseRepo {
        /// Repo.
        repo: RepoId,
    }
);
payload!(
    /// Swap collateral of an open repo (both owners approve), atomically.
    SubstituteCollateral {
        /// Repo.
        repo: RepoId,
        /// Collateral returned to the borrower.
        give_back: BoundedVec<Collateral, MAX_REPO_COLLATERAL>,
        /// Collateral the borrower delivers instead.
        deliver: BoundedVec<Collateral, MAX_REPO_COLLATERAL>,
    }
);

payload!(
    /// Publish a fund's net asset value per share for a date (the issuer); once per date.
    PublishNav {
        /// The fund.
        fund: InstrumentId,
        /// The valuation date.
        date: Date,
        /// NAV per whole share, in millionths of the currency (1.000000 = 1,000,000).
        nav: u64,
    }
);
payload!(
    /// Declare a cash dividend on an equity or fund (the issuer): holders of record at the
    /// end of `record_date` are paid `amount_per_unit` cash minor units per
    /// `per_units` minor units of the security; a fund may reinvest it in shares at the
    /// NAV of the record date instead.
    DeclareDividend {
        /// Equity or fund.
        instrument: InstrumentId,
        /// Cash minor units paid …
        amount_per_unit: Amount,
        /// … per this many minor units of the security.
        per_units: Amount,
        /// Holders of record at the end of this date are paid (at the start of the next).
        record_date: Date,
        /// The cash paid.
        cash_instrument: InstrumentId,
        /// The issuer's paying account.
        paying_account: AccountId,
        /// Reinvest in new shares at the record date's NAV (funds only).
        reinvest: bool,
    }
);

payload!(
    /// Register another ledger whose finality certificates this one will verify (dual
    /// control: an operator at its admin threshold and a regulator). Its group key is
    /// the one every certificate it ever issues verifies under (validator changes reshare
    /// it), so a registration does not go stale.
    RegisterRemoteLedger {
        /// The remote ledger's chain id (not this ledger's).
        chain: ChainId,
        /// Display name.
        name: Text<MAX_LEGAL_NAME_BYTES>,
        /// How its certificates are made.
        scheme: CertScheme,
        /// The namespace its consensus signs in.
        namespace: Text<MAX_NAMESPACE_BYTES>,
        /// Its threshold group public key.
        group_key: GroupKey,
    }
);
payload!(
    /// Suspend a registered remote ledger: proofs from it are refused until it is resumed
    /// (operator or regulator, alone: a safety brake).
    SuspendRemoteLedger {
        /// The remote ledger's chain id.
        chain: ChainId,
    }
);
payload!(
    /// Resume a suspended remote ledger (dual control, as registration).
    ResumeRemoteLedger {
        /// The remote ledger's chain id.
        chain: ChainId,
    }
);

macro_rules! operations {
    ($($(#[$doc:meta])* $variant:ident($payload:ident) = $tag:literal,)*) => {
        /// One typed operation of a transaction.
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
                pub enum Operation {
            $($(#[$doc])* $variant($payload),)*
        }

        impl Operation {
            /// Stable name of the operation.
            pub fn name(&self) -> &'static str {
                match self { $(Self::$variant(_) => stringify!($variant),)* }
            }

            /// Every operation name, in tag order.
            pub const NAMES: &'static [&'static str] = &[$(stringify!($variant),)*];
        }

        impl Write for Operation {
            fn write(&self, buf: &mut impl BufMut) {
                match self { $(Self::$variant(p) => { buf.put_u8($tag); p.write(buf); })* }
            }
        }

        impl EncodeSize for Operation {
            fn encode_size(&self) -> usize {
                1 + match self { $(Self::$variant(p) => p.encode_size(),)* }
            }
        }

        impl Read for Operation {
            type Cfg = ();
            fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, Error> {
                match u8::read(buf)? {
                    $($tag => Ok(Self::$variant($payload::read(buf)?)),)*
                    other => Err(Error::InvalidEnum(other)),
                }
            }
        }

        $(impl From<$payload> for Operation {
            fn from(p: $payload) -> Self { Self::$variant(p) }
        })*
    };
}

operations! {
    /// See [RegisterParticipant].
    RegisterParticipant(RegisterParticipant) = 0,
    /// See [UpdateParticipant].
    UpdateParticipant(UpdateParticipant) = 1,
    /// See [SuspendParticipant].
    SuspendParticipant(SuspendParticipant) = 2,
    /// See [ReinstateParticipant].
    ReinstateParticipant(ReinstateParticipant) = 3,
    /// See [AddKey].
    AddKey(AddKey) = 4,
    /// See [RotateKey].
    RotateKey(RotateKey) = 5,
    /// See [RemoveKey].
    RemoveKey(RemoveKey) = 6,
    /// See [SetThresholds].
    SetThresholds(SetThresholds) = 7,
    /// See [OpenAccount].
    OpenAccount(OpenAccount) = 8,
    /// See [FreezeAccount].
    FreezeAccount(FreezeAccount) = 9,
    /// See [UnfreezeAccount].
    UnfreezeAccount(UnfreezeAccount) = 10,
    /// See [CreateInstrument].
    CreateInstrument(CreateInstrument) = 11,
    /// See [UpdatePolicy].
    UpdatePolicy(UpdatePolicy) = 12,
    /// See [PauseInstrument].
    PauseInstrument(PauseInstrument) = 13,
    /// See [UnpauseInstrument].
    UnpauseInstrument(UnpauseInstrument) = 14,
    /// See [Mint].
    Mint(Mint) = 15,
    /// See [Burn].
    Burn(Burn) = 16,
    /// See [Transfer].
    Transfer(Transfer) = 17,
    /// See [Settle].
    Settle(Settle) = 18,
    /// See [Instruct].
    Instruct(Instruct) = 19,
    /// See [CancelInstruction].
    CancelInstruction(CancelInstruction) = 20,
    /// See [PlaceHold].
    PlaceHold(PlaceHold) = 21,
    /// See [ReleaseHold].
    ReleaseHold(ReleaseHold) = 22,
    /// See [RefundHold].
    RefundHold(RefundHold) = 23,
    /// See [FreezeHolding].
    FreezeHolding(FreezeHolding) = 24,
    /// See [UnfreezeHolding].
    UnfreezeHolding(UnfreezeHolding) = 25,
    /// See [ForcedTransfer].
    ForcedTransfer(ForcedTransfer) = 26,
    /// See [RecoverAccount].
    RecoverAccount(RecoverAccount) = 27,
    /// See [AnnounceAuction].
    AnnounceAuction(AnnounceAuction) = 28,
    /// See [SubmitBid].
    SubmitBid(SubmitBid) = 29,
    /// See [WithdrawBid].
    WithdrawBid(WithdrawBid) = 30,
    /// See [CancelAuction].
    CancelAuction(CancelAuction) = 31,
    /// See [SetServicing].
    SetServicing(SetServicing) = 32,
    /// See [ClaimEntitlement].
    ClaimEntitlement(ClaimEntitlement) = 33,
    /// See [EnableStrips].
    EnableStrips(EnableStrips) = 34,
    /// See [Strip].
    Strip(Strip) = 35,
    /// See [Reconstitute].
    Reconstitute(Reconstitute) = 36,
    /// See [OpenRepo].
    OpenRepo(OpenRepo) = 37,
    /// See [CloseRepo].
    CloseRepo(CloseRepo) = 38,
    /// See [SubstituteCollateral].
    SubstituteCollateral(SubstituteCollateral) = 39,
    /// See [PublishNav].
    PublishNav(PublishNav) = 40,
    /// See [DeclareDividend].
    DeclareDividend(DeclareDividend) = 41,
    /// See [RegisterRemoteLedger].
    RegisterRemoteLedger(RegisterRemoteLedger) = 42,
    /// See [SuspendRemoteLedger].
    SuspendRemoteLedger(SuspendRemoteLedger) = 43,
    /// See [ResumeRemoteLedger].
    ResumeRemoteLedger(ResumeRemoteLedger) = 44,
    /// See [LockCrossLedger].
    LockCrossLedger(LockCrossLedger) = 45,
    /// See [ProveCrossLedger].
    ProveCrossLedger(ProveCrossLedger) = 46,
    /// See [TransferBatch].
    TransferBatch(TransferBatch) = 47,
}

impl Operation {
    /// The remote proof the operation carries, if any.
    pub fn remote_proof(&self) -> Option<&RemoteProof> {
        match self {
            Operation::LockCrossLedger(op) => op.proof.as_ref(),
            Operation::ProveCrossLedger(op) => Some(&op.proof),
            _ => None,
        }
    }

    /// Units of execution work the operation stands for: a batch counts each transfer,
    /// every other operation one. Proposers size blocks, and admission its backlog, in
    /// these units.
    pub fn work(&self) -> usize {
        match self {
            Operation::TransferBatch(b) => b.transfers.len().max(1),
            _ => 1,
        }
    }
}

impl Instruct {
    /// The instruction id both halves share: SHA-256 over the encoded trade reference,
    /// legs and expiry.
    pub fn instruction_id(&self) -> Hash32 {
        use commonware_codec::Encode as _;
        let trade_ref = self.trade_ref.encode();
        let legs = self.legs.encode();
        let expiry = self.expires_at.encode();
        Hash32::digest(&[b"tally/instruction", &trade_ref, &legs, &expiry])
    }
}
