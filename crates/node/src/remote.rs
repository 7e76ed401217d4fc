//! The verification of remote proofs (docs/interop.md): a transaction releasing or locking
//! a cross-ledger hold carries another Tally network's certified block header and a QMDB
//! Merkle proof of one record against that header's state root. This checks both, ahead
//! of execution (at admission, and for a block's transactions the mempool did not
//! verify), on the blocking pool that checks signatures; the ledger then compares the
//! proof's group key and namespace with its registry and the record with the local hold.
//!
//! A certificate costs a pairing check (about 1.6 ms); one already checked (the same
//! header, certificate, key and namespace) is remembered, so proofs of several records at
//! one certified height pay it once.

use crate::app::Scheme;
use crate::block::{Digest, HEADER_MAX_BYTES, Header};
use commonware_codec::{Decode as _, DecodeExt as _, RangeCfg};
use commonware_consensus::simplex::types::Finalization;
use commonware_cryptography::bls12381::primitives::group::G2;
use commonware_cryptography::{Sha256, sha256};
use commonware_storage::mmr;
use commonware_storage::qmdb::any::value::VariableEncoding;
use commonware_storage::qmdb::current::ordered::proof::constant::KeyValueProof;
use std::collections::{BTreeMap, VecDeque};
use std::sync::{LazyLock, Mutex};
use tally_types::limits::{MAX_REMOTE_HEADER_BYTES, MAX_REMOTE_KEY_BYTES, MAX_REMOTE_MERKLE_BYTES};
use tally_types::remote::{ProvenHeader, RemoteProof, RemoteProofError, RemoteVerifier};

/// Proof of a key's value, as a Tally node's store encodes it (`GET /proof/…`).
pub type InclusionProof = KeyValueProof<mmr::Family, Vec<u8>, sha256::Digest, 32>;

/// Most digests one Merkle proof may carry.
pub const MAX_PROOF_DIGESTS: usize = 64;

/// Certificates remembered as checked.
const CACHE_ENTRIES: usize = 1024;

const _: () = assert!(HEADER_MAX_BYTES <= MAX_REMOTE_HEADER_BYTES);

/// What a checked certificate established: the header's height, time and state root.
#[derive(Clone, Copy)]
struct Certified {
    height: u64,
    time: tally_types::Timestamp,
    state_root: Digest,
}

/// Checked certificates by id, and their ids oldest first (for eviction).
type Checked = (BTreeMap<[u8; 32], Certified>, VecDeque<[u8; 32]>);

/// Checks remote proofs, remembering certificates it has checked.
pub struct ProofVerifier {
    checked: Mutex<Checked>,
}

/// The process's verifier (its cache is shared by admission and block verification).
pub fn verifier() -> &'static ProofVerifier {
    static VERIFIER: LazyLock<ProofVerifier> = LazyLock::new(ProofVerifier::new);
    &VERIFIER
}

impl Default for ProofVerifier {
    fn default() -> Self {
        Self::new()
    }
}

impl ProofVerifier {
    /// A verifier with an empty cache.
    pub fn new() -> Self {
        Self {
            checked: Mutex::new((BTreeMap::new(), VecDeque::new())),
        }
    }

    fn cached(&self, id: &[u8; 32]) -> Option<Certified> {
        let guard = self
            .checked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        guard.0.get(id).copied()
    }

    fn remember(&self, id: [u8; 32], certified: Certified) {
        let mut guard = self
            .checked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (map, order) = &mut *guard;
        if map.insert(id, certified).is_none() {
            order.push_back(id);
        }
        while order.len() > CACHE_ENTRIES {
            if let Some(old) = order.pop_front() {
                map.remove(&old);
            }
        }
        assert_eq!(map.len(), order.len(), "cache index out of step");
    }

    /// Checks the certificate of `proof`'s header (or finds it checked before).
    fn certify(&self, proof: &RemoteProof) -> Result<Certified, RemoteProofError> {
        let digest = Header::digest_of(&proof.header);
        let id: [u8; 32] = tally_types::Hash32::digest(&[
            proof.group_key.as_bytes(),
            &(proof.namespace.as_str().len() as u64).to_be_bytes(),
            proof.namespace.as_str().as_bytes(),
            digest.as_ref(),
            &proof.certificate,
        ])
        .0;
        if let Some(certified) = self.cached(&id) {
            return Ok(certified);
        }
        let header = Header::decode(&proof.header).map_err(|_| RemoteProofError::Header)?;
        let finalization = Finalization::<Scheme, sha256::Digest>::decode_cfg(
            commonware_codec::Copying(&proof.certificate[..]),
            &(),
        )
        .map_err(|_| RemoteProofError::Certificate)?;
        if finalization.proposal.payload != digest
            || finalization.proposal.round != header.context.round
        {
            return Err(RemoteProofError::Certificate);
        }
        let group = G2::decode(commonware_codec::Copying(proof.group_key.as_bytes()))
            .map_err(|_| RemoteProofError::Signature)?;
        let verifier = Scheme::certificate_verifier(proof.namespace.as_str().as_bytes(), group);
        // The randomness only blinds batch verification; any seed gives the same answer.
        let mut rng = os_rng();
        if !finalization.verify(&mut rng, &verifier, &commonware_parallel::Sequential) {
            return Err(RemoteProofError::Signature);
        }
        let certified = Certified {
            height: header.height.get(),
            time: header.time,
            state_root: header.state_root,
        };
        self.remember(id, certified);
        Ok(certified)
    }
}

fn os_rng() -> rand_chacha::ChaCha20Rng {
    let mut seed = [0u8; 32];
    // Without OS randomness the blinding is predictable to a forger: stop, never guess.
    getrandom::fill(&mut seed).expect("OS randomness for signature verification");
    <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::from_seed(seed)
}

/// Checks that `key` → `value` is in the state whose root is `root`, by a Tally store's
/// inclusion proof (its encoding, as `GET /proof/…` serves it).
pub fn verify_inclusion(key: &[u8], value: &[u8], proof: &[u8], root: &Digest) -> bool {
    let key_cfg = (RangeCfg::from(0..=MAX_REMOTE_KEY_BYTES), ());
    let Ok(p) = InclusionProof::decode_cfg(
        commonware_codec::Copying(proof),
        &(MAX_PROOF_DIGESTS, key_cfg),
    ) else {
        return false;
    };
    p.verify::<Sha256, VariableEncoding<Vec<u8>>>(key.to_vec(), value.to_vec(), root)
}

impl RemoteVerifier for ProofVerifier {
    fn verify(&self, proof: &RemoteProof) -> Result<ProvenHeader, RemoteProofError> {
        assert!(
            proof.merkle.len() <= MAX_REMOTE_MERKLE_BYTES,
            "bounded at decode"
        );
        let certified = self.certify(proof)?;
        if !verify_inclusion(
            &proof.key,
            &proof.value,
            &proof.merkle,
            &certified.state_root,
        ) {
            return Err(RemoteProofError::Merkle);
        }
        Ok(ProvenHeader {
            height: certified.height,
            time: certified.time,
        })
    }
}
