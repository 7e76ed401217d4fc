//! Domain values shared by operations and ledger state: roles, investor classes, KYC,
//! account kinds, instrument terms and compliance policy.

use crate::amount::{Amount, Rate};
use crate::codec::{BoundedVec, Text};
use crate::codec_struct;
use crate::ids::{Country, Currency, Cusip, Isin, Lei};
use crate::limits::*;
use crate::time::{Date, Timestamp};
use bytes::BufMut;
use commonware_codec::Buf;
use commonware_codec::{EncodeSize, Error, FixedSize, Read, ReadExt, Write};
use commonware_cryptography::ed25519::PublicKey;

/// Implements the codec for a field-less enum as one `u8`.
macro_rules! codec_unit_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $tag:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
                pub enum $name { $($(#[$vdoc])* $variant = $tag),* }

        impl $name {
            /// Every variant.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The variant's name.
            pub const fn name(self) -> &'static str {
                match self { $($name::$variant => stringify!($variant)),* }
            }
        }

        impl Write for $name {
            fn write(&self, buf: &mut impl BufMut) {
                buf.put_u8(*self as u8);
            }
        }
        impl FixedSize for $name {
            const SIZE: usize = 1;
        }
        impl Read for $name {
            type Cfg = ();
            fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, Error> {
                match u8::read(buf)? {
                    $($tag => Ok($name::$variant),)*
                    other => Err(Error::InvalidEnum(other)),
                }
            }
        }
    };
}

codec_unit_enum!(
    /// How a remote ledger's finality certificates are made and checked.
    CertScheme {
        /// Commonware simplex finalizations with BLS12-381 threshold signatures, MinSig
        /// variant (signatures in G1, the group key in G2), with the VRF seed: what every
        /// Tally network produces.
        ThresholdMinSigVrf = 0,
    }
);

/// Compressed size of a BLS12-381 G2 point.
pub const GROUP_KEY_BYTES: usize = 96;

/// A network's threshold group public key: a BLS12-381 G2 point, compressed (96 bytes).
/// Decoding reads the bytes only: checking the point costs a subgroup check, which must not
/// be paid for every transaction anyone submits. `RegisterRemoteLedger` checks it
/// ([GroupKey::is_valid]) once its signatures and authority are checked.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct GroupKey([u8; GROUP_KEY_BYTES]);

impl GroupKey {
    /// The key from its compressed bytes, if they are 96 bytes of a valid group key.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let key = Self(bytes.try_into().ok()?);
        key.is_valid().then_some(key)
    }

    /// The key's bytes as they are, checked for length only (a decoded key is checked by
    /// the operation that uses it).
    pub fn from_raw(bytes: [u8; GROUP_KEY_BYTES]) -> Self {
        Self(bytes)
    }

    /// Whether the bytes are a point of G2's prime-order subgroup other than the identity:
    /// refuses a bad encoding, a point off the curve or outside the subgroup.
    pub fn is_valid(&self) -> bool {
        use commonware_codec::DecodeExt as _;
        use commonware_cryptography::bls12381::primitives::group::G2;
        G2::decode(commonware_codec::Copying(&self.0[..])).is_ok()
    }

    /// The compressed bytes.
    pub fn as_bytes(&self) -> &[u8; GROUP_KEY_BYTES] {
        &self.0
    }
}

impl Write for GroupKey {
    fn write(&self, buf: &mut impl BufMut) {
        buf.put_slice(&self.0);
    }
}
impl FixedSize for GroupKey {
    const SIZE: usize = GROUP_KEY_BYTES;
}
impl Read for GroupKey {
    type Cfg = ();
    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, Error> {
        Ok(Self(<[u8; GROUP_KEY_BYTES]>::read(buf)?))
    }
}

codec_unit_enum!(
    /// Where a hold stands. A hold's record is written once and never deleted: its outcome
    /// (released or refunded) stays provable against any later state root.
    HoldStatus {
        /// The units are held; the hold may still be released or refunded.
        Held = 0,
        /// Paid to the beneficiary.
        Released = 1,
        /// Returned to the payer.
        Refunded = 2,
    }
);

codec_unit_enum!(
    /// Which side of a cross-ledger swap a hold is (docs/interop.md). The leader's hold is
    /// placed first, with the earlier deadline, and is released against a proof that the
    /// follower's hold is locked for it; the follower's hold is released against a proof
    /// that the leader's was released, and refunded only against a proof that it was
    /// refunded or was still held past its deadline.
    CrossRole {
        /// Locks first, releases first; refundable by time after its deadline.
        Leader = 0,
        /// Locks against a proof of the leader's lock; moves only on proofs of its outcome.
        Follower = 1,
    }
);

codec_unit_enum!(
    /// A participant's role. A participant may hold several.
    Role {
        /// Runs the network: onboards participants, sets policy.
        Operator = 0,
        /// Creates instruments, mints and burns them.
        Issuer = 1,
        /// Holds assets for clients (omnibus and segregated accounts).
        Custodian = 2,
        /// Trades and bids in auctions.
        Dealer = 3,
        /// Holds and trades for itself.
        Investor = 4,
        /// Supervises: freezes, forced transfers, reads everything.
        Regulator = 5,
        /// Reads everything.
        Auditor = 6,
    }
);

/// A set of roles as a bit mask (bit `n` for the role with tag `n`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Roles(u8);

impl Roles {
    /// No roles.
    pub const NONE: Roles = Roles(0);

    /// The set holding `roles`.
    pub fn of(roles: &[Role]) -> Self {
        Self(roles.iter().fold(0, |m, r| m | (1 << (*r as u8))))
    }

    /// Whether `role` is in the set.
    pub fn has(self, role: Role) -> bool {
        self.0 & (1 << (role as u8)) != 0
    }

    /// The roles in the set, in tag order.
    pub fn iter(self) -> impl Iterator<Item = Role> {
        Role::ALL.iter().copied().filter(move |r| self.has(*r))
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl Write for Roles {
    fn write(&self, buf: &mut impl BufMut) {
        buf.put_u8(self.0);
    }
}
impl FixedSize for Roles {
    const SIZE: usize = 1;
}
impl Read for Roles {
    type Cfg = ();
    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, Error> {
        let m = u8::read(buf)?;
        if m >> Role::ALL.len() != 0 {
            return Err(Error::Invalid("Roles", "unknown role bit"));
        }
        Ok(Self(m))
    }
}

codec_unit_enum!(
    /// Investor classification, used by compliance policies.
    InvestorClass {
        /// A retail investor.
        Retail = 0,
        /// An accredited investor (Reg D).
        Accredited = 1,
        /// A qualified institutional buyer (Rule 144A).
        QualifiedInstitutional = 2,
    }
);

/// A set of investor classes as a bit mask; the empty set means "any class".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InvestorClasses(u8);

impl InvestorClasses {
    /// Any class (no restriction).
    pub const ANY: InvestorClasses = InvestorClasses(0);

    /// The set holding `classes`.
    pub fn of(classes: &[InvestorClass]) -> Self {
        Self(classes.iter().fold(0, |m, c| m | (1 << (*c as u8))))
    }

    /// Whether the set is empty (any class passes).
    pub fn is_any(self) -> bool {
        self.0 == 0
    }

    /// Whether `class` passes: the set is empty or holds it.
    pub fn allows(self, class: InvestorClass) -> bool {
        self.0 == 0 || self.0 & (1 << (class as u8)) != 0
    }
}

impl Write for InvestorClasses {
    fn write(&self, buf: &mut impl BufMut) {
        buf.put_u8(self.0);
    }
}
impl FixedSize for InvestorClasses {
    const SIZE: usize = 1;
}
impl Read for InvestorClasses {
    type Cfg = ();
    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, Error> {
        let m = u8::read(buf)?;
        if m >> InvestorClass::ALL.len() != 0 {
            return Err(Error::Invalid("InvestorClasses", "unknown class bit"));
        }
        Ok(Self(m))
    }
}

codec_unit_enum!(
    /// Know-your-customer status.
    KycStatus {
        /// Not yet verified.
        Pending = 0,
        /// Verified, until the expiry date.
        Verified = 1,
        /// Verification refused or withdrawn.
        Rejected = 2,
    }
);

/// KYC status with the date on which a verification lapses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Kyc {
    /// Current status.
    pub status: KycStatus,
    /// First date on which the verification is no longer valid.
    pub expires_on: Date,
}
codec_struct!(Kyc { status, expires_on });

/// A participant's key with its approval weight.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct WeightedKey {
    /// The ed25519 public key.
    pub key: PublicKey,
    /// Weight counted toward thresholds (at least 1).
    pub weight: u16,
}
codec_struct!(WeightedKey { key, weight });

codec_unit_enum!(
    /// What an account is for.
    AccountKind {
        /// The participant's own (house) account.
        Own = 0,
        /// An omnibus account pooling several clients.
        Omnibus = 1,
        /// A segregated account for one client.
        Segregated = 2,
    }
);

codec_unit_enum!(
    /// The kind of cash a cash token represents.
    CashKind {
        /// Central-bank reserves.
        CentralBankReserve = 0,
        /// A commercial bank's deposit token.
        DepositToken = 1,
        /// A fiat-backed stablecoin.
        Stablecoin = 2,
    }
);

codec_unit_enum!(
    /// Kind of fund share.
    FundKind {
        /// Exchange-traded fund.
        Etf = 0,
        /// Money-market fund.
        Mmf = 1,
    }
);

codec_unit_enum!(
    /// Day-count convention for coupon accrual.
    DayCount {
        /// Actual/Actual (ICMA), as used for Treasury notes and bonds.
        ActActIcma = 0,
    }
);

/// Terms of a fixed-coupon note or bond.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CouponTerms {
    /// Annual coupon rate.
    pub coupon_rate: Rate,
    /// Date from which interest accrues.
    pub dated_date: Date,
    /// Date on which principal is repaid.
    pub maturity_date: Date,
    /// Coupons per year (2: semi-annual, as Treasuries pay).
    pub frequency: u8,
    /// Day-count convention.
    pub day_count: DayCount,
}
codec_struct!(CouponTerms {
    coupon_rate,
    dated_date,
    maturity_date,
    frequency,
    day_count
});

/// What an instrument is, with its kind-specific terms.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum InstrumentKind {
    /// Tokenized cash.
    Cash {
        /// ISO 4217 currency.
        currency: Currency,
        /// Reserves, deposit token or stablecoin.
        cash_kind: CashKind,
    },
    /// A Treasury bill: sold at a discount, repaid at par on maturity.
    TreasuryBill {
        /// Issue date.
        issue_date: Date,
        /// Maturity date.
        maturity_date: Date,
    },
    /// A Treasury note (2 to 10 years).
    TreasuryNote(CouponTerms),
    /// A Treasury bond (over 10 years).
    TreasuryBond(CouponTerms),
    /// A share of common equity.
    Equity,
    /// A fund share.
    Fund {
        /// ETF or MMF.
        fund_kind: FundKind,
    },
    /// A unique asset: exactly one unit, with title metadata.
    Unique {
        /// Title metadata (e.g. a registry reference).
        title: Text<MAX_TITLE_BYTES>,
    },
    /// The principal component of a stripped note or bond (STRIPS): pays par at the
    /// underlying's maturity. Units are par units of the underlying.
    StripPrincipal {
        /// The note or bond it was stripped from.
        underlying: crate::ids::InstrumentId,
        /// The underlying's maturity.
        maturity_date: Date,
    },
    /// An interest component (STRIPS): pays par on its date; fungible across every note
    /// and bond of its issuer paying interest that day. Units are units of the coupon.
    StripInterest {
        /// The interest payment date.
        payment_date: Date,
    },
}

impl InstrumentKind {
    /// Stable name of the kind.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Cash { .. } => "cash",
            Self::TreasuryBill { .. } => "treasury_bill",
            Self::TreasuryNote(_) => "treasury_note",
            Self::TreasuryBond(_) => "treasury_bond",
            Self::Equity => "equity",
            Self::Fund { .. } => "fund",
            Self::Unique { .. } => "unique",
            Self::StripPrincipal { .. } => "strip_principal",
            Self::StripInterest { .. } => "strip_interest",
        }
    }

    /// The maturity date, for kinds that mature.
    pub fn maturity_date(&self) -> Option<Date> {
        match self {
            Self::TreasuryBill { maturity_date, .. } => Some(*maturity_date),
            Self::TreasuryNote(t) | Self::TreasuryBond(t) => Some(t.maturity_date),
            Self::StripPrincipal { maturity_date, .. } => Some(*maturity_date),
            Self::StripInterest { payment_date } => Some(*payment_date),
            _ => None,
        }
    }
}

impl Write for InstrumentKind {
    fn write(&self, buf: &mut impl BufMut) {
        match self {
            Self::Cash {
                currency,
                cash_kind,
            } => {
                buf.put_u8(0);
                currency.write(buf);
                cash_kind.write(buf);
            }
            Self::TreasuryBill {
                issue_date,
                maturity_date,
            } => {
                buf.put_u8(1);
                issue_date.write(buf);
                maturity_date.write(buf);
            }
            Self::TreasuryNote(t) => {
                buf.put_u8(2);
                t.write(buf);
            }
            Self::TreasuryBond(t) => {
                buf.put_u8(3);
                t.write(buf);
            }
            Self::Equity => buf.put_u8(4),
            Self::Fund { fund_kind } => {
                buf.put_u8(5);
                fund_kind.write(buf);
            }
            Self::Unique { title } => {
                buf.put_u8(6);
                title.write(buf);
            }
            Self::StripPrincipal {
                underlying,
                maturity_date,
            } => {
                buf.put_u8(7);
                underlying.write(buf);
                maturity_date.write(buf);
            }
            Self::StripInterest { payment_date } => {
                buf.put_u8(8);
                payment_date.write(buf);
            }
        }
    }
}

impl EncodeSize for InstrumentKind {
    fn encode_size(&self) -> usize {
        1 + match self {
            Self::Cash { .. } => Currency::SIZE + CashKind::SIZE,
            Self::TreasuryBill { .. } => 2 * Date::SIZE,
            Self::TreasuryNote(t) | Self::TreasuryBond(t) => t.encode_size(),
            Self::Equity => 0,
            Self::Fund { .. } => FundKind::SIZE,
            Self::Unique { title } => title.encode_size(),
            Self::StripPrincipal { .. } => crate::ids::InstrumentId::SIZE + Date::SIZE,
            Self::StripInterest { .. } => Date::SIZE,
        }
    }
}

impl Read for InstrumentKind {
    type Cfg = ();
    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, Error> {
        Ok(match u8::read(buf)? {
            0 => Self::Cash {
                currency: Currency::read(buf)?,
                cash_kind: CashKind::read(buf)?,
            },
            1 => Self::TreasuryBill {
                issue_date: Date::read(buf)?,
                maturity_date: Date::read(buf)?,
            },
            2 => Self::TreasuryNote(CouponTerms::read(buf)?),
            3 => Self::TreasuryBond(CouponTerms::read(buf)?),
            4 => Self::Equity,
            5 => Self::Fund {
                fund_kind: FundKind::read(buf)?,
            },
            6 => Self::Unique {
                title: Text::read(buf)?,
            },
            7 => Self::StripPrincipal {
                underlying: crate::ids::InstrumentId::read(buf)?,
                maturity_date: Date::read(buf)?,
            },
            8 => Self::StripInterest {
                payment_date: Date::read(buf)?,
            },
            other => return Err(Error::InvalidEnum(other)),
        })
    }
}

/// The compliance policy of an instrument, checked on every credit and debit.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Policy {
    /// Holders must have verified, unexpired KYC.
    pub kyc_required: bool,
    /// Allowed holder jurisdictions; empty means any.
    pub allowed_jurisdictions: BoundedVec<Country, MAX_POLICY_JURISDICTIONS>,
    /// Allowed investor classes; empty means any.
    pub allowed_investor_classes: InvestorClasses,
    /// Largest balance one account may hold, in minor units.
    pub max_balance_per_holder: Option<Amount>,
    /// Largest number of accounts with a non-zero balance.
    pub max_holders: Option<u64>,
    /// Holders may not debit (sell or transfer) before this instant.
    pub lockup_until: Option<Timestamp>,
}
codec_struct!(Policy {
    kyc_required,
    allowed_jurisdictions,
    allowed_investor_classes,
    max_balance_per_holder,
    max_holders,
    lockup_until,
});

/// One movement of a settlement: `amount` of `instrument` from one account to another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Leg {
    /// Debited account.
    pub from: crate::ids::AccountId,
    /// Credited account.
    pub to: crate::ids::AccountId,
    /// Instrument moved.
    pub instrument: crate::ids::InstrumentId,
    /// Amount in minor units.
    pub amount: Amount,
}
codec_struct!(Leg {
    from,
    to,
    instrument,
    amount
});

/// Identifiers an instrument may carry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SecurityIds {
    /// ISIN, if assigned.
    pub isin: Option<Isin>,
    /// CUSIP, if assigned.
    pub cusip: Option<Cusip>,
}
codec_struct!(SecurityIds { isin, cusip });

/// A participant's identity fields, as registered or updated.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Profile {
    /// Registered legal name.
    pub legal_name: Text<MAX_LEGAL_NAME_BYTES>,
    /// Roles held.
    pub roles: Roles,
    /// Jurisdiction of the participant.
    pub jurisdiction: Country,
    /// Investor classification.
    pub investor_class: InvestorClass,
    /// KYC status and expiry.
    pub kyc: Kyc,
}
codec_struct!(Profile {
    legal_name,
    roles,
    jurisdiction,
    investor_class,
    kyc
});

/// Who is meant by a participant reference in an operation.
pub type ParticipantRef = Lei;
