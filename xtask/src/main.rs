//! Run the project's checks the way CI does: `cargo xtask ci`.
//!
//! Subcommands:
//! - `ci`: formatting, clippy (all targets, warnings denied), docs (warnings denied),
//!   the ledger's purity check, the whole test suite, the end-to-end example, the
//!   explorer's checks (below), and a short smoke run of `tally bench` (it must report every figure and every submitted
//!   transfer must apply; its numbers are not judged).
//! - `explorer`: the explorer's checks: `npm ci`, the committed bundle is the build of
//!   `explorer/src` (`npm run check`), the verifier against Rust's vectors (`npm test`),
//!   and the browser tests against a real local network (`npm run browser`, headless
//!   Chromium; screenshots in `target/explorer-screenshots/`).
//! - `bench-smoke`: only the short `tally bench` run.
//! - `purity`: only the purity check: the ledger crates depend on no async runtime, no
//!   networking and no storage engine.

use std::process::{Command, ExitCode};

/// Crates the pure ledger crates must never depend on, directly or not.
const FORBIDDEN_IN_PURE_CRATES: &[&str] = &[
    "tokio",
    "futures",
    "async-std",
    "mio",
    "hyper",
    "axum",
    "reqwest",
    "commonware-runtime",
    "commonware-storage",
    "commonware-p2p",
    "rocksdb",
    "sled",
];
const PURE_CRATES: &[&str] = &["tally-types", "tally-ledger"];

fn run(program: &str, args: &[&str], env: &[(&str, &str)]) -> Result<(), String> {
    run_in(".", program, args, env)
}

fn run_in(dir: &str, program: &str, args: &[&str], env: &[(&str, &str)]) -> Result<(), String> {
    eprintln!("$ {program} {}", args.join(" "));
    let status = Command::new(program)
        .current_dir(dir)
        .args(args)
        .envs(env.iter().copied())
        .status()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{program} {}` failed", args.join(" ")))
    }
}

fn purity() -> Result<(), String> {
    for krate in PURE_CRATES {
        eprintln!("$ cargo tree -p {krate} -e normal");
        let out = Command::new("cargo")
            .args(["tree", "-p", krate, "-e", "normal", "--prefix", "none"])
            .output()
            .map_err(|e| format!("cannot run cargo tree: {e}"))?;
        if !out.status.success() {
            return Err(format!("cargo tree -p {krate} failed"));
        }
        let tree = String::from_utf8_lossy(&out.stdout);
        let found: Vec<&str> = tree
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .filter(|name| FORBIDDEN_IN_PURE_CRATES.contains(name))
            .collect();
        if !found.is_empty() {
            return Err(format!("{krate} depends on {found:?}: it must stay pure"));
        }
        eprintln!("  {krate}: no I/O, async or storage dependency");
    }
    Ok(())
}

fn ci() -> Result<(), String> {
    run("cargo", &["fmt", "--all", "--", "--check"], &[])?;
    run(
        "cargo",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
        &[],
    )?;
    run(
        "cargo",
        &["doc", "--workspace", "--no-deps"],
        &[("RUSTDOCFLAGS", "-D warnings")],
    )?;
    purity()?;
    run("cargo", &["test", "--workspace"], &[])?;
    run(
        "cargo",
        &[
            "run",
            "--quiet",
            "-p",
            "tally-ledger",
            "--example",
            "treasury_dvp",
        ],
        &[],
    )?;
    explorer()?;
    bench_smoke()?;
    Ok(())
}

/// The explorer's checks: its packages from the lock file, the committed bundle current,
/// the in-browser verifier agreeing with Rust's on every vector, and the browser tests
/// against a real local network (with the `tally` binary built here).
fn explorer() -> Result<(), String> {
    let dir = "explorer";
    run_in(dir, "npm", &["ci", "--no-audit", "--no-fund"], &[])?;
    run_in(dir, "npm", &["run", "check"], &[])?;
    run_in(dir, "npm", &["test"], &[])?;
    run("cargo", &["build", "-p", "tally-cli"], &[])?;
    let root = std::env::current_dir().map_err(|e| e.to_string())?;
    // Where cargo put the binary: CARGO_TARGET_DIR if set (relative to the root), else
    // target/.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(|d| root.join(d))
        .unwrap_or_else(|| root.join("target"));
    let tally = target.join("debug/tally");
    let shots = root.join("target/explorer-screenshots");
    run_in(
        dir,
        "npm",
        &["run", "browser"],
        &[
            ("TALLY_BIN", &tally.to_string_lossy()),
            ("EXPLORER_SCREENSHOTS", &shots.to_string_lossy()),
        ],
    )
}

/// The report fields `tally bench --output json` must print.
const BENCH_FIELDS: &[&str] = &[
    "tps",
    "finality_p50_ms",
    "finality_p99_ms",
    "verify_batch_per_core",
    "ceiling_tps",
    "submitted",
    "applied",
];

/// The unsigned integer after `"key":` in a flat JSON object.
fn json_u64(json: &str, key: &str) -> Option<u64> {
    let at = json.find(&format!("\"{key}\":"))? + key.len() + 3;
    let digits: String = json[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Runs `tally bench` with `extra` arguments for 3 seconds, prints its JSON report and
/// returns it.
fn bench_run(extra: &[&str]) -> Result<String, String> {
    let mut args = vec![
        "run",
        "--quiet",
        "-p",
        "tally-cli",
        "--",
        "bench",
        "--duration",
        "3",
        "--senders",
        "100",
        "--home",
        "target/bench-smoke",
        "--base-port",
        "26900",
        "--output",
        "json",
    ];
    args.extend_from_slice(extra);
    eprintln!("$ cargo {}", args.join(" "));
    let out = Command::new("cargo")
        .args(&args)
        .output()
        .map_err(|e| format!("cannot run tally bench: {e}"))?;
    let report = String::from_utf8_lossy(&out.stdout).to_string();
    eprintln!("{}", report.trim());
    if !out.status.success() {
        return Err(format!(
            "tally bench failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    for field in BENCH_FIELDS {
        if json_u64(&report, field).is_none() {
            return Err(format!("tally bench did not report {field}"));
        }
    }
    Ok(report)
}

/// Runs the network benchmark briefly in each mode: at a low rate, where it must see
/// every submitted transfer applied; with institution batches, the same; and overloaded
/// (3× the low rate), where it must report the overload figures and see every transfer
/// the network accepted applied.
fn bench_smoke() -> Result<(), String> {
    let report = bench_run(&["--rate", "300"])?;
    let (submitted, applied) = (json_u64(&report, "submitted"), json_u64(&report, "applied"));
    if submitted != applied || submitted == Some(0) {
        return Err(format!(
            "tally bench: {submitted:?} transfers submitted but {applied:?} applied"
        ));
    }
    // Institution batches: 30 transactions of 100 transfers each, every transfer applied.
    let report = bench_run(&["--rate", "1000", "--batch-signed", "100"])?;
    let (submitted, applied) = (json_u64(&report, "submitted"), json_u64(&report, "applied"));
    if submitted != applied || submitted == Some(0) {
        return Err(format!(
            "tally bench --batch-signed: {submitted:?} transfers submitted but {applied:?} applied"
        ));
    }
    let report = bench_run(&["--rate", "300", "--overload", "3"])?;
    for field in [
        "overloaded_requests",
        "stalled_seconds",
        "slowest_second_tps",
    ] {
        if json_u64(&report, field).is_none() {
            return Err(format!("tally bench --overload did not report {field}"));
        }
    }
    let (accepted, applied) = (json_u64(&report, "accepted"), json_u64(&report, "applied"));
    if accepted != applied || accepted == Some(0) {
        return Err(format!(
            "tally bench --overload: {accepted:?} transfers accepted but {applied:?} applied"
        ));
    }
    Ok(())
}

fn main() -> ExitCode {
    let task = std::env::args().nth(1).unwrap_or_default();
    let result = match task.as_str() {
        "ci" => ci(),
        "purity" => purity(),
        "bench-smoke" => bench_smoke(),
        "explorer" => explorer(),
        _ => Err("usage: cargo xtask <ci|purity|explorer|bench-smoke>".to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
