//! Arbitrary bytes through every transaction decoder, verification and `apply_block`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tally_ledger::demo::Sandbox;

fuzz_target!(|data: &[u8]| {
    let mut sandbox = Sandbox::demo();
    tally_ledger::fuzz::decode_and_apply(&mut sandbox, data);
});
