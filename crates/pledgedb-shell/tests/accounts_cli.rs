//! `pledgedb DIR user ...` and `pledgedb DIR key ...`: the password comes
//! from standard input, a key is printed once, and neither is ever listed
//! or stored in clear.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn run(dir: &std::path::Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pledgedb"))
        .arg(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn users_and_keys_from_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let pw = "correct-horse-battery-staple";
    let o = run(
        dir,
        &[
            "user",
            "add",
            "ana",
            "--site",
            "shop.example",
            "--password-stdin",
        ],
        &format!("{pw}\n"),
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = run(dir, &["user", "add", "root", "--admin"], &format!("{pw}\n"));
    assert!(o.status.success(), "{}", text(&o));
    // Refusals: a duplicate, no password, a short one, an IP-shaped name or
    // site, a bad scope. None echoes the password or the name.
    for (args, input) in [
        (vec!["user", "add", "ana"], format!("{pw}\n")),
        (vec!["user", "add", "bob"], String::new()),
        (vec!["user", "add", "bob"], "short\n".to_string()),
        (vec!["user", "add", "198.51.100.7"], format!("{pw}\n")),
        (
            vec!["user", "add", "bob", "--site", "198.51.100.7"],
            format!("{pw}\n"),
        ),
        (
            vec![
                "key",
                "add",
                "k",
                "--site",
                "shop.example",
                "--scope",
                "root",
            ],
            String::new(),
        ),
        (
            vec![
                "key",
                "add",
                "k",
                "--site",
                "198.51.100.7",
                "--scope",
                "stats",
            ],
            String::new(),
        ),
    ] {
        let o = run(dir, &args, &input);
        assert!(!o.status.success(), "{args:?}");
        let t = text(&o);
        assert!(
            !t.contains(pw) && !t.contains("198.51.100.7") && !t.contains("short"),
            "{t}"
        );
    }
    let o = run(dir, &["user", "list"], "");
    let list = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(list.contains("ana\tshop.example"), "{list}");
    assert!(list.contains("root\t(admin"), "{list}");
    assert!(!list.contains("argon2"), "{list}");
    // A key: printed once on stdout, never listed.
    let o = run(
        dir,
        &[
            "key",
            "add",
            "bot",
            "--site",
            "shop.example",
            "--scope",
            "stats",
        ],
        "",
    );
    assert!(o.status.success(), "{}", text(&o));
    let key = String::from_utf8_lossy(&o.stdout).trim().to_string();
    assert!(key.starts_with("pdb_") && key.len() == 68, "{key}");
    let o = run(dir, &["key", "list"], "");
    let list = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(list.starts_with("bot\tshop.example\tstats\t"), "{list}");
    assert!(!list.contains(&key[4..]));
    let store = std::fs::read_to_string(dir.join("accounts.json")).unwrap();
    assert!(!store.contains(pw) && !store.contains(&key[4..]));
    let o = run(dir, &["key", "revoke", "bot"], "");
    assert!(o.status.success());
    let o = run(dir, &["key", "revoke", "bot"], "");
    assert!(!o.status.success(), "already revoked");
    let o = run(dir, &["user", "remove", "ana"], "");
    assert!(o.status.success());
    let o = run(dir, &["user", "list"], "");
    assert!(!String::from_utf8_lossy(&o.stdout).contains("ana"));
}
