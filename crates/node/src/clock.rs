//! The node's notion of now: the wall clock, plus an offset that only a development
//! network may set (`tally localnet --start-at`), so that a local network can run at a
//! chosen calendar moment — a coupon date, a maturity — without waiting for it.
//!
//! The offset moves the time a proposer stamps on its blocks, the clock a voter compares
//! a candidate's time with (docs/node.md, "Time a Byzantine leader cannot push"), and the
//! time admission checks transaction expiries against; nothing else. Every validator of a
//! local network gets the same offset (`tally localnet` keeps it in the network's home).
//! Read tokens keep the wall clock: clients sign them with theirs.

use std::sync::OnceLock;

/// Environment variable holding the offset in milliseconds (development chain only).
pub const DEV_CLOCK_OFFSET_ENV: &str = "TALLY_DEV_CLOCK_OFFSET_MS";

static OFFSET_MS: OnceLock<u64> = OnceLock::new();

/// Sets the offset once, at start-up. Returns false if it was already set.
pub fn set_dev_offset_ms(ms: u64) -> bool {
    OFFSET_MS.set(ms).is_ok()
}

/// The development offset (0 unless set).
pub fn offset_ms() -> u64 {
    OFFSET_MS.get().copied().unwrap_or(0)
}

/// `wall_ms` moved by the offset.
pub fn ledger_ms(wall_ms: u64) -> u64 {
    wall_ms.saturating_add(offset_ms())
}

/// Parses the environment value: `None` if unset or zero; an error for anything but a
/// decimal number, or for a chain other than the development one.
pub fn dev_offset_from_env(chain: &str, value: Option<&str>) -> Result<Option<u64>, String> {
    let Some(v) = value else {
        return Ok(None);
    };
    let ms: u64 = v
        .trim()
        .parse()
        .map_err(|_| format!("{DEV_CLOCK_OFFSET_ENV} must be whole milliseconds, got {v:?}"))?;
    if ms == 0 {
        return Ok(None);
    }
    if chain != tally_ledger::demo::CHAIN {
        return Err(format!(
            "{DEV_CLOCK_OFFSET_ENV} is for the development chain {:?} only, not {chain:?}",
            tally_ledger::demo::CHAIN
        ));
    }
    Ok(Some(ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offset_is_for_the_development_chain_only() {
        assert_eq!(dev_offset_from_env("tally-demo", None), Ok(None));
        assert_eq!(dev_offset_from_env("tally-demo", Some("0")), Ok(None));
        assert_eq!(
            dev_offset_from_env("tally-demo", Some("86400000")),
            Ok(Some(86_400_000))
        );
        assert!(dev_offset_from_env("tally-demo", Some("-5")).is_err());
        assert!(dev_offset_from_env("tally-demo", Some("1e3")).is_err());
        assert!(dev_offset_from_env("fmi-prod", Some("1000")).is_err());
    }
}
