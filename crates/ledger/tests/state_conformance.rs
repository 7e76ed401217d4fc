//! Pins the state layout and commitment: the demo genesis, and the state after a fixed
//! block, must always produce these roots. A change here is a state format change.

use tally_ledger::demo::{Sandbox, USD, member};
use tally_types::Operation;
use tally_types::model::Leg;
use tally_types::ops::Transfer;

#[test]
fn genesis_and_first_block_roots_are_pinned() {
    let mut sb = Sandbox::demo();
    assert_eq!(
        sb.root().to_hex(),
        "1915bf371fc0537bec79a05704813f8d59f3caa177416b89239160835809ddb5"
    );
    let (a, b) = (member("dealer-a"), member("dealer-b"));
    let leg = Leg {
        from: a.account,
        to: b.account,
        instrument: USD,
        amount: 12_345,
    };
    let r = sb.submit(&[&a.key()], vec![Operation::Transfer(Transfer { leg })]);
    assert!(r.is_ok());
    assert_eq!(
        sb.root().to_hex(),
        "427b5b02ff43eaff4d505fd9fe6bf34e24485426b0795fe9de2b979b065ba942"
    );
}
