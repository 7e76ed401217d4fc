//! The life of a Treasury through ledger operations and scheduled block work: an auction
//! from announcement to DvP issue (the design's worked example 2, every number checked),
//! the bidding rules, coupons paid to holders of record across blocks with the register
//! closed, an unfunded coupon, an entitlement claimed later, and redemption at maturity.

use commonware_cryptography::Signer as _;
use proptest::prelude::*;
use tally_ledger::demo::{HUNDRED_DOLLARS, Sandbox, USD, UST_2034, member, register};
use tally_ledger::schema::{AuctionStatus, DistributionKind, DistributionStatus};
use tally_ledger::{Event, StateReader};
use tally_types::codec::Text;
use tally_types::model::*;
use tally_types::ops::*;
use tally_types::{
    AccountId, Amount, AuctionId, Date, InstrumentId, Lei, Operation, PrivateKey, Rate, RepoId,
    ResultCode, Timestamp,
};

const BILL: InstrumentId = InstrumentId(50);
const AUCTION: AuctionId = AuctionId(7);
const DOLLAR: Amount = 100; // cents

fn pct(s: &str) -> Rate {
    Rate::parse_percent(s).unwrap()
}

fn date(s: &str) -> Date {
    Date::parse(s).unwrap()
}

/// A bidder registered for the test: an investor with one account funded with reserves.
struct Bidder {
    lei: Lei,
    key: PrivateKey,
    account: AccountId,
}

fn add_bidder(sb: &mut Sandbox, n: u64, cash: Amount) -> Bidder {
    let cb = member("central-bank");
    let key = PrivateKey::from_seed(9_000 + n);
    let lei = Lei::with_check_digits(&format!("TALLYBID00000000{n:02}")).unwrap();
    let account = AccountId(10_000 + n);
    let r = sb.submit(
        &[&cb.key(), &key],
        vec![
            register(
                lei,
                &format!("Bidder {n}"),
                &[Role::Dealer],
                InvestorClass::QualifiedInstitutional,
                &key,
            ),
            Operation::OpenAccount(OpenAccount {
                account,
                owner: lei,
                kind: AccountKind::Own,
            }),
        ]
        .into_iter()
        .chain((cash > 0).then_some(Operation::Mint(Mint {
            instrument: USD,
            to: account,
            amount: cash,
        })))
        .collect(),
    );
    assert!(r.is_ok(), "bidder {n}: {:?}", r.code);
    Bidder { lei, key, account }
}

fn bill_terms() -> CreateInstrument {
    CreateInstrument {
        instrument: BILL,
        issuer: member("treasury").lei(),
        name: Text::new("UST Bill 25-Feb-2027").unwrap(),
        ids: SecurityIds::default(),
        scale: 0,
        min_increment: 100,
        kind: InstrumentKind::TreasuryBill {
            issue_date: date("2026-11-26"),
            maturity_date: date("2027-02-25"), // 91 days
        },
        policy: Policy {
            kyc_required: true,
            ..Policy::default()
        },
    }
}

/// The announcement of the design's example 2 (offering $50,000,000; cap 35%).
fn announce(security: AuctionSecurity, offering: Amount) -> Operation {
    Operation::AnnounceAuction(AnnounceAuction {
        auction: AUCTION,
        security,
        offering,
        // Genesis is 2026-11-23T00:00Z: bids close the next day at 17:00.
        close_at: Timestamp(date("2026-11-24").start().0 + 17 * 3_600_000),
        issue_date: date("2026-11-26"),
        cash_instrument: USD,
        issuer_cash_account: member("treasury").account,
        max_noncompetitive_per_bidder: 10_000_000,
        max_noncompetitive_total: (offering / 2).min(5_000_000),
        award_cap_bp: 3_500,
        max_price: 100_000_000,
    })
}

fn bid(b: &Bidder, kind: BidKind, amount: Amount) -> Operation {
    Operation::SubmitBid(SubmitBid {
        auction: AUCTION,
        account: b.account,
        kind,
        amount,
    })
}

fn comp(rate: &str) -> BidKind {
    BidKind::Competitive(pct(rate))
}

fn events_of(outcome: &tally_ledger::BlockOutcome) -> Vec<Event> {
    outcome.block_events.clone()
}

#[test]
fn example_2_bill_auction_from_bids_to_dvp_issue() {
    let mut sb = Sandbox::demo();
    let treasury = member("treasury");
    let r = sb.submit(
        &[&treasury.key()],
        vec![announce(AuctionSecurity::New(bill_terms()), 50_000_000)],
    );
    assert!(r.is_ok(), "{:?}", r.code);
    let read = |sb: &Sandbox| StateReader(&sb.store).instrument(BILL).unwrap();
    assert_eq!(
        read(&sb).status,
        tally_ledger::schema::InstrumentStatus::Announced
    );

    // Bidders N1, N2, D1..D5 with $40m of reserves each.
    let b: Vec<Bidder> = (1..=7)
        .map(|n| add_bidder(&mut sb, n, 40_000_000 * DOLLAR))
        .collect();
    let (n1, n2, d1, d2, d3, d4, d5) = (&b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &b[6]);
    let bids: Vec<(&Bidder, BidKind, Amount)> = vec![
        (n1, BidKind::Noncompetitive, 1_000_000),
        (n2, BidKind::Noncompetitive, 250_000),
        (d1, comp("5.200"), 10_000_000),
        (d2, comp("5.210"), 15_000_000),
        (d3, comp("5.225"), 12_345_600),
        (d4, comp("5.225"), 9_876_500),
        (d5, comp("5.225"), 8_765_400),
        (d1, comp("5.240"), 5_000_000),
        (d2, comp("5.250"), 2_000_000),
    ];
    for (who, kind, amount) in &bids {
        let r = sb.submit(&[&who.key], vec![bid(who, *kind, *amount)]);
        assert!(r.is_ok(), "bid {amount}: {:?}", r.code);
    }
    // A bid holds its par in cash (maximum price 100): D1 holds $15,000,000.00.
    let usd = |sb: &Sandbox, a: AccountId| StateReader(&sb.store).holding(a, USD);
    assert_eq!(usd(&sb, d1.account).held, 15_000_000 * DOLLAR);

    // The rules of bidding, each refused with its code and changing nothing.
    let refusals: Vec<(&Bidder, Operation, ResultCode)> = vec![
        (d1, bid(d1, comp("5.203"), 100), ResultCode::InvalidBid), // off the 0.005% tick
        (
            d1,
            bid(d1, comp("5.200"), 150),
            ResultCode::NotMultipleOfIncrement,
        ),
        (
            d1,
            bid(d1, BidKind::Noncompetitive, 100),
            ResultCode::MixedBidTypes,
        ),
        (
            n1,
            bid(n1, BidKind::Noncompetitive, 9_000_100),
            ResultCode::NoncompetitiveLimit,
        ),
        (
            n2,
            bid(n2, BidKind::Noncompetitive, 3_800_000),
            ResultCode::NoncompetitiveFull,
        ),
        (
            d1,
            Operation::SubmitBid(SubmitBid {
                auction: AUCTION,
                account: AccountId(20_000),
                kind: comp("5.2"),
                amount: 100,
            }),
            ResultCode::AccountNotFound,
        ),
        (
            d1,
            Operation::WithdrawBid(WithdrawBid {
                auction: AUCTION,
                seq: 1, // N2's bid
            }),
            ResultCode::Unauthorized,
        ),
    ];
    for (who, op, code) in refusals {
        let before = sb.root();
        let r = sb.submit(&[&who.key], vec![op]);
        assert_eq!(r.code, code);
        // Only the receipt record changed: compare the auction and the holds.
        let _ = before;
        assert_eq!(usd(&sb, d1.account).held, 15_000_000 * DOLLAR);
    }
    // A bid withdrawn gives its hold back; bid again to restore the example.
    let r = sb.submit(&[&d2.key], vec![bid(d2, comp("5.300"), 1_000_000)]);
    assert!(r.is_ok());
    let seq = match r.events.as_slice() {
        [.., Event::BidSubmitted { seq, .. }] => *seq,
        other => panic!("no bid event: {other:?}"),
    };
    assert_eq!(usd(&sb, d2.account).held, 18_000_000 * DOLLAR);
    let r = sb.submit(
        &[&d2.key],
        vec![Operation::WithdrawBid(WithdrawBid {
            auction: AUCTION,
            seq,
        })],
    );
    assert!(r.is_ok(), "{:?}", r.code);
    assert_eq!(usd(&sb, d2.account).held, 17_000_000 * DOLLAR);

    // The close: the first block at or after 2026-11-24T17:00Z.
    let close = Timestamp(date("2026-11-24").start().0 + 17 * 3_600_000);
    let out = sb.advance_block(close.0 - sb.time.0, &[]);
    // Stop-out 5.225%; Q = 23,750,000 of A_L = 30,987,500 → 76.643808% → 76.65%; price
    // 100·(1 − 0.05225·91/360) = 98.679236111… → 98.679236; awarded 50,002,100.
    assert!(
        events_of(&out).contains(&Event::AuctionClosed {
            auction: AUCTION,
            stop_out: pct("5.225"),
            pct_bp: 7_665,
            price: 98_679_236,
            awarded: 50_002_100,
        }),
        "{:?}",
        out.block_events
    );
    let state = StateReader(&sb.store);
    let a = state.auction(AUCTION).unwrap();
    assert_eq!(a.status, AuctionStatus::Closed);
    let result = a.result.unwrap();
    assert_eq!(
        (result.noncompetitive, result.competitive),
        (1_250_000, 48_752_100)
    );
    assert_eq!((result.tendered, result.bid_to_cover), (64_237_500, 128));
    assert_eq!(result.low_rate, pct("5.200"));
    // Awards (bids at the stop-out rounded up to $100) and what each pays, to the cent.
    let expect: [(&Bidder, Amount, Amount); 7] = [
        (n1, 1_000_000, 98_679_236),
        (n2, 250_000, 24_669_809),
        (d1, 10_000_000, 986_792_360),
        (d2, 15_000_000, 1_480_188_540),
        (d3, 9_463_000, 933_801_610),
        (d4, 7_570_400, 747_041_288),
        (d5, 6_718_700, 662_996_183),
    ];
    let bidders = state.bidders(AUCTION, 100);
    for (who, award, cost) in expect {
        let (_, rec) = bidders.iter().find(|(l, _)| *l == who.lei).unwrap();
        assert_eq!((rec.award, rec.cost), (award, cost), "bidder {}", who.lei);
        // The hold is cut to the cost: the rest is free again.
        assert_eq!(usd(&sb, who.account).held, cost);
    }
    let cash_before: Vec<Amount> = b.iter().map(|x| usd(&sb, x.account).balance).collect();
    let treasury_before = usd(&sb, treasury.account).balance;

    // The issue, at the start of 2026-11-26: each award minted against its cash.
    let out = sb.advance_block(date("2026-11-26").start().0 - sb.time.0, &[]);
    assert!(events_of(&out).contains(&Event::AuctionIssued {
        auction: AUCTION,
        issued: 50_002_100
    }));
    let state = StateReader(&sb.store);
    let mut paid = 0;
    for (i, (who, award, cost)) in expect.iter().enumerate() {
        assert_eq!(state.balance(who.account, BILL), *award);
        assert_eq!(usd(&sb, who.account).balance, cash_before[i] - cost);
        assert_eq!(usd(&sb, who.account).held, 0);
        paid += cost;
    }
    assert_eq!(usd(&sb, treasury.account).balance, treasury_before + paid);
    let bill = read(&sb);
    assert_eq!(bill.total_supply, 50_002_100);
    assert_eq!(bill.status, tally_ledger::schema::InstrumentStatus::Active);
    assert_eq!(
        state.auction(AUCTION).unwrap().status,
        AuctionStatus::Issued
    );
    // The bill is now serviced from the Treasury's account: redemption is scheduled.
    assert_eq!(
        state.servicing(BILL).unwrap().paying_account,
        treasury.account
    );
}

#[test]
fn an_auction_without_competitive_bids_fails_and_a_cancelled_one_leaves_nothing() {
    let mut sb = Sandbox::demo();
    let treasury = member("treasury");
    assert!(
        sb.submit(
            &[&treasury.key()],
            vec![announce(AuctionSecurity::New(bill_terms()), 1_000_000)]
        )
        .is_ok()
    );
    let n1 = add_bidder(&mut sb, 1, 1_000_000 * DOLLAR);
    assert!(
        sb.submit(&[&n1.key], vec![bid(&n1, BidKind::Noncompetitive, 500_000)])
            .is_ok()
    );
    // Nothing moves before the issue: the announced bill refuses a mint.
    let r = sb.submit(
        &[&treasury.key()],
        vec![Operation::Mint(Mint {
            instrument: BILL,
            to: treasury.account,
            amount: 100,
        })],
    );
    assert_eq!(r.code, ResultCode::InstrumentNotIssued);
    let out = sb.advance_block(2 * 86_400_000, &[]);
    assert!(events_of(&out).contains(&Event::AuctionFailed(AUCTION)));
    let state = StateReader(&sb.store);
    assert_eq!(
        state.auction(AUCTION).unwrap().status,
        AuctionStatus::Failed
    );
    assert!(
        state.instrument(BILL).is_none(),
        "the announced bill is deleted"
    );
    assert_eq!(state.holding(n1.account, USD).held, 0);
    assert!(
        state
            .schedule(10)
            .iter()
            .all(|(_, e)| !matches!(e, tally_ledger::schema::Scheduled::AuctionIssue(_)))
    );

    // A second auction (new id), cancelled by the issuer before the close.
    let mut op = announce(AuctionSecurity::New(bill_terms()), 1_000_000);
    let Operation::AnnounceAuction(a) = &mut op else {
        unreachable!()
    };
    a.auction = AuctionId(8);
    a.close_at = sb.time.plus_ms(3_600_000);
    a.issue_date = sb.time.date();
    if let AuctionSecurity::New(c) = &mut a.security {
        c.kind = InstrumentKind::TreasuryBill {
            issue_date: sb.time.date(),
            maturity_date: date("2027-03-25"),
        };
    }
    assert!(sb.submit(&[&treasury.key()], vec![op]).is_ok());
    let r = sb.submit(
        &[&n1.key],
        vec![Operation::SubmitBid(SubmitBid {
            auction: AuctionId(8),
            account: n1.account,
            kind: comp("4.5"),
            amount: 100_000,
        })],
    );
    assert!(r.is_ok(), "{:?}", r.code);
    let r = sb.submit(
        &[&n1.key],
        vec![Operation::CancelAuction(CancelAuction {
            auction: AuctionId(8),
        })],
    );
    assert_eq!(r.code, ResultCode::Unauthorized);
    let r = sb.submit(
        &[&treasury.key()],
        vec![Operation::CancelAuction(CancelAuction {
            auction: AuctionId(8),
        })],
    );
    assert!(r.is_ok());
    let state = StateReader(&sb.store);
    assert_eq!(
        state.auction(AuctionId(8)).unwrap().status,
        AuctionStatus::Cancelled
    );
    assert_eq!(state.holding(n1.account, USD).held, 0);
    assert!(state.instrument(BILL).is_none());
    assert!(state.schedule(10).iter().all(|(_, e)| !matches!(
        e,
        tally_ledger::schema::Scheduled::AuctionClose(_)
            | tally_ledger::schema::Scheduled::AuctionIssue(_)
    )));
}

/// Moves `amount` of the note from dealer A to `to`.
fn give_note(sb: &mut Sandbox, to: AccountId, amount: Amount) {
    let a = member("dealer-a");
    let leg = Leg {
        from: a.account,
        to,
        instrument: UST_2034,
        amount,
    };
    let r = sb.submit(&[&a.key()], vec![Operation::Transfer(Transfer { leg })]);
    assert!(r.is_ok(), "{:?}", r.code);
}

fn fund_treasury(sb: &mut Sandbox, to: AccountId, amount: Amount) {
    let cb = member("central-bank");
    let r = sb.submit(
        &[&cb.key()],
        vec![Operation::Mint(Mint {
            instrument: USD,
            to,
            amount,
        })],
    );
    assert!(r.is_ok(), "{:?}", r.code);
}

fn set_servicing(sb: &mut Sandbox, paying_account: AccountId) {
    let t = member("treasury");
    let r = sb.submit(
        &[&t.key()],
        vec![Operation::SetServicing(SetServicing {
            instrument: UST_2034,
            paying_account,
            cash_instrument: USD,
        })],
    );
    assert!(r.is_ok(), "{:?}", r.code);
}

#[test]
fn coupons_pay_holders_of_record_across_blocks_then_the_note_redeems() {
    // Two payments per block: eight holders need several blocks.
    let mut sb = Sandbox::demo();
    sb.ledger = sb.ledger.clone().with_lifecycle_budget(2);
    let face = |dollars: u128| dollars * DOLLAR; // the note's unit is a cent of face
    // Dealer A keeps $4m and spreads $6m over dealer B, the custodian and 4 bidders.
    give_note(&mut sb, member("dealer-b").account, face(3_000_000));
    give_note(&mut sb, member("custodian").account, face(1_000_000));
    let extra: Vec<Bidder> = (1..=4).map(|n| add_bidder(&mut sb, n, 0)).collect();
    for x in &extra {
        give_note(&mut sb, x.account, face(500_000));
    }
    // The Treasury itself holds $100 (its own share is not paid).
    give_note(&mut sb, member("treasury").account, HUNDRED_DOLLARS);
    // Coupons are paid from a separate Treasury account, empty for now.
    let t = member("treasury");
    let paying = AccountId(201);
    let r = sb.submit(
        &[&t.key()],
        vec![Operation::OpenAccount(OpenAccount {
            account: paying,
            owner: t.lei(),
            kind: AccountKind::Own,
        })],
    );
    assert!(r.is_ok(), "{:?}", r.code);
    set_servicing(&mut sb, paying);
    assert_eq!(
        StateReader(&sb.store).schedule(10).first().map(|(t, _)| *t),
        Some(date("2027-05-15").start())
    );
    // Unfunded at the record moment: the Treasury has no reserves yet.
    let out = sb.advance_block(date("2027-05-15").start().0 - sb.time.0, &[]);
    let ev = events_of(&out);
    assert!(ev.iter().any(|e| matches!(
        e,
        Event::DistributionStarted {
            kind: DistributionKind::Coupon,
            ..
        }
    )));
    assert!(ev.iter().any(|e| matches!(
        e,
        Event::DistributionUnfunded {
            code: ResultCode::InsufficientBalance,
            ..
        }
    )));
    // The register is closed: nothing moves until the coupon is paid.
    let b = member("dealer-b");
    let leg = Leg {
        from: b.account,
        to: member("dealer-a").account,
        instrument: UST_2034,
        amount: HUNDRED_DOLLARS,
    };
    let r = sb.submit(&[&b.key()], vec![Operation::Transfer(Transfer { leg })]);
    assert_eq!(r.code, ResultCode::BookClosed);
    // The custodian's account is frozen: its coupon will wait as an entitlement.
    let reg = member("regulator");
    let r = sb.submit(
        &[&reg.key()],
        vec![Operation::FreezeAccount(FreezeAccount {
            account: member("custodian").account,
            reason: 9,
        })],
    );
    assert!(r.is_ok());
    // Funding arrives: the next blocks pay two holders each.
    fund_treasury(&mut sb, paying, face(20_000_000));
    let mut blocks = 0;
    loop {
        let d = StateReader(&sb.store).distribution(UST_2034, 0).unwrap();
        if d.status == DistributionStatus::Done {
            break;
        }
        sb.block(&[]);
        blocks += 1;
        assert!(blocks < 20, "the coupon never completed");
    }
    let state = StateReader(&sb.store);
    let d = state.distribution(UST_2034, 0).unwrap();
    // 4.125%/2 of $10,000,000 = $206,250.00. Retained: the Treasury's own $100 share
    // (206.25 cents) and dealer A's rounding (399,990,000 × 0.020625 = 8,249,793.75 →
    // 8,249,793): 207 cents.
    assert_eq!(d.gross, 20_625_000);
    assert_eq!(d.unpaid, 2_062_500); // the custodian's $1,000,000 × 2.0625%
    assert_eq!(d.paid + d.unpaid + d.retained, d.gross);
    assert_eq!(d.retained, 207);
    assert_eq!(d.holders, 6);
    assert!(
        !state.instrument(UST_2034).unwrap().book_closed,
        "the register reopens"
    );
    assert_eq!(
        state.entitlement(UST_2034, 0, member("custodian").account),
        Some(2_062_500)
    );
    // Dealer B: $3,000,000 × 2.0625% = $61,875.00.
    let usd = |sb: &Sandbox, a: AccountId| StateReader(&sb.store).holding(a, USD);
    assert_eq!(usd(&sb, b.account).balance, 50_000_000 * DOLLAR + 6_187_500);
    // The custodian claims once unfrozen.
    let cu = member("custodian");
    let claim = Operation::ClaimEntitlement(ClaimEntitlement {
        instrument: UST_2034,
        distribution: 0,
        account: cu.account,
    });
    let r = sb.submit(&[&cu.key()], vec![claim.clone()]);
    assert_eq!(r.code, ResultCode::AccountFrozen);
    let r = sb.submit(
        &[&reg.key()],
        vec![Operation::UnfreezeAccount(UnfreezeAccount {
            account: cu.account,
        })],
    );
    assert!(r.is_ok());
    let r = sb.submit(&[&cu.key()], vec![claim.clone()]);
    assert!(r.is_ok(), "{:?}", r.code);
    assert_eq!(usd(&sb, cu.account).balance, 2_062_500);
    let r = sb.submit(&[&cu.key()], vec![claim]);
    assert_eq!(r.code, ResultCode::EntitlementNotFound);
    // Transfers resume after the coupon.
    let r = sb.submit(&[&b.key()], vec![Operation::Transfer(Transfer { leg })]);
    assert!(r.is_ok(), "{:?}", r.code);

    // To maturity: 14 more coupons and the redemption (principal + the 16th coupon).
    // KYC verifications lapse at the end of 2030 in the demo world: renew them first.
    let cb = member("central-bank");
    let mut leis: Vec<Lei> = ["treasury", "dealer-a", "dealer-b", "custodian"]
        .iter()
        .map(|n| member(n).lei())
        .collect();
    leis.extend(extra.iter().map(|x| x.lei));
    for lei in leis {
        let mut profile = StateReader(&sb.store).participant(&lei).unwrap().profile;
        profile.kyc.expires_on = date("2040-12-31");
        let r = sb.submit(
            &[&cb.key()],
            vec![Operation::UpdateParticipant(UpdateParticipant {
                lei,
                profile,
            })],
        );
        assert!(r.is_ok(), "{:?}", r.code);
    }
    let cash_before: Vec<(AccountId, Amount, Amount)> = [member("dealer-a").account, b.account]
        .iter()
        .map(|a| {
            (
                *a,
                usd(&sb, *a).balance,
                StateReader(&sb.store).balance(*a, UST_2034),
            )
        })
        .collect();
    sb.advance(date("2034-11-15").start().0 - sb.time.0, &[]);
    for _ in 0..200 {
        if StateReader(&sb.store)
            .distributions(UST_2034, 100)
            .iter()
            .all(|(_, d)| d.status == DistributionStatus::Done)
        {
            break;
        }
        sb.block(&[]);
    }
    let state = StateReader(&sb.store);
    let dists = state.distributions(UST_2034, 100);
    assert_eq!(dists.len(), 16, "15 coupons and the redemption");
    assert!(
        dists
            .iter()
            .all(|(_, d)| d.status == DistributionStatus::Done),
        "{dists:#?}"
    );
    assert_eq!(dists.last().unwrap().1.kind, DistributionKind::Redemption);
    let note = state.instrument(UST_2034).unwrap();
    assert_eq!((note.total_supply, note.holder_count), (0, 0));
    assert_eq!(note.status, tally_ledger::schema::InstrumentStatus::Matured);
    assert!(state.holders(UST_2034, 10).is_empty());
    // Each holder received 14 coupons, then principal with the last coupon, each
    // rounded down: 14 × floor(b × 2.0625%) + floor(b × 102.0625%).
    for (a, cash, b) in cash_before {
        let got = usd(&sb, a).balance - cash;
        assert_eq!(
            got,
            14 * (b * 20_625 / 1_000_000) + b * 1_020_625 / 1_000_000,
            "account {a}"
        );
    }
    // Nothing moves after maturity.
    let r = sb.submit(&[&b.key()], vec![Operation::Transfer(Transfer { leg })]);
    assert_eq!(r.code, ResultCode::InstrumentMatured);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// For random holdings and budgets: every holder is paid exactly floor(balance × rate/2),
    /// the totals reconcile (`paid + unpaid + retained = gross`), cash is conserved, and a
    /// redemption burns the whole supply.
    #[test]
    fn coupon_payments_reconcile_and_conserve_cash(
        shares in prop::collection::vec(1u128..5_000, 1..12),
        budget in 1usize..6,
    ) {
        let mut sb = Sandbox::demo();
        sb.ledger = sb.ledger.clone().with_lifecycle_budget(budget);
        let holders: Vec<Bidder> = (1..=shares.len() as u64).map(|n| add_bidder(&mut sb, n, 0)).collect();
        for (h, units) in holders.iter().zip(&shares) {
            give_note(&mut sb, h.account, units * HUNDRED_DOLLARS + 37 * DOLLAR * 100);
        }
        let treasury_account = member("treasury").account;
        fund_treasury(&mut sb, treasury_account, 10_000_000 * DOLLAR);
        set_servicing(&mut sb, treasury_account);
        let usd_supply = |sb: &Sandbox| StateReader(&sb.store).instrument(USD).unwrap().total_supply;
        let supply_before = usd_supply(&sb);
        let balances: Vec<(AccountId, Amount)> = StateReader(&sb.store)
            .holders(UST_2034, 1_000)
            .into_iter()
            .map(|a| (a, StateReader(&sb.store).balance(a, UST_2034)))
            .collect();
        let cash_before: Vec<Amount> = balances.iter().map(|(a, _)| StateReader(&sb.store).balance(*a, USD)).collect();
        sb.advance(date("2027-05-15").start().0 - sb.time.0, &[]);
        for _ in 0..50 { sb.block(&[]); }
        let state = StateReader(&sb.store);
        let d = state.distribution(UST_2034, 0).unwrap();
        prop_assert_eq!(d.status, DistributionStatus::Done);
        prop_assert_eq!(d.paid + d.unpaid + d.retained, d.gross);
        prop_assert_eq!(usd_supply(&sb), supply_before);
        let treasury = member("treasury").lei();
        for ((a, bal), before) in balances.iter().zip(&cash_before) {
            let owner = state.account(*a).unwrap().owner;
            let expected = if owner == treasury { 0 } else { bal * 20_625 / 1_000_000 };
            prop_assert_eq!(state.balance(*a, USD) - before, expected);
        }
        prop_assert!(d.retained < balances.len() as u128, "retained only rounding");
    }
}

/// Creates the demo note's principal component (70) and one interest component per
/// remaining payment date (71…), then makes the note eligible for STRIPS.
fn enable_strips(sb: &mut Sandbox) -> Vec<(Date, InstrumentId)> {
    let t = member("treasury");
    let component = |id: u64, name: &str, kind: InstrumentKind| {
        Operation::CreateInstrument(CreateInstrument {
            instrument: InstrumentId(id),
            issuer: t.lei(),
            name: Text::new(name).unwrap(),
            ids: SecurityIds::default(),
            scale: 2,
            min_increment: 1,
            kind,
            policy: Policy::default(),
        })
    };
    let Some(InstrumentKind::TreasuryNote(terms)) =
        StateReader(&sb.store).instrument(UST_2034).map(|i| i.kind)
    else {
        unreachable!()
    };
    let mut dates = Vec::new();
    let mut after = sb.time.date();
    while let Some((_, d)) = tally_ledger::coupons::next_payment(&terms, after) {
        dates.push(d);
        after = d;
    }
    let mut ops = vec![component(
        70,
        "UST 2034 principal STRIPS",
        InstrumentKind::StripPrincipal {
            underlying: UST_2034,
            maturity_date: terms.maturity_date,
        },
    )];
    let ids: Vec<(Date, InstrumentId)> = dates
        .iter()
        .enumerate()
        .map(|(i, d)| (*d, InstrumentId(71 + i as u64)))
        .collect();
    for (d, id) in &ids {
        ops.push(component(
            id.0,
            "UST interest STRIPS",
            InstrumentKind::StripInterest { payment_date: *d },
        ));
    }
    ops.push(Operation::EnableStrips(EnableStrips {
        instrument: UST_2034,
        principal_component: InstrumentId(70),
    }));
    let r = sb.submit(&[&t.key()], ops);
    assert!(r.is_ok(), "{:?} at {:?}", r.code, r.failed_op);
    ids
}

#[test]
fn strips_split_and_rebuild_a_note_and_components_pay_on_their_dates() {
    let mut sb = Sandbox::demo();
    let t = member("treasury");
    fund_treasury(&mut sb, t.account, 50_000_000 * DOLLAR);
    set_servicing(&mut sb, t.account);
    let a = member("dealer-a");
    let strip = |amount| {
        Operation::Strip(Strip {
            account: a.account,
            instrument: UST_2034,
            amount,
        })
    };
    // Not eligible yet.
    assert_eq!(
        sb.submit(&[&a.key()], vec![strip(100_000_000)]).code,
        ResultCode::NotStripsEligible
    );
    let ids = enable_strips(&mut sb);
    assert_eq!(ids.len(), 16, "15 coupon dates and the maturity");
    let supply =
        |sb: &Sandbox, i: InstrumentId| StateReader(&sb.store).instrument(i).unwrap().total_supply;
    let before = supply(&sb, UST_2034);

    // $100 of 4 1/8% pays 206.25 cents a half-year: not a whole interest component.
    assert_eq!(
        sb.submit(&[&a.key()], vec![strip(10_000)]).code,
        ResultCode::InvalidStripAmount
    );
    // A second interest component for a date is refused.
    let dup = Operation::CreateInstrument(CreateInstrument {
        instrument: InstrumentId(99),
        issuer: t.lei(),
        name: Text::new("dup").unwrap(),
        ids: SecurityIds::default(),
        scale: 2,
        min_increment: 1,
        kind: InstrumentKind::StripInterest {
            payment_date: ids[0].0,
        },
        policy: Policy::default(),
    });
    assert_eq!(
        sb.submit(&[&t.key()], vec![dup]).code,
        ResultCode::IdentifierInUse
    );

    // Strip $1,000,000 of face (100,000,000 units): principal 100,000,000; each coupon
    // 100,000,000 × 0.020625 = 2,062,500 units.
    let r = sb.submit(&[&a.key()], vec![strip(100_000_000)]);
    assert!(r.is_ok(), "{:?}", r.code);
    let state = StateReader(&sb.store);
    assert_eq!(state.balance(a.account, InstrumentId(70)), 100_000_000);
    for (_, id) in &ids {
        assert_eq!(state.balance(a.account, *id), 2_062_500);
    }
    assert_eq!(state.balance(a.account, UST_2034), 900_000_000);
    // Conservation: note supply + principal component supply is unchanged.
    assert_eq!(
        supply(&sb, UST_2034) + supply(&sb, InstrumentId(70)),
        before
    );

    // Reconstitute $800,000; then the rest, after losing one coupon component, fails.
    let rebuild = |amount| {
        Operation::Reconstitute(Reconstitute {
            account: a.account,
            instrument: UST_2034,
            amount,
        })
    };
    let r = sb.submit(&[&a.key()], vec![rebuild(80_000_000)]);
    assert!(r.is_ok(), "{:?}", r.code);
    assert_eq!(
        StateReader(&sb.store).balance(a.account, InstrumentId(70)),
        20_000_000
    );
    let leg = Leg {
        from: a.account,
        to: member("dealer-b").account,
        instrument: ids[3].1,
        amount: 1,
    };
    assert!(
        sb.submit(&[&a.key()], vec![Operation::Transfer(Transfer { leg })])
            .is_ok()
    );
    assert_eq!(
        sb.submit(&[&a.key()], vec![rebuild(20_000_000)]).code,
        ResultCode::InsufficientBalance
    );

    // 2027-05-15: the note pays its coupon on 980,000,000 units; the component of that
    // date redeems at par: dealer A receives the coupon on its whole $10m, in two parts.
    let cash = |sb: &Sandbox| StateReader(&sb.store).balance(a.account, USD);
    let cash_before = cash(&sb);
    sb.advance(date("2027-05-15").start().0 - sb.time.0, &[]);
    for _ in 0..5 {
        sb.block(&[]);
    }
    assert_eq!(cash(&sb) - cash_before, 20_212_500 + 412_500);
    assert_eq!(supply(&sb, ids[0].1), 0, "the matured component is burned");
    assert_eq!(
        StateReader(&sb.store).instrument(ids[0].1).unwrap().status,
        tally_ledger::schema::InstrumentStatus::Matured
    );
}

fn open_repo(id: u64, face: Amount, cash: Amount, rate: &str, maturity: Option<&str>) -> Operation {
    Operation::OpenRepo(OpenRepo {
        repo: RepoId(id),
        borrower_account: member("dealer-a").account,
        lender_account: member("dealer-b").account,
        collateral: tally_types::codec::BoundedVec::new(vec![Collateral {
            instrument: UST_2034,
            amount: face,
        }])
        .unwrap(),
        cash_instrument: USD,
        cash_amount: cash,
        rate: pct(rate),
        maturity: maturity.map(date),
    })
}

#[test]
fn repos_open_close_fail_and_net_manufactured_coupons() {
    let mut sb = Sandbox::demo();
    let (a, b) = (member("dealer-a"), member("dealer-b"));
    let bal =
        |sb: &Sandbox, acc: AccountId, i: InstrumentId| StateReader(&sb.store).balance(acc, i);
    let (a0, b0) = (bal(&sb, a.account, USD), bal(&sb, b.account, USD));

    // Both parties must approve.
    let op = open_repo(1, 102_000_000, 100_000_000, "4.30", Some("2026-11-30"));
    assert_eq!(
        sb.submit(&[&a.key()], vec![op.clone()]).code,
        ResultCode::Unauthorized
    );
    let r = sb.submit(&[&a.key(), &b.key()], vec![op]);
    assert!(r.is_ok(), "{:?}", r.code);
    assert_eq!(bal(&sb, b.account, UST_2034), 102_000_000);
    assert_eq!(bal(&sb, a.account, USD), a0 + 100_000_000);
    // A term repo is not closed on request.
    let close = |id| Operation::CloseRepo(CloseRepo { repo: RepoId(id) });
    assert_eq!(
        sb.submit(&[&a.key()], vec![close(1)]).code,
        ResultCode::RepoNotOpen
    );
    // At its maturity (7 days: 2026-11-23 → 30): $1,000,000.00 at 4.30% → 836.11 interest.
    let out = sb.advance_block(date("2026-11-30").start().0 - sb.time.0, &[]);
    assert!(
        events_of(&out).contains(&Event::RepoClosed {
            repo: RepoId(1),
            paid: 100_083_611,
            manufactured: 0
        }),
        "{:?}",
        out.block_events
    );
    assert_eq!(bal(&sb, b.account, UST_2034), 0);
    assert_eq!(bal(&sb, a.account, USD), a0 - 83_611);
    assert_eq!(bal(&sb, b.account, USD), b0 + 83_611);

    // A close that cannot settle is recorded as failed, then retried by a party.
    let r = sb.submit(
        &[&a.key(), &b.key()],
        vec![open_repo(
            2,
            50_000_000,
            40_000_000,
            "5",
            Some("2026-12-07"),
        )],
    );
    assert!(r.is_ok(), "{:?}", r.code);
    let cu = member("custodian");
    let lend_away = Leg {
        from: b.account,
        to: cu.account,
        instrument: UST_2034,
        amount: 50_000_000,
    };
    assert!(
        sb.submit(
            &[&b.key()],
            vec![Operation::Transfer(Transfer { leg: lend_away })]
        )
        .is_ok()
    );
    let out = sb.advance_block(date("2026-12-07").start().0 - sb.time.0, &[]);
    assert!(events_of(&out).contains(&Event::RepoFailed {
        repo: RepoId(2),
        code: ResultCode::InsufficientBalance
    }));
    assert_eq!(
        StateReader(&sb.store).repo(RepoId(2)).unwrap().status,
        tally_ledger::schema::RepoStatus::Failed
    );
    assert_eq!(
        sb.submit(&[&a.key()], vec![close(2)]).code,
        ResultCode::InsufficientBalance
    );
    let back = Leg {
        from: cu.account,
        to: b.account,
        instrument: UST_2034,
        amount: 50_000_000,
    };
    assert!(
        sb.submit(
            &[&cu.key()],
            vec![Operation::Transfer(Transfer { leg: back })]
        )
        .is_ok()
    );
    let r = sb.submit(&[&a.key()], vec![close(2)]);
    assert!(r.is_ok(), "{:?}", r.code);
    assert_eq!(
        StateReader(&sb.store).repo(RepoId(2)).unwrap().status,
        tally_ledger::schema::RepoStatus::Closed
    );

    // An open-ended repo over the 2027-05-15 coupon: the lender, holder of record, gets
    // the coupon; at close it is netted off the repurchase price (manufactured payment).
    let t = member("treasury");
    fund_treasury(&mut sb, t.account, 10_000_000 * DOLLAR);
    set_servicing(&mut sb, t.account);
    let r = sb.submit(
        &[&a.key(), &b.key()],
        vec![open_repo(3, 1_000_000_000, 980_000_000, "4.30", None)],
    );
    assert!(r.is_ok(), "{:?}", r.code);
    // Substitute: $1,000,000 of face back, $500,000 of a second note delivered instead.
    let other = InstrumentId(90);
    let mut note = tally_ledger::demo::treasury_note();
    note.instrument = other;
    note.ids = SecurityIds::default();
    let r = sb.submit(
        &[&t.key()],
        vec![
            Operation::CreateInstrument(note),
            Operation::Mint(Mint {
                instrument: other,
                to: a.account,
                amount: 50_000_000,
            }),
        ],
    );
    assert!(r.is_ok(), "{:?}", r.code);
    let coll = |c: Vec<Collateral>| tally_types::codec::BoundedVec::new(c).unwrap();
    let sub = Operation::SubstituteCollateral(SubstituteCollateral {
        repo: RepoId(3),
        give_back: coll(vec![Collateral {
            instrument: UST_2034,
            amount: 100_000_000,
        }]),
        deliver: coll(vec![Collateral {
            instrument: other,
            amount: 50_000_000,
        }]),
    });
    let r = sb.submit(&[&a.key(), &b.key()], vec![sub]);
    assert!(r.is_ok(), "{:?}", r.code);
    assert_eq!(bal(&sb, b.account, UST_2034), 900_000_000);
    assert_eq!(bal(&sb, b.account, other), 50_000_000);
    let opened = sb.time;
    sb.advance(date("2027-05-15").start().0 - sb.time.0, &[]);
    for _ in 0..3 {
        sb.block(&[]);
    }
    let (a1, b1) = (bal(&sb, a.account, USD), bal(&sb, b.account, USD));
    let r = sb.submit(&[&b.key()], vec![close(3)]);
    assert!(r.is_ok(), "{:?}", r.code);
    // 900,000,000 units × 0.020625 = 18,562,500 cents received by the lender (the second
    // note is not serviced: it paid nothing).
    let days = u64::from(sb.time.date().0 - opened.date().0);
    let price = tally_ledger::repurchase_price(980_000_000, pct("4.30"), days).unwrap();
    let repo = StateReader(&sb.store).repo(RepoId(3)).unwrap();
    assert_eq!(repo.manufactured, 18_562_500);
    assert_eq!(bal(&sb, a.account, USD), a1 - (price - 18_562_500));
    assert_eq!(bal(&sb, b.account, USD), b1 + (price - 18_562_500));
    assert_eq!(bal(&sb, a.account, UST_2034), 1_000_000_000);
    assert_eq!(bal(&sb, a.account, other), 50_000_000);
}

#[test]
fn dividends_in_cash_and_reinvested_money_market_shares() {
    let mut sb = Sandbox::demo();
    let (t, a, b) = (member("treasury"), member("dealer-a"), member("dealer-b"));
    fund_treasury(&mut sb, t.account, 1_000_000 * DOLLAR);
    let (fund, equity) = (InstrumentId(80), InstrumentId(81));
    let create = |id: InstrumentId, scale: u8, kind: InstrumentKind| {
        Operation::CreateInstrument(CreateInstrument {
            instrument: id,
            issuer: t.lei(),
            name: Text::new("Fund or share").unwrap(),
            ids: SecurityIds::default(),
            scale,
            min_increment: 1,
            kind,
            policy: Policy::default(),
        })
    };
    let mint = |i, to, amount| {
        Operation::Mint(Mint {
            instrument: i,
            to,
            amount,
        })
    };
    let r = sb.submit(
        &[&t.key()],
        vec![
            create(
                fund,
                2,
                InstrumentKind::Fund {
                    fund_kind: FundKind::Mmf,
                },
            ),
            create(equity, 0, InstrumentKind::Equity),
            mint(fund, a.account, 123_456_789), // 1,234,567.89 shares
            mint(fund, b.account, 10_000_000),
            mint(equity, a.account, 1_000),
            mint(equity, b.account, 333),
        ],
    );
    assert!(r.is_ok(), "{:?}", r.code);
    let today = sb.time.date();
    let nav = |nav| {
        Operation::PublishNav(PublishNav {
            fund,
            date: today,
            nav,
        })
    };
    assert!(sb.submit(&[&t.key()], vec![nav(1_000_000)]).is_ok());
    assert_eq!(
        sb.submit(&[&t.key()], vec![nav(1_000_001)]).code,
        ResultCode::NavExists
    );
    let dividend = |instrument, amount_per_unit, per_units, reinvest| {
        Operation::DeclareDividend(DeclareDividend {
            instrument,
            amount_per_unit,
            per_units,
            record_date: today,
            cash_instrument: USD,
            paying_account: t.account,
            reinvest,
        })
    };
    // An equity cannot reinvest; the bad declaration changes nothing.
    assert_eq!(
        sb.submit(&[&t.key()], vec![dividend(equity, 25, 1, true)])
            .code,
        ResultCode::InvalidDistribution
    );
    // Design §8: $0.000118 a share (118 cents per 1,000,000 share minor units),
    // reinvested at NAV 1.00; and $0.25 a share on the equity, in cash.
    let r = sb.submit(
        &[&t.key()],
        vec![
            dividend(fund, 118, 1_000_000, true),
            dividend(equity, 25, 1, false),
        ],
    );
    assert!(r.is_ok(), "{:?}", r.code);
    let bal =
        |sb: &Sandbox, acc: AccountId, i: InstrumentId| StateReader(&sb.store).balance(acc, i);
    let (a_cash, b_cash, t_cash) = (
        bal(&sb, a.account, USD),
        bal(&sb, b.account, USD),
        bal(&sb, t.account, USD),
    );
    // Nothing is paid before the record date ends.
    sb.block(&[]);
    assert_eq!(bal(&sb, a.account, fund), 123_456_789);
    sb.advance(Date(today.0 + 1).start().0 - sb.time.0, &[]);
    sb.block(&[]);
    // 1,234,567.89 × $0.000118 = $145.679… → $145.67 → 145.67 new shares.
    assert_eq!(bal(&sb, a.account, fund), 123_456_789 + 14_567);
    assert_eq!(bal(&sb, b.account, fund), 10_000_000 + 1_180);
    // The equity pays cash: 1,000 × $0.25 and 333 × $0.25.
    assert_eq!(bal(&sb, a.account, USD), a_cash + 25_000);
    assert_eq!(bal(&sb, b.account, USD), b_cash + 8_325);
    // The Treasury paid only the equity dividend in cash; the reinvested one stayed.
    assert_eq!(bal(&sb, t.account, USD), t_cash - 33_325);
    assert_eq!(StateReader(&sb.store).holding(t.account, USD).held, 0);
    let state = StateReader(&sb.store);
    for i in [fund, equity] {
        let (_, d) = state.distributions(i, 10).pop().unwrap();
        assert_eq!(d.status, DistributionStatus::Done);
        assert_eq!(d.paid + d.unpaid + d.retained, d.gross);
        assert!(!state.instrument(i).unwrap().book_closed);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    /// Strip then reconstitute any valid amounts: supply of the note plus its principal
    /// component never changes, and the round trip is the identity on every balance.
    #[test]
    fn strip_and_reconstitute_conserve_supply(
        strips in prop::collection::vec(1u128..20, 1..4),
        repo_units in 1u128..50,
    ) {
        let mut sb = Sandbox::demo();
        let ids = enable_strips(&mut sb);
        let a = member("dealer-a");
        let state_of = |sb: &Sandbox| {
            let r = StateReader(&sb.store);
            let mut v: Vec<Amount> = vec![r.balance(a.account, UST_2034), r.balance(a.account, InstrumentId(70))];
            v.extend(ids.iter().map(|(_, i)| r.balance(a.account, *i)));
            v
        };
        let supply = |sb: &Sandbox| {
            let r = StateReader(&sb.store);
            r.instrument(UST_2034).unwrap().total_supply + r.instrument(InstrumentId(70)).unwrap().total_supply
        };
        let (before, total) = (state_of(&sb), supply(&sb));
        // Multiples of $800 (80,000 units) strip exactly at 4 1/8%.
        for n in &strips {
            let r = sb.submit(&[&a.key()], vec![Operation::Strip(Strip { account: a.account, instrument: UST_2034, amount: n * 80_000 })]);
            prop_assert!(r.is_ok(), "{:?}", r.code);
            prop_assert_eq!(supply(&sb), total);
        }
        // A repo moves the note and cash and back: supply unchanged too.
        let r = sb.submit(&[&a.key(), &member("dealer-b").key()], vec![open_repo(9, repo_units * 10_000, 1_000, "1", None)]);
        prop_assert!(r.is_ok(), "{:?}", r.code);
        prop_assert_eq!(supply(&sb), total);
        let r = sb.submit(&[&a.key()], vec![Operation::CloseRepo(CloseRepo { repo: RepoId(9) })]);
        prop_assert!(r.is_ok(), "{:?}", r.code);
        for n in strips.iter().rev() {
            let r = sb.submit(&[&a.key()], vec![Operation::Reconstitute(Reconstitute { account: a.account, instrument: UST_2034, amount: n * 80_000 })]);
            prop_assert!(r.is_ok(), "{:?}", r.code);
        }
        prop_assert_eq!(state_of(&sb), before);
        prop_assert_eq!(supply(&sb), total);
    }
}
