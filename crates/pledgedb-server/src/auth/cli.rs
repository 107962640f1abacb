//! `pledgedb DIR user ...` and `pledgedb DIR key ...`: the account store
//! from the command line. They work on `DIR/accounts.json` alone (not the
//! engine), so they run while `pledgedb serve` does; the server re-reads
//! the store at the next request.

use std::io::{BufRead, Write};
use std::path::Path;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::store::{Accounts, Scope};

/// `pledgedb DIR user ...`.
#[derive(Debug, Args)]
pub struct UserArgs {
    #[command(subcommand)]
    command: UserCommand,
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Add a user; the password is read from the first line of standard
    /// input (never give it on the command line).
    Add {
        /// The login name (letters, digits, '.', '_', '-', '@').
        name: String,
        /// A site the user may see (repeatable).
        #[arg(long = "site", value_name = "D")]
        sites: Vec<String>,
        /// Sees every site and may use the operator endpoints.
        #[arg(long)]
        admin: bool,
        /// Read the password from standard input (the default; accepted
        /// for scripts that say so).
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users (names, sites, admin; never a password).
    List,
    /// Remove a user and end their sessions.
    Remove {
        /// The login name.
        name: String,
    },
}

/// `pledgedb DIR key ...`.
#[derive(Debug, Args)]
pub struct KeyArgs {
    #[command(subcommand)]
    command: KeyCommand,
}

#[derive(Debug, Subcommand)]
enum KeyCommand {
    /// Make an API key for one site; it is printed once and stored only as
    /// a hash.
    Add {
        /// The key's name (for listing and revoking).
        name: String,
        /// The site the key is for.
        #[arg(long, value_name = "D")]
        site: String,
        /// stats (the Stats API) or admin (also the operator endpoints).
        #[arg(long, value_name = "stats|admin")]
        scope: String,
    },
    /// List keys (names, sites, scopes; never a key).
    List,
    /// Revoke a key by name.
    Revoke {
        /// The key's name.
        name: String,
    },
}

fn open(dir: &Path) -> Result<Accounts, String> {
    if !dir.is_dir() {
        return Err("the data directory does not exist".into());
    }
    Accounts::open(dir).map_err(|e| format!("the account store: {e}"))
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("Error: {msg}");
    ExitCode::FAILURE
}

fn read_password() -> Result<String, String> {
    let stdin = std::io::stdin();
    if std::io::IsTerminal::is_terminal(&stdin) {
        eprint!("Password (echoed; pipe it in to hide it): ");
        let _ = std::io::stderr().flush();
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("reading the password: {e}"))?;
    let p = line.trim_end_matches(['\n', '\r']).to_string();
    if p.is_empty() {
        return Err("no password on standard input".into());
    }
    Ok(p)
}

fn date_of(ms: i64) -> String {
    pledgedb_core::Timestamp(ms).day().to_string()
}

/// Runs `pledgedb DIR user ...`.
pub fn user(dir: &Path, args: UserArgs) -> ExitCode {
    let accounts = match open(dir) {
        Ok(a) => a,
        Err(e) => return fail(e),
    };
    match args.command {
        UserCommand::Add {
            name,
            sites,
            admin,
            password_stdin: _,
        } => {
            let password = match read_password() {
                Ok(p) => p,
                Err(e) => return fail(e),
            };
            match accounts.add_user(&name, &password, &sites, admin) {
                Ok(()) => {
                    eprintln!("user added");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
        UserCommand::List => match accounts.users() {
            Ok(users) => {
                let mut out = std::io::stdout().lock();
                for u in users {
                    let sites = if u.admin {
                        "(admin: every site)".to_string()
                    } else {
                        u.sites.join(",")
                    };
                    let _ = writeln!(out, "{}\t{}", u.name, sites);
                }
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        },
        UserCommand::Remove { name } => match accounts.remove_user(&name) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(e),
        },
    }
}

/// Runs `pledgedb DIR key ...`.
pub fn key(dir: &Path, args: KeyArgs) -> ExitCode {
    let accounts = match open(dir) {
        Ok(a) => a,
        Err(e) => return fail(e),
    };
    match args.command {
        KeyCommand::Add { name, site, scope } => {
            let Some(scope) = Scope::parse(&scope) else {
                return fail("--scope is stats or admin");
            };
            if site.is_empty() {
                return fail("--site names a site");
            }
            let now = pledgedb_core::SystemClock.now_ms();
            match accounts.add_key(&name, &site, scope, now) {
                Ok(text) => {
                    println!("{text}");
                    eprintln!(
                        "Keep this key now: it is stored only as a hash and not shown again."
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
        KeyCommand::List => match accounts.keys() {
            Ok(keys) => {
                let mut out = std::io::stdout().lock();
                for k in keys {
                    let _ = writeln!(
                        out,
                        "{}\t{}\t{}\t{}",
                        k.name,
                        k.site,
                        k.scope.as_str(),
                        date_of(k.created_ms)
                    );
                }
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        },
        KeyCommand::Revoke { name } => match accounts.revoke_key(&name) {
            Ok(()) => {
                eprintln!("key revoked");
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        },
    }
}

trait NowMs {
    fn now_ms(&self) -> i64;
}

impl NowMs for pledgedb_core::SystemClock {
    fn now_ms(&self) -> i64 {
        pledgedb_core::Clock::now(self).millis()
    }
}
