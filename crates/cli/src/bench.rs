//! `tally bench`: a load generator. It measures this machine's ed25519 batch-verification
//! rate, starts a fresh local network of validator processes whose genesis funds many
//! sender accounts, drives it with pre-signed transfers at a fixed offered rate, and
//! reports sustained finalized transfers per second and finality latency (submission to
//! the client seeing the transaction in a finalized block), next to the signature ceiling
//! `cores × batch rate ÷ validators`.
//!
//! Everything (validators, load generator, observer) shares this machine's cores, as on
//! a developer's laptop; see docs/benchmarks.md for what bounds the figures.

use crate::localnet::{Node, finalized_height, spawn, stop_all};
use crate::setup::{NewArgs, new_network_with};
use commonware_cryptography::Signer as _;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tally_ledger::demo::{self, USD, UST_2034, member};
use tally_types::codec::BoundedVec;
use tally_types::model::{AccountKind, Leg};
use tally_types::ops::{BatchTransfer, Mint, OpenAccount, Settle, Transfer, TransferBatch};
use tally_types::{
    AccountId, ChainId, Hash32, Lei, Operation, PrivateKey, SignedTx, Timestamp, Transaction,
};

/// Arguments of `tally bench`.
#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    /// Seconds of load.
    #[arg(long, default_value_t = 20)]
    pub duration: u64,
    /// Offered load in transfers per second (default: `--load` percent of the ceiling).
    #[arg(long)]
    pub rate: Option<u64>,
    /// Offered load as a percentage of the sustained peak, when `--rate` is not given: a
    /// calibration run on a fresh network, offered the signature ceiling for 10 s,
    /// measures the peak first (both are reported).
    #[arg(long, default_value_t = 100)]
    pub load: u64,
    /// Overload: offer this many times the rate (`--rate`, or `--load` percent of the
    /// sustained peak). Transfers refused as `Overloaded` are sent again after a short pause (a
    /// refusal must not leave a nonce gap). The report then shows what admission refused
    /// (`429 Overloaded`), the
    /// slowest and fastest seconds of finalization, seconds without a finalized block,
    /// and the validators' peak memory.
    #[arg(long)]
    pub overload: Option<u64>,
    /// Institution batches: every transaction is a `TransferBatch` of this many one-cent
    /// transfers (at most 8,190) under one signature, instead of one signed transfer.
    /// `--rate` still counts transfers.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=8_190))]
    pub batch_signed: Option<u64>,
    /// What each transaction does: `transfer` (one cent of cash) or `dvp` (a two-leg
    /// settlement, $100 face of the Treasury note against $99.50 of cash, signed by both
    /// payers: two signatures per transaction).
    #[arg(long, value_enum, default_value_t = Mix::Transfer)]
    pub mix: Mix,
    /// A PostgreSQL loaded by `bench/postgres/setup.sh` (the URL it prints): after the
    /// network run, the same checks of a transfer and of a DvP run there with `pgbench`
    /// (64 clients, durable commits) for `--duration` seconds each, and their rates are
    /// reported beside the network's.
    #[arg(long, value_name = "URL")]
    pub postgres: Option<String>,
    /// Where the PostgreSQL baseline's pgbench scripts are.
    #[arg(long, default_value = "bench/postgres", value_name = "DIR")]
    pub postgres_scripts: PathBuf,
    /// Number of validators.
    #[arg(long, default_value_t = 4)]
    pub validators: usize,
    /// Sender accounts funded in genesis (transfers rotate among them).
    #[arg(long, default_value_t = 1_000)]
    pub senders: usize,
    /// Most transactions per `POST /txs` request (fewer at low rates: each submitter
    /// sends at least 50 requests a second).
    #[arg(long, default_value_t = 256)]
    pub batch: usize,
    /// Directory of the benchmark network (replaced on every run; logs stay there).
    #[arg(long, default_value = "./bench-net")]
    pub home: PathBuf,
    /// First port (validator i: base+2i p2p, base+2i+1 API).
    #[arg(long, default_value_t = 26_700)]
    pub base_port: u16,
    /// `human` or `json` (one JSON object on stdout): set from the global `--output`.
    #[arg(skip = String::from("human"))]
    pub output: String,
}

/// What each transaction of the workload does.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mix {
    /// One-cent transfers (one, or a batch of them).
    Transfer,
    /// Two-leg DvPs signed by both payers.
    Dvp,
}

impl Mix {
    /// Signatures each transaction carries: every payer signs.
    fn signatures(self) -> u64 {
        match self {
            Mix::Transfer => 1,
            Mix::Dvp => 2,
        }
    }

    /// What the figures count.
    fn unit(self) -> &'static str {
        match self {
            Mix::Transfer => "transfers",
            Mix::Dvp => "DvPs",
        }
    }
}

/// First key seed of the benchmark's senders (development keys).
const SENDER_SEED: u64 = 50_000;
/// First account id of the benchmark's senders.
const SENDER_ACCOUNT: u64 = 1_000_000;
/// Most transactions pre-signed for one run.
const MAX_WORKLOAD: u64 = 2_000_000;
/// Fewest `POST /txs` requests each submitter sends per second (smaller batches at low
/// rates, so the load is not a burst every few seconds).
const MIN_REQUESTS_PER_S: u64 = 50;
/// How long a submitter waits after a `429 Overloaded` before sending the refused batch
/// again.
const OVERLOAD_PAUSE: Duration = Duration::from_millis(50);
/// How long the calibration run offers the ceiling to find the sustained peak (when no
/// `--rate` is given).
const CALIBRATION: Duration = Duration::from_secs(10);
/// How long to wait for submitted transfers to finalize after the load stops.
const DRAIN: Duration = Duration::from_secs(20);

fn sender_key(i: usize) -> PrivateKey {
    PrivateKey::from_seed(SENDER_SEED + i as u64)
}

fn sender_account(i: usize) -> AccountId {
    AccountId(SENDER_ACCOUNT + i as u64)
}

/// The demo genesis plus `senders` participants like dealer A, each with an account
/// holding cash.
fn genesis(senders: usize) -> Result<tally_ledger::Genesis, String> {
    let mut g = demo::genesis();
    g.time = crate::setup::now_to_the_second()?;
    let template = member("dealer-a");
    for i in 0..senders {
        let lei = Lei::with_check_digits(&format!("9845BE{i:012}")).map_err(|e| e.to_string())?;
        g.operations.push(demo::register(
            lei,
            &format!("Bench Sender {i}"),
            template.roles,
            template.class,
            &sender_key(i),
        ));
        g.operations.push(Operation::OpenAccount(OpenAccount {
            account: sender_account(i),
            owner: lei,
            kind: AccountKind::Own,
        }));
        g.operations.push(Operation::Mint(Mint {
            instrument: USD,
            to: sender_account(i),
            amount: 1_000_000_000,
        }));
        // $10,000,000 face of the note, for `--mix dvp`.
        g.operations.push(Operation::Mint(Mint {
            instrument: UST_2034,
            to: sender_account(i),
            amount: 1_000_000_000,
        }));
    }
    Ok(g)
}

/// Sender `i`'s transaction: `per_tx` one-cent transfers to the next senders (a lone
/// `Transfer`, or a `TransferBatch` when `per_tx` > 1; never back to itself), or a DvP
/// with the next sender ($100 face of the note against $99.50 of cash). The keys that must
/// sign it come with it.
fn operation(i: usize, senders: usize, per_tx: u64, mix: Mix) -> (Operation, Vec<usize>) {
    let next = (i + 1) % senders;
    let leg = |j: u64| {
        let ahead = usize::try_from(j % (senders as u64 - 1).max(1)).unwrap_or(0);
        Leg {
            from: sender_account(i),
            to: sender_account((next + ahead) % senders),
            instrument: USD,
            amount: 1,
        }
    };
    match mix {
        Mix::Dvp => {
            let legs = vec![
                Leg {
                    from: sender_account(i),
                    to: sender_account(next),
                    instrument: UST_2034,
                    amount: 10_000,
                },
                Leg {
                    from: sender_account(next),
                    to: sender_account(i),
                    instrument: USD,
                    amount: 9_950,
                },
            ];
            let legs = BoundedVec::new(legs).expect("two legs");
            (Operation::Settle(Settle { legs }), vec![i, next])
        }
        Mix::Transfer if per_tx == 1 => (Operation::Transfer(Transfer { leg: leg(0) }), vec![i]),
        Mix::Transfer => {
            let transfers = (0..per_tx)
                .map(|j| BatchTransfer {
                    leg: leg(j),
                    linked: false,
                })
                .collect();
            let transfers =
                BoundedVec::new(transfers).expect("--batch-signed is at most MAX_BATCH_TRANSFERS");
            (
                Operation::TransferBatch(TransferBatch { transfers }),
                vec![i],
            )
        }
    }
}

/// `count` transactions ([operation]) from sender `k % senders`, each sender's nonces
/// consecutive; signed on every core.
fn workload(
    chain: &ChainId,
    senders: usize,
    count: u64,
    per_tx: u64,
    mix: Mix,
    expires: Timestamp,
) -> Vec<SignedTx> {
    let keys: Vec<PrivateKey> = (0..senders).map(sender_key).collect();
    let threads = cores();
    let per = count.div_ceil(threads as u64);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads as u64)
            .map(|t| {
                let keys = &keys;
                s.spawn(move || {
                    (t * per..((t + 1) * per).min(count))
                        .map(|k| {
                            let i = usize::try_from(k % senders as u64).unwrap_or(0);
                            let (op, signers) = operation(i, senders, per_tx, mix);
                            let signers: Vec<&PrivateKey> =
                                signers.iter().map(|&s| &keys[s]).collect();
                            Transaction {
                                sender: keys[i].public_key(),
                                nonce: k / senders as u64,
                                expires_at: expires,
                                operations: BoundedVec::new(vec![op]).expect("one operation"),
                            }
                            .sign(chain, &signers)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// Signatures per second one core verifies in batches (the best of three rounds).
fn verify_rate_per_core(chain: &ChainId, txs: &[SignedTx]) -> u64 {
    let mut rng = <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(7);
    let mut best = 0u64;
    for _ in 0..3 {
        let batch = txs.to_vec();
        let start = Instant::now();
        let verified = tally_types::verify_batch(chain, batch, 1, &mut rng);
        let micros = u64::try_from(start.elapsed().as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        if verified.iter().all(Result::is_ok) {
            best = best.max(txs.len() as u64 * 1_000_000 / micros);
        }
    }
    best
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn get_json(agent: &ureq::Agent, url: &str) -> Option<Value> {
    let body = agent
        .get(url)
        .call()
        .ok()?
        .body_mut()
        .read_to_string()
        .ok()?;
    serde_json::from_str(&body).ok()
}

/// What the submitters and the observer record.
#[derive(Default)]
struct Record {
    /// Per transaction id: when its batch was sent.
    sent: HashMap<Hash32, Instant>,
    /// Refusals by code.
    refused: BTreeMap<String, u64>,
    /// Transport failures (requests that got no answer).
    failed_requests: u64,
    /// Requests refused whole with `429 Overloaded`.
    overloaded_requests: u64,
    /// Per finalized transaction: when the observer saw it final, and how many of its
    /// transfers applied.
    finalized: HashMap<Hash32, (Instant, u64)>,
    blocks: u64,
}

/// The `p`th percentile (nearest rank) of ascending `sorted`; 0 if empty.
fn percentile(sorted: &[u64], p: usize) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p * sorted.len()).div_ceil(100);
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Runs the benchmark.
pub fn run(args: &Args) -> Result<(), String> {
    if args.senders == 0 || args.batch == 0 || args.duration == 0 {
        return Err("--senders, --batch and --duration must be positive".into());
    }
    let per_tx = args.batch_signed.unwrap_or(1);
    let dvp = args.mix == Mix::Dvp;
    if (per_tx > 1 || dvp) && args.senders < 2 {
        return Err("--batch-signed and --mix dvp need at least two --senders".into());
    }
    if per_tx > 1 && dvp {
        return Err("--batch-signed batches transfers: it cannot be used with --mix dvp".into());
    }
    if args.batch > tally_node::http::MAX_SUBMIT_BATCH {
        return Err(format!(
            "--batch must be at most {}",
            tally_node::http::MAX_SUBMIT_BATCH
        ));
    }
    let json_out = match args.output.as_str() {
        "json" => true,
        "human" => false,
        other => return Err(format!("--output must be human or json, not {other}")),
    };
    let say = |line: String| {
        if !json_out {
            eprintln!("{line}");
        }
    };
    let chain = ChainId::new(demo::CHAIN).ok_or("bad chain id")?;

    // 1. The machine's verification ceiling, measured on an idle machine.
    say("measuring ed25519 batch verification …".into());
    let sample = workload(
        &chain,
        args.senders,
        16_384,
        1,
        Mix::Transfer,
        Timestamp(u64::MAX),
    );
    let per_core = verify_rate_per_core(&chain, &sample);
    drop(sample);
    let cores = cores();
    // A DvP carries two signatures (both payers'): half as many fit.
    let ceiling = cores as u64 * per_core / args.validators as u64 / args.mix.signatures();
    say(format!(
        "  {per_core} signatures/s per core, {cores} cores, {} validators: ceiling {ceiling} transfers/s",
        args.validators
    ));
    // Without --rate, the load is a percentage of what the network sustains: measured
    // first, on a fresh network offered the ceiling for CALIBRATION.
    let peak = match args.rate {
        Some(_) => None,
        None => {
            say(format!(
                "calibrating: the sustained rate when offered the ceiling for {}s …",
                CALIBRATION.as_secs()
            ));
            let calibration = Args {
                duration: CALIBRATION.as_secs(),
                ..args.clone()
            };
            // Batches are not bounded by signatures: offer them twice the ceiling.
            let offered = if per_tx > 1 { ceiling * 2 } else { ceiling };
            let (record, elapsed, _) = network_run(&calibration, &chain, offered, &say)?;
            let peak = sustained(&record, elapsed.start, CALIBRATION) / CALIBRATION.as_secs();
            say(format!("  sustained peak {peak}/s"));
            Some(peak)
        }
    };
    let base_rate = args
        .rate
        .or(peak.map(|p| p * args.load / 100))
        .unwrap_or(1)
        .max(1);
    let rate = base_rate.saturating_mul(args.overload.unwrap_or(1).max(1));
    say(format!("offering {rate}/s"));
    let (record, elapsed, peak_rss_mib) = network_run(args, &chain, rate, &say)?;
    // The PostgreSQL baseline, on the same machine once the validators are gone.
    let postgres = match &args.postgres {
        None => None,
        Some(url) => {
            say("PostgreSQL baseline: transfers, then DvPs (pgbench, 64 clients) …".into());
            let transfer = pgbench(args, url, "transfer.pgbench")?;
            let dvp = pgbench(args, url, "dvp.pgbench")?;
            Some((transfer, dvp))
        }
    };

    // 4. Figures.
    let window = Duration::from_secs(args.duration);
    let start = elapsed.start;
    let tps = sustained(&record, start, window) / args.duration;
    let mut latencies: Vec<u64> = record
        .finalized
        .iter()
        .filter_map(|(id, (at, _))| {
            record.sent.get(id).map(|sent| {
                u64::try_from(at.saturating_duration_since(*sent).as_millis()).unwrap_or(u64::MAX)
            })
        })
        .collect();
    latencies.sort_unstable();
    let (p50, p99) = (percentile(&latencies, 50), percentile(&latencies, 99));
    let permille = tps * 1_000 / ceiling.max(1);
    let accepted = record.sent.len() as u64 * per_tx;
    // Finalized transfers per second of the window, skipping the first two seconds (the
    // pipeline filling up), and the seconds in which no transfer finalized.
    let mut per_second = vec![0u64; usize::try_from(args.duration).unwrap_or(0)];
    for (at, applied) in record.finalized.values() {
        let second = at.saturating_duration_since(start).as_secs();
        if let Some(slot) = usize::try_from(second)
            .ok()
            .and_then(|s| per_second.get_mut(s))
        {
            *slot += applied;
        }
    }
    let steady: Vec<u64> = per_second.iter().skip(2).copied().collect();
    let (slowest_s, fastest_s) = (
        steady.iter().min().copied().unwrap_or(0),
        steady.iter().max().copied().unwrap_or(0),
    );
    let stalled_s = steady.iter().filter(|n| **n == 0).count();
    let applied: u64 = record.finalized.values().map(|(_, applied)| applied).sum();
    let report = json!({
        "tps": tps,
        "finality_p50_ms": p50,
        "finality_p99_ms": p99,
        "verify_batch_per_core": per_core,
        "ceiling_tps": ceiling,
        "per_mille_of_ceiling": permille,
        "offered_tps": rate,
        "duration_s": args.duration,
        "validators": args.validators,
        "cores": cores,
        "senders": args.senders,
        "submitted": elapsed.submitted * per_tx,
        "transfers_per_tx": per_tx,
        "mix": args.mix,
        "accepted": accepted,
        "refused": record.refused,
        "failed_requests": record.failed_requests,
        "finalized": record.finalized.len() as u64 * per_tx,
        "applied": applied,
        "blocks": record.blocks,
        "overload": args.overload.unwrap_or(1),
        "base_rate_tps": base_rate,
        "calibrated_peak_tps": peak,
        "load_percent": peak.map(|_| args.load),
        "overloaded_requests": record.overloaded_requests,
        "slowest_second_tps": slowest_s,
        "fastest_second_tps": fastest_s,
        "stalled_seconds": stalled_s,
        "peak_rss_mib": peak_rss_mib,
        "postgres_transfer_tps": postgres.map(|p| p.0),
        "postgres_dvp_tps": postgres.map(|p| p.1),
    });
    if json_out {
        println!("{report}");
    } else {
        println!(
            "tally bench: {} validators, {cores} cores, {}s at {rate} transfers/s offered{}",
            args.validators,
            args.duration,
            if per_tx > 1 {
                format!(" in batches of {per_tx} under one signature")
            } else {
                String::new()
            }
        );
        println!(
            "  sustained        {tps:>10} {}/s  ({}.{}% of ceiling{})",
            args.mix.unit(),
            permille / 10,
            permille % 10,
            if per_tx > 1 {
                ", which bounds individually signed transfers only"
            } else {
                ""
            }
        );
        if let Some(peak) = peak {
            println!(
                "  calibrated peak  {peak:>10}/s  (offered {}% of it)",
                args.load
            );
        }
        println!("  finality p50     {p50:>10} ms");
        println!("  finality p99     {p99:>10} ms");
        println!("  verify (batch)   {per_core:>10} signatures/s per core");
        println!(
            "  ceiling          {ceiling:>10} {}/s  (cores × batch rate ÷ validators{})",
            args.mix.unit(),
            if dvp { " ÷ 2 signatures" } else { "" }
        );
        println!(
            "  submitted {}, accepted {accepted}, finalized {}, applied {applied}, blocks {}",
            elapsed.submitted * per_tx,
            record.finalized.len() as u64 * per_tx,
            record.blocks
        );
        if !record.refused.is_empty() {
            println!("  refused: {:?}", record.refused);
        }
        if let Some(factor) = args.overload {
            println!(
                "  overload         {factor}× {base_rate}/s: {} requests refused as Overloaded (429)",
                record.overloaded_requests
            );
        }
        println!(
            "  per second       slowest {slowest_s}, fastest {fastest_s}, {stalled_s} s without a finalized transfer (after 2 s)"
        );
        println!("  peak memory      {peak_rss_mib:?} MiB per validator");
        if let Some((transfer, dvp)) = postgres {
            println!(
                "  PostgreSQL       {transfer:>10} transfers/s, {dvp} DvP/s  (same checks, durable, 64 clients, same machine)"
            );
        }
        println!("  logs: {}", args.home.display());
    }
    Ok(())
}

/// Transfers (or DvPs) applied in blocks the observer saw final within `window` of
/// `start`.
fn sustained(record: &Record, start: Instant, window: Duration) -> u64 {
    record
        .finalized
        .values()
        .filter(|(at, _)| at.duration_since(start) <= window)
        .map(|(_, applied)| applied)
        .sum()
}

/// Signs the workload for `rate` transfers a second over `args.duration`, starts a fresh
/// network under `args.home`, drives it, and stops it: what was recorded, and each
/// validator's peak resident memory in MiB.
fn network_run(
    args: &Args,
    chain: &ChainId,
    rate: u64,
    say: &dyn Fn(String),
) -> Result<(Record, Elapsed, Vec<u64>), String> {
    let per_tx = args.batch_signed.unwrap_or(1);
    // The workload, signed before the clock starts.
    let count = (rate * args.duration / per_tx).clamp(1, MAX_WORKLOAD);
    say(format!(
        "signing {count} transactions of {per_tx} transfer(s) …"
    ));
    let expires = Timestamp(now_ms() + 3_600_000);
    let txs = workload(chain, args.senders, count, per_tx, args.mix, expires);
    let ids: Vec<Hash32> = txs.iter().map(|t| t.tx.id(chain)).collect();
    // A fresh network.
    if args.home.exists() {
        std::fs::remove_dir_all(&args.home).map_err(|e| format!("{}: {e}", args.home.display()))?;
    }
    let genesis = new_network_with(
        &NewArgs {
            home: args.home.clone(),
            validators: args.validators,
            chain_id: demo::CHAIN.to_string(),
            base_port: args.base_port,
        },
        &genesis(args.senders)?,
    )?;
    let mut nodes = spawn(&genesis, &args.home, None)?;
    let result = drive(args, &mut nodes, &txs, &ids, (rate / per_tx).max(1), say);
    // Peak resident memory of each validator (kernel's high-water mark), before they stop.
    let peak_rss_mib: Vec<u64> = nodes
        .iter()
        .map(|n| peak_rss_kib(n.child.id()) / 1_024)
        .collect();
    stop_all(&mut nodes);
    let (record, elapsed) = result?;
    Ok((record, elapsed, peak_rss_mib))
}

struct Elapsed {
    start: Instant,
    submitted: u64,
}

/// Waits for the network, offers the load, observes finality; returns what was recorded.
fn drive(
    args: &Args,
    nodes: &mut [Node],
    txs: &[SignedTx],
    ids: &[Hash32],
    rate: u64,
    say: &dyn Fn(String),
) -> Result<(Record, Elapsed), String> {
    say(format!(
        "starting {} validators in {} …",
        nodes.len(),
        args.home.display()
    ));
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        for n in nodes.iter_mut() {
            if let Ok(Some(status)) = n.child.try_wait() {
                return Err(format!(
                    "{} exited ({status}); see {}",
                    n.name,
                    n.home.join("node.log").display()
                ));
            }
        }
        if nodes
            .iter()
            .all(|n| finalized_height(&n.api).is_some_and(|h| h >= 1))
        {
            break;
        }
        if Instant::now() > deadline {
            return Err("no block finalized in time; see node.log in each node home".into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }

    // Each sender's transactions go to one validator (sender i to validator i mod n), in
    // nonce order; each validator gets a paced share of the batches.
    let n = nodes.len();
    let mut queues: Vec<Vec<usize>> = vec![Vec::new(); n];
    for k in 0..txs.len() {
        queues[(k % args.senders) % n].push(k);
    }
    let record = Arc::new(Mutex::new(Record::default()));
    let done = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let per_validator_rate = (rate / n as u64).max(1);
    // Smooth load: each submitter sends at least MIN_REQUESTS_PER_S requests a second, so
    // a batch holds at most rate/MIN_REQUESTS_PER_S transactions (and at most --batch).
    let batch = usize::try_from(per_validator_rate / MIN_REQUESTS_PER_S)
        .unwrap_or(usize::MAX)
        .clamp(1, args.batch);
    let apis: Vec<String> = nodes.iter().map(|node| node.api.clone()).collect();
    say(format!(
        "offering {rate} transactions/s for {}s …",
        args.duration
    ));

    let observer = {
        let record = Arc::clone(&record);
        let done = Arc::clone(&done);
        let api = apis[0].clone();
        std::thread::spawn(move || observe(&api, &record, &done))
    };
    let submitted: u64 = std::thread::scope(|s| {
        let handles: Vec<_> = queues
            .iter()
            .zip(&apis)
            .map(|(queue, api)| {
                let record = Arc::clone(&record);
                s.spawn(move || {
                    submit(
                        api,
                        queue,
                        txs,
                        ids,
                        batch,
                        per_validator_rate,
                        start,
                        &record,
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(0)).sum()
    });

    // Let what was accepted finalize.
    let drain_until = Instant::now() + DRAIN;
    while Instant::now() < drain_until {
        let (accepted, finalized) = {
            let r = record.lock().map_err(|_| "record lock poisoned")?;
            (r.sent.len(), r.finalized.len())
        };
        if finalized >= accepted {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    done.store(true, Ordering::SeqCst);
    let _ = observer.join();
    let record = Arc::try_unwrap(record)
        .map_err(|_| "observer still running")?
        .into_inner()
        .map_err(|_| "record lock poisoned")?;
    Ok((record, Elapsed { start, submitted }))
}

/// Sends `queue` (indices into `txs`) to `api` in batches, paced at `rate` per second
/// from `start`. Returns how many transactions it sent.
#[allow(clippy::too_many_arguments)]
fn submit(
    api: &str,
    queue: &[usize],
    txs: &[SignedTx],
    ids: &[Hash32],
    batch: usize,
    rate: u64,
    start: Instant,
    record: &Mutex<Record>,
) -> u64 {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(30)))
        .http_status_as_error(false)
        .build()
        .into();
    let url = format!("{api}/txs");
    let mut sent = 0u64;
    // Transfers refused as Overloaded, sent again (first) with the next batch, as a client
    // retries after Retry-After: a refusal must not leave a nonce gap behind it.
    let mut retry: Vec<usize> = Vec::new();
    let mut chunks = queue.chunks(batch);
    // Refused transfers are retried until the load would have ended plus the drain time.
    let deadline = start + Duration::from_micros(queue.len() as u64 * 1_000_000 / rate) + DRAIN;
    loop {
        let fresh: &[usize] = if retry.len() >= batch {
            &[] // catch up on refused transfers before offering new ones
        } else {
            match chunks.next() {
                Some(chunk) => {
                    // Open loop: batch j is due when the first j×batch transactions are due.
                    let due = start + Duration::from_micros(sent * 1_000_000 / rate);
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    sent += chunk.len() as u64;
                    chunk
                }
                None if retry.is_empty() || Instant::now() > deadline => break,
                None => {
                    std::thread::sleep(OVERLOAD_PAUSE);
                    &[]
                }
            }
        };
        let attempt: Vec<usize> = retry.drain(..).chain(fresh.iter().copied()).collect();
        let raw: Vec<Vec<u8>> = attempt.iter().map(|k| txs[*k].to_bytes()).collect();
        let body = tally_node::mempool::encode_batch(&raw);
        let at = Instant::now();
        let answer = agent.post(&url).send(&body[..]).ok().and_then(|mut r| {
            let status = r.status().as_u16();
            let body = r.body_mut().read_to_string().ok()?;
            Some((status, serde_json::from_str::<Value>(&body).ok()?))
        });
        let Ok(mut r) = record.lock() else { break };
        if let Some((429, _)) = answer {
            // Shed at the edge: nothing of the batch was kept. Wait a little and send it
            // again (shorter than Retry-After, to keep offering the load).
            r.overloaded_requests += 1;
            *r.refused.entry("Overloaded".into()).or_insert(0) += attempt.len() as u64;
            drop(r);
            retry = attempt;
            std::thread::sleep(OVERLOAD_PAUSE);
            continue;
        }
        match answer.as_ref().and_then(|(_, v)| v["results"].as_array()) {
            Some(results) => {
                for (k, result) in attempt.iter().zip(results) {
                    if result.get("tx_id").is_some() {
                        r.sent.insert(ids[*k], at);
                    } else {
                        let name = result["name"].as_str().unwrap_or("Unknown").to_string();
                        if name == "Overloaded" {
                            retry.push(*k);
                        }
                        *r.refused.entry(name).or_insert(0) += 1;
                    }
                }
            }
            None => r.failed_requests += 1,
        }
    }
    sent
}

/// Runs one of the PostgreSQL baseline's pgbench scripts for `--duration` seconds and
/// returns its rate of committed transactions; any failed transaction is an error (the
/// baseline must do the same work the network does).
fn pgbench(args: &Args, url: &str, script: &str) -> Result<u64, String> {
    let path = args.postgres_scripts.join(script);
    let out = std::process::Command::new("pgbench")
        .args([
            "-n",
            "-c",
            "64",
            "-j",
            "2",
            "-M",
            "prepared",
            "--max-tries=10",
        ])
        .args(["-T", &args.duration.to_string()])
        .args(["-D", "accounts=10000", "-f"])
        .arg(&path)
        .arg(url)
        .output()
        .map_err(|e| format!("cannot run pgbench (Debian's postgresql-client): {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "pgbench {} failed: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let field = |prefix: &str| -> Option<&str> {
        text.lines()
            .find_map(|l| l.strip_prefix(prefix))
            .and_then(|rest| rest.split_whitespace().next())
    };
    if field("number of failed transactions: ") != Some("0") {
        return Err(format!("pgbench {script}: transactions failed:\n{text}"));
    }
    let tps: f64 = field("tps = ")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("pgbench {script}: no rate in its output:\n{text}"))?;
    Ok(tps as u64)
}

/// The kernel's high-water mark of a process's resident memory, in KiB (0 if unknown).
fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Polls `api` for newly finalized blocks and records when each transaction in them was
/// seen final, until `done`.
fn observe(api: &str, record: &Mutex<Record>, done: &AtomicBool) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .http_status_as_error(false)
        .build()
        .into();
    let mut next = get_json(&agent, &format!("{api}/status"))
        .and_then(|v| v["finalized_height"].as_u64())
        .unwrap_or(0)
        + 1;
    while !done.load(Ordering::SeqCst) {
        let tip = get_json(&agent, &format!("{api}/status"))
            .and_then(|v| v["finalized_height"].as_u64())
            .unwrap_or(0);
        while next <= tip {
            let Some(block) = get_json(&agent, &format!("{api}/block/{next}?txs=true")) else {
                break;
            };
            let seen = Instant::now();
            let Ok(mut r) = record.lock() else { return };
            r.blocks += 1;
            for tx in block["txs"].as_array().into_iter().flatten() {
                if let Some(id) = tx["tx_id"].as_str().and_then(Hash32::from_hex) {
                    // A batch reports how many of its transfers applied.
                    let applied = match tx["code_name"] == "Ok" {
                        false => 0,
                        true => tx["batch_applied"].as_u64().unwrap_or(1),
                    };
                    r.finalized.insert(id, (seen, applied));
                }
            }
            next += 1;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}
