//! The reading the IP matcher sees (promise P1): untrusted text with its
//! encodings undone, and for every byte of that reading the byte range of
//! the original text it came from, so that a match is redacted in the
//! original.
//!
//! A round of normalization
//! * decodes every `%XX` escape (any two hex digits, either case), to a fixed
//!   point: a decoded byte may complete an escape with what is before it
//!   (`%2532` → `%32` → `2`, `%%3532` → `%32` → `2`), so the output is kept
//!   as a stack and reduced after every push; each reduction removes two
//!   bytes, so the work is linear in the input; HTML numeric character
//!   references (`&#50;`, `&#x32;`) are decoded on the same stack;
//! * decodes UTF-8 (bytes that decoded escapes produced included) and maps
//!   every non-ASCII character through Unicode compatibility normalization
//!   (NFKC, the `unicode-normalization` crate): full-width `２０３．０`,
//!   circled `①`, superscript `¹`, mathematical `𝟐` become ASCII digits and
//!   separators;
//! * maps what NFKC leaves alone but a reader takes for a separator: the
//!   ideographic full stops `。` `｡` to `.`, Unicode hyphens, dashes and
//!   minus signs to `-`, the ratio sign `∶` to `:`; and drops invisible
//!   characters (zero-width space and joiners, word joiner, byte order mark,
//!   soft hyphen) that could split an address for a reader but not for the
//!   eye.
//!
//! A round repeats only when escapes decoded to UTF-8 bytes
//! (`%EF%BC%93`), which the next round reads as a character (`３`, then
//! `3`), at most [`MAX_ROUNDS`] times, so the whole is linear in the input
//! length. Everything a round maps to ASCII (a full-width `％`) goes through
//! the same stack at once.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::{IsNormalized, is_nfkc_quick};

/// Rounds of decoding at most; each is linear in its input. A round is
/// needed again only when one made UTF-8 bytes out of escapes.
const MAX_ROUNDS: usize = 4;

/// One byte of a reading and the original byte range it came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Unit {
    pub byte: u8,
    pub start: usize,
    pub end: usize,
}

/// Whether `s` needs a normalized reading at all: text without `%` whose
/// non-ASCII characters are all stable under NFKC and none of the extra
/// mappings is matched as written.
pub(crate) fn needs_normalizing(s: &str) -> bool {
    if has_escapes(s.as_bytes()) {
        return true;
    }
    if s.is_ascii() {
        return false;
    }
    is_nfkc_quick(s.chars()) != IsNormalized::Yes
        || s.chars().any(|c| !c.is_ascii() && fold(c) != Fold::Keep)
}

/// Which `%XX` escapes a reading decodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Escapes {
    /// Every one.
    All,
    /// Only those that stand for a hex digit, a separator, `%` or a byte of a
    /// multi-byte UTF-8 character: the
    /// reading in which an escape glued to an address (`%00.0.%30.0`) does
    /// not eat its first digit.
    Address,
    /// Only those that stand for a separator (`.`, `:`, `-`, `_`): the
    /// reading in which an escape glued to an address (`%40%2E0%2E0%2E0`,
    /// `%2001:db8::1`, `%25.0.0.0`) does not eat its first digits.
    Separators,
}

/// Whether `b` holds a `%` or the start of a character reference `&#`.
pub(crate) fn has_escapes(b: &[u8]) -> bool {
    b.contains(&b'%') || b.windows(2).any(|w| w == b"&#")
}

/// The reading of `s`: NFKC and the extra mappings always, `%XX` escapes
/// decoded as `escapes` says.
pub(crate) fn normalize(s: &str, escapes: Escapes) -> Vec<Unit> {
    let mut units: Vec<Unit> = s
        .bytes()
        .enumerate()
        .map(|(i, byte)| Unit {
            byte,
            start: i,
            end: i + 1,
        })
        .collect();
    for _ in 0..MAX_ROUNDS {
        let (next, changed) = round(&units, escapes);
        units = next;
        if !changed {
            break;
        }
    }
    units
}

/// What the extra mappings do with a character.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Fold {
    /// Left to NFKC.
    Keep,
    /// Replaced by an ASCII byte.
    Ascii(u8),
    /// Dropped.
    Drop,
}

/// The zeros of the Unicode decimal digit blocks (general category Nd)
/// that NFKC leaves alone: Arabic-Indic `٠`, Devanagari `०`, Thai `๐`, …
/// Each block holds the digits zero to nine in order.
const DIGIT_ZEROS: &[u32] = &[
    0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6, 0x0D66,
    0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90,
    0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0,
    0x104A0, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650, 0x116C0,
    0x11730, 0x118E0, 0x16A60, 0x16B50, 0x1E950,
];

fn fold(c: char) -> Fold {
    let code = u32::from(c);
    if code >= 0x0660
        && let Some(zero) = DIGIT_ZEROS.iter().find(|&&z| (z..z + 10).contains(&code))
    {
        return Fold::Ascii(b'0' + u8::try_from(code - zero).unwrap_or(0));
    }
    match c {
        '\u{3002}' | '\u{FF61}' | '\u{FE52}' | '\u{2024}' => Fold::Ascii(b'.'),
        '\u{2010}'..='\u{2015}'
        | '\u{2043}'
        | '\u{2212}'
        | '\u{2796}'
        | '\u{2E3A}'
        | '\u{2E3B}'
        | '\u{FE58}'
        | '\u{FE63}'
        | '\u{FF0D}' => Fold::Ascii(b'-'),
        '\u{2236}' | '\u{A789}' | '\u{FE13}' | '\u{FE55}' | '\u{FF1A}' => Fold::Ascii(b':'),
        '\u{00AD}' | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' => Fold::Drop,
        _ => Fold::Keep,
    }
}

/// One round of decoding; returns the new reading and whether it differs.
fn round(src: &[Unit], escapes: Escapes) -> (Vec<Unit>, bool) {
    let mut out: Vec<Unit> = Vec::with_capacity(src.len());
    let mut changed = false;
    let mut i = 0;
    while let Some(&u) = src.get(i) {
        if u.byte < 0x80 {
            push(&mut out, u, escapes, &mut changed);
            i += 1;
            continue;
        }
        let Some((c, len)) = char_at(src, i) else {
            // Not UTF-8: a byte that matches nothing.
            out.push(u);
            i += 1;
            continue;
        };
        let start = u.start;
        let end = src.get(i + len - 1).map_or(u.end, |last| last.end);
        i += len;
        let emit = |byte: u8, out: &mut Vec<Unit>, changed: &mut bool| {
            push(out, Unit { byte, start, end }, escapes, changed);
        };
        match fold(c) {
            Fold::Drop => {}
            Fold::Ascii(b) => emit(b, &mut out, &mut changed),
            Fold::Keep => {
                let mut buf = [0u8; 4];
                let own = c.encode_utf8(&mut buf);
                let mapped: String = std::iter::once(c).nfkc().collect();
                if mapped == *own {
                    for &b in own.as_bytes() {
                        out.push(Unit {
                            byte: b,
                            start,
                            end,
                        });
                    }
                } else {
                    for m in mapped.chars() {
                        let m = match fold(m) {
                            Fold::Ascii(b) => char::from(b),
                            Fold::Drop => continue,
                            Fold::Keep => m,
                        };
                        let mut mb = [0u8; 4];
                        for &b in m.encode_utf8(&mut mb).as_bytes() {
                            emit(b, &mut out, &mut changed);
                        }
                    }
                }
            }
        }
    }
    (out, changed)
}

/// The UTF-8 character whose first byte is `src[i]`, and its length.
fn char_at(src: &[Unit], i: usize) -> Option<(char, usize)> {
    let lead = src.get(i)?.byte;
    let len = match lead {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return None,
    };
    let mut buf = [0u8; 4];
    for (k, slot) in buf.iter_mut().enumerate().take(len) {
        *slot = src.get(i + k)?.byte;
    }
    let s = std::str::from_utf8(buf.get(..len)?).ok()?;
    Some((s.chars().next()?, len))
}

/// Pushes a unit and reduces every `%XX` escape and HTML numeric character
/// reference (`&#50;`, `&#x32;`) it completes, until none is left at the top.
fn push(out: &mut Vec<Unit>, u: Unit, escapes: Escapes, changed: &mut bool) {
    out.push(u);
    loop {
        let reduced = reduce_percent(out, escapes).or_else(|| {
            (escapes != Escapes::Separators)
                .then(|| reduce_entity(out))
                .flatten()
        });
        match reduced {
            // Decoded UTF-8 bytes need another round to become characters.
            Some(non_ascii) => *changed |= non_ascii,
            None => return,
        }
    }
}

/// Decodes a `%XX` escape at the top of `out`, if the reading wants it:
/// `Some(whether it made a non-ASCII byte)`.
fn reduce_percent(out: &mut Vec<Unit>, escapes: Escapes) -> Option<bool> {
    let [.., pct, hi, lo] = out.as_slice() else {
        return None;
    };
    let (Some(h), Some(l)) = (hex_value(hi.byte), hex_value(lo.byte)) else {
        return None;
    };
    let byte = (h << 4) | l;
    let wanted = match escapes {
        Escapes::All => true,
        Escapes::Address => {
            byte.is_ascii_hexdigit()
                || byte >= 0x80
                || matches!(byte, b'.' | b':' | b'-' | b'_' | b'%')
        }
        Escapes::Separators => matches!(byte, b'.' | b':' | b'-' | b'_'),
    };
    if pct.byte != b'%' || !wanted {
        return None;
    }
    let decoded = Unit {
        byte,
        start: pct.start,
        end: lo.end,
    };
    out.truncate(out.len() - 3);
    out.push(decoded);
    Some(byte >= 0x80)
}

/// Decodes an HTML numeric character reference at the top of `out`:
/// `Some(whether it made a non-ASCII character)`.
fn reduce_entity(out: &mut Vec<Unit>) -> Option<bool> {
    if out.last().map(|u| u.byte) != Some(b';') {
        return None;
    }
    // `&#x10FFFF;` is the longest: ten bytes.
    let from = out.len().saturating_sub(11);
    let window = out.get(from..)?;
    let amp = window.iter().rposition(|u| u.byte == b'&')?;
    let body = window.get(amp + 1..window.len() - 1)?;
    let (digits, radix) = match body {
        [hash, x, rest @ ..] if hash.byte == b'#' && (x.byte | 0x20) == b'x' => (rest, 16),
        [hash, rest @ ..] if hash.byte == b'#' => (rest, 10),
        _ => return None,
    };
    if digits.is_empty() || digits.len() > 7 {
        return None;
    }
    let mut code = 0u32;
    for d in digits {
        let v = char::from(d.byte).to_digit(radix)?;
        code = code * radix + v;
    }
    let c = char::from_u32(code)?;
    let start = window.get(amp).map_or(0, |u| u.start);
    let end = window.last().map_or(0, |u| u.end);
    out.truncate(from + amp);
    let mut buf = [0u8; 4];
    for &byte in c.encode_utf8(&mut buf).as_bytes() {
        out.push(Unit { byte, start, end });
    }
    Some(!c.is_ascii())
}

fn hex_value(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|v| u8::try_from(v).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(s: &str, escapes: Escapes) -> String {
        let units = normalize(s, escapes);
        let bytes: Vec<u8> = units.iter().map(|u| u.byte).collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    #[test]
    fn encodings_are_undone() {
        let cases = [
            ("%32%30%33%2E%30", "203.0"),
            ("203.0.113.%39", "203.0.113.9"),
            ("%2532%2530", "20"),
            ("%252532", "2"),
            ("%%3532", "S2"),
            ("２０３．０．１１３．９", "203.0.113.9"),
            ("①②③", "123"),
            ("¹²³", "123"),
            ("𝟐𝟎𝟑", "203"),
            ("203。0｡113", "203.0.113"),
            ("73‐22–11−5", "73-22-11-5"),
            ("1\u{200B}2", "12"),
            ("％３２", "2"),
            ("%EF%BC%93", "3"),
            ("fe80∶∶1", "fe80::1"),
            ("héllo", "héllo"),
            ("%zz%4", "%zz%4"),
            ("&#50;&#48;&#51;&#46;0", "203.0"),
            ("&#x32;&#X30;&#x33;", "203"),
            ("&#65298;", "2"),
            ("%3&#50;", "2"),
            ("&#50&#59;", "2"),
            ("a&b;&#;&#x;&#99999999;", "a&b;&#;&#x;&#99999999;"),
            ("٢٠٣.٠.١١٣.٩", "203.0.113.9"),
            ("२०३", "203"),
            ("๙", "9"),
        ];
        for (input, want) in cases {
            assert_eq!(reading(input, Escapes::All), want, "{input:?}");
        }
        assert_eq!(reading("%32", Escapes::Separators), "%32");
        assert_eq!(
            reading("%40%2E0%2E0%252E", Escapes::Separators),
            "%40.0.0%252E"
        );
    }

    #[test]
    fn origins_cover_the_input_in_order() {
        for input in ["%2532x２y", "a%3A%3Ab", "１.%32é", "\u{200B}x"] {
            let units = normalize(input, Escapes::All);
            let mut at = 0;
            for u in &units {
                assert!(u.start <= u.end && u.end <= input.len(), "{input:?}");
                assert!(input.is_char_boundary(u.start) && input.is_char_boundary(u.end));
                assert!(u.start >= at || u.start == units[0].start, "{input:?}");
                at = at.max(u.start);
            }
        }
    }

    #[test]
    fn long_escape_chains_are_linear() {
        // Nested 50,000 times: a decoder that repeats whole passes would
        // take 50,000 of them.
        let s = format!("%{}32", "25".repeat(50_000));
        assert_eq!(reading(&s, Escapes::All), "2");
        let s = "%25".repeat(50_000) + "32";
        assert_eq!(reading(&s, Escapes::All), "%".repeat(49_999) + "2");
    }

    #[test]
    fn needs_normalizing_sees_every_mapping() {
        for s in ["a%b", "２", "。", "‐", "\u{200B}", "①", "&#50;"] {
            assert!(needs_normalizing(s), "{s:?}");
        }
        for s in ["plain", "héllo wörld", "ユーザー", "☃", "a=1&b=2"] {
            assert!(!needs_normalizing(s), "{s:?}");
        }
    }
}
