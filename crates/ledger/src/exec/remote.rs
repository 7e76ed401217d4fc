//! Remote ledgers: other networks whose finality certificates this ledger verifies (by
//! chain id, group key, scheme and namespace). Registration and resumption are
//! dual-controlled; suspension is a brake any supervisor may pull alone.

use super::{Check, Ctx, Level, fail};
use crate::events::Event;
use crate::schema::{self, RemoteLedgerRecord, keys};
use crate::store::Store;
use tally_types::model::Role;
use tally_types::ops::{RegisterRemoteLedger, ResumeRemoteLedger, SuspendRemoteLedger};
use tally_types::{ChainId, ResultCode};

impl<S: Store + ?Sized> Ctx<'_, S> {
    pub(crate) fn remote_ledger(&self, chain: &ChainId) -> Result<RemoteLedgerRecord, ResultCode> {
        self.st
            .get(&keys::remote_ledger(chain))
            .map(|b| schema::decode(&b))
            .ok_or(ResultCode::RemoteLedgerNotFound)
    }

    fn put_remote_ledger(&mut self, chain: &ChainId, rec: &RemoteLedgerRecord) {
        self.st.put(keys::remote_ledger(chain), schema::encode(rec));
    }

    pub(crate) fn register_remote_ledger(&mut self, op: &RegisterRemoteLedger) -> Check {
        self.authorize_dual_control()?;
        // A ledger does not register itself: its own finality is not a remote fact.
        if self.chain.is_some_and(|own| *own == op.chain) {
            return fail(ResultCode::InvalidRemoteLedger);
        }
        if op.namespace.as_str().is_empty() || op.name.as_str().is_empty() {
            return fail(ResultCode::InvalidRemoteLedger);
        }
        // The subgroup check is paid here, after signatures and dual control, never by
        // decoding what anyone submits.
        if !op.group_key.is_valid() {
            return fail(ResultCode::InvalidRemoteLedger);
        }
        if self.remote_ledger(&op.chain).is_ok() {
            return fail(ResultCode::RemoteLedgerExists);
        }
        let rec = RemoteLedgerRecord {
            name: op.name.clone(),
            scheme: op.scheme,
            namespace: op.namespace.clone(),
            group_key: op.group_key.clone(),
            suspended: false,
        };
        self.put_remote_ledger(&op.chain, &rec);
        self.events
            .push(Event::RemoteLedgerRegistered(op.chain.clone()));
        Ok(())
    }

    pub(crate) fn suspend_remote_ledger(&mut self, op: &SuspendRemoteLedger) -> Check {
        self.authorize_role(&[Role::Operator, Role::Regulator], Level::Act)?;
        self.set_suspended(&op.chain, true)?;
        self.events
            .push(Event::RemoteLedgerSuspended(op.chain.clone()));
        Ok(())
    }

    pub(crate) fn resume_remote_ledger(&mut self, op: &ResumeRemoteLedger) -> Check {
        self.authorize_dual_control()?;
        self.set_suspended(&op.chain, false)?;
        self.events
            .push(Event::RemoteLedgerResumed(op.chain.clone()));
        Ok(())
    }

    /// Moves a registered remote ledger to `suspended`; refused if it is there already.
    fn set_suspended(&mut self, chain: &ChainId, suspended: bool) -> Check {
        let mut rec = self.remote_ledger(chain)?;
        if rec.suspended == suspended {
            return fail(ResultCode::RemoteLedgerSuspended);
        }
        rec.suspended = suspended;
        self.put_remote_ledger(chain, &rec);
        Ok(())
    }
}
