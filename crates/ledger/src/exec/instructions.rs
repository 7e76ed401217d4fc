//! Two-sided instruction matching: each payer submits its half (its debit legs are held);
//! when every payer's half is in, all legs settle at once. Unmatched halves lapse.

use super::{Check, Ctx, Debit, Level, fail};
use crate::events::{Event, MoveKind};
use crate::schema::{self, InstructionRecord, keys};
use crate::store::Store;
use tally_types::codec::BoundedVec;
use tally_types::limits::{MAX_EXPIRIES_PER_BLOCK, MAX_INSTRUCTION_TTL_MS};
use tally_types::model::Leg;
use tally_types::ops::{CancelInstruction, Instruct};
use tally_types::{Hash32, Lei, ResultCode, Timestamp};

impl<S: Store + ?Sized> Ctx<'_, S> {
    fn pending(&self, id: &Hash32) -> Option<InstructionRecord> {
        self.st
            .get(&keys::instruction(id))
            .map(|b| schema::decode(&b))
    }

    /// Debit legs of `payer` among `legs`, given each leg's payer.
    fn legs_of<'l>(
        legs: &'l [Leg],
        payers: &'l [Lei],
        payer: &'l Lei,
    ) -> impl Iterator<Item = &'l Leg> {
        legs.iter()
            .zip(payers)
            .filter(move |(_, p)| *p == payer)
            .map(|(l, _)| l)
    }

    fn leg_payers(&self, legs: &[Leg]) -> Result<Vec<Lei>, ResultCode> {
        legs.iter()
            .map(|l| self.account(l.from).map(|a| a.owner))
            .collect()
    }

    pub(crate) fn instruct(&mut self, op: &Instruct) -> Check {
        let Some(me) = self.sender else {
            return fail(ResultCode::Unauthorized);
        };
        self.authorize(&me, Level::Act)?;
        Self::check_legs(&op.legs)?;
        if op.expires_at <= self.time || op.expires_at > self.time.plus_ms(MAX_INSTRUCTION_TTL_MS) {
            return fail(ResultCode::InvalidDeadline);
        }
        let all_payers = self.payers(&op.legs)?;
        let leg_payers = self.leg_payers(&op.legs)?;
        if !all_payers.contains(&me) {
            return fail(ResultCode::NotAParty);
        }
        let id = op.instruction_id();
        let mut rec = match self.pending(&id) {
            Some(rec) => rec,
            None => InstructionRecord {
                trade_ref: op.trade_ref.clone(),
                legs: op.legs.clone(),
                expires_at: op.expires_at,
                submitted: BoundedVec::empty(),
                matched: false,
            },
        };
        if rec.matched || rec.submitted.contains(&me) {
            return fail(ResultCode::DuplicateInstruction);
        }
        for leg in Self::legs_of(&op.legs, &leg_payers, &me) {
            self.hold_units(leg)?;
        }
        let mut submitted = rec.submitted.to_vec();
        submitted.push(me);
        submitted.sort();
        self.events.push(Event::InstructionSubmitted(id, me));
        if submitted == all_payers {
            // Every side is in: settle every leg from its held units. The record stays,
            // marked matched, until its expiry, so the same trade cannot settle twice.
            for leg in op.legs.iter() {
                self.move_units(leg, Debit::Held, MoveKind::Instruction)?;
            }
            rec.submitted = BoundedVec::new(submitted).ok_or(ResultCode::InvalidLegs)?;
            rec.matched = true;
            self.st.put(keys::instruction(&id), schema::encode(&rec));
            self.st
                .put(keys::instruction_expiry(rec.expires_at, &id), Vec::new());
            self.events.push(Event::InstructionMatched(id));
            return Ok(());
        }
        rec.submitted = BoundedVec::new(submitted).ok_or(ResultCode::InvalidLegs)?;
        self.st.put(keys::instruction(&id), schema::encode(&rec));
        self.st
            .put(keys::instruction_expiry(rec.expires_at, &id), Vec::new());
        Ok(())
    }

    pub(crate) fn cancel_instruction(&mut self, op: &CancelInstruction) -> Check {
        let Some(me) = self.sender else {
            return fail(ResultCode::Unauthorized);
        };
        self.authorize(&me, Level::Act)?;
        let Some(mut rec) = self.pending(&op.instruction) else {
            return fail(ResultCode::InstructionNotFound);
        };
        if rec.matched || !rec.submitted.contains(&me) {
            return fail(ResultCode::InstructionNotFound);
        }
        let leg_payers = self.leg_payers(&rec.legs)?;
        for leg in Self::legs_of(&rec.legs, &leg_payers, &me) {
            self.unhold_units(leg);
        }
        let rest: Vec<Lei> = rec
            .submitted
            .iter()
            .filter(|p| **p != me)
            .copied()
            .collect();
        if rest.is_empty() {
            self.st.delete(&keys::instruction(&op.instruction));
            self.st
                .delete(&keys::instruction_expiry(rec.expires_at, &op.instruction));
        } else {
            rec.submitted = BoundedVec::new(rest).ok_or(ResultCode::InvalidLegs)?;
            self.st
                .put(keys::instruction(&op.instruction), schema::encode(&rec));
        }
        self.events
            .push(Event::InstructionCancelled(op.instruction, me));
        Ok(())
    }

    /// Lapses instructions whose expiry is at or before `now` (at most
    /// [MAX_EXPIRIES_PER_BLOCK]; the rest lapse in the next block), releasing their holds.
    pub(crate) fn expire_instructions(&mut self, now: Timestamp) {
        let start = keys::instruction_expiry(Timestamp(0), &Hash32::default());
        let end = keys::instruction_expiry(now.plus_ms(1), &Hash32::default());
        for (k, _) in self.st.scan(&start, &end, MAX_EXPIRIES_PER_BLOCK) {
            let mut id = [0u8; 32];
            id.copy_from_slice(&k[k.len() - 32..]);
            let id = Hash32(id);
            let rec = self
                .pending(&id)
                .expect("expiry index points at a pending instruction");
            self.st.delete(&keys::instruction(&id));
            self.st.delete(&k);
            if rec.matched {
                continue; // a settled trade's tombstone: nothing is held
            }
            // Accounts never disappear, so the payers of stored legs always resolve.
            let leg_payers = self
                .leg_payers(&rec.legs)
                .expect("instruction accounts exist");
            for leg in rec
                .legs
                .iter()
                .zip(&leg_payers)
                .filter(|(_, p)| rec.submitted.contains(p))
            {
                self.unhold_units(leg.0);
            }
            self.events.push(Event::InstructionExpired(id));
        }
    }
}
