//! Deterministic cluster simulation: real node code (glue stateful + marshal + simplex
//! with BLS threshold certificates + the ledger over QMDB) on Commonware's deterministic
//! runtime and simulated network. Same seed, same run.

use commonware_cryptography::bls12381::dkg::feldman_desmedt::deal;
use commonware_cryptography::bls12381::primitives::sharing::Mode;
use commonware_cryptography::bls12381::primitives::variant::MinSig;
use commonware_cryptography::{Signer as _, ed25519};
use commonware_p2p::simulated::{Config as NetConfig, Link, Network};
use commonware_runtime::{
    Clock as _, Metrics as _, Quota, Runner as _, Supervisor as _, deterministic,
};
use commonware_utils::{N3f1, NZU32, NZUsize, TryCollect as _, ordered::Set};
use rand_core::SeedableRng as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tally_ledger::Ledger;
use tally_ledger::demo::{self, USD, member};
use tally_node::app::{AppState, MempoolHandle, Scheme};
use tally_node::engine::{self, CONSENSUS_NAMESPACE, Channels, ConsensusTimeouts, EngineConfig};
use tally_node::mempool::{Mempool, MempoolConfig};
use tally_types::codec::BoundedVec;
use tally_types::model::Leg;
use tally_types::ops::Transfer;
use tally_types::{ChainId, Hash32, Operation, ResultCode, Timestamp, Transaction};

struct Run {
    roots: Vec<Vec<(u64, Hash32)>>,
    included: Vec<(Hash32, ResultCode)>,
}

fn transfers(count: u64) -> Vec<Vec<u8>> {
    let chain = ChainId::new(demo::CHAIN).unwrap();
    let (a, b) = (member("dealer-a"), member("dealer-b"));
    (0..count)
        .map(|nonce| {
            let leg = Leg {
                from: a.account,
                to: b.account,
                instrument: USD,
                amount: 100 + u128::from(nonce),
            };
            Transaction {
                sender: a.key().public_key(),
                nonce,
                expires_at: Timestamp(demo::GENESIS_MS + 3_600_000),
                operations: BoundedVec::new(vec![Operation::Transfer(Transfer { leg })]).unwrap(),
            }
            .sign(&chain, &[&a.key()])
            .to_bytes()
        })
        .collect()
}

fn run(seed: u64, validators: usize, target_height: u64, txs: u64) -> Run {
    let cfg = deterministic::Config::new()
        .with_seed(seed)
        .with_timeout(Some(Duration::from_secs(600)));
    deterministic::Runner::new(cfg).start(|context| async move {
        let keys: Vec<ed25519::PrivateKey> = (0..validators as u64)
            .map(|i| ed25519::PrivateKey::from_seed(7_000 + i))
            .collect();
        let participants: Set<ed25519::PublicKey> =
            keys.iter().map(|k| k.public_key()).try_collect().unwrap();
        let mut dealer_rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
        let (output, shares) =
            deal::<MinSig, _, N3f1>(&mut dealer_rng, Mode::NonZeroCounter, participants.clone())
                .unwrap();

        let n = u32::try_from(validators).unwrap();
        let (network, oracle) = Network::new_with_peers(
            context.child("network"),
            NetConfig {
                max_size: engine::max_message_size(n),
                max_peers_per_set: NZUsize!(validators),
                disconnect_on_block: true,
                tracked_peer_sets: NZUsize!(1),
            },
            participants.iter().cloned().collect::<Vec<_>>(),
        )
        .await;
        network.start();
        let link = Link {
            latency: Duration::from_millis(10),
            jitter: Duration::from_millis(2),
            success_rate: commonware_utils::Probability::new(1, 1).unwrap(),
        };
        for a in participants.iter() {
            for b in participants.iter() {
                if a != b {
                    oracle
                        .add_link(a.clone(), b.clone(), link.clone())
                        .await
                        .unwrap();
                }
            }
        }

        let chain = ChainId::new(demo::CHAIN).unwrap();
        let genesis = demo::genesis();
        let genesis_block = engine::genesis_block::<deterministic::Context>(genesis.time);
        let workload = transfers(txs);
        let mut states = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            let pk = key.public_key();
            let control = oracle.control(pk.clone());
            let quota = Quota::per_second(NZU32!(10_000));
            let mut pairs = Vec::new();
            for ch in engine::CHANNELS {
                pairs.push(control.register(ch, quota).await.unwrap());
            }
            let mut pairs = pairs.into_iter();
            let channels = Channels {
                votes: pairs.next().unwrap(),
                certificates: pairs.next().unwrap(),
                resolver: pairs.next().unwrap(),
                backfill: pairs.next().unwrap(),
                broadcast: pairs.next().unwrap(),
            };
            let share = shares.get_value(&pk).unwrap().clone();
            let scheme = Scheme::signer(
                CONSENSUS_NAMESPACE,
                participants.clone(),
                output.public().clone(),
                share,
            )
            .unwrap();
            let state = AppState::new(
                Ledger::new(chain.clone()),
                genesis.clone(),
                &genesis_block,
                1,
            );
            let mut pool = Mempool::new(chain.clone(), MempoolConfig::default());
            let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed + i as u64);
            let admitted = pool.admit(Timestamp(demo::GENESIS_MS), &workload, 1, &mut rng);
            assert!(admitted.iter().all(Result::is_ok));
            let mempool = MempoolHandle(Arc::new(Mutex::new(pool)));
            let cfg = EngineConfig {
                public_key: pk.clone(),
                scheme,
                partition_prefix: format!("validator-{i}"),
                genesis_block: genesis_block.clone(),
                state: state.clone(),
                mempool,
                timeouts: ConsensusTimeouts::default(),
            };
            engine::start(
                context.child("validator").with_attribute("index", i),
                cfg,
                channels,
                oracle.manager(),
                oracle.control(pk),
            )
            .await;
            states.push(state);
        }

        // Run until every validator finalized the target height.
        loop {
            let heights: Vec<u64> = states
                .iter()
                .map(|s| s.last_finalized().map_or(0, |b| b.height))
                .collect();
            if heights.iter().all(|h| *h >= target_height) {
                break;
            }
            context.sleep(Duration::from_millis(50)).await;
        }
        let roots: Vec<Vec<(u64, Hash32)>> = states
            .iter()
            .map(|s| {
                s.finalized_blocks()
                    .iter()
                    .filter(|b| b.height <= target_height)
                    .map(|b| (b.height, b.state_root))
                    .collect()
            })
            .collect();
        let included = states[0]
            .finalized_blocks()
            .iter()
            .flat_map(|b| {
                b.outcome
                    .receipts
                    .iter()
                    .map(|r| (r.tx_id, r.code))
                    .collect::<Vec<_>>()
            })
            .collect();
        let _ = context.encode();
        Run { roots, included }
    })
}

#[test]
fn four_validators_finalize_the_same_blocks_and_roots() {
    let r = run(1, 4, 12, 50);
    for other in &r.roots[1..] {
        assert_eq!(other, &r.roots[0], "validators disagree on finalized roots");
    }
    assert!(r.roots[0].len() >= 12);
    // Every submitted transfer was finalized exactly once, and applied.
    assert_eq!(r.included.len(), 50, "transactions lost or duplicated");
    assert!(
        r.included.iter().all(|(_, code)| *code == ResultCode::Ok),
        "{:?}",
        r.included
    );
}

#[test]
fn same_seed_same_run() {
    let a = run(5, 4, 6, 10);
    let b = run(5, 4, 6, 10);
    assert_eq!(a.roots, b.roots);
}
