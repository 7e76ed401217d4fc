//! The state layout: one table per record kind, keyed by a one-byte tag then big-endian
//! fields, valued by the record's canonical encoding. This shape maps one-to-one onto an
//! ordered authenticated key-value store (QMDB), and its order is the order of iteration.
//! `docs/state.md` describes every table.

use bytes::BufMut;
use commonware_codec::Buf;
use commonware_codec::{Encode, EncodeSize, Error, Read, ReadExt, Write};
use tally_types::codec::{BoundedVec, Text};
use tally_types::codec_struct;
use tally_types::limits::*;
use tally_types::model::{
    AccountKind, CertScheme, GroupKey, HoldStatus, InstrumentKind, Leg, Policy, Profile,
    SecurityIds, WeightedKey,
};
use tally_types::ops::{BidKind, Collateral};
use tally_types::remote::CrossLeg;
use tally_types::{
    AccountId, Amount, AuctionId, ChainId, Date, Hash32, HoldId, InstrumentId, Lei, PublicKey,
    Rate, RepoId, ResultCode, Timestamp,
};

/// Table tags, the first byte of every key.
pub mod tag {
    /// Chain metadata (last applied block).
    pub const META: u8 = 0x00;
    /// Participant by LEI.
    pub const PARTICIPANT: u8 = 0x01;
    /// Participant owning a key.
    pub const KEY_OWNER: u8 = 0x02;
    /// Next nonce of a sender key.
    pub const NONCE: u8 = 0x03;
    /// Account by id.
    pub const ACCOUNT: u8 = 0x04;
    /// Accounts of a participant (index).
    pub const ACCOUNT_BY_OWNER: u8 = 0x05;
    /// Instrument by id.
    pub const INSTRUMENT: u8 = 0x06;
    /// Instrument by ISIN (index).
    pub const ISIN: u8 = 0x07;
    /// Instrument by CUSIP (index).
    pub const CUSIP: u8 = 0x08;
    /// Holding by (account, instrument).
    pub const HOLDING: u8 = 0x09;
    /// Pending instruction by id.
    pub const INSTRUCTION: u8 = 0x0a;
    /// Pending instructions by (expiry, id) (index).
    pub const INSTRUCTION_EXPIRY: u8 = 0x0b;
    /// Hold by id.
    pub const HOLD: u8 = 0x0c;
    /// Receipt (outcome) by transaction id.
    pub const RECEIPT: u8 = 0x0d;
    /// Scheduled lifecycle events by (moment, kind, id) (index).
    pub const SCHEDULE: u8 = 0x0e;
    /// Accounts with a non-zero balance, by (instrument, account) (index).
    pub const HOLDER: u8 = 0x0f;
    /// Auction by id.
    pub const AUCTION: u8 = 0x10;
    /// Bid by (auction, sequence number).
    pub const BID: u8 = 0x11;
    /// A bidder's totals in an auction, by (auction, LEI).
    pub const BIDDER: u8 = 0x12;
    /// Who pays an instrument's coupons and redemption.
    pub const SERVICING: u8 = 0x13;
    /// Distribution (coupon, redemption) by (instrument, sequence number).
    pub const DISTRIBUTION: u8 = 0x14;
    /// Distributions being paid, by (instrument, sequence number) (index).
    pub const ACTIVE_DISTRIBUTION: u8 = 0x15;
    /// Unpaid entitlement by (instrument, distribution, account).
    pub const ENTITLEMENT: u8 = 0x17;
    /// STRIPS eligibility: a note or bond's principal component.
    pub const STRIPS: u8 = 0x18;
    /// Interest component by (issuer, payment date).
    pub const INTEREST_COMPONENT: u8 = 0x19;
    /// Repo by id.
    pub const REPO: u8 = 0x1a;
    /// Fund NAV by (fund, date).
    pub const NAV: u8 = 0x1c;
    /// Remote ledger by chain id.
    pub const REMOTE_LEDGER: u8 = 0x1d;
    /// Per-transfer outcomes of an applied transfer batch, by transaction id.
    pub const BATCH_RESULT: u8 = 0x1e;
}

fn key(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + parts.iter().map(|p| p.len()).sum::<usize>());
    k.push(tag);
    for p in parts {
        k.extend_from_slice(p);
    }
    k
}

/// Key builders, one per table.
pub mod keys {
    use super::*;

    /// The chain metadata record.
    pub fn meta() -> Vec<u8> {
        vec![tag::META]
    }
    /// A participant.
    pub fn participant(lei: &Lei) -> Vec<u8> {
        key(tag::PARTICIPANT, &[lei.as_bytes()])
    }
    /// The owner of a key.
    pub fn key_owner(k: &PublicKey) -> Vec<u8> {
        key(tag::KEY_OWNER, &[k.as_ref()])
    }
    /// A sender's next nonce.
    pub fn nonce(k: &PublicKey) -> Vec<u8> {
        key(tag::NONCE, &[k.as_ref()])
    }
    /// An account.
    pub fn account(id: AccountId) -> Vec<u8> {
        key(tag::ACCOUNT, &[&id.0.to_be_bytes()])
    }
    /// One entry of a participant's account index.
    pub fn account_by_owner(owner: &Lei, id: AccountId) -> Vec<u8> {
        key(
            tag::ACCOUNT_BY_OWNER,
            &[owner.as_bytes(), &id.0.to_be_bytes()],
        )
    }
    /// An instrument.
    pub fn instrument(id: InstrumentId) -> Vec<u8> {
        key(tag::INSTRUMENT, &[&id.0.to_be_bytes()])
    }
    /// The ISIN index.
    pub fn isin(isin: &tally_types::Isin) -> Vec<u8> {
        key(tag::ISIN, &[isin.as_bytes()])
    }
    /// The CUSIP index.
    pub fn cusip(cusip: &tally_types::Cusip) -> Vec<u8> {
        key(tag::CUSIP, &[cusip.as_bytes()])
    }
    /// A holding.
    pub fn holding(account: AccountId, instrument: InstrumentId) -> Vec<u8> {
        key(
            tag::HOLDING,
            &[&account.0.to_be_bytes(), &instrument.0.to_be_bytes()],
        )
    }
    /// The range of all holdings of an account: `[start, end)`.
    pub fn holdings_of(account: AccountId) -> (Vec<u8>, Vec<u8>) {
        let start = key(tag::HOLDING, &[&account.0.to_be_bytes()]);
        let end = match account.0.checked_add(1) {
            Some(next) => key(tag::HOLDING, &[&next.to_be_bytes()]),
            None => vec![tag::HOLDING + 1],
        };
        (start, end)
    }
    /// A pending instruction.
    pub fn instruction(id: &Hash32) -> Vec<u8> {
        key(tag::INSTRUCTION, &[&id.0])
    }
    /// An entry of the instruction expiry index.
    pub fn instruction_expiry(at: Timestamp, id: &Hash32) -> Vec<u8> {
        key(tag::INSTRUCTION_EXPIRY, &[&at.0.to_be_bytes(), &id.0])
    }
    /// A remote ledger, by chain id.
    pub fn remote_ledger(chain: &ChainId) -> Vec<u8> {
        key(tag::REMOTE_LEDGER, &[chain.as_str().as_bytes()])
    }
    /// A hold.
    pub fn hold(id: HoldId) -> Vec<u8> {
        key(tag::HOLD, &[&id.0.to_be_bytes()])
    }
    /// A transaction's receipt.
    pub fn receipt(tx_id: &Hash32) -> Vec<u8> {
        key(tag::RECEIPT, &[&tx_id.0])
    }
    /// The per-transfer outcomes of a transfer batch.
    pub fn batch_result(tx_id: &Hash32) -> Vec<u8> {
        key(tag::BATCH_RESULT, &[&tx_id.0])
    }
    /// A scheduled event.
    pub fn schedule(at: Timestamp, event: &Scheduled) -> Vec<u8> {
        let (kind, id) = event.parts();
        key(tag::SCHEDULE, &[&at.0.to_be_bytes(), &[kind], &id])
    }
    /// The schedule entries due at `now` (moment ≤ `now`): `[start, end)`.
    pub fn schedule_due(now: Timestamp) -> (Vec<u8>, Vec<u8>) {
        // The smallest key of the next millisecond: kind 0, id all zero.
        let mut end = key(tag::SCHEDULE, &[&now.plus_ms(1).0.to_be_bytes()]);
        end.extend_from_slice(&[0u8; 13]);
        (vec![tag::SCHEDULE], end)
    }
    /// An entry of the holder index.
    pub fn holder(instrument: InstrumentId, account: AccountId) -> Vec<u8> {
        key(
            tag::HOLDER,
            &[&instrument.0.to_be_bytes(), &account.0.to_be_bytes()],
        )
    }
    /// The holder index of an instrument from `after` (exclusive) on: `[start, end)`.
    pub fn holders_after(instrument: InstrumentId, after: Option<AccountId>) -> (Vec<u8>, Vec<u8>) {
        let start = match after {
            None => key(tag::HOLDER, &[&instrument.0.to_be_bytes()]),
            // The next possible key after `after`: append a zero byte.
            Some(a) => {
                let mut k = holder(instrument, a);
                k.push(0);
                k
            }
        };
        (
            start,
            prefix_end(&key(tag::HOLDER, &[&instrument.0.to_be_bytes()])),
        )
    }
    /// An auction.
    pub fn auction(id: AuctionId) -> Vec<u8> {
        key(tag::AUCTION, &[&id.0.to_be_bytes()])
    }
    /// A bid.
    pub fn bid(auction: AuctionId, seq: u32) -> Vec<u8> {
        key(tag::BID, &[&auction.0.to_be_bytes(), &seq.to_be_bytes()])
    }
    /// Every bid of an auction: `[start, end)`.
    pub fn bids_of(auction: AuctionId) -> (Vec<u8>, Vec<u8>) {
        let start = key(tag::BID, &[&auction.0.to_be_bytes()]);
        let end = prefix_end(&start);
        (start, end)
    }
    /// A bidder's totals in an auction.
    pub fn bidder(auction: AuctionId, lei: &Lei) -> Vec<u8> {
        key(tag::BIDDER, &[&auction.0.to_be_bytes(), lei.as_bytes()])
    }
    /// Every bidder of an auction: `[start, end)`.
    pub fn bidders_of(auction: AuctionId) -> (Vec<u8>, Vec<u8>) {
        let start = key(tag::BIDDER, &[&auction.0.to_be_bytes()]);
        let end = prefix_end(&start);
        (start, end)
    }
    /// An instrument's servicing.
    pub fn servicing(instrument: InstrumentId) -> Vec<u8> {
        key(tag::SERVICING, &[&instrument.0.to_be_bytes()])
    }
    /// A distribution.
    pub fn distribution(instrument: InstrumentId, seq: u32) -> Vec<u8> {
        key(
            tag::DISTRIBUTION,
            &[&instrument.0.to_be_bytes(), &seq.to_be_bytes()],
        )
    }
    /// Every distribution of an instrument: `[start, end)`.
    pub fn distributions_of(instrument: InstrumentId) -> (Vec<u8>, Vec<u8>) {
        let start = key(tag::DISTRIBUTION, &[&instrument.0.to_be_bytes()]);
        let end = prefix_end(&start);
        (start, end)
    }
    /// An entry of the active-distribution index.
    pub fn active_distribution(instrument: InstrumentId, seq: u32) -> Vec<u8> {
        key(
            tag::ACTIVE_DISTRIBUTION,
            &[&instrument.0.to_be_bytes(), &seq.to_be_bytes()],
        )
    }
    /// An unpaid entitlement.
    pub fn entitlement(instrument: InstrumentId, seq: u32, account: AccountId) -> Vec<u8> {
        key(
            tag::ENTITLEMENT,
            &[
                &instrument.0.to_be_bytes(),
                &seq.to_be_bytes(),
                &account.0.to_be_bytes(),
            ],
        )
    }
    /// A note or bond's principal component (STRIPS eligibility).
    pub fn strips(instrument: InstrumentId) -> Vec<u8> {
        key(tag::STRIPS, &[&instrument.0.to_be_bytes()])
    }
    /// The interest component of an issuer for a payment date.
    pub fn interest_component(issuer: &Lei, date: Date) -> Vec<u8> {
        key(
            tag::INTEREST_COMPONENT,
            &[issuer.as_bytes(), &date.0.to_be_bytes()],
        )
    }
    /// A fund's NAV for a date.
    pub fn nav(fund: InstrumentId, date: Date) -> Vec<u8> {
        key(tag::NAV, &[&fund.0.to_be_bytes(), &date.0.to_be_bytes()])
    }
    /// A repo.
    pub fn repo(id: RepoId) -> Vec<u8> {
        key(tag::REPO, &[&id.0.to_be_bytes()])
    }
    /// The whole table with tag `t`: `[start, end)`.
    pub fn table(t: u8) -> (Vec<u8>, Vec<u8>) {
        (vec![t], vec![t + 1])
    }
}

/// The smallest key greater than every key starting with `prefix`.
pub fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return end;
        }
    }
    vec![u8::MAX; prefix.len() + 1]
}

/// A lifecycle event waiting for its moment in the schedule table. Within one moment the
/// kinds run in this order: coupon record dates, auction closes, auction issues,
/// maturities, repo closes, dividend record moments.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scheduled {
    /// A coupon of `instrument` falls due on `date`: its holders of record are paid.
    Coupon(InstrumentId, tally_types::Date),
    /// An auction stops taking bids and is allotted.
    AuctionClose(AuctionId),
    /// An auction's awards are issued against cash.
    AuctionIssue(AuctionId),
    /// An instrument matures: principal (and the last coupon) are paid and it is burned.
    Maturity(InstrumentId),
    /// A term repo's closing legs settle.
    RepoClose(RepoId),
    /// A declared dividend reaches its record moment.
    Dividend(InstrumentId, u32),
}

impl Scheduled {
    fn parts(&self) -> (u8, [u8; 12]) {
        let mut id = [0u8; 12];
        let kind = match self {
            Self::Coupon(i, d) => {
                id[..8].copy_from_slice(&i.0.to_be_bytes());
                id[8..].copy_from_slice(&d.0.to_be_bytes());
                0
            }
            Self::AuctionClose(a) => {
                id[..8].copy_from_slice(&a.0.to_be_bytes());
                1
            }
            Self::AuctionIssue(a) => {
                id[..8].copy_from_slice(&a.0.to_be_bytes());
                2
            }
            Self::Maturity(i) => {
                id[..8].copy_from_slice(&i.0.to_be_bytes());
                3
            }
            Self::RepoClose(r) => {
                id[..8].copy_from_slice(&r.0.to_be_bytes());
                4
            }
            Self::Dividend(i, seq) => {
                id[..8].copy_from_slice(&i.0.to_be_bytes());
                id[8..].copy_from_slice(&seq.to_be_bytes());
                5
            }
        };
        (kind, id)
    }

    /// The moment and event of a schedule key; the ledger wrote it, so a malformed key
    /// is corruption.
    pub fn from_key(k: &[u8]) -> (Timestamp, Self) {
        assert!(
            k.len() == 22 && k[0] == tag::SCHEDULE,
            "corrupt schedule key"
        );
        let at = Timestamp(u64::from_be_bytes(k[1..9].try_into().expect("8 bytes")));
        let first = u64::from_be_bytes(k[10..18].try_into().expect("8 bytes"));
        let second = u32::from_be_bytes(k[18..22].try_into().expect("4 bytes"));
        let event = match k[9] {
            0 => Self::Coupon(InstrumentId(first), tally_types::Date(second)),
            1 => Self::AuctionClose(AuctionId(first)),
            2 => Self::AuctionIssue(AuctionId(first)),
            3 => Self::Maturity(InstrumentId(first)),
            4 => Self::RepoClose(RepoId(first)),
            5 => Self::Dividend(InstrumentId(first), second),
            other => panic!("corrupt schedule key kind {other}"),
        };
        (at, event)
    }
}

/// The last applied block.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Meta {
    /// Height of the last applied block (0 after genesis).
    pub height: u64,
    /// Its time.
    pub time: Timestamp,
}
codec_struct!(Meta { height, time });

/// A public key as stored: its 32 bytes, validated when the operation that registered it
/// was decoded. Records keep the bytes so that reading a participant does not decompress
/// a curve point per key (which dominated apply time).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyBytes(pub [u8; 32]);

impl From<&PublicKey> for KeyBytes {
    fn from(k: &PublicKey) -> Self {
        let mut out = [0u8; 32];
        out.copy_from_slice(k.as_ref());
        Self(out)
    }
}

impl PartialEq<PublicKey> for KeyBytes {
    fn eq(&self, other: &PublicKey) -> bool {
        self.0.as_slice() == other.as_ref()
    }
}

impl Write for KeyBytes {
    fn write(&self, buf: &mut impl BufMut) {
        buf.put_slice(&self.0);
    }
}
impl EncodeSize for KeyBytes {
    fn encode_size(&self) -> usize {
        32
    }
}
impl Read for KeyBytes {
    type Cfg = ();
    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, Error> {
        Ok(Self(<[u8; 32]>::read(buf)?))
    }
}

/// A participant's key and its approval weight, as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoredKey {
    /// The key.
    pub key: KeyBytes,
    /// Its weight toward thresholds.
    pub weight: u16,
}
codec_struct!(StoredKey { key, weight });

impl From<&WeightedKey> for StoredKey {
    fn from(k: &WeightedKey) -> Self {
        Self {
            key: KeyBytes::from(&k.key),
            weight: k.weight,
        }
    }
}

/// A registered participant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParticipantRecord {
    /// Identity fields.
    pub profile: Profile,
    /// Keys and weights.
    pub keys: BoundedVec<StoredKey, MAX_KEYS_PER_PARTICIPANT>,
    /// Weight needed to act.
    pub threshold: u16,
    /// Weight needed for key and threshold changes.
    pub admin_threshold: u16,
    /// Suspended participants can neither act nor move assets.
    pub suspended: bool,
}
codec_struct!(ParticipantRecord {
    profile,
    keys,
    threshold,
    admin_threshold,
    suspended
});

impl ParticipantRecord {
    /// Sum of key weights.
    pub fn total_weight(&self) -> u32 {
        self.keys.iter().map(|k| u32::from(k.weight)).sum()
    }
}

/// An account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountRecord {
    /// Owning participant.
    pub owner: Lei,
    /// Purpose.
    pub kind: AccountKind,
    /// A frozen account can neither be debited nor credited.
    pub frozen: bool,
}
codec_struct!(AccountRecord {
    owner,
    kind,
    frozen
});

/// Instrument lifecycle status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InstrumentStatus {
    /// Moves normally.
    Active,
    /// Nothing moves until unpaused.
    Paused,
    /// Past maturity and redeemed: nothing moves.
    Matured,
    /// Announced for auction, not issued yet: nothing moves until the issue date.
    Announced,
}

impl Write for InstrumentStatus {
    fn write(&self, buf: &mut impl BufMut) {
        buf.put_u8(match self {
            Self::Active => 0,
            Self::Paused => 1,
            Self::Matured => 2,
            Self::Announced => 3,
        });
    }
}
impl EncodeSize for InstrumentStatus {
    fn encode_size(&self) -> usize {
        1
    }
}
impl Read for InstrumentStatus {
    type Cfg = ();
    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, Error> {
        match u8::read(buf)? {
            0 => Ok(Self::Active),
            1 => Ok(Self::Paused),
            2 => Ok(Self::Matured),
            3 => Ok(Self::Announced),
            other => Err(Error::InvalidEnum(other)),
        }
    }
}

/// An instrument with its terms, policy and running totals.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstrumentRecord {
    /// Issuing participant.
    pub issuer: Lei,
    /// Display name.
    pub name: Text<MAX_INSTRUMENT_NAME_BYTES>,
    /// ISIN and CUSIP.
    pub ids: SecurityIds,
    /// Decimal places of the minor unit.
    pub scale: u8,
    /// Amounts must be multiples of this.
    pub min_increment: Amount,
    /// Kind and terms.
    pub kind: InstrumentKind,
    /// Compliance policy.
    pub policy: Policy,
    /// Lifecycle status.
    pub status: InstrumentStatus,
    /// Units in existence: the sum of every holding's balance.
    pub total_supply: Amount,
    /// Accounts with a non-zero balance.
    pub holder_count: u64,
    /// The register is closed while a coupon or redemption is paid to the holders of
    /// record: nothing moves, so the balances paid on are those at the record moment.
    pub book_closed: bool,
}
codec_struct!(InstrumentRecord {
    issuer,
    name,
    ids,
    scale,
    min_increment,
    kind,
    policy,
    status,
    total_supply,
    holder_count,
    book_closed,
});

/// One account's position in one instrument.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Holding {
    /// Units owned (including held and frozen units).
    pub balance: Amount,
    /// Units locked by holds and pending instructions.
    pub held: Amount,
    /// Units frozen by the regulator.
    pub frozen: Amount,
}
codec_struct!(Holding {
    balance,
    held,
    frozen
});

impl Holding {
    /// Units that may be debited: balance less held and frozen.
    pub fn available(&self) -> Amount {
        self.balance
            .saturating_sub(self.held)
            .saturating_sub(self.frozen)
    }

    /// Whether nothing is recorded (the holding can be deleted).
    pub fn is_empty(&self) -> bool {
        self.balance == 0 && self.held == 0 && self.frozen == 0
    }
}

/// A pending (half-matched) instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstructionRecord {
    /// Agreed trade reference.
    pub trade_ref: Text<MAX_TRADE_REF_BYTES>,
    /// Every leg of the trade.
    pub legs: BoundedVec<Leg, MAX_LEGS>,
    /// Unmatched halves lapse at this instant.
    pub expires_at: Timestamp,
    /// Participants whose halves are in, ascending; their debit legs are held.
    pub submitted: BoundedVec<Lei, MAX_LEGS>,
    /// Settled: the record stays until its expiry as a tombstone, so resubmitting the
    /// same instruction cannot settle the trade twice.
    pub matched: bool,
}
codec_struct!(InstructionRecord {
    trade_ref,
    legs,
    expires_at,
    submitted,
    matched
});

/// A ledger whose finality this one verifies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteLedgerRecord {
    /// Display name.
    pub name: Text<MAX_LEGAL_NAME_BYTES>,
    /// How its certificates are made.
    pub scheme: CertScheme,
    /// The namespace its consensus signs in.
    pub namespace: Text<MAX_NAMESPACE_BYTES>,
    /// Its threshold group public key.
    pub group_key: GroupKey,
    /// Suspended: its proofs are refused.
    pub suspended: bool,
}
codec_struct!(RemoteLedgerRecord {
    name,
    scheme,
    namespace,
    group_key,
    suspended
});

/// A hold (escrow).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HoldRecord {
    /// The promised movement; `leg.amount` is held in `leg.from`.
    pub leg: Leg,
    /// SHA-256 hash-lock, if any.
    pub hash_lock: Option<Hash32>,
    /// Release until, refund after.
    pub deadline: Timestamp,
    /// Held, or its final outcome: the record outlives the hold, so that the outcome can
    /// be proven later (cross-ledger settlement releases or refunds against it).
    pub status: HoldStatus,
    /// For one leg of a cross-ledger swap: its side and its counterpart on the remote
    /// ledger (docs/interop.md).
    pub cross: Option<CrossLeg>,
}
codec_struct!(HoldRecord {
    leg,
    hash_lock,
    deadline,
    status,
    cross
});

/// The outcome of a transaction as stored, so that it survives restarts and can be proven
/// against the state root. An `Ok` record is final; a rejection is replaced by the outcome
/// of the next block that includes the same transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReceiptRecord {
    /// Height of the block that included the transaction.
    pub height: u64,
    /// Position of the transaction in that block.
    pub index: u32,
    /// The stable numeric result code ([`ResultCode::code`]).
    pub code: u16,
    /// Index of the operation that failed, if one did.
    pub failed_op: Option<u16>,
}
codec_struct!(ReceiptRecord {
    height,
    index,
    code,
    failed_op
});

impl ReceiptRecord {
    /// A record of `code` for the transaction at `index` in block `height`.
    pub fn new(height: u64, index: u32, code: ResultCode, failed_op: Option<u16>) -> Self {
        Self {
            height,
            index,
            code: code.code(),
            failed_op,
        }
    }

    /// The result code. Only assigned codes are ever written, so an unknown one is
    /// corruption: stop.
    pub fn result_code(&self) -> ResultCode {
        match ResultCode::from_code(self.code) {
            Some(code) => code,
            None => panic!("corrupt state record: unassigned result code {}", self.code),
        }
    }
}

/// One refused transfer of a batch: its position and result code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchFailure {
    /// Position of the transfer in the batch.
    pub index: u16,
    /// The stable numeric result code.
    pub code: u16,
}
codec_struct!(BatchFailure { index, code });

/// The per-transfer outcomes of a transfer batch that applied: how many transfers it
/// held and, in order, the ones refused (every other transfer applied). Written once, with
/// the transaction's `Ok` receipt, so a Merkle proof of it proves each transfer's fate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchResult {
    /// Transfers in the batch.
    pub transfers: u16,
    /// The refused ones, by ascending position.
    pub failures: BoundedVec<BatchFailure, MAX_BATCH_TRANSFERS>,
}
codec_struct!(BatchResult {
    transfers,
    failures
});

impl BatchResult {
    /// How many transfers applied.
    pub fn applied(&self) -> u16 {
        let refused = u16::try_from(self.failures.len()).expect("at most one failure per transfer");
        assert!(refused <= self.transfers, "more failures than transfers");
        self.transfers - refused
    }

    /// The outcome of the transfer at `index`: `Ok` unless listed as refused. An unknown
    /// code is corruption: stop.
    pub fn code_of(&self, index: u16) -> ResultCode {
        assert!(index < self.transfers, "no transfer {index} in this batch");
        match self.failures.binary_search_by_key(&index, |f| f.index) {
            Err(_) => ResultCode::Ok,
            Ok(at) => match ResultCode::from_code(self.failures[at].code) {
                Some(code) => code,
                None => panic!("corrupt state record: unassigned result code"),
            },
        }
    }
}

macro_rules! stored_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $tag:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $name { $($(#[$vdoc])* $variant),* }

        impl $name {
            /// Stable name.
            pub const fn name(self) -> &'static str {
                match self { $(Self::$variant => stringify!($variant)),* }
            }
        }
        impl Write for $name {
            fn write(&self, buf: &mut impl BufMut) {
                buf.put_u8(match self { $(Self::$variant => $tag),* });
            }
        }
        impl EncodeSize for $name {
            fn encode_size(&self) -> usize {
                1
            }
        }
        impl Read for $name {
            type Cfg = ();
            fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, Error> {
                match u8::read(buf)? {
                    $($tag => Ok(Self::$variant),)*
                    other => Err(Error::InvalidEnum(other)),
                }
            }
        }
    };
}

stored_enum!(
    /// Where an auction is in its life.
    AuctionStatus {
        /// Taking bids.
        Open = 0,
        /// Allotted; awards wait for the issue date.
        Closed = 1,
        /// Awards minted and paid.
        Issued = 2,
        /// No competitive bid: nothing awarded, every hold released.
        Failed = 3,
        /// Cancelled by the issuer before the close.
        Cancelled = 4,
    }
);

/// What the close of an auction found (31 CFR 356.23(b)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuctionResult {
    /// The highest accepted rate (yield or discount rate).
    pub stop_out: Rate,
    /// The lowest accepted competitive rate.
    pub low_rate: Rate,
    /// Share of each bid at the stop-out awarded, in basis points (rounded up).
    pub pct_bp: u16,
    /// The single price, in millionths per 100 of par.
    pub price: u64,
    /// Accrued interest per 100 of par, as the fraction `accrued_num / accrued_den`.
    pub accrued_num: u128,
    /// Denominator of the accrued interest (never zero).
    pub accrued_den: u128,
    /// The note's or bond's coupon rate (0 for a bill).
    pub coupon: Rate,
    /// Noncompetitive par awarded.
    pub noncompetitive: Amount,
    /// Competitive par awarded.
    pub competitive: Amount,
    /// Par tendered, as bid.
    pub tendered: Amount,
    /// Bid-to-cover in hundredths (tendered ÷ awarded, half up).
    pub bid_to_cover: u64,
    /// Par actually issued (awards whose settlement failed are not issued).
    pub issued: Amount,
}
codec_struct!(AuctionResult {
    stop_out,
    low_rate,
    pct_bp,
    price,
    accrued_num,
    accrued_den,
    coupon,
    noncompetitive,
    competitive,
    tendered,
    bid_to_cover,
    issued,
});

impl AuctionResult {
    /// Everything awarded.
    pub fn total_awarded(&self) -> Amount {
        self.noncompetitive.saturating_add(self.competitive)
    }
}

/// An auction: its announced terms, running totals and, after the close, its result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuctionRecord {
    /// The issuer that announced it.
    pub issuer: Lei,
    /// The security sold.
    pub security: InstrumentId,
    /// Whether the security was created by the announcement (deleted if it fails).
    pub new_security: bool,
    /// Par offered.
    pub offering: Amount,
    /// Minimum and multiple of every bid and award (the security's increment).
    pub increment: Amount,
    /// Every competitive rate is a multiple of this (bills 0.005%, notes 0.001%).
    pub rate_tick: u64,
    /// Bids are taken before this instant.
    pub close_at: Timestamp,
    /// Awards are issued at the start of this date.
    pub issue_date: Date,
    /// Cash paid.
    pub cash_instrument: InstrumentId,
    /// The issuer's account paid.
    pub issuer_cash_account: AccountId,
    /// Noncompetitive limit per bidder.
    pub max_noncompetitive_per_bidder: Amount,
    /// Noncompetitive limit in all.
    pub max_noncompetitive_total: Amount,
    /// Award cap per competitive bidder, in basis points of the offering.
    pub award_cap_bp: u16,
    /// Highest price, in millionths per 100 (sizes the cash held per bid).
    pub max_price: u64,
    /// Where the auction is.
    pub status: AuctionStatus,
    /// Sequence number of the next bid.
    pub next_seq: u32,
    /// Bids currently recorded.
    pub bids: u32,
    /// Noncompetitive par bid so far.
    pub noncompetitive_total: Amount,
    /// Par bid so far (withdrawn bids excluded).
    pub tendered: Amount,
    /// The close's result.
    pub result: Option<AuctionResult>,
}
codec_struct!(AuctionRecord {
    issuer,
    security,
    new_security,
    offering,
    increment,
    rate_tick,
    close_at,
    issue_date,
    cash_instrument,
    issuer_cash_account,
    max_noncompetitive_per_bidder,
    max_noncompetitive_total,
    award_cap_bp,
    max_price,
    status,
    next_seq,
    bids,
    noncompetitive_total,
    tendered,
    result,
});

/// One bid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BidRecord {
    /// The bidder.
    pub bidder: Lei,
    /// The account that pays and receives.
    pub account: AccountId,
    /// Noncompetitive or competitive at a rate.
    pub kind: BidKind,
    /// Par bid.
    pub amount: Amount,
    /// Cash held for it until the close.
    pub hold: Amount,
    /// Par awarded (set at the close).
    pub award: Amount,
}
codec_struct!(BidRecord {
    bidder,
    account,
    kind,
    amount,
    hold,
    award
});

/// A bidder's totals in one auction (the cap, the noncompetitive limit and the payment
/// are per bidder).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BidderRecord {
    /// The one account all its bids use.
    pub account: AccountId,
    /// Whether its bids are competitive (a bidder may not mix).
    pub competitive: bool,
    /// Bids recorded.
    pub bids: u32,
    /// Par bid.
    pub bid: Amount,
    /// Cash held for its bids.
    pub held: Amount,
    /// Par awarded (at the close).
    pub award: Amount,
    /// What it pays for the award, in cash minor units (at the close).
    pub cost: Amount,
    /// The issue's outcome for this bidder: 0 until issued or if it settled, else the
    /// result code that refused it.
    pub outcome: u16,
}
codec_struct!(BidderRecord {
    account,
    competitive,
    bids,
    bid,
    held,
    award,
    cost,
    outcome
});

/// Who pays an instrument's coupons and redemption.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServicingRecord {
    /// The issuer's paying account.
    pub paying_account: AccountId,
    /// The cash paid.
    pub cash_instrument: InstrumentId,
    /// Sequence number of the next distribution.
    pub next_distribution: u32,
}
codec_struct!(ServicingRecord {
    paying_account,
    cash_instrument,
    next_distribution
});

stored_enum!(
    /// What a distribution pays.
    DistributionKind {
        /// A coupon.
        Coupon = 0,
        /// Principal (and, for a note or bond, the last coupon); units are burned.
        Redemption = 1,
        /// A cash dividend on an equity or fund.
        Dividend = 2,
        /// A fund dividend reinvested in new shares at the record date's NAV.
        Reinvested = 3,
    }
);

stored_enum!(
    /// Where a distribution is.
    DistributionStatus {
        /// The paying account could not hold the gross amount; retried every block.
        Unfunded = 0,
        /// Funded; the cursor pays holders in account order.
        Paying = 1,
        /// Every holder of record visited.
        Done = 2,
        /// Declared; waits for its record moment.
        Declared = 3,
    }
);

/// A payment to every holder of record of an instrument: `floor(balance × num / den)`
/// cash minor units per holder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DistributionRecord {
    /// Coupon or redemption.
    pub kind: DistributionKind,
    /// The payment date (record moment: its start, 00:00 UTC).
    pub date: Date,
    /// Cash minor units per security minor unit: numerator.
    pub per_unit_num: u128,
    /// Denominator (never zero).
    pub per_unit_den: u128,
    /// The issuer's paying account.
    pub paying_account: AccountId,
    /// The cash paid.
    pub cash_instrument: InstrumentId,
    /// Where it is.
    pub status: DistributionStatus,
    /// The last account paid; the next payment goes to the next holder after it.
    pub cursor: Option<AccountId>,
    /// Supply at the record moment.
    pub supply: Amount,
    /// `floor(supply × num / den)`: what is held in the paying account.
    pub gross: Amount,
    /// Paid to holders.
    pub paid: Amount,
    /// Left held as entitlements for holders whose credit was refused.
    pub unpaid: Amount,
    /// Released back to the issuer when done: rounding remainder and the issuer's own
    /// holdings' share.
    pub retained: Amount,
    /// Holders paid.
    pub holders: u64,
}
codec_struct!(DistributionRecord {
    kind,
    date,
    per_unit_num,
    per_unit_den,
    paying_account,
    cash_instrument,
    status,
    cursor,
    supply,
    gross,
    paid,
    unpaid,
    retained,
    holders,
});

stored_enum!(
    /// Where a repo is.
    RepoStatus {
        /// Collateral with the lender, cash with the borrower.
        Open = 0,
        /// The closing legs could not settle; either party may retry.
        Failed = 1,
        /// Closed: collateral back, repurchase price paid.
        Closed = 2,
    }
);

/// A repo: a sale of collateral for cash with an agreed repurchase.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepoRecord {
    /// Delivers collateral, receives cash.
    pub borrower_account: AccountId,
    /// Receives collateral, pays cash.
    pub lender_account: AccountId,
    /// Collateral now with the lender.
    pub collateral: BoundedVec<Collateral, MAX_REPO_COLLATERAL>,
    /// Cash lent.
    pub cash_instrument: InstrumentId,
    /// Cash amount.
    pub cash_amount: Amount,
    /// Repo rate (ACT/360).
    pub rate: Rate,
    /// Opening moment.
    pub opened_at: Timestamp,
    /// Closing date, if a term repo.
    pub maturity: Option<Date>,
    /// Where it is.
    pub status: RepoStatus,
    /// The code that refused the last close attempt (0 if none).
    pub failure: u16,
    /// Coupons the lender received on collateral since `counted_to`, netted off the
    /// repurchase price (manufactured payments), counted up to `counted_to`.
    pub manufactured: Amount,
    /// Coupons with a record moment after this instant are not yet counted.
    pub counted_to: Timestamp,
}
codec_struct!(RepoRecord {
    borrower_account,
    lender_account,
    collateral,
    cash_instrument,
    cash_amount,
    rate,
    opened_at,
    maturity,
    status,
    failure,
    manufactured,
    counted_to,
});

/// Encodes a record for storage.
pub fn encode<T: Encode>(value: &T) -> Vec<u8> {
    value.encode().to_vec()
}

/// Decodes a stored record. The ledger wrote it, so failure is corruption: stop.
pub fn decode<T: Read<Cfg = ()>>(bytes: &[u8]) -> T {
    use commonware_codec::Decode as _;
    match T::decode_cfg(commonware_codec::Copying(bytes), &()) {
        Ok(v) => v,
        Err(e) => panic!("corrupt state record: {e}"),
    }
}
