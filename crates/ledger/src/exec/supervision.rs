//! Supervisory actions: partial freezes, forced transfers, key-loss recovery.

use super::{Check, Ctx, Debit, Level, fail};
use crate::events::{Event, MoveKind};
use crate::schema::{self, Holding, keys};
use crate::store::Store;
use tally_types::limits::MAX_RECOVERY_HOLDINGS;
use tally_types::model::{Leg, Role};
use tally_types::ops::{ForcedTransfer, FreezeHolding, RecoverAccount, UnfreezeHolding};
use tally_types::{InstrumentId, ResultCode};

const SUPERVISORS: &[Role] = &[Role::Operator, Role::Regulator];
const REGULATOR: &[Role] = &[Role::Regulator];

impl<S: Store + ?Sized> Ctx<'_, S> {
    pub(crate) fn freeze_holding(&mut self, op: &FreezeHolding) -> Check {
        self.authorize_role(SUPERVISORS, Level::Act)?;
        let inst = self.instrument(op.instrument)?;
        self.account(op.account)?;
        Self::check_amount(&inst, op.amount)?;
        let mut h = self.holding(op.account, op.instrument);
        if h.available() < op.amount {
            return fail(ResultCode::InsufficientBalance);
        }
        h.frozen += op.amount;
        self.put_holding(op.account, op.instrument, h.balance, &h);
        self.events.push(Event::HoldingFrozen(
            op.account,
            op.instrument,
            op.amount,
            op.reason,
        ));
        Ok(())
    }

    pub(crate) fn unfreeze_holding(&mut self, op: &UnfreezeHolding) -> Check {
        self.authorize_role(SUPERVISORS, Level::Act)?;
        let inst = self.instrument(op.instrument)?;
        self.account(op.account)?;
        Self::check_amount(&inst, op.amount)?;
        let mut h = self.holding(op.account, op.instrument);
        if h.frozen < op.amount {
            return fail(ResultCode::InsufficientFrozen);
        }
        h.frozen -= op.amount;
        self.put_holding(op.account, op.instrument, h.balance, &h);
        self.events
            .push(Event::HoldingUnfrozen(op.account, op.instrument, op.amount));
        Ok(())
    }

    pub(crate) fn forced_transfer(&mut self, op: &ForcedTransfer) -> Check {
        self.authorize_role(REGULATOR, Level::Admin)?;
        self.move_units(&op.leg, Debit::Ordered, MoveKind::Forced(op.reason))
    }

    pub(crate) fn recover_account(&mut self, op: &RecoverAccount) -> Check {
        self.authorize_role(SUPERVISORS, Level::Admin)?;
        if op.from == op.to {
            return fail(ResultCode::SameAccount);
        }
        let mut from = self.account(op.from)?;
        let to = self.account(op.to)?;
        if from.owner != to.owner {
            return fail(ResultCode::AccountOwnerMismatch);
        }
        let (start, end) = keys::holdings_of(op.from);
        let entries = self.st.scan(&start, &end, MAX_RECOVERY_HOLDINGS + 1);
        if entries.len() > MAX_RECOVERY_HOLDINGS {
            return fail(ResultCode::TooManyHoldings);
        }
        for (k, v) in entries {
            let instrument = InstrumentId(u64::from_be_bytes(
                k[9..17].try_into().expect("holding key"),
            ));
            let h: Holding = schema::decode(&v);
            // Units locked by holds and instructions stay: those records name this account.
            let movable = h.balance - h.held;
            if movable == 0 {
                continue;
            }
            let frozen = h.frozen;
            let leg = Leg {
                from: op.from,
                to: op.to,
                instrument,
                amount: movable,
            };
            self.move_units(&leg, Debit::Ordered, MoveKind::Recovery(op.reason))?;
            // A freeze follows the units it froze, and says so.
            if frozen > 0 {
                let mut moved = self.holding(op.to, instrument);
                moved.frozen += frozen;
                self.put_holding(op.to, instrument, moved.balance, &moved);
                self.events
                    .push(Event::HoldingUnfrozen(op.from, instrument, frozen));
                self.events
                    .push(Event::HoldingFrozen(op.to, instrument, frozen, op.reason));
            }
        }
        from.frozen = true;
        self.put_account(op.from, &from);
        self.events.push(Event::AccountFrozen(op.from, op.reason));
        Ok(())
    }
}
