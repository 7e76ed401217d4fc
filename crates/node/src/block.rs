//! The block consensus orders: its context, parent, height, time, the signed transactions
//! in order, and the commitments to the state after executing them.

use bytes::BufMut;
use commonware_codec::{
    Buf, EncodeSize, Error, FixedSize, MaxEncodeSize, RangeCfg, Read, ReadExt as _, Write,
};
use commonware_consensus::simplex::types::Context;
use commonware_consensus::types::{Epoch, Height, Round, View};
use commonware_consensus::{Block, BoundedBlock, CertifiableBlock, Heightable};
use commonware_cryptography::{
    Digest as _, Digestible, Hasher as _, Sha256, Signer as _, ed25519, sha256,
};
use commonware_storage::mmr::Location;
use commonware_utils::range::NonEmptyRange;
use tally_types::Timestamp;
use tally_types::limits::MAX_TX_BYTES;

/// Validator identity key.
pub type PublicKey = ed25519::PublicKey;
/// Block digest.
pub type Digest = sha256::Digest;
/// What simplex records about the round a block was proposed in.
pub type ConsensusContext = Context<Digest, PublicKey>;

/// Transactions one block may carry.
pub const MAX_BLOCK_TXS: usize = 10_000;
/// Encoded bytes of all transactions of one block.
pub const MAX_BLOCK_TX_BYTES: usize = 8 * 1024 * 1024;
/// How far one block's time may run ahead of its parent's: the permanent rule on block
/// time, which depends on the block and its parent only. Voters also compare a candidate's
/// time with their own clocks ([MAX_CLOCK_AHEAD_MS]), which finalized blocks skip.
pub const MAX_BLOCK_TIME_STEP_MS: u64 = 10 * 60 * 1000;

/// How far a candidate block's time may be ahead of a validator's own clock for it to
/// vote for the block (proposer-based timestamps). A block needs votes from at least
/// f + 1 honest validators, so ledger time never runs further ahead of the fastest honest
/// clock than this plus [MAX_CLOCK_WAIT_MS]; validators' clocks must agree to well within
/// it (NTP does, to milliseconds).
pub const MAX_CLOCK_AHEAD_MS: u64 = 1_000;

/// How long a validator waits for its clock to catch up with a candidate that is at most
/// this much further ahead than [MAX_CLOCK_AHEAD_MS], instead of refusing it (clocks and
/// message delays differ a little). Short, since verification of other blocks waits too.
pub const MAX_CLOCK_WAIT_MS: u64 = 500;

/// A block of the ledger chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerBlock {
    /// Consensus round, leader and parent view; committed by the digest.
    pub context: ConsensusContext,
    /// Digest of the parent block.
    pub parent: Digest,
    /// Height (genesis is 0).
    pub height: Height,
    /// Block time: not before the parent's, at most `MAX_BLOCK_TIME_STEP_MS` after.
    pub time: Timestamp,
    /// Signed transactions, canonical encodings, in execution order.
    pub txs: Vec<Vec<u8>>,
    /// Root of the state after this block (QMDB canonical root; proofs verify against it).
    pub state_root: Digest,
    /// Root of the state's operation log (QMDB sync target).
    pub ops_root: Digest,
    /// Operation range of the sync target.
    pub range: NonEmptyRange<Location>,
}

impl Write for LedgerBlock {
    fn write(&self, buf: &mut impl BufMut) {
        self.context.write(buf);
        self.parent.write(buf);
        self.height.write(buf);
        self.time.write(buf);
        self.txs.write(buf);
        self.state_root.write(buf);
        self.ops_root.write(buf);
        self.range.write(buf);
    }
}

impl EncodeSize for LedgerBlock {
    fn encode_size(&self) -> usize {
        self.context.encode_size()
            + self.parent.encode_size()
            + self.height.encode_size()
            + self.time.encode_size()
            + self.txs.encode_size()
            + self.state_root.encode_size()
            + self.ops_root.encode_size()
            + self.range.encode_size()
    }
}

impl Read for LedgerBlock {
    type Cfg = ();
    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, Error> {
        let context = ConsensusContext::read(buf)?;
        let parent = Digest::read(buf)?;
        let height = Height::read(buf)?;
        let time = Timestamp::read(buf)?;
        let txs_cfg = (
            RangeCfg::from(0..=MAX_BLOCK_TXS),
            (RangeCfg::from(0..=MAX_TX_BYTES), ()),
        );
        let txs = Vec::<Vec<u8>>::read_cfg(buf, &txs_cfg)?;
        if txs.iter().map(Vec::len).sum::<usize>() > MAX_BLOCK_TX_BYTES {
            return Err(Error::Invalid(
                "LedgerBlock",
                "transactions exceed MAX_BLOCK_TX_BYTES",
            ));
        }
        Ok(Self {
            context,
            parent,
            height,
            time,
            txs,
            state_root: Digest::read(buf)?,
            ops_root: Digest::read(buf)?,
            range: NonEmptyRange::<Location>::read(buf)?,
        })
    }
}

impl LedgerBlock {
    /// Digest of the transactions' canonical encoding (the `txs` field as the block
    /// encodes it: count, then each transaction's length and bytes).
    pub fn txs_digest(&self) -> Digest {
        let mut buf = Vec::with_capacity(self.txs.encode_size());
        self.txs.write(&mut buf);
        Sha256::hash(&[&buf])
    }

    /// The block's header: its encoding with the transactions replaced by their digest.
    /// The finality certificate signs SHA-256 of these bytes, so a verifier (another
    /// ledger, a contract) proves a state root final from a few hundred bytes instead of
    /// the whole block.
    pub fn header(&self) -> Vec<u8> {
        let mut buf = Vec::with_capacity(HEADER_MAX_BYTES);
        self.context.write(&mut buf);
        self.parent.write(&mut buf);
        self.height.write(&mut buf);
        self.time.write(&mut buf);
        self.txs_digest().write(&mut buf);
        self.state_root.write(&mut buf);
        self.ops_root.write(&mut buf);
        self.range.write(&mut buf);
        assert!(buf.len() <= HEADER_MAX_BYTES, "a header is bounded");
        buf
    }
}

/// Largest encoded header (context, height and locations are varints; the rest is fixed).
pub const HEADER_MAX_BYTES: usize = ConsensusContext::MAX_ENCODE_SIZE
    + 4 * Digest::SIZE
    + Height::MAX_ENCODE_SIZE
    + Timestamp::SIZE
    + NonEmptyRange::<Location>::MAX_ENCODE_SIZE;

impl Digestible for LedgerBlock {
    type Digest = Digest;
    fn digest(&self) -> Digest {
        // The header commits to the consensus context, the state and (by digest) the
        // transactions.
        Sha256::hash(&[&self.header()])
    }
}

/// A block header decoded and checked: what a certified header proves about its block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Consensus round, leader and parent view.
    pub context: ConsensusContext,
    /// Digest of the parent block.
    pub parent: Digest,
    /// Height.
    pub height: Height,
    /// Block time.
    pub time: Timestamp,
    /// Digest of the transactions' encoding.
    pub txs_digest: Digest,
    /// State root after the block.
    pub state_root: Digest,
    /// Root of the state's operation log.
    pub ops_root: Digest,
    /// Operation range of the sync target.
    pub range: NonEmptyRange<Location>,
}

impl Header {
    /// Decodes header bytes as [LedgerBlock::header] writes them; nothing may follow.
    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() > HEADER_MAX_BYTES {
            return Err(Error::Invalid("Header", "longer than HEADER_MAX_BYTES"));
        }
        let mut buf = commonware_codec::Copying(bytes);
        let header = Self {
            context: ConsensusContext::read(&mut buf)?,
            parent: Digest::read(&mut buf)?,
            height: Height::read(&mut buf)?,
            time: Timestamp::read(&mut buf)?,
            txs_digest: Digest::read(&mut buf)?,
            state_root: Digest::read(&mut buf)?,
            ops_root: Digest::read(&mut buf)?,
            range: NonEmptyRange::<Location>::read(&mut buf)?,
        };
        if !buf.0.is_empty() {
            return Err(Error::ExtraData(buf.0.len()));
        }
        Ok(header)
    }

    /// The digest the finality certificate of this header's block signs.
    pub fn digest_of(bytes: &[u8]) -> Digest {
        Sha256::hash(&[bytes])
    }
}

impl Heightable for LedgerBlock {
    fn height(&self) -> Height {
        self.height
    }
}

impl Block for LedgerBlock {
    fn parent(&self) -> Digest {
        self.parent
    }
}

impl CertifiableBlock for LedgerBlock {
    type Context = ConsensusContext;
    fn context(&self) -> ConsensusContext {
        self.context.clone()
    }
}

impl BoundedBlock for LedgerBlock {
    fn max_encode_size(_: &()) -> usize {
        ConsensusContext::MAX_ENCODE_SIZE
            + 3 * Digest::SIZE
            + Height::MAX_ENCODE_SIZE
            + Timestamp::SIZE
            + 5 // tx count varint
            + MAX_BLOCK_TXS * 5 // per-tx length varints
            + MAX_BLOCK_TX_BYTES
            + NonEmptyRange::<Location>::MAX_ENCODE_SIZE
    }
}

impl LedgerBlock {
    /// The genesis block: height 0 at the genesis time, committing to the empty
    /// authenticated store (the ledger's genesis state is written with block 1).
    pub fn genesis(time: Timestamp, ops_root: Digest, range: NonEmptyRange<Location>) -> Self {
        Self {
            context: Context {
                round: Round::new(Epoch::zero(), View::zero()),
                leader: ed25519::PrivateKey::from_seed(0).public_key(),
                parent: (View::zero(), Digest::EMPTY),
            },
            parent: Digest::EMPTY,
            height: Height::zero(),
            time,
            txs: Vec::new(),
            state_root: Digest::EMPTY,
            ops_root,
            range,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use commonware_codec::Encode as _;
    use commonware_utils::non_empty_range;

    fn block(txs: Vec<Vec<u8>>) -> LedgerBlock {
        let mut b = LedgerBlock::genesis(
            Timestamp(1_700_000_000_000),
            Sha256::hash(&[b"ops"]),
            non_empty_range!(Location::new(3), Location::new(9)),
        );
        b.height = Height::new(7);
        b.txs = txs;
        b.state_root = Sha256::hash(&[b"state"]);
        b
    }

    #[test]
    fn the_header_is_the_encoding_with_the_transactions_replaced_by_their_digest() {
        let b = block(vec![vec![1, 2, 3], vec![4; 300]]);
        let (full, header) = (b.encode(), b.header());
        let txs = b.txs.encode();
        // The prefix up to the transactions and the suffix after them are shared.
        let at = full
            .windows(txs.len())
            .position(|w| w == &txs[..])
            .expect("transactions in the encoding");
        assert_eq!(&header[..at], &full[..at]);
        assert_eq!(&header[at..at + 32], Sha256::hash(&[&txs[..]]).as_ref());
        assert_eq!(&header[at + 32..], &full[at + txs.len()..]);
        assert!(header.len() <= HEADER_MAX_BYTES);
        assert_eq!(b.digest(), Header::digest_of(&header));

        let h = Header::decode(&header).expect("decodes");
        assert_eq!(
            (h.height, h.time, h.state_root),
            (b.height, b.time, b.state_root)
        );
        assert_eq!(
            (h.parent, h.ops_root, h.txs_digest),
            (b.parent, b.ops_root, b.txs_digest())
        );
    }

    #[test]
    fn the_digest_commits_to_every_transaction() {
        let a = block(vec![vec![1, 2, 3]]);
        let b = block(vec![vec![1, 2, 4]]);
        let c = block(vec![vec![1, 2], vec![3]]);
        assert_ne!(a.digest(), b.digest());
        assert_ne!(a.digest(), c.digest());
        assert_ne!(a.digest(), block(Vec::new()).digest());
    }

    #[test]
    fn a_header_with_anything_after_it_or_cut_short_is_refused() {
        let header = block(vec![vec![9]]).header();
        let mut long = header.clone();
        long.push(0);
        assert!(Header::decode(&long).is_err());
        assert!(Header::decode(&header[..header.len() - 1]).is_err());
        assert!(Header::decode(&[]).is_err());
    }
}
