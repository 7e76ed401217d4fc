//! [TxBuilder]: from operations to a signed, submitted, final transaction.
//!
//! The sender's next nonce comes from `GET /key/{key}` (`next_pending_nonce`, which counts
//! the sender's transactions still waiting in that node's mempool). The expiry is
//! [DEFAULT_TTL] after the later of the local clock and the node's last finalized block
//! time, so a client whose clock runs behind the chain still builds a live transaction.

use crate::client::Client;
use crate::error::SdkError;
use crate::types::TxInfo;
use commonware_cryptography::Signer as _;
use std::time::Duration;
use tally_types::codec::BoundedVec;
use tally_types::limits::{MAX_APPROVALS_PER_TX, MAX_OPS_PER_TX};
use tally_types::{Hash32, Operation, PrivateKey, SignedTx, Timestamp, Transaction};

/// How long after "now" a built transaction expires.
pub const DEFAULT_TTL: Duration = Duration::from_secs(10 * 60);
/// How long [TxBuilder::submit_and_wait] waits for finality by default.
pub const DEFAULT_FINALITY_TIMEOUT: Duration = Duration::from_secs(60);

/// A transaction being put together: a sender (whose nonce it uses and who approves it),
/// extra approvers (co-signers a threshold or a proof of possession needs), operations.
pub struct TxBuilder<'a> {
    client: &'a Client,
    sender: PrivateKey,
    approvers: Vec<PrivateKey>,
    ops: Vec<Operation>,
    ttl: Duration,
    nonce: Option<u64>,
}

/// A transaction the node admitted.
#[derive(Clone, Debug)]
pub struct Submission {
    /// Its id (what `GET /tx/{id}` follows).
    pub tx_id: Hash32,
    /// What was sent.
    pub signed: SignedTx,
}

impl<'a> TxBuilder<'a> {
    /// A transaction from `sender`, to submit through `client`.
    pub fn new(client: &'a Client, sender: PrivateKey) -> Self {
        Self {
            client,
            sender,
            approvers: Vec::new(),
            ops: Vec::new(),
            ttl: DEFAULT_TTL,
            nonce: None,
        }
    }

    /// Adds a co-signer.
    pub fn approver(mut self, key: PrivateKey) -> Self {
        self.approvers.push(key);
        self
    }

    /// Adds co-signers.
    pub fn approvers(mut self, keys: impl IntoIterator<Item = PrivateKey>) -> Self {
        self.approvers.extend(keys);
        self
    }

    /// Adds an operation.
    pub fn op(mut self, op: impl Into<Operation>) -> Self {
        self.ops.push(op.into());
        self
    }

    /// Adds operations.
    pub fn ops(mut self, ops: impl IntoIterator<Item = Operation>) -> Self {
        self.ops.extend(ops);
        self
    }

    /// Sets how long after now the transaction expires (at most a day; the node refuses
    /// more).
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Uses this nonce instead of asking the node.
    pub fn nonce(mut self, nonce: u64) -> Self {
        self.nonce = Some(nonce);
        self
    }

    /// Fetches what is missing (chain id, nonce, the node's time) and signs.
    pub fn build(&self) -> Result<SignedTx, SdkError> {
        if self.ops.is_empty() {
            return Err(SdkError::Invalid("a transaction needs an operation".into()));
        }
        if self.ops.len() > MAX_OPS_PER_TX {
            return Err(SdkError::Invalid(format!(
                "{} operations; at most {MAX_OPS_PER_TX} per transaction",
                self.ops.len()
            )));
        }
        if self.approvers.len() + 1 > MAX_APPROVALS_PER_TX {
            return Err(SdkError::Invalid(format!(
                "at most {MAX_APPROVALS_PER_TX} signatures per transaction"
            )));
        }
        let chain = self.client.chain_id()?;
        let sender = self.sender.public_key();
        let nonce = match self.nonce {
            Some(n) => n,
            None => self.client.key_info(&sender)?.next_pending_nonce,
        };
        let node_time = self.client.status()?.finalized_time_ms;
        let ttl_ms = u64::try_from(self.ttl.as_millis()).unwrap_or(u64::MAX);
        let expires_at = Timestamp(crate::now_ms().max(node_time).saturating_add(ttl_ms));
        let operations = BoundedVec::new(self.ops.clone())
            .ok_or_else(|| SdkError::Invalid("too many operations".into()))?;
        let tx = Transaction {
            sender,
            nonce,
            expires_at,
            operations,
        };
        let mut keys: Vec<&PrivateKey> = vec![&self.sender];
        keys.extend(self.approvers.iter());
        Ok(tx.sign(&chain, &keys))
    }

    /// Builds, signs and submits; answers once the node admitted the transaction.
    pub fn submit(&self) -> Result<Submission, SdkError> {
        let signed = self.build()?;
        let tx_id = self.client.submit(&signed)?;
        Ok(Submission { tx_id, signed })
    }

    /// Builds, signs, submits and waits until the transaction is final (at most
    /// `timeout`). The result may still be a rejection: check `code`.
    pub fn submit_and_wait(&self, timeout: Duration) -> Result<(Submission, TxInfo), SdkError> {
        let submission = self.submit()?;
        // Polled without a read token: the transaction may retire the sender's key.
        let info = self.client.wait_final(&submission.tx_id, timeout)?;
        // The body and events, if the sender may still read them.
        let info = self
            .client
            .tx(&submission.tx_id, Some(&self.sender))
            .unwrap_or(info);
        Ok((submission, info))
    }
}
