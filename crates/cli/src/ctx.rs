//! What every client command shares: global options, the node client, the key store,
//! output mode, errors with exit codes, and parsing of amounts, legs and identifiers.

/// `println!` that ends the process quietly when stdout is closed (`tally … | head`)
/// instead of panicking.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout(), $($arg)*) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
        }
    }};
}

use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::time::Duration;
use tally_sdk::types::{InstrumentInfo, TxInfo};
use tally_sdk::{Client, KeyStore, SdkError, StoredKey};
use tally_types::amount::{format_amount, parse_amount};
use tally_types::model::Leg;
use tally_types::{AccountId, Amount, Hash32, InstrumentId, PrivateKey, ResultCode};

/// The API of validator 0 of `tally localnet` with its default base port (26600).
pub const DEFAULT_API: &str = "http://127.0.0.1:26601";

/// Output format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// Readable text.
    #[default]
    Human,
    /// The JSON the node returned (one object per line for streams).
    Json,
}

/// Options every command accepts.
#[derive(clap::Args, Clone, Debug)]
pub struct Global {
    /// API of the node to talk to.
    #[arg(long, global = true, env = "TALLY_API", default_value = DEFAULT_API)]
    pub api: String,
    /// Name of the key (in the key store) that signs transactions and read requests.
    #[arg(long, global = true, env = "TALLY_KEY")]
    pub key: Option<String>,
    /// Key store directory [default: $TALLY_HOME/keys, else ~/.tally/keys].
    #[arg(long, global = true, env = "TALLY_KEYS_DIR")]
    pub keys_dir: Option<PathBuf>,
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = Output::Human)]
    pub output: Output,
}

/// Why a command failed; each maps to an exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The SDK failed (node refusal, transport, decoding, verification).
    #[error("{0}")]
    Sdk(#[from] SdkError),
    /// The key store failed.
    #[error("{0}")]
    Keys(#[from] tally_sdk::keystore::KeystoreError),
    /// A command-line value is not valid.
    #[error("{0}")]
    Usage(String),
    /// The transaction was final but rejected (already reported).
    #[error("transaction rejected: {0}")]
    Rejected(String),
    /// Anything else (the older commands report errors as text).
    #[error("{0}")]
    Other(String),
}

impl CliError {
    /// Exit code: 3 for a rejected transaction, 2 for bad arguments, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Rejected(_) => 3,
            Self::Usage(_) => 2,
            _ => 1,
        }
    }

    /// A hint to print under the error, if one helps.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Self::Sdk(SdkError::Transport { .. }) => {
                Some("is a node running? start one with `tally localnet`, or pass --api URL")
            }
            Self::Sdk(SdkError::Api { body, .. }) => match body.name.as_str() {
                "Unauthenticated" => Some(
                    "this data needs a read token: pass --key NAME (its owner's, or the regulator's)",
                ),
                "Forbidden" => {
                    Some("the --key given belongs to a participant that may not read this")
                }
                _ => None,
            },
            Self::Keys(tally_sdk::keystore::KeystoreError::NotFound { .. }) => Some(
                "list keys with `tally keys list`; for the demo world run `tally keys install-dev`",
            ),
            _ => None,
        }
    }
}

/// Shorthand for command results.
pub type CliResult<T = ()> = Result<T, CliError>;

/// Shared state of a client command.
pub struct Ctx {
    /// Global options.
    pub global: Global,
    /// The node client.
    pub client: Client,
}

impl Ctx {
    /// A context from the global options.
    pub fn new(global: Global) -> Self {
        let client = Client::new(global.api.clone());
        Self { global, client }
    }

    /// Whether to print JSON.
    pub fn json(&self) -> bool {
        self.global.output == Output::Json
    }

    /// The key store.
    pub fn keystore(&self) -> CliResult<KeyStore> {
        match &self.global.keys_dir {
            Some(dir) => Ok(KeyStore::open(dir)),
            None => Ok(KeyStore::open_default()?),
        }
    }

    /// The `--key` key, if given.
    pub fn key(&self) -> CliResult<Option<StoredKey>> {
        match &self.global.key {
            Some(name) => Ok(Some(self.keystore()?.get(name)?)),
            None => Ok(None),
        }
    }

    /// The `--key` key; an error naming `what` needs it if absent.
    pub fn signer(&self, what: &str) -> CliResult<StoredKey> {
        self.key()?.ok_or_else(|| {
            CliError::Usage(format!(
                "{what} must be signed: pass --key NAME (see `tally keys list`)"
            ))
        })
    }

    /// The private key of `--key`, if given (for read tokens).
    pub fn reader(&self) -> CliResult<Option<PrivateKey>> {
        Ok(self.key()?.map(|k| k.private_key().clone()))
    }

    /// Keys named by `--approver`.
    pub fn approvers(&self, names: &[String]) -> CliResult<Vec<StoredKey>> {
        let store = self.keystore()?;
        names
            .iter()
            .map(|n| store.get(n).map_err(CliError::from))
            .collect()
    }

    /// Looks up an instrument by id, ISIN or CUSIP.
    pub fn instrument(&self, id: &str) -> CliResult<InstrumentInfo> {
        Ok(self.client.instrument(id)?)
    }

    /// Prints a value as pretty JSON.
    pub fn print_json(&self, value: &impl serde::Serialize) -> CliResult {
        let text = serde_json::to_string_pretty(value)
            .map_err(|e| CliError::Other(format!("JSON: {e}")))?;
        crate::out!("{text}");
        Ok(())
    }

    /// Polls a transaction until final, with a spinner once it takes over a second.
    pub fn wait_final(&self, id: &Hash32, timeout: Duration) -> CliResult<TxInfo> {
        let mut spinner: Option<ProgressBar> = None;
        let result = self
            .client
            .wait_final_with(id, timeout, None, |info, waited| {
                if waited < Duration::from_secs(1) {
                    return;
                }
                let bar = spinner.get_or_insert_with(|| {
                    let bar = ProgressBar::new_spinner();
                    bar.set_style(
                        ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    );
                    bar
                });
                bar.set_message(format!(
                    "waiting for tx {} to be final: {}",
                    short(&id.to_hex()),
                    info.status
                ));
                bar.tick();
            });
        if let Some(bar) = spinner {
            bar.finish_and_clear();
        }
        Ok(result?)
    }
}

/// The first 16 hex characters of an id, for tables.
pub fn short(hex: &str) -> String {
    match hex.get(..16) {
        Some(s) if hex.len() > 16 => format!("{s}…"),
        _ => hex.to_string(),
    }
}

/// Parses a decimal amount at an instrument's scale, explaining what is wrong.
pub fn parse_decimal(text: &str, scale: u8, what: &str) -> CliResult<Amount> {
    let t = text.trim();
    let digits_ok = !t.is_empty()
        && t.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && t.bytes().filter(|b| *b == b'.').count() <= 1
        && !t.starts_with('.');
    if !digits_ok {
        return Err(CliError::Usage(format!(
            "{what}: {text:?} is not a non-negative decimal number (e.g. 1250.50)"
        )));
    }
    let decimals = t.split_once('.').map_or(0, |(_, f)| f.len());
    if decimals > usize::from(scale) {
        return Err(CliError::Usage(format!(
            "{what}: {text} has {decimals} decimal places; the instrument's scale is {scale}"
        )));
    }
    parse_amount(t, scale).ok_or_else(|| CliError::Usage(format!("{what}: {text} is too large")))
}

/// A leg as typed: `FROM:TO:INSTRUMENT:AMOUNT`, the instrument by id, ISIN or CUSIP and
/// the amount in decimal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LegSpec {
    /// Debited account.
    pub from: AccountId,
    /// Credited account.
    pub to: AccountId,
    /// Instrument as typed.
    pub instrument: String,
    /// Amount as typed.
    pub amount: String,
}

/// Parses `FROM:TO:INSTRUMENT:AMOUNT`.
pub fn parse_leg_spec(s: &str) -> CliResult<LegSpec> {
    let parts: Vec<&str> = s.split(':').collect();
    let [from, to, instrument, amount] = parts.as_slice() else {
        return Err(CliError::Usage(format!(
            "leg {s:?}: expected FROM:TO:INSTRUMENT:AMOUNT (e.g. 300:400:1:1000.00)"
        )));
    };
    Ok(LegSpec {
        from: parse_account(from)?,
        to: parse_account(to)?,
        instrument: (*instrument).to_string(),
        amount: (*amount).to_string(),
    })
}

/// Parses an account id.
pub fn parse_account(s: &str) -> CliResult<AccountId> {
    s.trim()
        .parse::<u64>()
        .map(AccountId)
        .map_err(|_| CliError::Usage(format!("account id must be a whole number, got {s:?}")))
}

/// Parses a 32-byte id (transaction, instruction) from hex.
pub fn parse_hash(s: &str, what: &str) -> CliResult<Hash32> {
    Hash32::from_hex(s.trim())
        .ok_or_else(|| CliError::Usage(format!("{what} must be 64 hex characters, got {s:?}")))
}

/// Resolves the instruments of legs (one lookup per distinct instrument) and converts
/// amounts at each one's scale.
pub fn resolve_legs(ctx: &Ctx, specs: &[LegSpec]) -> CliResult<Vec<Leg>> {
    let mut cache: std::collections::BTreeMap<String, (InstrumentId, u8)> = Default::default();
    let mut legs = Vec::with_capacity(specs.len());
    for (i, spec) in specs.iter().enumerate() {
        let (instrument, scale) = match cache.get(&spec.instrument) {
            Some(v) => *v,
            None => {
                let info = ctx.instrument(&spec.instrument)?;
                let v = (InstrumentId(info.entry.id), info.entry.scale);
                cache.insert(spec.instrument.clone(), v);
                v
            }
        };
        legs.push(Leg {
            from: spec.from,
            to: spec.to,
            instrument,
            amount: parse_decimal(&spec.amount, scale, &format!("leg {}", i + 1))?,
        });
    }
    Ok(legs)
}

/// An amount of minor units (as the API's decimal string) at a scale.
pub fn fmt_units(minor: &str, scale: u8) -> String {
    minor
        .parse::<u128>()
        .map_or_else(|_| minor.to_string(), |v| format_amount(v, scale))
}

/// A result code's name and description, from its number.
pub fn describe_code(code: u16) -> (String, String) {
    ResultCode::from_code(code).map_or_else(
        || (format!("code {code}"), String::new()),
        |c| (c.name().to_string(), c.description().to_string()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_amounts_use_the_instrument_scale() {
        assert_eq!(parse_decimal("1250.5", 2, "amount").unwrap(), 125_050);
        assert_eq!(parse_decimal("1250", 2, "amount").unwrap(), 125_000);
        assert_eq!(parse_decimal("0.01", 2, "amount").unwrap(), 1);
        assert_eq!(parse_decimal("7", 0, "amount").unwrap(), 7);
        let too_precise = parse_decimal("1.234", 2, "amount").unwrap_err().to_string();
        assert!(too_precise.contains("3 decimal places"), "{too_precise}");
        assert!(parse_decimal("1.5", 0, "amount").is_err());
        for bad in ["", "-1", "1e5", "1,000", "1.2.3", ".5", "abc", "1 000"] {
            assert!(parse_decimal(bad, 2, "amount").is_err(), "{bad}");
        }
        // Larger than a u128 of minor units.
        assert!(parse_decimal(&"9".repeat(40), 2, "amount").is_err());
    }

    #[test]
    fn legs_parse_from_colon_separated_fields() {
        assert_eq!(
            parse_leg_spec("300:400:US91282CJL63:1000000.00").unwrap(),
            LegSpec {
                from: AccountId(300),
                to: AccountId(400),
                instrument: "US91282CJL63".into(),
                amount: "1000000.00".into(),
            }
        );
        for bad in ["300:400:1", "300:400:1:5:6", "x:400:1:5", "300::1:5", ""] {
            assert!(parse_leg_spec(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn units_format_at_scale() {
        assert_eq!(fmt_units("5000000000", 2), "50000000.00");
        assert_eq!(fmt_units("5", 0), "5");
        assert_eq!(fmt_units("junk", 2), "junk");
    }
}
