//! The audit (promise P9): scans every byte of every file under a data
//! directory for anything shaped like an IPv4 or IPv6 address. Findings name
//! the file and offset, never the text found.

use crate::error::StorageError;
use crate::text::contains_ip;
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
/// of printable ASCII bytes is passed to the same detector the scrubber
/// uses. Files of the data directory that are not PledgeDB's are scanned
/// too.
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
                if let Ok(s) = std::str::from_utf8(run)
                    && contains_ip(s)
                {
                    out.push(start as u64);
                }
            }
            start = i + 1;
        }
        i += 1;
    }
    out
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
}
