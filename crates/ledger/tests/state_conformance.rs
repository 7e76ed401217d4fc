//! Pins the state layout and commitment: the demo genesis, and the state after a fixed
//! block, must always produce these roots, and a receipt record this encoding. A change
//! here is a state format change.

use tally_ledger::StateReader;
use tally_ledger::demo::{Sandbox, USD, member};
use tally_ledger::schema::{self, ReceiptRecord};
use tally_types::model::Leg;
use tally_types::ops::Transfer;
use tally_types::{Hash32, Operation, ResultCode};

#[test]
fn genesis_and_first_block_roots_are_pinned() {
    let mut sb = Sandbox::demo();
    assert_eq!(
        sb.root().to_hex(),
        "220516d64ddae242e8afe5a9b1541cb68587de314ef562c489ea105c7726a663"
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
        StateReader(&sb.store).receipt(&r.tx_id),
        Some(ReceiptRecord::new(1, 0, ResultCode::Ok, None))
    );
    // Changed from 427b5b02… when every transaction's receipt became a state record
    // (table 0d): the block now also writes the transfer's receipt; and from 48fbb2d8…
    // (genesis from 1915bf37…) with the holder index (table 0f) and the instrument's
    // `book_closed` field.
    assert_eq!(
        sb.root().to_hex(),
        "52a13527d596b78539c47c3e4bdd9b39ac94571a0ca7f30f2fc237e11844e194"
    );
}

#[test]
fn receipt_record_encoding_is_pinned() {
    let rejected = ReceiptRecord::new(
        0x0102_0304_0506_0708,
        0x0a0b_0c0d,
        ResultCode::InsufficientBalance,
        Some(3),
    );
    // height u64 ‖ index u32 ‖ code u16 (500) ‖ failed_op (1 ‖ u16), all big-endian.
    let bytes = schema::encode(&rejected);
    assert_eq!(hex(&bytes), "01020304050607080a0b0c0d01f4010003");
    assert_eq!(schema::decode::<ReceiptRecord>(&bytes), rejected);
    assert_eq!(rejected.result_code(), ResultCode::InsufficientBalance);
    let applied = ReceiptRecord::new(7, 0, ResultCode::Ok, None);
    assert_eq!(
        hex(&schema::encode(&applied)),
        "000000000000000700000000000000"
    );
    let mut id = [0u8; 32];
    id[0] = 0xff;
    let key = schema::keys::receipt(&Hash32(id));
    assert_eq!(
        (key.len(), key[0], key[1]),
        (33, schema::tag::RECEIPT, 0xff)
    );
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
