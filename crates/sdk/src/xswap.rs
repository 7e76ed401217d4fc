//! Cross-ledger swaps from a client (docs/interop.md): the proof one ledger needs of a
//! hold on the other, built from what the other ledger's node serves and checked here
//! exactly as the validators will check it, so a relayer never submits a proof that
//! cannot verify.
//!
//! Nothing here is trusted by the ledgers: a proof that is stale, forged or for another
//! swap is refused there. The group key and namespace come from the *local* ledger's
//! registry (where the operator put them), never from the remote node.

use crate::{Client, SdkError, from_hex};
use commonware_codec::DecodeExt as _;
use tally_ledger::schema::{HoldRecord, keys};
use tally_types::codec::{BoundedVec, Text};
use tally_types::model::GroupKey;
use tally_types::remote::{ProvenHeader, RemoteProof, RemoteVerifier as _};
use tally_types::{ChainId, HoldId, PrivateKey};

/// A checked proof of a remote hold, with what it shows.
#[derive(Clone, Debug)]
pub struct HoldProof {
    /// What a transaction carries.
    pub proof: RemoteProof,
    /// The hold's record as proven.
    pub record: HoldRecord,
    /// The certified block it is proven at.
    pub header: ProvenHeader,
}

fn bytes<const N: usize>(hex: &str, what: &str) -> Result<BoundedVec<u8, N>, SdkError> {
    let raw = from_hex(hex).ok_or_else(|| SdkError::Invalid(format!("{what} is not hex")))?;
    BoundedVec::new(raw).ok_or_else(|| SdkError::Invalid(format!("{what} longer than {N} bytes")))
}

/// Proves the current record of hold `hold` on the ledger `remote_chain` (served by
/// `remote`, read with `reader`) for submission to the ledger served by `local`, which
/// must have `remote_chain` registered.
pub fn prove_remote_hold(
    local: &Client,
    remote: &Client,
    remote_chain: &ChainId,
    hold: HoldId,
    reader: Option<&PrivateKey>,
) -> Result<HoldProof, SdkError> {
    let served = remote.chain_id()?;
    if &served != remote_chain {
        return Err(SdkError::Invalid(format!(
            "{} serves chain {}, not {}",
            remote.url(),
            served.as_str(),
            remote_chain.as_str()
        )));
    }
    let registered = local.remote_ledger(remote_chain.as_str())?;
    let group_key = from_hex(&registered.group_public_key)
        .and_then(|b| GroupKey::from_bytes(&b))
        .ok_or_else(|| SdkError::Invalid("the registered group key does not decode".into()))?;
    let namespace = Text::new(registered.namespace.clone())
        .ok_or_else(|| SdkError::Invalid("the registered namespace does not fit".into()))?;
    let state = remote.proof_hold(hold, reader)?;
    if state.kind != "inclusion" {
        return Err(SdkError::Invalid(format!(
            "hold {} does not exist on {}",
            hold.0,
            remote_chain.as_str()
        )));
    }
    let certified = remote.certified_header(state.height)?;
    let key = keys::hold(hold);
    let proof = RemoteProof {
        chain: remote_chain.clone(),
        group_key,
        namespace,
        header: bytes(&certified.header, "header")?,
        certificate: bytes(&certified.certificate, "certificate")?,
        key: BoundedVec::new(key).ok_or_else(|| SdkError::Invalid("hold key".into()))?,
        value: bytes(state.value.as_deref().unwrap_or_default(), "value")?,
        merkle: bytes(&state.proof, "proof")?,
    };
    let header = tally_node::remote::verifier()
        .verify(&proof)
        .map_err(|e| SdkError::Invalid(format!("the remote proof does not verify: {e}")))?;
    let record = HoldRecord::decode(commonware_codec::Copying(&proof.value[..]))
        .map_err(|e| SdkError::Invalid(format!("the proven hold does not decode: {e}")))?;
    Ok(HoldProof {
        proof,
        record,
        header,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{CertifiedBlock, StateProof};
    use commonware_codec::{Decode as _, Encode as _};
    use tally_node::block::LedgerBlock;
    use tally_node::remote::ProofVerifier;
    use tally_types::remote::RemoteProofError;

    /// Real answers of a local network (see the file's `note`).
    const FIXTURE: &str = include_str!("../testdata/holding_proofs.json");

    /// A remote proof of the fixture's holding, as a transaction would carry it.
    fn fixture_proof() -> (RemoteProof, u64) {
        let v: serde_json::Value = serde_json::from_str(FIXTURE).unwrap();
        let c = &v["inclusion"];
        let certified: CertifiedBlock = serde_json::from_value(c["certified"].clone()).unwrap();
        let state: StateProof = serde_json::from_value(c["proof"].clone()).unwrap();
        let block_bytes = from_hex(&certified.block).unwrap();
        let block = LedgerBlock::decode_cfg(commonware_codec::Copying(block_bytes.as_slice()), &())
            .unwrap();
        let key = from_hex(v["group_public_key"].as_str().unwrap()).unwrap();
        let proof = RemoteProof {
            chain: ChainId::new("tally-demo").unwrap(),
            group_key: GroupKey::from_bytes(&key).unwrap(),
            namespace: Text::new("TALLY_CONSENSUS_V1").unwrap(),
            header: BoundedVec::new(block.header()).unwrap(),
            certificate: bytes(&certified.certificate, "certificate").unwrap(),
            key: bytes(&state.key, "key").unwrap(),
            value: bytes(state.value.as_deref().unwrap(), "value").unwrap(),
            merkle: bytes(&state.proof, "proof").unwrap(),
        };
        (proof, block.time.0)
    }

    fn flipped<const N: usize>(v: &BoundedVec<u8, N>, at: usize) -> BoundedVec<u8, N> {
        let mut raw = v.to_vec();
        raw[at] ^= 1;
        BoundedVec::new(raw).unwrap()
    }

    #[test]
    fn a_real_certified_record_verifies_and_every_tampering_fails() {
        let (good, time) = fixture_proof();
        let verifier = ProofVerifier::new();
        let proven = verifier.verify(&good).unwrap();
        assert_eq!((proven.height, proven.time.0), (42, time));
        // Again, from the cache: the same answer.
        assert_eq!(verifier.verify(&good).unwrap(), proven);

        // A cached certificate does not excuse the Merkle path.
        let mut t = good.clone();
        t.value = flipped(&t.value, t.value.len() - 1);
        assert_eq!(verifier.verify(&t), Err(RemoteProofError::Merkle));
        let mut t = good.clone();
        t.key = flipped(&t.key, t.key.len() - 1);
        assert_eq!(verifier.verify(&t), Err(RemoteProofError::Merkle));
        let mut t = good.clone();
        t.merkle = flipped(&t.merkle, t.merkle.len() / 2);
        assert_eq!(verifier.verify(&t), Err(RemoteProofError::Merkle));

        // The certificate: under another key, in another namespace, of another header.
        let v: serde_json::Value = serde_json::from_str(FIXTURE).unwrap();
        let other = from_hex(v["other_group_public_key"].as_str().unwrap()).unwrap();
        let mut t = good.clone();
        t.group_key = GroupKey::from_bytes(&other).unwrap();
        assert_eq!(verifier.verify(&t), Err(RemoteProofError::Signature));
        let mut t = good.clone();
        t.namespace = Text::new("TALLY_CONSENSUS_V2").unwrap();
        assert_eq!(verifier.verify(&t), Err(RemoteProofError::Signature));
        for at in (0..good.header.len()).step_by(7) {
            let mut t = good.clone();
            t.header = flipped(&t.header, at);
            assert!(verifier.verify(&t).is_err(), "header byte {at}");
        }
        for at in (0..good.certificate.len()).step_by(5) {
            let mut t = good.clone();
            t.certificate = flipped(&t.certificate, at);
            assert!(verifier.verify(&t).is_err(), "certificate byte {at}");
        }
        // A proof survives its own encoding (a transaction carries it byte for byte).
        let decoded = RemoteProof::decode_cfg(good.encode(), &()).unwrap();
        assert_eq!(verifier.verify(&decoded).unwrap(), proven);
    }
}
