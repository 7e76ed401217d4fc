//! Cross-ledger settlement: a hold's counterpart on another Tally network, and the proof
//! a transaction carries that something is final there (docs/interop.md).
//!
//! A [RemoteProof] is opaque bytes at this layer: a certified block header of the remote
//! network and a Merkle proof of one state record against that header's state root.
//! Checking it (a BLS pairing, a Merkle path) is the node's job, in the verification step
//! ahead of execution, through a [RemoteVerifier]; the ledger then only compares what
//! was proven with its registry of remote ledgers and with the local hold.

use crate::amount::Amount;
use crate::codec::{BoundedVec, Text};
use crate::codec_struct;
use crate::ids::{AccountId, HoldId, InstrumentId};
use crate::limits::*;
use crate::model::{CrossRole, GroupKey};
use crate::time::Timestamp;
use crate::tx::ChainId;

/// The counterpart of a local cross-ledger hold: the hold on the remote ledger that
/// must pay this hold's payer, and what it must pay.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RemoteLeg {
    /// The remote ledger (registered here).
    pub chain: ChainId,
    /// The counterpart hold's id there.
    pub hold: HoldId,
    /// The account there that the counterpart pays (this hold's payer's).
    pub payee: AccountId,
    /// The instrument there.
    pub instrument: InstrumentId,
    /// The amount there, in that instrument's minor units.
    pub amount: Amount,
}
codec_struct!(RemoteLeg {
    chain,
    hold,
    payee,
    instrument,
    amount
});

/// What makes a hold one leg of a cross-ledger swap: its side and its counterpart.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CrossLeg {
    /// Leader or follower.
    pub role: CrossRole,
    /// The counterpart hold on the remote ledger.
    pub counterpart: RemoteLeg,
}
codec_struct!(CrossLeg { role, counterpart });

/// Evidence that a record is in a remote ledger's finalized state: the remote block's
/// header and finality certificate, and a Merkle proof of `key` → `value` against the
/// header's state root. The group key and namespace are the ones the certificate is
/// checked under; the ledger accepts the proof only if they are the ones registered for
/// `chain`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RemoteProof {
    /// The remote ledger the proof is from.
    pub chain: ChainId,
    /// Group key the certificate verifies under.
    pub group_key: GroupKey,
    /// Namespace the certificate was signed in.
    pub namespace: Text<MAX_NAMESPACE_BYTES>,
    /// The remote block's header (`GET /block/{h}/header`).
    pub header: BoundedVec<u8, MAX_REMOTE_HEADER_BYTES>,
    /// The finality certificate of that header.
    pub certificate: BoundedVec<u8, MAX_REMOTE_CERTIFICATE_BYTES>,
    /// The state key proven.
    pub key: BoundedVec<u8, MAX_REMOTE_KEY_BYTES>,
    /// Its value in the remote state.
    pub value: BoundedVec<u8, MAX_REMOTE_VALUE_BYTES>,
    /// Merkle proof of `key` → `value` against the header's state root.
    pub merkle: BoundedVec<u8, MAX_REMOTE_MERKLE_BYTES>,
}
codec_struct!(RemoteProof {
    chain,
    group_key,
    namespace,
    header,
    certificate,
    key,
    value,
    merkle
});

/// What checking a [RemoteProof] established about the remote block: its certificate
/// verifies under the proof's group key and namespace, and the proof's record is in its
/// state. The ledger reads height and time from here, never from unchecked bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ProvenHeader {
    /// Height of the certified remote block.
    pub height: u64,
    /// Its time (the remote ledger's time when it was final).
    pub time: Timestamp,
}

/// Why a remote proof did not verify.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RemoteProofError {
    /// The header does not decode.
    #[error("the remote header does not decode")]
    Header,
    /// The certificate does not decode, or certifies another header or round.
    #[error("the certificate does not certify this header")]
    Certificate,
    /// The threshold signature does not verify under the proof's group key.
    #[error("the certificate's signature does not verify under the group key")]
    Signature,
    /// The Merkle proof does not decode or does not verify against the state root.
    #[error("the Merkle proof does not verify against the certified state root")]
    Merkle,
    /// The proof's chain is not registered and active at the node that admits it, under
    /// the proof's group key and namespace (a refusal of admission only: the ledger
    /// decides the same question itself when it applies the transaction).
    #[error("the proof's chain is not a registered, active remote ledger with this group key")]
    Unregistered,
    /// No verifier that checks remote proofs was given (plain [crate::verify_batch]).
    #[error("remote proofs are not checked here")]
    Unchecked,
}

/// Checks remote proofs. The node's implementation verifies the BLS certificate and the
/// QMDB Merkle proof; it must be deterministic (the same proof verifies on every
/// validator or on none) and should cache certificates it has checked.
pub trait RemoteVerifier: Sync {
    /// Checks one proof.
    fn verify(&self, proof: &RemoteProof) -> Result<ProvenHeader, RemoteProofError>;
}

/// A verifier that accepts no remote proof: a transaction carrying one fails
/// verification. What [crate::verify_batch] uses.
pub struct NoRemoteProofs;

impl RemoteVerifier for NoRemoteProofs {
    fn verify(&self, _: &RemoteProof) -> Result<ProvenHeader, RemoteProofError> {
        Err(RemoteProofError::Unchecked)
    }
}
