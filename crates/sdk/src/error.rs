//! What can go wrong talking to a node.

use tally_node::http::error::ErrorBody;

/// An SDK failure: the node refused (with its stable code), the network failed, an answer
/// did not decode, or a local verification failed.
#[derive(Debug, thiserror::Error)]
pub enum SdkError {
    /// The node answered with a non-2xx status and its JSON error body.
    #[error("HTTP {status}: {} ({}): {}", body.name, body.code, body.message)]
    Api {
        /// HTTP status.
        status: u16,
        /// The node's error body: stable code, name and message.
        body: ErrorBody,
    },
    /// The node answered with a non-2xx status and a body that is not an error body.
    #[error("HTTP {status}: {text}")]
    Http {
        /// HTTP status.
        status: u16,
        /// The body (truncated), as text.
        text: String,
    },
    /// The request did not complete (connection refused, timeout, I/O).
    #[error("cannot reach {url}: {message}")]
    Transport {
        /// The URL requested.
        url: String,
        /// What failed.
        message: String,
    },
    /// An answer (JSON, hex, binary encoding or event stream) did not decode.
    #[error("cannot decode the node's answer: {0}")]
    Decode(String),
    /// A certificate or Merkle proof did not verify.
    #[error("verification failed: {0}")]
    Verify(#[from] crate::verify::VerifyError),
    /// Waiting (for finality) took longer than allowed.
    #[error("timed out after {waited_ms} ms waiting for {what}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long.
        waited_ms: u64,
    },
    /// The key store failed.
    #[error(transparent)]
    Keystore(#[from] crate::keystore::KeystoreError),
    /// An argument is not valid (an id, an amount, a transaction that cannot be built).
    #[error("{0}")]
    Invalid(String),
}

impl SdkError {
    /// The node's error body, if the node refused the request.
    pub fn api_body(&self) -> Option<&ErrorBody> {
        match self {
            Self::Api { body, .. } => Some(body),
            _ => None,
        }
    }

    /// Whether the node answered 404 (no such record, block or route).
    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            Self::Api { status: 404, .. } | Self::Http { status: 404, .. }
        )
    }
}
