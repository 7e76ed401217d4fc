//! Money and rates as integers. An amount is a count of an instrument's minor units; a
//! rate is a decimal fraction with nine places. No floating point anywhere.

use bytes::BufMut;
use commonware_codec::Buf;
use commonware_codec::{Error, FixedSize, Read, Write};
use core::fmt;

/// An amount in an instrument's minor units (e.g. cents for a scale of 2).
pub type Amount = u128;

/// A non-negative decimal fraction with nine decimal places: `Rate(41_250_000)` is
/// 0.04125, i.e. 4.125%.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rate(pub u64);

impl Rate {
    /// Units of the inner integer per 1.0.
    pub const ONE: u64 = 1_000_000_000;

    /// Parses a percentage such as `4.125` or `4.125%` (at most seven decimals).
    pub fn parse_percent(s: &str) -> Option<Self> {
        let s = s.strip_suffix('%').unwrap_or(s);
        // A percentage with 7 decimals is a fraction with 9.
        parse_fixed(s, 7).map(Self)
    }

    /// Renders as a percentage without trailing zeros, e.g. `4.125%`.
    pub fn to_percent_string(self) -> String {
        format!("{}%", format_fixed(u128::from(self.0), 7))
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_percent_string())
    }
}

impl Write for Rate {
    fn write(&self, buf: &mut impl BufMut) {
        self.0.write(buf);
    }
}
impl FixedSize for Rate {
    const SIZE: usize = 8;
}
impl Read for Rate {
    type Cfg = ();
    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, Error> {
        Ok(Self(u64::read_cfg(buf, &())?))
    }
}

/// Parses a non-negative decimal with at most `places` fractional digits into an integer
/// scaled by `10^places`.
pub fn parse_fixed<T>(s: &str, places: u32) -> Option<T>
where
    T: TryFrom<u128>,
{
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    if int.is_empty() || frac.len() > usize::try_from(places).ok()? {
        return None;
    }
    if !int.bytes().chain(frac.bytes()).all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut value: u128 = 0;
    for c in int.bytes().chain(frac.bytes()) {
        value = value.checked_mul(10)?.checked_add(u128::from(c - b'0'))?;
    }
    let missing = places - u32::try_from(frac.len()).ok()?;
    value = value.checked_mul(10u128.checked_pow(missing)?)?;
    T::try_from(value).ok()
}

/// Formats an integer scaled by `10^places` as a decimal, without trailing zeros.
pub fn format_fixed(value: u128, places: u32) -> String {
    let Some(unit) = 10u128.checked_pow(places) else {
        return value.to_string();
    };
    let (int, frac) = (value / unit, value % unit);
    if frac == 0 {
        return int.to_string();
    }
    let width = usize::try_from(places).unwrap_or(0);
    let frac = format!("{frac:0width$}");
    format!("{int}.{}", frac.trim_end_matches('0'))
}

/// Formats an amount of minor units with exactly `scale` decimals, e.g. `1234` at scale 2
/// is `12.34`.
pub fn format_amount(amount: Amount, scale: u8) -> String {
    let places = u32::from(scale);
    let Some(unit) = 10u128.checked_pow(places) else {
        return amount.to_string();
    };
    if places == 0 {
        return amount.to_string();
    }
    let width = usize::from(scale);
    format!("{}.{:0width$}", amount / unit, amount % unit)
}

/// Parses a decimal amount into minor units at `scale`, refusing excess precision.
pub fn parse_amount(s: &str, scale: u8) -> Option<Amount> {
    parse_fixed(s, u32::from(scale))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates() {
        assert_eq!(Rate::parse_percent("4.125%"), Some(Rate(41_250_000)));
        assert_eq!(Rate::parse_percent("4.125").unwrap().to_string(), "4.125%");
        assert_eq!(Rate::parse_percent("0"), Some(Rate(0)));
        assert_eq!(Rate::parse_percent("-1"), None);
        assert_eq!(Rate::parse_percent("1.12345678"), None);
    }

    #[test]
    fn amounts() {
        assert_eq!(parse_amount("12.34", 2), Some(1234));
        assert_eq!(parse_amount("12", 2), Some(1200));
        assert_eq!(parse_amount("12.345", 2), None);
        assert_eq!(parse_amount("1e5", 2), None);
        assert_eq!(format_amount(1234, 2), "12.34");
        assert_eq!(format_amount(5, 2), "0.05");
        assert_eq!(format_amount(5, 0), "5");
    }

    proptest::proptest! {
        #[test]
        fn amount_round_trip(v in 0u128..u128::MAX / 1000, scale in 0u8..=18) {
            proptest::prop_assert_eq!(parse_amount(&format_amount(v, scale), scale), Some(v));
        }
    }
}
