//! Operate Tally from the command line: genesis, nodes, local networks, keys, queries,
//! transactions, verification.

use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod bench;
mod client_cmds;
mod ctx;
mod keys;
mod lifecycle;
mod localnet;
mod ops;
mod setup;
mod xswap;

use ctx::{CliError, CliResult, Ctx};

/// Tally: a BFT ledger for tokenized Treasuries, securities and cash.
///
/// Exit codes: 0 success, 1 failure, 2 invalid arguments, 3 transaction final but
/// rejected (its result code is printed).
#[derive(Parser)]
#[command(name = "tally", version, about)]
struct Cli {
    #[command(flatten)]
    global: ctx::Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create or check a genesis file.
    Genesis {
        #[command(subcommand)]
        command: GenesisCommand,
    },
    /// Run or prepare a validator node.
    Node {
        #[command(subcommand)]
        command: NodeCommand,
    },
    /// Start a local network of validators on loopback, in the foreground.
    Localnet(localnet::Args),
    /// Drive a fresh local network with signed transfers and report throughput, finality
    /// latency and the machine's signature-verification ceiling.
    Bench(bench::Args),
    /// Manage the local key store (no node needed).
    Keys {
        #[command(subcommand)]
        command: keys::KeysCmd,
    },
    /// The node's finalized height, state root, validators and mempool.
    Status,
    /// The chain's id, genesis time, group key and validators (as the node reports them).
    Chain,
    /// Participants: list, show, accounts; register, update, suspend, reinstate.
    Participant {
        #[command(subcommand)]
        command: ops::ParticipantCmd,
    },
    /// A participant's registered keys: add, rotate, remove.
    Key {
        #[command(subcommand)]
        command: ops::KeyCmd,
    },
    /// A participant's approval thresholds.
    Thresholds {
        #[command(subcommand)]
        command: ops::ThresholdsCmd,
    },
    /// Accounts: show; open, freeze, unfreeze, recover.
    Account {
        #[command(subcommand)]
        command: ops::AccountCmd,
    },
    /// Instruments: list, show; create, policy, pause, unpause.
    Instrument {
        #[command(subcommand)]
        command: ops::InstrumentCmd,
    },
    /// One holding of an account (needs --key of the owner or a regulator).
    Holding {
        /// Account id.
        account: String,
        /// Instrument id, ISIN or CUSIP.
        instrument: String,
    },
    /// Two-sided instructions: show, cancel.
    Instruction {
        #[command(subcommand)]
        command: ops::InstructionCmd,
    },
    /// Holds: show; place, release, refund.
    Hold {
        #[command(subcommand)]
        command: ops::HoldCmd,
    },
    /// Ledgers whose finality this one verifies: list, show; register, suspend, resume.
    RemoteLedger {
        #[command(subcommand)]
        command: ops::RemoteLedgerCmd,
    },
    /// Cross-ledger swaps with a remote ledger: lock a leg, prove, show, relay.
    Xswap {
        #[command(subcommand)]
        command: xswap::XswapCmd,
    },
    /// Carry one cross-ledger swap's proofs between this ledger and a remote one until
    /// both legs are settled or both refunded (trusted with nothing: only ever late).
    Relay(xswap::RelayArgs),
    /// Treasury auctions: announce, bid, withdraw, cancel; results and bids.
    Auction {
        #[command(subcommand)]
        command: lifecycle::AuctionCmd,
    },
    /// Coupons and redemption: who pays, payment dates, distributions; claim an unpaid
    /// payment.
    Servicing {
        #[command(subcommand)]
        command: lifecycle::ServicingCmd,
    },
    /// STRIPS: enable a note, strip it into components, reconstitute it.
    Strips {
        #[command(subcommand)]
        command: lifecycle::StripsCmd,
    },
    /// Repo: open, close, substitute collateral, show.
    Repo {
        #[command(subcommand)]
        command: lifecycle::RepoCmd,
    },
    /// Funds and equities: publish a NAV, declare a dividend (cash or reinvested).
    Fund {
        #[command(subcommand)]
        command: lifecycle::FundCmd,
    },
    /// Transactions: show, wait.
    Tx {
        #[command(subcommand)]
        command: client_cmds::TxCmd,
    },
    /// A finalized block.
    Block {
        #[command(subcommand)]
        command: client_cmds::BlockCmd,
    },
    /// Finalized blocks, newest first.
    Blocks(client_cmds::BlocksArgs),
    /// Follow server-sent events: finalized blocks, or one account's activity.
    Events {
        #[command(subcommand)]
        command: client_cmds::EventsCmd,
    },
    /// Check data without trusting the node (certificate and Merkle proof).
    Verify {
        #[command(subcommand)]
        command: client_cmds::VerifyCmd,
    },
    #[command(flatten)]
    Op(ops::OpCmd),
}

#[derive(Subcommand)]
enum GenesisCommand {
    /// Create a development network: genesis with the demo world, validator identities and
    /// threshold shares dealt locally (a production network runs a DKG instead).
    New(setup::NewArgs),
    /// Check a genesis file as a node would before starting.
    Validate {
        /// The genesis file.
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum NodeCommand {
    /// Create a node home with a fresh identity key (prints its public key).
    Init {
        /// The node's home directory.
        #[arg(long)]
        home: PathBuf,
    },
    /// Start the validator whose home this is.
    Start {
        /// The node's home directory.
        #[arg(long)]
        home: PathBuf,
    },
}

fn validate(file: &Path) -> Result<(), String> {
    let json = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let genesis = tally_node::genesis::GenesisFile::from_json(&json).map_err(|e| e.to_string())?;
    genesis.validate().map_err(|e| e.to_string())?;
    println!(
        "genesis ok: chain {}, {} validators, {} participants, {} instruments",
        genesis.chain_id,
        genesis.validators.len(),
        genesis.ledger.participants.len(),
        genesis.ledger.instruments.len()
    );
    Ok(())
}

fn run(cli: Cli) -> CliResult {
    let ctx = Ctx::new(cli.global.clone());
    let text = |r: Result<(), String>| r.map_err(CliError::Other);
    match cli.command {
        Command::Genesis {
            command: GenesisCommand::New(args),
        } => text(setup::new_network(&args).map(|_| ())),
        Command::Genesis {
            command: GenesisCommand::Validate { file },
        } => text(validate(&file)),
        Command::Node {
            command: NodeCommand::Init { home },
        } => text(setup::init_node(&home)),
        Command::Node {
            command: NodeCommand::Start { home },
        } => text(
            tally_node::run::NodeHome::load(&home)
                .and_then(tally_node::run::run)
                .map_err(|e| e.to_string()),
        ),
        Command::Localnet(args) => {
            let keys = cli
                .global
                .keys_dir
                .clone()
                .map_or_else(tally_sdk::keystore::KeyStore::default_dir, Ok)
                .map_err(|e| e.to_string());
            text(keys.and_then(|dir| localnet::run(&args, &dir)))
        }
        Command::Bench(mut args) => {
            args.output = match cli.global.output {
                ctx::Output::Human => "human".into(),
                ctx::Output::Json => "json".into(),
            };
            text(bench::run(&args))
        }
        Command::Keys { command } => keys::run(&ctx, &command),
        Command::Status => client_cmds::status(&ctx),
        Command::Chain => client_cmds::chain(&ctx),
        Command::Participant { command } => ops::participant(&ctx, &command),
        Command::Key { command } => ops::key(&ctx, &command),
        Command::Thresholds { command } => ops::thresholds(&ctx, &command),
        Command::Account { command } => ops::account(&ctx, &command),
        Command::Instrument { command } => ops::instrument_cmd(&ctx, &command),
        Command::RemoteLedger { command } => ops::remote_ledger_cmd(&ctx, &command),
        Command::Xswap { command } => xswap::xswap(&ctx, &command),
        Command::Relay(args) => xswap::relay(&ctx, &args),
        Command::Holding {
            account,
            instrument,
        } => client_cmds::holding(&ctx, &account, &instrument),
        Command::Instruction { command } => ops::instruction(&ctx, &command),
        Command::Hold { command } => ops::hold(&ctx, &command),
        Command::Auction { command } => lifecycle::auction(&ctx, &command),
        Command::Servicing { command } => lifecycle::servicing(&ctx, &command),
        Command::Strips { command } => lifecycle::strips(&ctx, &command),
        Command::Repo { command } => lifecycle::repo(&ctx, &command),
        Command::Fund { command } => lifecycle::fund(&ctx, &command),
        Command::Tx { command } => client_cmds::tx(&ctx, &command),
        Command::Block { command } => client_cmds::block(&ctx, &command),
        Command::Blocks(args) => client_cmds::blocks(&ctx, &args),
        Command::Events { command } => client_cmds::events(&ctx, &command),
        Command::Verify { command } => client_cmds::verify(&ctx, &command),
        Command::Op(command) => ops::op(&ctx, &command),
    }
}

/// Every command's `--help`, as Markdown.
fn help_markdown() -> String {
    use clap::CommandFactory as _;
    fn walk(cmd: &mut clap::Command, path: &str, out: &mut String) {
        if cmd.is_hide_set() || cmd.get_name() == "help" {
            return;
        }
        let name = if path.is_empty() {
            cmd.get_name().to_string()
        } else {
            format!("{path} {}", cmd.get_name())
        };
        let help = cmd.render_long_help().to_string();
        let help: Vec<&str> = help.lines().map(str::trim_end).collect();
        out.push_str(&format!(
            "## `{name}`\n\n```text\n{}\n```\n\n",
            help.join("\n").trim_end()
        ));
        for sub in cmd.get_subcommands_mut() {
            walk(sub, &name, out);
        }
    }
    let mut cmd = Cli::command();
    cmd.build();
    let mut out = String::from(
        "# CLI reference\n\nGenerated from the parser by `tally help-markdown`; \
         `crates/cli/tests/cli_doc.rs` keeps it current (`TALLY_BLESS=1` rewrites it). \
         Global options (`--api`, `--key`, `--keys-dir`, `--output`) apply to every command.\n\n",
    );
    walk(&mut cmd, "", &mut out);
    out
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    // `tally help-markdown` prints the CLI reference (docs/cli.md) from the parser itself.
    if std::env::args().nth(1).as_deref() == Some("help-markdown") {
        print!("{}", help_markdown());
        return ExitCode::SUCCESS;
    }
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // The report is already printed.
        Err(e @ CliError::Rejected(_)) => ExitCode::from(e.exit_code()),
        Err(e) => {
            eprintln!("error: {e}");
            if let Some(hint) = e.hint() {
                eprintln!("hint: {hint}");
            }
            ExitCode::from(e.exit_code())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        <Cli as clap::CommandFactory>::command().debug_assert();
    }

    #[test]
    fn bench_takes_the_global_output_flag() {
        let cli = Cli::try_parse_from(["tally", "bench", "--output", "json"]).unwrap();
        assert_eq!(cli.global.output, ctx::Output::Json);
        let cli = Cli::try_parse_from([
            "tally",
            "settle",
            "--key",
            "dealer-a",
            "--leg",
            "300:400:1:5",
            "--leg",
            "400:300:2:100",
        ])
        .unwrap();
        assert!(
            matches!(cli.command, Command::Op(ops::OpCmd::Settle { ref legs, .. }) if legs.len() == 2)
        );
    }
}
