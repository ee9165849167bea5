//! Subcommands, one file each. `main` only parses and dispatches here.

pub mod parse;
pub mod query;

use clap::{Parser, Subcommand};

/// Validate AWS security groups, network ACLs and route tables against what the network really does.
#[derive(Debug, Parser)]
#[command(name = "vpcreach", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Parse VPC Flow Log records and print them as JSON Lines.
    Parse(parse::ParseArgs),
    /// Can A reach B on this port? The forward and return paths, hop by hop, with the rule that
    /// decided each check.
    Query(query::QueryArgs),
}

/// Runs the chosen subcommand; returns the process exit code.
pub fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Parse(args) => parse::run(args),
        Command::Query(args) => query::run(args),
    }
}

/// Writes text to stdout. A closed pipe (`| head`) ends the program quietly, as Unix tools do.
pub fn write_stdout(text: &str) -> anyhow::Result<()> {
    match query::write_all(text) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(e.into()),
    }
}
