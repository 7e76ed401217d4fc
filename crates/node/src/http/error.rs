//! API errors: every refusal is JSON `{"code", "name", "message"}` with a stable code.
//!
//! Codes below 700 are the ledger's result codes (`docs/result-codes.md`), used where an
//! API refusal means the same thing (an expired transaction is `TxExpired` whether the
//! mempool or a block refuses it). Codes 700–799 are the API's own.

use crate::mempool::AdmitError;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tally_types::ResultCode;

macro_rules! api_codes {
    ($( $(#[doc = $doc:literal])* $name:ident = $num:literal => $status:ident, )*) => {
        /// The API's own refusal codes.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum ApiCode {
            $( $(#[doc = $doc])* $name, )*
        }

        impl ApiCode {
            /// Every code, in numeric order.
            pub const ALL: &'static [ApiCode] = &[$(ApiCode::$name,)*];

            /// The stable number.
            pub const fn code(self) -> u16 {
                match self { $( ApiCode::$name => $num, )* }
            }

            /// The stable name.
            pub const fn name(self) -> &'static str {
                match self { $( ApiCode::$name => stringify!($name), )* }
            }

            /// The HTTP status it is sent with.
            pub fn status(self) -> StatusCode {
                match self { $( ApiCode::$name => StatusCode::$status, )* }
            }

            /// One line describing it.
            pub fn description(self) -> &'static str {
                match self { $( ApiCode::$name => concat!($($doc, )*).trim(), )* }
            }
        }
    };
}

api_codes! {
    /// The body is not a canonical, in-bounds encoding (of a transaction, a batch, or JSON).
    Malformed = 700 => BAD_REQUEST,
    /// The body is larger than the route accepts.
    TooLarge = 701 => PAYLOAD_TOO_LARGE,
    /// A transaction's approval signature does not verify.
    BadSignature = 702 => BAD_REQUEST,
    /// The same transaction is already waiting to be included.
    Duplicate = 703 => CONFLICT,
    /// Another transaction with this sender and nonce is already waiting.
    NonceTaken = 704 => CONFLICT,
    /// The mempool is full; retry later.
    MempoolFull = 705 => SERVICE_UNAVAILABLE,
    /// This sender has too many transactions waiting; retry later.
    SenderFull = 706 => SERVICE_UNAVAILABLE,
    /// The nonce lies further ahead of the sender's next nonce than the sender may have transactions waiting; sign with the nonce `GET /key/{key}` reports.
    NonceTooFar = 707 => CONFLICT,
    /// The network is admitting more than it settles; retry after the `Retry-After` seconds. Nothing was decoded or kept.
    Overloaded = 708 => TOO_MANY_REQUESTS,
    /// A remote proof the transaction carries is refused: its chain is not registered and active here under its group key and namespace, its header or certificate does not decode, the certificate does not verify under that key, or the Merkle proof does not verify against the certified state root. Nothing was kept.
    BadRemoteProof = 709 => BAD_REQUEST,
    /// A path or query parameter is not valid (an id, a height, a range).
    BadParameter = 710 => BAD_REQUEST,
    /// No such route, record or block.
    NotFound = 711 => NOT_FOUND,
    /// The request needs a read token (`Authorization: Tally …`) and has none or an invalid one.
    Unauthenticated = 712 => UNAUTHORIZED,
    /// The token is valid but its participant may not read this.
    Forbidden = 713 => FORBIDDEN,
    /// The read token was already used.
    TokenReplayed = 714 => UNAUTHORIZED,
    /// The read token has expired, or expires too far ahead.
    TokenExpired = 715 => UNAUTHORIZED,
    /// The route does not serve this HTTP method.
    MethodNotAllowed = 716 => METHOD_NOT_ALLOWED,
    /// The node cannot answer now (no randomness, too many live tokens, still starting).
    Unavailable = 720 => SERVICE_UNAVAILABLE,
    /// The node failed to answer; it keeps serving.
    Internal = 799 => INTERNAL_SERVER_ERROR,
}

/// The JSON body of every refusal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable numeric code (ledger result code below 700, API code from 700).
    pub code: u16,
    /// Stable name of the code.
    pub name: String,
    /// What went wrong, for a human.
    pub message: String,
}

/// A refusal: HTTP status plus [ErrorBody].
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Body.
    pub body: ErrorBody,
}

impl ApiError {
    /// An API refusal.
    pub fn api(code: ApiCode, message: impl ToString) -> Self {
        Self {
            status: code.status(),
            body: ErrorBody {
                code: code.code(),
                name: code.name().to_string(),
                message: message.to_string(),
            },
        }
    }

    /// A refusal that means what a ledger result code means.
    pub fn ledger(code: ResultCode, status: StatusCode, message: impl ToString) -> Self {
        Self {
            status,
            body: ErrorBody {
                code: code.code(),
                name: code.name().to_string(),
                message: message.to_string(),
            },
        }
    }

    /// A bad path or query parameter.
    pub fn param(message: impl ToString) -> Self {
        Self::api(ApiCode::BadParameter, message)
    }

    /// Nothing there.
    pub fn not_found(message: impl ToString) -> Self {
        Self::api(ApiCode::NotFound, message)
    }
}

impl From<AdmitError> for ApiError {
    fn from(e: AdmitError) -> Self {
        let message = e.to_string();
        match e {
            AdmitError::TooLarge => Self::api(ApiCode::TooLarge, message),
            AdmitError::Malformed(_) => Self::api(ApiCode::Malformed, message),
            AdmitError::Expired => {
                Self::ledger(ResultCode::TxExpired, StatusCode::BAD_REQUEST, message)
            }
            AdmitError::ExpiryTooFar => {
                Self::ledger(ResultCode::TxExpiryTooFar, StatusCode::BAD_REQUEST, message)
            }
            AdmitError::Duplicate => Self::api(ApiCode::Duplicate, message),
            AdmitError::NonceTaken => Self::api(ApiCode::NonceTaken, message),
            AdmitError::Full => Self::api(ApiCode::MempoolFull, message),
            AdmitError::SenderFull => Self::api(ApiCode::SenderFull, message),
            AdmitError::BadSignature(tally_types::tx::VerifyError::RemoteProof(_)) => {
                Self::api(ApiCode::BadRemoteProof, message)
            }
            AdmitError::BadSignature(_) => Self::api(ApiCode::BadSignature, message),
            AdmitError::UnknownSender => {
                Self::ledger(ResultCode::UnknownSender, StatusCode::FORBIDDEN, message)
            }
            AdmitError::NonceTooFar { .. } => Self::api(ApiCode::NonceTooFar, message),
            AdmitError::Overloaded => Self::api(ApiCode::Overloaded, message),
            AdmitError::Stale { .. } => {
                Self::ledger(ResultCode::NonceReused, StatusCode::CONFLICT, message)
            }
        }
    }
}

impl From<super::auth::AuthError> for ApiError {
    fn from(e: super::auth::AuthError) -> Self {
        use super::auth::AuthError as A;
        let code = match e {
            A::Malformed | A::BadSignature => ApiCode::Unauthenticated,
            A::Expired | A::TooLong => ApiCode::TokenExpired,
            A::Replayed => ApiCode::TokenReplayed,
            A::Busy => ApiCode::Unavailable,
        };
        Self::api(code, e)
    }
}

/// Seconds a client should wait before retrying a refusal that says "retry later".
pub const RETRY_AFTER_S: u32 = 1;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // 429 and 503 are retryable: say when.
        if matches!(
            self.status,
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
        ) {
            let retry = [(axum::http::header::RETRY_AFTER, RETRY_AFTER_S.to_string())];
            return (self.status, retry, Json(self.body)).into_response();
        }
        (self.status, Json(self.body)).into_response()
    }
}

/// The API codes as a Markdown table (for `docs/api.md`).
pub fn markdown_table() -> String {
    let mut out = String::from("| code | name | HTTP | meaning |\n|---|---|---|---|\n");
    for c in ApiCode::ALL {
        out.push_str(&format!(
            "| {} | `{}` | {} | {} |\n",
            c.code(),
            c.name(),
            c.status().as_u16(),
            c.description()
        ));
    }
    out
}
