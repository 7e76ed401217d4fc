//! Entry points for fuzzing: arbitrary bytes go through every decoder and, where they
//! decode, through verification and `apply_block`. Nothing here may panic; the fuzz
//! targets (`fuzz/`) and the seeded test (`tests/fuzz_apply.rs`) call these.

use crate::demo::{MEMBERS, Sandbox};
use commonware_codec::{DecodeExt as _, Encode as _};
use tally_types::{SignedTx, Transaction, verify_one};

/// Decodes `data` as a signed transaction and as an unsigned one. A decoded signed
/// transaction is verified and, if valid, applied; a decoded unsigned one is re-signed
/// by a demo member chosen by the first byte (so its operations reach execution) and
/// applied. Returns how many transactions reached `apply_block`.
pub fn decode_and_apply(sandbox: &mut Sandbox, data: &[u8]) -> usize {
    let chain = sandbox.chain();
    let mut applied = 0;
    if let Ok(signed) = SignedTx::decode_bounded(data) {
        // Round trip: the canonical encoding is the only encoding.
        assert_eq!(
            signed.encode().as_ref(),
            data,
            "non-canonical SignedTx accepted"
        );
        if let Ok(v) = verify_one(&chain, signed) {
            sandbox.block(&[v]);
            applied += 1;
        }
    }
    let Some((&pick, rest)) = data.split_first() else {
        return applied;
    };
    if let Ok(mut tx) = Transaction::decode(commonware_codec::Copying(rest)) {
        let member = &MEMBERS[usize::from(pick) % MEMBERS.len()];
        let key = member.key();
        tx.sender = commonware_cryptography::Signer::public_key(&key);
        let nonce = crate::StateReader(&sandbox.store).next_nonce(&tx.sender);
        tx.nonce = nonce;
        tx.expires_at = sandbox.time.plus_ms(60_000);
        let signed = tx.sign(&chain, &[&key]);
        let v = verify_one(&chain, signed).expect("freshly signed transaction verifies");
        sandbox.block(&[v]);
        applied += 1;
    }
    applied
}
