//! Participants, their keys, and accounts.

use super::{Check, Ctx, Level, fail};
use crate::events::Event;
use crate::schema::{self, AccountRecord, KeyBytes, ParticipantRecord, StoredKey, keys};
use crate::store::Store;
use tally_types::codec::BoundedVec;
use tally_types::limits::MAX_KEYS_PER_PARTICIPANT;
use tally_types::model::Role;
use tally_types::ops::*;
use tally_types::{Lei, PublicKey, ResultCode};

const OPERATOR: &[Role] = &[Role::Operator];
const SUPERVISORS: &[Role] = &[Role::Operator, Role::Regulator];

/// Thresholds must be at least 1 and reachable by the keys' total weight.
fn check_thresholds(weights: &[u16], threshold: u16, admin_threshold: u16) -> Check {
    if weights.is_empty() || weights.contains(&0) {
        return fail(ResultCode::InvalidKeys);
    }
    let total: u32 = weights.iter().map(|w| u32::from(*w)).sum();
    if threshold == 0 || admin_threshold == 0 || u32::from(threshold.max(admin_threshold)) > total {
        return fail(ResultCode::InvalidThreshold);
    }
    Ok(())
}

impl<S: Store + ?Sized> Ctx<'_, S> {
    pub(crate) fn key_owner(&self, key: &PublicKey) -> Option<Lei> {
        self.st
            .get(&keys::key_owner(key))
            .map(|b| schema::decode(&b))
    }

    fn set_keys(&mut self, lei: &Lei, rec: &mut ParticipantRecord, keys: Vec<StoredKey>) -> Check {
        if keys.len() > MAX_KEYS_PER_PARTICIPANT {
            return fail(ResultCode::InvalidKeys);
        }
        let weights: Vec<u16> = keys.iter().map(|k| k.weight).collect();
        check_thresholds(&weights, rec.threshold, rec.admin_threshold)?;
        rec.keys = BoundedVec::new(keys).ok_or(ResultCode::InvalidKeys)?;
        self.put_participant(lei, rec);
        Ok(())
    }

    fn claim_key(&mut self, lei: &Lei, key: &PublicKey) -> Check {
        if !tally_types::tx::is_strong_key(key) {
            return fail(ResultCode::InvalidKeys);
        }
        // Proof of possession: whoever registers a key must hold it, so nobody can claim
        // someone else's key first, or register a key they cannot sign with.
        if !self.genesis && !self.signers.contains(&KeyBytes::from(key)) {
            return fail(ResultCode::KeyNotApproved);
        }
        if self.key_owner(key).is_some() {
            return fail(ResultCode::KeyInUse);
        }
        self.st.put(keys::key_owner(key), schema::encode(lei));
        self.events.push(Event::KeyAdded(*lei, key.clone()));
        Ok(())
    }

    fn release_key(&mut self, lei: &Lei, key: &PublicKey) {
        self.st.delete(&keys::key_owner(key));
        self.events.push(Event::KeyRemoved(*lei, key.clone()));
    }

    /// A participant changes its own keys at its admin threshold; anyone else's keys change
    /// only under dual control: an operator at its admin threshold and a regulator that is
    /// a different participant.
    fn authorize_keys_change(&self, lei: &Lei) -> Check {
        let own = self.authorize(lei, Level::Admin);
        if own.is_ok() {
            return own;
        }
        match self.authorize_dual_control() {
            Err(ResultCode::Unauthorized) => own,
            other => other,
        }
    }

    pub(crate) fn register_participant(&mut self, op: &RegisterParticipant) -> Check {
        self.authorize_role(OPERATOR, Level::Admin)?;
        if op.profile.roles.is_empty() {
            return fail(ResultCode::InvalidRoles);
        }
        // The operator role is granted at genesis only.
        if !self.genesis && op.profile.roles.has(Role::Operator) {
            return fail(ResultCode::InvalidRoles);
        }
        let mut sorted: Vec<&PublicKey> = op.keys.iter().map(|k| &k.key).collect();
        sorted.sort();
        if sorted.windows(2).any(|w| w[0] == w[1]) {
            return fail(ResultCode::InvalidKeys);
        }
        let weights: Vec<u16> = op.keys.iter().map(|k| k.weight).collect();
        check_thresholds(&weights, op.threshold, op.admin_threshold)?;
        if self.participant(&op.lei).is_ok() {
            return fail(ResultCode::ParticipantExists);
        }
        for k in op.keys.iter() {
            self.claim_key(&op.lei, &k.key)?;
        }
        let rec = ParticipantRecord {
            profile: op.profile.clone(),
            keys: BoundedVec::new(op.keys.iter().map(StoredKey::from).collect())
                .ok_or(ResultCode::InvalidKeys)?,
            threshold: op.threshold,
            admin_threshold: op.admin_threshold,
            suspended: false,
        };
        self.put_participant(&op.lei, &rec);
        self.events.push(Event::ParticipantRegistered(op.lei));
        Ok(())
    }

    pub(crate) fn update_participant(&mut self, op: &UpdateParticipant) -> Check {
        self.authorize_role(OPERATOR, Level::Admin)?;
        if op.profile.roles.is_empty() {
            return fail(ResultCode::InvalidRoles);
        }
        let mut rec = self.participant(&op.lei)?;
        // The operator role is granted at genesis only and never taken away (the network
        // must keep an operator): an update keeps it exactly as it was.
        let (was_op, is_op) = (
            rec.profile.roles.has(Role::Operator),
            op.profile.roles.has(Role::Operator),
        );
        if !self.genesis && was_op != is_op {
            return fail(ResultCode::InvalidRoles);
        }
        // Supervisory read and act powers are granted under dual control: a regulator
        // must approve too.
        let grants_supervision = [Role::Regulator, Role::Auditor]
            .iter()
            .any(|r| op.profile.roles.has(*r) && !rec.profile.roles.has(*r));
        if grants_supervision && !self.genesis {
            self.authorize_dual_control()?;
        }
        rec.profile = op.profile.clone();
        self.put_participant(&op.lei, &rec);
        self.events.push(Event::ParticipantUpdated(op.lei));
        Ok(())
    }

    pub(crate) fn suspend_participant(&mut self, op: &SuspendParticipant) -> Check {
        self.authorize_role(SUPERVISORS, Level::Act)?;
        let mut rec = self.participant(&op.lei)?;
        // Suspending an operator could leave the network without one; that takes a
        // change of roles by another operator first.
        if rec.profile.roles.has(Role::Operator) {
            return fail(ResultCode::InvalidRoles);
        }
        rec.suspended = true;
        self.put_participant(&op.lei, &rec);
        self.events
            .push(Event::ParticipantSuspended(op.lei, op.reason));
        Ok(())
    }

    pub(crate) fn reinstate_participant(&mut self, op: &ReinstateParticipant) -> Check {
        self.authorize_role(SUPERVISORS, Level::Act)?;
        let mut rec = self.participant(&op.lei)?;
        rec.suspended = false;
        self.put_participant(&op.lei, &rec);
        self.events.push(Event::ParticipantReinstated(op.lei));
        Ok(())
    }

    pub(crate) fn add_key(&mut self, op: &AddKey) -> Check {
        self.authorize_keys_change(&op.lei)?;
        if op.key.weight == 0 {
            return fail(ResultCode::InvalidKeys);
        }
        let mut rec = self.participant(&op.lei)?;
        let mut keys = rec.keys.to_vec();
        keys.push(StoredKey::from(&op.key));
        if keys.len() > MAX_KEYS_PER_PARTICIPANT {
            return fail(ResultCode::InvalidKeys);
        }
        self.claim_key(&op.lei, &op.key.key)?;
        self.set_keys(&op.lei, &mut rec, keys)
    }

    pub(crate) fn rotate_key(&mut self, op: &RotateKey) -> Check {
        self.authorize_keys_change(&op.lei)?;
        let mut rec = self.participant(&op.lei)?;
        let mut keys = rec.keys.to_vec();
        let Some(slot) = keys.iter_mut().find(|k| k.key == op.old) else {
            return fail(ResultCode::KeyNotFound);
        };
        slot.key = KeyBytes::from(&op.new);
        self.claim_key(&op.lei, &op.new)?;
        self.release_key(&op.lei, &op.old);
        self.set_keys(&op.lei, &mut rec, keys)
    }

    pub(crate) fn remove_key(&mut self, op: &RemoveKey) -> Check {
        self.authorize_keys_change(&op.lei)?;
        let mut rec = self.participant(&op.lei)?;
        let mut keys = rec.keys.to_vec();
        let before = keys.len();
        keys.retain(|k| k.key != op.key);
        if keys.len() == before {
            return fail(ResultCode::KeyNotFound);
        }
        self.set_keys(&op.lei, &mut rec, keys)?;
        self.release_key(&op.lei, &op.key);
        Ok(())
    }

    pub(crate) fn set_thresholds(&mut self, op: &SetThresholds) -> Check {
        self.authorize_keys_change(&op.lei)?;
        let mut rec = self.participant(&op.lei)?;
        let weights: Vec<u16> = rec.keys.iter().map(|k| k.weight).collect();
        check_thresholds(&weights, op.threshold, op.admin_threshold)?;
        rec.threshold = op.threshold;
        rec.admin_threshold = op.admin_threshold;
        self.put_participant(&op.lei, &rec);
        self.events.push(Event::ThresholdsChanged(op.lei));
        Ok(())
    }

    pub(crate) fn open_account(&mut self, op: &OpenAccount) -> Check {
        self.authorize_self_or_role(&op.owner, Level::Act, OPERATOR)?;
        let owner = self.participant(&op.owner)?;
        if self.account(op.account).is_ok() {
            return fail(ResultCode::AccountExists);
        }
        if owner.suspended {
            return fail(ResultCode::HolderSuspended);
        }
        let rec = AccountRecord {
            owner: op.owner,
            kind: op.kind,
            frozen: false,
        };
        self.put_account(op.account, &rec);
        self.st
            .put(keys::account_by_owner(&op.owner, op.account), Vec::new());
        self.events
            .push(Event::AccountOpened(op.account, op.owner, op.kind));
        Ok(())
    }

    pub(crate) fn freeze_account(&mut self, op: &FreezeAccount) -> Check {
        self.authorize_role(SUPERVISORS, Level::Act)?;
        let mut rec = self.account(op.account)?;
        rec.frozen = true;
        self.put_account(op.account, &rec);
        self.events
            .push(Event::AccountFrozen(op.account, op.reason));
        Ok(())
    }

    pub(crate) fn unfreeze_account(&mut self, op: &UnfreezeAccount) -> Check {
        self.authorize_role(SUPERVISORS, Level::Act)?;
        let mut rec = self.account(op.account)?;
        rec.frozen = false;
        self.put_account(op.account, &rec);
        self.events.push(Event::AccountUnfrozen(op.account));
        Ok(())
    }
}
