//! Operate Tally from the command line: genesis, nodes, local networks.

use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod bench;
mod localnet;
mod setup;

/// Tally: a BFT ledger for tokenized Treasuries, securities and cash.
#[derive(Parser)]
#[command(name = "tally", version, about)]
struct Cli {
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

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Genesis {
            command: GenesisCommand::New(args),
        } => setup::new_network(&args).map(|_| ()),
        Command::Genesis {
            command: GenesisCommand::Validate { file },
        } => validate(&file),
        Command::Node {
            command: NodeCommand::Init { home },
        } => setup::init_node(&home),
        Command::Node {
            command: NodeCommand::Start { home },
        } => tally_node::run::NodeHome::load(&home)
            .and_then(tally_node::run::run)
            .map_err(|e| e.to_string()),
        Command::Localnet(args) => localnet::run(&args),
        Command::Bench(args) => bench::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
