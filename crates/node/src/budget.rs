//! How much a proposer puts in a block, and how much the API admits: both follow what
//! this validator measures, never a fixed count alone.
//!
//! **Block budget.** A block must be verified, executed and merkleized by every validator
//! well inside the certification timeout, or its view is nullified and the next leader
//! tries an even bigger block (the collapse seen under overload). The proposer therefore
//! sizes its block by time: it learns the cost per unit of work (a transaction, or one
//! transfer of a batch: [tally_types::Transaction::work]) from the blocks this
//! validator processed (raising the estimate at once when a block was slower, lowering
//! it slowly when faster) and takes no more than fit in [BLOCK_WORK_TARGET].
//! `MAX_BLOCK_TXS` stays the consensus-critical validity cap on transactions (and
//! [MAX_BLOCK_WORK] caps the budget); this is a local choice, and no validator's vote
//! depends on it.
//!
//! **Drain rate.** The rate at which finalized blocks remove work from the pool, averaged
//! over recent blocks. Admission refuses new transactions with a retryable `Overloaded`
//! once the pool holds more than [ADMITTED_BACKLOG] of that rate (and at least two
//! budgeted blocks' worth), so what is admitted waits a bounded time instead of a queue
//! growing without end.

use std::time::Duration;

/// Time a block's verification, execution and merkleization should take on this
/// validator: a fifth of the default 2 s certification timeout, leaving room for
/// propagation, voting and a validator slower than this one.
pub const BLOCK_WORK_TARGET: Duration = Duration::from_millis(400);
/// Most units of work a budget allows in one block, however cheap they are measured to
/// be: about the transfers of batches that fill `MAX_BLOCK_TX_BYTES`.
pub const MAX_BLOCK_WORK: usize = 200_000;
/// Cost per unit of work assumed before any block is measured (conservative: a fresh
/// validator proposes smaller blocks until it knows better).
const INITIAL_COST_NS: u64 = 100_000;
/// Blocks with fewer units of work say little about the cost per unit (fixed per-block
/// work dominates); they are not learned from.
const MIN_SAMPLE_WORK: usize = 64;
/// Fewest units of work a budget allows per block, whatever the estimate.
pub const MIN_BUDGET_WORK: usize = 256;
/// How long admitted transactions may wait at the drain rate.
pub const ADMITTED_BACKLOG: Duration = Duration::from_secs(2);
/// Blocks' worth of transactions (at the proposer's budget) the pool may always hold,
/// whatever the measured rate: an idle or starting network has measured no drain yet,
/// and the next two blocks can always take this much.
pub const MIN_BACKLOG_BLOCKS: usize = 2;

/// The proposer's learned cost per unit of work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockBudget {
    cost_ns: u64,
}

impl Default for BlockBudget {
    fn default() -> Self {
        Self {
            cost_ns: INITIAL_COST_NS,
        }
    }
}

impl BlockBudget {
    /// The current estimate of one unit's cost.
    pub fn cost_per_unit(&self) -> Duration {
        Duration::from_nanos(self.cost_ns)
    }

    /// Most units of work the next proposal should carry (at most `cap`).
    pub fn max_work(&self, cap: usize) -> usize {
        assert!(self.cost_ns > 0, "a transaction costs something");
        let fit = BLOCK_WORK_TARGET.as_nanos() / u128::from(self.cost_ns);
        usize::try_from(fit)
            .unwrap_or(usize::MAX)
            .clamp(MIN_BUDGET_WORK.min(cap), cap)
    }

    /// Learns from a block of `work` units that took `elapsed` to process here.
    pub fn observe(&mut self, work: usize, elapsed: Duration) {
        if work < MIN_SAMPLE_WORK {
            return;
        }
        let sample = u64::try_from(elapsed.as_nanos() / work as u128)
            .unwrap_or(u64::MAX)
            .max(1);
        self.cost_ns = if sample >= self.cost_ns {
            sample // slower: believe it at once
        } else {
            self.cost_ns - (self.cost_ns - sample) / 8 // faster: move an eighth of the way
        };
        assert!(self.cost_ns >= 1);
    }
}

/// Units of work finalized per second, averaged over recent blocks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DrainRate {
    /// When the last block was seen, in milliseconds of the node's clock.
    last_ms: Option<u64>,
    /// Units per second, exponentially averaged (weight 1/4 per block).
    per_s: u64,
}

impl DrainRate {
    /// Records a block of `work` units finalized at `now_ms`.
    pub fn observe(&mut self, now_ms: u64, work: usize) {
        if let Some(last) = self.last_ms {
            // At least 10 ms apart, so a burst of blocks read back-to-back (catching up)
            // does not count as a huge rate.
            let gap = now_ms.saturating_sub(last).max(10);
            let sample = (work as u64).saturating_mul(1_000) / gap;
            self.per_s = self.per_s - self.per_s / 4 + sample / 4;
        }
        self.last_ms = Some(now_ms);
    }

    /// Units of work per second.
    pub fn per_s(&self) -> u64 {
        self.per_s
    }

    /// How many units of work the pool may hold before admission refuses more: what
    /// drains in [ADMITTED_BACKLOG], and never less than [MIN_BACKLOG_BLOCKS] blocks of
    /// `block_work` (the proposer's budget).
    pub fn admission_limit(&self, block_work: usize) -> usize {
        let backlog = self
            .per_s
            .saturating_mul(ADMITTED_BACKLOG.as_millis() as u64)
            / 1_000;
        usize::try_from(backlog)
            .unwrap_or(usize::MAX)
            .max(block_work.saturating_mul(MIN_BACKLOG_BLOCKS))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_shrinks_at_once_and_grows_slowly() {
        let mut b = BlockBudget::default();
        let start = b.max_work(10_000);
        assert_eq!(start, 4_000, "400 ms at 100 µs");
        // A 1,000-transaction block took 1 s: 1 ms each, so 400 fit.
        b.observe(1_000, Duration::from_secs(1));
        assert_eq!(b.max_work(10_000), 400);
        // Much faster blocks: the estimate falls by an eighth of the difference a block.
        b.observe(1_000, Duration::from_millis(10));
        assert_eq!(
            b.cost_per_unit(),
            Duration::from_nanos(1_000_000 - (1_000_000 - 10_000) / 8)
        );
        for _ in 0..100 {
            b.observe(1_000, Duration::from_millis(10));
        }
        assert_eq!(b.max_work(10_000), 10_000, "capped by the validity limit");
        assert_eq!(b.max_work(100), 100);
        // Small blocks teach nothing; a slow one never drops the floor below MIN_BUDGET_WORK.
        let before = b;
        b.observe(10, Duration::from_secs(10));
        assert_eq!(b, before);
        b.observe(100, Duration::from_secs(100));
        assert_eq!(b.max_work(10_000), MIN_BUDGET_WORK);
    }

    #[test]
    fn admission_follows_the_drain_rate_with_a_floor() {
        let mut d = DrainRate::default();
        assert_eq!(
            d.admission_limit(4_000),
            8_000,
            "two blocks before any rate is known"
        );
        d.observe(0, 5_000);
        assert_eq!(d.per_s(), 0, "one block gives no rate");
        for i in 1..=40 {
            d.observe(i * 100, 5_000); // 50,000 per second
        }
        assert!(d.per_s() > 49_000 && d.per_s() <= 50_000, "{}", d.per_s());
        assert_eq!(d.admission_limit(4_000), d.per_s() as usize * 2);
        // Catching up (blocks read back-to-back) counts as at most one block per 10 ms.
        d.observe(4_000, 10_000);
        assert!(d.per_s() <= 50_000 + 1_000_000 / 4);
    }
}
