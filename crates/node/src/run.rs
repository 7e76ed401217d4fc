//! Running a validator process from its home directory.
//!
//! A home holds `genesis.json` (public), `identity.key` (the ed25519 identity, secret),
//! `share.key` (this validator's threshold share, secret) and `data/` (storage).

use crate::app::{AppState, MempoolHandle, Scheme};
use crate::engine::{self, CONSENSUS_NAMESPACE, Channels, ConsensusTimeouts, EngineConfig};
use crate::genesis::{GenesisFile, from_hex};
use crate::http::{self, Api};
use crate::mempool::{Mempool, MempoolConfig};
use commonware_codec::DecodeExt as _;
use commonware_cryptography::bls12381::primitives::group::Share;
use commonware_cryptography::{Signer as _, ed25519};
use commonware_p2p::authenticated::lookup;
use commonware_p2p::{Address, AddressableManager as _};
use commonware_runtime::{Quota, Runner as _, Supervisor as _, tokio as cw_tokio};
use commonware_stream::cups::{self, Cups};
use commonware_stream::sake::{self, Sake};
use commonware_utils::ordered::{Map, Set};
use commonware_utils::{NZU32, NZUsize, TryCollect as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tally_ledger::Ledger;

/// Admitted batches waiting to be gossiped (each at most `http::MAX_SUBMIT_BYTES`).
const GOSSIP_QUEUE_BATCHES: usize = 32;
/// How long `/status` reuses the connected peers it last read from the metrics.
const PEERS_REFRESH: Duration = Duration::from_secs(1);

/// Genesis file name in a home directory.
pub const GENESIS_FILE: &str = "genesis.json";
/// Identity key file name.
pub const IDENTITY_FILE: &str = "identity.key";
/// Threshold share file name.
pub const SHARE_FILE: &str = "share.key";
/// Storage directory name.
pub const DATA_DIR: &str = "data";

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A file is missing or unreadable.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// The genesis file is invalid.
    #[error(transparent)]
    Genesis(#[from] crate::genesis::GenesisError),
    /// A key file, or the node's configuration, is invalid.
    #[error("{0}")]
    Key(String),
}

fn read(home: &Path, name: &str) -> Result<String, RunError> {
    let path = home.join(name);
    std::fs::read_to_string(&path)
        .map(|s| s.trim().to_string())
        .map_err(|source| RunError::Io { path, source })
}

/// Reads and validates a node's home.
pub struct NodeHome {
    /// The home directory.
    pub dir: PathBuf,
    /// Genesis.
    pub genesis: GenesisFile,
    /// Identity key.
    pub identity: ed25519::PrivateKey,
    /// Threshold share.
    pub share: Share,
    /// Index in the validator list.
    pub index: usize,
}

impl NodeHome {
    /// Loads and checks everything a node needs.
    pub fn load(dir: &Path) -> Result<Self, RunError> {
        let genesis = GenesisFile::from_json(&read(dir, GENESIS_FILE)?)?;
        genesis.validate()?;
        let identity_bytes = from_hex(&read(dir, IDENTITY_FILE)?)?;
        let identity = ed25519::PrivateKey::decode(commonware_codec::Copying(&identity_bytes))
            .map_err(|e| RunError::Key(format!("identity key: {e}")))?;
        let share_bytes = from_hex(&read(dir, SHARE_FILE)?)?;
        let share = Share::decode(commonware_codec::Copying(&share_bytes))
            .map_err(|e| RunError::Key(format!("share: {e}")))?;
        let keys = genesis.validator_keys()?;
        let index = keys
            .iter()
            .position(|k| *k == identity.public_key())
            .ok_or_else(|| RunError::Key("identity key is not a genesis validator".into()))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            genesis,
            identity,
            share,
            index,
        })
    }
}

/// Runs a validator until the process is stopped.
pub fn run(home: NodeHome) -> Result<(), RunError> {
    let chain_id = home.genesis.chain_id.clone();
    let offset = crate::clock::dev_offset_from_env(
        &chain_id,
        std::env::var(crate::clock::DEV_CLOCK_OFFSET_ENV)
            .ok()
            .as_deref(),
    )
    .map_err(RunError::Key)?;
    if let Some(ms) = offset {
        crate::clock::set_dev_offset_ms(ms);
        tracing::warn!(
            offset_ms = ms,
            "development clock offset: blocks run ahead of the wall clock"
        );
    }
    let storage = home.dir.join(DATA_DIR);
    let cfg = cw_tokio::Config::new()
        .with_worker_threads(2)
        .with_storage_directory(storage);
    cw_tokio::Runner::new(cfg).start(|context| async move {
        let genesis = &home.genesis;
        let chain = genesis.chain().expect("validated");
        let keys = genesis.validator_keys().expect("validated");
        let participants: Set<ed25519::PublicKey> =
            keys.iter().cloned().try_collect().expect("distinct keys");
        let polynomial = genesis.polynomial().expect("validated");
        let scheme = Scheme::signer(
            CONSENSUS_NAMESPACE,
            participants.clone(),
            polynomial,
            home.share.clone(),
        )
        .expect("the share belongs to this validator set");
        let me = &genesis.validators[home.index];
        let n = u32::try_from(keys.len()).expect("few validators");

        let handshake = Cups::<_, commonware_cryptography::ChaCha20Poly1305>::new(
            Sake {
                signer: home.identity.clone(),
                synchrony_bound: Duration::from_secs(5),
                max_handshake_age: Duration::from_secs(10),
                version: sake::Version::V1,
            },
            cups::Version::V1,
        );
        let p2p = lookup::Config::local(
            handshake,
            CONSENSUS_NAMESPACE,
            me.p2p_address,
            NZUsize!(keys.len().max(1)),
            engine::max_message_size(n),
            NZUsize!(1024),
        );
        let (mut network, mut oracle) = lookup::Network::new(context.child("network"), p2p);
        let peers: Map<ed25519::PublicKey, Address> = keys
            .iter()
            .zip(&genesis.validators)
            .map(|(k, v)| (k.clone(), Address::from(v.p2p_address)))
            .try_collect()
            .expect("distinct keys");
        let _ = oracle.track(0, peers);
        // Receive buffers are preallocated from the quota: keep it to what consensus needs.
        let quota = Quota::per_second(NZU32!(1_024));
        let mut registered = engine::CHANNELS.map(|ch| Some(network.register(ch, quota)));
        let mut take = |i: usize| registered[i].take().expect("registered once");
        // Forward admitted transactions to the other validators; a full queue drops
        // (the transaction still waits here, and clients retry). Each entry is one
        // admission's batch (up to MAX_SUBMIT_BYTES), so the queue is bounded by count:
        // at most GOSSIP_QUEUE_BATCHES × 8 MiB, the order of the mempool's own limit.
        let (gossip, outbox) = futures::channel::mpsc::channel(GOSSIP_QUEUE_BATCHES);
        let channels = Channels {
            votes: take(0),
            certificates: take(1),
            resolver: take(2),
            backfill: take(3),
            broadcast: take(4),
            txs: take(5),
        };
        network.start();

        let ledger_genesis = genesis.ledger_genesis().expect("validated");
        let genesis_block = engine::genesis_block::<cw_tokio::Context>(ledger_genesis.time);
        let state = AppState::new(
            Ledger::new(chain.clone()),
            ledger_genesis,
            &genesis_block,
            2,
        );
        let mempool = MempoolHandle(Arc::new(Mutex::new(Mempool::new(
            chain.clone(),
            MempoolConfig::default(),
        ))));
        let (api_state, api_mempool) = (state.clone(), mempool.clone());
        let engine_cfg = EngineConfig {
            public_key: home.identity.public_key(),
            scheme,
            partition_prefix: "tally".to_string(),
            genesis_block,
            state,
            mempool,
            timeouts: ConsensusTimeouts::default(),
            gossip: Some(outbox),
        };
        let (handle, readers) = engine::start_with_readers(
            context.child("engine"),
            engine_cfg,
            channels,
            oracle.clone(),
            oracle,
        )
        .await;
        let db = Arc::new(std::sync::OnceLock::new());
        let db_slot = db.clone();
        let stateful = readers.stateful;
        tokio::spawn(async move {
            let _ = db_slot.set(stateful.subscribe_databases().await);
        });
        let metrics_context = context.child("api");
        let peers_context = context.child("api_peers");
        let names: Vec<(String, String)> = genesis
            .validators
            .iter()
            .map(|v| (v.public_key.clone(), v.name.clone()))
            .collect();
        let api = Api {
            chain_id: chain.as_str().to_string(),
            node: me.name.clone(),
            chain: Arc::new(http::chain_info(genesis)),
            state: api_state,
            mempool: api_mempool,
            verify_threads: 2,
            gossip,
            marshal: Some(readers.marshal),
            db,
            replay: Arc::default(),
            admitting: Arc::new(tokio::sync::Semaphore::new(crate::http::MAX_ADMISSIONS)),
            streams: Arc::new(tokio::sync::Semaphore::new(http::MAX_STREAMS)),
            dev_keys: http::dev_keys(
                chain.as_str(),
                std::env::var(http::DEV_KEYS_ENV).ok().as_deref(),
            )
            .map(Arc::new),
            metrics: Arc::new(move || commonware_runtime::Metrics::encode(&metrics_context)),
            // Connected peers are read from the runtime's metrics, whose encoding costs
            // milliseconds: read at most once per PEERS_REFRESH, so a client polling
            // `/status` (the bench's observer does every 2 ms) does not make the node
            // encode every metric on every poll.
            peers: {
                let cache: Mutex<Option<(std::time::Instant, Vec<String>)>> = Mutex::new(None);
                Arc::new(move || {
                    let mut cached = cache
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    if let Some((at, peers)) = cached.as_ref()
                        && at.elapsed() < PEERS_REFRESH
                    {
                        return peers.clone();
                    }
                    let peers = http::connected_peers(
                        &commonware_runtime::Metrics::encode(&peers_context),
                        &names,
                    );
                    *cached = Some((std::time::Instant::now(), peers.clone()));
                    peers
                })
            },
        };
        let api_address = me.api_address;
        tokio::spawn(async move {
            match tokio::net::TcpListener::bind(api_address).await {
                Ok(listener) => {
                    if let Err(e) = axum::serve(listener, http::router(api)).await {
                        tracing::error!("api server stopped: {e}");
                    }
                }
                Err(e) => tracing::error!("cannot bind api {api_address}: {e}"),
            }
        });
        tracing::info!(validator = %me.name, "started");
        let _ = handle.await;
    });
    Ok(())
}
