//! End to end on the pure ledger: the Treasury issues a new note, sells it to a dealer
//! delivery-versus-payment, and two dealers settle a trade by matching instructions.
//!
//! Run with `cargo run -p tally-ledger --example treasury_dvp`.

use tally_ledger::demo::{self, HUNDRED_DOLLARS, Sandbox, USD, member};
use tally_ledger::{Commit, Receipt, StateReader};
use tally_types::amount::format_amount;
use tally_types::codec::{BoundedVec, Text};
use tally_types::model::{CouponTerms, DayCount, InstrumentKind, Leg, SecurityIds};
use tally_types::ops::{Instruct, Mint, Settle};
use tally_types::{Cusip, Date, InstrumentId, Isin, Operation, Rate};

const NEW_NOTE: InstrumentId = InstrumentId(3);

fn show(step: &str, r: &Receipt) {
    println!("{step}");
    println!("  tx {}  -> {}", r.tx_id, r.code);
    for e in &r.events {
        println!("    {e:?}");
    }
}

fn main() {
    let mut sb = Sandbox::demo();
    let treasury = member("treasury");
    let (dealer_a, dealer_b) = (member("dealer-a"), member("dealer-b"));
    println!("genesis root {}", sb.root());

    // 1. The Treasury creates a 10-year note and mints $25m face into its own account.
    let mut note = demo::treasury_note();
    note.instrument = NEW_NOTE;
    note.name = Text::new("UST 4.25% 15-Nov-2035").expect("name");
    note.ids = SecurityIds {
        isin: Some(Isin::parse("US91282CKZ31").expect("isin")),
        cusip: Some(Cusip::parse("91282CKZ3").expect("cusip")),
    };
    note.kind = InstrumentKind::TreasuryNote(CouponTerms {
        coupon_rate: Rate::parse_percent("4.25").expect("rate"),
        dated_date: Date::parse("2025-11-15").expect("date"),
        maturity_date: Date::parse("2035-11-15").expect("date"),
        frequency: 2,
        day_count: DayCount::ActActIcma,
    });
    let face = 25_000_000 * 100;
    let r = sb.submit(
        &[&treasury.key()],
        vec![
            Operation::CreateInstrument(note),
            Operation::Mint(Mint {
                instrument: NEW_NOTE,
                to: treasury.account,
                amount: face,
            }),
        ],
    );
    show(
        "1. Treasury issues UST 4.25% 2035 and mints $25,000,000 face",
        &r,
    );

    // 2. DvP: dealer A buys $10m face at 99.50 — both legs in one transaction, both
    //    payers approve; the note and the cash move together or not at all.
    let bought = 10_000_000 * 100;
    let price = bought / 10_000 * 9_950; // 99.50% of face, in cents
    let legs = vec![
        Leg {
            from: treasury.account,
            to: dealer_a.account,
            instrument: NEW_NOTE,
            amount: bought,
        },
        Leg {
            from: dealer_a.account,
            to: treasury.account,
            instrument: USD,
            amount: price,
        },
    ];
    let r = sb.submit(
        &[&dealer_a.key(), &treasury.key()],
        vec![Operation::Settle(Settle {
            legs: BoundedVec::new(legs).expect("two legs"),
        })],
    );
    show(
        "2. DvP: dealer A buys $10,000,000 face at 99.50 from the Treasury",
        &r,
    );

    // 3. Dealer A sells $2m face to dealer B at 99.75 by matching instructions: each side
    //    sends its half; the second half settles both legs.
    let sold = 2_000_000 * 100;
    assert_eq!(sold % HUNDRED_DOLLARS, 0);
    let trade = Instruct {
        trade_ref: Text::new("TRD-2026-11-23-0001").expect("ref"),
        legs: BoundedVec::new(vec![
            Leg {
                from: dealer_a.account,
                to: dealer_b.account,
                instrument: NEW_NOTE,
                amount: sold,
            },
            Leg {
                from: dealer_b.account,
                to: dealer_a.account,
                instrument: USD,
                amount: sold / 10_000 * 9_975,
            },
        ])
        .expect("two legs"),
        expires_at: sb.time.plus_ms(3_600_000),
    };
    let r = sb.submit(&[&dealer_a.key()], vec![Operation::Instruct(trade.clone())]);
    show(
        "3a. dealer A instructs its side (its note leg is now held)",
        &r,
    );
    let r = sb.submit(&[&dealer_b.key()], vec![Operation::Instruct(trade)]);
    show("3b. dealer B instructs its side: matched and settled", &r);

    let state = StateReader(&sb.store);
    println!("positions:");
    for m in [treasury, dealer_a, dealer_b] {
        println!(
            "  {:<10} note {:>16}  cash {:>16}",
            m.name,
            format_amount(state.balance(m.account, NEW_NOTE), 2),
            format_amount(state.balance(m.account, USD), 2),
        );
    }
    let supply = state
        .instrument(NEW_NOTE)
        .map(|i| i.total_supply)
        .unwrap_or(0);
    println!(
        "note supply {}  state root {}",
        format_amount(supply, 2),
        sb.store.root()
    );
}
