//! The ledger's view of storage: ordered bytes to bytes, with a commitment.
//!
//! The state machine reads and writes only through [Store]. [MemStore] keeps everything in
//! a `BTreeMap` and commits to it with a binary Merkle tree; the node implements [Store]
//! over Commonware's QMDB, whose root takes the place of [MemStore::root]. Keys are short
//! byte strings (a table tag then big-endian fields), so key order is the order the
//! ledger iterates in, on every implementation.

use std::collections::BTreeMap;
use std::ops::Bound;
use tally_types::Hash32;

/// Ordered key-value storage the ledger runs on.
pub trait Store {
    /// The value at `key`.
    fn get(&self, key: &[u8]) -> Option<Vec<u8>>;
    /// Sets `key` to `value`.
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>);
    /// Removes `key` (no-op if absent).
    fn delete(&mut self, key: &[u8]);
    /// Up to `limit` entries with `start <= key < end`, in ascending key order.
    fn scan(&self, start: &[u8], end: &[u8], limit: usize) -> Vec<(Vec<u8>, Vec<u8>)>;
}

/// A store that can commit to its whole content with one digest.
pub trait Commit {
    /// The root over every entry. Equal content gives an equal root, whatever the history.
    fn root(&mut self) -> Hash32;
}

/// In-memory store: a `BTreeMap` with cached leaf hashes and a Merkle root.
#[derive(Clone, Debug, Default)]
pub struct MemStore {
    entries: BTreeMap<Vec<u8>, (Vec<u8>, Hash32)>,
}

impl MemStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every entry in key order (for tests and dumps).
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.entries
            .iter()
            .map(|(k, (v, _))| (k.as_slice(), v.as_slice()))
    }
}

/// Leaf hash: domain-separated from inner nodes, key length-prefixed so that
/// (key, value) splits are unambiguous.
pub fn leaf_hash(key: &[u8], value: &[u8]) -> Hash32 {
    let len = u32::try_from(key.len()).unwrap_or(u32::MAX).to_be_bytes();
    Hash32::digest(&[&[0x00], &len, key, value])
}

fn node_hash(left: &Hash32, right: &Hash32) -> Hash32 {
    Hash32::digest(&[&[0x01], &left.0, &right.0])
}

/// Root of a binary Merkle tree over leaves in order; an odd node is carried up unchanged.
/// The empty tree's root is the hash of the tag alone.
pub fn merkle_root(mut level: Vec<Hash32>) -> Hash32 {
    if level.is_empty() {
        return Hash32::digest(&[b"tally/empty-state"]);
    }
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| match pair {
                [l, r] => node_hash(l, r),
                [single] => *single,
                _ => unreachable!("chunks(2) yields one or two"),
            })
            .collect();
    }
    level[0]
}

impl Store for MemStore {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.entries.get(key).map(|(v, _)| v.clone())
    }

    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        let h = leaf_hash(&key, &value);
        self.entries.insert(key, (value, h));
    }

    fn delete(&mut self, key: &[u8]) {
        self.entries.remove(key);
    }

    fn scan(&self, start: &[u8], end: &[u8], limit: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
        if start >= end {
            return Vec::new();
        }
        self.entries
            .range::<[u8], _>((Bound::Included(start), Bound::Excluded(end)))
            .take(limit)
            .map(|(k, (v, _))| (k.clone(), v.clone()))
            .collect()
    }
}

/// A plain ordered map is a store too (the node's finalized state is one).
impl Store for BTreeMap<Vec<u8>, Vec<u8>> {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        BTreeMap::get(self, key).cloned()
    }

    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.insert(key, value);
    }

    fn delete(&mut self, key: &[u8]) {
        self.remove(key);
    }

    fn scan(&self, start: &[u8], end: &[u8], limit: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
        if start >= end {
            return Vec::new();
        }
        self.range::<[u8], _>((Bound::Included(start), Bound::Excluded(end)))
            .take(limit)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

impl Commit for MemStore {
    fn root(&mut self) -> Hash32 {
        merkle_root(self.entries.values().map(|(_, h)| *h).collect())
    }
}

/// Uncommitted writes over a base store: what one transaction has done so far. Reads see
/// the writes; [Overlay::into_writes] hands them back to apply to the base, or the overlay
/// is dropped and the base never changes.
pub struct Overlay<'a, S: Store + ?Sized> {
    base: &'a S,
    writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// While a savepoint is open: each written key with the entry it had in `writes`
    /// before (outer `None`: it had none), oldest first.
    undo: Option<Vec<Undo>>,
}

/// A key and the entry it had in an overlay's writes before a write.
type Undo = (Vec<u8>, Option<Option<Vec<u8>>>);

impl<'a, S: Store + ?Sized> Overlay<'a, S> {
    /// An overlay with no writes.
    pub fn new(base: &'a S) -> Self {
        Self {
            base,
            writes: BTreeMap::new(),
            undo: None,
        }
    }

    /// Opens a savepoint: writes from here on can be undone as one ([Overlay::rollback])
    /// or kept ([Overlay::release]). Savepoints do not nest.
    pub fn savepoint(&mut self) {
        assert!(self.undo.is_none(), "savepoints do not nest");
        self.undo = Some(Vec::new());
    }

    /// Keeps the writes made since the savepoint and closes it.
    pub fn release(&mut self) {
        assert!(self.undo.take().is_some(), "no savepoint open");
    }

    /// Undoes every write made since the savepoint and closes it.
    pub fn rollback(&mut self) {
        let undo = self.undo.take().expect("no savepoint open");
        for (key, before) in undo.into_iter().rev() {
            match before {
                None => self.writes.remove(&key),
                Some(entry) => self.writes.insert(key, entry),
            };
        }
    }

    fn record(&mut self, key: &[u8]) {
        if let Some(undo) = &mut self.undo {
            undo.push((key.to_vec(), self.writes.get(key).cloned()));
        }
    }

    /// The value at `key`, as written here or else in the base.
    pub fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        match self.writes.get(key) {
            Some(w) => w.clone(),
            None => self.base.get(key),
        }
    }

    /// Records a write.
    pub fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.record(&key);
        self.writes.insert(key, Some(value));
    }

    /// Records a deletion.
    pub fn delete(&mut self, key: &[u8]) {
        self.record(key);
        self.writes.insert(key.to_vec(), None);
    }

    /// Up to `limit` live entries with `start <= key < end`, merging writes and base.
    pub fn scan(&self, start: &[u8], end: &[u8], limit: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
        if start >= end || limit == 0 {
            return Vec::new();
        }
        let range = (Bound::Included(start), Bound::Excluded(end));
        // Deleted keys in the overlay may hide base entries, so ask the base for enough.
        let deleted = self
            .writes
            .range::<[u8], _>(range)
            .filter(|(_, v)| v.is_none())
            .count();
        let base = self.base.scan(start, end, limit.saturating_add(deleted));
        let mut merged: BTreeMap<Vec<u8>, Vec<u8>> = base.into_iter().collect();
        for (k, w) in self.writes.range::<[u8], _>(range) {
            match w {
                Some(v) => merged.insert(k.clone(), v.clone()),
                None => merged.remove(k),
            };
        }
        merged.into_iter().take(limit).collect()
    }

    /// The writes, in key order, to apply to the base.
    pub fn into_writes(self) -> BTreeMap<Vec<u8>, Option<Vec<u8>>> {
        assert!(self.undo.is_none(), "a savepoint is still open");
        self.writes
    }
}

/// An overlay is a store too, so one step of a block's lifecycle work (an auction
/// winner's issue) can run in its own overlay and be kept or dropped as a whole.
impl<S: Store + ?Sized> Store for Overlay<'_, S> {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        Overlay::get(self, key)
    }

    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        Overlay::put(self, key, value);
    }

    fn delete(&mut self, key: &[u8]) {
        Overlay::delete(self, key);
    }

    fn scan(&self, start: &[u8], end: &[u8], limit: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
        Overlay::scan(self, start, end, limit)
    }
}

/// Applies writes taken from an [Overlay].
pub fn apply_writes<S: Store + ?Sized>(store: &mut S, writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>) {
    for (k, w) in writes {
        match w {
            Some(v) => store.put(k, v),
            None => store.delete(&k),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_depends_on_content_not_history() {
        let mut a = MemStore::new();
        let mut b = MemStore::new();
        a.put(b"k1".to_vec(), b"v1".to_vec());
        a.put(b"k2".to_vec(), b"v2".to_vec());
        b.put(b"k2".to_vec(), b"v2".to_vec());
        b.put(b"k3".to_vec(), b"x".to_vec());
        b.put(b"k1".to_vec(), b"v1".to_vec());
        assert_ne!(a.root(), b.root());
        b.delete(b"k3");
        assert_eq!(a.root(), b.root());
        a.put(b"k1".to_vec(), b"changed".to_vec());
        assert_ne!(a.root(), b.root());
    }

    #[test]
    fn overlay_scan_merges_and_hides_deletes() {
        let mut base = MemStore::new();
        for i in 0u8..10 {
            base.put(vec![1, i], vec![i]);
        }
        let mut o = Overlay::new(&base);
        o.delete(&[1, 0]);
        o.delete(&[1, 1]);
        o.put(vec![1, 20], vec![20]);
        let got: Vec<u8> = o
            .scan(&[1], &[2], 3)
            .into_iter()
            .map(|(_, v)| v[0])
            .collect();
        assert_eq!(got, vec![2, 3, 4]);
        let all: Vec<u8> = o
            .scan(&[1], &[2], 100)
            .into_iter()
            .map(|(_, v)| v[0])
            .collect();
        assert_eq!(all, vec![2, 3, 4, 5, 6, 7, 8, 9, 20]);
        assert_eq!(o.get(&[1, 0]), None);
        assert_eq!(base.get(&[1, 0]), Some(vec![0]));
    }

    #[test]
    fn a_rollback_restores_the_writes_before_the_savepoint() {
        let mut base = MemStore::new();
        base.put(vec![1], vec![1]);
        base.put(vec![2], vec![2]);
        let mut o = Overlay::new(&base);
        o.put(vec![1], vec![10]);
        o.delete(&[2]);
        o.savepoint();
        o.put(vec![1], vec![11]);
        o.put(vec![1], vec![12]);
        o.put(vec![2], vec![20]);
        o.put(vec![3], vec![30]);
        o.delete(&[1]);
        o.rollback();
        assert_eq!(o.get(&[1]), Some(vec![10]));
        assert_eq!(o.get(&[2]), None);
        assert_eq!(o.get(&[3]), None);
        o.savepoint();
        o.put(vec![3], vec![31]);
        o.release();
        let writes = o.into_writes();
        let want: BTreeMap<Vec<u8>, Option<Vec<u8>>> = [
            (vec![1], Some(vec![10])),
            (vec![2], None),
            (vec![3], Some(vec![31])),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            writes, want,
            "only what was kept, and no key the rollback removed"
        );
    }
}
