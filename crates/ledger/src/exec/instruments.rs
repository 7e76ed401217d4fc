//! Instruments and plain movements: create, policy, pause, mint, burn, transfer, settle.

use super::{Check, Ctx, Debit, Level, fail};
use crate::events::{Event, MoveKind};
use crate::schema::{self, InstrumentRecord, InstrumentStatus, keys};
use crate::store::Store;
use tally_types::limits::MAX_SCALE;
use tally_types::model::{InstrumentKind, Policy, Role};
use tally_types::ops::*;
use tally_types::{InstrumentId, Rate, ResultCode};

const ISSUER_OVERSIGHT: &[Role] = &[Role::Operator];
const PAUSERS: &[Role] = &[Role::Operator, Role::Regulator];

fn check_terms(op: &CreateInstrument) -> Check {
    let bad = || fail(ResultCode::InvalidInstrumentTerms);
    if op.scale > MAX_SCALE || op.min_increment == 0 || op.name.as_str().is_empty() {
        return bad();
    }
    if let (Some(isin), Some(cusip)) = (op.ids.isin, op.ids.cusip)
        && isin
            .embedded_cusip()
            .is_some_and(|embedded| embedded != cusip)
    {
        return bad();
    }
    match &op.kind {
        InstrumentKind::TreasuryBill {
            issue_date,
            maturity_date,
        } if maturity_date <= issue_date => bad(),
        InstrumentKind::TreasuryNote(t) | InstrumentKind::TreasuryBond(t)
            if t.frequency != 2
                || t.maturity_date <= t.dated_date
                || t.coupon_rate.0 >= Rate::ONE =>
        {
            bad()
        }
        InstrumentKind::Unique { .. } if op.scale != 0 || op.min_increment != 1 => bad(),
        _ => Ok(()),
    }
}

fn check_policy(policy: &Policy) -> Check {
    let sorted = policy.allowed_jurisdictions.windows(2).all(|w| w[0] < w[1]);
    if !sorted || policy.max_holders == Some(0) || policy.max_balance_per_holder == Some(0) {
        return fail(ResultCode::InvalidPolicy);
    }
    Ok(())
}

impl<S: Store + ?Sized> Ctx<'_, S> {
    pub(crate) fn create_instrument(&mut self, op: &CreateInstrument) -> Check {
        self.authorize_self_or_role(&op.issuer, Level::Act, ISSUER_OVERSIGHT)?;
        check_terms(op)?;
        check_policy(&op.policy)?;
        let issuer = self.participant(&op.issuer)?;
        if !issuer.profile.roles.has(Role::Issuer) {
            return fail(ResultCode::Unauthorized);
        }
        if self.instrument(op.instrument).is_ok() {
            return fail(ResultCode::InstrumentExists);
        }
        if let Some(isin) = &op.ids.isin {
            if self.st.get(&keys::isin(isin)).is_some() {
                return fail(ResultCode::IdentifierInUse);
            }
            self.st
                .put(keys::isin(isin), schema::encode(&op.instrument));
        }
        // A US or Canadian ISIN embeds a CUSIP: index it too, so no other instrument can
        // claim the same security under its CUSIP.
        let cusip = op
            .ids
            .cusip
            .or_else(|| op.ids.isin.and_then(|i| i.embedded_cusip()));
        if let Some(cusip) = &cusip {
            if self.st.get(&keys::cusip(cusip)).is_some() {
                return fail(ResultCode::IdentifierInUse);
            }
            self.st
                .put(keys::cusip(cusip), schema::encode(&op.instrument));
        }
        // One interest component per issuer and payment date (they are fungible across
        // the issuer's notes and bonds).
        if let InstrumentKind::StripInterest { payment_date } = &op.kind {
            let k = keys::interest_component(&op.issuer, *payment_date);
            if self.st.get(&k).is_some() {
                return fail(ResultCode::IdentifierInUse);
            }
            self.st.put(k, schema::encode(&op.instrument));
        }
        let rec = InstrumentRecord {
            issuer: op.issuer,
            name: op.name.clone(),
            ids: op.ids,
            scale: op.scale,
            min_increment: op.min_increment,
            kind: op.kind.clone(),
            policy: op.policy.clone(),
            status: InstrumentStatus::Active,
            total_supply: 0,
            holder_count: 0,
            book_closed: false,
        };
        self.put_instrument(op.instrument, &rec);
        self.events.push(Event::InstrumentCreated(op.instrument));
        Ok(())
    }

    /// The instrument, after checking its issuer (or an overseer) approved.
    fn issuer_controlled(
        &self,
        id: InstrumentId,
        overseers: &[Role],
    ) -> Result<InstrumentRecord, ResultCode> {
        let inst = self.instrument(id)?;
        self.authorize_self_or_role(&inst.issuer, Level::Act, overseers)?;
        Ok(inst)
    }

    pub(crate) fn update_policy(&mut self, op: &UpdatePolicy) -> Check {
        let mut inst = self.issuer_controlled(op.instrument, ISSUER_OVERSIGHT)?;
        check_policy(&op.policy)?;
        inst.policy = op.policy.clone();
        self.put_instrument(op.instrument, &inst);
        self.events.push(Event::PolicyUpdated(op.instrument));
        Ok(())
    }

    pub(crate) fn set_paused(&mut self, id: InstrumentId, paused: bool) -> Check {
        let mut inst = self.issuer_controlled(id, PAUSERS)?;
        if inst.status == InstrumentStatus::Matured {
            return fail(ResultCode::InstrumentMatured);
        }
        inst.status = if paused {
            InstrumentStatus::Paused
        } else {
            InstrumentStatus::Active
        };
        self.put_instrument(id, &inst);
        self.events.push(if paused {
            Event::InstrumentPaused(id)
        } else {
            Event::InstrumentUnpaused(id)
        });
        Ok(())
    }

    pub(crate) fn mint(&mut self, op: &Mint) -> Check {
        let inst = self.instrument(op.instrument)?;
        self.authorize(&inst.issuer, Level::Act)?;
        self.issue_units(op, MoveKind::Mint)
    }

    /// Creates units in an account with the credit rules (a mint, an auction award, a
    /// STRIPS component); the caller has authorized it.
    pub(crate) fn issue_units(&mut self, op: &Mint, kind: MoveKind) -> Check {
        let mut inst = self.instrument(op.instrument)?;
        Self::check_amount(&inst, op.amount)?;
        let acc = self.account(op.to)?;
        let owner = self.participant(&acc.owner)?;
        let mut h = self.holding(op.to, op.instrument);
        let after = h
            .balance
            .checked_add(op.amount)
            .ok_or(ResultCode::Overflow)?;
        let holders_after = inst.holder_count + u64::from(h.balance == 0);
        self.check_credit(&acc, &owner, &inst, after, holders_after)?;
        if inst.status == InstrumentStatus::Matured {
            return fail(ResultCode::InstrumentMatured);
        }
        let supply = inst
            .total_supply
            .checked_add(op.amount)
            .ok_or(ResultCode::Overflow)?;
        if matches!(inst.kind, InstrumentKind::Unique { .. }) && supply > 1 {
            return fail(ResultCode::Overflow);
        }
        let before = h.balance;
        h.balance = after;
        inst.total_supply = supply;
        inst.holder_count = holders_after;
        self.put_holding(op.to, op.instrument, before, &h);
        self.put_instrument(op.instrument, &inst);
        self.events.push(Event::Moved {
            kind,
            from: None,
            to: Some(op.to),
            instrument: op.instrument,
            amount: op.amount,
        });
        Ok(())
    }

    pub(crate) fn burn(&mut self, op: &Burn) -> Check {
        let inst = self.instrument(op.instrument)?;
        self.authorize(&inst.issuer, Level::Act)?;
        Self::check_amount(&inst, op.amount)?;
        let acc = self.account(op.from)?;
        if acc.owner != inst.issuer {
            return fail(ResultCode::AccountOwnerMismatch);
        }
        self.retire_units(op, MoveKind::Burn)
    }

    /// Destroys available units of an account with the debit rules (a burn, a note
    /// stripped or components reconstituted); the caller has authorized it.
    pub(crate) fn retire_units(&mut self, op: &Burn, kind: MoveKind) -> Check {
        let mut inst = self.instrument(op.instrument)?;
        Self::check_amount(&inst, op.amount)?;
        let acc = self.account(op.from)?;
        let owner = self.participant(&acc.owner)?;
        self.check_debit(&acc, &owner, &inst)?;
        let mut h = self.holding(op.from, op.instrument);
        if h.available() < op.amount {
            return fail(ResultCode::InsufficientBalance);
        }
        let before = h.balance;
        h.balance -= op.amount;
        inst.total_supply -= op.amount;
        if h.balance == 0 {
            inst.holder_count -= 1;
        }
        self.put_holding(op.from, op.instrument, before, &h);
        self.put_instrument(op.instrument, &inst);
        self.events.push(Event::Moved {
            kind,
            from: Some(op.from),
            to: None,
            instrument: op.instrument,
            amount: op.amount,
        });
        Ok(())
    }

    pub(crate) fn transfer(&mut self, op: &Transfer) -> Check {
        let from = self.account(op.leg.from)?;
        self.authorize(&from.owner, Level::Act)?;
        self.move_units(&op.leg, Debit::Available, MoveKind::Transfer)
    }

    pub(crate) fn settle(&mut self, op: &Settle) -> Check {
        Self::check_legs(&op.legs)?;
        for payer in self.payers(&op.legs)? {
            self.authorize(&payer, Level::Act)?;
        }
        for leg in op.legs.iter() {
            self.move_units(leg, Debit::Available, MoveKind::Settle)?;
        }
        Ok(())
    }
}
