//! Single-price Treasury auction arithmetic (31 CFR part 356 and its Appendix B), as pure
//! integer functions: who is awarded what at the close, the stop-out rate, the proration
//! percentage, the single price, and what each winner pays. `docs/lifecycle-design.md`
//! states the rules (§1), the formulas (§2) and the worked examples the tests below
//! reproduce (§4).
//!
//! Prices are exact rationals over arbitrary-precision integers, rounded once, half up,
//! to six decimals per 100 of par: no floating point and no intermediate rounding.

use num_bigint::BigUint;
use tally_types::{Amount, Rate};

/// One rate step of 1/8%: note and bond coupons are multiples of it (R9).
pub const EIGHTH_PERCENT: Rate = Rate(1_250_000);
/// Basis points in 100%.
pub const FULL_BP: u32 = 10_000;

/// What a bid asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BidKind {
    /// Any amount at the auction's price (accepted in full first).
    Noncompetitive,
    /// At this yield or discount rate or better.
    Competitive(Rate),
}

/// A bid as the close sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bid {
    /// The bidder (an index the caller maps to a participant): the 35% cap is per bidder.
    pub bidder: u32,
    /// Noncompetitive or competitive at a rate.
    pub kind: BidKind,
    /// Par amount, a multiple of the increment.
    pub amount: Amount,
    /// Submission order, to break ties when applying the cap (never the price).
    pub seq: u64,
}

/// The announced terms the close needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Terms {
    /// Par amount offered.
    pub offering: Amount,
    /// Minimum to bid and multiple of every bid and award.
    pub increment: Amount,
    /// Largest award per competitive bidder, in basis points of the offering (3,500).
    pub award_cap_bp: u32,
}

/// The outcome of the close.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allotment {
    /// The highest accepted competitive rate; `None` if there was no competitive bid (the
    /// auction fails).
    pub stop_out: Option<Rate>,
    /// The lowest accepted competitive rate.
    pub low_rate: Option<Rate>,
    /// Share of each bid at the stop-out that is awarded, in basis points (rounded up).
    pub pct_bp: u32,
    /// Award per bid, in the order of the input.
    pub awards: Vec<Amount>,
    /// Par each bid counted for after the cap, in the order of the input.
    pub recognized: Vec<Amount>,
    /// Noncompetitive par (all accepted).
    pub noncompetitive: Amount,
    /// Everything awarded (what is issued).
    pub total_awarded: Amount,
    /// Par bid, as submitted (before the cap).
    pub tendered: Amount,
    /// Fewer recognized bids than the offering: all accepted, at 100%.
    pub undersubscribed: bool,
}

impl Allotment {
    /// Awarded beyond the offering (rounding up the percentage and awards), or, if
    /// negative, left unsold.
    pub fn over_allotment(&self, terms: &Terms) -> i128 {
        // Both are bounded by the sum of the bids, far below i128's range.
        i128::try_from(self.total_awarded).unwrap_or(i128::MAX)
            - i128::try_from(terms.offering).unwrap_or(i128::MAX)
    }

    /// Bid-to-cover in hundredths, half up (`142` is 1.42); `None` if nothing was awarded.
    pub fn bid_to_cover_hundredths(&self) -> Option<u128> {
        (self.total_awarded > 0)
            .then(|| div_round_half_up(self.tendered.saturating_mul(100), self.total_awarded))
    }
}

fn div_ceil(n: u128, d: u128) -> u128 {
    n.div_ceil(d)
}

fn div_round_half_up(n: u128, d: u128) -> u128 {
    // n/d rounded half up, without forming 2n + d (which could overflow).
    n / d + u128::from(n % d >= d - d / 2)
}

/// Closes an auction: the cap, the stop-out, the proration and every award (design §3).
/// The result depends only on the bids' content, not on their order in `bids` (ties at
/// one bidder's rate are broken by `seq` when applying the cap).
pub fn allot(terms: &Terms, bids: &[Bid]) -> Allotment {
    let m = terms.increment.max(1);
    let noncompetitive: Amount = bids
        .iter()
        .filter(|b| b.kind == BidKind::Noncompetitive)
        .fold(0, |t: Amount, b| t.saturating_add(b.amount));
    // Saturating throughout: amounts are bounded by supply, but nothing here may panic
    // whatever the input.
    let tendered: Amount = bids.iter().fold(0, |t, b| t.saturating_add(b.amount));
    let remaining = terms.offering.saturating_sub(noncompetitive);
    let cap = terms
        .offering
        .saturating_mul(u128::from(terms.award_cap_bp))
        / u128::from(FULL_BP)
        / m
        * m;

    // The cap (R10): each bidder's competitive bids count from its lowest rate up.
    let mut order: Vec<usize> = (0..bids.len())
        .filter(|&i| matches!(bids[i].kind, BidKind::Competitive(_)))
        .collect();
    let rate_of = |i: usize| match bids[i].kind {
        BidKind::Competitive(r) => r,
        BidKind::Noncompetitive => Rate(0),
    };
    order.sort_by_key(|&i| (bids[i].bidder, rate_of(i), bids[i].seq, i));
    let mut recognized = vec![0; bids.len()];
    let mut used: Option<(u32, Amount)> = None;
    for &i in &order {
        let b = &bids[i];
        let so_far = match used {
            Some((bidder, n)) if bidder == b.bidder => n,
            _ => 0,
        };
        let take = b.amount.min(cap.saturating_sub(so_far));
        recognized[i] = take;
        used = Some((b.bidder, so_far.saturating_add(take)));
    }
    for (i, b) in bids.iter().enumerate() {
        if b.kind == BidKind::Noncompetitive {
            recognized[i] = b.amount;
        }
    }

    // The stop-out: the first rate level at which the recognized par covers what is left.
    let mut levels: Vec<(Rate, Amount)> = Vec::new();
    let mut by_rate: Vec<usize> = order.clone();
    by_rate.sort_by_key(|&i| rate_of(i));
    for &i in &by_rate {
        match levels.last_mut() {
            Some((r, total)) if *r == rate_of(i) => *total = total.saturating_add(recognized[i]),
            _ => levels.push((rate_of(i), recognized[i])),
        }
    }
    let mut awards = vec![0; bids.len()];
    for (i, b) in bids.iter().enumerate() {
        if b.kind == BidKind::Noncompetitive {
            awards[i] = b.amount;
        }
    }
    let low_rate = levels.iter().find(|(_, a)| *a > 0).map(|(r, _)| *r);
    let mut below: Amount = 0;
    let mut stop = None;
    for &(rate, at) in &levels {
        if at == 0 {
            continue;
        }
        if below.saturating_add(at) >= remaining {
            stop = Some((rate, at));
            break;
        }
        below = below.saturating_add(at);
    }
    let (stop_out, pct_bp, undersubscribed) = match stop {
        Some((rate, at)) => {
            let q = remaining - below;
            let pct = div_ceil(q.saturating_mul(u128::from(FULL_BP)), at);
            (Some(rate), u32::try_from(pct).unwrap_or(FULL_BP), false)
        }
        None => (
            levels.iter().rev().find(|(_, a)| *a > 0).map(|(r, _)| *r),
            FULL_BP,
            true,
        ),
    };
    if let Some(l) = stop_out {
        for &i in &order {
            let r = rate_of(i);
            awards[i] = if r < l || undersubscribed {
                recognized[i]
            } else if r == l {
                div_ceil(
                    recognized[i].saturating_mul(u128::from(pct_bp)),
                    u128::from(FULL_BP) * m,
                ) * m
            } else {
                0
            };
        }
    } else {
        // No competitive bid: the auction fails and nothing is awarded.
        awards.iter_mut().for_each(|a| *a = 0);
    }
    let total_awarded = awards.iter().fold(0, |t: Amount, a| t.saturating_add(*a));
    Allotment {
        stop_out,
        low_rate,
        pct_bp,
        awards,
        recognized,
        noncompetitive,
        total_awarded,
        tendered,
        undersubscribed,
    }
}

/// A price per 100 of par, as an exact fraction `num / den`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExactPrice {
    /// Numerator.
    pub num: BigUint,
    /// Denominator (never zero).
    pub den: BigUint,
}

impl ExactPrice {
    /// Rounded half up to six decimals: millionths per 100 of par (`98_913_642` is
    /// 98.913642).
    pub fn micros(&self) -> u128 {
        let n = &self.num * 2u32 * 1_000_000u32 + &self.den;
        let d = &self.den * 2u32;
        u128::try_from(n / d).unwrap_or(u128::MAX)
    }
}

fn big(v: u128) -> BigUint {
    BigUint::from(v)
}

/// Bill price per 100 from the discount rate `d` and the days `r` from issue to
/// maturity: `100·(1 − d·r/360)` (Appendix B). `None` if the discount exceeds par.
pub fn bill_price(discount: Rate, days: u32) -> Option<ExactPrice> {
    let one = u128::from(Rate::ONE);
    let taken = u128::from(discount.0) * u128::from(days);
    let whole = 360 * one;
    (taken <= whole).then(|| ExactPrice {
        num: big(100 * (whole - taken)),
        den: big(whole),
    })
}

/// Note or bond price per 100 from the annual coupon, the yield and the first period
/// (Appendix B, regular first period): `r` days from issue to the first interest date,
/// `s` days in the half-year ending then, `n` full half-years from then to maturity.
/// Returns the price (accrued interest excluded) and the accrued interest per 100.
/// `None` for a degenerate period (`s = 0` or `r > s`).
pub fn note_price(
    coupon: Rate,
    yield_: Rate,
    r: u32,
    s: u32,
    n: u32,
) -> Option<(ExactPrice, ExactPrice)> {
    if s == 0 || r > s {
        return None;
    }
    let one = big(u128::from(Rate::ONE));
    let b = &one * 2u32; // 2·10^9
    let y = big(u128::from(yield_.0));
    let a = &b + &y; // 2·10^9 + Y
    let (r, s) = (big(u128::from(r)), big(u128::from(s)));
    // Per 100 of par: C/2 = 50·c/10^9.
    let half_coupon_num = big(50 * u128::from(coupon.0));
    let half_coupon_den = one.clone();
    let an = num_traits_pow(&a, n);
    let bn = num_traits_pow(&b, n);
    // numerator = C/2 + (C/2)·a_n + 100·v^n, over the common denominator.
    //   v^n = bn/an;  a_n = 2·10^9·(an − bn)/(Y·an), or n when Y = 0.
    let (sum_num, sum_den) = if yield_.0 == 0 {
        let n_big = big(u128::from(n));
        // C/2·(1 + n) + 100
        (
            &half_coupon_num * (n_big + 1u32) + &half_coupon_den * 100u32,
            half_coupon_den.clone(),
        )
    } else {
        // C/2 + C/2·(b·(an − bn))/(Y·an) + 100·bn/an, over den = 10^9·Y·an
        let den = &half_coupon_den * &y * &an;
        let num = &half_coupon_num * &y * &an
            + &half_coupon_num * &b * (&an - &bn)
            + big(100) * &bn * &half_coupon_den * &y;
        (num, den)
    };
    // Divide by 1 + (r/s)(i/2) = (b·s + r·Y) / (b·s).
    let div_num = &b * &s + &r * &y;
    let div_den = &b * &s;
    let dirty_num = sum_num * &div_den;
    let dirty_den = sum_den * &div_num;
    // Accrued A = (C/2)·(s − r)/s.
    let acc_num = &half_coupon_num * (&s - &r);
    let acc_den = &half_coupon_den * &s;
    // P = dirty − A.
    let p_num = &dirty_num * &acc_den;
    let a_scaled = &acc_num * &dirty_den;
    if a_scaled > p_num {
        return None;
    }
    Some((
        ExactPrice {
            num: p_num - a_scaled,
            den: dirty_den * &acc_den,
        },
        ExactPrice {
            num: acc_num,
            den: acc_den,
        },
    ))
}

fn num_traits_pow(base: &BigUint, exp: u32) -> BigUint {
    base.pow(exp)
}

/// The coupon of a new note or bond: the stop-out yield rounded down to a multiple of
/// 1/8%, at least 1/8% (R9).
pub fn coupon_from_stop(stop: Rate) -> Rate {
    Rate((stop.0 / EIGHTH_PERCENT.0 * EIGHTH_PERCENT.0).max(EIGHTH_PERCENT.0))
}

/// What a winner pays for `award` units of par at `price_micros` per 100 plus `accrued`
/// per 100, in cash minor units: `round_half_up(award·(price + accrued)/100)`, with
/// `10^(cash_scale − security_scale)` applied (design §2.5). `None` if the cash scale is
/// below the security's.
pub fn cost(
    award: Amount,
    price_micros: u128,
    accrued: &ExactPrice,
    security_scale: u8,
    cash_scale: u8,
) -> Option<Amount> {
    let shift = cash_scale.checked_sub(security_scale)?;
    let unit = big(10u128.checked_pow(u32::from(shift))?);
    // award·(price_micros/10^6 + acc_num/acc_den)/100·unit
    let num = (big(award) * big(price_micros) * &accrued.den
        + big(award) * &accrued.num * 1_000_000u32)
        * &unit;
    let den = &accrued.den * 100_000_000u32;
    let rounded = (num * 2u32 + &den) / (den * 2u32);
    u128::try_from(rounded).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: Amount = 100;

    fn pct(s: &str) -> Rate {
        Rate::parse_percent(s).unwrap()
    }

    fn comp(bidder: u32, rate: &str, amount: Amount, seq: u64) -> Bid {
        Bid {
            bidder,
            kind: BidKind::Competitive(pct(rate)),
            amount,
            seq,
        }
    }

    fn noncomp(bidder: u32, amount: Amount, seq: u64) -> Bid {
        Bid {
            bidder,
            kind: BidKind::Noncompetitive,
            amount,
            seq,
        }
    }

    fn zero_accrued() -> ExactPrice {
        ExactPrice {
            num: BigUint::from(0u32),
            den: BigUint::from(1u32),
        }
    }

    /// Pays for each award, in cents (security scale 0: one unit is $1 of par).
    fn pays(a: &Allotment, price: u128, accrued: &ExactPrice) -> Vec<Amount> {
        a.awards
            .iter()
            .map(|&w| cost(w, price, accrued, 0, 2).unwrap())
            .collect()
    }

    #[test]
    fn the_2023_twenty_year_bond_prices_as_treasury_published() {
        // Design §2.4: 3 7/8% coupon, 3.954% high yield, r = 168, s = 184, n = 39.
        let (price, accrued) = note_price(pct("3.875"), pct("3.954"), 168, 184, 39).unwrap();
        assert_eq!(price.micros(), 98_913_642);
        // $1.68478 per $1,000: 0.168478… per 100.
        let per_1000_in_hundred_thousandths =
            (&accrued.num * 1_000_000u32 * 10u32 / &accrued.den).to_string();
        assert_eq!(per_1000_in_hundred_thousandths, "1684782");
        assert_eq!(coupon_from_stop(pct("3.954")), pct("3.875"));
    }

    #[test]
    fn example_1_covered_note_auction() {
        // Design §4.1: N1, N2 noncompetitive; D1..D5 (bidders 3..7) competitive.
        let terms = Terms {
            offering: 100_000_000,
            increment: M,
            award_cap_bp: 3_500,
        };
        let bids = [
            noncomp(1, 5_000_000, 0),
            noncomp(2, 2_400_000, 1),
            comp(3, "4.020", 20_000_000, 2),
            comp(4, "4.045", 30_000_000, 3),
            comp(5, "4.060", 25_000_000, 4),
            comp(3, "4.080", 15_000_000, 5),
            comp(6, "4.080", 10_000_000, 6),
            comp(4, "4.100", 5_000_000, 7),
            comp(7, "4.110", 30_000_000, 8),
        ];
        let a = allot(&terms, &bids);
        assert_eq!(a.stop_out, Some(pct("4.080")));
        assert_eq!(a.pct_bp, 7_040);
        assert_eq!(
            a.awards,
            vec![
                5_000_000, 2_400_000, 20_000_000, 30_000_000, 25_000_000, 10_560_000, 7_040_000, 0,
                0
            ]
        );
        assert_eq!(a.total_awarded, 100_000_000);
        assert_eq!(a.over_allotment(&terms), 0);
        assert_eq!(a.bid_to_cover_hundredths(), Some(142));
        let coupon = coupon_from_stop(a.stop_out.unwrap());
        assert_eq!(coupon, pct("4"));
        let (price, accrued) = note_price(coupon, pct("4.080"), 184, 184, 3).unwrap();
        assert_eq!(price.micros(), 99_847_839);
        let p = pays(&a, price.micros(), &accrued);
        assert_eq!(p[0], 499_239_195); // N1 $4,992,391.95
        assert_eq!(p[1], 239_634_814); // N2 $2,396,348.14
        // D1's two winning bids are paid together: 30,560,000 → $30,513,499.60.
        assert_eq!(
            cost(30_560_000, price.micros(), &accrued, 0, 2),
            Some(3_051_349_960)
        );
        assert_eq!(p[6], 702_928_787); // D4 $7,029,287.87
    }

    #[test]
    fn example_2_ties_at_the_stop_out_round_up() {
        // Design §4.2: 13-week bill, 91 days.
        let terms = Terms {
            offering: 50_000_000,
            increment: M,
            award_cap_bp: 3_500,
        };
        let bids = [
            noncomp(1, 1_000_000, 0),
            noncomp(2, 250_000, 1),
            comp(3, "5.200", 10_000_000, 2),
            comp(4, "5.210", 15_000_000, 3),
            comp(5, "5.225", 12_345_600, 4),
            comp(6, "5.225", 9_876_500, 5),
            comp(7, "5.225", 8_765_400, 6),
            comp(3, "5.240", 5_000_000, 7),
            comp(4, "5.250", 2_000_000, 8),
        ];
        let a = allot(&terms, &bids);
        assert_eq!(a.stop_out, Some(pct("5.225")));
        assert_eq!(a.pct_bp, 7_665);
        assert_eq!(&a.awards[4..7], &[9_463_000, 7_570_400, 6_718_700]);
        assert_eq!(a.total_awarded, 50_002_100);
        assert_eq!(a.over_allotment(&terms), 2_100);
        assert_eq!(a.bid_to_cover_hundredths(), Some(128));
        let price = bill_price(pct("5.225"), 91).unwrap();
        assert_eq!(price.micros(), 98_679_236);
        let p = pays(&a, price.micros(), &zero_accrued());
        assert_eq!(p[0], 98_679_236); // $986,792.36
        assert_eq!(p[4], 933_801_610); // D3 $9,338,016.10
        assert_eq!(p[5], 747_041_288); // D4 $7,470,412.88
        assert_eq!(p[6], 662_996_183); // D5 $6,629,961.83
    }

    #[test]
    fn example_3_undersubscribed() {
        // Design §4.3: 26-week bill, 182 days.
        let terms = Terms {
            offering: 50_000_000,
            increment: M,
            award_cap_bp: 3_500,
        };
        let bids = [
            noncomp(1, 2_000_000, 0),
            comp(2, "5.100", 17_000_000, 1),
            comp(3, "5.150", 15_000_000, 2),
            comp(4, "5.180", 6_000_000, 3),
        ];
        let a = allot(&terms, &bids);
        assert!(a.undersubscribed);
        assert_eq!(a.stop_out, Some(pct("5.180")));
        assert_eq!(a.pct_bp, 10_000);
        assert_eq!(a.awards, vec![2_000_000, 17_000_000, 15_000_000, 6_000_000]);
        assert_eq!(a.over_allotment(&terms), -10_000_000);
        assert_eq!(a.bid_to_cover_hundredths(), Some(100));
        let price = bill_price(pct("5.180"), 182).unwrap();
        assert_eq!(price.micros(), 97_381_222);
        let p = pays(&a, price.micros(), &zero_accrued());
        assert_eq!(
            p,
            vec![194_762_444, 1_655_480_774, 1_460_718_330, 584_287_332]
        );
    }

    #[test]
    fn example_4_the_35_percent_cap_binds() {
        // Design §4.4: D1 bids 50M at the lowest rate and is capped at 35M.
        let terms = Terms {
            offering: 100_000_000,
            increment: M,
            award_cap_bp: 3_500,
        };
        let bids = [
            noncomp(1, 5_000_000, 0),
            comp(2, "5.100", 50_000_000, 1),
            comp(3, "5.120", 25_000_000, 2),
            comp(4, "5.130", 20_000_000, 3),
            comp(5, "5.140", 30_000_000, 4),
            comp(2, "5.150", 10_000_000, 5),
        ];
        let a = allot(&terms, &bids);
        assert_eq!(a.recognized[1], 35_000_000);
        assert_eq!(a.recognized[5], 0);
        assert_eq!(a.stop_out, Some(pct("5.140")));
        assert_eq!(a.pct_bp, 5_000);
        assert_eq!(
            a.awards,
            vec![5_000_000, 35_000_000, 25_000_000, 20_000_000, 15_000_000, 0]
        );
        assert_eq!(a.bid_to_cover_hundredths(), Some(140));
        let price = bill_price(pct("5.140"), 91).unwrap();
        assert_eq!(price.micros(), 98_700_722);
        let p = pays(&a, price.micros(), &zero_accrued());
        assert_eq!(p[1], 3_454_525_270); // D1 $34,545,252.70
        // Without the cap, D1's 50M would fill the offering at 5.130%.
        let uncapped = allot(
            &Terms {
                award_cap_bp: FULL_BP,
                ..terms
            },
            &bids,
        );
        assert_eq!(uncapped.stop_out, Some(pct("5.130")));
    }

    #[test]
    fn no_competitive_bid_fails_the_auction() {
        let terms = Terms {
            offering: 1_000_000,
            increment: M,
            award_cap_bp: 3_500,
        };
        let a = allot(&terms, &[noncomp(1, 10_000, 0)]);
        assert_eq!(a.stop_out, None);
        assert_eq!(a.total_awarded, 0);
    }
}
