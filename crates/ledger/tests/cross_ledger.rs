//! Cross-ledger swaps on two ledgers in one process (docs/interop.md): the state machine
//! of `LockCrossLedger` and `ProveCrossLedger`, with the counterpart's record taken from
//! the other ledger's real state.
//!
//! The cryptographic half of a remote proof (the BLS certificate and the QMDB Merkle
//! path) is the node's verifier's job and is tested there against real certificates and
//! stores (`crates/node/src/remote.rs`, `crates/cli/tests/xswap.rs`). Here a verifier
//! that attests a certified time stands in for it, so that what the ledger decides from
//! a proven record (registry, terms, roles, outcomes, deadlines) is tested on its own.

use commonware_codec::Encode as _;
use rand_chacha::rand_core::SeedableRng as _;
use tally_ledger::Receipt;
use tally_ledger::StateReader;
use tally_ledger::demo::{self, Sandbox, USD, member};
use tally_ledger::schema::keys;
use tally_ledger::store::{MemStore, Store as _};
use tally_types::codec::{BoundedVec, Text};
use tally_types::model::{CertScheme, CrossRole, GroupKey, HoldStatus, Leg};
use tally_types::ops::*;
use tally_types::remote::{ProvenHeader, RemoteLeg, RemoteProof, RemoteProofError, RemoteVerifier};
use tally_types::tx::VerifyError;
use tally_types::{
    AccountId, Amount, ChainId, HoldId, Operation, PrivateKey, ResultCode as C, Timestamp,
};

const A_ACC: AccountId = AccountId(300);
const B_ACC: AccountId = AccountId(400);
const TEN_MIN: u64 = 600_000;

/// Stands in for the node's verifier: every proof is certified, at `time`.
struct Attest(Timestamp);
impl RemoteVerifier for Attest {
    fn verify(&self, _: &RemoteProof) -> Result<ProvenHeader, RemoteProofError> {
        Ok(ProvenHeader {
            height: 7,
            time: self.0,
        })
    }
}

/// A verifier for which no certificate verifies.
struct Forged;
impl RemoteVerifier for Forged {
    fn verify(&self, _: &RemoteProof) -> Result<ProvenHeader, RemoteProofError> {
        Err(RemoteProofError::Signature)
    }
}

fn k(name: &str) -> PrivateKey {
    member(name).key()
}

fn group_key(seed: u64) -> GroupKey {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let (_, public) = commonware_cryptography::bls12381::primitives::ops::keypair::<
        _,
        commonware_cryptography::bls12381::primitives::variant::MinSig,
    >(&mut rng);
    GroupKey::from_bytes(&public.encode()).expect("a G2 point")
}

struct Two {
    usd: Sandbox,
    eur: Sandbox,
    usd_key: GroupKey,
    eur_key: GroupKey,
}

fn chain(name: &str) -> ChainId {
    ChainId::new(name).unwrap()
}

/// Two demo ledgers, each registering the other (dual control: central bank and
/// regulator). Both have dealer A at account 300 and dealer B at 400 holding cash
/// (instrument 1): dollars on one, euros on the other.
fn two() -> Two {
    let mut usd = Sandbox::with_chain(MemStore::new(), &demo::genesis(), chain("tally-usd"));
    let mut eur = Sandbox::with_chain(MemStore::new(), &demo::genesis(), chain("tally-eur"));
    let (usd_key, eur_key) = (group_key(1), group_key(2));
    for (sb, other, key) in [
        (&mut usd, "tally-eur", &eur_key),
        (&mut eur, "tally-usd", &usd_key),
    ] {
        let op = RegisterRemoteLedger {
            chain: chain(other),
            name: Text::new(other).unwrap(),
            scheme: CertScheme::ThresholdMinSigVrf,
            namespace: Text::new("TALLY_CONSENSUS_V1").unwrap(),
            group_key: key.clone(),
        };
        let r = sb.submit(&[&k("central-bank"), &k("regulator")], vec![op.into()]);
        assert_eq!(r.code, C::Ok);
    }
    Two {
        usd,
        eur,
        usd_key,
        eur_key,
    }
}

/// A proof of hold `id` as it stands now on `from` (an empty value if there is none),
/// under `key`.
fn proof_of(from: &Sandbox, id: u64, key: &GroupKey) -> RemoteProof {
    RemoteProof {
        chain: from.chain(),
        group_key: key.clone(),
        namespace: Text::new("TALLY_CONSENSUS_V1").unwrap(),
        header: BoundedVec::empty(),
        certificate: BoundedVec::empty(),
        key: BoundedVec::new(keys::hold(HoldId(id))).unwrap(),
        value: BoundedVec::new(from.store.get(&keys::hold(HoldId(id))).unwrap_or_default())
            .unwrap(),
        merkle: BoundedVec::empty(),
    }
}

fn bal(sb: &Sandbox, a: AccountId) -> Amount {
    StateReader(&sb.store).balance(a, USD)
}

fn status(sb: &Sandbox, id: u64) -> HoldStatus {
    StateReader(&sb.store)
        .hold(HoldId(id))
        .expect("hold")
        .status
}

/// Signs with `verifier` and applies in its own block.
fn run(
    sb: &mut Sandbox,
    signer: &str,
    op: impl Into<Operation>,
    verifier: &impl RemoteVerifier,
) -> Receipt {
    let key = k(signer);
    let tx = sb
        .sign_with(&[&key], vec![op.into()], verifier)
        .expect("the proof verifies");
    let r = sb.block(&[tx]).pop().expect("one receipt");
    if !r.is_ok() {
        sb.unuse_nonce(&key);
    }
    r
}

#[track_caller]
fn refused(
    sb: &mut Sandbox,
    signer: &str,
    op: impl Into<Operation>,
    v: &impl RemoteVerifier,
    code: C,
) {
    let r = run(sb, signer, op, v);
    assert_eq!(r.code, code, "{r:?}");
    assert!(r.events.is_empty(), "a refusal announces nothing");
}

/// The leader's lock on the dollar ledger: A pays B 100.00 dollars, against B paying A
/// 90.00 euros on the euro ledger (hold 2 there).
fn leader_lock(t: &Two, hold: u64, counterpart: u64, deadline: Timestamp) -> LockCrossLedger {
    LockCrossLedger {
        hold: HoldId(hold),
        leg: Leg {
            from: A_ACC,
            to: B_ACC,
            instrument: USD,
            amount: 10_000,
        },
        deadline,
        role: CrossRole::Leader,
        counterpart: RemoteLeg {
            chain: t.eur.chain(),
            hold: HoldId(counterpart),
            payee: A_ACC,
            instrument: USD,
            amount: 9_000,
        },
        proof: None,
    }
}

/// The follower's lock on the euro ledger, carrying a proof of the leader's.
fn follower_lock(t: &Two, hold: u64, counterpart: u64, deadline: Timestamp) -> LockCrossLedger {
    LockCrossLedger {
        hold: HoldId(hold),
        leg: Leg {
            from: B_ACC,
            to: A_ACC,
            instrument: USD,
            amount: 9_000,
        },
        deadline,
        role: CrossRole::Follower,
        counterpart: RemoteLeg {
            chain: t.usd.chain(),
            hold: HoldId(counterpart),
            payee: B_ACC,
            instrument: USD,
            amount: 10_000,
        },
        proof: Some(proof_of(&t.usd, counterpart, &t.usd_key)),
    }
}

#[test]
fn a_proven_swap_settles_both_legs_and_refuses_every_wrong_proof() {
    let mut t = two();
    let (usd_a, usd_b, eur_a, eur_b) = (
        bal(&t.usd, A_ACC),
        bal(&t.usd, B_ACC),
        bal(&t.eur, A_ACC),
        bal(&t.eur, B_ACC),
    );
    let deadline = t.usd.time.plus_ms(TEN_MIN);
    let now = Attest(t.usd.time);

    // The leader locks first, with no proof; a leader carrying one is malformed.
    let mut own_chain = leader_lock(&t, 1, 2, deadline);
    own_chain.counterpart.chain = t.usd.chain();
    refused(
        &mut t.usd,
        "dealer-a",
        own_chain,
        &now,
        C::InvalidCrossLedgerTerms,
    );
    let mut with_proof = leader_lock(&t, 1, 2, deadline);
    with_proof.proof = Some(proof_of(&t.usd, 9_999, &t.eur_key));
    refused(
        &mut t.usd,
        "dealer-a",
        with_proof,
        &now,
        C::InvalidCrossLedgerTerms,
    );
    let mut unknown = leader_lock(&t, 1, 2, deadline);
    unknown.counterpart.chain = chain("tally-jpy");
    refused(
        &mut t.usd,
        "dealer-a",
        unknown,
        &now,
        C::RemoteLedgerNotFound,
    );
    let op = leader_lock(&t, 1, 2, deadline);
    refused(&mut t.usd, "dealer-b", op, &now, C::Unauthorized);
    let op = leader_lock(&t, 1, 2, deadline);
    assert_eq!(run(&mut t.usd, "dealer-a", op, &now).code, C::Ok);
    assert_eq!(status(&t.usd, 1), HoldStatus::Held);

    // The follower locks against a proof that the leader is held for it.
    let mut no_proof = follower_lock(&t, 2, 1, deadline);
    no_proof.proof = None;
    refused(
        &mut t.eur,
        "dealer-b",
        no_proof,
        &now,
        C::InvalidCrossLedgerTerms,
    );
    let forged = t.eur.sign_with(
        &[&k("dealer-b")],
        vec![follower_lock(&t, 2, 1, deadline).into()],
        &Forged,
    );
    assert_eq!(
        forged.unwrap_err(),
        VerifyError::RemoteProof(RemoteProofError::Signature),
        "a proof that does not verify never reaches the ledger"
    );
    let mut other_key = follower_lock(&t, 2, 1, deadline);
    other_key.proof.as_mut().unwrap().group_key = t.eur_key.clone();
    refused(
        &mut t.eur,
        "dealer-b",
        other_key,
        &now,
        C::RemoteKeyMismatch,
    );
    let mut other_terms = follower_lock(&t, 2, 1, deadline);
    other_terms.counterpart.amount = 9_999;
    refused(
        &mut t.eur,
        "dealer-b",
        other_terms,
        &now,
        C::RemoteRecordMismatch,
    );
    // The leader names hold 2 as its counterpart, not 3.
    let other_hold = follower_lock(&t, 3, 1, deadline);
    refused(
        &mut t.eur,
        "dealer-b",
        other_hold,
        &now,
        C::RemoteRecordMismatch,
    );
    let mut other_deadline = follower_lock(&t, 2, 1, deadline);
    other_deadline.deadline = deadline.plus_ms(1);
    refused(
        &mut t.eur,
        "dealer-b",
        other_deadline,
        &now,
        C::InvalidCrossLedgerTerms,
    );
    let late = Attest(deadline);
    let op = follower_lock(&t, 2, 1, deadline);
    refused(&mut t.eur, "dealer-b", op, &late, C::RemoteOutcomeUnproven);
    let op = follower_lock(&t, 2, 1, deadline);
    assert_eq!(run(&mut t.eur, "dealer-b", op, &now).code, C::Ok);
    assert_eq!(
        StateReader(&t.eur.store).holding(B_ACC, USD).held,
        9_000,
        "the follower's units are held"
    );

    // Neither leg moves by the ordinary hold operations.
    refused(
        &mut t.usd,
        "dealer-a",
        ReleaseHold {
            hold: HoldId(1),
            preimage: None,
        },
        &now,
        C::CrossLedgerHold,
    );
    refused(
        &mut t.eur,
        "dealer-b",
        RefundHold { hold: HoldId(2) },
        &now,
        C::CrossLedgerHold,
    );
    // The follower does not pay while the leader is only held.
    let leader_held = ProveCrossLedger {
        hold: HoldId(2),
        proof: proof_of(&t.usd, 1, &t.usd_key),
    };
    refused(
        &mut t.eur,
        "custodian",
        leader_held,
        &now,
        C::RemoteOutcomeUnproven,
    );

    // The leader pays against the follower's lock: anyone may carry the proof.
    let follower_held = ProveCrossLedger {
        hold: HoldId(1),
        proof: proof_of(&t.eur, 2, &t.eur_key),
    };
    t.usd.submit(
        &[&k("central-bank"), &k("regulator")],
        vec![
            SuspendRemoteLedger {
                chain: t.eur.chain(),
            }
            .into(),
        ],
    );
    refused(
        &mut t.usd,
        "custodian",
        follower_held.clone(),
        &now,
        C::RemoteLedgerSuspended,
    );
    let r = t.usd.submit(
        &[&k("central-bank"), &k("regulator")],
        vec![
            ResumeRemoteLedger {
                chain: t.eur.chain(),
            }
            .into(),
        ],
    );
    assert_eq!(r.code, C::Ok);
    assert_eq!(
        run(&mut t.usd, "custodian", follower_held.clone(), &now).code,
        C::Ok
    );
    assert_eq!(status(&t.usd, 1), HoldStatus::Released);
    assert_eq!(
        (bal(&t.usd, A_ACC), bal(&t.usd, B_ACC)),
        (usd_a - 10_000, usd_b + 10_000)
    );
    // The same proof again finds the outcome written.
    refused(&mut t.usd, "custodian", follower_held, &now, C::HoldClosed);

    // The follower pays against the leader's release.
    let released = ProveCrossLedger {
        hold: HoldId(2),
        proof: proof_of(&t.usd, 1, &t.usd_key),
    };
    assert_eq!(run(&mut t.eur, "custodian", released, &now).code, C::Ok);
    assert_eq!(status(&t.eur, 2), HoldStatus::Released);
    assert_eq!(
        (bal(&t.eur, A_ACC), bal(&t.eur, B_ACC)),
        (eur_a + 9_000, eur_b - 9_000)
    );
    // A released follower is no proof for a leader to refund or pay again.
    let again = ProveCrossLedger {
        hold: HoldId(1),
        proof: proof_of(&t.eur, 2, &t.eur_key),
    };
    refused(&mut t.usd, "custodian", again, &now, C::HoldClosed);
    // An ordinary hold is not a cross-ledger one.
    let plain = PlaceHold {
        hold: HoldId(9),
        leg: Leg {
            from: A_ACC,
            to: B_ACC,
            instrument: USD,
            amount: 100,
        },
        hash_lock: None,
        deadline,
    };
    assert_eq!(run(&mut t.usd, "dealer-a", plain, &now).code, C::Ok);
    let not_cross = ProveCrossLedger {
        hold: HoldId(9),
        proof: proof_of(&t.eur, 2, &t.eur_key),
    };
    refused(
        &mut t.usd,
        "custodian",
        not_cross,
        &now,
        C::NotCrossLedgerHold,
    );
}

#[test]
fn past_the_deadline_both_legs_refund_and_nobody_pays_without_receiving() {
    let mut t = two();
    let (usd_a, eur_b) = (bal(&t.usd, A_ACC), bal(&t.eur, B_ACC));
    let deadline = t.usd.time.plus_ms(5_000);
    let now = Attest(t.usd.time);
    let op = leader_lock(&t, 1, 2, deadline);
    assert_eq!(run(&mut t.usd, "dealer-a", op, &now).code, C::Ok);
    let op = follower_lock(&t, 2, 1, deadline);
    assert_eq!(run(&mut t.eur, "dealer-b", op, &now).code, C::Ok);
    // The deadline passes on the dollar ledger before anyone relays the follower's lock.
    t.usd.advance(10_000, &[]);
    let follower_held = ProveCrossLedger {
        hold: HoldId(1),
        proof: proof_of(&t.eur, 2, &t.eur_key),
    };
    refused(&mut t.usd, "custodian", follower_held, &now, C::HoldExpired);

    // The follower refunds against a proof that the leader was still held at a certified
    // time at or past its deadline (no one refunded it yet); before that, it cannot.
    let leader_held = || ProveCrossLedger {
        hold: HoldId(2),
        proof: proof_of(&t.usd, 1, &t.usd_key),
    };
    refused(
        &mut t.eur,
        "custodian",
        leader_held(),
        &Attest(Timestamp(deadline.0 - 1)),
        C::RemoteOutcomeUnproven,
    );
    assert_eq!(
        run(&mut t.eur, "custodian", leader_held(), &Attest(deadline)).code,
        C::Ok
    );
    assert_eq!(status(&t.eur, 2), HoldStatus::Refunded);
    assert_eq!(bal(&t.eur, B_ACC), eur_b);

    // The leader refunds by time (its payer), as any hold past its deadline.
    assert_eq!(
        run(&mut t.usd, "dealer-a", RefundHold { hold: HoldId(1) }, &now).code,
        C::Ok
    );
    assert_eq!(status(&t.usd, 1), HoldStatus::Refunded);
    assert_eq!(bal(&t.usd, A_ACC), usd_a);

    // A second swap: the leader is refunded first (its beneficiary gives it back), and
    // the follower refunds against that outcome, before any deadline.
    let deadline = t.usd.time.plus_ms(TEN_MIN);
    let op = leader_lock(&t, 3, 4, deadline);
    assert_eq!(run(&mut t.usd, "dealer-a", op, &now).code, C::Ok);
    let op = follower_lock(&t, 4, 3, deadline);
    assert_eq!(run(&mut t.eur, "dealer-b", op, &now).code, C::Ok);
    assert_eq!(
        run(&mut t.usd, "dealer-b", RefundHold { hold: HoldId(3) }, &now).code,
        C::Ok
    );
    let refunded = ProveCrossLedger {
        hold: HoldId(4),
        proof: proof_of(&t.usd, 3, &t.usd_key),
    };
    assert_eq!(run(&mut t.eur, "custodian", refunded, &now).code, C::Ok);
    assert_eq!(status(&t.eur, 4), HoldStatus::Refunded);
    assert_eq!((bal(&t.usd, A_ACC), bal(&t.eur, B_ACC)), (usd_a, eur_b));
    // A refunded leader can never release the follower's payee... nor can the follower's
    // refund release the leader.
    let follower_refunded = ProveCrossLedger {
        hold: HoldId(3),
        proof: proof_of(&t.eur, 4, &t.eur_key),
    };
    refused(
        &mut t.usd,
        "custodian",
        follower_refunded,
        &now,
        C::HoldClosed,
    );
}
