//! The mempool: bounded, deduplicating, verifying before admission, fair in what it offers.
//!
//! Admission does the cheap checks first (size, decoding, expiry, duplicates, capacity),
//! then verifies signatures of everything that passed in one batch over all cores. A
//! full pool refuses with [AdmitError::Full] instead of growing. Proposals take
//! transactions round-robin across senders (each sender's in nonce order), so one busy
//! sender cannot starve the others.

use rand_core::CryptoRng;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use tally_types::limits::{MAX_REMOTE_PROOFS_PER_BLOCK, MAX_TX_BYTES, MAX_TX_TTL_MS};
use tally_types::tx::VerifyError;
use tally_types::{ChainId, Hash32, SignedTx, Timestamp, VerifiedTx};

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
    #[error("verification failed: {0}")]
    BadSignature(VerifyError),
    /// No participant owns the sender key.
    #[error("the sender key is not registered to any participant")]
    UnknownSender,
    /// The nonce lies so far ahead of the sender's next nonce that the sender could not
    /// fill the gap within its per-sender bound.
    #[error(
        "nonce {nonce} is too far ahead (the sender's next nonce is {expected}; at most {max_ahead} ahead)"
    )]
    NonceTooFar {
        /// The transaction's nonce.
        nonce: u64,
        /// The sender's next nonce.
        expected: u64,
        /// Furthest ahead a nonce may be.
        max_ahead: u64,
    },
    /// The node is admitting more than it can settle; retry after a short wait.
    #[error("the network is at capacity; retry shortly")]
    Overloaded,
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
            Self::BadSignature(VerifyError::RemoteProof(_)) => "BadRemoteProof",
            Self::BadSignature(_) => "BadSignature",
            Self::UnknownSender => "UnknownSender",
            Self::Stale { .. } => "NonceReused",
            Self::NonceTooFar { .. } => "NonceTooFar",
            Self::Overloaded => "Overloaded",
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

/// A transaction admitted into the pool: verified, with the exact bytes it arrived as
/// (a proposal copies them into its block instead of encoding the transaction again) and
/// the digest of those bytes.
#[derive(Debug)]
pub struct Admitted {
    /// The verified transaction.
    pub tx: VerifiedTx,
    /// Its encoding as admitted (transaction and approvals).
    pub raw: Vec<u8>,
    /// [wire_digest] of `raw`.
    pub wire: Hash32,
}

impl Admitted {
    /// Units of execution work ([tally_types::Transaction::work]): one, or a batch's
    /// transfers.
    pub fn work(&self) -> usize {
        self.tx.tx().work()
    }
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
    /// Per candidate: its index in the input, its bytes and their wire digest.
    slots: Vec<(usize, Vec<u8>, Hash32)>,
    /// Furthest a nonce may lie ahead of its sender's next nonce.
    max_ahead: u64,
}

impl Prepared {
    /// The transactions to verify (in order); call once.
    pub fn take_candidates(&mut self) -> Vec<SignedTx> {
        std::mem::take(&mut self.candidates)
    }

    /// Refuses, before any signature is verified, the candidates a block would refuse
    /// anyway, judged against the finalized state: `sender` gives a sender key's next
    /// nonce, or `None` if no participant owns the key. Refused are transactions from
    /// unknown senders (which would otherwise cost a receipt each), replays of
    /// transactions that already applied, and nonces so far ahead that the sender could
    /// not fill the gap within its own per-sender bound.
    pub fn refuse_known_bad(&mut self, sender: impl Fn(&tally_types::PublicKey) -> Option<u64>) {
        let candidates = std::mem::take(&mut self.candidates);
        let slots = std::mem::take(&mut self.slots);
        for (tx, slot) in candidates.into_iter().zip(slots) {
            let nonce = tx.tx.nonce;
            let refusal = match sender(&tx.tx.sender) {
                None => Some(AdmitError::UnknownSender),
                Some(expected) if nonce < expected => Some(AdmitError::Stale { nonce, expected }),
                Some(expected) if nonce - expected >= self.max_ahead => {
                    Some(AdmitError::NonceTooFar {
                        nonce,
                        expected,
                        max_ahead: self.max_ahead,
                    })
                }
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

impl Prepared {
    /// Refuses (before any pairing is paid) the candidates carrying a remote proof that
    /// `registered` says the ledger would refuse for its chain, group key or namespace.
    pub fn refuse_foreign_proofs(
        &mut self,
        registered: impl Fn(&tally_types::remote::RemoteProof) -> bool,
    ) {
        let candidates = std::mem::take(&mut self.candidates);
        let slots = std::mem::take(&mut self.slots);
        for (tx, slot) in candidates.into_iter().zip(slots) {
            if tx.tx.remote_proofs().all(&registered) {
                self.candidates.push(tx);
                self.slots.push(slot);
            } else {
                self.results[slot.0] = Err(AdmitError::BadSignature(VerifyError::RemoteProof(
                    tally_types::remote::RemoteProofError::Unregistered,
                )));
            }
        }
        assert_eq!(
            self.candidates.len(),
            self.slots.len(),
            "one slot per candidate"
        );
    }
}

type SenderKey = Vec<u8>;

/// Verified transactions waiting for a block.
///
/// Invariants (checked by [Mempool::check_invariants] in tests): `entries`, `by_wire`,
/// `by_expiry` and `by_sender` index the same transactions; `senders` lists exactly the
/// senders with a non-empty queue; `bytes` is the sum of the entries' sizes and `work`
/// of their work units.
pub struct Mempool {
    cfg: MempoolConfig,
    chain: ChainId,
    entries: BTreeMap<Hash32, Arc<Admitted>>,
    /// Wire digest → transaction id.
    by_wire: BTreeMap<Hash32, Hash32>,
    /// (expiry, id) of every waiting transaction, soonest first.
    by_expiry: BTreeSet<(Timestamp, Hash32)>,
    /// Per sender: nonce → transaction id.
    by_sender: BTreeMap<SenderKey, BTreeMap<u64, Hash32>>,
    /// Senders in order of their oldest waiting transaction (round-robin order).
    senders: VecDeque<SenderKey>,
    bytes: usize,
    work: usize,
}

impl Mempool {
    /// An empty mempool for `chain`.
    pub fn new(chain: ChainId, cfg: MempoolConfig) -> Self {
        assert!(
            cfg.max_per_sender > 0 && cfg.max_txs > 0,
            "empty mempool bounds"
        );
        Self {
            cfg,
            chain,
            entries: BTreeMap::new(),
            by_wire: BTreeMap::new(),
            by_expiry: BTreeSet::new(),
            by_sender: BTreeMap::new(),
            senders: VecDeque::new(),
            bytes: 0,
            work: 0,
        }
    }

    /// Its bounds.
    pub fn config(&self) -> &MempoolConfig {
        &self.cfg
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

    /// Units of execution work waiting (a batch counts each transfer).
    pub fn work(&self) -> usize {
        self.work
    }

    /// Whether a transaction is waiting.
    pub fn contains(&self, id: &Hash32) -> bool {
        self.entries.contains_key(id)
    }

    /// The nonce a client should sign `sender`'s next transaction with, given the
    /// sender's next nonce `next` in the finalized state: the first nonce from `next` on
    /// that no waiting transaction holds. Waiting transactions beyond a gap do not count:
    /// the gap must be filled first, and signing past it would only wait behind it.
    pub fn next_free_nonce(&self, sender: &tally_types::PublicKey, next: u64) -> u64 {
        let mut free = next;
        if let Some(queue) = self.by_sender.get(sender.as_ref()) {
            for nonce in queue.range(next..).map(|(n, _)| *n) {
                if nonce != free {
                    break;
                }
                free += 1;
            }
        }
        free
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
    /// use [Mempool::prepare] and [Mempool::finish] around an unlocked verification (as
    /// `MempoolHandle::admit` does), so proposals never wait on signature checks.
    pub fn admit<R: CryptoRng>(
        &mut self,
        now: Timestamp,
        raw: &[Vec<u8>],
        threads: usize,
        rng: &mut R,
    ) -> Vec<Result<Hash32, AdmitError>> {
        let mut prepared = self.prepare(now, raw);
        let verified = tally_types::verify_batch_with(
            &self.chain,
            prepared.take_candidates(),
            threads,
            rng,
            crate::remote::verifier(),
        );
        self.finish(prepared, verified)
    }

    /// The chain transactions are verified for.
    pub fn chain(&self) -> &ChainId {
        &self.chain
    }

    /// The cheap checks of admission (size, decoding, expiry, duplicates, capacity).
    pub fn prepare(&self, now: Timestamp, raw: &[Vec<u8>]) -> Prepared {
        self.prepare_limited(now, raw, None)
    }

    /// [Mempool::prepare], refusing as [AdmitError::Overloaded] (before decoding anything)
    /// every transaction that would take the pool past `limit`: the API's admission
    /// limit in units of work, which follows the rate blocks drain the pool (gossip from
    /// peers is not limited this way: its transactions were admitted at their origin).
    /// Before decoding, each incoming transaction counts as one unit; the pool counts
    /// what it holds, so a pool of batches reaches the limit as fast as their transfers.
    pub fn prepare_limited(
        &self,
        now: Timestamp,
        raw: &[Vec<u8>],
        limit: Option<usize>,
    ) -> Prepared {
        let mut prepared = Prepared {
            results: Vec::with_capacity(raw.len()),
            candidates: Vec::new(),
            slots: Vec::new(),
            max_ahead: self.cfg.max_per_sender as u64,
        };
        for (i, bytes) in raw.iter().enumerate() {
            if limit.is_some_and(|l| self.work + prepared.slots.len() >= l) {
                prepared.results.push(Err(AdmitError::Overloaded));
                continue;
            }
            match self.precheck(now, bytes) {
                Ok((signed, id, wire)) => {
                    prepared.results.push(Ok(id));
                    prepared.candidates.push(signed);
                    prepared.slots.push((i, bytes.clone(), wire));
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
        assert_eq!(
            slots.len(),
            verified.len(),
            "one verification per candidate"
        );
        for ((i, raw, wire), v) in slots.into_iter().zip(verified) {
            results[i] = match v {
                Err(e) => Err(AdmitError::BadSignature(e)),
                Ok(tx) => self.insert(Admitted { tx, raw, wire }),
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

    fn insert(&mut self, admitted: Admitted) -> Result<Hash32, AdmitError> {
        let id = admitted.tx.id();
        let size = admitted.raw.len();
        if self.entries.contains_key(&id) || self.by_wire.contains_key(&admitted.wire) {
            return Err(AdmitError::Duplicate);
        }
        if self.entries.len() >= self.cfg.max_txs || self.bytes + size > self.cfg.max_bytes {
            return Err(AdmitError::Full);
        }
        let tx = admitted.tx.tx();
        let sender: SenderKey = tx.sender.as_ref().to_vec();
        let queue = self.by_sender.entry(sender.clone()).or_default();
        if queue.contains_key(&tx.nonce) {
            return Err(AdmitError::NonceTaken);
        }
        if queue.len() >= self.cfg.max_per_sender {
            return Err(AdmitError::SenderFull);
        }
        if queue.is_empty() {
            self.senders.push_back(sender);
        }
        queue.insert(tx.nonce, id);
        self.bytes += size;
        self.work += admitted.work();
        self.by_wire.insert(admitted.wire, id);
        self.by_expiry.insert((tx.expires_at, id));
        self.entries.insert(id, Arc::new(admitted));
        Ok(id)
    }

    /// What a block at `time` can carry: up to `max_txs` transactions totalling at most
    /// `max_bytes` and `max_work` units of work (the first transaction is taken whatever
    /// its work, so a batch larger than the budget still gets a block of its own),
    /// round-robin across senders. From each sender only the unbroken run of
    /// nonces starting at its next nonce in the state the block builds on (`next_nonce`)
    /// is taken, and none that has expired by `time`: a transaction behind a nonce gap
    /// (or behind an expired one) waits, and never takes a place in the block that a
    /// ready transaction could have. Transactions in `exclude` (those already in the
    /// unfinalized blocks the proposal builds on: one refused there keeps its nonce free
    /// in the parent state) count as gaps. Nothing is removed.
    pub fn select_ready(
        &self,
        max_txs: usize,
        max_work: usize,
        max_bytes: usize,
        time: Timestamp,
        exclude: &BTreeSet<Hash32>,
        mut next_nonce: impl FnMut(&tally_types::PublicKey) -> u64,
    ) -> Vec<Arc<Admitted>> {
        // Per sender: the nonce it must continue with, and its waiting transactions from
        // that nonce on.
        // Senders whose next transaction is not ready are skipped, and once `max_txs`
        // senders have one ready the rest are not looked at (each look reads the state).
        let mut cursors: Vec<(u64, std::collections::btree_map::Range<'_, u64, Hash32>)> =
            Vec::new();
        for s in &self.senders {
            if cursors.len() >= max_txs {
                break;
            }
            let Some(queue) = self.by_sender.get(s) else {
                continue;
            };
            let Some(first) = queue.values().next() else {
                continue;
            };
            let next = next_nonce(&self.entries[first].tx.tx().sender);
            if queue.contains_key(&next) {
                cursors.push((next, queue.range(next..)));
            }
        }
        let (mut out, mut bytes, mut proofs, mut work) = (Vec::new(), 0usize, 0usize, 0usize);
        loop {
            let mut progressed = false;
            for (expected, cursor) in cursors.iter_mut() {
                if out.len() >= max_txs {
                    return out;
                }
                let Some((&nonce, id)) = cursor.clone().next() else {
                    continue;
                };
                let entry = &self.entries[id];
                if nonce != *expected || entry.tx.tx().expires_at < time || exclude.contains(id) {
                    continue; // a gap: this sender waits for it to be filled
                }
                // Remote proofs beyond the block's bound wait for the next block (and so
                // does the rest of their sender's run).
                let carried = entry.tx.proven().len();
                if proofs + carried > MAX_REMOTE_PROOFS_PER_BLOCK {
                    continue;
                }
                if bytes + entry.raw.len() > max_bytes {
                    return out;
                }
                // Over the work budget: this sender waits for the next block; smaller
                // transactions of other senders may still fit.
                let entry_work = entry.work();
                if !out.is_empty() && work + entry_work > max_work {
                    continue;
                }
                cursor.next();
                *expected += 1;
                bytes += entry.raw.len();
                work += entry_work;
                proofs += carried;
                out.push(Arc::clone(entry));
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
            let removed = self.by_expiry.remove(&(entry.tx.tx().expires_at, *id));
            assert!(removed, "expiry index out of step with the entries");
            self.bytes -= entry.raw.len();
            self.work -= entry.work();
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

    /// Drops `sender`'s transactions whose nonce is below `next` (its next nonce in the
    /// finalized state): they can never apply. Returns how many.
    pub fn remove_used(&mut self, sender: &tally_types::PublicKey, next: u64) -> usize {
        let used: Vec<Hash32> = self
            .by_sender
            .get(sender.as_ref())
            .map(|q| q.range(..next).map(|(_, id)| *id).collect())
            .unwrap_or_default();
        self.remove(&used);
        used.len()
    }

    /// Drops transactions whose expiry is before `now`; returns how many. Costs one index
    /// step per transaction dropped.
    pub fn evict_expired(&mut self, now: Timestamp) -> usize {
        let mut expired = Vec::new();
        for (at, id) in &self.by_expiry {
            if *at >= now {
                break;
            }
            expired.push(*id);
        }
        self.remove(&expired);
        expired.len()
    }

    /// Panics unless the pool's indexes agree (see the type's invariants).
    #[doc(hidden)]
    pub fn check_invariants(&self) {
        assert_eq!(self.entries.len(), self.by_wire.len());
        assert_eq!(self.entries.len(), self.by_expiry.len());
        let queued: usize = self.by_sender.values().map(BTreeMap::len).sum();
        assert_eq!(self.entries.len(), queued);
        assert_eq!(self.senders.len(), self.by_sender.len());
        assert!(self.by_sender.values().all(|q| !q.is_empty()));
        let bytes: usize = self.entries.values().map(|e| e.raw.len()).sum();
        assert_eq!(self.bytes, bytes);
        let work: usize = self.entries.values().map(|e| e.work()).sum();
        assert_eq!(self.work, work);
        assert!(self.entries.len() <= self.cfg.max_txs && self.bytes <= self.cfg.max_bytes);
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

    fn batch_tx(seed: u64, nonce: u64, transfers: usize) -> Vec<u8> {
        use tally_types::model::Leg;
        use tally_types::ops::{BatchTransfer, TransferBatch};
        let key = PrivateKey::from_seed(seed);
        let transfer = BatchTransfer {
            leg: Leg {
                from: tally_types::AccountId(1),
                to: tally_types::AccountId(2),
                instrument: tally_types::InstrumentId(1),
                amount: 1,
            },
            linked: false,
        };
        let op = Operation::TransferBatch(TransferBatch {
            transfers: BoundedVec::new(vec![transfer; transfers]).unwrap(),
        });
        Transaction {
            sender: key.public_key(),
            nonce,
            expires_at: NOW.plus_ms(500),
            operations: BoundedVec::new(vec![op]).unwrap(),
        }
        .sign(&chain(), &[&key])
        .to_bytes()
    }

    #[test]
    fn batches_count_their_transfers_as_work() {
        let (mut mp, mut rng) = pool(MempoolConfig::default());
        let batch = vec![
            tx(2, 0, NOW.plus_ms(500)),
            batch_tx(1, 0, 300),
            batch_tx(3, 0, 600),
            tx(4, 0, NOW.plus_ms(500)),
        ];
        assert!(mp.admit(NOW, &batch, 2, &mut rng).iter().all(Result::is_ok));
        assert_eq!(mp.work(), 902);
        // A budget of 500 units: the 600-transfer batch waits, a transaction of another
        // sender after it still fits.
        let picked = mp.select_ready(100, 500, usize::MAX, NOW, &BTreeSet::new(), |_| 0);
        assert_eq!(order(&picked), vec![(2, 0), (1, 0), (4, 0)]);
        // Admission's limit counts the pool's work: 902 units waiting refuse more at a
        // limit of 902.
        let more = vec![tx(5, 0, NOW.plus_ms(500))];
        let prepared = mp.prepare_limited(NOW, &more, Some(902));
        assert_eq!(prepared.results[0], Err(AdmitError::Overloaded));
        let ids: Vec<Hash32> = picked.iter().map(|a| a.tx.id()).collect();
        mp.remove(&ids);
        assert_eq!(mp.work(), 600);
        // A block's first transaction is taken whatever its work.
        let picked = mp.select_ready(100, 10, usize::MAX, NOW, &BTreeSet::new(), |_| 0);
        assert_eq!(order(&picked), vec![(3, 0)]);
        mp.check_invariants();
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
        let picked = mp.select_ready(4, usize::MAX, usize::MAX, NOW, &BTreeSet::new(), |_| 0);
        assert_eq!(order(&picked), vec![(1, 0), (2, 0), (3, 0), (1, 1)]);
        let ids: Vec<Hash32> = picked.iter().map(|a| a.tx.id()).collect();
        mp.remove(&ids);
        assert_eq!(mp.len(), 3);
        assert_eq!(mp.evict_expired(NOW.plus_ms(501)), 3);
        assert!(mp.is_empty() && mp.bytes() == 0);
        mp.check_invariants();
    }

    /// (key seed, nonce) of selected transactions, for seeds 1..=9.
    fn order(picked: &[Arc<Admitted>]) -> Vec<(u64, u64)> {
        picked
            .iter()
            .map(|a| {
                let seed = (1..=9)
                    .find(|s| PrivateKey::from_seed(*s).public_key() == a.tx.tx().sender)
                    .unwrap();
                (seed, a.tx.tx().nonce)
            })
            .collect()
    }

    #[test]
    fn a_nonce_gap_holds_back_only_what_lies_beyond_it_until_it_expires() {
        let (mut mp, mut rng) = pool(MempoolConfig::default());
        // Sender 1's next nonce is 0; it submits nonce 5 (expiring soon) first.
        let gapped = tx(1, 5, NOW.plus_ms(20_000));
        assert!(mp.admit(NOW, &[gapped], 1, &mut rng)[0].is_ok());
        let key = PrivateKey::from_seed(1).public_key();
        // A client asking which nonce to sign with is told 0, not 6.
        assert_eq!(mp.next_free_nonce(&key, 0), 0);
        // Nothing of sender 1's is ready; another sender's transaction is.
        assert!(mp.admit(NOW, &[tx(2, 0, NOW.plus_ms(60_000))], 1, &mut rng)[0].is_ok());
        assert_eq!(
            order(&mp.select_ready(100, usize::MAX, usize::MAX, NOW, &BTreeSet::new(), |_| 0)),
            vec![(2, 0)]
        );
        // The client signs from 0: those are ready at once, in order, and the gapped
        // transaction joins the run once the gap before it is filled.
        let fill: Vec<Vec<u8>> = (0..3).map(|n| tx(1, n, NOW.plus_ms(60_000))).collect();
        assert!(mp.admit(NOW, &fill, 1, &mut rng).iter().all(Result::is_ok));
        assert_eq!(mp.next_free_nonce(&key, 0), 3);
        let picked = mp.select_ready(100, usize::MAX, usize::MAX, NOW, &BTreeSet::new(), |_| 0);
        assert_eq!(order(&picked), vec![(1, 0), (2, 0), (1, 1), (1, 2)]);
        let more: Vec<Vec<u8>> = (3..5).map(|n| tx(1, n, NOW.plus_ms(60_000))).collect();
        assert!(mp.admit(NOW, &more, 1, &mut rng).iter().all(Result::is_ok));
        assert_eq!(mp.next_free_nonce(&key, 0), 6);
        let picked = mp.select_ready(100, usize::MAX, usize::MAX, NOW, &BTreeSet::new(), |_| 0);
        assert_eq!(picked.len(), 7, "the run 0..=5 of sender 1 and sender 2's");
        // The state moved on to nonce 3 (0..=2 finalized): the rest of the run is ready.
        let picked = mp.select_ready(100, usize::MAX, usize::MAX, NOW, &BTreeSet::new(), |k| {
            if *k == key { 3 } else { 0 }
        });
        assert_eq!(order(&picked), vec![(1, 3), (2, 0), (1, 4), (1, 5)]);
        assert_eq!(mp.remove_used(&key, 3), 3);
        mp.check_invariants();
        // A block after the gapped transaction's expiry does not carry it, and eviction
        // drops it, freeing nonce 5 for a new transaction.
        let late = NOW.plus_ms(20_001);
        let picked = mp.select_ready(100, usize::MAX, usize::MAX, late, &BTreeSet::new(), |k| {
            if *k == key { 3 } else { 0 }
        });
        assert_eq!(order(&picked), vec![(1, 3), (2, 0), (1, 4)]);
        assert_eq!(mp.evict_expired(late), 1);
        assert_eq!(mp.next_free_nonce(&key, 3), 5);
        assert!(mp.admit(late, &[tx(1, 5, late.plus_ms(1_000))], 1, &mut rng)[0].is_ok());
        mp.check_invariants();
    }

    #[test]
    fn admission_over_the_limit_is_refused_as_overloaded_before_decoding() {
        let (mut mp, mut rng) = pool(MempoolConfig::default());
        assert!(mp.admit(NOW, &[tx(1, 0, NOW.plus_ms(1_000))], 1, &mut rng)[0].is_ok());
        let batch = vec![
            tx(2, 0, NOW.plus_ms(1_000)),
            vec![1, 2, 3],
            tx(3, 0, NOW.plus_ms(1_000)),
        ];
        let prepared = mp.prepare_limited(NOW, &batch, Some(2));
        assert!(prepared.results[0].is_ok());
        assert_eq!(
            prepared.results[1],
            Err(AdmitError::Overloaded),
            "not even decoded"
        );
        assert_eq!(prepared.results[2], Err(AdmitError::Overloaded));
        assert_eq!(mp.len(), 1, "nothing changed");
    }

    #[test]
    fn nonces_too_far_ahead_and_unknown_senders_are_refused_before_verification() {
        let cfg = MempoolConfig {
            max_per_sender: 4,
            ..MempoolConfig::default()
        };
        let (mp, _) = pool(cfg);
        let batch = vec![
            tx(1, 3, NOW.plus_ms(1_000)),
            tx(1, 4, NOW.plus_ms(1_000)),
            tx(2, 0, NOW.plus_ms(1_000)),
            tx(3, 0, NOW.plus_ms(1_000)),
        ];
        let mut prepared = mp.prepare(NOW, &batch);
        let known = PrivateKey::from_seed(1).public_key();
        let stale = PrivateKey::from_seed(3).public_key();
        prepared.refuse_known_bad(|k| {
            if *k == known {
                Some(0)
            } else if *k == stale {
                Some(1)
            } else {
                None
            }
        });
        assert_eq!(
            prepared.take_candidates().len(),
            1,
            "only nonce 3 of sender 1"
        );
        assert_eq!(
            prepared.results[1],
            Err(AdmitError::NonceTooFar {
                nonce: 4,
                expected: 0,
                max_ahead: 4
            })
        );
        assert_eq!(prepared.results[2], Err(AdmitError::UnknownSender));
        assert_eq!(
            prepared.results[3],
            Err(AdmitError::Stale {
                nonce: 0,
                expected: 1
            })
        );
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
