//! The HTTP API against a real four-validator network on loopback: the OpenAPI document
//! matches the served routes, bad input gets the documented status and code (and the node
//! keeps serving), and read authorization keeps one participant out of another's data.

mod common;

use common::*;
use commonware_cryptography::Signer as _;
use serde_json::Value;
use std::time::Duration;
use tally_ledger::demo::{USD, member};
use tally_node::http::auth;
use tally_types::codec::BoundedVec;
use tally_types::model::Leg;
use tally_types::ops::Transfer;
use tally_types::{ChainId, Operation, PrivateKey, SignedTx, Timestamp, Transaction};

fn chain_id(net: &Net) -> ChainId {
    let genesis: Value =
        serde_json::from_str(&std::fs::read_to_string(net.genesis()).unwrap()).unwrap();
    ChainId::new(genesis["chain_id"].as_str().unwrap()).unwrap()
}

fn transfer(chain: &ChainId, from: &str, to: &str, nonce: u64, expires_ms: u64) -> SignedTx {
    let (a, b) = (member(from), member(to));
    Transaction {
        sender: a.key().public_key(),
        nonce,
        expires_at: Timestamp(expires_ms),
        operations: BoundedVec::new(vec![Operation::Transfer(Transfer {
            leg: Leg {
                from: a.account,
                to: b.account,
                instrument: USD,
                amount: 100,
            },
        })])
        .unwrap(),
    }
    .sign(chain, &[&a.key()])
}

fn post_tx(api: &str, raw: Vec<u8>) -> (u16, Value) {
    request(
        "POST",
        &format!("{api}/tx"),
        Some(("application/octet-stream", raw)),
        &[],
    )
    .unwrap()
}

/// A fresh read token for `GET path` signed by `key`.
fn token(chain: &ChainId, key: &PrivateKey, path: &str) -> (&'static str, String) {
    let mut nonce = [0u8; 16];
    getrandom::fill(&mut nonce).unwrap();
    (
        "authorization",
        auth::sign(key, chain.as_str(), "GET", path, now_ms() + 60_000, nonce),
    )
}

fn get_as(net: &Net, chain: &ChainId, who: Option<&str>, path: &str) -> (u16, Value) {
    let headers: Vec<(&str, String)> = who
        .map(|w| vec![token(chain, &member(w).key(), path)])
        .unwrap_or_default();
    request("GET", &format!("{}{path}", net.api()), None, &headers).unwrap()
}

#[track_caller]
fn refused(got: (u16, Value), status: u16, code: u64) {
    assert_eq!(got.0, status, "status of {:?}", got.1);
    assert_eq!(got.1["code"].as_u64(), Some(code), "code of {:?}", got.1);
    assert!(
        got.1["name"].as_str().is_some_and(|n| !n.is_empty()),
        "name of {:?}",
        got.1
    );
    assert!(
        got.1["message"].as_str().is_some_and(|n| !n.is_empty()),
        "message of {:?}",
        got.1
    );
}

fn wait_final(api: &str, id: &str) -> Value {
    let mut out = Value::Null;
    wait(
        &format!("transaction {id} to be final"),
        Duration::from_secs(60),
        || {
            out = get_json(&format!("{api}/tx/{id}")).unwrap().1;
            out["status"] == "final"
        },
    );
    out
}

#[test]
fn api_end_to_end() {
    let net = Net::start("api-test", 4, 1);
    let api = net.api().to_string();
    let chain = chain_id(&net);

    // Health.
    assert_eq!(get_json(&format!("{api}/livez")).map(|r| r.0), Some(200));
    wait("readiness", Duration::from_secs(30), || {
        get_json(&format!("{api}/readyz")).is_some_and(|r| r.0 == 200)
    });
    let metrics = ureq::get(&format!("{api}/metrics"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    assert!(metrics.contains("tally_finalized_height"), "{metrics}");

    // The OpenAPI document: every documented route is served (a served route answers with
    // anything but the router's "no route" refusal), and the core routes are documented.
    let (status, doc) = get_json(&format!("{api}/openapi.json")).unwrap();
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for required in [
        "/tx",
        "/tx/{id}",
        "/status",
        "/block/{height}",
        "/account/{id}",
        "/proof/holding/{account}/{instrument}",
        "/events/blocks",
        "/openapi.json",
    ] {
        assert!(
            paths.contains_key(required),
            "{required} is not documented: {:?}",
            paths.keys().collect::<Vec<_>>()
        );
    }
    let a = member("dealer-a");
    let key_hex = tally_node::genesis::to_hex(a.key().public_key().as_ref());
    for (path, item) in paths {
        let concrete = path
            .replace("{id}", "1")
            .replace("{height}", "1")
            .replace("{lei}", &a.lei().to_string())
            .replace("{account}", "300")
            .replace("{instrument}", "1")
            .replace("{key}", &key_hex)
            .replace("{asset}", "app.js");
        for method in item.as_object().unwrap().keys() {
            if path.starts_with("/events/") {
                continue; // streams do not end; checked below
            }
            let got = request(
                &method.to_uppercase(),
                &format!("{api}{concrete}"),
                None,
                &[],
            )
            .unwrap_or_else(|| panic!("{method} {concrete} did not answer"));
            let unrouted = got.0 == 404
                && got.1["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("no route"));
            assert!(!unrouted, "{method} {path} is documented but not served");
            assert_ne!(got.0, 405, "{method} {path}: method not served");
        }
    }
    // And the other way: an undocumented route is refused with the JSON body.
    refused(get_json(&format!("{api}/nope")).unwrap(), 404, 711);
    refused(
        request("POST", &format!("{api}/status"), None, &[]).unwrap(),
        405,
        716,
    );

    // Bad input.
    refused(post_tx(&api, b"not a transaction".to_vec()), 400, 700);
    let json = |body: &str| {
        request(
            "POST",
            &format!("{api}/tx"),
            Some(("application/json", body.as_bytes().to_vec())),
            &[],
        )
        .unwrap()
    };
    refused(json("{\"tx\": "), 400, 700); // malformed JSON
    refused(json("{\"tx\": 5}"), 400, 700); // wrong type
    refused(json("{\"tx\": \"zz\"}"), 400, 700); // not hex
    refused(json("{\"tx\": \"00\", \"extra\": 1}"), 400, 700); // unknown field
    let too_large = tally_types::limits::MAX_TX_BYTES + 1;
    refused(post_tx(&api, vec![0u8; too_large]), 413, 701);
    // One byte over the limit: the server has read the whole body when it refuses, so it
    // closes the connection cleanly (a larger body raced its closing with unread bytes).
    refused(
        request(
            "POST",
            &format!("{api}/txs"),
            Some((
                "application/octet-stream",
                vec![0u8; tally_node::http::MAX_SUBMIT_BYTES + 1],
            )),
            &[],
        )
        .unwrap(),
        413,
        701,
    );
    refused(get_json(&format!("{api}/account/abc")).unwrap(), 400, 710);
    refused(get_json(&format!("{api}/tx/xyz")).unwrap(), 400, 710);
    refused(
        get_json(&format!("{api}/blocks?limit=1000")).unwrap(),
        400,
        710,
    );
    refused(
        get_json(&format!("{api}/blocks?limit=abc")).unwrap(),
        400,
        710,
    );
    refused(
        get_json(&format!("{api}/block/999999999")).unwrap(),
        404,
        711,
    );
    refused(
        get_as(&net, &chain, Some("regulator"), "/account/999999"),
        404,
        711,
    );

    let expiry = now_ms() + 5 * 60_000;
    // A bad signature: one byte of the approval changed.
    let mut forged = transfer(&chain, "dealer-a", "dealer-b", 0, expiry).to_bytes();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    refused(post_tx(&api, forged), 400, 702);
    // Expired.
    refused(
        post_tx(
            &api,
            transfer(&chain, "dealer-a", "dealer-b", 0, now_ms() - 3_600_000).to_bytes(),
        ),
        400,
        100,
    );
    // An unknown sender.
    let stranger = PrivateKey::from_seed(987_654);
    let unknown = Transaction {
        sender: stranger.public_key(),
        nonce: 0,
        expires_at: Timestamp(expiry),
        operations: BoundedVec::new(vec![]).unwrap(),
    }
    .sign(&chain, &[&stranger]);
    refused(post_tx(&api, unknown.to_bytes()), 403, 102);

    // A good transfer, then the same bytes again: waiting, then replayed once final.
    let good = transfer(&chain, "dealer-a", "dealer-b", 0, expiry);
    let (status, body) = post_tx(&api, good.to_bytes());
    assert_eq!(status, 202, "{body}");
    let id = body["tx_id"].as_str().unwrap().to_string();
    let again = post_tx(&api, good.to_bytes());
    assert!(
        again.0 == 409 || again.0 == 202 || again.0 == 400,
        "{again:?}"
    );
    let receipt = wait_final(&api, &id);
    assert_eq!(receipt["code_name"], "Ok", "{receipt}");
    assert!(
        receipt.get("transaction").is_none(),
        "a body was shown without a token"
    );
    refused(post_tx(&api, good.to_bytes()), 409, 103);

    // The receipt with its body: to the sender and the receiver, not to a third party.
    let path = format!("/tx/{id}");
    for party in ["dealer-a", "dealer-b", "regulator"] {
        let (status, tx) = get_as(&net, &chain, Some(party), &path);
        assert_eq!(status, 200);
        assert_eq!(
            tx["transaction"]["operations"][0]["op"], "Transfer",
            "{party} should see the body: {tx}"
        );
    }
    let (_, tx) = get_as(&net, &chain, Some("custodian"), &path);
    assert!(
        tx.get("transaction").is_none(),
        "a third party saw the body: {tx}"
    );
    assert_eq!(tx["code_name"], "Ok");

    // Read authorization.
    let (status, own) = get_as(&net, &chain, Some("dealer-a"), "/account/300");
    assert_eq!(status, 200, "{own}");
    assert!(!own["holdings"].as_array().unwrap().is_empty());
    refused(
        get_as(&net, &chain, Some("dealer-a"), "/account/400"),
        403,
        713,
    );
    refused(get_as(&net, &chain, None, "/account/400"), 401, 712);
    refused(
        get_as(&net, &chain, Some("dealer-a"), "/proof/holding/400/1"),
        403,
        713,
    );
    let (status, theirs) = get_as(&net, &chain, Some("regulator"), "/account/400");
    assert_eq!(status, 200, "{theirs}");
    // Recent history follows the same rule, and lists the transfer above, newest first.
    refused(
        get_as(&net, &chain, Some("dealer-a"), "/account/400/events"),
        403,
        713,
    );
    refused(get_as(&net, &chain, None, "/account/400/events"), 401, 712);
    refused(
        get_as(
            &net,
            &chain,
            Some("regulator"),
            "/account/400/events?limit=0",
        ),
        400,
        710,
    );
    let (status, history) = get_as(
        &net,
        &chain,
        Some("dealer-a"),
        "/account/300/events?limit=5",
    );
    assert_eq!(status, 200, "{history}");
    let events = history["events"].as_array().unwrap();
    assert!(!events.is_empty() && events.len() <= 5, "{history}");
    assert!(
        events
            .windows(2)
            .all(|w| w[0]["height"].as_u64() >= w[1]["height"].as_u64()),
        "{history}"
    );
    assert!(
        events.iter().any(|e| e["event"]["event"] == "moved"),
        "{history}"
    );
    // The explorer is served; the demo keys are not, on a node started without the
    // development flag (only `tally localnet` sets it).
    let page = ureq::get(&format!("{api}/explorer/"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    assert!(page.contains("app.js"), "{page}");
    refused(get_json(&format!("{api}/dev/keys")).unwrap(), 404, 711);
    // A token is good once, and only for the request it signs.
    let t = token(&chain, &member("dealer-a").key(), "/account/300");
    let url = format!("{api}/account/300");
    assert_eq!(
        request("GET", &url, None, std::slice::from_ref(&t))
            .unwrap()
            .0,
        200
    );
    refused(
        request("GET", &url, None, std::slice::from_ref(&t)).unwrap(),
        401,
        714,
    );
    refused(
        request(
            "GET",
            &format!("{api}/account/301"),
            None,
            &[token(&chain, &member("dealer-a").key(), "/account/300")],
        )
        .unwrap(),
        401,
        712,
    );
    refused(
        request(
            "GET",
            &url,
            None,
            &[("authorization", "Tally garbage".into())],
        )
        .unwrap(),
        401,
        712,
    );

    // Public reference data needs no token.
    let (status, instrument) = get_json(&format!("{api}/instrument/1")).unwrap();
    assert_eq!(status, 200);
    assert_eq!(instrument["id"], 1);
    let isin = get_json(&format!("{api}/instrument/2")).unwrap().1["isin"]
        .as_str()
        .map(str::to_string);
    if let Some(isin) = isin {
        assert_eq!(
            get_json(&format!("{api}/instrument/{isin}")).unwrap().1["id"],
            2
        );
    }
    assert_eq!(
        get_json(&format!("{api}/participants?limit=2")).unwrap().1["participants"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Blocks carry a finality certificate.
    let h = height(&api);
    let (status, block) = get_json(&format!("{api}/block/{h}?txs=true")).unwrap();
    assert_eq!(status, 200);
    assert!(
        block["certificate"].as_str().is_some_and(|c| !c.is_empty()),
        "{block}"
    );
    let (status, certified) = get_json(&format!("{api}/block/{h}/certified")).unwrap();
    assert_eq!(status, 200);
    assert!(certified["block"].as_str().is_some());
    // Its header proves the same state root with the same certificate, checked here as
    // another ledger would: against the group key alone.
    let (status, header) = get_json(&format!("{api}/block/{h}/header")).unwrap();
    assert_eq!(status, 200);
    let header: tally_node::http::types::CertifiedHeader = serde_json::from_value(header).unwrap();
    let certified: tally_node::http::types::CertifiedBlock =
        serde_json::from_value(certified).unwrap();
    let (_, chain) = get_json(&format!("{api}/chain")).unwrap();
    let group = chain["group_public_key"].as_str().unwrap();
    let block = tally_sdk::verify::verify_block(group, &certified).unwrap();
    let proven = tally_sdk::verify::verify_header(group, &header).unwrap();
    assert_eq!(proven.state_root, block.state_root);
    assert_eq!(proven.height, block.height);
    assert!(header.header.len() < 2 * tally_node::block::HEADER_MAX_BYTES + 1);

    // A block stream yields finalized blocks as they come.
    let mut stream = ureq::get(&format!("{api}/events/blocks")).call().unwrap();
    let mut reader = std::io::BufReader::new(stream.body_mut().as_reader());
    let mut line = String::new();
    let mut data = None;
    while data.is_none() {
        line.clear();
        assert!(std::io::BufRead::read_line(&mut reader, &mut line).unwrap() > 0);
        if let Some(d) = line.strip_prefix("data:") {
            data = Some(serde_json::from_str::<Value>(d.trim()).unwrap());
        }
    }
    assert!(data.unwrap()["height"].as_u64().unwrap() >= h);

    // Status names the peers this node is connected to.
    wait(
        "every peer to be connected",
        Duration::from_secs(30),
        || {
            get_json(&format!("{api}/status"))
                .is_some_and(|(_, s)| s["peers"].as_array().is_some_and(|p| p.len() == 3))
        },
    );

    // After all that, every node still serves and the chain still moves.
    let before = height(&api);
    wait("the chain to move on", Duration::from_secs(30), || {
        height(&api) > before
    });
    for a in &net.apis {
        assert_eq!(get_json(&format!("{a}/status")).unwrap().0, 200);
    }
}

/// A transaction signed with a nonce ahead of its sender's next one waits without
/// stalling the sender: `GET /key` tells the client to sign from the gap, what it signs
/// settles at once, the gapped transaction leaves the mempool at its expiry, and its
/// nonce is then free again. Nonces beyond the per-sender bound are refused outright.
#[test]
fn a_nonce_gap_never_stalls_a_sender() {
    let net = Net::start("nonce-gap", 1, 4);
    let api = net.api().to_string();
    let chain = chain_id(&net);
    let key = tally_node::genesis::to_hex(member("dealer-a").key().public_key().as_ref());
    let key_info = || get_json(&format!("{api}/key/{key}")).unwrap().1;
    let next = key_info()["next_nonce"].as_u64().unwrap();
    assert_eq!(key_info()["next_pending_nonce"].as_u64(), Some(next));

    // A transaction five ahead, expiring soon: admitted, and it waits.
    let gapped = transfer(&chain, "dealer-a", "dealer-b", next + 5, now_ms() + 8_000);
    let (status, body) = post_tx(&api, gapped.to_bytes());
    assert_eq!(status, 202, "{body}");
    let gapped_id = body["tx_id"].as_str().unwrap().to_string();
    // The client is told to sign from the gap, not past the waiting transaction.
    assert_eq!(key_info()["next_pending_nonce"].as_u64(), Some(next));

    // What the sender signs from its next nonce settles while the gapped one waits.
    let now = transfer(&chain, "dealer-a", "dealer-b", next, now_ms() + 60_000);
    let (status, body) = post_tx(&api, now.to_bytes());
    assert_eq!(status, 202, "{body}");
    let settled = wait_final(&api, body["tx_id"].as_str().unwrap());
    assert_eq!(settled["code_name"], "Ok", "{settled}");
    assert_eq!(key_info()["next_nonce"].as_u64(), Some(next + 1));
    assert_eq!(key_info()["next_pending_nonce"].as_u64(), Some(next + 1));

    // Far beyond what the sender may have waiting: refused, nothing kept.
    let far = transfer(
        &chain,
        "dealer-a",
        "dealer-b",
        next + 1_000_000,
        now_ms() + 60_000,
    );
    refused(post_tx(&api, far.to_bytes()), 409, 707);

    // At its expiry the gapped transaction leaves the mempool (evicted at the first block
    // past it), and its nonce is free for a new transaction.
    wait(
        "the gapped transaction to be evicted",
        Duration::from_secs(60),
        || get_json(&format!("{api}/tx/{gapped_id}")).unwrap().1["status"] != "pending",
    );
    let fill: Vec<SignedTx> = (next + 1..=next + 5)
        .map(|n| transfer(&chain, "dealer-a", "dealer-b", n, now_ms() + 60_000))
        .collect();
    let mut last = String::new();
    for tx in &fill {
        let (status, body) = post_tx(&api, tx.to_bytes());
        assert_eq!(status, 202, "{body}");
        last = body["tx_id"].as_str().unwrap().to_string();
    }
    assert_eq!(wait_final(&api, &last)["code_name"], "Ok");
    assert_eq!(key_info()["next_nonce"].as_u64(), Some(next + 6));
}
