//! Ed25519 verification rate (Commonware, ZIP-215): one signature at a time, and batches
//! of 1,024 transactions through `verify_batch` on one thread and on every core.
//!
//! `cargo bench -p tally-types --bench verify`

#![allow(missing_docs)] // criterion_group! generates undocumented items.

use commonware_cryptography::Signer as _;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;
use tally_types::codec::BoundedVec;
use tally_types::ops::{Operation, ReinstateParticipant};
use tally_types::{
    ChainId, Lei, PrivateKey, SignedTx, Timestamp, Transaction, verify_batch, verify_one,
};

const BATCH: usize = 1_024;

fn txs(chain: &ChainId) -> Vec<SignedTx> {
    let lei = Lei::parse("5493001KJTIIGC8Y1R12").expect("lei");
    (0..BATCH as u64)
        .map(|i| {
            let key = PrivateKey::from_seed(i);
            let tx = Transaction {
                sender: key.public_key(),
                nonce: i,
                expires_at: Timestamp(1),
                operations: BoundedVec::new(vec![Operation::ReinstateParticipant(
                    ReinstateParticipant { lei },
                )])
                .expect("one"),
            };
            tx.sign(chain, &[&key])
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let chain = ChainId::new("bench").expect("chain");
    let signed = txs(&chain);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut g = c.benchmark_group("ed25519");
    g.throughput(Throughput::Elements(BATCH as u64));
    g.bench_function("single", |b| {
        b.iter_batched(
            || signed.clone(),
            |s| {
                s.into_iter()
                    .map(|t| verify_one(&chain, t).is_ok())
                    .filter(|ok| *ok)
                    .count()
            },
            BatchSize::LargeInput,
        )
    });
    let mut rng = ChaCha20Rng::from_seed([5; 32]);
    for threads in [1, cores] {
        g.bench_function(format!("batch/{threads}-thread"), |b| {
            b.iter_batched(
                || signed.clone(),
                |s| verify_batch(&chain, s, threads, &mut rng).len(),
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
