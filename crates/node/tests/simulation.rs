//! Deterministic cluster simulation: real node code (glue stateful + marshal + simplex
//! with BLS threshold certificates + the ledger over QMDB) on Commonware's deterministic
//! runtime and simulated network, under faults. Same seed, same run.
//!
//! A run is a [Scenario] drawn from its seed: 4 or 7 validators, a random signed workload
//! (transfers, DvP settles, matching two-sided instructions, hash- and time-locked holds
//! released by their payer) fed to every mempool over time, and one fault (crash and
//! restart, isolation, a partition without quorum, lossy and slow links, overlapping
//! crashes and partitions over lossy links, storage I/O errors, a power loss tearing
//! unsynced writes, a Byzantine consensus engine, a Byzantine proposer of badly signed
//! transactions). After every run [check] verifies agreement,
//! exactly-once application, conservation of supply, the expected final balances, that
//! every transaction acknowledged final is reflected everywhere, and that progress resumed
//! after the fault healed. See docs/node.md, "Simulation".
//!
//! `TALLY_SIM_SEEDS=<n>` runs seeds `0..n` in the sweeps (default 100, spread across the
//! three sweep tests by fault family); `TALLY_SIM_SEED=<s>` runs only seed `s`. A failing
//! seed is printed and replays exactly.

use commonware_consensus::simplex::elector::{Random, RandomVersion};
use commonware_consensus::simplex::mocks::{conflicter, equivocator, nuller, relay::Relay};
use commonware_consensus::types::Epoch;
use commonware_cryptography::bls12381::dkg::feldman_desmedt::deal;
use commonware_cryptography::bls12381::primitives::group::Share;
use commonware_cryptography::bls12381::primitives::sharing::{Mode, Sharing};
use commonware_cryptography::bls12381::primitives::variant::MinSig;
use commonware_cryptography::{Sha256, Signer as _, ed25519};
use commonware_p2p::simulated::{Config as NetConfig, Link, Network, Oracle};
use commonware_runtime::deterministic::{FaultConfig, PartialWriteMode, ResizeConfig, WriteConfig};
use commonware_runtime::{
    Clock as _, Handle, Quota, Runner as _, Spawner as _, Supervisor as _, deterministic,
};
use commonware_utils::ordered::{Map, Set};
use commonware_utils::{N3f1, NZU32, NZUsize, Probability, TryCollect as _};
use rand_core::{Rng as _, SeedableRng as _};
use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};
use tally_ledger::demo::{self, Member, USD, UST_2034, member};
use tally_ledger::schema::{Holding, tag};
use tally_ledger::{Genesis, Ledger, MemStore, StateReader, Store as _};
use tally_node::app::{AppState, FinalizedBlock, MempoolHandle, Scheme};
use tally_node::block::LedgerBlock;
use tally_node::engine::{self, CONSENSUS_NAMESPACE, Channels, ConsensusTimeouts, EngineConfig};
use tally_node::mempool::{Mempool, MempoolConfig};
use tally_types::codec::{BoundedVec, Text};
use tally_types::model::Leg;
use tally_types::ops::{Instruct, PlaceHold, ReleaseHold, Settle, Transfer};
use tally_types::{
    AccountId, ChainId, Hash32, HoldId, InstrumentId, Operation, PublicKey, ResultCode, SignedTx,
    Timestamp, Transaction,
};

/// Simulated time after which a run that has not finished fails (the deterministic
/// runtime panics): a cluster that stops making progress fails its seed.
const SIM_TIMEOUT: Duration = Duration::from_secs(1_200);
/// How often the waiting loops look at the validators (simulated time).
const POLL: Duration = Duration::from_millis(50);
/// Heights every honest validator must finalize past the point the fault healed.
const PROGRESS_AFTER_HEAL: u64 = 5;
/// Time for messages in flight and blocks being processed to settle after links change.
const SETTLE: Duration = Duration::from_secs(5);
/// Transactions the client submits per tick, and the tick.
const FEED_CHUNK: usize = 3;
const FEED_EVERY: Duration = Duration::from_millis(250);
/// Transactions and instructions expire this long after genesis (runs last minutes).
const TTL_MS: u64 = 12 * 3_600_000;

// ---------------------------------------------------------------------------------------
// Workload
// ---------------------------------------------------------------------------------------

/// Signed transactions in submission order, with what they must do once all applied.
struct Workload {
    txs: Vec<Vec<u8>>,
    /// Transaction id → (sender, nonce).
    index: BTreeMap<Hash32, (PublicKey, u64)>,
    /// Transactions per sender: its next nonce once everything applied.
    nonces: BTreeMap<PublicKey, u64>,
    /// Net balance change per (account, instrument) once everything applied.
    deltas: BTreeMap<(AccountId, InstrumentId), i128>,
    /// Transfers, settles, instruction pairs and holds generated.
    kinds: [usize; 4],
}

struct WorkloadBuilder {
    chain: ChainId,
    rng: rand_chacha::ChaCha20Rng,
    w: Workload,
}

fn pick(rng: &mut rand_chacha::ChaCha20Rng, n: u64) -> u64 {
    rng.next_u64() % n
}

fn leg(from: &Member, to: &Member, instrument: InstrumentId, amount: u128) -> Leg {
    Leg {
        from: from.account,
        to: to.account,
        instrument,
        amount,
    }
}

impl WorkloadBuilder {
    /// Signs `ops` from `sender` (its next nonce) approved by `signers` (the sender first).
    fn push(&mut self, signers: &[&Member], ops: Vec<Operation>) {
        let keys: Vec<_> = signers.iter().map(|m| m.key()).collect();
        let sender = keys[0].public_key();
        let nonce = self.w.nonces.entry(sender.clone()).or_insert(0);
        let tx = Transaction {
            sender: sender.clone(),
            nonce: *nonce,
            expires_at: Timestamp(demo::GENESIS_MS + TTL_MS),
            operations: BoundedVec::new(ops).unwrap(),
        };
        let id = tx.id(&self.chain);
        self.w.index.insert(id, (sender, *nonce));
        *nonce += 1;
        let refs: Vec<_> = keys.iter().collect();
        self.w.txs.push(tx.sign(&self.chain, &refs).to_bytes());
    }

    fn moves(&mut self, legs: &[Leg]) {
        for l in legs {
            let amount = i128::try_from(l.amount).unwrap();
            *self.w.deltas.entry((l.from, l.instrument)).or_insert(0) -= amount;
            *self.w.deltas.entry((l.to, l.instrument)).or_insert(0) += amount;
        }
    }

    /// A delivery-versus-payment trade: dealer A delivers notes, dealer B pays cash.
    fn dvp_legs(&mut self) -> Vec<Leg> {
        let (a, b) = (member("dealer-a"), member("dealer-b"));
        let face = (1 + pick(&mut self.rng, 50)) * 10_000; // $100 increments
        let price = u128::from(face) * (95 + u128::from(pick(&mut self.rng, 10))) / 100;
        vec![leg(a, b, UST_2034, u128::from(face)), leg(b, a, USD, price)]
    }

    fn transfer(&mut self) {
        let (a, b, c) = (member("dealer-a"), member("dealer-b"), member("custodian"));
        let l = match pick(&mut self.rng, 4) {
            0 => leg(a, b, USD, 1 + u128::from(pick(&mut self.rng, 1_000_000))),
            1 => leg(b, a, USD, 1 + u128::from(pick(&mut self.rng, 1_000_000))),
            2 => leg(b, c, USD, 1 + u128::from(pick(&mut self.rng, 1_000_000))),
            // Only dealer A holds notes at genesis, so only it delivers them.
            _ => leg(
                a,
                c,
                UST_2034,
                u128::from(1 + pick(&mut self.rng, 20)) * 10_000,
            ),
        };
        let from = if l.from == a.account { a } else { b };
        self.moves(std::slice::from_ref(&l));
        self.push(&[from], vec![Operation::Transfer(Transfer { leg: l })]);
        self.w.kinds[0] += 1;
    }

    fn settle(&mut self) {
        let (a, b) = (member("dealer-a"), member("dealer-b"));
        let legs = self.dvp_legs();
        self.moves(&legs);
        let op = Operation::Settle(Settle {
            legs: BoundedVec::new(legs).unwrap(),
        });
        // Both debited owners approve; either may send.
        if pick(&mut self.rng, 2) == 0 {
            self.push(&[a, b], vec![op]);
        } else {
            self.push(&[b, a], vec![op]);
        }
        self.w.kinds[1] += 1;
    }

    /// Both halves of a two-sided instruction; whichever lands second matches and settles.
    fn instruction_pair(&mut self, n: usize) {
        let (a, b) = (member("dealer-a"), member("dealer-b"));
        let legs = self.dvp_legs();
        self.moves(&legs);
        let half = Instruct {
            trade_ref: Text::new(format!("SIM-{n}")).unwrap(),
            legs: BoundedVec::new(legs).unwrap(),
            expires_at: Timestamp(demo::GENESIS_MS + TTL_MS),
        };
        let (first, second) = if pick(&mut self.rng, 2) == 0 {
            (a, b)
        } else {
            (b, a)
        };
        self.push(&[first], vec![Operation::Instruct(half.clone())]);
        self.push(&[second], vec![Operation::Instruct(half)]);
        self.w.kinds[2] += 1;
    }

    /// A hold placed and then released by its payer (the next nonce, so in order): with a
    /// hash-lock (released with the preimage) or only a deadline.
    fn hold(&mut self, n: usize) {
        let (a, b) = (member("dealer-a"), member("dealer-b"));
        let (payer, payee) = if pick(&mut self.rng, 2) == 0 {
            (a, b)
        } else {
            (b, a)
        };
        let l = leg(
            payer,
            payee,
            USD,
            1 + u128::from(pick(&mut self.rng, 1_000_000)),
        );
        let secret = Hash32::digest(&[b"sim-secret", &n.to_be_bytes()]);
        let locked = pick(&mut self.rng, 2) == 0;
        let hold = HoldId(1_000 + n as u64);
        self.moves(std::slice::from_ref(&l));
        self.push(
            &[payer],
            vec![Operation::PlaceHold(PlaceHold {
                hold,
                leg: l,
                hash_lock: locked.then(|| Hash32::digest(&[&secret.0])),
                deadline: Timestamp(demo::GENESIS_MS + TTL_MS),
            })],
        );
        self.push(
            &[payer],
            vec![Operation::ReleaseHold(ReleaseHold {
                hold,
                preimage: locked.then_some(secret),
            })],
        );
        self.w.kinds[3] += 1;
    }
}

/// `count` (or one more) valid signed transactions drawn from `seed`. Amounts are small
/// against the genesis balances and every sender's nonces are consecutive in submission
/// order, so every transaction applies whatever the interleaving of senders.
fn workload(seed: u64, count: usize) -> Workload {
    let mut b = WorkloadBuilder {
        chain: ChainId::new(demo::CHAIN).unwrap(),
        rng: rand_chacha::ChaCha20Rng::seed_from_u64(seed ^ 0x5157_0a4d),
        w: Workload {
            txs: Vec::new(),
            index: BTreeMap::new(),
            nonces: BTreeMap::new(),
            deltas: BTreeMap::new(),
            kinds: [0; 4],
        },
    };
    let mut n = 0;
    while b.w.txs.len() < count {
        match pick(&mut b.rng, 4) {
            0 => b.transfer(),
            1 => b.settle(),
            2 => b.instruction_pair(n),
            _ => b.hold(n),
        }
        n += 1;
    }
    b.w
}

/// A transfer from dealer B to dealer A whose signature does not verify (one bit of the
/// signature flipped) and whose nonce is not next: executed, it would be refused without
/// changing the state, so a block carrying it has the roots of the block without it.
fn forged_tx() -> Vec<u8> {
    let chain = ChainId::new(demo::CHAIN).unwrap();
    let (a, b) = (member("dealer-a"), member("dealer-b"));
    let tx = Transaction {
        sender: b.key().public_key(),
        nonce: u64::MAX,
        expires_at: Timestamp(demo::GENESIS_MS + TTL_MS),
        operations: BoundedVec::new(vec![Operation::Transfer(Transfer {
            leg: leg(b, a, USD, 1_000_000),
        })])
        .unwrap(),
    };
    let mut bytes = tx.sign(&chain, &[&b.key()]).to_bytes();
    let len = bytes.len();
    bytes[len - 64] ^= 1; // the approval's signature is last: flip a bit of its R
    let decoded = SignedTx::decode_bounded(&bytes).expect("still a well-formed transaction");
    assert!(tally_types::verify_one(&chain, decoded).is_err());
    bytes
}

// ---------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------

/// A simplex mock run in place of a validator's consensus engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mock {
    /// Votes for a random digest as well as for each proposal (conflicting votes).
    Conflicter,
    /// Votes nullify and finalize in the same view.
    Nuller,
    /// When leader, proposes two payloads and sends each to different validators.
    Equivocator,
}

/// A link between every pair of validators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct LinkSpec {
    latency_ms: u64,
    jitter_ms: u64,
    /// Percent of messages delivered.
    delivered: u64,
}

const GOOD_LINK: LinkSpec = LinkSpec {
    latency_ms: 10,
    jitter_ms: 2,
    delivered: 100,
};

impl LinkSpec {
    fn link(self) -> Link {
        Link {
            latency: Duration::from_millis(self.latency_ms),
            jitter: Duration::from_millis(self.jitter_ms),
            success_rate: Probability::new(self.delivered, 100).unwrap(),
        }
    }
}

#[derive(Clone, Debug)]
enum Fault {
    None,
    /// These validators crash together; they restart once the others finalized `down_for`
    /// more heights; with `relapse_ms`, they crash again that long after restarting (while
    /// catching up) and restart once more.
    Crash {
        victims: Vec<usize>,
        down_for: u64,
        relapse_ms: Option<u64>,
    },
    /// Every link to and from these validators is removed until the others finalized
    /// `down_for` more heights, then restored.
    Isolate {
        victims: Vec<usize>,
        down_for: u64,
    },
    /// The validators split into `side` and the rest, neither a quorum, for `for_ms`.
    Split {
        side: Vec<usize>,
        for_ms: u64,
    },
    /// Every link loses and delays messages until the cluster finalized 5 more heights;
    /// then links are good again.
    Lossy {
        link: LinkSpec,
    },
    /// Storage operations fail at random for `window_ms` (every validator's storage: the
    /// runtime's switch is global); then every validator crashes and restarts on its
    /// storage.
    StorageErrors {
        faults: FaultConfig,
        window_ms: u64,
    },
    /// The whole cluster loses power `extra` heights after warm-up: the runtime stops and
    /// keeps a random part of every write not yet synced (torn writes); every validator
    /// restarts on what storage kept.
    PowerLoss {
        extra: u64,
        retention: u64,
        mode: PartialWriteMode,
    },
    /// Validator `who` runs a simplex mock instead of its engine; with 7 validators,
    /// honest validator `crash` also crashes and restarts (f = 2 faults in all).
    Byzantine {
        who: usize,
        mock: Mock,
        crash: Option<usize>,
    },
    /// Lossy, slow links while three faults come and go, possibly overlapping (together
    /// they may exceed f, stopping progress until they end); then links are good again.
    Chaos {
        link: LinkSpec,
        /// (start, end) in ms from the first event, and what happens in between.
        events: Vec<(u64, u64, Event)>,
    },
    /// Validator `who` appends a badly signed transaction to every block it proposes
    /// ([AppState::forge_proposals]); with 7 validators honest `crash` also crashes.
    BadProposer {
        who: usize,
        crash: Option<usize>,
    },
}

/// One fault of a [Fault::Chaos] run.
#[derive(Clone, Debug)]
enum Event {
    /// The validator is down.
    Crash(usize),
    /// No link between these validators and the others.
    Cut(Vec<usize>),
}

/// Fault kinds the sweeps rotate through, and their families (one sweep test each).
const KINDS: u64 = 9;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    CrashAndStorage,
    Network,
    Byzantine,
}

#[derive(Clone, Debug)]
struct Scenario {
    seed: u64,
    validators: usize,
    txs: usize,
    fault: Fault,
}

/// `count` distinct validators out of `n`, drawn from `rng`.
fn distinct(rng: &mut rand_chacha::ChaCha20Rng, n: usize, count: usize) -> Vec<usize> {
    let mut all: Vec<usize> = (0..n).collect();
    let mut out = Vec::new();
    for _ in 0..count {
        let i = usize::try_from(pick(rng, all.len() as u64)).unwrap();
        out.push(all.remove(i));
    }
    out.sort_unstable();
    out
}

impl Scenario {
    /// The scenario of sweep seed `seed`: the fault kind rotates with the seed (so any
    /// `KINDS` consecutive seeds cover every kind), one seed in three of each kind runs 7
    /// validators, everything else is drawn from the seed.
    fn from_seed(seed: u64) -> Self {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed ^ 0x5ce7_a210);
        let n: usize = if (seed / KINDS) % 3 == 2 { 7 } else { 4 };
        let f = (n - 1) / 3;
        let txs = 18 + usize::try_from(pick(&mut rng, 18)).unwrap();
        let fault = match seed % KINDS {
            0 => Fault::Crash {
                victims: distinct(&mut rng, n, f),
                down_for: 2 + pick(&mut rng, 4),
                relapse_ms: (pick(&mut rng, 2) == 0).then(|| 100 * pick(&mut rng, 15)),
            },
            1 => Fault::StorageErrors {
                faults: match pick(&mut rng, 5) {
                    0 => FaultConfig::default().sync(Probability::new(5, 100).unwrap()),
                    1 => FaultConfig::default().write(WriteConfig {
                        failure_rate: Probability::new(2, 100).unwrap(),
                        retention_rate: Probability::new(1, 2).unwrap(),
                        mode: PartialWriteMode::Prefix,
                    }),
                    2 => FaultConfig::default()
                        .sync(Probability::new(2, 100).unwrap())
                        .write(WriteConfig {
                            failure_rate: Probability::new(1, 100).unwrap(),
                            retention_rate: Probability::new(1, 2).unwrap(),
                            mode: PartialWriteMode::Subset,
                        }),
                    3 => FaultConfig::default().read(Probability::new(1, 100).unwrap()),
                    _ => FaultConfig::default()
                        .sync(Probability::new(2, 100).unwrap())
                        .resize(ResizeConfig {
                            failure_rate: Probability::new(5, 100).unwrap(),
                            partial_rate: Probability::new(1, 2).unwrap(),
                        }),
                },
                window_ms: 1_000 + 500 * pick(&mut rng, 4),
            },
            2 => Fault::PowerLoss {
                extra: pick(&mut rng, 4),
                retention: 20 + 20 * pick(&mut rng, 4),
                mode: if pick(&mut rng, 2) == 0 {
                    PartialWriteMode::Prefix
                } else {
                    PartialWriteMode::Subset
                },
            },
            3 => Fault::Isolate {
                victims: distinct(&mut rng, n, f),
                down_for: 2 + pick(&mut rng, 4),
            },
            4 => Fault::Split {
                side: distinct(&mut rng, n, n / 2),
                for_ms: 3_000 + 1_000 * pick(&mut rng, 4),
            },
            5 => Fault::Lossy {
                link: LinkSpec {
                    // One in three: delays of the order of the leader timeout.
                    latency_ms: if pick(&mut rng, 3) == 0 {
                        200 + 100 * pick(&mut rng, 3)
                    } else {
                        20 + 20 * pick(&mut rng, 4)
                    },
                    jitter_ms: 20 + 30 * pick(&mut rng, 6),
                    delivered: 85 + pick(&mut rng, 11),
                },
            },
            6 => {
                let who = distinct(&mut rng, n, 2);
                Fault::Byzantine {
                    who: who[0],
                    // Not tied to the validator count: every mock also runs with 4.
                    mock: match (seed / KINDS + seed / (3 * KINDS)) % 3 {
                        0 => Mock::Conflicter,
                        1 => Mock::Nuller,
                        _ => Mock::Equivocator,
                    },
                    crash: (n == 7).then_some(who[1]),
                }
            }
            7 => {
                let who = distinct(&mut rng, n, 2);
                Fault::BadProposer {
                    who: who[0],
                    crash: (n == 7).then_some(who[1]),
                }
            }
            _ => Fault::Chaos {
                link: LinkSpec {
                    latency_ms: 20 + 20 * pick(&mut rng, 5),
                    jitter_ms: 20 + 30 * pick(&mut rng, 4),
                    delivered: 90 + pick(&mut rng, 11),
                },
                events: (0..3)
                    .map(|_| {
                        let start = 100 * pick(&mut rng, 40);
                        let end = start + 500 + 100 * pick(&mut rng, 30);
                        let event = match pick(&mut rng, 3) {
                            0 => Event::Crash(distinct(&mut rng, n, 1)[0]),
                            1 => Event::Cut(distinct(&mut rng, n, f)),
                            _ => Event::Cut(distinct(&mut rng, n, n / 2)),
                        };
                        (start, end, event)
                    })
                    .collect(),
            },
        };
        Self {
            seed,
            validators: n,
            txs,
            fault,
        }
    }

    fn family(&self) -> Family {
        match self.fault {
            Fault::None
            | Fault::Crash { .. }
            | Fault::StorageErrors { .. }
            | Fault::PowerLoss { .. } => Family::CrashAndStorage,
            Fault::Isolate { .. }
            | Fault::Split { .. }
            | Fault::Lossy { .. }
            | Fault::Chaos { .. } => Family::Network,
            Fault::Byzantine { .. } | Fault::BadProposer { .. } => Family::Byzantine,
        }
    }

    /// The validator that is not honest, if any.
    fn byzantine(&self) -> Option<usize> {
        match self.fault {
            Fault::Byzantine { who, .. } | Fault::BadProposer { who, .. } => Some(who),
            _ => None,
        }
    }

    fn honest(&self) -> Vec<usize> {
        (0..self.validators)
            .filter(|i| Some(*i) != self.byzantine())
            .collect()
    }
}

// ---------------------------------------------------------------------------------------
// The simulated cluster
// ---------------------------------------------------------------------------------------

thread_local! {
    /// Panics on this thread (the deterministic runtime runs a whole simulation on one).
    static PANICS: Cell<usize> = const { Cell::new(0) };
}

/// Panics so far on this thread, counted by a hook installed once (which then defers to
/// the default hook, so messages still print).
fn panics() -> usize {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.with(|p| p.set(p.get() + 1));
            previous(info);
        }));
    });
    PANICS.with(Cell::get)
}

/// Stands in for the clients: submits the workload a few transactions at a time to every
/// running validator's mempool, and everything submitted so far to a restarted one (its
/// mempool starts empty; clients resubmit what they have not seen final).
struct Client {
    workload: Arc<Vec<Vec<u8>>>,
    submitted: usize,
    pools: Vec<Option<MempoolHandle>>,
    rng: rand_chacha::ChaCha20Rng,
}

impl Client {
    fn admit(&mut self, pool: &MempoolHandle, now: Timestamp, txs: &[Vec<u8>]) {
        let results = pool.0.lock().unwrap().admit(now, txs, 1, &mut self.rng);
        assert!(results.iter().all(Result::is_ok), "{results:?}");
    }

    /// Submits the next chunk; returns whether everything has been submitted.
    fn feed(&mut self, now: Timestamp) -> bool {
        let end = (self.submitted + FEED_CHUNK).min(self.workload.len());
        let chunk = self.workload[self.submitted..end].to_vec();
        for pool in self.pools.clone().into_iter().flatten() {
            self.admit(&pool, now, &chunk);
        }
        self.submitted = end;
        end == self.workload.len()
    }

    fn attach(&mut self, i: usize, pool: MempoolHandle, now: Timestamp) {
        let sent = self.workload[..self.submitted].to_vec();
        self.admit(&pool, now, &sent);
        self.pools[i] = Some(pool);
    }
}

fn now(context: &deterministic::Context) -> Timestamp {
    let ms = context
        .current()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis();
    Timestamp(u64::try_from(ms).unwrap())
}

/// One finalized block as a validator reported it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Seen {
    height: u64,
    /// Block time (ms).
    time: u64,
    digest: Hash32,
    root: Hash32,
    receipts: Vec<(Hash32, ResultCode)>,
}

fn seen(blocks: Vec<std::sync::Arc<FinalizedBlock>>) -> Vec<Seen> {
    blocks
        .into_iter()
        .map(|b| Seen {
            height: b.height,
            time: b.time.0,
            digest: b.digest,
            root: b.state_root,
            receipts: b
                .outcome
                .receipts
                .iter()
                .map(|r| (r.tx_id, r.code))
                .collect(),
        })
        .collect()
}

/// A validator's finalized ledger state.
type State = BTreeMap<Vec<u8>, Vec<u8>>;

/// What a run leaves to check.
#[derive(Default)]
struct Outcome {
    /// Per honest validator, per incarnation (restart), the finalized blocks it reported.
    histories: BTreeMap<usize, Vec<Vec<Seen>>>,
    /// Per honest validator, its last finalized height and finalized state.
    finals: BTreeMap<usize, (u64, State)>,
    /// The highest finalized height once the fault healed.
    healed_at: u64,
    /// Blocks the Byzantine proposer proposed with a badly signed transaction.
    forged: Vec<Hash32>,
    /// (blocker, blocked) pairs among honest validators.
    honest_blocks: Vec<(usize, usize)>,
    /// (blocker, blocked) pairs where the blocked validator is the Byzantine one.
    byzantine_blocked: Vec<(usize, usize)>,
    /// Panics the storage errors caused (caught by the runtime, modelled as crashes).
    storage_panics: usize,
    /// Workload transactions submitted (carried across a power loss).
    submitted: usize,
    /// The (honest, shared) clock when the histories were last collected, in ms.
    clock_ms: u64,
}

/// What every validator of a simulated cluster shares.
struct Cluster {
    chain: ChainId,
    genesis: Genesis,
    genesis_block: LedgerBlock,
    participants: Set<ed25519::PublicKey>,
    public: Sharing<MinSig>,
    shares: Map<ed25519::PublicKey, Share>,
}

struct Node {
    handle: Option<Handle<()>>,
    state: Option<AppState>,
}

struct Sim {
    context: deterministic::Context,
    s: Scenario,
    keys: Vec<ed25519::PrivateKey>,
    oracle: Oracle<ed25519::PublicKey, deterministic::Context>,
    cluster: Cluster,
    link: LinkSpec,
    nodes: Vec<Node>,
    client: Arc<Mutex<Client>>,
    nonces: BTreeMap<PublicKey, u64>,
    /// Every incarnation's state, per honest validator.
    incarnations: BTreeMap<usize, Vec<AppState>>,
    /// Directed links currently up.
    linked: BTreeSet<(usize, usize)>,
    /// Starts so far (labels each incarnation's metrics apart).
    starts: u32,
}

impl Sim {
    /// Network and keys for scenario `s`; no validator started yet. `submitted`
    /// transactions of the workload were already submitted (before a power loss).
    async fn new(context: deterministic::Context, s: &Scenario, submitted: usize) -> Self {
        let n = s.validators;
        let keys: Vec<ed25519::PrivateKey> = (0..n as u64)
            .map(|i| ed25519::PrivateKey::from_seed(7_000 + i))
            .collect();
        let participants: Set<ed25519::PublicKey> =
            keys.iter().map(|k| k.public_key()).try_collect().unwrap();
        let mut dealer_rng = rand_chacha::ChaCha20Rng::seed_from_u64(s.seed);
        let (output, shares) =
            deal::<MinSig, _, N3f1>(&mut dealer_rng, Mode::NonZeroCounter, participants.clone())
                .unwrap();
        let (network, oracle) = Network::new_with_peers(
            context.child("network"),
            NetConfig {
                max_size: engine::max_message_size(u32::try_from(n).unwrap()),
                max_peers_per_set: NZUsize!(n),
                disconnect_on_block: true,
                tracked_peer_sets: NZUsize!(1),
            },
            participants.iter().cloned().collect::<Vec<_>>(),
        )
        .await;
        network.start();
        let genesis = demo::genesis();
        let w = workload(s.seed, s.txs);
        let client = Client {
            workload: Arc::new(w.txs),
            submitted,
            pools: (0..n).map(|_| None).collect(),
            rng: rand_chacha::ChaCha20Rng::seed_from_u64(s.seed ^ 0xc11e),
        };
        let link = match s.fault {
            Fault::Lossy { link } | Fault::Chaos { link, .. } => link,
            _ => GOOD_LINK,
        };
        let mut sim = Self {
            cluster: Cluster {
                chain: ChainId::new(demo::CHAIN).unwrap(),
                genesis_block: engine::genesis_block::<deterministic::Context>(genesis.time),
                genesis,
                participants,
                public: output.public().clone(),
                shares,
            },
            context,
            s: s.clone(),
            keys,
            oracle,
            link,
            nodes: (0..n)
                .map(|_| Node {
                    handle: None,
                    state: None,
                })
                .collect(),
            client: Arc::new(Mutex::new(client)),
            nonces: w.nonces,
            incarnations: BTreeMap::new(),
            linked: BTreeSet::new(),
            starts: 0,
        };
        let all: Vec<usize> = (0..n).collect();
        sim.join(&all, &all).await;
        sim
    }

    fn scheme(&self, i: usize) -> Scheme {
        let share = self
            .cluster
            .shares
            .get_value(&self.keys[i].public_key())
            .unwrap()
            .clone();
        Scheme::signer(
            CONSENSUS_NAMESPACE,
            self.cluster.participants.clone(),
            self.cluster.public.clone(),
            share,
        )
        .unwrap()
    }

    /// Starts (or restarts, on the same storage) validator `i` in its role.
    async fn start(&mut self, i: usize) {
        self.starts += 1;
        let pk = self.keys[i].public_key();
        let control = self.oracle.control(pk.clone());
        let quota = Quota::per_second(NZU32!(10_000));
        let ctx = self
            .context
            .child("validator")
            .with_attribute("index", i)
            .with_attribute("start", self.starts);
        if let Fault::Byzantine { who, mock, .. } = self.s.fault
            && who == i
        {
            let votes = control.register(0, quota).await.unwrap();
            let certificates = control.register(1, quota).await.unwrap();
            let scheme = self.scheme(i);
            let handle = match mock {
                Mock::Conflicter => {
                    conflicter::Conflicter::<_, _, Sha256>::new(ctx, conflicter::Config { scheme })
                        .start(votes)
                }
                Mock::Nuller => {
                    nuller::Nuller::<_, _, Sha256>::new(ctx, nuller::Config { scheme }).start(votes)
                }
                Mock::Equivocator => {
                    equivocator::Equivocator::<_, _, Random<Sha256>, Sha256>::new(
                        ctx,
                        equivocator::Config {
                            scheme,
                            elector: Random::<Sha256>::new(RandomVersion::V1),
                            epoch: Epoch::zero(),
                            // Nobody fetches its payloads: honest validators never get
                            // the blocks it proposes.
                            relay: Arc::new(Relay::new()),
                        },
                    )
                    .start(votes, certificates)
                }
            };
            self.nodes[i].handle = Some(handle);
            return;
        }
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
        let state = AppState::new(
            Ledger::new(self.cluster.chain.clone()),
            self.cluster.genesis.clone(),
            &self.cluster.genesis_block,
            1,
        );
        if matches!(self.s.fault, Fault::BadProposer { who, .. } if who == i) {
            state.forge_proposals(forged_tx());
        }
        let pool = MempoolHandle(Arc::new(Mutex::new(Mempool::new(
            self.cluster.chain.clone(),
            MempoolConfig::default(),
        ))));
        self.client
            .lock()
            .unwrap()
            .attach(i, pool.clone(), now(&self.context));
        let cfg = EngineConfig {
            public_key: pk.clone(),
            scheme: self.scheme(i),
            partition_prefix: format!("validator-{i}"),
            genesis_block: self.cluster.genesis_block.clone(),
            state: state.clone(),
            mempool: pool,
            timeouts: ConsensusTimeouts::default(),
            gossip: None,
        };
        let handle = engine::start(
            ctx,
            cfg,
            channels,
            self.oracle.manager(),
            self.oracle.control(pk),
        )
        .await;
        self.nodes[i] = Node {
            handle: Some(handle),
            state: Some(state.clone()),
        };
        if Some(i) != self.s.byzantine() {
            self.incarnations.entry(i).or_default().push(state);
        }
    }

    /// Crashes validator `i`: every actor stops; what it did not sync is lost.
    fn crash(&mut self, i: usize) {
        if let Some(handle) = self.nodes[i].handle.take() {
            handle.abort();
        }
        self.nodes[i].state = None;
        self.client.lock().unwrap().pools[i] = None;
    }

    /// Starts the client's feeding task.
    fn feed(&self) {
        let client = self.client.clone();
        self.context.child("client").spawn(move |ctx| async move {
            loop {
                let done = client.lock().unwrap().feed(now(&ctx));
                if done {
                    break;
                }
                ctx.sleep(FEED_EVERY).await;
            }
        });
    }

    /// Directed pairs between `a` and `b`, both ways.
    fn pairs(&self, a: &[usize], b: &[usize]) -> BTreeSet<(usize, usize)> {
        let mut pairs = BTreeSet::new();
        for &x in a {
            for &y in b {
                if x != y {
                    pairs.insert((x, y));
                    pairs.insert((y, x));
                }
            }
        }
        pairs
    }

    /// Removes the links between `a` and `b`, both ways.
    async fn cut(&mut self, a: &[usize], b: &[usize]) {
        for (x, y) in self.pairs(a, b) {
            if self.linked.remove(&(x, y)) {
                let (kx, ky) = (self.keys[x].public_key(), self.keys[y].public_key());
                self.oracle.remove_link(kx, ky).await.unwrap();
            }
        }
    }

    /// (Re)links `a` and `b`, both ways, with the current link.
    async fn join(&mut self, a: &[usize], b: &[usize]) {
        self.cut(a, b).await;
        for (x, y) in self.pairs(a, b) {
            let (kx, ky) = (self.keys[x].public_key(), self.keys[y].public_key());
            self.oracle
                .add_link(kx, ky, self.link.link())
                .await
                .unwrap();
            self.linked.insert((x, y));
        }
    }

    /// Links exactly the pairs no cut of `cuts` separates.
    async fn apply_cuts(&mut self, cuts: &[&Vec<usize>]) {
        let all: Vec<usize> = (0..self.s.validators).collect();
        for (x, y) in self.pairs(&all, &all) {
            let separated = cuts.iter().any(|c| c.contains(&x) != c.contains(&y));
            let up = self.linked.contains(&(x, y));
            let (kx, ky) = (self.keys[x].public_key(), self.keys[y].public_key());
            if separated && up {
                self.oracle.remove_link(kx, ky).await.unwrap();
                self.linked.remove(&(x, y));
            } else if !separated && !up {
                self.oracle
                    .add_link(kx, ky, self.link.link())
                    .await
                    .unwrap();
                self.linked.insert((x, y));
            }
        }
    }

    fn height(&self, i: usize) -> u64 {
        self.nodes[i]
            .state
            .as_ref()
            .and_then(AppState::last_finalized)
            .map_or(0, |b| b.height)
    }

    fn max_height(&self, who: &[usize]) -> u64 {
        who.iter().map(|i| self.height(*i)).max().unwrap_or(0)
    }

    async fn wait_until(&self, done: impl Fn(&Self) -> bool) {
        while !done(self) {
            self.context.sleep(POLL).await;
        }
    }

    /// Waits until every validator of `who` finalized `height`.
    async fn wait_height(&self, who: &[usize], height: u64) {
        self.wait_until(|sim| who.iter().all(|i| sim.height(*i) >= height))
            .await;
    }

    /// Whether validator `i`'s finalized state reflects the whole workload.
    fn complete(&self, i: usize) -> bool {
        let Some(state) = &self.nodes[i].state else {
            return false;
        };
        let store = mem_store(&state.finalized_state());
        let reader = StateReader(&store);
        self.nonces
            .iter()
            .all(|(key, n)| reader.next_nonce(key) == *n)
    }

    fn forged(&self) -> Vec<Hash32> {
        self.s
            .byzantine()
            .and_then(|i| self.nodes[i].state.as_ref())
            .map_or_else(Vec::new, AppState::forged_proposals)
    }

    /// Waits until every honest validator finalized `PROGRESS_AFTER_HEAL` heights past the
    /// heal point and the whole workload (and, with a Byzantine proposer, until it proposed
    /// at least one forged block), then collects what to check.
    async fn finish(&self, healed_at: u64, out: &mut Outcome) {
        let honest = self.s.honest();
        let forging = matches!(self.s.fault, Fault::BadProposer { .. });
        self.wait_until(|sim| {
            honest
                .iter()
                .all(|i| sim.height(*i) >= healed_at + PROGRESS_AFTER_HEAL && sim.complete(*i))
                && (!forging || sim.forged().len() >= 2)
        })
        .await;
        out.healed_at = out.healed_at.max(healed_at);
        self.collect(out).await;
        for &i in &honest {
            let state = self.nodes[i].state.as_ref().unwrap();
            out.finals
                .insert(i, (self.height(i), state.finalized_state()));
        }
    }

    /// Records histories, forged blocks and blocked peers so far.
    async fn collect(&self, out: &mut Outcome) {
        let index: BTreeMap<ed25519::PublicKey, usize> = self
            .keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.public_key(), i))
            .collect();
        let honest = self.s.honest();
        for (blocker, blocked) in self.oracle.blocked().await.unwrap() {
            let (a, b) = (index[&blocker], index[&blocked]);
            if honest.contains(&a) && honest.contains(&b) {
                out.honest_blocks.push((a, b));
            } else if !out.byzantine_blocked.contains(&(a, b)) {
                out.byzantine_blocked.push((a, b));
            }
        }
        // From here on nothing awaits: the snapshot is of one instant.
        out.clock_ms = now(&self.context).0;
        for (i, states) in &self.incarnations {
            let h = out.histories.entry(*i).or_default();
            for s in states {
                h.push(seen(s.finalized_blocks()));
            }
        }
        out.forged.extend(self.forged());
        out.submitted = self.client.lock().unwrap().submitted;
    }
}

fn mem_store(state: &State) -> MemStore {
    let mut store = MemStore::new();
    for (k, v) in state {
        store.put(k.clone(), v.clone());
    }
    store
}

fn runtime(s: &Scenario) -> deterministic::Config {
    let storage = match s.fault {
        // Every write records, as it is issued, what part of it survives a power loss
        // if not synced by then; no operation fails.
        Fault::PowerLoss {
            retention, mode, ..
        } => FaultConfig::default().write(WriteConfig {
            failure_rate: Probability::new(0, 1).unwrap(),
            retention_rate: Probability::new(retention, 100).unwrap(),
            mode,
        }),
        _ => FaultConfig::default(),
    };
    deterministic::Config::new()
        .with_storage_fault_config(storage)
        .with_seed(s.seed)
        .with_start_time(UNIX_EPOCH + Duration::from_millis(demo::GENESIS_MS))
        .with_timeout(Some(SIM_TIMEOUT))
        // Only storage errors may make a task panic (modelled as a crash, see below);
        // anywhere else a panic fails the run.
        .with_catch_panics(matches!(s.fault, Fault::StorageErrors { .. }))
}

/// Runs scenario `s` to the end and returns what to check. Asserts what can only be
/// observed during the run (no progress without a quorum, no panic after a restart).
fn run(s: &Scenario) -> Outcome {
    if let Fault::PowerLoss { extra, .. } = s.fault {
        return run_power_loss(s, extra); // retention: see runtime()
    }
    let s = s.clone();
    deterministic::Runner::new(runtime(&s)).start(|context| async move {
        let mut sim = Sim::new(context, &s, 0).await;
        let n = s.validators;
        let honest = s.honest();
        for i in 0..n {
            sim.start(i).await;
        }
        sim.feed();
        sim.wait_height(&honest, 3).await;
        let mut out = Outcome::default();
        match s.fault.clone() {
            Fault::None | Fault::PowerLoss { .. } => {}
            Fault::Crash {
                victims,
                down_for,
                relapse_ms,
            } => {
                crash_and_restart(&mut sim, &victims, down_for).await;
                if let Some(ms) = relapse_ms {
                    sim.context.sleep(Duration::from_millis(ms)).await;
                    crash_and_restart(&mut sim, &victims, 1).await;
                }
            }
            Fault::Byzantine { crash, .. } | Fault::BadProposer { crash, .. } => {
                if let Some(v) = crash {
                    crash_and_restart(&mut sim, &[v], 3).await;
                }
            }
            Fault::Isolate { victims, down_for } => {
                let others: Vec<usize> = (0..n).filter(|i| !victims.contains(i)).collect();
                sim.cut(&victims, &others).await;
                sim.context.sleep(SETTLE).await;
                let before: Vec<u64> = victims.iter().map(|v| sim.height(*v)).collect();
                let h = sim.max_height(&others);
                sim.wait_height(&others, h + down_for).await;
                let after: Vec<u64> = victims.iter().map(|v| sim.height(*v)).collect();
                assert_eq!(before, after, "an isolated validator finalized on its own");
                sim.join(&victims, &others).await;
            }
            Fault::Split { side, for_ms } => {
                let rest: Vec<usize> = (0..n).filter(|i| !side.contains(i)).collect();
                sim.cut(&side, &rest).await;
                sim.context.sleep(SETTLE).await;
                let before = sim.max_height(&honest);
                sim.context.sleep(Duration::from_millis(for_ms)).await;
                assert_eq!(
                    sim.max_height(&honest),
                    before,
                    "a block was finalized without a quorum"
                );
                sim.join(&side, &rest).await;
            }
            Fault::Lossy { .. } => {
                let h = sim.max_height(&honest);
                sim.wait_height(&honest, h + 5).await;
                sim.link = GOOD_LINK;
                let all: Vec<usize> = (0..n).collect();
                sim.join(&all, &all).await;
            }
            Fault::Chaos { events, .. } => {
                chaos(&mut sim, &events).await;
                sim.link = GOOD_LINK;
                let all: Vec<usize> = (0..n).collect();
                sim.join(&all, &all).await;
            }
            Fault::StorageErrors { faults, window_ms } => {
                // The runtime's fault switch is global: every validator's storage may fail
                // during the window. Whatever a failed operation makes panic is caught by the
                // runtime (`with_catch_panics`) and stops only that task, so at the end of the
                // window every validator is crashed and restarted on its storage, as a
                // process that panicked would be (this is also what Commonware's glue
                // simulations do).
                let before = panics();
                *sim.context.storage_fault_config().write() = faults;
                sim.context.sleep(Duration::from_millis(window_ms)).await;
                *sim.context.storage_fault_config().write() = FaultConfig::default();
                for &i in &honest {
                    sim.crash(i);
                }
                sim.context.sleep(Duration::from_millis(100)).await; // tasks wound down
                for &i in &honest {
                    sim.start(i).await;
                    sim.context.sleep(Duration::from_millis(250)).await;
                }
                out.storage_panics = panics() - before;
            }
        }
        let healed_at = sim.max_height(&honest);
        let before = panics();
        sim.finish(healed_at, &mut out).await;
        assert_eq!(panics(), before, "a task panicked after the fault healed");
        out
    })
}

/// Plays the events of a chaos run, in time order (ends before starts at the same time).
async fn chaos(sim: &mut Sim, events: &[(u64, u64, Event)]) {
    let mut timeline: Vec<(u64, bool, usize)> = Vec::new();
    for (k, (start, end, _)) in events.iter().enumerate() {
        timeline.push((*start, true, k));
        timeline.push((*end, false, k));
    }
    timeline.sort_unstable_by_key(|(t, starts, k)| (*t, *starts, *k));
    let begin = sim.context.current();
    let mut active: BTreeSet<usize> = BTreeSet::new();
    for (t, starts, k) in timeline {
        let at = begin + Duration::from_millis(t);
        if let Ok(wait) = at.duration_since(sim.context.current()) {
            sim.context.sleep(wait).await;
        }
        if starts {
            active.insert(k);
        } else {
            active.remove(&k);
        }
        match &events[k].2 {
            Event::Crash(v) => {
                let down = active
                    .iter()
                    .any(|a| matches!(events[*a].2, Event::Crash(x) if x == *v));
                let running = sim.nodes[*v].handle.is_some();
                if down && running {
                    sim.crash(*v);
                } else if !down && !running {
                    sim.start(*v).await;
                }
            }
            Event::Cut(_) => {
                let cuts: Vec<&Vec<usize>> = active
                    .iter()
                    .filter_map(|a| match &events[*a].2 {
                        Event::Cut(side) => Some(side),
                        Event::Crash(_) => None,
                    })
                    .collect();
                sim.apply_cuts(&cuts).await;
            }
        }
    }
}

async fn crash_and_restart(sim: &mut Sim, victims: &[usize], down_for: u64) {
    let others: Vec<usize> = sim
        .s
        .honest()
        .into_iter()
        .filter(|i| !victims.contains(i))
        .collect();
    for &v in victims {
        sim.crash(v);
    }
    sim.context.sleep(Duration::from_millis(100)).await; // tasks wound down
    let h = sim.max_height(&others);
    sim.wait_height(&others, h + down_for).await;
    for &v in victims {
        sim.start(v).await;
    }
}

/// Power loss: the first runtime stops `extra` heights after warm-up, at whatever point
/// of a block that is; its storage keeps a random part (`retention` percent, as a prefix
/// or a random subset of the bytes: see [runtime]) of every write not yet synced. The
/// second runtime resumes from that storage (same seed stream, same clock) and restarts
/// every validator.
fn run_power_loss(s: &Scenario, extra: u64) -> Outcome {
    let first = s.clone();
    let (out, checkpoint) =
        deterministic::Runner::new(runtime(s)).start_and_recover(|context| async move {
            let s = first;
            let mut sim = Sim::new(context, &s, 0).await;
            for i in 0..s.validators {
                sim.start(i).await;
            }
            sim.feed();
            let all: Vec<usize> = (0..s.validators).collect();
            sim.wait_height(&all, 3 + extra).await;
            // Stop at some point within a block, not right after one finalized.
            sim.context
                .sleep(Duration::from_millis(50 * (s.seed % 10)))
                .await;
            let mut out = Outcome {
                healed_at: sim.max_height(&all),
                ..Outcome::default()
            };
            sim.collect(&mut out).await;
            out
        });
    let second = s.clone();
    deterministic::Runner::from(checkpoint).start(|context| async move {
        let s = second;
        *context.storage_fault_config().write() = FaultConfig::default();
        let mut out = out;
        let mut sim = Sim::new(context, &s, out.submitted).await;
        sim.starts = 100; // apart from the first runtime's labels
        for i in 0..s.validators {
            sim.start(i).await;
        }
        sim.feed();
        let healed_at = out.healed_at;
        sim.finish(healed_at, &mut out).await;
        out
    })
}

// ---------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------

/// Genesis balances of the demo world (see `demo::genesis`).
fn genesis_balance(account: AccountId, instrument: InstrumentId) -> i128 {
    let (a, b) = (member("dealer-a").account, member("dealer-b").account);
    match (account, instrument) {
        (x, USD) if x == a || x == b => 50_000_000 * 100,
        (x, UST_2034) if x == a => 10_000_000 * 100,
        _ => 0,
    }
}

/// Every holding in a state, by (account, instrument).
fn holdings(state: &State) -> BTreeMap<(AccountId, InstrumentId), Holding> {
    state
        .iter()
        .filter(|(k, _)| k[0] == tag::HOLDING)
        .map(|(k, v)| {
            let a = AccountId(u64::from_be_bytes(k[1..9].try_into().unwrap()));
            let i = InstrumentId(u64::from_be_bytes(k[9..17].try_into().unwrap()));
            ((a, i), tally_ledger::schema::decode(v))
        })
        .collect()
}

/// Every check of a finished run.
fn check(s: &Scenario, out: &Outcome) {
    let w = workload(s.seed, s.txs);
    let honest = s.honest();

    // Agreement: every honest validator, in every incarnation, finalized the same block
    // with the same state root at every height; receipts agree wherever reported (a
    // restarted validator reports the block it resumed from without receipts).
    let mut blocks: BTreeMap<u64, (Hash32, Hash32)> = BTreeMap::new();
    let mut receipts: BTreeMap<u64, Vec<(Hash32, ResultCode)>> = BTreeMap::new();
    for (v, incarnations) in &out.histories {
        assert!(honest.contains(v));
        for history in incarnations {
            for b in history {
                let expected = blocks.entry(b.height).or_insert((b.digest, b.root));
                assert_eq!(
                    *expected,
                    (b.digest, b.root),
                    "validator {v} disagrees at height {}",
                    b.height
                );
                if !b.receipts.is_empty() {
                    let r = receipts.entry(b.height).or_insert(b.receipts.clone());
                    assert_eq!(*r, b.receipts, "receipts differ at height {}", b.height);
                }
            }
        }
    }
    for v in &honest {
        assert!(
            out.histories
                .get(v)
                .is_some_and(|h| h.iter().any(|b| !b.is_empty())),
            "validator {v} finalized nothing"
        );
    }

    // Progress resumed after the fault healed, on every honest validator.
    for (v, (height, _)) in &out.finals {
        assert!(
            *height >= out.healed_at + PROGRESS_AFTER_HEAL,
            "validator {v} stuck at {height} (healed at {})",
            out.healed_at
        );
    }

    // A block with a badly signed transaction is never finalized.
    if matches!(s.fault, Fault::BadProposer { .. }) {
        assert!(
            !out.forged.is_empty(),
            "the Byzantine proposer never proposed"
        );
    }
    let finalized: BTreeSet<Hash32> = blocks.values().map(|(d, _)| *d).collect();
    for d in &out.forged {
        assert!(!finalized.contains(d), "a forged block was finalized");
    }
    // Ledger time never runs ahead of the honest clocks by more than the documented bound,
    // whatever a Byzantine proposer stamps.
    let bound = tally_node::block::MAX_CLOCK_AHEAD_MS + tally_node::block::MAX_CLOCK_WAIT_MS;
    for runs in out.histories.values() {
        for b in runs.iter().flatten() {
            assert!(
                b.time <= out.clock_ms + bound,
                "block {} stamped {} ms, {} ms past the honest clock",
                b.height,
                b.time,
                b.time - out.clock_ms
            );
        }
    }
    assert!(
        out.honest_blocks.is_empty(),
        "honest validators blocked each other: {:?}",
        out.honest_blocks
    );

    // Exactly once: every applied transaction is one of the workload, applied once; any
    // other outcome is a resubmission refused as a replay.
    let mut applied: BTreeMap<Hash32, usize> = BTreeMap::new();
    for (height, rs) in &receipts {
        for (id, code) in rs {
            assert!(
                w.index.contains_key(id),
                "unknown transaction applied at {height}"
            );
            match code {
                ResultCode::Ok => *applied.entry(*id).or_insert(0) += 1,
                ResultCode::NonceReused => {}
                other => panic!("transaction refused at {height}: {other}"),
            }
        }
    }
    assert!(
        applied.values().all(|n| *n == 1),
        "a transaction applied twice"
    );

    // Every honest validator's final state: the whole workload applied (each sender's
    // nonce), every transaction acknowledged final reflected, supply conserved, nothing
    // left held, and the balances the workload implies.
    for (v, (_, state)) in &out.finals {
        let store = mem_store(state);
        let reader = StateReader(&store);
        for (key, n) in &w.nonces {
            assert_eq!(reader.next_nonce(key), *n, "validator {v}: nonces");
        }
        for id in applied.keys() {
            let (sender, nonce) = &w.index[id];
            assert!(
                reader.next_nonce(sender) > *nonce,
                "validator {v}: a transaction acknowledged final is missing"
            );
        }
        let hs = holdings(state);
        for inst in [USD, UST_2034] {
            let record = reader.instrument(inst).unwrap();
            let balances: Vec<u128> = hs
                .iter()
                .filter(|((_, i), _)| *i == inst)
                .map(|(_, h)| h.balance)
                .collect();
            assert_eq!(
                record.total_supply,
                balances.iter().sum::<u128>(),
                "validator {v}: supply of {inst}"
            );
            let genesis_supply: i128 = demo::MEMBERS
                .iter()
                .map(|m| genesis_balance(m.account, inst))
                .sum();
            assert_eq!(
                i128::try_from(record.total_supply).unwrap(),
                genesis_supply,
                "validator {v}: supply of {inst} changed"
            );
            assert_eq!(
                record.holder_count,
                balances.iter().filter(|b| **b > 0).count() as u64,
                "validator {v}: holders of {inst}"
            );
        }
        for ((account, inst), h) in &hs {
            assert_eq!(h.held, 0, "validator {v}: units still held");
            assert!(h.frozen <= h.balance);
            let expected = genesis_balance(*account, *inst)
                + w.deltas.get(&(*account, *inst)).copied().unwrap_or(0);
            assert_eq!(
                i128::try_from(h.balance).unwrap(),
                expected,
                "validator {v}: balance of {account:?} in {inst}"
            );
        }
        for ((account, inst), delta) in &w.deltas {
            if genesis_balance(*account, *inst) + delta != 0 {
                assert!(
                    hs.contains_key(&(*account, *inst)),
                    "validator {v}: holding"
                );
            }
        }
    }
}

/// Every reported history (per honest validator, per incarnation) as (height, digest, root).
fn roots(out: &Outcome) -> Vec<Vec<(u64, Hash32, Hash32)>> {
    out.histories
        .values()
        .flatten()
        .map(|h| h.iter().map(|b| (b.height, b.digest, b.root)).collect())
        .collect()
}

/// Per restart, (validator, last height before, first height reported after): shows how
/// far back a restart resumed (the block it reports first is the one storage kept).
fn resumed(out: &Outcome) -> Vec<(usize, u64, u64)> {
    let mut r = Vec::new();
    for (v, incarnations) in &out.histories {
        for pair in incarnations.windows(2) {
            let before = pair[0].last().map_or(0, |b| b.height);
            let after = pair[1].first().map_or(0, |b| b.height);
            r.push((*v, before, after));
        }
    }
    r
}

// ---------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------

fn seeds() -> Vec<u64> {
    if let Some(seed) = std::env::var("TALLY_SIM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        return vec![seed];
    }
    let count: u64 = std::env::var("TALLY_SIM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100);
    (0..count).collect()
}

/// Runs and checks every sweep seed of `family`; reports every failing seed, replayable.
fn sweep(family: Family) {
    let mut failed = Vec::new();
    let mut ran = 0;
    for seed in seeds() {
        let s = Scenario::from_seed(seed);
        if s.family() != family {
            continue;
        }
        ran += 1;
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let out = run(&s);
            check(&s, &out);
            out
        }));
        match result {
            Ok(out) => eprintln!(
                "seed {seed}: ok — {} validators, {:?}; healed at {}, final {:?}, resumed at \
                 {:?}, {} storage panics, {} forged blocks, blocked {:?}",
                s.validators,
                s.fault,
                out.healed_at,
                out.finals.values().map(|(h, _)| *h).collect::<Vec<_>>(),
                resumed(&out),
                out.storage_panics,
                out.forged.len(),
                out.byzantine_blocked,
            ),
            Err(_) => {
                eprintln!(
                    "seed {seed} FAILED ({s:?}); replay: TALLY_SIM_SEED={seed} cargo test -p \
                     tally-node --test simulation sweep"
                );
                failed.push(seed);
            }
        }
    }
    eprintln!("{family:?}: {ran} seeds run, {} failed", failed.len());
    assert!(failed.is_empty(), "failing seeds: {failed:?}");
}

#[test]
fn sweep_crashes_and_storage_faults() {
    sweep(Family::CrashAndStorage);
}

#[test]
fn sweep_network_faults() {
    sweep(Family::Network);
}

#[test]
fn sweep_byzantine_validators() {
    sweep(Family::Byzantine);
}

#[test]
fn four_validators_without_faults() {
    let s = Scenario {
        seed: 1,
        validators: 4,
        txs: 40,
        fault: Fault::None,
    };
    let out = run(&s);
    check(&s, &out);
    let w = workload(s.seed, s.txs);
    assert!(w.kinds.iter().all(|k| *k > 0), "{:?}", w.kinds);
}

#[test]
fn seven_validators_without_faults() {
    let s = Scenario {
        seed: 2,
        validators: 7,
        txs: 30,
        fault: Fault::None,
    };
    check(&s, &run(&s));
}

#[test]
fn same_seed_same_run() {
    let s = Scenario {
        seed: 5,
        validators: 4,
        txs: 12,
        fault: Fault::None,
    };
    assert_eq!(roots(&run(&s)), roots(&run(&s)));
}

#[test]
fn same_seed_same_run_under_faults() {
    // Storage errors (caught panics, every validator restarted) and a power loss (two
    // runtimes, torn writes) replay exactly, histories and roots included.
    for seed in [1, 2] {
        let s = Scenario::from_seed(seed);
        assert!(matches!(
            s.fault,
            Fault::StorageErrors { .. } | Fault::PowerLoss { .. }
        ));
        let (a, b) = (run(&s), run(&s));
        assert_eq!(roots(&a), roots(&b), "seed {seed}");
        assert_eq!(a.storage_panics, b.storage_panics);
    }
}
