//! `tally keys`: the local key store (no node needed).

use crate::ctx::{CliError, CliResult, Ctx};
use clap::Subcommand;
use serde_json::json;
use tally_sdk::StoredKey;

/// Marker printed next to every development key.
pub const DEV_MARK: &str = "(dev key — never for real value)";

/// `tally keys …`
#[derive(Subcommand, Debug)]
pub enum KeysCmd {
    /// Create a key from OS randomness.
    New {
        /// Name (a-z, 0-9, '_', '-'; at most 64).
        name: String,
    },
    /// List the keys.
    List,
    /// Show a key's public key.
    Show {
        /// Name.
        name: String,
    },
    /// Store an existing secret key (read from stdin unless --secret is given).
    Import {
        /// Name.
        name: String,
        /// Secret key (64 hex characters); prefer stdin, which stays out of shell history.
        #[arg(long)]
        secret: Option<String>,
    },
    /// Print a key's secret (hex).
    Export {
        /// Name.
        name: String,
    },
    /// Write the demo world's development keys (central-bank, treasury, dealer-a, dealer-b,
    /// custodian, regulator), marked as dev keys.
    InstallDev,
}

fn key_json(k: &StoredKey) -> serde_json::Value {
    json!({"name": k.name, "public_key": k.public_hex(), "dev": k.dev})
}

fn print_key(k: &StoredKey) {
    let mark = if k.dev { DEV_MARK } else { "" };
    crate::out!("{:<16} {}  {mark}", k.name, k.public_hex());
}

/// Runs a `keys` command.
pub fn run(ctx: &Ctx, cmd: &KeysCmd) -> CliResult {
    let store = ctx.keystore()?;
    match cmd {
        KeysCmd::New { name } => {
            let k = store.new_key(name)?;
            if ctx.json() {
                return ctx.print_json(&key_json(&k));
            }
            crate::out!("created key {} in {}", k.name, store.dir().display());
            crate::out!("public key {}", k.public_hex());
        }
        KeysCmd::List => {
            let keys = store.list()?;
            if ctx.json() {
                let list: Vec<_> = keys.iter().map(key_json).collect();
                return ctx.print_json(&json!({"dir": store.dir(), "keys": list}));
            }
            if keys.is_empty() {
                crate::out!(
                    "no keys in {} (create one with `tally keys new NAME`, or `tally keys install-dev` for the demo world)",
                    store.dir().display()
                );
            }
            for k in &keys {
                print_key(k);
            }
        }
        KeysCmd::Show { name } => {
            let k = store.get(name)?;
            if ctx.json() {
                return ctx.print_json(&key_json(&k));
            }
            print_key(&k);
        }
        KeysCmd::Import { name, secret } => {
            let secret = match secret {
                Some(s) => s.clone(),
                None => {
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line).map_err(|e| {
                        CliError::Other(format!("reading the secret from stdin: {e}"))
                    })?;
                    line
                }
            };
            let k = store.import(name, &secret)?;
            if ctx.json() {
                return ctx.print_json(&key_json(&k));
            }
            crate::out!("imported key {} ({})", k.name, k.public_hex());
        }
        KeysCmd::Export { name } => {
            let k = store.get(name)?;
            let secret = store.export(name)?;
            if ctx.json() {
                return ctx
                    .print_json(&json!({"name": k.name, "secret_key": secret, "dev": k.dev}));
            }
            eprintln!(
                "warning: this is the secret key of {}: whoever holds it signs as its owner",
                k.name
            );
            crate::out!("{secret}");
        }
        KeysCmd::InstallDev => {
            let keys = tally_sdk::install_dev_keys(store.dir())?;
            if ctx.json() {
                let list: Vec<_> = keys.iter().map(key_json).collect();
                return ctx.print_json(&json!({"dir": store.dir(), "keys": list}));
            }
            crate::out!("development keys in {}:", store.dir().display());
            for k in &keys {
                print_key(k);
            }
        }
    }
    Ok(())
}
