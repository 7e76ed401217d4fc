//! Ledger operations from the command line: one subcommand per operation, signed by
//! `--key` (and `--approver`s), submitted, and by default followed to finality.
//!
//! Also the resource groups (`participant`, `account`, `instrument`, …) that mix
//! queries and operations, dispatching queries to [crate::client_cmds].

use crate::client_cmds;
use crate::ctx::{
    CliError, CliResult, Ctx, LegSpec, describe_code, parse_account, parse_decimal, parse_hash,
    parse_leg_spec, resolve_legs,
};
use clap::{Args, Subcommand};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tally_node::genesis::{InstrumentEntry, ParticipantEntry, PolicyEntry, snake};
use tally_sdk::TxBuilder;
use tally_sdk::types::TxInfo;
use tally_types::codec::{BoundedVec, Text};
use tally_types::model::{AccountKind, CertScheme, GroupKey, Leg, WeightedKey};
use tally_types::ops::*;
use tally_types::{
    Amount, ChainId, Hash32, HoldId, InstrumentId, Lei, Operation, PrivateKey, PublicKey, Timestamp,
};

/// How a transaction is signed and followed.
#[derive(Args, Clone, Debug)]
pub struct SendArgs {
    /// Another key (by name) that must co-sign: a co-owner for a threshold, a payer of
    /// another leg, or a key being registered (repeatable).
    #[arg(long = "approver", value_name = "NAME")]
    pub approvers: Vec<String>,
    /// Return once the node admits the transaction, without waiting for finality.
    #[arg(long)]
    pub no_wait: bool,
    /// Seconds to wait for finality.
    #[arg(long, default_value_t = 60)]
    pub timeout_secs: u64,
}

/// A movement of an instrument between two accounts.
#[derive(Args, Clone, Debug)]
pub struct MoveArgs {
    /// Debited account.
    #[arg(long)]
    pub from: String,
    /// Credited account.
    #[arg(long)]
    pub to: String,
    /// Instrument id, ISIN or CUSIP.
    #[arg(long)]
    pub instrument: String,
    /// Amount in decimal, at the instrument's scale (e.g. 1000.00).
    #[arg(long)]
    pub amount: String,
}

/// A part of a holding.
#[derive(Args, Clone, Debug)]
pub struct HoldingArgs {
    /// Account.
    #[arg(long)]
    pub account: String,
    /// Instrument id, ISIN or CUSIP.
    #[arg(long)]
    pub instrument: String,
    /// Amount in decimal, at the instrument's scale.
    #[arg(long)]
    pub amount: String,
}

/// `tally participant …`
#[derive(Subcommand, Debug)]
pub enum ParticipantCmd {
    /// List participants.
    List,
    /// Show a participant.
    Show {
        /// LEI.
        lei: String,
    },
    /// A participant's accounts (needs --key of the participant or a regulator).
    Accounts {
        /// LEI.
        lei: String,
    },
    /// Register a participant from a JSON entry as in a genesis file (operator). Keys being
    /// registered must co-sign: those in the key store are added automatically.
    Register {
        /// ParticipantEntry JSON.
        #[arg(long)]
        file: PathBuf,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Replace a participant's identity fields from a JSON entry (operator); its keys and
    /// thresholds are ignored (see `tally key`, `tally thresholds`).
    Update {
        /// ParticipantEntry JSON.
        #[arg(long)]
        file: PathBuf,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Suspend a participant (operator or regulator).
    Suspend {
        /// LEI.
        lei: String,
        /// Reason code.
        #[arg(long, default_value_t = 0)]
        reason: u16,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Lift a suspension.
    Reinstate {
        /// LEI.
        lei: String,
        #[command(flatten)]
        send: SendArgs,
    },
}

/// `tally key …` (a participant's registered keys; the local store is `tally keys`).
#[derive(Subcommand, Debug)]
pub enum KeyCmd {
    /// Add a key to a participant; the new key co-signs (automatically if it is in the key
    /// store).
    Add {
        /// Participant.
        #[arg(long)]
        lei: String,
        /// The new key: hex, or the name of a key in the store.
        #[arg(long)]
        public_key: String,
        /// Its weight.
        #[arg(long, default_value_t = 1)]
        weight: u16,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Replace a key by another of the same weight.
    Rotate {
        /// Participant.
        #[arg(long)]
        lei: String,
        /// Key to retire: hex or a key name.
        #[arg(long)]
        old: String,
        /// Key to take its place: hex or a key name.
        #[arg(long)]
        new: String,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Remove a key.
    Remove {
        /// Participant.
        #[arg(long)]
        lei: String,
        /// Key: hex or a key name.
        #[arg(long)]
        public_key: String,
        #[command(flatten)]
        send: SendArgs,
    },
}

/// `tally thresholds set`
#[derive(Subcommand, Debug)]
pub enum ThresholdsCmd {
    /// Change a participant's approval thresholds.
    Set {
        /// Participant.
        #[arg(long)]
        lei: String,
        /// Weight needed to act.
        #[arg(long)]
        threshold: u16,
        /// Weight needed to change keys and thresholds.
        #[arg(long)]
        admin_threshold: u16,
        #[command(flatten)]
        send: SendArgs,
    },
}

/// `tally account …`
#[derive(Subcommand, Debug)]
pub enum AccountCmd {
    /// An account and its holdings (needs --key of the owner or a regulator).
    Show {
        /// Account id.
        id: String,
    },
    /// Open an account.
    Open {
        /// New account id.
        #[arg(long)]
        id: String,
        /// Owner LEI.
        #[arg(long)]
        owner: String,
        /// own, omnibus or segregated.
        #[arg(long, default_value = "own")]
        kind: String,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Freeze an account (operator or regulator).
    Freeze {
        /// Account id.
        id: String,
        /// Reason code.
        #[arg(long, default_value_t = 0)]
        reason: u16,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Unfreeze an account.
    Unfreeze {
        /// Account id.
        id: String,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Key-loss recovery: move every holding to another account of the same owner and
    /// freeze the old one (operator or regulator).
    Recover {
        /// Account whose keys were lost.
        #[arg(long)]
        from: String,
        /// New account of the same owner.
        #[arg(long)]
        to: String,
        /// Reason code.
        #[arg(long, default_value_t = 0)]
        reason: u16,
        #[command(flatten)]
        send: SendArgs,
    },
}

/// `tally remote-ledger …`
#[derive(Subcommand, Debug)]
pub enum RemoteLedgerCmd {
    /// List the registered remote ledgers.
    List,
    /// Show one remote ledger.
    Show {
        /// Its chain id.
        chain_id: String,
    },
    /// Register a remote ledger: an operator and a regulator sign (`--key` one,
    /// `--approver` the other).
    Register {
        /// The remote network's genesis file: its chain id and group public key are read
        /// from it. Use the file its operator gave you, not an answer of one of its nodes.
        #[arg(long, conflicts_with_all = ["chain_id", "group_key"])]
        genesis: Option<PathBuf>,
        /// Its chain id (without --genesis).
        #[arg(long, required_unless_present = "genesis")]
        chain_id: Option<String>,
        /// Its BLS12-381 group public key, hex (without --genesis).
        #[arg(long, required_unless_present = "genesis")]
        group_key: Option<String>,
        /// Display name.
        #[arg(long)]
        name: String,
        /// The namespace its consensus signs in.
        #[arg(long, default_value = "TALLY_CONSENSUS_V1")]
        namespace: String,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Suspend a remote ledger: its proofs are refused (operator or regulator alone).
    Suspend {
        /// Its chain id.
        chain_id: String,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Resume a suspended remote ledger (an operator and a regulator sign).
    Resume {
        /// Its chain id.
        chain_id: String,
        #[command(flatten)]
        send: SendArgs,
    },
}

fn chain_arg(chain: &str) -> Result<ChainId, CliError> {
    ChainId::new(chain).ok_or_else(|| {
        CliError::Usage(format!(
            "chain id must be 1 to 32 printable characters, got {chain:?}"
        ))
    })
}

/// Runs `tally remote-ledger …`.
pub fn remote_ledger_cmd(ctx: &Ctx, cmd: &RemoteLedgerCmd) -> CliResult {
    match cmd {
        RemoteLedgerCmd::List => client_cmds::remote_ledger_list(ctx),
        RemoteLedgerCmd::Show { chain_id } => client_cmds::remote_ledger_show(ctx, chain_id),
        RemoteLedgerCmd::Register {
            genesis,
            chain_id,
            group_key,
            name,
            namespace,
            send: s,
        } => {
            let (chain, key_hex) = match genesis {
                Some(path) => {
                    let text = std::fs::read_to_string(path).map_err(|e| {
                        CliError::Usage(format!("cannot read {}: {e}", path.display()))
                    })?;
                    let file: tally_node::genesis::GenesisFile = serde_json::from_str(&text)
                        .map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))?;
                    (file.chain_id, file.threshold.group_public_key)
                }
                None => (
                    chain_id.clone().unwrap_or_default(),
                    group_key.clone().unwrap_or_default(),
                ),
            };
            let key = tally_sdk::from_hex(key_hex.trim())
                .and_then(|b| GroupKey::from_bytes(&b))
                .ok_or_else(|| {
                    CliError::Usage(
                        "group key must be hex of a BLS12-381 G2 point (96 bytes)".into(),
                    )
                })?;
            let op = RegisterRemoteLedger {
                chain: chain_arg(&chain)?,
                name: Text::new(name)
                    .ok_or_else(|| CliError::Usage("name: at most 200 printable bytes".into()))?,
                scheme: CertScheme::ThresholdMinSigVrf,
                namespace: Text::new(namespace).ok_or_else(|| {
                    CliError::Usage("namespace: at most 64 printable bytes".into())
                })?,
                group_key: key,
            };
            send(ctx, s, vec![op.into()], vec![])
        }
        RemoteLedgerCmd::Suspend { chain_id, send: s } => {
            let op = SuspendRemoteLedger {
                chain: chain_arg(chain_id)?,
            };
            send(ctx, s, vec![op.into()], vec![])
        }
        RemoteLedgerCmd::Resume { chain_id, send: s } => {
            let op = ResumeRemoteLedger {
                chain: chain_arg(chain_id)?,
            };
            send(ctx, s, vec![op.into()], vec![])
        }
    }
}

/// `tally instrument …`
#[derive(Subcommand, Debug)]
pub enum InstrumentCmd {
    /// List instruments.
    List,
    /// Show an instrument (by id, ISIN or CUSIP).
    Show {
        /// Id, ISIN or CUSIP.
        id: String,
    },
    /// Create an instrument from a JSON entry as in a genesis file (issuer or operator).
    Create {
        /// InstrumentEntry JSON.
        #[arg(long)]
        file: PathBuf,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Replace an instrument's compliance policy from a JSON PolicyEntry.
    Policy {
        /// Id, ISIN or CUSIP.
        instrument: String,
        /// PolicyEntry JSON.
        #[arg(long)]
        file: PathBuf,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Pause an instrument: nothing moves.
    Pause {
        /// Id, ISIN or CUSIP.
        instrument: String,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Resume a paused instrument.
    Unpause {
        /// Id, ISIN or CUSIP.
        instrument: String,
        #[command(flatten)]
        send: SendArgs,
    },
}

/// `tally instruction …`
#[derive(Subcommand, Debug)]
pub enum InstructionCmd {
    /// A pending or matched instruction.
    Show {
        /// Instruction id (hex).
        id: String,
    },
    /// Withdraw your pending half of an instruction.
    Cancel {
        /// Instruction id (hex).
        id: String,
        #[command(flatten)]
        send: SendArgs,
    },
}

/// `tally hold …`
#[derive(Subcommand, Debug)]
pub enum HoldCmd {
    /// A hold.
    Show {
        /// Hold id.
        id: String,
    },
    /// Lock an amount for a beneficiary until a deadline, optionally behind a hash-lock.
    Place {
        /// New hold id.
        #[arg(long)]
        id: u64,
        #[command(flatten)]
        movement: MoveArgs,
        /// SHA-256 hash-lock (hex): release then needs its preimage.
        #[arg(long)]
        hash_lock: Option<String>,
        /// Deadline, seconds from now: release until, refund after.
        #[arg(long, default_value_t = 3_600)]
        deadline_in_secs: u64,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Pay a hold to its beneficiary.
    Release {
        /// Hold id.
        id: u64,
        /// Preimage of the hash-lock (hex, 32 bytes).
        #[arg(long)]
        preimage: Option<String>,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Return a hold to the payer.
    Refund {
        /// Hold id.
        id: u64,
        #[command(flatten)]
        send: SendArgs,
    },
}

/// Standalone operations (`tally mint`, `tally transfer`, …).
#[derive(Subcommand, Debug)]
pub enum OpCmd {
    /// Create units in an account (issuer).
    Mint {
        /// Instrument id, ISIN or CUSIP.
        #[arg(long)]
        instrument: String,
        /// Credited account.
        #[arg(long)]
        to: String,
        /// Amount in decimal.
        #[arg(long)]
        amount: String,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Destroy units held in one of the issuer's accounts.
    Burn {
        /// Instrument id, ISIN or CUSIP.
        #[arg(long)]
        instrument: String,
        /// Debited account.
        #[arg(long)]
        from: String,
        /// Amount in decimal.
        #[arg(long)]
        amount: String,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Move units free of payment.
    Transfer {
        #[command(flatten)]
        movement: MoveArgs,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Submit an institution batch: up to 8,190 transfers under one signature, each with
    /// its own result code. FILE has one transfer a line, FROM:TO:INSTRUMENT:AMOUNT
    /// (amount in decimal), followed by the word `linked` to link it to the next line (a
    /// linked chain applies all or none); blank lines and lines starting with `#` are
    /// skipped. Every debited owner signs (see --approver).
    TransferBatch {
        /// The transfers (`-` for standard input).
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Settle several legs atomically (DvP, PvP); every payer signs (see --approver).
    Settle {
        /// FROM:TO:INSTRUMENT:AMOUNT (repeatable), amount in decimal.
        #[arg(
            long = "leg",
            value_name = "FROM:TO:INSTRUMENT:AMOUNT",
            required = true
        )]
        legs: Vec<String>,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Submit your half of a two-sided instruction; it settles when every payer's half is
    /// in. Both halves must carry the same trade reference, legs and expiry: by default the
    /// instruction lapses at the end of its settlement date (today, UTC), so two sides
    /// instructing on the same day agree without copying anything.
    Instruct {
        /// Trade reference both sides agree on.
        #[arg(long)]
        trade_ref: String,
        /// FROM:TO:INSTRUMENT:AMOUNT (repeatable): every leg of the trade.
        #[arg(
            long = "leg",
            value_name = "FROM:TO:INSTRUMENT:AMOUNT",
            required = true
        )]
        legs: Vec<String>,
        /// Settlement date, YYYY-MM-DD (default: today, UTC): unmatched halves lapse at its
        /// end.
        #[arg(long, conflicts_with_all = ["expires_in_secs", "expires_at_ms"])]
        settle_date: Option<String>,
        /// Expiry, seconds from now (first side; the second copies `--expires-at-ms`).
        #[arg(long, conflicts_with = "expires_at_ms")]
        expires_in_secs: Option<u64>,
        /// Exact expiry, ms since epoch (second side: copy it from the first).
        #[arg(long)]
        expires_at_ms: Option<u64>,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Freeze part of a holding (regulator or operator).
    FreezeHolding {
        #[command(flatten)]
        holding: HoldingArgs,
        /// Reason code.
        #[arg(long, default_value_t = 0)]
        reason: u16,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Unfreeze part of a holding.
    UnfreezeHolding {
        #[command(flatten)]
        holding: HoldingArgs,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Move units by order of the regulator, frozen units included.
    ForcedTransfer {
        #[command(flatten)]
        movement: MoveArgs,
        /// Reason code (e.g. a court-order reference).
        #[arg(long)]
        reason: u16,
        #[command(flatten)]
        send: SendArgs,
    },
}

/// Default instruction expiry when neither flag is given.
/// One day in milliseconds.
const DAY_MS: u64 = 86_400_000;

// ---------------------------------------------------------------------------------------
// Submission

/// Signs `ops` with `--key` and the approvers, submits, waits (unless `--no-wait`) and
/// reports. A final rejection is an error (exit code 3) after the report.
pub fn send(ctx: &Ctx, args: &SendArgs, ops: Vec<Operation>, extra: Vec<PrivateKey>) -> CliResult {
    let signer = ctx.signer("a transaction")?;
    let mut approvers: Vec<PrivateKey> = ctx
        .approvers(&args.approvers)?
        .iter()
        .map(|k| k.private_key().clone())
        .collect();
    approvers.extend(extra);
    let submission = TxBuilder::new(&ctx.client, signer.private_key().clone())
        .approvers(approvers)
        .ops(ops)
        .submit()?;
    let id = submission.tx_id;
    if args.no_wait {
        if ctx.json() {
            return ctx.print_json(&json!({
                "tx_id": id.to_hex(), "status": "submitted", "height": null,
                "code": null, "code_name": null, "failed_op": null,
            }));
        }
        crate::out!(
            "tx {}  submitted (follow it with `tally tx wait {}`)",
            id.to_hex(),
            id.to_hex()
        );
        return Ok(());
    }
    let mut info = ctx.wait_final(&id, Duration::from_secs(args.timeout_secs))?;
    // A batch's per-transfer outcomes are shown to its parties: ask again as the signer.
    let ops = &submission.signed.tx.operations;
    if info.code == Some(0) && ops.iter().any(|o| matches!(o, Operation::TransferBatch(_))) {
        info = ctx.client.tx(&id, Some(signer.private_key()))?;
    }
    report(ctx, &info, ops)
}

fn report(ctx: &Ctx, info: &TxInfo, ops: &[Operation]) -> CliResult {
    let code = info.code.unwrap_or(u16::MAX);
    let (name, description) = describe_code(code);
    let name = info.code_name.clone().unwrap_or(name);
    let description = info.code_description.clone().unwrap_or(description);
    if ctx.json() {
        let mut out = json!({
            "tx_id": info.tx_id, "status": info.status, "height": info.height,
            "code": info.code, "code_name": name, "failed_op": info.failed_op,
        });
        if let Some(b) = &info.batch {
            out["batch"] = serde_json::to_value(b).unwrap_or_default();
        }
        ctx.print_json(&out)?;
    } else {
        let height = info.height.map_or("?".to_string(), |h| h.to_string());
        crate::out!("tx {}  final at height {height}: {name}", info.tx_id);
        if let Some(b) = &info.batch {
            crate::out!(
                "  batch: {} of {} transfers applied",
                b.applied,
                b.transfers
            );
            for f in &b.failures {
                crate::out!("  refused #{}: {} ({})", f.index, f.code_name, f.code);
            }
        }
    }
    if code == 0 {
        return Ok(());
    }
    if !ctx.json() {
        let op = info
            .failed_op
            .and_then(|i| {
                ops.get(usize::from(i))
                    .map(|o| format!(" (operation {i}: {})", o.name()))
            })
            .unwrap_or_default();
        if (600..700).contains(&code) {
            crate::out!("  compliance rule {name} ({code}): {description}{op}");
        } else {
            crate::out!("  rejected: {name} ({code}): {description}{op}");
        }
    }
    Err(CliError::Rejected(name))
}

// ---------------------------------------------------------------------------------------
// Arguments to operation payloads

pub(crate) fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> CliResult<T> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))
}

fn lei(s: &str) -> CliResult<Lei> {
    Lei::parse(s.trim()).map_err(|e| CliError::Usage(format!("LEI {s:?}: {e}")))
}

/// A public key given as hex or as the name of a key in the store.
fn public_key(ctx: &Ctx, s: &str) -> CliResult<PublicKey> {
    let s = s.trim();
    if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return tally_node::genesis::public_key(s).map_err(|e| CliError::Usage(e.to_string()));
    }
    Ok(ctx.keystore()?.get(s)?.public_key)
}

/// Private keys in the store for any of `keys` (keys being registered must co-sign).
fn co_signers(ctx: &Ctx, keys: &[PublicKey]) -> CliResult<Vec<PrivateKey>> {
    let store = ctx.keystore()?;
    let found: Vec<PrivateKey> = store
        .list()?
        .into_iter()
        .filter(|k| keys.contains(&k.public_key))
        .map(|k| {
            eprintln!("co-signing with key {} (being registered)", k.name);
            k.private_key().clone()
        })
        .collect();
    Ok(found)
}

/// An instrument's id and scale, by id, ISIN or CUSIP.
pub(crate) fn instrument(ctx: &Ctx, s: &str) -> CliResult<(InstrumentId, u8)> {
    let info = ctx.instrument(s)?;
    Ok((InstrumentId(info.entry.id), info.entry.scale))
}

fn amount_of(ctx: &Ctx, inst: &str, amount: &str) -> CliResult<(InstrumentId, Amount)> {
    let (id, scale) = instrument(ctx, inst)?;
    Ok((id, parse_decimal(amount, scale, "amount")?))
}

pub(crate) fn leg(ctx: &Ctx, m: &MoveArgs) -> CliResult<Leg> {
    let (instrument, amount) = amount_of(ctx, &m.instrument, &m.amount)?;
    Ok(Leg {
        from: parse_account(&m.from)?,
        to: parse_account(&m.to)?,
        instrument,
        amount,
    })
}

fn legs(
    ctx: &Ctx,
    specs: &[String],
) -> CliResult<BoundedVec<Leg, { tally_types::limits::MAX_LEGS }>> {
    let specs: Vec<LegSpec> = specs
        .iter()
        .map(|s| parse_leg_spec(s))
        .collect::<CliResult<_>>()?;
    BoundedVec::new(resolve_legs(ctx, &specs)?).ok_or_else(|| {
        CliError::Usage(format!(
            "at most {} legs per settlement",
            tally_types::limits::MAX_LEGS
        ))
    })
}

/// A transfer batch from its text form (see `tally transfer-batch --help`).
fn transfer_batch(ctx: &Ctx, text: &str) -> CliResult<TransferBatch> {
    let mut specs = Vec::new();
    let mut links = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        let spec = words.next().unwrap_or_default();
        let linked = match (words.next(), words.next()) {
            (None, _) => false,
            (Some("linked"), None) => true,
            _ => {
                return Err(CliError::Usage(format!(
                    "line {}: expected FROM:TO:INSTRUMENT:AMOUNT [linked]",
                    n + 1
                )));
            }
        };
        specs.push(parse_leg_spec(spec)?);
        links.push(linked);
    }
    if specs.is_empty() {
        return Err(CliError::Usage("the batch has no transfers".into()));
    }
    let max = tally_types::limits::MAX_BATCH_TRANSFERS;
    if specs.len() > max {
        return Err(CliError::Usage(format!(
            "{} transfers; at most {max} per batch",
            specs.len()
        )));
    }
    let transfers: Vec<BatchTransfer> = resolve_legs(ctx, &specs)?
        .into_iter()
        .zip(links)
        .map(|(leg, linked)| BatchTransfer { leg, linked })
        .collect();
    Ok(TransferBatch {
        transfers: BoundedVec::new(transfers).expect("length checked above"),
    })
}

/// The later of the local clock and the node's last block time: the base of deadlines.
pub(crate) fn chain_now(ctx: &Ctx) -> CliResult<u64> {
    let node = ctx.client.status()?.finalized_time_ms;
    Ok(tally_sdk::now_ms().max(node))
}

fn account_kind(s: &str) -> CliResult<AccountKind> {
    AccountKind::ALL
        .iter()
        .copied()
        .find(|k| snake(k.name()) == s)
        .ok_or_else(|| {
            CliError::Usage(format!(
                "account kind must be own, omnibus or segregated, got {s:?}"
            ))
        })
}

fn hash_arg(s: Option<&String>, what: &str) -> CliResult<Option<Hash32>> {
    s.map(|h| parse_hash(h, what)).transpose()
}

// ---------------------------------------------------------------------------------------
// Dispatch

/// `tally participant …`
pub fn participant(ctx: &Ctx, cmd: &ParticipantCmd) -> CliResult {
    match cmd {
        ParticipantCmd::List => client_cmds::participant_list(ctx),
        ParticipantCmd::Show { lei } => client_cmds::participant_show(ctx, lei),
        ParticipantCmd::Accounts { lei } => client_cmds::participant_accounts(ctx, lei),
        ParticipantCmd::Register { file, send: s } => {
            let entry: ParticipantEntry = read_json(file)?;
            let op = tally_node::genesis::participant(&entry)
                .map_err(|e| CliError::Usage(format!("{}: {e}", file.display())))?;
            let keys: Vec<PublicKey> = op.keys.iter().map(|k| k.key.clone()).collect();
            send(ctx, s, vec![op.into()], co_signers(ctx, &keys)?)
        }
        ParticipantCmd::Update { file, send: s } => {
            let entry: ParticipantEntry = read_json(file)?;
            let reg = tally_node::genesis::participant(&entry)
                .map_err(|e| CliError::Usage(format!("{}: {e}", file.display())))?;
            let op = UpdateParticipant {
                lei: reg.lei,
                profile: reg.profile,
            };
            send(ctx, s, vec![op.into()], vec![])
        }
        ParticipantCmd::Suspend {
            lei: l,
            reason,
            send: s,
        } => {
            let op = SuspendParticipant {
                lei: lei(l)?,
                reason: *reason,
            };
            send(ctx, s, vec![op.into()], vec![])
        }
        ParticipantCmd::Reinstate { lei: l, send: s } => send(
            ctx,
            s,
            vec![ReinstateParticipant { lei: lei(l)? }.into()],
            vec![],
        ),
    }
}

/// `tally key …`
pub fn key(ctx: &Ctx, cmd: &KeyCmd) -> CliResult {
    match cmd {
        KeyCmd::Add {
            lei: l,
            public_key: k,
            weight,
            send: s,
        } => {
            let key = public_key(ctx, k)?;
            let extra = co_signers(ctx, std::slice::from_ref(&key))?;
            let op = AddKey {
                lei: lei(l)?,
                key: WeightedKey {
                    key,
                    weight: *weight,
                },
            };
            send(ctx, s, vec![op.into()], extra)
        }
        KeyCmd::Rotate {
            lei: l,
            old,
            new,
            send: s,
        } => {
            let new = public_key(ctx, new)?;
            let extra = co_signers(ctx, std::slice::from_ref(&new))?;
            let op = RotateKey {
                lei: lei(l)?,
                old: public_key(ctx, old)?,
                new,
            };
            send(ctx, s, vec![op.into()], extra)
        }
        KeyCmd::Remove {
            lei: l,
            public_key: k,
            send: s,
        } => {
            let op = RemoveKey {
                lei: lei(l)?,
                key: public_key(ctx, k)?,
            };
            send(ctx, s, vec![op.into()], vec![])
        }
    }
}

/// `tally thresholds set`
pub fn thresholds(ctx: &Ctx, cmd: &ThresholdsCmd) -> CliResult {
    let ThresholdsCmd::Set {
        lei: l,
        threshold,
        admin_threshold,
        send: s,
    } = cmd;
    let op = SetThresholds {
        lei: lei(l)?,
        threshold: *threshold,
        admin_threshold: *admin_threshold,
    };
    send(ctx, s, vec![op.into()], vec![])
}

/// `tally account …`
pub fn account(ctx: &Ctx, cmd: &AccountCmd) -> CliResult {
    match cmd {
        AccountCmd::Show { id } => client_cmds::account_show(ctx, id),
        AccountCmd::Open {
            id,
            owner,
            kind,
            send: s,
        } => {
            let op = OpenAccount {
                account: parse_account(id)?,
                owner: lei(owner)?,
                kind: account_kind(kind)?,
            };
            send(ctx, s, vec![op.into()], vec![])
        }
        AccountCmd::Freeze {
            id,
            reason,
            send: s,
        } => {
            let op = FreezeAccount {
                account: parse_account(id)?,
                reason: *reason,
            };
            send(ctx, s, vec![op.into()], vec![])
        }
        AccountCmd::Unfreeze { id, send: s } => {
            let op = UnfreezeAccount {
                account: parse_account(id)?,
            };
            send(ctx, s, vec![op.into()], vec![])
        }
        AccountCmd::Recover {
            from,
            to,
            reason,
            send: s,
        } => {
            let op = RecoverAccount {
                from: parse_account(from)?,
                to: parse_account(to)?,
                reason: *reason,
            };
            send(ctx, s, vec![op.into()], vec![])
        }
    }
}

/// `tally instrument …`
pub fn instrument_cmd(ctx: &Ctx, cmd: &InstrumentCmd) -> CliResult {
    match cmd {
        InstrumentCmd::List => client_cmds::instrument_list(ctx),
        InstrumentCmd::Show { id } => client_cmds::instrument_show(ctx, id),
        InstrumentCmd::Create { file, send: s } => {
            let entry: InstrumentEntry = read_json(file)?;
            let op = tally_node::genesis::instrument(&entry)
                .map_err(|e| CliError::Usage(format!("{}: {e}", file.display())))?;
            send(ctx, s, vec![op.into()], vec![])
        }
        InstrumentCmd::Policy {
            instrument: id,
            file,
            send: s,
        } => {
            let policy: PolicyEntry = read_json(file)?;
            // The instrument's own terms give the scale the policy's amounts are in.
            let mut entry = ctx.instrument(id)?.entry;
            entry.policy = policy;
            let create = tally_node::genesis::instrument(&entry)
                .map_err(|e| CliError::Usage(format!("{}: {e}", file.display())))?;
            let op = UpdatePolicy {
                instrument: create.instrument,
                policy: create.policy,
            };
            send(ctx, s, vec![op.into()], vec![])
        }
        InstrumentCmd::Pause {
            instrument: id,
            send: s,
        } => {
            let (instrument, _) = instrument(ctx, id)?;
            send(ctx, s, vec![PauseInstrument { instrument }.into()], vec![])
        }
        InstrumentCmd::Unpause {
            instrument: id,
            send: s,
        } => {
            let (instrument, _) = instrument(ctx, id)?;
            send(
                ctx,
                s,
                vec![UnpauseInstrument { instrument }.into()],
                vec![],
            )
        }
    }
}

/// `tally instruction …`
pub fn instruction(ctx: &Ctx, cmd: &InstructionCmd) -> CliResult {
    match cmd {
        InstructionCmd::Show { id } => client_cmds::instruction_show(ctx, id),
        InstructionCmd::Cancel { id, send: s } => {
            let op = CancelInstruction {
                instruction: parse_hash(id, "instruction id")?,
            };
            send(ctx, s, vec![op.into()], vec![])
        }
    }
}

/// `tally hold …`
pub fn hold(ctx: &Ctx, cmd: &HoldCmd) -> CliResult {
    match cmd {
        HoldCmd::Show { id } => client_cmds::hold_show(ctx, id),
        HoldCmd::Place {
            id,
            movement,
            hash_lock,
            deadline_in_secs,
            send: s,
        } => {
            let deadline = chain_now(ctx)?.saturating_add(deadline_in_secs.saturating_mul(1_000));
            let op = PlaceHold {
                hold: HoldId(*id),
                leg: leg(ctx, movement)?,
                hash_lock: hash_arg(hash_lock.as_ref(), "hash lock")?,
                deadline: Timestamp(deadline),
            };
            send(ctx, s, vec![op.into()], vec![])
        }
        HoldCmd::Release {
            id,
            preimage,
            send: s,
        } => {
            let op = ReleaseHold {
                hold: HoldId(*id),
                preimage: hash_arg(preimage.as_ref(), "preimage")?,
            };
            send(ctx, s, vec![op.into()], vec![])
        }
        HoldCmd::Refund { id, send: s } => send(
            ctx,
            s,
            vec![RefundHold { hold: HoldId(*id) }.into()],
            vec![],
        ),
    }
}

fn instruct(
    ctx: &Ctx,
    trade_ref: &str,
    leg_specs: &[String],
    settle_date: Option<&str>,
    expires_in_secs: Option<u64>,
    expires_at_ms: Option<u64>,
    s: &SendArgs,
) -> CliResult {
    let trade_ref = Text::new(trade_ref).ok_or_else(|| {
        CliError::Usage(format!(
            "trade reference: at most {} printable bytes",
            tally_types::limits::MAX_TRADE_REF_BYTES
        ))
    })?;
    let expires_at = match (expires_at_ms, expires_in_secs) {
        (Some(ms), _) => ms,
        // Whole seconds, so the counterparty can copy it exactly.
        (None, Some(secs)) => (chain_now(ctx)? / 1_000)
            .saturating_add(secs)
            .saturating_mul(1_000),
        (None, None) => {
            let date = match settle_date {
                Some(d) => tally_types::Date::parse(d).ok_or_else(|| {
                    CliError::Usage(format!("settlement date {d:?}: expected YYYY-MM-DD"))
                })?,
                None => Timestamp(chain_now(ctx)?).date(),
            };
            // The instant the settlement date ends: the start of the next day.
            date.start().plus_ms(DAY_MS).0
        }
    };
    let op = Instruct {
        trade_ref,
        legs: legs(ctx, leg_specs)?,
        expires_at: Timestamp(expires_at),
    };
    let id = op.instruction_id();
    if ctx.json() {
        eprintln!("instruction {} expires_at_ms {expires_at}", id.to_hex());
    } else {
        crate::out!(
            "instruction {}  expires at {} ({expires_at} ms)",
            id.to_hex(),
            Timestamp(expires_at)
        );
        if expires_at_ms.is_none() && expires_in_secs.is_some() {
            crate::out!(
                "  the counterparty submits the same --trade-ref and --leg values with --expires-at-ms {expires_at}"
            );
        }
    }
    send(ctx, s, vec![op.into()], vec![])
}

/// Standalone operations.
pub fn op(ctx: &Ctx, cmd: &OpCmd) -> CliResult {
    match cmd {
        OpCmd::Mint {
            instrument: i,
            to,
            amount,
            send: s,
        } => {
            let (instrument, amount) = amount_of(ctx, i, amount)?;
            let op = Mint {
                instrument,
                to: parse_account(to)?,
                amount,
            };
            send(ctx, s, vec![op.into()], vec![])
        }
        OpCmd::Burn {
            instrument: i,
            from,
            amount,
            send: s,
        } => {
            let (instrument, amount) = amount_of(ctx, i, amount)?;
            let op = Burn {
                instrument,
                from: parse_account(from)?,
                amount,
            };
            send(ctx, s, vec![op.into()], vec![])
        }
        OpCmd::Transfer { movement, send: s } => send(
            ctx,
            s,
            vec![
                Transfer {
                    leg: leg(ctx, movement)?,
                }
                .into(),
            ],
            vec![],
        ),
        OpCmd::TransferBatch { file, send: s } => {
            let text = if file.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin())
                    .map_err(|e| CliError::Usage(format!("standard input: {e}")))?
            } else {
                std::fs::read_to_string(file)
                    .map_err(|e| CliError::Usage(format!("{}: {e}", file.display())))?
            };
            let op = transfer_batch(ctx, &text)?;
            send(ctx, s, vec![op.into()], vec![])
        }
        OpCmd::Settle { legs: l, send: s } => send(
            ctx,
            s,
            vec![
                Settle {
                    legs: legs(ctx, l)?,
                }
                .into(),
            ],
            vec![],
        ),
        OpCmd::Instruct {
            trade_ref,
            legs: l,
            settle_date,
            expires_in_secs,
            expires_at_ms,
            send: s,
        } => instruct(
            ctx,
            trade_ref,
            l,
            settle_date.as_deref(),
            *expires_in_secs,
            *expires_at_ms,
            s,
        ),
        OpCmd::FreezeHolding {
            holding: h,
            reason,
            send: s,
        } => {
            let (instrument, amount) = amount_of(ctx, &h.instrument, &h.amount)?;
            let op = FreezeHolding {
                account: parse_account(&h.account)?,
                instrument,
                amount,
                reason: *reason,
            };
            send(ctx, s, vec![op.into()], vec![])
        }
        OpCmd::UnfreezeHolding {
            holding: h,
            send: s,
        } => {
            let (instrument, amount) = amount_of(ctx, &h.instrument, &h.amount)?;
            let op = UnfreezeHolding {
                account: parse_account(&h.account)?,
                instrument,
                amount,
            };
            send(ctx, s, vec![op.into()], vec![])
        }
        OpCmd::ForcedTransfer {
            movement,
            reason,
            send: s,
        } => {
            let op = ForcedTransfer {
                leg: leg(ctx, movement)?,
                reason: *reason,
            };
            send(ctx, s, vec![op.into()], vec![])
        }
    }
}
