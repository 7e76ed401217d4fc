//! The generated part of `docs/api.md` (routes from the OpenAPI document, refusal codes)
//! must match the code; `TALLY_BLESS=1 cargo test -p tally-node --test api_doc` rewrites it.

const START: &str = "<!-- generated: do not edit below; TALLY_BLESS=1 cargo test -p tally-node --test api_doc -->\n";
const END: &str = "<!-- end of generated -->";

#[test]
fn api_reference_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/api.md");
    let doc = std::fs::read_to_string(path).expect("docs/api.md");
    let (head, rest) = doc
        .split_once(START)
        .expect("docs/api.md has the generated marker");
    let (_, tail) = rest
        .split_once(END)
        .expect("docs/api.md has the end marker");
    let want = format!(
        "{head}{START}\n{}\n{END}{tail}",
        tally_node::http::reference_markdown()
    );
    if std::env::var("TALLY_BLESS").is_ok() {
        std::fs::write(path, &want).expect("write docs/api.md");
    }
    assert!(
        doc == want,
        "docs/api.md is stale: regenerate with TALLY_BLESS=1"
    );
}
