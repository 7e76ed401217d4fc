//! Identifiers: participants (LEI), securities (ISIN, CUSIP), jurisdictions (ISO 3166),
//! currencies (ISO 4217), and the ledger's own numeric ids.
//!
//! Every external identifier is validated, check digits included, when it is built from
//! text and again when it is decoded, so an invalid one never enters the ledger.

use crate::codec::read_bytes;
use crate::iso_tables::{COUNTRIES, CURRENCIES};
use bytes::BufMut;
use commonware_codec::Buf;
use commonware_codec::{EncodeSize, Error, FixedSize, Read, Write};
use core::fmt;

/// Why an identifier was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// Wrong number of characters.
    #[error("{kind}: expected {expected} characters")]
    Length {
        /// Identifier kind.
        kind: &'static str,
        /// Expected length.
        expected: usize,
    },
    /// A character outside the identifier's alphabet.
    #[error("{kind}: invalid character")]
    Character {
        /// Identifier kind.
        kind: &'static str,
    },
    /// The check digit(s) do not match.
    #[error("{kind}: check digit mismatch")]
    CheckDigit {
        /// Identifier kind.
        kind: &'static str,
    },
    /// Well-formed but not an assigned code.
    #[error("{kind}: not an assigned code")]
    Unassigned {
        /// Identifier kind.
        kind: &'static str,
    },
}

/// Value of an alphanumeric character in ISO check-digit schemes: 0-9, then A=10 … Z=35.
fn alnum_value(c: u8) -> Option<u32> {
    match c {
        b'0'..=b'9' => Some(u32::from(c - b'0')),
        b'A'..=b'Z' => Some(u32::from(c - b'A') + 10),
        _ => None,
    }
}

macro_rules! fixed_text_id {
    ($(#[$doc:meta])* $name:ident, $len:expr, $kind:expr, $validate:path) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name([u8; $len]);

        impl $name {
            /// Number of characters.
            pub const LEN: usize = $len;

            /// Parses and validates.
            pub fn parse(s: &str) -> Result<Self, IdError> {
                let bytes = s.as_bytes();
                if bytes.len() != $len {
                    return Err(IdError::Length { kind: $kind, expected: $len });
                }
                let mut out = [0u8; $len];
                out.copy_from_slice(bytes);
                $validate(&out)?;
                Ok(Self(out))
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                // Validation admits ASCII only.
                core::str::from_utf8(&self.0).unwrap_or("")
            }

            /// The raw ASCII bytes.
            pub fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.as_str())
            }
        }

        impl core::str::FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::parse(s)
            }
        }

        impl Write for $name {
            fn write(&self, buf: &mut impl BufMut) {
                buf.put_slice(&self.0);
            }
        }

        impl FixedSize for $name {
            const SIZE: usize = $len;
        }

        impl Read for $name {
            type Cfg = ();
            fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, Error> {
                let raw = read_bytes::<$len>(buf)?;
                $validate(&raw).map_err(|_| Error::Invalid($kind, "invalid identifier"))?;
                Ok(Self(raw))
            }
        }

    };
}

fn validate_lei(raw: &[u8; 20]) -> Result<(), IdError> {
    const KIND: &str = "LEI";
    // ISO 17442: 18 alphanumerics then 2 numeric check digits; ISO 7064 MOD 97-10 over
    // the whole string (letters expanded to two digits) must leave 1.
    if !raw[18..].iter().all(u8::is_ascii_digit) {
        return Err(IdError::Character { kind: KIND });
    }
    let mut rem: u32 = 0;
    for &c in raw {
        let v = alnum_value(c).ok_or(IdError::Character { kind: KIND })?;
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    // Check digits 00, 01 and 99 alias 97, 98 and 02: ISO 7064 issues only 02..=98.
    let check = u32::from(raw[18] - b'0') * 10 + u32::from(raw[19] - b'0');
    if rem != 1 || !(2..=98).contains(&check) {
        return Err(IdError::CheckDigit { kind: KIND });
    }
    Ok(())
}

/// Luhn over a digit sequence whose last digit is the check digit.
fn luhn_ok(digits: &[u32]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn validate_isin(raw: &[u8; 12]) -> Result<(), IdError> {
    const KIND: &str = "ISIN";
    // ISO 6166: 2-letter prefix, 9 alphanumerics, 1 digit; Luhn over the expansion of
    // letters into two digits each.
    if !raw[..2].iter().all(u8::is_ascii_uppercase) || !raw[11].is_ascii_digit() {
        return Err(IdError::Character { kind: KIND });
    }
    let mut digits = Vec::with_capacity(24);
    for &c in raw {
        let v = alnum_value(c).ok_or(IdError::Character { kind: KIND })?;
        if v >= 10 {
            digits.push(v / 10);
            digits.push(v % 10);
        } else {
            digits.push(v);
        }
    }
    if !luhn_ok(&digits) {
        return Err(IdError::CheckDigit { kind: KIND });
    }
    Ok(())
}

/// The CUSIP check digit of the first eight characters, if they are valid characters.
pub(crate) fn cusip_check_digit(body: &[u8]) -> Option<u8> {
    let mut sum = 0u32;
    for (i, &c) in body.iter().enumerate() {
        let mut v = match c {
            b'*' => 36,
            b'@' => 37,
            b'#' => 38,
            _ => alnum_value(c)?,
        };
        if i % 2 == 1 {
            v *= 2;
        }
        sum += v / 10 + v % 10;
    }
    u8::try_from((10 - sum % 10) % 10).ok().map(|d| b'0' + d)
}

fn validate_cusip(raw: &[u8; 9]) -> Result<(), IdError> {
    const KIND: &str = "CUSIP";
    let check = cusip_check_digit(&raw[..8]).ok_or(IdError::Character { kind: KIND })?;
    if raw[8] != check {
        return Err(IdError::CheckDigit { kind: KIND });
    }
    Ok(())
}

fn validate_country(raw: &[u8; 2]) -> Result<(), IdError> {
    let s = core::str::from_utf8(raw).map_err(|_| IdError::Character { kind: "country" })?;
    COUNTRIES
        .binary_search(&s)
        .map(|_| ())
        .map_err(|_| IdError::Unassigned { kind: "country" })
}

fn validate_currency(raw: &[u8; 3]) -> Result<(), IdError> {
    let s = core::str::from_utf8(raw).map_err(|_| IdError::Character { kind: "currency" })?;
    CURRENCIES
        .binary_search(&s)
        .map(|_| ())
        .map_err(|_| IdError::Unassigned { kind: "currency" })
}

fixed_text_id!(
    /// A Legal Entity Identifier (ISO 17442): the participant's identity on the ledger.
    Lei, 20, "LEI", validate_lei
);
fixed_text_id!(
    /// An International Securities Identification Number (ISO 6166).
    Isin, 12, "ISIN", validate_isin
);
fixed_text_id!(
    /// A CUSIP (9 characters, with its check digit).
    Cusip, 9, "CUSIP", validate_cusip
);
fixed_text_id!(
    /// An ISO 3166-1 alpha-2 country code (a jurisdiction).
    Country, 2, "country", validate_country
);
fixed_text_id!(
    /// An ISO 4217 alphabetic currency code.
    Currency, 3, "currency", validate_currency
);

impl Lei {
    /// Completes an 18-character LEI prefix (LOU prefix and entity part) with its two
    /// ISO 7064 MOD 97-10 check digits.
    pub fn with_check_digits(prefix: &str) -> Result<Self, IdError> {
        const KIND: &str = "LEI";
        let bytes = prefix.as_bytes();
        if bytes.len() != 18 {
            return Err(IdError::Length {
                kind: KIND,
                expected: 18,
            });
        }
        let mut rem: u32 = 0;
        for &c in bytes.iter().chain(b"00") {
            let v = alnum_value(c).ok_or(IdError::Character { kind: KIND })?;
            rem = if v >= 10 {
                (rem * 100 + v) % 97
            } else {
                (rem * 10 + v) % 97
            };
        }
        let check = 98 - rem;
        Self::parse(&format!("{prefix}{check:02}"))
    }
}

impl Isin {
    /// The CUSIP embedded in a US or Canadian ISIN (characters 3 to 11), if any.
    pub fn embedded_cusip(&self) -> Option<Cusip> {
        matches!(&self.0[..2], b"US" | b"CA")
            .then(|| {
                core::str::from_utf8(&self.0[2..11])
                    .ok()
                    .and_then(|s| Cusip::parse(s).ok())
            })
            .flatten()
    }
}

macro_rules! numeric_id {
    ($(#[$doc:meta])* $name:ident($inner:ty)) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
                pub struct $name(pub $inner);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

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

numeric_id!(
    /// An account, chosen by the participant that opens it (unique ledger-wide).
    AccountId(u64)
);
numeric_id!(
    /// An instrument, chosen by its creator (unique ledger-wide).
    InstrumentId(u64)
);
numeric_id!(
    /// A hold (escrow), chosen by the participant that places it (unique ledger-wide).
    HoldId(u64)
);
numeric_id!(
    /// A Treasury auction, chosen by the issuer that announces it (unique ledger-wide).
    AuctionId(u64)
);
numeric_id!(
    /// A repo, chosen by its parties (unique ledger-wide).
    RepoId(u64)
);

/// A 32-byte digest (SHA-256), used for transaction ids, instruction ids, hash-locks and roots.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hash32(pub [u8; 32]);

impl Hash32 {
    /// SHA-256 of the concatenation of `parts`.
    pub fn digest(parts: &[&[u8]]) -> Self {
        use commonware_cryptography::Hasher as _;
        let mut h = commonware_cryptography::Sha256::default();
        for p in parts {
            h.update(p);
        }
        let (_, d) = h.finalize();
        Self(d.0)
    }

    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Parses 64 hex characters.
    pub fn from_hex(s: &str) -> Option<Self> {
        let s = s.as_bytes();
        if s.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, pair) in s.chunks(2).enumerate() {
            let hi = char::from(pair[0]).to_digit(16)?;
            let lo = char::from(pair[1]).to_digit(16)?;
            out[i] = u8::try_from(hi * 16 + lo).ok()?;
        }
        Some(Self(out))
    }
}

impl fmt::Display for Hash32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Hash32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash32({})", self.to_hex())
    }
}

impl Write for Hash32 {
    fn write(&self, buf: &mut impl BufMut) {
        buf.put_slice(&self.0);
    }
}

impl FixedSize for Hash32 {
    const SIZE: usize = 32;
}

impl Read for Hash32 {
    type Cfg = ();
    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, Error> {
        Ok(Self(read_bytes::<32>(buf)?))
    }
}

// `EncodeSize` for fixed-size types comes from `FixedSize` via commonware-codec's blanket
// impl; assert it here so a change in that rule is caught at compile time.
const _: fn() = || {
    fn is_encode_size<T: EncodeSize>() {}
    is_encode_size::<Lei>();
    is_encode_size::<AccountId>();
};

#[cfg(test)]
mod tests {
    use super::*;
    use commonware_codec::{DecodeExt, Encode};

    #[test]
    fn lei_known_values() {
        for s in [
            "HWUPKR0MPOU8FGXBT394",
            "5493001KJTIIGC8Y1R12",
            "529900T8BM49AURSDO55",
        ] {
            assert!(Lei::parse(s).is_ok(), "{s}");
        }
        assert_eq!(
            Lei::parse("HWUPKR0MPOU8FGXBT395"),
            Err(IdError::CheckDigit { kind: "LEI" })
        );
        assert_eq!(
            Lei::parse("HWUPKR0MPOU8FGXBT3"),
            Err(IdError::Length {
                kind: "LEI",
                expected: 20
            })
        );
        assert_eq!(
            Lei::parse("hwupkr0mpou8fgxbt394"),
            Err(IdError::Character { kind: "LEI" })
        );
    }

    #[test]
    fn lei_check_digits_are_computed() {
        let lei = Lei::with_check_digits("5493001KJTIIGC8Y1R").unwrap();
        assert_eq!(lei.as_str(), "5493001KJTIIGC8Y1R12");
    }

    #[test]
    fn isin_and_cusip_known_values() {
        let apple = Isin::parse("US0378331005").unwrap();
        assert_eq!(
            apple.embedded_cusip(),
            Some(Cusip::parse("037833100").unwrap())
        );
        assert!(Isin::parse("US0378331006").is_err());
        assert!(Isin::parse("GB0002634946").is_ok()); // BAE Systems
        assert!(Cusip::parse("91282CJL6").is_ok()); // a Treasury note
        assert!(Isin::parse("US91282CJL63").is_ok());
        assert_eq!(
            Cusip::parse("037833101"),
            Err(IdError::CheckDigit { kind: "CUSIP" })
        );
    }

    #[test]
    fn iso_codes() {
        assert!(Country::parse("US").is_ok());
        assert!(Country::parse("XX").is_err());
        assert!(Currency::parse("USD").is_ok());
        assert!(Currency::parse("ABC").is_err());
        assert!(COUNTRIES.windows(2).all(|w| w[0] < w[1]));
        assert!(CURRENCIES.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn decoding_revalidates() {
        let lei = Lei::parse("5493001KJTIIGC8Y1R12").unwrap();
        let bytes = lei.encode();
        assert_eq!(Lei::decode(bytes.clone()).unwrap(), lei);
        let mut bad = bytes.to_vec();
        bad[19] = b'3';
        assert!(Lei::decode(commonware_codec::Copying(bad.as_slice())).is_err());
    }

    proptest::proptest! {
        #[test]
        fn cusip_check_digit_detects_single_substitution(
            body in "[0-9A-Z]{8}", pos in 0usize..8, sub in "[0-9A-Z]",
        ) {
            let check = cusip_check_digit(body.as_bytes()).unwrap();
            let mut good = body.clone().into_bytes();
            good.push(check);
            let good_str = String::from_utf8(good.clone()).unwrap();
            proptest::prop_assert!(Cusip::parse(&good_str).is_ok());
            let mut bad = good;
            let new = sub.as_bytes()[0];
            // Substitutions between characters whose values differ by a multiple of 10
            // on an even position are invisible to the CUSIP scheme by design.
            let (a, b) = (alnum_value(bad[pos]).unwrap(), alnum_value(new).unwrap());
            proptest::prop_assume!(a != b);
            let fold = |v: u32| { let v = if pos % 2 == 1 { v * 2 } else { v }; v / 10 + v % 10 };
            proptest::prop_assume!(fold(a) % 10 != fold(b) % 10);
            bad[pos] = new;
            let bad_str = String::from_utf8(bad).unwrap();
            proptest::prop_assert!(Cusip::parse(&bad_str).is_err());
        }
    }
}
