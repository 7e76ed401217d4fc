//! Bounded building blocks for the canonical encoding.
//!
//! Every variable-length field in a Tally encoding has its bound in its type, so that
//! decoding needs no configuration (`Cfg = ()`) and no input can make a decoder allocate
//! more than the bound allows. Structs are encoded as the concatenation of their fields in
//! declaration order ([`crate::codec_struct!`]); enums as a `u8` tag followed by the variant.

use bytes::{Buf as _, BufMut};
use commonware_codec::Buf;
use commonware_codec::{EncodeSize, Error, RangeCfg, Read, ReadExt, Write};
use core::ops::Deref;

/// Implements `Write`, `EncodeSize` and `Read<Cfg = ()>` for a struct as the concatenation
/// of the listed fields, in the order given (which must be the declaration order).
#[macro_export]
macro_rules! codec_struct {
    ($name:ident { $($field:ident),* $(,)? }) => {
        impl ::commonware_codec::Write for $name {
            fn write(&self, buf: &mut impl ::bytes::BufMut) {
                $( ::commonware_codec::Write::write(&self.$field, buf); )*
            }
        }
        impl ::commonware_codec::EncodeSize for $name {
            fn encode_size(&self) -> usize {
                0 $( + ::commonware_codec::EncodeSize::encode_size(&self.$field) )*
            }
        }
        impl ::commonware_codec::Read for $name {
            type Cfg = ();
            fn read_cfg(
                buf: &mut impl ::commonware_codec::Buf,
                _: &(),
            ) -> Result<Self, ::commonware_codec::Error> {
                Ok(Self { $( $field: ::commonware_codec::ReadExt::read(buf)?, )* })
            }
        }
    };
}

/// A vector of at most `MAX` items, length-prefixed with a varint.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BoundedVec<T, const MAX: usize>(Vec<T>);

impl<T, const MAX: usize> BoundedVec<T, MAX> {
    /// Wraps `items`, or returns `None` if there are more than `MAX`.
    pub fn new(items: Vec<T>) -> Option<Self> {
        (items.len() <= MAX).then_some(Self(items))
    }

    /// The empty vector.
    pub const fn empty() -> Self {
        Self(Vec::new())
    }

    /// Unwraps into the inner vector.
    pub fn into_inner(self) -> Vec<T> {
        self.0
    }
}

impl<T, const MAX: usize> Default for BoundedVec<T, MAX> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<T, const MAX: usize> Deref for BoundedVec<T, MAX> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<T: Write, const MAX: usize> Write for BoundedVec<T, MAX> {
    fn write(&self, buf: &mut impl BufMut) {
        self.0.len().write(buf);
        for item in &self.0 {
            item.write(buf);
        }
    }
}

impl<T: EncodeSize, const MAX: usize> EncodeSize for BoundedVec<T, MAX> {
    fn encode_size(&self) -> usize {
        self.0.len().encode_size() + self.0.iter().map(EncodeSize::encode_size).sum::<usize>()
    }
}

impl<T: Read<Cfg = ()>, const MAX: usize> Read for BoundedVec<T, MAX> {
    type Cfg = ();
    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, Error> {
        let items = Vec::<T>::read_cfg(buf, &(RangeCfg::new(0..=MAX), ()))?;
        Ok(Self(items))
    }
}

/// UTF-8 text of at most `MAX` bytes with no control characters.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Text<const MAX: usize>(String);

impl<const MAX: usize> Text<MAX> {
    /// Validates and wraps `s`: at most `MAX` bytes, no control characters.
    pub fn new(s: impl Into<String>) -> Option<Self> {
        let s = s.into();
        Self::valid(&s).then_some(Self(s))
    }

    fn valid(s: &str) -> bool {
        s.len() <= MAX && !s.chars().any(|c| c.is_control() || is_invisible(c))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<const MAX: usize> core::fmt::Display for Text<MAX> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

impl<const MAX: usize> Write for Text<MAX> {
    fn write(&self, buf: &mut impl BufMut) {
        self.0.len().write(buf);
        buf.put_slice(self.0.as_bytes());
    }
}

impl<const MAX: usize> EncodeSize for Text<MAX> {
    fn encode_size(&self) -> usize {
        self.0.len().encode_size() + self.0.len()
    }
}

impl<const MAX: usize> Read for Text<MAX> {
    type Cfg = ();
    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, Error> {
        let len = usize::read_cfg(buf, &RangeCfg::new(0..=MAX))?;
        if buf.remaining() < len {
            return Err(Error::EndOfBuffer);
        }
        let mut bytes = vec![0u8; len];
        buf.copy_to_slice(&mut bytes);
        let s = String::from_utf8(bytes).map_err(|_| Error::Invalid("Text", "not UTF-8"))?;
        if !Self::valid(&s) {
            return Err(Error::Invalid("Text", "control character"));
        }
        Ok(Self(s))
    }
}

/// Zero-width, bidirectional-override and other invisible format characters, which would
/// let a name display as something it is not.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

/// Reads exactly `N` bytes.
pub(crate) fn read_bytes<const N: usize>(buf: &mut impl Buf) -> Result<[u8; N], Error> {
    <[u8; N]>::read(buf)
}
