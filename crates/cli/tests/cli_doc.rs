//! `docs/cli.md` is the CLI's own `--help` text for every command; this test fails when
//! they differ (`TALLY_BLESS=1 cargo test -p tally-cli --test cli_doc` rewrites it).

#[test]
fn cli_reference_is_current() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tally"))
        .arg("help-markdown")
        .output()
        .unwrap();
    assert!(out.status.success());
    let want = String::from_utf8(out.stdout).unwrap();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/cli.md");
    if std::env::var("TALLY_BLESS").is_ok() {
        std::fs::write(path, &want).unwrap();
    }
    let have = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        have == want,
        "docs/cli.md is stale: regenerate with TALLY_BLESS=1"
    );
}
