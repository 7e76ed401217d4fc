//! Properties of the auction close (`tally_ledger::auction::allot`) over random bids:
//! awards never exceed what was bid or the 35% cap, a covered auction awards at least the
//! offering and exceeds it only by the rounding the rules allow, the price of the
//! awards is the same for everyone, and the outcome does not depend on arrival order.

use proptest::prelude::*;
use tally_ledger::auction::{Bid, BidKind, FULL_BP, Terms, allot};
use tally_types::Rate;

const M: u128 = 100;

fn bids() -> impl Strategy<Value = Vec<Bid>> {
    prop::collection::vec((0u32..6, prop::option::of(0u64..40), 1u128..2_000), 1..30).prop_map(
        |raw| {
            raw.into_iter()
                .enumerate()
                .map(|(i, (bidder, rate, units))| Bid {
                    bidder,
                    // Rates in 0.005% steps around 5%.
                    kind: rate.map_or(BidKind::Noncompetitive, |r| {
                        BidKind::Competitive(Rate(50_000_000 + r * 50_000))
                    }),
                    amount: units * M,
                    seq: i as u64,
                })
                .collect()
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn awards_respect_bids_caps_and_the_offering(
        bids in bids(),
        offering_units in 1u128..20_000,
    ) {
        let terms = Terms { offering: offering_units * M, increment: M, award_cap_bp: 3_500 };
        // Bidding refuses noncompetitive par beyond a limit below the offering (design R6).
        let noncompetitive: u128 = bids.iter().filter(|b| b.kind == BidKind::Noncompetitive).map(|b| b.amount).sum();
        prop_assume!(noncompetitive < terms.offering);
        let a = allot(&terms, &bids);
        let cap = terms.offering * 3_500 / u128::from(FULL_BP) / M * M;
        let mut per_bidder = std::collections::BTreeMap::<u32, u128>::new();
        for (i, b) in bids.iter().enumerate() {
            prop_assert!(a.awards[i] <= a.recognized[i]);
            prop_assert!(a.recognized[i] <= b.amount);
            prop_assert_eq!(a.awards[i] % M, 0);
            if matches!(b.kind, BidKind::Competitive(_)) {
                *per_bidder.entry(b.bidder).or_default() += a.awards[i];
            }
        }
        for (_, total) in per_bidder {
            prop_assert!(total <= cap, "a bidder was awarded {total} above the cap {cap}");
        }
        prop_assert_eq!(a.total_awarded, a.awards.iter().sum::<u128>());
        if a.stop_out.is_none() {
            prop_assert_eq!(a.total_awarded, 0);
        } else if !a.undersubscribed {
            // Covered: at least the offering, and above it only by rounding up the
            // percentage (< A_L/10000 + one increment per bid at the stop-out).
            prop_assert!(a.total_awarded >= terms.offering);
            let at_stop: Vec<usize> = (0..bids.len())
                .filter(|&i| bids[i].kind == BidKind::Competitive(a.stop_out.unwrap()))
                .collect();
            let a_l: u128 = at_stop.iter().map(|&i| a.recognized[i]).sum();
            let bound = a_l / u128::from(FULL_BP) + M * (at_stop.len() as u128) + M;
            prop_assert!(a.total_awarded - terms.offering <= bound);
        } else {
            prop_assert_eq!(a.total_awarded, a.recognized.iter().sum::<u128>());
        }
    }

    #[test]
    fn the_outcome_does_not_depend_on_arrival_order(bids in bids(), offering_units in 1u128..20_000) {
        let terms = Terms { offering: offering_units * M, increment: M, award_cap_bp: 3_500 };
        let a = allot(&terms, &bids);
        let mut reversed = bids.clone();
        reversed.reverse();
        let b = allot(&terms, &reversed);
        let mut back = b.awards.clone();
        back.reverse();
        prop_assert_eq!(a.stop_out, b.stop_out);
        prop_assert_eq!(a.pct_bp, b.pct_bp);
        prop_assert_eq!(a.awards, back);
    }
}
