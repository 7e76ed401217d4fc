//! Repo: collateral sold for cash with an agreed repurchase (`docs/lifecycle.md` §5).
//! Opening, closing and collateral substitution each settle every leg or none; a close
//! that cannot settle leaves the repo `Failed`, recorded, for either party to retry.
//! Coupons the lender receives on the collateral while it holds it (it is the holder of
//! record) are owed to the borrower: they are netted off the repurchase price.

use super::{Check, Ctx, Debit, Level, fail};
use crate::coupons;
use crate::events::{Event, MoveKind};
use crate::schema::{
    self, DistributionKind, DistributionStatus, RepoRecord, RepoStatus, Scheduled, keys,
};
use crate::store::{Store, apply_writes};
use tally_types::codec::BoundedVec;
use tally_types::limits::MAX_REPO_COLLATERAL;
use tally_types::model::Leg;
use tally_types::ops::{CloseRepo, Collateral, OpenRepo, SubstituteCollateral};
use tally_types::{AccountId, Amount, Rate, RepoId, ResultCode};

/// Distributions of one instrument looked at when counting manufactured payments.
const MAX_DISTRIBUTIONS_SCANNED: usize = 1_024;

/// The repurchase price: `cash + round_half_up(cash × rate × days / 360)` (ACT/360).
pub fn repurchase_price(cash: Amount, rate: Rate, days: u64) -> Option<Amount> {
    let den = 360 * u128::from(Rate::ONE);
    let num = cash
        .checked_mul(u128::from(rate.0))?
        .checked_mul(u128::from(days))?;
    let interest = num / den + u128::from(num % den >= den - den / 2);
    cash.checked_add(interest)
}

fn check_collateral(c: &[Collateral]) -> Check {
    let mut ids: Vec<_> = c.iter().map(|x| x.instrument).collect();
    ids.sort();
    ids.dedup();
    if c.is_empty() || ids.len() != c.len() || c.iter().any(|x| x.amount == 0) {
        return fail(ResultCode::InvalidRepoTerms);
    }
    Ok(())
}

impl<S: Store + ?Sized> Ctx<'_, S> {
    fn repo(&self, id: RepoId) -> Result<RepoRecord, ResultCode> {
        self.st
            .get(&keys::repo(id))
            .map(|b| schema::decode(&b))
            .ok_or(ResultCode::RepoNotFound)
    }

    fn put_repo(&mut self, id: RepoId, rec: &RepoRecord) {
        self.st.put(keys::repo(id), schema::encode(rec));
    }

    fn collateral_legs(
        from: AccountId,
        to: AccountId,
        c: &[Collateral],
    ) -> impl Iterator<Item = Leg> + '_ {
        c.iter().map(move |x| Leg {
            from,
            to,
            instrument: x.instrument,
            amount: x.amount,
        })
    }

    pub(crate) fn open_repo(&mut self, op: &OpenRepo) -> Check {
        let borrower = self.account(op.borrower_account)?;
        let lender = self.account(op.lender_account)?;
        self.authorize(&borrower.owner, Level::Act)?;
        self.authorize(&lender.owner, Level::Act)?;
        if op.borrower_account == op.lender_account {
            return fail(ResultCode::SameAccount);
        }
        check_collateral(&op.collateral)?;
        if op.cash_amount == 0 || op.rate.0 >= Rate::ONE {
            return fail(ResultCode::InvalidRepoTerms);
        }
        if op.maturity.is_some_and(|d| d <= self.time.date()) {
            return fail(ResultCode::InvalidRepoTerms);
        }
        if self.repo(op.repo).is_ok() {
            return fail(ResultCode::RepoExists);
        }
        for leg in Self::collateral_legs(op.borrower_account, op.lender_account, &op.collateral) {
            self.move_units(&leg, Debit::Available, MoveKind::Repo)?;
        }
        let cash = Leg {
            from: op.lender_account,
            to: op.borrower_account,
            instrument: op.cash_instrument,
            amount: op.cash_amount,
        };
        self.move_units(&cash, Debit::Available, MoveKind::Repo)?;
        let rec = RepoRecord {
            borrower_account: op.borrower_account,
            lender_account: op.lender_account,
            collateral: op.collateral.clone(),
            cash_instrument: op.cash_instrument,
            cash_amount: op.cash_amount,
            rate: op.rate,
            opened_at: self.time,
            maturity: op.maturity,
            status: RepoStatus::Open,
            failure: 0,
            manufactured: 0,
            counted_to: self.time,
        };
        self.put_repo(op.repo, &rec);
        if let Some(d) = op.maturity {
            self.schedule(d.start(), Scheduled::RepoClose(op.repo));
        }
        self.events.push(Event::RepoOpened(op.repo));
        Ok(())
    }

    /// Counts coupons paid on the collateral with a record moment in
    /// `(counted_to, now]`: the lender, holder of record, received them for the borrower.
    fn count_manufactured(&self, rec: &mut RepoRecord) {
        for c in rec.collateral.iter() {
            let (start, end) = keys::distributions_of(c.instrument);
            for (_, v) in self.st.scan(&start, &end, MAX_DISTRIBUTIONS_SCANNED) {
                let d: schema::DistributionRecord = schema::decode(&v);
                let at = d.date.start();
                let counted = d.kind == DistributionKind::Coupon
                    && d.status == DistributionStatus::Done
                    && d.cash_instrument == rec.cash_instrument
                    && at > rec.counted_to
                    && at <= self.time;
                if counted {
                    let owed = coupons::mul_div_floor(c.amount, d.per_unit_num, d.per_unit_den)
                        .unwrap_or(0);
                    rec.manufactured = rec.manufactured.saturating_add(owed);
                }
            }
        }
        rec.counted_to = self.time;
    }

    /// Settles the closing legs in their own overlay: collateral back, repurchase price
    /// (less manufactured payments) to the lender. Returns the cash the borrower paid.
    fn settle_close(&mut self, rec: &mut RepoRecord) -> Result<Amount, ResultCode> {
        self.count_manufactured(rec);
        // Calendar days from the opening date to the closing date (ACT/360).
        let days = u64::from(self.time.date().0.saturating_sub(rec.opened_at.date().0));
        let price =
            repurchase_price(rec.cash_amount, rec.rate, days).ok_or(ResultCode::Overflow)?;
        let mut sub = Ctx::new(&self.st, self.time);
        for leg in Self::collateral_legs(rec.lender_account, rec.borrower_account, &rec.collateral)
        {
            sub.move_units(&leg, Debit::Available, MoveKind::Repo)?;
        }
        let (from, to, amount) = if price >= rec.manufactured {
            (
                rec.borrower_account,
                rec.lender_account,
                price - rec.manufactured,
            )
        } else {
            (
                rec.lender_account,
                rec.borrower_account,
                rec.manufactured - price,
            )
        };
        if amount > 0 {
            let leg = Leg {
                from,
                to,
                instrument: rec.cash_instrument,
                amount,
            };
            sub.move_units(&leg, Debit::Available, MoveKind::Repo)?;
        }
        let events = std::mem::take(&mut sub.events);
        let writes = sub.st.into_writes();
        apply_writes(&mut self.st, writes);
        self.events.extend(events);
        Ok(if from == rec.borrower_account {
            amount
        } else {
            0
        })
    }

    /// The scheduled close of a term repo (or a retry); a failure is recorded.
    pub(crate) fn close_repo_due(&mut self, id: RepoId) -> usize {
        let Ok(mut rec) = self.repo(id) else {
            return 1;
        };
        if rec.status != RepoStatus::Open {
            return 1;
        }
        match self.settle_close(&mut rec) {
            Ok(paid) => {
                rec.status = RepoStatus::Closed;
                rec.failure = 0;
                self.events.push(Event::RepoClosed {
                    repo: id,
                    paid,
                    manufactured: rec.manufactured,
                });
            }
            Err(code) => {
                rec.status = RepoStatus::Failed;
                rec.failure = code.code();
                self.events.push(Event::RepoFailed { repo: id, code });
            }
        }
        self.put_repo(id, &rec);
        rec.collateral.len().max(1)
    }

    pub(crate) fn close_repo(&mut self, op: &CloseRepo) -> Check {
        let mut rec = self.repo(op.repo)?;
        let borrower = self.account(rec.borrower_account)?.owner;
        let lender = self.account(rec.lender_account)?.owner;
        if self.authorize(&borrower, Level::Act).is_err() {
            self.authorize(&lender, Level::Act)?;
        }
        let open_ended = rec.status == RepoStatus::Open && rec.maturity.is_none();
        if !(open_ended || rec.status == RepoStatus::Failed) {
            return fail(ResultCode::RepoNotOpen);
        }
        let paid = self.settle_close(&mut rec)?;
        rec.status = RepoStatus::Closed;
        rec.failure = 0;
        self.put_repo(op.repo, &rec);
        self.events.push(Event::RepoClosed {
            repo: op.repo,
            paid,
            manufactured: rec.manufactured,
        });
        Ok(())
    }

    pub(crate) fn substitute_collateral(&mut self, op: &SubstituteCollateral) -> Check {
        let mut rec = self.repo(op.repo)?;
        let borrower = self.account(rec.borrower_account)?.owner;
        let lender = self.account(rec.lender_account)?.owner;
        self.authorize(&borrower, Level::Act)?;
        self.authorize(&lender, Level::Act)?;
        check_collateral(&op.give_back)?;
        check_collateral(&op.deliver)?;
        if rec.status != RepoStatus::Open {
            return fail(ResultCode::RepoNotOpen);
        }
        // Coupons so far are owed on the collateral as it was.
        self.count_manufactured(&mut rec);
        let mut positions: Vec<Collateral> = rec.collateral.to_vec();
        for g in op.give_back.iter() {
            let Some(p) = positions.iter_mut().find(|p| p.instrument == g.instrument) else {
                return fail(ResultCode::InvalidRepoTerms);
            };
            p.amount = p
                .amount
                .checked_sub(g.amount)
                .ok_or(ResultCode::InvalidRepoTerms)?;
        }
        for d in op.deliver.iter() {
            match positions.iter_mut().find(|p| p.instrument == d.instrument) {
                Some(p) => p.amount = p.amount.checked_add(d.amount).ok_or(ResultCode::Overflow)?,
                None => positions.push(*d),
            }
        }
        positions.retain(|p| p.amount > 0);
        positions.sort();
        let positions: BoundedVec<Collateral, MAX_REPO_COLLATERAL> =
            BoundedVec::new(positions).ok_or(ResultCode::InvalidRepoTerms)?;
        if positions.is_empty() {
            return fail(ResultCode::InvalidRepoTerms);
        }
        for leg in Self::collateral_legs(rec.lender_account, rec.borrower_account, &op.give_back) {
            self.move_units(&leg, Debit::Available, MoveKind::Repo)?;
        }
        for leg in Self::collateral_legs(rec.borrower_account, rec.lender_account, &op.deliver) {
            self.move_units(&leg, Debit::Available, MoveKind::Repo)?;
        }
        rec.collateral = positions;
        self.put_repo(op.repo, &rec);
        self.events.push(Event::CollateralSubstituted(op.repo));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repurchase_price_is_act_360_half_up() {
        // Design §7: $10,000,000.00 at 4.30% for 7 days → interest 8,361.111… → 8,361.11.
        let cash = 1_000_000_000; // cents
        let price = repurchase_price(cash, Rate::parse_percent("4.30").unwrap(), 7).unwrap();
        assert_eq!(price - cash, 836_111);
        // Half up: 1 cent at 100% for 180 days is 0.5 cent → 1.
        assert_eq!(repurchase_price(1, Rate(Rate::ONE - 1), 180), Some(1));
        assert_eq!(repurchase_price(1, Rate(Rate::ONE / 2 * 2), 180), Some(2));
    }
}
