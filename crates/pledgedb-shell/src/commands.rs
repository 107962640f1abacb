//! Dot-commands: a clap enum parsed with `multicall`, so each command's
//! usage and `.help COMMAND` come from its definition.

use crate::admin;
use crate::dashboard;
use crate::import;
use crate::outfile;
use crate::output::{self, Fmt, Grid, Mode, col, text};
use crate::script::{Item, words};
use crate::shell::{Flow, Shell, ShellError, fail, list_or_none, shown_path};
use clap::{CommandFactory, Parser, ValueEnum};
use std::io::Write;
use std::path::PathBuf;

/// `on` or `off`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OnOff {
    /// Enabled.
    On,
    /// Disabled.
    Off,
}

/// The dot-commands.
#[derive(Debug, Parser)]
#[command(multicall = true, disable_help_subcommand = true)]
pub enum Dot {
    /// Open (or create) another data directory.
    #[command(name = ".open")]
    Open {
        /// The data directory.
        dir: PathBuf,
        /// A MaxMind-format country database for IP-to-country.
        #[arg(long, value_name = "PATH")]
        geoip: Option<PathBuf>,
    },
    /// List the domains; * marks the one SQL runs against.
    #[command(name = ".domains")]
    Domains,
    /// Run every SQL statement against DOMAIN from now on.
    #[command(name = ".use")]
    Use {
        /// The domain, e.g. shop.example.
        domain: String,
    },
    /// List the SQL tables.
    #[command(name = ".tables")]
    Tables,
    /// Show the columns of one table, or of every table.
    #[command(name = ".schema")]
    Schema {
        /// The table.
        table: Option<String>,
    },
    /// Show or set the output mode: table, csv, json or line.
    #[command(name = ".mode")]
    Mode {
        /// table, csv, json or line.
        #[arg(value_name = "table|csv|json|line")]
        mode: Option<String>,
    },
    /// Show how long each statement took (and what answered it).
    #[command(name = ".timer")]
    Timer {
        /// on or off.
        #[arg(value_name = "on|off")]
        state: Option<OnOff>,
    },
    /// Import access logs, NDJSON hits or Plausible events (plain or gzip).
    #[command(name = ".import")]
    Import {
        /// The files.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// ndjson, plausible, combined or common (detected when not given).
        #[arg(long, value_name = "F")]
        format: Option<String>,
        /// The domain of lines that name none (access logs without a
        /// virtual host); default: the current domain.
        #[arg(long, value_name = "D")]
        domain: Option<String>,
        #[command(flatten)]
        flags: import::ImportFlags,
    },
    /// Everything stored about one visitor, as JSON (to FILE or the screen).
    #[command(name = ".export-visitor")]
    ExportVisitor {
        /// A 16-hex-digit visitor id, or the client id (cookie value).
        id: String,
        /// Where to write the JSON.
        file: Option<PathBuf>,
    },
    /// Erase one visitor of the current domain.
    #[command(name = ".erase-visitor")]
    EraseVisitor {
        /// A 16-hex-digit visitor id, or the client id (cookie value).
        id: String,
    },
    /// Erase one visit of the current domain.
    #[command(name = ".erase-session")]
    EraseSession {
        /// The 16-hex-digit session id.
        id: String,
    },
    /// Register an opt-out token: its hits are dropped on every domain.
    #[command(name = ".optout")]
    Optout {
        /// The visitor's opt-out token.
        token: String,
    },
    /// Remove an opt-out token.
    #[command(name = ".optin")]
    Optin {
        /// The visitor's opt-out token.
        token: String,
    },
    /// Show or set the retention: raw=DAYS aggregates=DAYS tombstones=HOURS.
    #[command(name = ".retention")]
    Retention {
        /// raw=DAYS, aggregates=DAYS, tombstones=HOURS.
        #[arg(value_name = "SETTING")]
        settings: Vec<String>,
    },
    /// Show or set the consent policy: required|optional drop|anonymous
    /// dnt=on|off gpc=on|off.
    #[command(name = ".consent")]
    Consent {
        /// required or optional, drop or anonymous, dnt=on|off, gpc=on|off.
        #[arg(value_name = "SETTING")]
        settings: Vec<String>,
    },
    /// Run retention, erasure purges and sealing now.
    #[command(name = ".compact")]
    Compact,
    /// Segments, bytes on disk, events and pending purges per domain.
    #[command(name = ".stats")]
    Stats,
    /// The transparency report: what is recorded, what never is, settings.
    #[command(name = ".privacy")]
    Privacy,
    /// Scan every file of the data directory for IP-shaped text.
    #[command(name = ".audit")]
    Audit,
    /// Reopen the data directory with a GeoIP database.
    #[command(name = ".geoip")]
    Geoip {
        /// A MaxMind-format country database.
        path: PathBuf,
    },
    /// Visitors, pages, countries, referrers, devices and a daily series.
    #[command(name = ".dashboard")]
    Dashboard {
        /// Days, ending today.
        #[arg(default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=3660))]
        days: u32,
    },
    /// Form analytics: views, starts, conversion, per-field behaviour.
    #[command(name = ".forms")]
    Forms {
        /// Only this form.
        form: Option<String>,
    },
    /// The most recent visits.
    #[command(name = ".sessions")]
    Sessions {
        /// How many.
        #[arg(default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=100_000))]
        n: u32,
    },
    /// Replay one visit; keystrokes are masked.
    #[command(name = ".replay")]
    Replay {
        /// The 16-hex-digit session id.
        session: String,
    },
    /// List the commands, or show one command's usage.
    #[command(name = ".help")]
    Help {
        /// A command, e.g. .import.
        command: Option<String>,
    },
    /// Leave the shell.
    #[command(name = ".quit", visible_alias = ".exit")]
    Quit,
}

/// Whether a command line may be written to the history file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum History {
    /// Its arguments identify no one: kept (unless it holds an IP).
    Keep,
    /// Its arguments identify a person (a visitor, client or session id, an
    /// opt-out token): never written to the history file.
    Never,
}

impl Dot {
    /// Whether this command's arguments identify a person. Every command
    /// says so here, with no catch-all arm: a new command does not compile
    /// until it has chosen.
    pub fn history(&self) -> History {
        use History::{Keep, Never};
        match self {
            Dot::ExportVisitor { .. }
            | Dot::EraseVisitor { .. }
            | Dot::EraseSession { .. }
            | Dot::Optout { .. }
            | Dot::Optin { .. }
            | Dot::Replay { .. } => Never,
            Dot::Open { .. }
            | Dot::Domains
            | Dot::Use { .. }
            | Dot::Tables
            | Dot::Schema { .. }
            | Dot::Mode { .. }
            | Dot::Timer { .. }
            | Dot::Import { .. }
            | Dot::Retention { .. }
            | Dot::Consent { .. }
            | Dot::Compact
            | Dot::Stats
            | Dot::Privacy
            | Dot::Audit
            | Dot::Geoip { .. }
            | Dot::Dashboard { .. }
            | Dot::Forms { .. }
            | Dot::Sessions { .. }
            | Dot::Help { .. }
            | Dot::Quit => Keep,
        }
    }
}

/// Whether a dot-command line may be kept in the history file: only when it
/// parses as a command whose arguments identify no one. A line that does not
/// parse (a typo, `--help`, stray words) is not kept either, since which
/// command it meant, and so what its words are, is not known.
pub fn keeps_history(line: &str) -> bool {
    let Ok(args) = words(line) else {
        return false;
    };
    Dot::try_parse_from(&args).is_ok_and(|d| d.history() == History::Keep)
}

/// Runs one statement or dot-command.
pub fn run_item(shell: &mut Shell, item: &Item, out: &mut dyn Write) -> Result<Flow, ShellError> {
    match item {
        Item::Sql(sql) => {
            shell.run_sql(sql, out)?;
            Ok(Flow::Continue)
        }
        Item::Dot(line) => run(shell, line, out),
    }
}

/// Parses and runs one dot-command line.
pub fn run(shell: &mut Shell, line: &str, out: &mut dyn Write) -> Result<Flow, ShellError> {
    // The line itself is not echoed: it may hold an id or a token.
    let args = words(line).map_err(|e| {
        let name = line.split_whitespace().next().unwrap_or(".");
        fail(format!("{name}: {e}"))
    })?;
    let dot = match Dot::try_parse_from(&args) {
        Ok(d) => d,
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelp => {
            write!(out, "{}", e.render())?;
            out.flush()?;
            return Ok(Flow::Continue);
        }
        Err(e) => return Err(clap_error(&args, &e)),
    };
    dispatch(shell, dot, out)?;
    Ok(if matches!(line_command(&args), Some(".quit" | ".exit")) {
        Flow::Quit
    } else {
        Flow::Continue
    })
}

fn line_command(args: &[String]) -> Option<&str> {
    args.first().map(String::as_str)
}

/// A clap error as one message: what is wrong, then the usage.
fn clap_error(args: &[String], e: &clap::Error) -> ShellError {
    use clap::error::ErrorKind;
    let name = line_command(args).unwrap_or(".");
    if e.kind() == ErrorKind::InvalidSubcommand {
        return fail(format!("unknown command {name}: try .help"));
    }
    let rendered = e.render().to_string();
    let mut lines = rendered
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty() && !l.starts_with("For more information"));
    let mut first = lines
        .next()
        .unwrap_or("invalid arguments")
        .trim_start_matches("error: ")
        .to_string();
    // clap quotes what was typed ("unexpected argument 'x'"): a typed
    // value may be an id or a token, so it is not echoed.
    for a in args.iter().skip(1).filter(|a| !a.is_empty()) {
        first = first.replace(&format!("'{a}'"), "'…'");
    }
    let usage = lines
        .find(|l| l.starts_with("Usage:"))
        .map(|u| format!("\n{u}"))
        .unwrap_or_default();
    fail(format!("{name}: {first}{usage}"))
}

fn dispatch(shell: &mut Shell, dot: Dot, out: &mut dyn Write) -> Result<(), ShellError> {
    match dot {
        Dot::Open { dir, geoip } => {
            outfile::check_open(shell.dir(), &dir)?;
            shell.reopen(&dir, geoip.as_deref())?;
            let domains = shell.db()?.domains();
            writeln!(
                out,
                "opened {} ({} domains: {})",
                shown_path(shell.dir()),
                domains.len(),
                list_or_none(&domains)
            )?;
        }
        Dot::Domains => domains(shell, out)?,
        Dot::Use { domain } => shell.use_domain(&domain)?,
        Dot::Tables => tables(shell, out)?,
        Dot::Schema { table } => schema(table.as_deref(), out)?,
        Dot::Mode { mode: None } => writeln!(out, "{}", shell.mode)?,
        Dot::Mode { mode: Some(m) } => {
            shell.mode = Mode::parse(&m)
                .ok_or_else(|| fail(format!(".mode: unknown mode; expected {}", Mode::NAMES)))?;
        }
        Dot::Timer { state: None } => {
            writeln!(out, "{}", if shell.timer { "on" } else { "off" })?;
        }
        Dot::Timer { state: Some(s) } => shell.timer = s == OnOff::On,
        Dot::Import {
            files,
            format,
            domain,
            flags,
        } => {
            let domain = domain.or_else(|| shell.domain_name());
            let opts = import::options(format.as_deref(), domain.as_deref(), &flags)?;
            for f in &files {
                import::import_one(shell.db()?, f, &opts, out)?;
            }
        }
        Dot::ExportVisitor { id, file } => admin::export_visitor(shell, &id, file.as_deref(), out)?,
        Dot::EraseVisitor { id } => admin::erase_visitor(shell, &id, out)?,
        Dot::EraseSession { id } => admin::erase_session(shell, &id, out)?,
        Dot::Optout { token } => {
            shell
                .db()?
                .opt_out(&token)
                .map_err(|e| fail(format!("cannot register the opt-out: {e}")))?;
            writeln!(
                out,
                "opt-out registered: hits carrying this token are dropped on every domain"
            )?;
        }
        Dot::Optin { token } => {
            shell
                .db()?
                .opt_in(&token)
                .map_err(|e| fail(format!("cannot remove the opt-out: {e}")))?;
            writeln!(
                out,
                "opt-out removed: hits carrying this token are tracked again"
            )?;
        }
        Dot::Retention { settings } => admin::retention(shell, &settings, out)?,
        Dot::Consent { settings } => admin::consent(shell, &settings, out)?,
        Dot::Compact => admin::compact(shell, out)?,
        Dot::Stats => admin::stats(shell, out)?,
        Dot::Privacy => admin::privacy(shell, out)?,
        Dot::Audit => admin::audit(shell, out)?,
        Dot::Geoip { path } => {
            let dir = shell.dir().to_path_buf();
            shell.reopen(&dir, Some(&path))?;
            writeln!(
                out,
                "reopened {} with {}",
                shown_path(&dir),
                shown_path(&path)
            )?;
        }
        Dot::Dashboard { days } => {
            let domain = shell.domain()?;
            let range = dashboard::last_days(shell.db()?, days);
            dashboard::dashboard(&domain, range, shell.style(), out)?;
        }
        Dot::Forms { form } => {
            let domain = shell.domain()?;
            dashboard::forms(&domain, form.as_deref(), shell.style(), out)?;
        }
        Dot::Sessions { n } => {
            let domain = shell.domain()?;
            dashboard::sessions(&domain, n as usize, shell.style(), out)?;
        }
        Dot::Replay { session } => {
            let domain = shell.domain()?;
            let id = pledgedb_core::SessionId::parse_hex(&session)
                .ok_or_else(|| fail(".replay: a session id is 16 hex digits (see .sessions)"))?;
            dashboard::replay(&domain, id, shell.style(), out)?;
        }
        Dot::Help { command } => help(command.as_deref(), out)?,
        Dot::Quit => {}
    }
    out.flush()?;
    Ok(())
}

fn domains(shell: &Shell, out: &mut dyn Write) -> Result<(), ShellError> {
    let current = shell.domain_name();
    let mut g = Grid::new(vec![col("domain", Fmt::Plain), col("current", Fmt::Plain)]);
    for d in shell.db()?.domains() {
        let mark = if current.as_deref() == Some(d.as_str()) {
            "*"
        } else {
            ""
        };
        g.push(vec![text(d), text(mark)]);
    }
    output::render(out, &g, shell.style())?;
    Ok(())
}

fn tables(shell: &Shell, out: &mut dyn Write) -> Result<(), ShellError> {
    let mut g = Grid::new(vec![col("table", Fmt::Plain), col("rows", Fmt::Plain)]);
    for t in pledgedb_sql::tables() {
        g.push(vec![text(t.name), text(t.description)]);
    }
    output::render(out, &g, shell.style())?;
    Ok(())
}

/// The tables as `CREATE TABLE` statements, with each column's meaning as
/// a comment.
fn schema(table: Option<&str>, out: &mut dyn Write) -> Result<(), ShellError> {
    let tables = match table {
        Some(name) => vec![pledgedb_sql::table(name).ok_or_else(|| {
            let names: Vec<String> = pledgedb_sql::tables().into_iter().map(|t| t.name).collect();
            fail(format!(
                "no such table: {name} (tables: {})",
                names.join(", ")
            ))
        })?],
        None => pledgedb_sql::tables(),
    };
    for (i, t) in tables.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        writeln!(out, "-- {}", t.description)?;
        writeln!(out, "CREATE TABLE {} (", t.name)?;
        let w = t
            .columns
            .iter()
            .map(|c| c.name.len() + c.ty.as_str().len() + 2)
            .max()
            .unwrap_or(0);
        for (j, c) in t.columns.iter().enumerate() {
            let comma = if j + 1 < t.columns.len() { "," } else { "" };
            let decl = format!("{} {}{comma}", c.name, c.ty.as_str());
            writeln!(out, "  {decl:<w$} -- {}", c.description)?;
        }
        writeln!(out, ");")?;
    }
    Ok(())
}

fn help(command: Option<&str>, out: &mut dyn Write) -> Result<(), ShellError> {
    let mut cmd = Dot::command();
    if let Some(name) = command {
        let wanted = if name.starts_with('.') {
            name.to_string()
        } else {
            format!(".{name}")
        };
        let sub = cmd
            .get_subcommands_mut()
            .find(|s| s.get_name() == wanted || s.get_all_aliases().any(|a| a == wanted))
            .ok_or_else(|| fail(format!("unknown command {wanted}: try .help")))?;
        write!(out, "{}", sub.render_long_help())?;
        return Ok(());
    }
    writeln!(
        out,
        "SQL statements end with \";\" and run against the current domain (.use).\n\
         Commands (.help COMMAND for details):"
    )?;
    let rows: Vec<(String, String)> = cmd
        .get_subcommands()
        .map(|s| {
            let usage = s
                .clone()
                .render_usage()
                .to_string()
                .trim_start_matches("Usage:")
                .trim()
                .to_string();
            let about = s.get_about().map(|a| a.to_string()).unwrap_or_default();
            (usage, about)
        })
        .collect();
    let w = rows.iter().map(|r| r.0.len()).max().unwrap_or(0).min(40);
    for (usage, about) in rows {
        if usage.len() > w {
            writeln!(out, "  {usage}\n  {:w$}  {about}", "")?;
        } else {
            writeln!(out, "  {usage:<w$}  {about}")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One line per command, with whether history may keep it. The table
    /// must name every command, so a new one has to be added here too.
    const LINES: &[(&str, bool)] = &[
        (".open data", true),
        (".domains", true),
        (".use shop.example", true),
        (".tables", true),
        (".schema pageviews", true),
        (".mode csv", true),
        (".timer on", true),
        (".import hits.ndjson", true),
        (".export-visitor alice", false),
        (".erase-visitor 0123456789abcdef", false),
        (".erase-session 0123456789abcdef", false),
        (".optout tok", false),
        (".optin tok", false),
        (".retention raw=30", true),
        (".consent required", true),
        (".compact", true),
        (".stats", true),
        (".privacy", true),
        (".audit", true),
        (".geoip geo.mmdb", true),
        (".dashboard 7", true),
        (".forms signup", true),
        (".sessions 5", true),
        (".replay 0123456789abcdef", false),
        (".help", true),
        (".quit", true),
    ];

    #[test]
    fn every_command_says_whether_history_may_keep_it() {
        for sub in Dot::command().get_subcommands() {
            assert!(
                LINES
                    .iter()
                    .any(|(l, _)| l.split(' ').next() == Some(sub.get_name())),
                "{} is missing from LINES",
                sub.get_name()
            );
        }
        for (line, keep) in LINES {
            assert_eq!(keeps_history(line), *keep, "{line}");
        }
    }

    #[test]
    fn identifying_commands_are_never_kept_however_written() {
        for cmd in [
            ".export-visitor",
            ".erase-visitor",
            ".erase-session",
            ".optout",
            ".optin",
            ".replay",
        ] {
            for line in [
                format!("{cmd} secret-id"),
                format!("{cmd}   \"secret id\""),
                format!("{cmd} 'secret-id'"),
                format!("{cmd} secret-id extra words"),
                format!("{cmd} secret-id --help"),
                format!("{cmd} --help secret-id"),
                format!("{cmd} \"unterminated secret-id"),
                format!("{cmd} secret-id out.json"),
            ] {
                assert!(!keeps_history(&line), "{line}");
            }
        }
        assert!(!keeps_history(".optuot secret-id"), "a typo is not kept");
    }
}
