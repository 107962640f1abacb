//! Every message that can carry user-supplied text (a path, a domain name,
//! a typed id) shows it through the engine's redaction function, and each
//! message says what actually failed.

mod common;

use common::{Env, describe, stderr, stdout};
use rexpect::session::spawn_command;

const IPS: &[&str] = &["203.0.113.9", "198.51.100.4", "192.0.2.5", "2001:db8::5"];

fn assert_no_ip(what: &str, text: &str) {
    for ip in IPS {
        assert!(!text.contains(ip), "{what}: {text}");
    }
}

#[test]
fn paths_and_names_holding_an_ip_are_redacted_in_output_and_errors() {
    let env = Env::new();
    env.load();
    let t = env.path();
    let other = t.join("203.0.113.9").join("data");
    std::fs::create_dir_all(t.join("192.0.2.5")).unwrap();
    let cases: Vec<(String, bool)> = vec![
        // .open echoes the directory it opened.
        (format!(".open {}", other.display()), true),
        (".open 198.51.100.4-data".to_string(), true),
        // An export written to a directory named by an IP.
        (
            ".export-visitor alice 192.0.2.5/alice.json".to_string(),
            true,
        ),
        // ... and one that cannot be written.
        (
            ".export-visitor alice 198.51.100.4/none/alice.json".to_string(),
            false,
        ),
        (".geoip 198.51.100.4.mmdb".to_string(), false),
        (".schema 203.0.113.9".to_string(), false),
        (".import 203.0.113.9.log".to_string(), false),
    ];
    for (cmd, ok) in &cases {
        let o = env.one_shot(&[cmd]);
        assert_eq!(o.status.success(), *ok, "{cmd}: {}", describe(&o));
        let all = format!("{}{}", stdout(&o), stderr(&o));
        assert_no_ip(cmd, &all);
        assert!(all.contains("[ip]"), "{cmd}: {all}");
    }
    // A domain name that spells an address is refused as one, without
    // being echoed.
    for name in [
        "203.0.113.9a",
        "203.0.113.9.nip.io",
        "c-203-0-113-9.example",
    ] {
        let o = env.one_shot(&[&format!(".use {name}")]);
        assert!(!o.status.success(), "{name}");
        let all = format!("{}{}", stdout(&o), stderr(&o));
        assert_no_ip(".use", &all);
    }
    // Refused without being echoed at all.
    let o = env.one_shot(&[".use 2001:db8::5"]);
    assert!(!o.status.success());
    assert_no_ip(".use", &stderr(&o));
    // A data directory named by an IP: the header of .stats.
    let o = env.run(&[other.to_str().unwrap(), "-c", ".stats"], None);
    assert!(o.status.success(), "{}", describe(&o));
    assert_no_ip(".stats", &stdout(&o));
}

#[test]
fn typed_ids_and_tokens_are_not_echoed_in_errors() {
    let env = Env::new();
    env.load();
    for cmd in [
        ".optout \"unterminated-secret-1",
        ".optout secret-2 secret-3",
        ".erase-visitor secret-4 secret-5",
        ".export-visitor secret-6 out.json secret-7",
        ".replay secret-8",
        ".erase-session secret-9",
        ".timer secret-10",
    ] {
        let o = env.one_shot(&[cmd]);
        assert!(!o.status.success(), "{cmd}: {}", describe(&o));
        let err = stderr(&o);
        assert!(err.starts_with("Error: "), "{cmd}: {err}");
        assert!(!err.contains("secret-"), "{cmd}: {err}");
    }
}

#[test]
fn a_failed_geoip_says_so_and_the_directory_stays_open() {
    let env = Env::new();
    env.load();
    env.write("not-a-geoip.mmdb", "this is not a MaxMind database");
    let mut cmd = env.command();
    cmd.arg(env.data_str()).env("TERM", "xterm");
    let mut p = spawn_command(cmd, Some(30_000)).unwrap();
    p.exp_string("pledgedb> ").unwrap();
    for bad in ["missing.mmdb", "not-a-geoip.mmdb"] {
        p.send(&format!(".geoip {bad}\r")).unwrap();
        p.flush().unwrap();
        let before = p.exp_string("pledgedb> ").unwrap();
        assert!(before.contains("GeoIP database"), "{before}");
        assert!(before.contains("stays open"), "{before}");
        assert!(
            !before.contains("cannot open the data directory"),
            "{before}"
        );
        // The directory is still open and its domain still current.
        p.send("SELECT COUNT(*) AS n FROM pageviews;\r").unwrap();
        p.flush().unwrap();
        let rows = p.exp_string("pledgedb> ").unwrap();
        assert!(!rows.contains("Error"), "{rows}");
        assert!(rows.contains(" 4 "), "{rows}");
    }
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();

    // The same through .open DIR --geoip: the GeoIP file is named.
    let o = env.one_shot(&[&format!(".open {} --geoip missing.mmdb", env.data_str())]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("GeoIP database"), "{err}");
    assert!(!err.contains("cannot open the data directory"), "{err}");
}
