//! Check what a node serves without trusting it: a block against its finality certificate
//! and the network's group key, and a state entry against a certified state root.
//!
//! Pure: no network, no clock. The group key must come from somewhere the caller trusts
//! (the genesis file, an operator's announcement), not from the node being checked.

use commonware_codec::{Decode as _, DecodeExt as _, RangeCfg};
use commonware_consensus::simplex::types::Finalization;
use commonware_consensus::types::Round;
use commonware_cryptography::bls12381::primitives::group::G2;
use commonware_cryptography::{Digestible as _, Sha256, sha256};
use commonware_storage::mmr;
use commonware_storage::qmdb::any::value::VariableEncoding;
use commonware_storage::qmdb::current::ordered::proof::constant::{ExclusionProof, KeyValueProof};
use rand_core::{CryptoRng, SeedableRng as _};
use tally_node::app::Scheme;
use tally_node::block::{Header, LedgerBlock};
use tally_node::engine::CONSENSUS_NAMESPACE;
use tally_node::http::types::{CertifiedBlock, CertifiedHeader, StateProof};

/// Longest state key a proof may carry (ledger keys are far shorter).
pub const MAX_KEY_BYTES: usize = 64;
/// Largest state value a proof may carry.
pub const MAX_VALUE_BYTES: usize = 65_536;
/// Most digests one proof may carry.
pub const MAX_PROOF_DIGESTS: usize = 64;

/// Proof of a key's value, as the node's store encodes it.
pub type InclusionProof = KeyValueProof<mmr::Family, Vec<u8>, sha256::Digest, 32>;
/// Proof of a key's absence, as the node's store encodes it.
pub type AbsenceProof =
    ExclusionProof<mmr::Family, Vec<u8>, VariableEncoding<Vec<u8>>, sha256::Digest, 32>;

/// Why something did not verify.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The group key is not hex of a BLS12-381 G2 point.
    #[error("group public key: {0}")]
    GroupKey(String),
    /// A field is not hex.
    #[error("{0} is not hex")]
    Hex(&'static str),
    /// The block does not decode.
    #[error("block does not decode: {0}")]
    Block(String),
    /// The certificate does not decode.
    #[error("certificate does not decode: {0}")]
    Certificate(String),
    /// The block's height is not the one claimed.
    #[error("block height {block} is not the claimed height {claimed}")]
    Height {
        /// What the answer claimed.
        claimed: u64,
        /// What the block says.
        block: u64,
    },
    /// The certificate finalizes another block.
    #[error("the certificate finalizes digest {certified}, not this block's {block}")]
    Digest {
        /// Digest the certificate signs.
        certified: String,
        /// Digest of the block served.
        block: String,
    },
    /// The certificate is for another round than the block's.
    #[error("the certificate's round is not the block's")]
    Round,
    /// The threshold signature does not verify under the group key.
    #[error("the finality certificate does not verify under the group key")]
    Signature,
    /// The proof's state root is not the certified one.
    #[error("the proof is against state root {proof}, the certified block has {certified}")]
    StateRoot {
        /// Root the proof names.
        proof: String,
        /// Root of the certified block.
        certified: String,
    },
    /// The proof is for another state key than the one asked about.
    #[error("the proof is for key {proof}, expected {expected}")]
    Key {
        /// Key the proof names.
        proof: String,
        /// Key asked about.
        expected: String,
    },
    /// The proof does not decode.
    #[error("proof does not decode: {0}")]
    Proof(String),
    /// The proof kind is neither `inclusion` nor `exclusion`, or lacks its value.
    #[error("proof kind {0:?} is not inclusion (with a value) or exclusion")]
    Kind(String),
    /// The Merkle proof does not verify against the root.
    #[error("the Merkle proof does not verify against the state root")]
    Merkle,
    /// A verified value does not decode as the record expected.
    #[error("the proven value does not decode: {0}")]
    Value(String),
    /// No OS randomness for signature verification.
    #[error("no OS randomness")]
    Randomness,
}

fn unhex(s: &str, what: &'static str) -> Result<Vec<u8>, VerifyError> {
    crate::from_hex(s).ok_or(VerifyError::Hex(what))
}

/// Parses a group public key: hex of a BLS12-381 G2 point (the MinSig variant's public
/// key), as in the genesis file's `threshold.group_public_key`.
pub fn parse_group_key(hex: &str) -> Result<G2, VerifyError> {
    let bytes =
        crate::from_hex(hex.trim()).ok_or_else(|| VerifyError::GroupKey("not hex".to_string()))?;
    G2::decode(commonware_codec::Copying(bytes.as_slice()))
        .map_err(|e| VerifyError::GroupKey(e.to_string()))
}

/// Parses a 32-byte digest from hex.
pub fn parse_digest(hex: &str, what: &'static str) -> Result<sha256::Digest, VerifyError> {
    let bytes = unhex(hex, what)?;
    sha256::Digest::decode(commonware_codec::Copying(bytes.as_slice()))
        .map_err(|_| VerifyError::Hex(what))
}

fn os_rng() -> Result<rand_chacha::ChaCha20Rng, VerifyError> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|_| VerifyError::Randomness)?;
    Ok(rand_chacha::ChaCha20Rng::from_seed(seed))
}

/// Checks a certified block against the group key (hex) and returns the block: it
/// decodes, its height is the claimed one, the certificate finalizes its digest in its
/// round, and the threshold signature verifies.
pub fn verify_block(
    group_public_key_hex: &str,
    certified: &CertifiedBlock,
) -> Result<LedgerBlock, VerifyError> {
    let group = parse_group_key(group_public_key_hex)?;
    verify_block_with(&group, certified, &mut os_rng()?)
}

/// As [verify_block], with a parsed group key and the caller's randomness (which must be
/// unpredictable to whoever made the certificate).
pub fn verify_block_with(
    group: &G2,
    certified: &CertifiedBlock,
    rng: &mut impl CryptoRng,
) -> Result<LedgerBlock, VerifyError> {
    let block_bytes = unhex(&certified.block, "block")?;
    let block = LedgerBlock::decode_cfg(commonware_codec::Copying(block_bytes.as_slice()), &())
        .map_err(|e| VerifyError::Block(e.to_string()))?;
    if block.height.get() != certified.height {
        return Err(VerifyError::Height {
            claimed: certified.height,
            block: block.height.get(),
        });
    }
    check_certificate(
        group,
        &certified.certificate,
        block.digest(),
        block.context.round,
        rng,
    )?;
    Ok(block)
}

/// Checks a certified block header against the group key (hex) and returns the header:
/// it decodes, its height is the claimed one, the certificate finalizes its digest in
/// its round, and the threshold signature verifies. What another ledger or a light client
/// needs to trust a state root (and so any state proof against it) without the block's
/// transactions.
pub fn verify_header(
    group_public_key_hex: &str,
    certified: &CertifiedHeader,
) -> Result<Header, VerifyError> {
    let group = parse_group_key(group_public_key_hex)?;
    verify_header_with(&group, certified, &mut os_rng()?)
}

/// As [verify_header], with a parsed group key and the caller's randomness.
pub fn verify_header_with(
    group: &G2,
    certified: &CertifiedHeader,
    rng: &mut impl CryptoRng,
) -> Result<Header, VerifyError> {
    let bytes = unhex(&certified.header, "header")?;
    let header = Header::decode(&bytes).map_err(|e| VerifyError::Block(e.to_string()))?;
    if header.height.get() != certified.height {
        return Err(VerifyError::Height {
            claimed: certified.height,
            block: header.height.get(),
        });
    }
    check_certificate(
        group,
        &certified.certificate,
        Header::digest_of(&bytes),
        header.context.round,
        rng,
    )?;
    Ok(header)
}

/// The certificate (hex) finalizes `digest` in `round`, signed by `group`.
fn check_certificate(
    group: &G2,
    certificate_hex: &str,
    digest: sha256::Digest,
    round: Round,
    rng: &mut impl CryptoRng,
) -> Result<(), VerifyError> {
    let cert_bytes = unhex(certificate_hex, "certificate")?;
    let finalization = Finalization::<Scheme, sha256::Digest>::decode_cfg(
        commonware_codec::Copying(cert_bytes.as_slice()),
        &(),
    )
    .map_err(|e| VerifyError::Certificate(e.to_string()))?;
    if finalization.proposal.payload != digest {
        return Err(VerifyError::Digest {
            certified: crate::to_hex(finalization.proposal.payload.as_ref()),
            block: crate::to_hex(digest.as_ref()),
        });
    }
    if finalization.proposal.round != round {
        return Err(VerifyError::Round);
    }
    let verifier = Scheme::certificate_verifier(CONSENSUS_NAMESPACE, *group);
    if !finalization.verify(rng, &verifier, &commonware_parallel::Sequential) {
        return Err(VerifyError::Signature);
    }
    Ok(())
}

/// Checks a state proof against a state root the caller trusts (a certified block's):
/// the proof names that root, and its Merkle path verifies. Returns the proven value
/// (`Some`) or the proven absence (`None`) of the proof's key.
pub fn verify_state_proof(
    proof: &StateProof,
    state_root: &sha256::Digest,
) -> Result<Option<Vec<u8>>, VerifyError> {
    let named = parse_digest(&proof.state_root, "state_root")?;
    if &named != state_root {
        return Err(VerifyError::StateRoot {
            proof: proof.state_root.clone(),
            certified: crate::to_hex(state_root.as_ref()),
        });
    }
    let key = unhex(&proof.key, "key")?;
    if key.len() > MAX_KEY_BYTES {
        return Err(VerifyError::Proof("key longer than 64 bytes".into()));
    }
    let bytes = unhex(&proof.proof, "proof")?;
    let key_cfg = (RangeCfg::from(0..=MAX_KEY_BYTES), ());
    let value_cfg = (RangeCfg::from(0..=MAX_VALUE_BYTES), ());
    match (proof.kind.as_str(), &proof.value) {
        ("inclusion", Some(value)) => {
            let value = unhex(value, "value")?;
            let p = InclusionProof::decode_cfg(
                commonware_codec::Copying(bytes.as_slice()),
                &(MAX_PROOF_DIGESTS, key_cfg),
            )
            .map_err(|e| VerifyError::Proof(e.to_string()))?;
            if p.verify::<Sha256, VariableEncoding<Vec<u8>>>(key, value.clone(), state_root) {
                Ok(Some(value))
            } else {
                Err(VerifyError::Merkle)
            }
        }
        ("exclusion", None) => {
            let p = AbsenceProof::decode_cfg(
                commonware_codec::Copying(bytes.as_slice()),
                &(MAX_PROOF_DIGESTS, (key_cfg, value_cfg), value_cfg),
            )
            .map_err(|e| VerifyError::Proof(e.to_string()))?;
            if p.verify::<Sha256>(&key, state_root) {
                Ok(None)
            } else {
                Err(VerifyError::Merkle)
            }
        }
        (kind, _) => Err(VerifyError::Kind(kind.to_string())),
    }
}

/// As [verify_state_proof], and the proof must be for `expected_key` (so a node cannot
/// answer a question about one entry with a valid proof about another).
pub fn verify_state_proof_for(
    proof: &StateProof,
    expected_key: &[u8],
    state_root: &sha256::Digest,
) -> Result<Option<Vec<u8>>, VerifyError> {
    let expected = crate::to_hex(expected_key);
    if !proof.key.eq_ignore_ascii_case(&expected) {
        return Err(VerifyError::Key {
            proof: proof.key.clone(),
            expected,
        });
    }
    verify_state_proof(proof, state_root)
}

/// Decodes a proven holding record; an absent record is a zero holding.
pub fn decode_holding(value: Option<&[u8]>) -> Result<tally_ledger::schema::Holding, VerifyError> {
    match value {
        None => Ok(tally_ledger::schema::Holding::default()),
        // Decoded here rather than with `schema::decode`, which panics on a corrupt record:
        // bytes from the network must never panic the caller.
        Some(v) => tally_ledger::schema::Holding::decode_cfg(commonware_codec::Copying(v), &())
            .map_err(|e| VerifyError::Value(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tally_types::{AccountId, InstrumentId};

    /// Real answers of a local network (see the file's `note`).
    const FIXTURE: &str = include_str!("../testdata/holding_proofs.json");

    struct Case {
        group: String,
        other_group: String,
        proof: StateProof,
        certified: CertifiedBlock,
        account: u64,
    }

    fn case(kind: &str) -> Case {
        let v: serde_json::Value = serde_json::from_str(FIXTURE).unwrap();
        let c = &v[kind];
        Case {
            group: v["group_public_key"].as_str().unwrap().into(),
            other_group: v["other_group_public_key"].as_str().unwrap().into(),
            proof: serde_json::from_value(c["proof"].clone()).unwrap(),
            certified: serde_json::from_value(c["certified"].clone()).unwrap(),
            account: c["account"].as_u64().unwrap(),
        }
    }

    fn holding_key(c: &Case) -> Vec<u8> {
        tally_ledger::schema::keys::holding(AccountId(c.account), InstrumentId(2))
    }

    /// Flips the low bit of the hex digit at `at`.
    fn flip(hex: &str, at: usize) -> String {
        let mut bytes = hex.as_bytes().to_vec();
        let digit = u8::from_str_radix(std::str::from_utf8(&bytes[at..=at]).unwrap(), 16).unwrap();
        bytes[at] = format!("{:x}", digit ^ 1).as_bytes()[0];
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn a_real_inclusion_proof_verifies_end_to_end() {
        let c = case("inclusion");
        let block = verify_block(&c.group, &c.certified).unwrap();
        assert_eq!(block.height.get(), c.proof.height);
        let value = verify_state_proof_for(&c.proof, &holding_key(&c), &block.state_root).unwrap();
        let holding = decode_holding(value.as_deref()).unwrap();
        assert_eq!(holding.balance, 100_000_000); // 1,000,000.00
        assert_eq!((holding.held, holding.frozen), (0, 0));
    }

    #[test]
    fn a_real_exclusion_proof_verifies_end_to_end() {
        let c = case("exclusion");
        let block = verify_block(&c.group, &c.certified).unwrap();
        let value = verify_state_proof_for(&c.proof, &holding_key(&c), &block.state_root).unwrap();
        assert_eq!(value, None);
        assert_eq!(decode_holding(None).unwrap().balance, 0);
    }

    #[test]
    fn a_certificate_fails_under_another_group_key() {
        let c = case("inclusion");
        assert_eq!(
            verify_block(&c.other_group, &c.certified).unwrap_err(),
            VerifyError::Signature
        );
        assert!(matches!(
            verify_block("00ff", &c.certified),
            Err(VerifyError::GroupKey(_))
        ));
    }

    #[test]
    fn tampered_blocks_and_certificates_fail() {
        let c = case("inclusion");
        // Every hex digit of the block's encoding is covered by the certified digest (or
        // by decoding); try a spread of positions.
        let len = c.certified.block.len();
        for at in (0..len).step_by(len / 40 + 1) {
            let mut t = c.certified.clone();
            t.block = flip(&t.block, at);
            assert!(verify_block(&c.group, &t).is_err(), "block digit {at}");
        }
        let len = c.certified.certificate.len();
        for at in (0..len).step_by(len / 40 + 1) {
            let mut t = c.certified.clone();
            t.certificate = flip(&t.certificate, at);
            assert!(
                verify_block(&c.group, &t).is_err(),
                "certificate digit {at}"
            );
        }
        let mut t = c.certified.clone();
        t.height += 1;
        assert!(matches!(
            verify_block(&c.group, &t),
            Err(VerifyError::Height { .. })
        ));
    }

    /// The certified header of a fixture's certified block.
    fn header_of(certified: &CertifiedBlock) -> CertifiedHeader {
        let bytes = crate::from_hex(&certified.block).unwrap();
        let block =
            LedgerBlock::decode_cfg(commonware_codec::Copying(bytes.as_slice()), &()).unwrap();
        CertifiedHeader {
            height: certified.height,
            header: crate::to_hex(&block.header()),
            certificate: certified.certificate.clone(),
        }
    }

    #[test]
    fn a_certified_header_proves_the_state_root_without_the_transactions() {
        let c = case("inclusion");
        let block = verify_block(&c.group, &c.certified).unwrap();
        let h = header_of(&c.certified);
        let header = verify_header(&c.group, &h).unwrap();
        assert_eq!(header.state_root, block.state_root);
        assert_eq!(header.txs_digest, block.txs_digest());
        let value = verify_state_proof_for(&c.proof, &holding_key(&c), &header.state_root);
        assert!(value.unwrap().is_some());
        assert_eq!(
            verify_header(&c.other_group, &h).unwrap_err(),
            VerifyError::Signature
        );
        for at in 0..h.header.len() {
            let mut t = h.clone();
            t.header = flip(&t.header, at);
            assert!(verify_header(&c.group, &t).is_err(), "header digit {at}");
        }
        let mut t = h.clone();
        t.height -= 1;
        assert!(matches!(
            verify_header(&c.group, &t),
            Err(VerifyError::Height { .. })
        ));
        let mut t = h;
        t.header.push_str("00");
        assert!(matches!(
            verify_header(&c.group, &t),
            Err(VerifyError::Block(_))
        ));
    }

    #[test]
    fn tampered_proofs_fail() {
        let c = case("inclusion");
        let block = verify_block(&c.group, &c.certified).unwrap();
        let root = block.state_root;
        let key = holding_key(&c);

        // Another balance.
        let mut t = c.proof.clone();
        let value = t.value.clone().unwrap();
        t.value = Some(flip(&value, 31));
        assert_eq!(
            verify_state_proof_for(&t, &key, &root),
            Err(VerifyError::Merkle)
        );

        // Proof bytes changed.
        let len = c.proof.proof.len();
        for at in (0..len).step_by(len / 30 + 1) {
            let mut t = c.proof.clone();
            t.proof = flip(&t.proof, at);
            assert!(
                verify_state_proof_for(&t, &key, &root).is_err(),
                "proof digit {at}"
            );
        }

        // A root other than the certified one.
        let other = parse_digest(&flip(&c.proof.state_root, 0), "root").unwrap();
        assert!(matches!(
            verify_state_proof(&c.proof, &other),
            Err(VerifyError::StateRoot { .. })
        ));
        let mut t = c.proof.clone();
        t.state_root = crate::to_hex(other.as_ref());
        assert_eq!(verify_state_proof(&t, &other), Err(VerifyError::Merkle));

        // A valid proof about another entry.
        let excl = case("exclusion");
        assert!(matches!(
            verify_state_proof_for(&c.proof, &holding_key(&excl), &root),
            Err(VerifyError::Key { .. })
        ));

        // An inclusion proof presented as an absence, and the other way round.
        let mut t = c.proof.clone();
        t.kind = "exclusion".into();
        assert!(verify_state_proof(&t, &root).is_err());
        let mut t = c.proof.clone();
        t.value = None;
        assert!(verify_state_proof(&t, &root).is_err());
    }

    #[test]
    fn an_absence_proof_does_not_hide_a_present_entry() {
        let incl = case("inclusion");
        let excl = case("exclusion");
        let block = verify_block(&excl.group, &excl.certified).unwrap();
        // The exclusion proof names account 500's key; renamed to account 400's it fails.
        let mut t = excl.proof.clone();
        t.key = incl.proof.key.clone();
        assert!(verify_state_proof(&t, &block.state_root).is_err());
    }
}
