//! The genesis file: a reviewable JSON document with the chain id and time, the
//! validators (identity keys and addresses), the network's threshold public key, and the
//! ledger's initial participants, accounts, instruments and balances.
//!
//! Amounts are decimal strings in the instrument's scale, dates are `YYYY-MM-DD`, keys are
//! hex; nothing in it is secret. `tally genesis validate` checks it the way a node does
//! before starting.

use crate::app::Scheme;
use commonware_codec::{DecodeExt as _, Encode as _, Read as _};
use commonware_cryptography::bls12381::primitives::sharing::{ModeVersion, Sharing};
use commonware_cryptography::bls12381::primitives::variant::MinSig;
use commonware_cryptography::ed25519;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::num::NonZeroU32;
use tally_ledger::{Genesis, Ledger, MemStore};
use tally_types::amount::{format_amount, parse_amount};
use tally_types::codec::{BoundedVec, Text};
use tally_types::model::*;
use tally_types::ops::{CreateInstrument, Mint, OpenAccount, RegisterParticipant};
use tally_types::{
    AccountId, ChainId, Country, Currency, Cusip, Date, InstrumentId, Isin, Lei, Operation, Rate,
    Timestamp,
};

/// Lower-case hex of bytes.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bytes from hex.
pub fn from_hex(s: &str) -> Result<Vec<u8>, GenesisError> {
    if !s.is_ascii() || !s.len().is_multiple_of(2) {
        return Err(GenesisError::Invalid(format!("not hex: {s}")));
    }
    (0..s.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(&s[i..i + 2], 16)
                .map_err(|_| GenesisError::Invalid(format!("bad hex: {s}")))
        })
        .collect()
}

/// Why a genesis file is refused.
#[derive(Debug, thiserror::Error)]
pub enum GenesisError {
    /// Not valid JSON for this schema.
    #[error("genesis JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A field is invalid.
    #[error("genesis: {0}")]
    Invalid(String),
}

fn invalid<T>(msg: impl Into<String>) -> Result<T, GenesisError> {
    Err(GenesisError::Invalid(msg.into()))
}

/// A validator as listed in genesis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidatorEntry {
    /// Display name.
    pub name: String,
    /// Ed25519 identity key (hex): authenticates p2p links and consensus messages.
    pub public_key: String,
    /// Address peers dial.
    pub p2p_address: SocketAddr,
    /// Address of its HTTP API.
    pub api_address: SocketAddr,
}

/// The network's threshold key (public parts only).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThresholdEntry {
    /// BLS12-381 group public key (hex): verifies every finality certificate.
    pub group_public_key: String,
    /// The public polynomial of the sharing (hex of its canonical encoding).
    pub public_polynomial: String,
}

/// A participant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ParticipantEntry {
    /// LEI.
    pub lei: String,
    /// Legal name.
    pub legal_name: String,
    /// Roles: operator, issuer, custodian, dealer, investor, regulator, auditor.
    pub roles: Vec<String>,
    /// ISO 3166 alpha-2.
    pub jurisdiction: String,
    /// retail, accredited or qualified_institutional.
    pub investor_class: String,
    /// pending, verified or rejected.
    pub kyc_status: String,
    /// YYYY-MM-DD.
    pub kyc_expires_on: String,
    /// Keys (hex) and weights.
    pub keys: Vec<KeyEntry>,
    /// Weight to act.
    pub threshold: u16,
    /// Weight to change keys.
    pub admin_threshold: u16,
}

/// A key and its weight.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct KeyEntry {
    /// Ed25519 public key (hex).
    pub public_key: String,
    /// Weight.
    pub weight: u16,
}

/// An account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountEntry {
    /// Account id.
    pub id: u64,
    /// Owner LEI.
    pub owner: String,
    /// own, omnibus or segregated.
    pub kind: String,
}

/// An instrument.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InstrumentEntry {
    /// Instrument id.
    pub id: u64,
    /// Issuer LEI.
    pub issuer: String,
    /// Display name.
    pub name: String,
    /// ISIN, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isin: Option<String>,
    /// CUSIP, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cusip: Option<String>,
    /// Decimal places.
    pub scale: u8,
    /// Minimum increment, decimal in the instrument's scale.
    pub min_increment: String,
    /// Kind and terms.
    pub kind: KindEntry,
    /// Compliance policy.
    pub policy: PolicyEntry,
}

/// Instrument kind and terms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum KindEntry {
    /// Tokenized cash.
    Cash {
        /// ISO 4217.
        currency: String,
        /// central_bank_reserve, deposit_token or stablecoin.
        cash_kind: String,
    },
    /// Treasury bill.
    TreasuryBill {
        /// YYYY-MM-DD.
        issue_date: String,
        /// YYYY-MM-DD.
        maturity_date: String,
    },
    /// Treasury note.
    TreasuryNote(CouponEntry),
    /// Treasury bond.
    TreasuryBond(CouponEntry),
    /// Equity.
    Equity,
    /// Fund share.
    Fund {
        /// etf or mmf.
        fund_kind: String,
    },
    /// Unique asset.
    Unique {
        /// Title metadata.
        title: String,
    },
    /// STRIPS principal component.
    StripPrincipal {
        /// The note or bond it comes from.
        underlying: u64,
        /// The underlying's maturity, YYYY-MM-DD.
        maturity_date: String,
    },
    /// STRIPS interest component.
    StripInterest {
        /// Payment date, YYYY-MM-DD.
        payment_date: String,
    },
}

/// Coupon terms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CouponEntry {
    /// Percent, e.g. "4.125%".
    pub coupon_rate: String,
    /// YYYY-MM-DD.
    pub dated_date: String,
    /// YYYY-MM-DD.
    pub maturity_date: String,
}

/// Compliance policy.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PolicyEntry {
    /// Holders need verified KYC.
    pub kyc_required: bool,
    /// Allowed jurisdictions (empty: any).
    #[serde(default)]
    pub allowed_jurisdictions: Vec<String>,
    /// Allowed investor classes (empty: any).
    #[serde(default)]
    pub allowed_investor_classes: Vec<String>,
    /// Largest balance per holder, decimal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_balance_per_holder: Option<String>,
    /// Largest number of holders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_holders: Option<u64>,
    /// Lock-up end, ms since epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lockup_until_ms: Option<u64>,
}

/// An initial balance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalanceEntry {
    /// Account id.
    pub account: u64,
    /// Instrument id.
    pub instrument: u64,
    /// Decimal amount in the instrument's scale.
    pub amount: String,
}

/// The ledger's initial state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// Participants.
    pub participants: Vec<ParticipantEntry>,
    /// Accounts.
    pub accounts: Vec<AccountEntry>,
    /// Instruments.
    pub instruments: Vec<InstrumentEntry>,
    /// Balances.
    pub balances: Vec<BalanceEntry>,
}

/// The whole genesis file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisFile {
    /// Chain id, signed into every transaction.
    pub chain_id: String,
    /// Genesis time, ms since epoch.
    pub genesis_time_ms: u64,
    /// Validators.
    pub validators: Vec<ValidatorEntry>,
    /// Threshold public key.
    pub threshold: ThresholdEntry,
    /// Initial ledger state.
    pub ledger: LedgerEntry,
}

fn name_of<T: Copy>(
    all: &[T],
    name: impl Fn(T) -> &'static str,
    want: &str,
    what: &str,
) -> Result<T, GenesisError> {
    all.iter()
        .copied()
        .find(|v| snake(name(*v)) == want)
        .ok_or_else(|| GenesisError::Invalid(format!("unknown {what}: {want}")))
}

/// `QualifiedInstitutional` -> `qualified_institutional`.
pub fn snake(camel: &str) -> String {
    let mut out = String::new();
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

fn lei(s: &str) -> Result<Lei, GenesisError> {
    Lei::parse(s).map_err(|e| GenesisError::Invalid(format!("{s}: {e}")))
}

fn date(s: &str) -> Result<Date, GenesisError> {
    Date::parse(s).ok_or_else(|| GenesisError::Invalid(format!("bad date {s}")))
}

/// Parses a hex ed25519 public key.
pub fn public_key(s: &str) -> Result<ed25519::PublicKey, GenesisError> {
    let bytes = from_hex(s)?;
    ed25519::PublicKey::decode(commonware_codec::Copying(&bytes))
        .map_err(|e| GenesisError::Invalid(format!("key {s}: {e}")))
}

fn text<const N: usize>(s: &str) -> Result<Text<N>, GenesisError> {
    Text::new(s).ok_or_else(|| GenesisError::Invalid(format!("text too long or invalid: {s}")))
}

impl GenesisFile {
    /// Parses JSON.
    pub fn from_json(json: &str) -> Result<Self, GenesisError> {
        Ok(serde_json::from_str(json)?)
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The chain id.
    pub fn chain(&self) -> Result<ChainId, GenesisError> {
        ChainId::new(&self.chain_id).ok_or_else(|| GenesisError::Invalid("chain_id".into()))
    }

    /// Validator identity keys, in file order.
    pub fn validator_keys(&self) -> Result<Vec<ed25519::PublicKey>, GenesisError> {
        self.validators
            .iter()
            .map(|v| public_key(&v.public_key))
            .collect()
    }

    /// The public polynomial of the threshold key.
    pub fn polynomial(&self) -> Result<Sharing<MinSig>, GenesisError> {
        let bytes = from_hex(&self.threshold.public_polynomial)?;
        let n = NonZeroU32::new(u32::try_from(self.validators.len()).unwrap_or(0))
            .ok_or_else(|| GenesisError::Invalid("no validators".into()))?;
        let sharing = Sharing::<MinSig>::read_cfg(
            &mut commonware_codec::Copying(&bytes),
            &(n, ModeVersion::v0()),
        )
        .map_err(|e| GenesisError::Invalid(format!("public polynomial: {e}")))?;
        if to_hex(&sharing.public().encode()) != self.threshold.group_public_key {
            return invalid("group_public_key does not match the polynomial");
        }
        Ok(sharing)
    }

    /// The ledger genesis (operations applied at block 1).
    pub fn ledger_genesis(&self) -> Result<Genesis, GenesisError> {
        let mut ops = Vec::new();
        for p in &self.ledger.participants {
            ops.push(Operation::RegisterParticipant(participant(p)?));
        }
        for a in &self.ledger.accounts {
            let kind = name_of(AccountKind::ALL, AccountKind::name, &a.kind, "account kind")?;
            ops.push(Operation::OpenAccount(OpenAccount {
                account: AccountId(a.id),
                owner: lei(&a.owner)?,
                kind,
            }));
        }
        for i in &self.ledger.instruments {
            ops.push(Operation::CreateInstrument(instrument(i)?));
        }
        for b in &self.ledger.balances {
            let inst = self
                .ledger
                .instruments
                .iter()
                .find(|i| i.id == b.instrument)
                .ok_or_else(|| {
                    GenesisError::Invalid(format!("balance of unknown instrument {}", b.instrument))
                })?;
            let amount = parse_amount(&b.amount, inst.scale)
                .ok_or_else(|| GenesisError::Invalid(format!("amount {}", b.amount)))?;
            ops.push(Operation::Mint(Mint {
                instrument: InstrumentId(b.instrument),
                to: AccountId(b.account),
                amount,
            }));
        }
        Ok(Genesis {
            time: Timestamp(self.genesis_time_ms),
            operations: ops,
        })
    }

    /// Every check a node makes before starting: identifiers, keys, addresses, the
    /// threshold key, and that the ledger genesis applies.
    pub fn validate(&self) -> Result<(), GenesisError> {
        let chain = self.chain()?;
        let keys = self.validator_keys()?;
        if keys.is_empty() {
            return invalid("no validators");
        }
        let mut sorted = keys.clone();
        sorted.sort();
        sorted.dedup();
        if sorted.len() != keys.len() {
            return invalid("duplicate validator key");
        }
        let mut addrs: Vec<SocketAddr> = self
            .validators
            .iter()
            .flat_map(|v| [v.p2p_address, v.api_address])
            .collect();
        addrs.sort();
        addrs.dedup();
        if addrs.len() != 2 * self.validators.len() {
            return invalid("duplicate validator address");
        }
        let polynomial = self.polynomial()?;
        let participants: commonware_utils::ordered::Set<ed25519::PublicKey> =
            commonware_utils::TryCollect::try_collect(keys.into_iter())
                .map_err(|_| GenesisError::Invalid("validator set".into()))?;
        // The same conditions the consensus scheme asserts, checked here as errors.
        use commonware_utils::ordered::Quorum as _;
        let fits = usize::try_from(polynomial.total().get()).ok() == Some(participants.len())
            && polynomial.required() == participants.quorum::<commonware_utils::N3f1>();
        if !fits {
            return invalid("threshold polynomial does not fit the validator set (n and 2f+1)");
        }
        let _ = Scheme::verifier(crate::engine::CONSENSUS_NAMESPACE, participants, polynomial);
        let genesis = self.ledger_genesis()?;
        Ledger::new(chain)
            .init_genesis(&mut MemStore::new(), &genesis)
            .map_err(|e| GenesisError::Invalid(format!("ledger genesis: {e}")))
    }
}

/// The registration a participant entry describes.
pub fn participant(p: &ParticipantEntry) -> Result<RegisterParticipant, GenesisError> {
    let roles: Vec<Role> = p
        .roles
        .iter()
        .map(|r| name_of(Role::ALL, Role::name, r, "role"))
        .collect::<Result<_, _>>()?;
    let keys: Vec<WeightedKey> = p
        .keys
        .iter()
        .map(|k| {
            Ok(WeightedKey {
                key: public_key(&k.public_key)?,
                weight: k.weight,
            })
        })
        .collect::<Result<_, GenesisError>>()?;
    Ok(RegisterParticipant {
        lei: lei(&p.lei)?,
        profile: Profile {
            legal_name: text(&p.legal_name)?,
            roles: Roles::of(&roles),
            jurisdiction: Country::parse(&p.jurisdiction)
                .map_err(|e| GenesisError::Invalid(e.to_string()))?,
            investor_class: name_of(
                InvestorClass::ALL,
                InvestorClass::name,
                &p.investor_class,
                "investor class",
            )?,
            kyc: Kyc {
                status: name_of(KycStatus::ALL, KycStatus::name, &p.kyc_status, "KYC status")?,
                expires_on: date(&p.kyc_expires_on)?,
            },
        },
        keys: BoundedVec::new(keys).ok_or_else(|| GenesisError::Invalid("too many keys".into()))?,
        threshold: p.threshold,
        admin_threshold: p.admin_threshold,
    })
}

fn coupon(c: &CouponEntry) -> Result<CouponTerms, GenesisError> {
    Ok(CouponTerms {
        coupon_rate: Rate::parse_percent(&c.coupon_rate)
            .ok_or_else(|| GenesisError::Invalid(format!("rate {}", c.coupon_rate)))?,
        dated_date: date(&c.dated_date)?,
        maturity_date: date(&c.maturity_date)?,
        frequency: 2,
        day_count: DayCount::ActActIcma,
    })
}

/// The creation an instrument entry describes.
pub fn instrument(i: &InstrumentEntry) -> Result<CreateInstrument, GenesisError> {
    let kind = match &i.kind {
        KindEntry::Cash {
            currency,
            cash_kind,
        } => InstrumentKind::Cash {
            currency: Currency::parse(currency)
                .map_err(|e| GenesisError::Invalid(e.to_string()))?,
            cash_kind: name_of(CashKind::ALL, CashKind::name, cash_kind, "cash kind")?,
        },
        KindEntry::TreasuryBill {
            issue_date,
            maturity_date,
        } => InstrumentKind::TreasuryBill {
            issue_date: date(issue_date)?,
            maturity_date: date(maturity_date)?,
        },
        KindEntry::TreasuryNote(c) => InstrumentKind::TreasuryNote(coupon(c)?),
        KindEntry::TreasuryBond(c) => InstrumentKind::TreasuryBond(coupon(c)?),
        KindEntry::Equity => InstrumentKind::Equity,
        KindEntry::Fund { fund_kind } => InstrumentKind::Fund {
            fund_kind: name_of(FundKind::ALL, FundKind::name, fund_kind, "fund kind")?,
        },
        KindEntry::Unique { title } => InstrumentKind::Unique {
            title: text(title)?,
        },
        KindEntry::StripPrincipal {
            underlying,
            maturity_date,
        } => InstrumentKind::StripPrincipal {
            underlying: InstrumentId(*underlying),
            maturity_date: date(maturity_date)?,
        },
        KindEntry::StripInterest { payment_date } => InstrumentKind::StripInterest {
            payment_date: date(payment_date)?,
        },
    };
    let amount = |s: &str| {
        parse_amount(s, i.scale).ok_or_else(|| GenesisError::Invalid(format!("amount {s}")))
    };
    let mut jurisdictions: Vec<Country> = i
        .policy
        .allowed_jurisdictions
        .iter()
        .map(|c| Country::parse(c).map_err(|e| GenesisError::Invalid(e.to_string())))
        .collect::<Result<_, _>>()?;
    jurisdictions.sort();
    let classes: Vec<InvestorClass> = i
        .policy
        .allowed_investor_classes
        .iter()
        .map(|c| name_of(InvestorClass::ALL, InvestorClass::name, c, "investor class"))
        .collect::<Result<_, _>>()?;
    Ok(CreateInstrument {
        instrument: InstrumentId(i.id),
        issuer: lei(&i.issuer)?,
        name: text(&i.name)?,
        ids: SecurityIds {
            isin: i
                .isin
                .as_deref()
                .map(Isin::parse)
                .transpose()
                .map_err(|e| GenesisError::Invalid(e.to_string()))?,
            cusip: i
                .cusip
                .as_deref()
                .map(Cusip::parse)
                .transpose()
                .map_err(|e| GenesisError::Invalid(e.to_string()))?,
        },
        scale: i.scale,
        min_increment: amount(&i.min_increment)?,
        kind,
        policy: Policy {
            kyc_required: i.policy.kyc_required,
            allowed_jurisdictions: BoundedVec::new(jurisdictions)
                .ok_or_else(|| GenesisError::Invalid("too many jurisdictions".into()))?,
            allowed_investor_classes: InvestorClasses::of(&classes),
            max_balance_per_holder: i
                .policy
                .max_balance_per_holder
                .as_deref()
                .map(amount)
                .transpose()?,
            max_holders: i.policy.max_holders,
            lockup_until: i.policy.lockup_until_ms.map(Timestamp),
        },
    })
}

/// The JSON form of a ledger genesis made of registrations, accounts, instruments and
/// mints (other operations are not part of a genesis file).
pub fn ledger_entry(genesis: &Genesis) -> LedgerEntry {
    let mut out = LedgerEntry::default();
    let mut scales = std::collections::BTreeMap::new();
    for op in &genesis.operations {
        match op {
            Operation::RegisterParticipant(p) => out.participants.push(participant_entry(p)),
            Operation::OpenAccount(a) => out.accounts.push(AccountEntry {
                id: a.account.0,
                owner: a.owner.to_string(),
                kind: snake(a.kind.name()),
            }),
            Operation::CreateInstrument(i) => {
                scales.insert(i.instrument, i.scale);
                out.instruments.push(instrument_entry(i));
            }
            Operation::Mint(m) => out.balances.push(BalanceEntry {
                account: m.to.0,
                instrument: m.instrument.0,
                amount: format_amount(m.amount, scales.get(&m.instrument).copied().unwrap_or(0)),
            }),
            _ => {}
        }
    }
    out
}

/// The JSON form of a participant: identity fields, keys (hex, weight) and thresholds.
pub fn profile_entry(
    lei: &Lei,
    profile: &Profile,
    keys: Vec<KeyEntry>,
    threshold: u16,
    admin_threshold: u16,
) -> ParticipantEntry {
    ParticipantEntry {
        lei: lei.to_string(),
        legal_name: profile.legal_name.to_string(),
        roles: profile.roles.iter().map(|r| snake(r.name())).collect(),
        jurisdiction: profile.jurisdiction.to_string(),
        investor_class: snake(profile.investor_class.name()),
        kyc_status: snake(profile.kyc.status.name()),
        kyc_expires_on: profile.kyc.expires_on.to_string(),
        keys,
        threshold,
        admin_threshold,
    }
}

/// The JSON form of a participant registration.
pub fn participant_entry(p: &RegisterParticipant) -> ParticipantEntry {
    let keys = p
        .keys
        .iter()
        .map(|k| KeyEntry {
            public_key: to_hex(k.key.as_ref()),
            weight: k.weight,
        })
        .collect();
    profile_entry(&p.lei, &p.profile, keys, p.threshold, p.admin_threshold)
}

/// The JSON form of an instrument's creation.
pub fn instrument_entry(i: &CreateInstrument) -> InstrumentEntry {
    let coupon = |t: &CouponTerms| CouponEntry {
        coupon_rate: t.coupon_rate.to_string(),
        dated_date: t.dated_date.to_string(),
        maturity_date: t.maturity_date.to_string(),
    };
    let kind = match &i.kind {
        InstrumentKind::Cash {
            currency,
            cash_kind,
        } => KindEntry::Cash {
            currency: currency.to_string(),
            cash_kind: snake(cash_kind.name()),
        },
        InstrumentKind::TreasuryBill {
            issue_date,
            maturity_date,
        } => KindEntry::TreasuryBill {
            issue_date: issue_date.to_string(),
            maturity_date: maturity_date.to_string(),
        },
        InstrumentKind::TreasuryNote(t) => KindEntry::TreasuryNote(coupon(t)),
        InstrumentKind::TreasuryBond(t) => KindEntry::TreasuryBond(coupon(t)),
        InstrumentKind::Equity => KindEntry::Equity,
        InstrumentKind::Fund { fund_kind } => KindEntry::Fund {
            fund_kind: snake(fund_kind.name()),
        },
        InstrumentKind::Unique { title } => KindEntry::Unique {
            title: title.to_string(),
        },
        InstrumentKind::StripPrincipal {
            underlying,
            maturity_date,
        } => KindEntry::StripPrincipal {
            underlying: underlying.0,
            maturity_date: maturity_date.to_string(),
        },
        InstrumentKind::StripInterest { payment_date } => KindEntry::StripInterest {
            payment_date: payment_date.to_string(),
        },
    };
    let p = &i.policy;
    InstrumentEntry {
        id: i.instrument.0,
        issuer: i.issuer.to_string(),
        name: i.name.to_string(),
        isin: i.ids.isin.map(|x| x.to_string()),
        cusip: i.ids.cusip.map(|x| x.to_string()),
        scale: i.scale,
        min_increment: format_amount(i.min_increment, i.scale),
        kind,
        policy: PolicyEntry {
            kyc_required: p.kyc_required,
            allowed_jurisdictions: p
                .allowed_jurisdictions
                .iter()
                .map(|c| c.to_string())
                .collect(),
            allowed_investor_classes: InvestorClass::ALL
                .iter()
                .filter(|c| {
                    !p.allowed_investor_classes.is_any() && p.allowed_investor_classes.allows(**c)
                })
                .map(|c| snake(c.name()))
                .collect(),
            max_balance_per_holder: p.max_balance_per_holder.map(|m| format_amount(m, i.scale)),
            max_holders: p.max_holders,
            lockup_until_ms: p.lockup_until.map(|t| t.0),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_world_round_trips_through_json() {
        let genesis = tally_ledger::demo::genesis();
        let entry = ledger_entry(&genesis);
        let file = GenesisFile {
            chain_id: "tally-test".into(),
            genesis_time_ms: genesis.time.0,
            validators: vec![],
            threshold: ThresholdEntry {
                group_public_key: String::new(),
                public_polynomial: String::new(),
            },
            ledger: entry,
        };
        let back = GenesisFile::from_json(&file.to_json()).unwrap();
        assert_eq!(back, file);
        assert_eq!(back.ledger_genesis().unwrap(), genesis);
    }
}
