//! The audit (promise P9): scans every byte of every file under a data
//! directory for anything shaped like an IPv4 or IPv6 address. Findings name
//! the file and offset, never the text found.
//!
//! "IP-shaped" has one definition, the scrubber's matcher
//! ([`crate::text::ip_spans`]); the audit applies it to the text it finds in
//! the bytes of each file:
//!
//! * Every file is cut into *text runs*: maximal runs of printable ASCII
//!   and of valid, non-control UTF-8 characters, so that full-width and
//!   percent-encoded forms are seen as the scrubber sees them. Runs shorter
//!   than three bytes are skipped.
//! * In PledgeDB's own files (`pledgedb.redb`, `control.redb`,
//!   `aggregates.redb`, `segments/YYYY-MM-DD.redb`, and their `.tmp` and
//!   `.new` temporaries), which hold random ids, hashes, varints and
//!   bit-packed columns between the stored strings, a run is reported when
//!   the matcher finds a match that is unmistakable in binary: any IPv4 form
//!   with all four groups (dotted, dashed, encoded), any IPv6 form with at
//!   least three groups or at least four hex digits (`fe80::1` has five),
//!   any partial IPv6 chain. What is left out are the shortest IPv6 forms
//!   (`::c`, `99::`, `a::b`) and trailing-dot triples (`1.2.3.`), which
//!   binary data spells by chance; the scrubber keeps every one of them out
//!   of stored text.
//! * In every other file the full definition applies, without exceptions.

use crate::error::StorageError;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// One place where IP-shaped text was found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditFinding {
    /// The file.
    pub path: PathBuf,
    /// Byte offset of the text run holding the IP-shaped text.
    pub offset: u64,
}

/// The result of an audit.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AuditReport {
    /// Files read.
    pub files: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Places with IP-shaped text; empty for a clean directory.
    pub findings: Vec<AuditFinding>,
}

impl AuditReport {
    /// Whether nothing IP-shaped was found.
    #[must_use]
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }
}

/// Scans every file under `dir` (recursively) for IP-shaped text (see the
/// module documentation): PledgeDB's own files with [`scan_bytes`], every
/// other file with [`scan_foreign_bytes`].
pub fn audit_dir(dir: &Path) -> Result<AuditReport, StorageError> {
    audit_dir_in(&crate::storage::fs::OsFs, dir)
}

/// [`audit_dir`] on another file system (a simulated disk in tests).
pub fn audit_dir_in(fs: &dyn crate::Fs, dir: &Path) -> Result<AuditReport, StorageError> {
    use crate::storage::fs::FileKind;
    let mut report = AuditReport::default();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let mut entries = fs.read_dir(&d).map_err(|e| StorageError::io(&d, e))?;
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        for e in entries {
            let p = d.join(&e.name);
            if e.kind == FileKind::Dir {
                stack.push(p);
            } else if e.kind == FileKind::File {
                let bytes = fs.read(&p).map_err(|err| StorageError::io(&p, err))?;
                report.files += 1;
                report.bytes += bytes.len() as u64;
                let offsets = if is_own_file(&p) {
                    scan_bytes(&bytes)
                } else {
                    scan_foreign_bytes(&bytes)
                };
                for offset in offsets {
                    report.findings.push(AuditFinding {
                        path: p.clone(),
                        offset,
                    });
                }
            }
        }
    }
    Ok(report)
}

/// Whether `path` names one of PledgeDB's own files (or a temporary of one).
#[must_use]
pub fn is_own_file(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let name = name
        .strip_suffix(".tmp")
        .or_else(|| name.strip_suffix(".new"))
        .unwrap_or(name);
    if matches!(name, "pledgedb.redb" | "control.redb" | "aggregates.redb") {
        return true;
    }
    let in_segments = path
        .parent()
        .and_then(Path::file_name)
        .is_some_and(|d| d == "segments");
    let day = name.strip_suffix(".redb").unwrap_or_default().as_bytes();
    in_segments
        && day.len() == 10
        && day.iter().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                *b == b'-'
            } else {
                b.is_ascii_digit()
            }
        })
}

/// Offsets of the text runs in `bytes` that hold an address unmistakable in
/// binary data: the rule for PledgeDB's own files.
#[must_use]
pub fn scan_bytes(bytes: &[u8]) -> Vec<u64> {
    scan(bytes, false)
}

/// Offsets of the text runs in `bytes` that hold anything IP-shaped at all:
/// the rule for files that are not PledgeDB's.
#[must_use]
pub fn scan_foreign_bytes(bytes: &[u8]) -> Vec<u64> {
    scan(bytes, true)
}

fn scan(bytes: &[u8], full: bool) -> Vec<u64> {
    let mut out = Vec::new();
    for (start, run) in (TextRuns { bytes, at: 0 }) {
        if run.len() < 3 {
            continue;
        }
        let mut found = false;
        crate::text::each_span(run, &mut |_, strong| {
            found = strong || full;
            !found
        });
        if found {
            out.push(start as u64);
        }
    }
    out
}

/// The text runs of a byte string, with their offsets.
struct TextRuns<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Iterator for TextRuns<'a> {
    type Item = (usize, &'a str);

    fn next(&mut self) -> Option<(usize, &'a str)> {
        loop {
            let start = self.at;
            let mut end = start;
            while let Some(len) = text_char_len(self.bytes, end) {
                end += len;
            }
            if end > start {
                self.at = end;
                // Every piece was checked to be UTF-8.
                let run = std::str::from_utf8(self.bytes.get(start..end)?).ok()?;
                return Some((start, run));
            }
            if start >= self.bytes.len() {
                return None;
            }
            self.at = start + 1;
        }
    }
}

/// The length of the text character at `i`: a printable ASCII byte, or a
/// valid UTF-8 sequence of a character that is not a control character.
fn text_char_len(b: &[u8], i: usize) -> Option<usize> {
    let lead = *b.get(i)?;
    if (0x20..0x7f).contains(&lead) {
        return Some(1);
    }
    let len = match lead {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return None,
    };
    let s = std::str::from_utf8(b.get(i..i + len)?).ok()?;
    let c = s.chars().next()?;
    (!c.is_control()).then_some(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_ip_text_in_binary_and_reports_no_content() {
        let mut data = vec![0u8, 1, 2, 255];
        data.extend_from_slice(b"path=/x?from=203.0.113.9");
        data.extend_from_slice(&[0, 0, 7]);
        data.extend_from_slice(b"host [2001:db8::1]:80");
        data.extend_from_slice(&[0xff]);
        data.extend_from_slice(b"version 1.2.3 at 12:30:45");
        let found = scan_bytes(&data);
        assert_eq!(found, vec![4, 4 + 24 + 3]);
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/f.bin"), &data).unwrap();
        std::fs::write(dir.path().join("clean.bin"), b"nothing here 1.2.3").unwrap();
        let r = audit_dir(dir.path()).unwrap();
        assert_eq!(r.files, 2);
        assert_eq!(r.findings.len(), 2);
        assert!(!r.is_clean());
        let json = format!("{r:?}");
        assert!(!json.contains("203.0.113.9"));
    }

    /// Every form the scrubber redacts, with whether it is unmistakable in
    /// binary data.
    const FORMS: &[(&str, bool)] = &[
        ("203.0.113.9", true),
        ("010.001.002.003", true),
        ("73-22-11-5", true),
        ("c-73-22-11-5.hsd1.comcast.net", true),
        ("ip_10_0_0_5", true),
        ("%32%30%33%2E%30%2E%31%31%33%2E%39", true),
        ("203.0.113.%39", true),
        ("%2532%2530%2533.0.113.9", true),
        ("２０３．０．１１３．９", true),
        ("①⑨②.⓪.②.①", true),
        ("fe80::1", true),
        ("2001:db8::42", true),
        ("::ffff:192.0.2.1", true),
        ("2001:db8:85a3:1:2:8a2e:3", true),
        ("2001:db8:85a3:1:2", true),
        ("2001:db8:85a3:8d3", true),
        ("2001-db8-85a3--8a2e-370-7334.ipv6-literal.net", true),
        ("fe80--1s4.ipv6-literal.net", true),
        ("ｆｅ８０：：１", true),
        ("2001%3Adb8%3A%3A1", true),
        ("ip_fe80::1", true),
        ("1:2:3::", true),
        ("::c", false),
        ("99::", false),
        ("a::b", false),
        ("203.0.113.", false),
        ("fe80--1", true),
    ];

    #[test]
    fn every_scrubbed_form_is_found_in_foreign_files_and_unmistakable_ones_everywhere() {
        for (form, strong) in FORMS {
            assert!(crate::text::contains_ip(form), "{form}");
            for wrap in [
                |f: &str| format!("\x00\x01{f}\x00"),
                |f: &str| f.to_string(),
                |f: &str| format!("\x00ref=https://x/{f}/y\x7f"),
            ] {
                let bytes = wrap(form).into_bytes();
                assert!(!scan_foreign_bytes(&bytes).is_empty(), "{form}");
                assert_eq!(!scan_bytes(&bytes).is_empty(), *strong, "{form}");
            }
        }
    }

    #[test]
    fn short_forms_in_binary_noise_are_not_findings_in_own_files() {
        for noise in [
            &b"99::"[..],
            b"::333",
            b"30:3::",
            b"d~B::",
            b"ab:cd",
            b"1.2.3",
            b"12:30:45",
            b"\x00::c\x00",
            b"Vec::new std::vec",
        ] {
            assert!(
                scan_bytes(noise).is_empty(),
                "{:?}",
                String::from_utf8_lossy(noise)
            );
        }
    }

    /// A seeded generator (SplitMix64), so the measurement is repeatable.
    fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
        let mut state = seed;
        let mut out = Vec::with_capacity(len + 8);
        while out.len() < len {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            out.extend_from_slice(&(z ^ (z >> 31)).to_le_bytes());
        }
        out.truncate(len);
        out
    }

    /// The false-alarm rate of the rule for own files on random bytes, and on
    /// bytes drawn from the alphabet of addresses (hex digits, `:`, `.`, `-`
    /// and a few others), where chance matches are far likelier than in real
    /// ids and hashes. docs/privacy.md P9 quotes these numbers.
    #[test]
    fn false_alarms_on_random_bytes_are_measured() {
        let uniform = random_bytes(1, 8 << 20);
        assert_eq!(scan_bytes(&uniform).len(), 0, "uniform random bytes");
        let alphabet = b"0123456789abcdef:.-_ \x00\x01\xff";
        let skewed: Vec<u8> = random_bytes(2, 1 << 20)
            .iter()
            .map(|b| alphabet[usize::from(*b) % alphabet.len()])
            .collect();
        let own = scan_bytes(&skewed).len();
        let foreign = scan_foreign_bytes(&skewed).len();
        assert!(own <= foreign);
        assert!(foreign > 0, "the full definition does match such noise");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// The audit and the scrubber agree: what the scrubber leaves is
        /// never a finding, and a finding is always something it redacts.
        #[test]
        fn audit_and_scrubber_agree(
            s in proptest::prelude::prop_oneof![
                "\\PC{0,40}",
                ".{0,40}",
                "[0-9a-f.:%\\-_ \\x00\\x01２．①]{0,40}",
            ],
        ) {
            let scrubbed = crate::text::redact_ips(&s);
            proptest::prop_assert!(scan_foreign_bytes(scrubbed.as_bytes()).is_empty(), "{s:?}");
            if !scan_foreign_bytes(s.as_bytes()).is_empty() {
                proptest::prop_assert!(crate::text::contains_ip(&s), "{s:?}");
            }
            if !scan_bytes(s.as_bytes()).is_empty() {
                proptest::prop_assert!(!scan_foreign_bytes(s.as_bytes()).is_empty());
            }
        }
    }

    #[test]
    fn own_files_are_recognised_by_name() {
        for own in [
            "d/pledgedb.redb",
            "d/control.redb.tmp",
            "d/domains/a.example/aggregates.redb",
            "d/domains/a.example/segments/2026-11-02.redb",
            "d/domains/a.example/segments/2026-11-02.redb.new",
        ] {
            assert!(is_own_file(Path::new(own)), "{own}");
        }
        for foreign in [
            "d/planted.log",
            "d/domains/a.example/segments/notes.redb",
            "d/domains/a.example/2026-11-02.redb",
            "d/pledgedb.redb.bak",
            "d/segments/2026-11-02.txt",
        ] {
            assert!(!is_own_file(Path::new(foreign)), "{foreign}");
        }
    }
}
