//! Speculative state for blocks that are proposed or verified but not yet finalized.
//!
//! Consensus may have several candidate blocks in flight, each building on another
//! candidate or on the finalized state. The ledger needs synchronous, ordered access to
//! "the state as of my parent" to execute a block, including range scans. The
//! [StateCache] keeps the finalized state in memory as an ordered map and, for each
//! candidate block, the writes its execution made. A [ForkView] reads through the chain
//! of a parent's ancestors' writes down to the finalized state, and collects the new
//! block's writes. When a block finalizes its writes fold into the base, and candidates
//! that can no longer finalize are dropped.
//!
//! The authenticated store (QMDB) receives the same writes; this cache is what the ledger
//! executes against, so execution never waits on storage and never re-runs.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;
use tally_ledger::Store;
use tally_types::Hash32;

/// The writes of one block: `Some(value)` to set, `None` to delete.
pub type Writes = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// A block executed on top of another, with its writes.
#[derive(Clone, Debug)]
struct Candidate {
    parent: Hash32,
    height: u64,
    writes: Arc<Writes>,
}

/// Why a view could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CacheError {
    /// The parent is neither the finalized tip nor a known candidate.
    #[error("unknown parent {0}")]
    UnknownParent(Hash32),
}

/// The finalized state as an ordered map.
pub type Base = BTreeMap<Vec<u8>, Vec<u8>>;

/// Finalized state plus the writes of every live candidate block.
///
/// Views own what they read (`Arc`s of the base and of the layers above it), so a block
/// executes, and an API request reads, without holding any lock. Finalizing a block
/// pushes its writes as one more finalized layer; the layers fold into the base as soon
/// as no view shares it (at the next finalization or insertion), so the base is never
/// copied.
#[derive(Debug, Default)]
pub struct StateCache {
    base: Arc<Base>,
    /// Finalized blocks' writes not yet folded into `base`, oldest first.
    unfolded: Vec<Arc<Writes>>,
    /// Digest of the block the finalized state reflects.
    tip: Hash32,
    tip_height: u64,
    candidates: BTreeMap<Hash32, Candidate>,
}

impl StateCache {
    /// A cache whose finalized state is `base`, as of block `tip` at `height`.
    pub fn new(base: Base, tip: Hash32, height: u64) -> Self {
        Self {
            base: Arc::new(base),
            unfolded: Vec::new(),
            tip,
            tip_height: height,
            candidates: BTreeMap::new(),
        }
    }

    /// The finalized tip and its height.
    pub fn tip(&self) -> (Hash32, u64) {
        (self.tip, self.tip_height)
    }

    /// Number of live candidates.
    pub fn candidates(&self) -> usize {
        self.candidates.len()
    }

    /// Finalized layers waiting to fold into the base (a view still shares it).
    pub fn unfolded(&self) -> usize {
        self.unfolded.len()
    }

    /// Whether `block` has been executed (finalized tip or live candidate).
    pub fn knows(&self, block: &Hash32) -> bool {
        self.tip == *block || self.candidates.contains_key(block)
    }

    /// A view of the state as of `parent`, to execute a child block against. It owns
    /// what it reads: build it under the lock that guards the cache, use it without.
    pub fn view(&self, parent: &Hash32) -> Result<ForkView, CacheError> {
        let mut chain = Vec::new();
        let mut at = *parent;
        while at != self.tip {
            let c = self
                .candidates
                .get(&at)
                .ok_or(CacheError::UnknownParent(at))?;
            chain.push(Arc::clone(&c.writes));
            at = c.parent;
        }
        chain.extend(self.unfolded.iter().rev().cloned());
        Ok(ForkView {
            base: Arc::clone(&self.base),
            chain,
            writes: Writes::new(),
        })
    }

    /// A read-only view of the finalized state.
    pub fn snapshot(&self) -> ForkView {
        ForkView {
            base: Arc::clone(&self.base),
            chain: self.unfolded.iter().rev().cloned().collect(),
            writes: Writes::new(),
        }
    }

    /// The candidates from `block` back to (not including) the finalized tip, nearest
    /// first; empty if `block` is the tip or unknown.
    pub fn pending_chain(&self, block: &Hash32) -> Vec<Hash32> {
        let mut out = Vec::new();
        let mut at = *block;
        while let Some(c) = self.candidates.get(&at) {
            out.push(at);
            at = c.parent;
        }
        out
    }

    /// Records the writes of `block`, executed on `parent`.
    pub fn insert(
        &mut self,
        block: Hash32,
        parent: Hash32,
        writes: Writes,
    ) -> Result<(), CacheError> {
        let height = if parent == self.tip {
            self.tip_height + 1
        } else {
            self.candidates
                .get(&parent)
                .ok_or(CacheError::UnknownParent(parent))?
                .height
                + 1
        };
        self.candidates.insert(
            block,
            Candidate {
                parent,
                height,
                writes: Arc::new(writes),
            },
        );
        self.fold();
        Ok(())
    }

    /// Folds the finalized layers into the base if no view shares it.
    fn fold(&mut self) {
        if self.unfolded.is_empty() {
            return;
        }
        let Some(base) = Arc::get_mut(&mut self.base) else {
            return; // a view still reads the base; try again later
        };
        for layer in self.unfolded.drain(..) {
            for (k, w) in layer.iter() {
                match w {
                    Some(v) => base.insert(k.clone(), v.clone()),
                    None => base.remove(k),
                };
            }
        }
    }

    /// Makes the candidate `block` (a child of the tip) the finalized tip and drops every
    /// candidate that does not descend from it. Returns its writes, for the durable store.
    pub fn finalize(&mut self, block: &Hash32) -> Result<Arc<Writes>, CacheError> {
        let c = self
            .candidates
            .remove(block)
            .ok_or(CacheError::UnknownParent(*block))?;
        assert_eq!(
            c.parent, self.tip,
            "finalized block must extend the finalized tip"
        );
        assert_eq!(
            c.height,
            self.tip_height + 1,
            "finalized heights are consecutive"
        );
        self.unfolded.push(Arc::clone(&c.writes));
        self.tip = *block;
        self.tip_height = c.height;
        // Keep only candidates that descend from the new tip.
        let mut keep: BTreeMap<Hash32, Candidate> = BTreeMap::new();
        let mut frontier = vec![*block];
        while let Some(p) = frontier.pop() {
            let children: Vec<Hash32> = self
                .candidates
                .iter()
                .filter(|(_, c)| c.parent == p)
                .map(|(d, _)| *d)
                .collect();
            for d in children {
                if let Some(c) = self.candidates.remove(&d) {
                    keep.insert(d, c);
                    frontier.push(d);
                }
            }
        }
        self.candidates = keep;
        self.fold();
        Ok(c.writes)
    }
}

/// The state as of some block, plus the writes of the block being executed on it. It
/// owns `Arc`s of everything it reads, so it can move to another thread and be read
/// without a lock.
pub struct ForkView {
    base: Arc<Base>,
    /// Layers above the base, nearest first: candidates' writes, then finalized writes
    /// not yet folded into the base.
    chain: Vec<Arc<Writes>>,
    writes: Writes,
}

impl ForkView {
    /// The writes made through this view.
    pub fn into_writes(self) -> Writes {
        self.writes
    }

    fn lookup(&self, key: &[u8]) -> Option<Option<Vec<u8>>> {
        if let Some(w) = self.writes.get(key) {
            return Some(w.clone());
        }
        self.chain.iter().find_map(|layer| layer.get(key).cloned())
    }
}

impl Store for ForkView {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        match self.lookup(key) {
            Some(w) => w,
            None => self.base.get(key).cloned(),
        }
    }

    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.writes.insert(key, Some(value));
    }

    fn delete(&mut self, key: &[u8]) {
        self.writes.insert(key.to_vec(), None);
    }

    fn scan(&self, start: &[u8], end: &[u8], limit: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
        if start >= end || limit == 0 {
            return Vec::new();
        }
        let range = (Bound::Included(start), Bound::Excluded(end));
        // Layers, oldest first, so nearer writes override older ones. Deleted keys in any
        // layer may hide base entries, so take enough from the base to fill `limit`.
        let layers: Vec<&Writes> = self
            .chain
            .iter()
            .rev()
            .map(|a| a.as_ref())
            .chain([&self.writes])
            .collect();
        let deletes: usize = layers
            .iter()
            .map(|l| {
                l.range::<[u8], _>(range)
                    .filter(|(_, w)| w.is_none())
                    .count()
            })
            .sum();
        let mut merged: BTreeMap<Vec<u8>, Vec<u8>> = self
            .base
            .range::<[u8], _>(range)
            .take(limit.saturating_add(deletes))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for layer in layers {
            for (k, w) in layer.range::<[u8], _>(range) {
                match w {
                    Some(v) => merged.insert(k.clone(), v.clone()),
                    None => merged.remove(k),
                };
            }
        }
        merged.into_iter().take(limit).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tally_ledger::demo::{self, USD, member};
    use tally_ledger::{BlockEnv, MemStore};
    use tally_types::Operation;
    use tally_types::model::Leg;
    use tally_types::ops::Transfer;

    fn h(n: u8) -> Hash32 {
        Hash32([n; 32])
    }

    #[test]
    fn forks_see_their_own_ancestry_only() {
        let mut base = BTreeMap::new();
        base.insert(b"a".to_vec(), b"0".to_vec());
        base.insert(b"b".to_vec(), b"0".to_vec());
        let mut cache = StateCache::new(base, h(0), 10);

        let mut v1 = cache.view(&h(0)).unwrap();
        v1.put(b"a".to_vec(), b"1".to_vec());
        cache.insert(h(1), h(0), v1.into_writes()).unwrap();

        let mut v2 = cache.view(&h(1)).unwrap();
        assert_eq!(v2.get(b"a"), Some(b"1".to_vec()));
        v2.delete(b"b");
        cache.insert(h(2), h(1), v2.into_writes()).unwrap();

        // A sibling of block 1 does not see block 1's writes.
        let sibling = cache.view(&h(0)).unwrap();
        assert_eq!(sibling.get(b"a"), Some(b"0".to_vec()));
        let mut s = cache.view(&h(0)).unwrap();
        s.put(b"c".to_vec(), b"s".to_vec());
        cache.insert(h(3), h(0), s.into_writes()).unwrap();

        let v = cache.view(&h(2)).unwrap();
        assert_eq!(v.scan(b"a", b"z", 10), vec![(b"a".to_vec(), b"1".to_vec())]);
        assert_eq!(
            cache.view(&h(9)).err(),
            Some(CacheError::UnknownParent(h(9)))
        );

        // Finalizing block 1 drops the sibling, keeps block 2.
        drop((sibling, v));
        cache.finalize(&h(1)).unwrap();
        assert_eq!(
            cache.unfolded(),
            0,
            "no view shares the base: folded at once"
        );
        assert_eq!(cache.tip(), (h(1), 11));
        assert!(cache.knows(&h(2)) && !cache.knows(&h(3)));
        assert_eq!(cache.snapshot().get(b"a"), Some(b"1".to_vec()));
        // A reader holding a snapshot keeps the base shared: block 2's writes wait as a
        // layer (the reader still sees the old state), then fold once it is gone.
        let reader = cache.snapshot();
        cache.finalize(&h(2)).unwrap();
        assert_eq!(cache.unfolded(), 1);
        assert_eq!(reader.get(b"b"), Some(b"0".to_vec()));
        assert_eq!(cache.snapshot().get(b"b"), None);
        assert_eq!(cache.snapshot().scan(b"a", b"z", 10).len(), 1);
        drop(reader);
        cache.insert(h(4), h(2), Writes::new()).unwrap();
        assert_eq!(cache.unfolded(), 0);
        assert_eq!(cache.snapshot().scan(b"a", b"z", 10).len(), 1);
    }

    #[test]
    fn ledger_on_a_fork_view_matches_the_ledger_on_a_memstore() {
        // Execute the same two blocks on a MemStore and through the cache: same state.
        let mut sb = demo::Sandbox::demo();
        let base: BTreeMap<Vec<u8>, Vec<u8>> = sb
            .store
            .iter()
            .map(|(k, v)| (k.to_vec(), v.to_vec()))
            .collect();
        let mut cache = StateCache::new(base, h(0), 0);
        let (a, b) = (member("dealer-a"), member("dealer-b"));
        let mut parent = h(0);
        for (i, amount) in [100u128, 250].into_iter().enumerate() {
            let leg = Leg {
                from: a.account,
                to: b.account,
                instrument: USD,
                amount,
            };
            let tx = sb.sign(&[&a.key()], vec![Operation::Transfer(Transfer { leg })]);
            let receipts = sb.block(std::slice::from_ref(&tx));
            assert!(receipts[0].is_ok());
            let mut view = cache.view(&parent).unwrap();
            let env = BlockEnv {
                height: sb.height,
                time: sb.time,
            };
            let out = sb.ledger.apply_block(&mut view, env, &[tx]).unwrap();
            assert_eq!(out.receipts, receipts);
            let id = h(u8::try_from(i + 1).unwrap());
            cache.insert(id, parent, view.into_writes()).unwrap();
            parent = id;
        }
        cache.finalize(&h(1)).unwrap();
        cache.finalize(&h(2)).unwrap();
        let mut mirrored = MemStore::new();
        for (k, v) in cache.snapshot().scan(&[], &[0xff; 64], usize::MAX) {
            mirrored.put(k, v);
        }
        use tally_ledger::Commit as _;
        assert_eq!(mirrored.root(), sb.root());
    }
}
