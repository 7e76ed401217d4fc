//! Pins the canonical encoding: one of every operation, signed, hashed together. Any
//! change to what is signed or stored changes the digest and fails this test; change the
//! pinned value only with a deliberate, documented format change.

use commonware_codec::Encode as _;
use commonware_cryptography::Signer as _;
use tally_types::codec::{BoundedVec, Text};
use tally_types::model::*;
use tally_types::ops::*;
use tally_types::*;

fn every_operation() -> Vec<Operation> {
    let lei = Lei::parse("5493001KJTIIGC8Y1R12").unwrap();
    let key = PrivateKey::from_seed(1).public_key();
    let key2 = PrivateKey::from_seed(2).public_key();
    let leg = model::Leg {
        from: AccountId(1),
        to: AccountId(2),
        instrument: InstrumentId(3),
        amount: 4,
    };
    let us = Country::parse("US").unwrap();
    let profile = Profile {
        legal_name: Text::new("Example Bank").unwrap(),
        roles: Roles::of(&[Role::Dealer, Role::Investor]),
        jurisdiction: us,
        investor_class: InvestorClass::Accredited,
        kyc: Kyc {
            status: KycStatus::Verified,
            expires_on: Date(20_000),
        },
    };
    let policy = Policy {
        kyc_required: true,
        allowed_jurisdictions: BoundedVec::new(vec![us]).unwrap(),
        allowed_investor_classes: InvestorClasses::of(&[InvestorClass::QualifiedInstitutional]),
        max_balance_per_holder: Some(1_000),
        max_holders: Some(99),
        lockup_until: Some(Timestamp(5)),
    };
    let terms = CouponTerms {
        coupon_rate: Rate(41_250_000),
        dated_date: Date(1),
        maturity_date: Date(2),
        frequency: 2,
        day_count: DayCount::ActActIcma,
    };
    let kinds = [
        InstrumentKind::Cash {
            currency: Currency::parse("USD").unwrap(),
            cash_kind: CashKind::Stablecoin,
        },
        InstrumentKind::TreasuryBill {
            issue_date: Date(1),
            maturity_date: Date(2),
        },
        InstrumentKind::TreasuryNote(terms),
        InstrumentKind::TreasuryBond(terms),
        InstrumentKind::Equity,
        InstrumentKind::Fund {
            fund_kind: FundKind::Mmf,
        },
        InstrumentKind::Unique {
            title: Text::new("Parcel 12").unwrap(),
        },
    ];
    let mut ops: Vec<Operation> = kinds
        .into_iter()
        .map(|kind| {
            Operation::CreateInstrument(CreateInstrument {
                instrument: InstrumentId(9),
                issuer: lei,
                name: Text::new("Instrument").unwrap(),
                ids: SecurityIds {
                    isin: Some(Isin::parse("US0378331005").unwrap()),
                    cusip: Some(Cusip::parse("037833100").unwrap()),
                },
                scale: 2,
                min_increment: 10_000,
                kind,
                policy: policy.clone(),
            })
        })
        .collect();
    ops.extend([
        Operation::RegisterParticipant(RegisterParticipant {
            lei,
            profile: profile.clone(),
            keys: BoundedVec::new(vec![WeightedKey {
                key: key.clone(),
                weight: 2,
            }])
            .unwrap(),
            threshold: 1,
            admin_threshold: 2,
        }),
        Operation::UpdateParticipant(UpdateParticipant { lei, profile }),
        Operation::SuspendParticipant(SuspendParticipant { lei, reason: 1 }),
        Operation::ReinstateParticipant(ReinstateParticipant { lei }),
        Operation::AddKey(AddKey {
            lei,
            key: WeightedKey {
                key: key2.clone(),
                weight: 1,
            },
        }),
        Operation::RotateKey(RotateKey {
            lei,
            old: key.clone(),
            new: key2.clone(),
        }),
        Operation::RemoveKey(RemoveKey { lei, key: key2 }),
        Operation::SetThresholds(SetThresholds {
            lei,
            threshold: 1,
            admin_threshold: 1,
        }),
        Operation::OpenAccount(OpenAccount {
            account: AccountId(7),
            owner: lei,
            kind: AccountKind::Segregated,
        }),
        Operation::FreezeAccount(FreezeAccount {
            account: AccountId(7),
            reason: 2,
        }),
        Operation::UnfreezeAccount(UnfreezeAccount {
            account: AccountId(7),
        }),
        Operation::UpdatePolicy(UpdatePolicy {
            instrument: InstrumentId(9),
            policy,
        }),
        Operation::PauseInstrument(PauseInstrument {
            instrument: InstrumentId(9),
        }),
        Operation::UnpauseInstrument(UnpauseInstrument {
            instrument: InstrumentId(9),
        }),
        Operation::Mint(Mint {
            instrument: InstrumentId(9),
            to: AccountId(7),
            amount: u128::MAX,
        }),
        Operation::Burn(Burn {
            instrument: InstrumentId(9),
            from: AccountId(7),
            amount: 1,
        }),
        Operation::Transfer(Transfer { leg }),
        Operation::Settle(Settle {
            legs: BoundedVec::new(vec![leg, leg]).unwrap(),
        }),
        Operation::Instruct(Instruct {
            trade_ref: Text::new("REF-1").unwrap(),
            legs: BoundedVec::new(vec![leg]).unwrap(),
            expires_at: Timestamp(10),
        }),
        Operation::CancelInstruction(CancelInstruction {
            instruction: Hash32([7; 32]),
        }),
        Operation::PlaceHold(PlaceHold {
            hold: HoldId(3),
            leg,
            hash_lock: Some(Hash32([1; 32])),
            deadline: Timestamp(11),
        }),
        Operation::ReleaseHold(ReleaseHold {
            hold: HoldId(3),
            preimage: None,
        }),
        Operation::RefundHold(RefundHold { hold: HoldId(3) }),
        Operation::FreezeHolding(FreezeHolding {
            account: AccountId(7),
            instrument: InstrumentId(9),
            amount: 5,
            reason: 3,
        }),
        Operation::UnfreezeHolding(UnfreezeHolding {
            account: AccountId(7),
            instrument: InstrumentId(9),
            amount: 5,
        }),
        Operation::ForcedTransfer(ForcedTransfer { leg, reason: 4 }),
        Operation::RecoverAccount(RecoverAccount {
            from: AccountId(7),
            to: AccountId(8),
            reason: 5,
        }),
    ]);
    ops
}

/// The lifecycle operations (and the STRIPS instrument kinds), added after the first
/// set: pinned separately, so the first set's digest shows its encodings did not change.
fn lifecycle_operations() -> Vec<Operation> {
    let create = |instrument: u64, kind: InstrumentKind| CreateInstrument {
        instrument: InstrumentId(instrument),
        issuer: Lei::parse("5493001KJTIIGC8Y1R12").unwrap(),
        name: Text::new("Component").unwrap(),
        ids: SecurityIds::default(),
        scale: 0,
        min_increment: 1,
        kind,
        policy: Policy::default(),
    };
    vec![
        Operation::AnnounceAuction(AnnounceAuction {
            auction: AuctionId(1),
            security: AuctionSecurity::New(create(
                2,
                InstrumentKind::TreasuryBill {
                    issue_date: Date(3),
                    maturity_date: Date(94),
                },
            )),
            offering: 1_000_000,
            close_at: Timestamp(4),
            issue_date: Date(3),
            cash_instrument: InstrumentId(5),
            issuer_cash_account: AccountId(6),
            max_noncompetitive_per_bidder: 7,
            max_noncompetitive_total: 8,
            award_cap_bp: 3_500,
            max_price: 100_000_000,
        }),
        Operation::AnnounceAuction(AnnounceAuction {
            auction: AuctionId(9),
            security: AuctionSecurity::Reopen(InstrumentId(10)),
            offering: 11,
            close_at: Timestamp(12),
            issue_date: Date(13),
            cash_instrument: InstrumentId(14),
            issuer_cash_account: AccountId(15),
            max_noncompetitive_per_bidder: 16,
            max_noncompetitive_total: 17,
            award_cap_bp: 18,
            max_price: 19,
        }),
        Operation::SubmitBid(SubmitBid {
            auction: AuctionId(1),
            account: AccountId(2),
            kind: BidKind::Competitive(Rate(42_500_000)),
            amount: 3,
        }),
        Operation::SubmitBid(SubmitBid {
            auction: AuctionId(1),
            account: AccountId(2),
            kind: BidKind::Noncompetitive,
            amount: 3,
        }),
        Operation::WithdrawBid(WithdrawBid {
            auction: AuctionId(1),
            seq: 2,
        }),
        Operation::CancelAuction(CancelAuction {
            auction: AuctionId(1),
        }),
        Operation::SetServicing(SetServicing {
            instrument: InstrumentId(1),
            paying_account: AccountId(2),
            cash_instrument: InstrumentId(3),
        }),
        Operation::ClaimEntitlement(ClaimEntitlement {
            instrument: InstrumentId(1),
            distribution: 2,
            account: AccountId(3),
        }),
        Operation::CreateInstrument(create(
            20,
            InstrumentKind::StripPrincipal {
                underlying: InstrumentId(21),
                maturity_date: Date(22),
            },
        )),
        Operation::CreateInstrument(create(
            23,
            InstrumentKind::StripInterest {
                payment_date: Date(24),
            },
        )),
        Operation::EnableStrips(EnableStrips {
            instrument: InstrumentId(1),
            principal_component: InstrumentId(2),
        }),
        Operation::Strip(Strip {
            account: AccountId(1),
            instrument: InstrumentId(2),
            amount: 3,
        }),
        Operation::Reconstitute(Reconstitute {
            account: AccountId(1),
            instrument: InstrumentId(2),
            amount: 3,
        }),
        Operation::OpenRepo(OpenRepo {
            repo: RepoId(1),
            borrower_account: AccountId(2),
            lender_account: AccountId(3),
            collateral: BoundedVec::new(vec![Collateral {
                instrument: InstrumentId(4),
                amount: 5,
            }])
            .unwrap(),
            cash_instrument: InstrumentId(6),
            cash_amount: 7,
            rate: Rate(43_000_000),
            maturity: Some(Date(8)),
        }),
        Operation::CloseRepo(CloseRepo { repo: RepoId(1) }),
        Operation::PublishNav(PublishNav {
            fund: InstrumentId(1),
            date: Date(2),
            nav: 1_000_000,
        }),
        Operation::DeclareDividend(DeclareDividend {
            instrument: InstrumentId(1),
            amount_per_unit: 118,
            per_units: 1_000_000,
            record_date: Date(3),
            cash_instrument: InstrumentId(4),
            paying_account: AccountId(5),
            reinvest: true,
        }),
        Operation::SubstituteCollateral(SubstituteCollateral {
            repo: RepoId(1),
            give_back: BoundedVec::new(vec![Collateral {
                instrument: InstrumentId(4),
                amount: 1,
            }])
            .unwrap(),
            deliver: BoundedVec::new(vec![Collateral {
                instrument: InstrumentId(9),
                amount: 2,
            }])
            .unwrap(),
        }),
    ]
}

/// The BLS12-381 G2 generator, compressed: a valid group key for encoding tests.
const G2_GENERATOR: &str = "93e02b6052719f607dacd3a088274f65596bd0d09920b61ab5da61bbdc7f5049334cf11213945d57e5ac7d055d042b7e024aa2b2f08f0a91260805272dc51051c6e47ad4fa403b02b4510b647ae3d1770bac0326a805bbefd48056c8c121bdb8";

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Cross-ledger operations (pinned apart, so earlier pins stay).
fn remote_ledger_operations() -> Vec<Operation> {
    let chain = ChainId::new("tally-eur").unwrap();
    vec![
        Operation::RegisterRemoteLedger(RegisterRemoteLedger {
            chain: chain.clone(),
            name: Text::new("Euro ledger").unwrap(),
            scheme: CertScheme::ThresholdMinSigVrf,
            namespace: Text::new("TALLY_CONSENSUS_V1").unwrap(),
            group_key: GroupKey::from_bytes(&unhex(G2_GENERATOR)).unwrap(),
        }),
        Operation::SuspendRemoteLedger(SuspendRemoteLedger {
            chain: chain.clone(),
        }),
        Operation::ResumeRemoteLedger(ResumeRemoteLedger { chain }),
    ]
}

/// Cross-ledger swap operations (pinned apart, so earlier pins stay).
fn cross_ledger_operations() -> Vec<Operation> {
    use tally_types::remote::{RemoteLeg, RemoteProof};
    let proof = RemoteProof {
        chain: ChainId::new("tally-usd").unwrap(),
        group_key: GroupKey::from_bytes(&unhex(G2_GENERATOR)).unwrap(),
        namespace: Text::new("TALLY_CONSENSUS_V1").unwrap(),
        header: BoundedVec::new(vec![1; 40]).unwrap(),
        certificate: BoundedVec::new(vec![2; 30]).unwrap(),
        key: BoundedVec::new(vec![0x0c, 0, 0, 0, 0, 0, 0, 0, 1]).unwrap(),
        value: BoundedVec::new(vec![3; 20]).unwrap(),
        merkle: BoundedVec::new(vec![4; 64]).unwrap(),
    };
    let counterpart = RemoteLeg {
        chain: ChainId::new("tally-usd").unwrap(),
        hold: HoldId(1),
        payee: AccountId(400),
        instrument: InstrumentId(1),
        amount: 10_000,
    };
    let leg = tally_types::model::Leg {
        from: AccountId(400),
        to: AccountId(300),
        instrument: InstrumentId(1),
        amount: 9_000,
    };
    vec![
        Operation::LockCrossLedger(LockCrossLedger {
            hold: HoldId(2),
            leg,
            deadline: Timestamp(1_800_000_600_000),
            role: CrossRole::Follower,
            counterpart,
            proof: Some(proof.clone()),
        }),
        Operation::ProveCrossLedger(ProveCrossLedger {
            hold: HoldId(2),
            proof,
        }),
    ]
}

fn batch_operations() -> Vec<Operation> {
    let leg = |from: u64, amount: u128| Leg {
        from: AccountId(from),
        to: AccountId(from + 1),
        instrument: InstrumentId(1),
        amount,
    };
    vec![Operation::TransferBatch(TransferBatch {
        transfers: BoundedVec::new(vec![
            BatchTransfer {
                leg: leg(7, 1),
                linked: true,
            },
            BatchTransfer {
                leg: leg(8, u128::MAX),
                linked: false,
            },
        ])
        .unwrap(),
    })]
}

#[test]
fn batch_encoding_is_pinned() {
    let (digest, len) = digest_of(batch_operations());
    assert_eq!(
        digest, "d4ba8aabb7fe0ea6d8347a4a7df341dca6ebdf476428a6659896a1a2b2589883",
        "batch encoding changed: {len} bytes"
    );
}

#[test]
fn a_full_batch_fits_in_a_transaction() {
    use tally_types::limits::{MAX_APPROVALS_PER_TX, MAX_BATCH_TRANSFERS, MAX_TX_BYTES};
    let transfer = BatchTransfer {
        leg: Leg {
            from: AccountId(u64::MAX),
            to: AccountId(u64::MAX - 1),
            instrument: InstrumentId(u64::MAX),
            amount: u128::MAX,
        },
        linked: true,
    };
    let keys: Vec<PrivateKey> = (0..MAX_APPROVALS_PER_TX as u64)
        .map(PrivateKey::from_seed)
        .collect();
    let tx = Transaction {
        sender: keys[0].public_key(),
        nonce: u64::MAX - 1,
        expires_at: Timestamp(u64::MAX),
        operations: BoundedVec::new(vec![Operation::TransferBatch(TransferBatch {
            transfers: BoundedVec::new(vec![transfer.clone(); MAX_BATCH_TRANSFERS]).unwrap(),
        })])
        .unwrap(),
    };
    let chain = ChainId::new("tally-conformance").unwrap();
    let signed = tx.sign(&chain, &keys.iter().collect::<Vec<_>>());
    let bytes = signed.to_bytes();
    assert!(bytes.len() <= MAX_TX_BYTES, "{} bytes", bytes.len());
    assert_eq!(SignedTx::decode_bounded(&bytes).unwrap(), signed);
    // One transfer more does not decode.
    assert!(
        BoundedVec::<BatchTransfer, MAX_BATCH_TRANSFERS>::new(vec![
            transfer;
            MAX_BATCH_TRANSFERS + 1
        ])
        .is_none()
    );
}

#[test]
fn cross_ledger_encoding_is_pinned() {
    let (digest, len) = digest_of(cross_ledger_operations());
    assert_eq!(
        digest, "6a676d6c3522a0e4ad41632efaada3318c493d5428650820568e9845d8536a9d",
        "cross-ledger encoding changed: {len} bytes"
    );
}

#[test]
fn a_group_key_must_be_a_point_of_g2() {
    let good = unhex(G2_GENERATOR);
    assert!(GroupKey::from_bytes(&good).is_some());
    assert!(GroupKey::from_bytes(&good[..95]).is_none());
    assert!(GroupKey::from_bytes(&[0u8; 96]).is_none());
    let mut bad = good.clone();
    bad[50] ^= 1;
    assert!(GroupKey::from_bytes(&bad).is_none(), "off the curve");
    // The point at infinity (compressed flag and infinity bit, nothing else).
    let mut infinity = [0u8; 96];
    infinity[0] = 0xc0;
    assert!(GroupKey::from_bytes(&infinity).is_none());
    // Decoding an operation that carries a bad key reads the bytes only (the ledger refuses
    // it when applying, after signatures and authority): no subgroup check per submission.
    use commonware_codec::DecodeExt as _;
    let mut bytes = remote_ledger_operations()[0].encode().to_vec();
    let at = bytes.len() - 96 + 50;
    bytes[at] ^= 1;
    let decoded = Operation::decode(commonware_codec::Copying(bytes.as_slice())).unwrap();
    let Operation::RegisterRemoteLedger(op) = decoded else {
        panic!("decoded another operation")
    };
    assert!(!op.group_key.is_valid());
}

#[test]
fn remote_ledger_encoding_is_pinned() {
    let (digest, len) = digest_of(remote_ledger_operations());
    assert_eq!(
        digest, "af8f878a7b03962f07d95949e9898b914eb72476a9bbb45a72ade9a43c17cdd6",
        "remote ledger encoding changed: {len} bytes"
    );
}

fn digest_of(ops: Vec<Operation>) -> (String, usize) {
    let chain = ChainId::new("tally-conformance").unwrap();
    let key = PrivateKey::from_seed(42);
    let mut all = Vec::new();
    for (nonce, op) in ops.into_iter().enumerate() {
        let tx = Transaction {
            sender: key.public_key(),
            nonce: nonce as u64,
            expires_at: Timestamp(1_800_000_000_000),
            operations: BoundedVec::new(vec![op]).unwrap(),
        };
        all.extend_from_slice(&tx.sign(&chain, &[&key]).to_bytes());
    }
    (Hash32::digest(&[&all]).to_hex(), all.len())
}

#[test]
fn lifecycle_encoding_is_pinned() {
    let (digest, len) = digest_of(lifecycle_operations());
    assert_eq!(
        digest, "5560bbd5049b76f8c0269881b57be1e21ae9f1e1427c4d5abb5390f4465dbf7d",
        "lifecycle encoding changed: {len} bytes"
    );
}

#[test]
fn every_operation_round_trips() {
    use commonware_codec::DecodeExt as _;
    let mut ops = every_operation();
    ops.extend(lifecycle_operations());
    ops.extend(remote_ledger_operations());
    ops.extend(cross_ledger_operations());
    ops.extend(batch_operations());
    let names: std::collections::BTreeSet<&str> = ops.iter().map(Operation::name).collect();
    assert_eq!(
        names.len(),
        Operation::NAMES.len(),
        "an operation is missing from the conformance set"
    );
    for op in ops {
        let bytes = op.encode();
        assert_eq!(Operation::decode(bytes.clone()).unwrap(), op);
    }
}

#[test]
fn encoding_is_pinned() {
    let chain = ChainId::new("tally-conformance").unwrap();
    let key = PrivateKey::from_seed(42);
    let mut all = Vec::new();
    for (nonce, op) in every_operation().into_iter().enumerate() {
        let tx = Transaction {
            sender: key.public_key(),
            nonce: nonce as u64,
            expires_at: Timestamp(1_800_000_000_000),
            operations: BoundedVec::new(vec![op]).unwrap(),
        };
        all.extend_from_slice(&tx.sign(&chain, &[&key]).to_bytes());
    }
    let digest = Hash32::digest(&[&all]);
    assert_eq!(
        digest.to_hex(),
        "c55aa4924beb7c6b9ecadebb1a16f3cba7269576f1c67990d44199dc27612304",
        "encoding changed: {} bytes",
        all.len()
    );
}
