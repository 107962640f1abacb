//! Drives the interactive shell through a pseudo-terminal (rexpect): the
//! keys a person would press, read back from what the terminal shows.

mod common;

use common::Env;
use rexpect::error::Error;
use rexpect::process::WaitStatus;
use rexpect::session::{PtySession, spawn_command};

/// Types a line and presses Enter (a carriage return, as a terminal sends).
fn enter(p: &mut PtySession, line: &str) -> Result<(), Error> {
    p.send(line)?;
    p.send("\r")?;
    p.flush()
}

#[test]
fn the_repl_edits_recalls_switches_modes_cancels_and_exits() -> Result<(), Error> {
    let env = Env::new();
    env.load();
    let mut cmd = env.command();
    cmd.arg(env.data_str()).env("TERM", "xterm");
    let mut p = spawn_command(cmd, Some(30_000))?;
    p.exp_string("SQL runs against shop.example")?;
    p.exp_string("pledgedb> ")?;

    // A statement over two lines: the second gets the continuation prompt.
    enter(&mut p, "SELECT path, COUNT(*) AS views")?;
    p.exp_string("   ...> ")?;
    enter(
        &mut p,
        "FROM pageviews GROUP BY path ORDER BY views DESC, path;",
    )?;
    // rexpect reads bytes one by one, so match the ASCII parts of the
    // box-drawn table.
    p.exp_string(" /pricing ")?;
    p.exp_string("     2 ")?;
    p.exp_string(" /about   ")?;
    p.exp_string("pledgedb> ")?;

    // Up arrow brings the whole statement back; Enter runs it again.
    p.send("\x1b[A")?;
    p.flush()?;
    p.exp_string("FROM pageviews GROUP BY path")?;
    p.send("\r")?;
    p.flush()?;
    p.exp_string(" /pricing ")?;
    p.exp_string(" /about   ")?;
    p.exp_string("pledgedb> ")?;

    // .mode csv switches the output.
    enter(&mut p, ".mode csv")?;
    p.exp_string("pledgedb> ")?;
    enter(&mut p, "SELECT COUNT(*) AS n FROM pageviews;")?;
    p.exp_string("n\r\n4\r\n")?;
    p.exp_string("pledgedb> ")?;

    // Ctrl-C drops a half-typed statement, also one spanning lines.
    enter(&mut p, "SELECT 'abandoned'")?;
    p.exp_string("   ...> ")?;
    p.send("FROM nowhere WHERE")?;
    p.flush()?;
    p.send_control('c')?;
    p.exp_string("pledgedb> ")?;
    enter(&mut p, "SELECT 'fresh' AS status;")?;
    p.exp_string("status\r\nfresh\r\n")?;
    p.exp_string("pledgedb> ")?;

    // A line holding an IP address runs but is kept out of the history.
    enter(&mut p, "SELECT '203.0.113.7' AS addr;")?;
    p.exp_string("addr\r\n")?;
    p.exp_string("pledgedb> ")?;

    // An error is reported and the shell goes on.
    enter(&mut p, "SELECT nope FROM pageviews;")?;
    p.exp_string("Error: no such column: nope")?;
    p.exp_string("pledgedb> ")?;

    // Ctrl-D on an empty line leaves.
    p.send_control('d')?;
    p.exp_eof()?;
    let status = p.process().wait()?;
    assert!(
        matches!(status, WaitStatus::Exited(_, 0)),
        "exit status {status:?}"
    );

    let history_path = env.home().join(".pledgedb_history");
    let history = std::fs::read_to_string(&history_path)?;
    assert!(history.contains("SELECT 'fresh' AS status;"), "{history}");
    assert!(history.contains(".mode csv"), "{history}");
    assert!(history.contains("ORDER BY views DESC, path;"), "{history}");
    assert!(!history.contains("203.0.113.7"), "{history}");
    assert!(!history.contains("abandoned"), "{history}");
    assert!(!env.data().join(".pledgedb_history").exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&history_path)?.permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    Ok(())
}

/// Every command that carries an identifier or a token, however it is
/// typed; none may reach the history file or the in-memory history.
const IDENTIFYING: &[&str] = &[
    ".optout tok-marker-01",
    ".optin tok-marker-02",
    ".erase-visitor client-marker-03",
    ".erase-visitor 0badc0ffee000004",
    ".erase-session 0badc0ffee000005",
    ".export-visitor client-marker-06",
    ".export-visitor client-marker-07 out-marker-07.json",
    ".replay 0badc0ffee000008",
    "   .optout \"spaced marker-09\"",
    ".optout marker-10 stray-words",
    ".erase-visitor --help marker-11",
    ".optuot marker-12",
];

#[test]
fn the_history_never_holds_an_identifier_or_a_token() -> Result<(), Error> {
    let env = Env::new();
    env.load();
    let history_path = env.home().join(".pledgedb_history");
    // A history written before identifying commands were kept out: the
    // shell drops such lines when it loads the file.
    std::fs::write(
        &history_path,
        "#V2\n.optout old-marker-13\n.domains\n.erase-visitor old-marker-14\n",
    )?;
    let mut cmd = env.command();
    cmd.arg(env.data_str()).env("TERM", "xterm");
    let mut p = spawn_command(cmd, Some(30_000))?;
    p.exp_string("pledgedb> ")?;

    enter(&mut p, ".timer on")?;
    p.exp_string("pledgedb> ")?;
    for line in IDENTIFYING {
        enter(&mut p, line)?;
        p.exp_string("pledgedb> ")?;
    }
    // Up arrow recalls the last kept command, not an identifying one.
    p.send("\x1b[A")?;
    p.flush()?;
    p.exp_string(".timer on")?;
    p.send_control('c')?;
    p.exp_string("pledgedb> ")?;
    p.send_control('d')?;
    p.exp_eof()?;
    let status = p.process().wait()?;
    assert!(
        matches!(status, WaitStatus::Exited(_, 0)),
        "exit status {status:?}"
    );

    let history = std::fs::read_to_string(&history_path)?;
    assert!(history.contains(".timer on"), "{history}");
    assert!(history.contains(".domains"), "{history}");
    for n in 1..=14 {
        let marker = format!("marker-{n:02}");
        assert!(!history.contains(&marker), "{marker} in {history}");
        let id = format!("0badc0ffee{n:06}");
        assert!(!history.contains(&id), "{id} in {history}");
    }
    for cmd in [
        ".optout",
        ".optin",
        ".erase-visitor",
        ".erase-session",
        ".export-visitor",
        ".replay",
    ] {
        assert!(!history.contains(cmd), "{cmd} in {history}");
    }
    Ok(())
}
