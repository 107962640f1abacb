//! Reading input: the interactive loop (rustyline, with history and
//! multi-line statements), scripts on standard input, and `-c` commands.

use crate::commands;
use crate::outfile;
use crate::script::{Item, Splitter, split_all};
use crate::shell::{Flow, Shell, list_or_none, report, shown_path};
use pledgedb_core::text::contains_ip;
use rustyline::error::ReadlineError;
use rustyline::history::{FileHistory, History};
use rustyline::{Config, Editor};
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The prompt of a new statement.
pub const PROMPT: &str = "pledgedb> ";
/// The prompt of a statement's next line.
pub const CONTINUE_PROMPT: &str = "   ...> ";

/// The history file: `$HOME/.pledgedb_history`, never inside the data
/// directory. It never holds a line with an IP address, nor a dot-command
/// whose arguments identify a person ([`may_keep`]).
fn history_path() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".pledgedb_history"))
}

/// Runs one item, printing its error. Returns whether to go on, and
/// whether it failed.
fn run_item(shell: &mut Shell, item: &Item) -> (Flow, bool) {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let r = commands::run_item(shell, item, &mut out);
    let _ = out.flush();
    drop(out);
    match r {
        Ok(flow) => (flow, false),
        Err(e) if e.is_broken_pipe() => (Flow::Quit, true),
        Err(e) => {
            report(&e);
            (Flow::Continue, true)
        }
    }
}

fn banner(shell: &Shell) {
    let domains = shell.db().map(|db| db.domains()).unwrap_or_default();
    let using = shell.domain_name().map_or_else(
        || "choose a domain with .use DOMAIN".to_string(),
        |d| format!("SQL runs against {d}"),
    );
    let geoip = shell.geoip().map_or_else(
        || "no GeoIP database (countries are ZZ); .geoip PATH adds one".to_string(),
        |g| format!("GeoIP {}", shown_path(g)),
    );
    let mut out = io::stdout().lock();
    let _ = writeln!(
        out,
        "PledgeDB {} shell. Data directory {} ({} domains: {}); {using}; {geoip}.",
        env!("CARGO_PKG_VERSION"),
        shown_path(shell.dir()),
        domains.len(),
        list_or_none(&domains)
    );
    let _ = writeln!(
        out,
        "End SQL statements with \";\". Type .help for commands; Ctrl-C cancels a statement, Ctrl-D exits."
    );
    let _ = out.flush();
}

/// Whether an item may go into the history file: SQL may (unless it holds
/// an IP, checked on the whole entry); a dot-command only if its
/// definition says its arguments identify no one
/// ([`commands::keeps_history`]).
fn may_keep(item: &Item) -> bool {
    match item {
        Item::Sql(sql) => !holds_stored_id(sql),
        Item::Dot(line) => commands::keeps_history(line),
    }
}

/// Whether SQL names one visitor or session: the tables show their ids as
/// 16 hex digits, so a query that holds such a word
/// (`WHERE visitor = '0badc0ffee000004'`) is about one person and is not
/// kept, like `.export-visitor ID`.
fn holds_stored_id(sql: &str) -> bool {
    sql.split(|c: char| !c.is_ascii_alphanumeric())
        .any(|w| w.len() == 16 && w.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Whether a whole history entry may be kept: it holds no IP and every
/// item of it may be kept.
fn entry_may_keep(entry: &str) -> bool {
    !contains_ip(entry) && split_all(entry).iter().all(may_keep)
}

/// Loads the history, dropping (and rewriting the file without) any entry
/// that would not be kept today, such as one written by an older version.
fn load_history(rl: &mut Editor<(), FileHistory>, path: &PathBuf, data_dir: &Path) {
    if rl.load_history(path).is_err() {
        return;
    }
    let entries: Vec<String> = rl.history().iter().cloned().collect();
    let kept: Vec<&String> = entries.iter().filter(|e| entry_may_keep(e)).collect();
    if kept.len() == entries.len() {
        return;
    }
    let h = rl.history_mut();
    let _ = h.clear();
    for e in &kept {
        let _ = h.add(e);
    }
    if kept.is_empty() {
        let _ = std::fs::remove_file(path);
    } else {
        save_history(rl, Some(path), data_dir);
    }
}

fn save_history(rl: &mut Editor<(), FileHistory>, path: Option<&PathBuf>, data_dir: &Path) {
    let Some(path) = path else { return };
    // Like every file the shell writes, never inside the data directory.
    if outfile::check(data_dir, path).is_err() {
        return;
    }
    if rl.save_history(path).is_ok() {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        }
    }
}

/// The interactive loop.
pub fn interactive(shell: &mut Shell) -> ExitCode {
    let config = Config::builder()
        .auto_add_history(false)
        .history_ignore_dups(true)
        .and_then(|b| b.max_history_size(10_000))
        .map(rustyline::config::Builder::build);
    let config = match config {
        Ok(c) => c,
        Err(e) => {
            eprintln!("Error: cannot set up line editing: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut rl: Editor<(), FileHistory> = match Editor::with_config(config) {
        Ok(rl) => rl,
        Err(e) => {
            eprintln!("Error: cannot set up line editing: {e}");
            return ExitCode::FAILURE;
        }
    };
    let history = history_path();
    if let Some(p) = &history
        && let Err(e) = outfile::check_outside(shell.dir(), p)
    {
        eprintln!("Note: history is not saved: {e}");
    }
    if let Some(p) = &history
        && p.exists()
    {
        load_history(&mut rl, p, shell.dir());
    }
    banner(shell);

    let mut splitter = Splitter::new();
    let mut lines: Vec<String> = Vec::new();
    // Whether every command of the entry being typed may be kept.
    let mut keep = true;
    'input: loop {
        let prompt = if splitter.is_empty() {
            PROMPT
        } else {
            CONTINUE_PROMPT
        };
        match rl.readline(prompt) {
            Ok(input) => {
                let mut items = Vec::new();
                for line in input.lines() {
                    lines.push(line.to_string());
                    items.extend(splitter.feed(line));
                }
                keep &= items.iter().all(may_keep);
                if splitter.is_empty() {
                    let entry = lines.join("\n");
                    lines.clear();
                    // Never keep a line that holds an IP address, or a
                    // command whose arguments identify a person.
                    if keep && !entry.trim().is_empty() && !contains_ip(&entry) {
                        let _ = rl.history_mut().add(&entry);
                    }
                    keep = true;
                }
                for item in items {
                    if run_item(shell, &item).0 == Flow::Quit {
                        break 'input;
                    }
                }
            }
            Err(ReadlineError::Interrupted) => {
                splitter.clear();
                lines.clear();
                keep = true;
            }
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                eprintln!("Error: cannot read the terminal: {e}");
                save_history(&mut rl, history.as_ref(), shell.dir());
                return ExitCode::FAILURE;
            }
        }
    }
    save_history(&mut rl, history.as_ref(), shell.dir());
    ExitCode::SUCCESS
}

/// Runs a script: every statement and dot-command read, stopping with a
/// failure at the first error.
pub fn batch(shell: &mut Shell, input: impl BufRead) -> ExitCode {
    let mut splitter = Splitter::new();
    for line in input.lines() {
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                eprintln!("Error: cannot read standard input: {e}");
                return ExitCode::FAILURE;
            }
        };
        for item in splitter.feed(&line) {
            match run_item(shell, &item) {
                (_, true) => return ExitCode::FAILURE,
                (Flow::Quit, false) => return ExitCode::SUCCESS,
                (Flow::Continue, false) => {}
            }
        }
    }
    if let Some(item) = splitter.finish()
        && run_item(shell, &item).1
    {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// Runs `-c` arguments in order, stopping with a failure at the first
/// error.
pub fn commands(shell: &mut Shell, cmds: &[String]) -> ExitCode {
    for cmd in cmds {
        for item in split_all(cmd) {
            match run_item(shell, &item) {
                (_, true) => return ExitCode::FAILURE,
                (Flow::Quit, false) => return ExitCode::SUCCESS,
                (Flow::Continue, false) => {}
            }
        }
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_naming_one_visitor_or_session_is_not_kept() {
        for sql in [
            "SELECT * FROM events WHERE visitor = '0badc0ffee000004';",
            "select path from events where session='ABCDEF0123456789'",
            "SELECT 1 FROM events WHERE visitor IN ('0123456789abcdef', 'x');",
        ] {
            assert!(!entry_may_keep(sql), "{sql}");
        }
        for sql in [
            "SELECT count(*) FROM events;",
            "SELECT path FROM events WHERE ts > 1767225600000;",
            "SELECT 'deadbeef' AS x;",
            "SELECT * FROM events WHERE visitor = '0123456789abcdef0';",
        ] {
            assert!(entry_may_keep(sql), "{sql}");
        }
    }
}
