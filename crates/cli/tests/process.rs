//! Real processes: four validators started with the `tally` binary on loopback. Signed
//! transfers are submitted over HTTP; one validator is killed with SIGKILL while they
//! settle, then restarted. It must catch up to the same state roots, and every transfer
//! acknowledged as final must stay final and applied.

mod common;

use common::*;
use commonware_cryptography::Signer as _;
use serde_json::Value;
use std::process::Command;
use std::time::Duration;
use tally_ledger::demo::{self, USD, member};
use tally_types::codec::BoundedVec;
use tally_types::model::Leg;
use tally_types::ops::Transfer;
use tally_types::{ChainId, Operation, Timestamp, Transaction};

const VALIDATORS: usize = 4;
const TRANSFERS: u64 = 40;

fn get(url: &str) -> Option<Value> {
    get_json(url)
        .filter(|(status, _)| *status == 200)
        .map(|(_, v)| v)
}

fn tx_status(api: &str, id: &str) -> Option<Value> {
    get(&format!("{api}/tx/{id}")).filter(|v| v["status"] == "final")
}

#[test]
fn a_killed_validator_recovers_and_nothing_final_is_lost() {
    let dir = std::env::temp_dir().join(format!("tally-process-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    // Ports away from the localnet default, distinct per test process.
    // Below the kernel's ephemeral range (32768+), so no outgoing connection can take them.
    let base = 20_000 + (std::process::id() % 1_500) * 8;
    let status = Command::new(TALLY)
        .args([
            "genesis",
            "new",
            "--validators",
            "4",
            "--base-port",
            &base.to_string(),
            "--home",
        ])
        .arg(&dir)
        .status()
        .unwrap();
    assert!(status.success());
    let apis: Vec<String> = (0..VALIDATORS)
        .map(|i| format!("http://127.0.0.1:{}", base + 2 * i as u32 + 1))
        .collect();
    let mut net = Net {
        dir: dir.clone(),
        apis: apis.clone(),
        children: (0..VALIDATORS).map(|i| Some(start_node(&dir, i))).collect(),
    };
    wait("the first finalized block", Duration::from_secs(90), || {
        net.apis.iter().all(|a| height(a) >= 1)
    });

    // Signed transfers, submitted round-robin to every validator.
    let chain = ChainId::new(demo::CHAIN).unwrap();
    let (a, b) = (member("dealer-a"), member("dealer-b"));
    let now_ms = u64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap();
    let mut ids = Vec::new();
    for nonce in 0..TRANSFERS {
        let leg = Leg {
            from: a.account,
            to: b.account,
            instrument: USD,
            amount: 1_000 + u128::from(nonce),
        };
        let tx = Transaction {
            sender: a.key().public_key(),
            nonce,
            expires_at: Timestamp(now_ms + 600_000),
            operations: BoundedVec::new(vec![Operation::Transfer(Transfer { leg })]).unwrap(),
        }
        .sign(&chain, &[&a.key()]);
        // Round-robin over the live validators: what validator 3 admitted before it was
        // killed reached the others by gossip.
        let live = if net.children[3].is_some() {
            VALIDATORS
        } else {
            VALIDATORS - 1
        };
        let api = &apis[usize::try_from(nonce).unwrap() % live];
        let mut resp = ureq::post(&format!("{api}/tx"))
            .send(&tx.to_bytes()[..])
            .unwrap();
        let v: Value = serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
        ids.push(v["tx_id"].as_str().unwrap().to_string());
        if nonce == TRANSFERS / 2 {
            // Mid-load: wait for the first ones to be final, then SIGKILL validator 3.
            wait(
                "the first transfers to be final",
                Duration::from_secs(60),
                || {
                    ids.iter()
                        .take(5)
                        .all(|id| tx_status(&apis[0], id).is_some())
                },
            );
            let mut victim = net.children[3].take().unwrap();
            victim.kill().unwrap(); // SIGKILL
            victim.wait().unwrap();
        }
    }
    // The three others (a quorum) finalize everything.
    wait(
        "every transfer to be final",
        Duration::from_secs(90),
        || ids.iter().all(|id| tx_status(&apis[0], id).is_some()),
    );
    let acknowledged: Vec<Value> = ids
        .iter()
        .map(|id| tx_status(&apis[0], id).unwrap())
        .collect();
    assert!(
        acknowledged.iter().all(|v| v["code_name"] == "Ok"),
        "{acknowledged:?}"
    );

    // Restart validator 3 from its storage: it catches up.
    let target = height(&apis[0]) + 5;
    net.children[3] = Some(start_node(&dir, 3));
    wait(
        "the restarted validator to catch up",
        Duration::from_secs(90),
        || height(&apis[3]) >= target,
    );

    // Same state root at the same height on every validator.
    let h = height(&apis[3]);
    wait(
        "every validator to reach the compared height",
        Duration::from_secs(60),
        || apis.iter().all(|a| height(a) >= h),
    );
    let roots: Vec<String> = apis
        .iter()
        .map(|a| {
            get(&format!("{a}/block/{h}"))
                .and_then(|v| v["state_root"].as_str().map(str::to_string))
                .unwrap()
        })
        .collect();
    assert!(
        roots.iter().all(|r| *r == roots[0]),
        "roots differ at height {h}: {roots:?}"
    );

    // Nothing acknowledged was lost: still final, still applied, on the survivors.
    for (id, before) in ids.iter().zip(&acknowledged) {
        let after = tx_status(&apis[1], id).unwrap_or_else(|| panic!("{id} no longer final"));
        assert_eq!(after["height"], before["height"]);
        assert_eq!(after["code_name"], "Ok");
    }
    drop(net);
}
