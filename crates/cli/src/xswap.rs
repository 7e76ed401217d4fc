//! `tally xswap …` and `tally relay`: cross-ledger swaps between this ledger (`--api`) and
//! a remote one (`--remote-api`), settled against proofs of each other's finality
//! (docs/interop.md).
//!
//! A relayer is trusted with nothing: each proof it carries is checked by the receiving
//! ledger's validators, and one that is stale, forged or for another swap changes
//! nothing. It can only be late; anyone holding a key on both ledgers may run one.

use crate::ctx::{CliError, CliResult, Ctx, parse_account, parse_decimal};
use crate::ops::{MoveArgs, SendArgs, send};
use clap::{Args, Subcommand, ValueEnum};
use std::time::{Duration, Instant};
use tally_sdk::types::HoldInfo;
use tally_sdk::xswap::{HoldProof, prove_remote_hold};
use tally_sdk::{Client, TxBuilder};
use tally_types::model::{CrossRole, HoldStatus};
use tally_types::ops::{LockCrossLedger, ProveCrossLedger, RefundHold};
use tally_types::remote::RemoteLeg;
use tally_types::{ChainId, HoldId, InstrumentId, Operation, PrivateKey, Timestamp};

/// The other ledger of a swap.
#[derive(Args, Clone, Debug)]
pub struct RemoteArgs {
    /// API of a node of the remote ledger.
    #[arg(long)]
    pub remote_api: String,
    /// Key (by name) that reads and signs on the remote ledger (default: --key).
    #[arg(long)]
    pub remote_key: Option<String>,
}

/// A side of a swap.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum RoleArg {
    /// Locks first, with the deadline; released against the follower's lock.
    Leader,
    /// Locks against a proof of the leader's lock; released against its release.
    Follower,
}

/// `tally xswap …`
#[derive(Subcommand, Debug)]
pub enum XswapCmd {
    /// Lock one leg of a cross-ledger swap in a hold whose counterpart is a hold on the
    /// remote ledger (the payer signs). The follower's lock carries a proof, fetched from
    /// --remote-api, that the leader's hold is held for it, and takes its deadline.
    Lock {
        /// New hold id (agreed with the counterparty).
        #[arg(long)]
        id: u64,
        #[command(flatten)]
        movement: MoveArgs,
        /// Leader or follower.
        #[arg(long, value_enum)]
        role: RoleArg,
        /// The leader's deadline, seconds from now: release until, refund after.
        #[arg(long, default_value_t = 600)]
        deadline_in_secs: u64,
        /// The counterpart hold's id on the remote ledger.
        #[arg(long)]
        remote_hold: u64,
        /// The account on the remote ledger the counterpart pays.
        #[arg(long)]
        remote_payee: String,
        /// The instrument on the remote ledger (id, ISIN or CUSIP).
        #[arg(long)]
        remote_instrument: String,
        /// The amount on the remote ledger, in decimal at that instrument's scale.
        #[arg(long)]
        remote_amount: String,
        #[command(flatten)]
        remote: RemoteArgs,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Release or refund a local cross-ledger hold by what its counterpart's proven state
    /// justifies (any key may submit it: the proof is the authority).
    Prove {
        /// Local hold id.
        id: u64,
        #[command(flatten)]
        remote: RemoteArgs,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Both legs of a swap: the local hold and its counterpart on the remote ledger.
    Show {
        /// Local hold id.
        id: u64,
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// Carry proofs both ways until both legs are settled or both refunded (see
    /// `tally relay`).
    Relay(RelayArgs),
}

/// `tally relay`: carry one swap's proofs between two ledgers until it ends.
#[derive(Args, Debug)]
pub struct RelayArgs {
    /// Local hold id (one leg of the swap).
    pub id: u64,
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// Milliseconds between looks at the two legs.
    #[arg(long, default_value_t = 500)]
    pub interval_ms: u64,
    /// Give up after this many seconds (0: never).
    #[arg(long, default_value_t = 0)]
    pub timeout_secs: u64,
}

/// One ledger of a swap, as the relayer sees it.
struct Side {
    name: &'static str,
    client: Client,
    key: PrivateKey,
    chain: ChainId,
}

fn remote_side(ctx: &Ctx, remote: &RemoteArgs) -> CliResult<Side> {
    let key = match &remote.remote_key {
        Some(name) => ctx.keystore()?.get(name)?,
        None => ctx.signer("reading and signing on the remote ledger")?,
    };
    let client = Client::new(remote.remote_api.clone());
    let chain = client.chain_id()?;
    Ok(Side {
        name: "remote",
        client,
        key: key.private_key().clone(),
        chain,
    })
}

fn local_side(ctx: &Ctx) -> CliResult<Side> {
    let key = ctx.signer("reading and signing on this ledger")?;
    Ok(Side {
        name: "local",
        client: Client::new(ctx.client.url().to_string()),
        key: key.private_key().clone(),
        chain: ctx.client.chain_id()?,
    })
}

fn role(r: RoleArg) -> CrossRole {
    match r {
        RoleArg::Leader => CrossRole::Leader,
        RoleArg::Follower => CrossRole::Follower,
    }
}

/// Runs `tally xswap …`.
pub fn xswap(ctx: &Ctx, cmd: &XswapCmd) -> CliResult {
    match cmd {
        XswapCmd::Lock {
            id,
            movement,
            role: r,
            deadline_in_secs,
            remote_hold,
            remote_payee,
            remote_instrument,
            remote_amount,
            remote,
            send: s,
        } => {
            let remote = remote_side(ctx, remote)?;
            let info = remote.client.instrument(remote_instrument)?;
            let counterpart = RemoteLeg {
                chain: remote.chain.clone(),
                hold: HoldId(*remote_hold),
                payee: parse_account(remote_payee)?,
                instrument: InstrumentId(info.entry.id),
                amount: parse_decimal(remote_amount, info.entry.scale, "remote amount")?,
            };
            let leg = crate::ops::leg(ctx, movement)?;
            let (deadline, proof) = match role(*r) {
                CrossRole::Leader => {
                    let now = crate::ops::chain_now(ctx)?;
                    (
                        now.saturating_add(deadline_in_secs.saturating_mul(1_000)),
                        None,
                    )
                }
                CrossRole::Follower => {
                    let proven = prove_remote_hold(
                        &ctx.client,
                        &remote.client,
                        &remote.chain,
                        counterpart.hold,
                        Some(&remote.key),
                    )?;
                    if !ctx.json() {
                        crate::out!(
                            "leader hold {} on {}: {} at height {} (deadline {})",
                            counterpart.hold.0,
                            remote.chain.as_str(),
                            proven.record.status.name(),
                            proven.header.height,
                            proven.record.deadline
                        );
                    }
                    (proven.record.deadline.0, Some(proven.proof))
                }
            };
            let op = LockCrossLedger {
                hold: HoldId(*id),
                leg,
                deadline: Timestamp(deadline),
                role: role(*r),
                counterpart,
                proof,
            };
            send(ctx, s, vec![op.into()], vec![])
        }
        XswapCmd::Prove {
            id,
            remote,
            send: s,
        } => {
            let remote = remote_side(ctx, remote)?;
            let local = ctx.client.hold(HoldId(*id), ctx.reader()?.as_ref())?;
            let cross = cross_of(&local)?;
            let proven = prove_remote_hold(
                &ctx.client,
                &remote.client,
                &remote.chain,
                HoldId(cross.hold),
                Some(&remote.key),
            )?;
            if !ctx.json() {
                crate::out!(
                    "counterpart hold {} on {}: {} at height {}",
                    cross.hold,
                    remote.chain.as_str(),
                    proven.record.status.name(),
                    proven.header.height
                );
            }
            let op = ProveCrossLedger {
                hold: HoldId(*id),
                proof: proven.proof,
            };
            send(ctx, s, vec![op.into()], vec![])
        }
        XswapCmd::Show { id, remote } => {
            let remote = remote_side(ctx, remote)?;
            let local = ctx.client.hold(HoldId(*id), ctx.reader()?.as_ref())?;
            let cross = cross_of(&local)?;
            let other = remote.client.hold(HoldId(cross.hold), Some(&remote.key))?;
            if ctx.json() {
                return ctx.print_json(&serde_json::json!({"local": local, "remote": other}));
            }
            for (side, chain, h) in [
                ("local ", ctx.client.chain_id()?, &local),
                ("remote", remote.chain.clone(), &other),
            ] {
                crate::out!(
                    "{side} hold {} on {}: {} ({}), deadline {}",
                    h.id,
                    chain.as_str(),
                    h.status,
                    h.cross
                        .as_ref()
                        .map_or("not cross-ledger", |c| c.role.as_str()),
                    Timestamp(h.deadline_ms)
                );
            }
            Ok(())
        }
        XswapCmd::Relay(args) => relay(ctx, args),
    }
}

fn cross_of(h: &HoldInfo) -> CliResult<&tally_sdk::types::CrossLegInfo> {
    h.cross.as_ref().ok_or_else(|| {
        CliError::Usage(format!("hold {} is not a leg of a cross-ledger swap", h.id))
    })
}

/// Whether the counterpart's proven state lets a hold of side `role` with `deadline_ms`
/// move (the ledger's own rule, checked first so that a relayer does not submit
/// transactions bound to be refused).
fn moves(role: CrossRole, deadline_ms: u64, proven: &HoldProof, now_ms: u64) -> bool {
    let other = &proven.record;
    match (role, other.status) {
        (CrossRole::Leader, HoldStatus::Held) => now_ms < deadline_ms,
        (CrossRole::Leader, _) => false,
        (CrossRole::Follower, HoldStatus::Released | HoldStatus::Refunded) => true,
        (CrossRole::Follower, HoldStatus::Held) => proven.header.time >= other.deadline,
    }
}

/// One look at one leg: moves it if its counterpart's proven state allows (or, for a
/// leader past its deadline, refunds it once, if this key may). Returns whether the leg
/// is closed.
fn step(
    ctx: &Ctx,
    me: &Side,
    other: &Side,
    hold: HoldId,
    refund_tried: &mut bool,
) -> CliResult<bool> {
    let info = me.client.hold(hold, Some(&me.key))?;
    if info.status != "Held" {
        return Ok(true);
    }
    let cross = cross_of(&info)?.clone();
    let leader = cross.role == CrossRole::Leader.name();
    let proven = prove_remote_hold(
        &me.client,
        &other.client,
        &other.chain,
        HoldId(cross.hold),
        Some(&other.key),
    )?;
    let now = me.client.status()?.finalized_time_ms;
    let role = if leader {
        CrossRole::Leader
    } else {
        CrossRole::Follower
    };
    let op: Operation = if moves(role, info.deadline_ms, &proven, now) {
        ProveCrossLedger {
            hold,
            proof: proven.proof,
        }
        .into()
    } else if leader && now >= info.deadline_ms && !*refund_tried {
        // A leader past its deadline refunds by time (its payer or beneficiary signs).
        *refund_tried = true;
        RefundHold { hold }.into()
    } else {
        return Ok(false);
    };
    let name = op.name();
    let submitted = TxBuilder::new(&me.client, me.key.clone())
        .ops(vec![op])
        .submit()?;
    let done = me
        .client
        .wait_final(&submitted.tx_id, Duration::from_secs(60))?;
    if !ctx.json() {
        crate::out!(
            "{} hold {} on {}: {name} {} at height {}",
            me.name,
            hold.0,
            me.chain.as_str(),
            done.code_name.as_deref().unwrap_or("?"),
            done.height.map_or("?".into(), |h| h.to_string())
        );
    }
    Ok(done.code == Some(0))
}

/// Runs `tally relay`.
pub fn relay(ctx: &Ctx, args: &RelayArgs) -> CliResult {
    let local = local_side(ctx)?;
    let remote = remote_side(ctx, &args.remote)?;
    let info = local.client.hold(HoldId(args.id), Some(&local.key))?;
    let counterpart = HoldId(cross_of(&info)?.hold);
    let started = Instant::now();
    let (mut local_done, mut remote_done) = (false, false);
    let (mut local_refund, mut remote_refund) = (false, false);
    loop {
        // A failed look (a node down, a proof not yet final) is retried: a relayer is
        // only ever late.
        if !local_done {
            match step(ctx, &local, &remote, HoldId(args.id), &mut local_refund) {
                Ok(done) => local_done = done,
                Err(e) => eprintln!("local leg: {e}"),
            }
        }
        if !remote_done {
            match step(ctx, &remote, &local, counterpart, &mut remote_refund) {
                Ok(done) => remote_done = done,
                Err(e) => eprintln!("remote leg: {e}"),
            }
        }
        if local_done && remote_done {
            let a = local.client.hold(HoldId(args.id), Some(&local.key))?;
            let b = remote.client.hold(counterpart, Some(&remote.key))?;
            if ctx.json() {
                return ctx.print_json(&serde_json::json!({"local": a, "remote": b}));
            }
            crate::out!(
                "swap ended: local hold {} {}, remote hold {} {}",
                a.id,
                a.status,
                b.id,
                b.status
            );
            return Ok(());
        }
        if args.timeout_secs > 0 && started.elapsed() >= Duration::from_secs(args.timeout_secs) {
            return Err(CliError::Usage(format!(
                "the swap did not end within {} s (local leg {}, remote leg {})",
                args.timeout_secs,
                if local_done { "closed" } else { "open" },
                if remote_done { "closed" } else { "open" }
            )));
        }
        std::thread::sleep(Duration::from_millis(args.interval_ms));
    }
}
