//! The audit (promise P9): scans every byte of every file under a data
//! directory for anything shaped like an IPv4 or IPv6 address. Findings name
//! the file and offset, never the text found.

use crate::error::StorageError;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// One place where IP-shaped text was found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditFinding {
    /// The file.
    pub path: PathBuf,
    /// Byte offset of the printable run holding the IP-shaped text.
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

/// Scans every file under `dir` (recursively) for IP-shaped text: each run
/// of printable ASCII bytes is searched for an IPv4 dotted quad or an IPv6
/// address of at least three groups (see [`ip_shaped`]). Files of the data
/// directory that are not PledgeDB's are scanned too.
pub fn audit_dir(dir: &Path) -> Result<AuditReport, StorageError> {
    let mut report = AuditReport::default();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&d)
            .map_err(|e| StorageError::io(&d, e))?
            .collect::<Result<_, _>>()
            .map_err(|e| StorageError::io(&d, e))?;
        entries.sort_by_key(std::fs::DirEntry::path);
        for e in entries {
            let p = e.path();
            let ft = e.file_type().map_err(|err| StorageError::io(&p, err))?;
            if ft.is_dir() {
                stack.push(p);
            } else if ft.is_file() {
                let bytes = std::fs::read(&p).map_err(|err| StorageError::io(&p, err))?;
                report.files += 1;
                report.bytes += bytes.len() as u64;
                for offset in scan_bytes(&bytes) {
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

/// Offsets of the printable runs in `bytes` that hold IP-shaped text.
#[must_use]
pub fn scan_bytes(bytes: &[u8]) -> Vec<u64> {
    let mut out = Vec::new();
    let mut start = 0;
    let printable = |b: u8| (0x20..0x7f).contains(&b);
    let mut i = 0;
    while i <= bytes.len() {
        let end_of_run = i == bytes.len() || !printable(bytes[i]);
        if end_of_run {
            if i - start >= 3 {
                let run = &bytes[start..i];
                // Printable ASCII is valid UTF-8.
                if ip_shaped(run) {
                    out.push(start as u64);
                }
            }
            start = i + 1;
        }
        i += 1;
    }
    out
}

/// Whether printable bytes hold an IPv4 dotted quad (`203.0.113.9`), an
/// IPv6 address with an embedded IPv4 part (`::ffff:192.0.2.1`), or an IPv6
/// address with at least three groups and seven hex digits (`2001:db8::1`,
/// `fe80::1:2:3`, the full eight-group form).
///
/// This is stricter than the scrubber, which redacts every form from stored
/// text: in the binary parts of a file (hashes, bit-packed columns,
/// sketches) short forms such as `99::` or `1:3:3::` occur by chance, and an
/// audit that cried wolf would be worthless. Addresses that short are
/// loopback, link-local or made-up in practice, and the scrubber keeps them
/// out of stored text anyway.
#[must_use]
pub fn ip_shaped(run: &[u8]) -> bool {
    let is_tok = |b: u8| b.is_ascii_hexdigit() || b == b':' || b == b'.';
    let mut i = 0;
    while i < run.len() {
        if !is_tok(run[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < run.len() && is_tok(run[i]) {
            i += 1;
        }
        if token_has_ip(&run[start..i]) {
            return true;
        }
    }
    false
}

fn token_has_ip(tok: &[u8]) -> bool {
    if tok.len() < 7 {
        return false;
    }
    (0..tok.len()).any(|s| {
        ipv4_at(&tok[s..])
            || (tok.get(s).is_some_and(|b| *b != b'.')
                && (7..=45.min(tok.len() - s)).any(|len| ipv6_strong(&tok[s..s + len])))
    })
}

/// A dotted quad starting at the beginning of `b`.
fn ipv4_at(b: &[u8]) -> bool {
    let mut pos = 0;
    for part in 0..4 {
        let digits = b[pos..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 || digits > 3 {
            return false;
        }
        let value: u32 = b[pos..pos + digits]
            .iter()
            .fold(0, |v, c| v * 10 + u32::from(c - b'0'));
        if value > 255 {
            return false;
        }
        pos += digits;
        if part < 3 {
            if b.get(pos) != Some(&b'.') {
                return false;
            }
            pos += 1;
        }
    }
    true
}

/// An IPv6 address with at least three written hex groups (or an embedded
/// IPv4 part), exactly `cand`.
fn ipv6_strong(cand: &[u8]) -> bool {
    let Ok(s) = std::str::from_utf8(cand) else {
        return false;
    };
    if s.parse::<std::net::Ipv6Addr>().is_err() {
        return false;
    }
    if s.contains('.') {
        return true;
    }
    let groups = s.split(':').filter(|g| !g.is_empty()).count();
    let hex_digits = s.bytes().filter(u8::is_ascii_hexdigit).count();
    groups >= 3 && hex_digits >= 7
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

    #[test]
    fn short_forms_in_binary_noise_are_not_findings_but_real_addresses_are() {
        for noise in [
            &b"99::"[..],
            b"::333",
            b"30:3::",
            b"d~B::",
            b"ab:cd",
            b"1.2.3",
            b"12:30:45",
        ] {
            assert!(!ip_shaped(noise), "{:?}", String::from_utf8_lossy(noise));
        }
        for ip in [
            &b"2001:db8::42"[..],
            b"x2001:0db8:0000:0000:0000:0000:0000:0001y",
            b"::ffff:192.0.2.1",
            b"host=203.0.113.9;",
            b"[2a02:1234:5::1]",
            b"010.001.002.003",
        ] {
            assert!(ip_shaped(ip), "{:?}", String::from_utf8_lossy(ip));
        }
    }
}
