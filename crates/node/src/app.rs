//! The ledger as a `commonware-glue` stateful application.
//!
//! Consensus hands us candidate blocks; we execute them with the pure ledger against the
//! [StateCache] (synchronously, in memory, scans included), then replay the resulting
//! writes into the QMDB batch glue gives us and merkleize it, so every block commits to
//! the authenticated state root. A block whose transactions do not verify, whose time is
//! out of bounds, or whose roots differ from ours is refused.

use crate::block::{
    ConsensusContext, Digest, LedgerBlock, MAX_BLOCK_TIME_STEP_MS, MAX_BLOCK_TX_BYTES,
    MAX_BLOCK_TXS, MAX_CLOCK_AHEAD_MS, MAX_CLOCK_WAIT_MS,
};
use crate::budget::{BlockBudget, DrainRate, MAX_BLOCK_WORK};
use crate::mempool::Mempool;
use crate::state_cache::{ForkView, StateCache, Writes};
use commonware_consensus::Heightable as _;
use commonware_consensus::marshal::ancestry::Ancestry;
use commonware_consensus::simplex::scheme::bls12381_threshold::vrf;
use commonware_cryptography::bls12381::primitives::variant::MinSig;
use commonware_cryptography::{Digestible as _, Sha256};
use commonware_glue::stateful::db::{DatabaseSet, Merkleized as _, Shared, Unmerkleized as _};
use commonware_glue::stateful::{Application, Finality, Input, Proposed};
use commonware_parallel::Sequential;
use commonware_runtime::{Clock, Spawner};
use commonware_storage::Context as StorageContext;
use commonware_storage::mmr;
use commonware_storage::qmdb::current::ordered::variable::Db as CurrentOrderedVarDb;
use commonware_storage::qmdb::sync::Target;
use commonware_storage::translator::EightCap;
use commonware_utils::non_empty_range;
use futures::StreamExt as _;
use rand_core::CryptoRng;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use tally_ledger::{BlockEnv, BlockOutcome, Genesis, Ledger};
use tally_types::{Hash32, SignedTx, Timestamp, VerifiedTx};

/// The consensus signing scheme: BLS12-381 threshold signatures (one compact certificate
/// per finalized block, verifiable with the network's group key).
pub type Scheme = vrf::Scheme<crate::block::PublicKey, MinSig>;
/// Merkle family of the authenticated store.
pub type Family = mmr::Family;
/// The authenticated state store: an ordered QMDB over the ledger's byte keys and values.
pub type StateDb<E> =
    CurrentOrderedVarDb<Family, E, Vec<u8>, Vec<u8>, Sha256, EightCap, 32, Sequential>;
/// The database set glue manages for us.
pub type Databases<E> = Shared<StateDb<E>>;
type Unmerk<E> = <Databases<E> as DatabaseSet<E>>::Unmerkleized;
type Merk<E> = <Databases<E> as DatabaseSet<E>>::Merkleized;

fn hash32(d: &Digest) -> Hash32 {
    Hash32(d.0)
}

/// What every clone of the application shares and never changes.
struct Fixed {
    ledger: Ledger,
    genesis: Genesis,
    threads: usize,
}

/// What every clone of the application shares, behind one short-held lock: bookkeeping
/// only. No execution, verification or merkleization runs under it; readers take a
/// snapshot under it and read without it.
pub struct Inner {
    cache: StateCache,
    /// Executed, not yet finalized blocks.
    outcomes: BTreeMap<Hash32, Executed>,
    /// The last finalized blocks' heights, roots and outcomes (newest last).
    finalized: std::collections::VecDeque<Arc<FinalizedBlock>>,
    /// Receipts and events held by `finalized` ([FinalizedBlock::weight]).
    finalized_weight: usize,
    /// Every newly finalized block, for event streams.
    announce: tokio::sync::broadcast::Sender<Arc<FinalizedBlock>>,
    /// Test-only Byzantine proposer (see [AppState::forge_proposals]); `None` in a node.
    forgery: Option<Forgery>,
    /// How many transactions this validator's proposals carry (learned from processing).
    budget: BlockBudget,
    /// How fast finalized blocks drain the mempool (admission's limit follows it).
    drain: DrainRate,
    /// Blocks refused as a verifier, by reason (for `/metrics`).
    refused: BTreeMap<&'static str, u64>,
}

/// A block executed here and not yet finalized.
struct Executed {
    height: u64,
    outcome: BlockOutcome,
    /// The distinct senders of its transactions (their used nonces leave the mempool on
    /// finalization).
    senders: Vec<tally_types::PublicKey>,
    /// Units of work of its transactions (what the drain rate counts).
    work: usize,
}

/// What a test-only Byzantine proposer adds to its blocks, and the blocks it proposed.
struct Forgery {
    tx: Vec<u8>,
    blocks: Vec<Hash32>,
    /// Whether the next forged block is stamped in the future (else it carries `tx`).
    future_next: bool,
}

/// A finalized block as the node reports it.
#[derive(Clone, Debug)]
pub struct FinalizedBlock {
    /// Height.
    pub height: u64,
    /// Digest.
    pub digest: Hash32,
    /// Parent digest.
    pub parent: Hash32,
    /// State root after it.
    pub state_root: Hash32,
    /// Block time.
    pub time: Timestamp,
    /// Receipts and events.
    pub outcome: BlockOutcome,
}

impl FinalizedBlock {
    /// What the block weighs in the in-memory history: one per receipt and per event
    /// (at least one, so even empty blocks count).
    pub fn weight(&self) -> usize {
        let o = &self.outcome;
        let events: usize = o.receipts.iter().map(|r| r.events.len()).sum();
        (o.receipts.len() + events + o.block_events.len()).max(1)
    }
}

/// Longest a proposer waits for transactions before proposing an empty block.
const IDLE_BLOCK_INTERVAL: std::time::Duration = std::time::Duration::from_millis(250);
/// How often a waiting proposer looks at the mempool.
const IDLE_POLL: std::time::Duration = std::time::Duration::from_millis(5);

/// Finalized blocks kept in memory for queries.
const FINALIZED_HISTORY: usize = 1_024;
/// Receipts and events those blocks may hold in all (the newest block is always kept):
/// blocks of institution batches carry tens of thousands each, and memory must stay
/// bounded under any load (a few hundred MiB at this bound).
const FINALIZED_HISTORY_WEIGHT: usize = 2_000_000;
/// Finalized blocks a slow event-stream subscriber may fall behind before it is told it
/// missed some.
const ANNOUNCE_BUFFER: usize = 1_024;

/// Handle to the application state shared by the node's components.
#[derive(Clone)]
pub struct AppState {
    fixed: Arc<Fixed>,
    inner: Arc<Mutex<Inner>>,
}

/// The finalized state as the API reads it: a snapshot, read without any lock.
pub type Snapshot = ForkView;

impl AppState {
    /// State for a chain starting from `genesis` (its block 0 is `genesis_block`).
    pub fn new(
        ledger: Ledger,
        genesis: Genesis,
        genesis_block: &LedgerBlock,
        threads: usize,
    ) -> Self {
        let cache = StateCache::new(BTreeMap::new(), hash32(&genesis_block.digest()), 0);
        Self {
            fixed: Arc::new(Fixed {
                ledger,
                genesis,
                threads,
            }),
            inner: Arc::new(Mutex::new(Inner {
                cache,
                outcomes: BTreeMap::new(),
                finalized: std::collections::VecDeque::new(),
                finalized_weight: 0,
                announce: tokio::sync::broadcast::channel(ANNOUNCE_BUFFER).0,
                forgery: None,
                budget: BlockBudget::default(),
                drain: DrainRate::default(),
                refused: BTreeMap::new(),
            })),
        }
    }

    /// Replaces the (empty) state with what storage holds: the state after the finalized
    /// `block`. Called once at startup, before any block reaches the application.
    pub fn restore(&self, base: BTreeMap<Vec<u8>, Vec<u8>>, block: &LedgerBlock) {
        let mut inner = self.lock();
        let digest = hash32(&block.digest());
        inner.cache = StateCache::new(base, digest, block.height.get());
        inner.outcomes.clear();
        // Receipts of earlier blocks are not kept across restarts (see docs/node.md); the
        // block itself is reported as the finalized tip.
        inner.finalized = std::collections::VecDeque::from([Arc::new(FinalizedBlock {
            height: block.height.get(),
            digest,
            parent: hash32(&block.parent),
            state_root: hash32(&block.state_root),
            time: block.time,
            outcome: BlockOutcome::default(),
        })]);
        inner.finalized_weight = inner.finalized.iter().map(|b| b.weight()).sum();
    }

    /// The one lock policy of the node's state: it guards bookkeeping only, and every
    /// update under it either completes or panics before changing anything, so a poisoned
    /// lock means a broken invariant. The node stops.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().expect("application state lock poisoned")
    }

    /// Threads used for batch signature verification.
    pub fn threads(&self) -> usize {
        self.fixed.threads
    }

    /// The latest finalized block, if any beyond genesis.
    pub fn last_finalized(&self) -> Option<Arc<FinalizedBlock>> {
        self.lock().finalized.back().cloned()
    }

    /// Finalized blocks still in memory, oldest first.
    pub fn finalized_blocks(&self) -> Vec<Arc<FinalizedBlock>> {
        self.lock().finalized.iter().cloned().collect()
    }

    /// A finalized block still in memory, by height.
    pub fn finalized_at(&self, height: u64) -> Option<Arc<FinalizedBlock>> {
        let inner = self.lock();
        let i = inner
            .finalized
            .binary_search_by_key(&height, |b| b.height)
            .ok()?;
        Some(inner.finalized[i].clone())
    }

    /// Every block finalized from now on.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Arc<FinalizedBlock>> {
        self.lock().announce.subscribe()
    }

    /// A snapshot of the finalized state (taken under the lock in O(1), read without it).
    pub fn snapshot(&self) -> Snapshot {
        self.lock().cache.snapshot()
    }

    /// Runs `f` over a snapshot of the finalized state; the lock is held only to take
    /// the snapshot, so `f` never delays execution or finalization.
    pub fn read<R>(&self, f: impl FnOnce(&tally_ledger::StateReader<'_, Snapshot>) -> R) -> R {
        let snapshot = self.snapshot();
        f(&tally_ledger::StateReader(&snapshot))
    }

    /// The receipt of a transaction in a finalized block still in memory, with the
    /// block's height; searched newest first, outside the lock.
    pub fn find_receipt(&self, id: &Hash32) -> Option<(u64, tally_ledger::Receipt)> {
        self.finalized_blocks().iter().rev().find_map(|b| {
            b.outcome
                .receipts
                .iter()
                .find(|r| r.tx_id == *id)
                .map(|r| (b.height, r.clone()))
        })
    }

    /// A finalized block still in memory, by height (without its receipts).
    pub fn finalized_block(&self, height: u64) -> Option<(Hash32, Hash32, Timestamp, usize)> {
        self.finalized_at(height)
            .map(|b| (b.digest, b.state_root, b.time, b.outcome.receipts.len()))
    }

    /// Transaction ids and result codes of a finalized block still in memory.
    pub fn finalized_block_receipts(
        &self,
        height: u64,
    ) -> Option<Vec<(Hash32, tally_types::ResultCode)>> {
        self.finalized_at(height).map(|b| {
            b.outcome
                .receipts
                .iter()
                .map(|r| (r.tx_id, r.code))
                .collect()
        })
    }

    /// A copy of the whole finalized ledger state (for tests and tools: it copies
    /// everything).
    pub fn finalized_state(&self) -> BTreeMap<Vec<u8>, Vec<u8>> {
        use tally_ledger::Store as _;
        self.snapshot()
            .scan(&[], &[0xff; 64], usize::MAX)
            .into_iter()
            .collect()
    }

    /// How many transactions the mempool may hold before the API refuses more as
    /// `Overloaded` (follows the measured drain rate; see [crate::budget]).
    pub fn admission_limit(&self) -> usize {
        let inner = self.lock();
        inner
            .drain
            .admission_limit(inner.budget.max_work(MAX_BLOCK_WORK))
    }

    /// Pipeline gauges for `/metrics`: the block budget, drain rate, live candidates,
    /// finalized layers not yet folded, and blocks refused as a verifier by reason.
    pub fn pipeline_metrics(&self) -> PipelineMetrics {
        let inner = self.lock();
        PipelineMetrics {
            block_budget_txs: inner.budget.max_work(MAX_BLOCK_WORK),
            cost_per_tx_ns: u64::try_from(inner.budget.cost_per_unit().as_nanos())
                .unwrap_or(u64::MAX),
            drain_per_s: inner.drain.per_s(),
            admission_limit: inner
                .drain
                .admission_limit(inner.budget.max_work(MAX_BLOCK_WORK)),
            candidates: inner.cache.candidates(),
            unfolded_layers: inner.cache.unfolded(),
            refused: inner.refused.iter().map(|(k, v)| (*k, *v)).collect(),
        }
    }

    /// Test-only fault, for the cluster simulation; a node never calls it. Makes this
    /// validator a Byzantine proposer, alternating two forgeries, and records every block
    /// it proposes from now on:
    /// - the block also carries the encoded transaction `tx`, appended *without* executing
    ///   it (the block's roots are those of the block without it). With a `tx` whose
    ///   signature does not verify and whose execution would be refused anyway (a nonce that
    ///   is not next), only signature re-verification tells such a block from a valid one;
    /// - the block is stamped `MAX_BLOCK_TIME_STEP_MS` after its parent, the largest step
    ///   the permanent rule allows, and executed at that time (otherwise valid): only the
    ///   voters' clocks tell it from an honest block.
    #[doc(hidden)]
    pub fn forge_proposals(&self, tx: Vec<u8>) {
        self.lock().forgery = Some(Forgery {
            tx,
            blocks: Vec::new(),
            future_next: false,
        });
    }

    /// Digests of the blocks proposed since [AppState::forge_proposals].
    #[doc(hidden)]
    pub fn forged_proposals(&self) -> Vec<Hash32> {
        self.lock()
            .forgery
            .as_ref()
            .map_or_else(Vec::new, |f| f.blocks.clone())
    }

    /// Records an executed block (proposed or verified here).
    fn record(&self, digest: Hash32, parent: Hash32, writes: Writes, executed: Executed) -> bool {
        let mut inner = self.lock();
        if inner.cache.insert(digest, parent, writes).is_err() {
            return false; // its parent was finalized away meanwhile: a dead fork
        }
        inner.outcomes.insert(digest, executed);
        true
    }
}

/// Pipeline gauges (see [AppState::pipeline_metrics]).
#[derive(Clone, Debug)]
pub struct PipelineMetrics {
    /// Transactions this validator's next proposal may carry.
    pub block_budget_txs: usize,
    /// Learned processing cost per transaction, in nanoseconds.
    pub cost_per_tx_ns: u64,
    /// Transactions finalized per second (recent average).
    pub drain_per_s: u64,
    /// Mempool size above which the API refuses new transactions as `Overloaded`.
    pub admission_limit: usize,
    /// Executed blocks not yet finalized.
    pub candidates: usize,
    /// Finalized layers not yet folded into the base state.
    pub unfolded_layers: usize,
    /// Blocks refused as a verifier, by reason.
    pub refused: Vec<(&'static str, u64)>,
}

/// Mempool handle given to the proposer.
#[derive(Clone)]
pub struct MempoolHandle(pub Arc<Mutex<Mempool>>);

impl MempoolHandle {
    /// The pool. Its invariants hold between calls; a panic elsewhere cannot break them
    /// half-way, so a poisoned lock is still usable.
    pub fn lock(&self) -> MutexGuard<'_, Mempool> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Admits encoded transactions received at `now`: cheap checks under the lock,
    /// signature verification (over `threads` threads) without it, so a proposer never
    /// waits on it. One result per input.
    pub fn admit<R: CryptoRng>(
        &self,
        now: Timestamp,
        raw: &[Vec<u8>],
        threads: usize,
        rng: &mut R,
    ) -> Vec<Result<Hash32, crate::mempool::AdmitError>> {
        self.admit_checked(now, raw, threads, rng, None)
    }

    /// [MempoolHandle::admit] for the API: refuses as `Overloaded` (before any decoding)
    /// once the pool holds more than `state`'s admission limit, and refuses (before
    /// verification) transactions whose nonce the finalized state has already used or
    /// that lie too far ahead.
    pub fn admit_checked<R: CryptoRng>(
        &self,
        now: Timestamp,
        raw: &[Vec<u8>],
        threads: usize,
        rng: &mut R,
        state: Option<&AppState>,
    ) -> Vec<Result<Hash32, crate::mempool::AdmitError>> {
        let limit = state.map(AppState::admission_limit);
        let (mut prepared, chain) = {
            let pool = self.lock();
            (pool.prepare_limited(now, raw, limit), pool.chain().clone())
        };
        if let Some(state) = state {
            let snapshot = state.snapshot();
            let reader = tally_ledger::StateReader(&snapshot);
            prepared.refuse_known_bad(|k| reader.key_owner(k).map(|_| reader.next_nonce(k)));
            // A proof under a key the registry does not hold would cost a pairing only to
            // be refused by the ledger: refuse it first.
            prepared.refuse_foreign_proofs(|p| {
                reader.remote_ledger(&p.chain).is_some_and(|r| {
                    !r.suspended && r.group_key == p.group_key && r.namespace == p.namespace
                })
            });
        }
        let verified = tally_types::verify_batch_with(
            &chain,
            prepared.take_candidates(),
            threads,
            rng,
            crate::remote::verifier(),
        );
        self.lock().finish(prepared, verified)
    }

    /// Decodes and verifies a block's transactions. Those waiting in the mempool byte for
    /// byte (same wire digest) were verified at admission and are neither decoded nor
    /// verified again; the rest (a proposer may be Byzantine) are decoded and verified in
    /// one batch over `threads` threads.
    fn verify_block<R: CryptoRng>(
        &self,
        chain: &tally_types::ChainId,
        raw: &[Vec<u8>],
        threads: usize,
        rng: &mut R,
    ) -> Result<Vec<VerifiedTx>, Invalid> {
        let wires: Vec<Hash32> = raw.iter().map(|b| crate::mempool::wire_digest(b)).collect();
        let mut known: Vec<Option<VerifiedTx>> = {
            let pool = self.lock();
            wires.iter().map(|w| pool.verified(w)).collect()
        };
        let unknown: Vec<SignedTx> = raw
            .iter()
            .zip(&known)
            .filter(|(_, k)| k.is_none())
            .map(|(b, _)| SignedTx::decode_bounded(b).map_err(|_| Invalid::Decode))
            .collect::<Result<_, _>>()?;
        let mut fresh =
            tally_types::verify_batch_with(chain, unknown, threads, rng, crate::remote::verifier())
                .into_iter();
        let txs: Vec<VerifiedTx> = known
            .iter_mut()
            .map(|k| match k.take() {
                Some(tx) => Ok(tx),
                None => fresh
                    .next()
                    .ok_or(Invalid::Signature)?
                    .map_err(|_| Invalid::Signature),
            })
            .collect::<Result<_, _>>()?;
        // Each remote proof cost a pairing check unless cached: a block carries few.
        let proofs: usize = txs.iter().map(|t| t.proven().len()).sum();
        if proofs > tally_types::limits::MAX_REMOTE_PROOFS_PER_BLOCK {
            return Err(Invalid::Proofs);
        }
        Ok(txs)
    }
}

/// The application glue drives.
#[derive(Clone)]
pub struct LedgerApp {
    genesis_block: LedgerBlock,
    state: AppState,
    mempool: MempoolHandle,
}

impl LedgerApp {
    /// An application over shared state, removing finalized transactions from `mempool`.
    pub fn new(genesis_block: LedgerBlock, state: AppState, mempool: MempoolHandle) -> Self {
        Self {
            genesis_block,
            state,
            mempool,
        }
    }
}

/// Why a candidate block is refused.
#[derive(Clone, Copy, Debug)]
enum Invalid {
    Time,
    Future,
    Height,
    Decode,
    Signature,
    Parent,
    Execution,
    Root,
    Proofs,
}

impl Invalid {
    fn name(self) -> &'static str {
        match self {
            Self::Time => "time",
            Self::Future => "ahead_of_clock",
            Self::Height => "height",
            Self::Decode => "decode",
            Self::Signature => "signature",
            Self::Parent => "unknown_parent",
            Self::Execution => "execution",
            Self::Root => "state_root",
            Self::Proofs => "too_many_remote_proofs",
        }
    }
}

/// Executes `txs` at `height`/`time` on `view` (the state of its parent), with no lock
/// held; returns the writes.
fn execute(
    fixed: &Fixed,
    mut view: ForkView,
    height: u64,
    time: Timestamp,
    txs: &[VerifiedTx],
) -> Result<(Writes, BlockOutcome), Invalid> {
    if height == 1 {
        // The ledger's genesis state is written with the first block (block 0 commits
        // to the empty authenticated store).
        fixed
            .ledger
            .init_genesis(&mut view, &fixed.genesis)
            .map_err(|_| Invalid::Execution)?;
    }
    let outcome = fixed
        .ledger
        .apply_block(&mut view, BlockEnv { height, time }, txs)
        .map_err(|_| Invalid::Execution)?;
    Ok((view.into_writes(), outcome))
}

/// Drops the oldest finalized blocks until at most `max_blocks` remain and, past the
/// newest one, they weigh at most `max_weight` ([FinalizedBlock::weight]); `weight` is
/// kept equal to the sum of what remains.
fn trim_history(
    history: &mut std::collections::VecDeque<Arc<FinalizedBlock>>,
    weight: &mut usize,
    max_blocks: usize,
    max_weight: usize,
) {
    while history.len() > max_blocks || (history.len() > 1 && *weight > max_weight) {
        let dropped = history.pop_front().expect("more than one block held");
        *weight -= dropped.weight();
    }
    assert!(
        history.len() <= max_blocks,
        "finalized history out of bounds"
    );
    debug_assert_eq!(*weight, history.iter().map(|b| b.weight()).sum::<usize>());
}

/// Units of work of a block's transactions ([tally_types::Transaction::work]).
fn work(txs: &[VerifiedTx]) -> usize {
    txs.iter().map(|t| t.tx().work()).sum()
}

/// The distinct senders of `txs`.
fn senders(txs: &[VerifiedTx]) -> Vec<tally_types::PublicKey> {
    let set: std::collections::BTreeSet<&tally_types::PublicKey> =
        txs.iter().map(|t| &t.tx().sender).collect();
    set.into_iter().cloned().collect()
}

/// Metadata committed with each block's state: its height, so a restarted node knows
/// which block the stored state reflects.
fn height_metadata(height: u64) -> Vec<u8> {
    height.to_be_bytes().to_vec()
}

/// The block height recorded as state metadata, if any.
pub fn metadata_height(metadata: Option<&[u8]>) -> Option<u64> {
    metadata
        .and_then(|m| <[u8; 8]>::try_from(m).ok())
        .map(u64::from_be_bytes)
}

async fn commit<E: Spawner + StorageContext>(
    batch: Unmerk<E>,
    height: u64,
    writes: &Writes,
) -> Merk<E> {
    let mut batch = batch.with_metadata(height_metadata(height));
    for (k, v) in writes {
        batch = batch.write(k.clone(), v.clone());
    }
    batch
        .merkleize()
        .await
        .expect("merkleizing the state batch")
}

/// How long a validator whose clock reads `now_ms` must wait before it may vote for a
/// candidate block stamped `time`: 0 within [MAX_CLOCK_AHEAD_MS] of its clock, the rest
/// when it is at most [MAX_CLOCK_WAIT_MS] further, `Err` beyond (no vote).
fn ahead_of_clock(now_ms: u64, time: Timestamp) -> Result<u64, ()> {
    let early = time
        .0
        .saturating_sub(now_ms.saturating_add(MAX_CLOCK_AHEAD_MS));
    if early > MAX_CLOCK_WAIT_MS {
        return Err(());
    }
    debug_assert!(time.0 <= now_ms.saturating_add(MAX_CLOCK_AHEAD_MS + MAX_CLOCK_WAIT_MS));
    Ok(early)
}

/// Milliseconds of `runtime`'s clock (wall time in a node, simulated time in tests).
fn clock_ms<E: Clock>(runtime: &E) -> u64 {
    runtime
        .current()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Runs `job` on the runtime's blocking pool, off the async workers that carry voting,
/// networking and the API. `None` if the task failed.
async fn off_executor<E: Spawner, T: Send + 'static>(
    runtime: &E,
    job: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    runtime
        .child("execute")
        .shared(true)
        .spawn(move |_| async move { job() })
        .await
        .ok()
}

impl<E: Spawner + StorageContext + Clock + CryptoRng> Application<E> for LedgerApp {
    type SigningScheme = Scheme;
    type Context = ConsensusContext;
    type Block = LedgerBlock;
    type Databases = Databases<E>;
    type Captured = ();
    type Provider = MempoolHandle;
    type Input = ();

    fn sync_targets(block: &LedgerBlock) -> Target<Family, Digest> {
        Target::new(block.ops_root, block.range.clone())
    }

    async fn genesis(&mut self) -> LedgerBlock {
        self.genesis_block.clone()
    }

    async fn propose(
        &mut self,
        (runtime, consensus): (E, ConsensusContext),
        mut ancestry: impl Ancestry<LedgerBlock>,
        batches: Unmerk<E>,
        input: Input<(), MempoolHandle>,
    ) -> Option<Proposed<Self, E>> {
        let parent = ancestry.next().await?;
        let parent = parent.inner();
        let parent_digest = hash32(&parent.digest());
        let now_ms = crate::clock::ledger_ms(clock_ms(&runtime));
        let mut time =
            Timestamp(now_ms.clamp(parent.time.0, parent.time.0 + MAX_BLOCK_TIME_STEP_MS));
        // Test-only Byzantine proposer: every other forged block is stamped in the future.
        let forge_future = self.state.lock().forgery.as_mut().is_some_and(|f| {
            f.future_next = !f.future_next;
            !f.future_next
        });
        if forge_future {
            time = Timestamp(parent.time.0 + MAX_BLOCK_TIME_STEP_MS);
        }
        let height = parent.height().get() + 1;
        // Transactions already in the unfinalized blocks this proposal extends must not be
        // included again (one refused there keeps its nonce free in the parent state).
        let (in_flight, max_work) = {
            let shared = self.state.lock();
            let in_flight: std::collections::BTreeSet<Hash32> = shared
                .cache
                .pending_chain(&parent_digest)
                .iter()
                .filter_map(|d| shared.outcomes.get(d))
                .flat_map(|e| e.outcome.receipts.iter().map(|r| r.tx_id))
                .collect();
            (in_flight, shared.budget.max_work(MAX_BLOCK_WORK))
        };
        // With nothing to include, wait (briefly, well inside the leader timeout) for
        // transactions before proposing an empty block: an idle chain then makes a few
        // blocks a second instead of dozens, and a transaction arriving meanwhile is still
        // proposed within one poll interval.
        // Lifecycle work (a coupon paid across blocks, an auction due) must not wait, and
        // neither may a proposal extending blocks that carry unfinalized transactions:
        // glue finalizes nothing while a proposal is being built, so idling here would
        // hold back their finality by up to the whole interval.
        let lifecycle = self
            .state
            .read(|r| tally_ledger::Ledger::lifecycle_pending(r.0, time));
        let idle_until = if lifecycle || !in_flight.is_empty() {
            runtime.current()
        } else {
            runtime.current() + IDLE_BLOCK_INTERVAL
        };
        let (view, selected) = loop {
            let view = self.state.lock().cache.view(&parent_digest).ok()?;
            let selected = {
                let reader = tally_ledger::StateReader(&view);
                input.provider.lock().select_ready(
                    MAX_BLOCK_TXS,
                    max_work,
                    MAX_BLOCK_TX_BYTES,
                    time,
                    &in_flight,
                    |k| reader.next_nonce(k),
                )
            };
            if !selected.is_empty() || runtime.current() >= idle_until {
                break (view, selected);
            }
            drop(view); // never hold the base across a wait: it keeps finalization from folding
            runtime.sleep(IDLE_POLL).await;
        };
        // Execution runs off the async workers, on a view that owns what it reads.
        let fixed = Arc::clone(&self.state.fixed);
        let started = runtime.current();
        let (raw, txs, writes, outcome) = off_executor(&runtime, move || {
            let txs: Vec<VerifiedTx> = selected.iter().map(|a| a.tx.clone()).collect();
            let raw: Vec<Vec<u8>> = selected.iter().map(|a| a.raw.clone()).collect();
            execute(&fixed, view, height, time, &txs).map(|(w, o)| (raw, txs, w, o))
        })
        .await?
        .ok()?;
        let merkleized = commit::<E>(batches, height, &writes).await;
        let block_work = work(&txs);
        let elapsed = runtime
            .current()
            .duration_since(started)
            .unwrap_or_default();
        let mut block = LedgerBlock {
            context: consensus,
            parent: parent.digest(),
            height: parent.height().next(),
            time,
            txs: raw,
            state_root: merkleized.root(),
            ops_root: merkleized.ops_root(),
            range: non_empty_range!(merkleized.sync_boundary(), merkleized.bounds().tip.size),
        };
        {
            let mut shared = self.state.lock();
            if let Some(forgery) = &shared.forgery
                && !forge_future
            {
                block.txs.push(forgery.tx.clone()); // test-only Byzantine proposer
            }
            // A proposer skips verification: its cost per unit of work is a lower bound.
            shared.budget.observe(block_work, elapsed);
        }
        let digest = hash32(&block.digest());
        if let Some(forgery) = &mut self.state.lock().forgery {
            forgery.blocks.push(digest);
        }
        let executed = Executed {
            height,
            outcome,
            senders: senders(&txs),
            work: block_work,
        };
        if !self.state.record(digest, parent_digest, writes, executed) {
            return None;
        }
        Some(Proposed { block, merkleized })
    }

    async fn process(
        &mut self,
        (mut runtime, _): (E, ConsensusContext),
        mut ancestry: impl Ancestry<LedgerBlock>,
        batches: Unmerk<E>,
        finality: Finality,
    ) -> Option<Merk<E>> {
        let block = ancestry.next().await?;
        let parent = ancestry.next().await?;
        let (block, parent) = (block.inner().clone(), parent.inner().clone());
        let digest = hash32(&block.digest());
        let parent_digest = hash32(&block.parent);
        // Rules fixed by the block and its parent come first (permanent invalidity).
        let permanent = if block.height.get() != parent.height.get() + 1
            || block.parent != parent.digest()
        {
            Err(Invalid::Height)
        } else if block.time < parent.time || block.time.0 > parent.time.0 + MAX_BLOCK_TIME_STEP_MS
        {
            Err(Invalid::Time)
        } else {
            Ok(())
        };
        // Proposer-based time: no vote for a candidate stamped further ahead of this
        // validator's clock than the bound; up to MAX_CLOCK_WAIT_MS more is waited out. A
        // finalized block replays without looking at the clock.
        //
        // Glue asks that a clock-dependent rule only delay a candidate, never refuse it.
        // Waiting out the whole permitted step (10 min) would hold every competing
        // finalization for as long, so beyond the short wait this refuses instead. The
        // refusal is not remembered: the same block is processed again when asked again
        // (a vote, building on it, recovering it), by then against a later clock, and a
        // block the network finalized replays as `Finalized`, without the check. A
        // validator whose clock lags the others by more than the bound therefore refuses
        // their blocks only until its clock is corrected: liveness for it, never safety.
        let early = match (&permanent, finality) {
            (Ok(()), Finality::Candidate) => {
                ahead_of_clock(crate::clock::ledger_ms(clock_ms(&runtime)), block.time)
            }
            _ => Ok(0),
        };
        if let Ok(wait @ 1..) = early {
            runtime.sleep(std::time::Duration::from_millis(wait)).await;
        }
        let started = runtime.current();
        let checked = if let Err(why) = permanent {
            Err(why)
        } else if early.is_err() {
            Err(Invalid::Future)
        } else {
            let view = self.state.lock().cache.view(&parent_digest);
            match view {
                Err(_) => Err(Invalid::Parent),
                Ok(view) => {
                    // A proposer may be Byzantine: every signature is checked, here or at
                    // admission. Verification and execution run off the async workers.
                    let (fixed, mempool) = (Arc::clone(&self.state.fixed), self.mempool.clone());
                    let mut seed = [0u8; 32];
                    runtime.fill_bytes(&mut seed);
                    let (height, time) = (block.height.get(), block.time);
                    let raw = block.txs.clone();
                    off_executor(&runtime, move || {
                        let mut rng =
                            <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::from_seed(seed);
                        let chain = fixed.ledger.chain().clone();
                        let txs = mempool.verify_block(&chain, &raw, fixed.threads, &mut rng)?;
                        let (writes, outcome) = execute(&fixed, view, height, time, &txs)?;
                        Ok((writes, outcome, senders(&txs), work(&txs)))
                    })
                    .await
                    .unwrap_or(Err(Invalid::Execution))
                }
            }
        };
        let refuse = |why: Invalid| {
            tracing::warn!(height = block.height.get(), block = %digest, reason = why.name(), "refused a proposed block");
            *self.state.lock().refused.entry(why.name()).or_insert(0) += 1;
        };
        let (writes, outcome, senders, work) = match checked {
            Ok(done) => done,
            Err(why) => {
                refuse(why);
                return None;
            }
        };
        let merkleized = commit::<E>(batches, block.height.get(), &writes).await;
        if merkleized.root() != block.state_root {
            refuse(Invalid::Root);
            return None;
        }
        let elapsed = runtime
            .current()
            .duration_since(started)
            .unwrap_or_default();
        self.state.lock().budget.observe(work, elapsed);
        let executed = Executed {
            height: block.height.get(),
            outcome,
            senders,
            work,
        };
        if !self.state.record(digest, parent_digest, writes, executed) {
            return None;
        }
        Some(merkleized)
    }

    async fn capture(
        &mut self,
        _context: (E, ConsensusContext),
        _block: &LedgerBlock,
        _batches: &Merk<E>,
        _readers: <Databases<E> as DatabaseSet<E>>::Readers,
    ) {
    }

    async fn finalized(
        &mut self,
        (runtime, _): (E, ConsensusContext),
        block: &LedgerBlock,
        _captured: (),
        _readers: <Databases<E> as DatabaseSet<E>>::Readers,
    ) {
        let digest = hash32(&block.digest());
        let mut shared = self.state.lock();
        let (tip, tip_height) = shared.cache.tip();
        if tip == digest || block.height.get() <= tip_height {
            return; // already applied (finalized may repeat after a crash)
        }
        shared
            .cache
            .finalize(&digest)
            .expect("a finalized block was executed first");
        let executed = shared
            .outcomes
            .remove(&digest)
            .expect("outcome of an executed block");
        let height = executed.height;
        assert_eq!(height, block.height.get(), "outcome recorded at its height");
        shared.outcomes.retain(|_, e| e.height > height);
        let included: Vec<Hash32> = executed.outcome.receipts.iter().map(|r| r.tx_id).collect();
        let finalized = Arc::new(FinalizedBlock {
            height,
            digest,
            parent: hash32(&block.parent),
            state_root: hash32(&block.state_root),
            time: block.time,
            outcome: executed.outcome,
        });
        shared.finalized_weight += finalized.weight();
        shared.finalized.push_back(finalized.clone());
        // No subscriber is not an error.
        let _ = shared.announce.send(finalized);
        let Inner {
            finalized: history,
            finalized_weight,
            ..
        } = &mut *shared;
        trim_history(
            history,
            finalized_weight,
            FINALIZED_HISTORY,
            FINALIZED_HISTORY_WEIGHT,
        );
        shared.drain.observe(clock_ms(&runtime), executed.work);
        let snapshot = shared.cache.snapshot();
        drop(shared);
        // The mempool forgets what this block included, every transaction of its senders
        // whose nonce is now used, and everything that expired by the block's time.
        let reader = tally_ledger::StateReader(&snapshot);
        let next: Vec<(tally_types::PublicKey, u64)> = executed
            .senders
            .into_iter()
            .map(|k| {
                let n = reader.next_nonce(&k);
                (k, n)
            })
            .collect();
        drop(snapshot);
        let mut pool = self.mempool.lock();
        pool.remove(&included);
        for (key, n) in &next {
            pool.remove_used(key, *n);
        }
        pool.evict_expired(block.time);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mempool::MempoolConfig;
    use commonware_cryptography::Signer as _;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng as _;
    use tally_ledger::demo::{self, USD, member};
    use tally_types::codec::BoundedVec;
    use tally_types::model::Leg;
    use tally_types::ops::Transfer;
    use tally_types::{ChainId, Operation, Transaction};

    #[test]
    fn the_finalized_history_is_bounded_by_blocks_and_by_weight() {
        let block = |height: u64, receipts: usize| {
            let receipt = tally_ledger::Receipt {
                tx_id: Hash32([0; 32]),
                code: tally_types::ResultCode::Ok,
                failed_op: None,
                events: Vec::new(),
                batch: None,
            };
            Arc::new(FinalizedBlock {
                height,
                digest: Hash32([0; 32]),
                parent: Hash32([0; 32]),
                state_root: Hash32([0; 32]),
                time: Timestamp(0),
                outcome: BlockOutcome {
                    block_events: Vec::new(),
                    receipts: vec![receipt; receipts],
                },
            })
        };
        let (mut history, mut weight) = (std::collections::VecDeque::new(), 0usize);
        let mut push = |history: &mut std::collections::VecDeque<Arc<FinalizedBlock>>,
                        b: Arc<FinalizedBlock>| {
            weight += b.weight();
            history.push_back(b);
            trim_history(history, &mut weight, 4, 100);
            weight
        };
        for h in 1..=6 {
            push(&mut history, block(h, 10));
        }
        // At most four blocks.
        let heights: Vec<u64> = history.iter().map(|b| b.height).collect();
        assert_eq!(heights, vec![3, 4, 5, 6]);
        // A heavy block pushes the oldest out until the weight fits; a block heavier than
        // the bound is kept alone.
        assert_eq!(push(&mut history, block(7, 70)), 100);
        assert_eq!(
            history.iter().map(|b| b.height).collect::<Vec<_>>(),
            vec![4, 5, 6, 7]
        );
        assert_eq!(push(&mut history, block(8, 500)), 500);
        assert_eq!(
            history.iter().map(|b| b.height).collect::<Vec<_>>(),
            vec![8]
        );
        // Empty blocks still count one each.
        assert_eq!(block(9, 0).weight(), 1);
    }

    #[test]
    fn a_block_ahead_of_the_clock_is_waited_for_briefly_then_refused() {
        let now = 1_000_000;
        // Behind, at, and up to the bound ahead of the clock: vote now.
        assert_eq!(ahead_of_clock(now, Timestamp(now - 5_000)), Ok(0));
        assert_eq!(ahead_of_clock(now, Timestamp(now)), Ok(0));
        assert_eq!(
            ahead_of_clock(now, Timestamp(now + MAX_CLOCK_AHEAD_MS)),
            Ok(0)
        );
        // A little further: wait for the clock to reach it.
        assert_eq!(
            ahead_of_clock(now, Timestamp(now + MAX_CLOCK_AHEAD_MS + 1)),
            Ok(1)
        );
        let edge = now + MAX_CLOCK_AHEAD_MS + MAX_CLOCK_WAIT_MS;
        assert_eq!(ahead_of_clock(now, Timestamp(edge)), Ok(MAX_CLOCK_WAIT_MS));
        // Beyond: no vote, however far the permanent rule would allow.
        assert_eq!(ahead_of_clock(now, Timestamp(edge + 1)), Err(()));
        assert_eq!(
            ahead_of_clock(now, Timestamp(now + MAX_BLOCK_TIME_STEP_MS)),
            Err(())
        );
        assert_eq!(ahead_of_clock(u64::MAX, Timestamp(u64::MAX)), Ok(0));
    }

    fn transfer(nonce: u64) -> SignedTx {
        let (a, b) = (member("dealer-a"), member("dealer-b"));
        Transaction {
            sender: a.key().public_key(),
            nonce,
            expires_at: Timestamp(demo::GENESIS_MS + 60_000),
            operations: BoundedVec::new(vec![Operation::Transfer(Transfer {
                leg: Leg {
                    from: a.account,
                    to: b.account,
                    instrument: USD,
                    amount: 1,
                },
            })])
            .unwrap(),
        }
        .sign(&ChainId::new(demo::CHAIN).unwrap(), &[&a.key()])
    }

    #[test]
    fn block_transactions_skip_reverification_only_when_identical_to_admitted_ones() {
        let chain = ChainId::new(demo::CHAIN).unwrap();
        let pool = MempoolHandle(Arc::new(Mutex::new(Mempool::new(
            chain.clone(),
            MempoolConfig::default(),
        ))));
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let admitted = transfer(0);
        let now = Timestamp(demo::GENESIS_MS);
        assert!(pool.admit(now, &[admitted.to_bytes()], 1, &mut rng)[0].is_ok());

        // The admitted transaction and one never seen: both verify.
        let fresh = transfer(1);
        let raw = vec![admitted.to_bytes(), fresh.to_bytes()];
        let txs = pool.verify_block(&chain, &raw, 1, &mut rng).unwrap();
        assert_eq!(txs.len(), 2);
        assert_eq!(txs[0].signed(), &admitted);
        assert_eq!(txs[1].signed(), &fresh);

        // Same transaction (same id) as the admitted one but a forged approval: the
        // mempool's verification does not vouch for it, so it is checked and refused.
        let mut forged = admitted.to_bytes();
        let last = forged.len() - 1;
        forged[last] ^= 1;
        let decoded = SignedTx::decode_bounded(&forged).unwrap();
        assert_eq!(decoded.tx.id(&chain), admitted.tx.id(&chain));
        assert!(matches!(
            pool.verify_block(&chain, &[forged], 1, &mut rng),
            Err(Invalid::Signature)
        ));
        // Garbage is refused before any verification.
        assert!(matches!(
            pool.verify_block(&chain, &[vec![1, 2, 3]], 1, &mut rng),
            Err(Invalid::Decode)
        ));
    }
}
