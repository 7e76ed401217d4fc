//! `tally localnet`: a local network of validator processes on loopback, in the
//! foreground, stopped cleanly on Ctrl-C or SIGTERM.

use crate::setup::{NewArgs, new_network, node_home};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tally_node::genesis::GenesisFile;
use tally_node::run::GENESIS_FILE;

/// Arguments of `tally localnet`.
#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    /// Number of validators.
    #[arg(long, default_value_t = 4)]
    pub validators: usize,
    /// Directory of the network (created if missing).
    #[arg(long, default_value = "./localnet")]
    pub home: PathBuf,
    /// Delete any existing network in the home first.
    #[arg(long)]
    pub fresh: bool,
    /// First port (validator i: base+2i p2p, base+2i+1 API).
    #[arg(long, default_value_t = 26_600)]
    pub base_port: u16,
    /// Seconds to wait for the first finalized block.
    #[arg(long, default_value_t = 120)]
    pub startup_timeout_s: u64,
    /// Development: run the network's clock from this future UTC moment instead of now
    /// (YYYY-MM-DDTHH:MM:SSZ), e.g. a few seconds before a coupon date, so that scheduled
    /// lifecycle work can be watched. Creates a fresh network whose genesis is that moment;
    /// the network keeps that clock when restarted without this option.
    #[arg(long, value_name = "YYYY-MM-DDTHH:MM:SSZ")]
    pub start_at: Option<String>,
}

/// Parses `YYYY-MM-DDTHH:MM:SSZ` as milliseconds since the epoch.
fn parse_instant(s: &str) -> Result<u64, String> {
    let bad = || format!("--start-at must look like 2027-05-14T23:59:30Z, got {s:?}");
    let (date, rest) = s.split_once('T').ok_or_else(bad)?;
    let time = rest.strip_suffix('Z').ok_or_else(bad)?;
    let date = tally_types::Date::parse(date).ok_or_else(bad)?;
    let parts: Vec<u64> = time
        .split(':')
        .map(|p| p.parse::<u64>().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    let [h, m, sec] = parts[..] else {
        return Err(bad());
    };
    if h > 23 || m > 59 || sec > 59 {
        return Err(bad());
    }
    Ok(date.start().0 + ((h * 60 + m) * 60 + sec) * 1_000)
}

fn wall_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// File `tally localnet` writes with every node's endpoints.
pub const LOCALNET_FILE: &str = "localnet.json";

/// A validator process started by this command.
pub(crate) struct Node {
    pub(crate) name: String,
    pub(crate) api: String,
    pub(crate) home: PathBuf,
    pub(crate) child: Child,
}

/// The finalized height a node's API reports, if it answers.
pub(crate) fn finalized_height(api: &str) -> Option<u64> {
    let body = ureq::get(&format!("{api}/status"))
        .call()
        .ok()?
        .body_mut()
        .read_to_string()
        .ok()?;
    serde_json::from_str::<serde_json::Value>(&body)
        .ok()?
        .get("finalized_height")?
        .as_u64()
}

/// Stops every node: SIGTERM, then SIGKILL after 10 s.
pub(crate) fn stop_all(nodes: &mut [Node]) {
    for n in nodes.iter() {
        if let Ok(pid) = i32::try_from(n.child.id()) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
        }
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    for n in nodes.iter_mut() {
        while Instant::now() < deadline {
            if let Ok(Some(_)) = n.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        if let Ok(None) = n.child.try_wait() {
            let _ = n.child.kill();
            let _ = n.child.wait();
        }
    }
}

/// Starts one `tally node` process per validator of `genesis`, homes under `network`.
pub(crate) fn spawn(
    genesis: &GenesisFile,
    network: &Path,
    clock_offset_ms: Option<u64>,
) -> Result<Vec<Node>, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find the tally binary: {e}"))?;
    let mut nodes = Vec::new();
    for (i, v) in genesis.validators.iter().enumerate() {
        let home = node_home(network, i);
        let log = std::fs::File::create(home.join("node.log"))
            .map_err(|e| format!("{}: {e}", home.display()))?;
        let err = log.try_clone().map_err(|e| e.to_string())?;
        let child = Command::new(&exe)
            .args(["node", "start", "--home"])
            .arg(&home)
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "warn,tally_node=info".into()),
            )
            // A development network: the explorer's dev menu may offer the demo keys.
            .env(tally_node::http::DEV_KEYS_ENV, "1")
            .env(
                tally_node::clock::DEV_CLOCK_OFFSET_ENV,
                clock_offset_ms.unwrap_or(0).to_string(),
            )
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn();
        match child {
            Ok(child) => nodes.push(Node {
                name: v.name.clone(),
                api: format!("http://{}", v.api_address),
                home,
                child,
            }),
            Err(e) => {
                stop_all(&mut nodes);
                return Err(format!("cannot start {}: {e}", v.name));
            }
        }
    }
    Ok(nodes)
}

/// File in a local network's home holding the development clock offset it was started
/// with (`--start-at`), reused when it restarts.
const CLOCK_OFFSET_FILE: &str = "dev-clock-offset-ms";

/// Runs the local network until interrupted; installs the demo world's development keys
/// in the key store at `keys_dir` so the CLI can sign as any demo participant.
pub fn run(args: &Args, keys_dir: &Path) -> Result<(), String> {
    let start_at = args.start_at.as_deref().map(parse_instant).transpose()?;
    if start_at.is_some_and(|at| at <= wall_ms()) {
        return Err("--start-at must be in the future".into());
    }
    if (args.fresh || start_at.is_some()) && args.home.exists() {
        std::fs::remove_dir_all(&args.home).map_err(|e| format!("{}: {e}", args.home.display()))?;
    }
    let genesis_path = args.home.join(GENESIS_FILE);
    let genesis = if genesis_path.exists() {
        let json = std::fs::read_to_string(&genesis_path).map_err(|e| e.to_string())?;
        let g = GenesisFile::from_json(&json).map_err(|e| e.to_string())?;
        if g.validators.len() != args.validators {
            return Err(format!(
                "{} holds a network of {} validators; use --fresh to replace it",
                args.home.display(),
                g.validators.len()
            ));
        }
        g
    } else {
        let new = NewArgs {
            home: args.home.clone(),
            validators: args.validators,
            chain_id: tally_ledger::demo::CHAIN.to_string(),
            base_port: args.base_port,
        };
        let mut genesis = new_network(&new)?;
        if let Some(at) = start_at {
            // The chain begins at the chosen moment; every validator gets the same file.
            genesis.genesis_time_ms = at;
            genesis.validate().map_err(|e| e.to_string())?;
            let json = genesis.to_json();
            let mut paths = vec![genesis_path.clone()];
            paths.extend((0..args.validators).map(|i| node_home(&args.home, i).join(GENESIS_FILE)));
            for p in paths {
                std::fs::write(&p, &json).map_err(|e| format!("{}: {e}", p.display()))?;
            }
        }
        genesis
    };
    // The offset stays with the network: restarted without --start-at, its validators must
    // keep the clock its blocks were stamped by, or they would refuse every block until
    // wall time caught up with ledger time (docs/node.md, "Time a Byzantine leader
    // cannot push").
    let offset_path = args.home.join(CLOCK_OFFSET_FILE);
    let clock_offset_ms = match start_at {
        Some(at) => {
            let offset = at.saturating_sub(wall_ms());
            std::fs::write(&offset_path, offset.to_string())
                .map_err(|e| format!("{}: {e}", offset_path.display()))?;
            Some(offset)
        }
        None if offset_path.exists() => {
            let text = std::fs::read_to_string(&offset_path)
                .map_err(|e| format!("{}: {e}", offset_path.display()))?;
            let offset = text.trim().parse::<u64>().map_err(|_| {
                format!(
                    "{} does not hold a clock offset in ms; use --fresh",
                    offset_path.display()
                )
            })?;
            Some(offset)
        }
        None => None,
    };

    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))
        .map_err(|e| format!("signal handler: {e}"))?;

    let mut nodes = spawn(&genesis, &args.home, clock_offset_ms)?;
    eprintln!(
        "starting {} validators in {} …",
        nodes.len(),
        args.home.display()
    );
    let deadline = Instant::now() + Duration::from_secs(args.startup_timeout_s);
    loop {
        if stop.load(Ordering::SeqCst) {
            stop_all(&mut nodes);
            return Ok(());
        }
        for n in nodes.iter_mut() {
            if let Ok(Some(status)) = n.child.try_wait() {
                let name = n.name.clone();
                let log = n.home.join("node.log");
                stop_all(&mut nodes);
                return Err(format!("{name} exited ({status}); see {}", log.display()));
            }
        }
        if nodes
            .iter()
            .all(|n| finalized_height(&n.api).is_some_and(|h| h >= 1))
        {
            break;
        }
        if Instant::now() > deadline {
            stop_all(&mut nodes);
            return Err("no block finalized in time; see node.log in each node home".into());
        }
        std::thread::sleep(Duration::from_millis(200));
    }

    let dev_keys: Vec<&str> = tally_ledger::demo::MEMBERS.iter().map(|m| m.name).collect();
    if let Err(e) = tally_sdk::keystore::install_dev_keys(keys_dir) {
        eprintln!(
            "warning: dev keys not installed in {}: {e}",
            keys_dir.display()
        );
    }
    let info = json!({
        "chain_id": genesis.chain_id,
        "home": args.home,
        "nodes": nodes.iter().map(|n| json!({
            "name": n.name,
            "api": n.api,
            "pid": n.child.id(),
            "home": n.home,
        })).collect::<Vec<_>>(),
        "dev_keys": dev_keys,
    });
    let info_path = args.home.join(LOCALNET_FILE);
    std::fs::write(
        &info_path,
        serde_json::to_string_pretty(&info).unwrap_or_default(),
    )
    .map_err(|e| format!("{}: {e}", info_path.display()))?;

    println!(
        "tally localnet: {} validators, chain {}",
        nodes.len(),
        genesis.chain_id
    );
    for n in &nodes {
        println!(
            "  {:<12} api {}   (pid {}, home {})",
            n.name,
            n.api,
            n.child.id(),
            n.home.display()
        );
    }
    println!(
        "  dev keys (development only, never for real value), in {}:",
        keys_dir.display()
    );
    for m in tally_ledger::demo::MEMBERS {
        let roles: Vec<&str> = m.roles.iter().map(|r| r.name()).collect();
        println!(
            "    {:<13} {:<28} account {:<4} {}",
            m.name,
            m.legal_name,
            m.account.0,
            roles.join(", ")
        );
    }
    println!(
        "  instruments: 1 USD central-bank reserves; 2 UST 4.125% 15-Nov-2034 (ISIN US91282CJL63, CUSIP 91282CJL6)"
    );
    println!(
        "  explorer: {}/explorer/   (every validator serves it; dev keys in its Dev menu)",
        nodes[0].api
    );
    println!("  API reference: {}/docs", nodes[0].api);
    println!("  try: tally status   |   tally --key dealer-a account show 300");
    println!("  details: {}", info_path.display());
    println!("press Ctrl-C to stop");

    // Report each validator that exits once, not on every poll.
    let mut reported = vec![false; nodes.len()];
    while !stop.load(Ordering::SeqCst) {
        for (n, reported) in nodes.iter_mut().zip(reported.iter_mut()) {
            if *reported {
                continue;
            }
            if let Ok(Some(status)) = n.child.try_wait() {
                *reported = true;
                eprintln!(
                    "warning: {} exited ({status}); see {}",
                    n.name,
                    n.home.join("node.log").display()
                );
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    eprintln!("stopping …");
    stop_all(&mut nodes);
    eprintln!("stopped");
    Ok(())
}
