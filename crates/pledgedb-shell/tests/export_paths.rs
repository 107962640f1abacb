//! `.export-visitor ID FILE`, and every other file the shell writes, is
//! refused when FILE resolves to a place inside the data directory, where a
//! copy of the visitor's events would outlive their erasure.

mod common;

use common::{Env, describe, stderr, stdout};
use std::path::Path;

/// Every file under `dir` whose name is `name`.
fn find(dir: &Path, name: &str) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for e in entries.flatten() {
        let p = e.path();
        if std::fs::symlink_metadata(&p).is_ok_and(|m| m.is_dir()) {
            found.extend(find(&p, name));
        } else if p.file_name().is_some_and(|n| n == name) {
            found.push(p);
        }
    }
    found
}

#[test]
fn export_refuses_every_path_into_the_data_directory() {
    let env = Env::new();
    env.load();
    let t = env.path();
    let data = env.data();
    std::fs::create_dir(t.join("out")).unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&data, t.join("link")).unwrap();
        std::os::unix::fs::symlink(data.join("domains"), t.join("out/inner")).unwrap();
        std::os::unix::fs::symlink(data.join("alice.json"), t.join("dangling.json")).unwrap();
    }
    let abs = |p: &Path| p.to_str().unwrap().to_string();
    let mut refused = vec![
        "data/alice.json".to_string(),
        "./data/alice.json".to_string(),
        abs(&data.join("alice.json")),
        "out/../data/alice.json".to_string(),
        "data/domains/../alice.json".to_string(),
        "data/domains/shop.example/alice.json".to_string(),
        "data/not-yet/alice.json".to_string(),
        "missing/../data/alice.json".to_string(),
        abs(&t.join("out/../data/./alice.json")),
    ];
    if cfg!(unix) {
        refused.extend([
            "link/alice.json".to_string(),
            abs(&t.join("link/domains/alice.json")),
            "link/not-yet/alice.json".to_string(),
            "out/inner/../alice.json".to_string(),
            "out/inner/shop.example/alice.json".to_string(),
            "dangling.json".to_string(),
        ]);
    }
    for path in &refused {
        let o = env.one_shot(&[&format!(".export-visitor alice {path}")]);
        assert!(!o.status.success(), "{path} accepted: {}", describe(&o));
        let err = stderr(&o);
        assert!(err.starts_with("Error: refusing to write"), "{path}: {err}");
        assert!(
            err.contains("inside the data directory") || err.contains("symbolic link"),
            "{path}: {err}"
        );
        // The message names the problem, not the data.
        assert!(!err.contains("/pricing"), "{path}: {err}");
        assert!(stdout(&o).is_empty(), "{path}: {}", describe(&o));
        assert!(find(&data, "alice.json").is_empty(), "{path} wrote a file");
    }

    // Outside the data directory the export is written.
    for path in ["alice.json", "out/alice.json", "data/../out/alice2.json"] {
        let o = env.one_shot(&[&format!(".export-visitor alice {path}")]);
        assert!(o.status.success(), "{path}: {}", describe(&o));
        let json = std::fs::read_to_string(t.join(path)).unwrap();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["events"].as_array().unwrap().len(), 2, "{path}");
    }
    assert!(find(&data, "alice.json").is_empty());
}

#[test]
fn open_refuses_a_directory_inside_the_data_directory() {
    let env = Env::new();
    env.load();
    for dir in [
        "data/nested",
        "data/domains/other",
        "out/../data/nested",
        "./data/./domains/x/../y",
    ] {
        let o = env.one_shot(&[&format!(".open {dir}")]);
        assert!(!o.status.success(), "{dir}: {}", describe(&o));
        let err = stderr(&o);
        assert!(err.contains("inside the data directory"), "{dir}: {err}");
        assert!(!env.data().join("nested").exists(), "{dir}");
        assert!(!env.data().join("domains/other").exists(), "{dir}");
        assert!(!env.data().join("domains/y").exists(), "{dir}");
    }
    // Reopening the same directory, however spelled, is fine.
    for dir in ["data", "./data/", "data/domains/.."] {
        let o = env.one_shot(&[&format!(".open {dir}"), ".domains"]);
        assert!(o.status.success(), "{dir}: {}", describe(&o));
        assert!(stdout(&o).contains("shop.example"), "{dir}");
    }
}

#[cfg(unix)]
#[test]
fn a_history_file_inside_the_data_directory_is_never_written() {
    // HOME inside the data directory: the shell keeps no history there.
    use rexpect::session::spawn_command;
    let env = Env::new();
    env.load();
    let home = env.data().join("home");
    std::fs::create_dir(&home).unwrap();
    let mut cmd = env.command();
    cmd.arg(env.data_str())
        .env("TERM", "xterm")
        .env("HOME", &home);
    let mut p = spawn_command(cmd, Some(30_000)).unwrap();
    p.exp_string("history is not saved").unwrap();
    p.exp_string("pledgedb> ").unwrap();
    p.send(".domains\r").unwrap();
    p.flush().unwrap();
    p.exp_string("pledgedb> ").unwrap();
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
    assert!(!home.join(".pledgedb_history").exists());
}
