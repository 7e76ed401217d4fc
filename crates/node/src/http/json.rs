//! Ledger records, operations and events as the API's JSON.

use super::types::*;
use crate::genesis::{KeyEntry, instrument_entry, profile_entry, snake, to_hex};
use serde_json::{Value, json};
use tally_ledger::schema::{
    AccountRecord, HoldRecord, Holding, InstructionRecord, InstrumentRecord, InstrumentStatus,
    ParticipantRecord,
};
use tally_ledger::{Event, MoveKind};
use tally_types::model::Leg;
use tally_types::ops::{AuctionSecurity, BidKind, CreateInstrument, Operation};
use tally_types::{AccountId, Hash32, HoldId, InstrumentId, Lei, Transaction};

/// A leg.
pub fn leg(l: &Leg) -> LegInfo {
    LegInfo {
        from: l.from.0,
        to: l.to.0,
        instrument: l.instrument.0,
        amount: l.amount.to_string(),
    }
}

/// A participant record.
pub fn participant(lei: &Lei, p: &ParticipantRecord) -> ParticipantInfo {
    let keys = p
        .keys
        .iter()
        .map(|k| KeyEntry {
            public_key: to_hex(&k.key.0),
            weight: k.weight,
        })
        .collect();
    ParticipantInfo {
        entry: profile_entry(lei, &p.profile, keys, p.threshold, p.admin_threshold),
        suspended: p.suspended,
    }
}

/// An instrument record.
pub fn instrument(id: InstrumentId, r: &InstrumentRecord) -> InstrumentInfo {
    let create = CreateInstrument {
        instrument: id,
        issuer: r.issuer,
        name: r.name.clone(),
        ids: r.ids,
        scale: r.scale,
        min_increment: r.min_increment,
        kind: r.kind.clone(),
        policy: r.policy.clone(),
    };
    InstrumentInfo {
        entry: instrument_entry(&create),
        status: instrument_status(r.status).to_string(),
        total_supply: r.total_supply.to_string(),
        holder_count: r.holder_count,
        book_closed: r.book_closed,
    }
}

/// An instrument status's name.
pub fn instrument_status(s: InstrumentStatus) -> &'static str {
    match s {
        InstrumentStatus::Active => "active",
        InstrumentStatus::Paused => "paused",
        InstrumentStatus::Matured => "matured",
        InstrumentStatus::Announced => "announced",
    }
}

/// A holding.
pub fn holding(
    account: AccountId,
    instrument: InstrumentId,
    scale: u8,
    h: &Holding,
) -> HoldingInfo {
    HoldingInfo {
        account: account.0,
        instrument: instrument.0,
        scale,
        balance: h.balance.to_string(),
        held: h.held.to_string(),
        frozen: h.frozen.to_string(),
        available: h.available().to_string(),
    }
}

/// An account with its holdings.
pub fn account(id: AccountId, a: &AccountRecord, holdings: Vec<HoldingInfo>) -> AccountInfo {
    AccountInfo {
        id: id.0,
        owner: a.owner.to_string(),
        kind: snake(a.kind.name()),
        frozen: a.frozen,
        holdings,
    }
}

/// An instruction.
pub fn instruction(id: &Hash32, r: &InstructionRecord) -> InstructionInfo {
    InstructionInfo {
        id: id.to_hex(),
        trade_ref: r.trade_ref.to_string(),
        legs: r.legs.iter().map(leg).collect(),
        expires_at_ms: r.expires_at.0,
        submitted: r.submitted.iter().map(ToString::to_string).collect(),
        matched: r.matched,
    }
}

/// A remote ledger.
pub fn remote_ledger(
    chain: &str,
    r: &tally_ledger::schema::RemoteLedgerRecord,
) -> RemoteLedgerInfo {
    RemoteLedgerInfo {
        chain_id: chain.to_string(),
        name: r.name.to_string(),
        scheme: r.scheme.name().to_string(),
        namespace: r.namespace.to_string(),
        group_public_key: to_hex(r.group_key.as_bytes()),
        suspended: r.suspended,
    }
}

/// A hold.
pub fn hold(id: HoldId, r: &HoldRecord) -> HoldInfo {
    HoldInfo {
        id: id.0,
        leg: leg(&r.leg),
        hash_lock: r.hash_lock.map(|h| h.to_hex()),
        deadline_ms: r.deadline.0,
        status: r.status.name().to_string(),
        cross: r.cross.as_ref().map(cross_leg),
    }
}

/// A cross-ledger hold's side and counterpart.
pub fn cross_leg(c: &tally_types::remote::CrossLeg) -> super::types::CrossLegInfo {
    super::types::CrossLegInfo {
        role: c.role.name().to_string(),
        chain_id: c.counterpart.chain.as_str().to_string(),
        hold: c.counterpart.hold.0,
        payee: c.counterpart.payee.0,
        instrument: c.counterpart.instrument.0,
        amount: c.counterpart.amount.to_string(),
    }
}

/// What a remote proof shows, without its bytes (which the block keeps).
fn remote_proof_json(p: &tally_types::remote::RemoteProof) -> Value {
    json!({
        "chain_id": p.chain.as_str(),
        "group_public_key": to_hex(p.group_key.as_bytes()),
        "key": to_hex(&p.key),
        "proof_bytes": p.header.len() + p.certificate.len() + p.value.len() + p.merkle.len(),
    })
}

fn leg_json(l: &Leg) -> Value {
    serde_json::to_value(leg(l)).unwrap_or(Value::Null)
}

/// An operation: `{"op": name, …fields}`.
pub fn operation(op: &Operation) -> Value {
    let mut v = match op {
        Operation::RegisterParticipant(p) => {
            serde_json::to_value(crate::genesis::participant_entry(p)).unwrap_or(Value::Null)
        }
        Operation::UpdateParticipant(p) => json!({
            "lei": p.lei.to_string(),
            "legal_name": p.profile.legal_name.to_string(),
            "roles": p.profile.roles.iter().map(|r| snake(r.name())).collect::<Vec<_>>(),
            "jurisdiction": p.profile.jurisdiction.to_string(),
            "investor_class": snake(p.profile.investor_class.name()),
            "kyc_status": snake(p.profile.kyc.status.name()),
            "kyc_expires_on": p.profile.kyc.expires_on.to_string(),
        }),
        Operation::SuspendParticipant(p) => json!({"lei": p.lei.to_string(), "reason": p.reason}),
        Operation::ReinstateParticipant(p) => json!({"lei": p.lei.to_string()}),
        Operation::AddKey(p) => json!({
            "lei": p.lei.to_string(), "key": to_hex(p.key.key.as_ref()), "weight": p.key.weight
        }),
        Operation::RotateKey(p) => json!({
            "lei": p.lei.to_string(), "old": to_hex(p.old.as_ref()), "new": to_hex(p.new.as_ref())
        }),
        Operation::RemoveKey(p) => json!({"lei": p.lei.to_string(), "key": to_hex(p.key.as_ref())}),
        Operation::SetThresholds(p) => json!({
            "lei": p.lei.to_string(), "threshold": p.threshold, "admin_threshold": p.admin_threshold
        }),
        Operation::OpenAccount(p) => json!({
            "account": p.account.0, "owner": p.owner.to_string(), "kind": snake(p.kind.name())
        }),
        Operation::FreezeAccount(p) => json!({"account": p.account.0, "reason": p.reason}),
        Operation::UnfreezeAccount(p) => json!({"account": p.account.0}),
        Operation::CreateInstrument(p) => {
            serde_json::to_value(instrument_entry(p)).unwrap_or(Value::Null)
        }
        Operation::UpdatePolicy(p) => json!({"instrument": p.instrument.0}),
        Operation::PauseInstrument(p) => json!({"instrument": p.instrument.0}),
        Operation::RegisterRemoteLedger(p) => json!({
            "chain_id": p.chain.as_str(),
            "name": p.name.as_str(),
            "scheme": p.scheme.name(),
            "namespace": p.namespace.as_str(),
            "group_public_key": to_hex(p.group_key.as_bytes()),
        }),
        Operation::SuspendRemoteLedger(p) => json!({"chain_id": p.chain.as_str()}),
        Operation::ResumeRemoteLedger(p) => json!({"chain_id": p.chain.as_str()}),
        Operation::UnpauseInstrument(p) => json!({"instrument": p.instrument.0}),
        Operation::Mint(p) => json!({
            "instrument": p.instrument.0, "to": p.to.0, "amount": p.amount.to_string()
        }),
        Operation::Burn(p) => json!({
            "instrument": p.instrument.0, "from": p.from.0, "amount": p.amount.to_string()
        }),
        Operation::Transfer(p) => json!({"leg": leg_json(&p.leg)}),
        Operation::TransferBatch(p) => json!({"transfers": p
            .transfers
            .iter()
            .map(|t| json!({"leg": leg_json(&t.leg), "linked": t.linked}))
            .collect::<Vec<_>>()}),
        Operation::Settle(p) => json!({"legs": p.legs.iter().map(leg_json).collect::<Vec<_>>()}),
        Operation::Instruct(p) => json!({
            "instruction": p.instruction_id().to_hex(),
            "trade_ref": p.trade_ref.to_string(),
            "legs": p.legs.iter().map(leg_json).collect::<Vec<_>>(),
            "expires_at_ms": p.expires_at.0,
        }),
        Operation::CancelInstruction(p) => json!({"instruction": p.instruction.to_hex()}),
        Operation::PlaceHold(p) => json!({
            "hold": p.hold.0,
            "leg": leg_json(&p.leg),
            "hash_lock": p.hash_lock.map(|h| h.to_hex()),
            "deadline_ms": p.deadline.0,
        }),
        Operation::ReleaseHold(p) => {
            json!({"hold": p.hold.0, "has_preimage": p.preimage.is_some()})
        }
        Operation::RefundHold(p) => json!({"hold": p.hold.0}),
        Operation::LockCrossLedger(p) => json!({
            "hold": p.hold.0,
            "leg": leg_json(&p.leg),
            "deadline_ms": p.deadline.0,
            "cross": serde_json::to_value(cross_leg(&tally_types::remote::CrossLeg {
                role: p.role,
                counterpart: p.counterpart.clone(),
            })).unwrap_or(Value::Null),
            "proof": p.proof.as_ref().map(remote_proof_json),
        }),
        Operation::ProveCrossLedger(p) => json!({
            "hold": p.hold.0,
            "proof": remote_proof_json(&p.proof),
        }),
        Operation::FreezeHolding(p) => json!({
            "account": p.account.0, "instrument": p.instrument.0,
            "amount": p.amount.to_string(), "reason": p.reason
        }),
        Operation::UnfreezeHolding(p) => json!({
            "account": p.account.0, "instrument": p.instrument.0, "amount": p.amount.to_string()
        }),
        Operation::ForcedTransfer(p) => json!({"leg": leg_json(&p.leg), "reason": p.reason}),
        Operation::RecoverAccount(p) => json!({"from": p.from.0, "to": p.to.0, "reason": p.reason}),
        Operation::AnnounceAuction(p) => json!({
            "auction": p.auction.0,
            "security": match &p.security {
                AuctionSecurity::New(c) => json!({"new": serde_json::to_value(crate::genesis::instrument_entry(c)).unwrap_or(Value::Null)}),
                AuctionSecurity::Reopen(id) => json!({"reopen": id.0}),
            },
            "offering": p.offering.to_string(),
            "close_at_ms": p.close_at.0,
            "issue_date": p.issue_date.to_string(),
            "cash_instrument": p.cash_instrument.0,
            "issuer_cash_account": p.issuer_cash_account.0,
            "max_noncompetitive_per_bidder": p.max_noncompetitive_per_bidder.to_string(),
            "max_noncompetitive_total": p.max_noncompetitive_total.to_string(),
            "award_cap_bp": p.award_cap_bp,
            "max_price": price_string(p.max_price),
        }),
        Operation::SubmitBid(p) => json!({
            "auction": p.auction.0,
            "account": p.account.0,
            "kind": bid_kind(&p.kind),
            "rate": bid_rate(&p.kind),
            "amount": p.amount.to_string(),
        }),
        Operation::WithdrawBid(p) => json!({"auction": p.auction.0, "seq": p.seq}),
        Operation::CancelAuction(p) => json!({"auction": p.auction.0}),
        Operation::SetServicing(p) => json!({
            "instrument": p.instrument.0,
            "paying_account": p.paying_account.0,
            "cash_instrument": p.cash_instrument.0,
        }),
        Operation::ClaimEntitlement(p) => json!({
            "instrument": p.instrument.0,
            "distribution": p.distribution,
            "account": p.account.0,
        }),
        Operation::EnableStrips(p) => json!({
            "instrument": p.instrument.0,
            "principal_component": p.principal_component.0,
        }),
        Operation::Strip(p) => json!({
            "account": p.account.0, "instrument": p.instrument.0, "amount": p.amount.to_string(),
        }),
        Operation::Reconstitute(p) => json!({
            "account": p.account.0, "instrument": p.instrument.0, "amount": p.amount.to_string(),
        }),
        Operation::OpenRepo(p) => json!({
            "repo": p.repo.0,
            "borrower_account": p.borrower_account.0,
            "lender_account": p.lender_account.0,
            "collateral": collateral_json(&p.collateral),
            "cash_instrument": p.cash_instrument.0,
            "cash_amount": p.cash_amount.to_string(),
            "rate": p.rate.to_percent_string(),
            "maturity": p.maturity.map(|d| d.to_string()),
        }),
        Operation::CloseRepo(p) => json!({"repo": p.repo.0}),
        Operation::PublishNav(p) => json!({
            "fund": p.fund.0, "date": p.date.to_string(), "nav": price_string(p.nav),
        }),
        Operation::DeclareDividend(p) => json!({
            "instrument": p.instrument.0,
            "amount_per_unit": p.amount_per_unit.to_string(),
            "per_units": p.per_units.to_string(),
            "record_date": p.record_date.to_string(),
            "cash_instrument": p.cash_instrument.0,
            "paying_account": p.paying_account.0,
            "reinvest": p.reinvest,
        }),
        Operation::SubstituteCollateral(p) => json!({
            "repo": p.repo.0,
            "give_back": collateral_json(&p.give_back),
            "deliver": collateral_json(&p.deliver),
        }),
    };
    if let Value::Object(map) = &mut v {
        map.insert("op".into(), Value::String(op.name().to_string()));
    }
    v
}

/// A transaction body.
pub fn transaction(tx: &Transaction) -> Value {
    json!({
        "sender": to_hex(tx.sender.as_ref()),
        "nonce": tx.nonce,
        "expires_at_ms": tx.expires_at.0,
        "operations": tx.operations.iter().map(operation).collect::<Vec<_>>(),
    })
}

fn move_kind(k: &MoveKind) -> (String, Option<u16>) {
    match k {
        MoveKind::Mint => ("mint".into(), None),
        MoveKind::Burn => ("burn".into(), None),
        MoveKind::Transfer => ("transfer".into(), None),
        MoveKind::Settle => ("settle".into(), None),
        MoveKind::Instruction => ("instruction".into(), None),
        MoveKind::HoldRelease => ("hold_release".into(), None),
        MoveKind::Forced(r) => ("forced".into(), Some(*r)),
        MoveKind::Recovery(r) => ("recovery".into(), Some(*r)),
        MoveKind::Auction => ("auction".into(), None),
        MoveKind::Coupon => ("coupon".into(), None),
        MoveKind::Redemption => ("redemption".into(), None),
        MoveKind::Strip => ("strip".into(), None),
        MoveKind::Repo => ("repo".into(), None),
        MoveKind::Dividend => ("dividend".into(), None),
    }
}

/// Repo collateral positions.
pub fn collateral_json(c: &[tally_types::ops::Collateral]) -> Value {
    Value::Array(
        c.iter()
            .map(|x| json!({"instrument": x.instrument.0, "amount": x.amount.to_string()}))
            .collect(),
    )
}

/// A price in millionths per 100 of par as a decimal string (`98.679236`).
pub fn price_string(micros: u64) -> String {
    tally_types::amount::format_fixed(u128::from(micros), 6)
}

/// `noncompetitive` or `competitive`.
pub fn bid_kind(k: &BidKind) -> &'static str {
    match k {
        BidKind::Noncompetitive => "noncompetitive",
        BidKind::Competitive(_) => "competitive",
    }
}

/// A competitive bid's rate as a percentage string, if any.
pub fn bid_rate(k: &BidKind) -> Option<String> {
    match k {
        BidKind::Noncompetitive => None,
        BidKind::Competitive(r) => Some(r.to_percent_string()),
    }
}

/// An event: `{"event": name, …fields}`.
pub fn event(e: &Event) -> Value {
    let (name, v) = match e {
        Event::Moved {
            kind,
            from,
            to,
            instrument,
            amount,
        } => {
            let (kind, reason) = move_kind(kind);
            (
                "moved",
                json!({
                    "kind": kind, "reason": reason, "from": from.map(|a| a.0), "to": to.map(|a| a.0),
                    "instrument": instrument.0, "amount": amount.to_string()
                }),
            )
        }
        Event::ParticipantRegistered(l) => {
            ("participant_registered", json!({"lei": l.to_string()}))
        }
        Event::ParticipantUpdated(l) => ("participant_updated", json!({"lei": l.to_string()})),
        Event::ParticipantSuspended(l, r) => (
            "participant_suspended",
            json!({"lei": l.to_string(), "reason": r}),
        ),
        Event::ParticipantReinstated(l) => {
            ("participant_reinstated", json!({"lei": l.to_string()}))
        }
        Event::KeyAdded(l, k) => (
            "key_added",
            json!({"lei": l.to_string(), "key": to_hex(k.as_ref())}),
        ),
        Event::KeyRemoved(l, k) => (
            "key_removed",
            json!({"lei": l.to_string(), "key": to_hex(k.as_ref())}),
        ),
        Event::ThresholdsChanged(l) => ("thresholds_changed", json!({"lei": l.to_string()})),
        Event::AccountOpened(a, l, k) => (
            "account_opened",
            json!({"account": a.0, "owner": l.to_string(), "kind": snake(k.name())}),
        ),
        Event::AccountFrozen(a, r) => ("account_frozen", json!({"account": a.0, "reason": r})),
        Event::AccountUnfrozen(a) => ("account_unfrozen", json!({"account": a.0})),
        Event::InstrumentCreated(i) => ("instrument_created", json!({"instrument": i.0})),
        Event::PolicyUpdated(i) => ("policy_updated", json!({"instrument": i.0})),
        Event::InstrumentPaused(i) => ("instrument_paused", json!({"instrument": i.0})),
        Event::InstrumentUnpaused(i) => ("instrument_unpaused", json!({"instrument": i.0})),
        Event::InstructionSubmitted(h, l) => (
            "instruction_submitted",
            json!({"instruction": h.to_hex(), "lei": l.to_string()}),
        ),
        Event::InstructionMatched(h) => ("instruction_matched", json!({"instruction": h.to_hex()})),
        Event::InstructionCancelled(h, l) => (
            "instruction_cancelled",
            json!({"instruction": h.to_hex(), "lei": l.to_string()}),
        ),
        Event::InstructionExpired(h) => ("instruction_expired", json!({"instruction": h.to_hex()})),
        Event::HoldPlaced(h) => ("hold_placed", json!({"hold": h.0})),
        Event::HoldReleased(h) => ("hold_released", json!({"hold": h.0})),
        Event::HoldRefunded(h) => ("hold_refunded", json!({"hold": h.0})),
        Event::RemoteLedgerRegistered(c) => {
            ("remote_ledger_registered", json!({"chain_id": c.as_str()}))
        }
        Event::RemoteLedgerSuspended(c) => {
            ("remote_ledger_suspended", json!({"chain_id": c.as_str()}))
        }
        Event::RemoteLedgerResumed(c) => ("remote_ledger_resumed", json!({"chain_id": c.as_str()})),
        Event::HoldingFrozen(a, i, amount, r) => (
            "holding_frozen",
            json!({"account": a.0, "instrument": i.0, "amount": amount.to_string(), "reason": r}),
        ),
        Event::HoldingUnfrozen(a, i, amount) => (
            "holding_unfrozen",
            json!({"account": a.0, "instrument": i.0, "amount": amount.to_string()}),
        ),
        Event::AuctionAnnounced(a) => ("auction_announced", json!({"auction": a.0})),
        Event::BidSubmitted {
            auction,
            seq,
            bidder,
        } => (
            "bid_submitted",
            json!({"auction": auction.0, "seq": seq, "bidder": bidder.to_string()}),
        ),
        Event::BidWithdrawn(a, seq) => ("bid_withdrawn", json!({"auction": a.0, "seq": seq})),
        Event::AuctionCancelled(a) => ("auction_cancelled", json!({"auction": a.0})),
        Event::AuctionClosed {
            auction,
            stop_out,
            pct_bp,
            price,
            awarded,
        } => (
            "auction_closed",
            json!({
                "auction": auction.0, "stop_out": stop_out.to_percent_string(),
                "allotment_pct": tally_types::amount::format_fixed(u128::from(*pct_bp), 2),
                "price": price_string(*price), "awarded": awarded.to_string()
            }),
        ),
        Event::AuctionFailed(a) => ("auction_failed", json!({"auction": a.0})),
        Event::AwardFailed {
            auction,
            bidder,
            code,
        } => (
            "award_failed",
            json!({"auction": auction.0, "bidder": bidder.to_string(), "code": code.code(), "name": code.name()}),
        ),
        Event::AuctionIssued { auction, issued } => (
            "auction_issued",
            json!({"auction": auction.0, "issued": issued.to_string()}),
        ),
        Event::ServicingSet(i) => ("servicing_set", json!({"instrument": i.0})),
        Event::DistributionStarted {
            instrument,
            seq,
            kind,
            gross,
        } => (
            "distribution_started",
            json!({"instrument": instrument.0, "seq": seq, "kind": snake(kind.name()), "gross": gross.to_string()}),
        ),
        Event::DistributionUnfunded {
            instrument,
            seq,
            code,
        } => (
            "distribution_unfunded",
            json!({"instrument": instrument.0, "seq": seq, "code": code.code(), "name": code.name()}),
        ),
        Event::EntitlementUnpaid {
            instrument,
            seq,
            account,
            amount,
            code,
        } => (
            "entitlement_unpaid",
            json!({
                "instrument": instrument.0, "seq": seq, "account": account.0,
                "amount": amount.to_string(), "code": code.code(), "name": code.name()
            }),
        ),
        Event::EntitlementClaimed {
            instrument,
            seq,
            account,
            amount,
        } => (
            "entitlement_claimed",
            json!({"instrument": instrument.0, "seq": seq, "account": account.0, "amount": amount.to_string()}),
        ),
        Event::DistributionCompleted {
            instrument,
            seq,
            paid,
            unpaid,
            retained,
            holders,
        } => (
            "distribution_completed",
            json!({
                "instrument": instrument.0, "seq": seq, "paid": paid.to_string(),
                "unpaid": unpaid.to_string(), "retained": retained.to_string(), "holders": holders
            }),
        ),
        Event::InstrumentMatured(i) => ("instrument_matured", json!({"instrument": i.0})),
        Event::StripsEnabled(i) => ("strips_enabled", json!({"instrument": i.0})),
        Event::RepoOpened(r) => ("repo_opened", json!({"repo": r.0})),
        Event::NavPublished(f, d) => ("nav_published", json!({"fund": f.0, "date": d.to_string()})),
        Event::DividendDeclared(i, seq) => {
            ("dividend_declared", json!({"instrument": i.0, "seq": seq}))
        }
        Event::RepoClosed {
            repo,
            paid,
            manufactured,
        } => (
            "repo_closed",
            json!({"repo": repo.0, "paid": paid.to_string(), "manufactured": manufactured.to_string()}),
        ),
        Event::RepoFailed { repo, code } => (
            "repo_failed",
            json!({"repo": repo.0, "code": code.code(), "name": code.name()}),
        ),
        Event::CollateralSubstituted(r) => ("collateral_substituted", json!({"repo": r.0})),
        Event::Stripped {
            account,
            instrument,
            amount,
        } => (
            "stripped",
            json!({"account": account.0, "instrument": instrument.0, "amount": amount.to_string()}),
        ),
        Event::Reconstituted {
            account,
            instrument,
            amount,
        } => (
            "reconstituted",
            json!({"account": account.0, "instrument": instrument.0, "amount": amount.to_string()}),
        ),
    };
    let mut v = v;
    if let Value::Object(map) = &mut v {
        map.insert("event".into(), Value::String(name.to_string()));
    }
    v
}

/// Accounts an event concerns (for per-account streams).
pub fn event_accounts(e: &Event) -> Vec<AccountId> {
    match e {
        Event::Moved { from, to, .. } => from.iter().chain(to.iter()).copied().collect(),
        Event::AccountOpened(a, ..)
        | Event::AccountFrozen(a, _)
        | Event::AccountUnfrozen(a)
        | Event::HoldingFrozen(a, ..)
        | Event::HoldingUnfrozen(a, ..)
        | Event::EntitlementUnpaid { account: a, .. }
        | Event::EntitlementClaimed { account: a, .. }
        | Event::Stripped { account: a, .. }
        | Event::Reconstituted { account: a, .. } => vec![*a],
        _ => Vec::new(),
    }
}

/// A transfer batch's per-transfer outcomes.
pub fn batch_result(b: &tally_ledger::schema::BatchResult) -> BatchInfo {
    let transfers = b.transfers;
    let failures: Vec<BatchFailureInfo> = b
        .failures
        .iter()
        .map(|f| {
            let code = b.code_of(f.index);
            BatchFailureInfo {
                index: f.index,
                code: code.code(),
                code_name: code.name().to_string(),
            }
        })
        .collect();
    BatchInfo {
        transfers,
        applied: b.applied(),
        failures,
    }
}

/// Accounts an operation names (its parties' accounts).
pub fn operation_accounts(op: &Operation) -> Vec<AccountId> {
    match op {
        Operation::OpenAccount(p) => vec![p.account],
        Operation::FreezeAccount(p) => vec![p.account],
        Operation::UnfreezeAccount(p) => vec![p.account],
        Operation::Mint(p) => vec![p.to],
        Operation::Burn(p) => vec![p.from],
        Operation::Transfer(p) => vec![p.leg.from, p.leg.to],
        // A batch names the debited accounts only: its approvers see the whole batch; a
        // credited party sees its own movements in its account's events, not the
        // institution's other transfers.
        Operation::TransferBatch(p) => {
            let mut accounts: Vec<AccountId> = p.transfers.iter().map(|t| t.leg.from).collect();
            accounts.sort_unstable();
            accounts.dedup();
            accounts
        }
        Operation::ForcedTransfer(p) => vec![p.leg.from, p.leg.to],
        Operation::PlaceHold(p) => vec![p.leg.from, p.leg.to],
        Operation::LockCrossLedger(p) => vec![p.leg.from, p.leg.to],
        Operation::Settle(p) => p.legs.iter().flat_map(|l| [l.from, l.to]).collect(),
        Operation::Instruct(p) => p.legs.iter().flat_map(|l| [l.from, l.to]).collect(),
        Operation::FreezeHolding(p) => vec![p.account],
        Operation::UnfreezeHolding(p) => vec![p.account],
        Operation::RecoverAccount(p) => vec![p.from, p.to],
        Operation::SubmitBid(p) => vec![p.account],
        Operation::ClaimEntitlement(p) => vec![p.account],
        Operation::Strip(p) => vec![p.account],
        Operation::Reconstitute(p) => vec![p.account],
        Operation::OpenRepo(p) => vec![p.borrower_account, p.lender_account],
        _ => Vec::new(),
    }
}
