//! Ledger time: instants in milliseconds since the Unix epoch, and calendar dates.
//!
//! Time enters the ledger only from the block being applied; nothing here reads a clock.
//! Dates are whole days since 1970-01-01 (UTC), converted to and from the proleptic
//! Gregorian calendar with integer arithmetic.

use bytes::BufMut;
use commonware_codec::Buf;
use commonware_codec::{Error, FixedSize, Read, Write};
use core::fmt;

/// Milliseconds in a day.
pub const MS_PER_DAY: u64 = 86_400_000;

/// An instant: milliseconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// The calendar date (UTC) this instant falls on.
    pub fn date(self) -> Date {
        // Instants past the last representable date map to it.
        Date(
            u32::try_from(self.0 / MS_PER_DAY)
                .unwrap_or(u32::MAX)
                .min(Date::MAX.0),
        )
    }

    /// `self + ms`, saturating.
    pub fn plus_ms(self, ms: u64) -> Self {
        Self(self.0.saturating_add(ms))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms_of_day = self.0 % MS_PER_DAY;
        let secs = ms_of_day / 1000;
        write!(
            f,
            "{}T{:02}:{:02}:{:02}.{:03}Z",
            self.date(),
            secs / 3600,
            (secs / 60) % 60,
            secs % 60,
            ms_of_day % 1000
        )
    }
}

/// A calendar date: days since 1970-01-01.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub u32);

impl Date {
    /// The last date the ledger represents: 9999-12-31.
    pub const MAX: Date = Date(2_932_896);

    /// The date for a (year, month, day), if it exists and is on or after 1970-01-01.
    pub fn from_ymd(year: u32, month: u32, day: u32) -> Option<Self> {
        if !(1970..=9999).contains(&year) || !(1..=12).contains(&month) {
            return None;
        }
        if day == 0 || day > days_in_month(year, month) {
            return None;
        }
        // Days from civil (H. Hinnant), shifted so the year starts in March.
        let y = if month <= 2 { year - 1 } else { year };
        let era = y / 400;
        let yoe = y - era * 400;
        let mp = (month + 9) % 12;
        let doy = (153 * mp + 2) / 5 + day - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe;
        days.checked_sub(719_468).map(Self)
    }

    /// The (year, month, day) of this date.
    pub fn ymd(self) -> (u32, u32, u32) {
        // Dates are at most Date::MAX (decoding refuses later ones), so this cannot overflow.
        let z = self.0.min(Date::MAX.0) + 719_468;
        let era = z / 146_097;
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + u32::from(month <= 2);
        (year, month, day)
    }

    /// Parses `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let num = |r: core::ops::Range<usize>| -> Option<u32> {
            b[r].iter().try_fold(0u32, |acc, &c| {
                c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
            })
        };
        Self::from_ymd(num(0..4)?, num(5..7)?, num(8..10)?)
    }

    /// Midnight UTC at the start of this date.
    pub fn start(self) -> Timestamp {
        Timestamp(u64::from(self.0) * MS_PER_DAY)
    }

    /// The same day `months` later, clamped to the month's last day.
    pub fn add_months(self, months: u32) -> Option<Self> {
        let (y, m, d) = self.ymd();
        let total = (y * 12 + (m - 1)).checked_add(months)?;
        let (ny, nm) = (total / 12, total % 12 + 1);
        Self::from_ymd(ny, nm, d.min(days_in_month(ny, nm)))
    }
}

/// Number of days in a month of a year.
pub fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

fn is_leap(year: u32) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

macro_rules! wrap_codec {
    ($name:ident, $inner:ty) => {
        impl Write for $name {
            fn write(&self, buf: &mut impl BufMut) {
                self.0.write(buf);
            }
        }
        impl FixedSize for $name {
            const SIZE: usize = <$inner>::SIZE;
        }
        impl Read for $name {
            type Cfg = ();
            fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, Error> {
                Ok(Self(<$inner>::read_cfg(buf, &())?))
            }
        }
    };
}
wrap_codec!(Timestamp, u64);

impl Write for Date {
    fn write(&self, buf: &mut impl BufMut) {
        self.0.write(buf);
    }
}
impl FixedSize for Date {
    const SIZE: usize = u32::SIZE;
}
impl Read for Date {
    type Cfg = ();
    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, Error> {
        let d = u32::read_cfg(buf, &())?;
        if d > Date::MAX.0 {
            return Err(Error::Invalid("Date", "after 9999-12-31"));
        }
        Ok(Self(d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_bounded() {
        assert_eq!(Date::MAX.to_string(), "9999-12-31");
        assert_eq!(Timestamp(u64::MAX).date(), Date::MAX);
        let _ = Timestamp(u64::MAX).to_string();
        use commonware_codec::{DecodeExt as _, Encode as _};
        let late = (Date::MAX.0 + 1).encode();
        assert!(Date::decode(late).is_err());
    }

    #[test]
    fn known_dates() {
        assert_eq!(Date::from_ymd(1970, 1, 1), Some(Date(0)));
        assert_eq!(Date::from_ymd(2000, 3, 1), Some(Date(11_017)));
        assert_eq!(Date::parse("2026-11-23").unwrap().to_string(), "2026-11-23");
        assert_eq!(Date::parse("2026-02-29"), None);
        assert_eq!(Date::parse("2024-02-29").unwrap().ymd(), (2024, 2, 29));
        assert_eq!(
            Date::parse("2026-08-31")
                .unwrap()
                .add_months(6)
                .unwrap()
                .to_string(),
            "2027-02-28"
        );
        assert_eq!(Timestamp(1_000).to_string(), "1970-01-01T00:00:01.000Z");
    }

    proptest::proptest! {
        #[test]
        fn civil_round_trip(days in 0u32..2_900_000) {
            let d = Date(days);
            let (y, m, dd) = d.ymd();
            proptest::prop_assert_eq!(Date::from_ymd(y, m, dd), Some(d));
            proptest::prop_assert_eq!(Date::parse(&d.to_string()), Some(d));
        }
    }
}
