//! `vpcreach parse`: read flow-log records and print them as JSON Lines.

/// Arguments of `vpcreach parse`.
#[derive(Debug, clap::Args)]
pub struct ParseArgs {}

/// Runs `vpcreach parse`.
pub fn run(_args: ParseArgs) -> anyhow::Result<u8> {
    Ok(0)
}
