//! The life of a security from the command line: auctions (announce, bid, withdraw,
//! cancel, results), servicing (who pays coupons and redemption, payment dates,
//! distributions) and claims of unpaid entitlements.

use crate::ctx::{CliError, CliResult, Ctx, parse_account, parse_decimal};
use crate::ops::{SendArgs, chain_now, instrument, read_json, send};
use clap::Subcommand;
use std::path::PathBuf;
use tally_node::genesis::InstrumentEntry;
use tally_types::model::InstrumentKind;
use tally_types::ops::*;
use tally_types::{AuctionId, Date, Operation, Rate, Timestamp};

/// `tally auction …`
#[derive(Subcommand, Debug)]
pub enum AuctionCmd {
    /// An auction's terms and, after the close, its result.
    Show {
        /// Auction id.
        id: u64,
    },
    /// The bids and awards you may see (yours; the issuer and regulators see all).
    Bids {
        /// Auction id.
        id: u64,
    },
    /// Announce a single-price auction of a new bill, note or bond (--new) or more of an
    /// existing note or bond (--reopen) (issuer).
    Announce {
        /// New auction id.
        #[arg(long)]
        id: u64,
        /// The new security, as a genesis InstrumentEntry JSON (a note or bond states
        /// coupon_rate 0: the close sets it).
        #[arg(long, conflicts_with = "reopen", required_unless_present = "reopen")]
        new: Option<PathBuf>,
        /// The security to reopen (id, ISIN or CUSIP).
        #[arg(long)]
        reopen: Option<String>,
        /// Par offered, in decimal at the security's scale.
        #[arg(long)]
        offering: String,
        /// Bids close this many seconds from now.
        #[arg(long, default_value_t = 60)]
        close_in_secs: u64,
        /// Issue date, YYYY-MM-DD (default: the closing date: issue right after the close).
        #[arg(long)]
        issue_date: Option<String>,
        /// Cash instrument bids pay in (id, ISIN or CUSIP).
        #[arg(long)]
        cash: String,
        /// The issuer's account that receives the cash and pays coupons.
        #[arg(long)]
        account: String,
        /// Noncompetitive limit per bidder (decimal; Treasury: 10000000).
        #[arg(long, default_value = "10000000")]
        max_noncompetitive: String,
        /// Noncompetitive limit in all (decimal; below the offering; default a quarter of
        /// it).
        #[arg(long)]
        max_noncompetitive_total: Option<String>,
        /// Award cap per bidder, percent of the offering.
        #[arg(long, default_value = "35")]
        cap_pct: String,
        /// Highest price per 100 the auction can reach (sizes the cash held per bid).
        #[arg(long, default_value = "100")]
        max_price: String,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Bid: competitive with --rate (yield or discount rate, percent), else
    /// noncompetitive. The account's cash is held until the close.
    Bid {
        /// Auction id.
        auction: u64,
        /// Your account: pays the cash and receives the security.
        #[arg(long)]
        account: String,
        /// Par, in decimal at the security's scale.
        #[arg(long)]
        amount: String,
        /// Competitive rate in percent (e.g. 4.250); omit for a noncompetitive bid.
        #[arg(long)]
        rate: Option<String>,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Withdraw your bid before the close (its seq from `tally auction bids`).
    Withdraw {
        /// Auction id.
        auction: u64,
        /// The bid's sequence number.
        #[arg(long)]
        seq: u32,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Cancel an open auction (issuer): every hold is released.
    Cancel {
        /// Auction id.
        auction: u64,
        #[command(flatten)]
        send: SendArgs,
    },
}

/// `tally servicing …`
#[derive(Subcommand, Debug)]
pub enum ServicingCmd {
    /// Who pays, the remaining payment dates and every distribution so far.
    Show {
        /// Id, ISIN or CUSIP.
        instrument: String,
    },
    /// Name the issuer's paying account and cash for coupons and redemption (issuer);
    /// the next coupon and the maturity are scheduled.
    Set {
        /// Id, ISIN or CUSIP.
        instrument: String,
        /// The issuer's paying account.
        #[arg(long)]
        account: String,
        /// Cash instrument paid (id, ISIN or CUSIP).
        #[arg(long)]
        cash: String,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Collect a payment a distribution could not credit when it ran (account owner).
    Claim {
        /// Id, ISIN or CUSIP of the instrument paid on.
        instrument: String,
        /// Distribution sequence number (from `tally servicing show`).
        #[arg(long)]
        distribution: u32,
        /// The account entitled.
        #[arg(long)]
        account: String,
        #[command(flatten)]
        send: SendArgs,
    },
}

/// `tally strips …`
#[derive(Subcommand, Debug)]
pub enum StripsCmd {
    /// A note's principal component and the interest component of each remaining date.
    Show {
        /// Id, ISIN or CUSIP of the note or bond.
        instrument: String,
    },
    /// Make a note or bond eligible for STRIPS (issuer): creates its principal component
    /// and every missing interest component (ids counted up from --first-id), in one
    /// transaction.
    Enable {
        /// Id, ISIN or CUSIP of the note or bond.
        instrument: String,
        /// First new instrument id: the principal component, then the interest components.
        #[arg(long)]
        first_id: u64,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Strip par of a note into its components (in the same account).
    Strip {
        /// Id, ISIN or CUSIP of the note or bond.
        instrument: String,
        /// The account holding the note.
        #[arg(long)]
        account: String,
        /// Par, in decimal at the note's scale.
        #[arg(long)]
        amount: String,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Rebuild par of a note from its principal and interest components.
    Reconstitute {
        /// Id, ISIN or CUSIP of the note or bond.
        instrument: String,
        /// The account holding the components.
        #[arg(long)]
        account: String,
        /// Par, in decimal at the note's scale.
        #[arg(long)]
        amount: String,
        #[command(flatten)]
        send: SendArgs,
    },
}

/// `tally strips …`
pub fn strips(ctx: &Ctx, cmd: &StripsCmd) -> CliResult {
    match cmd {
        StripsCmd::Show { instrument: i } => {
            let s = ctx.client.strips(i)?;
            if ctx.json() {
                return ctx.print_json(&s);
            }
            match s.principal_component {
                Some(p) => crate::out!("principal component  {p}"),
                None => crate::out!("not eligible for STRIPS"),
            }
            for x in &s.interest {
                let c = x.component.map_or("(none)".to_string(), |c| c.to_string());
                crate::out!("interest {}  {c}", x.date);
            }
            Ok(())
        }
        StripsCmd::Enable {
            instrument: i,
            first_id,
            send: s,
        } => {
            let note = ctx.instrument(i)?;
            let create = tally_node::genesis::instrument(&note.entry)
                .map_err(|e| CliError::Usage(format!("instrument {i}: {e}")))?;
            let maturity = create
                .kind
                .maturity_date()
                .ok_or_else(|| CliError::Usage(format!("{i} is not a note or bond")))?;
            let info = ctx.client.strips(i)?;
            let component = |id: u64, name: String, kind: InstrumentKind| {
                // A long note name may not leave room for the suffix: fall back to the id.
                let name = tally_types::codec::Text::new(&name)
                    .or_else(|| {
                        tally_types::codec::Text::new(format!(
                            "STRIPS of instrument {}",
                            create.instrument
                        ))
                    })
                    .unwrap_or_default();
                Operation::CreateInstrument(CreateInstrument {
                    instrument: tally_types::InstrumentId(id),
                    issuer: create.issuer,
                    name,
                    ids: Default::default(),
                    scale: create.scale,
                    min_increment: 1,
                    kind,
                    policy: create.policy.clone(),
                })
            };
            let bump = |n: u64| {
                n.checked_add(1).ok_or_else(|| {
                    CliError::Usage("--first-id leaves no room for the components".into())
                })
            };
            let mut next = *first_id;
            let mut ops = Vec::new();
            let principal = match info.principal_component {
                Some(p) => tally_types::InstrumentId(p),
                None => {
                    let id = next;
                    next = bump(next)?;
                    ops.push(component(
                        id,
                        format!("{} principal", create.name),
                        InstrumentKind::StripPrincipal {
                            underlying: create.instrument,
                            maturity_date: maturity,
                        },
                    ));
                    tally_types::InstrumentId(id)
                }
            };
            for x in info.interest.iter().filter(|x| x.component.is_none()) {
                let date = Date::parse(&x.date)
                    .ok_or_else(|| CliError::Usage(format!("node sent a bad date {}", x.date)))?;
                ops.push(component(
                    next,
                    format!("Interest STRIPS {date}"),
                    InstrumentKind::StripInterest { payment_date: date },
                ));
                next = bump(next)?;
            }
            ops.push(
                EnableStrips {
                    instrument: create.instrument,
                    principal_component: principal,
                }
                .into(),
            );
            send(ctx, s, ops, vec![])
        }
        StripsCmd::Strip {
            instrument: i,
            account,
            amount,
            send: s,
        }
        | StripsCmd::Reconstitute {
            instrument: i,
            account,
            amount,
            send: s,
        } => {
            let (id, scale) = instrument(ctx, i)?;
            let account = parse_account(account)?;
            let amount = parse_decimal(amount, scale, "amount")?;
            let op: Operation = if matches!(cmd, StripsCmd::Strip { .. }) {
                Strip {
                    account,
                    instrument: id,
                    amount,
                }
                .into()
            } else {
                Reconstitute {
                    account,
                    instrument: id,
                    amount,
                }
                .into()
            };
            send(ctx, s, vec![op], vec![])
        }
    }
}

/// `tally repo …`
#[derive(Subcommand, Debug)]
pub enum RepoCmd {
    /// A repo (its parties, regulators and auditors).
    Show {
        /// Repo id.
        id: u64,
    },
    /// Open a repo: collateral to the lender, cash to the borrower, atomically. Both
    /// parties sign (the other one with --approver).
    Open {
        /// New repo id.
        #[arg(long)]
        id: u64,
        /// Borrower's account (delivers collateral, receives cash).
        #[arg(long)]
        borrower_account: String,
        /// Lender's account (receives collateral, pays cash).
        #[arg(long)]
        lender_account: String,
        /// INSTRUMENT:AMOUNT of collateral (repeatable), amount in decimal.
        #[arg(long = "collateral", value_name = "INSTRUMENT:AMOUNT", required = true)]
        collateral: Vec<String>,
        /// Cash instrument (id, ISIN or CUSIP).
        #[arg(long)]
        cash: String,
        /// Cash lent, in decimal.
        #[arg(long)]
        cash_amount: String,
        /// Repo rate in percent (ACT/360).
        #[arg(long)]
        rate: String,
        /// Closing date, YYYY-MM-DD; omit for an open-ended repo.
        #[arg(long)]
        maturity: Option<String>,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Close an open-ended repo, or retry a failed close (either party).
    Close {
        /// Repo id.
        id: u64,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Substitute collateral (both parties sign).
    Substitute {
        /// Repo id.
        id: u64,
        /// INSTRUMENT:AMOUNT returned to the borrower (repeatable).
        #[arg(long = "give-back", value_name = "INSTRUMENT:AMOUNT", required = true)]
        give_back: Vec<String>,
        /// INSTRUMENT:AMOUNT delivered instead (repeatable).
        #[arg(long = "deliver", value_name = "INSTRUMENT:AMOUNT", required = true)]
        deliver: Vec<String>,
        #[command(flatten)]
        send: SendArgs,
    },
}

fn collateral(
    ctx: &Ctx,
    specs: &[String],
) -> CliResult<
    tally_types::codec::BoundedVec<Collateral, { tally_types::limits::MAX_REPO_COLLATERAL }>,
> {
    let mut out = Vec::new();
    for s in specs {
        let (inst, amount) = s.rsplit_once(':').ok_or_else(|| {
            CliError::Usage(format!("collateral is INSTRUMENT:AMOUNT, got {s:?}"))
        })?;
        let (id, scale) = instrument(ctx, inst)?;
        out.push(Collateral {
            instrument: id,
            amount: parse_decimal(amount, scale, "collateral amount")?,
        });
    }
    tally_types::codec::BoundedVec::new(out).ok_or_else(|| {
        CliError::Usage(format!(
            "at most {} collateral positions",
            tally_types::limits::MAX_REPO_COLLATERAL
        ))
    })
}

/// `tally repo …`
pub fn repo(ctx: &Ctx, cmd: &RepoCmd) -> CliResult {
    match cmd {
        RepoCmd::Show { id } => {
            let r = ctx
                .client
                .repo(tally_types::RepoId(*id), ctx.reader()?.as_ref())?;
            if ctx.json() {
                return ctx.print_json(&r);
            }
            crate::out!("repo           {}  ({})", r.id, r.status);
            crate::out!("borrower       account {}", r.borrower_account);
            crate::out!("lender         account {}", r.lender_account);
            crate::out!("collateral     {}", r.collateral);
            crate::out!(
                "cash           {} of instrument {} at {}",
                r.cash_amount,
                r.cash_instrument,
                r.rate
            );
            crate::out!("opened         {}", Timestamp(r.opened_at_ms));
            crate::out!(
                "maturity       {}",
                r.maturity.as_deref().unwrap_or("open-ended")
            );
            crate::out!("manufactured   {}", r.manufactured);
            if let Some(f) = &r.failure {
                crate::out!("last close     FAILED: {f}");
            }
            Ok(())
        }
        RepoCmd::Open {
            id,
            borrower_account,
            lender_account,
            collateral: c,
            cash,
            cash_amount,
            rate,
            maturity,
            send: s,
        } => {
            let (cash_id, cash_scale) = instrument(ctx, cash)?;
            let maturity = maturity
                .as_ref()
                .map(|d| {
                    Date::parse(d)
                        .ok_or_else(|| CliError::Usage(format!("maturity YYYY-MM-DD: {d:?}")))
                })
                .transpose()?;
            let op = OpenRepo {
                repo: tally_types::RepoId(*id),
                borrower_account: parse_account(borrower_account)?,
                lender_account: parse_account(lender_account)?,
                collateral: collateral(ctx, c)?,
                cash_instrument: cash_id,
                cash_amount: parse_decimal(cash_amount, cash_scale, "cash amount")?,
                rate: parse_rate(rate)?,
                maturity,
            };
            send(ctx, s, vec![op.into()], vec![])
        }
        RepoCmd::Close { id, send: s } => {
            let op = CloseRepo {
                repo: tally_types::RepoId(*id),
            };
            send(ctx, s, vec![op.into()], vec![])
        }
        RepoCmd::Substitute {
            id,
            give_back,
            deliver,
            send: s,
        } => {
            let op = SubstituteCollateral {
                repo: tally_types::RepoId(*id),
                give_back: collateral(ctx, give_back)?,
                deliver: collateral(ctx, deliver)?,
            };
            send(ctx, s, vec![op.into()], vec![])
        }
    }
}

/// `tally fund …`
#[derive(Subcommand, Debug)]
pub enum FundCmd {
    /// Publish a fund's NAV per share for a date (issuer); once per date.
    Nav {
        /// Fund (id, ISIN or CUSIP).
        fund: String,
        /// NAV per share, decimal (e.g. 1.000000).
        #[arg(long)]
        nav: String,
        /// Valuation date, YYYY-MM-DD (default: today, UTC).
        #[arg(long)]
        date: Option<String>,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Declare a dividend on an equity or fund (issuer): holders at the end of the record
    /// date are paid at the start of the next day, in cash or (funds) in new shares.
    Dividend {
        /// Equity or fund (id, ISIN or CUSIP).
        instrument: String,
        /// Cash per whole share, decimal (e.g. 0.25 or 0.000118).
        #[arg(long)]
        per_share: String,
        /// Record date, YYYY-MM-DD (default: today, UTC).
        #[arg(long)]
        record_date: Option<String>,
        /// Cash instrument (id, ISIN or CUSIP).
        #[arg(long)]
        cash: String,
        /// The issuer's paying account.
        #[arg(long)]
        account: String,
        /// Reinvest in shares at the record date's NAV (funds).
        #[arg(long)]
        reinvest: bool,
        #[command(flatten)]
        send: SendArgs,
    },
}

fn date_or_today(ctx: &Ctx, d: Option<&String>) -> CliResult<Date> {
    match d {
        Some(d) => Date::parse(d).ok_or_else(|| CliError::Usage(format!("date YYYY-MM-DD: {d:?}"))),
        None => Ok(Timestamp(chain_now(ctx)?).date()),
    }
}

/// `tally fund …`
pub fn fund(ctx: &Ctx, cmd: &FundCmd) -> CliResult {
    match cmd {
        FundCmd::Nav {
            fund,
            nav,
            date,
            send: s,
        } => {
            let op = PublishNav {
                fund: instrument(ctx, fund)?.0,
                date: date_or_today(ctx, date.as_ref())?,
                nav: parse_price(nav)?,
            };
            send(ctx, s, vec![op.into()], vec![])
        }
        FundCmd::Dividend {
            instrument: i,
            per_share,
            record_date,
            cash,
            account,
            reinvest,
            send: s,
        } => {
            let (id, scale) = instrument(ctx, i)?;
            let (cash_id, cash_scale) = instrument(ctx, cash)?;
            // Cash per whole share as an exact fraction: up to 18 decimals of a currency
            // unit per 10^scale share minor units.
            const PLACES: u32 = 12;
            let per = parse_decimal(per_share, PLACES as u8, "per-share amount")?;
            let num = per
                .checked_mul(10u128.pow(u32::from(cash_scale)))
                .ok_or_else(|| CliError::Usage("per-share amount too large".into()))?;
            let den = 10u128.pow(PLACES + u32::from(scale));
            let op = DeclareDividend {
                instrument: id,
                amount_per_unit: num,
                per_units: den,
                record_date: date_or_today(ctx, record_date.as_ref())?,
                cash_instrument: cash_id,
                paying_account: parse_account(account)?,
                reinvest: *reinvest,
            };
            send(ctx, s, vec![op.into()], vec![])
        }
    }
}

fn parse_rate(s: &str) -> CliResult<Rate> {
    Rate::parse_percent(s)
        .ok_or_else(|| CliError::Usage(format!("rate must be a percentage like 4.125, got {s:?}")))
}

/// A price per 100 (e.g. `100` or `99.5`) in millionths.
fn parse_price(s: &str) -> CliResult<u64> {
    let micros = parse_decimal(s, 6, "price")?;
    u64::try_from(micros).map_err(|_| CliError::Usage(format!("price too large: {s}")))
}

/// `tally auction …`
pub fn auction(ctx: &Ctx, cmd: &AuctionCmd) -> CliResult {
    match cmd {
        AuctionCmd::Show { id } => show(ctx, AuctionId(*id)),
        AuctionCmd::Bids { id } => bids(ctx, AuctionId(*id)),
        AuctionCmd::Announce {
            id,
            new,
            reopen,
            offering,
            close_in_secs,
            issue_date,
            cash,
            account,
            max_noncompetitive,
            max_noncompetitive_total,
            cap_pct,
            max_price,
            send: s,
        } => {
            let (security, scale) = match (new, reopen) {
                (Some(path), _) => {
                    let entry: InstrumentEntry = read_json(path)?;
                    let create = tally_node::genesis::instrument(&entry)
                        .map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))?;
                    let scale = create.scale;
                    (AuctionSecurity::New(create), scale)
                }
                (None, Some(r)) => {
                    let (id, scale) = instrument(ctx, r)?;
                    (AuctionSecurity::Reopen(id), scale)
                }
                (None, None) => return Err(CliError::Usage("--new or --reopen".into())),
            };
            let offering = parse_decimal(offering, scale, "offering")?;
            let close_at =
                Timestamp(chain_now(ctx)?.saturating_add(close_in_secs.saturating_mul(1_000)));
            let issue_date = match issue_date {
                Some(d) => Date::parse(d)
                    .ok_or_else(|| CliError::Usage(format!("issue date YYYY-MM-DD: {d:?}")))?,
                None => close_at.date(),
            };
            let max_total = match max_noncompetitive_total {
                Some(t) => parse_decimal(t, scale, "noncompetitive total")?,
                None => offering / 4,
            };
            let cap_bp = u16::try_from(parse_decimal(cap_pct, 2, "cap")?)
                .map_err(|_| CliError::Usage(format!("cap percent: {cap_pct}")))?;
            let op = AnnounceAuction {
                auction: AuctionId(*id),
                security,
                offering,
                close_at,
                issue_date,
                cash_instrument: instrument(ctx, cash)?.0,
                issuer_cash_account: parse_account(account)?,
                max_noncompetitive_per_bidder: parse_decimal(
                    max_noncompetitive,
                    scale,
                    "noncompetitive limit",
                )?,
                max_noncompetitive_total: max_total,
                award_cap_bp: cap_bp,
                max_price: parse_price(max_price)?,
            };
            send(ctx, s, vec![op.into()], vec![])
        }
        AuctionCmd::Bid {
            auction,
            account,
            amount,
            rate,
            send: s,
        } => {
            let info = ctx.client.auction(AuctionId(*auction))?;
            let scale = ctx
                .client
                .instrument(&info.security.to_string())?
                .entry
                .scale;
            let kind = match rate {
                Some(r) => BidKind::Competitive(parse_rate(r)?),
                None => BidKind::Noncompetitive,
            };
            let op = SubmitBid {
                auction: AuctionId(*auction),
                account: parse_account(account)?,
                kind,
                amount: parse_decimal(amount, scale, "amount")?,
            };
            send(ctx, s, vec![op.into()], vec![])
        }
        AuctionCmd::Withdraw {
            auction,
            seq,
            send: s,
        } => {
            let op = WithdrawBid {
                auction: AuctionId(*auction),
                seq: *seq,
            };
            send(ctx, s, vec![op.into()], vec![])
        }
        AuctionCmd::Cancel { auction, send: s } => {
            let op = CancelAuction {
                auction: AuctionId(*auction),
            };
            send(ctx, s, vec![op.into()], vec![])
        }
    }
}

fn show(ctx: &Ctx, id: AuctionId) -> CliResult {
    let a = ctx.client.auction(id)?;
    if ctx.json() {
        return ctx.print_json(&a);
    }
    crate::out!("auction        {}  ({})", a.id, a.status);
    crate::out!(
        "security       {}{}",
        a.security,
        if a.new_security {
            " (new issue)"
        } else {
            " (reopening)"
        }
    );
    crate::out!("offering       {} (increment {})", a.offering, a.increment);
    crate::out!("closes         {}", Timestamp(a.close_at_ms));
    crate::out!("issue date     {}", a.issue_date);
    crate::out!(
        "cash           {} to account {}",
        a.cash_instrument,
        a.issuer_cash_account
    );
    crate::out!(
        "limits         noncompetitive {} per bidder, {} in all; cap {}%",
        a.max_noncompetitive_per_bidder,
        a.max_noncompetitive_total,
        a.award_cap_pct
    );
    if let Some(r) = &a.result {
        crate::out!("stop-out       {}   (low {})", r.stop_out, r.low_rate);
        crate::out!("allotment      {}% at the stop-out", r.allotment_pct);
        crate::out!(
            "price          {} per 100 (+ accrued {})",
            r.price,
            r.accrued_per_100
        );
        if r.coupon != "0%" {
            crate::out!("coupon         {}", r.coupon);
        }
        crate::out!(
            "awarded        {} (noncompetitive {}, competitive {}; over-allotment {})",
            r.total_awarded,
            r.noncompetitive,
            r.competitive,
            r.over_allotment
        );
        crate::out!(
            "tendered       {}   bid-to-cover {}",
            r.tendered,
            r.bid_to_cover
        );
        crate::out!("issued         {}", r.issued);
    }
    Ok(())
}

fn bids(ctx: &Ctx, id: AuctionId) -> CliResult {
    let b = ctx.client.auction_bids(id, ctx.reader()?.as_ref())?;
    if ctx.json() {
        return ctx.print_json(&b);
    }
    crate::out!(
        "{:>5}  {:<20}  {:>8}  {:>8}  {:>16}  {:>16}",
        "seq",
        "bidder",
        "account",
        "rate",
        "amount",
        "award"
    );
    for x in &b.bids {
        crate::out!(
            "{:>5}  {:<20}  {:>8}  {:>8}  {:>16}  {:>16}",
            x.seq,
            x.bidder,
            x.account,
            x.rate.as_deref().unwrap_or("noncomp"),
            x.amount,
            x.award
        );
    }
    for x in &b.bidders {
        crate::out!(
            "bidder {}  award {}  cost {}  held {}{}",
            x.bidder,
            x.award,
            x.cost,
            x.held,
            x.failure
                .as_ref()
                .map(|f| format!("  FAILED: {f}"))
                .unwrap_or_default()
        );
    }
    Ok(())
}

/// `tally servicing …`
pub fn servicing(ctx: &Ctx, cmd: &ServicingCmd) -> CliResult {
    match cmd {
        ServicingCmd::Show { instrument: i } => {
            let s = ctx.client.servicing(i)?;
            if ctx.json() {
                return ctx.print_json(&s);
            }
            crate::out!(
                "instrument     {}  ({}{})",
                s.instrument,
                s.status,
                if s.book_closed {
                    ", register closed for a payment"
                } else {
                    ""
                }
            );
            match (s.paying_account, s.cash_instrument) {
                (Some(a), Some(c)) => crate::out!("paid by        account {a} in instrument {c}"),
                _ => crate::out!("paid by        (servicing not set)"),
            }
            let shown: Vec<&str> = s.schedule.iter().take(6).map(String::as_str).collect();
            crate::out!(
                "payment dates  {}{}",
                shown.join(", "),
                if s.schedule.len() > 6 {
                    format!(" … ({} in all)", s.schedule.len())
                } else {
                    String::new()
                }
            );
            for d in &s.distributions {
                crate::out!(
                    "#{:<3} {:<10} {}  {:<8} gross {}  paid {}  unpaid {}  retained {}  holders {}",
                    d.seq,
                    d.kind,
                    d.date,
                    d.status,
                    d.gross,
                    d.paid,
                    d.unpaid,
                    d.retained,
                    d.holders
                );
            }
            Ok(())
        }
        ServicingCmd::Set {
            instrument: i,
            account,
            cash,
            send: s,
        } => {
            let op = SetServicing {
                instrument: instrument(ctx, i)?.0,
                paying_account: parse_account(account)?,
                cash_instrument: instrument(ctx, cash)?.0,
            };
            send(ctx, s, vec![op.into()], vec![])
        }
        ServicingCmd::Claim {
            instrument: i,
            distribution,
            account,
            send: s,
        } => {
            let op = ClaimEntitlement {
                instrument: instrument(ctx, i)?.0,
                distribution: *distribution,
                account: parse_account(account)?,
            };
            send(ctx, s, vec![op.into()], vec![])
        }
    }
}
