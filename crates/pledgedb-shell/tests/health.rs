//! `.stats` and `.privacy` show what needs an operator: quarantined files
//! with their cause, erasure purges past their deadline and failing jobs.

mod common;

use common::{Env, describe, stdout};

#[test]
fn stats_and_privacy_list_a_quarantined_segment_with_its_cause() {
    let env = Env::new();
    env.load();
    let segs = env.data().join("domains/shop.example/segments");
    let seg = std::fs::read_dir(&segs)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "redb"))
        .expect("a segment");
    std::fs::write(&seg, vec![0x5a; 16 * 1024]).unwrap();

    let o = env.one_shot(&[".mode json", ".stats"]);
    assert!(o.status.success(), "{}", describe(&o));
    let out = stdout(&o);
    let name = seg.file_name().unwrap().to_string_lossy().into_owned();
    assert!(out.contains("quarantined"), "{out}");
    assert!(out.contains(&name), "the damaged file is named: {out}");
    assert!(out.contains("overdue_purges"), "{out}");
    assert!(!seg.exists(), "the damaged file was set aside");

    let o = env.one_shot(&[".privacy"]);
    assert!(o.status.success(), "{}", describe(&o));
    let out = stdout(&o);
    assert!(out.contains("Quarantined files: 1"), "{out}");
    assert!(
        out.contains("Erasure purges past their deadline: 0"),
        "{out}"
    );
}
