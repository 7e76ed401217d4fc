//! Seeded fuzzing in the test suite: mutated encodings of real transactions and random
//! bytes go through the decoders, verification and `apply_block`; nothing may panic, and
//! the supply invariant holds afterwards. `TALLY_FUZZ_ITERS` raises the iteration count;
//! `fuzz/` holds the same entry point as a cargo-fuzz target for open-ended runs.

use commonware_codec::Encode as _;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use tally_ledger::StateReader;
use tally_ledger::demo::{self, Sandbox, USD, UST_2034, member};
use tally_ledger::fuzz::decode_and_apply;
use tally_types::codec::{BoundedVec, Text};
use tally_types::model::Leg;
use tally_types::ops::*;
use tally_types::{Hash32, HoldId, Operation, Transaction};

fn corpus(sb: &mut Sandbox) -> Vec<Vec<u8>> {
    let a = member("dealer-a");
    let b = member("dealer-b");
    let leg = |from, to, instrument, amount| Leg {
        from,
        to,
        instrument,
        amount,
    };
    let ops: Vec<Operation> = vec![
        Operation::Transfer(Transfer {
            leg: leg(a.account, b.account, USD, 1_000),
        }),
        Operation::Settle(Settle {
            legs: BoundedVec::new(vec![
                leg(a.account, b.account, UST_2034, 10_000),
                leg(b.account, a.account, USD, 9_950),
            ])
            .unwrap(),
        }),
        Operation::Instruct(Instruct {
            trade_ref: Text::new("X1").unwrap(),
            legs: BoundedVec::new(vec![leg(a.account, b.account, UST_2034, 10_000)]).unwrap(),
            expires_at: sb.time.plus_ms(10_000),
        }),
        Operation::PlaceHold(PlaceHold {
            hold: HoldId(1),
            leg: leg(a.account, b.account, USD, 5),
            hash_lock: Some(Hash32::digest(&[b"x"])),
            deadline: sb.time.plus_ms(5_000),
        }),
        Operation::Mint(Mint {
            instrument: USD,
            to: a.account,
            amount: 77,
        }),
        Operation::FreezeHolding(FreezeHolding {
            account: a.account,
            instrument: USD,
            amount: 3,
            reason: 1,
        }),
        Operation::CreateInstrument(demo::treasury_note()),
        demo::register(
            tally_types::Lei::with_check_digits("TALLYFZ0000000000Z").unwrap(),
            "Fuzz Co",
            &[tally_types::model::Role::Investor],
            tally_types::model::InvestorClass::Retail,
            &a.key(),
        ),
    ];
    let mut out = Vec::new();
    for op in ops {
        let tx = sb.sign(&[&a.key()], vec![op]);
        out.push(tx.signed().encode().to_vec());
        let unsigned: &Transaction = tx.tx();
        let mut raw = vec![2u8];
        raw.extend_from_slice(&unsigned.encode());
        out.push(raw);
        sb.unuse_nonce(&a.key());
    }
    out
}

fn mutate(rng: &mut ChaCha20Rng, input: &[u8]) -> Vec<u8> {
    let mut data = input.to_vec();
    for _ in 0..1 + rng.next_u32() % 2 {
        let pos = if data.is_empty() {
            0
        } else {
            (rng.next_u32() as usize) % data.len()
        };
        match rng.next_u32() % 20 {
            0..=5 if !data.is_empty() => data[pos] ^= 1 << (rng.next_u32() % 8),
            6..=11 if !data.is_empty() => data[pos] = rng.next_u32() as u8,
            12..=14 => data.insert(pos, rng.next_u32() as u8),
            15..=17 if !data.is_empty() => {
                data.remove(pos);
            }
            _ => data.truncate(pos),
        }
    }
    data
}

#[test]
fn mutated_and_random_inputs_never_panic() {
    let iters: usize = std::env::var("TALLY_FUZZ_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_500);
    let mut rng = ChaCha20Rng::from_seed([7; 32]);
    let mut sb = Sandbox::demo();
    let seeds = corpus(&mut sb);
    let mut reached = 0;
    for i in 0..iters {
        let data = if i % 10 == 0 {
            let len = (rng.next_u32() % 300) as usize;
            (0..len).map(|_| rng.next_u32() as u8).collect()
        } else {
            mutate(&mut rng, &seeds[i % seeds.len()])
        };
        reached += decode_and_apply(&mut sb, &data);
    }
    // The mutations must actually exercise execution, not just the decoders.
    assert!(
        reached > iters / 10,
        "only {reached} of {iters} inputs reached apply_block"
    );
    let reader = StateReader(&sb.store);
    for inst in [USD, UST_2034] {
        let rec = reader.instrument(inst).unwrap();
        let total: u128 = tally_ledger::demo::MEMBERS
            .iter()
            .map(|m| reader.balance(m.account, inst))
            .sum();
        assert!(total <= rec.total_supply);
    }
}
