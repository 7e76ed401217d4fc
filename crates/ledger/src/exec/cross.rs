//! Cross-ledger swaps (docs/interop.md): a hold on this ledger whose counterpart is a hold
//! on a registered remote ledger, locked, released and refunded against Merkle proofs of
//! the counterpart's record in that ledger's certified state.
//!
//! The proofs were checked before execution (certificate and Merkle path, by the node's
//! verifier); here the ledger checks that they speak for the registered network and for
//! this swap, and decides what the counterpart's proven state allows:
//! - leader: released against a proof that its follower is held for it, before the
//!   deadline; refunded by time after it (`RefundHold`), as any hold;
//! - follower: locked against a proof that its leader is held for it; released against a
//!   proof that the leader was released; refunded against a proof that the leader was
//!   refunded, or was still held at a certified time at or past its deadline.

use super::{Check, Ctx, Debit, Level, fail};
use crate::events::{Event, MoveKind};
use crate::schema::{HoldRecord, RemoteLedgerRecord, keys};
use crate::store::Store;
use commonware_codec::DecodeExt as _;
use tally_types::limits::MAX_INSTRUCTION_TTL_MS;
use tally_types::model::{CrossRole, HoldStatus, Leg};
use tally_types::ops::{LockCrossLedger, ProveCrossLedger};
use tally_types::remote::{CrossLeg, ProvenHeader, RemoteLeg, RemoteProof};
use tally_types::{ChainId, HoldId, ResultCode};

impl<S: Store + ?Sized> Ctx<'_, S> {
    /// A registered remote ledger whose proofs are accepted now.
    fn usable_remote(&self, chain: &ChainId) -> Result<RemoteLedgerRecord, ResultCode> {
        let rec = self.remote_ledger(chain)?;
        if rec.suspended {
            return fail(ResultCode::RemoteLedgerSuspended);
        }
        Ok(rec)
    }

    /// Checks that `proof` shows the counterpart of the local hold `id` (leg `leg`, side
    /// `cross`) in the registered remote ledger's certified state, and returns what the
    /// verification step established about its block with the counterpart's record.
    fn proven_counterpart(
        &self,
        id: HoldId,
        leg: &Leg,
        cross: &CrossLeg,
        proof: &RemoteProof,
    ) -> Result<(ProvenHeader, HoldRecord), ResultCode> {
        let own = self.chain.expect("transactions execute with the chain id");
        let header = self.proven.ok_or(ResultCode::RemoteProofUnchecked)?;
        let counterpart = &cross.counterpart;
        if proof.chain != counterpart.chain {
            return fail(ResultCode::RemoteKeyMismatch);
        }
        let registered = self.usable_remote(&proof.chain)?;
        if registered.group_key != proof.group_key || registered.namespace != proof.namespace {
            return fail(ResultCode::RemoteKeyMismatch);
        }
        if &proof.key[..] != keys::hold(counterpart.hold).as_slice() {
            return fail(ResultCode::RemoteRecordMismatch);
        }
        // Bytes of another network's state: decoded fallibly, never with schema::decode.
        let remote = HoldRecord::decode(commonware_codec::Copying(&proof.value[..]))
            .map_err(|_| ResultCode::RemoteRecordMismatch)?;
        // The counterpart pays what this hold's payer expects, where it expects it...
        let pays = remote.leg.to == counterpart.payee
            && remote.leg.instrument == counterpart.instrument
            && remote.leg.amount == counterpart.amount;
        // ...and names this hold, on this ledger, with this hold's terms, from the other
        // side: both holds describe the same swap.
        let mirror = RemoteLeg {
            chain: own.clone(),
            hold: id,
            payee: leg.to,
            instrument: leg.instrument,
            amount: leg.amount,
        };
        let names_us = remote
            .cross
            .as_ref()
            .is_some_and(|c| c.role != cross.role && c.counterpart == mirror);
        if !pays || !names_us {
            return fail(ResultCode::RemoteRecordMismatch);
        }
        Ok((header, remote))
    }

    pub(crate) fn lock_cross_ledger(&mut self, op: &LockCrossLedger) -> Check {
        let payer = self.account(op.leg.from)?.owner;
        self.authorize(&payer, Level::Act)?;
        if op.leg.from == op.leg.to {
            return fail(ResultCode::SameAccount);
        }
        let own = self.chain.expect("transactions execute with the chain id");
        let malformed = op.counterpart.chain == *own
            || op.counterpart.amount == 0
            || match op.role {
                CrossRole::Leader => op.proof.is_some(),
                CrossRole::Follower => op.proof.is_none(),
            };
        if malformed {
            return fail(ResultCode::InvalidCrossLedgerTerms);
        }
        // The leader's deadline is on this ledger's clock; a follower repeats it (checked
        // against the proven leader below), and never refunds by it.
        if op.role == CrossRole::Leader
            && (op.deadline <= self.time || op.deadline > self.time.plus_ms(MAX_INSTRUCTION_TTL_MS))
        {
            return fail(ResultCode::InvalidDeadline);
        }
        if self.hold_record(op.hold).is_ok() {
            return fail(ResultCode::HoldExists);
        }
        self.usable_remote(&op.counterpart.chain)?;
        let inst = self.instrument(op.leg.instrument)?;
        Self::check_amount(&inst, op.leg.amount)?;
        let cross = CrossLeg {
            role: op.role,
            counterpart: op.counterpart.clone(),
        };
        if let Some(proof) = &op.proof {
            let (header, leader) = self.proven_counterpart(op.hold, &op.leg, &cross, proof)?;
            // A lock is worth placing only while the leader can still be released.
            if leader.status != HoldStatus::Held || header.time >= leader.deadline {
                return fail(ResultCode::RemoteOutcomeUnproven);
            }
            if leader.deadline != op.deadline {
                return fail(ResultCode::InvalidCrossLedgerTerms);
            }
        }
        self.precheck_credit(&op.leg)?;
        self.hold_units(&op.leg)?;
        let rec = HoldRecord {
            leg: op.leg,
            hash_lock: None,
            deadline: op.deadline,
            status: HoldStatus::Held,
            cross: Some(cross),
        };
        self.st
            .put(keys::hold(op.hold), crate::schema::encode(&rec));
        self.events.push(Event::HoldPlaced(op.hold));
        Ok(())
    }

    pub(crate) fn prove_cross_ledger(&mut self, op: &ProveCrossLedger) -> Check {
        let rec = self.hold_record(op.hold)?;
        let Some(cross) = rec.cross.clone() else {
            return fail(ResultCode::NotCrossLedgerHold);
        };
        // A replayed proof finds the hold closed: an outcome is written once.
        if rec.status != HoldStatus::Held {
            return fail(ResultCode::HoldClosed);
        }
        let (header, remote) = self.proven_counterpart(op.hold, &rec.leg, &cross, &op.proof)?;
        let release = match (cross.role, remote.status) {
            // The follower is locked for this swap: the leader pays, while it may.
            (CrossRole::Leader, HoldStatus::Held) => {
                if self.time >= rec.deadline {
                    return fail(ResultCode::HoldExpired);
                }
                true
            }
            (CrossRole::Leader, _) => return fail(ResultCode::RemoteOutcomeUnproven),
            // The leader paid this hold's payer: the follower pays.
            (CrossRole::Follower, HoldStatus::Released) => true,
            // The leader was refunded, or can no longer be released (held at a certified
            // time at or past its deadline, and a release after the deadline is refused
            // there): the follower refunds.
            (CrossRole::Follower, HoldStatus::Refunded) => false,
            (CrossRole::Follower, HoldStatus::Held) if header.time >= remote.deadline => false,
            (CrossRole::Follower, HoldStatus::Held) => {
                return fail(ResultCode::RemoteOutcomeUnproven);
            }
        };
        if release {
            self.move_units(&rec.leg, Debit::HoldRelease, MoveKind::HoldRelease)?;
            self.close_hold(op.hold, rec, HoldStatus::Released);
            self.events.push(Event::HoldReleased(op.hold));
        } else {
            self.unhold_units(&rec.leg);
            self.close_hold(op.hold, rec, HoldStatus::Refunded);
            self.events.push(Event::HoldRefunded(op.hold));
        }
        Ok(())
    }
}
