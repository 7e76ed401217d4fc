//! STRIPS: a note or bond stripped into its principal component and one interest
//! component per remaining payment date, and reconstituted from them
//! (`docs/lifecycle.md` §4). Components are ordinary instruments of the issuer; each
//! matures on its date and is redeemed at par by the servicing engine.

use super::{Check, Ctx, Level, fail};
use crate::coupons;
use crate::events::{Event, MoveKind};
use crate::schema::{self, InstrumentStatus, keys};
use crate::store::Store;
use tally_types::model::{CouponTerms, InstrumentKind};
use tally_types::ops::{Burn, EnableStrips, Mint, Reconstitute, Strip};
use tally_types::{AccountId, Amount, InstrumentId, Rate, ResultCode};

/// One component leg of a strip: instrument and units.
type Component = (InstrumentId, Amount);

impl<S: Store + ?Sized> Ctx<'_, S> {
    fn principal_component(&self, id: InstrumentId) -> Result<InstrumentId, ResultCode> {
        self.st
            .get(&keys::strips(id))
            .map(|b| schema::decode(&b))
            .ok_or(ResultCode::NotStripsEligible)
    }

    pub(crate) fn enable_strips(&mut self, op: &EnableStrips) -> Check {
        let inst = self.instrument(op.instrument)?;
        self.authorize(&inst.issuer, Level::Act)?;
        let terms = match &inst.kind {
            InstrumentKind::TreasuryNote(t) | InstrumentKind::TreasuryBond(t) => *t,
            _ => return fail(ResultCode::InvalidInstrumentTerms),
        };
        let principal = self.instrument(op.principal_component)?;
        let matches = principal.issuer == inst.issuer
            && principal.scale == inst.scale
            && principal.kind
                == (InstrumentKind::StripPrincipal {
                    underlying: op.instrument,
                    maturity_date: terms.maturity_date,
                });
        if !matches {
            return fail(ResultCode::InvalidInstrumentTerms);
        }
        if inst.status == InstrumentStatus::Matured {
            return fail(ResultCode::InstrumentMatured);
        }
        self.st.put(
            keys::strips(op.instrument),
            schema::encode(&op.principal_component),
        );
        // The principal component is paid like the note: by its paying account.
        if let Some(s) = self.servicing(op.instrument)
            && self.servicing(op.principal_component).is_none()
        {
            self.start_servicing(op.principal_component, s.paying_account, s.cash_instrument);
        }
        self.events.push(Event::StripsEnabled(op.instrument));
        Ok(())
    }

    /// The components of `amount` par: the principal component, then one interest
    /// component per payment date after today with its coupon in par units.
    fn components(
        &self,
        account: AccountId,
        id: InstrumentId,
        amount: Amount,
    ) -> Result<(Vec<Component>, CouponTerms), ResultCode> {
        let acc = self.account(account)?;
        self.authorize(&acc.owner, Level::Act)?;
        let inst = self.instrument(id)?;
        let terms = match &inst.kind {
            InstrumentKind::TreasuryNote(t) | InstrumentKind::TreasuryBond(t) => *t,
            _ => return fail(ResultCode::NotStripsEligible),
        };
        Self::check_amount(&inst, amount)?;
        let principal = self.principal_component(id)?;
        let mut out = vec![(principal, amount)];
        let mut after = self.time.date();
        while let Some((k, date)) = coupons::next_payment(&terms, after) {
            after = date;
            let frac = coupons::period_fraction(&terms, k).ok_or(ResultCode::InvalidStripAmount)?;
            // amount × c/2 × frac, exactly, in par units.
            let num = u128::from(terms.coupon_rate.0) * u128::from(frac.0);
            let den = 2 * u128::from(Rate::ONE) * u128::from(frac.1);
            let coupon = coupons::mul_div_floor(amount, num, den).ok_or(ResultCode::Overflow)?;
            let exact = coupons::mul_div_floor(coupon, den, num.max(1)) == Some(amount)
                && coupon.checked_mul(den) == amount.checked_mul(num);
            let component: InstrumentId = self
                .st
                .get(&keys::interest_component(&inst.issuer, date))
                .map(|b| schema::decode(&b))
                .ok_or(ResultCode::InstrumentNotFound)?;
            let increment = self.instrument(component)?.min_increment;
            if !exact || coupon == 0 || !coupon.is_multiple_of(increment) {
                return fail(ResultCode::InvalidStripAmount);
            }
            out.push((component, coupon));
        }
        Ok((out, terms))
    }

    pub(crate) fn strip(&mut self, op: &Strip) -> Check {
        let (parts, _) = self.components(op.account, op.instrument, op.amount)?;
        self.retire_units(
            &Burn {
                instrument: op.instrument,
                from: op.account,
                amount: op.amount,
            },
            MoveKind::Strip,
        )?;
        self.mint_components(op.account, op.instrument, &parts)?;
        self.events.push(Event::Stripped {
            account: op.account,
            instrument: op.instrument,
            amount: op.amount,
        });
        Ok(())
    }

    fn mint_components(
        &mut self,
        account: AccountId,
        id: InstrumentId,
        parts: &[Component],
    ) -> Check {
        let servicing = self.servicing(id);
        for &(component, units) in parts {
            self.issue_units(
                &Mint {
                    instrument: component,
                    to: account,
                    amount: units,
                },
                MoveKind::Strip,
            )?;
            // Components are redeemed from the note's paying account.
            if let Some(s) = servicing
                && self.servicing(component).is_none()
            {
                self.start_servicing(component, s.paying_account, s.cash_instrument);
            }
        }
        Ok(())
    }

    pub(crate) fn reconstitute(&mut self, op: &Reconstitute) -> Check {
        let (parts, _) = self.components(op.account, op.instrument, op.amount)?;
        for &(component, units) in &parts {
            self.retire_units(
                &Burn {
                    instrument: component,
                    from: op.account,
                    amount: units,
                },
                MoveKind::Strip,
            )?;
        }
        self.issue_units(
            &Mint {
                instrument: op.instrument,
                to: op.account,
                amount: op.amount,
            },
            MoveKind::Strip,
        )?;
        self.events.push(Event::Reconstituted {
            account: op.account,
            instrument: op.instrument,
            amount: op.amount,
        });
        Ok(())
    }
}
