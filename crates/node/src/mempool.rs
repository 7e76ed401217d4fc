//! The mempool: bounded, deduplicating, verifying before admission, fair in what it offers.
//!
//! Admission does the cheap checks first (size, decoding, expiry, duplicates, capacity),
//! then verifies signatures of everything that passed in one batch over all cores. A
//! full pool refuses with [AdmitError::Full] instead of growing. Proposals take
//! transactions round-robin across senders (each sender's in nonce order), so one busy
//! sender cannot starve the others.

use rand_core::CryptoRng;
use std::collections::{BTreeMap, VecDeque};
use tally_types::limits::{MAX_TX_BYTES, MAX_TX_TTL_MS};
use tally_types::tx::VerifyError;
use tally_types::{ChainId, Hash32, SignedTx, Timestamp, VerifiedTx, verify_batch};

/// Mempool bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MempoolConfig {
    /// Transactions held at most.
    pub max_txs: usize,
    /// Encoded bytes held at most.
    pub max_bytes: usize,
    /// Transactions one sender key may have waiting.
    pub max_per_sender: usize,
}

impl Default for MempoolConfig {
    fn default() -> Self {
        Self {
            max_txs: 200_000,
            max_bytes: 256 * 1024 * 1024,
            max_per_sender: 10_000,
        }
    }
}

/// Why a transaction was refused admission. Each has a stable name for the API.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AdmitError {
    /// Larger than `MAX_TX_BYTES`.
    #[error("transaction larger than {MAX_TX_BYTES} bytes")]
    TooLarge,
    /// Not a canonical, in-bounds encoding.
    #[error("malformed transaction: {0}")]
    Malformed(String),
    /// Its expiry has passed.
    #[error("transaction expired")]
    Expired,
    /// Its expiry lies more than `MAX_TX_TTL_MS` ahead.
    #[error("expiry too far in the future")]
    ExpiryTooFar,
    /// The same transaction is already waiting.
    #[error("duplicate transaction")]
    Duplicate,
    /// Another transaction with this sender and nonce is waiting.
    #[error("another transaction with this sender and nonce is waiting")]
    NonceTaken,
    /// The pool is full.
    #[error("mempool full")]
    Full,
    /// This sender has too many transactions waiting.
    #[error("too many transactions waiting from this sender")]
    SenderFull,
    /// A signature does not verify.
    #[error("signature verification failed: {0}")]
    BadSignature(VerifyError),
    /// No participant owns the sender key.
    #[error("the sender key is not registered to any participant")]
    UnknownSender,
    /// The sender already used this nonce in a finalized block: a replay.
    #[error("nonce {nonce} already used (the sender's next nonce is {expected})")]
    Stale {
        /// The transaction's nonce.
        nonce: u64,
        /// The sender's next nonce.
        expected: u64,
    },
}

impl AdmitError {
    /// Stable machine-readable name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::TooLarge => "TooLarge",
            Self::Malformed(_) => "Malformed",
            Self::Expired => "Expired",
            Self::ExpiryTooFar => "ExpiryTooFar",
            Self::Duplicate => "Duplicate",
            Self::NonceTaken => "NonceTaken",
            Self::Full => "MempoolFull",
            Self::SenderFull => "SenderFull",
            Self::BadSignature(_) => "BadSignature",
            Self::UnknownSender => "UnknownSender",
            Self::Stale { .. } => "NonceReused",
        }
    }
}

/// Encodes a batch of encoded transactions (as `POST /txs` and gossip carry them): a
/// varint count, then each transaction as a varint length and its bytes.
pub fn encode_batch(txs: &[Vec<u8>]) -> Vec<u8> {
    use commonware_codec::Encode as _;
    txs.to_vec().encode().to_vec()
}

/// Decodes a batch of at most `max_txs` transactions, each at most `MAX_TX_BYTES`, refusing
/// anything else (including trailing bytes).
pub fn decode_batch(bytes: &[u8], max_txs: usize) -> Result<Vec<Vec<u8>>, commonware_codec::Error> {
    use commonware_codec::Decode as _;
    let cfg = (
        commonware_codec::RangeCfg::from(0..=max_txs),
        (commonware_codec::RangeCfg::from(0..=MAX_TX_BYTES), ()),
    );
    Vec::<Vec<u8>>::decode_cfg(commonware_codec::Copying(bytes), &cfg)
}

struct Entry {
    tx: VerifiedTx,
    size: usize,
    /// Digest of the exact encoding admitted.
    wire: Hash32,
}

/// Digest of a transaction's exact encoding (transaction and approvals): equal digests
/// mean equal bytes, so a transaction admitted (and verified) once is recognised without
/// decoding it again (decoding a key decompresses a curve point).
pub fn wire_digest(raw: &[u8]) -> Hash32 {
    Hash32::digest(&[raw])
}

/// Transactions that passed admission's cheap checks, waiting for signature verification.
pub struct Prepared {
    results: Vec<Result<Hash32, AdmitError>>,
    candidates: Vec<SignedTx>,
    slots: Vec<(usize, usize, Hash32)>,
}

impl Prepared {
    /// The transactions to verify (in order); call once.
    pub fn take_candidates(&mut self) -> Vec<SignedTx> {
        std::mem::take(&mut self.candidates)
    }

    /// Refuses, before any signature is verified, the candidates a block would refuse
    /// anyway, judged against the finalized state: `sender` gives a sender key's next
    /// nonce, or `None` if no participant owns the key. Refused are transactions from
    /// unknown senders (which would otherwise cost a receipt each) and replays of
    /// transactions that already applied.
    pub fn refuse_known_bad(&mut self, sender: impl Fn(&tally_types::PublicKey) -> Option<u64>) {
        let candidates = std::mem::take(&mut self.candidates);
        let slots = std::mem::take(&mut self.slots);
        for (tx, slot) in candidates.into_iter().zip(slots) {
            let refusal = match sender(&tx.tx.sender) {
                None => Some(AdmitError::UnknownSender),
                Some(expected) if tx.tx.nonce < expected => Some(AdmitError::Stale {
                    nonce: tx.tx.nonce,
                    expected,
                }),
                Some(_) => None,
            };
            match refusal {
                Some(e) => self.results[slot.0] = Err(e),
                None => {
                    self.candidates.push(tx);
                    self.slots.push(slot);
                }
            }
        }
    }
}

type SenderKey = Vec<u8>;

/// Verified transactions waiting for a block.
pub struct Mempool {
    cfg: MempoolConfig,
    chain: ChainId,
    entries: BTreeMap<Hash32, Entry>,
    /// Wire digest → transaction id.
    by_wire: BTreeMap<Hash32, Hash32>,
    /// Per sender: nonce → transaction id.
    by_sender: BTreeMap<SenderKey, BTreeMap<u64, Hash32>>,
    /// Senders in order of their oldest waiting transaction (round-robin order).
    senders: VecDeque<SenderKey>,
    bytes: usize,
}

impl Mempool {
    /// An empty mempool for `chain`.
    pub fn new(chain: ChainId, cfg: MempoolConfig) -> Self {
        Self {
            cfg,
            chain,
            entries: BTreeMap::new(),
            by_wire: BTreeMap::new(),
            by_sender: BTreeMap::new(),
            senders: VecDeque::new(),
            bytes: 0,
        }
    }

    /// Transactions waiting.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether none is waiting.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Encoded bytes waiting.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Whether a transaction is waiting.
    pub fn contains(&self, id: &Hash32) -> bool {
        self.entries.contains_key(id)
    }

    /// The highest nonce of `sender`'s waiting transactions, if any.
    pub fn last_nonce(&self, sender: &tally_types::PublicKey) -> Option<u64> {
        self.by_sender
            .get(sender.as_ref())
            .and_then(|q| q.keys().next_back().copied())
    }

    fn precheck(
        &self,
        now: Timestamp,
        raw: &[u8],
    ) -> Result<(SignedTx, Hash32, Hash32), AdmitError> {
        if raw.len() > MAX_TX_BYTES {
            return Err(AdmitError::TooLarge);
        }
        // The same bytes again (gossip delivers every transaction from every peer): no
        // need to decode them.
        let wire = wire_digest(raw);
        if self.by_wire.contains_key(&wire) {
            return Err(AdmitError::Duplicate);
        }
        let signed =
            SignedTx::decode_bounded(raw).map_err(|e| AdmitError::Malformed(e.to_string()))?;
        if signed.tx.expires_at < now {
            return Err(AdmitError::Expired);
        }
        if signed.tx.expires_at > now.plus_ms(MAX_TX_TTL_MS) {
            return Err(AdmitError::ExpiryTooFar);
        }
        let id = signed.tx.id(&self.chain);
        if self.entries.contains_key(&id) {
            return Err(AdmitError::Duplicate);
        }
        let sender = self.by_sender.get(signed.tx.sender.as_ref());
        if sender.is_some_and(|s| s.contains_key(&signed.tx.nonce)) {
            return Err(AdmitError::NonceTaken);
        }
        if sender.is_some_and(|s| s.len() >= self.cfg.max_per_sender) {
            return Err(AdmitError::SenderFull);
        }
        if self.entries.len() >= self.cfg.max_txs || self.bytes + raw.len() > self.cfg.max_bytes {
            return Err(AdmitError::Full);
        }
        Ok((signed, id, wire))
    }

    /// Admits a batch of encoded transactions received at `now`: cheap checks first, then
    /// one batch verification over `threads` threads. Returns one result per input.
    ///
    /// This holds `&mut self` through verification; a pool shared with a proposer should
    /// use [Mempool::prepare] and [Mempool::finish] around an unlocked [verify_batch] (as
    /// `MempoolHandle::admit` does), so proposals never wait on signature checks.
    pub fn admit<R: CryptoRng>(
        &mut self,
        now: Timestamp,
        raw: &[Vec<u8>],
        threads: usize,
        rng: &mut R,
    ) -> Vec<Result<Hash32, AdmitError>> {
        let mut prepared = self.prepare(now, raw);
        let verified = verify_batch(&self.chain, prepared.take_candidates(), threads, rng);
        self.finish(prepared, verified)
    }

    /// The chain transactions are verified for.
    pub fn chain(&self) -> &ChainId {
        &self.chain
    }

    /// The cheap checks of admission (size, decoding, expiry, duplicates, capacity).
    pub fn prepare(&self, now: Timestamp, raw: &[Vec<u8>]) -> Prepared {
        let mut prepared = Prepared {
            results: Vec::with_capacity(raw.len()),
            candidates: Vec::new(),
            slots: Vec::new(),
        };
        for (i, bytes) in raw.iter().enumerate() {
            match self.precheck(now, bytes) {
                Ok((signed, id, wire)) => {
                    prepared.results.push(Ok(id));
                    prepared.candidates.push(signed);
                    prepared.slots.push((i, bytes.len(), wire));
                }
                Err(e) => prepared.results.push(Err(e)),
            }
        }
        prepared
    }

    /// Inserts what verified, re-checking what may have changed since [Mempool::prepare]
    /// (duplicates within the batch or from a concurrent admission, capacity).
    pub fn finish(
        &mut self,
        prepared: Prepared,
        verified: Vec<Result<VerifiedTx, VerifyError>>,
    ) -> Vec<Result<Hash32, AdmitError>> {
        let Prepared {
            mut results, slots, ..
        } = prepared;
        for ((i, size, wire), v) in slots.into_iter().zip(verified) {
            results[i] = match v {
                Err(e) => Err(AdmitError::BadSignature(e)),
                Ok(tx) => self.insert(tx, size, wire),
            };
        }
        results
    }

    /// The waiting transaction whose exact encoding has digest `wire` (see [wire_digest]),
    /// already verified at admission: a block carrying those bytes need not verify them
    /// again.
    pub fn verified(&self, wire: &Hash32) -> Option<VerifiedTx> {
        self.by_wire
            .get(wire)
            .and_then(|id| self.entries.get(id))
            .map(|e| e.tx.clone())
    }

    fn insert(&mut self, tx: VerifiedTx, size: usize, wire: Hash32) -> Result<Hash32, AdmitError> {
        let id = tx.id();
        if self.entries.contains_key(&id) {
            return Err(AdmitError::Duplicate);
        }
        if self.entries.len() >= self.cfg.max_txs || self.bytes + size > self.cfg.max_bytes {
            return Err(AdmitError::Full);
        }
        let sender: SenderKey = tx.tx().sender.as_ref().to_vec();
        let queue = self.by_sender.entry(sender.clone()).or_default();
        if queue.contains_key(&tx.tx().nonce) {
            return Err(AdmitError::NonceTaken);
        }
        if queue.len() >= self.cfg.max_per_sender {
            return Err(AdmitError::SenderFull);
        }
        if queue.is_empty() {
            self.senders.push_back(sender);
        }
        queue.insert(tx.tx().nonce, id);
        self.bytes += size;
        self.by_wire.insert(wire, id);
        self.entries.insert(id, Entry { tx, size, wire });
        Ok(id)
    }

    /// Up to `max_txs` transactions totalling at most `max_bytes`, round-robin across
    /// senders, each sender's in nonce order. Nothing is removed.
    pub fn select(&self, max_txs: usize, max_bytes: usize) -> Vec<VerifiedTx> {
        self.select_excluding(max_txs, max_bytes, &std::collections::BTreeSet::new())
    }

    /// As [Mempool::select], skipping `exclude` (e.g. transactions already in the
    /// not-yet-finalized blocks the proposal builds on).
    pub fn select_excluding(
        &self,
        max_txs: usize,
        max_bytes: usize,
        exclude: &std::collections::BTreeSet<Hash32>,
    ) -> Vec<VerifiedTx> {
        let mut cursors: Vec<std::collections::btree_map::Values<'_, u64, Hash32>> = self
            .senders
            .iter()
            .filter_map(|s| self.by_sender.get(s).map(|q| q.values()))
            .collect();
        let (mut out, mut bytes) = (Vec::new(), 0usize);
        loop {
            let mut progressed = false;
            for cursor in cursors.iter_mut() {
                if out.len() >= max_txs {
                    return out;
                }
                let Some(id) = cursor.find(|id| !exclude.contains(*id)) else {
                    continue;
                };
                let entry = &self.entries[id];
                if bytes + entry.size > max_bytes {
                    return out;
                }
                bytes += entry.size;
                out.push(entry.tx.clone());
                progressed = true;
            }
            if !progressed {
                return out;
            }
        }
    }

    /// Removes transactions (e.g. once they are in a finalized block).
    pub fn remove(&mut self, ids: &[Hash32]) {
        for id in ids {
            let Some(entry) = self.entries.remove(id) else {
                continue;
            };
            self.by_wire.remove(&entry.wire);
            self.bytes -= entry.size;
            let sender = entry.tx.tx().sender.as_ref();
            if let Some(q) = self.by_sender.get_mut(sender) {
                q.remove(&entry.tx.tx().nonce);
                if q.is_empty() {
                    self.by_sender.remove(sender);
                    self.senders.retain(|s| s.as_slice() != sender);
                }
            }
        }
    }

    /// Drops transactions whose expiry is before `now`; returns how many.
    pub fn evict_expired(&mut self, now: Timestamp) -> usize {
        let expired: Vec<Hash32> = self
            .entries
            .iter()
            .filter(|(_, e)| e.tx.tx().expires_at < now)
            .map(|(id, _)| *id)
            .collect();
        self.remove(&expired);
        expired.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use commonware_cryptography::Signer as _;
    use rand_chacha::ChaCha20Rng;
    use rand_chacha::rand_core::SeedableRng;
    use tally_types::codec::BoundedVec;
    use tally_types::ops::{Operation, ReinstateParticipant};
    use tally_types::{Lei, PrivateKey, Transaction};

    const NOW: Timestamp = Timestamp(1_000_000);

    fn chain() -> ChainId {
        ChainId::new("tally-test").unwrap()
    }

    fn tx(seed: u64, nonce: u64, expires_at: Timestamp) -> Vec<u8> {
        let key = PrivateKey::from_seed(seed);
        let op = Operation::ReinstateParticipant(ReinstateParticipant {
            lei: Lei::parse("5493001KJTIIGC8Y1R12").unwrap(),
        });
        Transaction {
            sender: key.public_key(),
            nonce,
            expires_at,
            operations: BoundedVec::new(vec![op]).unwrap(),
        }
        .sign(&chain(), &[&key])
        .to_bytes()
    }

    fn pool(cfg: MempoolConfig) -> (Mempool, ChaCha20Rng) {
        (Mempool::new(chain(), cfg), ChaCha20Rng::from_seed([3; 32]))
    }

    #[test]
    fn admits_verifies_and_refuses_with_reasons() {
        let (mut mp, mut rng) = pool(MempoolConfig::default());
        let good = tx(1, 0, NOW.plus_ms(1_000));
        let mut forged = tx(2, 0, NOW.plus_ms(1_000));
        let last = forged.len() - 1;
        forged[last] ^= 1; // corrupt the signature
        let batch = vec![
            good.clone(),
            good.clone(),
            forged,
            tx(3, 0, Timestamp(NOW.0 - 1)),
            tx(4, 0, NOW.plus_ms(MAX_TX_TTL_MS + 1)),
            vec![1, 2, 3],
            vec![0; MAX_TX_BYTES + 1],
        ];
        let r = mp.admit(NOW, &batch, 2, &mut rng);
        assert!(r[0].is_ok());
        assert_eq!(r[1], Err(AdmitError::Duplicate));
        assert!(matches!(r[2], Err(AdmitError::BadSignature(_))));
        assert_eq!(r[3], Err(AdmitError::Expired));
        assert_eq!(r[4], Err(AdmitError::ExpiryTooFar));
        assert!(matches!(r[5], Err(AdmitError::Malformed(_))));
        assert_eq!(r[6], Err(AdmitError::TooLarge));
        assert_eq!(mp.len(), 1);
        // Resubmitting later is still a duplicate; another tx with the same nonce is refused.
        assert_eq!(
            mp.admit(NOW, &[good], 1, &mut rng)[0],
            Err(AdmitError::Duplicate)
        );
        assert_eq!(
            mp.admit(NOW, &[tx(1, 0, NOW.plus_ms(9))], 1, &mut rng)[0],
            Err(AdmitError::NonceTaken)
        );
    }

    #[test]
    fn full_pool_refuses_instead_of_growing() {
        let cfg = MempoolConfig {
            max_txs: 3,
            max_per_sender: 2,
            ..MempoolConfig::default()
        };
        let (mut mp, mut rng) = pool(cfg);
        let batch: Vec<Vec<u8>> = (0..3).map(|n| tx(7, n, NOW.plus_ms(500))).collect();
        let r = mp.admit(NOW, &batch, 1, &mut rng);
        assert_eq!(r.iter().filter(|r| r.is_ok()).count(), 2);
        assert_eq!(r[2], Err(AdmitError::SenderFull));
        let more: Vec<Vec<u8>> = (10..13).map(|s| tx(s, 0, NOW.plus_ms(500))).collect();
        let r = mp.admit(NOW, &more, 1, &mut rng);
        assert!(r[0].is_ok());
        assert_eq!(r[1], Err(AdmitError::Full));
        assert_eq!(mp.len(), 3);
    }

    #[test]
    fn selection_is_round_robin_in_nonce_order_and_removal_frees_space() {
        let (mut mp, mut rng) = pool(MempoolConfig::default());
        let mut batch: Vec<Vec<u8>> = (0..5).rev().map(|n| tx(1, n, NOW.plus_ms(500))).collect();
        batch.push(tx(2, 0, NOW.plus_ms(500)));
        batch.push(tx(3, 0, NOW.plus_ms(500)));
        assert!(mp.admit(NOW, &batch, 2, &mut rng).iter().all(Result::is_ok));
        let picked = mp.select(4, usize::MAX);
        let order: Vec<(u64, u64)> = picked
            .iter()
            .map(|t| {
                let seed = (1..=3)
                    .find(|s| PrivateKey::from_seed(*s).public_key() == t.tx().sender)
                    .unwrap();
                (seed, t.tx().nonce)
            })
            .collect();
        assert_eq!(order, vec![(1, 0), (2, 0), (3, 0), (1, 1)]);
        let ids: Vec<Hash32> = picked.iter().map(VerifiedTx::id).collect();
        mp.remove(&ids);
        assert_eq!(mp.len(), 3);
        assert_eq!(mp.evict_expired(NOW.plus_ms(501)), 3);
        assert!(mp.is_empty() && mp.bytes() == 0);
    }

    #[test]
    fn batches_round_trip_and_out_of_bound_batches_are_refused() {
        let txs: Vec<Vec<u8>> = (0..3).map(|n| tx(1, n, NOW.plus_ms(500))).collect();
        let encoded = encode_batch(&txs);
        assert_eq!(decode_batch(&encoded, 3).unwrap(), txs);
        assert!(
            decode_batch(&encoded, 2).is_err(),
            "more than the maximum count"
        );
        let mut trailing = encoded.clone();
        trailing.push(0);
        assert!(decode_batch(&trailing, 3).is_err(), "trailing bytes");
        assert!(
            decode_batch(&encoded[..encoded.len() - 1], 3).is_err(),
            "truncated"
        );
        let oversize = encode_batch(&[vec![0; MAX_TX_BYTES + 1]]);
        assert!(
            decode_batch(&oversize, 3).is_err(),
            "a transaction over MAX_TX_BYTES"
        );
    }
}
