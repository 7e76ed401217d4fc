//! The web explorer and participant console (`/explorer/`): a static page built from
//! `explorer/` (TypeScript) into `crates/node/explorer-dist/` and embedded in the binary,
//! so every node serves it with nothing to install. The page talks only to this node's API
//! (its Content-Security-Policy allows nothing else) and verifies certificates and proofs
//! itself. `docs/explorer.md` describes it.
//!
//! `GET /dev/keys` hands the page the demo world's development keys for its dev menu, and
//! only on a development network: the node must run the demo chain (`tally-demo`) and have
//! been started with `TALLY_DEV_KEYS=1`, which `tally localnet` sets. Everywhere else it
//! answers 404.

use super::Api;
use super::error::{ApiCode, ApiError};
use super::types::{DevKey, DevKeys};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

const INDEX_HTML: &str = include_str!("../../explorer-dist/index.html");
const APP_JS: &str = include_str!("../../explorer-dist/app.js");
const APP_CSS: &str = include_str!("../../explorer-dist/app.css");

/// Environment variable that lets a development node serve its demo keys.
pub const DEV_KEYS_ENV: &str = "TALLY_DEV_KEYS";

/// Everything the page loads comes from this node; scripts only from the bundle.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// The development keys of the demo world, if this node may serve them: the demo chain,
/// started with `TALLY_DEV_KEYS=1`.
pub fn dev_keys(chain_id: &str, env_flag: Option<&str>) -> Option<Vec<DevKey>> {
    use commonware_codec::Encode as _;
    use commonware_cryptography::Signer as _;
    if chain_id != tally_ledger::demo::CHAIN || env_flag != Some("1") {
        return None;
    }
    Some(
        tally_ledger::demo::MEMBERS
            .iter()
            .map(|m| {
                let key = m.key();
                DevKey {
                    name: m.name.to_string(),
                    legal_name: m.legal_name.to_string(),
                    lei: m.lei().to_string(),
                    account: m.account.0,
                    roles: m.roles.iter().map(|r| r.name().to_string()).collect(),
                    public_key: crate::genesis::to_hex(key.public_key().as_ref()),
                    secret_key: crate::genesis::to_hex(&key.encode()),
                }
            })
            .collect(),
    )
}

/// Redirect to the explorer.
#[utoipa::path(get, path = "/", tag = "explorer",
    responses((status = 308, description = "to /explorer/")))]
pub(super) async fn root() -> Response {
    (
        StatusCode::PERMANENT_REDIRECT,
        [(header::LOCATION, "/explorer/")],
    )
        .into_response()
}

/// Redirect to the explorer's page.
#[utoipa::path(get, path = "/explorer", tag = "explorer",
    responses((status = 308, description = "to /explorer/")))]
pub(super) async fn bare() -> Response {
    root().await
}

/// The web explorer and participant console (HTML; scripts and styles from this node only).
#[utoipa::path(get, path = "/explorer/", tag = "explorer",
    responses((status = 200, description = "HTML", body = String, content_type = "text/html")))]
pub(super) async fn index() -> Response {
    asset("text/html; charset=utf-8", INDEX_HTML)
}

/// The explorer's script and stylesheet (`app.js`, `app.css`).
#[utoipa::path(get, path = "/explorer/{asset}", tag = "explorer",
    params(("asset" = String, Path, description = "app.js or app.css")),
    responses((status = 200, description = "the asset", body = String), (status = 404, body = super::error::ErrorBody)))]
pub(super) async fn file(Path(name): Path<String>) -> Result<Response, ApiError> {
    match name.as_str() {
        "app.js" => Ok(asset("text/javascript; charset=utf-8", APP_JS)),
        "app.css" => Ok(asset("text/css; charset=utf-8", APP_CSS)),
        "index.html" => Ok(asset("text/html; charset=utf-8", INDEX_HTML)),
        _ => Err(ApiError::not_found(format!(
            "the explorer has no file {name:?}"
        ))),
    }
}

/// The demo world's development keys (secret keys included: they are public and worthless),
/// for the explorer's dev menu; only on a development network (`tally localnet`).
#[utoipa::path(get, path = "/dev/keys", tag = "explorer",
    responses((status = 200, body = DevKeys), (status = 404, body = super::error::ErrorBody)))]
pub(super) async fn keys(State(api): State<Api>) -> Result<Json<DevKeys>, ApiError> {
    match &api.dev_keys {
        Some(keys) => Ok(Json(DevKeys {
            note: "development keys of the demo world: deterministic, public, never for real value"
                .to_string(),
            keys: keys.as_ref().clone(),
        })),
        None => Err(ApiError::api(
            ApiCode::NotFound,
            "development keys are served only by a development network (tally localnet)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_keys_only_on_the_demo_chain_with_the_flag() {
        assert!(dev_keys("tally-demo", None).is_none());
        assert!(dev_keys("tally-demo", Some("0")).is_none());
        assert!(dev_keys("tally-prod", Some("1")).is_none());
        let keys = dev_keys("tally-demo", Some("1")).unwrap();
        assert_eq!(keys.len(), tally_ledger::demo::MEMBERS.len());
        let regulator = keys.iter().find(|k| k.name == "regulator").unwrap();
        assert_eq!(regulator.account, 600);
        assert_eq!(regulator.secret_key.len(), 64);
    }

    #[test]
    fn the_page_loads_only_this_nodes_bundle() {
        assert!(INDEX_HTML.contains("src=\"app.js\"") || INDEX_HTML.contains("src=app.js"));
        for text in [INDEX_HTML, APP_CSS] {
            assert!(!text.contains("http://") && !text.contains("https://"));
        }
    }
}
