//! Servicing: coupons and redemption paid to holders of record, and the scheduler that
//! runs every lifecycle event at the start of the first block at or after its moment.
//! `docs/lifecycle.md` §3–4.
//!
//! A distribution closes the instrument's register at its record moment (nothing moves),
//! holds the gross amount in the issuer's paying account, then pays holders in account
//! order, at most the block's remaining lifecycle budget per block, and reopens the
//! register when every holder is paid. A refused credit stays held as the holder's
//! entitlement, to claim later.

use super::{Check, Ctx, Debit, Level, fail};
use crate::coupons;
use crate::events::{Event, MoveKind};
use crate::schema::{
    self, DistributionKind, DistributionRecord, DistributionStatus, Holding, InstrumentStatus,
    Scheduled, ServicingRecord, keys,
};
use crate::store::Store;
use tally_types::model::{InstrumentKind, Leg};
use tally_types::ops::{ClaimEntitlement, DeclareDividend, PublishNav, SetServicing};
use tally_types::{AccountId, Amount, Date, InstrumentId, ResultCode, Timestamp};

/// Distributions advanced per block (each instrument has at most a coupon and a
/// redemption open at once; this bounds the scan, not the work).
const MAX_ACTIVE_SCANNED: usize = 256;

fn move_kind(k: DistributionKind) -> MoveKind {
    match k {
        DistributionKind::Coupon => MoveKind::Coupon,
        DistributionKind::Redemption => MoveKind::Redemption,
        DistributionKind::Dividend | DistributionKind::Reinvested => MoveKind::Dividend,
    }
}

fn u64_at(k: &[u8], at: usize) -> u64 {
    u64::from_be_bytes(k[at..at + 8].try_into().expect("8 key bytes"))
}

fn u32_at(k: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(k[at..at + 4].try_into().expect("4 key bytes"))
}

impl<S: Store + ?Sized> Ctx<'_, S> {
    pub(crate) fn servicing(&self, id: InstrumentId) -> Option<ServicingRecord> {
        self.st
            .get(&keys::servicing(id))
            .map(|b| schema::decode(&b))
    }

    fn distribution(&self, id: InstrumentId, seq: u32) -> Option<DistributionRecord> {
        self.st
            .get(&keys::distribution(id, seq))
            .map(|b| schema::decode(&b))
    }

    fn put_distribution(&mut self, id: InstrumentId, seq: u32, rec: &DistributionRecord) {
        self.st
            .put(keys::distribution(id, seq), schema::encode(rec));
    }

    pub(crate) fn set_servicing(&mut self, op: &SetServicing) -> Check {
        let inst = self.instrument(op.instrument)?;
        self.authorize(&inst.issuer, Level::Act)?;
        if inst.kind.maturity_date().is_none() {
            return fail(ResultCode::InvalidInstrumentTerms);
        }
        let cash = self.instrument(op.cash_instrument)?;
        if !matches!(cash.kind, InstrumentKind::Cash { .. })
            || cash.min_increment != 1
            || cash.scale < inst.scale
        {
            return fail(ResultCode::InvalidInstrumentTerms);
        }
        if self.account(op.paying_account)?.owner != inst.issuer {
            return fail(ResultCode::AccountOwnerMismatch);
        }
        match inst.status {
            InstrumentStatus::Matured => return fail(ResultCode::InstrumentMatured),
            InstrumentStatus::Announced => return fail(ResultCode::InstrumentNotIssued),
            _ if inst.book_closed => return fail(ResultCode::ServicingBusy),
            _ => {}
        }
        self.start_servicing(op.instrument, op.paying_account, op.cash_instrument);
        Ok(())
    }

    /// Records who pays and schedules the next coupon after today and the maturity.
    pub(crate) fn start_servicing(
        &mut self,
        id: InstrumentId,
        paying_account: AccountId,
        cash_instrument: InstrumentId,
    ) {
        let next_distribution = self.servicing(id).map_or(0, |s| s.next_distribution);
        let rec = ServicingRecord {
            paying_account,
            cash_instrument,
            next_distribution,
        };
        self.st.put(keys::servicing(id), schema::encode(&rec));
        let Ok(inst) = self.instrument(id) else {
            return;
        };
        if let InstrumentKind::TreasuryNote(t) | InstrumentKind::TreasuryBond(t) = &inst.kind
            && let Some((k, date)) = coupons::next_payment(t, self.time.date())
            && k > 0
        {
            self.schedule(date.start(), Scheduled::Coupon(id, date));
        }
        // A maturity already past (servicing set late) runs in the next block.
        if let Some(maturity) = inst.kind.maturity_date() {
            self.schedule(maturity.start(), Scheduled::Maturity(id));
        }
        self.events.push(Event::ServicingSet(id));
    }

    /// A coupon date: the holders of record are those at its start.
    fn coupon_due(&mut self, id: InstrumentId, date: Date) {
        let (Ok(inst), Some(servicing)) = (self.instrument(id), self.servicing(id)) else {
            return;
        };
        let (InstrumentKind::TreasuryNote(t) | InstrumentKind::TreasuryBond(t)) = &inst.kind else {
            return;
        };
        if inst.status == InstrumentStatus::Matured {
            return;
        }
        // The next one is scheduled first, so a coupon that cannot be computed does not
        // stop the schedule.
        if let Some((k, next)) = coupons::next_payment(t, date)
            && k > 0
        {
            self.schedule(next.start(), Scheduled::Coupon(id, next));
        }
        let Some((k, _)) = coupons::next_payment(t, date.0.checked_sub(1).map_or(date, Date))
        else {
            return;
        };
        let Ok(cash) = self.instrument(servicing.cash_instrument) else {
            return;
        };
        let per_unit = coupons::period_fraction(t, k)
            .and_then(|frac| coupons::coupon_per_unit(t.coupon_rate, frac, inst.scale, cash.scale));
        if let Some(per_unit) = per_unit {
            self.open_distribution(id, DistributionKind::Coupon, date, per_unit, servicing);
        }
    }

    /// Maturity: the instrument stops moving and its redemption starts.
    fn maturity_due(&mut self, id: InstrumentId) {
        let (Ok(mut inst), Some(servicing)) = (self.instrument(id), self.servicing(id)) else {
            return;
        };
        if inst.status == InstrumentStatus::Matured || inst.status == InstrumentStatus::Announced {
            return;
        }
        let Ok(cash) = self.instrument(servicing.cash_instrument) else {
            return;
        };
        let last = match &inst.kind {
            InstrumentKind::TreasuryNote(t) | InstrumentKind::TreasuryBond(t) => {
                coupons::period_fraction(t, 0).map(|f| Some((t.coupon_rate, f)))
            }
            _ => Some(None),
        };
        let Some(per_unit) =
            last.and_then(|last| coupons::redemption_per_unit(last, inst.scale, cash.scale))
        else {
            return;
        };
        inst.status = InstrumentStatus::Matured;
        self.put_instrument(id, &inst);
        self.events.push(Event::InstrumentMatured(id));
        let date = self.time.date();
        self.open_distribution(id, DistributionKind::Redemption, date, per_unit, servicing);
    }

    /// Records a distribution at its record moment and starts it.
    fn open_distribution(
        &mut self,
        id: InstrumentId,
        kind: DistributionKind,
        date: Date,
        (num, den): (u128, u128),
        mut servicing: ServicingRecord,
    ) {
        let seq = servicing.next_distribution;
        servicing.next_distribution += 1;
        self.st.put(keys::servicing(id), schema::encode(&servicing));
        let rec = DistributionRecord {
            kind,
            date,
            per_unit_num: num,
            per_unit_den: den,
            paying_account: servicing.paying_account,
            cash_instrument: servicing.cash_instrument,
            status: DistributionStatus::Declared,
            cursor: None,
            supply: 0,
            gross: 0,
            paid: 0,
            unpaid: 0,
            retained: 0,
            holders: 0,
        };
        self.start_distribution(id, seq, rec);
    }

    /// The record moment: the register closes, the gross amount on the supply of record
    /// is computed and held, and paying starts.
    fn start_distribution(&mut self, id: InstrumentId, seq: u32, mut rec: DistributionRecord) {
        let Ok(mut inst) = self.instrument(id) else {
            return;
        };
        rec.supply = inst.total_supply;
        rec.gross = coupons::mul_div_floor(inst.total_supply, rec.per_unit_num, rec.per_unit_den)
            .unwrap_or(Amount::MAX);
        rec.status = DistributionStatus::Unfunded;
        inst.book_closed = true;
        self.put_instrument(id, &inst);
        self.st.put(keys::active_distribution(id, seq), Vec::new());
        self.events.push(Event::DistributionStarted {
            instrument: id,
            seq,
            kind: rec.kind,
            gross: rec.gross,
        });
        if let Err(code) = self.fund(&mut rec) {
            self.events.push(Event::DistributionUnfunded {
                instrument: id,
                seq,
                code,
            });
        }
        self.put_distribution(id, seq, &rec);
    }

    /// A declared dividend's record moment.
    fn dividend_due(&mut self, id: InstrumentId, seq: u32) {
        if let Some(rec) = self.distribution(id, seq)
            && rec.status == DistributionStatus::Declared
        {
            self.start_distribution(id, seq, rec);
        }
    }

    pub(crate) fn publish_nav(&mut self, op: &PublishNav) -> Check {
        let fund = self.instrument(op.fund)?;
        self.authorize(&fund.issuer, Level::Act)?;
        if !matches!(fund.kind, InstrumentKind::Fund { .. }) || op.nav == 0 {
            return fail(ResultCode::InvalidDistribution);
        }
        let k = keys::nav(op.fund, op.date);
        if self.st.get(&k).is_some() {
            return fail(ResultCode::NavExists);
        }
        self.st.put(k, schema::encode(&op.nav));
        self.events.push(Event::NavPublished(op.fund, op.date));
        Ok(())
    }

    pub(crate) fn declare_dividend(&mut self, op: &DeclareDividend) -> Check {
        let inst = self.instrument(op.instrument)?;
        self.authorize(&inst.issuer, Level::Act)?;
        let is_fund = matches!(inst.kind, InstrumentKind::Fund { .. });
        let kind_ok = is_fund || matches!(inst.kind, InstrumentKind::Equity);
        if !kind_ok
            || op.amount_per_unit == 0
            || op.per_units == 0
            || op.record_date < self.time.date()
            || (op.reinvest && !is_fund)
        {
            return fail(ResultCode::InvalidDistribution);
        }
        if op.reinvest
            && self
                .st
                .get(&keys::nav(op.instrument, op.record_date))
                .is_none()
        {
            return fail(ResultCode::InvalidDistribution);
        }
        let cash = self.instrument(op.cash_instrument)?;
        if !matches!(cash.kind, InstrumentKind::Cash { .. }) || cash.min_increment != 1 {
            return fail(ResultCode::InvalidDistribution);
        }
        if self.account(op.paying_account)?.owner != inst.issuer {
            return fail(ResultCode::AccountOwnerMismatch);
        }
        let mut servicing = self.servicing(op.instrument).unwrap_or(ServicingRecord {
            paying_account: op.paying_account,
            cash_instrument: op.cash_instrument,
            next_distribution: 0,
        });
        let seq = servicing.next_distribution;
        servicing.next_distribution += 1;
        self.st
            .put(keys::servicing(op.instrument), schema::encode(&servicing));
        let g = coupons::gcd(op.amount_per_unit, op.per_units).max(1);
        let rec = DistributionRecord {
            kind: if op.reinvest {
                DistributionKind::Reinvested
            } else {
                DistributionKind::Dividend
            },
            date: op.record_date,
            per_unit_num: op.amount_per_unit / g,
            per_unit_den: op.per_units / g,
            paying_account: op.paying_account,
            cash_instrument: op.cash_instrument,
            status: DistributionStatus::Declared,
            cursor: None,
            supply: 0,
            gross: 0,
            paid: 0,
            unpaid: 0,
            retained: 0,
            holders: 0,
        };
        self.put_distribution(op.instrument, seq, &rec);
        let record_moment = Date(op.record_date.0.saturating_add(1)).start();
        self.schedule(record_moment, Scheduled::Dividend(op.instrument, seq));
        self.events
            .push(Event::DividendDeclared(op.instrument, seq));
        Ok(())
    }

    fn paying_leg(rec: &DistributionRecord, to: AccountId, amount: Amount) -> Leg {
        Leg {
            from: rec.paying_account,
            to,
            instrument: rec.cash_instrument,
            amount,
        }
    }

    /// Holds the gross amount in the paying account; the distribution then pays.
    fn fund(&mut self, rec: &mut DistributionRecord) -> Check {
        if rec.gross > 0 {
            let leg = Self::paying_leg(rec, rec.paying_account, rec.gross);
            self.hold_units(&leg)?;
        }
        rec.status = DistributionStatus::Paying;
        Ok(())
    }

    /// Pays (and, for a redemption, burns) one holder of record.
    fn pay_holder(
        &mut self,
        id: InstrumentId,
        seq: u32,
        rec: &mut DistributionRecord,
        issuer: &tally_types::Lei,
        account: AccountId,
    ) {
        let h = self.holding(account, id);
        let Ok(acc) = self.account(account) else {
            return;
        };
        let balance = h.balance;
        let kind = move_kind(rec.kind);
        if rec.kind == DistributionKind::Redemption && balance > 0 {
            // Every unit is redeemed, held and frozen ones too; the records that locked
            // them become inert (a matured instrument never moves).
            self.put_holding(account, id, balance, &Holding::default());
            if let Ok(mut inst) = self.instrument(id) {
                inst.total_supply -= balance;
                inst.holder_count -= 1;
                self.put_instrument(id, &inst);
            }
            self.events.push(Event::Moved {
                kind: MoveKind::Redemption,
                from: Some(account),
                to: None,
                instrument: id,
                amount: balance,
            });
        }
        // The issuer does not pay itself: its share stays in the retained remainder.
        if acc.owner == *issuer {
            return;
        }
        let amount = coupons::mul_div_floor(balance, rec.per_unit_num, rec.per_unit_den)
            .unwrap_or(0)
            .min(rec.gross - rec.paid - rec.unpaid);
        if amount == 0 {
            return;
        }
        let outcome = if rec.kind == DistributionKind::Reinvested {
            self.reinvest(id, rec, account, amount)
        } else {
            self.move_units(&Self::paying_leg(rec, account, amount), Debit::Held, kind)
        };
        match outcome {
            Ok(()) => {
                rec.paid += amount;
                rec.holders += 1;
            }
            Err(code) => {
                rec.unpaid += amount;
                self.st
                    .put(keys::entitlement(id, seq, account), schema::encode(&amount));
                self.events.push(Event::EntitlementUnpaid {
                    instrument: id,
                    seq,
                    account,
                    amount,
                    code,
                });
            }
        }
    }

    /// Issues new fund shares worth `cash` at the record date's NAV, rounded down to the
    /// fund's increment: `floor(cash · 10^(6 + share scale) / (NAV · 10^cash scale))`.
    fn reinvest(
        &mut self,
        id: InstrumentId,
        rec: &DistributionRecord,
        account: AccountId,
        cash: Amount,
    ) -> Check {
        let fund = self.instrument(id)?;
        let cash_scale = self.instrument(rec.cash_instrument)?.scale;
        let nav: u64 = self
            .st
            .get(&keys::nav(id, rec.date))
            .map(|b| schema::decode(&b))
            .ok_or(ResultCode::InvalidDistribution)?;
        let pow = |e: u32| 10u128.checked_pow(e).ok_or(ResultCode::Overflow);
        let num = pow(6 + u32::from(fund.scale))?;
        let den = u128::from(nav)
            .checked_mul(pow(u32::from(cash_scale))?)
            .ok_or(ResultCode::Overflow)?;
        let shares = coupons::mul_div_floor(cash, num, den).ok_or(ResultCode::Overflow)?;
        let shares = shares - shares % fund.min_increment.max(1);
        if shares == 0 {
            return fail(ResultCode::ZeroAmount);
        }
        // The register is closed for this very distribution: the new shares are part of
        // it, so they are issued with the register open and it is closed again after.
        let mut open = fund;
        open.book_closed = false;
        self.put_instrument(id, &open);
        let issued = self.issue_units(
            &tally_types::ops::Mint {
                instrument: id,
                to: account,
                amount: shares,
            },
            MoveKind::Dividend,
        );
        let mut after = self.instrument(id)?;
        after.book_closed = true;
        self.put_instrument(id, &after);
        issued
    }

    /// Advances one distribution within `budget` payments; returns the work done.
    fn advance_distribution(&mut self, id: InstrumentId, seq: u32, budget: usize) -> usize {
        let Some(mut rec) = self.distribution(id, seq) else {
            self.st.delete(&keys::active_distribution(id, seq));
            return 1;
        };
        let Ok(inst) = self.instrument(id) else {
            return 1;
        };
        if rec.status == DistributionStatus::Unfunded && self.fund(&mut rec).is_err() {
            return 1; // still unfunded: the register stays closed, retried next block
        }
        // A redemption also burns each holding: two units of work per holder.
        let per_holder = if rec.kind == DistributionKind::Redemption {
            2
        } else {
            1
        };
        let limit = (budget / per_holder).max(1);
        let (start, end) = keys::holders_after(id, rec.cursor);
        let holders = self.st.scan(&start, &end, limit);
        let exhausted = holders.len() < limit;
        let work = (holders.len() * per_holder).max(1);
        for (k, _) in holders {
            let account = AccountId(u64_at(&k, 9));
            self.pay_holder(id, seq, &mut rec, &inst.issuer, account);
            rec.cursor = Some(account);
        }
        if exhausted {
            self.complete_distribution(id, seq, &mut rec);
        }
        self.put_distribution(id, seq, &rec);
        work
    }

    fn complete_distribution(&mut self, id: InstrumentId, seq: u32, rec: &mut DistributionRecord) {
        rec.retained = rec.gross - rec.paid - rec.unpaid;
        // A reinvested dividend's paid amount became shares: its cash stays the issuer's.
        let release = if rec.kind == DistributionKind::Reinvested {
            rec.retained + rec.paid
        } else {
            rec.retained
        };
        if release > 0 {
            let leg = Self::paying_leg(rec, rec.paying_account, release);
            self.unhold_units(&leg);
        }
        rec.status = DistributionStatus::Done;
        self.st.delete(&keys::active_distribution(id, seq));
        let (start, end) = keys::table(schema::tag::ACTIVE_DISTRIBUTION);
        let start = [start, id.0.to_be_bytes().to_vec()].concat();
        let still_open = self
            .st
            .scan(&start, &end, 1)
            .first()
            .is_some_and(|(k, _)| u64_at(k, 1) == id.0);
        if !still_open && let Ok(mut inst) = self.instrument(id) {
            inst.book_closed = false;
            self.put_instrument(id, &inst);
        }
        self.events.push(Event::DistributionCompleted {
            instrument: id,
            seq,
            paid: rec.paid,
            unpaid: rec.unpaid,
            retained: rec.retained,
            holders: rec.holders,
        });
    }

    pub(crate) fn claim_entitlement(&mut self, op: &ClaimEntitlement) -> Check {
        let acc = self.account(op.account)?;
        self.authorize(&acc.owner, Level::Act)?;
        let key = keys::entitlement(op.instrument, op.distribution, op.account);
        let amount: Amount = self
            .st
            .get(&key)
            .map(|b| schema::decode(&b))
            .ok_or(ResultCode::EntitlementNotFound)?;
        let mut rec = self
            .distribution(op.instrument, op.distribution)
            .ok_or(ResultCode::EntitlementNotFound)?;
        let kind = move_kind(rec.kind);
        self.move_units(
            &Self::paying_leg(&rec, op.account, amount),
            Debit::Held,
            kind,
        )?;
        self.st.delete(&key);
        rec.unpaid -= amount;
        rec.paid += amount;
        self.put_distribution(op.instrument, op.distribution, &rec);
        self.events.push(Event::EntitlementClaimed {
            instrument: op.instrument,
            seq: op.distribution,
            account: op.account,
            amount,
        });
        Ok(())
    }

    /// The block's lifecycle work: due events in (moment, kind, id) order, then open
    /// distributions, within `budget` units (`MAX_LIFECYCLE_WORK_PER_BLOCK` on a
    /// network). At least one due event runs per block, so a large one cannot starve.
    pub(crate) fn run_lifecycle(&mut self, now: Timestamp, mut budget: usize) {
        let (start, due_end) = keys::schedule_due(now);
        let mut first = true;
        while budget > 0 || first {
            let Some((k, _)) = self.st.scan(&start, &due_end, 1).pop() else {
                break;
            };
            first = false;
            self.st.delete(&k);
            let (_, event) = Scheduled::from_key(&k);
            let work = match event {
                Scheduled::Coupon(id, date) => {
                    self.coupon_due(id, date);
                    1
                }
                Scheduled::AuctionClose(a) => self.close_auction(a),
                Scheduled::AuctionIssue(a) => self.issue_auction(a),
                Scheduled::Maturity(id) => {
                    self.maturity_due(id);
                    1
                }
                Scheduled::RepoClose(r) => self.close_repo_due(r),
                Scheduled::Dividend(id, seq) => {
                    self.dividend_due(id, seq);
                    1
                }
            };
            budget = budget.saturating_sub(work);
        }
        let (start, end) = keys::table(schema::tag::ACTIVE_DISTRIBUTION);
        for (k, _) in self.st.scan(&start, &end, MAX_ACTIVE_SCANNED) {
            if budget == 0 {
                break;
            }
            let work =
                self.advance_distribution(InstrumentId(u64_at(&k, 1)), u32_at(&k, 9), budget);
            budget = budget.saturating_sub(work);
        }
    }
}
