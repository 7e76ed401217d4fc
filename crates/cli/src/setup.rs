//! Creating development networks and node homes.

use commonware_codec::Encode as _;
use commonware_cryptography::bls12381::dkg::feldman_desmedt::deal;
use commonware_cryptography::bls12381::primitives::sharing::Mode;
use commonware_cryptography::bls12381::primitives::variant::MinSig;
use commonware_cryptography::{Signer as _, ed25519};
use commonware_math::algebra::Random as _;
use commonware_utils::ordered::Set;
use commonware_utils::{N3f1, TryCollect as _};
use rand_core::SeedableRng as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use tally_node::genesis::{GenesisFile, ThresholdEntry, ValidatorEntry, ledger_entry, to_hex};
use tally_node::run::{GENESIS_FILE, IDENTITY_FILE, SHARE_FILE};

/// Arguments of `tally genesis new`.
#[derive(clap::Args, Clone, Debug)]
pub struct NewArgs {
    /// Directory to create the network in (one `node-N` home per validator).
    #[arg(long, default_value = "./localnet")]
    pub home: PathBuf,
    /// Number of validators (3f+1 tolerates f faults).
    #[arg(long, default_value_t = 4)]
    pub validators: usize,
    /// Chain id signed into every transaction.
    #[arg(long, default_value = tally_ledger::demo::CHAIN)]
    pub chain_id: String,
    /// First port: validator i uses base+2i for p2p and base+2i+1 for its API.
    #[arg(long, default_value_t = 26_600)]
    pub base_port: u16,
}

fn rng() -> Result<rand_chacha::ChaCha20Rng, String> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| format!("no OS randomness: {e}"))?;
    Ok(rand_chacha::ChaCha20Rng::from_seed(seed))
}

fn write(path: &Path, contents: &str) -> Result<(), String> {
    std::fs::write(path, contents).map_err(|e| format!("{}: {e}", path.display()))
}

/// The home of validator `i` inside a network directory.
pub fn node_home(network: &Path, i: usize) -> PathBuf {
    network.join(format!("node-{i}"))
}

/// Creates a development network: genesis (demo world, fresh validator identities, a
/// threshold key dealt here) and one home per validator with its secrets.
///
/// The genesis time is now (to the second). Block time follows the validators' clocks but
/// may advance at most `MAX_BLOCK_TIME_STEP_MS` per block, so a chain whose genesis lay
/// days in the past would spend its first hundreds of blocks catching up, refusing
/// transactions whose expiry is "too far" from a block time still in the past.
pub fn new_network(args: &NewArgs) -> Result<GenesisFile, String> {
    let mut ledger = tally_ledger::demo::genesis();
    ledger.time = now_to_the_second()?;
    new_network_with(args, &ledger)
}

/// The wall clock, truncated to the second.
pub fn now_to_the_second() -> Result<tally_types::Timestamp, String> {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| "the clock is before 1970")?
        .as_secs();
    Ok(tally_types::Timestamp(secs * 1_000))
}

/// As [new_network], with `ledger` as the ledger's genesis.
pub fn new_network_with(
    args: &NewArgs,
    ledger: &tally_ledger::Genesis,
) -> Result<GenesisFile, String> {
    if args.validators == 0 || args.validators > 100 {
        return Err("--validators must be between 1 and 100".into());
    }
    let mut rng = rng()?;
    let identities: Vec<ed25519::PrivateKey> = (0..args.validators)
        .map(|_| ed25519::PrivateKey::random(&mut rng))
        .collect();
    let participants: Set<ed25519::PublicKey> = identities
        .iter()
        .map(|k| k.public_key())
        .try_collect()
        .map_err(|_| "duplicate identity")?;
    // A trusted dealer is fine for a development network; a production network runs a
    // distributed key generation so that no one ever holds the whole secret (docs/node.md).
    let (output, shares) = deal::<MinSig, _, N3f1>(&mut rng, Mode::NonZeroCounter, participants)
        .map_err(|e| format!("dealing: {e:?}"))?;
    let port = |i: usize, k: usize| -> Result<u16, String> {
        u16::try_from(usize::from(args.base_port) + 2 * i + k)
            .map_err(|_| "port out of range".to_string())
    };
    let validators = identities
        .iter()
        .enumerate()
        .map(|(i, k)| {
            Ok(ValidatorEntry {
                name: format!("validator-{i}"),
                public_key: to_hex(k.public_key().as_ref()),
                p2p_address: SocketAddr::from((Ipv4Addr::LOCALHOST, port(i, 0)?)),
                api_address: SocketAddr::from((Ipv4Addr::LOCALHOST, port(i, 1)?)),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let genesis = GenesisFile {
        chain_id: args.chain_id.clone(),
        genesis_time_ms: ledger.time.0,
        validators,
        threshold: ThresholdEntry {
            group_public_key: to_hex(&output.public().public().encode()),
            public_polynomial: to_hex(&output.public().encode()),
        },
        ledger: ledger_entry(ledger),
    };
    genesis.validate().map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&args.home).map_err(|e| format!("{}: {e}", args.home.display()))?;
    let json = genesis.to_json();
    write(&args.home.join(GENESIS_FILE), &json)?;
    for (i, key) in identities.iter().enumerate() {
        let home = node_home(&args.home, i);
        std::fs::create_dir_all(&home).map_err(|e| format!("{}: {e}", home.display()))?;
        write(&home.join(GENESIS_FILE), &json)?;
        write(&home.join(IDENTITY_FILE), &to_hex(&key.encode()))?;
        let share = shares
            .get_value(&key.public_key())
            .ok_or("a validator got no share")?;
        write(&home.join(SHARE_FILE), &to_hex(&share.encode()))?;
    }
    Ok(genesis)
}

/// `tally node init`: a home with a fresh identity key.
pub fn init_node(home: &Path) -> Result<(), String> {
    std::fs::create_dir_all(home).map_err(|e| format!("{}: {e}", home.display()))?;
    let path = home.join(IDENTITY_FILE);
    let key = if path.exists() {
        let hex = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let bytes = tally_node::genesis::from_hex(hex.trim()).map_err(|e| e.to_string())?;
        <ed25519::PrivateKey as commonware_codec::DecodeExt<()>>::decode(commonware_codec::Copying(
            &bytes,
        ))
        .map_err(|e| format!("{}: {e}", path.display()))?
    } else {
        let key = ed25519::PrivateKey::random(&mut rng()?);
        write(&path, &to_hex(&key.encode()))?;
        key
    };
    println!("{}", to_hex(key.public_key().as_ref()));
    Ok(())
}
