//! Helpers shared by the shell tests: a temporary home and data directory,
//! a small NDJSON dataset, and running the real binary.
#![allow(dead_code)]

use pledgedb_core::{Clock, Day, SystemClock};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A temporary working directory with `home/` (the history file goes
/// there) and the data directory `data/` (created by the first run).
pub struct Env {
    pub tmp: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Env {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("home")).unwrap();
        Env { tmp }
    }

    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    pub fn home(&self) -> PathBuf {
        self.tmp.path().join("home")
    }

    pub fn data(&self) -> PathBuf {
        self.tmp.path().join("data")
    }

    pub fn data_str(&self) -> String {
        self.data().to_str().unwrap().to_string()
    }

    /// Writes a file in the working directory and returns its path.
    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let p = self.tmp.path().join(name);
        std::fs::write(&p, contents).unwrap();
        p
    }

    /// A `pledgedb` command running in the working directory, with HOME
    /// pointing at `home/`.
    pub fn command(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_pledgedb"));
        c.current_dir(self.tmp.path())
            .env("HOME", self.home())
            .env_remove("TERM");
        c
    }

    /// Runs `pledgedb ARGS` with standard input from `stdin` (empty if
    /// `None`).
    pub fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut c = self.command();
        c.args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        let mut input = child.stdin.take().unwrap();
        input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
        drop(input);
        child.wait_with_output().unwrap()
    }

    /// Runs `pledgedb data -c CMD -c CMD ...`.
    pub fn one_shot(&self, cmds: &[&str]) -> Output {
        let data = self.data_str();
        let mut args = vec![data.as_str()];
        for c in cmds {
            args.push("-c");
            args.push(c);
        }
        self.run(&args, None)
    }

    /// Writes the dataset, registers carol's opt-out token and imports it.
    pub fn load(&self) -> Output {
        self.write("hits.ndjson", &dataset(yesterday()));
        let o = self.one_shot(&[".optout tok-carol", ".import hits.ndjson"]);
        assert!(o.status.success(), "{}", describe(&o));
        o
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn describe(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        o.status.code(),
        stdout(o),
        stderr(o)
    )
}

pub fn yesterday() -> Day {
    SystemClock.now().day().plus(-1)
}

/// Thirteen lines: five stored hits (one anonymous), two dropped (opt-out,
/// Do-Not-Track), two rejected by the engine (bad domain, future time),
/// three malformed and one blank.
pub fn dataset(day: Day) -> String {
    let t = |secs: i64| day.start().0 + secs * 1000;
    let lines = [
        format!(
            r#"{{"domain":"shop.example","type":"page_view","url":"https://shop.example/?utm_source=news","ts":{},"ip":"203.0.113.7","client_id":"alice","referrer":"https://www.google.com/"}}"#,
            t(3600)
        ),
        format!(
            r#"{{"domain":"shop.example","type":"page_view","url":"https://shop.example/pricing","ts":{},"ip":"203.0.113.7","client_id":"alice"}}"#,
            t(3660)
        ),
        format!(
            r#"{{"domain":"shop.example","type":"page_view","url":"https://shop.example/pricing","ts":{},"ip":"198.51.100.2","client_id":"bob"}}"#,
            t(7200)
        ),
        "{not json".to_string(),
        format!(
            r#"{{"domain":"shop.example","type":"page_view","url":"https://shop.example/","ts":{},"client_id":"carol","opt_out_token":"tok-carol"}}"#,
            t(7300)
        ),
        format!(
            r#"{{"domain":"shop.example","type":"click","url":"https://shop.example/pricing","ts":{},"client_id":"bob","x":1200,"y":480,"target":"button.buy"}}"#,
            t(7210)
        ),
        format!(
            r#"{{"domain":"shop.example","type":"page_view","ts":{},"client_id":"dave"}}"#,
            t(7400)
        ),
        format!(
            r#"{{"domain":"shop.example","type":"page_view","url":"/docs","ts":{},"client_id":"erin","dnt":true}}"#,
            t(7500)
        ),
        format!(
            r#"{{"domain":"shop.example","type":"page_view","url":"/about","ts":{},"client_id":"frank","consent":"denied"}}"#,
            t(7600)
        ),
        String::new(),
        format!(
            r#"{{"domain":"shop.example","type":"keystroke","url":"/signup","form":"signup","field":"email","key":"a","client_id":"gina","ts":{}}}"#,
            t(7700)
        ),
        format!(
            r#"{{"domain":"Bad_Domain!","type":"page_view","url":"/x","ts":{}}}"#,
            t(7800)
        ),
        format!(
            r#"{{"domain":"shop.example","type":"page_view","url":"/future","ts":{}}}"#,
            t(30 * 86_400)
        ),
    ];
    let mut s = lines.join("\n");
    s.push('\n');
    s
}
