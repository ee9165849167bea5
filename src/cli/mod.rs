//! Subcommands, one file each. `main` only parses and dispatches here.

pub mod parse;

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
}

/// Runs the chosen subcommand; returns the process exit code.
pub fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Parse(args) => parse::run(args),
    }
}
