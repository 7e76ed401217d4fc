//! Apply throughput: blocks of 1,000 plain transfers, of 1,000 two-leg DvP settles, and of
//! one institution batch of 1,000 transfers under one signature (`batch`),
//! on worlds of 10 thousand and 1 million accounts, with signature verification excluded
//! (`apply/…`) and included (`verify+apply/…`, batch verification on all cores).
//!
//! `cargo bench -p tally-ledger --bench apply` (the 1M worlds take a minute to build;
//! `-- 10k` runs only the small ones).

#![allow(missing_docs)] // criterion_group! generates undocumented items.

use commonware_cryptography::Signer as _;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use std::time::{Duration, Instant};
use tally_ledger::demo::{self, Sandbox, USD, UST_2034};
use tally_ledger::{Genesis, MemStore};
use tally_types::codec::BoundedVec;
use tally_types::model::{AccountKind, InvestorClass, Leg, Role};
use tally_types::ops::{BatchTransfer, Mint, OpenAccount, Settle, Transfer, TransferBatch};
use tally_types::{AccountId, Lei, Operation, PrivateKey, SignedTx, Transaction, VerifiedTx};

const HOLDERS: u64 = 64;
const TXS_PER_BLOCK: usize = 1_000;

struct World {
    sb: Sandbox,
    accounts: u64,
    keys: Vec<PrivateKey>,
    nonces: Vec<u64>,
    rng: ChaCha20Rng,
}

fn holder_lei(i: u64) -> Lei {
    Lei::with_check_digits(&format!("TALLYBENCH{i:08}")).expect("valid prefix")
}

/// `accounts` accounts spread over `HOLDERS` participants, each funded with cash and notes.
fn world(accounts: u64) -> World {
    let mut g: Genesis = demo::genesis();
    let keys: Vec<PrivateKey> = (0..HOLDERS)
        .map(|i| PrivateKey::from_seed(50_000 + i))
        .collect();
    for (i, key) in keys.iter().enumerate() {
        let i = i as u64;
        let roles = [Role::Investor];
        g.operations.push(demo::register(
            holder_lei(i),
            "Bench Holder",
            &roles,
            InvestorClass::QualifiedInstitutional,
            key,
        ));
    }
    for a in 0..accounts {
        let account = AccountId(1_000_000 + a);
        g.operations.push(Operation::OpenAccount(OpenAccount {
            account,
            owner: holder_lei(a % HOLDERS),
            kind: AccountKind::Own,
        }));
        g.operations.push(Operation::Mint(Mint {
            instrument: USD,
            to: account,
            amount: 1_000_000_000,
        }));
        g.operations.push(Operation::Mint(Mint {
            instrument: UST_2034,
            to: account,
            amount: 100_000_000,
        }));
    }
    let sb = Sandbox::with_genesis(MemStore::new(), &g);
    World {
        sb,
        accounts,
        keys,
        nonces: vec![0; HOLDERS as usize],
        rng: ChaCha20Rng::from_seed([1; 32]),
    }
}

impl World {
    fn pick(&mut self) -> u64 {
        u64::from(self.rng.next_u32()) % self.accounts
    }

    fn signed(&mut self, payers: &[u64], ops: Vec<Operation>) -> SignedTx {
        let sender = (payers[0] % HOLDERS) as usize;
        let tx = Transaction {
            sender: self.keys[sender].public_key(),
            nonce: self.nonces[sender],
            expires_at: self.sb.time.plus_ms(3_600_000),
            operations: BoundedVec::new(ops).expect("one op"),
        };
        self.nonces[sender] += 1;
        let mut owners: Vec<usize> = payers.iter().map(|p| (p % HOLDERS) as usize).collect();
        owners.dedup();
        let signers: Vec<&PrivateKey> = owners.iter().map(|&o| &self.keys[o]).collect();
        tx.sign(&self.sb.chain(), &signers)
    }

    /// A block of transfers between random accounts of distinct owners.
    fn transfers(&mut self) -> Vec<SignedTx> {
        (0..TXS_PER_BLOCK)
            .map(|_| {
                let (from, mut to) = (self.pick(), self.pick());
                if to % HOLDERS == from % HOLDERS {
                    to = (to + 1) % self.accounts;
                }
                let leg = Leg {
                    from: AccountId(1_000_000 + from),
                    to: AccountId(1_000_000 + to),
                    instrument: USD,
                    amount: 100,
                };
                self.signed(&[from], vec![Operation::Transfer(Transfer { leg })])
            })
            .collect()
    }

    /// A block of DvPs: $100 face of the note against cash, both payers approving.
    fn dvps(&mut self) -> Vec<SignedTx> {
        (0..TXS_PER_BLOCK)
            .map(|_| {
                let (seller, mut buyer) = (self.pick(), self.pick());
                if buyer % HOLDERS == seller % HOLDERS {
                    buyer = (buyer + 1) % self.accounts;
                }
                let (s, b) = (AccountId(1_000_000 + seller), AccountId(1_000_000 + buyer));
                let legs = vec![
                    Leg {
                        from: s,
                        to: b,
                        instrument: UST_2034,
                        amount: 10_000,
                    },
                    Leg {
                        from: b,
                        to: s,
                        instrument: USD,
                        amount: 9_950,
                    },
                ];
                self.signed(
                    &[seller, buyer],
                    vec![Operation::Settle(Settle {
                        legs: BoundedVec::new(legs).expect("two"),
                    })],
                )
            })
            .collect()
    }

    /// One batch of transfers from random accounts of one owner to random accounts of
    /// others, under that owner's one signature.
    fn batch(&mut self) -> Vec<SignedTx> {
        let owner = self.pick() % HOLDERS;
        let transfers: Vec<BatchTransfer> = (0..TXS_PER_BLOCK)
            .map(|_| {
                // An account of `owner` (accounts are dealt to owners round-robin).
                let mut from = self.pick() / HOLDERS * HOLDERS + owner;
                if from >= self.accounts {
                    from -= HOLDERS;
                }
                let mut to = self.pick();
                if to % HOLDERS == owner {
                    to = (to + 1) % self.accounts;
                }
                BatchTransfer {
                    leg: Leg {
                        from: AccountId(1_000_000 + from),
                        to: AccountId(1_000_000 + to),
                        instrument: USD,
                        amount: 100,
                    },
                    linked: false,
                }
            })
            .collect();
        let op = Operation::TransferBatch(TransferBatch {
            transfers: BoundedVec::new(transfers).expect("at most MAX_BATCH_TRANSFERS"),
        });
        vec![self.signed(&[owner], vec![op])]
    }

    fn verify(&self, txs: Vec<SignedTx>) -> Vec<VerifiedTx> {
        let mut rng = ChaCha20Rng::from_seed([2; 32]);
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        tally_types::verify_batch(&self.sb.chain(), txs, threads, &mut rng)
            .into_iter()
            .map(|r| r.expect("valid signature"))
            .collect()
    }

    /// Applies one block; returns the time spent in apply, plus verification if asked.
    fn run(&mut self, kind: Kind, with_verify: bool) -> Duration {
        let txs = match kind {
            Kind::Transfer => self.transfers(),
            Kind::Dvp => self.dvps(),
            Kind::Batch => self.batch(),
        };
        let verify_start = Instant::now();
        let verified = self.verify(txs);
        let verify_time = verify_start.elapsed();
        let apply_start = Instant::now();
        let receipts = self.sb.block(&verified);
        let apply_time = apply_start.elapsed();
        assert!(
            receipts
                .iter()
                .all(|r| r.is_ok() && r.batch.as_ref().is_none_or(|b| b.failures.is_empty())),
            "bench transactions must apply"
        );
        if with_verify {
            verify_time + apply_time
        } else {
            apply_time
        }
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Transfer,
    Dvp,
    Batch,
}

fn bench(c: &mut Criterion) {
    // Building the 1M world takes a while: skip worlds no filter argument asks for.
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    for (label, accounts) in [("10k", 10_000u64), ("1M", 1_000_000)] {
        if !filters.is_empty() && !filters.iter().any(|f| f.contains(label)) {
            continue;
        }
        let built = Instant::now();
        let mut w = world(accounts);
        eprintln!("world of {label} accounts built in {:?}", built.elapsed());
        let mut group = c.benchmark_group("ledger");
        group.throughput(Throughput::Elements(TXS_PER_BLOCK as u64));
        group
            .sample_size(10)
            .measurement_time(Duration::from_secs(8));
        for (name, kind) in [
            ("transfer", Kind::Transfer),
            ("dvp", Kind::Dvp),
            ("batch", Kind::Batch),
        ] {
            group.bench_function(BenchmarkId::new(format!("apply/{name}"), label), |b| {
                b.iter_custom(|n| (0..n).map(|_| w.run(kind, false)).sum())
            });
            group.bench_function(
                BenchmarkId::new(format!("verify+apply/{name}"), label),
                |b| b.iter_custom(|n| (0..n).map(|_| w.run(kind, true)).sum()),
            );
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
