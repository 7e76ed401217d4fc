//! Institution batches: many transfers under one signature, each with its own outcome;
//! a linked chain applies all or none (as TigerBeetle's linked events).

use super::{Check, Ctx, Debit, Level, fail};
use crate::events::MoveKind;
use crate::schema::{BatchFailure, BatchResult};
use crate::store::Store;
use std::collections::BTreeMap;
use tally_types::codec::BoundedVec;
use tally_types::model::Leg;
use tally_types::ops::TransferBatch;
use tally_types::{Lei, ResultCode};

impl<S: Store + ?Sized> Ctx<'_, S> {
    /// Applies every transfer it can, in order, and records the outcome of each in
    /// [Ctx::batch]. Only an empty batch refuses the operation as a whole.
    pub(crate) fn transfer_batch(&mut self, op: &TransferBatch) -> Check {
        let transfers = &op.transfers;
        if transfers.is_empty() {
            return fail(ResultCode::InvalidBatch);
        }
        let count = u16::try_from(transfers.len()).expect("MAX_BATCH_TRANSFERS fits in u16");
        // Whether each debited owner approved at its threshold, looked up once per owner:
        // no transfer changes a participant's keys, thresholds or suspension.
        let mut approved: BTreeMap<Lei, Check> = BTreeMap::new();
        let mut failures: Vec<BatchFailure> = Vec::new();
        let mut fail_at = |index: usize, code: ResultCode| {
            debug_assert_ne!(code, ResultCode::Ok);
            failures.push(BatchFailure {
                index: u16::try_from(index).expect("index below the batch length"),
                code: code.code(),
            });
        };
        let mut start = 0;
        while start < transfers.len() {
            // The chain: linked transfers up to and including the first unlinked one.
            let Some(end) = (start..transfers.len()).find(|&i| !transfers[i].linked) else {
                for i in start..transfers.len() {
                    fail_at(i, ResultCode::LinkedChainOpen);
                }
                break;
            };
            if start == end {
                // A lone transfer changes nothing when it fails: no savepoint needed.
                if let Err(code) = self.batch_transfer(&transfers[start].leg, &mut approved) {
                    fail_at(start, code);
                }
            } else {
                self.st.savepoint();
                let events = self.events.len();
                let failed = (start..=end).find_map(|i| {
                    self.batch_transfer(&transfers[i].leg, &mut approved)
                        .err()
                        .map(|code| (i, code))
                });
                match failed {
                    None => self.st.release(),
                    Some((at, code)) => {
                        self.st.rollback();
                        self.events.truncate(events);
                        for i in start..=end {
                            fail_at(
                                i,
                                if i == at {
                                    code
                                } else {
                                    ResultCode::LinkedChainFailed
                                },
                            );
                        }
                    }
                }
            }
            start = end + 1;
        }
        assert!(
            failures.windows(2).all(|w| w[0].index < w[1].index),
            "batch failures out of order"
        );
        assert!(failures.len() <= transfers.len());
        self.batch = Some(BatchResult {
            transfers: count,
            failures: BoundedVec::new(failures).expect("at most one failure per transfer"),
        });
        Ok(())
    }

    /// One transfer of a batch: its debited owner approved, then the movement with every
    /// check ([Ctx::move_units] changes nothing when it refuses).
    fn batch_transfer(&mut self, leg: &Leg, approved: &mut BTreeMap<Lei, Check>) -> Check {
        let from = self.account(leg.from)?;
        let verdict = match approved.get(&from.owner) {
            Some(verdict) => *verdict,
            None => {
                let verdict = self.authorize(&from.owner, Level::Act);
                approved.insert(from.owner, verdict);
                verdict
            }
        };
        verdict?;
        self.move_units(leg, Debit::Available, MoveKind::Transfer)
    }
}
