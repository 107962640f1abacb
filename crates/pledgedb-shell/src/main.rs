//! `pledgedb`: the command-line front end of PledgeDB. An interactive SQL
//! shell over a data directory (`pledgedb [DIR]`), one-shot commands
//! (`-c`), scripts on standard input, cron imports (`pledgedb DIR import
//! FILE...`) and the demo (`pledgedb demo [DIR]`).
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod admin;
mod commands;
mod dashboard;
mod demo;
mod import;
mod outfile;
mod output;
mod repl;
mod script;
mod shell;

use clap::{Args, Parser, Subcommand};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

/// PledgeDB: an embedded web analytics database that keeps its privacy
/// promises by construction.
///
/// Without a command, opens the data directory DIR (default
/// ./pledgedb-data, created if missing) in an interactive SQL shell: end
/// statements with ";", type .help for the dot-commands. With -c, or with
/// a script on standard input, runs it and exits, non-zero at the first
/// error.
#[derive(Debug, Parser)]
#[command(
    name = "pledgedb",
    version,
    after_help = "Examples:\n  \
        pledgedb                                   the shell on ./pledgedb-data\n  \
        pledgedb /var/lib/pledgedb --geoip GeoLite2-Country.mmdb\n  \
        pledgedb data -c .domains -c \"SELECT COUNT(*) FROM pageviews\"\n  \
        pledgedb data < report.sql                 a script; stops at the first error\n  \
        pledgedb data import access.log.gz --domain shop.example\n  \
        pledgedb demo                              generate traffic and tour it\n\n\
        Every dot-command and table is described in docs/shell.md; type .help in the shell."
)]
struct Cli {
    /// The data directory (default: ./pledgedb-data; created if missing).
    #[arg(value_name = "DIR")]
    dir: Option<PathBuf>,

    /// A MaxMind-format country database (GeoIP2/GeoLite2 Country or City,
    /// DB-IP lite) used to derive countries from IP addresses on import.
    #[arg(long, value_name = "PATH")]
    geoip: Option<PathBuf>,

    /// Run a SQL statement or dot-command and exit; repeatable, run in
    /// order, stopping at the first error.
    #[arg(short = 'c', long = "command", value_name = "SQL_OR_.COMMAND")]
    commands: Vec<String>,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generate a week of realistic traffic for three sites, ingest it into
    /// a fresh data directory and tour what was kept, dropped and learned.
    Demo(demo::DemoArgs),
    /// Import files into DIR and exit (for cron): access logs, NDJSON hits
    /// or Plausible events, plain or gzip. Fails when a file could not be
    /// read at all.
    #[command(override_usage = "pledgedb [DIR] import [OPTIONS] <FILE>...")]
    Import(ImportArgs),
    /// Serve the collector, tracker and pages over DIR (docs/serve.md).
    Serve(pledgedb_server::cli::ServeArgs),
    /// Register sites the server collects for: `pledgedb DIR site add D`.
    Site(pledgedb_server::cli::SiteArgs),
    /// Users of `pledgedb serve`: add, list, remove.
    User(pledgedb_server::auth::cli::UserArgs),
    /// API keys of `pledgedb serve`: add (shown once), list, revoke.
    Key(pledgedb_server::auth::cli::KeyArgs),
}

#[derive(Debug, Args)]
struct ImportArgs {
    /// The files to import.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// ndjson, plausible, combined or common (detected when not given).
    #[arg(long, value_name = "F")]
    format: Option<String>,
    /// The domain of lines that name none (access logs without a virtual
    /// host field).
    #[arg(long, value_name = "D")]
    domain: Option<String>,
    /// A MaxMind-format country database.
    #[arg(long, value_name = "PATH")]
    geoip: Option<PathBuf>,
    #[command(flatten)]
    flags: import::ImportFlags,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let dir = cli
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(shell::DEFAULT_DIR));
    match cli.command {
        Some(Command::Demo(args)) => {
            if cli.dir.is_some() || cli.geoip.is_some() || !cli.commands.is_empty() {
                eprintln!("Error: `pledgedb demo [DIR]` takes its directory after `demo`");
                return ExitCode::from(2);
            }
            demo::main(&args)
        }
        Some(Command::Import(a)) => {
            if !cli.commands.is_empty() {
                eprintln!("Error: -c and import cannot be combined");
                return ExitCode::from(2);
            }
            let geoip = a.geoip.or(cli.geoip);
            import::cron(
                &dir,
                geoip.as_deref(),
                &a.files,
                a.format.as_deref(),
                a.domain.as_deref(),
                &a.flags,
            )
        }
        Some(Command::Serve(a)) => pledgedb_server::cli::serve(cli.dir, cli.geoip, a),
        Some(Command::Site(a)) => pledgedb_server::cli::site(&dir, a),
        Some(Command::User(a)) => pledgedb_server::auth::cli::user(&dir, a),
        Some(Command::Key(a)) => pledgedb_server::auth::cli::key(&dir, a),
        None => run_shell(&dir, cli.geoip.as_deref(), &cli.commands),
    }
}

fn run_shell(dir: &std::path::Path, geoip: Option<&std::path::Path>, cmds: &[String]) -> ExitCode {
    let mut sh = match shell::Shell::open(dir, geoip) {
        Ok(s) => s,
        Err(e) => {
            repl::report(&e);
            return ExitCode::FAILURE;
        }
    };
    let code = if !cmds.is_empty() {
        repl::commands(&mut sh, cmds)
    } else if std::io::stdin().is_terminal() {
        repl::interactive(&mut sh)
    } else {
        repl::batch(&mut sh, std::io::stdin().lock())
    };
    match sh.close() {
        Ok(()) => code,
        Err(e) => {
            repl::report(&e);
            ExitCode::FAILURE
        }
    }
}
