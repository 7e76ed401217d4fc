//! Holds (escrow): lock units for a beneficiary, with an optional SHA-256 hash-lock and a
//! deadline. Release pays the beneficiary (payer's approval, or the preimage) before the
//! deadline; refund returns the units after it (or at any time, by the beneficiary).
//! A hold's record is never deleted: release and refund write its final status, so a hold
//! id is used once and its outcome stays provable.

use super::{Check, Ctx, Debit, Level, fail};
use crate::events::{Event, MoveKind};
use crate::schema::{self, HoldRecord, keys};
use crate::store::Store;
use tally_types::limits::MAX_INSTRUCTION_TTL_MS;
use tally_types::model::HoldStatus;
use tally_types::ops::{PlaceHold, RefundHold, ReleaseHold};
use tally_types::{Hash32, HoldId, ResultCode};

impl<S: Store + ?Sized> Ctx<'_, S> {
    pub(super) fn hold_record(&self, id: HoldId) -> Result<HoldRecord, ResultCode> {
        self.st
            .get(&keys::hold(id))
            .map(|b| schema::decode(&b))
            .ok_or(ResultCode::HoldNotFound)
    }

    /// The record of a hold that is still held.
    fn open_hold(&self, id: HoldId) -> Result<HoldRecord, ResultCode> {
        let rec = self.hold_record(id)?;
        if rec.status != HoldStatus::Held {
            return fail(ResultCode::HoldClosed);
        }
        Ok(rec)
    }

    /// Writes the hold's final outcome over its record (never deleted).
    pub(super) fn close_hold(&mut self, id: HoldId, mut rec: HoldRecord, status: HoldStatus) {
        assert_eq!(rec.status, HoldStatus::Held, "a hold closes once");
        assert_ne!(status, HoldStatus::Held, "closing writes an outcome");
        rec.status = status;
        self.st.put(keys::hold(id), schema::encode(&rec));
    }

    pub(crate) fn place_hold(&mut self, op: &PlaceHold) -> Check {
        let payer = self.account(op.leg.from)?.owner;
        self.authorize(&payer, Level::Act)?;
        if op.leg.from == op.leg.to {
            return fail(ResultCode::SameAccount);
        }
        if op.deadline <= self.time || op.deadline > self.time.plus_ms(MAX_INSTRUCTION_TTL_MS) {
            return fail(ResultCode::InvalidDeadline);
        }
        if self.hold_record(op.hold).is_ok() {
            return fail(ResultCode::HoldExists);
        }
        // Validation (3xx) comes before compliance (6xx).
        let inst = self.instrument(op.leg.instrument)?;
        Self::check_amount(&inst, op.leg.amount)?;
        self.precheck_credit(&op.leg)?;
        self.hold_units(&op.leg)?;
        let rec = HoldRecord {
            leg: op.leg,
            hash_lock: op.hash_lock,
            deadline: op.deadline,
            status: HoldStatus::Held,
            cross: None,
        };
        self.st.put(keys::hold(op.hold), schema::encode(&rec));
        self.events.push(Event::HoldPlaced(op.hold));
        Ok(())
    }

    pub(crate) fn release_hold(&mut self, op: &ReleaseHold) -> Check {
        let rec = self.open_hold(op.hold)?;
        // A cross-ledger leg is paid only against its counterpart's proof.
        if rec.cross.is_some() {
            return fail(ResultCode::CrossLedgerHold);
        }
        match (&rec.hash_lock, &op.preimage) {
            // With a hash-lock, the preimage is the authority: whoever learned it may claim.
            (Some(lock), Some(preimage)) => {
                if Hash32::digest(&[&preimage.0]) != *lock {
                    return fail(ResultCode::PreimageMismatch);
                }
            }
            (Some(_), None) => return fail(ResultCode::PreimageMismatch),
            (None, _) => {
                let payer = self.account(rec.leg.from)?.owner;
                self.authorize(&payer, Level::Act)?;
            }
        }
        if self.time >= rec.deadline {
            return fail(ResultCode::HoldExpired);
        }
        self.move_units(&rec.leg, Debit::HoldRelease, MoveKind::HoldRelease)?;
        self.close_hold(op.hold, rec, HoldStatus::Released);
        self.events.push(Event::HoldReleased(op.hold));
        Ok(())
    }

    pub(crate) fn refund_hold(&mut self, op: &RefundHold) -> Check {
        let rec = self.open_hold(op.hold)?;
        // A follower's leg is refunded only against a proof of its leader's refund or
        // expiry; by time alone, the payer could be paid on the other ledger and refunded
        // here. A leader's leg refunds by these rules, as any hold.
        if rec
            .cross
            .as_ref()
            .is_some_and(|c| c.role == tally_types::model::CrossRole::Follower)
        {
            return fail(ResultCode::CrossLedgerHold);
        }
        let payer = self.account(rec.leg.from)?.owner;
        let beneficiary = self.account(rec.leg.to)?.owner;
        // The beneficiary may give the hold back at any time; the payer only after the
        // deadline.
        if self.authorize(&beneficiary, Level::Act).is_err() {
            self.authorize(&payer, Level::Act)?;
            if self.time < rec.deadline {
                return fail(ResultCode::HoldNotExpired);
            }
        }
        self.unhold_units(&rec.leg);
        self.close_hold(op.hold, rec, HoldStatus::Refunded);
        self.events.push(Event::HoldRefunded(op.hold));
        Ok(())
    }
}
