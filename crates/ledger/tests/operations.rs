//! Unit tests for every operation of `tally_types::Operation`: the success path and every
//! rejection path of its handler, the transaction-level checks, the compliance rules on
//! both sides of a movement, atomicity, instruction matching and expiry, holds with
//! hash-locks, supervision (freezes, forced transfers, key-loss recovery), key rotation and
//! the supply and holder-count invariants; and the authorization rules around them: proof
//! of possession for every key registered, dual control (operator and regulator) over
//! another participant's keys, admin thresholds for registrations, updates and supervisory
//! orders, and the refusal of a suspended sender before any operation.
//!
//! Every test starts from the demo world (`tally_ledger::demo`) extended with two 2-of-2
//! participants: "duo" (issuer, dealer and investor, with its own instrument) and "sup"
//! (operator and regulator), so that insufficient approvals can be shown for every kind
//! of authorization. A rejection is always checked to leave the state exactly as an empty
//! block would, plus the rejected transaction's receipt record.

use commonware_codec::{Copying, DecodeExt as _, Encode as _};
use commonware_cryptography::Signer as _;
use tally_ledger::demo::{self, HUNDRED_DOLLARS, Sandbox, USD, UST_2034, member};
use tally_ledger::schema::{
    self, AccountRecord, Holding, InstrumentRecord, InstrumentStatus, ParticipantRecord,
    ReceiptRecord, tag,
};
use tally_ledger::{
    BlockEnv, BlockOutcome, Commit, Event, MemStore, MoveKind, Receipt, StateReader, Store,
};
use tally_types::codec::{BoundedVec, Text};
use tally_types::limits::{
    MAX_APPROVALS_PER_TX, MAX_INSTRUCTION_TTL_MS, MAX_KEYS_PER_PARTICIPANT, MAX_RECOVERY_HOLDINGS,
    MAX_TX_TTL_MS,
};
use tally_types::model::*;
use tally_types::ops::*;
use tally_types::time::MS_PER_DAY;
use tally_types::tx::{Approval, Approvals};
use tally_types::{
    AccountId, Amount, ChainId, Country, Cusip, Date, Hash32, HoldId, InstrumentId, Isin, Lei,
    Operation, PrivateKey, PublicKey, Rate, ResultCode, Signature, SignedTx, Timestamp,
    Transaction, VerifiedTx,
};

use ResultCode as C;

// ---- the world ---------------------------------------------------------------------------

const CB: &str = "central-bank";
const TR: &str = "treasury";
const DA: &str = "dealer-a";
const DB: &str = "dealer-b";
const CU: &str = "custodian";
const RG: &str = "regulator";

const CB_ACC: AccountId = AccountId(100);
const TR_ACC: AccountId = AccountId(200);
const A_ACC: AccountId = AccountId(300);
const B_ACC: AccountId = AccountId(400);
const CU_ACC: AccountId = AccountId(500);
const DUO_ACC: AccountId = AccountId(700);
const NO_ACC: AccountId = AccountId(999_999);

const DUO_TOKEN: InstrumentId = InstrumentId(10);
const NO_INST: InstrumentId = InstrumentId(999_999);

/// Each dealer's genesis cash: $50m in cents.
const CASH: Amount = 5_000_000_000;
/// Dealer A's genesis note position: $10m face in cents.
const FACE: Amount = 1_000_000_000;
/// Duo's genesis position in its own token.
const DUO_UNITS: Amount = 1_000;
const H: Amount = HUNDRED_DOLLARS;

fn k(name: &str) -> PrivateKey {
    member(name).key()
}
fn lei(name: &str) -> Lei {
    member(name).lei()
}
fn fresh(seed: u64) -> PrivateKey {
    PrivateKey::from_seed(seed)
}
fn duo1() -> PrivateKey {
    fresh(7001)
}
fn duo2() -> PrivateKey {
    fresh(7002)
}
fn sup1() -> PrivateKey {
    fresh(7101)
}
fn sup2() -> PrivateKey {
    fresh(7102)
}
fn duo_lei() -> Lei {
    Lei::with_check_digits("TALLYDUO000000000G").unwrap()
}
fn sup_lei() -> Lei {
    Lei::with_check_digits("TALLYSUP000000000H").unwrap()
}
/// An LEI no participant has (until a test registers it).
fn test_lei(n: u32) -> Lei {
    Lei::with_check_digits(&format!("TALLYTEST{n:09}")).unwrap()
}
fn date(s: &str) -> Date {
    Date::parse(s).unwrap()
}
fn country(s: &str) -> Country {
    Country::parse(s).unwrap()
}

fn profile(roles: &[Role]) -> Profile {
    Profile {
        legal_name: Text::new("Test Participant LLC").unwrap(),
        roles: Roles::of(roles),
        jurisdiction: country("US"),
        investor_class: InvestorClass::QualifiedInstitutional,
        kyc: Kyc {
            status: KycStatus::Verified,
            expires_on: date("2030-12-31"),
        },
    }
}

/// A registration with one key of weight 1 per signer.
fn registration(
    lei: Lei,
    roles: &[Role],
    keys: &[&PrivateKey],
    threshold: u16,
    admin_threshold: u16,
) -> RegisterParticipant {
    RegisterParticipant {
        lei,
        profile: profile(roles),
        keys: BoundedVec::new(
            keys.iter()
                .map(|k| WeightedKey {
                    key: k.public_key(),
                    weight: 1,
                })
                .collect(),
        )
        .unwrap(),
        threshold,
        admin_threshold,
    }
}

fn equity(id: InstrumentId, issuer: Lei) -> CreateInstrument {
    CreateInstrument {
        instrument: id,
        issuer,
        name: Text::new("Test Common Stock").unwrap(),
        ids: SecurityIds::default(),
        scale: 0,
        min_increment: 1,
        kind: InstrumentKind::Equity,
        policy: Policy::default(),
    }
}

fn bill(id: InstrumentId) -> CreateInstrument {
    CreateInstrument {
        instrument: id,
        issuer: lei(TR),
        name: Text::new("UST Bill 20-May-2027").unwrap(),
        ids: SecurityIds::default(),
        scale: 2,
        min_increment: H,
        kind: InstrumentKind::TreasuryBill {
            issue_date: date("2026-11-19"),
            maturity_date: date("2027-05-20"),
        },
        policy: Policy::default(),
    }
}

/// The demo genesis plus "duo" (2-of-2 issuer/dealer with an account and its own token)
/// and "sup" (2-of-2 operator/regulator).
fn world_genesis() -> tally_ledger::Genesis {
    let mut g = demo::genesis();
    g.operations.extend([
        registration(
            duo_lei(),
            &[Role::Issuer, Role::Dealer, Role::Investor],
            &[&duo1(), &duo2()],
            2,
            2,
        )
        .into(),
        registration(
            sup_lei(),
            &[Role::Operator, Role::Regulator],
            &[&sup1(), &sup2()],
            2,
            2,
        )
        .into(),
        open(DUO_ACC, duo_lei()),
        equity(DUO_TOKEN, duo_lei()).into(),
        mint(DUO_TOKEN, DUO_ACC, DUO_UNITS),
    ]);
    g
}

fn world() -> Sandbox {
    Sandbox::with_genesis(MemStore::new(), &world_genesis())
}

/// Registers a one-key participant (by the operator) with an own account.
fn onboard(
    sb: &mut Sandbox,
    n: u32,
    roles: &[Role],
    class: InvestorClass,
    account: AccountId,
) -> (Lei, PrivateKey) {
    let lei = test_lei(n);
    let key = fresh(8000 + u64::from(n));
    let mut reg = registration(lei, roles, &[&key], 1, 1);
    reg.profile.investor_class = class;
    accept_all(sb, &[&k(CB), &key], vec![reg.into(), open(account, lei)]);
    (lei, key)
}

// ---- submitting ----------------------------------------------------------------------------

/// The root the state would have after an empty block in place of the next one.
fn root_after_empty_block(sb: &Sandbox) -> Hash32 {
    let mut twin = sb.store.clone();
    let env = BlockEnv {
        height: sb.height + 1,
        time: sb.time.plus_ms(1_000),
    };
    sb.ledger.apply_block(&mut twin, env, &[]).unwrap();
    twin.root()
}

/// The root `before` would reach if the sandbox's last block had only refused `r`: an
/// empty block at that height and time, plus `r`'s receipt record (a refusal is recorded
/// too, so that its outcome survives restarts and can be proven).
#[track_caller]
fn root_after_refusal(before: &MemStore, sb: &Sandbox, r: &Receipt) -> Hash32 {
    assert_ne!(r.code, C::Ok, "not a refusal: {r:?}");
    let earlier = StateReader(before).receipt(&r.tx_id);
    assert!(
        earlier.is_none_or(|e| e.result_code() != C::Ok),
        "a refusal of an applied transaction keeps its Ok record: {earlier:?}"
    );
    let mut twin = before.clone();
    let env = BlockEnv {
        height: sb.height,
        time: sb.time,
    };
    sb.ledger.apply_block(&mut twin, env, &[]).unwrap();
    let record = ReceiptRecord::new(sb.height, 0, r.code, r.failed_op);
    twin.put(schema::keys::receipt(&r.tx_id), schema::encode(&record));
    assert_eq!(
        StateReader(&sb.store).receipt(&r.tx_id),
        Some(record),
        "receipt record of a refusal"
    );
    twin.root()
}

#[track_caller]
fn accept_all(sb: &mut Sandbox, signers: &[&PrivateKey], ops: Vec<Operation>) -> Receipt {
    let r = sb.submit(signers, ops);
    assert_eq!(r.code, C::Ok, "expected Ok: {r:?}");
    assert_eq!(r.failed_op, None);
    r
}

#[track_caller]
fn accept(sb: &mut Sandbox, signers: &[&PrivateKey], op: impl Into<Operation>) -> Receipt {
    accept_all(sb, signers, vec![op.into()])
}

/// Submits, expects `code` with no events, and checks that nothing changed but the block
/// metadata and the transaction's receipt record.
#[track_caller]
fn refused(
    sb: &mut Sandbox,
    signers: &[&PrivateKey],
    ops: Vec<Operation>,
    code: ResultCode,
) -> Receipt {
    let before = sb.store.clone();
    let r = sb.submit(signers, ops);
    assert_eq!(r.code, code, "unexpected outcome: {r:?}");
    assert!(r.events.is_empty(), "a rejection reported events: {r:?}");
    let expected = root_after_refusal(&before, sb, &r);
    assert_eq!(
        sb.root(),
        expected,
        "a rejected transaction changed the state"
    );
    r
}

/// Submits, expects `code` (from the transaction checks if 1xx, else from an operation),
/// and checks that nothing changed but the block metadata and the receipt record.
#[track_caller]
fn reject_all(
    sb: &mut Sandbox,
    signers: &[&PrivateKey],
    ops: Vec<Operation>,
    code: ResultCode,
) -> Receipt {
    let r = refused(sb, signers, ops, code);
    if code.code() < 200 {
        assert_eq!(r.failed_op, None, "transaction check, not an operation");
    } else {
        assert!(r.failed_op.is_some(), "operation failure without index");
    }
    r
}

#[track_caller]
fn reject(sb: &mut Sandbox, signers: &[&PrivateKey], op: impl Into<Operation>, code: ResultCode) {
    reject_all(sb, signers, vec![op.into()], code);
}

/// A suspended sender (`signers[0]`): refused by the transaction checks, before any
/// operation, whatever the operation.
#[track_caller]
fn reject_suspended_sender(sb: &mut Sandbox, signers: &[&PrivateKey], op: impl Into<Operation>) {
    let r = refused(sb, signers, vec![op.into()], C::ParticipantSuspended);
    assert_eq!(
        r.failed_op, None,
        "a suspended sender is a transaction check"
    );
}

/// A suspended participant's approval counts for nothing: sending itself (`signers`),
/// it is refused by the transaction checks; co-signing a bystander's (the custodian's)
/// transaction, by the operation's authorization.
#[track_caller]
fn reject_suspended(sb: &mut Sandbox, signers: &[&PrivateKey], op: impl Into<Operation>) {
    let op = op.into();
    reject_suspended_sender(sb, signers, op.clone());
    let bystander = k(CU);
    let mut cosigned = vec![&bystander];
    cosigned.extend_from_slice(signers);
    let r = refused(sb, &cosigned, vec![op], C::ParticipantSuspended);
    assert_eq!(
        r.failed_op,
        Some(0),
        "a suspended co-signer fails the operation"
    );
}

/// Applies one block `ms` after the previous one straight through the ledger, returning
/// the block's own events too.
fn raw_block(sb: &mut Sandbox, ms: u64, txs: &[VerifiedTx]) -> BlockOutcome {
    sb.height += 1;
    sb.time = sb.time.plus_ms(ms);
    let env = BlockEnv {
        height: sb.height,
        time: sb.time,
    };
    sb.ledger.apply_block(&mut sb.store, env, txs).unwrap()
}

/// A transaction built by hand (any nonce and expiry).
fn manual_tx(
    sb: &Sandbox,
    signers: &[&PrivateKey],
    nonce: u64,
    expires_at: Timestamp,
    ops: Vec<Operation>,
) -> VerifiedTx {
    let chain = sb.chain();
    let tx = Transaction {
        sender: signers[0].public_key(),
        nonce,
        expires_at,
        operations: BoundedVec::new(ops).unwrap(),
    };
    tally_types::verify_one(&chain, tx.sign(&chain, signers)).unwrap()
}

// ---- operation builders --------------------------------------------------------------------

fn leg(from: AccountId, to: AccountId, instrument: InstrumentId, amount: Amount) -> Leg {
    Leg {
        from,
        to,
        instrument,
        amount,
    }
}
fn transfer(from: AccountId, to: AccountId, i: InstrumentId, amount: Amount) -> Operation {
    Transfer {
        leg: leg(from, to, i, amount),
    }
    .into()
}
fn mint(instrument: InstrumentId, to: AccountId, amount: Amount) -> Operation {
    Mint {
        instrument,
        to,
        amount,
    }
    .into()
}
fn burn(instrument: InstrumentId, from: AccountId, amount: Amount) -> Operation {
    Burn {
        instrument,
        from,
        amount,
    }
    .into()
}
fn settle(legs: &[Leg]) -> Operation {
    Settle {
        legs: BoundedVec::new(legs.to_vec()).unwrap(),
    }
    .into()
}
fn instruct(trade_ref: &str, legs: &[Leg], expires_at: Timestamp) -> Instruct {
    Instruct {
        trade_ref: Text::new(trade_ref).unwrap(),
        legs: BoundedVec::new(legs.to_vec()).unwrap(),
        expires_at,
    }
}
fn cancel(instruction: Hash32) -> Operation {
    CancelInstruction { instruction }.into()
}
fn place_hold(id: u64, leg: Leg, hash_lock: Option<Hash32>, deadline: Timestamp) -> Operation {
    PlaceHold {
        hold: HoldId(id),
        leg,
        hash_lock,
        deadline,
    }
    .into()
}
fn release(id: u64, preimage: Option<Hash32>) -> Operation {
    ReleaseHold {
        hold: HoldId(id),
        preimage,
    }
    .into()
}
fn refund(id: u64) -> Operation {
    RefundHold { hold: HoldId(id) }.into()
}
fn open(account: AccountId, owner: Lei) -> Operation {
    OpenAccount {
        account,
        owner,
        kind: AccountKind::Own,
    }
    .into()
}
fn freeze_account(account: AccountId) -> Operation {
    FreezeAccount {
        account,
        reason: 11,
    }
    .into()
}
fn unfreeze_account(account: AccountId) -> Operation {
    UnfreezeAccount { account }.into()
}
fn freeze_holding(account: AccountId, instrument: InstrumentId, amount: Amount) -> Operation {
    FreezeHolding {
        account,
        instrument,
        amount,
        reason: 12,
    }
    .into()
}
fn unfreeze_holding(account: AccountId, instrument: InstrumentId, amount: Amount) -> Operation {
    UnfreezeHolding {
        account,
        instrument,
        amount,
    }
    .into()
}
fn forced(leg: Leg) -> Operation {
    ForcedTransfer { leg, reason: 13 }.into()
}
fn recover(from: AccountId, to: AccountId) -> Operation {
    RecoverAccount {
        from,
        to,
        reason: 14,
    }
    .into()
}
fn suspend(lei: Lei) -> Operation {
    SuspendParticipant { lei, reason: 7 }.into()
}
fn reinstate(lei: Lei) -> Operation {
    ReinstateParticipant { lei }.into()
}
fn pause(instrument: InstrumentId) -> Operation {
    PauseInstrument { instrument }.into()
}
fn unpause(instrument: InstrumentId) -> Operation {
    UnpauseInstrument { instrument }.into()
}
fn add_key(lei: Lei, key: &PrivateKey, weight: u16) -> Operation {
    AddKey {
        lei,
        key: WeightedKey {
            key: key.public_key(),
            weight,
        },
    }
    .into()
}
fn rotate_key(lei: Lei, old: &PrivateKey, new: &PrivateKey) -> Operation {
    RotateKey {
        lei,
        old: old.public_key(),
        new: new.public_key(),
    }
    .into()
}
fn remove_key(lei: Lei, key: &PrivateKey) -> Operation {
    RemoveKey {
        lei,
        key: key.public_key(),
    }
    .into()
}
fn thresholds(lei: Lei, threshold: u16, admin_threshold: u16) -> Operation {
    SetThresholds {
        lei,
        threshold,
        admin_threshold,
    }
    .into()
}
/// `UpdateParticipant` with the current profile changed by `f`.
fn update_profile(sb: &Sandbox, who: Lei, f: impl FnOnce(&mut Profile)) -> Operation {
    let mut profile = participant(sb, &who).profile;
    f(&mut profile);
    UpdateParticipant { lei: who, profile }.into()
}
/// `UpdatePolicy` with the current policy changed by `f`.
fn update_policy(sb: &Sandbox, i: InstrumentId, f: impl FnOnce(&mut Policy)) -> Operation {
    let mut policy = instrument(sb, i).policy;
    f(&mut policy);
    UpdatePolicy {
        instrument: i,
        policy,
    }
    .into()
}

// ---- state ---------------------------------------------------------------------------------

fn holding(sb: &Sandbox, a: AccountId, i: InstrumentId) -> Holding {
    StateReader(&sb.store).holding(a, i)
}
fn bal(sb: &Sandbox, a: AccountId, i: InstrumentId) -> Amount {
    StateReader(&sb.store).balance(a, i)
}
fn held(sb: &Sandbox, a: AccountId, i: InstrumentId) -> Amount {
    holding(sb, a, i).held
}
fn instrument(sb: &Sandbox, i: InstrumentId) -> InstrumentRecord {
    StateReader(&sb.store).instrument(i).expect("instrument")
}
fn participant(sb: &Sandbox, lei: &Lei) -> ParticipantRecord {
    StateReader(&sb.store)
        .participant(lei)
        .expect("participant")
}
fn account(sb: &Sandbox, a: AccountId) -> AccountRecord {
    StateReader(&sb.store).account(a).expect("account")
}
fn supply(sb: &Sandbox, i: InstrumentId) -> Amount {
    instrument(sb, i).total_supply
}
fn holders(sb: &Sandbox, i: InstrumentId) -> u64 {
    instrument(sb, i).holder_count
}

/// The instrument record's supply and holder count match the holdings actually stored.
#[track_caller]
fn assert_totals(sb: &Sandbox, i: InstrumentId) {
    let (mut sum, mut count) = (0u128, 0u64);
    for (key, value) in sb.store.iter() {
        if key[0] == tag::HOLDING && key[9..17] == i.0.to_be_bytes() {
            let h: Holding = schema::decode(value);
            assert!(h.held + h.frozen <= h.balance, "over-locked holding {h:?}");
            sum += h.balance;
            count += u64::from(h.balance > 0);
        }
    }
    let rec = instrument(sb, i);
    assert_eq!(rec.total_supply, sum, "supply of {i:?}");
    assert_eq!(rec.holder_count, count, "holder count of {i:?}");
}

fn moved(kind: MoveKind, from: AccountId, to: AccountId, i: InstrumentId, a: Amount) -> Event {
    Event::Moved {
        kind,
        from: Some(from),
        to: Some(to),
        instrument: i,
        amount: a,
    }
}

/// Dealer A delivers `face` of the note to dealer B against `cash`.
fn dvp_legs(face: Amount, cash: Amount) -> [Leg; 2] {
    [
        leg(A_ACC, B_ACC, UST_2034, face),
        leg(B_ACC, A_ACC, USD, cash),
    ]
}

// =============================================================================================
// Transaction-level checks (block.rs)
// =============================================================================================

#[test]
fn world_starts_as_described() {
    let sb = world();
    assert_eq!(bal(&sb, A_ACC, USD), CASH);
    assert_eq!(bal(&sb, B_ACC, USD), CASH);
    assert_eq!(bal(&sb, A_ACC, UST_2034), FACE);
    assert_eq!(bal(&sb, DUO_ACC, DUO_TOKEN), DUO_UNITS);
    assert_eq!((supply(&sb, USD), holders(&sb, USD)), (2 * CASH, 2));
    assert_eq!((supply(&sb, UST_2034), holders(&sb, UST_2034)), (FACE, 1));
    for i in [USD, UST_2034, DUO_TOKEN] {
        assert_totals(&sb, i);
    }
}

#[test]
fn tx_expired_only_after_its_expiry() {
    let mut sb = world();
    let late = sb.sign(&[&k(DA)], vec![transfer(A_ACC, B_ACC, USD, 100)]);
    let r = sb.advance(3_600_001, &[late]);
    assert_eq!(r[0].code, C::TxExpired);
    assert_eq!(r[0].failed_op, None);
    assert_eq!(bal(&sb, B_ACC, USD), CASH);
    sb.unuse_nonce(&k(DA));
    // A block exactly at the expiry still takes it.
    let on_time = sb.sign(&[&k(DA)], vec![transfer(A_ACC, B_ACC, USD, 100)]);
    let r = sb.advance(3_600_000, &[on_time]);
    assert_eq!(r[0].code, C::Ok);
    assert_eq!(bal(&sb, B_ACC, USD), CASH + 100);
}

#[test]
fn tx_expiry_too_far_ahead() {
    let mut sb = world();
    let next_block = sb.time.plus_ms(1_000);
    let op = || vec![transfer(A_ACC, B_ACC, USD, 100)];
    let far = manual_tx(
        &sb,
        &[&k(DA)],
        0,
        next_block.plus_ms(MAX_TX_TTL_MS + 1),
        op(),
    );
    assert_eq!(sb.block(&[far])[0].code, C::TxExpiryTooFar);
    let next_block = sb.time.plus_ms(1_000);
    let limit = manual_tx(&sb, &[&k(DA)], 0, next_block.plus_ms(MAX_TX_TTL_MS), op());
    assert_eq!(sb.block(&[limit])[0].code, C::Ok);
    assert_eq!(bal(&sb, B_ACC, USD), CASH + 100);
}

#[test]
fn unknown_sender_and_unknown_signer() {
    let mut sb = world();
    let stranger = fresh(424_242);
    reject(
        &mut sb,
        &[&stranger],
        transfer(A_ACC, B_ACC, USD, 100),
        C::UnknownSender,
    );
    reject(
        &mut sb,
        &[&k(DA), &stranger],
        transfer(A_ACC, B_ACC, USD, 100),
        C::UnknownSigner,
    );
    // Transaction checks come first: an expired transaction from a stranger is expired.
    let tx = manual_tx(
        &sb,
        &[&stranger],
        0,
        sb.time,
        vec![transfer(A_ACC, B_ACC, USD, 100)],
    );
    assert_eq!(sb.block(&[tx])[0].code, C::TxExpired);
}

#[test]
fn replaying_an_applied_transaction_is_refused() {
    let mut sb = world();
    let tx = sb.sign(&[&k(DA)], vec![transfer(A_ACC, B_ACC, USD, 100)]);
    assert_eq!(sb.block(std::slice::from_ref(&tx))[0].code, C::Ok);
    // The replay changes nothing but the block metadata: its Ok receipt record stands.
    let before = root_after_empty_block(&sb);
    let r = sb.block(std::slice::from_ref(&tx));
    assert_eq!(r[0].code, C::NonceReused);
    assert_eq!(r[0].tx_id, tx.id());
    assert_eq!(sb.root(), before);
    // Twice in one block: the second copy is a replay of the first.
    let tx = sb.sign(&[&k(DA)], vec![transfer(A_ACC, B_ACC, USD, 100)]);
    let r = sb.block(&[tx.clone(), tx]);
    assert_eq!((r[0].code, r[1].code), (C::Ok, C::NonceReused));
    assert_eq!(bal(&sb, B_ACC, USD), CASH + 200);
    assert_eq!(StateReader(&sb.store).next_nonce(&k(DA).public_key()), 2);
}

#[test]
fn nonce_gap_is_refused() {
    let mut sb = world();
    let gap = manual_tx(
        &sb,
        &[&k(DA)],
        1,
        sb.time.plus_ms(60_000),
        vec![transfer(A_ACC, B_ACC, USD, 100)],
    );
    let r = sb.block(&[gap]);
    assert_eq!((r[0].code, r[0].failed_op), (C::NonceGap, None));
    assert_eq!(StateReader(&sb.store).next_nonce(&k(DA).public_key()), 0);
    assert_eq!(bal(&sb, B_ACC, USD), CASH);
}

#[test]
fn a_suspended_sender_is_refused_before_any_operation() {
    let mut sb = world();
    let deadline = sb.time.plus_ms(600_000);
    accept(
        &mut sb,
        &[&k(DA)],
        place_hold(1, escrow_leg(), Some(lock()), deadline),
    );
    accept(&mut sb, &[&k(RG)], suspend(lei(CU)));
    // Releasing with the preimage needs nobody's approval, yet a suspended sender cannot.
    reject_suspended_sender(&mut sb, &[&k(CU)], release(1, Some(secret())));
    // The sender is refused before its co-signers are looked at ...
    reject_suspended_sender(
        &mut sb,
        &[&k(CU), &fresh(424_242)],
        release(1, Some(secret())),
    );
    // ... but after the expiry and nonce checks.
    let gap = manual_tx(
        &sb,
        &[&k(CU)],
        1,
        sb.time.plus_ms(60_000),
        vec![release(1, Some(secret()))],
    );
    let r = sb.block(&[gap]);
    assert_eq!((r[0].code, r[0].failed_op), (C::NonceGap, None));
    assert_eq!(StateReader(&sb.store).next_nonce(&k(CU).public_key()), 0);
    assert_eq!(held(&sb, A_ACC, USD), ESCROW);
    // A suspended co-signer whose approval nothing needs does not stop the sender.
    accept(&mut sb, &[&k(DB), &k(CU)], transfer(B_ACC, A_ACC, USD, 100));
    // Reinstated, it sends again.
    accept(&mut sb, &[&k(RG)], reinstate(lei(CU)));
    accept(&mut sb, &[&k(CU)], release(1, Some(secret())));
    assert_eq!(bal(&sb, B_ACC, USD), CASH - 100 + ESCROW);
}

// =============================================================================================
// Atomicity
// =============================================================================================

#[test]
fn a_failing_operation_undoes_the_whole_transaction() {
    let mut sb = world();
    let before = sb.store.clone();
    let r = sb.submit(
        &[&k(DA)],
        vec![
            transfer(A_ACC, B_ACC, USD, 1_000),
            transfer(A_ACC, B_ACC, UST_2034, FACE + H),
            transfer(A_ACC, B_ACC, USD, 1_000),
        ],
    );
    assert_eq!(r.code, C::InsufficientBalance);
    assert_eq!(r.failed_op, Some(1));
    assert!(r.events.is_empty());
    assert_eq!(sb.root(), root_after_refusal(&before, &sb, &r));
    assert_eq!(bal(&sb, A_ACC, USD), CASH);
    assert_eq!(bal(&sb, B_ACC, USD), CASH);
    // The rejected transaction did not use its nonce.
    assert_eq!(StateReader(&sb.store).next_nonce(&k(DA).public_key()), 0);
    // The same operations without the bad one apply.
    let r = accept_all(
        &mut sb,
        &[&k(DA)],
        vec![
            transfer(A_ACC, B_ACC, USD, 1_000),
            transfer(A_ACC, B_ACC, USD, 1_000),
        ],
    );
    assert_eq!(r.events.len(), 2);
    assert_eq!(bal(&sb, B_ACC, USD), CASH + 2_000);
}

#[test]
fn a_failing_first_operation_is_index_zero_and_a_late_one_its_index() {
    let mut sb = world();
    let r = reject_all(
        &mut sb,
        &[&k(TR)],
        vec![
            mint(UST_2034, TR_ACC, 7 * H),
            mint(UST_2034, TR_ACC, 7 * H),
            mint(UST_2034, TR_ACC, 7 * H + 1),
        ],
        C::NotMultipleOfIncrement,
    );
    assert_eq!(r.failed_op, Some(2));
    assert_eq!(supply(&sb, UST_2034), FACE);
    let r = reject_all(
        &mut sb,
        &[&k(TR)],
        vec![mint(UST_2034, NO_ACC, H), mint(UST_2034, TR_ACC, H)],
        C::AccountNotFound,
    );
    assert_eq!(r.failed_op, Some(0));
}

// =============================================================================================
// Receipts in the state (table 0d)
// =============================================================================================

/// The receipt record of `tx`.
fn recorded(sb: &Sandbox, tx: &VerifiedTx) -> Option<ReceiptRecord> {
    StateReader(&sb.store).receipt(&tx.id())
}

#[test]
fn receipts_are_recorded_for_applied_and_rejected_transactions() {
    let mut sb = world();
    let applied = sb.sign(&[&k(DA)], vec![transfer(A_ACC, B_ACC, USD, 100)]);
    let failed_op = sb.sign(
        &[&k(DB)],
        vec![
            transfer(B_ACC, A_ACC, USD, 1),
            transfer(B_ACC, A_ACC, USD, CASH + H),
        ],
    );
    let stranger = sb.sign(&[&fresh(424_242)], vec![transfer(A_ACC, B_ACC, USD, 1)]);
    for tx in [&applied, &failed_op, &stranger] {
        assert_eq!(recorded(&sb, tx), None);
    }
    let r = sb.block(&[applied.clone(), failed_op.clone(), stranger.clone()]);
    let codes: Vec<_> = r.iter().map(|r| (r.code, r.failed_op)).collect();
    assert_eq!(
        codes,
        [
            (C::Ok, None),
            (C::InsufficientBalance, Some(1)),
            (C::UnknownSender, None)
        ]
    );
    let h = sb.height;
    assert_eq!(
        recorded(&sb, &applied),
        Some(ReceiptRecord::new(h, 0, C::Ok, None))
    );
    assert_eq!(
        recorded(&sb, &failed_op),
        Some(ReceiptRecord::new(h, 1, C::InsufficientBalance, Some(1)))
    );
    assert_eq!(
        recorded(&sb, &stranger),
        Some(ReceiptRecord::new(h, 2, C::UnknownSender, None))
    );
    let stored = recorded(&sb, &failed_op).unwrap();
    assert_eq!(
        (stored.code, stored.result_code()),
        (500, C::InsufficientBalance)
    );
    // Only the applied transaction moved anything.
    assert_eq!(bal(&sb, B_ACC, USD), CASH + 100);
    assert_eq!(StateReader(&sb.store).next_nonce(&k(DB).public_key()), 0);
}

#[test]
fn an_ok_receipt_is_never_overwritten_by_a_later_inclusion() {
    let mut sb = world();
    let tx = sb.sign(&[&k(DA)], vec![transfer(A_ACC, B_ACC, USD, 100)]);
    assert_eq!(sb.block(std::slice::from_ref(&tx))[0].code, C::Ok);
    let first = Some(ReceiptRecord::new(sb.height, 0, C::Ok, None));
    assert_eq!(recorded(&sb, &tx), first);
    // Included again, behind another transaction: refused for its nonce, yet the record
    // still says where it applied.
    let other = sb.sign(&[&k(DB)], vec![transfer(B_ACC, A_ACC, USD, 1)]);
    let r = sb.block(&[other, tx.clone()]);
    assert_eq!((r[0].code, r[1].code), (C::Ok, C::NonceReused));
    assert_eq!(r[1].tx_id, tx.id());
    assert_eq!(recorded(&sb, &tx), first);
    // Twice in one block: the first copy's Ok stands.
    let tx = sb.sign(&[&k(DA)], vec![transfer(A_ACC, B_ACC, USD, 100)]);
    let r = sb.block(&[tx.clone(), tx.clone()]);
    assert_eq!((r[0].code, r[1].code), (C::Ok, C::NonceReused));
    assert_eq!(
        recorded(&sb, &tx),
        Some(ReceiptRecord::new(sb.height, 0, C::Ok, None))
    );
    assert_eq!(bal(&sb, B_ACC, USD), CASH + 200 - 1);
}

#[test]
fn a_rejected_transaction_included_again_records_its_latest_outcome() {
    let mut sb = world();
    // Dealer A's whole cash plus one cent: refused until a cent arrives.
    let tx = sb.sign(
        &[&k(DA)],
        vec![
            transfer(A_ACC, B_ACC, USD, 1),
            transfer(A_ACC, B_ACC, USD, CASH),
        ],
    );
    let r = sb.block(std::slice::from_ref(&tx));
    assert_eq!(
        (r[0].code, r[0].failed_op),
        (C::InsufficientBalance, Some(1))
    );
    let h1 = sb.height;
    assert_eq!(
        recorded(&sb, &tx),
        Some(ReceiptRecord::new(h1, 0, C::InsufficientBalance, Some(1)))
    );
    // Refused again in a later block, at another position: the newer refusal replaces it.
    let other = sb.sign(&[&k(DB)], vec![transfer(B_ACC, CU_ACC, USD, 1)]);
    let r = sb.block(&[other, tx.clone()]);
    assert_eq!((r[0].code, r[1].code), (C::Ok, C::InsufficientBalance));
    let h2 = sb.height;
    assert_eq!(
        recorded(&sb, &tx),
        Some(ReceiptRecord::new(h2, 1, C::InsufficientBalance, Some(1)))
    );
    // A cent arrives just before it in the next block, and it applies.
    let fund = sb.sign(&[&k(DB)], vec![transfer(B_ACC, A_ACC, USD, 1)]);
    let r = sb.block(&[fund, tx.clone()]);
    assert_eq!((r[0].code, r[1].code), (C::Ok, C::Ok));
    let h3 = sb.height;
    assert_eq!(
        recorded(&sb, &tx),
        Some(ReceiptRecord::new(h3, 1, C::Ok, None))
    );
    assert_eq!(bal(&sb, A_ACC, USD), 0);
    assert_eq!(bal(&sb, B_ACC, USD), CASH - 2 + CASH + 1);
    // From now on the Ok record is final.
    assert_eq!(sb.block(std::slice::from_ref(&tx))[0].code, C::NonceReused);
    assert_eq!(
        recorded(&sb, &tx),
        Some(ReceiptRecord::new(h3, 1, C::Ok, None))
    );
}

// =============================================================================================
// Participants: RegisterParticipant, UpdateParticipant, SuspendParticipant, Reinstate
// =============================================================================================

#[test]
fn register_participant_by_the_operator() {
    let mut sb = world();
    let key = fresh(8001);
    let new = test_lei(1);
    // The new key co-signs: proof that its owner holds it.
    let r = accept(
        &mut sb,
        &[&k(CB), &key],
        registration(new, &[Role::Investor], &[&key], 1, 1),
    );
    assert_eq!(
        r.events,
        vec![
            Event::KeyAdded(new, key.public_key()),
            Event::ParticipantRegistered(new)
        ]
    );
    let p = participant(&sb, &new);
    assert_eq!((p.threshold, p.admin_threshold, p.suspended), (1, 1, false));
    assert_eq!(p.keys.len(), 1);
    assert!(p.profile.roles.has(Role::Investor));
    assert_eq!(
        StateReader(&sb.store).key_owner(&key.public_key()),
        Some(new)
    );
    // The newcomer can act with its key.
    accept(&mut sb, &[&key], open(AccountId(900), new));
    assert_eq!(account(&sb, AccountId(900)).owner, new);
    // The 2-of-2 operator registers with both keys.
    let key2 = fresh(8002);
    accept(
        &mut sb,
        &[&sup1(), &sup2(), &key2],
        registration(test_lei(2), &[Role::Dealer], &[&key2], 1, 1),
    );
}

#[test]
fn register_participant_rejections() {
    let mut sb = world();
    let key = fresh(8001);
    let new = test_lei(1);
    let good = || registration(new, &[Role::Investor], &[&key], 1, 1);
    // Every registration below is co-signed by the key it registers, so that only the
    // rule under test can refuse it.
    let cb = [&k(CB), &key];
    reject(&mut sb, &[&k(DA), &key], good(), C::Unauthorized);
    reject(&mut sb, &[&k(RG), &key], good(), C::Unauthorized);
    reject(&mut sb, &[&sup1(), &key], good(), C::InsufficientApprovals);

    let mut op = good();
    op.profile.roles = Roles::NONE;
    reject(&mut sb, &cb, op, C::InvalidRoles);
    // The operator role is granted at genesis only.
    let mut op = good();
    op.profile.roles = Roles::of(&[Role::Operator, Role::Investor]);
    reject(&mut sb, &cb, op, C::InvalidRoles);

    let dup = registration(new, &[Role::Investor], &[&key, &key], 1, 1);
    reject(&mut sb, &cb, dup, C::InvalidKeys);
    let mut zero = good();
    zero.keys = BoundedVec::new(vec![WeightedKey {
        key: key.public_key(),
        weight: 0,
    }])
    .unwrap();
    reject(&mut sb, &cb, zero, C::InvalidKeys);
    let mut none = good();
    none.keys = BoundedVec::empty();
    reject(&mut sb, &[&k(CB)], none, C::InvalidKeys);

    for (t, a) in [(0, 1), (1, 0), (2, 1), (1, 2)] {
        let op = registration(new, &[Role::Investor], &[&key], t, a);
        reject(&mut sb, &cb, op, C::InvalidThreshold);
    }
    let exists = registration(lei(DB), &[Role::Investor], &[&key], 1, 1);
    reject(&mut sb, &cb, exists, C::ParticipantExists);
    // Dealer B's key, even co-signed by dealer B, stays dealer B's.
    let in_use = registration(new, &[Role::Investor], &[&k(DB)], 1, 1);
    reject(&mut sb, &[&k(CB), &k(DB)], in_use, C::KeyInUse);
    // Without the new key's signature: no proof of possession.
    reject(&mut sb, &[&k(CB)], good(), C::KeyNotApproved);
    assert!(StateReader(&sb.store).participant(&new).is_none());
}

#[test]
fn update_participant_by_the_operator() {
    let mut sb = world();
    let op = update_profile(&sb, lei(DB), |p| {
        p.legal_name = Text::new("Beta Capital Markets LLC").unwrap();
        p.investor_class = InvestorClass::Accredited;
    });
    let r = accept(&mut sb, &[&k(CB)], op);
    assert_eq!(r.events, vec![Event::ParticipantUpdated(lei(DB))]);
    let p = participant(&sb, &lei(DB));
    assert_eq!(p.profile.legal_name.as_str(), "Beta Capital Markets LLC");
    assert_eq!(p.profile.investor_class, InvestorClass::Accredited);
    // An operator keeps its own operator role through an update.
    let op = update_profile(&sb, lei(CB), |p| {
        p.legal_name = Text::new("Demo Central Bank (renamed)").unwrap()
    });
    accept(&mut sb, &[&k(CB)], op);
    assert!(participant(&sb, &lei(CB)).profile.roles.has(Role::Operator));
}

#[test]
fn update_participant_rejections() {
    let mut sb = world();
    let rename = update_profile(&sb, lei(DB), |p| {
        p.legal_name = Text::new("Renamed").unwrap()
    });
    reject(&mut sb, &[&k(DB)], rename.clone(), C::Unauthorized);
    reject(&mut sb, &[&k(RG)], rename.clone(), C::Unauthorized);
    reject(
        &mut sb,
        &[&sup1()],
        rename.clone(),
        C::InsufficientApprovals,
    );
    let op = update_profile(&sb, lei(DB), |p| p.roles = Roles::NONE);
    reject(&mut sb, &[&k(CB)], op, C::InvalidRoles);
    let op = update_profile(&sb, lei(DB), |p| {
        p.roles = Roles::of(&[Role::Dealer, Role::Operator])
    });
    reject(&mut sb, &[&k(CB)], op, C::InvalidRoles);
    let op = UpdateParticipant {
        lei: test_lei(1),
        profile: profile(&[Role::Investor]),
    };
    reject(&mut sb, &[&k(CB)], op, C::ParticipantNotFound);
    assert_eq!(
        participant(&sb, &lei(DB)).profile.legal_name.as_str(),
        "Beta Capital Markets Inc"
    );
}

#[test]
fn suspend_and_reinstate_participant() {
    let mut sb = world();
    let r = accept(&mut sb, &[&k(CB)], suspend(lei(DB)));
    assert_eq!(r.events, vec![Event::ParticipantSuspended(lei(DB), 7)]);
    assert!(participant(&sb, &lei(DB)).suspended);
    // Suspended: can neither act nor be credited.
    reject_suspended(&mut sb, &[&k(DB)], transfer(B_ACC, A_ACC, USD, 100));
    reject(
        &mut sb,
        &[&k(DA)],
        transfer(A_ACC, B_ACC, USD, 100),
        C::HolderSuspended,
    );
    let r = accept(&mut sb, &[&k(RG)], reinstate(lei(DB)));
    assert_eq!(r.events, vec![Event::ParticipantReinstated(lei(DB))]);
    assert!(!participant(&sb, &lei(DB)).suspended);
    accept(&mut sb, &[&k(DB)], transfer(B_ACC, A_ACC, USD, 100));
    // The regulator may suspend too, and the operator reinstate.
    accept(&mut sb, &[&k(RG)], suspend(lei(DA)));
    assert!(participant(&sb, &lei(DA)).suspended);
    accept(&mut sb, &[&sup1(), &sup2()], reinstate(lei(DA)));
    assert!(!participant(&sb, &lei(DA)).suspended);
}

#[test]
fn suspend_participant_rejections() {
    let mut sb = world();
    reject(&mut sb, &[&k(DA)], suspend(lei(DB)), C::Unauthorized);
    reject(
        &mut sb,
        &[&sup1()],
        suspend(lei(DB)),
        C::InsufficientApprovals,
    );
    reject(
        &mut sb,
        &[&k(CB)],
        suspend(test_lei(1)),
        C::ParticipantNotFound,
    );
    // Operators cannot be suspended.
    reject(&mut sb, &[&k(RG)], suspend(lei(CB)), C::InvalidRoles);
    reject(&mut sb, &[&k(RG)], suspend(sup_lei()), C::InvalidRoles);
    // A suspended regulator cannot suspend anyone.
    accept(&mut sb, &[&k(CB)], suspend(lei(RG)));
    reject_suspended(&mut sb, &[&k(RG)], suspend(lei(DB)));
    assert!(!participant(&sb, &lei(DB)).suspended);
}

#[test]
fn reinstate_participant_rejections() {
    let mut sb = world();
    accept(&mut sb, &[&k(CB)], suspend(lei(DB)));
    accept(&mut sb, &[&k(CB)], suspend(lei(RG)));
    // A suspended participant cannot send at all; co-signing, it still may not reinstate
    // itself.
    reject_suspended_sender(&mut sb, &[&k(DB)], reinstate(lei(DB)));
    reject(
        &mut sb,
        &[&k(CU), &k(DB)],
        reinstate(lei(DB)),
        C::Unauthorized,
    );
    reject(&mut sb, &[&k(DA)], reinstate(lei(DB)), C::Unauthorized);
    reject(
        &mut sb,
        &[&sup1()],
        reinstate(lei(DB)),
        C::InsufficientApprovals,
    );
    reject_suspended(&mut sb, &[&k(RG)], reinstate(lei(RG)));
    reject(
        &mut sb,
        &[&k(CB)],
        reinstate(test_lei(1)),
        C::ParticipantNotFound,
    );
    assert!(participant(&sb, &lei(DB)).suspended);
}

#[test]
fn registration_and_updates_need_the_operators_admin_threshold() {
    let mut sb = world();
    // Sup (operator and regulator) now acts with one key but administers with two.
    accept(&mut sb, &[&sup1(), &sup2()], thresholds(sup_lei(), 1, 2));
    // One key is enough for an act-level power ...
    accept(&mut sb, &[&sup1()], suspend(lei(CU)));
    accept(&mut sb, &[&sup1()], reinstate(lei(CU)));
    // ... but not to register or update a participant.
    let key = fresh(8001);
    let reg = || registration(test_lei(1), &[Role::Investor], &[&key], 1, 1);
    reject(&mut sb, &[&sup1(), &key], reg(), C::InsufficientApprovals);
    let rename = update_profile(&sb, lei(DB), |p| {
        p.legal_name = Text::new("Renamed").unwrap()
    });
    reject(
        &mut sb,
        &[&sup1()],
        rename.clone(),
        C::InsufficientApprovals,
    );
    accept(&mut sb, &[&sup1(), &sup2(), &key], reg());
    accept(&mut sb, &[&sup1(), &sup2()], rename);
    assert_eq!(
        participant(&sb, &lei(DB)).profile.legal_name.as_str(),
        "Renamed"
    );
}

#[test]
fn granting_a_supervisory_role_takes_a_regulator_too() {
    let mut sb = world();
    let grant = |sb: &Sandbox, who: Lei, role: Role| {
        update_profile(sb, who, |p| {
            let roles: Vec<Role> = p.roles.iter().chain([role]).collect();
            p.roles = Roles::of(&roles);
        })
    };
    let to_db = grant(&sb, lei(DB), Role::Regulator);
    // The operator alone, or a regulator alone, may not.
    reject(&mut sb, &[&k(CB)], to_db.clone(), C::Unauthorized);
    reject(&mut sb, &[&k(RG)], to_db.clone(), C::Unauthorized);
    let r = accept(&mut sb, &[&k(CB), &k(RG)], to_db);
    assert_eq!(r.events, vec![Event::ParticipantUpdated(lei(DB))]);
    assert!(
        participant(&sb, &lei(DB))
            .profile
            .roles
            .has(Role::Regulator)
    );
    // The auditor role likewise; any regulator, here the new one, approves.
    let to_cu = grant(&sb, lei(CU), Role::Auditor);
    reject(&mut sb, &[&k(CB)], to_cu.clone(), C::Unauthorized);
    accept(&mut sb, &[&k(CB), &k(DB)], to_cu);
    assert!(participant(&sb, &lei(CU)).profile.roles.has(Role::Auditor));
    // Keeping or taking away a supervisory role needs no regulator.
    let keep = update_profile(&sb, lei(RG), |p| {
        p.legal_name = Text::new("Renamed Regulator").unwrap()
    });
    accept(&mut sb, &[&k(CB)], keep);
    let revoke = update_profile(&sb, lei(DB), |p| {
        p.roles = Roles::of(&[Role::Dealer, Role::Investor])
    });
    accept(&mut sb, &[&k(CB)], revoke);
    assert!(
        !participant(&sb, &lei(DB))
            .profile
            .roles
            .has(Role::Regulator)
    );
    // A suspended regulator's approval counts for nothing.
    accept(&mut sb, &[&k(CB)], suspend(lei(RG)));
    let to_da = grant(&sb, lei(DA), Role::Auditor);
    reject(&mut sb, &[&k(CB), &k(RG)], to_da, C::ParticipantSuspended);
    assert!(!participant(&sb, &lei(DA)).profile.roles.has(Role::Auditor));
}

#[test]
fn the_operator_role_is_neither_added_nor_removed_after_genesis() {
    let mut sb = world();
    // Not even under dual control.
    let add = update_profile(&sb, lei(DB), |p| {
        p.roles = Roles::of(&[Role::Dealer, Role::Investor, Role::Operator])
    });
    reject(&mut sb, &[&k(CB), &k(RG)], add, C::InvalidRoles);
    let remove = update_profile(&sb, lei(CB), |p| p.roles = Roles::of(&[Role::Issuer]));
    reject(&mut sb, &[&k(CB)], remove.clone(), C::InvalidRoles);
    reject(&mut sb, &[&k(CB), &k(RG)], remove, C::InvalidRoles);
    let remove = update_profile(&sb, sup_lei(), |p| p.roles = Roles::of(&[Role::Regulator]));
    reject(&mut sb, &[&sup1(), &sup2()], remove, C::InvalidRoles);
    assert!(participant(&sb, &lei(CB)).profile.roles.has(Role::Operator));
    assert!(
        participant(&sb, &sup_lei())
            .profile
            .roles
            .has(Role::Operator)
    );
    // An update that keeps it exactly is fine.
    let keep = update_profile(&sb, sup_lei(), |p| {
        p.legal_name = Text::new("Supervisory Utility").unwrap()
    });
    accept(&mut sb, &[&sup1(), &sup2()], keep);
    let p = participant(&sb, &sup_lei()).profile;
    assert_eq!(p.legal_name.as_str(), "Supervisory Utility");
    assert!(p.roles.has(Role::Operator) && p.roles.has(Role::Regulator));
}

#[test]
fn lei_check_digits_outside_02_to_98_are_refused() {
    // ISO 7064 MOD 97-10 issues check digits 02..=98 only; 00, 01 and 99 pass the
    // checksum as aliases of 97, 98 and 02.
    let mut aliased = std::collections::BTreeSet::new();
    for n in 0..1_000u32 {
        let prefix = format!("TALLYLEI{n:010}");
        let lei = Lei::with_check_digits(&prefix).unwrap();
        let alias = match &lei.as_str()[18..] {
            "97" => "00",
            "98" => "01",
            "02" => "99",
            _ => continue,
        };
        assert_eq!(Lei::parse(lei.as_str()).ok(), Some(lei));
        assert!(
            Lei::parse(&format!("{prefix}{alias}")).is_err(),
            "{prefix}{alias} accepted"
        );
        aliased.insert(alias);
    }
    assert_eq!(aliased.len(), 3, "every alias tried: {aliased:?}");
}

// =============================================================================================
// Keys: AddKey, RotateKey, RemoveKey, SetThresholds
// =============================================================================================

fn has_key(sb: &Sandbox, who: &Lei, key: &PrivateKey) -> bool {
    let pk = key.public_key();
    participant(sb, who).keys.iter().any(|k| k.key == pk)
}

#[test]
fn add_key_by_self_and_by_operator() {
    let mut sb = world();
    let extra = fresh(9001);
    let r = accept(&mut sb, &[&k(DA), &extra], add_key(lei(DA), &extra, 1));
    assert_eq!(r.events, vec![Event::KeyAdded(lei(DA), extra.public_key())]);
    assert!(has_key(&sb, &lei(DA), &extra));
    assert_eq!(participant(&sb, &lei(DA)).keys.len(), 2);
    // The new key signs on its own.
    accept(&mut sb, &[&extra], transfer(A_ACC, B_ACC, USD, 100));
    // The operator adds a key to another participant under dual control, with a
    // regulator.
    let other = fresh(9002);
    accept(
        &mut sb,
        &[&k(CB), &k(RG), &other],
        add_key(lei(DB), &other, 3),
    );
    assert!(has_key(&sb, &lei(DB), &other));
    assert_eq!(participant(&sb, &lei(DB)).total_weight(), 4);
}

#[test]
fn add_key_rejections() {
    let mut sb = world();
    let extra = fresh(9001);
    // The new key co-signs throughout, so that only the rule under test refuses.
    reject(
        &mut sb,
        &[&k(DB), &extra],
        add_key(lei(DA), &extra, 1),
        C::Unauthorized,
    );
    reject(
        &mut sb,
        &[&duo1(), &extra],
        add_key(duo_lei(), &extra, 1),
        C::InsufficientApprovals,
    );
    reject(
        &mut sb,
        &[&k(DA), &extra],
        add_key(lei(DA), &extra, 0),
        C::InvalidKeys,
    );
    reject(
        &mut sb,
        &[&k(CB), &k(RG), &extra],
        add_key(test_lei(1), &extra, 1),
        C::ParticipantNotFound,
    );
    reject(
        &mut sb,
        &[&k(DA), &k(DB)],
        add_key(lei(DA), &k(DB), 1),
        C::KeyInUse,
    );
    reject(&mut sb, &[&k(DA)], add_key(lei(DA), &k(DA), 1), C::KeyInUse);
    // Up to the maximum (every new key co-signing), then one too many.
    let more_keys: Vec<PrivateKey> = (0..MAX_KEYS_PER_PARTICIPANT as u64 - 1)
        .map(|i| fresh(9100 + i))
        .collect();
    let more: Vec<Operation> = more_keys
        .iter()
        .map(|key| add_key(lei(DA), key, 1))
        .collect();
    let da = k(DA);
    let mut signers = vec![&da];
    signers.extend(more_keys.iter());
    accept_all(&mut sb, &signers, more);
    assert_eq!(
        participant(&sb, &lei(DA)).keys.len(),
        MAX_KEYS_PER_PARTICIPANT
    );
    reject(
        &mut sb,
        &[&k(DA), &extra],
        add_key(lei(DA), &extra, 1),
        C::InvalidKeys,
    );
    // Suspended participants cannot change their keys.
    accept(&mut sb, &[&k(CB)], suspend(lei(DB)));
    reject_suspended(&mut sb, &[&k(DB), &extra], add_key(lei(DB), &extra, 1));
    assert_eq!(StateReader(&sb.store).key_owner(&extra.public_key()), None);
}

#[test]
fn admin_threshold_guards_key_changes_but_not_business() {
    let mut sb = world();
    let second = fresh(9001);
    accept_all(
        &mut sb,
        &[&k(DA), &second],
        vec![add_key(lei(DA), &second, 1), thresholds(lei(DA), 1, 2)],
    );
    // One key still acts, but no longer administers.
    accept(&mut sb, &[&k(DA)], transfer(A_ACC, B_ACC, USD, 100));
    reject(
        &mut sb,
        &[&k(DA), &fresh(9002)],
        add_key(lei(DA), &fresh(9002), 1),
        C::InsufficientApprovals,
    );
    accept(
        &mut sb,
        &[&k(DA), &second, &fresh(9002)],
        add_key(lei(DA), &fresh(9002), 1),
    );
    assert_eq!(participant(&sb, &lei(DA)).keys.len(), 3);
}

#[test]
fn rotate_key_retires_the_old_key() {
    let mut sb = world();
    let new = fresh(9001);
    let r = accept(&mut sb, &[&k(DA), &new], rotate_key(lei(DA), &k(DA), &new));
    assert_eq!(
        r.events,
        vec![
            Event::KeyAdded(lei(DA), new.public_key()),
            Event::KeyRemoved(lei(DA), k(DA).public_key())
        ]
    );
    let p = participant(&sb, &lei(DA));
    assert_eq!((p.keys.len(), p.keys[0].weight), (1, 1));
    assert!(has_key(&sb, &lei(DA), &new));
    assert!(!has_key(&sb, &lei(DA), &k(DA)));
    let reader = StateReader(&sb.store);
    assert_eq!(reader.key_owner(&k(DA).public_key()), None);
    assert_eq!(reader.key_owner(&new.public_key()), Some(lei(DA)));
    // The old key can neither send nor co-sign; the new one can.
    reject(
        &mut sb,
        &[&k(DA)],
        transfer(A_ACC, B_ACC, USD, 100),
        C::UnknownSender,
    );
    reject(
        &mut sb,
        &[&k(DB), &k(DA)],
        settle(&dvp_legs(H, 100)),
        C::UnknownSigner,
    );
    accept(&mut sb, &[&new], transfer(A_ACC, B_ACC, USD, 100));
    accept(&mut sb, &[&k(DB), &new], settle(&dvp_legs(H, 100)));
    assert_eq!(bal(&sb, B_ACC, UST_2034), H);
    // The operator may rotate a participant's key (e.g. after a loss), with a regulator.
    let newer = fresh(9002);
    accept(
        &mut sb,
        &[&k(CB), &k(RG), &newer],
        rotate_key(lei(DA), &new, &newer),
    );
    accept(&mut sb, &[&newer], transfer(A_ACC, B_ACC, USD, 100));
    assert_eq!(bal(&sb, B_ACC, USD), CASH + 100);
}

#[test]
fn rotate_key_rejections() {
    let mut sb = world();
    let new = fresh(9001);
    // The new key co-signs throughout, so that only the rule under test refuses.
    reject(
        &mut sb,
        &[&k(DB), &new],
        rotate_key(lei(DA), &k(DA), &new),
        C::Unauthorized,
    );
    reject(
        &mut sb,
        &[&duo1(), &new],
        rotate_key(duo_lei(), &duo1(), &new),
        C::InsufficientApprovals,
    );
    reject(
        &mut sb,
        &[&k(CB), &k(RG), &new],
        rotate_key(test_lei(1), &k(DA), &new),
        C::ParticipantNotFound,
    );
    reject(
        &mut sb,
        &[&k(DA), &new],
        rotate_key(lei(DA), &k(DB), &new),
        C::KeyNotFound,
    );
    reject(
        &mut sb,
        &[&k(DA), &k(DB)],
        rotate_key(lei(DA), &k(DA), &k(DB)),
        C::KeyInUse,
    );
    reject(
        &mut sb,
        &[&k(DA)],
        rotate_key(lei(DA), &k(DA), &k(DA)),
        C::KeyInUse,
    );
    accept(&mut sb, &[&k(CB)], suspend(lei(DB)));
    reject_suspended(&mut sb, &[&k(DB), &new], rotate_key(lei(DB), &k(DB), &new));
    assert!(has_key(&sb, &lei(DA), &k(DA)));
    // Both of duo's keys rotate one of them.
    accept(
        &mut sb,
        &[&duo1(), &duo2(), &new],
        rotate_key(duo_lei(), &duo1(), &new),
    );
    assert!(has_key(&sb, &duo_lei(), &new));
}

#[test]
fn remove_key_and_its_rejections() {
    let mut sb = world();
    let second = fresh(9001);
    accept(&mut sb, &[&k(DA), &second], add_key(lei(DA), &second, 1));
    // The sender may remove its own key; the transaction still applies.
    let r = accept(&mut sb, &[&k(DA)], remove_key(lei(DA), &k(DA)));
    assert_eq!(
        r.events,
        vec![Event::KeyRemoved(lei(DA), k(DA).public_key())]
    );
    assert_eq!(participant(&sb, &lei(DA)).keys.len(), 1);
    reject(
        &mut sb,
        &[&k(DA)],
        transfer(A_ACC, B_ACC, USD, 1),
        C::UnknownSender,
    );
    accept(&mut sb, &[&second], transfer(A_ACC, B_ACC, USD, 1));

    reject(
        &mut sb,
        &[&second],
        remove_key(lei(DA), &second),
        C::InvalidKeys,
    );
    reject(
        &mut sb,
        &[&second],
        remove_key(lei(DA), &k(DB)),
        C::KeyNotFound,
    );
    reject(
        &mut sb,
        &[&k(DB)],
        remove_key(lei(DA), &second),
        C::Unauthorized,
    );
    reject(
        &mut sb,
        &[&k(CB), &k(RG)],
        remove_key(test_lei(1), &second),
        C::ParticipantNotFound,
    );
    reject(
        &mut sb,
        &[&duo1()],
        remove_key(duo_lei(), &duo2()),
        C::InsufficientApprovals,
    );
    // Removing one of two keys would leave 1 < threshold 2.
    reject(
        &mut sb,
        &[&duo1(), &duo2()],
        remove_key(duo_lei(), &duo2()),
        C::InvalidThreshold,
    );
    accept(
        &mut sb,
        &[&k(CB), &k(RG), &fresh(9002)],
        add_key(lei(DB), &fresh(9002), 1),
    );
    accept(&mut sb, &[&k(CB)], suspend(lei(DB)));
    reject_suspended(&mut sb, &[&k(DB)], remove_key(lei(DB), &fresh(9002)));
    // The operator may remove a key, with a regulator (even a suspended participant's).
    accept(
        &mut sb,
        &[&k(CB), &k(RG)],
        remove_key(lei(DB), &fresh(9002)),
    );
    assert_eq!(participant(&sb, &lei(DB)).keys.len(), 1);
    assert_eq!(
        StateReader(&sb.store).key_owner(&fresh(9002).public_key()),
        None
    );
}

#[test]
fn set_thresholds_and_its_rejections() {
    let mut sb = world();
    accept(&mut sb, &[&duo1(), &duo2()], thresholds(duo_lei(), 1, 2));
    let p = participant(&sb, &duo_lei());
    assert_eq!((p.threshold, p.admin_threshold), (1, 2));
    // One key now acts for duo.
    accept(&mut sb, &[&duo1()], transfer(DUO_ACC, A_ACC, DUO_TOKEN, 10));
    reject(
        &mut sb,
        &[&duo1()],
        thresholds(duo_lei(), 1, 1),
        C::InsufficientApprovals,
    );
    for (t, a) in [(0, 1), (1, 0), (3, 1), (1, 3)] {
        reject(
            &mut sb,
            &[&duo1(), &duo2()],
            thresholds(duo_lei(), t, a),
            C::InvalidThreshold,
        );
    }
    reject(
        &mut sb,
        &[&k(DB)],
        thresholds(lei(DA), 1, 1),
        C::Unauthorized,
    );
    reject(
        &mut sb,
        &[&k(CB), &k(RG)],
        thresholds(test_lei(1), 1, 1),
        C::ParticipantNotFound,
    );
    accept(&mut sb, &[&k(CB)], suspend(lei(DB)));
    reject_suspended(&mut sb, &[&k(DB)], thresholds(lei(DB), 1, 1));
    // The operator may reset them, with a regulator.
    let r = accept(&mut sb, &[&k(CB), &k(RG)], thresholds(duo_lei(), 2, 2));
    assert_eq!(r.events, vec![Event::ThresholdsChanged(duo_lei())]);
    reject(
        &mut sb,
        &[&duo1()],
        transfer(DUO_ACC, A_ACC, DUO_TOKEN, 10),
        C::InsufficientApprovals,
    );
}

#[test]
fn every_key_registered_must_co_sign() {
    let mut sb = world();
    let (k1, k2) = (fresh(8001), fresh(8002));
    let new = test_lei(1);
    let two_keys = || registration(new, &[Role::Investor], &[&k1, &k2], 1, 1);
    reject(&mut sb, &[&k(CB)], two_keys(), C::KeyNotApproved);
    reject(&mut sb, &[&k(CB), &k1], two_keys(), C::KeyNotApproved);
    reject(&mut sb, &[&k(CB), &k2], two_keys(), C::KeyNotApproved);
    // Only the keys a transaction registers may sign it unregistered; none may send it.
    let stranger = fresh(424_242);
    reject(
        &mut sb,
        &[&k(CB), &k1, &k2, &stranger],
        two_keys(),
        C::UnknownSigner,
    );
    reject(&mut sb, &[&k1, &k(CB), &k2], two_keys(), C::UnknownSender);
    let r = accept(&mut sb, &[&k(CB), &k1, &k2], two_keys());
    assert_eq!(
        r.events,
        vec![
            Event::KeyAdded(new, k1.public_key()),
            Event::KeyAdded(new, k2.public_key()),
            Event::ParticipantRegistered(new),
        ]
    );
    assert_eq!(
        StateReader(&sb.store).key_owner(&k2.public_key()),
        Some(new)
    );

    // Adding a key: the key co-signs, whoever adds it.
    let extra = fresh(9001);
    reject(
        &mut sb,
        &[&k(DA)],
        add_key(lei(DA), &extra, 1),
        C::KeyNotApproved,
    );
    reject(
        &mut sb,
        &[&k(CB), &k(RG)],
        add_key(lei(DA), &extra, 1),
        C::KeyNotApproved,
    );
    accept(&mut sb, &[&k(DA), &extra], add_key(lei(DA), &extra, 1));
    assert!(has_key(&sb, &lei(DA), &extra));

    // Rotating: the new key co-signs, and its signature approves nothing yet.
    let newer = fresh(9002);
    reject(
        &mut sb,
        &[&duo1(), &duo2()],
        rotate_key(duo_lei(), &duo1(), &newer),
        C::KeyNotApproved,
    );
    reject(
        &mut sb,
        &[&duo1(), &newer],
        rotate_key(duo_lei(), &duo1(), &newer),
        C::InsufficientApprovals,
    );
    accept(
        &mut sb,
        &[&duo1(), &duo2(), &newer],
        rotate_key(duo_lei(), &duo1(), &newer),
    );
    assert!(has_key(&sb, &duo_lei(), &newer));
    assert!(!has_key(&sb, &duo_lei(), &duo1()));
    // (Genesis registers keys without signatures: see `world_genesis`.)
}

/// A public key from its encoding (any curve point, as ZIP-215 verification accepts).
fn point(bytes: [u8; 32]) -> PublicKey {
    PublicKey::decode(Copying(&bytes)).expect("a curve point")
}

/// The neutral element, a small-order key: with R = identity and s = 0 the cofactored
/// (ZIP-215) equation holds for any message, so anyone can "sign" with it.
fn identity_key() -> PublicKey {
    let mut bytes = [0u8; 32];
    bytes[0] = 1;
    point(bytes)
}

/// A transaction from `signers[0]` signed by `signers` and by the identity key with a
/// forged signature, which verification accepts.
fn forged_identity_cosign(
    sb: &mut Sandbox,
    signers: &[&PrivateKey],
    ops: Vec<Operation>,
) -> VerifiedTx {
    let signed = sb.sign(signers, ops).signed().clone();
    let mut forged = [0u8; 64];
    forged[0] = 1;
    let mut approvals: Vec<Approval> = signed.approvals.to_vec();
    approvals.push(Approval {
        key: identity_key(),
        signature: Signature::decode(Copying(&forged)).unwrap(),
    });
    approvals.sort_by(|a, b| a.key.cmp(&b.key));
    let approvals: BoundedVec<Approval, MAX_APPROVALS_PER_TX> = BoundedVec::new(approvals).unwrap();
    let approvals = Approvals::decode(approvals.encode()).unwrap();
    let signed = SignedTx {
        tx: signed.tx,
        approvals,
    };
    tally_types::verify_one(&sb.chain(), signed).expect("ZIP-215 accepts the forgery")
}

/// Submits `op` from `sender` co-signed by the identity key, expecting a rejection that
/// changes nothing.
#[track_caller]
fn reject_forged(sb: &mut Sandbox, sender: &PrivateKey, op: Operation) -> Receipt {
    let before = sb.store.clone();
    let tx = forged_identity_cosign(sb, &[sender], vec![op]);
    let r = sb.block(&[tx]).pop().expect("one receipt");
    sb.unuse_nonce(sender);
    assert!(r.events.is_empty(), "a rejection reported events: {r:?}");
    let expected = root_after_refusal(&before, sb, &r);
    assert_eq!(
        sb.root(),
        expected,
        "a rejected transaction changed the state"
    );
    r
}

#[test]
fn small_order_and_non_canonical_keys_are_refused() {
    let mut sb = world();
    // A small-order key, "co-signing" with a forged signature: its own proof of
    // possession is worthless, and the key is refused as such.
    let weak = identity_key();
    assert!(!tally_types::tx::is_strong_key(&weak));
    let mut reg = registration(test_lei(1), &[Role::Investor], &[&fresh(8001)], 1, 1);
    reg.keys = BoundedVec::new(vec![WeightedKey {
        key: weak.clone(),
        weight: 1,
    }])
    .unwrap();
    let add = AddKey {
        lei: lei(DA),
        key: WeightedKey {
            key: weak.clone(),
            weight: 1,
        },
    };
    let rotate = RotateKey {
        lei: lei(DA),
        old: k(DA).public_key(),
        new: weak.clone(),
    };
    for (sender, op) in [
        (k(CB), Operation::from(reg.clone())),
        (k(DA), add.clone().into()),
        (k(DA), rotate.into()),
    ] {
        let r = reject_forged(&mut sb, &sender, op);
        assert_eq!((r.code, r.failed_op), (C::InvalidKeys, Some(0)), "{r:?}");
    }
    // Nor can it approve anything it does not register.
    let r = reject_forged(&mut sb, &k(DA), transfer(A_ACC, B_ACC, USD, 1));
    assert_eq!((r.code, r.failed_op), (C::UnknownSigner, None));
    // Other small-order points (order 2 and 4), and a non-canonical encoding (y + p) of
    // a point of large order, are refused before any proof of possession is asked for.
    let mut order_2 = [0xff; 32];
    order_2[0] = 0xec;
    order_2[31] = 0x7f;
    let mut order_4 = [0u8; 32];
    order_4[31] = 0x80;
    let mut non_canonical = [0xff; 32];
    non_canonical[0] = 0xf0;
    non_canonical[31] = 0x7f;
    let mut canonical = [0u8; 32];
    canonical[0] = 3;
    assert!(tally_types::tx::is_strong_key(&point(canonical)));
    for bytes in [order_2, [0u8; 32], order_4, non_canonical] {
        let mut op = add.clone();
        op.key.key = point(bytes);
        reject(&mut sb, &[&k(DA)], op, C::InvalidKeys);
    }
    // The same point canonically encoded is a sound key, which its holder must prove.
    let mut op = add.clone();
    op.key.key = point(canonical);
    reject(&mut sb, &[&k(DA)], op, C::KeyNotApproved);
    // A sound key, co-signing, registers.
    let strong = fresh(8001);
    reg.keys = BoundedVec::new(vec![WeightedKey {
        key: strong.public_key(),
        weight: 1,
    }])
    .unwrap();
    accept(&mut sb, &[&k(CB), &strong], reg);
    assert_eq!(StateReader(&sb.store).key_owner(&weak), None);
}

#[test]
fn another_participants_keys_change_only_under_dual_control() {
    let mut sb = world();
    // Sup (operator and regulator) acts with one key but administers with two.
    accept(&mut sb, &[&sup1(), &sup2()], thresholds(sup_lei(), 1, 2));
    let (extra, newer) = (fresh(9001), fresh(9002));
    /// Refused to the operator alone, to a regulator alone and to an operator below its
    /// admin threshold (even with a regulator); accepted to an operator and a regulator.
    /// `new_key` (a key being registered) co-signs throughout.
    #[track_caller]
    fn dual_control(sb: &mut Sandbox, op: Operation, new_key: Option<&PrivateKey>) -> Receipt {
        let (cb, rg, s1, s2) = (k(CB), k(RG), sup1(), sup2());
        let cases = [
            (vec![&cb], C::Unauthorized),
            (vec![&rg], C::Unauthorized),
            (vec![&s1], C::InsufficientApprovals),
            (vec![&s1, &rg], C::InsufficientApprovals),
            // One participant holding both roles is not two people.
            (vec![&s1, &s2], C::Unauthorized),
        ];
        for (mut signers, code) in cases {
            signers.extend(new_key);
            reject(sb, &signers, op.clone(), code);
        }
        let mut both = vec![&cb, &rg];
        both.extend(new_key);
        accept(sb, &both, op)
    }
    let r = dual_control(&mut sb, thresholds(lei(DA), 1, 1), None);
    assert_eq!(r.events, vec![Event::ThresholdsChanged(lei(DA))]);
    dual_control(&mut sb, add_key(lei(DA), &extra, 1), Some(&extra));
    assert!(has_key(&sb, &lei(DA), &extra));
    dual_control(&mut sb, rotate_key(lei(DA), &extra, &newer), Some(&newer));
    assert!(has_key(&sb, &lei(DA), &newer) && !has_key(&sb, &lei(DA), &extra));
    dual_control(&mut sb, remove_key(lei(DA), &newer), None);
    assert_eq!(participant(&sb, &lei(DA)).keys.len(), 1);
    // A suspended regulator approves nothing; another regulator, at its act threshold,
    // does.
    accept(&mut sb, &[&k(CB)], suspend(lei(RG)));
    reject(
        &mut sb,
        &[&k(CB), &k(RG), &extra],
        add_key(lei(DA), &extra, 1),
        C::ParticipantSuspended,
    );
    accept(
        &mut sb,
        &[&k(CB), &sup1(), &extra],
        add_key(lei(DA), &extra, 1),
    );
    // The participant itself still needs only its own admin threshold.
    accept(&mut sb, &[&k(DA)], remove_key(lei(DA), &extra));
    assert_eq!(participant(&sb, &lei(DA)).keys.len(), 1);
}

// =============================================================================================
// Accounts: OpenAccount, FreezeAccount, UnfreezeAccount
// =============================================================================================

#[test]
fn open_account_by_self_and_by_operator() {
    let mut sb = world();
    let r = accept(
        &mut sb,
        &[&k(DA)],
        OpenAccount {
            account: AccountId(301),
            owner: lei(DA),
            kind: AccountKind::Segregated,
        },
    );
    assert_eq!(
        r.events,
        vec![Event::AccountOpened(
            AccountId(301),
            lei(DA),
            AccountKind::Segregated
        )]
    );
    let acc = account(&sb, AccountId(301));
    assert_eq!(
        (acc.owner, acc.kind, acc.frozen),
        (lei(DA), AccountKind::Segregated, false)
    );
    assert_eq!(
        StateReader(&sb.store).accounts_of(&lei(DA), 10),
        vec![A_ACC, AccountId(301)]
    );
    accept(&mut sb, &[&k(CB)], open(AccountId(401), lei(DB)));
    assert_eq!(account(&sb, AccountId(401)).owner, lei(DB));
    accept(
        &mut sb,
        &[&duo1(), &duo2()],
        open(AccountId(701), duo_lei()),
    );
    // The new account receives units.
    accept(&mut sb, &[&k(DA)], transfer(A_ACC, AccountId(301), USD, 5));
    assert_eq!(bal(&sb, AccountId(301), USD), 5);
}

#[test]
fn open_account_rejections() {
    let mut sb = world();
    reject(
        &mut sb,
        &[&k(DB)],
        open(AccountId(301), lei(DA)),
        C::Unauthorized,
    );
    reject(
        &mut sb,
        &[&duo1()],
        open(AccountId(701), duo_lei()),
        C::InsufficientApprovals,
    );
    reject(
        &mut sb,
        &[&k(CB)],
        open(AccountId(901), test_lei(1)),
        C::ParticipantNotFound,
    );
    reject(&mut sb, &[&k(DA)], open(B_ACC, lei(DA)), C::AccountExists);
    accept(&mut sb, &[&k(CB)], suspend(lei(DB)));
    reject_suspended(&mut sb, &[&k(DB)], open(AccountId(401), lei(DB)));
    reject(
        &mut sb,
        &[&k(CB)],
        open(AccountId(401), lei(DB)),
        C::HolderSuspended,
    );
    assert!(StateReader(&sb.store).account(AccountId(401)).is_none());
}

#[test]
fn freeze_and_unfreeze_account() {
    let mut sb = world();
    let r = accept(&mut sb, &[&k(RG)], freeze_account(A_ACC));
    assert_eq!(r.events, vec![Event::AccountFrozen(A_ACC, 11)]);
    assert!(account(&sb, A_ACC).frozen);
    // Neither debited nor credited.
    reject(
        &mut sb,
        &[&k(DA)],
        transfer(A_ACC, B_ACC, USD, 100),
        C::AccountFrozen,
    );
    reject(
        &mut sb,
        &[&k(DB)],
        transfer(B_ACC, A_ACC, USD, 100),
        C::AccountFrozen,
    );
    reject(&mut sb, &[&k(CB)], mint(USD, A_ACC, 100), C::AccountFrozen);
    let r = accept(&mut sb, &[&k(CB)], unfreeze_account(A_ACC));
    assert_eq!(r.events, vec![Event::AccountUnfrozen(A_ACC)]);
    assert!(!account(&sb, A_ACC).frozen);
    accept(&mut sb, &[&k(DA)], transfer(A_ACC, B_ACC, USD, 100));
    // The operator freezes too, and the regulator unfreezes.
    accept(&mut sb, &[&sup1(), &sup2()], freeze_account(B_ACC));
    assert!(account(&sb, B_ACC).frozen);
    accept(&mut sb, &[&k(RG)], unfreeze_account(B_ACC));
    assert!(!account(&sb, B_ACC).frozen);
}

#[test]
fn freeze_and_unfreeze_account_rejections() {
    let mut sb = world();
    for op in [freeze_account, unfreeze_account] {
        reject(&mut sb, &[&k(DA)], op(A_ACC), C::Unauthorized);
        reject(&mut sb, &[&k(TR)], op(A_ACC), C::Unauthorized);
        reject(&mut sb, &[&sup1()], op(A_ACC), C::InsufficientApprovals);
        reject(&mut sb, &[&k(RG)], op(NO_ACC), C::AccountNotFound);
    }
    accept(&mut sb, &[&k(RG)], freeze_account(B_ACC));
    accept(&mut sb, &[&k(CB)], suspend(lei(RG)));
    reject_suspended(&mut sb, &[&k(RG)], freeze_account(A_ACC));
    reject_suspended(&mut sb, &[&k(RG)], unfreeze_account(B_ACC));
    assert!(!account(&sb, A_ACC).frozen);
    assert!(account(&sb, B_ACC).frozen);
}

// =============================================================================================
// Instruments: CreateInstrument, UpdatePolicy, PauseInstrument, UnpauseInstrument
// =============================================================================================

#[test]
fn create_instrument_by_issuer_and_by_operator() {
    let mut sb = world();
    let id = InstrumentId(3);
    let r = accept(&mut sb, &[&k(TR)], bill(id));
    assert_eq!(r.events, vec![Event::InstrumentCreated(id)]);
    let rec = instrument(&sb, id);
    assert_eq!(rec.issuer, lei(TR));
    assert_eq!(rec.status, InstrumentStatus::Active);
    assert_eq!((rec.total_supply, rec.holder_count), (0, 0));
    assert_eq!((rec.scale, rec.min_increment), (2, H));
    // The operator creates on the issuer's behalf, with identifiers indexed.
    let mut note = demo::treasury_note();
    note.instrument = InstrumentId(4);
    note.ids = SecurityIds {
        isin: Some(Isin::parse("US91282CKZ31").unwrap()),
        cusip: Some(Cusip::parse("91282CKZ3").unwrap()),
    };
    accept(&mut sb, &[&k(CB)], note);
    let reader = StateReader(&sb.store);
    assert_eq!(
        reader.instrument_by_isin(&Isin::parse("US91282CKZ31").unwrap()),
        Some(InstrumentId(4))
    );
    assert_eq!(
        reader.instrument_by_cusip(&Cusip::parse("91282CKZ3").unwrap()),
        Some(InstrumentId(4))
    );
    assert_eq!(instrument(&sb, InstrumentId(4)).issuer, lei(TR));
    // A unique asset: scale 0, increment 1.
    let unique = CreateInstrument {
        kind: InstrumentKind::Unique {
            title: Text::new("Deed 42, Lot 7").unwrap(),
        },
        ..equity(InstrumentId(5), lei(CB))
    };
    accept(&mut sb, &[&k(CB)], unique);
    accept(
        &mut sb,
        &[&duo1(), &duo2()],
        equity(InstrumentId(6), duo_lei()),
    );
}

#[test]
fn create_instrument_authorization_and_existence() {
    let mut sb = world();
    let id = InstrumentId(3);
    reject(&mut sb, &[&k(DA)], bill(id), C::Unauthorized);
    reject(&mut sb, &[&k(RG)], bill(id), C::Unauthorized);
    // The named issuer must hold the issuer role, whoever asks.
    reject(&mut sb, &[&k(DA)], equity(id, lei(DA)), C::Unauthorized);
    reject(&mut sb, &[&k(CB)], equity(id, lei(DA)), C::Unauthorized);
    reject(
        &mut sb,
        &[&duo1()],
        equity(id, duo_lei()),
        C::InsufficientApprovals,
    );
    reject(
        &mut sb,
        &[&k(CB)],
        equity(id, test_lei(1)),
        C::ParticipantNotFound,
    );
    reject(&mut sb, &[&k(TR)], bill(UST_2034), C::InstrumentExists);
    let mut isin_taken = bill(id);
    isin_taken.ids.isin = Some(Isin::parse("US91282CJL63").unwrap());
    reject(&mut sb, &[&k(TR)], isin_taken, C::IdentifierInUse);
    let mut cusip_taken = bill(id);
    cusip_taken.ids.cusip = Some(Cusip::parse("91282CJL6").unwrap());
    reject(&mut sb, &[&k(TR)], cusip_taken, C::IdentifierInUse);
    accept(&mut sb, &[&k(RG)], suspend(lei(TR)));
    reject_suspended(&mut sb, &[&k(TR)], bill(id));
    assert!(StateReader(&sb.store).instrument(id).is_none());
}

#[test]
fn the_cusip_embedded_in_a_us_or_canadian_isin_is_indexed() {
    // The demo note with its ISIN (US91282CJL63) only, not its CUSIP.
    let mut g = world_genesis();
    for op in &mut g.operations {
        if let Operation::CreateInstrument(c) = op
            && c.instrument == UST_2034
        {
            c.ids.cusip = None;
        }
    }
    let mut sb = Sandbox::with_genesis(MemStore::new(), &g);
    let with_ids = |id: u64, isin: Option<&str>, cusip: Option<&str>| CreateInstrument {
        ids: SecurityIds {
            isin: isin.map(|s| Isin::parse(s).unwrap()),
            cusip: cusip.map(|s| Cusip::parse(s).unwrap()),
        },
        ..bill(InstrumentId(id))
    };
    assert_eq!(
        StateReader(&sb.store).instrument_by_cusip(&Cusip::parse("91282CJL6").unwrap()),
        Some(UST_2034)
    );
    reject(
        &mut sb,
        &[&k(TR)],
        with_ids(3, None, Some("91282CJL6")),
        C::IdentifierInUse,
    );
    // Created with an ISIN only, then claimed by CUSIP.
    accept(&mut sb, &[&k(TR)], with_ids(3, Some("US91282CKZ31"), None));
    assert_eq!(
        StateReader(&sb.store).instrument_by_cusip(&Cusip::parse("91282CKZ3").unwrap()),
        Some(InstrumentId(3))
    );
    reject(
        &mut sb,
        &[&k(TR)],
        with_ids(4, None, Some("91282CKZ3")),
        C::IdentifierInUse,
    );
    // Created with a CUSIP only, then claimed by a Canadian ISIN embedding it.
    accept(&mut sb, &[&k(TR)], with_ids(4, None, Some("067901108")));
    reject(
        &mut sb,
        &[&k(TR)],
        with_ids(5, Some("CA0679011084"), None),
        C::IdentifierInUse,
    );
    // Other ISINs embed no CUSIP, even when their middle reads like one.
    accept(&mut sb, &[&k(TR)], with_ids(5, Some("GB00B03MLX29"), None));
    accept(&mut sb, &[&k(TR)], with_ids(6, None, Some("00B03MLX2")));
    assert_eq!(
        StateReader(&sb.store).instrument_by_cusip(&Cusip::parse("00B03MLX2").unwrap()),
        Some(InstrumentId(6))
    );
}

#[test]
fn create_instrument_invalid_terms() {
    let mut sb = world();
    let id = InstrumentId(3);
    let terms = |f: &dyn Fn(&mut CreateInstrument)| {
        let mut op = bill(id);
        f(&mut op);
        op
    };
    let coupon = |f: &dyn Fn(&mut CouponTerms)| {
        let mut t = CouponTerms {
            coupon_rate: Rate::parse_percent("4.25").unwrap(),
            dated_date: date("2025-11-15"),
            maturity_date: date("2035-11-15"),
            frequency: 2,
            day_count: DayCount::ActActIcma,
        };
        f(&mut t);
        t
    };
    let bad: Vec<CreateInstrument> = vec![
        terms(&|op| op.scale = 19),
        terms(&|op| op.min_increment = 0),
        terms(&|op| op.name = Text::new("").unwrap()),
        // The ISIN embeds another CUSIP.
        terms(&|op| {
            op.ids = SecurityIds {
                isin: Some(Isin::parse("US91282CJL63").unwrap()),
                cusip: Some(Cusip::parse("91282CKZ3").unwrap()),
            }
        }),
        terms(&|op| {
            op.kind = InstrumentKind::TreasuryBill {
                issue_date: date("2027-05-20"),
                maturity_date: date("2027-05-20"),
            }
        }),
        terms(&|op| op.kind = InstrumentKind::TreasuryNote(coupon(&|t| t.frequency = 4))),
        terms(&|op| {
            op.kind = InstrumentKind::TreasuryNote(coupon(&|t| t.maturity_date = t.dated_date))
        }),
        terms(&|op| {
            op.kind = InstrumentKind::TreasuryBond(coupon(&|t| t.coupon_rate = Rate(Rate::ONE)))
        }),
        terms(&|op| {
            op.kind = InstrumentKind::Unique {
                title: Text::new("Deed").unwrap(),
            };
            op.scale = 0;
            op.min_increment = 2;
        }),
        terms(&|op| {
            op.kind = InstrumentKind::Unique {
                title: Text::new("Deed").unwrap(),
            };
            op.scale = 1;
            op.min_increment = 1;
        }),
    ];
    for op in bad {
        reject(&mut sb, &[&k(TR)], op, C::InvalidInstrumentTerms);
    }
    // The same shapes with sound terms are fine.
    accept(
        &mut sb,
        &[&k(TR)],
        terms(&|op| op.kind = InstrumentKind::TreasuryBond(coupon(&|_| ()))),
    );
}

fn bad_policies() -> Vec<Policy> {
    vec![
        Policy {
            allowed_jurisdictions: BoundedVec::new(vec![country("US"), country("GB")]).unwrap(),
            ..Policy::default()
        },
        Policy {
            allowed_jurisdictions: BoundedVec::new(vec![country("US"), country("US")]).unwrap(),
            ..Policy::default()
        },
        Policy {
            max_holders: Some(0),
            ..Policy::default()
        },
        Policy {
            max_balance_per_holder: Some(0),
            ..Policy::default()
        },
    ]
}

#[test]
fn create_instrument_invalid_policy() {
    let mut sb = world();
    for policy in bad_policies() {
        let op = CreateInstrument {
            policy,
            ..bill(InstrumentId(3))
        };
        reject(&mut sb, &[&k(TR)], op, C::InvalidPolicy);
    }
}

#[test]
fn update_policy_by_issuer_and_operator() {
    let mut sb = world();
    let op = update_policy(&sb, UST_2034, |p| p.max_holders = Some(5));
    let r = accept(&mut sb, &[&k(TR)], op);
    assert_eq!(r.events, vec![Event::PolicyUpdated(UST_2034)]);
    assert_eq!(instrument(&sb, UST_2034).policy.max_holders, Some(5));
    let op = update_policy(&sb, UST_2034, |p| p.max_balance_per_holder = Some(FACE));
    accept(&mut sb, &[&k(CB)], op);
    let policy = instrument(&sb, UST_2034).policy;
    assert_eq!(
        (policy.max_holders, policy.max_balance_per_holder),
        (Some(5), Some(FACE))
    );
    assert!(policy.kyc_required);
}

#[test]
fn update_policy_rejections() {
    let mut sb = world();
    let op = update_policy(&sb, UST_2034, |p| p.max_holders = Some(5));
    reject(&mut sb, &[&k(DA)], op.clone(), C::Unauthorized);
    reject(&mut sb, &[&k(RG)], op.clone(), C::Unauthorized);
    let duo_op = update_policy(&sb, DUO_TOKEN, |p| p.kyc_required = true);
    reject(&mut sb, &[&duo1()], duo_op, C::InsufficientApprovals);
    reject(
        &mut sb,
        &[&k(TR)],
        UpdatePolicy {
            instrument: NO_INST,
            policy: Policy::default(),
        },
        C::InstrumentNotFound,
    );
    for policy in bad_policies() {
        let op = UpdatePolicy {
            instrument: UST_2034,
            policy,
        };
        reject(&mut sb, &[&k(TR)], op, C::InvalidPolicy);
    }
    accept(&mut sb, &[&k(RG)], suspend(lei(TR)));
    reject_suspended(&mut sb, &[&k(TR)], op.clone());
    assert_eq!(instrument(&sb, UST_2034).policy.max_holders, None);
}

#[test]
fn pause_and_unpause_instrument() {
    let mut sb = world();
    for (pauser, unpauser) in [(k(TR), k(RG)), (k(RG), k(CB)), (k(CB), k(TR))] {
        let r = accept(&mut sb, &[&pauser], pause(UST_2034));
        assert_eq!(r.events, vec![Event::InstrumentPaused(UST_2034)]);
        assert_eq!(instrument(&sb, UST_2034).status, InstrumentStatus::Paused);
        reject(
            &mut sb,
            &[&k(DA)],
            transfer(A_ACC, B_ACC, UST_2034, H),
            C::InstrumentPaused,
        );
        let r = accept(&mut sb, &[&unpauser], unpause(UST_2034));
        assert_eq!(r.events, vec![Event::InstrumentUnpaused(UST_2034)]);
        assert_eq!(instrument(&sb, UST_2034).status, InstrumentStatus::Active);
    }
    accept(&mut sb, &[&k(DA)], transfer(A_ACC, B_ACC, UST_2034, H));
    accept(&mut sb, &[&duo1(), &duo2()], pause(DUO_TOKEN));
    assert_eq!(instrument(&sb, DUO_TOKEN).status, InstrumentStatus::Paused);
}

#[test]
fn pause_and_unpause_rejections() {
    let mut sb = world();
    for op in [pause, unpause] {
        reject(&mut sb, &[&k(DA)], op(UST_2034), C::Unauthorized);
        reject(&mut sb, &[&k(CU)], op(UST_2034), C::Unauthorized);
        reject(&mut sb, &[&duo1()], op(DUO_TOKEN), C::InsufficientApprovals);
        reject(&mut sb, &[&k(TR)], op(NO_INST), C::InstrumentNotFound);
    }
    accept(&mut sb, &[&k(TR)], pause(UST_2034));
    accept(&mut sb, &[&k(CB)], suspend(lei(TR)));
    reject_suspended(&mut sb, &[&k(TR)], unpause(UST_2034));
    reject_suspended(&mut sb, &[&k(TR)], pause(UST_2034));
    assert_eq!(instrument(&sb, UST_2034).status, InstrumentStatus::Paused);
}

// =============================================================================================
// Mint and Burn
// =============================================================================================

#[test]
fn mint_credits_and_grows_supply_and_holders() {
    let mut sb = world();
    let r = accept(&mut sb, &[&k(TR)], mint(UST_2034, B_ACC, 500 * H));
    assert_eq!(
        r.events,
        vec![Event::Moved {
            kind: MoveKind::Mint,
            from: None,
            to: Some(B_ACC),
            instrument: UST_2034,
            amount: 500 * H,
        }]
    );
    assert_eq!(bal(&sb, B_ACC, UST_2034), 500 * H);
    assert_eq!(supply(&sb, UST_2034), FACE + 500 * H);
    assert_eq!(holders(&sb, UST_2034), 2);
    // Minting to an existing holder does not add a holder.
    accept(&mut sb, &[&k(TR)], mint(UST_2034, A_ACC, H));
    assert_eq!(holders(&sb, UST_2034), 2);
    assert_eq!(supply(&sb, UST_2034), FACE + 501 * H);
    accept(&mut sb, &[&duo1(), &duo2()], mint(DUO_TOKEN, A_ACC, 5));
    assert_eq!(bal(&sb, A_ACC, DUO_TOKEN), 5);
    for i in [UST_2034, DUO_TOKEN] {
        assert_totals(&sb, i);
    }
}

#[test]
fn mint_rejections() {
    let mut sb = world();
    // Issuer only: not the operator, not a dealer.
    reject(
        &mut sb,
        &[&k(CB)],
        mint(UST_2034, B_ACC, H),
        C::Unauthorized,
    );
    reject(&mut sb, &[&k(DA)], mint(USD, A_ACC, 100), C::Unauthorized);
    reject(
        &mut sb,
        &[&duo1()],
        mint(DUO_TOKEN, DUO_ACC, 1),
        C::InsufficientApprovals,
    );
    reject(
        &mut sb,
        &[&k(TR)],
        mint(NO_INST, B_ACC, H),
        C::InstrumentNotFound,
    );
    reject(&mut sb, &[&k(TR)], mint(UST_2034, B_ACC, 0), C::ZeroAmount);
    reject(
        &mut sb,
        &[&k(TR)],
        mint(UST_2034, B_ACC, H + 1),
        C::NotMultipleOfIncrement,
    );
    reject(
        &mut sb,
        &[&k(TR)],
        mint(UST_2034, NO_ACC, H),
        C::AccountNotFound,
    );
    // The credited balance would overflow, or the supply would.
    reject(&mut sb, &[&k(CB)], mint(USD, A_ACC, u128::MAX), C::Overflow);
    reject(
        &mut sb,
        &[&k(CB)],
        mint(USD, CU_ACC, u128::MAX - 1),
        C::Overflow,
    );
    accept(&mut sb, &[&k(CB)], suspend(lei(TR)));
    reject_suspended(&mut sb, &[&k(TR)], mint(UST_2034, B_ACC, H));
    assert_eq!(supply(&sb, UST_2034), FACE);
    assert_eq!(supply(&sb, USD), 2 * CASH);
    assert_totals(&sb, USD);
}

#[test]
fn a_unique_asset_has_exactly_one_unit() {
    let mut sb = world();
    let deed = InstrumentId(5);
    let unique = CreateInstrument {
        kind: InstrumentKind::Unique {
            title: Text::new("Deed 42, Lot 7").unwrap(),
        },
        ..equity(deed, lei(CB))
    };
    accept(&mut sb, &[&k(CB)], unique);
    reject(&mut sb, &[&k(CB)], mint(deed, A_ACC, 2), C::Overflow);
    accept(&mut sb, &[&k(CB)], mint(deed, A_ACC, 1));
    reject(&mut sb, &[&k(CB)], mint(deed, B_ACC, 1), C::Overflow);
    assert_eq!((supply(&sb, deed), holders(&sb, deed)), (1, 1));
    accept(&mut sb, &[&k(DA)], transfer(A_ACC, B_ACC, deed, 1));
    assert_eq!(bal(&sb, B_ACC, deed), 1);
    assert_totals(&sb, deed);
}

#[test]
fn burn_destroys_units_in_the_issuers_account() {
    let mut sb = world();
    accept(&mut sb, &[&k(CB)], mint(USD, CB_ACC, 1_000_000));
    assert_eq!(holders(&sb, USD), 3);
    let r = accept(&mut sb, &[&k(CB)], burn(USD, CB_ACC, 400_000));
    assert_eq!(
        r.events,
        vec![Event::Moved {
            kind: MoveKind::Burn,
            from: Some(CB_ACC),
            to: None,
            instrument: USD,
            amount: 400_000,
        }]
    );
    assert_eq!(bal(&sb, CB_ACC, USD), 600_000);
    assert_eq!(supply(&sb, USD), 2 * CASH + 600_000);
    assert_eq!(holders(&sb, USD), 3);
    // Burning the rest removes the holder.
    accept(&mut sb, &[&k(CB)], burn(USD, CB_ACC, 600_000));
    assert_eq!(bal(&sb, CB_ACC, USD), 0);
    assert_eq!((supply(&sb, USD), holders(&sb, USD)), (2 * CASH, 2));
    assert_totals(&sb, USD);
}

#[test]
fn burn_rejections() {
    let mut sb = world();
    accept(&mut sb, &[&k(TR)], mint(UST_2034, TR_ACC, 10 * H));
    reject(
        &mut sb,
        &[&k(CB)],
        burn(UST_2034, TR_ACC, H),
        C::Unauthorized,
    );
    reject(
        &mut sb,
        &[&k(DA)],
        burn(UST_2034, TR_ACC, H),
        C::Unauthorized,
    );
    reject(
        &mut sb,
        &[&duo1()],
        burn(DUO_TOKEN, DUO_ACC, 1),
        C::InsufficientApprovals,
    );
    reject(
        &mut sb,
        &[&k(TR)],
        burn(NO_INST, TR_ACC, H),
        C::InstrumentNotFound,
    );
    reject(&mut sb, &[&k(TR)], burn(UST_2034, TR_ACC, 0), C::ZeroAmount);
    reject(
        &mut sb,
        &[&k(TR)],
        burn(UST_2034, TR_ACC, H / 2),
        C::NotMultipleOfIncrement,
    );
    reject(
        &mut sb,
        &[&k(TR)],
        burn(UST_2034, NO_ACC, H),
        C::AccountNotFound,
    );
    // Only the issuer's own units burn.
    reject(
        &mut sb,
        &[&k(TR)],
        burn(UST_2034, A_ACC, H),
        C::AccountOwnerMismatch,
    );
    reject(
        &mut sb,
        &[&k(TR)],
        burn(UST_2034, TR_ACC, 11 * H),
        C::InsufficientBalance,
    );
    // Frozen units do not burn.
    accept(&mut sb, &[&k(RG)], freeze_holding(TR_ACC, UST_2034, 4 * H));
    reject(
        &mut sb,
        &[&k(TR)],
        burn(UST_2034, TR_ACC, 7 * H),
        C::InsufficientBalance,
    );
    accept(&mut sb, &[&k(TR)], burn(UST_2034, TR_ACC, 6 * H));
    assert_eq!(holding(&sb, TR_ACC, UST_2034).balance, 4 * H);
    // Debit-side compliance applies to the issuer's account.
    accept(
        &mut sb,
        &[&k(RG)],
        unfreeze_holding(TR_ACC, UST_2034, 4 * H),
    );
    accept(&mut sb, &[&k(RG)], freeze_account(TR_ACC));
    reject(
        &mut sb,
        &[&k(TR)],
        burn(UST_2034, TR_ACC, H),
        C::AccountFrozen,
    );
    accept(&mut sb, &[&k(RG)], unfreeze_account(TR_ACC));
    accept(&mut sb, &[&k(TR)], pause(UST_2034));
    reject(
        &mut sb,
        &[&k(TR)],
        burn(UST_2034, TR_ACC, H),
        C::InstrumentPaused,
    );
    accept(&mut sb, &[&k(TR)], unpause(UST_2034));
    let lock = update_policy(&sb, UST_2034, |p| {
        p.lockup_until = Some(Timestamp(u64::MAX))
    });
    accept(&mut sb, &[&k(TR)], lock);
    reject(&mut sb, &[&k(TR)], burn(UST_2034, TR_ACC, H), C::LockedUp);
    let unlock = update_policy(&sb, UST_2034, |p| p.lockup_until = None);
    accept(&mut sb, &[&k(TR)], unlock);
    let kyc = update_profile(&sb, lei(TR), |p| p.kyc.status = KycStatus::Pending);
    accept(&mut sb, &[&k(CB)], kyc);
    reject(
        &mut sb,
        &[&k(TR)],
        burn(UST_2034, TR_ACC, H),
        C::KycNotVerified,
    );
    let kyc = update_profile(&sb, lei(TR), |p| p.kyc.status = KycStatus::Verified);
    accept(&mut sb, &[&k(CB)], kyc);
    accept(&mut sb, &[&k(RG)], suspend(lei(TR)));
    reject_suspended(&mut sb, &[&k(TR)], burn(UST_2034, TR_ACC, H));
    assert_eq!(supply(&sb, UST_2034), FACE + 4 * H);
    assert_totals(&sb, UST_2034);
}

// =============================================================================================
// Transfer and Settle
// =============================================================================================

#[test]
fn transfer_moves_units_and_tracks_holders() {
    let mut sb = world();
    let r = accept(
        &mut sb,
        &[&k(DA)],
        transfer(A_ACC, B_ACC, UST_2034, 300 * H),
    );
    assert_eq!(
        r.events,
        vec![moved(MoveKind::Transfer, A_ACC, B_ACC, UST_2034, 300 * H)]
    );
    assert_eq!(bal(&sb, A_ACC, UST_2034), FACE - 300 * H);
    assert_eq!(bal(&sb, B_ACC, UST_2034), 300 * H);
    assert_eq!(holders(&sb, UST_2034), 2);
    // Moving a whole position hands over the holder slot.
    accept(
        &mut sb,
        &[&k(DB)],
        transfer(B_ACC, CU_ACC, UST_2034, 300 * H),
    );
    assert_eq!(bal(&sb, B_ACC, UST_2034), 0);
    assert_eq!(holders(&sb, UST_2034), 2);
    assert!(
        StateReader(&sb.store)
            .holdings(B_ACC, 10)
            .iter()
            .all(|(i, _)| *i != UST_2034)
    );
    accept(
        &mut sb,
        &[&k(DA)],
        transfer(A_ACC, CU_ACC, UST_2034, FACE - 300 * H),
    );
    assert_eq!(holders(&sb, UST_2034), 1);
    assert_eq!(bal(&sb, CU_ACC, UST_2034), FACE);
    assert_eq!(supply(&sb, UST_2034), FACE);
    assert_totals(&sb, UST_2034);
    // Duo, 2-of-2, transfers with both keys.
    accept(
        &mut sb,
        &[&duo1(), &duo2()],
        transfer(DUO_ACC, B_ACC, DUO_TOKEN, 250),
    );
    assert_eq!(bal(&sb, DUO_ACC, DUO_TOKEN), DUO_UNITS - 250);
    assert_totals(&sb, DUO_TOKEN);
}

#[test]
fn transfer_rejections() {
    let mut sb = world();
    reject(
        &mut sb,
        &[&k(DB)],
        transfer(A_ACC, B_ACC, USD, 100),
        C::Unauthorized,
    );
    // Not even the operator moves a holder's units by transfer.
    reject(
        &mut sb,
        &[&k(CB)],
        transfer(A_ACC, B_ACC, USD, 100),
        C::Unauthorized,
    );
    reject(
        &mut sb,
        &[&duo1()],
        transfer(DUO_ACC, A_ACC, DUO_TOKEN, 1),
        C::InsufficientApprovals,
    );
    reject(
        &mut sb,
        &[&k(DA)],
        transfer(NO_ACC, B_ACC, USD, 100),
        C::AccountNotFound,
    );
    reject(
        &mut sb,
        &[&k(DA)],
        transfer(A_ACC, NO_ACC, USD, 100),
        C::AccountNotFound,
    );
    reject(
        &mut sb,
        &[&k(DA)],
        transfer(A_ACC, B_ACC, USD, 0),
        C::ZeroAmount,
    );
    reject(
        &mut sb,
        &[&k(DA)],
        transfer(A_ACC, A_ACC, USD, 100),
        C::SameAccount,
    );
    reject(
        &mut sb,
        &[&k(DA)],
        transfer(A_ACC, B_ACC, NO_INST, 100),
        C::InstrumentNotFound,
    );
    reject(
        &mut sb,
        &[&k(DA)],
        transfer(A_ACC, B_ACC, UST_2034, H + 50),
        C::NotMultipleOfIncrement,
    );
    reject(
        &mut sb,
        &[&k(DA)],
        transfer(A_ACC, B_ACC, USD, CASH + 1),
        C::InsufficientBalance,
    );
    reject(
        &mut sb,
        &[&k(DA)],
        transfer(A_ACC, B_ACC, USD, u128::MAX),
        C::Overflow,
    );
    accept(&mut sb, &[&k(CB)], suspend(lei(DB)));
    reject_suspended(&mut sb, &[&k(DB)], transfer(B_ACC, A_ACC, USD, 100));
    // Exactly the whole balance moves.
    accept(&mut sb, &[&k(DA)], transfer(A_ACC, CU_ACC, USD, CASH));
    assert_eq!((bal(&sb, A_ACC, USD), bal(&sb, CU_ACC, USD)), (0, CASH));
}

#[test]
fn settle_is_delivery_versus_payment() {
    let mut sb = world();
    let price = 199_000_000;
    let r = accept(
        &mut sb,
        &[&k(DA), &k(DB)],
        settle(&dvp_legs(200_000_000, price)),
    );
    assert_eq!(
        r.events,
        vec![
            moved(MoveKind::Settle, A_ACC, B_ACC, UST_2034, 200_000_000),
            moved(MoveKind::Settle, B_ACC, A_ACC, USD, price),
        ]
    );
    assert_eq!(bal(&sb, A_ACC, UST_2034), FACE - 200_000_000);
    assert_eq!(bal(&sb, B_ACC, UST_2034), 200_000_000);
    assert_eq!(bal(&sb, A_ACC, USD), CASH + price);
    assert_eq!(bal(&sb, B_ACC, USD), CASH - price);
    assert_totals(&sb, UST_2034);
    assert_totals(&sb, USD);
    // Chained legs in one settlement: units received by one leg pay the next.
    accept(
        &mut sb,
        &[&k(DB), &k(CU)],
        settle(&[
            leg(B_ACC, CU_ACC, UST_2034, 200_000_000),
            leg(CU_ACC, A_ACC, UST_2034, 200_000_000),
        ]),
    );
    assert_eq!(bal(&sb, CU_ACC, UST_2034), 0);
    assert_eq!(bal(&sb, A_ACC, UST_2034), FACE);
}

#[test]
fn settle_rejections() {
    let mut sb = world();
    let both = [&k(DA), &k(DB)];
    // Every payer approves.
    reject(
        &mut sb,
        &[&k(DA)],
        settle(&dvp_legs(H, 100)),
        C::Unauthorized,
    );
    reject(
        &mut sb,
        &[&k(DB)],
        settle(&dvp_legs(H, 100)),
        C::Unauthorized,
    );
    let duo_pays = [
        leg(DUO_ACC, A_ACC, DUO_TOKEN, 10),
        leg(A_ACC, DUO_ACC, USD, 100),
    ];
    reject(
        &mut sb,
        &[&k(DA), &duo1()],
        settle(&duo_pays),
        C::InsufficientApprovals,
    );
    reject(&mut sb, &both, settle(&[]), C::InvalidLegs);
    reject(
        &mut sb,
        &both,
        settle(&[leg(A_ACC, A_ACC, USD, 100)]),
        C::InvalidLegs,
    );
    // A repeated account pair and instrument.
    reject(
        &mut sb,
        &both,
        settle(&[leg(A_ACC, B_ACC, USD, 100), leg(A_ACC, B_ACC, USD, 200)]),
        C::InvalidLegs,
    );
    reject(&mut sb, &both, settle(&dvp_legs(H, 0)), C::ZeroAmount);
    reject(
        &mut sb,
        &both,
        settle(&[leg(A_ACC, NO_ACC, USD, 100)]),
        C::AccountNotFound,
    );
    reject(
        &mut sb,
        &both,
        settle(&[leg(NO_ACC, A_ACC, USD, 100)]),
        C::AccountNotFound,
    );
    reject(
        &mut sb,
        &both,
        settle(&dvp_legs(H + 1, 100)),
        C::NotMultipleOfIncrement,
    );
    // The second leg fails: the first does not apply either.
    reject(
        &mut sb,
        &both,
        settle(&dvp_legs(H, CASH + 1)),
        C::InsufficientBalance,
    );
    // Compliance on any leg refuses the whole settlement.
    let retail = update_profile(&sb, lei(DB), |p| p.investor_class = InvestorClass::Retail);
    accept(&mut sb, &[&k(CB)], retail);
    reject(
        &mut sb,
        &both,
        settle(&dvp_legs(H, 100)),
        C::InvestorClassNotAllowed,
    );
    // A suspended co-signing payer fails the operation (the sender, dealer A, is not
    // suspended).
    accept(&mut sb, &[&k(CB)], suspend(lei(DB)));
    reject(
        &mut sb,
        &both,
        settle(&dvp_legs(H, 100)),
        C::ParticipantSuspended,
    );
    assert_eq!(bal(&sb, A_ACC, UST_2034), FACE);
    assert_eq!(bal(&sb, B_ACC, USD), CASH);
}

// =============================================================================================
// Instructions: Instruct, CancelInstruction, expiry
// =============================================================================================

const BONDS: Amount = 200_000_000;
const PRICE: Amount = 199_000_000;

fn trade(sb: &Sandbox, ttl_ms: u64) -> Instruct {
    instruct("TRADE-1", &dvp_legs(BONDS, PRICE), sb.time.plus_ms(ttl_ms))
}

#[test]
fn instruct_holds_one_side_then_matching_settles_both_legs() {
    let mut sb = world();
    let t = trade(&sb, 60_000);
    let id = t.instruction_id();
    let r = accept(&mut sb, &[&k(DA)], t.clone());
    assert_eq!(r.events, vec![Event::InstructionSubmitted(id, lei(DA))]);
    assert_eq!(held(&sb, A_ACC, UST_2034), BONDS);
    assert_eq!(held(&sb, B_ACC, USD), 0);
    let rec = StateReader(&sb.store).instruction(&id).expect("pending");
    assert_eq!(rec.submitted.to_vec(), vec![lei(DA)]);
    // Held units are not available to anything else.
    reject(
        &mut sb,
        &[&k(DA)],
        transfer(A_ACC, CU_ACC, UST_2034, FACE - BONDS + H),
        C::InsufficientBalance,
    );
    let r = accept(&mut sb, &[&k(DB)], t);
    assert_eq!(
        r.events,
        vec![
            Event::InstructionSubmitted(id, lei(DB)),
            moved(MoveKind::Instruction, A_ACC, B_ACC, UST_2034, BONDS),
            moved(MoveKind::Instruction, B_ACC, A_ACC, USD, PRICE),
            Event::InstructionMatched(id),
        ]
    );
    assert_eq!(bal(&sb, A_ACC, UST_2034), FACE - BONDS);
    assert_eq!(bal(&sb, B_ACC, UST_2034), BONDS);
    assert_eq!(bal(&sb, A_ACC, USD), CASH + PRICE);
    assert_eq!(bal(&sb, B_ACC, USD), CASH - PRICE);
    assert_eq!(held(&sb, A_ACC, UST_2034), 0);
    assert_eq!(held(&sb, B_ACC, USD), 0);
    // The settled trade stays as a tombstone until its expiry.
    let rec = StateReader(&sb.store).instruction(&id).expect("tombstone");
    assert!(rec.matched);
    assert_eq!(rec.submitted.to_vec(), vec![lei(DA), lei(DB)]);
    assert_totals(&sb, UST_2034);
    assert_totals(&sb, USD);
    // Nothing is left to cancel.
    reject(&mut sb, &[&k(DA)], cancel(id), C::InstructionNotFound);
}

#[test]
fn an_instruction_with_a_single_payer_settles_at_once() {
    let mut sb = world();
    let gift = instruct(
        "GIFT-1",
        &[leg(A_ACC, B_ACC, USD, 500)],
        sb.time.plus_ms(60_000),
    );
    let id = gift.instruction_id();
    let r = accept(&mut sb, &[&k(DA)], gift);
    assert_eq!(r.events.last(), Some(&Event::InstructionMatched(id)));
    assert_eq!(bal(&sb, B_ACC, USD), CASH + 500);
    let rec = StateReader(&sb.store).instruction(&id).expect("tombstone");
    assert!(rec.matched);
    assert_eq!(rec.submitted.to_vec(), vec![lei(DA)]);
}

#[test]
fn cancel_instruction_releases_held_units() {
    let mut sb = world();
    let t = trade(&sb, 60_000);
    let id = t.instruction_id();
    accept(&mut sb, &[&k(DA)], t.clone());
    assert_eq!(held(&sb, A_ACC, UST_2034), BONDS);
    // Only a side whose half is in may cancel it.
    reject(&mut sb, &[&k(DB)], cancel(id), C::InstructionNotFound);
    reject(
        &mut sb,
        &[&k(DA)],
        cancel(Hash32([9; 32])),
        C::InstructionNotFound,
    );
    let r = accept(&mut sb, &[&k(DA)], cancel(id));
    assert_eq!(r.events, vec![Event::InstructionCancelled(id, lei(DA))]);
    assert_eq!(held(&sb, A_ACC, UST_2034), 0);
    assert_eq!(bal(&sb, A_ACC, UST_2034), FACE);
    assert!(StateReader(&sb.store).instruction(&id).is_none());
    // The other half alone now waits, unmatched.
    accept(&mut sb, &[&k(DB)], t);
    assert_eq!(held(&sb, B_ACC, USD), PRICE);
    assert_eq!(bal(&sb, B_ACC, UST_2034), 0);
    let rec = StateReader(&sb.store).instruction(&id).expect("pending");
    assert_eq!(rec.submitted.to_vec(), vec![lei(DB)]);
}

#[test]
fn cancel_instruction_authorization() {
    let mut sb = world();
    let legs = [
        leg(DUO_ACC, A_ACC, DUO_TOKEN, 10),
        leg(A_ACC, DUO_ACC, USD, 1_000),
    ];
    let t = instruct("DUO-1", &legs, sb.time.plus_ms(60_000));
    let id = t.instruction_id();
    accept(&mut sb, &[&duo1(), &duo2()], t);
    assert_eq!(held(&sb, DUO_ACC, DUO_TOKEN), 10);
    reject(&mut sb, &[&duo1()], cancel(id), C::InsufficientApprovals);
    let t = trade(&sb, 60_000);
    let trade_id = t.instruction_id();
    accept(&mut sb, &[&k(DA)], t);
    accept(&mut sb, &[&k(CB)], suspend(lei(DA)));
    reject_suspended_sender(&mut sb, &[&k(DA)], cancel(trade_id));
    assert_eq!(held(&sb, A_ACC, UST_2034), BONDS);
    accept(&mut sb, &[&duo1(), &duo2()], cancel(id));
    assert_eq!(held(&sb, DUO_ACC, DUO_TOKEN), 0);
}

#[test]
fn an_unmatched_instruction_expires_and_releases_its_holds() {
    let mut sb = world();
    let t = trade(&sb, 60_000);
    let id = t.instruction_id();
    accept(&mut sb, &[&k(DA)], t.clone());
    assert_eq!(held(&sb, A_ACC, UST_2034), BONDS);
    // One millisecond before the expiry the half is still pending.
    let until = t.expires_at.0 - sb.time.0;
    let out = raw_block(&mut sb, until - 1, &[]);
    assert!(out.block_events.is_empty());
    assert_eq!(held(&sb, A_ACC, UST_2034), BONDS);
    // At the expiry it lapses before any transaction of the block.
    let late_half = sb.sign(&[&k(DB)], vec![t.into()]);
    let out = raw_block(&mut sb, 1, &[late_half]);
    assert_eq!(out.block_events, vec![Event::InstructionExpired(id)]);
    assert_eq!(out.receipts[0].code, C::InvalidDeadline);
    assert_eq!(held(&sb, A_ACC, UST_2034), 0);
    assert_eq!(holding(&sb, A_ACC, UST_2034).balance, FACE);
    assert_eq!(bal(&sb, B_ACC, UST_2034), 0);
    assert!(StateReader(&sb.store).instruction(&id).is_none());
    sb.unuse_nonce(&k(DB));
    // A later block has nothing more to expire.
    let out = raw_block(&mut sb, 60_000, &[]);
    assert!(out.block_events.is_empty());
    reject(&mut sb, &[&k(DA)], cancel(id), C::InstructionNotFound);
}

#[test]
fn expiry_via_advance_releases_holds() {
    let mut sb = world();
    let t = trade(&sb, 10_000);
    accept(&mut sb, &[&k(DB)], t.clone());
    assert_eq!(held(&sb, B_ACC, USD), PRICE);
    sb.advance(60_000, &[]);
    assert_eq!(held(&sb, B_ACC, USD), 0);
    assert!(
        StateReader(&sb.store)
            .instruction(&t.instruction_id())
            .is_none()
    );
    accept(&mut sb, &[&k(DB)], transfer(B_ACC, A_ACC, USD, CASH));
}

#[test]
fn instruct_rejections() {
    let mut sb = world();
    let exp = sb.time.plus_ms(60_000);
    let t = |legs: &[Leg]| instruct("T", legs, exp);
    let duo_legs = [
        leg(DUO_ACC, A_ACC, DUO_TOKEN, 10),
        leg(A_ACC, DUO_ACC, USD, 1_000),
    ];
    reject(&mut sb, &[&duo1()], t(&duo_legs), C::InsufficientApprovals);
    reject(&mut sb, &[&k(DA)], t(&[]), C::InvalidLegs);
    reject(
        &mut sb,
        &[&k(DA)],
        t(&[leg(A_ACC, A_ACC, USD, 1)]),
        C::InvalidLegs,
    );
    reject(
        &mut sb,
        &[&k(DA)],
        t(&[leg(A_ACC, B_ACC, USD, 1), leg(A_ACC, B_ACC, USD, 1)]),
        C::InvalidLegs,
    );
    reject(&mut sb, &[&k(DA)], t(&dvp_legs(0, 100)), C::ZeroAmount);
    // The expiry lies after the block and at most 30 days ahead.
    let legs = dvp_legs(BONDS, PRICE);
    let next_block = sb.time.plus_ms(1_000);
    reject(
        &mut sb,
        &[&k(DA)],
        instruct("T", &legs, next_block),
        C::InvalidDeadline,
    );
    let next_block = sb.time.plus_ms(1_000);
    reject(
        &mut sb,
        &[&k(DA)],
        instruct("T", &legs, next_block.plus_ms(MAX_INSTRUCTION_TTL_MS + 1)),
        C::InvalidDeadline,
    );
    reject(
        &mut sb,
        &[&k(DA)],
        t(&[leg(A_ACC, NO_ACC, USD, 1)]),
        C::AccountNotFound,
    );
    reject(
        &mut sb,
        &[&k(DA)],
        t(&[leg(NO_ACC, A_ACC, USD, 1)]),
        C::AccountNotFound,
    );
    // Dealer A only receives in this trade.
    reject(
        &mut sb,
        &[&k(DA)],
        t(&[leg(B_ACC, A_ACC, USD, 1)]),
        C::NotAParty,
    );
    reject(
        &mut sb,
        &[&k(DA)],
        t(&dvp_legs(FACE + H, 100)),
        C::InsufficientBalance,
    );
    reject(
        &mut sb,
        &[&k(DA)],
        t(&dvp_legs(H + 1, 100)),
        C::NotMultipleOfIncrement,
    );
    let next_block = sb.time.plus_ms(1_000);
    let at_limit = instruct("T", &legs, next_block.plus_ms(MAX_INSTRUCTION_TTL_MS));
    accept(&mut sb, &[&k(DA)], at_limit.clone());
    reject(&mut sb, &[&k(DA)], at_limit, C::DuplicateInstruction);
    assert_eq!(held(&sb, A_ACC, UST_2034), BONDS);
    accept(&mut sb, &[&k(RG)], freeze_account(CU_ACC));
    reject(
        &mut sb,
        &[&k(CU)],
        t(&[leg(CU_ACC, A_ACC, USD, 1)]),
        C::AccountFrozen,
    );
    accept(&mut sb, &[&k(CB)], suspend(lei(DB)));
    reject_suspended_sender(&mut sb, &[&k(DB)], t(&dvp_legs(BONDS, PRICE)));
}

#[test]
fn matching_rechecks_compliance_and_keeps_the_first_half() {
    let mut sb = world();
    let t = trade(&sb, 600_000);
    let id = t.instruction_id();
    accept(&mut sb, &[&k(DA)], t.clone());
    // Dealer A's account is frozen after its half: the match fails on A's debit.
    accept(&mut sb, &[&k(RG)], freeze_account(A_ACC));
    reject(&mut sb, &[&k(DB)], t.clone(), C::AccountFrozen);
    assert_eq!(held(&sb, B_ACC, USD), 0);
    assert_eq!(held(&sb, A_ACC, UST_2034), BONDS);
    assert!(StateReader(&sb.store).instruction(&id).is_some());
    accept(&mut sb, &[&k(RG)], unfreeze_account(A_ACC));
    // Dealer A suspended after its half: its debit is refused (it cannot act, nor be debited).
    accept(&mut sb, &[&k(RG)], suspend(lei(DA)));
    reject(&mut sb, &[&k(DB)], t.clone(), C::HolderSuspended);
    accept(&mut sb, &[&k(RG)], reinstate(lei(DA)));
    accept(&mut sb, &[&k(DB)], t);
    assert_eq!(bal(&sb, B_ACC, UST_2034), BONDS);
    assert!(
        StateReader(&sb.store)
            .instruction(&id)
            .expect("tombstone")
            .matched
    );
}

#[test]
fn a_matched_instruction_stays_as_a_tombstone_until_its_expiry() {
    let mut sb = world();
    let t = trade(&sb, 60_000);
    let id = t.instruction_id();
    accept(&mut sb, &[&k(DA)], t.clone());
    accept(&mut sb, &[&k(DB)], t.clone());
    assert_eq!(bal(&sb, B_ACC, UST_2034), BONDS);
    // A retried half cannot settle the trade again, nor hold anything ...
    reject(&mut sb, &[&k(DA)], t.clone(), C::DuplicateInstruction);
    reject(&mut sb, &[&k(DB)], t.clone(), C::DuplicateInstruction);
    // ... and a settled trade cannot be cancelled.
    reject(&mut sb, &[&k(DA)], cancel(id), C::InstructionNotFound);
    reject(&mut sb, &[&k(DB)], cancel(id), C::InstructionNotFound);
    // Another trade between the same parties settles as usual.
    let other = instruct("TRADE-2", &dvp_legs(BONDS, PRICE), t.expires_at);
    accept(&mut sb, &[&k(DA)], other.clone());
    accept(&mut sb, &[&k(DB)], other);
    assert_eq!(bal(&sb, B_ACC, UST_2034), 2 * BONDS);
    // An unmatched half lapsing at the same instant, for contrast.
    let lapsing = instruct("TRADE-3", &dvp_legs(H, 100), t.expires_at);
    accept(&mut sb, &[&k(DA)], lapsing.clone());
    assert_eq!(held(&sb, A_ACC, UST_2034), H);
    // One millisecond before the expiry the tombstone is still there.
    let until = t.expires_at.0 - sb.time.0;
    let out = raw_block(&mut sb, until - 1, &[]);
    assert!(out.block_events.is_empty());
    assert!(
        StateReader(&sb.store)
            .instruction(&id)
            .expect("tombstone")
            .matched
    );
    // At the expiry it goes without a word; only the unmatched half is reported.
    let out = raw_block(&mut sb, 1, &[]);
    assert_eq!(
        out.block_events,
        vec![Event::InstructionExpired(lapsing.instruction_id())]
    );
    assert!(StateReader(&sb.store).instruction(&id).is_none());
    assert_eq!(held(&sb, A_ACC, UST_2034), 0);
    assert_eq!(bal(&sb, A_ACC, UST_2034), FACE - 2 * BONDS);
    assert_eq!(bal(&sb, B_ACC, USD), CASH - 2 * PRICE);
    assert_totals(&sb, UST_2034);
    assert_totals(&sb, USD);
    reject(&mut sb, &[&k(DA)], cancel(id), C::InstructionNotFound);
}

#[test]
fn matching_checks_held_units_only_for_freezes_and_suspension() {
    let mut sb = world();
    let t = trade(&sb, 600_000);
    let id = t.instruction_id();
    accept(&mut sb, &[&k(DA)], t.clone());
    // After dealer A's half the issuer locks the note up: A's held notes still deliver
    // (free ones do not) ...
    let lock_up = update_policy(&sb, UST_2034, |p| {
        p.lockup_until = Some(Timestamp(u64::MAX))
    });
    accept(&mut sb, &[&k(TR)], lock_up);
    reject(
        &mut sb,
        &[&k(DA)],
        transfer(A_ACC, B_ACC, UST_2034, H),
        C::LockedUp,
    );
    // ... but the credit side is checked in full: dealer A, with lapsed KYC, cannot
    // receive the cash.
    let pending = update_profile(&sb, lei(DA), |p| p.kyc.status = KycStatus::Pending);
    accept(&mut sb, &[&k(CB)], pending);
    reject(&mut sb, &[&k(DB)], t.clone(), C::KycNotVerified);
    let verified = update_profile(&sb, lei(DA), |p| p.kyc.status = KycStatus::Verified);
    accept(&mut sb, &[&k(CB)], verified);
    let r = accept(&mut sb, &[&k(DB)], t);
    assert_eq!(r.events.last(), Some(&Event::InstructionMatched(id)));
    assert_eq!(bal(&sb, B_ACC, UST_2034), BONDS);
    assert_eq!(bal(&sb, A_ACC, USD), CASH + PRICE);
    assert_eq!(held(&sb, A_ACC, UST_2034), 0);
    assert_totals(&sb, UST_2034);
}

// =============================================================================================
// Holds: PlaceHold, ReleaseHold, RefundHold
// =============================================================================================

const ESCROW: Amount = 1_000_000;

fn secret() -> Hash32 {
    Hash32([7; 32])
}
fn lock() -> Hash32 {
    Hash32::digest(&[&secret().0])
}
fn escrow_leg() -> Leg {
    leg(A_ACC, B_ACC, USD, ESCROW)
}

#[test]
fn place_hold_locks_units() {
    let mut sb = world();
    let deadline = sb.time.plus_ms(60_000);
    let r = accept(
        &mut sb,
        &[&k(DA)],
        place_hold(1, escrow_leg(), Some(lock()), deadline),
    );
    assert_eq!(r.events, vec![Event::HoldPlaced(HoldId(1))]);
    let h = holding(&sb, A_ACC, USD);
    assert_eq!((h.balance, h.held, h.frozen), (CASH, ESCROW, 0));
    let rec = StateReader(&sb.store).hold(HoldId(1)).expect("hold");
    assert_eq!(
        (rec.leg, rec.hash_lock, rec.deadline),
        (escrow_leg(), Some(lock()), deadline)
    );
    reject(
        &mut sb,
        &[&k(DA)],
        transfer(A_ACC, CU_ACC, USD, CASH - ESCROW + 1),
        C::InsufficientBalance,
    );
    accept(
        &mut sb,
        &[&k(DA)],
        transfer(A_ACC, CU_ACC, USD, CASH - ESCROW),
    );
    assert_eq!(holding(&sb, A_ACC, USD).available(), 0);
}

#[test]
fn release_hold_with_the_preimage_by_a_third_party() {
    let mut sb = world();
    let deadline = sb.time.plus_ms(60_000);
    accept(
        &mut sb,
        &[&k(DA)],
        place_hold(1, escrow_leg(), Some(lock()), deadline),
    );
    reject(
        &mut sb,
        &[&k(CU)],
        release(1, Some(Hash32([8; 32]))),
        C::PreimageMismatch,
    );
    reject(&mut sb, &[&k(CU)], release(1, None), C::PreimageMismatch);
    // Even the payer needs the preimage once there is a hash-lock.
    reject(&mut sb, &[&k(DA)], release(1, None), C::PreimageMismatch);
    let r = accept(&mut sb, &[&k(CU)], release(1, Some(secret())));
    assert_eq!(
        r.events,
        vec![
            moved(MoveKind::HoldRelease, A_ACC, B_ACC, USD, ESCROW),
            Event::HoldReleased(HoldId(1)),
        ]
    );
    assert_eq!(
        holding(&sb, A_ACC, USD),
        Holding {
            balance: CASH - ESCROW,
            held: 0,
            frozen: 0
        }
    );
    assert_eq!(bal(&sb, B_ACC, USD), CASH + ESCROW);
    // The record stays, with its outcome: provable later, and the id is used up.
    let rec = StateReader(&sb.store).hold(HoldId(1)).expect("kept");
    assert_eq!(rec.status, tally_types::model::HoldStatus::Released);
    reject(
        &mut sb,
        &[&k(CU)],
        release(1, Some(secret())),
        C::HoldClosed,
    );
    assert_totals(&sb, USD);
}

#[test]
fn release_hold_without_lock_by_the_payer() {
    let mut sb = world();
    let deadline = sb.time.plus_ms(60_000);
    accept(
        &mut sb,
        &[&k(DA)],
        place_hold(2, escrow_leg(), None, deadline),
    );
    // The beneficiary or a stranger cannot pay themselves.
    reject(&mut sb, &[&k(DB)], release(2, None), C::Unauthorized);
    reject(
        &mut sb,
        &[&k(CU)],
        release(2, Some(secret())),
        C::Unauthorized,
    );
    accept(&mut sb, &[&k(DA)], release(2, None));
    assert_eq!(bal(&sb, B_ACC, USD), CASH + ESCROW);
    assert_eq!(held(&sb, A_ACC, USD), 0);
    // A 2-of-2 payer needs both keys to release.
    let duo_leg = leg(DUO_ACC, A_ACC, DUO_TOKEN, 100);
    let at = sb.time.plus_ms(60_000);
    accept(
        &mut sb,
        &[&duo1(), &duo2()],
        place_hold(3, duo_leg, None, at),
    );
    reject(
        &mut sb,
        &[&duo1()],
        release(3, None),
        C::InsufficientApprovals,
    );
    accept(&mut sb, &[&duo1(), &duo2()], release(3, None));
    assert_eq!(bal(&sb, A_ACC, DUO_TOKEN), 100);
    // A suspended payer cannot release.
    let at = sb.time.plus_ms(60_000);
    accept(
        &mut sb,
        &[&k(DB)],
        place_hold(4, leg(B_ACC, A_ACC, USD, 10), None, at),
    );
    accept(&mut sb, &[&k(CB)], suspend(lei(DB)));
    reject_suspended(&mut sb, &[&k(DB)], release(4, None));
    assert_eq!(held(&sb, B_ACC, USD), 10);
}

#[test]
fn release_after_the_deadline_is_expired_and_the_payer_refunds() {
    let mut sb = world();
    let deadline = sb.time.plus_ms(10_000);
    accept(
        &mut sb,
        &[&k(DA)],
        place_hold(1, escrow_leg(), Some(lock()), deadline),
    );
    reject(&mut sb, &[&k(DA)], refund(1), C::HoldNotExpired);
    // Advance to exactly the deadline: release is over, refund is open.
    let to_deadline = deadline.0 - sb.time.0 - 1_000;
    sb.advance(to_deadline, &[]);
    reject(
        &mut sb,
        &[&k(CU)],
        release(1, Some(secret())),
        C::HoldExpired,
    );
    reject(&mut sb, &[&k(CU)], refund(1), C::Unauthorized);
    let r = accept(&mut sb, &[&k(DA)], refund(1));
    assert_eq!(r.events, vec![Event::HoldRefunded(HoldId(1))]);
    assert_eq!(
        holding(&sb, A_ACC, USD),
        Holding {
            balance: CASH,
            held: 0,
            frozen: 0
        }
    );
    assert_eq!(bal(&sb, B_ACC, USD), CASH);
    let rec = StateReader(&sb.store).hold(HoldId(1)).expect("kept");
    assert_eq!(rec.status, tally_types::model::HoldStatus::Refunded);
    reject(&mut sb, &[&k(DA)], refund(1), C::HoldClosed);
    // A hold id is used once: its outcome keeps it.
    let deadline = sb.time.plus_ms(60_000);
    reject(
        &mut sb,
        &[&k(DA)],
        place_hold(1, escrow_leg(), None, deadline),
        C::HoldExists,
    );
}

#[test]
fn the_beneficiary_refunds_at_any_time() {
    let mut sb = world();
    let deadline = sb.time.plus_ms(600_000);
    accept(
        &mut sb,
        &[&k(DA)],
        place_hold(1, escrow_leg(), Some(lock()), deadline),
    );
    accept(&mut sb, &[&k(DB)], refund(1));
    assert_eq!(held(&sb, A_ACC, USD), 0);
    assert_eq!(bal(&sb, B_ACC, USD), CASH);
    reject(
        &mut sb,
        &[&k(CU)],
        release(1, Some(secret())),
        C::HoldClosed,
    );
}

#[test]
fn refund_hold_authorization() {
    let mut sb = world();
    let deadline = sb.time.plus_ms(5_000);
    let duo_leg = leg(DUO_ACC, A_ACC, DUO_TOKEN, 100);
    accept(
        &mut sb,
        &[&duo1(), &duo2()],
        place_hold(1, duo_leg, None, deadline),
    );
    accept(
        &mut sb,
        &[&k(DB)],
        place_hold(2, leg(B_ACC, A_ACC, USD, 10), None, deadline),
    );
    sb.advance(10_000, &[]);
    reject(&mut sb, &[&duo1()], refund(1), C::InsufficientApprovals);
    reject(&mut sb, &[&k(CU)], refund(1), C::Unauthorized);
    accept(&mut sb, &[&k(CB)], suspend(lei(DB)));
    reject_suspended(&mut sb, &[&k(DB)], refund(2));
    reject(&mut sb, &[&k(DA)], refund(99), C::HoldNotFound);
    accept(&mut sb, &[&duo1(), &duo2()], refund(1));
    assert_eq!(held(&sb, DUO_ACC, DUO_TOKEN), 0);
    assert_eq!(held(&sb, B_ACC, USD), 10);
}

#[test]
fn place_hold_rejections() {
    let mut sb = world();
    let soon = sb.time.plus_ms(60_000);
    let l = escrow_leg();
    reject(
        &mut sb,
        &[&k(DB)],
        place_hold(1, l, None, soon),
        C::Unauthorized,
    );
    reject(
        &mut sb,
        &[&duo1()],
        place_hold(1, leg(DUO_ACC, A_ACC, DUO_TOKEN, 1), None, soon),
        C::InsufficientApprovals,
    );
    reject(
        &mut sb,
        &[&k(DA)],
        place_hold(1, leg(NO_ACC, B_ACC, USD, 1), None, soon),
        C::AccountNotFound,
    );
    reject(
        &mut sb,
        &[&k(DA)],
        place_hold(1, leg(A_ACC, NO_ACC, USD, 1), None, soon),
        C::AccountNotFound,
    );
    reject(
        &mut sb,
        &[&k(DA)],
        place_hold(1, leg(A_ACC, A_ACC, USD, 1), None, soon),
        C::SameAccount,
    );
    let next_block = sb.time.plus_ms(1_000);
    reject(
        &mut sb,
        &[&k(DA)],
        place_hold(1, l, None, next_block),
        C::InvalidDeadline,
    );
    let next_block = sb.time.plus_ms(1_000);
    reject(
        &mut sb,
        &[&k(DA)],
        place_hold(1, l, None, next_block.plus_ms(MAX_INSTRUCTION_TTL_MS + 1)),
        C::InvalidDeadline,
    );
    reject(
        &mut sb,
        &[&k(DA)],
        place_hold(1, leg(A_ACC, B_ACC, NO_INST, 1), None, soon),
        C::InstrumentNotFound,
    );
    reject(
        &mut sb,
        &[&k(DA)],
        place_hold(1, leg(A_ACC, B_ACC, USD, 0), None, soon),
        C::ZeroAmount,
    );
    reject(
        &mut sb,
        &[&k(DA)],
        place_hold(1, leg(A_ACC, B_ACC, UST_2034, 1), None, soon),
        C::NotMultipleOfIncrement,
    );
    reject(
        &mut sb,
        &[&k(DA)],
        place_hold(1, leg(A_ACC, B_ACC, USD, CASH + 1), None, soon),
        C::InsufficientBalance,
    );
    reject(
        &mut sb,
        &[&k(DA)],
        place_hold(1, leg(A_ACC, B_ACC, USD, u128::MAX), None, soon),
        C::Overflow,
    );
    // The credit side is checked up front (a retail buyer cannot receive the note) ...
    let retail = update_profile(&sb, lei(CU), |p| p.investor_class = InvestorClass::Retail);
    accept(&mut sb, &[&k(CB)], retail);
    reject(
        &mut sb,
        &[&k(DA)],
        place_hold(1, leg(A_ACC, CU_ACC, UST_2034, H), None, soon),
        C::InvestorClassNotAllowed,
    );
    // ... and validation comes before compliance.
    reject(
        &mut sb,
        &[&k(DA)],
        place_hold(1, leg(A_ACC, CU_ACC, UST_2034, 0), None, soon),
        C::ZeroAmount,
    );
    // The debit side too.
    accept(&mut sb, &[&k(RG)], freeze_account(A_ACC));
    reject(
        &mut sb,
        &[&k(DA)],
        place_hold(1, l, None, soon),
        C::AccountFrozen,
    );
    accept(&mut sb, &[&k(RG)], unfreeze_account(A_ACC));
    // The deadline may be exactly 30 days ahead.
    let next_block = sb.time.plus_ms(1_000);
    accept(
        &mut sb,
        &[&k(DA)],
        place_hold(1, l, None, next_block.plus_ms(MAX_INSTRUCTION_TTL_MS)),
    );
    reject(
        &mut sb,
        &[&k(DA)],
        place_hold(1, l, None, soon),
        C::HoldExists,
    );
    accept(&mut sb, &[&k(CB)], suspend(lei(DB)));
    reject_suspended(
        &mut sb,
        &[&k(DB)],
        place_hold(2, leg(B_ACC, A_ACC, USD, 1), None, soon),
    );
    assert_eq!(held(&sb, A_ACC, USD), ESCROW);
}

#[test]
fn release_rechecks_compliance_on_both_sides() {
    let mut sb = world();
    let deadline = sb.time.plus_ms(600_000);
    // Dealer B escrows cash for dealer A, then is suspended: the preimage holder's
    // release is refused on B's (debit) side.
    accept(
        &mut sb,
        &[&k(DB)],
        place_hold(1, leg(B_ACC, A_ACC, USD, ESCROW), Some(lock()), deadline),
    );
    accept(&mut sb, &[&k(RG)], suspend(lei(DB)));
    reject(
        &mut sb,
        &[&k(CU)],
        release(1, Some(secret())),
        C::HolderSuspended,
    );
    accept(&mut sb, &[&k(RG)], reinstate(lei(DB)));
    // The beneficiary's account frozen: refused on the credit side.
    accept(&mut sb, &[&k(RG)], freeze_account(A_ACC));
    reject(
        &mut sb,
        &[&k(CU)],
        release(1, Some(secret())),
        C::AccountFrozen,
    );
    accept(&mut sb, &[&k(RG)], unfreeze_account(A_ACC));
    accept(&mut sb, &[&k(CU)], release(1, Some(secret())));
    assert_eq!(bal(&sb, A_ACC, USD), CASH + ESCROW);
    assert_eq!(holding(&sb, B_ACC, USD).held, 0);
}

#[test]
fn releasing_a_hold_checks_the_payer_only_for_freezes_and_suspension() {
    let mut sb = world();
    let deadline = sb.time.plus_ms(600_000);
    let notes = leg(A_ACC, B_ACC, UST_2034, H);
    let cash = |amount| leg(A_ACC, B_ACC, USD, amount);
    accept_all(
        &mut sb,
        &[&k(DA)],
        vec![
            place_hold(1, notes, Some(lock()), deadline),
            place_hold(2, cash(100), None, deadline),
            place_hold(3, cash(200), None, deadline),
        ],
    );
    // The issuer then locks the note up: free notes are stuck, the hash-locked ones are
    // delivered when the preimage is revealed.
    let lock_up = update_policy(&sb, UST_2034, |p| {
        p.lockup_until = Some(Timestamp(u64::MAX))
    });
    accept(&mut sb, &[&k(TR)], lock_up);
    reject(
        &mut sb,
        &[&k(DA)],
        place_hold(5, notes, None, deadline),
        C::LockedUp,
    );
    accept(&mut sb, &[&k(CU)], release(1, Some(secret())));
    assert_eq!(bal(&sb, B_ACC, UST_2034), H);
    // Dealer A's KYC lapses: its free cash is stuck, its held cash is paid.
    let pending = update_profile(&sb, lei(DA), |p| p.kyc.status = KycStatus::Pending);
    accept(&mut sb, &[&k(CB)], pending);
    reject(
        &mut sb,
        &[&k(DA)],
        transfer(A_ACC, B_ACC, USD, 100),
        C::KycNotVerified,
    );
    accept(&mut sb, &[&k(DA)], release(2, None));
    assert_eq!(bal(&sb, B_ACC, USD), CASH + 100);
    // The beneficiary passed the credit rules when the holds were placed: a later KYC
    // lapse or pause does not stop a release (a hash-locked release reveals its
    // preimage, so it must not fail for less than a supervisor's block).
    let pending = update_profile(&sb, lei(DB), |p| p.kyc.status = KycStatus::Pending);
    accept(&mut sb, &[&k(CB)], pending);
    accept(&mut sb, &[&k(CB)], pause(USD));
    reject(
        &mut sb,
        &[&k(DA)],
        transfer(A_ACC, B_ACC, USD, 100),
        C::InstrumentPaused,
    );
    // A supervisor's freeze of the payer's account stops held units.
    accept(&mut sb, &[&k(RG)], freeze_account(A_ACC));
    reject(&mut sb, &[&k(DA)], release(3, None), C::AccountFrozen);
    accept(&mut sb, &[&k(RG)], unfreeze_account(A_ACC));
    accept(&mut sb, &[&k(DA)], release(3, None));
    accept(&mut sb, &[&k(CB)], unpause(USD));
    let verified = update_profile(&sb, lei(DB), |p| p.kyc.status = KycStatus::Verified);
    accept(&mut sb, &[&k(CB)], verified);
    // (A suspended payer or beneficiary: see `release_rechecks_compliance_on_both_sides`.)
    assert_eq!(bal(&sb, B_ACC, USD), CASH + 300);
    assert_eq!(held(&sb, A_ACC, USD), 0);
    assert_totals(&sb, USD);
}

// =============================================================================================
// Supervision: FreezeHolding, UnfreezeHolding, ForcedTransfer, RecoverAccount
// =============================================================================================

#[test]
fn partial_freeze_limits_what_can_move() {
    let mut sb = world();
    let frozen = 4_000_000_000;
    let r = accept(&mut sb, &[&k(RG)], freeze_holding(A_ACC, USD, frozen));
    assert_eq!(r.events, vec![Event::HoldingFrozen(A_ACC, USD, frozen, 12)]);
    assert_eq!(
        holding(&sb, A_ACC, USD),
        Holding {
            balance: CASH,
            held: 0,
            frozen
        }
    );
    reject(
        &mut sb,
        &[&k(DA)],
        transfer(A_ACC, B_ACC, USD, CASH - frozen + 1),
        C::InsufficientBalance,
    );
    accept(
        &mut sb,
        &[&k(DA)],
        transfer(A_ACC, B_ACC, USD, CASH - frozen),
    );
    assert_eq!(holding(&sb, A_ACC, USD).available(), 0);
    let r = accept(
        &mut sb,
        &[&sup1(), &sup2()],
        unfreeze_holding(A_ACC, USD, 1_000),
    );
    assert_eq!(r.events, vec![Event::HoldingUnfrozen(A_ACC, USD, 1_000)]);
    assert_eq!(holding(&sb, A_ACC, USD).frozen, frozen - 1_000);
    accept(&mut sb, &[&k(DA)], transfer(A_ACC, B_ACC, USD, 1_000));
    assert_eq!(bal(&sb, A_ACC, USD), frozen - 1_000);
}

#[test]
fn freeze_and_unfreeze_holding_rejections() {
    let mut sb = world();
    for op in [freeze_holding, unfreeze_holding] {
        reject(&mut sb, &[&k(DA)], op(A_ACC, USD, 100), C::Unauthorized);
        reject(
            &mut sb,
            &[&sup1()],
            op(A_ACC, USD, 100),
            C::InsufficientApprovals,
        );
        reject(
            &mut sb,
            &[&k(RG)],
            op(A_ACC, NO_INST, 100),
            C::InstrumentNotFound,
        );
        reject(&mut sb, &[&k(RG)], op(NO_ACC, USD, 100), C::AccountNotFound);
        reject(&mut sb, &[&k(RG)], op(A_ACC, USD, 0), C::ZeroAmount);
        reject(
            &mut sb,
            &[&k(RG)],
            op(A_ACC, UST_2034, H - 1),
            C::NotMultipleOfIncrement,
        );
    }
    reject(
        &mut sb,
        &[&k(RG)],
        freeze_holding(A_ACC, USD, CASH + 1),
        C::InsufficientBalance,
    );
    // Held units cannot be frozen.
    let at = sb.time.plus_ms(60_000);
    accept(&mut sb, &[&k(DA)], place_hold(1, escrow_leg(), None, at));
    reject(
        &mut sb,
        &[&k(RG)],
        freeze_holding(A_ACC, USD, CASH - ESCROW + 1),
        C::InsufficientBalance,
    );
    accept(&mut sb, &[&k(RG)], freeze_holding(A_ACC, USD, 500));
    reject(
        &mut sb,
        &[&k(RG)],
        unfreeze_holding(A_ACC, USD, 501),
        C::InsufficientFrozen,
    );
    reject(
        &mut sb,
        &[&k(RG)],
        unfreeze_holding(B_ACC, USD, 1),
        C::InsufficientFrozen,
    );
    accept(&mut sb, &[&k(CB)], suspend(lei(RG)));
    reject_suspended(&mut sb, &[&k(RG)], freeze_holding(A_ACC, USD, 1));
    reject_suspended(&mut sb, &[&k(RG)], unfreeze_holding(A_ACC, USD, 1));
    assert_eq!(
        holding(&sb, A_ACC, USD),
        Holding {
            balance: CASH,
            held: ESCROW,
            frozen: 500
        }
    );
}

#[test]
fn forced_transfer_moves_frozen_units() {
    let mut sb = world();
    accept(&mut sb, &[&k(RG)], freeze_holding(A_ACC, UST_2034, FACE));
    accept(&mut sb, &[&k(RG)], freeze_account(A_ACC));
    let r = accept(
        &mut sb,
        &[&k(RG)],
        forced(leg(A_ACC, B_ACC, UST_2034, 500 * H)),
    );
    assert_eq!(
        r.events,
        vec![moved(MoveKind::Forced(13), A_ACC, B_ACC, UST_2034, 500 * H)]
    );
    assert_eq!(
        holding(&sb, A_ACC, UST_2034),
        Holding {
            balance: FACE - 500 * H,
            held: 0,
            frozen: FACE - 500 * H
        }
    );
    assert_eq!(bal(&sb, B_ACC, UST_2034), 500 * H);
    assert_eq!(holders(&sb, UST_2034), 2);
    assert_totals(&sb, UST_2034);
}

#[test]
fn forced_transfer_takes_free_units_before_frozen_ones() {
    let mut sb = world();
    // 600 free units, the rest frozen.
    accept(
        &mut sb,
        &[&k(RG)],
        freeze_holding(A_ACC, UST_2034, FACE - 600 * H),
    );
    accept(
        &mut sb,
        &[&k(RG)],
        forced(leg(A_ACC, B_ACC, UST_2034, 500 * H)),
    );
    assert_eq!(
        holding(&sb, A_ACC, UST_2034),
        Holding {
            balance: FACE - 500 * H,
            held: 0,
            frozen: FACE - 600 * H
        }
    );
    // 100 free units are left: they go first, then 100 frozen ones.
    accept(
        &mut sb,
        &[&k(RG)],
        forced(leg(A_ACC, B_ACC, UST_2034, 200 * H)),
    );
    assert_eq!(
        holding(&sb, A_ACC, UST_2034),
        Holding {
            balance: FACE - 700 * H,
            held: 0,
            frozen: FACE - 700 * H
        }
    );
    assert_eq!(bal(&sb, B_ACC, UST_2034), 700 * H);
    assert_totals(&sb, UST_2034);
}

#[test]
fn forced_transfer_rejections() {
    let mut sb = world();
    let l = leg(A_ACC, B_ACC, UST_2034, 500 * H);
    // By order of the regulator only.
    reject(&mut sb, &[&k(CB)], forced(l), C::Unauthorized);
    reject(&mut sb, &[&k(DA)], forced(l), C::Unauthorized);
    reject(&mut sb, &[&sup1()], forced(l), C::InsufficientApprovals);
    reject(
        &mut sb,
        &[&k(RG)],
        forced(leg(A_ACC, A_ACC, UST_2034, H)),
        C::SameAccount,
    );
    reject(
        &mut sb,
        &[&k(RG)],
        forced(leg(NO_ACC, B_ACC, UST_2034, H)),
        C::AccountNotFound,
    );
    reject(
        &mut sb,
        &[&k(RG)],
        forced(leg(A_ACC, B_ACC, UST_2034, 0)),
        C::ZeroAmount,
    );
    reject(
        &mut sb,
        &[&k(RG)],
        forced(leg(A_ACC, B_ACC, UST_2034, H + 1)),
        C::NotMultipleOfIncrement,
    );
    reject(
        &mut sb,
        &[&k(RG)],
        forced(leg(A_ACC, B_ACC, NO_INST, H)),
        C::InstrumentNotFound,
    );
    reject(
        &mut sb,
        &[&k(RG)],
        forced(leg(A_ACC, B_ACC, UST_2034, FACE + H)),
        C::InsufficientBalance,
    );
    // Held units stay put.
    let at = sb.time.plus_ms(60_000);
    accept(
        &mut sb,
        &[&k(DA)],
        place_hold(1, leg(A_ACC, CU_ACC, UST_2034, FACE - 400 * H), None, at),
    );
    reject(&mut sb, &[&k(RG)], forced(l), C::AmountLocked);
    // The credit side's compliance still applies.
    accept(&mut sb, &[&k(RG)], freeze_account(B_ACC));
    reject(
        &mut sb,
        &[&k(RG)],
        forced(leg(A_ACC, B_ACC, UST_2034, 100 * H)),
        C::AccountFrozen,
    );
    accept(&mut sb, &[&k(RG)], unfreeze_account(B_ACC));
    accept(
        &mut sb,
        &[&k(RG)],
        forced(leg(A_ACC, B_ACC, UST_2034, 400 * H)),
    );
    assert_eq!(
        holding(&sb, A_ACC, UST_2034),
        Holding {
            balance: FACE - 400 * H,
            held: FACE - 400 * H,
            frozen: 0
        }
    );
    accept(&mut sb, &[&k(CB)], suspend(lei(RG)));
    reject_suspended(&mut sb, &[&k(RG)], forced(leg(B_ACC, A_ACC, UST_2034, H)));
}

#[test]
fn recover_account_moves_every_holding_and_freezes_the_old_account() {
    let mut sb = world();
    let new = AccountId(301);
    accept(&mut sb, &[&k(DA)], open(new, lei(DA)));
    accept(
        &mut sb,
        &[&duo1(), &duo2()],
        transfer(DUO_ACC, A_ACC, DUO_TOKEN, 40),
    );
    accept(&mut sb, &[&k(RG)], freeze_holding(A_ACC, UST_2034, 100 * H));
    let at = sb.time.plus_ms(600_000);
    accept(&mut sb, &[&k(DA)], place_hold(1, escrow_leg(), None, at));
    let (usd_holders, ust_holders) = (holders(&sb, USD), holders(&sb, UST_2034));
    let r = accept(&mut sb, &[&k(CB)], recover(A_ACC, new));
    // The freeze carried over to the new account is reported on both accounts.
    assert_eq!(
        r.events,
        vec![
            moved(MoveKind::Recovery(14), A_ACC, new, USD, CASH - ESCROW),
            moved(MoveKind::Recovery(14), A_ACC, new, UST_2034, FACE),
            Event::HoldingUnfrozen(A_ACC, UST_2034, 100 * H),
            Event::HoldingFrozen(new, UST_2034, 100 * H, 14),
            moved(MoveKind::Recovery(14), A_ACC, new, DUO_TOKEN, 40),
            Event::AccountFrozen(A_ACC, 14),
        ]
    );
    assert!(account(&sb, A_ACC).frozen);
    assert!(!account(&sb, new).frozen);
    // Held units stay with the hold; the freeze follows the units it froze.
    assert_eq!(
        holding(&sb, A_ACC, USD),
        Holding {
            balance: ESCROW,
            held: ESCROW,
            frozen: 0
        }
    );
    assert_eq!(holding(&sb, A_ACC, UST_2034), Holding::default());
    assert_eq!(holding(&sb, new, USD).balance, CASH - ESCROW);
    assert_eq!(
        holding(&sb, new, UST_2034),
        Holding {
            balance: FACE,
            held: 0,
            frozen: 100 * H
        }
    );
    assert_eq!(bal(&sb, new, DUO_TOKEN), 40);
    assert_eq!(holders(&sb, USD), usd_holders + 1);
    assert_eq!(holders(&sb, UST_2034), ust_holders);
    for i in [USD, UST_2034, DUO_TOKEN] {
        assert_totals(&sb, i);
    }
    // The owner trades from the new account; the old one is frozen.
    accept(&mut sb, &[&k(DA)], transfer(new, B_ACC, USD, 100));
    reject(
        &mut sb,
        &[&k(DA)],
        transfer(new, B_ACC, UST_2034, FACE - 99 * H),
        C::InsufficientBalance,
    );
    reject(
        &mut sb,
        &[&k(DB)],
        transfer(B_ACC, A_ACC, USD, 100),
        C::AccountFrozen,
    );
    // The hold on the old account can still be given back.
    accept(&mut sb, &[&k(DB)], refund(1));
    assert_eq!(holding(&sb, A_ACC, USD).held, 0);
}

#[test]
fn recover_account_rejections() {
    let mut sb = world();
    let new = AccountId(301);
    accept(&mut sb, &[&k(DA)], open(new, lei(DA)));
    reject(&mut sb, &[&k(DA)], recover(A_ACC, new), C::Unauthorized);
    reject(&mut sb, &[&k(TR)], recover(A_ACC, new), C::Unauthorized);
    reject(
        &mut sb,
        &[&sup1()],
        recover(A_ACC, new),
        C::InsufficientApprovals,
    );
    reject(&mut sb, &[&k(RG)], recover(A_ACC, A_ACC), C::SameAccount);
    reject(&mut sb, &[&k(RG)], recover(NO_ACC, new), C::AccountNotFound);
    reject(
        &mut sb,
        &[&k(RG)],
        recover(A_ACC, NO_ACC),
        C::AccountNotFound,
    );
    reject(
        &mut sb,
        &[&k(RG)],
        recover(A_ACC, B_ACC),
        C::AccountOwnerMismatch,
    );
    accept(&mut sb, &[&k(RG)], freeze_account(new));
    reject(&mut sb, &[&k(RG)], recover(A_ACC, new), C::AccountFrozen);
    accept(&mut sb, &[&k(RG)], unfreeze_account(new));
    accept(&mut sb, &[&k(CB)], suspend(lei(RG)));
    reject_suspended(&mut sb, &[&k(RG)], recover(A_ACC, new));
    assert!(!account(&sb, A_ACC).frozen);
    assert_eq!(bal(&sb, new, USD), 0);
    // The regulator (reinstated) may recover, like the operator.
    accept(&mut sb, &[&k(CB)], reinstate(lei(RG)));
    accept(&mut sb, &[&k(RG)], recover(A_ACC, new));
    assert_eq!(bal(&sb, new, USD), CASH);
}

/// A world where the custodian's account holds `n` instruments, plus a second account.
fn custodian_with_holdings(n: u64) -> Sandbox {
    let mut g = world_genesis();
    for i in 0..n {
        let id = InstrumentId(1_000 + i);
        g.operations.push(equity(id, lei(CB)).into());
        g.operations.push(mint(id, CU_ACC, 1));
    }
    g.operations.push(open(AccountId(501), lei(CU)));
    Sandbox::with_genesis(MemStore::new(), &g)
}

#[test]
fn recovery_is_bounded_in_holdings() {
    let max = MAX_RECOVERY_HOLDINGS as u64;
    let mut sb = custodian_with_holdings(max + 1);
    reject(
        &mut sb,
        &[&k(RG)],
        recover(CU_ACC, AccountId(501)),
        C::TooManyHoldings,
    );
    let mut sb = custodian_with_holdings(max);
    accept(&mut sb, &[&k(RG)], recover(CU_ACC, AccountId(501)));
    assert_eq!(
        StateReader(&sb.store).holdings(AccountId(501), 1_000).len(),
        MAX_RECOVERY_HOLDINGS
    );
    assert!(StateReader(&sb.store).holdings(CU_ACC, 1_000).is_empty());
}

#[test]
fn supervisory_orders_need_the_admin_threshold() {
    let mut sb = world();
    let new = AccountId(301);
    accept(&mut sb, &[&k(DA)], open(new, lei(DA)));
    // Sup (operator and regulator) acts with one key but administers with two.
    accept(&mut sb, &[&sup1(), &sup2()], thresholds(sup_lei(), 1, 2));
    // One key freezes (an act-level power) ...
    accept(&mut sb, &[&sup1()], freeze_holding(A_ACC, USD, 100));
    // ... but neither orders a transfer nor recovers an account.
    let l = leg(A_ACC, B_ACC, USD, 100);
    reject(&mut sb, &[&sup1()], forced(l), C::InsufficientApprovals);
    reject(
        &mut sb,
        &[&sup1()],
        recover(A_ACC, new),
        C::InsufficientApprovals,
    );
    // An operator is no regulator for a forced transfer.
    reject(
        &mut sb,
        &[&k(CB), &sup1()],
        forced(l),
        C::InsufficientApprovals,
    );
    accept(&mut sb, &[&sup1(), &sup2()], forced(l));
    assert_eq!(bal(&sb, B_ACC, USD), CASH + 100);
    accept(&mut sb, &[&sup1(), &sup2()], recover(A_ACC, new));
    assert_eq!(bal(&sb, new, USD), CASH - 100);
}

#[test]
fn recovery_reports_the_freeze_it_carries_over() {
    let mut sb = world();
    // Without a frozen part there is no freeze to report.
    accept(&mut sb, &[&k(DB)], open(AccountId(401), lei(DB)));
    let r = accept(&mut sb, &[&k(RG)], recover(B_ACC, AccountId(401)));
    assert_eq!(
        r.events,
        vec![
            moved(MoveKind::Recovery(14), B_ACC, AccountId(401), USD, CASH),
            Event::AccountFrozen(B_ACC, 14),
        ]
    );
    // Dealer A: part of its cash and all of its notes are frozen; its new account
    // already has frozen cash of its own.
    let new = AccountId(301);
    accept(&mut sb, &[&k(DA)], open(new, lei(DA)));
    accept(&mut sb, &[&k(DA)], transfer(A_ACC, new, USD, 1_000));
    accept_all(
        &mut sb,
        &[&k(RG)],
        vec![
            freeze_holding(new, USD, 400),
            freeze_holding(A_ACC, USD, 2_500),
            freeze_holding(A_ACC, UST_2034, FACE),
        ],
    );
    // A refused recovery reports nothing.
    accept(&mut sb, &[&k(RG)], freeze_account(new));
    reject(&mut sb, &[&k(RG)], recover(A_ACC, new), C::AccountFrozen);
    accept(&mut sb, &[&k(RG)], unfreeze_account(new));
    let r = accept(&mut sb, &[&k(CB)], recover(A_ACC, new));
    assert_eq!(
        r.events,
        vec![
            moved(MoveKind::Recovery(14), A_ACC, new, USD, CASH - 1_000),
            Event::HoldingUnfrozen(A_ACC, USD, 2_500),
            Event::HoldingFrozen(new, USD, 2_500, 14),
            moved(MoveKind::Recovery(14), A_ACC, new, UST_2034, FACE),
            Event::HoldingUnfrozen(A_ACC, UST_2034, FACE),
            Event::HoldingFrozen(new, UST_2034, FACE, 14),
            Event::AccountFrozen(A_ACC, 14),
        ]
    );
    assert_eq!(
        holding(&sb, new, USD),
        Holding {
            balance: CASH,
            held: 0,
            frozen: 400 + 2_500
        }
    );
    assert_eq!(
        holding(&sb, new, UST_2034),
        Holding {
            balance: FACE,
            held: 0,
            frozen: FACE
        }
    );
    assert_eq!(holding(&sb, A_ACC, USD), Holding::default());
    assert_eq!(holding(&sb, A_ACC, UST_2034), Holding::default());
}

// =============================================================================================
// Compliance rules, on the credit and the debit side
// =============================================================================================

#[test]
fn kyc_not_verified_on_both_sides() {
    let mut sb = world();
    for status in [KycStatus::Pending, KycStatus::Rejected] {
        let op = update_profile(&sb, lei(DB), |p| p.kyc.status = status);
        accept(&mut sb, &[&k(CB)], op);
        reject(
            &mut sb,
            &[&k(DA)],
            transfer(A_ACC, B_ACC, USD, 100),
            C::KycNotVerified,
        );
        reject(
            &mut sb,
            &[&k(DB)],
            transfer(B_ACC, A_ACC, USD, 100),
            C::KycNotVerified,
        );
        reject(&mut sb, &[&k(CB)], mint(USD, B_ACC, 100), C::KycNotVerified);
    }
    // An instrument without a KYC requirement still moves.
    accept(
        &mut sb,
        &[&duo1(), &duo2()],
        transfer(DUO_ACC, B_ACC, DUO_TOKEN, 1),
    );
    accept(&mut sb, &[&k(DB)], transfer(B_ACC, A_ACC, DUO_TOKEN, 1));
    let op = update_profile(&sb, lei(DB), |p| p.kyc.status = KycStatus::Verified);
    accept(&mut sb, &[&k(CB)], op);
    accept(&mut sb, &[&k(DB)], transfer(B_ACC, A_ACC, USD, 100));
}

#[test]
fn kyc_expires_on_its_expiry_date() {
    let mut sb = world();
    let tomorrow = Date(sb.time.date().0 + 1);
    let op = update_profile(&sb, lei(DB), |p| p.kyc.expires_on = tomorrow);
    accept(&mut sb, &[&k(CB)], op);
    // Still valid today.
    accept(&mut sb, &[&k(DA)], transfer(A_ACC, B_ACC, USD, 100));
    sb.advance(MS_PER_DAY, &[]);
    assert_eq!(sb.time.date(), tomorrow);
    reject(
        &mut sb,
        &[&k(DA)],
        transfer(A_ACC, B_ACC, USD, 100),
        C::KycExpired,
    );
    reject(
        &mut sb,
        &[&k(DB)],
        transfer(B_ACC, A_ACC, USD, 100),
        C::KycExpired,
    );
    reject(&mut sb, &[&k(CB)], mint(USD, B_ACC, 100), C::KycExpired);
    accept(
        &mut sb,
        &[&duo1(), &duo2()],
        transfer(DUO_ACC, B_ACC, DUO_TOKEN, 1),
    );
    let op = update_profile(&sb, lei(DB), |p| p.kyc.expires_on = date("2031-12-31"));
    accept(&mut sb, &[&k(CB)], op);
    accept(&mut sb, &[&k(DB)], transfer(B_ACC, A_ACC, USD, 100));
    assert_eq!(bal(&sb, B_ACC, USD), CASH);
}

#[test]
fn jurisdiction_is_checked_on_the_credit_side() {
    let mut sb = world();
    let op = update_profile(&sb, lei(DB), |p| p.jurisdiction = country("GB"));
    accept(&mut sb, &[&k(CB)], op);
    reject(
        &mut sb,
        &[&k(DA)],
        transfer(A_ACC, B_ACC, UST_2034, H),
        C::JurisdictionNotAllowed,
    );
    reject(
        &mut sb,
        &[&k(TR)],
        mint(UST_2034, B_ACC, H),
        C::JurisdictionNotAllowed,
    );
    // Cash has no jurisdiction list.
    accept(&mut sb, &[&k(DA)], transfer(A_ACC, B_ACC, USD, 100));
    // A holder that moved abroad may still sell.
    let op = update_profile(&sb, lei(DA), |p| p.jurisdiction = country("GB"));
    accept(&mut sb, &[&k(CB)], op);
    accept(&mut sb, &[&k(DA)], transfer(A_ACC, CU_ACC, UST_2034, H));
    assert_eq!(bal(&sb, CU_ACC, UST_2034), H);
    // Listing the jurisdiction admits it.
    let op = update_policy(&sb, UST_2034, |p| {
        p.allowed_jurisdictions = BoundedVec::new(vec![country("GB"), country("US")]).unwrap()
    });
    accept(&mut sb, &[&k(TR)], op);
    accept(&mut sb, &[&k(CU)], transfer(CU_ACC, B_ACC, UST_2034, H));
}

#[test]
fn investor_class_is_checked_on_the_credit_side() {
    let mut sb = world();
    let (_, retail_key) = onboard(
        &mut sb,
        1,
        &[Role::Investor],
        InvestorClass::Retail,
        AccountId(900),
    );
    reject(
        &mut sb,
        &[&k(DA)],
        transfer(A_ACC, AccountId(900), UST_2034, H),
        C::InvestorClassNotAllowed,
    );
    reject(
        &mut sb,
        &[&k(TR)],
        mint(UST_2034, AccountId(900), H),
        C::InvestorClassNotAllowed,
    );
    accept(
        &mut sb,
        &[&k(DA)],
        transfer(A_ACC, AccountId(900), USD, 1_000),
    );
    // A holder reclassified as retail may still sell.
    let op = update_profile(&sb, lei(DA), |p| p.investor_class = InvestorClass::Retail);
    accept(&mut sb, &[&k(CB)], op);
    accept(&mut sb, &[&k(DA)], transfer(A_ACC, B_ACC, UST_2034, H));
    accept(
        &mut sb,
        &[&retail_key],
        transfer(AccountId(900), B_ACC, USD, 1_000),
    );
    assert_eq!(bal(&sb, B_ACC, USD), CASH + 1_000);
}

#[test]
fn max_balance_is_checked_on_the_credit_side() {
    let mut sb = world();
    let op = update_policy(&sb, UST_2034, |p| p.max_balance_per_holder = Some(300 * H));
    accept(&mut sb, &[&k(TR)], op);
    // Up to the maximum exactly.
    accept(
        &mut sb,
        &[&k(DA)],
        transfer(A_ACC, B_ACC, UST_2034, 300 * H),
    );
    reject(
        &mut sb,
        &[&k(DA)],
        transfer(A_ACC, B_ACC, UST_2034, H),
        C::MaxBalanceExceeded,
    );
    reject(
        &mut sb,
        &[&k(TR)],
        mint(UST_2034, B_ACC, H),
        C::MaxBalanceExceeded,
    );
    // A holder already above the maximum may still sell down.
    accept(
        &mut sb,
        &[&k(DA)],
        transfer(A_ACC, CU_ACC, UST_2034, 300 * H),
    );
    assert_eq!(bal(&sb, A_ACC, UST_2034), FACE - 600 * H);
}

#[test]
fn max_holders_is_checked_on_the_credit_side() {
    let mut sb = world();
    let op = update_policy(&sb, UST_2034, |p| p.max_holders = Some(2));
    accept(&mut sb, &[&k(TR)], op);
    accept(
        &mut sb,
        &[&k(DA)],
        transfer(A_ACC, B_ACC, UST_2034, 100 * H),
    );
    assert_eq!(holders(&sb, UST_2034), 2);
    reject(
        &mut sb,
        &[&k(DA)],
        transfer(A_ACC, CU_ACC, UST_2034, H),
        C::MaxHoldersExceeded,
    );
    reject(
        &mut sb,
        &[&k(TR)],
        mint(UST_2034, CU_ACC, H),
        C::MaxHoldersExceeded,
    );
    // Existing holders may add to their positions.
    accept(&mut sb, &[&k(DA)], transfer(A_ACC, B_ACC, UST_2034, H));
    // Selling a whole position to a newcomer keeps the count.
    accept(
        &mut sb,
        &[&k(DB)],
        transfer(B_ACC, CU_ACC, UST_2034, 101 * H),
    );
    assert_eq!(holders(&sb, UST_2034), 2);
    assert_eq!(bal(&sb, CU_ACC, UST_2034), 101 * H);
    assert_totals(&sb, UST_2034);
}

#[test]
fn max_holders_refuses_only_a_credit_that_adds_a_holder() {
    let mut sb = world();
    accept_all(
        &mut sb,
        &[&k(DA)],
        vec![
            transfer(A_ACC, B_ACC, UST_2034, 100 * H),
            transfer(A_ACC, CU_ACC, UST_2034, 100 * H),
        ],
    );
    assert_eq!(holders(&sb, UST_2034), 3);
    // The issuer lowers the cap below the number of holders.
    let op = update_policy(&sb, UST_2034, |p| p.max_holders = Some(2));
    accept(&mut sb, &[&k(TR)], op);
    // Existing holders still receive: by transfer, mint, settlement and hold release.
    accept(&mut sb, &[&k(DA)], transfer(A_ACC, B_ACC, UST_2034, H));
    accept(&mut sb, &[&k(TR)], mint(UST_2034, CU_ACC, H));
    accept(
        &mut sb,
        &[&k(DB), &k(CU)],
        settle(&[
            leg(B_ACC, CU_ACC, UST_2034, H),
            leg(CU_ACC, A_ACC, UST_2034, H),
        ]),
    );
    let at = sb.time.plus_ms(60_000);
    accept(
        &mut sb,
        &[&k(DA)],
        place_hold(1, leg(A_ACC, B_ACC, UST_2034, H), None, at),
    );
    accept(&mut sb, &[&k(DA)], release(1, None));
    assert_eq!(holders(&sb, UST_2034), 3);
    // A newcomer does not.
    reject(
        &mut sb,
        &[&k(DA)],
        transfer(A_ACC, TR_ACC, UST_2034, H),
        C::MaxHoldersExceeded,
    );
    reject(
        &mut sb,
        &[&k(TR)],
        mint(UST_2034, TR_ACC, H),
        C::MaxHoldersExceeded,
    );
    reject(
        &mut sb,
        &[&k(DA)],
        place_hold(2, leg(A_ACC, TR_ACC, UST_2034, H), None, at),
        C::MaxHoldersExceeded,
    );
    // A whole position changing hands does not grow the count.
    let whole = bal(&sb, CU_ACC, UST_2034);
    accept(
        &mut sb,
        &[&k(CU)],
        transfer(CU_ACC, TR_ACC, UST_2034, whole),
    );
    assert_eq!(holders(&sb, UST_2034), 3);
    assert_totals(&sb, UST_2034);
}

#[test]
fn lock_up_is_checked_on_the_debit_side_until_its_instant() {
    let mut sb = world();
    let until = sb.time.plus_ms(10_000);
    let op = update_policy(&sb, UST_2034, |p| p.lockup_until = Some(until));
    accept(&mut sb, &[&k(TR)], op);
    reject(
        &mut sb,
        &[&k(DA)],
        transfer(A_ACC, B_ACC, UST_2034, H),
        C::LockedUp,
    );
    reject(
        &mut sb,
        &[&k(DA)],
        place_hold(1, leg(A_ACC, B_ACC, UST_2034, H), None, until),
        C::LockedUp,
    );
    // Credits are fine during the lock-up.
    accept(&mut sb, &[&k(TR)], mint(UST_2034, B_ACC, H));
    // The next block lands exactly on the lock-up's end.
    let to_until = until.0 - sb.time.0 - 1_000;
    sb.advance(to_until, &[]);
    accept(&mut sb, &[&k(DA)], transfer(A_ACC, B_ACC, UST_2034, H));
    assert_eq!(bal(&sb, B_ACC, UST_2034), 2 * H);
}

#[test]
fn a_paused_instrument_moves_on_neither_side() {
    let mut sb = world();
    accept(&mut sb, &[&k(TR)], pause(UST_2034));
    reject(
        &mut sb,
        &[&k(DA)],
        transfer(A_ACC, B_ACC, UST_2034, H),
        C::InstrumentPaused,
    );
    reject(
        &mut sb,
        &[&k(TR)],
        mint(UST_2034, B_ACC, H),
        C::InstrumentPaused,
    );
    reject(
        &mut sb,
        &[&k(DA), &k(DB)],
        settle(&dvp_legs(H, 100)),
        C::InstrumentPaused,
    );
    let at = sb.time.plus_ms(60_000);
    reject(
        &mut sb,
        &[&k(DA)],
        place_hold(1, leg(A_ACC, B_ACC, UST_2034, H), None, at),
        C::InstrumentPaused,
    );
    // Other instruments still move.
    accept(&mut sb, &[&k(DA)], transfer(A_ACC, B_ACC, USD, 100));
    accept(&mut sb, &[&k(TR)], unpause(UST_2034));
    accept(&mut sb, &[&k(DA)], transfer(A_ACC, B_ACC, UST_2034, H));
}

#[test]
fn a_frozen_account_is_neither_debited_nor_credited() {
    let mut sb = world();
    accept(&mut sb, &[&k(RG)], freeze_account(B_ACC));
    reject(
        &mut sb,
        &[&k(DB)],
        transfer(B_ACC, A_ACC, USD, 100),
        C::AccountFrozen,
    );
    reject(
        &mut sb,
        &[&k(DA)],
        transfer(A_ACC, B_ACC, UST_2034, H),
        C::AccountFrozen,
    );
    reject(
        &mut sb,
        &[&k(TR)],
        mint(UST_2034, B_ACC, H),
        C::AccountFrozen,
    );
    let at = sb.time.plus_ms(60_000);
    reject(
        &mut sb,
        &[&k(DA)],
        place_hold(1, escrow_leg(), None, at),
        C::AccountFrozen,
    );
    // Its other accounts are unaffected.
    accept(&mut sb, &[&k(DB)], open(AccountId(401), lei(DB)));
    accept(
        &mut sb,
        &[&k(DA)],
        transfer(A_ACC, AccountId(401), USD, 100),
    );
}

#[test]
fn a_suspended_holder_is_neither_debited_nor_credited() {
    let mut sb = world();
    accept(&mut sb, &[&k(RG)], suspend(lei(DB)));
    // Credit side.
    reject(
        &mut sb,
        &[&k(DA)],
        transfer(A_ACC, B_ACC, USD, 100),
        C::HolderSuspended,
    );
    reject(
        &mut sb,
        &[&k(CB)],
        mint(USD, B_ACC, 100),
        C::HolderSuspended,
    );
    let at = sb.time.plus_ms(60_000);
    reject(
        &mut sb,
        &[&k(DA)],
        place_hold(1, escrow_leg(), None, at),
        C::HolderSuspended,
    );
    // Debit side: the holder itself cannot act, and a forced debit is the regulator's.
    reject_suspended(&mut sb, &[&k(DB)], transfer(B_ACC, A_ACC, USD, 100));
    accept(&mut sb, &[&k(RG)], forced(leg(B_ACC, A_ACC, USD, 100)));
    assert_eq!(bal(&sb, B_ACC, USD), CASH - 100);
    // (The debit-side HolderSuspended through a hash-lock release or a match is covered by
    // `release_rechecks_compliance_on_both_sides` and
    // `matching_rechecks_compliance_and_keeps_the_first_half`.)
}

// =============================================================================================
// Supply invariants across a lifecycle
// =============================================================================================

#[test]
fn supply_and_holders_follow_mint_transfer_and_burn() {
    let mut sb = world();
    let steps: Vec<(PrivateKey, Operation, Amount, u64)> = vec![
        (
            k(TR),
            mint(UST_2034, TR_ACC, 2_000 * H),
            FACE + 2_000 * H,
            2,
        ),
        (
            k(TR),
            transfer(TR_ACC, B_ACC, UST_2034, 500 * H),
            FACE + 2_000 * H,
            3,
        ),
        (
            k(TR),
            transfer(TR_ACC, CU_ACC, UST_2034, 1_500 * H),
            FACE + 2_000 * H,
            3,
        ),
        (k(TR), mint(UST_2034, TR_ACC, 100 * H), FACE + 2_100 * H, 4),
        (k(TR), burn(UST_2034, TR_ACC, 40 * H), FACE + 2_060 * H, 4),
        (
            k(DB),
            transfer(B_ACC, TR_ACC, UST_2034, 500 * H),
            FACE + 2_060 * H,
            3,
        ),
        (k(TR), burn(UST_2034, TR_ACC, 560 * H), FACE + 1_500 * H, 2),
    ];
    for (signer, op, want_supply, want_holders) in steps {
        accept(&mut sb, &[&signer], op);
        assert_eq!(supply(&sb, UST_2034), want_supply);
        assert_eq!(holders(&sb, UST_2034), want_holders);
        assert_totals(&sb, UST_2034);
    }
    assert_eq!(bal(&sb, TR_ACC, UST_2034), 0);
    assert_eq!(bal(&sb, CU_ACC, UST_2034), 1_500 * H);
}

#[test]
fn escrowing_a_whole_position_to_a_newcomer_counts_holders_like_a_transfer() {
    let mut sb = world();
    let op = update_policy(&sb, UST_2034, |p| p.max_holders = Some(1));
    accept(&mut sb, &[&k(TR)], op);
    // Dealer A, the only holder, sells its whole position: the holder count stays 1.
    let deadline = sb.time.plus_ms(60_000);
    accept(
        &mut sb,
        &[&k(DA)],
        place_hold(1, leg(A_ACC, B_ACC, UST_2034, FACE), None, deadline),
    );
    accept(&mut sb, &[&k(DA)], release(1, None));
    assert_eq!(bal(&sb, B_ACC, UST_2034), FACE);
    assert_eq!(holders(&sb, UST_2034), 1);
    // Part of a position would add a holder: refused up front.
    let deadline = sb.time.plus_ms(60_000);
    reject(
        &mut sb,
        &[&k(DB)],
        place_hold(2, leg(B_ACC, A_ACC, UST_2034, H), None, deadline),
        C::MaxHoldersExceeded,
    );
    assert_totals(&sb, UST_2034);
}

// ---- remote ledgers -------------------------------------------------------------------

/// The BLS12-381 G2 generator, compressed: a valid group key.
const G2_GENERATOR: &str = "93e02b6052719f607dacd3a088274f65596bd0d09920b61ab5da61bbdc7f5049334cf11213945d57e5ac7d055d042b7e024aa2b2f08f0a91260805272dc51051c6e47ad4fa403b02b4510b647ae3d1770bac0326a805bbefd48056c8c121bdb8";

fn group_key() -> GroupKey {
    let bytes: Vec<u8> = (0..G2_GENERATOR.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&G2_GENERATOR[i..i + 2], 16).unwrap())
        .collect();
    GroupKey::from_bytes(&bytes).unwrap()
}

fn register_remote(chain: &ChainId, name: &str) -> Operation {
    Operation::RegisterRemoteLedger(RegisterRemoteLedger {
        chain: chain.clone(),
        name: Text::new(name).unwrap(),
        scheme: CertScheme::ThresholdMinSigVrf,
        namespace: Text::new("TALLY_CONSENSUS_V1").unwrap(),
        group_key: group_key(),
    })
}

#[test]
fn remote_ledgers_register_under_dual_control_and_any_supervisor_suspends_them() {
    let mut sb = world();
    let eur = ChainId::new("tally-eur").unwrap();
    let suspend = |c: &ChainId| SuspendRemoteLedger { chain: c.clone() };
    let resume = |c: &ChainId| ResumeRemoteLedger { chain: c.clone() };
    let remote = |sb: &Sandbox| StateReader(&sb.store).remote_ledger(&eur);

    // Registration: an operator and a regulator, never one alone, never a participant.
    reject(
        &mut sb,
        &[&k(CB)],
        register_remote(&eur, "Euro"),
        C::Unauthorized,
    );
    reject(
        &mut sb,
        &[&k(RG)],
        register_remote(&eur, "Euro"),
        C::Unauthorized,
    );
    reject(
        &mut sb,
        &[&k(DA)],
        register_remote(&eur, "Euro"),
        C::Unauthorized,
    );
    assert!(remote(&sb).is_none(), "a refusal changes nothing");
    let r = accept(
        &mut sb,
        &[&k(CB), &k(RG)],
        register_remote(&eur, "Euro ledger"),
    );
    assert_eq!(r.events, vec![Event::RemoteLedgerRegistered(eur.clone())]);
    let rec = remote(&sb).expect("registered");
    assert_eq!(rec.name.as_str(), "Euro ledger");
    assert_eq!(rec.group_key, group_key());
    assert!(!rec.suspended);
    let both = [&k(CB), &k(RG)];
    reject(
        &mut sb,
        &both,
        register_remote(&eur, "Again"),
        C::RemoteLedgerExists,
    );
    let own = sb.chain();
    reject(
        &mut sb,
        &both,
        register_remote(&own, "Me"),
        C::InvalidRemoteLedger,
    );
    let usd = ChainId::new("tally-usd").unwrap();
    reject(
        &mut sb,
        &both,
        register_remote(&usd, ""),
        C::InvalidRemoteLedger,
    );
    // A group key that is not a G2 point decodes (bytes only) and is refused here.
    let mut bad = group_key().as_bytes().to_owned();
    bad[50] ^= 1;
    let Operation::RegisterRemoteLedger(mut op) = register_remote(&usd, "Dollar") else {
        unreachable!()
    };
    op.group_key = GroupKey::from_raw(bad);
    reject(&mut sb, &both, op, C::InvalidRemoteLedger);
    assert!(StateReader(&sb.store).remote_ledger(&usd).is_none());

    // Suspension: any supervisor alone; resumption: dual control again.
    reject(&mut sb, &[&k(DA)], suspend(&eur), C::Unauthorized);
    let r = accept(&mut sb, &[&k(RG)], suspend(&eur));
    assert_eq!(r.events, vec![Event::RemoteLedgerSuspended(eur.clone())]);
    assert!(remote(&sb).unwrap().suspended);
    reject(&mut sb, &[&k(CB)], suspend(&eur), C::RemoteLedgerSuspended);
    reject(&mut sb, &[&k(CB)], resume(&eur), C::Unauthorized);
    let r = accept(&mut sb, &both, resume(&eur));
    assert_eq!(r.events, vec![Event::RemoteLedgerResumed(eur.clone())]);
    assert!(!remote(&sb).unwrap().suspended);
    reject(&mut sb, &both, resume(&eur), C::RemoteLedgerSuspended);
    reject(&mut sb, &[&k(CB)], suspend(&usd), C::RemoteLedgerNotFound);
}
