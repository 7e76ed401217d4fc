//! The README's quick start, run verbatim: the commands in its `quickstart` block are
//! executed in order with the `tally` binary under test (on a private port, key store and
//! home), and the final positions must be the ones the README shows.

mod common;

use common::*;
use std::process::{Command, Stdio};
use std::time::Duration;

const README: &str = include_str!("../../../README.md");

/// The shell commands of the README's quick start block.
fn quickstart() -> Vec<String> {
    let block = README
        .split("<!-- quickstart -->")
        .nth(1)
        .and_then(|rest| rest.split("```sh\n").nth(1))
        .and_then(|rest| rest.split("```").next())
        .expect("README has a quickstart block");
    block
        .lines()
        .map(|l| l.split(" #").next().unwrap_or(l).trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn readme_quick_start_works_verbatim() {
    let commands = quickstart();
    assert!(
        commands.len() <= 5,
        "the quick start has more than five commands"
    );
    assert_eq!(commands[0], "cargo build --release -p tally-cli");
    assert!(commands[1].starts_with("./target/release/tally localnet --fresh"));

    let dir = std::env::temp_dir().join(format!("tally-quickstart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let base = 20_000 + 3 * 1_600 + (std::process::id() % 150) * 10;
    let api = format!("http://127.0.0.1:{}", base + 1);
    let keys = dir.join("keys");

    // Command 2, the network, on this test's ports and home.
    let args: Vec<&str> = commands[1].split_whitespace().skip(1).collect();
    let localnet = Command::new(TALLY)
        .args(&args)
        .arg("--home")
        .arg(dir.join("net"))
        .args(["--base-port", &base.to_string()])
        .env("TALLY_KEYS_DIR", &keys)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let guard = Stop(localnet);
    wait("the local network", Duration::from_secs(120), || {
        height(&api) >= 1 && keys.join("dealer-b.json").exists()
    });

    // Commands 3 on, verbatim but for the binary's path.
    let mut last = String::new();
    for c in &commands[2..] {
        let args: Vec<&str> = c.split_whitespace().collect();
        assert_eq!(args[0], "./target/release/tally", "{c}");
        let out = Command::new(TALLY)
            .args(&args[1..])
            .env("TALLY_API", &api)
            .env("TALLY_KEYS_DIR", &keys)
            .output()
            .unwrap();
        last = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "`{c}` failed:\n{last}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Dealer B bought $1,000,000 face of the note for $995,000.00.
    let line = |needle: &str| {
        last.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no {needle} line in:\n{last}"))
            .to_string()
    };
    assert!(line("UST 4.125%").contains("1000000.00"), "{last}");
    assert!(line("USD").contains("49005000.00"), "{last}");
    drop(guard);
    let _ = std::fs::remove_dir_all(&dir);
}
