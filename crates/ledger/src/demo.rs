//! A small, realistic world for examples, tests, benchmarks and local networks: a central
//! bank (operator and cash issuer), the Treasury, two primary dealers, a custodian and a
//! regulator, with USD reserves and a Treasury note. Keys are derived from fixed seeds:
//! **development keys, never for real value**.

use crate::block::{BlockEnv, Genesis, Ledger};
use crate::events::{BlockOutcome, Receipt};
use crate::store::{Commit, MemStore, Store};
use commonware_cryptography::Signer as _;
use tally_types::codec::{BoundedVec, Text};
use tally_types::model::*;
use tally_types::ops::*;
use tally_types::{
    AccountId, Amount, ChainId, Country, Currency, Cusip, Date, Hash32, InstrumentId, Isin, Lei,
    Operation, PrivateKey, Rate, Timestamp, Transaction, VerifiedTx,
};

/// Chain id of the demo world.
pub const CHAIN: &str = "tally-demo";
/// Genesis time: 2026-11-23T00:00:00Z.
pub const GENESIS_MS: u64 = 1_795_392_000_000;
/// USD central-bank reserves, scale 2 (cents).
pub const USD: InstrumentId = InstrumentId(1);
/// UST 4.125% 15-Nov-2034 note, scale 2, $100 face increments.
pub const UST_2034: InstrumentId = InstrumentId(2);
/// $100 face in cents: the Treasury minimum increment.
pub const HUNDRED_DOLLARS: Amount = 10_000;

/// One demo participant: its LEI, name, roles, dev key seed and main account.
#[derive(Clone, Copy, Debug)]
pub struct Member {
    /// Short name (also the dev key name).
    pub name: &'static str,
    /// LEI prefix; check digits are computed.
    pub lei_prefix: &'static str,
    /// Legal name.
    pub legal_name: &'static str,
    /// Roles.
    pub roles: &'static [Role],
    /// Investor class.
    pub class: InvestorClass,
    /// Seed of the dev key.
    pub seed: u64,
    /// Main account id.
    pub account: AccountId,
}

/// The demo participants.
pub const MEMBERS: &[Member] = &[
    Member {
        name: "central-bank",
        lei_prefix: "TALLYCB0000000000A",
        legal_name: "Demo Central Bank",
        roles: &[Role::Operator, Role::Issuer],
        class: InvestorClass::QualifiedInstitutional,
        seed: 1001,
        account: AccountId(100),
    },
    Member {
        name: "treasury",
        lei_prefix: "TALLYTR0000000000B",
        legal_name: "Demo Treasury",
        roles: &[Role::Issuer],
        class: InvestorClass::QualifiedInstitutional,
        seed: 1002,
        account: AccountId(200),
    },
    Member {
        name: "dealer-a",
        lei_prefix: "TALLYDA0000000000C",
        legal_name: "Alpha Securities LLC",
        roles: &[Role::Dealer, Role::Investor],
        class: InvestorClass::QualifiedInstitutional,
        seed: 1003,
        account: AccountId(300),
    },
    Member {
        name: "dealer-b",
        lei_prefix: "TALLYDB0000000000D",
        legal_name: "Beta Capital Markets Inc",
        roles: &[Role::Dealer, Role::Investor],
        class: InvestorClass::QualifiedInstitutional,
        seed: 1004,
        account: AccountId(400),
    },
    Member {
        name: "custodian",
        lei_prefix: "TALLYCU0000000000E",
        legal_name: "Gamma Custody Bank NA",
        roles: &[Role::Custodian],
        class: InvestorClass::QualifiedInstitutional,
        seed: 1005,
        account: AccountId(500),
    },
    Member {
        name: "regulator",
        lei_prefix: "TALLYRG0000000000F",
        legal_name: "Demo Securities Regulator",
        roles: &[Role::Regulator, Role::Auditor],
        class: InvestorClass::QualifiedInstitutional,
        seed: 1006,
        account: AccountId(600),
    },
];

impl Member {
    /// The member's LEI.
    pub fn lei(&self) -> Lei {
        Lei::with_check_digits(self.lei_prefix).expect("demo LEI prefix is valid")
    }

    /// The member's dev key.
    pub fn key(&self) -> PrivateKey {
        PrivateKey::from_seed(self.seed)
    }
}

/// The member with a given short name.
pub fn member(name: &str) -> &'static Member {
    MEMBERS
        .iter()
        .find(|m| m.name == name)
        .expect("known demo member")
}

/// A participant registration with one key of weight 1 and thresholds of 1.
pub fn register(
    lei: Lei,
    legal_name: &str,
    roles: &[Role],
    class: InvestorClass,
    key: &PrivateKey,
) -> Operation {
    Operation::RegisterParticipant(RegisterParticipant {
        lei,
        profile: Profile {
            legal_name: Text::new(legal_name).expect("short name"),
            roles: Roles::of(roles),
            jurisdiction: Country::parse("US").expect("US"),
            investor_class: class,
            kyc: Kyc {
                status: KycStatus::Verified,
                expires_on: Date::parse("2030-12-31").expect("date"),
            },
        },
        keys: BoundedVec::new(vec![WeightedKey {
            key: key.public_key(),
            weight: 1,
        }])
        .expect("one key"),
        threshold: 1,
        admin_threshold: 1,
    })
}

/// The USD reserves cash token.
pub fn usd_reserves() -> CreateInstrument {
    CreateInstrument {
        instrument: USD,
        issuer: member("central-bank").lei(),
        name: Text::new("USD Central Bank Reserves").expect("name"),
        ids: SecurityIds::default(),
        scale: 2,
        min_increment: 1,
        kind: InstrumentKind::Cash {
            currency: Currency::parse("USD").expect("USD"),
            cash_kind: CashKind::CentralBankReserve,
        },
        policy: Policy {
            kyc_required: true,
            ..Policy::default()
        },
    }
}

/// The Treasury note: 4.125% due 2034-11-15, semi-annual, ACT/ACT.
pub fn treasury_note() -> CreateInstrument {
    CreateInstrument {
        instrument: UST_2034,
        issuer: member("treasury").lei(),
        name: Text::new("UST 4.125% 15-Nov-2034").expect("name"),
        ids: SecurityIds {
            isin: Some(Isin::parse("US91282CJL63").expect("isin")),
            cusip: Some(Cusip::parse("91282CJL6").expect("cusip")),
        },
        scale: 2,
        min_increment: HUNDRED_DOLLARS,
        kind: InstrumentKind::TreasuryNote(CouponTerms {
            coupon_rate: Rate::parse_percent("4.125").expect("rate"),
            dated_date: Date::parse("2024-11-15").expect("date"),
            maturity_date: Date::parse("2034-11-15").expect("date"),
            frequency: 2,
            day_count: DayCount::ActActIcma,
        }),
        policy: Policy {
            kyc_required: true,
            allowed_jurisdictions: BoundedVec::new(vec![Country::parse("US").expect("US")])
                .expect("one"),
            allowed_investor_classes: InvestorClasses::of(&[
                InvestorClass::Accredited,
                InvestorClass::QualifiedInstitutional,
            ]),
            ..Policy::default()
        },
    }
}

/// The demo genesis: every member with its main account, both instruments, $50m of
/// reserves to each dealer and $10m face of the note to dealer A.
pub fn genesis() -> Genesis {
    let mut ops: Vec<Operation> = MEMBERS
        .iter()
        .map(|m| register(m.lei(), m.legal_name, m.roles, m.class, &m.key()))
        .collect();
    ops.extend(MEMBERS.iter().map(|m| {
        Operation::OpenAccount(OpenAccount {
            account: m.account,
            owner: m.lei(),
            kind: AccountKind::Own,
        })
    }));
    ops.push(usd_reserves().into());
    ops.push(treasury_note().into());
    let cash = 50_000_000 * 100;
    for name in ["dealer-a", "dealer-b"] {
        ops.push(Operation::Mint(Mint {
            instrument: USD,
            to: member(name).account,
            amount: cash,
        }));
    }
    ops.push(Operation::Mint(Mint {
        instrument: UST_2034,
        to: member("dealer-a").account,
        amount: 10_000_000 * 100,
    }));
    Genesis {
        time: Timestamp(GENESIS_MS),
        operations: ops,
    }
}

/// A ledger with a store, a clock that ticks one second a block, and nonce bookkeeping:
/// enough to drive the state machine by hand.
pub struct Sandbox<S: Store + Commit = MemStore> {
    /// The state machine.
    pub ledger: Ledger,
    /// The state.
    pub store: S,
    /// Height of the last block.
    pub height: u64,
    /// Time of the last block.
    pub time: Timestamp,
    nonces: std::collections::BTreeMap<Vec<u8>, u64>,
}

impl Sandbox<MemStore> {
    /// The demo world at genesis, in memory.
    pub fn demo() -> Self {
        Self::with_genesis(MemStore::new(), &genesis())
    }
}

impl<S: Store + Commit> Sandbox<S> {
    /// A sandbox over `store` initialized with `genesis`.
    pub fn with_genesis(store: S, genesis: &Genesis) -> Self {
        Self::with_chain(store, genesis, ChainId::new(CHAIN).expect("chain id"))
    }

    /// A sandbox of chain `chain` over `store` initialized with `genesis`.
    pub fn with_chain(mut store: S, genesis: &Genesis, chain: ChainId) -> Self {
        let ledger = Ledger::new(chain);
        ledger
            .init_genesis(&mut store, genesis)
            .expect("demo genesis applies");
        Self {
            ledger,
            store,
            height: 0,
            time: genesis.time,
            nonces: Default::default(),
        }
    }

    /// The chain id.
    pub fn chain(&self) -> ChainId {
        self.ledger.chain().clone()
    }

    /// Builds a transaction from `signers[0]` (the sender) approved by every signer, with
    /// the sender's next nonce and a one-hour expiry.
    pub fn sign(&mut self, signers: &[&PrivateKey], ops: Vec<Operation>) -> VerifiedTx {
        self.sign_with(signers, ops, &tally_types::remote::NoRemoteProofs)
            .expect("freshly signed")
    }

    /// As [Sandbox::sign], checking the remote proofs the operations carry with `remote`.
    pub fn sign_with(
        &mut self,
        signers: &[&PrivateKey],
        ops: Vec<Operation>,
        remote: &impl tally_types::remote::RemoteVerifier,
    ) -> Result<VerifiedTx, tally_types::tx::VerifyError> {
        let sender = signers[0].public_key();
        let nonce = self.nonces.entry(sender.as_ref().to_vec()).or_insert(0);
        let tx = Transaction {
            sender,
            nonce: *nonce,
            expires_at: self.time.plus_ms(3_600_000),
            operations: BoundedVec::new(ops).expect("few operations"),
        };
        *nonce += 1;
        let chain = self.chain();
        let verified = tally_types::verify_one_with(&chain, tx.sign(&chain, signers), remote);
        if verified.is_err() {
            self.unuse_nonce(signers[0]);
        }
        verified
    }

    /// Forgets a nonce use (after a rejected transaction, whose nonce stays unused).
    pub fn unuse_nonce(&mut self, signer: &PrivateKey) {
        if let Some(n) = self.nonces.get_mut(signer.public_key().as_ref()) {
            *n = n.saturating_sub(1);
        }
    }

    /// Applies one block holding `txs`, one second after the previous block.
    pub fn block(&mut self, txs: &[VerifiedTx]) -> Vec<Receipt> {
        self.advance(1_000, txs)
    }

    /// Applies one block `ms` after the previous one.
    pub fn advance(&mut self, ms: u64, txs: &[VerifiedTx]) -> Vec<Receipt> {
        self.advance_block(ms, txs).receipts
    }

    /// Applies one block `ms` after the previous one, with its block events.
    pub fn advance_block(&mut self, ms: u64, txs: &[VerifiedTx]) -> BlockOutcome {
        self.height += 1;
        self.time = self.time.plus_ms(ms);
        let env = BlockEnv {
            height: self.height,
            time: self.time,
        };
        self.ledger
            .apply_block(&mut self.store, env, txs)
            .expect("next block")
    }

    /// Signs and applies one transaction in its own block; a rejected transaction's nonce
    /// is released so the sender can go on.
    pub fn submit(&mut self, signers: &[&PrivateKey], ops: Vec<Operation>) -> Receipt {
        let tx = self.sign(signers, ops);
        let receipt = self.block(&[tx]).pop().expect("one receipt");
        if !receipt.is_ok() {
            self.unuse_nonce(signers[0]);
        }
        receipt
    }

    /// The state root.
    pub fn root(&mut self) -> Hash32 {
        self.store.root()
    }
}
