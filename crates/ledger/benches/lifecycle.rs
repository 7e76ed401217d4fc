//! Coupon payment to many holders: one note held by N accounts (default 1,000,000), one
//! coupon, paid by the ledger's scheduled block work at `MAX_LIFECYCLE_WORK_PER_BLOCK`
//! payments per block. Reports the blocks needed, the apply time of the slowest block and
//! the total, then the same for the redemption at maturity (pay and burn).
//!
//! `cargo bench -p tally-ledger --bench lifecycle` (building the 1M-holder world takes a
//! minute); `-- --holders 100000` for a smaller world; `-- --budget 20000` to try another
//! per-block budget. Execution only: the node's merkleization of each block's writes
//! comes on top (see `docs/lifecycle.md`).

use commonware_cryptography::Signer as _;
use std::time::{Duration, Instant};
use tally_ledger::demo::{self, HUNDRED_DOLLARS, Sandbox, USD};
use tally_ledger::schema::DistributionStatus;
use tally_ledger::{Genesis, MemStore, StateReader};
use tally_types::codec::Text;
use tally_types::limits::MAX_LIFECYCLE_WORK_PER_BLOCK;
use tally_types::model::{AccountKind, InstrumentKind, InvestorClass, Role, SecurityIds};
use tally_types::ops::{Mint, OpenAccount, SetServicing};
use tally_types::{AccountId, Date, InstrumentId, Lei, Operation, PrivateKey};

const OWNERS: u64 = 64;

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A one-year 4.125% note: a coupon on 2027-05-15 and maturity on 2027-11-15 (within the
/// demo world's KYC validity).
const NOTE: InstrumentId = InstrumentId(3);

fn world(holders: u64) -> Sandbox {
    let mut g: Genesis = demo::genesis();
    let mut note = demo::treasury_note();
    note.instrument = NOTE;
    note.ids = SecurityIds::default();
    note.name = Text::new("UST 4.125% 15-Nov-2027").expect("name");
    if let InstrumentKind::TreasuryNote(t) = &mut note.kind {
        t.dated_date = Date::parse("2026-11-15").expect("date");
        t.maturity_date = Date::parse("2027-11-15").expect("date");
    }
    g.operations.push(note.into());
    for i in 0..OWNERS {
        let key = PrivateKey::from_seed(70_000 + i);
        let lei = Lei::with_check_digits(&format!("TALLYCPN00{i:08}")).expect("valid prefix");
        g.operations.push(demo::register(
            lei,
            "Coupon Holder",
            &[Role::Investor],
            InvestorClass::QualifiedInstitutional,
            &key,
        ));
    }
    // Every holder owns $100 to $700 of face.
    for a in 0..holders {
        let account = AccountId(2_000_000 + a);
        let i = a % OWNERS;
        let owner = Lei::with_check_digits(&format!("TALLYCPN00{i:08}")).expect("valid");
        g.operations.push(Operation::OpenAccount(OpenAccount {
            account,
            owner,
            kind: AccountKind::Own,
        }));
        g.operations.push(Operation::Mint(Mint {
            instrument: NOTE,
            to: account,
            amount: HUNDRED_DOLLARS * u128::from(1 + a % 7),
        }));
    }
    // Enough reserves for every payment.
    g.operations.push(Operation::Mint(Mint {
        instrument: USD,
        to: demo::member("treasury").account,
        amount: 1_000_000_000_000 * 100,
    }));
    Sandbox::with_genesis(MemStore::new(), &g)
}

/// Applies empty blocks, one second apart, until distribution `seq` is done; returns the
/// number of blocks and each block's apply time.
fn pay(sb: &mut Sandbox, seq: u32) -> Vec<Duration> {
    let mut times = Vec::new();
    loop {
        let done = StateReader(&sb.store)
            .distribution(NOTE, seq)
            .is_some_and(|d| d.status == DistributionStatus::Done);
        if done {
            return times;
        }
        let start = Instant::now();
        sb.block(&[]);
        times.push(start.elapsed());
    }
}

fn report(what: &str, first: Duration, times: &[Duration], holders: u64) {
    let total: Duration = first + times.iter().sum::<Duration>();
    let slowest = times
        .iter()
        .chain([&first])
        .max()
        .copied()
        .unwrap_or_default();
    let per_sec = u128::from(holders) * 1_000_000 / total.as_micros().max(1);
    println!(
        "{what}: {holders} holders, {} blocks, slowest block {} ms, total {} ms ({per_sec} payments/s)",
        times.len() + 1,
        slowest.as_millis(),
        total.as_millis(),
    );
}

fn main() {
    let holders = arg("--holders", 1_000_000);
    let budget = arg("--budget", MAX_LIFECYCLE_WORK_PER_BLOCK as u64) as usize;
    let build = Instant::now();
    let mut sb = world(holders);
    sb.ledger = sb.ledger.clone().with_lifecycle_budget(budget);
    eprintln!(
        "world of {holders} holders built in {:.1} s",
        build.elapsed().as_secs_f64()
    );
    let treasury = demo::member("treasury");
    let r = sb.submit(
        &[&treasury.key()],
        vec![Operation::SetServicing(SetServicing {
            instrument: NOTE,
            paying_account: treasury.account,
            cash_instrument: USD,
        })],
    );
    assert!(r.is_ok(), "servicing: {:?}", r.code);

    // The coupon of 2027-05-15: the first block at its record moment opens it and pays
    // the first `budget` holders.
    let day = |s: &str| Date::parse(s).expect("date").start();
    let start = Instant::now();
    sb.advance(day("2027-05-15").0 - sb.time.0, &[]);
    let first = start.elapsed();
    let times = pay(&mut sb, 0);
    report("coupon", first, &times, holders);
    let d = StateReader(&sb.store)
        .distribution(NOTE, 0)
        .expect("coupon");
    assert_eq!(d.paid + d.unpaid + d.retained, d.gross);
    println!(
        "  gross {} cents, paid {}, retained {} (rounding)",
        d.gross, d.paid, d.retained
    );

    // Redemption at maturity: principal and the last coupon paid, every unit burned.
    let start = Instant::now();
    sb.advance(day("2027-11-15").0 - sb.time.0, &[]);
    let first = start.elapsed();
    let times = pay(&mut sb, 1);
    report("redemption", first, &times, holders);
    let note = StateReader(&sb.store).instrument(NOTE).expect("note");
    assert_eq!(note.total_supply, 0, "the note is burned");
}
