//! The shell's state: the open data directory, the current domain, the
//! output mode and the timer, and running one statement or dot-command.

use crate::output::{self, Grid, Mode, Style};
use pledgedb_core::text::redact_ips;
use pledgedb_core::{Config, Db, Domain};
use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The data directory used when none is given.
pub const DEFAULT_DIR: &str = "./pledgedb-data";

/// Why a statement or command failed. Displayed as the message with every
/// IP-shaped part redacted, so no error can echo an address.
#[derive(Debug)]
pub enum ShellError {
    /// Something to tell the user.
    Message(String),
    /// Writing the output failed (a closed pipe ends the shell quietly).
    Output(io::Error),
}

impl ShellError {
    /// Whether the reader of the output went away (`pledgedb ... | head`).
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, ShellError::Output(e) if e.kind() == io::ErrorKind::BrokenPipe)
    }
}

impl fmt::Display for ShellError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let msg = match self {
            ShellError::Message(m) => m.clone(),
            ShellError::Output(e) => format!("cannot write the output: {e}"),
        };
        f.write_str(&redact_ips(&msg))
    }
}

impl From<io::Error> for ShellError {
    fn from(e: io::Error) -> Self {
        ShellError::Output(e)
    }
}

/// Text a user supplied (a path, a name), as it may be printed: every
/// IP-shaped part redacted by the engine's one redaction function,
/// [`redact_ips`]. Every line of output that can carry such text goes
/// through here or through [`ShellError`]'s `Display`.
pub fn shown(text: &str) -> String {
    redact_ips(text).into_owned()
}

/// A path as it may be printed: [`shown`] of its display form.
pub fn shown_path(path: &Path) -> String {
    shown(&path.display().to_string())
}

/// Prints an error to standard error.
pub fn report(e: &ShellError) {
    eprintln!("Error: {e}");
}

/// A [`ShellError::Message`].
pub fn fail(msg: impl Into<String>) -> ShellError {
    ShellError::Message(msg.into())
}

/// What to do after an item ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Read the next one.
    Continue,
    /// Leave the shell (`.quit`).
    Quit,
}

/// The shell's state.
pub struct Shell {
    db: Option<Db>,
    dir: PathBuf,
    geoip: Option<PathBuf>,
    /// The domain chosen with `.use`.
    current: Option<String>,
    /// The output mode.
    pub mode: Mode,
    /// Whether `.timer on` is in force.
    pub timer: bool,
}

/// `dir` made absolute (the engine syncs a directory's parent, which a
/// bare relative name does not have).
pub fn absolute(dir: &Path) -> PathBuf {
    std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf())
}

fn open_db(dir: &Path, geoip: Option<&Path>) -> Result<Db, ShellError> {
    let dir = &absolute(dir);
    let mut config = Config::default();
    if let Some(g) = geoip {
        config = config.with_geoip(g);
    }
    Db::open(dir, config).map_err(|e| match e {
        pledgedb_core::OpenError::Geo(g) => fail(g.to_string()),
        e => fail(format!(
            "cannot open the data directory {}: {e}",
            dir.display()
        )),
    })
}

impl Shell {
    /// Opens (or creates) a data directory.
    pub fn open(dir: &Path, geoip: Option<&Path>) -> Result<Shell, ShellError> {
        let dir = absolute(dir);
        let db = open_db(&dir, geoip)?;
        Ok(Shell {
            db: Some(db),
            dir,
            geoip: geoip.map(Path::to_path_buf),
            current: None,
            mode: Mode::Table,
            timer: false,
        })
    }

    /// The open database.
    pub fn db(&self) -> Result<&Db, ShellError> {
        self.db
            .as_ref()
            .ok_or_else(|| fail("no data directory is open: use .open DIR"))
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The GeoIP database in use, if any.
    pub fn geoip(&self) -> Option<&Path> {
        self.geoip.as_deref()
    }

    /// Closes the database and opens `dir` with `geoip`. If that fails, the
    /// previous directory is opened again and the error returned.
    pub fn reopen(&mut self, dir: &Path, geoip: Option<&Path>) -> Result<(), ShellError> {
        let dir = &absolute(dir);
        // A GeoIP database that cannot be used is refused before anything
        // is closed: the open directory stays as it is.
        if let Some(g) = geoip {
            pledgedb_core::geo::GeoDb::open(g).map_err(|e| {
                if self.db.is_some() {
                    fail(format!("{e}; {} stays open as it was", self.dir.display()))
                } else {
                    fail(format!("{e}; no data directory is open (.open DIR)"))
                }
            })?;
        }
        if let Some(db) = self.db.take() {
            db.close()
                .map_err(|e| fail(format!("cannot close {}: {e}", self.dir.display())))?;
        }
        match open_db(dir, geoip) {
            Ok(db) => {
                if *dir != self.dir {
                    self.current = None;
                }
                self.db = Some(db);
                self.dir = dir.to_path_buf();
                self.geoip = geoip.map(Path::to_path_buf);
                Ok(())
            }
            Err(e) => {
                self.db = open_db(&self.dir, self.geoip.as_deref()).ok();
                let now = if self.db.is_some() {
                    format!("{} is open again, as it was", self.dir.display())
                } else {
                    format!(
                        "{} could not be opened again either: no data directory is open (.open DIR)",
                        self.dir.display()
                    )
                };
                Err(fail(format!("{e}; {now}")))
            }
        }
    }

    /// Flushes and closes the database.
    pub fn close(mut self) -> Result<(), ShellError> {
        match self.db.take() {
            Some(db) => db
                .close()
                .map_err(|e| fail(format!("cannot close {}: {e}", self.dir.display()))),
            None => Ok(()),
        }
    }

    /// Selects the domain SQL runs against.
    pub fn use_domain(&mut self, name: &str) -> Result<(), ShellError> {
        let db = self.db()?;
        db.domain(name)
            .map_err(|e| fail(format!("{e} (domains: {})", list_or_none(&db.domains()))))?;
        self.current = Some(name.to_string());
        Ok(())
    }

    /// The current domain's name: the one chosen with `.use`, or the only
    /// domain when there is exactly one.
    pub fn domain_name(&self) -> Option<String> {
        if let Some(c) = &self.current {
            return Some(c.clone());
        }
        let domains = self.db.as_ref()?.domains();
        match domains.as_slice() {
            [only] => Some(only.clone()),
            _ => None,
        }
    }

    /// The current domain.
    pub fn domain(&self) -> Result<Domain, ShellError> {
        let db = self.db()?;
        if let Some(name) = self.domain_name() {
            return db.domain(&name).map_err(|e| fail(e.to_string()));
        }
        let domains = db.domains();
        if domains.is_empty() {
            Err(fail(
                "there are no domains yet: load data with .import FILE, or try `pledgedb demo`",
            ))
        } else {
            Err(fail(format!(
                "{} domains: choose one with .use DOMAIN ({})",
                domains.len(),
                domains.join(", ")
            )))
        }
    }

    /// How output is printed now.
    pub fn style(&self) -> Style {
        Style {
            mode: self.mode,
            width: if self.mode == Mode::Table {
                output::terminal_width()
            } else {
                None
            },
        }
    }

    /// Runs one SQL statement against the current domain.
    pub fn run_sql(&mut self, sql: &str, out: &mut dyn Write) -> Result<(), ShellError> {
        let domain = self.domain()?;
        let started = Instant::now();
        let rs = pledgedb_sql::execute(&domain, sql).map_err(|e| fail(e.to_string()))?;
        let elapsed = started.elapsed();
        output::render(out, &Grid::from_result(&rs), self.style())?;
        if self.timer {
            let source = rs
                .source
                .as_deref()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default();
            writeln!(
                out,
                "Run Time: {:.3} ms{source}",
                elapsed.as_secs_f64() * 1000.0
            )?;
        }
        out.flush()?;
        Ok(())
    }
}

/// `a, b, c`, or `none`.
pub fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items.join(", ")
    }
}
