//! Regression (promise P1): a cookieless visitor id is a keyed hash of the
//! day's salt, the IP and the user agent. The per-domain secret (control
//! file) and the daily salt (global file, kept 48 hours) both sat in the
//! data directory beside the ids, so anyone with a copy of the directory
//! could hash every address of a /16 with the visitor's user agent and
//! recover the IP in milliseconds.
//!
//! The attacker here has a copy of every file and knows the hash (the code
//! is public): the domain secret from the control file, every 16-byte value
//! of every table of every PledgeDB file as a candidate salt, and the true
//! user agent. An exhaustive search over the /16 around the true IP must
//! find no stored visitor id. Salts now live in memory only.

mod common;

use common::{Env, all_files, start_time};
use pledgedb::{Db, Hit, TimeRange};
use redb::{ReadableDatabase, ReadableTable, TableDefinition, TableHandle};
use siphasher::sip::SipHasher24;
use std::collections::HashSet;
use std::hash::Hasher;
use std::net::Ipv4Addr;
use std::path::Path;

const UA: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

/// The engine's cookieless visitor hash, as published in its source.
fn cookieless_id(secret: &[u8], salt: &[u8], ip: Ipv4Addr, ua: &str) -> u64 {
    let key: [u8; 16] = secret[..16].try_into().unwrap();
    let mut h = SipHasher24::new_with_key(&key);
    h.write_u8(b's');
    h.write(salt);
    h.write(&ip.octets());
    h.write(ua.as_bytes());
    match h.finish() {
        0 => 1,
        v => v,
    }
}

/// Every byte-string value of every `&str -> &[u8]` and `i32 -> &[u8]`
/// table of a redb file (the shapes PledgeDB's metadata tables have).
fn byte_values(path: &Path) -> Vec<Vec<u8>> {
    let Ok(db) = redb::Database::open(path) else {
        return Vec::new();
    };
    let rx = db.begin_read().unwrap();
    let mut out = Vec::new();
    for t in rx.list_tables().unwrap() {
        let name = t.name().to_string();
        let by_name: TableDefinition<&str, &[u8]> = TableDefinition::new(&name);
        if let Ok(table) = rx.open_table(by_name) {
            for row in table.iter().unwrap() {
                out.push(row.unwrap().1.value().to_vec());
            }
            continue;
        }
        let by_day: TableDefinition<i32, &[u8]> = TableDefinition::new(&name);
        if let Ok(table) = rx.open_table(by_day) {
            for row in table.iter().unwrap() {
                out.push(row.unwrap().1.value().to_vec());
            }
        }
    }
    out
}

#[test]
fn a_copy_of_the_data_directory_does_not_lead_from_a_cookieless_id_to_the_ip() {
    let env = Env::new();
    let true_ip = Ipv4Addr::new(203, 0, 113, 77);
    let db = env.open();
    for path in ["/", "/pricing", "/checkout"] {
        let _ = db
            .ingest(
                Hit::page_view("shop.example", path)
                    .ip(true_ip.into())
                    .user_agent(UA)
                    .at(start_time()),
            )
            .unwrap();
    }
    db.flush().unwrap();
    let ids: HashSet<u64> = db
        .domain("shop.example")
        .unwrap()
        .events(TimeRange::all())
        .unwrap()
        .iter()
        .map(|e| e.visitor.0)
        .collect();
    assert_eq!(ids.len(), 1, "one cookieless visitor");
    db.close().unwrap();

    // The copy: the control file's secret, and every 16-byte value anywhere
    // in a metadata table as a candidate salt.
    let copy = tempfile::tempdir().unwrap();
    for (path, bytes) in all_files(&env.data) {
        let rel = path.strip_prefix(&env.data).unwrap();
        let to = copy.path().join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::write(to, bytes).unwrap();
    }
    let control = copy.path().join("domains/shop.example/control.redb");
    let secrets: Vec<Vec<u8>> = byte_values(&control)
        .into_iter()
        .filter(|v| v.len() == 32)
        .collect();
    assert_eq!(secrets.len(), 1, "the attacker finds the domain secret");
    let mut salts: Vec<Vec<u8>> = Vec::new();
    for (path, _) in all_files(copy.path()) {
        for v in byte_values(&path) {
            for w in v.windows(16) {
                salts.push(w.to_vec());
            }
        }
    }
    salts.sort();
    salts.dedup();

    let [a, b, _, _] = true_ip.octets();
    for salt in &salts {
        for c in 0..=255u8 {
            for d in 0..=255u8 {
                let ip = Ipv4Addr::new(a, b, c, d);
                let id = cookieless_id(&secrets[0], salt, ip, UA);
                assert!(
                    !ids.contains(&id),
                    "the visitor id was traced back to an address from the files alone"
                );
            }
        }
    }
}

#[test]
fn cookieless_ids_are_stable_within_a_run_and_change_with_a_restart() {
    let env = Env::new();
    let ip: std::net::IpAddr = "198.51.100.9".parse().unwrap();
    let visitor_of = |db: &Db, path: &str| {
        let _ = db
            .ingest(
                Hit::page_view("shop.example", path)
                    .ip(ip)
                    .user_agent(UA)
                    .at(start_time()),
            )
            .unwrap();
        db.flush().unwrap();
        db.domain("shop.example")
            .unwrap()
            .events(TimeRange::all())
            .unwrap()
            .into_iter()
            .find(|e| e.path.as_str() == path)
            .unwrap()
            .visitor
    };
    let db = env.open();
    let first = visitor_of(&db, "/one");
    assert_eq!(
        first,
        visitor_of(&db, "/two"),
        "same day, same run: same id"
    );
    db.close().unwrap();
    let db = env.open();
    assert_ne!(
        first,
        visitor_of(&db, "/three"),
        "the salt was not kept across the restart"
    );
}

#[test]
fn salts_stored_by_an_earlier_version_are_removed_when_the_directory_opens() {
    let env = Env::new();
    env.open().close().unwrap();
    let marker = *b"SALT-from-before";
    {
        let global = redb::Database::open(env.data.join("pledgedb.redb")).unwrap();
        let tx = global.begin_write().unwrap();
        {
            let salts: TableDefinition<i32, &[u8]> = TableDefinition::new("salts");
            let mut t = tx.open_table(salts).unwrap();
            t.insert(start_time().day().0, marker.as_slice()).unwrap();
        }
        tx.commit().unwrap();
    }
    assert!(
        all_files(&env.data)
            .iter()
            .any(|(_, b)| common::contains(b, &marker))
    );
    env.open().close().unwrap();
    for (path, bytes) in all_files(&env.data) {
        assert!(
            !common::contains(&bytes, &marker),
            "{} still holds a stored salt",
            path.display()
        );
    }
}
