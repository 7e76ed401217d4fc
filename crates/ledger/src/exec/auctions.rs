//! Single-price Treasury auctions (31 CFR part 356): announce, bid with cash held,
//! withdraw, cancel; then, as scheduled lifecycle work, the close (allotment and price,
//! [crate::auction]) and the issue (each winner's award minted against its cash, DvP).
//! `docs/lifecycle.md` §1–2.

use super::{Check, Ctx, Debit, Level, fail};
use crate::auction::{self, Bid, ExactPrice, Terms};
use crate::coupons;
use crate::events::{Event, MoveKind};
use crate::schema::{
    self, AuctionRecord, AuctionResult, AuctionStatus, BidRecord, BidderRecord, InstrumentStatus,
    Scheduled, keys,
};
use crate::store::{Store, apply_writes};
use num_bigint::BigUint;
use std::collections::BTreeMap;
use tally_types::limits::{MAX_AUCTION_LEAD_MS, MAX_BIDS_PER_AUCTION};
use tally_types::model::{InstrumentKind, Leg, Role};
use tally_types::ops::{
    AnnounceAuction, AuctionSecurity, BidKind, CancelAuction, Mint, SubmitBid, WithdrawBid,
};
use tally_types::{Amount, AuctionId, Lei, Rate, ResultCode};

/// Bill discount rates are bid in steps of 0.005% (356.12(c)(1)).
const BILL_RATE_TICK: u64 = 50_000;
/// Note and bond yields are bid with three decimals: steps of 0.001%.
const NOTE_RATE_TICK: u64 = 10_000;
/// Par, in millionths per 100.
pub(crate) const PAR_PRICE: u64 = 100_000_000;

/// Cash held for a bid of `amount` par at `max_price` (millionths per 100), rounded up:
/// `amount · max_price / 10^8 · 10^(cash scale − security scale)`.
fn bid_hold(amount: Amount, max_price: u64, shift: u8) -> Option<Amount> {
    let num = BigUint::from(amount)
        * BigUint::from(max_price)
        * BigUint::from(10u32).pow(u32::from(shift));
    let den = BigUint::from(PAR_PRICE);
    let up = (num + &den - 1u32) / den;
    u128::try_from(up).ok()
}

/// When an auction's awards are issued: the start of its issue date, or right after the
/// close when it closes on the issue date itself (the close runs first in one moment).
pub(crate) fn issue_moment(a: &AuctionRecord) -> tally_types::Timestamp {
    a.issue_date.start().max(a.close_at)
}

impl<S: Store + ?Sized> Ctx<'_, S> {
    pub(crate) fn auction_record(&self, id: AuctionId) -> Result<AuctionRecord, ResultCode> {
        self.st
            .get(&keys::auction(id))
            .map(|b| schema::decode(&b))
            .ok_or(ResultCode::AuctionNotFound)
    }

    fn put_auction(&mut self, id: AuctionId, rec: &AuctionRecord) {
        self.st.put(keys::auction(id), schema::encode(rec));
    }

    pub(crate) fn schedule(&mut self, at: tally_types::Timestamp, event: Scheduled) {
        self.st.put(keys::schedule(at, &event), Vec::new());
    }

    fn bidder_record(&self, id: AuctionId, lei: &Lei) -> Option<BidderRecord> {
        self.st
            .get(&keys::bidder(id, lei))
            .map(|b| schema::decode(&b))
    }

    fn bids(&self, id: AuctionId) -> Vec<(u32, BidRecord)> {
        crate::StateReader(&self.st).bids(id, MAX_BIDS_PER_AUCTION as usize)
    }

    fn bidders(&self, id: AuctionId) -> Vec<(Lei, BidderRecord)> {
        crate::StateReader(&self.st).bidders(id, MAX_BIDS_PER_AUCTION as usize)
    }

    /// Checks an auction's terms against its security and cash (design §10.3).
    fn check_auction_terms(
        &self,
        op: &AnnounceAuction,
        kind: &InstrumentKind,
        increment: Amount,
        new: bool,
    ) -> Result<u64, ResultCode> {
        let bad = || fail(ResultCode::InvalidAuctionTerms);
        let lead_end = self.time.plus_ms(MAX_AUCTION_LEAD_MS);
        if op.offering == 0
            || !op.offering.is_multiple_of(increment)
            || op.close_at <= self.time
            || op.close_at > lead_end
            || op.issue_date < op.close_at.date()
            || op.issue_date.start() > op.close_at.plus_ms(MAX_AUCTION_LEAD_MS)
            || op.max_noncompetitive_total >= op.offering
            || op.award_cap_bp == 0
            || u32::from(op.award_cap_bp) > auction::FULL_BP
            || op.max_price < PAR_PRICE
        {
            return bad();
        }
        match kind {
            InstrumentKind::TreasuryBill {
                issue_date,
                maturity_date,
            } if new && *issue_date == op.issue_date && *maturity_date > op.issue_date => {
                Ok(BILL_RATE_TICK)
            }
            InstrumentKind::TreasuryNote(t) | InstrumentKind::TreasuryBond(t) => {
                // The price formula needs a regular period around the issue date.
                let regular = coupons::next_payment(t, op.issue_date)
                    .and_then(|(k, _)| coupons::period_fraction(t, k))
                    == Some((1, 1));
                let fresh = !new
                    || (t.coupon_rate.0 == 0
                        && coupons::on_cycle(t)
                        && t.dated_date <= op.issue_date);
                if regular && fresh && op.issue_date >= t.dated_date {
                    Ok(NOTE_RATE_TICK)
                } else {
                    bad()
                }
            }
            _ => bad(),
        }
    }

    pub(crate) fn announce_auction(&mut self, op: &AnnounceAuction) -> Check {
        let (issuer, security, new) = match &op.security {
            AuctionSecurity::New(create) => (create.issuer, create.instrument, true),
            AuctionSecurity::Reopen(id) => (self.instrument(*id)?.issuer, *id, false),
        };
        self.authorize(&issuer, Level::Act)?;
        let (kind, increment, scale) = match &op.security {
            AuctionSecurity::New(c) => (c.kind.clone(), c.min_increment, c.scale),
            AuctionSecurity::Reopen(id) => {
                let inst = self.instrument(*id)?;
                if inst.status == InstrumentStatus::Matured {
                    return fail(ResultCode::InstrumentMatured);
                }
                if inst.status == InstrumentStatus::Announced {
                    return fail(ResultCode::InstrumentNotIssued);
                }
                (inst.kind, inst.min_increment, inst.scale)
            }
        };
        if increment == 0 {
            return fail(ResultCode::InvalidAuctionTerms);
        }
        let rate_tick = self.check_auction_terms(op, &kind, increment, new)?;
        let cash = self.instrument(op.cash_instrument)?;
        if !matches!(cash.kind, InstrumentKind::Cash { .. })
            || cash.min_increment != 1
            || cash.scale < scale
        {
            return fail(ResultCode::InvalidAuctionTerms);
        }
        if self.account(op.issuer_cash_account)?.owner != issuer {
            return fail(ResultCode::AccountOwnerMismatch);
        }
        if self.auction_record(op.auction).is_ok() {
            return fail(ResultCode::AuctionExists);
        }
        if let AuctionSecurity::New(create) = &op.security {
            self.create_instrument(create)?;
            let mut inst = self.instrument(security)?;
            inst.status = InstrumentStatus::Announced;
            self.put_instrument(security, &inst);
        }
        let rec = AuctionRecord {
            issuer,
            security,
            new_security: new,
            offering: op.offering,
            increment,
            rate_tick,
            close_at: op.close_at,
            issue_date: op.issue_date,
            cash_instrument: op.cash_instrument,
            issuer_cash_account: op.issuer_cash_account,
            max_noncompetitive_per_bidder: op.max_noncompetitive_per_bidder,
            max_noncompetitive_total: op.max_noncompetitive_total,
            award_cap_bp: op.award_cap_bp,
            max_price: op.max_price,
            status: AuctionStatus::Open,
            next_seq: 0,
            bids: 0,
            noncompetitive_total: 0,
            tendered: 0,
            result: None,
        };
        self.put_auction(op.auction, &rec);
        self.schedule(op.close_at, Scheduled::AuctionClose(op.auction));
        self.schedule(issue_moment(&rec), Scheduled::AuctionIssue(op.auction));
        self.events.push(Event::AuctionAnnounced(op.auction));
        Ok(())
    }

    /// The auction, if it still takes bids at the block time.
    fn open_auction(&self, id: AuctionId) -> Result<AuctionRecord, ResultCode> {
        let a = self.auction_record(id)?;
        if a.status != AuctionStatus::Open || self.time >= a.close_at {
            return fail(ResultCode::AuctionClosed);
        }
        Ok(a)
    }

    fn cash_leg(a: &AuctionRecord, from: tally_types::AccountId, amount: Amount) -> Leg {
        Leg {
            from,
            to: a.issuer_cash_account,
            instrument: a.cash_instrument,
            amount,
        }
    }

    pub(crate) fn submit_bid(&mut self, op: &SubmitBid) -> Check {
        let acc = self.account(op.account)?;
        self.authorize(&acc.owner, Level::Act)?;
        let owner = self.participant(&acc.owner)?;
        if owner.profile.roles.has(Role::Regulator) || owner.profile.roles.has(Role::Auditor) {
            return fail(ResultCode::Unauthorized);
        }
        let mut a = self.open_auction(op.auction)?;
        if op.amount == 0 {
            return fail(ResultCode::ZeroAmount);
        }
        if !op.amount.is_multiple_of(a.increment) {
            return fail(ResultCode::NotMultipleOfIncrement);
        }
        let competitive = match op.kind {
            BidKind::Noncompetitive => false,
            BidKind::Competitive(rate) => {
                if !rate.0.is_multiple_of(a.rate_tick) || rate.0 >= Rate::ONE {
                    return fail(ResultCode::InvalidBid);
                }
                true
            }
        };
        let mut bidder = match self.bidder_record(op.auction, &acc.owner) {
            Some(b) => {
                if b.account != op.account {
                    return fail(ResultCode::BidAccountMismatch);
                }
                if b.competitive != competitive {
                    return fail(ResultCode::MixedBidTypes);
                }
                b
            }
            None => BidderRecord {
                account: op.account,
                competitive,
                bids: 0,
                bid: 0,
                held: 0,
                award: 0,
                cost: 0,
                outcome: 0,
            },
        };
        if a.bids >= MAX_BIDS_PER_AUCTION {
            return fail(ResultCode::TooManyBids);
        }
        let bid_total = bidder
            .bid
            .checked_add(op.amount)
            .ok_or(ResultCode::Overflow)?;
        if !competitive {
            if bid_total > a.max_noncompetitive_per_bidder {
                return fail(ResultCode::NoncompetitiveLimit);
            }
            if a.noncompetitive_total.saturating_add(op.amount) > a.max_noncompetitive_total {
                return fail(ResultCode::NoncompetitiveFull);
            }
        }
        let security = self.instrument(a.security)?;
        Self::check_supervisory(&acc, &owner)?;
        self.check_investor(&owner, &security)?;
        let cash = self.instrument(a.cash_instrument)?;
        let hold = bid_hold(op.amount, a.max_price, cash.scale - security.scale)
            .ok_or(ResultCode::Overflow)?;
        self.hold_units(&Self::cash_leg(&a, op.account, hold))?;
        let seq = a.next_seq;
        let next_seq = seq.checked_add(1).ok_or(ResultCode::TooManyBids)?;
        self.st.put(
            keys::bid(op.auction, seq),
            schema::encode(&BidRecord {
                bidder: acc.owner,
                account: op.account,
                kind: op.kind,
                amount: op.amount,
                hold,
                award: 0,
            }),
        );
        bidder.bids += 1;
        bidder.bid = bid_total;
        bidder.held = bidder.held.saturating_add(hold);
        self.st.put(
            keys::bidder(op.auction, &acc.owner),
            schema::encode(&bidder),
        );
        a.next_seq = next_seq;
        a.bids += 1;
        a.tendered = a.tendered.saturating_add(op.amount);
        if !competitive {
            a.noncompetitive_total += op.amount;
        }
        self.put_auction(op.auction, &a);
        self.events.push(Event::BidSubmitted {
            auction: op.auction,
            seq,
            bidder: acc.owner,
        });
        Ok(())
    }

    pub(crate) fn withdraw_bid(&mut self, op: &WithdrawBid) -> Check {
        let bid: BidRecord = self
            .st
            .get(&keys::bid(op.auction, op.seq))
            .map(|b| schema::decode(&b))
            .ok_or(ResultCode::BidNotFound)?;
        self.authorize(&bid.bidder, Level::Act)?;
        let mut a = self.open_auction(op.auction)?;
        self.unhold_units(&Self::cash_leg(&a, bid.account, bid.hold));
        self.st.delete(&keys::bid(op.auction, op.seq));
        let mut bidder = self
            .bidder_record(op.auction, &bid.bidder)
            .expect("a bid's bidder is recorded");
        bidder.bids -= 1;
        bidder.bid -= bid.amount;
        bidder.held -= bid.hold;
        if bidder.bids == 0 {
            self.st.delete(&keys::bidder(op.auction, &bid.bidder));
        } else {
            self.st.put(
                keys::bidder(op.auction, &bid.bidder),
                schema::encode(&bidder),
            );
        }
        a.bids -= 1;
        a.tendered -= bid.amount;
        if bid.kind == BidKind::Noncompetitive {
            a.noncompetitive_total -= bid.amount;
        }
        self.put_auction(op.auction, &a);
        self.events.push(Event::BidWithdrawn(op.auction, op.seq));
        Ok(())
    }

    /// Releases every bid's hold, and deletes a security announced with the auction.
    fn unwind_auction(&mut self, id: AuctionId, a: &AuctionRecord) {
        for (seq, bid) in self.bids(id) {
            self.unhold_units(&Self::cash_leg(a, bid.account, bid.hold));
            self.st.delete(&keys::bid(id, seq));
        }
        for (lei, _) in self.bidders(id) {
            self.st.delete(&keys::bidder(id, &lei));
        }
        if a.new_security
            && let Ok(inst) = self.instrument(a.security)
        {
            if let Some(isin) = &inst.ids.isin {
                self.st.delete(&keys::isin(isin));
            }
            let cusip = inst
                .ids
                .cusip
                .or_else(|| inst.ids.isin.and_then(|i| i.embedded_cusip()));
            if let Some(cusip) = &cusip {
                self.st.delete(&keys::cusip(cusip));
            }
            self.st.delete(&keys::instrument(a.security));
        }
        self.st
            .delete(&keys::schedule(a.close_at, &Scheduled::AuctionClose(id)));
        self.st.delete(&keys::schedule(
            issue_moment(a),
            &Scheduled::AuctionIssue(id),
        ));
    }

    pub(crate) fn cancel_auction(&mut self, op: &CancelAuction) -> Check {
        let mut a = self.auction_record(op.auction)?;
        self.authorize(&a.issuer, Level::Act)?;
        if a.status != AuctionStatus::Open {
            return fail(ResultCode::AuctionClosed);
        }
        self.unwind_auction(op.auction, &a);
        a.status = AuctionStatus::Cancelled;
        self.put_auction(op.auction, &a);
        self.events.push(Event::AuctionCancelled(op.auction));
        Ok(())
    }

    /// The single price and accrued interest per 100 at the stop-out; for a new note or
    /// bond also its coupon. `None` if no price exists (a discount beyond par).
    fn auction_price(
        &self,
        a: &AuctionRecord,
        kind: &InstrumentKind,
        stop: Rate,
    ) -> Option<(ExactPrice, ExactPrice, Rate)> {
        let zero = || ExactPrice {
            num: BigUint::from(0u32),
            den: BigUint::from(1u32),
        };
        match kind {
            InstrumentKind::TreasuryBill { maturity_date, .. } => {
                let days = maturity_date.0.checked_sub(a.issue_date.0)?;
                Some((auction::bill_price(stop, days)?, zero(), Rate(0)))
            }
            InstrumentKind::TreasuryNote(t) | InstrumentKind::TreasuryBond(t) => {
                let coupon = if a.new_security {
                    auction::coupon_from_stop(stop)
                } else {
                    t.coupon_rate
                };
                let (k, q1) = coupons::next_payment(t, a.issue_date)?;
                let q0 = coupons::coupon_date(t.maturity_date, k + 1)?;
                let r = q1.0.checked_sub(a.issue_date.0)?;
                let s = q1.0.checked_sub(q0.0)?;
                let (price, accrued) = auction::note_price(coupon, stop, r, s, k)?;
                Some((price, accrued, coupon))
            }
            _ => None,
        }
    }

    /// The close: allotment, price and each winner's cost; holds cut to the cost.
    /// Returns the work done (bids visited).
    pub(crate) fn close_auction(&mut self, id: AuctionId) -> usize {
        let Ok(mut a) = self.auction_record(id) else {
            return 1;
        };
        if a.status != AuctionStatus::Open {
            return 1;
        }
        let bids = self.bids(id);
        let work = bids.len().max(1);
        let mut index: BTreeMap<Lei, u32> = BTreeMap::new();
        for (_, b) in &bids {
            let next = u32::try_from(index.len()).unwrap_or(u32::MAX);
            index.entry(b.bidder).or_insert(next);
        }
        let terms = Terms {
            offering: a.offering,
            increment: a.increment,
            award_cap_bp: u32::from(a.award_cap_bp),
        };
        let input: Vec<Bid> = bids
            .iter()
            .map(|(seq, b)| Bid {
                bidder: index[&b.bidder],
                kind: match b.kind {
                    BidKind::Noncompetitive => auction::BidKind::Noncompetitive,
                    BidKind::Competitive(r) => auction::BidKind::Competitive(r),
                },
                amount: b.amount,
                seq: u64::from(*seq),
            })
            .collect();
        let allotment = auction::allot(&terms, &input);
        let security = self.instrument(a.security).ok();
        let cash = self.instrument(a.cash_instrument).ok();
        let priced = match (allotment.stop_out, &security, &cash) {
            (Some(stop), Some(sec), Some(cash)) => {
                self.auction_price(&a, &sec.kind, stop).and_then(|p| {
                    u64::try_from(p.0.micros())
                        .ok()
                        .map(|m| (stop, m, p, sec, cash))
                })
            }
            _ => None,
        };
        let Some((stop, price, (_, accrued, coupon), sec, cash)) = priced else {
            // No competitive bid (or no price): the auction fails, nothing is awarded.
            self.unwind_auction(id, &a);
            a.status = AuctionStatus::Failed;
            self.put_auction(id, &a);
            self.events.push(Event::AuctionFailed(id));
            return work;
        };
        let (sec_scale, cash_scale) = (sec.scale, cash.scale);
        let mut sec = sec.clone();
        if a.new_security
            && let InstrumentKind::TreasuryNote(t) | InstrumentKind::TreasuryBond(t) = &mut sec.kind
        {
            t.coupon_rate = coupon;
            self.put_instrument(a.security, &sec);
        }
        // Awards per bid, then per bidder.
        let mut awarded: BTreeMap<Lei, Amount> = BTreeMap::new();
        for ((seq, bid), award) in bids.iter().zip(&allotment.awards) {
            let mut bid = *bid;
            bid.award = *award;
            self.st.put(keys::bid(id, *seq), schema::encode(&bid));
            *awarded.entry(bid.bidder).or_insert(0) += *award;
        }
        let mut competitive = 0;
        for (lei, mut bidder) in self.bidders(id) {
            let award = awarded.get(&lei).copied().unwrap_or(0);
            bidder.award = award;
            bidder.cost = if award == 0 {
                0
            } else {
                auction::cost(award, u128::from(price), &accrued, sec_scale, cash_scale)
                    .unwrap_or(Amount::MAX)
            };
            if bidder.competitive {
                competitive += award;
            }
            let keep = bidder.held.min(bidder.cost);
            let release = bidder.held - keep;
            if release > 0 {
                self.unhold_units(&Self::cash_leg(&a, bidder.account, release));
            }
            bidder.held = keep;
            self.st.put(keys::bidder(id, &lei), schema::encode(&bidder));
        }
        let to_u128 = |v: &BigUint| u128::try_from(v).unwrap_or(u128::MAX);
        let result = AuctionResult {
            stop_out: stop,
            low_rate: allotment.low_rate.unwrap_or(stop),
            pct_bp: u16::try_from(allotment.pct_bp).unwrap_or(u16::MAX),
            price,
            accrued_num: to_u128(&accrued.num),
            accrued_den: to_u128(&accrued.den),
            coupon,
            noncompetitive: allotment.noncompetitive,
            competitive,
            tendered: allotment.tendered,
            bid_to_cover: allotment
                .bid_to_cover_hundredths()
                .and_then(|v| u64::try_from(v).ok())
                .unwrap_or(0),
            issued: 0,
        };
        a.status = AuctionStatus::Closed;
        a.result = Some(result);
        self.put_auction(id, &a);
        self.events.push(Event::AuctionClosed {
            auction: id,
            stop_out: stop,
            pct_bp: result.pct_bp,
            price,
            awarded: result.total_awarded(),
        });
        work
    }

    /// Issues one winner's award against its cash, atomically (its own overlay).
    fn issue_award(&mut self, a: &AuctionRecord, bidder: &BidderRecord) -> Check {
        // Scheduled work: the auction's terms are the authority, so nothing is authorized
        // here; every credit and debit rule still applies.
        let mut sub = Ctx::new(&self.st, self.time);
        sub.issue_units(
            &Mint {
                instrument: a.security,
                to: bidder.account,
                amount: bidder.award,
            },
            MoveKind::Auction,
        )?;
        let held = bidder.held.min(bidder.cost);
        let short = bidder.cost - held;
        if held > 0 {
            sub.move_units(
                &Self::cash_leg(a, bidder.account, held),
                Debit::Held,
                MoveKind::Auction,
            )?;
        }
        if short > 0 {
            sub.move_units(
                &Self::cash_leg(a, bidder.account, short),
                Debit::Available,
                MoveKind::Auction,
            )?;
        }
        let events = std::mem::take(&mut sub.events);
        let writes = sub.st.into_writes();
        apply_writes(&mut self.st, writes);
        self.events.extend(events);
        Ok(())
    }

    /// The issue: the security becomes active and each winner's award settles DvP; a
    /// winner that cannot settle fails alone. Returns the work done (bidders visited).
    pub(crate) fn issue_auction(&mut self, id: AuctionId) -> usize {
        let Ok(mut a) = self.auction_record(id) else {
            return 1;
        };
        if a.status != AuctionStatus::Closed {
            return 1;
        }
        if let Ok(mut sec) = self.instrument(a.security)
            && sec.status == InstrumentStatus::Announced
        {
            sec.status = InstrumentStatus::Active;
            self.put_instrument(a.security, &sec);
        }
        let bidders = self.bidders(id);
        let work = bidders.len().max(1);
        let mut issued: Amount = 0;
        for (lei, mut bidder) in bidders {
            if bidder.award > 0 {
                match self.issue_award(&a, &bidder) {
                    Ok(()) => issued += bidder.award,
                    Err(code) => {
                        if bidder.held > 0 {
                            self.unhold_units(&Self::cash_leg(&a, bidder.account, bidder.held));
                        }
                        bidder.outcome = code.code();
                        self.events.push(Event::AwardFailed {
                            auction: id,
                            bidder: lei,
                            code,
                        });
                    }
                }
            }
            bidder.held = 0;
            self.st.put(keys::bidder(id, &lei), schema::encode(&bidder));
        }
        a.status = AuctionStatus::Issued;
        if let Some(r) = &mut a.result {
            r.issued = issued;
        }
        self.put_auction(id, &a);
        if self.servicing(a.security).is_none() {
            self.start_servicing(a.security, a.issuer_cash_account, a.cash_instrument);
        }
        self.events.push(Event::AuctionIssued {
            auction: id,
            issued,
        });
        work
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bid_holds_round_up_to_the_cash_unit() {
        // $1,000 par at a maximum of 100.000000, in cents: $1,000.00.
        assert_eq!(bid_hold(1_000, PAR_PRICE, 2), Some(100_000));
        // $100 at 100.0000005 (millionths cannot say it; 100.000001): 10,000.0001 → up.
        assert_eq!(bid_hold(100, PAR_PRICE + 1, 2), Some(10_001));
        assert_eq!(bid_hold(u128::MAX, u64::MAX, 18), None);
    }
}
