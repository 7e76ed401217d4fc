//! Cross-ledger settlement end to end (docs/interop.md): two real local networks with
//! different chain ids and group keys register each other, lock the two legs of a PvP
//! through `tally xswap lock`, and `tally relay` carries each side's certified proof to
//! the other until both legs settle. Proofs that are forged, tampered with, from the
//! from an unregistered network or replayed are refused with their codes. A second swap's follower
//! network is stopped past the deadline: both legs refund, nobody pays without receiving.

mod common;

use common::{Cli, Net, start_node, wait};
use std::time::Duration;
use tally_sdk::{Client, SdkError, TxBuilder};
use tally_types::ops::ProveCrossLedger;
use tally_types::{ChainId, HoldId};

/// Dealer A (account 300) pays 100.00 of cash (instrument 1) on the dollar ledger; dealer
/// B (account 400) pays 90.00 on the euro ledger.
fn lock_pair(usd: &Cli, eur: &Cli, leader: u64, follower: u64, deadline_secs: u64) {
    let (l, f, d) = (
        leader.to_string(),
        follower.to_string(),
        deadline_secs.to_string(),
    );
    let out = usd.ok(&[
        "--key",
        "dealer-a",
        "xswap",
        "lock",
        "--id",
        &l,
        "--from",
        "300",
        "--to",
        "400",
        "--instrument",
        "1",
        "--amount",
        "100.00",
        "--role",
        "leader",
        "--deadline-in-secs",
        &d,
        "--remote-hold",
        &f,
        "--remote-payee",
        "300",
        "--remote-instrument",
        "1",
        "--remote-amount",
        "90.00",
        "--remote-api",
        &eur.api,
    ]);
    assert!(out.contains("Ok"), "{out}");
    let out = eur.ok(&[
        "--key",
        "dealer-b",
        "xswap",
        "lock",
        "--id",
        &f,
        "--from",
        "400",
        "--to",
        "300",
        "--instrument",
        "1",
        "--amount",
        "90.00",
        "--role",
        "follower",
        "--remote-hold",
        &l,
        "--remote-payee",
        "400",
        "--remote-instrument",
        "1",
        "--remote-amount",
        "100.00",
        "--remote-api",
        &usd.api,
    ]);
    assert!(out.contains("leader hold") && out.contains("Held"), "{out}");
}

fn status(cli: &Cli, hold: u64) -> String {
    let v = cli.json(&["--key", "regulator", "hold", "show", &hold.to_string()]);
    v["status"].as_str().unwrap().to_string()
}

/// Submits a `ProveCrossLedger` carrying `proof` as the custodian; returns the API's
/// refusal code, or the ledger's result code once final.
fn submit_proof(api: &str, hold: u64, proof: tally_types::remote::RemoteProof) -> u16 {
    let client = Client::new(api);
    let key = tally_ledger::demo::member("custodian").key();
    let op = ProveCrossLedger {
        hold: HoldId(hold),
        proof,
    };
    match TxBuilder::new(&client, key).ops(vec![op.into()]).submit() {
        Err(SdkError::Api { body, .. }) => body.code,
        Err(e) => panic!("submission failed: {e}"),
        Ok(sub) => {
            let info = client
                .wait_final(&sub.tx_id, Duration::from_secs(60))
                .unwrap();
            info.code.unwrap()
        }
    }
}

#[test]
fn two_ledgers_settle_a_pvp_against_each_others_finality_and_refund_when_one_stops() {
    let usd_net = Net::start_chain("xswap-usd", 1, 6, "tally-usd");
    let mut eur_net = Net::start_chain("xswap-eur", 1, 0, "tally-eur");
    let keys = usd_net.dir.join("keys");
    let usd = Cli {
        api: usd_net.api().to_string(),
        keys: keys.clone(),
    };
    let eur = Cli {
        api: eur_net.api().to_string(),
        keys,
    };
    usd.ok(&["keys", "install-dev"]);
    for (cli, other, name) in [
        (&usd, &eur_net, "Euro ledger"),
        (&eur, &usd_net, "Dollar ledger"),
    ] {
        let genesis = other.genesis();
        cli.ok(&[
            "--key",
            "central-bank",
            "remote-ledger",
            "register",
            "--genesis",
            genesis.to_str().unwrap(),
            "--name",
            name,
            "--approver",
            "regulator",
        ]);
    }
    let cash = |cli: &Cli, acc: &str| cli.holding_field(acc, 1, "balance");
    let before = [
        cash(&usd, "300"),
        cash(&usd, "400"),
        cash(&eur, "300"),
        cash(&eur, "400"),
    ];

    // --- A PvP settled by a relayer (one of the parties' own clients) ---
    lock_pair(&usd, &eur, 1, 2, 600);
    assert_eq!(
        (status(&usd, 1), status(&eur, 2)),
        ("Held".into(), "Held".into())
    );

    // Wrong proofs, each refused with its code and changing nothing.
    let usd_client = Client::new(usd.api.clone());
    let eur_client = Client::new(eur.api.clone());
    let reader = tally_ledger::demo::member("regulator").key();
    let eur_chain = ChainId::new("tally-eur").unwrap();
    let good = tally_sdk::xswap::prove_remote_hold(
        &usd_client,
        &eur_client,
        &eur_chain,
        HoldId(2),
        Some(&reader),
    )
    .unwrap();
    let mut tampered = good.proof.clone();
    let mut value = tampered.value.to_vec();
    *value.last_mut().unwrap() ^= 1;
    tampered.value = tally_types::codec::BoundedVec::new(value).unwrap();
    assert_eq!(
        submit_proof(&usd.api, 1, tampered),
        709,
        "tampered Merkle proof"
    );
    let mut forged = good.proof.clone();
    let usd_key = usd_client.chain().unwrap().group_public_key;
    forged.group_key =
        tally_types::model::GroupKey::from_bytes(&tally_sdk::from_hex(&usd_key).unwrap()).unwrap();
    assert_eq!(
        submit_proof(&usd.api, 1, forged),
        709,
        "certificate under another key"
    );
    let mut elsewhere = good.proof.clone();
    elsewhere.chain = ChainId::new("tally-jpy").unwrap();
    assert_eq!(
        submit_proof(&usd.api, 1, elsewhere),
        709,
        "a proof from a network not registered here"
    );
    assert_eq!(status(&usd, 1), "Held");

    let out = usd.ok(&[
        "--key",
        "dealer-a",
        "relay",
        "1",
        "--remote-api",
        &eur.api,
        "--timeout-secs",
        "120",
    ]);
    assert!(out.contains("swap ended"), "{out}");
    assert_eq!(
        (status(&usd, 1), status(&eur, 2)),
        ("Released".into(), "Released".into())
    );
    let after = [
        cash(&usd, "300"),
        cash(&usd, "400"),
        cash(&eur, "300"),
        cash(&eur, "400"),
    ];
    let n = |s: &str| s.parse::<i128>().unwrap();
    assert_eq!(n(&after[0]) - n(&before[0]), -10_000);
    assert_eq!(n(&after[1]) - n(&before[1]), 10_000);
    assert_eq!(n(&after[2]) - n(&before[2]), 9_000);
    assert_eq!(n(&after[3]) - n(&before[3]), -9_000);
    // The proof that released the leader, replayed, finds the outcome written.
    assert_eq!(submit_proof(&usd.api, 1, good.proof), 522, "replayed proof");

    // --- The follower's network stops past the leader's deadline ---
    lock_pair(&usd, &eur, 3, 4, 15);
    let mut node = eur_net.children[0].take().unwrap();
    node.kill().unwrap();
    node.wait().unwrap();
    let deadline = usd.json(&["--key", "regulator", "hold", "show", "3"])["deadline_ms"]
        .as_u64()
        .unwrap();
    wait(
        "the leader's deadline on the dollar ledger",
        Duration::from_secs(60),
        || {
            usd_client
                .status()
                .is_ok_and(|s| s.finalized_time_ms > deadline)
        },
    );
    // No proof of the follower's lock can be released any more: the payer refunds.
    let out = usd.ok(&["--key", "dealer-a", "hold", "refund", "3"]);
    assert!(out.contains("Ok"), "{out}");
    eur_net.children[0] = Some(start_node(&eur_net.dir, 0));
    wait("the euro network back", Duration::from_secs(60), || {
        common::height(&eur.api) >= 1
    });
    let out = usd.ok(&[
        "--key",
        "dealer-a",
        "relay",
        "3",
        "--remote-api",
        &eur.api,
        "--timeout-secs",
        "120",
    ]);
    assert!(out.contains("swap ended"), "{out}");
    assert_eq!(
        (status(&usd, 3), status(&eur, 4)),
        ("Refunded".into(), "Refunded".into())
    );
    let end = [
        cash(&usd, "300"),
        cash(&usd, "400"),
        cash(&eur, "300"),
        cash(&eur, "400"),
    ];
    assert_eq!(end, after, "nobody paid without receiving");
}
