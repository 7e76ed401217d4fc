//! Coupon schedules and per-unit payment amounts for notes and bonds (ACT/ACT ICMA,
//! 31 CFR 356 Appendix B I.A), as integer arithmetic. `docs/lifecycle.md` §3 states the
//! rules with a worked example.
//!
//! Coupon dates run back from maturity in steps of six months: the `k`-th is
//! `maturity − 6k months`, computed directly (not by repeated steps) and clamped to the
//! month's last day; if the maturity is the last day of its month, every coupon date is a
//! month end. A regular half-year pays `c/2` whatever its length; a short first period
//! (dated date after the cycle date before the first coupon) pays `c/2 · days/period`.

use num_bigint::BigUint;
use tally_types::model::CouponTerms;
use tally_types::time::days_in_month;
use tally_types::{Amount, Date, Rate};

/// Half-years counted at most (a 100-year bond has 200).
const MAX_PERIODS: u32 = 240;

/// `d` moved back `months` months, clamped to the month's end; with `end_of_month`, the
/// result is always the last day of its month.
pub fn sub_months(d: Date, months: u32, end_of_month: bool) -> Option<Date> {
    let (y, m, day) = d.ymd();
    let total = (y * 12 + (m - 1)).checked_sub(months)?;
    let (ny, nm) = (total / 12, total % 12 + 1);
    let last = days_in_month(ny, nm);
    Date::from_ymd(ny, nm, if end_of_month { last } else { day.min(last) })
}

/// The `k`-th coupon date counted back from maturity (`k = 0` is the maturity itself).
pub fn coupon_date(maturity: Date, k: u32) -> Option<Date> {
    let (y, m, d) = maturity.ymd();
    sub_months(maturity, 6 * k, d == days_in_month(y, m))
}

/// Whether the dated date is itself a coupon date (a regular first period).
pub fn on_cycle(terms: &CouponTerms) -> bool {
    (0..=MAX_PERIODS).any(|k| coupon_date(terms.maturity_date, k) == Some(terms.dated_date))
}

/// The first payment date strictly after `after` and after the dated date, with its
/// index `k` (0 = maturity). `None` once the maturity is not after `after`.
pub fn next_payment(terms: &CouponTerms, after: Date) -> Option<(u32, Date)> {
    let floor = after.max(terms.dated_date);
    let mut best = None;
    for k in 0..=MAX_PERIODS {
        match coupon_date(terms.maturity_date, k) {
            Some(d) if d > floor => best = Some((k, d)),
            _ => break,
        }
    }
    best
}

/// The fraction of a half-year's coupon paid on the `k`-th date: `(1, 1)` for a regular
/// period, `(days accrued, days in the period)` for a short first period.
pub fn period_fraction(terms: &CouponTerms, k: u32) -> Option<(u32, u32)> {
    let q1 = coupon_date(terms.maturity_date, k)?;
    let q0 = coupon_date(terms.maturity_date, k + 1)?;
    if q0 >= terms.dated_date {
        return Some((1, 1));
    }
    (terms.dated_date < q1).then(|| (q1.0 - terms.dated_date.0, q1.0 - q0.0))
}

fn pow10(e: u8) -> Option<u128> {
    10u128.checked_pow(u32::from(e))
}

/// Greatest common divisor (Euclid).
pub(crate) fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

fn reduced(num: u128, den: u128) -> (u128, u128) {
    let g = gcd(num, den).max(1);
    (num / g, den / g)
}

/// Cash minor units per security minor unit for a coupon at `rate` paying `frac` of a
/// half-year: `rate/2 · frac · 10^cash_scale / 10^security_scale`, as a reduced fraction.
pub fn coupon_per_unit(
    rate: Rate,
    frac: (u32, u32),
    security_scale: u8,
    cash_scale: u8,
) -> Option<(u128, u128)> {
    let num = u128::from(rate.0)
        .checked_mul(u128::from(frac.0))?
        .checked_mul(pow10(cash_scale)?)?;
    let den = (2 * u128::from(Rate::ONE))
        .checked_mul(u128::from(frac.1))?
        .checked_mul(pow10(security_scale)?)?;
    (den != 0).then(|| reduced(num, den))
}

/// Cash minor units per security minor unit at redemption: par plus, for a note or bond,
/// the last coupon (`1 + rate/2 · frac`).
pub fn redemption_per_unit(
    last_coupon: Option<(Rate, (u32, u32))>,
    security_scale: u8,
    cash_scale: u8,
) -> Option<(u128, u128)> {
    let (rate, frac) = last_coupon.unwrap_or((Rate(0), (1, 1)));
    let half_den = (2 * u128::from(Rate::ONE)).checked_mul(u128::from(frac.1))?;
    let num = half_den
        .checked_add(u128::from(rate.0).checked_mul(u128::from(frac.0))?)?
        .checked_mul(pow10(cash_scale)?)?;
    let den = half_den.checked_mul(pow10(security_scale)?)?;
    (den != 0).then(|| reduced(num, den))
}

/// `floor(a · num / den)`, exact (arbitrary precision when `a · num` exceeds 128 bits).
/// `None` if the result does not fit an amount or `den` is zero.
pub fn mul_div_floor(a: Amount, num: u128, den: u128) -> Option<Amount> {
    if den == 0 {
        return None;
    }
    match a.checked_mul(num) {
        Some(p) => Some(p / den),
        None => u128::try_from(BigUint::from(a) * BigUint::from(num) / BigUint::from(den)).ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tally_types::model::DayCount;

    fn d(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    fn terms(rate: &str, dated: &str, maturity: &str) -> CouponTerms {
        CouponTerms {
            coupon_rate: Rate::parse_percent(rate).unwrap(),
            dated_date: d(dated),
            maturity_date: d(maturity),
            frequency: 2,
            day_count: DayCount::ActActIcma,
        }
    }

    #[test]
    fn coupon_dates_run_back_from_maturity_with_the_month_end_rule() {
        assert_eq!(coupon_date(d("2043-05-15"), 1), Some(d("2042-11-15")));
        // App. B: a maturity on a month's last day keeps every date on a month end.
        assert_eq!(coupon_date(d("2027-05-31"), 1), Some(d("2026-11-30")));
        assert_eq!(coupon_date(d("2027-08-31"), 1), Some(d("2027-02-28")));
        assert_eq!(coupon_date(d("2028-08-31"), 1), Some(d("2028-02-29")));
        // Not a month end: clamp without moving later dates to month ends.
        assert_eq!(coupon_date(d("2027-08-30"), 1), Some(d("2027-02-28")));
        assert_eq!(coupon_date(d("2027-08-30"), 2), Some(d("2026-08-30")));
    }

    #[test]
    fn the_next_payment_and_the_first_period() {
        let t = terms("4.125", "2025-05-15", "2027-05-15");
        assert!(on_cycle(&t));
        assert_eq!(
            next_payment(&t, d("2025-05-15")),
            Some((3, d("2025-11-15")))
        );
        assert_eq!(
            next_payment(&t, d("2025-11-15")),
            Some((2, d("2026-05-15")))
        );
        assert_eq!(
            next_payment(&t, d("2027-05-14")),
            Some((0, d("2027-05-15")))
        );
        assert_eq!(next_payment(&t, d("2027-05-15")), None);
        assert_eq!(period_fraction(&t, 3), Some((1, 1)));
        // Design §5.1: dated 2025-06-02, first coupon 2025-11-15 of the 05-15 → 11-15
        // half-year: 166 of 184 days.
        let short = terms("4.125", "2025-06-02", "2027-11-15");
        assert!(!on_cycle(&short));
        assert_eq!(
            next_payment(&short, d("2025-06-02")),
            Some((4, d("2025-11-15")))
        );
        assert_eq!(period_fraction(&short, 4), Some((166, 184)));
        assert_eq!(period_fraction(&short, 3), Some((1, 1)));
    }

    #[test]
    fn per_unit_amounts_and_the_design_rounding_example() {
        // Design §5.2: 3 7/8%, security scale 0 ($1 units), cash scale 2 (cents).
        let (num, den) =
            coupon_per_unit(Rate::parse_percent("3.875").unwrap(), (1, 1), 0, 2).unwrap();
        let pay = |b| mul_div_floor(b, num, den).unwrap();
        assert_eq!(
            [pay(100), pay(300), pay(12_345_600), pay(700)],
            [193, 581, 23_919_600, 1_356]
        );
        assert_eq!(pay(12_346_700), 23_921_731); // gross: retained 1 cent
        // Short first coupon per $100: 2.0625 · 166/184 = 1.8607… → 186 cents.
        let (n, dd) =
            coupon_per_unit(Rate::parse_percent("4.125").unwrap(), (166, 184), 0, 2).unwrap();
        assert_eq!(mul_div_floor(100, n, dd), Some(186));
        // Redemption of a 4% note: $100 pays $102.00; a bill pays par.
        let (n, dd) =
            redemption_per_unit(Some((Rate::parse_percent("4").unwrap(), (1, 1))), 0, 2).unwrap();
        assert_eq!(mul_div_floor(100, n, dd), Some(10_200));
        let (n, dd) = redemption_per_unit(None, 0, 2).unwrap();
        assert_eq!(mul_div_floor(100, n, dd), Some(10_000));
        // Wide intermediate products fall back to exact big integers.
        assert_eq!(
            mul_div_floor(u128::MAX / 2, 3, 1),
            None,
            "the result does not fit"
        );
        assert_eq!(mul_div_floor(u128::MAX / 4, 4, 8), Some(u128::MAX / 8));
    }
}
