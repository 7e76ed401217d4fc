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
    AccountKind, InstrumentKind, Leg, Policy, Profile, SecurityIds, WeightedKey,
};
use tally_types::{
    AccountId, Amount, Hash32, HoldId, InstrumentId, Lei, PublicKey, ResultCode, Timestamp,
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
    /// A hold.
    pub fn hold(id: HoldId) -> Vec<u8> {
        key(tag::HOLD, &[&id.0.to_be_bytes()])
    }
    /// A transaction's receipt.
    pub fn receipt(tx_id: &Hash32) -> Vec<u8> {
        key(tag::RECEIPT, &[&tx_id.0])
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
}

impl Write for InstrumentStatus {
    fn write(&self, buf: &mut impl BufMut) {
        buf.put_u8(match self {
            Self::Active => 0,
            Self::Paused => 1,
            Self::Matured => 2,
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

/// A hold (escrow).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HoldRecord {
    /// The promised movement; `leg.amount` is held in `leg.from`.
    pub leg: Leg,
    /// SHA-256 hash-lock, if any.
    pub hash_lock: Option<Hash32>,
    /// Release until, refund after.
    pub deadline: Timestamp,
}
codec_struct!(HoldRecord {
    leg,
    hash_lock,
    deadline
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
