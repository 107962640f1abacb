//! Content fingerprints of an input, so that a repeated import is refused
//! and an interrupted one resumes where it stopped.
//!
//! The importer runs SHA-256 over the decompressed lines (each line's bytes
//! as read, without its line break, then one `\n`; a line too long to hold
//! counts as a fixed marker). The digest never leaves memory: the engine
//! stores only a keyed fingerprint of it
//! ([`Domain::import_fingerprint`](pledgedb_core::Domain::import_fingerprint),
//! a SipHash under the domain's secret), in an
//! [`ImportRecord`](pledgedb_core::ImportRecord) of the domain's control
//! file, with the number of lines consumed.

use sha2::{Digest, Sha256};

/// Lines whose fingerprint identifies an input ("the head"): an import with
/// the same first lines as a recorded one is checked against it.
pub const HEAD_LINES: usize = 64;

/// What stands for a line longer than the line limit (its bytes are not
/// held, so they cannot be hashed).
const TOO_LONG: &[u8] = b"\x00pledgedb: line too long\x00";

/// The running fingerprint of the lines read so far.
#[derive(Clone, Debug, Default)]
pub(crate) struct Fingerprint {
    state: Sha256,
    /// The state before the last line.
    prev: Sha256,
    /// The digest after each of the first [`HEAD_LINES`] lines.
    heads: Vec<[u8; 32]>,
    lines: u64,
}

impl Fingerprint {
    /// Adds one line (`None`: a line too long to hold).
    pub(crate) fn line(&mut self, bytes: Option<&[u8]>) {
        self.prev = self.state.clone();
        self.state.update(bytes.unwrap_or(TOO_LONG));
        self.state.update(b"\n");
        self.lines += 1;
        if self.heads.len() < HEAD_LINES {
            self.heads.push(self.digest());
        }
    }

    /// Lines added.
    pub(crate) fn lines(&self) -> u64 {
        self.lines
    }

    /// The digest of every line added.
    pub(crate) fn digest(&self) -> [u8; 32] {
        self.state.clone().finalize().into()
    }

    /// The digest of every line added but the last.
    pub(crate) fn digest_before_last(&self) -> [u8; 32] {
        self.prev.clone().finalize().into()
    }

    /// The digest of the first `n` lines, if `n` is at most the lines added
    /// and at most [`HEAD_LINES`].
    pub(crate) fn head(&self, n: u64) -> Option<[u8; 32]> {
        let i = usize::try_from(n).ok()?.checked_sub(1)?;
        self.heads.get(i).copied()
    }

    /// How many head digests there are.
    pub(crate) fn head_lines(&self) -> u64 {
        self.heads.len() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(lines: &[&str]) -> Fingerprint {
        let mut f = Fingerprint::default();
        for l in lines {
            f.line(Some(l.as_bytes()));
        }
        f
    }

    #[test]
    fn prefixes_and_heads_agree() {
        let all = of(&["a", "b", "c"]);
        let two = of(&["a", "b"]);
        assert_eq!(all.head(2), Some(two.digest()));
        assert_eq!(all.digest_before_last(), two.digest());
        assert_eq!(all.head(3), Some(all.digest()));
        assert_eq!(all.head(0), None);
        assert_eq!(all.head(4), None);
        // Line breaks are part of the content: "ab" is not "a" + "b".
        assert_ne!(of(&["ab"]).digest(), of(&["a", "b"]).digest());
        assert_ne!(of(&["a"]).digest(), of(&["b"]).digest());
        let mut long = Fingerprint::default();
        long.line(None);
        assert_ne!(long.digest(), of(&[""]).digest());
    }

    #[test]
    fn only_the_first_lines_keep_head_digests() {
        let lines: Vec<String> = (0..200).map(|i| i.to_string()).collect();
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let f = of(&refs);
        assert_eq!(f.lines(), 200);
        assert_eq!(f.head_lines(), HEAD_LINES as u64);
        assert_eq!(f.head(64), Some(of(&refs[..64]).digest()));
    }
}
