//! Wiring one validator: p2p channels → block broadcast and backfill → archives → marshal
//! → glue `Stateful` (the ledger application over QMDB) → `Deferred` → simplex with BLS
//! threshold certificates. Generic over the runtime and the network, so the same code
//! runs on Tokio with authenticated TCP links and in the deterministic simulator.

use crate::app::{AppState, Databases, LedgerApp, MempoolHandle, Scheme, StateDb};
use crate::block::{Digest, LedgerBlock, PublicKey};
use commonware_broadcast::buffered;
use commonware_codec::RangeCfg;
use commonware_consensus::marshal::{
    self,
    core::Actor as MarshalActor,
    resolver::p2p as marshal_resolver,
    standard::{Deferred, Standard},
};
use commonware_consensus::simplex::{
    self, ForwardPolicy, SkipBudget, SkipPolicy,
    elector::{Random, RandomVersion},
};
use commonware_consensus::types::{Epoch, FixedEpocher, ViewDelta};
use commonware_cryptography::certificate::ConstantProvider;
use commonware_cryptography::{Digestible as _, Sha256};
use commonware_glue::stateful::db::{AttachableResolver, DatabaseSet, Shared, SyncEngineConfig};
use commonware_glue::stateful::{Config as StatefulConfig, Stateful, SyncPlan};
use commonware_p2p::{Blocker, Provider, Receiver, Sender};
use commonware_parallel::Sequential;
use commonware_runtime::buffer::paged::CacheRef;
use commonware_runtime::{Clock, Handle, Metrics, Spawner, Storage, Supervisor};
use commonware_storage::archive::prunable;
use commonware_storage::journal::contiguous::variable::Config as JournalConfig;
use commonware_storage::merkle::full::Config as MerkleConfig;
use commonware_storage::qmdb::{
    self,
    current::VariableConfig,
    sync::{Request, Source, source},
};
use commonware_storage::translator::{EightCap, TwoCap};
use commonware_utils::{NZDuration, NZU16, NZU64, NZUsize};
use rand_core::CryptoRng;
use std::num::{NonZeroU64, NonZeroUsize};
use std::time::Duration;

/// Consensus namespace: separates these votes and certificates from any other use of
/// the validators' keys. Verifiers of finality certificates need it.
pub const CONSENSUS_NAMESPACE: &[u8] = b"TALLY_CONSENSUS_V1";
/// Largest state key and value the authenticated store accepts.
const MAX_STATE_KEY_BYTES: usize = 64;
const MAX_STATE_VALUE_BYTES: usize = 64 * 1024;
const EPOCH_LENGTH: NonZeroU64 = NZU64!(u64::MAX);
const IO_BUFFER: NonZeroUsize = NZUsize!(64 * 1024);
const MAILBOX: NonZeroUsize = NZUsize!(1024);

/// The variant marshal uses: whole blocks, committed by digest.
pub type Variant = Standard<LedgerBlock>;

/// Timeouts and sizes of one validator's consensus.
#[derive(Clone, Debug)]
pub struct ConsensusTimeouts {
    /// Wait for the leader's proposal.
    pub leader: Duration,
    /// Wait for a proposal to be certified.
    pub certification: Duration,
    /// Re-broadcast interval while stuck.
    pub retry: Duration,
}

impl Default for ConsensusTimeouts {
    fn default() -> Self {
        Self {
            leader: Duration::from_millis(1_000),
            certification: Duration::from_millis(2_000),
            retry: Duration::from_secs(10),
        }
    }
}

/// What one validator needs to start.
pub struct EngineConfig {
    /// This validator's identity key.
    pub public_key: PublicKey,
    /// Its consensus signer (threshold share).
    pub scheme: Scheme,
    /// Prefix of every storage partition this validator writes.
    pub partition_prefix: String,
    /// The genesis block.
    pub genesis_block: LedgerBlock,
    /// Shared application state (queried by the API).
    pub state: AppState,
    /// The mempool proposals draw from.
    pub mempool: MempoolHandle,
    /// Consensus timing.
    pub timeouts: ConsensusTimeouts,
    /// Transactions admitted through this validator's API, to forward to the others.
    pub gossip: Option<futures::channel::mpsc::Receiver<Vec<Vec<u8>>>>,
}

/// The p2p channels a validator uses, in registration order.
pub struct Channels<S, R> {
    /// 0: votes.
    pub votes: (S, R),
    /// 1: certificates.
    pub certificates: (S, R),
    /// 2: simplex resolver.
    pub resolver: (S, R),
    /// 3: marshal backfill.
    pub backfill: (S, R),
    /// 4: block broadcast.
    pub broadcast: (S, R),
    /// 5: transaction gossip.
    pub txs: (S, R),
}

/// Channel ids, in the order of [Channels].
pub const CHANNELS: [u64; 6] = [0, 1, 2, 3, 4, 5];

/// The largest message any channel carries, for `n` validators.
pub fn max_message_size(n: u32) -> u32 {
    commonware_p2p::max_message_size(&[
        simplex::max_payload_size::<Scheme, Digest>(n),
        marshal::max_payload_size::<Variant, Scheme>(n, &()),
    ])
}

/// The genesis block for a ledger genesis at `time`: it commits to the empty store.
pub fn genesis_block<E: Spawner + commonware_storage::Context>(
    time: tally_types::Timestamp,
) -> LedgerBlock {
    let target = <Databases<E> as DatabaseSet<E>>::initial_sync_targets();
    LedgerBlock::genesis(time, target.root, target.range)
}

/// Peer state sync is off: glue's resolver needs fixed-size operations and our state keys
/// are variable. A validator that falls behind catches up by replaying finalized blocks
/// (marshal backfills them from peers). See docs/node.md.
#[derive(Clone)]
pub struct NoStateSync;

impl Source for NoStateSync {
    type Family = crate::app::Family;
    type Digest = Digest;
    type Op = commonware_storage::qmdb::any::ordered::variable::Operation<
        crate::app::Family,
        Vec<u8>,
        Vec<u8>,
    >;
    type Error = qmdb::Error<crate::app::Family>;
    async fn serve(&self, _request: Request<crate::app::Family>) -> source::Result<Self> {
        Err(qmdb::Error::KeyNotFound)
    }
}

impl<E: commonware_storage::Context + Spawner> AttachableResolver<StateDb<E>> for NoStateSync {
    async fn attach_database(&self, _db: Shared<StateDb<E>>) {}
}

/// Configuration of the authenticated state store.
pub type StateDbConfig =
    VariableConfig<EightCap, ((RangeCfg<usize>, ()), (RangeCfg<usize>, ())), Sequential>;

fn state_db_config(prefix: &str, page_cache: CacheRef) -> StateDbConfig {
    VariableConfig {
        merkle_config: MerkleConfig {
            journal_partition: format!("{prefix}-state-mmr-journal"),
            metadata_partition: format!("{prefix}-state-mmr-metadata"),
            items_per_blob: NZU64!(4096),
            write_buffer: IO_BUFFER,
            replay_buffer: IO_BUFFER,
            strategy: Sequential,
            page_cache: page_cache.clone(),
        },
        journal_config: JournalConfig {
            partition: format!("{prefix}-state-log"),
            items_per_section: NZU64!(4096),
            compression: None,
            codec_config: (
                (RangeCfg::from(0..=MAX_STATE_KEY_BYTES), ()),
                (RangeCfg::from(0..=MAX_STATE_VALUE_BYTES), ()),
            ),
            page_cache,
            write_buffer: IO_BUFFER,
            replay_buffer: IO_BUFFER,
        },
        grafted_metadata_partition: format!("{prefix}-state-grafted"),
        translator: EightCap,
        init_cache: Some(NZUsize!(1 << 16)),
        init_buffer: NZUsize!(1 << 20),
        init_concurrency: (),
    }
}

fn archive_config(prefix: &str, name: &str, page_cache: CacheRef) -> prunable::Config<TwoCap, ()> {
    prunable::Config {
        translator: TwoCap,
        metadata_partition: format!("{prefix}-{name}-metadata"),
        key_partition: format!("{prefix}-{name}-key"),
        key_page_cache: page_cache,
        value_partition: format!("{prefix}-{name}-value"),
        compression: None,
        codec_config: (),
        items_per_section: NZU64!(4096),
        key_write_buffer: IO_BUFFER,
        value_write_buffer: IO_BUFFER,
        replay_buffer: IO_BUFFER,
    }
}

/// Largest gossip message: a batch of admitted transactions.
const MAX_GOSSIP_BYTES: usize = 1024 * 1024;
/// Most transactions in one gossip message.
const MAX_GOSSIP_TXS: usize = 4_096;

/// Transaction gossip: forwards transactions admitted through this validator's API to
/// every other validator, and admits what they forward (verified like any submission,
/// never forwarded again), so a transaction reaches whichever validator proposes next and
/// survives the validator it was submitted to. Whatever is queued when the link is free
/// goes out as one message (up to [MAX_GOSSIP_TXS] / [MAX_GOSSIP_BYTES]), so the channel's
/// message quota does not cap throughput and receivers verify in batches.
fn start_gossip<E, S, R>(
    context: &E,
    outbox: Option<futures::channel::mpsc::Receiver<Vec<Vec<u8>>>>,
    (mut sender, mut receiver): (S, R),
    mempool: MempoolHandle,
    threads: usize,
) where
    E: Spawner + Clock + Supervisor + CryptoRng + Send + 'static,
    S: Sender<PublicKey = PublicKey>,
    R: Receiver<PublicKey = PublicKey>,
{
    if let Some(mut outbox) = outbox {
        context.child("gossip_out").spawn(move |_| async move {
            while let Some(first) = futures::StreamExt::next(&mut outbox).await {
                let mut batch = first;
                let mut bytes: usize = batch.iter().map(Vec::len).sum();
                // Take whatever else is already queued, within the message bounds.
                while batch.len() < MAX_GOSSIP_TXS && bytes < MAX_GOSSIP_BYTES {
                    match outbox.try_recv() {
                        Ok(more) => {
                            bytes += more.iter().map(Vec::len).sum::<usize>();
                            batch.extend(more);
                        }
                        Err(_) => break,
                    }
                }
                // A batch larger than one message goes out in several.
                let mut start = 0;
                while start < batch.len() {
                    let (mut end, mut size) = (start, 0usize);
                    while end < batch.len()
                        && end - start < MAX_GOSSIP_TXS
                        && size + batch[end].len() <= MAX_GOSSIP_BYTES
                    {
                        size += batch[end].len();
                        end += 1;
                    }
                    let end = end.max(start + 1);
                    sender.send(
                        commonware_p2p::Recipients::All,
                        crate::mempool::encode_batch(&batch[start..end]),
                        false,
                    );
                    start = end;
                }
            }
        });
    }
    context.child("gossip_in").spawn(move |mut ctx| async move {
        while let Ok((_peer, message)) = receiver.recv().await {
            let Ok(raw) = crate::mempool::decode_batch(message.as_ref(), MAX_GOSSIP_TXS) else {
                continue; // malformed: nothing to admit
            };
            let now = ctx
                .current()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
            // Refusals (duplicates above all) are expected and need no answer.
            let now = tally_types::Timestamp(crate::clock::ledger_ms(now));
            // Verification runs on the blocking pool, never on the async workers that carry
            // votes; one batch at a time, so gossip cannot queue unbounded CPU work (the
            // p2p channel drops what arrives while its mailbox is full, and the
            // transactions still wait at their origin).
            let mut seed = [0u8; 32];
            rand_core::Rng::fill_bytes(&mut ctx, &mut seed);
            let pool = mempool.clone();
            let _ = ctx
                .child("gossip_verify")
                .shared(true)
                .spawn(move |_| async move {
                    let mut rng =
                        <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::from_seed(seed);
                    // Refusals (duplicates above all) are expected and need no answer.
                    let _ = pool.admit(now, &raw, threads, &mut rng);
                })
                .await;
        }
    });
}

/// After a restart, loads the ledger state glue is about to resume from into the execution
/// cache, before any block reaches the application.
///
/// Glue resumes at marshal's processed height (or the height state sync completed at, if
/// higher) and opens the authenticated store *at that block's commit*, which may be older
/// than the store's newest commit: a block is acknowledged to marshal only once durable, so
/// after `kill -9` the store can be ahead of the acknowledgement, and marshal re-delivers
/// the blocks in between. We mirror that choice exactly, opening the store at the same
/// commit, so those re-delivered blocks execute on the state they were built on.
async fn restore_state<E>(
    context: &E,
    prefix: &str,
    page_cache: &CacheRef,
    marshal: &marshal::core::Mailbox<Scheme, Variant>,
    completed: Option<commonware_consensus::types::Height>,
    state: &AppState,
) where
    E: Spawner + Clock + Metrics + Storage + Supervisor + commonware_storage::Context,
{
    let anchor = marshal.get_anchor().await;
    let height = completed
        .into_iter()
        .chain(anchor.as_ref().map(|(processed, _)| processed.height()))
        .max()
        .unwrap_or_else(commonware_consensus::types::Height::zero);
    if height.is_zero() {
        return; // nothing applied yet: the store is empty
    }
    let block = match anchor {
        Some((processed, block)) if processed.height() == height => block,
        _ => marshal
            .get_block(height)
            .await
            .expect("marshal holds the block state resumes from"),
    };
    let db = StateDb::<E>::init(
        context.child("preload"),
        state_db_config(prefix, page_cache.clone()),
        Some(block.inner().range.end()),
    )
    .await
    .expect("opening the state store at the resumed block");
    let stored = db.get_metadata().await.expect("reading state metadata");
    assert_eq!(
        crate::app::metadata_height(stored.as_deref()),
        Some(height.get()),
        "the state store's commit at the resumed block records that block's height"
    );
    let mut base = std::collections::BTreeMap::new();
    let mut stream = std::pin::pin!(db.stream_range(..));
    while let Some(entry) = futures::StreamExt::next(&mut stream).await {
        let (k, v) = entry.expect("reading the state store");
        base.insert(k, v);
    }
    tracing::info!(
        height = height.get(),
        keys = base.len(),
        "restored state from storage"
    );
    state.restore(base, block.inner());
}

/// What the API reads beyond the application state: finalized blocks and their
/// certificates (marshal), and the authenticated store (for proofs).
pub struct Readers<M> {
    /// Marshal: finalized blocks and certificates by height.
    pub marshal: marshal::core::Mailbox<Scheme, Variant>,
    /// Glue's mailbox: `subscribe_databases` yields the state store once glue has opened
    /// it (after startup and any state sync).
    pub stateful: M,
}

/// Starts every actor of one validator and returns the consensus engine's handle.
pub async fn start<E, S, R, P, B>(
    context: E,
    cfg: EngineConfig,
    channels: Channels<S, R>,
    peer_provider: P,
    blocker: B,
) -> Handle<()>
where
    E: Spawner
        + Clock
        + Metrics
        + Storage
        + Supervisor
        + CryptoRng
        + commonware_storage::Context
        + Send
        + 'static,
    S: Sender<PublicKey = PublicKey>,
    R: Receiver<PublicKey = PublicKey>,
    P: Provider<PublicKey = PublicKey> + Clone,
    B: Blocker<PublicKey = PublicKey> + Clone,
{
    start_with_readers(context, cfg, channels, peer_provider, blocker)
        .await
        .0
}

/// [start], also returning what the API reads.
pub async fn start_with_readers<E, S, R, P, B>(
    context: E,
    mut cfg: EngineConfig,
    channels: Channels<S, R>,
    peer_provider: P,
    blocker: B,
) -> (
    Handle<()>,
    Readers<commonware_glue::stateful::Mailbox<E, LedgerApp>>,
)
where
    E: Spawner
        + Clock
        + Metrics
        + Storage
        + Supervisor
        + CryptoRng
        + commonware_storage::Context
        + Send
        + 'static,
    S: Sender<PublicKey = PublicKey>,
    R: Receiver<PublicKey = PublicKey>,
    P: Provider<PublicKey = PublicKey> + Clone,
    B: Blocker<PublicKey = PublicKey> + Clone,
{
    let prefix = cfg.partition_prefix.clone();
    start_gossip(
        &context,
        cfg.gossip.take(),
        channels.txs,
        cfg.mempool.clone(),
        cfg.state.threads(),
    );
    let page_cache = CacheRef::new(NZU16!(4096), NZUsize!(1024));

    let resolver = marshal_resolver::init(
        context.child("marshal_resolver"),
        marshal_resolver::Config {
            public_key: cfg.public_key.clone(),
            peer_provider: peer_provider.clone(),
            blocker: blocker.clone(),
            mailbox_size: MAILBOX,
            fetch_timeout: NZDuration!(Duration::from_secs(2)),
            fetch_retry_delay: Duration::from_millis(100),
            priority_requests: false,
            priority_responses: false,
        },
        channels.backfill,
    );
    let (broadcast, buffer) = buffered::Engine::new(
        context.child("broadcast"),
        buffered::Config {
            public_key: cfg.public_key.clone(),
            mailbox_size: MAILBOX,
            deque_size: 10,
            priority: false,
            codec_config: (),
            peer_provider: peer_provider.clone(),
            strategy: Sequential,
        },
    );
    broadcast.start(channels.broadcast);

    let finalizations = prunable::Archive::init(
        context.child("finalizations"),
        archive_config(&prefix, "finalizations", page_cache.clone()),
    )
    .await
    .expect("opening the finalizations archive");
    let blocks = prunable::Archive::init(
        context.child("blocks"),
        archive_config(&prefix, "blocks", page_cache.clone()),
    )
    .await
    .expect("opening the blocks archive");

    let genesis = cfg.genesis_block.clone();
    let plan = SyncPlan::<_, Scheme, Variant>::init(context.child("plan"), &prefix).await;
    let (marshal_actor, marshal_mailbox, floor) = MarshalActor::<_, Variant, _, _, _, _, _>::init(
        context.child("marshal"),
        finalizations,
        blocks,
        marshal::Config {
            provider: ConstantProvider::new(cfg.scheme.clone()),
            epocher: FixedEpocher::new(EPOCH_LENGTH),
            start: plan.marshal_start(commonware_cryptography::Digested::precomputed(
                genesis.clone(),
                genesis.digest(),
            )),
            partition_prefix: prefix.clone(),
            mailbox_size: MAILBOX,
            view_retention: ViewDelta::new(10),
            prunable_items_per_section: NZU64!(4096),
            page_cache: page_cache.clone(),
            replay_buffer: IO_BUFFER,
            key_write_buffer: IO_BUFFER,
            value_write_buffer: IO_BUFFER,
            block_codec_config: (),
            max_repair: NZUsize!(10),
            max_pending_acks: NZUsize!(16),
            strategy: Sequential,
        },
    )
    .await;

    // Read before glue takes the plan: the height state sync last completed at, if any.
    let completed = plan.completed();
    let app = LedgerApp::new(genesis.clone(), cfg.state.clone(), cfg.mempool.clone());
    let (stateful, stateful_mailbox) = Stateful::new(
        context.child("stateful"),
        StatefulConfig {
            application: app,
            db_config: state_db_config(&prefix, page_cache.clone()),
            provider: cfg.mempool.clone(),
            marshal: (marshal_mailbox.clone(), floor),
            mailbox_size: MAILBOX,
            plan,
            resolvers: NoStateSync,
            sync_config: SyncEngineConfig {
                fetch_batch_size: NZU64!(1024),
                apply_batch_size: NZU64!(1024),
                max_outstanding_requests: NZUsize!(8),
            },
            // Finalized blocks are the source of truth (state can be rebuilt by replaying
            // them), and lagging peers backfill from them: keep them all.
            prune_config: None,
            strategy: Sequential,
        },
    );
    let deferred = Deferred::new(
        context.child("deferred"),
        stateful_mailbox.clone(),
        marshal_mailbox.clone(),
        FixedEpocher::new(EPOCH_LENGTH),
    );
    let readers = Readers {
        marshal: marshal_mailbox.clone(),
        stateful: stateful_mailbox.clone(),
    };
    marshal_actor.start(stateful_mailbox, buffer, resolver);
    restore_state(
        &context,
        &prefix,
        &page_cache,
        &marshal_mailbox,
        completed,
        &cfg.state,
    )
    .await;
    stateful.start();

    // Simplex runs on the validator's own context: its task is the root of the validator's
    // supervision tree, so aborting the returned handle stops every actor (a crash).
    let engine = simplex::Engine::new(
        context,
        simplex::Config {
            scheme: cfg.scheme,
            elector: Random::<Sha256>::new(RandomVersion::V1),
            blocker,
            automaton: deferred.clone(),
            relay: deferred.clone(),
            reporter: deferred,
            strategy: Sequential,
            partition: format!("{prefix}-simplex"),
            mailbox_size: MAILBOX,
            epoch: Epoch::zero(),
            floor: simplex::Floor::Genesis(genesis.digest()),
            replay_buffer: IO_BUFFER,
            write_buffer: IO_BUFFER,
            page_cache,
            leader_timeout: cfg.timeouts.leader,
            certification_timeout: cfg.timeouts.certification,
            timeout_retry: cfg.timeouts.retry,
            view_retention: ViewDelta::new(10),
            skip: SkipPolicy::Enabled {
                timeout: cfg.timeouts.retry + Duration::from_secs(5),
                budget: SkipBudget::Participants,
            },
            fetch_timeout: NZDuration!(Duration::from_secs(2)),
            fetch_retry_delay: Duration::from_secs(1),
            forward: ForwardPolicy::Disabled,
            track_historical_votes: false,
        },
    );
    (
        engine.start(channels.votes, channels.certificates, channels.resolver),
        readers,
    )
}
