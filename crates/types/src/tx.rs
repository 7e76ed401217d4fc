//! Transactions: encoding, signing, and verification ahead of execution.
//!
//! A [Transaction] is signed over `chain id ‖ encoding` under the domain tag
//! [TX_NAMESPACE]. Verification is its own step ([verify_batch]) that checks every
//! signature with ZIP-215 rules, in batches, on as many threads as asked; only its output,
//! a [VerifiedTx], can be applied to the ledger, so no transaction is executed unverified
//! and none is verified twice.

use crate::codec::{BoundedVec, Text};
use crate::codec_struct;
use crate::ids::Hash32;
use crate::limits::*;
use crate::ops::Operation;
use crate::remote::{NoRemoteProofs, ProvenHeader, RemoteProofError, RemoteVerifier};
use crate::time::Timestamp;
use bytes::BufMut;
use commonware_codec::Buf;
use commonware_codec::{Decode, Encode, EncodeSize, Error, RangeCfg, Read, ReadExt, Write};
use commonware_cryptography::ed25519::{PrivateKey, PublicKey, Signature};
use commonware_cryptography::{BatchEntry, BatchVerifier, Signer, Verifier};
use commonware_parallel::Sequential;
use rand_core::{CryptoRng, SeedableRng};

/// Domain tag under which transactions are signed, so that a transaction signature can
/// never be mistaken for a signature in another context (consensus, API requests).
pub const TX_NAMESPACE: &[u8] = b"TALLY_TX_V1";

/// The network a transaction is meant for. Signed into every transaction, so one signed
/// for a test network is invalid on a production one.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ChainId(Text<MAX_CHAIN_ID_BYTES>);

impl ChainId {
    /// A chain id from its name (at most 32 bytes, printable).
    pub fn new(name: &str) -> Option<Self> {
        Text::new(name).filter(|t| !t.as_str().is_empty()).map(Self)
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl Write for ChainId {
    fn write(&self, buf: &mut impl BufMut) {
        self.0.write(buf);
    }
}
impl EncodeSize for ChainId {
    fn encode_size(&self) -> usize {
        self.0.encode_size()
    }
}
impl Read for ChainId {
    type Cfg = ();
    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, Error> {
        let text = Text::read(buf)?;
        if text.as_str().is_empty() {
            return Err(Error::Invalid("ChainId", "empty"));
        }
        Ok(Self(text))
    }
}

/// What a signer approves.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Transaction {
    /// The key whose nonce this transaction uses; it must also approve it.
    pub sender: PublicKey,
    /// The sender's next nonce (starting at 0); each value is accepted once.
    pub nonce: u64,
    /// The transaction is void in blocks later than this instant.
    pub expires_at: Timestamp,
    /// The operations, applied in order, all or none.
    pub operations: BoundedVec<Operation, MAX_OPS_PER_TX>,
}
codec_struct!(Transaction {
    sender,
    nonce,
    expires_at,
    operations
});

impl Transaction {
    /// Units of execution work (see [Operation::work]): at least one.
    pub fn work(&self) -> usize {
        self.operations
            .iter()
            .map(Operation::work)
            .sum::<usize>()
            .max(1)
    }

    /// The remote proofs the operations carry, in operation order.
    pub fn remote_proofs(&self) -> impl Iterator<Item = &crate::remote::RemoteProof> {
        self.operations.iter().filter_map(Operation::remote_proof)
    }

    /// The bytes every approval signs (under [TX_NAMESPACE]): `chain id ‖ encoding`.
    pub fn signing_payload(&self, chain: &ChainId) -> Vec<u8> {
        let mut out = Vec::with_capacity(chain.encode_size() + self.encode_size());
        chain.write(&mut out);
        self.write(&mut out);
        out
    }

    /// The transaction id: SHA-256 of the signing payload. Approvals are not part of it,
    /// so adding a signature does not change the id.
    pub fn id(&self, chain: &ChainId) -> Hash32 {
        Hash32::digest(&[&self.signing_payload(chain)])
    }

    /// Signs with every key in `keys` (the sender's among them) and returns the signed
    /// transaction, approvals sorted by key.
    pub fn sign(self, chain: &ChainId, keys: &[&PrivateKey]) -> SignedTx {
        let payload = self.signing_payload(chain);
        let mut approvals: Vec<Approval> = keys
            .iter()
            .map(|k| Approval {
                key: k.public_key(),
                signature: k.sign(TX_NAMESPACE, &payload),
            })
            .collect();
        approvals.sort_by(|a, b| a.key.cmp(&b.key));
        approvals.dedup_by(|a, b| a.key == b.key);
        approvals.truncate(MAX_APPROVALS_PER_TX);
        SignedTx {
            tx: self,
            approvals: Approvals(approvals),
        }
    }
}

/// One key's signature over a transaction.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Approval {
    /// Signing key.
    pub key: PublicKey,
    /// Ed25519 signature over the signing payload.
    pub signature: Signature,
}
codec_struct!(Approval { key, signature });

/// Approvals, strictly ascending by key (so there are no duplicates and one encoding).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Approvals(Vec<Approval>);

impl core::ops::Deref for Approvals {
    type Target = [Approval];
    fn deref(&self) -> &[Approval] {
        &self.0
    }
}

impl Write for Approvals {
    fn write(&self, buf: &mut impl BufMut) {
        self.0.len().write(buf);
        for a in &self.0 {
            a.write(buf);
        }
    }
}
impl EncodeSize for Approvals {
    fn encode_size(&self) -> usize {
        self.0.len().encode_size() + self.0.iter().map(EncodeSize::encode_size).sum::<usize>()
    }
}
impl Read for Approvals {
    type Cfg = ();
    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, Error> {
        Self::read_reusing(buf, None)
    }
}

impl Approvals {
    /// Reads 1 to [MAX_APPROVALS_PER_TX] approvals, strictly ascending by key. A key whose
    /// bytes are `known`'s is not decoded again: decoding a key decompresses a curve
    /// point, and every validator decodes every transaction, whose sender always approves.
    fn read_reusing(buf: &mut impl Buf, known: Option<&PublicKey>) -> Result<Self, Error> {
        let count = usize::read_cfg(buf, &RangeCfg::new(1..=MAX_APPROVALS_PER_TX))?;
        let mut list = Vec::with_capacity(count);
        for _ in 0..count {
            let raw = <[u8; 32]>::read(buf)?;
            let key = match known {
                Some(k) if raw.as_slice() == k.as_ref() => k.clone(),
                _ => PublicKey::decode_cfg(commonware_codec::Copying(raw.as_slice()), &())?,
            };
            let signature = Signature::read(buf)?;
            list.push(Approval { key, signature });
        }
        if !list.windows(2).all(|w| w[0].key < w[1].key) {
            return Err(Error::Invalid("Approvals", "keys not strictly ascending"));
        }
        Ok(Self(list))
    }
}

/// A transaction with its approvals, as submitted and as carried in blocks.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SignedTx {
    /// The transaction.
    pub tx: Transaction,
    /// Approvals, ascending by key.
    pub approvals: Approvals,
}

impl Write for SignedTx {
    fn write(&self, buf: &mut impl BufMut) {
        self.tx.write(buf);
        self.approvals.write(buf);
    }
}
impl EncodeSize for SignedTx {
    fn encode_size(&self) -> usize {
        self.tx.encode_size() + self.approvals.encode_size()
    }
}
/// Decoded as the concatenation of its fields; the sender's own approval reuses the
/// sender's decoded key (`Approvals::read_reusing`).
impl Read for SignedTx {
    type Cfg = ();
    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, Error> {
        let tx = Transaction::read(buf)?;
        let approvals = Approvals::read_reusing(buf, Some(&tx.sender))?;
        Ok(Self { tx, approvals })
    }
}

impl SignedTx {
    /// Decodes a signed transaction, enforcing [MAX_TX_BYTES] and every bound of the
    /// encoding, and that the sender is among the approvers.
    pub fn decode_bounded(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() > MAX_TX_BYTES {
            return Err(Error::Invalid("SignedTx", "larger than MAX_TX_BYTES"));
        }
        let signed = Self::decode_cfg(commonware_codec::Copying(bytes), &())?;
        if !signed.approvals.iter().any(|a| a.key == signed.tx.sender) {
            return Err(Error::Invalid("SignedTx", "sender did not approve"));
        }
        Ok(signed)
    }

    /// The canonical encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.encode().to_vec()
    }
}

/// Whether `key` is fit to register: a canonical encoding of a point that is not of small
/// order. ZIP-215 verification accepts signatures under small-order keys that anyone can
/// forge, so such keys must never identify a participant.
pub fn is_strong_key(key: &PublicKey) -> bool {
    let mut bytes = [0u8; 32];
    bytes.copy_from_slice(key.as_ref());
    let compressed = curve25519_dalek::edwards::CompressedEdwardsY(bytes);
    compressed
        .decompress()
        .is_some_and(|p| !p.is_small_order() && p.compress().to_bytes() == bytes)
}

/// Why a transaction failed verification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// A signature does not verify under its key.
    #[error("invalid signature by approval {0}")]
    BadSignature(usize),
    /// The sender's key is not among the approvals.
    #[error("sender did not approve")]
    SenderNotApproving,
    /// The transaction encodes to more than [MAX_TX_BYTES].
    #[error("transaction larger than MAX_TX_BYTES")]
    TooLarge,
    /// A remote proof the transaction carries does not verify.
    #[error("remote proof: {0}")]
    RemoteProof(#[from] RemoteProofError),
}

/// A transaction whose every signature has been checked for a chain. Only [verify_batch]
/// and [verify_one] make one, so the ledger can only apply verified transactions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedTx {
    id: Hash32,
    chain: ChainId,
    signed: SignedTx,
    proven: Vec<ProvenHeader>,
}

impl VerifiedTx {
    /// The transaction id.
    pub fn id(&self) -> Hash32 {
        self.id
    }

    /// The chain it was verified for.
    pub fn chain(&self) -> &ChainId {
        &self.chain
    }

    /// The transaction.
    pub fn tx(&self) -> &Transaction {
        &self.signed.tx
    }

    /// The signed transaction, e.g. to put in a block.
    pub fn signed(&self) -> &SignedTx {
        &self.signed
    }

    /// Keys whose signatures verified, ascending.
    pub fn signers(&self) -> impl Iterator<Item = &PublicKey> {
        self.signed.approvals.iter().map(|a| &a.key)
    }

    /// What each remote proof the transaction carries established, in the order of the
    /// operations carrying them ([Transaction::remote_proofs]).
    pub fn proven(&self) -> &[ProvenHeader] {
        &self.proven
    }
}

/// Checks every remote proof `tx` carries, in order.
fn check_remote(
    tx: &Transaction,
    remote: &impl RemoteVerifier,
) -> Result<Vec<ProvenHeader>, VerifyError> {
    let proven = tx
        .remote_proofs()
        .map(|p| remote.verify(p))
        .collect::<Result<Vec<_>, _>>()?;
    assert_eq!(
        proven.len(),
        tx.remote_proofs().count(),
        "one verdict per proof"
    );
    Ok(proven)
}

fn precheck(signed: &SignedTx) -> Result<(), VerifyError> {
    if !signed.approvals.iter().any(|a| a.key == signed.tx.sender) {
        return Err(VerifyError::SenderNotApproving);
    }
    if signed.encode_size() > MAX_TX_BYTES {
        return Err(VerifyError::TooLarge);
    }
    Ok(())
}

/// Verifies one transaction signature by signature; a transaction carrying a remote
/// proof fails (see [verify_one_with]).
pub fn verify_one(chain: &ChainId, signed: SignedTx) -> Result<VerifiedTx, VerifyError> {
    verify_one_with(chain, signed, &NoRemoteProofs)
}

/// Verifies one transaction signature by signature, and each remote proof it carries
/// with `remote`.
pub fn verify_one_with(
    chain: &ChainId,
    signed: SignedTx,
    remote: &impl RemoteVerifier,
) -> Result<VerifiedTx, VerifyError> {
    precheck(&signed)?;
    let payload = signed.tx.signing_payload(chain);
    for (i, a) in signed.approvals.iter().enumerate() {
        if !a.key.verify(TX_NAMESPACE, &payload, &a.signature) {
            return Err(VerifyError::BadSignature(i));
        }
    }
    let proven = check_remote(&signed.tx, remote)?;
    let id = Hash32::digest(&[&payload]);
    Ok(VerifiedTx {
        id,
        chain: chain.clone(),
        signed,
        proven,
    })
}

/// Verifies many transactions: all signatures of a chunk in one batch equation, chunks
/// spread over `threads` threads. A chunk whose batch fails is re-checked signature by
/// signature to find the culprits; ZIP-215 makes the two checks agree, so the result is
/// the same as [verify_one] on each. `rng` seeds the batch randomizers and must be
/// unpredictable to whoever produced the signatures (e.g. the OS generator). A
/// transaction carrying a remote proof fails (see [verify_batch_with]).
pub fn verify_batch<R: CryptoRng>(
    chain: &ChainId,
    txs: Vec<SignedTx>,
    threads: usize,
    rng: &mut R,
) -> Vec<Result<VerifiedTx, VerifyError>> {
    verify_batch_with(chain, txs, threads, rng, &NoRemoteProofs)
}

/// As [verify_batch], and each remote proof a transaction carries is checked with
/// `remote` (on the same threads as its signatures).
pub fn verify_batch_with<R: CryptoRng>(
    chain: &ChainId,
    txs: Vec<SignedTx>,
    threads: usize,
    rng: &mut R,
    remote: &impl RemoteVerifier,
) -> Vec<Result<VerifiedTx, VerifyError>> {
    if txs.is_empty() {
        return Vec::new();
    }
    let threads = threads.clamp(1, 64);
    let chunk_len = txs.len().div_ceil(threads);
    let mut chunks: Vec<Vec<SignedTx>> = Vec::new();
    let mut rest = txs;
    while !rest.is_empty() {
        let tail = rest.split_off(chunk_len.min(rest.len()));
        chunks.push(core::mem::replace(&mut rest, tail));
    }
    let seeds: Vec<[u8; 32]> = chunks
        .iter()
        .map(|_| {
            let mut seed = [0u8; 32];
            rng.fill_bytes(&mut seed);
            seed
        })
        .collect();
    if chunks.len() == 1 {
        let (chunk, seed) = (chunks.pop().unwrap_or_default(), seeds[0]);
        return verify_chunk(chain, chunk, seed, remote);
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .into_iter()
            .zip(seeds)
            .map(|(chunk, seed)| s.spawn(move || verify_chunk(chain, chunk, seed, remote)))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| match h.join() {
                Ok(results) => results,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    })
}

fn verify_chunk(
    chain: &ChainId,
    chunk: Vec<SignedTx>,
    seed: [u8; 32],
    remote: &impl RemoteVerifier,
) -> Vec<Result<VerifiedTx, VerifyError>> {
    let mut rng = rand_chacha::ChaCha20Rng::from_seed(seed);
    let prepared: Vec<(Vec<u8>, SignedTx)> = chunk
        .into_iter()
        .map(|s| (s.tx.signing_payload(chain), s))
        .collect();
    let entries: Vec<(&[u8], &Approval)> = prepared
        .iter()
        .filter(|(_, s)| precheck(s).is_ok())
        .flat_map(|(p, s)| s.approvals.iter().map(move |a| (p.as_slice(), a)))
        .collect();
    let all_valid = !entries.is_empty()
        && PublicKey::verify_batch(
            &mut rng,
            &entries,
            |_, (msg, a)| BatchEntry {
                namespace: TX_NAMESPACE,
                message: msg,
                public_key: &a.key,
                signature: &a.signature,
            },
            &Sequential,
        );
    prepared
        .into_iter()
        .map(|(payload, signed)| {
            precheck(&signed)?;
            if !all_valid {
                // Fall back to one-by-one to find which transactions are bad.
                return verify_one_with(chain, signed, remote);
            }
            let proven = check_remote(&signed.tx, remote)?;
            let id = Hash32::digest(&[&payload]);
            Ok(VerifiedTx {
                id,
                chain: chain.clone(),
                signed,
                proven,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::Lei;
    use crate::ops::{Operation, SuspendParticipant};

    fn chain() -> ChainId {
        ChainId::new("tally-test").unwrap()
    }

    fn sample(seed: u64, nonce: u64) -> (PrivateKey, SignedTx) {
        let key = PrivateKey::from_seed(seed);
        let op = Operation::SuspendParticipant(SuspendParticipant {
            lei: Lei::parse("5493001KJTIIGC8Y1R12").unwrap(),
            reason: 7,
        });
        let tx = Transaction {
            sender: key.public_key(),
            nonce,
            expires_at: Timestamp(1_000),
            operations: BoundedVec::new(vec![op]).unwrap(),
        };
        let signed = tx.sign(&chain(), &[&key]);
        (key, signed)
    }

    #[test]
    fn small_order_keys_are_weak() {
        assert!(is_strong_key(&PrivateKey::from_seed(1).public_key()));
        let mut identity = [0u8; 32];
        identity[0] = 1; // the neutral element, order 1
        let weak = <PublicKey as commonware_codec::DecodeExt<()>>::decode(
            commonware_codec::Copying(&identity),
        );
        if let Ok(weak) = weak {
            assert!(!is_strong_key(&weak));
        }
    }

    #[test]
    fn round_trip_and_verify() {
        let (_, signed) = sample(1, 0);
        let bytes = signed.to_bytes();
        let decoded = SignedTx::decode_bounded(&bytes).unwrap();
        assert_eq!(decoded, signed);
        let v = verify_one(&chain(), decoded).unwrap();
        assert_eq!(v.id(), signed.tx.id(&chain()));
    }

    #[test]
    fn wrong_chain_or_tampering_fails() {
        let (_, signed) = sample(1, 0);
        let other = ChainId::new("tally-other").unwrap();
        assert_eq!(
            verify_one(&other, signed.clone()),
            Err(VerifyError::BadSignature(0))
        );
        let mut tampered = signed;
        tampered.tx.nonce = 1;
        assert_eq!(
            verify_one(&chain(), tampered),
            Err(VerifyError::BadSignature(0))
        );
    }

    #[test]
    fn batch_agrees_with_single() {
        let mut rng = rand_chacha::ChaCha20Rng::from_seed([9; 32]);
        let mut txs: Vec<SignedTx> = (0..40).map(|i| sample(i, i).1).collect();
        txs[7].tx.nonce += 1; // invalidates its signature
        txs[31].approvals.0[0].signature = txs[30].approvals[0].signature.clone();
        let single: Vec<_> = txs
            .iter()
            .cloned()
            .map(|t| verify_one(&chain(), t))
            .collect();
        for threads in [1, 2, 3] {
            let batch = verify_batch(&chain(), txs.clone(), threads, &mut rng);
            assert_eq!(batch, single);
        }
        assert!(single[7].is_err() && single[31].is_err());
        assert_eq!(single.iter().filter(|r| r.is_ok()).count(), 38);
    }

    #[test]
    fn non_canonical_s_is_rejected() {
        // s + L (the group order) is the same scalar mod L but a non-canonical encoding;
        // ZIP-215 requires s < L.
        let (_, signed) = sample(3, 0);
        let mut raw: [u8; 64] = signed.approvals[0].signature.as_ref().try_into().unwrap();
        const L: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
            0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let mut carry = 0u16;
        for i in 0..32 {
            let sum = u16::from(raw[32 + i]) + u16::from(L[i]) + carry;
            raw[32 + i] = (sum & 0xff) as u8;
            carry = sum >> 8;
        }
        let sig = <Signature as commonware_codec::DecodeExt<()>>::decode(
            commonware_codec::Copying(raw.as_slice()),
        );
        // Either the codec refuses the encoding or verification does; never accepted.
        if let Ok(sig) = sig {
            let mut bad = signed;
            bad.approvals.0[0].signature = sig;
            assert!(verify_one(&chain(), bad.clone()).is_err());
            let mut rng = rand_chacha::ChaCha20Rng::from_seed([1; 32]);
            assert!(verify_batch(&chain(), vec![bad], 1, &mut rng)[0].is_err());
        }
    }

    #[test]
    fn approvals_must_be_sorted_and_include_sender() {
        let (_, signed) = sample(1, 0);
        let (_, other) = sample(2, 0);
        let mut two = signed.clone();
        let mut list = vec![signed.approvals[0].clone(), other.approvals[0].clone()];
        list.sort_by(|a, b| b.key.cmp(&a.key)); // descending: invalid
        two.approvals.0 = list;
        assert!(SignedTx::decode_bounded(&two.to_bytes()).is_err());
        let mut foreign = signed;
        foreign.approvals = other.approvals;
        assert!(SignedTx::decode_bounded(&foreign.to_bytes()).is_err());
        assert!(SignedTx::decode_bounded(&vec![0u8; MAX_TX_BYTES + 1]).is_err());
    }

    #[test]
    fn decoding_reuses_the_sender_key_and_still_checks_the_others() {
        // Two approvals, the sender's and a co-signer's: decodes to the same value.
        let (key, signed) = sample(1, 0);
        let other = PrivateKey::from_seed(2);
        let two = signed.tx.clone().sign(&chain(), &[&key, &other]);
        let bytes = two.to_bytes();
        assert_eq!(SignedTx::decode_bounded(&bytes).unwrap(), two);
        // No approval at all is refused.
        let mut none = signed.to_bytes();
        let at = signed.tx.encode_size();
        none.truncate(at);
        none.push(0);
        assert!(SignedTx::decode_bounded(&none).is_err());
        // A co-signer's key that is not a curve point is refused (the sender's is reused
        // only when its bytes are equal).
        let co = two
            .approvals
            .iter()
            .position(|a| a.key != two.tx.sender)
            .unwrap();
        let not_a_point = (0u8..=255)
            .map(|k| {
                let mut b = [0u8; 32];
                b[0] = 0xff; // sorts after any key not starting 0xff: order stays valid
                b[1] = k;
                b
            })
            .find(|b| {
                curve25519_dalek::edwards::CompressedEdwardsY(*b)
                    .decompress()
                    .is_none()
            })
            .unwrap();
        assert!(two.approvals.iter().all(|a| a.key.as_ref()[0] != 0xff));
        let mut bad = bytes.clone();
        let key_at = at + 1 + co * (32 + 64);
        bad[key_at..key_at + 32].copy_from_slice(&not_a_point);
        assert_eq!(
            co, 1,
            "the co-signer's key sorts after the sender's (seeds 1, 2)"
        );
        assert!(SignedTx::decode_bounded(&bad).is_err());
        // Trailing bytes are refused.
        let mut trailing = bytes;
        trailing.push(0);
        assert!(SignedTx::decode_bounded(&trailing).is_err());
    }
}
