//! Reading the input: counting bytes, recognising gzip by its magic bytes,
//! and cutting lines with a length limit, all in bounded memory.

use crate::detect::GZIP_MAGIC;
use flate2::bufread::MultiGzDecoder;
use std::io::{self, BufRead, BufReader, ErrorKind, Read};

/// Buffer size of the decompressed side of a gzip input.
const GZ_BUFFER: usize = 64 * 1024;

/// The raw input, with up to two bytes read ahead (to look for the gzip
/// magic) and a count of the bytes consumed.
pub(crate) struct Input<R> {
    inner: R,
    head: [u8; 2],
    head_len: usize,
    head_pos: usize,
    count: u64,
}

impl<R: BufRead> Input<R> {
    pub(crate) fn new(inner: R) -> Self {
        Input {
            inner,
            head: [0; 2],
            head_len: 0,
            head_pos: 0,
            count: 0,
        }
    }

    /// Whether the input starts with the gzip magic. Consumes nothing.
    pub(crate) fn starts_with_gzip(&mut self) -> io::Result<bool> {
        while self.head_len < 2 {
            let buf = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if self.head_len == 0 && buf.len() >= 2 {
                // The common case: the buffer already holds both bytes.
                return Ok(buf.starts_with(&GZIP_MAGIC));
            }
            let Some(&b) = buf.first() else { break };
            self.head[self.head_len] = b;
            self.head_len += 1;
            self.inner.consume(1);
        }
        Ok(self.head.get(..self.head_len) == Some(&GZIP_MAGIC[..]))
    }

    /// Bytes consumed so far.
    pub(crate) fn count(&self) -> u64 {
        self.count
    }
}

impl<R: BufRead> Read for Input<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = {
            let buf = self.fill_buf()?;
            let n = buf.len().min(out.len());
            out[..n].copy_from_slice(&buf[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Input<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.head_pos < self.head_len {
            Ok(&self.head[self.head_pos..self.head_len])
        } else {
            self.inner.fill_buf()
        }
    }

    fn consume(&mut self, amt: usize) {
        self.count += amt as u64;
        if self.head_pos < self.head_len {
            self.head_pos = (self.head_pos + amt).min(self.head_len);
        } else {
            self.inner.consume(amt);
        }
    }
}

/// The input as text bytes: as given, or decompressed.
pub(crate) enum Source<R> {
    /// Not compressed.
    Plain(Input<R>),
    /// Gzip, possibly several members one after the other.
    Gzip(Box<BufReader<MultiGzDecoder<Input<R>>>>),
}

impl<R: BufRead> Source<R> {
    /// Opens the input, decompressing it if it starts with the gzip magic.
    pub(crate) fn open(inner: R) -> io::Result<Source<R>> {
        let mut input = Input::new(inner);
        Ok(if input.starts_with_gzip()? {
            Source::Gzip(Box::new(BufReader::with_capacity(
                GZ_BUFFER,
                MultiGzDecoder::new(input),
            )))
        } else {
            Source::Plain(input)
        })
    }

    /// Whether the input is gzip-compressed.
    pub(crate) fn is_gzip(&self) -> bool {
        matches!(self, Source::Gzip(_))
    }

    /// Bytes consumed from the input as given.
    pub(crate) fn input_bytes(&self) -> u64 {
        match self {
            Source::Plain(i) => i.count(),
            Source::Gzip(r) => r.get_ref().get_ref().count(),
        }
    }
}

impl<R: BufRead> Read for Source<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        match self {
            Source::Plain(i) => i.read(out),
            Source::Gzip(r) => r.read(out),
        }
    }
}

impl<R: BufRead> BufRead for Source<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        match self {
            Source::Plain(i) => i.fill_buf(),
            Source::Gzip(r) => r.fill_buf(),
        }
    }

    fn consume(&mut self, amt: usize) {
        match self {
            Source::Plain(i) => i.consume(amt),
            Source::Gzip(r) => r.consume(amt),
        }
    }
}

/// What [`read_line`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReadLine {
    /// No more input.
    Eof,
    /// A line, now in the buffer (without its `\n` or `\r\n`).
    Line,
    /// A line longer than the limit; it was skipped, the buffer is empty.
    TooLong,
}

/// Reads the next line into `buf` (cleared first), holding at most `max`
/// bytes of it: the rest of a longer line is read and thrown away.
pub(crate) fn read_line(
    src: &mut impl BufRead,
    buf: &mut Vec<u8>,
    max: usize,
) -> io::Result<ReadLine> {
    buf.clear();
    let mut any = false;
    let mut too_long = false;
    loop {
        let avail = match src.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if avail.is_empty() {
            break;
        }
        any = true;
        let (part, used, done) = match memchr::memchr(b'\n', avail) {
            Some(i) => (&avail[..i], i + 1, true),
            None => (avail, avail.len(), false),
        };
        if !too_long {
            if buf.len() + part.len() > max {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(part);
            }
        }
        src.consume(used);
        if done {
            break;
        }
    }
    if !any {
        return Ok(ReadLine::Eof);
    }
    if too_long {
        return Ok(ReadLine::TooLong);
    }
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    Ok(ReadLine::Line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// Gives its data one byte per read.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            match (self.0.split_first(), out.first_mut()) {
                (Some((b, rest)), Some(o)) => {
                    *o = *b;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    fn lines(src: &mut impl BufRead, max: usize) -> Vec<Result<String, ReadLine>> {
        let mut buf = Vec::new();
        let mut out = Vec::new();
        loop {
            match read_line(src, &mut buf, max).unwrap() {
                ReadLine::Eof => return out,
                ReadLine::Line => out.push(Ok(String::from_utf8(buf.clone()).unwrap())),
                ReadLine::TooLong => out.push(Err(ReadLine::TooLong)),
            }
        }
    }

    #[test]
    fn lines_with_a_limit() {
        let data = b"ab\r\n\nabcdef\nabcde\r\nxyz";
        let mut src = &data[..];
        assert_eq!(
            lines(&mut src, 5),
            vec![
                Ok("ab".to_string()),
                Ok(String::new()),
                Err(ReadLine::TooLong),
                Err(ReadLine::TooLong),
                Ok("xyz".to_string()),
            ]
        );
        let mut src = BufReader::with_capacity(1, &data[..]);
        assert_eq!(lines(&mut src, 6).len(), 5);
        assert_eq!(lines(&mut &b""[..], 5), vec![]);
        assert_eq!(lines(&mut &b"\n"[..], 5), vec![Ok(String::new())]);
    }

    #[test]
    fn gzip_by_magic_with_any_read_sizes() {
        let text = b"line one\nline two\n";
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(text).unwrap();
        let member = gz.finish().unwrap();
        let mut two = member.clone();
        two.extend_from_slice(&member);
        for (data, want_lines, gzip) in [
            (&member[..], 2, true),
            (&two[..], 4, true),
            (&text[..], 2, false),
            (&b"\x1f"[..], 1, false),
            (&b""[..], 0, false),
        ] {
            let mut src = Source::open(BufReader::with_capacity(1, Trickle(data))).unwrap();
            assert_eq!(src.is_gzip(), gzip);
            assert_eq!(lines(&mut src, 100).len(), want_lines);
            assert_eq!(src.input_bytes(), data.len() as u64);
        }
    }
}
