//! A Treasury's life through the `tally` CLI on a real four-validator network: a bill
//! auction announced, bid on by four participants (competitive and noncompetitive), closed
//! by the ledger at its time with a pro-rata stop-out, and issued DvP; then a note that
//! matures today, serviced from the Treasury's account and redeemed (principal plus the
//! last coupon) to its holders of record, with the note burned.

mod common;

use common::*;
use std::time::Duration;
use tally_node::genesis::instrument_entry;
use tally_types::codec::Text;
use tally_types::model::*;
use tally_types::ops::CreateInstrument;
use tally_types::{Date, InstrumentId, Rate, Timestamp};

fn today(cli: &Cli) -> Date {
    let ms = cli.json(&["status"])["finalized_time_ms"].as_u64().unwrap();
    Timestamp(ms).date()
}

#[test]
fn auction_issue_and_redemption_through_the_cli() {
    let net = Net::start("lifecycle-test", 4, 7);
    let work = net.dir.join("lifecycle");
    std::fs::create_dir_all(&work).unwrap();
    let cli = Cli {
        api: net.api().to_string(),
        keys: work.join("keys"),
    };
    cli.ok(&["keys", "install-dev"]);
    let today = today(&cli);

    // A 13-week bill (91 days) issued today, $100 increments, sold by auction 1.
    let bill = CreateInstrument {
        instrument: InstrumentId(60),
        issuer: tally_ledger::demo::member("treasury").lei(),
        name: Text::new("UST 13-week bill").unwrap(),
        ids: SecurityIds::default(),
        scale: 0,
        min_increment: 100,
        kind: InstrumentKind::TreasuryBill {
            issue_date: today,
            maturity_date: Date(today.0 + 91),
        },
        policy: Policy {
            kyc_required: true,
            ..Policy::default()
        },
    };
    let path = write(
        &work,
        "bill.json",
        &serde_json::to_value(instrument_entry(&bill)).unwrap(),
    );
    // The custodian and the central bank's own account need cash to bid.
    cli.ok(&[
        "--key",
        "central-bank",
        "mint",
        "--instrument",
        "1",
        "--to",
        "100",
        "--amount",
        "1000000.00",
    ]);
    cli.ok(&[
        "--key",
        "central-bank",
        "mint",
        "--instrument",
        "1",
        "--to",
        "500",
        "--amount",
        "1000000.00",
    ]);
    cli.ok(&[
        "--key",
        "treasury",
        "auction",
        "announce",
        "--id",
        "1",
        "--new",
        &path,
        "--offering",
        "1000000",
        "--close-in-secs",
        "15",
        "--cash",
        "1",
        "--account",
        "200",
    ]);
    let a = cli.json(&["auction", "show", "1"]);
    assert_eq!(a["status"], "open");
    assert!(a.get("result").is_none() && a.get("bids").is_none(), "{a}");
    assert_eq!(
        cli.json(&["instrument", "show", "60"])["status"],
        "announced"
    );

    // Bids. Cap 35% = $350,000; noncompetitive total ≤ $250,000 (a quarter).
    cli.ok(&[
        "--key",
        "central-bank",
        "auction",
        "bid",
        "1",
        "--account",
        "100",
        "--amount",
        "100000",
    ]);
    cli.ok(&[
        "--key",
        "dealer-a",
        "auction",
        "bid",
        "1",
        "--account",
        "300",
        "--amount",
        "350000",
        "--rate",
        "4.200",
    ]);
    cli.ok(&[
        "--key",
        "dealer-b",
        "auction",
        "bid",
        "1",
        "--account",
        "400",
        "--amount",
        "350000",
        "--rate",
        "4.250",
    ]);
    cli.ok(&[
        "--key",
        "custodian",
        "auction",
        "bid",
        "1",
        "--account",
        "500",
        "--amount",
        "300000",
        "--rate",
        "4.250",
    ]);
    // Refused with the rule named: a rate off the 0.005% tick, mixing bid types.
    let off_tick = cli.fails(
        &[
            "--key",
            "dealer-a",
            "auction",
            "bid",
            "1",
            "--account",
            "300",
            "--amount",
            "100",
            "--rate",
            "4.201",
        ],
        3,
    );
    assert!(off_tick.contains("InvalidBid"), "{off_tick}");
    let mixed = cli.fails(
        &[
            "--key",
            "dealer-a",
            "auction",
            "bid",
            "1",
            "--account",
            "300",
            "--amount",
            "100",
        ],
        3,
    );
    assert!(mixed.contains("MixedBidTypes"), "{mixed}");
    // A bidder sees its own bids only; the issuer sees all.
    let own = cli.json(&["--key", "dealer-b", "auction", "bids", "1"]);
    assert_eq!(own["bids"].as_array().unwrap().len(), 1);
    let all = cli.json(&["--key", "treasury", "auction", "bids", "1"]);
    assert_eq!(all["bids"].as_array().unwrap().len(), 4);
    // Dealer A's $350,000 bid holds $350,000.00 of its reserves (maximum price 100).
    let held = |acc: &str| cli.holding_field(acc, 1, "held");
    assert_eq!(held("300"), "35000000"); // minor units (cents)

    // The ledger closes the auction at its time and issues right after (issue date today).
    wait("the auction to be issued", Duration::from_secs(90), || {
        cli.json(&["auction", "show", "1"])["status"] == "issued"
    });
    let a = cli.json(&["auction", "show", "1"]);
    let r = &a["result"];
    // R = 900,000; below 4.250%: 350,000; at 4.250%: 650,000 for Q = 550,000 →
    // 84.6153…% → 84.62%. Dealer B 350,000 × 84.62% = 296,170 → 296,200; custodian
    // 300,000 × 84.62% = 253,860 → 253,900. Price 100·(1 − 0.0425·91/360) = 98.925694.
    assert_eq!(r["stop_out"], "4.25%");
    assert_eq!(r["allotment_pct"], "84.62");
    assert_eq!(r["price"], "98.925694");
    assert_eq!(r["total_awarded"], "1000100");
    assert_eq!(r["over_allotment"], "100");
    assert_eq!(r["issued"], "1000100");
    let bal = |acc: &str, inst: u64| cli.holding_field(acc, inst, "balance");
    assert_eq!(bal("300", 60), "350000");
    assert_eq!(bal("400", 60), "296200");
    assert_eq!(bal("500", 60), "253900");
    assert_eq!(bal("100", 60), "100000");
    // Dealer A paid 350,000 × 0.98925694 = 346,239.929 → $346,239.93; nothing stays held.
    assert_eq!(bal("300", 1), "4965376007");
    assert_eq!(held("300"), "0");
    assert_eq!(cli.json(&["instrument", "show", "60"])["status"], "active");
    let human = cli.ok(&["auction", "show", "1"]);
    assert!(
        human.contains("stop-out") && human.contains("98.925694"),
        "{human}"
    );

    // A 2-year 4% note that matures today: serviced, it redeems in the next block.
    let note = CreateInstrument {
        instrument: InstrumentId(61),
        issuer: tally_ledger::demo::member("treasury").lei(),
        name: Text::new("UST 4% note maturing today").unwrap(),
        ids: SecurityIds::default(),
        scale: 0,
        min_increment: 100,
        kind: InstrumentKind::TreasuryNote(CouponTerms {
            coupon_rate: Rate::parse_percent("4").unwrap(),
            dated_date: tally_ledger::coupons::coupon_date(today, 4).unwrap(),
            maturity_date: today,
            frequency: 2,
            day_count: DayCount::ActActIcma,
        }),
        policy: Policy::default(),
    };
    let path = write(
        &work,
        "note.json",
        &serde_json::to_value(instrument_entry(&note)).unwrap(),
    );
    cli.ok(&["--key", "treasury", "instrument", "create", "--file", &path]);
    cli.ok(&[
        "--key",
        "treasury",
        "mint",
        "--instrument",
        "61",
        "--to",
        "400",
        "--amount",
        "250000",
    ]);
    let cash_before = bal("400", 1);
    cli.ok(&[
        "--key",
        "treasury",
        "servicing",
        "set",
        "61",
        "--account",
        "200",
        "--cash",
        "1",
    ]);
    wait("the redemption", Duration::from_secs(60), || {
        cli.json(&["servicing", "show", "61"])["distributions"]
            .as_array()
            .is_some_and(|d| {
                d.iter()
                    .any(|x| x["kind"] == "redemption" && x["status"] == "done")
            })
    });
    let s = cli.json(&["servicing", "show", "61"]);
    let d = &s["distributions"][0];
    // $250,000 × (1 + 4%/2) = $255,000.00, in cents.
    assert_eq!(d["paid"], "25500000");
    assert_eq!(d["holders"], 1);
    assert_eq!(s["status"], "matured");
    let cents = |s: &str| s.parse::<u128>().unwrap();
    assert_eq!(cents(&bal("400", 1)) - cents(&cash_before), 25_500_000);
    let inst = cli.json(&["instrument", "show", "61"]);
    assert_eq!(
        (inst["total_supply"].as_str(), inst["holder_count"].as_u64()),
        (Some("0"), Some(0))
    );
    let human = cli.ok(&["servicing", "show", "61"]);
    assert!(
        human.contains("redemption") && human.contains("done"),
        "{human}"
    );

    // STRIPS of the demo note (4.125% 2034): components created in one transaction.
    cli.ok(&[
        "--key",
        "treasury",
        "strips",
        "enable",
        "US91282CJL63",
        "--first-id",
        "100",
    ]);
    let st = cli.json(&["strips", "show", "US91282CJL63"]);
    assert_eq!(st["principal_component"], 100);
    let interest = st["interest"].as_array().unwrap().clone();
    assert!(
        interest.len() >= 16 && interest.iter().all(|x| x["component"].is_u64()),
        "{st}"
    );
    // $1,000,000 of face stripped: each coupon component gets $20,625.00 (cents units).
    cli.ok(&[
        "--key",
        "dealer-a",
        "strips",
        "strip",
        "2",
        "--account",
        "300",
        "--amount",
        "1000000.00",
    ]);
    assert_eq!(bal("300", 2), "900000000");
    assert_eq!(bal("300", 100), "100000000");
    let first = interest[0]["component"].as_u64().unwrap();
    assert_eq!(bal("300", first), "2062500");
    // $100 is not a whole coupon component: refused with its rule.
    let odd = cli.fails(
        &[
            "--key",
            "dealer-a",
            "strips",
            "strip",
            "2",
            "--account",
            "300",
            "--amount",
            "100.00",
        ],
        3,
    );
    assert!(odd.contains("InvalidStripAmount"), "{odd}");
    cli.ok(&[
        "--key",
        "dealer-a",
        "strips",
        "reconstitute",
        "2",
        "--account",
        "300",
        "--amount",
        "1000000.00",
    ]);
    assert_eq!(bal("300", 2), "1000000000");
    assert_eq!(bal("300", 100), "0");

    // An open-ended repo: $100,000 of the note against $99,000.00 at 4.30%, both dealers
    // signing; a third party cannot read it, the parties can; closed on request.
    cli.ok(&[
        "--key",
        "dealer-a",
        "repo",
        "open",
        "--id",
        "1",
        "--borrower-account",
        "300",
        "--lender-account",
        "400",
        "--collateral",
        "2:100000.00",
        "--cash",
        "1",
        "--cash-amount",
        "99000.00",
        "--rate",
        "4.30",
        "--approver",
        "dealer-b",
    ]);
    assert_eq!(bal("400", 2), "10000000");
    let r = cli.json(&["--key", "dealer-b", "repo", "show", "1"]);
    assert_eq!(
        (r["status"].as_str(), r["rate"].as_str()),
        (Some("open"), Some("4.3%"))
    );
    let denied = cli.fails(&["--key", "custodian", "repo", "show", "1"], 1);
    assert!(denied.contains("may not read"), "{denied}");
    cli.ok(&["--key", "dealer-b", "repo", "close", "1"]);
    assert_eq!(
        cli.json(&["--key", "dealer-a", "repo", "show", "1"])["status"],
        "closed"
    );
    assert_eq!(bal("400", 2), "0");

    // A money-market fund: NAV published, a dividend declared to be reinvested. It is
    // paid at the start of tomorrow (the ledger tests cover the payment itself).
    let mmf = CreateInstrument {
        instrument: InstrumentId(62),
        issuer: tally_ledger::demo::member("treasury").lei(),
        name: Text::new("Demo Treasury MMF").unwrap(),
        ids: SecurityIds::default(),
        scale: 2,
        min_increment: 1,
        kind: InstrumentKind::Fund {
            fund_kind: FundKind::Mmf,
        },
        policy: Policy::default(),
    };
    let path = write(
        &work,
        "mmf.json",
        &serde_json::to_value(instrument_entry(&mmf)).unwrap(),
    );
    cli.ok(&["--key", "treasury", "instrument", "create", "--file", &path]);
    cli.ok(&[
        "--key",
        "treasury",
        "mint",
        "--instrument",
        "62",
        "--to",
        "300",
        "--amount",
        "1234567.89",
    ]);
    cli.ok(&[
        "--key", "treasury", "fund", "nav", "62", "--nav", "1.000000",
    ]);
    let again = cli.fails(
        &[
            "--key", "treasury", "fund", "nav", "62", "--nav", "1.000001",
        ],
        3,
    );
    assert!(again.contains("NavExists"), "{again}");
    cli.ok(&[
        "--key",
        "treasury",
        "fund",
        "dividend",
        "62",
        "--per-share",
        "0.000118",
        "--cash",
        "1",
        "--account",
        "200",
        "--reinvest",
    ]);
    let s = cli.json(&["servicing", "show", "62"]);
    let d = &s["distributions"][0];
    assert_eq!(
        (d["kind"].as_str(), d["status"].as_str()),
        (Some("reinvested"), Some("declared"))
    );
    // $0.000118 a share is 0.000118 cents per hundredth of a share.
    assert_eq!(d["per_unit"], "59/500000");
}
