//! Lifecycle reads: auctions (terms and, after the close, results: public; bids: the
//! bidder its own, the issuer, regulators and auditors all) and servicing (paying
//! account, coupon schedule, distributions: public reference data).

use super::error::ApiError;
use super::json::{bid_kind, bid_rate, price_string};
use super::{Api, Reader, allow};
use crate::genesis::snake;
use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use tally_ledger::coupons;
use tally_ledger::schema::{AuctionRecord, AuctionStatus, InstrumentStatus};
use tally_types::AuctionId;
use tally_types::amount::format_fixed;
use tally_types::model::InstrumentKind;
use utoipa::ToSchema;

/// Most coupon dates listed.
const MAX_SCHEDULE: usize = 240;
/// Most distributions or bids listed.
const MAX_ROWS: usize = 10_000;

/// What the close of an auction found.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct AuctionResultInfo {
    /// Highest accepted rate (percent).
    pub stop_out: String,
    /// Lowest accepted competitive rate (percent).
    pub low_rate: String,
    /// Share of bids at the stop-out awarded (percent, two decimals).
    pub allotment_pct: String,
    /// Single price per 100 of par (six decimals).
    pub price: String,
    /// Accrued interest per 100 of par (nine decimals, truncated).
    pub accrued_per_100: String,
    /// Coupon rate set by the close (notes and bonds; percent).
    pub coupon: String,
    /// Noncompetitive par awarded (security minor units).
    pub noncompetitive: String,
    /// Competitive par awarded.
    pub competitive: String,
    /// Everything awarded.
    pub total_awarded: String,
    /// Awarded beyond the offering (negative: unsold).
    pub over_allotment: String,
    /// Par tendered.
    pub tendered: String,
    /// Tendered ÷ awarded, two decimals.
    pub bid_to_cover: String,
    /// Par issued at settlement (awards that failed to settle excluded).
    pub issued: String,
}

/// An auction: announced terms and, after the close, its result.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct AuctionInfo {
    /// Auction id.
    pub id: u64,
    /// Issuer LEI.
    pub issuer: String,
    /// The security sold.
    pub security: u64,
    /// Whether the auction created the security.
    pub new_security: bool,
    /// open, closed, issued, failed or cancelled.
    pub status: String,
    /// Par offered (security minor units).
    pub offering: String,
    /// Minimum and multiple of every bid.
    pub increment: String,
    /// Competitive rates are multiples of this (percent).
    pub rate_tick: String,
    /// Bids close at this instant (ms).
    pub close_at_ms: u64,
    /// Issue date.
    pub issue_date: String,
    /// Cash paid.
    pub cash_instrument: u64,
    /// Issuer account paid.
    pub issuer_cash_account: u64,
    /// Noncompetitive limit per bidder.
    pub max_noncompetitive_per_bidder: String,
    /// Noncompetitive limit in all.
    pub max_noncompetitive_total: String,
    /// Award cap per bidder (percent of the offering).
    pub award_cap_pct: String,
    /// Highest price per 100 (sizes the cash held per bid).
    pub max_price: String,
    /// Bids recorded (shown after the close).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bids: Option<u32>,
    /// The close's result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<AuctionResultInfo>,
}

/// One bid.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct BidInfo {
    /// Sequence number.
    pub seq: u32,
    /// Bidder LEI.
    pub bidder: String,
    /// Account paying and receiving.
    pub account: u64,
    /// noncompetitive or competitive.
    pub kind: String,
    /// Competitive rate (percent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<String>,
    /// Par bid.
    pub amount: String,
    /// Cash held for it.
    pub hold: String,
    /// Par awarded (after the close).
    pub award: String,
}

/// A bidder's totals.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct BidderInfo {
    /// Bidder LEI.
    pub bidder: String,
    /// Its account.
    pub account: u64,
    /// Competitive or not.
    pub competitive: bool,
    /// Par bid.
    pub bid: String,
    /// Cash held now.
    pub held: String,
    /// Par awarded.
    pub award: String,
    /// Cash owed for the award (cash minor units).
    pub cost: String,
    /// The issue's outcome: empty until issued or if it settled, else the rule's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

/// `GET /auction/{id}/bids`: what the reader may see.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct AuctionBids {
    /// Bids, by sequence number.
    pub bids: Vec<BidInfo>,
    /// Bidders, by LEI.
    pub bidders: Vec<BidderInfo>,
}

/// One distribution.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct DistributionInfo {
    /// Sequence number on the instrument.
    pub seq: u32,
    /// coupon or redemption.
    pub kind: String,
    /// Payment (and record) date.
    pub date: String,
    /// unfunded, paying or done.
    pub status: String,
    /// Cash per security minor unit: numerator / denominator.
    pub per_unit: String,
    /// Supply at the record moment.
    pub supply: String,
    /// Cash held to pay it.
    pub gross: String,
    /// Cash paid.
    pub paid: String,
    /// Cash left as entitlements.
    pub unpaid: String,
    /// Cash released to the issuer when done.
    pub retained: String,
    /// Holders paid.
    pub holders: u64,
}

/// `GET /instrument/{id}/servicing`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ServicingInfo {
    /// Instrument.
    pub instrument: u64,
    /// active, paused, matured or announced.
    pub status: String,
    /// The register is closed while a payment runs.
    pub book_closed: bool,
    /// The issuer's paying account, if servicing is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paying_account: Option<u64>,
    /// The cash paid, if servicing is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cash_instrument: Option<u64>,
    /// Remaining payment dates (coupons, then maturity), ascending.
    pub schedule: Vec<String>,
    /// Distributions so far.
    pub distributions: Vec<DistributionInfo>,
}

fn parse_auction(s: &str) -> Result<AuctionId, ApiError> {
    s.parse::<u64>()
        .map(AuctionId)
        .map_err(|_| ApiError::param(format!("auction id must be a decimal u64, got {s:?}")))
}

fn status_name(s: AuctionStatus) -> String {
    snake(s.name())
}

fn auction_info(id: AuctionId, a: &AuctionRecord) -> AuctionInfo {
    let closed = a.status != AuctionStatus::Open && a.status != AuctionStatus::Cancelled;
    let result = a.result.map(|r| {
        let total = r.total_awarded();
        let over = i128::try_from(total).unwrap_or(i128::MAX)
            - i128::try_from(a.offering).unwrap_or(i128::MAX);
        let accrued = r
            .accrued_num
            .saturating_mul(1_000_000_000)
            .checked_div(r.accrued_den)
            .unwrap_or(0);
        AuctionResultInfo {
            stop_out: r.stop_out.to_percent_string(),
            low_rate: r.low_rate.to_percent_string(),
            allotment_pct: format_fixed(u128::from(r.pct_bp), 2),
            price: price_string(r.price),
            accrued_per_100: format_fixed(accrued, 9),
            coupon: r.coupon.to_percent_string(),
            noncompetitive: r.noncompetitive.to_string(),
            competitive: r.competitive.to_string(),
            total_awarded: total.to_string(),
            over_allotment: over.to_string(),
            tendered: r.tendered.to_string(),
            bid_to_cover: format_fixed(u128::from(r.bid_to_cover), 2),
            issued: r.issued.to_string(),
        }
    });
    AuctionInfo {
        id: id.0,
        issuer: a.issuer.to_string(),
        security: a.security.0,
        new_security: a.new_security,
        status: status_name(a.status),
        offering: a.offering.to_string(),
        increment: a.increment.to_string(),
        rate_tick: tally_types::Rate(a.rate_tick).to_percent_string(),
        close_at_ms: a.close_at.0,
        issue_date: a.issue_date.to_string(),
        cash_instrument: a.cash_instrument.0,
        issuer_cash_account: a.issuer_cash_account.0,
        max_noncompetitive_per_bidder: a.max_noncompetitive_per_bidder.to_string(),
        max_noncompetitive_total: a.max_noncompetitive_total.to_string(),
        award_cap_pct: format_fixed(u128::from(a.award_cap_bp), 2),
        max_price: price_string(a.max_price),
        bids: closed.then_some(a.bids),
        result,
    }
}

/// An auction's terms and, after the close, its result (public).
#[utoipa::path(get, path = "/auction/{id}", tag = "lifecycle",
    params(("id" = u64, Path)),
    responses((status = 200, body = AuctionInfo), (status = 400, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody)))]
pub(super) async fn auction(
    State(api): State<Api>,
    Path(id): Path<String>,
) -> Result<Json<AuctionInfo>, ApiError> {
    let id = parse_auction(&id)?;
    api.state
        .read(|r| r.auction(id))
        .map(|a| Json(auction_info(id, &a)))
        .ok_or_else(|| ApiError::not_found(format!("no auction {}", id.0)))
}

/// An auction's bids and bidders: a bidder sees its own; the issuer, regulators and
/// auditors see all.
#[utoipa::path(get, path = "/auction/{id}/bids", tag = "lifecycle",
    params(("id" = u64, Path)), security(("read_token" = [])),
    responses((status = 200, body = AuctionBids), (status = 401, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody)))]
pub(super) async fn auction_bids(
    State(api): State<Api>,
    reader: Reader,
    Path(id): Path<String>,
) -> Result<Json<AuctionBids>, ApiError> {
    let id = parse_auction(&id)?;
    let (a, bids, bidders) = api
        .state
        .read(|r| {
            let a = r.auction(id)?;
            Some((a, r.bids(id, MAX_ROWS), r.bidders(id, MAX_ROWS)))
        })
        .ok_or_else(|| ApiError::not_found(format!("no auction {}", id.0)))?;
    let sees_all = allow(&reader.0, &[a.issuer]).is_ok();
    let me = match &reader.0 {
        Some(p) => p.lei,
        None => return Err(allow(&reader.0, &[]).expect_err("no reader")),
    };
    let bids = bids
        .into_iter()
        .filter(|(_, b)| sees_all || b.bidder == me)
        .map(|(seq, b)| BidInfo {
            seq,
            bidder: b.bidder.to_string(),
            account: b.account.0,
            kind: bid_kind(&b.kind).to_string(),
            rate: bid_rate(&b.kind),
            amount: b.amount.to_string(),
            hold: b.hold.to_string(),
            award: b.award.to_string(),
        })
        .collect();
    let bidders = bidders
        .into_iter()
        .filter(|(lei, _)| sees_all || *lei == me)
        .map(|(lei, b)| BidderInfo {
            bidder: lei.to_string(),
            account: b.account.0,
            competitive: b.competitive,
            bid: b.bid.to_string(),
            held: b.held.to_string(),
            award: b.award.to_string(),
            cost: b.cost.to_string(),
            failure: tally_types::ResultCode::from_code(b.outcome)
                .filter(|c| *c != tally_types::ResultCode::Ok)
                .map(|c| c.name().to_string()),
        })
        .collect();
    Ok(Json(AuctionBids { bids, bidders }))
}

/// An instrument's servicing: who pays, the remaining payment dates and every
/// distribution so far (public).
#[utoipa::path(get, path = "/instrument/{id}/servicing", tag = "lifecycle",
    params(("id" = String, Path, description = "instrument id, ISIN or CUSIP")),
    responses((status = 200, body = ServicingInfo), (status = 404, body = super::error::ErrorBody)))]
pub(super) async fn servicing(
    State(api): State<Api>,
    Path(id): Path<String>,
) -> Result<Json<ServicingInfo>, ApiError> {
    api.state
        .read(|r| {
            let iid = super::resolve_instrument(r, &id)?;
            let inst = r.instrument(iid)?;
            let servicing = r.servicing(iid);
            let today = tally_ledger::Ledger::meta(r.0).time.date();
            let mut schedule = Vec::new();
            if inst.status != InstrumentStatus::Matured {
                match &inst.kind {
                    InstrumentKind::TreasuryNote(t) | InstrumentKind::TreasuryBond(t) => {
                        let mut after = today;
                        while let Some((_, d)) = coupons::next_payment(t, after) {
                            schedule.push(d.to_string());
                            after = d;
                            if schedule.len() >= MAX_SCHEDULE {
                                break;
                            }
                        }
                    }
                    InstrumentKind::TreasuryBill { maturity_date, .. }
                        if *maturity_date > today =>
                    {
                        schedule.push(maturity_date.to_string());
                    }
                    _ => {}
                }
            }
            let distributions = r
                .distributions(iid, MAX_ROWS)
                .into_iter()
                .map(|(seq, d)| DistributionInfo {
                    seq,
                    kind: snake(d.kind.name()),
                    date: d.date.to_string(),
                    status: snake(d.status.name()),
                    per_unit: format!("{}/{}", d.per_unit_num, d.per_unit_den),
                    supply: d.supply.to_string(),
                    gross: d.gross.to_string(),
                    paid: d.paid.to_string(),
                    unpaid: d.unpaid.to_string(),
                    retained: d.retained.to_string(),
                    holders: d.holders,
                })
                .collect();
            Some(ServicingInfo {
                instrument: iid.0,
                status: super::json::instrument_status(inst.status).to_string(),
                book_closed: inst.book_closed,
                paying_account: servicing.map(|s| s.paying_account.0),
                cash_instrument: servicing.map(|s| s.cash_instrument.0),
                schedule,
                distributions,
            })
        })
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no instrument {id:?} (an id, ISIN or CUSIP)")))
}

/// One remaining payment date of a note and its interest component.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct InterestComponentInfo {
    /// Payment date.
    pub date: String,
    /// The issuer's interest component for that date, if created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<u64>,
}

/// `GET /instrument/{id}/strips`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct StripsInfo {
    /// The note or bond.
    pub instrument: u64,
    /// Its principal component, once eligible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_component: Option<u64>,
    /// Each remaining payment date with its interest component.
    pub interest: Vec<InterestComponentInfo>,
}

/// A note's or bond's STRIPS: its principal component and the interest component of each
/// remaining payment date (public).
#[utoipa::path(get, path = "/instrument/{id}/strips", tag = "lifecycle",
    params(("id" = String, Path, description = "instrument id, ISIN or CUSIP")),
    responses((status = 200, body = StripsInfo), (status = 404, body = super::error::ErrorBody)))]
pub(super) async fn strips(
    State(api): State<Api>,
    Path(id): Path<String>,
) -> Result<Json<StripsInfo>, ApiError> {
    api.state
        .read(|r| {
            let iid = super::resolve_instrument(r, &id)?;
            let inst = r.instrument(iid)?;
            let (InstrumentKind::TreasuryNote(t) | InstrumentKind::TreasuryBond(t)) = &inst.kind
            else {
                return None;
            };
            let mut after = tally_ledger::Ledger::meta(r.0).time.date();
            let mut interest = Vec::new();
            while let Some((_, d)) = coupons::next_payment(t, after) {
                interest.push(InterestComponentInfo {
                    date: d.to_string(),
                    component: r.interest_component(&inst.issuer, d).map(|c| c.0),
                });
                after = d;
                if interest.len() >= MAX_SCHEDULE {
                    break;
                }
            }
            Some(StripsInfo {
                instrument: iid.0,
                principal_component: r.strips(iid).map(|c| c.0),
                interest,
            })
        })
        .map(Json)
        .ok_or_else(|| {
            ApiError::not_found(format!("no note or bond {id:?} (an id, ISIN or CUSIP)"))
        })
}

/// A repo.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct RepoInfo {
    /// Repo id.
    pub id: u64,
    /// open, failed or closed.
    pub status: String,
    /// The borrower's account.
    pub borrower_account: u64,
    /// The lender's account.
    pub lender_account: u64,
    /// Collateral with the lender: `[{instrument, amount}]`.
    #[schema(value_type = Object)]
    pub collateral: serde_json::Value,
    /// Cash instrument.
    pub cash_instrument: u64,
    /// Cash lent (minor units).
    pub cash_amount: String,
    /// Repo rate (percent, ACT/360).
    pub rate: String,
    /// Opening instant (ms).
    pub opened_at_ms: u64,
    /// Closing date of a term repo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maturity: Option<String>,
    /// The rule that refused the last close, if it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// Coupons received by the lender on the collateral, counted so far (netted at close).
    pub manufactured: String,
}

/// A repo (to its two parties, regulators and auditors).
#[utoipa::path(get, path = "/repo/{id}", tag = "lifecycle",
    params(("id" = u64, Path)), security(("read_token" = [])),
    responses((status = 200, body = RepoInfo), (status = 401, body = super::error::ErrorBody), (status = 403, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody)))]
pub(super) async fn repo(
    State(api): State<Api>,
    reader: Reader,
    Path(id): Path<String>,
) -> Result<Json<RepoInfo>, ApiError> {
    let id = id
        .parse::<u64>()
        .map(tally_types::RepoId)
        .map_err(|_| ApiError::param(format!("repo id must be a decimal u64, got {id:?}")))?;
    let (rec, owners) = api
        .state
        .read(|r| {
            let rec = r.repo(id)?;
            let owners: Vec<tally_types::Lei> = [rec.borrower_account, rec.lender_account]
                .into_iter()
                .filter_map(|a| r.account(a).map(|a| a.owner))
                .collect();
            Some((rec, owners))
        })
        .ok_or_else(|| ApiError::not_found(format!("no repo {}", id.0)))?;
    allow(&reader.0, &owners)?;
    Ok(Json(RepoInfo {
        id: id.0,
        status: snake(rec.status.name()),
        borrower_account: rec.borrower_account.0,
        lender_account: rec.lender_account.0,
        collateral: super::json::collateral_json(&rec.collateral),
        cash_instrument: rec.cash_instrument.0,
        cash_amount: rec.cash_amount.to_string(),
        rate: rec.rate.to_percent_string(),
        opened_at_ms: rec.opened_at.0,
        maturity: rec.maturity.map(|d| d.to_string()),
        failure: tally_types::ResultCode::from_code(rec.failure)
            .filter(|c| *c != tally_types::ResultCode::Ok)
            .map(|c| c.name().to_string()),
        manufactured: rec.manufactured.to_string(),
    }))
}

/// `GET /auctions`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct AuctionList {
    /// Auctions, ascending by id.
    pub auctions: Vec<AuctionInfo>,
}

/// Every auction (up to 1,000), with terms and results (public).
#[utoipa::path(get, path = "/auctions", tag = "lifecycle",
    responses((status = 200, body = AuctionList)))]
pub(super) async fn auctions(State(api): State<Api>) -> Json<AuctionList> {
    let list = api.state.read(|r| r.auctions(super::MAX_LISTED));
    Json(AuctionList {
        auctions: list.iter().map(|(id, a)| auction_info(*id, a)).collect(),
    })
}
