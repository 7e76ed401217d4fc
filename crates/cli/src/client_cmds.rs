//! Read-only client commands: status, chain, queries, blocks, event streams and local
//! verification.

use crate::ctx::{
    CliError, CliResult, Ctx, describe_code, fmt_units, parse_account, parse_hash, short,
};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;
use tally_sdk::Event;
use tally_sdk::types::*;
use tally_types::amount::format_amount;
use tally_types::{HoldId, InstrumentId, Timestamp};

/// `tally tx show|wait`
#[derive(Subcommand, Debug)]
pub enum TxCmd {
    /// A transaction's status and result (its body and events too with the --key of a
    /// party or of the regulator).
    Show {
        /// Transaction id (hex).
        id: String,
    },
    /// Wait until a transaction is final and show it.
    Wait {
        /// Transaction id (hex).
        id: String,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 60)]
        timeout_secs: u64,
    },
}

/// `tally block show`
#[derive(Subcommand, Debug)]
pub enum BlockCmd {
    /// A finalized block's header, certificate and transactions.
    Show {
        /// Height.
        height: u64,
    },
}

/// `tally blocks`
#[derive(Args, Debug)]
pub struct BlocksArgs {
    /// Newest height to list (default: the newest finalized).
    #[arg(long)]
    pub before: Option<u64>,
    /// How many (1–100).
    #[arg(long, default_value_t = 20)]
    pub limit: u64,
}

/// `tally events blocks|account`
#[derive(Subcommand, Debug)]
pub enum EventsCmd {
    /// Every block as it is finalized.
    Blocks {
        /// Stop after this many events (default: follow until interrupted).
        #[arg(long)]
        count: Option<u64>,
    },
    /// What each finalized transaction does to one account (needs --key).
    Account {
        /// Account id.
        id: String,
        /// Stop after this many events (default: follow until interrupted).
        #[arg(long)]
        count: Option<u64>,
    },
}

/// `tally verify holding`
#[derive(Subcommand, Debug)]
pub enum VerifyCmd {
    /// Check a holding without trusting the node: the block's finality certificate against
    /// the network's group key, and the holding's Merkle proof against its state root.
    Holding {
        /// Account id.
        #[arg(long)]
        account: String,
        /// Instrument id, ISIN or CUSIP.
        #[arg(long)]
        instrument: String,
        /// The network's group public key (hex), from a source you trust.
        #[arg(long, conflicts_with = "genesis")]
        group_key: Option<String>,
        /// Read the group public key from this genesis file instead.
        #[arg(long)]
        genesis: Option<PathBuf>,
    },
}

// ---------------------------------------------------------------------------------------
// Chain

/// `tally status`
pub fn status(ctx: &Ctx) -> CliResult {
    let s = ctx.client.status()?;
    if ctx.json() {
        return ctx.print_json(&s);
    }
    crate::out!("chain       {}", s.chain_id);
    crate::out!("node        {} ({})", s.node, ctx.client.url());
    crate::out!(
        "finalized   height {} at {}",
        s.finalized_height,
        Timestamp(s.finalized_time_ms)
    );
    crate::out!("state root  {}", s.state_root);
    let names: Vec<&str> = s.validators.iter().map(|v| v.name.as_str()).collect();
    crate::out!("validators  {} ({})", s.validators.len(), names.join(", "));
    crate::out!("peers       {} ({})", s.peers.len(), s.peers.join(", "));
    crate::out!("mempool     {} transactions", s.mempool_size);
    Ok(())
}

/// `tally chain`
pub fn chain(ctx: &Ctx) -> CliResult {
    let c = ctx.client.chain()?;
    if ctx.json() {
        return ctx.print_json(&c);
    }
    crate::out!("chain       {}", c.chain_id);
    crate::out!("genesis     {}", Timestamp(c.genesis_time_ms));
    crate::out!("group key   {}", c.group_public_key);
    crate::out!("            (as this node reports it: pin it from the genesis file to verify)");
    for v in &c.validators {
        crate::out!(
            "validator   {:<12} api {:<21} p2p {:<21} key {}",
            v.name,
            v.api_address,
            v.p2p_address,
            short(&v.public_key)
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Participants and instruments

/// `tally remote-ledger list`.
pub fn remote_ledger_list(ctx: &Ctx) -> CliResult {
    let list = ctx.client.remote_ledgers()?;
    if ctx.json() {
        return ctx.print_json(&list);
    }
    crate::out!(
        "{:<32}  {:<30}  {:<9}  group key",
        "chain id",
        "name",
        "status"
    );
    for r in &list.remote_ledgers {
        crate::out!(
            "{:<32}  {:<30}  {:<9}  {}…",
            r.chain_id,
            r.name,
            if r.suspended { "suspended" } else { "active" },
            r.group_public_key.get(..16).unwrap_or(&r.group_public_key)
        );
    }
    Ok(())
}

/// `tally remote-ledger show`.
pub fn remote_ledger_show(ctx: &Ctx, chain: &str) -> CliResult {
    let r = ctx.client.remote_ledger(chain)?;
    if ctx.json() {
        return ctx.print_json(&r);
    }
    crate::out!("chain id   {}", r.chain_id);
    crate::out!("name       {}", r.name);
    crate::out!(
        "status     {}",
        if r.suspended { "suspended" } else { "active" }
    );
    crate::out!("scheme     {}", r.scheme);
    crate::out!("namespace  {}", r.namespace);
    crate::out!("group key  {}", r.group_public_key);
    Ok(())
}

/// `tally participant list`
pub fn participant_list(ctx: &Ctx) -> CliResult {
    let list = ctx.client.participants(None, Some(MAX_PAGE))?;
    if ctx.json() {
        return ctx.print_json(&list);
    }
    crate::out!(
        "{:<20}  {:<30}  {:<28}  {:<8}  status",
        "LEI",
        "legal name",
        "roles",
        "KYC"
    );
    for p in &list.participants {
        let e = &p.entry;
        crate::out!(
            "{:<20}  {:<30}  {:<28}  {:<8}  {}",
            e.lei,
            e.legal_name,
            e.roles.join(","),
            e.kyc_status,
            if p.suspended { "suspended" } else { "active" }
        );
    }
    Ok(())
}

/// `tally participant show LEI`
pub fn participant_show(ctx: &Ctx, lei: &str) -> CliResult {
    let p = ctx.client.participant(lei)?;
    if ctx.json() {
        return ctx.print_json(&p);
    }
    let e = &p.entry;
    crate::out!("LEI            {}", e.lei);
    crate::out!("legal name     {}", e.legal_name);
    crate::out!("roles          {}", e.roles.join(", "));
    crate::out!("jurisdiction   {}", e.jurisdiction);
    crate::out!("investor class {}", e.investor_class);
    crate::out!("KYC            {} until {}", e.kyc_status, e.kyc_expires_on);
    crate::out!(
        "thresholds     act {}, admin {}",
        e.threshold,
        e.admin_threshold
    );
    crate::out!("suspended      {}", if p.suspended { "yes" } else { "no" });
    for k in &e.keys {
        crate::out!("key            {} (weight {})", k.public_key, k.weight);
    }
    Ok(())
}

/// `tally participant accounts LEI`
pub fn participant_accounts(ctx: &Ctx, lei: &str) -> CliResult {
    let list = ctx
        .client
        .participant_accounts(lei, ctx.reader()?.as_ref())?;
    if ctx.json() {
        return ctx.print_json(&list);
    }
    let ids: Vec<String> = list.accounts.iter().map(u64::to_string).collect();
    crate::out!("accounts of {lei}: {}", ids.join(", "));
    Ok(())
}

/// `tally instrument list`
pub fn instrument_list(ctx: &Ctx) -> CliResult {
    let list = ctx.client.instruments(None, Some(MAX_PAGE))?;
    if ctx.json() {
        return ctx.print_json(&list);
    }
    crate::out!(
        "{:>4}  {:<30}  {:<12}  {:>5}  {:<7}  {:>20}  holders",
        "id",
        "name",
        "ISIN",
        "scale",
        "status",
        "supply"
    );
    for i in &list.instruments {
        let e = &i.entry;
        crate::out!(
            "{:>4}  {:<30}  {:<12}  {:>5}  {:<7}  {:>20}  {}",
            e.id,
            e.name,
            e.isin.as_deref().unwrap_or("-"),
            e.scale,
            i.status,
            fmt_units(&i.total_supply, e.scale),
            i.holder_count
        );
    }
    Ok(())
}

/// `tally instrument show ID|ISIN|CUSIP`
pub fn instrument_show(ctx: &Ctx, id: &str) -> CliResult {
    let i = ctx.instrument(id)?;
    if ctx.json() {
        return ctx.print_json(&i);
    }
    let e = &i.entry;
    crate::out!("instrument     {} — {}", e.id, e.name);
    crate::out!("issuer         {}", e.issuer);
    if let Some(isin) = &e.isin {
        crate::out!("ISIN           {isin}");
    }
    if let Some(cusip) = &e.cusip {
        crate::out!("CUSIP          {cusip}");
    }
    crate::out!(
        "scale          {} (min increment {})",
        e.scale,
        e.min_increment
    );
    crate::out!(
        "kind           {}",
        serde_json::to_string(&e.kind).unwrap_or_default()
    );
    crate::out!("status         {}", i.status);
    crate::out!(
        "supply         {} across {} holders",
        fmt_units(&i.total_supply, e.scale),
        i.holder_count
    );
    let p = &e.policy;
    crate::out!("policy         KYC required: {}", p.kyc_required);
    if !p.allowed_jurisdictions.is_empty() {
        crate::out!(
            "               jurisdictions: {}",
            p.allowed_jurisdictions.join(", ")
        );
    }
    if !p.allowed_investor_classes.is_empty() {
        crate::out!(
            "               investor classes: {}",
            p.allowed_investor_classes.join(", ")
        );
    }
    if let Some(m) = &p.max_balance_per_holder {
        crate::out!("               max balance per holder: {m}");
    }
    if let Some(m) = p.max_holders {
        crate::out!("               max holders: {m}");
    }
    if let Some(t) = p.lockup_until_ms {
        crate::out!("               locked up until {}", Timestamp(t));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Accounts, holdings, instructions, holds

/// Instrument names by id, for tables (empty if the node does not answer).
fn instrument_names(ctx: &Ctx) -> BTreeMap<u64, String> {
    ctx.client
        .instruments(None, Some(MAX_PAGE))
        .map(|l| {
            l.instruments
                .into_iter()
                .map(|i| (i.entry.id, i.entry.name))
                .collect()
        })
        .unwrap_or_default()
}

fn print_holdings(holdings: &[HoldingInfo], names: &BTreeMap<u64, String>) {
    crate::out!(
        "  {:>4}  {:<26}  {:>20}  {:>16}  {:>16}  {:>20}",
        "id",
        "instrument",
        "balance",
        "held",
        "frozen",
        "available"
    );
    for h in holdings {
        crate::out!(
            "  {:>4}  {:<26}  {:>20}  {:>16}  {:>16}  {:>20}",
            h.instrument,
            names.get(&h.instrument).map_or("", String::as_str),
            fmt_units(&h.balance, h.scale),
            fmt_units(&h.held, h.scale),
            fmt_units(&h.frozen, h.scale),
            fmt_units(&h.available, h.scale),
        );
    }
}

/// `tally account show ID`
pub fn account_show(ctx: &Ctx, id: &str) -> CliResult {
    let a = ctx
        .client
        .account(parse_account(id)?, ctx.reader()?.as_ref())?;
    if ctx.json() {
        return ctx.print_json(&a);
    }
    crate::out!(
        "account {}  owner {}  kind {}{}",
        a.id,
        a.owner,
        a.kind,
        if a.frozen { "  FROZEN" } else { "" }
    );
    if a.holdings.is_empty() {
        crate::out!("  no holdings");
    } else {
        print_holdings(&a.holdings, &instrument_names(ctx));
    }
    Ok(())
}

/// `tally holding ACCOUNT INSTRUMENT`
pub fn holding(ctx: &Ctx, account: &str, instrument: &str) -> CliResult {
    let h = ctx
        .client
        .holding(parse_account(account)?, instrument, ctx.reader()?.as_ref())?;
    if ctx.json() {
        return ctx.print_json(&h);
    }
    crate::out!("account {}", h.account);
    print_holdings(std::slice::from_ref(&h), &instrument_names(ctx));
    Ok(())
}

fn print_leg(l: &LegInfo, scales: &BTreeMap<u64, u8>) {
    let amount = scales
        .get(&l.instrument)
        .map_or_else(|| l.amount.clone(), |s| fmt_units(&l.amount, *s));
    crate::out!(
        "  {} -> {}  instrument {}  {}",
        l.from,
        l.to,
        l.instrument,
        amount
    );
}

fn scales(ctx: &Ctx) -> BTreeMap<u64, u8> {
    ctx.client
        .instruments(None, Some(MAX_PAGE))
        .map(|l| {
            l.instruments
                .into_iter()
                .map(|i| (i.entry.id, i.entry.scale))
                .collect()
        })
        .unwrap_or_default()
}

/// `tally instruction show ID`
pub fn instruction_show(ctx: &Ctx, id: &str) -> CliResult {
    let i = ctx
        .client
        .instruction(&parse_hash(id, "instruction id")?, ctx.reader()?.as_ref())?;
    if ctx.json() {
        return ctx.print_json(&i);
    }
    crate::out!("instruction  {}", i.id);
    crate::out!("trade ref    {}", i.trade_ref);
    crate::out!("expires      {}", Timestamp(i.expires_at_ms));
    crate::out!("submitted by {}", i.submitted.join(", "));
    crate::out!(
        "matched      {}",
        if i.matched { "yes (settled)" } else { "no" }
    );
    let scales = scales(ctx);
    for l in &i.legs {
        print_leg(l, &scales);
    }
    Ok(())
}

/// `tally hold show ID`
pub fn hold_show(ctx: &Ctx, id: &str) -> CliResult {
    let hid = id
        .parse::<u64>()
        .map(HoldId)
        .map_err(|_| CliError::Usage(format!("hold id must be a whole number, got {id:?}")))?;
    let h = ctx.client.hold(hid, ctx.reader()?.as_ref())?;
    if ctx.json() {
        return ctx.print_json(&h);
    }
    crate::out!("hold      {}", h.id);
    crate::out!("status    {}", h.status);
    crate::out!("deadline  {}", Timestamp(h.deadline_ms));
    if let Some(lock) = &h.hash_lock {
        crate::out!("hash lock {lock}");
    }
    print_leg(&h.leg, &scales(ctx));
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Transactions and blocks

/// Prints a transaction's status (human).
pub fn print_tx(info: &TxInfo) {
    crate::out!("tx        {}", info.tx_id);
    crate::out!("status    {}", info.status);
    if let Some(h) = info.height {
        crate::out!(
            "height    {h}{}",
            info.index
                .map(|i| format!(" (index {i})"))
                .unwrap_or_default()
        );
    }
    if let Some(code) = info.code {
        let (name, description) = describe_code(code);
        let name = info.code_name.clone().unwrap_or(name);
        let description = info.code_description.clone().unwrap_or(description);
        crate::out!("result    {name} ({code}): {description}");
    }
    if let Some(op) = info.failed_op {
        crate::out!("failed op {op}");
    }
    if let Some(tx) = &info.transaction {
        crate::out!(
            "body      {}",
            serde_json::to_string(tx).unwrap_or_default()
        );
    }
    if let Some(b) = &info.batch {
        crate::out!("batch     {} transfers, {} applied", b.transfers, b.applied);
        for f in &b.failures {
            crate::out!("  refused #{:<5} {} ({})", f.index, f.code_name, f.code);
        }
    }
    for e in info.events.iter().flatten() {
        crate::out!("event     {}", serde_json::to_string(e).unwrap_or_default());
    }
}

/// `tally tx show|wait`
pub fn tx(ctx: &Ctx, cmd: &TxCmd) -> CliResult {
    let info = match cmd {
        TxCmd::Show { id } => {
            let id = parse_hash(id, "transaction id")?;
            ctx.client.tx(&id, ctx.reader()?.as_ref())?
        }
        TxCmd::Wait { id, timeout_secs } => {
            let id = parse_hash(id, "transaction id")?;
            ctx.wait_final(&id, Duration::from_secs(*timeout_secs))?;
            ctx.client.tx(&id, ctx.reader()?.as_ref())?
        }
    };
    if ctx.json() {
        return ctx.print_json(&info);
    }
    print_tx(&info);
    Ok(())
}

fn print_block_row(b: &BlockInfo) {
    crate::out!(
        "{:>8}  {}  {:>5} txs  digest {}  root {}",
        b.height,
        Timestamp(b.time_ms),
        b.tx_count,
        short(&b.digest),
        short(&b.state_root)
    );
}

/// `tally block show H`
pub fn block(ctx: &Ctx, cmd: &BlockCmd) -> CliResult {
    let BlockCmd::Show { height } = cmd;
    let b = ctx.client.block(*height, true)?;
    if ctx.json() {
        return ctx.print_json(&b);
    }
    crate::out!("height      {}", b.height);
    crate::out!("time        {}", Timestamp(b.time_ms));
    crate::out!("digest      {}", b.digest);
    crate::out!("parent      {}", b.parent);
    crate::out!("state root  {}", b.state_root);
    crate::out!(
        "certificate {}",
        b.certificate
            .as_ref()
            .map_or("none stored on this node".to_string(), |c| format!(
                "{} bytes",
                c.len() / 2
            ))
    );
    crate::out!("txs         {}", b.tx_count);
    for t in b.txs.iter().flatten() {
        crate::out!("  {}  {} ({})", t.tx_id, t.code_name, t.code);
    }
    Ok(())
}

/// `tally blocks`
pub fn blocks(ctx: &Ctx, args: &BlocksArgs) -> CliResult {
    let list = ctx.client.blocks(args.before, Some(args.limit))?;
    if ctx.json() {
        return ctx.print_json(&list);
    }
    for b in &list.blocks {
        print_block_row(b);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Events

fn event_bar(count: Option<u64>, what: &str) -> Option<ProgressBar> {
    let n = count?;
    let bar = ProgressBar::new(n);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(what.to_string());
    Some(bar)
}

/// Prints events from a stream until `count` (or forever), with a progress bar.
fn follow<T: serde::de::DeserializeOwned + serde::Serialize>(
    ctx: &Ctx,
    stream: impl Iterator<Item = Result<Event<T>, tally_sdk::SdkError>>,
    count: Option<u64>,
    what: &str,
    human: impl Fn(&T) -> String,
) -> CliResult {
    let bar = event_bar(count, what);
    let mut seen = 0u64;
    let print = |line: String| match &bar {
        Some(b) => b.suspend(|| crate::out!("{line}")),
        None => crate::out!("{line}"),
    };
    for item in stream {
        let line = match item? {
            Event::Data { data, .. } => {
                if ctx.json() {
                    serde_json::to_string(&data).map_err(|e| CliError::Other(e.to_string()))?
                } else {
                    human(&data)
                }
            }
            Event::Lagged { missed } => {
                eprintln!("warning: the node dropped {missed} blocks' events (reader too slow)");
                continue;
            }
        };
        print(line);
        seen += 1;
        if let Some(b) = &bar {
            b.set_position(seen);
        }
        if count.is_some_and(|n| seen >= n) {
            break;
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(())
}

/// `tally events …`
pub fn events(ctx: &Ctx, cmd: &EventsCmd) -> CliResult {
    match cmd {
        EventsCmd::Blocks { count } => {
            let stream = ctx.client.block_events()?;
            follow(ctx, stream, *count, "blocks", |e: &BlockEvent| {
                let b = &e.block;
                let txs: Vec<String> = b
                    .txs
                    .iter()
                    .flatten()
                    .map(|t| format!("{} {}", short(&t.tx_id), t.code_name))
                    .collect();
                format!(
                    "block {:>6}  {}  {} txs  root {}  {}",
                    b.height,
                    Timestamp(b.time_ms),
                    b.tx_count,
                    short(&b.state_root),
                    txs.join(", ")
                )
            })
        }
        EventsCmd::Account { id, count } => {
            let account = parse_account(id)?;
            let stream = ctx.client.account_events(account, ctx.reader()?.as_ref())?;
            follow(ctx, stream, *count, "events", |e: &AccountEvent| {
                format!(
                    "height {:>6}  tx {}  {}",
                    e.height,
                    e.tx_id.as_deref().map_or("-".to_string(), short),
                    serde_json::to_string(&e.event).unwrap_or_default()
                )
            })
        }
    }
}

// ---------------------------------------------------------------------------------------
// Verification

fn group_key(group_key: Option<&String>, genesis: Option<&PathBuf>) -> CliResult<String> {
    if let Some(k) = group_key {
        return Ok(k.trim().to_string());
    }
    if let Some(path) = genesis {
        let json = std::fs::read_to_string(path)
            .map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))?;
        let g = tally_node::genesis::GenesisFile::from_json(&json)
            .map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))?;
        return Ok(g.threshold.group_public_key);
    }
    Err(CliError::Usage(
        "verification needs the network's group key from a source you trust: pass \
         --group-key HEX or --genesis FILE (the node's own /chain answer is not trusted)"
            .into(),
    ))
}

/// `tally verify holding`
pub fn verify(ctx: &Ctx, cmd: &VerifyCmd) -> CliResult {
    let VerifyCmd::Holding {
        account,
        instrument,
        group_key: key_hex,
        genesis,
    } = cmd;
    let group = group_key(key_hex.as_ref(), genesis.as_ref())?;
    let account = parse_account(account)?;
    // The instrument's id and scale come from the node; only the holding is verified.
    let info = ctx.instrument(instrument)?;
    let iid = InstrumentId(info.entry.id);
    let v = ctx
        .client
        .verified_holding_detail(account, iid, ctx.reader()?.as_ref(), &group)?;
    let scale = info.entry.scale;
    let h = v.holding;
    if ctx.json() {
        return ctx.print_json(&serde_json::json!({
            "account": account.0,
            "instrument": iid.0,
            "height": v.height,
            "state_root": v.state_root.to_hex(),
            "present": v.present,
            "balance": h.balance.to_string(),
            "held": h.held.to_string(),
            "frozen": h.frozen.to_string(),
            "scale": scale,
            "verified": true,
        }));
    }
    crate::out!("account     {}", account.0);
    crate::out!("instrument  {} ({})", iid.0, info.entry.name);
    crate::out!("height      {}", v.height);
    crate::out!("state root  {}", v.state_root.to_hex());
    crate::out!(
        "balance     {}  (held {}, frozen {}){}",
        format_amount(h.balance, scale),
        format_amount(h.held, scale),
        format_amount(h.frozen, scale),
        if v.present { "" } else { "  — proven absent" }
    );
    crate::out!("verified: certificate and Merkle proof checked locally");
    Ok(())
}
