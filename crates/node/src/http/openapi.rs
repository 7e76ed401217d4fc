//! The OpenAPI document (`/openapi.json`) and a browsable page rendered from it
//! (`/docs`), self-contained: no script or stylesheet from elsewhere.

use super::types::*;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};

// Paths are added by `super::routes`, from the handlers' `#[utoipa::path]`.

/// The API's OpenAPI description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tally node API",
        description = "Submit signed transactions, follow them to finality, read the ledger (account data needs a read token: see docs/api.md), fetch blocks with finality certificates and Merkle proofs, and stream events.",
    ),
    components(schemas(
        super::error::ErrorBody, SubmitJson, Submitted, BatchResult, BatchResults, ValidatorInfo, Status,
        ChainInfo, TxSummary, BlockInfo, BlockList, CertifiedBlock, CertifiedHeader, RemoteLedgerInfo, RemoteLedgerList, HoldingInfo, AccountInfo,
        AccountList, ParticipantInfo, ParticipantList, InstrumentInfo, InstrumentList, KeyInfo,
        LegInfo, InstructionInfo, HoldInfo, TxInfo, StateProof, BlockEvent, AccountEvent, DevKey,
        DevKeys, AccountEvents,
    )),
    modifiers(&ReadToken),
    tags(
        (name = "node", description = "Health, metrics and this description"),
        (name = "chain", description = "Blocks, certificates and the chain's identity"),
        (name = "transactions", description = "Submission and receipts"),
        (name = "reference", description = "Public reference data: participants, instruments, keys"),
        (name = "accounts", description = "Participant data, behind read authorization"),
        (name = "proofs", description = "Merkle proofs against certified state roots"),
        (name = "events", description = "Server-sent event streams"),
        (name = "lifecycle", description = "Auctions, coupon schedules, distributions, STRIPS and repos"),
        (name = "explorer", description = "The web explorer and participant console (docs/explorer.md)"),
    )
)]
pub struct ApiDoc;

struct ReadToken;

impl Modify for ReadToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "read_token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "`Tally <key hex>:<expires ms>:<nonce hex>:<signature hex>`: a single-use token signed by one of the participant's keys (docs/api.md)",
            ))),
        );
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The `/docs` page: every route with its summary, parameters and responses.
pub fn docs_page() -> String {
    let doc = super::openapi();
    let mut body = String::new();
    for (path, item) in &doc.paths.paths {
        let ops = [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("DELETE", &item.delete),
        ];
        for (method, op) in ops {
            let Some(op) = op else { continue };
            let summary = op.summary.clone().unwrap_or_default();
            let description = op.description.clone().unwrap_or_default();
            let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
            body.push_str(&format!(
                "<section><h2><span class=m>{method}</span> <code>{}</code>{}</h2><p>{}</p>",
                escape(path),
                if secured {
                    " <span class=lock>read token</span>"
                } else {
                    ""
                },
                escape(&format!("{summary} {description}"))
            ));
            if let Some(params) = &op.parameters {
                body.push_str("<table><tr><th>parameter</th><th>in</th><th>meaning</th></tr>");
                for p in params {
                    body.push_str(&format!(
                        "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                        escape(&p.name),
                        match p.parameter_in {
                            utoipa::openapi::path::ParameterIn::Path => "path",
                            utoipa::openapi::path::ParameterIn::Query => "query",
                            utoipa::openapi::path::ParameterIn::Header => "header",
                            utoipa::openapi::path::ParameterIn::Cookie => "cookie",
                        },
                        escape(p.description.as_deref().unwrap_or(""))
                    ));
                }
                body.push_str("</table>");
            }
            body.push_str("<ul>");
            for status in op.responses.responses.keys() {
                body.push_str(&format!("<li>{}</li>", escape(status)));
            }
            body.push_str("</ul></section>");
        }
    }
    format!(
        "<!doctype html><html><head><meta charset=utf-8><title>Tally node API</title><style>\
         body{{font:15px/1.5 system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222}}\
         h2{{font-size:1.05em;margin:1.4em 0 .2em}} .m{{background:#234;color:#fff;padding:0 .4em;border-radius:3px}}\
         .lock{{background:#a52;color:#fff;padding:0 .4em;border-radius:3px;font-size:.8em}}\
         table{{border-collapse:collapse}} td,th{{border:1px solid #ccc;padding:.1em .5em;text-align:left}}\
         section{{border-bottom:1px solid #eee;padding-bottom:.5em}}</style></head><body>\
         <h1>Tally node API</h1><p>{}</p><p>Machine-readable: <a href=\"/openapi.json\">/openapi.json</a>. \
         Refusals are JSON <code>{{\"code\", \"name\", \"message\"}}</code>.</p>{body}</body></html>",
        escape(doc.info.description.as_deref().unwrap_or(""))
    )
}

/// The generated part of `docs/api.md`: every route (from the OpenAPI document) and
/// every API refusal code.
pub fn reference_markdown() -> String {
    let doc = super::openapi();
    let mut out =
        String::from("### Routes\n\n| method | path | read token | what |\n|---|---|---|---|\n");
    for (path, item) in &doc.paths.paths {
        for (method, op) in [("GET", &item.get), ("POST", &item.post)] {
            let Some(op) = op else { continue };
            let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
            let summary = op.summary.clone().unwrap_or_default();
            out.push_str(&format!(
                "| {method} | `{path}` | {} | {} |\n",
                if secured {
                    "owner, regulator, auditor"
                } else {
                    "open"
                },
                summary.replace('\n', " ").replace('|', "\\|")
            ));
        }
    }
    out.push_str("\n### API refusal codes\n\n");
    out.push_str(&super::error::markdown_table());
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_route_is_documented() {
        let doc = super::super::openapi();
        let paths: Vec<&String> = doc.paths.paths.keys().collect();
        assert!(paths.iter().any(|p| p.as_str() == "/tx"), "{paths:?}");
        let json: serde_json::Value = serde_json::from_str(&doc.to_pretty_json().unwrap()).unwrap();
        assert!(
            json["paths"].as_object().unwrap().contains_key("/tx"),
            "{json}"
        );
    }
}
