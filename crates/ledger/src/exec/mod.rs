//! Execution of one transaction against an overlay: authorization, compliance and the
//! single place where units move ([Ctx::move_units]).

mod auctions;
mod batch;
mod cross;
mod holds;
mod identity;
mod instructions;
mod instruments;
mod remote;
mod repo;
pub use repo::repurchase_price;
mod servicing;
mod strips;
mod supervision;

use crate::events::{Event, MoveKind};
use crate::schema::{
    self, AccountRecord, Holding, InstrumentRecord, InstrumentStatus, ParticipantRecord, keys,
};
use crate::store::{Overlay, Store};
use std::collections::BTreeMap;
use tally_types::model::{KycStatus, Leg, Role};
use tally_types::{
    AccountId, Amount, ChainId, InstrumentId, Lei, Operation, ResultCode, Timestamp,
};

/// The outcome of one check: pass, or the code that refuses.
pub type Check = Result<(), ResultCode>;

/// Shorthand to refuse with a code.
pub(crate) fn fail<T>(code: ResultCode) -> Result<T, ResultCode> {
    Err(code)
}

/// Which approval threshold an action needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Level {
    /// Ordinary business (transfers, accounts, instructions).
    Act,
    /// Changes to the participant's own keys and thresholds.
    Admin,
}

/// How a movement treats the debited side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Debit {
    /// From the available balance, with debit compliance.
    Available,
    /// From units already held for this movement (hold release, matched instruction),
    /// with debit compliance.
    Held,
    /// Units held by a hold being released: only supervisory blocks (freeze, suspension)
    /// apply, on both sides; every other rule was checked when the hold was placed.
    HoldRelease,
    /// By order (forced transfer, recovery): no debit compliance; frozen units may move,
    /// held units may not.
    Ordered,
}

/// One transaction's execution context.
pub(crate) struct Ctx<'a, S: Store + ?Sized> {
    pub st: Overlay<'a, S>,
    pub time: Timestamp,
    /// Participant owning the sender key (acts for `Instruct`/`Cancel`).
    pub sender: Option<Lei>,
    /// Approved weight per participant, from the verified signers.
    pub approvals: BTreeMap<Lei, u32>,
    /// Every key that signed the transaction (registered or being registered).
    pub signers: std::collections::BTreeSet<crate::schema::KeyBytes>,
    /// Genesis bypasses authorization (there are no keys yet to approve with).
    pub genesis: bool,
    pub events: Vec<Event>,
    /// This ledger's chain id (absent only where no transaction is being applied).
    pub chain: Option<&'a ChainId>,
    /// What the verification step established about the remote proof the current
    /// operation carries (absent for operations without one).
    pub proven: Option<tally_types::remote::ProvenHeader>,
    /// The per-transfer outcomes of the transfer batch the transaction carries, once
    /// executed.
    pub batch: Option<crate::schema::BatchResult>,
}

impl<'a, S: Store + ?Sized> Ctx<'a, S> {
    pub fn new(base: &'a S, time: Timestamp) -> Self {
        Self {
            st: Overlay::new(base),
            time,
            sender: None,
            approvals: BTreeMap::new(),
            signers: std::collections::BTreeSet::new(),
            genesis: false,
            events: Vec::new(),
            chain: None,
            proven: None,
            batch: None,
        }
    }

    // ---- typed state access -------------------------------------------------------

    pub fn participant(&self, lei: &Lei) -> Result<ParticipantRecord, ResultCode> {
        self.st
            .get(&keys::participant(lei))
            .map(|b| schema::decode(&b))
            .ok_or(ResultCode::ParticipantNotFound)
    }

    pub fn put_participant(&mut self, lei: &Lei, rec: &ParticipantRecord) {
        self.st.put(keys::participant(lei), schema::encode(rec));
    }

    pub fn account(&self, id: AccountId) -> Result<AccountRecord, ResultCode> {
        self.st
            .get(&keys::account(id))
            .map(|b| schema::decode(&b))
            .ok_or(ResultCode::AccountNotFound)
    }

    pub fn put_account(&mut self, id: AccountId, rec: &AccountRecord) {
        self.st.put(keys::account(id), schema::encode(rec));
    }

    pub fn instrument(&self, id: InstrumentId) -> Result<InstrumentRecord, ResultCode> {
        self.st
            .get(&keys::instrument(id))
            .map(|b| schema::decode(&b))
            .ok_or(ResultCode::InstrumentNotFound)
    }

    pub fn put_instrument(&mut self, id: InstrumentId, rec: &InstrumentRecord) {
        self.st.put(keys::instrument(id), schema::encode(rec));
    }

    pub fn holding(&self, account: AccountId, instrument: InstrumentId) -> Holding {
        self.st
            .get(&keys::holding(account, instrument))
            .map(|b| schema::decode(&b))
            .unwrap_or_default()
    }

    /// Writes a holding whose balance was `before`: the single place holdings change, so
    /// it also keeps the holder index (`0f`, instrument ‖ account for every non-zero
    /// balance) exact. Callers pass the balance they read, so no second read is made.
    pub fn put_holding(
        &mut self,
        account: AccountId,
        instrument: InstrumentId,
        before: Amount,
        h: &Holding,
    ) {
        let k = keys::holding(account, instrument);
        let was_holder = before > 0;
        if h.is_empty() {
            self.st.delete(&k);
        } else {
            self.st.put(k, schema::encode(h));
        }
        match (was_holder, h.balance > 0) {
            (false, true) => self.st.put(keys::holder(instrument, account), Vec::new()),
            (true, false) => self.st.delete(&keys::holder(instrument, account)),
            _ => {}
        }
    }

    // ---- authorization ---------------------------------------------------------------

    /// `lei` approved the transaction with enough weight for `level`.
    pub fn authorize(&self, lei: &Lei, level: Level) -> Check {
        if self.genesis {
            return Ok(());
        }
        let Some(&weight) = self.approvals.get(lei) else {
            return fail(ResultCode::Unauthorized);
        };
        let p = self.participant(lei)?;
        if p.suspended {
            return fail(ResultCode::ParticipantSuspended);
        }
        let need = match level {
            Level::Act => p.threshold,
            Level::Admin => p.admin_threshold,
        };
        if weight < u32::from(need) {
            return fail(ResultCode::InsufficientApprovals);
        }
        Ok(())
    }

    /// Some participant holding one of `roles` approved the transaction at its threshold
    /// for `level`.
    pub fn authorize_role(&self, roles: &[Role], level: Level) -> Check {
        if self.genesis {
            return Ok(());
        }
        let mut best = ResultCode::Unauthorized;
        for lei in self.approvals.keys() {
            let p = self.participant(lei)?;
            if !roles.iter().any(|r| p.profile.roles.has(*r)) {
                continue;
            }
            match self.authorize(lei, level) {
                Ok(()) => return Ok(()),
                Err(code) => best = code,
            }
        }
        fail(best)
    }

    /// Dual control: an operator at its admin threshold and a regulator at its threshold,
    /// two different participants (one participant holding both roles is not enough).
    pub fn authorize_dual_control(&self) -> Check {
        if self.genesis {
            return Ok(());
        }
        let approved = |role: Role, level: Level| -> Result<Vec<Lei>, ResultCode> {
            let mut out = Vec::new();
            let mut best = ResultCode::Unauthorized;
            for lei in self.approvals.keys() {
                if !self.participant(lei)?.profile.roles.has(role) {
                    continue;
                }
                match self.authorize(lei, level) {
                    Ok(()) => out.push(*lei),
                    Err(code) => best = code,
                }
            }
            if out.is_empty() { Err(best) } else { Ok(out) }
        };
        let operators = approved(Role::Operator, Level::Admin)?;
        let regulators = approved(Role::Regulator, Level::Act)?;
        if operators.iter().any(|o| regulators.iter().any(|r| r != o)) {
            Ok(())
        } else {
            fail(ResultCode::Unauthorized)
        }
    }

    /// `lei` itself at `level`, or a holder of one of `roles` at the same level.
    pub fn authorize_self_or_role(&self, lei: &Lei, level: Level, roles: &[Role]) -> Check {
        let own = self.authorize(lei, level);
        if own.is_ok() {
            return own;
        }
        match self.authorize_role(roles, level) {
            Ok(()) => Ok(()),
            Err(ResultCode::Unauthorized) => own,
            Err(code) => Err(code),
        }
    }

    // ---- compliance -----------------------------------------------------------------

    fn check_holder(
        &self,
        acc: &AccountRecord,
        owner: &ParticipantRecord,
        inst: &InstrumentRecord,
    ) -> Check {
        Self::check_open(inst)?;
        if inst.status == InstrumentStatus::Paused {
            return fail(ResultCode::InstrumentPaused);
        }
        if acc.frozen {
            return fail(ResultCode::AccountFrozen);
        }
        if owner.suspended {
            return fail(ResultCode::HolderSuspended);
        }
        self.check_kyc(owner, inst)
    }

    /// The instrument's KYC rule for a holder: verified, and not expired at the block date.
    fn check_kyc(&self, owner: &ParticipantRecord, inst: &InstrumentRecord) -> Check {
        if inst.policy.kyc_required {
            if owner.profile.kyc.status != KycStatus::Verified {
                return fail(ResultCode::KycNotVerified);
            }
            if owner.profile.kyc.expires_on <= self.time.date() {
                return fail(ResultCode::KycExpired);
            }
        }
        Ok(())
    }

    /// The instrument exists for movement: issued, and its register not closed for a
    /// payment to holders of record.
    pub fn check_open(inst: &InstrumentRecord) -> Check {
        if inst.status == InstrumentStatus::Announced {
            return fail(ResultCode::InstrumentNotIssued);
        }
        if inst.book_closed {
            return fail(ResultCode::BookClosed);
        }
        Ok(())
    }

    /// An investor's eligibility under the instrument's policy: KYC, jurisdiction and
    /// investor class (checked when bidding for a security not issued yet).
    pub fn check_investor(&self, owner: &ParticipantRecord, inst: &InstrumentRecord) -> Check {
        self.check_kyc(owner, inst)?;
        Self::check_placement(owner, inst)
    }

    fn check_placement(owner: &ParticipantRecord, inst: &InstrumentRecord) -> Check {
        let policy = &inst.policy;
        if !policy.allowed_jurisdictions.is_empty()
            && !policy
                .allowed_jurisdictions
                .contains(&owner.profile.jurisdiction)
        {
            return fail(ResultCode::JurisdictionNotAllowed);
        }
        if !policy
            .allowed_investor_classes
            .allows(owner.profile.investor_class)
        {
            return fail(ResultCode::InvestorClassNotAllowed);
        }
        Ok(())
    }

    /// Blocks a supervisor imposes on a holder: a frozen account, a suspended owner.
    pub fn check_supervisory(acc: &AccountRecord, owner: &ParticipantRecord) -> Check {
        if acc.frozen {
            return fail(ResultCode::AccountFrozen);
        }
        if owner.suspended {
            return fail(ResultCode::HolderSuspended);
        }
        Ok(())
    }

    /// Rules on the debited side: pause, freeze, suspension, KYC, lock-up.
    pub fn check_debit(
        &self,
        acc: &AccountRecord,
        owner: &ParticipantRecord,
        inst: &InstrumentRecord,
    ) -> Check {
        self.check_holder(acc, owner, inst)?;
        if inst
            .policy
            .lockup_until
            .is_some_and(|until| self.time < until)
        {
            return fail(ResultCode::LockedUp);
        }
        Ok(())
    }

    /// Rules on the credited side: pause, freeze, suspension, KYC, jurisdiction,
    /// investor class, maximum balance, maximum holder count.
    pub fn check_credit(
        &self,
        acc: &AccountRecord,
        owner: &ParticipantRecord,
        inst: &InstrumentRecord,
        balance_after: Amount,
        holders_after: u64,
    ) -> Check {
        self.check_holder(acc, owner, inst)?;
        Self::check_placement(owner, inst)?;
        let policy = &inst.policy;
        if policy
            .max_balance_per_holder
            .is_some_and(|max| balance_after > max)
        {
            return fail(ResultCode::MaxBalanceExceeded);
        }
        // Only a credit that adds a holder can breach the cap: after a policy lowers it,
        // existing holders may still receive.
        if holders_after > inst.holder_count
            && policy.max_holders.is_some_and(|max| holders_after > max)
        {
            return fail(ResultCode::MaxHoldersExceeded);
        }
        Ok(())
    }

    // ---- movement -------------------------------------------------------------------

    /// Checks an amount against an instrument: non-zero and a multiple of its increment.
    pub fn check_amount(inst: &InstrumentRecord, amount: Amount) -> Check {
        if amount == 0 {
            return fail(ResultCode::ZeroAmount);
        }
        if !amount.is_multiple_of(inst.min_increment) {
            return fail(ResultCode::NotMultipleOfIncrement);
        }
        Ok(())
    }

    /// Moves `leg.amount` from `leg.from` to `leg.to`, with every check, or changes nothing.
    pub fn move_units(&mut self, leg: &Leg, debit: Debit, kind: MoveKind) -> Check {
        if leg.amount == 0 {
            return fail(ResultCode::ZeroAmount);
        }
        if leg.from == leg.to {
            return fail(ResultCode::SameAccount);
        }
        let from_acc = self.account(leg.from)?;
        let to_acc = self.account(leg.to)?;
        let mut inst = self.instrument(leg.instrument)?;
        Self::check_amount(&inst, leg.amount)?;
        let from_owner = self.participant(&from_acc.owner)?;
        let to_owner = self.participant(&to_acc.owner)?;
        let mut from_h = self.holding(leg.from, leg.instrument);
        let mut to_h = self.holding(leg.to, leg.instrument);

        match debit {
            Debit::Available => self.check_debit(&from_acc, &from_owner, &inst)?,
            // Held units passed the debit rules when they were locked. Only blocks a
            // supervisor imposes since then (freeze, suspension) stop them: an issuer's
            // later pause or lock-up must not strand a hash-locked swap whose preimage
            // the release reveals.
            Debit::Held | Debit::HoldRelease => Self::check_supervisory(&from_acc, &from_owner)?,
            Debit::Ordered => {}
        }
        let (from_before, to_before) = (from_h.balance, to_h.balance);
        let from_exits = from_h.balance == leg.amount;
        let to_enters = to_h.balance == 0;
        let holders_after = inst.holder_count - u64::from(from_exits) + u64::from(to_enters);
        let to_after = to_h
            .balance
            .checked_add(leg.amount)
            .ok_or(ResultCode::Overflow)?;
        if debit == Debit::HoldRelease {
            // The beneficiary passed every credit rule when the hold was placed; since then
            // only a supervisor's freeze or suspension may stop the release (a hash-locked
            // release reveals its preimage, so it must not fail for anything less).
            Self::check_supervisory(&to_acc, &to_owner)?;
        } else {
            self.check_credit(&to_acc, &to_owner, &inst, to_after, holders_after)?;
        }
        if inst.status == InstrumentStatus::Matured {
            return fail(ResultCode::InstrumentMatured);
        }
        // Held units skip the holder checks above; a closed register stops them too.
        Self::check_open(&inst)?;

        match debit {
            Debit::Available => {
                if from_h.available() < leg.amount {
                    return fail(ResultCode::InsufficientBalance);
                }
            }
            Debit::Held | Debit::HoldRelease => {
                // The caller guarantees these units were held for this very movement.
                assert!(
                    from_h.held >= leg.amount && from_h.balance >= leg.amount,
                    "held units missing"
                );
                from_h.held -= leg.amount;
            }
            Debit::Ordered => {
                if from_h.balance < leg.amount {
                    return fail(ResultCode::InsufficientBalance);
                }
                if from_h.balance - from_h.held < leg.amount {
                    return fail(ResultCode::AmountLocked);
                }
                // Free units go first, then frozen ones.
                let free = from_h.available();
                from_h.frozen -= leg.amount.saturating_sub(free);
            }
        }
        from_h.balance -= leg.amount;
        to_h.balance = to_after;
        self.put_holding(leg.from, leg.instrument, from_before, &from_h);
        self.put_holding(leg.to, leg.instrument, to_before, &to_h);
        if from_exits || to_enters {
            inst.holder_count = holders_after;
            self.put_instrument(leg.instrument, &inst);
        }
        self.events.push(Event::Moved {
            kind,
            from: Some(leg.from),
            to: Some(leg.to),
            instrument: leg.instrument,
            amount: leg.amount,
        });
        Ok(())
    }

    /// Locks `leg.amount` in `leg.from` for a later movement, checking the debit side now.
    pub fn hold_units(&mut self, leg: &Leg) -> Check {
        let acc = self.account(leg.from)?;
        let inst = self.instrument(leg.instrument)?;
        Self::check_amount(&inst, leg.amount)?;
        let owner = self.participant(&acc.owner)?;
        self.check_debit(&acc, &owner, &inst)?;
        if inst.status == InstrumentStatus::Matured {
            return fail(ResultCode::InstrumentMatured);
        }
        let mut h = self.holding(leg.from, leg.instrument);
        if h.available() < leg.amount {
            return fail(ResultCode::InsufficientBalance);
        }
        h.held += leg.amount;
        self.put_holding(leg.from, leg.instrument, h.balance, &h);
        Ok(())
    }

    /// Releases units locked by [Ctx::hold_units] without moving them. Units of a matured
    /// instrument were redeemed and burned, locked ones included: nothing is left to
    /// release.
    pub fn unhold_units(&mut self, leg: &Leg) {
        if self
            .instrument(leg.instrument)
            .is_ok_and(|i| i.status == InstrumentStatus::Matured)
        {
            return;
        }
        let mut h = self.holding(leg.from, leg.instrument);
        assert!(h.held >= leg.amount, "releasing more than is held");
        h.held -= leg.amount;
        self.put_holding(leg.from, leg.instrument, h.balance, &h);
    }

    /// Checks the credit side of `leg` without moving anything (used when placing a hold,
    /// so a swap fails up front rather than at release).
    pub fn precheck_credit(&self, leg: &Leg) -> Check {
        let to_acc = self.account(leg.to)?;
        let inst = self.instrument(leg.instrument)?;
        let to_owner = self.participant(&to_acc.owner)?;
        let to_h = self.holding(leg.to, leg.instrument);
        let to_after = to_h
            .balance
            .checked_add(leg.amount)
            .ok_or(ResultCode::Overflow)?;
        // As in [Ctx::move_units]: a payer moving its whole position leaves a holder slot.
        let from_h = self.holding(leg.from, leg.instrument);
        let from_exits = from_h.balance != 0 && from_h.balance == leg.amount;
        let holders_after =
            inst.holder_count - u64::from(from_exits) + u64::from(to_h.balance == 0);
        self.check_credit(&to_acc, &to_owner, &inst, to_after, holders_after)
    }

    /// Validates legs: non-empty, each non-zero and between two different accounts, and
    /// no account pair and instrument repeated.
    pub fn check_legs(legs: &[Leg]) -> Check {
        if legs.is_empty() || legs.iter().any(|l| l.from == l.to) {
            return fail(ResultCode::InvalidLegs);
        }
        let mut pairs: Vec<_> = legs.iter().map(|l| (l.from, l.to, l.instrument)).collect();
        pairs.sort();
        if pairs.windows(2).any(|w| w[0] == w[1]) {
            return fail(ResultCode::InvalidLegs);
        }
        if legs.iter().any(|l| l.amount == 0) {
            return fail(ResultCode::ZeroAmount);
        }
        Ok(())
    }

    /// The distinct owners of the debited accounts of `legs`, ascending.
    pub fn payers(&self, legs: &[Leg]) -> Result<Vec<Lei>, ResultCode> {
        let mut payers = Vec::new();
        for leg in legs {
            payers.push(self.account(leg.from)?.owner);
            self.account(leg.to)?;
        }
        payers.sort();
        payers.dedup();
        Ok(payers)
    }

    // ---- dispatch -------------------------------------------------------------------

    /// Executes one operation.
    pub fn execute(&mut self, op: &Operation) -> Check {
        use Operation as O;
        match op {
            O::RegisterParticipant(p) => self.register_participant(p),
            O::UpdateParticipant(p) => self.update_participant(p),
            O::SuspendParticipant(p) => self.suspend_participant(p),
            O::ReinstateParticipant(p) => self.reinstate_participant(p),
            O::AddKey(p) => self.add_key(p),
            O::RotateKey(p) => self.rotate_key(p),
            O::RemoveKey(p) => self.remove_key(p),
            O::SetThresholds(p) => self.set_thresholds(p),
            O::OpenAccount(p) => self.open_account(p),
            O::FreezeAccount(p) => self.freeze_account(p),
            O::UnfreezeAccount(p) => self.unfreeze_account(p),
            O::CreateInstrument(p) => self.create_instrument(p),
            O::UpdatePolicy(p) => self.update_policy(p),
            O::PauseInstrument(p) => self.set_paused(p.instrument, true),
            O::UnpauseInstrument(p) => self.set_paused(p.instrument, false),
            O::Mint(p) => self.mint(p),
            O::Burn(p) => self.burn(p),
            O::Transfer(p) => self.transfer(p),
            O::Settle(p) => self.settle(p),
            O::Instruct(p) => self.instruct(p),
            O::CancelInstruction(p) => self.cancel_instruction(p),
            O::PlaceHold(p) => self.place_hold(p),
            O::ReleaseHold(p) => self.release_hold(p),
            O::RefundHold(p) => self.refund_hold(p),
            O::FreezeHolding(p) => self.freeze_holding(p),
            O::UnfreezeHolding(p) => self.unfreeze_holding(p),
            O::ForcedTransfer(p) => self.forced_transfer(p),
            O::RecoverAccount(p) => self.recover_account(p),
            O::AnnounceAuction(p) => self.announce_auction(p),
            O::SubmitBid(p) => self.submit_bid(p),
            O::WithdrawBid(p) => self.withdraw_bid(p),
            O::CancelAuction(p) => self.cancel_auction(p),
            O::SetServicing(p) => self.set_servicing(p),
            O::ClaimEntitlement(p) => self.claim_entitlement(p),
            O::EnableStrips(p) => self.enable_strips(p),
            O::Strip(p) => self.strip(p),
            O::Reconstitute(p) => self.reconstitute(p),
            O::OpenRepo(p) => self.open_repo(p),
            O::CloseRepo(p) => self.close_repo(p),
            O::SubstituteCollateral(p) => self.substitute_collateral(p),
            O::PublishNav(p) => self.publish_nav(p),
            O::DeclareDividend(p) => self.declare_dividend(p),
            O::RegisterRemoteLedger(p) => self.register_remote_ledger(p),
            O::SuspendRemoteLedger(p) => self.suspend_remote_ledger(p),
            O::ResumeRemoteLedger(p) => self.resume_remote_ledger(p),
            O::LockCrossLedger(p) => self.lock_cross_ledger(p),
            O::ProveCrossLedger(p) => self.prove_cross_ledger(p),
            O::TransferBatch(p) => self.transfer_batch(p),
        }
    }
}
