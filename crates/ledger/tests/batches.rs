//! Institution batches: one signature over many transfers, each with its own result
//! code, linked chains all or none, and nothing else moved.

use tally_ledger::demo::{HUNDRED_DOLLARS, Sandbox, USD, UST_2034, member};
use tally_ledger::schema;
use tally_ledger::{Event, MoveKind, StateReader, Store as _};
use tally_types::codec::BoundedVec;
use tally_types::limits::MAX_BATCH_TRANSFERS;
use tally_types::model::Leg;
use tally_types::ops::{BatchTransfer, Transfer, TransferBatch};
use tally_types::{AccountId, Amount, InstrumentId, Operation, ResultCode as C};

const A: AccountId = AccountId(300);
const B: AccountId = AccountId(400);
const CUSTODIAN: AccountId = AccountId(500);

fn t(from: AccountId, to: AccountId, instrument: InstrumentId, amount: Amount) -> BatchTransfer {
    BatchTransfer {
        leg: Leg {
            from,
            to,
            instrument,
            amount,
        },
        linked: false,
    }
}

fn linked(mut bt: BatchTransfer) -> BatchTransfer {
    bt.linked = true;
    bt
}

fn batch(transfers: Vec<BatchTransfer>) -> Operation {
    Operation::TransferBatch(TransferBatch {
        transfers: BoundedVec::new(transfers).unwrap(),
    })
}

fn balances(sb: &Sandbox) -> Vec<u128> {
    let r = StateReader(&sb.store);
    [A, B, CUSTODIAN]
        .iter()
        .flat_map(|&acc| [r.balance(acc, USD), r.balance(acc, UST_2034)])
        .collect()
}

#[test]
fn each_transfer_gets_its_own_code_and_linked_chains_apply_all_or_none() {
    let mut sb = Sandbox::demo();
    let a = member("dealer-a").key();
    let before = balances(&sb);
    let cash = StateReader(&sb.store).balance(A, USD);
    let transfers = vec![
        t(A, B, USD, 100),                          // 0 applies
        t(A, B, USD, cash + 1),                     // 1 insufficient: refused alone
        t(A, A, USD, 5),                            // 2 same account
        linked(t(A, B, USD, 7)),                    // 3 chain 3..=5 applies
        linked(t(A, B, UST_2034, HUNDRED_DOLLARS)), // 4
        t(A, CUSTODIAN, USD, 9),                    // 5
        linked(t(A, B, USD, 11)),                   // 6 chain 6..=8 fails at 7
        linked(t(A, B, UST_2034, 1)),               // 7 not a multiple of $100
        t(A, B, USD, 13),                           // 8 (unlinked: closes the chain)
        t(B, A, USD, 17),                           // 9 B did not approve
        t(A, AccountId(9_999), USD, 1),             // 10 no such account
        linked(t(A, B, USD, 19)),                   // 11 open chain at the end
        linked(t(A, B, USD, 23)),                   // 12
    ];
    let r = sb.submit(&[&a], vec![batch(transfers)]);
    assert_eq!(r.code, C::Ok, "{r:?}");
    let result = r
        .batch
        .clone()
        .expect("a batch reports per-transfer outcomes");
    let codes: Vec<C> = (0..13).map(|i| result.code_of(i)).collect();
    assert_eq!(
        codes,
        vec![
            C::Ok,
            C::InsufficientBalance,
            C::SameAccount,
            C::Ok,
            C::Ok,
            C::Ok,
            C::LinkedChainFailed,
            C::NotMultipleOfIncrement,
            C::LinkedChainFailed,
            C::Unauthorized,
            C::AccountNotFound,
            C::LinkedChainOpen,
            C::LinkedChainOpen,
        ]
    );
    // The record in the state says the same, so it can be proven.
    assert_eq!(
        StateReader(&sb.store).batch_result(&r.tx_id),
        Some(result),
        "per-transfer outcomes recorded"
    );
    // Exactly transfers 0, 3, 4 and 5 moved, and nothing of the failed chain 6..=8.
    let moved: Vec<(AccountId, AccountId, InstrumentId, Amount)> = r
        .events
        .iter()
        .map(|e| match e {
            Event::Moved {
                kind: MoveKind::Transfer,
                from: Some(f),
                to: Some(t),
                instrument,
                amount,
            } => (*f, *t, *instrument, *amount),
            other => panic!("unexpected event {other:?}"),
        })
        .collect();
    assert_eq!(
        moved,
        vec![
            (A, B, USD, 100),
            (A, B, USD, 7),
            (A, B, UST_2034, HUNDRED_DOLLARS),
            (A, CUSTODIAN, USD, 9),
        ]
    );
    let after = balances(&sb);
    let want = [
        before[0] - 116,
        before[1] - HUNDRED_DOLLARS,
        before[2] + 107,
        before[3] + HUNDRED_DOLLARS,
        before[4] + 9,
        before[5],
    ];
    assert_eq!(after, want);
}

#[test]
fn a_failed_chain_leaves_the_state_as_if_it_were_absent() {
    // The same batch with and without a chain that fails at its last transfer reach the
    // same state, apart from the records keyed by transaction id (receipt, batch result).
    let a = member("dealer-a").key();
    let ok = vec![t(A, B, USD, 100), t(A, CUSTODIAN, USD, 5)];
    let mut with_chain = ok.clone();
    with_chain.insert(
        1,
        // would make the custodian a holder of the note (holder index, holder count) ...
        linked(t(A, CUSTODIAN, UST_2034, HUNDRED_DOLLARS)),
    );
    with_chain.insert(2, linked(t(A, CUSTODIAN, USD, 3)));
    with_chain.insert(3, t(A, B, USD, 1 << 100)); // ... but the chain fails here
    let mut sb1 = Sandbox::demo();
    let r1 = sb1.submit(&[&a], vec![batch(ok)]);
    let mut sb2 = Sandbox::demo();
    let r2 = sb2.submit(&[&a], vec![batch(with_chain)]);
    assert_eq!((r1.code, r2.code), (C::Ok, C::Ok));
    assert_eq!(balances(&sb1), balances(&sb2));
    let failures = &r2.batch.as_ref().unwrap().failures;
    let codes: Vec<(u16, u16)> = failures.iter().map(|f| (f.index, f.code)).collect();
    assert_eq!(
        codes,
        vec![
            (1, C::LinkedChainFailed.code()),
            (2, C::LinkedChainFailed.code()),
            (3, C::InsufficientBalance.code()),
        ]
    );
    // Every other table is identical: holdings, the holder index, the instrument's
    // holder count, the nonce, the block metadata.
    let rest = |sb: &Sandbox| {
        sb.store
            .scan(&[], &[0xff; 64], usize::MAX)
            .into_iter()
            .filter(|(k, _)| k[0] != schema::tag::RECEIPT && k[0] != schema::tag::BATCH_RESULT)
            .collect::<Vec<_>>()
    };
    assert_eq!(rest(&sb1), rest(&sb2));
    assert!(
        StateReader(&sb1.store)
            .holders(UST_2034, usize::MAX)
            .iter()
            .all(|&h| h != CUSTODIAN),
        "the rolled-back chain left no holder behind"
    );
}

#[test]
fn a_batch_must_be_alone_and_not_empty() {
    let mut sb = Sandbox::demo();
    let a = member("dealer-a").key();
    let before = balances(&sb);
    let r = sb.submit(&[&a], vec![batch(vec![])]);
    assert_eq!((r.code, r.failed_op), (C::InvalidBatch, Some(0)));
    let transfer = Operation::Transfer(Transfer {
        leg: Leg {
            from: A,
            to: B,
            instrument: USD,
            amount: 1,
        },
    });
    let r = sb.submit(&[&a], vec![transfer, batch(vec![t(A, B, USD, 1)])]);
    assert_eq!((r.code, r.failed_op), (C::InvalidBatch, Some(1)));
    assert!(r.events.is_empty() && r.batch.is_none());
    assert_eq!(balances(&sb), before, "a refused batch moves nothing");
}

#[test]
fn one_signature_covers_a_full_batch_of_two_owners() {
    // Dealer A and dealer B both approve once; 8,190 transfers alternate between them.
    let mut sb = Sandbox::demo();
    let (a, b) = (member("dealer-a").key(), member("dealer-b").key());
    let before = balances(&sb);
    let transfers: Vec<BatchTransfer> = (0..MAX_BATCH_TRANSFERS)
        .map(|i| {
            if i % 2 == 0 {
                t(A, B, USD, 3)
            } else {
                t(B, A, USD, 2)
            }
        })
        .collect();
    let r = sb.submit(&[&a, &b], vec![batch(transfers)]);
    assert_eq!(r.code, C::Ok);
    let result = r.batch.unwrap();
    assert_eq!(usize::from(result.transfers), MAX_BATCH_TRANSFERS);
    assert!(result.failures.is_empty(), "{:?}", &result.failures[..1]);
    assert_eq!(r.events.len(), MAX_BATCH_TRANSFERS);
    let half = (MAX_BATCH_TRANSFERS / 2) as u128;
    let after = balances(&sb);
    assert_eq!(after[0], before[0] - half * 3 + half * 2);
    assert_eq!(after[2], before[2] + half * 3 - half * 2);
}
