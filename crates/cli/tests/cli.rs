//! Every `tally` command once, against a real four-validator network on loopback: keys,
//! queries, every ledger operation, a DvP by instruction matching, a compliance rejection
//! naming its rule, a freeze then a refused transfer, a forced transfer by the regulator,
//! read authorization through the CLI, event streams, and a balance verified locally
//! against the certified state root.

mod common;

use common::*;
use serde_json::{Value, json};
use std::process::Stdio;

fn as_refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn lei(prefix: &str) -> String {
    tally_types::Lei::with_check_digits(prefix)
        .unwrap()
        .to_string()
}

#[test]
fn every_cli_command_against_a_real_network() {
    let net = Net::start("cli-test", 4, 2);
    let work = net.dir.join("cli");
    std::fs::create_dir_all(&work).unwrap();
    let cli = Cli {
        api: net.api().to_string(),
        keys: work.join("keys"),
    };
    let genesis = net.genesis().to_string_lossy().to_string();

    // Keys.
    cli.ok(&["keys", "install-dev"]);
    for name in ["investor-x", "investor-y", "investor-z"] {
        cli.ok(&["keys", "new", name]);
    }
    let list = cli.ok(&["keys", "list"]);
    assert!(
        list.contains("investor-x") && list.contains("dealer-a"),
        "{list}"
    );
    assert!(list.contains("dev key"), "dev keys are not marked: {list}");
    let pub_of = |name: &str| -> String {
        cli.json(&["keys", "show", name])["public_key"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (x_pub, y_pub, z_pub) = (
        pub_of("investor-x"),
        pub_of("investor-y"),
        pub_of("investor-z"),
    );
    let secret = cli.ok(&["keys", "export", "investor-x"]);
    cli.ok(&[
        "keys",
        "import",
        "investor-x-copy",
        "--secret",
        secret.trim(),
    ]);
    assert_eq!(pub_of("investor-x-copy"), x_pub);

    // Node, chain and reference data.
    let status = cli.json(&["status"]);
    assert!(status["finalized_height"].as_u64().unwrap() >= 1);
    assert_eq!(status["state_root"].as_str().unwrap().len(), 64);
    cli.ok(&["status"]);
    cli.ok(&["chain"]);
    cli.ok(&["genesis", "validate", &genesis]);
    cli.ok(&[
        "node",
        "init",
        "--home",
        &work.join("spare-node").to_string_lossy(),
    ]);
    let dealer_a = lei("TALLYDA0000000000C");
    let dealer_b = lei("TALLYDB0000000000D");
    cli.ok(&["participant", "list"]);
    cli.ok(&["participant", "show", &dealer_a]);
    cli.ok(&["--key", "dealer-a", "participant", "accounts", &dealer_a]);
    cli.fails(
        &["--key", "dealer-a", "participant", "accounts", &dealer_b],
        1,
    );
    cli.ok(&["instrument", "list"]);
    assert!(
        cli.ok(&["instrument", "show", "US91282CJL63"])
            .contains("4.125")
    );
    cli.ok(&["blocks"]);
    cli.ok(&["block", "show", "1"]);

    // Read authorization through the CLI: A sees its own account, not B's; the regulator both.
    assert!(
        cli.ok(&["--key", "dealer-a", "account", "show", "300"])
            .contains("50000000.00")
    );
    let refused = cli.fails(&["--key", "dealer-a", "account", "show", "400"], 1);
    assert!(refused.contains("Forbidden"), "{refused}");
    cli.ok(&["--key", "regulator", "account", "show", "400"]);
    cli.ok(&["--key", "dealer-a", "holding", "300", "1"]);

    // A new participant whose KYC is pending: the compliance rule refuses a credit.
    let x_lei = lei("TALLYIX0000000000G");
    let entry = |kyc: &str| {
        json!({
            "lei": x_lei, "legal_name": "Example Investor LLC", "roles": ["investor"],
            "jurisdiction": "US", "investor_class": "qualified_institutional",
            "kyc_status": kyc, "kyc_expires_on": "2099-12-31",
            "keys": [{"public_key": x_pub, "weight": 1}], "threshold": 1, "admin_threshold": 1
        })
    };
    let pending = write(&work, "x-pending.json", &entry("pending"));
    let verified = write(&work, "x-verified.json", &entry("verified"));
    cli.ok(&[
        "--key",
        "central-bank",
        "participant",
        "register",
        "--file",
        &pending,
    ]);
    cli.ok(&[
        "--key",
        "central-bank",
        "account",
        "open",
        "--id",
        "700",
        "--owner",
        &x_lei,
    ]);
    let usd = ["--instrument", "1"];
    let to_x = |amount: &str| {
        let mut v = vec![
            "--key", "dealer-a", "transfer", "--from", "300", "--to", "700",
        ];
        v.extend_from_slice(&usd);
        v.extend_from_slice(&["--amount", amount]);
        v.into_iter().map(str::to_string).collect::<Vec<_>>()
    };
    let kyc = cli.fails(&as_refs(&to_x("10.00")), 3);
    assert!(
        kyc.contains("KycNotVerified"),
        "the rule is not named: {kyc}"
    );
    cli.ok(&[
        "--key",
        "central-bank",
        "participant",
        "update",
        "--file",
        &verified,
    ]);
    cli.ok(&as_refs(&to_x("10.00")));
    // Too many decimals for the instrument's scale: refused before anything is sent.
    cli.fails(&as_refs(&to_x("1.001")), 2);

    // Keys and thresholds of the participant.
    cli.ok(&[
        "--key",
        "investor-x",
        "key",
        "add",
        "--lei",
        &x_lei,
        "--public-key",
        &y_pub,
    ]);
    cli.ok(&[
        "--key",
        "investor-x",
        "key",
        "rotate",
        "--lei",
        &x_lei,
        "--old",
        &y_pub,
        "--new",
        &z_pub,
    ]);
    cli.ok(&[
        "--key",
        "investor-x",
        "key",
        "remove",
        "--lei",
        &x_lei,
        "--public-key",
        &z_pub,
    ]);
    cli.ok(&[
        "--key",
        "investor-x",
        "thresholds",
        "set",
        "--lei",
        &x_lei,
        "--threshold",
        "1",
        "--admin-threshold",
        "1",
    ]);
    cli.ok(&[
        "--key",
        "regulator",
        "participant",
        "suspend",
        &x_lei,
        "--reason",
        "7",
    ]);
    cli.ok(&["--key", "regulator", "participant", "reinstate", &x_lei]);

    // Freeze, then a refused transfer; unfreeze; a forced transfer by the regulator.
    cli.ok(&[
        "--key",
        "regulator",
        "account",
        "freeze",
        "700",
        "--reason",
        "11",
    ]);
    let frozen = cli.fails(&as_refs(&to_x("1.00")), 3);
    assert!(frozen.contains("AccountFrozen"), "{frozen}");
    cli.ok(&["--key", "regulator", "account", "unfreeze", "700"]);
    cli.ok(&[
        "--key",
        "regulator",
        "freeze-holding",
        "--account",
        "700",
        "--instrument",
        "1",
        "--amount",
        "1.00",
        "--reason",
        "12",
    ]);
    cli.ok(&[
        "--key",
        "regulator",
        "unfreeze-holding",
        "--account",
        "700",
        "--instrument",
        "1",
        "--amount",
        "1.00",
    ]);
    cli.ok(&[
        "--key",
        "regulator",
        "forced-transfer",
        "--from",
        "700",
        "--to",
        "300",
        "--instrument",
        "1",
        "--amount",
        "5.00",
        "--reason",
        "42",
    ]);
    let x = cli.ok(&["--key", "regulator", "account", "show", "700"]);
    assert!(x.contains("5.00"), "{x}");
    cli.ok(&[
        "--key",
        "central-bank",
        "account",
        "open",
        "--id",
        "701",
        "--owner",
        &x_lei,
    ]);
    cli.ok(&[
        "--key",
        "regulator",
        "account",
        "recover",
        "--from",
        "700",
        "--to",
        "701",
        "--reason",
        "13",
    ]);

    // An issuer's instrument: create, change policy, pause, unpause, mint, burn.
    let treasury = lei("TALLYTR0000000000B");
    let bill = write(
        &work,
        "bill.json",
        &json!({
            "id": 10, "issuer": treasury, "name": "UST Bill 2027-05-20", "scale": 2,
            "min_increment": "100.00",
            "kind": {"type": "treasury_bill", "issue_date": "2026-11-19", "maturity_date": "2027-05-20"},
            "policy": {"kyc_required": true}
        }),
    );
    let policy = write(
        &work,
        "policy.json",
        &json!({"kyc_required": true, "max_holders": 1000}),
    );
    cli.ok(&["--key", "treasury", "instrument", "create", "--file", &bill]);
    cli.ok(&[
        "--key",
        "treasury",
        "instrument",
        "policy",
        "10",
        "--file",
        &policy,
    ]);
    cli.ok(&["--key", "treasury", "instrument", "pause", "10"]);
    cli.ok(&["--key", "treasury", "instrument", "unpause", "10"]);
    cli.ok(&[
        "--key",
        "treasury",
        "mint",
        "--instrument",
        "10",
        "--to",
        "200",
        "--amount",
        "1000000.00",
    ]);
    cli.ok(&[
        "--key",
        "treasury",
        "burn",
        "--instrument",
        "10",
        "--from",
        "200",
        "--amount",
        "100.00",
    ]);

    // DvP: directly with both approvals, and by matching two instructions.
    let dvp = ["--leg", "300:400:2:1000", "--leg", "400:300:1:995"];
    let mut settle = vec!["--key", "dealer-a", "settle", "--approver", "dealer-b"];
    settle.extend_from_slice(&dvp);
    cli.ok(&settle);
    let mut first = vec!["--key", "dealer-a", "instruct", "--trade-ref", "E2E-1"];
    first.extend_from_slice(&dvp);
    let out = cli.ok(&first);
    let instruction = out
        .split_whitespace()
        .skip_while(|w| *w != "instruction")
        .nth(1)
        .expect("the instruction id is printed")
        .to_string();
    let mut second = vec!["--key", "dealer-b", "instruct", "--trade-ref", "E2E-1"];
    second.extend_from_slice(&dvp);
    cli.ok(&second);
    let shown = cli.ok(&["--key", "dealer-a", "instruction", "show", &instruction]);
    assert!(shown.contains("matched"), "{shown}");
    let mut lone = vec!["--key", "dealer-a", "instruct", "--trade-ref", "E2E-2"];
    lone.extend_from_slice(&dvp);
    let out = cli.ok(&lone);
    let lone_id = out
        .split_whitespace()
        .skip_while(|w| *w != "instruction")
        .nth(1)
        .unwrap()
        .to_string();
    cli.ok(&["--key", "dealer-a", "instruction", "cancel", &lone_id]);

    // An institution batch under dealer A's one signature: the first transfer applies, the
    // linked chain after it fails as a whole, and a debit of dealer B's account (B did not
    // approve) is refused on its own.
    let before = cli.json(&["--key", "dealer-a", "holding", "300", "1"]);
    let batch_file = work.join("batch.txt");
    std::fs::write(
        &batch_file,
        "# from:to:instrument:amount [linked]\n\
         300:400:1:1.00\n\
         300:400:US91282CJL63:100 linked\n\
         300:400:1:1000000000.00\n\
         \n\
         400:300:1:1.00\n\
         300:500:1:2.00\n",
    )
    .unwrap();
    let batch = cli.json(&[
        "--key",
        "dealer-a",
        "transfer-batch",
        "--file",
        &batch_file.to_string_lossy(),
    ]);
    assert_eq!(batch["code_name"], "Ok", "{batch}");
    assert_eq!(batch["batch"]["transfers"], 5, "{batch}");
    assert_eq!(batch["batch"]["applied"], 2, "{batch}");
    let failures: Vec<(u64, String)> = batch["batch"]["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["index"].as_u64().unwrap(),
                f["code_name"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        failures,
        vec![
            (1, "LinkedChainFailed".to_string()),
            (2, "InsufficientBalance".to_string()),
            (3, "Unauthorized".to_string()),
        ]
    );
    let after = cli.json(&["--key", "dealer-a", "holding", "300", "1"]);
    let cents = |v: &Value| -> u128 { v["balance"].as_str().unwrap().parse().unwrap() };
    assert_eq!(
        cents(&before) - cents(&after),
        300,
        "only the first and last transfers moved"
    );
    let shown = cli.ok(&[
        "--key",
        "dealer-a",
        "tx",
        "show",
        batch["tx_id"].as_str().unwrap(),
    ]);
    assert!(shown.contains("5 transfers, 2 applied"), "{shown}");
    // The custodian, only credited, sees the transaction's status but not the batch (its
    // own credit shows in its account's events).
    let as_custodian = cli.json(&[
        "--key",
        "custodian",
        "tx",
        "show",
        batch["tx_id"].as_str().unwrap(),
    ]);
    assert_eq!(as_custodian["code_name"], "Ok", "{as_custodian}");
    assert!(
        as_custodian.get("batch").is_none() && as_custodian.get("transaction").is_none(),
        "{as_custodian}"
    );

    // Holds: released to the beneficiary, and refunded by it.
    let hold = |id: &str| {
        vec![
            "--key",
            "dealer-a",
            "hold",
            "place",
            "--id",
            id,
            "--from",
            "300",
            "--to",
            "400",
            "--instrument",
            "1",
            "--amount",
            "1.00",
        ]
        .into_iter()
        .map(str::to_string)
        .collect::<Vec<_>>()
    };
    cli.ok(&as_refs(&hold("1")));
    cli.ok(&["--key", "dealer-a", "hold", "show", "1"]);
    cli.ok(&["--key", "dealer-a", "hold", "release", "1"]);
    cli.ok(&as_refs(&hold("2")));
    cli.ok(&["--key", "dealer-b", "hold", "refund", "2"]);

    // Transactions: submit without waiting, then wait and show.
    let mut quick = vec!["--output".to_string(), "json".to_string()];
    quick.extend(to_x("1.00").into_iter().map(|s| s.replace("700", "400")));
    quick.push("--no-wait".into());
    let submitted: Value = serde_json::from_str(&cli.ok(&as_refs(&quick))).unwrap();
    let tx = submitted["tx_id"].as_str().unwrap().to_string();
    cli.ok(&["tx", "wait", &tx]);
    let shown = cli.ok(&["--key", "dealer-a", "tx", "show", &tx]);
    assert!(shown.contains("Transfer"), "{shown}");

    // Event streams: one block, and one event of dealer B's account.
    cli.ok(&["events", "blocks", "--count", "1"]);
    let watcher = cli
        .cmd(&[
            "--output", "json", "--key", "dealer-b", "events", "account", "400", "--count", "1",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(1));
    cli.ok(&[
        "--key",
        "dealer-a",
        "transfer",
        "--from",
        "300",
        "--to",
        "400",
        "--instrument",
        "1",
        "--amount",
        "2.00",
    ]);
    let watched = watcher.wait_with_output().unwrap();
    assert!(watched.status.success());
    assert!(String::from_utf8_lossy(&watched.stdout).contains("400"));

    // Remote ledgers: registered by an operator and a regulator together, suspended by
    // the regulator alone, resumed together; this ledger's own genesis is refused.
    const G2_GENERATOR: &str = "93e02b6052719f607dacd3a088274f65596bd0d09920b61ab5da61bbdc7f5049334cf11213945d57e5ac7d055d042b7e024aa2b2f08f0a91260805272dc51051c6e47ad4fa403b02b4510b647ae3d1770bac0326a805bbefd48056c8c121bdb8";
    let register = [
        "--key",
        "central-bank",
        "remote-ledger",
        "register",
        "--chain-id",
        "tally-eur",
        "--group-key",
        G2_GENERATOR,
        "--name",
        "Euro ledger",
    ];
    let alone = cli.fails(&register, 3);
    assert!(alone.contains("Unauthorized"), "{alone}");
    let mut both = register.to_vec();
    both.extend(["--approver", "regulator"]);
    cli.ok(&both);
    let shown = cli.json(&["remote-ledger", "show", "tally-eur"]);
    assert_eq!(shown["group_public_key"], G2_GENERATOR);
    assert_eq!(shown["suspended"], false);
    let own = cli.fails(
        &[
            "--key",
            "central-bank",
            "remote-ledger",
            "register",
            "--genesis",
            &genesis,
            "--name",
            "Me",
            "--approver",
            "regulator",
        ],
        3,
    );
    assert!(own.contains("InvalidRemoteLedger"), "{own}");
    cli.fails(
        &[
            "--key",
            "central-bank",
            "remote-ledger",
            "register",
            "--chain-id",
            "x",
            "--group-key",
            "00ff",
            "--name",
            "Bad",
        ],
        2,
    );
    cli.ok(&[
        "--key",
        "regulator",
        "remote-ledger",
        "suspend",
        "tally-eur",
    ]);
    let listed = cli.ok(&["remote-ledger", "list"]);
    assert!(
        listed.contains("tally-eur") && listed.contains("suspended"),
        "{listed}"
    );
    cli.ok(&[
        "--key",
        "central-bank",
        "remote-ledger",
        "resume",
        "tally-eur",
        "--approver",
        "regulator",
    ]);
    let shown = cli.json(&["remote-ledger", "show", "tally-eur"]);
    assert_eq!(shown["suspended"], false);

    // A balance verified locally: certificate under the genesis group key, Merkle proof
    // against the certified root.
    let v = cli.ok(&[
        "--key",
        "dealer-a",
        "verify",
        "holding",
        "--account",
        "300",
        "--instrument",
        "1",
        "--genesis",
        &genesis,
    ]);
    assert!(v.contains("verified"), "{v}");
}
