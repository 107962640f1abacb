//! `pledgedb`: the command-line front end of PledgeDB.
//!
//! Today it runs the demo (`pledgedb demo [DIR]`); the interactive shell
//! (`pledgedb [DIR]`) and further subcommands come later.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod demo;

use clap::{Parser, Subcommand};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// PledgeDB: an embedded web analytics database that keeps its privacy
/// promises by construction.
#[derive(Debug, Parser)]
#[command(name = "pledgedb", version, args_conflicts_with_subcommands = true)]
struct Cli {
    /// A data directory to open in the interactive shell (not built yet).
    dir: Option<PathBuf>,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generate a week of realistic traffic for three sites, ingest it into
    /// a fresh data directory and show what was kept, dropped and learned.
    Demo(demo::DemoArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Demo(args)) => {
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            match demo::run(&args, &mut out) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    let _ = out.flush();
                    if !e.is_broken_pipe() {
                        eprintln!("pledgedb demo: error: {e}");
                    }
                    ExitCode::FAILURE
                }
            }
        }
        None => {
            let dir = cli
                .dir
                .map_or_else(String::new, |d| format!(" for {}", d.display()));
            eprintln!(
                "pledgedb: the interactive shell{dir} is not built yet.\n\
                 Try `pledgedb demo` to see PledgeDB at work, or `pledgedb --help`."
            );
            ExitCode::from(2)
        }
    }
}
