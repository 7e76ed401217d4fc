//! Deterministic cluster simulation: real node code (glue stateful + marshal + simplex
//! with BLS threshold certificates + the ledger over QMDB) on Commonware's deterministic
//! runtime and simulated network. Same seed, same run.

use commonware_cryptography::bls12381::dkg::feldman_desmedt::deal;
use commonware_cryptography::bls12381::primitives::group::Share;
use commonware_cryptography::bls12381::primitives::sharing::{Mode, Sharing};
use commonware_cryptography::bls12381::primitives::variant::MinSig;
use commonware_cryptography::{Signer as _, ed25519};
use commonware_p2p::simulated::{Config as NetConfig, Link, Network, Oracle};
use commonware_runtime::{Clock as _, Handle, Quota, Runner as _, Supervisor as _, deterministic};
use commonware_utils::ordered::{Map, Set};
use commonware_utils::{N3f1, NZU32, NZUsize, TryCollect as _};
use rand_core::SeedableRng as _;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tally_ledger::demo::{self, USD, member};
use tally_ledger::{Genesis, Ledger};
use tally_node::app::{AppState, MempoolHandle, Scheme};
use tally_node::block::LedgerBlock;
use tally_node::engine::{self, CONSENSUS_NAMESPACE, Channels, ConsensusTimeouts, EngineConfig};
use tally_node::mempool::{Mempool, MempoolConfig};
use tally_types::codec::BoundedVec;
use tally_types::model::Leg;
use tally_types::ops::Transfer;
use tally_types::{ChainId, Hash32, Operation, ResultCode, Timestamp, Transaction};

struct Run {
    /// Per validator: (height, state root) of the finalized blocks it saw.
    roots: Vec<Vec<(u64, Hash32)>>,
    /// Receipts (tx id, code) of every finalized block, from a validator that saw them all.
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

/// What every validator of a simulated cluster shares.
struct Cluster {
    chain: ChainId,
    genesis: Genesis,
    genesis_block: LedgerBlock,
    workload: Vec<Vec<u8>>,
    seed: u64,
    participants: Set<ed25519::PublicKey>,
    public: Sharing<MinSig>,
    shares: Map<ed25519::PublicKey, Share>,
}

impl Cluster {
    /// Starts (or restarts, on the same storage) validator `i`.
    async fn start(
        &self,
        context: &deterministic::Context,
        oracle: &Oracle<ed25519::PublicKey, deterministic::Context>,
        i: usize,
        key: &ed25519::PrivateKey,
        restart: u32,
    ) -> (Handle<()>, AppState) {
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
            txs: pairs.next().unwrap(),
        };
        let share = self.shares.get_value(&pk).unwrap().clone();
        let scheme = Scheme::signer(
            CONSENSUS_NAMESPACE,
            self.participants.clone(),
            self.public.clone(),
            share,
        )
        .unwrap();
        let state = AppState::new(
            Ledger::new(self.chain.clone()),
            self.genesis.clone(),
            &self.genesis_block,
            1,
        );
        let mut pool = Mempool::new(self.chain.clone(), MempoolConfig::default());
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(self.seed + i as u64);
        let admitted = pool.admit(Timestamp(demo::GENESIS_MS), &self.workload, 1, &mut rng);
        assert!(admitted.iter().all(Result::is_ok));
        let cfg = EngineConfig {
            public_key: pk.clone(),
            scheme,
            partition_prefix: format!("validator-{i}"),
            genesis_block: self.genesis_block.clone(),
            state: state.clone(),
            mempool: MempoolHandle(Arc::new(Mutex::new(pool))),
            timeouts: ConsensusTimeouts::default(),
            gossip: None,
        };
        let ctx = context
            .child("validator")
            .with_attribute("index", i)
            .with_attribute("restart", restart);
        let handle = engine::start(ctx, cfg, channels, oracle.manager(), oracle.control(pk)).await;
        (handle, state)
    }
}

/// Waits until every state has finalized `height`.
async fn wait_for(context: &deterministic::Context, states: &[AppState], height: u64) {
    while !states
        .iter()
        .all(|s| s.last_finalized().is_some_and(|b| b.height >= height))
    {
        context.sleep(Duration::from_millis(50)).await;
    }
}

/// Runs `validators` validators until all finalized `target_height`. With `crash =
/// Some((v, at, back))`, validator `v` crashes once everyone finalized `at` and restarts
/// once the others finalized `back`.
fn run(
    seed: u64,
    validators: usize,
    target_height: u64,
    txs: u64,
    crash: Option<(usize, u64, u64)>,
) -> Run {
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

        let genesis = demo::genesis();
        let cluster = Cluster {
            chain: ChainId::new(demo::CHAIN).unwrap(),
            genesis_block: engine::genesis_block::<deterministic::Context>(genesis.time),
            genesis,
            workload: transfers(txs),
            seed,
            participants: participants.clone(),
            public: output.public().clone(),
            shares,
        };
        let mut handles = Vec::new();
        let mut states = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            let (handle, state) = cluster.start(&context, &oracle, i, key, 0).await;
            handles.push(handle);
            states.push(state);
        }
        if let Some((victim, crash_at, restart_at)) = crash {
            wait_for(&context, &states, crash_at).await;
            handles[victim].abort();
            let others: Vec<AppState> = states
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != victim)
                .map(|(_, s)| s.clone())
                .collect();
            wait_for(&context, &others, restart_at).await;
            let (handle, state) = cluster
                .start(&context, &oracle, victim, &keys[victim], 1)
                .await;
            handles[victim] = handle;
            states[victim] = state;
        }

        wait_for(&context, &states, target_height).await;
        let roots = states
            .iter()
            .map(|s| {
                s.finalized_blocks()
                    .iter()
                    .map(|b| (b.height, b.state_root))
                    .collect()
            })
            .collect();
        // A validator that never restarted has seen every finalized block.
        let witness = states
            .iter()
            .max_by_key(|s| s.finalized_blocks().len())
            .unwrap();
        let included = witness
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
        Run { roots, included }
    })
}

/// Every validator agrees with validator 0 on every height both finalized.
fn assert_agreement(r: &Run) {
    let reference: BTreeMap<u64, Hash32> = r.roots[0].iter().copied().collect();
    for (v, roots) in r.roots.iter().enumerate() {
        assert!(!roots.is_empty(), "validator {v} finalized nothing");
        for (h, root) in roots {
            if let Some(expected) = reference.get(h) {
                assert_eq!(root, expected, "validator {v} disagrees at height {h}");
            }
        }
    }
}

#[test]
fn four_validators_finalize_the_same_blocks_and_roots() {
    let r = run(1, 4, 12, 50, None);
    assert_agreement(&r);
    assert!(r.roots.iter().all(|roots| roots.len() >= 12));
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
    let a = run(5, 4, 6, 10, None);
    let b = run(5, 4, 6, 10, None);
    assert_eq!(a.roots, b.roots);
}

#[test]
fn a_crashed_validator_restarts_from_storage_and_agrees() {
    // Validator 3 crashes at height 4; the other three (a quorum) carry on to height 12;
    // it restarts from its storage and catches up to height 20.
    let r = run(9, 4, 20, 30, Some((3, 4, 12)));
    assert_agreement(&r);
    let restarted: Vec<u64> = r.roots[3].iter().map(|(h, _)| *h).collect();
    assert!(
        restarted.iter().any(|h| *h > 12),
        "the restarted validator did not catch up: {restarted:?}"
    );
    // The restarted validator's clients resubmit everything: each transfer still applies
    // exactly once, and a resubmission that reaches a block is refused as a replay.
    let mut applied: BTreeMap<Hash32, usize> = BTreeMap::new();
    for (id, code) in &r.included {
        match code {
            ResultCode::Ok => *applied.entry(*id).or_insert(0) += 1,
            ResultCode::NonceReused => {}
            other => panic!("unexpected outcome {other}"),
        }
    }
    assert_eq!(applied.len(), 30, "transactions lost");
    assert!(
        applied.values().all(|n| *n == 1),
        "a transaction applied twice"
    );
}

/// Many seeds, each crashing and restarting a different validator: every run must reach
/// agreement, apply every transfer exactly once, and replay exactly from its seed.
/// `TALLY_SIM_SEEDS` sets how many (CI runs 50); a failing seed is printed and replays.
#[test]
fn many_seeds_with_a_crash_and_restart() {
    let seeds: u64 = std::env::var("TALLY_SIM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    for seed in 0..seeds {
        let victim = usize::try_from(seed % 4).unwrap();
        let r = std::panic::catch_unwind(|| run(1_000 + seed, 4, 14, 12, Some((victim, 3, 8))));
        let r =
            r.unwrap_or_else(|_| panic!("seed {} failed; rerun it alone to replay", 1_000 + seed));
        assert_agreement(&r);
        let applied: std::collections::BTreeSet<Hash32> = r
            .included
            .iter()
            .filter(|(_, c)| *c == ResultCode::Ok)
            .map(|(id, _)| *id)
            .collect();
        let ok_count = r
            .included
            .iter()
            .filter(|(_, c)| *c == ResultCode::Ok)
            .count();
        assert_eq!(
            applied.len(),
            12,
            "seed {}: transactions lost",
            1_000 + seed
        );
        assert_eq!(
            ok_count,
            12,
            "seed {}: a transaction applied twice",
            1_000 + seed
        );
    }
}
