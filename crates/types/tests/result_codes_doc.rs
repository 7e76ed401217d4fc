//! `docs/result-codes.md` is generated from `ResultCode`; this test fails when they
//! drift. Regenerate with `TALLY_BLESS=1 cargo test -p tally-types --test result_codes_doc`.

use tally_types::ResultCode;

fn render() -> String {
    let mut out = String::from(
        "# Result codes\n\n\
         Every transaction gets a receipt with one of these codes. `Ok` means it applied;\n\
         any other code means **nothing changed** (the nonce is not used either).\n\
         Numbers and names are stable: a code is never renumbered or reused.\n\n\
         ## Order of precedence\n\n\
         When several checks would fail, the receipt carries the first, in this order:\n\n\
         1. transaction checks: expiry, sender, nonce (1xx), the sender's participant not\n   \
            suspended (`ParticipantSuspended`), then signers (`UnknownSigner`; a key the\n   \
            transaction itself registers may sign);\n\
         2. then each operation in order (the receipt names the failing operation's index),\n   \
            and within an operation:\n   \
            1. authorization (2xx) — for operations whose acting party is an account's owner,\n      \
               after that account's existence check;\n   \
            2. validation of the operation's own fields (3xx);\n   \
            3. existence of what it names (4xx); validation that needs a record (e.g. an\n      \
               amount against the instrument's minimum increment) follows that record's\n      \
               existence check;\n   \
            4. compliance (6xx), debited side first, then credited side, each in the order\n      \
               listed below;\n   \
            5. balances, holds and instructions (5xx).\n\n\
         Where an operation departs from this order it is listed here, and tests pin it:\n\
         `Settle` validates its legs (3xx) before it authorizes their payers, whose identity\n\
         comes from the legs; an `Overflow` of the credited balance is found before credit\n\
         compliance; `Burn` refuses an account the issuer does not own\n\
         (`AccountOwnerMismatch`) before debit compliance; `PlaceHold` checks the\n\
         beneficiary's credit compliance before the payer's debit compliance.\n\n\
         This file is generated from `crates/types/src/codes.rs` by\n\
         `TALLY_BLESS=1 cargo test -p tally-types --test result_codes_doc`.\n\n\
         | code | name | meaning |\n|---:|---|---|\n",
    );
    for c in ResultCode::ALL {
        out.push_str(&format!(
            "| {} | `{}` | {} |\n",
            c.code(),
            c.name(),
            c.description()
        ));
    }
    out.push_str(
        "\n## Compliance rules\n\n\
         Debited side, in order: `InstrumentPaused`, `AccountFrozen`, `HolderSuspended`,\n\
         `KycNotVerified`, `KycExpired` (only if the policy requires KYC), `LockedUp`.\n\n\
         Credited side, in order: `InstrumentPaused`, `AccountFrozen`, `HolderSuspended`,\n\
         `KycNotVerified`, `KycExpired` (only if the policy requires KYC),\n\
         `JurisdictionNotAllowed`, `InvestorClassNotAllowed`, `MaxBalanceExceeded`,\n\
         `MaxHoldersExceeded`.\n\n\
         Forced transfers and key-loss recovery skip the debited side's rules (they act by\n\
         order of the regulator or operator) but not the credited side's. Units already\n\
         held (a hold being released, a matched instruction) passed the debited side's rules\n\
         when they were locked; at settlement only `AccountFrozen` and `HolderSuspended`\n\
         apply to them, so a later pause or lock-up cannot strand a hash-locked swap. A hold\n\
         release likewise checks the beneficiary only for `AccountFrozen` and\n\
         `HolderSuspended` (its credit rules were checked when the hold was placed).\n\
         `MaxHoldersExceeded` applies only to a credit that adds a holder.\n",
    );
    out
}

#[test]
fn result_codes_doc_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/result-codes.md");
    let want = render();
    if std::env::var_os("TALLY_BLESS").is_some() {
        std::fs::write(path, &want).expect("write docs/result-codes.md");
    }
    let have = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        have == want,
        "docs/result-codes.md is stale: regenerate with TALLY_BLESS=1"
    );
}
