//! A coupon paid live on a local network: `tally localnet --start-at` runs the chain's
//! clock from 40 seconds before the demo note's 2027-05-15 coupon date; the CLI funds the
//! Treasury, moves some of the note and sets servicing; at midnight the ledger closes the
//! register, pays every holder of record and reopens it.

mod common;

use common::*;
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn a_coupon_is_paid_to_holders_of_record_on_a_local_network() {
    let dir = std::env::temp_dir().join(format!("tally-coupon-live-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let base = 20_000 + 5 * 1_600 + (std::process::id() % 150) * 10;
    let api = format!("http://127.0.0.1:{}", base + 1);
    let keys = dir.join("keys");
    // 40 s before the coupon's record moment (2027-05-15T00:00:00Z).
    let start_at = "2027-05-14T23:59:20Z";
    let localnet = Command::new(TALLY)
        .args([
            "localnet",
            "--start-at",
            start_at,
            "--base-port",
            &base.to_string(),
        ])
        .arg("--home")
        .arg(dir.join("net"))
        .env("TALLY_KEYS_DIR", &keys)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _guard = Stop(localnet);
    wait("the local network", Duration::from_secs(120), || {
        height(&api) >= 1 && keys.join("dealer-b.json").exists()
    });
    let cli = Cli {
        api: api.clone(),
        keys: keys.clone(),
    };
    // The chain runs at the chosen moment, not the wall clock.
    let status = cli.json(&["status"]);
    let chain_ms = status["finalized_time_ms"].as_u64().unwrap();
    assert!(
        (1_810_339_160_000..1_810_339_200_000).contains(&chain_ms),
        "chain time {chain_ms} is not 2027-05-14T23:59:2x"
    );
    cli.ok(&[
        "--key",
        "central-bank",
        "mint",
        "--instrument",
        "1",
        "--to",
        "200",
        "--amount",
        "1000000.00",
    ]);
    cli.ok(&[
        "--key",
        "dealer-a",
        "transfer",
        "--from",
        "300",
        "--to",
        "400",
        "--instrument",
        "2",
        "--amount",
        "3000000.00",
    ]);
    let cash = |acc: &str| -> u128 { cli.holding_field(acc, 1, "balance").parse().unwrap() };
    let (a0, b0) = (cash("300"), cash("400"));
    cli.ok(&[
        "--key",
        "treasury",
        "servicing",
        "set",
        "2",
        "--account",
        "200",
        "--cash",
        "1",
    ]);
    let s = cli.json(&["servicing", "show", "2"]);
    assert_eq!(s["schedule"][0], "2027-05-15", "{s}");
    assert!(
        s["distributions"].as_array().unwrap().is_empty(),
        "paid too early: {s}"
    );

    wait("the coupon", Duration::from_secs(120), || {
        cli.json(&["servicing", "show", "2"])["distributions"]
            .as_array()
            .is_some_and(|d| d.iter().any(|x| x["status"] == "done"))
    });
    let s = cli.json(&["servicing", "show", "2"]);
    let d = &s["distributions"][0];
    // 4.125%/2 of $10,000,000 = $206,250.00 to two holders of record.
    assert_eq!(
        (d["kind"].as_str(), d["date"].as_str()),
        (Some("coupon"), Some("2027-05-15"))
    );
    assert_eq!(d["gross"], "20625000");
    assert_eq!(d["paid"], "20625000");
    assert_eq!(d["holders"], 2);
    assert_eq!(s["book_closed"], false);
    assert_eq!(cash("300") - a0, 14_437_500); // $7,000,000 × 2.0625%
    assert_eq!(cash("400") - b0, 6_187_500); // $3,000,000 × 2.0625%
    assert_eq!(s["schedule"][0], "2027-11-15");
}
