//! Hostile probes of the shell: `.export-visitor ID FILE` into the data
//! directory by spellings and links a first review did not list, messages
//! that must not echo an IP address or an identifier, one-shot commands
//! that must not reach a history file, and imports of dropped hits for a
//! domain never seen.

mod common;

use common::{Env, describe, stderr, stdout};
use std::path::Path;

fn files_named(dir: &Path, name: &str) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for e in entries.flatten() {
        let p = e.path();
        if std::fs::symlink_metadata(&p).is_ok_and(|m| m.is_dir()) {
            found.extend(files_named(&p, name));
        } else if p.file_name().is_some_and(|n| n == name) {
            found.push(p);
        }
    }
    found
}

#[test]
fn probe_export_refuses_more_spellings_of_the_data_directory() {
    let env = Env::new();
    env.load();
    let t = env.path();
    let data = env.data();
    std::fs::create_dir(t.join("out")).unwrap();
    let mut refused = vec![
        "data//probe.json".to_string(),
        "data/./probe.json".to_string(),
        "./out/../data/probe.json".to_string(),
        "data/domains/shop.example/../../probe.json".to_string(),
        "data/a/b/c/../../probe.json".to_string(),
        format!("{}/probe.json", data.display()).replace('/', "//"),
        format!(
            "../{}/data/probe.json",
            t.file_name().unwrap().to_string_lossy()
        ),
    ];
    #[cfg(unix)]
    {
        use std::os::unix::fs::symlink;
        // A chain of links, a relative link to the parent, a directory of
        // the data directory linked from outside.
        symlink(&data, t.join("out/l2")).unwrap();
        symlink("l2", t.join("out/l1")).unwrap();
        symlink(".", t.join("out/self")).unwrap();
        symlink("..", t.join("out/up")).unwrap();
        symlink(data.join("domains/shop.example"), t.join("out/dom")).unwrap();
        symlink(t.join("out/dom"), t.join("dom2")).unwrap();
        refused.extend([
            "out/l1/probe.json".to_string(),
            "out/l1/./x/../probe.json".to_string(),
            "out/self/self/l2/probe.json".to_string(),
            "out/up/data/probe.json".to_string(),
            "out/up/out/up/data/probe.json".to_string(),
            "out/dom/probe.json".to_string(),
            "dom2/probe.json".to_string(),
            "dom2/../probe.json".to_string(),
        ]);
    }
    for path in &refused {
        for data_arg in [env.data_str(), "data".to_string(), "./data/".to_string()] {
            let o = env.run(
                &[
                    data_arg.as_str(),
                    "-c",
                    &format!(".export-visitor alice {path}"),
                ],
                None,
            );
            assert!(!o.status.success(), "{path} accepted: {}", describe(&o));
            assert!(
                stderr(&o).contains("refusing to write"),
                "{path}: {}",
                describe(&o)
            );
            assert!(
                files_named(&data, "probe.json").is_empty(),
                "{path} wrote a file"
            );
        }
    }
}

#[cfg(unix)]
#[test]
fn probe_export_refuses_a_hard_link_to_any_file_of_the_data_directory() {
    let env = Env::new();
    env.load();
    let t = env.path();
    let mut inner = Vec::new();
    let mut stack = vec![env.data()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                inner.push(p);
            }
        }
    }
    assert!(!inner.is_empty());
    for (i, f) in inner.iter().enumerate() {
        let outer = t.join(format!("hl-{i}.json"));
        std::fs::hard_link(f, &outer).unwrap();
        let o = env.one_shot(&[&format!(".export-visitor alice hl-{i}.json")]);
        assert!(!o.status.success(), "{}: {}", f.display(), describe(&o));
        // The database itself changes on open; the export must not land.
        let after = std::fs::read(f).unwrap();
        assert!(
            !after.windows(9).any(|w| w == b"\"events\""),
            "{} holds an export",
            f.display()
        );
        std::fs::remove_file(&outer).unwrap();
    }
}

#[test]
fn probe_messages_never_echo_an_ip_or_an_identifier() {
    let env = Env::new();
    env.load();
    let ip = "203.0.113.77";
    let cases = [
        format!(".export-visitor {ip} data/{ip}.json"),
        format!(".export-visitor alice data/{ip}/x.json"),
        format!(".export-visitor alice /nonexistent-{ip}/deep/x.json"),
        format!(".use shop-{ip}.example"),
        format!(".use {ip}"),
        format!(".erase-visitor {ip} --domain nope-{ip}.example"),
        ".optout".to_string(),
        format!(".import missing-{ip}.ndjson"),
        format!(".open data/{ip}"),
        format!(".erase-session {ip}"),
        format!(".replay {ip}"),
        ".export-visitor client-secret-QZ77 data/x.json".to_string(),
        format!(".bogus {ip}"),
        format!(".optout {ip} {ip}"),
    ];
    for c in &cases {
        let o = env.one_shot(&[c.as_str()]);
        let all = format!("{}{}", stdout(&o), stderr(&o));
        assert!(!all.contains(ip), "{c}: {all}");
        assert!(!all.contains("203.0.113"), "{c}: {all}");
        assert!(!all.contains("client-secret-QZ77"), "{c}: {all}");
    }
}

#[test]
fn probe_one_shot_commands_write_no_history() {
    let env = Env::new();
    env.load();
    let o = env.one_shot(&[
        ".optout tok-QZ01",
        ".erase-visitor QZ02client",
        ".export-visitor QZ03client",
        ".domains",
    ]);
    assert!(o.status.success() || !stderr(&o).is_empty());
    let h = env.home().join(".pledgedb_history");
    if let Ok(text) = std::fs::read_to_string(&h) {
        for m in ["QZ01", "QZ02", "QZ03"] {
            assert!(!text.contains(m), "{m} in history");
        }
    }
    // Piped standard input is a script, not a terminal: nothing is kept.
    let o = env.run(
        &[env.data_str().as_str()],
        Some(".optout tok-QZ04\n.erase-visitor QZ05client\n.domains\n"),
    );
    assert!(o.status.success(), "{}", describe(&o));
    if let Ok(text) = std::fs::read_to_string(&h) {
        for m in ["QZ04", "QZ05"] {
            assert!(!text.contains(m), "{m} in history");
        }
    }
}

/// NDJSON and Plausible payloads of hits that are all dropped at the gate,
/// for domains never seen: nothing of them may reach the data directory.
#[test]
fn probe_imports_of_dropped_hits_leave_no_trace() {
    let env = Env::new();
    env.load();
    let day = common::yesterday();
    let ts = day.start().0 + 3_600_000;
    let ndjson = [
        format!(
            r#"{{"domain":"qzdrop-a.example","type":"page_view","url":"https://qzdrop-a.example/","ts":{ts},"client_id":"x","dnt":true}}"#
        ),
        format!(
            r#"{{"domain":"qzdrop-b.example","type":"page_view","url":"https://qzdrop-b.example/","ts":{ts},"client_id":"x","gpc":true}}"#
        ),
        format!(
            r#"{{"domain":"qzdrop-c.example","type":"page_view","url":"https://qzdrop-c.example/","ts":{ts},"client_id":"x","opt_out_token":"tok-carol"}}"#
        ),
        format!(
            r#"{{"domain":"qzdrop-d.example","type":"keystroke","url":"https://qzdrop-d.example/","ts":{ts},"client_id":"x","form":"login","field":"user[pwd]"}}"#
        ),
    ]
    .join("\n");
    env.write("drop.ndjson", &ndjson);
    // Nothing stored from a non-empty file: the import says so and fails.
    let o = env.one_shot(&[".import drop.ndjson"]);
    assert!(!o.status.success(), "{}", describe(&o));
    assert!(
        stdout(&o)
            .contains("do-not-track 1, GPC 1, no consent 0, expired 0, sensitive keystrokes 1"),
        "{}",
        describe(&o)
    );
    let o = env.run(&[env.data_str().as_str(), "import", "drop.ndjson"], None);
    assert!(!o.status.success(), "{}", describe(&o));
    let plausible = [
        format!(
            r#"{{"name":"pageview","url":"https://qzdrop-p1.example/","domain":"qzdrop-p1.example","ip":"203.0.113.9","user_agent":"Mozilla/5.0","timestamp":{ts},"headers":{{"DNT":"1"}}}}"#
        ),
        format!(
            r#"{{"n":"pageview","u":"https://qzdrop-p2.example/","d":"qzdrop-p2.example","ip":"203.0.113.9","ts":{ts},"headers":{{"sec-gpc":"1"}}}}"#
        ),
        format!(
            r#"{{"n":"Signup","u":"https://qzdrop-p3.example/","d":"qzdrop-p3.example,qzdrop-p4.example","ip":"203.0.113.9","ts":{ts},"gpc":1,"p":{{"plan":"pro"}}}}"#
        ),
        format!(
            r#"{{"n":"pageview","u":"https://qzdrop-p5.example/","d":"qzdrop-p5.example","ts":{ts},"dnt":true,"headers":{{"User-Agent":"Mozilla/5.0","X-Forwarded-For":"203.0.113.9, 10.0.0.1"}}}}"#
        ),
    ]
    .join("\n");
    env.write("drop.plausible.ndjson", &plausible);
    let o = env.one_shot(&[".import drop.plausible.ndjson"]);
    assert!(!o.status.success(), "{}", describe(&o));
    assert!(
        stdout(&o).contains("dropped    5"),
        "every payload is dropped: {}",
        describe(&o)
    );
    let o = env.run(
        &[env.data_str().as_str(), "import", "drop.plausible.ndjson"],
        None,
    );
    assert!(!o.status.success(), "{}", describe(&o));
    let o = env.one_shot(&[".domains"]);
    let listed = stdout(&o);
    let mut stack = vec![env.data()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            assert!(
                !p.to_string_lossy().contains("qzdrop"),
                "{} exists",
                p.display()
            );
            if p.is_dir() {
                stack.push(p);
            } else {
                let b = std::fs::read(&p).unwrap();
                assert!(
                    !b.windows(6).any(|w| w == b"qzdrop"),
                    "{} names a dropped domain",
                    p.display()
                );
            }
        }
    }
    assert!(!listed.contains("qzdrop"), "{listed}");
}

/// SQL naming one visitor or session by its stored id, typed at the
/// terminal, runs but never reaches the history file.
#[cfg(unix)]
#[test]
fn probe_sql_naming_one_visitor_never_reaches_the_history() {
    use rexpect::session::spawn_command;
    let env = Env::new();
    env.load();
    let mut cmd = env.command();
    cmd.arg(env.data_str()).env("TERM", "xterm");
    let mut p = spawn_command(cmd, Some(30_000)).unwrap();
    p.exp_string("pledgedb> ").unwrap();
    for line in [
        "SELECT 'kept-QZ' AS status;",
        "SELECT count(*) FROM events WHERE visitor = '0badc0ffee0000a1';",
        "SELECT path FROM events WHERE session = '0BADC0FFEE0000A2';",
    ] {
        p.send(line).unwrap();
        p.send("\r").unwrap();
        p.flush().unwrap();
        p.exp_string("pledgedb> ").unwrap();
    }
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
    let history = std::fs::read_to_string(env.home().join(".pledgedb_history")).unwrap();
    assert!(history.contains("kept-QZ"), "{history}");
    assert!(
        !history.to_lowercase().contains("0badc0ffee0000a"),
        "{history}"
    );
}
