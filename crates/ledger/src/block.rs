//! Applying blocks: transaction checks, atomic execution, receipts, genesis.

use crate::events::{BlockOutcome, Event, Receipt};
use crate::exec::Ctx;
use crate::schema::{self, KeyBytes, Meta, ReceiptRecord, keys};
use crate::store::{Store, apply_writes};
use tally_types::limits::MAX_TX_TTL_MS;
use tally_types::{ChainId, Operation, ResultCode, Timestamp, VerifiedTx};

/// What consensus says about the block being applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockEnv {
    /// Height: one more than the last applied block.
    pub height: u64,
    /// Block time, never earlier than the last block's.
    pub time: Timestamp,
}

/// A block that cannot follow the current state. Consensus never produces one; the
/// check guards the caller's wiring.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    /// The height is not the next one.
    #[error("block height {got}, expected {expected}")]
    Height {
        /// Height given.
        got: u64,
        /// Height expected.
        expected: u64,
    },
    /// The time runs backwards.
    #[error("block time {got} before previous block time {previous}")]
    Time {
        /// Time given.
        got: Timestamp,
        /// Previous block's time.
        previous: Timestamp,
    },
}

/// A genesis operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("genesis operation {index} failed: {code}")]
pub struct GenesisError {
    /// Index of the operation.
    pub index: usize,
    /// Why.
    pub code: ResultCode,
}

/// The initial state, as a list of operations applied without signatures (there are no
/// keys to sign with yet), all or none.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Genesis {
    /// Genesis time: the time of height 0.
    pub time: Timestamp,
    /// Operations, typically participants, accounts, instruments and mints.
    pub operations: Vec<Operation>,
}

/// The ledger state machine for one chain.
#[derive(Clone, Debug)]
pub struct Ledger {
    chain: ChainId,
    lifecycle_budget: usize,
}

impl Ledger {
    /// A ledger for `chain`. Transactions verified for another chain are refused.
    pub fn new(chain: ChainId) -> Self {
        Self {
            chain,
            lifecycle_budget: tally_types::limits::MAX_LIFECYCLE_WORK_PER_BLOCK,
        }
    }

    /// The same ledger with another per-block lifecycle budget (payments, bids closed or
    /// issued per block). Every validator must use the same value: it is part of the
    /// state machine. Tests use small budgets to cross block boundaries with few holders.
    pub fn with_lifecycle_budget(mut self, budget: usize) -> Self {
        self.lifecycle_budget = budget.max(1);
        self
    }

    /// The chain id.
    pub fn chain(&self) -> &ChainId {
        &self.chain
    }

    /// Writes the genesis state into an empty store.
    pub fn init_genesis<S: Store + ?Sized>(
        &self,
        store: &mut S,
        genesis: &Genesis,
    ) -> Result<(), GenesisError> {
        assert!(
            store.get(&keys::meta()).is_none(),
            "genesis on a non-empty store"
        );
        let mut ctx = Ctx::new(&*store, genesis.time);
        ctx.genesis = true;
        ctx.chain = Some(&self.chain);
        for (index, op) in genesis.operations.iter().enumerate() {
            ctx.execute(op)
                .map_err(|code| GenesisError { index, code })?;
        }
        let writes = ctx.st.into_writes();
        apply_writes(store, writes);
        store.put(
            keys::meta(),
            schema::encode(&Meta {
                height: 0,
                time: genesis.time,
            }),
        );
        Ok(())
    }

    /// The last applied block's height and time.
    pub fn meta<S: Store + ?Sized>(store: &S) -> Meta {
        store
            .get(&keys::meta())
            .map(|b| schema::decode(&b))
            .unwrap_or_default()
    }

    /// Whether lifecycle work is waiting for the next block: a distribution being paid
    /// across blocks, or a scheduled event due at `now`. A proposer should not wait for
    /// transactions while it is.
    pub fn lifecycle_pending<S: Store + ?Sized>(store: &S, now: Timestamp) -> bool {
        let (start, end) = keys::table(schema::tag::ACTIVE_DISTRIBUTION);
        if !store.scan(&start, &end, 1).is_empty() {
            return true;
        }
        let (start, due_end) = keys::schedule_due(now);
        !store.scan(&start, &due_end, 1).is_empty()
    }

    /// Applies a block: lapses due instructions, runs due lifecycle work (auction closes
    /// and issues, coupons, maturities, payments in progress), then each transaction in
    /// order, each atomically, then records every transaction's receipt in the state.
    /// Returns one receipt per transaction.
    pub fn apply_block<S: Store + ?Sized>(
        &self,
        store: &mut S,
        env: BlockEnv,
        txs: &[VerifiedTx],
    ) -> Result<BlockOutcome, BlockError> {
        let meta = Self::meta(store);
        if env.height != meta.height + 1 {
            return Err(BlockError::Height {
                got: env.height,
                expected: meta.height + 1,
            });
        }
        if env.time < meta.time {
            return Err(BlockError::Time {
                got: env.time,
                previous: meta.time,
            });
        }
        let mut ctx = Ctx::new(&*store, env.time);
        ctx.expire_instructions(env.time);
        ctx.run_lifecycle(env.time, self.lifecycle_budget);
        let block_events = ctx.events;
        let writes = ctx.st.into_writes();
        apply_writes(store, writes);

        let receipts: Vec<Receipt> = txs
            .iter()
            .map(|tx| self.apply_tx(store, env.time, tx))
            .collect();
        Self::record_receipts(store, env.height, &receipts);
        store.put(
            keys::meta(),
            schema::encode(&Meta {
                height: env.height,
                time: env.time,
            }),
        );
        Ok(BlockOutcome {
            block_events,
            receipts,
        })
    }

    /// Writes each receipt into the state, in block order. An `Ok` record is final: a
    /// transaction included again after it applied is refused for its nonce, and that
    /// refusal must not hide the original outcome. A rejection is replaced by the outcome
    /// of any later inclusion, since the same signed bytes may apply once what refused
    /// them changes.
    fn record_receipts<S: Store + ?Sized>(store: &mut S, height: u64, receipts: &[Receipt]) {
        for (index, r) in receipts.iter().enumerate() {
            let key = keys::receipt(&r.tx_id);
            let applied_before = store.get(&key).is_some_and(|b| {
                schema::decode::<ReceiptRecord>(&b).result_code() == ResultCode::Ok
            });
            if applied_before {
                continue;
            }
            let index = u32::try_from(index).expect("a block holds fewer than 2^32 transactions");
            let record = ReceiptRecord::new(height, index, r.code, r.failed_op);
            store.put(key, schema::encode(&record));
        }
    }

    fn apply_tx<S: Store + ?Sized>(
        &self,
        store: &mut S,
        time: Timestamp,
        vtx: &VerifiedTx,
    ) -> Receipt {
        assert_eq!(
            vtx.chain(),
            &self.chain,
            "transaction verified for another chain"
        );
        let reject = |code, failed_op| Receipt {
            tx_id: vtx.id(),
            code,
            failed_op,
            events: Vec::new(),
            batch: None,
        };
        let mut ctx = Ctx::new(&*store, time);
        ctx.chain = Some(&self.chain);
        if let Err(code) = Self::check_tx(&mut ctx, vtx) {
            return reject(code, None);
        }
        // A transfer batch is alone in its transaction: its transfers are not atomic
        // together, so no other operation may depend on them.
        let ops = &vtx.tx().operations;
        if ops.len() > 1
            && let Some(i) = ops
                .iter()
                .position(|op| matches!(op, Operation::TransferBatch(_)))
        {
            return reject(ResultCode::InvalidBatch, u16::try_from(i).ok());
        }
        // Each proof-carrying operation gets the verdict on its proof, in order.
        let mut proven = vtx.proven().iter().copied();
        for (i, op) in vtx.tx().operations.iter().enumerate() {
            ctx.proven = op.remote_proof().and_then(|_| proven.next());
            if let Err(code) = ctx.execute(op) {
                return reject(code, u16::try_from(i).ok());
            }
        }
        // check_tx refused a nonce of u64::MAX, so this cannot overflow.
        let next = vtx.tx().nonce + 1;
        ctx.st
            .put(keys::nonce(&vtx.tx().sender), schema::encode(&next));
        let batch = ctx.batch.take();
        if let Some(result) = &batch {
            ctx.st
                .put(keys::batch_result(&vtx.id()), schema::encode(result));
        }
        let events: Vec<Event> = std::mem::take(&mut ctx.events);
        let writes = ctx.st.into_writes();
        apply_writes(store, writes);
        Receipt {
            tx_id: vtx.id(),
            code: ResultCode::Ok,
            failed_op: None,
            events,
            batch,
        }
    }

    /// Transaction-level checks (1xx), in precedence order; fills in who approved.
    fn check_tx<S: Store + ?Sized>(
        ctx: &mut Ctx<'_, S>,
        vtx: &VerifiedTx,
    ) -> Result<(), ResultCode> {
        let tx = vtx.tx();
        if ctx.time > tx.expires_at {
            return Err(ResultCode::TxExpired);
        }
        if tx.expires_at > ctx.time.plus_ms(MAX_TX_TTL_MS) {
            return Err(ResultCode::TxExpiryTooFar);
        }
        let sender = ctx.key_owner(&tx.sender).ok_or(ResultCode::UnknownSender)?;
        let expected: u64 = ctx
            .st
            .get(&keys::nonce(&tx.sender))
            .map(|b| schema::decode(&b))
            .unwrap_or(0);
        if tx.nonce < expected {
            return Err(ResultCode::NonceReused);
        }
        // The last nonce value is never usable: the next one would not exist.
        if tx.nonce > expected || tx.nonce == u64::MAX {
            return Err(ResultCode::NonceGap);
        }
        // A key this transaction registers may sign it (proof of possession) before it
        // is known; any other unknown signer is refused.
        let introduced: std::collections::BTreeSet<KeyBytes> = tx
            .operations
            .iter()
            .flat_map(|op| match op {
                Operation::RegisterParticipant(p) => {
                    p.keys.iter().map(|k| KeyBytes::from(&k.key)).collect()
                }
                Operation::AddKey(p) => vec![KeyBytes::from(&p.key.key)],
                Operation::RotateKey(p) => vec![KeyBytes::from(&p.new)],
                _ => Vec::new(),
            })
            .collect();
        let sender_rec = ctx.participant(&sender).expect("key owner is registered");
        if sender_rec.suspended {
            return Err(ResultCode::ParticipantSuspended);
        }
        for key in vtx.signers() {
            ctx.signers.insert(KeyBytes::from(key));
            let Some(owner) = ctx.key_owner(key) else {
                if introduced.contains(&KeyBytes::from(key)) {
                    continue;
                }
                return Err(ResultCode::UnknownSigner);
            };
            let rec = ctx.participant(&owner).expect("key owner is registered");
            let weight = rec
                .keys
                .iter()
                .find(|k| &k.key == key)
                .map_or(0, |k| u32::from(k.weight));
            *ctx.approvals.entry(owner).or_insert(0) += weight;
        }
        ctx.sender = Some(sender);
        Ok(())
    }
}
