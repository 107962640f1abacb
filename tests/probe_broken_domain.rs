//! Hostile probes of promise P6: one domain's files damaged in ways a first
//! review did not list (garbage, truncation, an empty file, a directory in
//! a file's place, for its segment, its control file, its aggregate file,
//! a segment's `.tmp` / `.new` copy), while the database is closed or open.
//! Erasure in the other domain must complete, no call may panic or hang
//! (each scenario runs in a thread with a 60 s limit), and `Db::health()`
//! must report the damage.

mod common;

use common::{Env, all_files, contains, start_time};
use pledgedb::{Db, Erasure, Hit, MS_PER_DAY, VisitorRef};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

#[derive(Clone, Copy, Debug)]
enum Damage {
    Garbage,
    Truncate,
    Empty,
    Directory,
}

#[derive(Clone, Copy, Debug)]
enum Target {
    Segment,
    Control,
    Aggregates,
    TmpCopy,
    NewCopy,
}

fn target_path(data: &Path, t: Target) -> PathBuf {
    let dom = data.join("domains/broken.example");
    let seg = dom
        .join("segments")
        .join(format!("{}.redb", start_time().day()));
    match t {
        Target::Segment => seg,
        Target::Control => dom.join("control.redb"),
        Target::Aggregates => dom.join("aggregates.redb"),
        Target::TmpCopy => PathBuf::from(format!("{}.tmp", seg.display())),
        Target::NewCopy => PathBuf::from(format!("{}.new", seg.display())),
    }
}

fn damage(path: &Path, d: Damage) {
    let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    match d {
        Damage::Garbage => {
            let n = len.max(8192) as usize;
            std::fs::write(path, vec![0xA5u8; n]).unwrap();
        }
        Damage::Truncate => {
            if len == 0 {
                std::fs::write(path, vec![0x11u8; 100]).unwrap();
            } else {
                let f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
                f.set_len(len / 3).unwrap();
            }
        }
        Damage::Empty => {
            std::fs::write(path, b"").unwrap();
        }
        Damage::Directory => {
            let _ = std::fs::remove_file(path);
            std::fs::create_dir_all(path.join("inner")).unwrap();
            std::fs::write(path.join("inner/junk"), b"junk").unwrap();
        }
    }
}

fn visit(db: &Db, domain: &str, client: &str, path: &str) {
    let _ = db
        .ingest(
            Hit::page_view(domain, path.to_string())
                .client_id(client.to_string())
                .at(start_time()),
        )
        .unwrap();
}

/// The scenario; `Err` describes a broken promise.
fn scenario(t: Target, d: Damage, while_open: bool) -> Result<(), String> {
    let env = Env::new();
    let db = env.open();
    for dom in ["broken.example", "fine.example"] {
        visit(&db, dom, "gone", "/gone-QZMARK");
        visit(&db, dom, "stays", "/stays-QZMARK");
    }
    db.flush().map_err(|e| format!("flush: {e}"))?;
    let db = if while_open {
        damage(&target_path(&env.data, t), d);
        db
    } else {
        db.close().map_err(|e| format!("close: {e}"))?;
        damage(&target_path(&env.data, t), d);
        Db::open(&env.data, env.config()).map_err(|e| format!("open refused: {e}"))?
    };
    let fine = db
        .domain("fine.example")
        .map_err(|e| format!("fine domain: {e}"))?;
    match fine.erase_visitor(&VisitorRef::ClientId("gone".into())) {
        Ok(Erasure::Pending(_)) => {}
        other => return Err(format!("erase in the fine domain: {other:?}")),
    }
    // The broken domain's own erasure may fail, but must not panic or hang,
    // and what fails must be reported.
    let mut broken_ok = false;
    if let Ok(b) = db.domain("broken.example") {
        broken_ok = matches!(
            b.erase_visitor(&VisitorRef::ClientId("gone".into())),
            Ok(Erasure::Pending(_))
        );
        let _ = b.export_visitor(&VisitorRef::ClientId("stays".into()));
    }
    env.clock.advance_millis(2 * MS_PER_DAY);
    let _ = db.compact_now();
    let _ = db.compact_now();
    if fine.pending_purges() != 0 {
        return Err("the fine domain's purge is still pending".into());
    }
    let export = fine
        .export_visitor(&VisitorRef::ClientId("stays".into()))
        .map_err(|e| format!("export in the fine domain: {e}"))?;
    if export.events.len() != 1 {
        return Err(format!("fine export: {} events", export.events.len()));
    }
    let health = db.health();
    let broken_pending = db
        .domain("broken.example")
        .map_or(1, |b| b.pending_purges());
    drop(fine);
    let _ = db.close();
    for (p, bytes) in all_files(&env.data.join("domains/fine.example")) {
        if contains(&bytes, b"/gone-QZMARK") {
            return Err(format!("erased bytes left in {}", p.display()));
        }
    }
    // Outside the quarantine (damaged files set aside, reported by health),
    // the broken domain holds no erased byte, or health says why.
    let left: Vec<PathBuf> = all_files(&env.data.join("domains/broken.example"))
        .into_iter()
        .filter(|(_, b)| contains(b, b"/gone-QZMARK"))
        .map(|(p, _)| p)
        .collect();
    // A purge still pending two days later is past its deadline (one hour by
    // default) and must be listed as overdue.
    if broken_ok
        && broken_pending != 0
        && !health
            .overdue_purges
            .iter()
            .any(|o| o.domain == "broken.example")
    {
        return Err(format!("pending purge not reported overdue: {health:?}"));
    }
    if health.is_healthy() && (!broken_ok || broken_pending != 0 || !left.is_empty()) {
        return Err(format!(
            "health reports nothing, yet erase accepted={broken_ok}, \
             pending={broken_pending}, erased bytes in {left:?}"
        ));
    }
    Ok(())
}

fn run_all(cases: &[(Target, Damage, bool)]) {
    let mut broken = Vec::new();
    for &(t, d, open) in cases {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let r = std::panic::catch_unwind(|| scenario(t, d, open));
            let _ = tx.send(r);
        });
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => broken.push(format!("{t:?}/{d:?}/open={open}: {e}")),
            Ok(Err(_)) => broken.push(format!("{t:?}/{d:?}/open={open}: panicked")),
            Err(_) => broken.push(format!("{t:?}/{d:?}/open={open}: hung")),
        }
    }
    assert!(broken.is_empty(), "{broken:#?}");
}

#[test]
fn probe_a_broken_segment_never_stops_erasure_elsewhere() {
    let mut cases = vec![(Target::Segment, Damage::Empty, true)];
    for d in [Damage::Garbage, Damage::Truncate, Damage::Directory] {
        for open in [false, true] {
            cases.push((Target::Segment, d, open));
        }
    }
    run_all(&cases);
}

#[test]
fn probe_an_emptied_segment_is_reported() {
    run_all(&[(Target::Segment, Damage::Empty, false)]);
}

#[test]
fn probe_a_directory_where_a_copy_goes_never_stops_erasure_elsewhere() {
    run_all(&[
        (Target::TmpCopy, Damage::Directory, false),
        (Target::NewCopy, Damage::Directory, false),
        (Target::TmpCopy, Damage::Directory, true),
        (Target::NewCopy, Damage::Directory, true),
    ]);
}

#[test]
fn probe_a_broken_control_or_aggregate_file_never_stops_erasure_elsewhere() {
    let mut cases = Vec::new();
    for t in [Target::Control, Target::Aggregates] {
        for d in [Damage::Garbage, Damage::Truncate, Damage::Directory] {
            cases.push((t, d, false));
        }
    }
    run_all(&cases);
}

#[test]
fn probe_an_empty_aggregate_file_is_reported_or_harmless() {
    run_all(&[(Target::Aggregates, Damage::Empty, false)]);
}

#[test]
fn probe_an_emptied_control_file_is_reported() {
    run_all(&[(Target::Control, Damage::Empty, false)]);
}

#[test]
fn probe_broken_files_of_an_open_domain() {
    let mut cases = Vec::new();
    for t in [Target::Control, Target::Aggregates] {
        for d in [Damage::Garbage, Damage::Truncate, Damage::Empty] {
            cases.push((t, d, true));
        }
    }
    run_all(&cases);
}

/// A damaged segment set aside in the quarantine still holds the events it
/// held. When one of its visitors is erased, no byte of theirs may stay in
/// any file of the data directory, the quarantine included.
fn quarantined_bytes_after_erasure(d: Damage) -> Vec<PathBuf> {
    let env = Env::new();
    let db = env.open();
    visit(&db, "broken.example", "gone", "/gone-QZMARK");
    visit(&db, "broken.example", "stays", "/stays-QZMARK");
    db.flush().unwrap();
    db.close().unwrap();
    damage(&target_path(&env.data, Target::Segment), d);
    let db = env.open();
    let b = db.domain("broken.example").unwrap();
    let _ = b.erase_visitor(&VisitorRef::ClientId("gone".into()));
    env.clock.advance_millis(3 * MS_PER_DAY);
    let _ = db.compact_now();
    let _ = db.compact_now();
    drop(b);
    let _ = db.close();
    all_files(&env.data)
        .into_iter()
        .filter(|(_, bytes)| contains(bytes, b"/gone-QZMARK"))
        .map(|(p, _)| p)
        .collect()
}

#[test]
fn probe_a_quarantined_segment_keeps_no_erased_bytes() {
    let left = quarantined_bytes_after_erasure(Damage::Truncate);
    assert!(left.is_empty(), "erased bytes left in {left:?}");
}
