//! Values that are sensitive whatever their field is called: payment card
//! numbers, IBANs and US social security numbers.
//!
//! - A card number is a run of 12 to 19 digits, optionally split into groups
//!   by up to three spaces, tabs or dashes, that passes the Luhn check. Within a
//!   longer run of grouped digits, every run of whole consecutive groups is
//!   tried, so two card numbers in a row are both found; a run of digits
//!   without separators is only ever tested whole (a 24-digit order number
//!   is not a card number).
//! - An IBAN is a country code of the IBAN registry, two check digits and
//!   the rest of the number, of that country's exact length, in any case,
//!   with single spaces or dashes between its characters allowed, not
//!   followed directly by another letter or digit, whose mod-97 checksum
//!   (ISO 13616) is 1.
//! - An SSN is three digits, two digits and four digits separated by a
//!   dash or a space each (`123-45-6789`, `123 45 6789`), with no digit
//!   right before or after. Nine digits in a row are not taken for one.
//!
//! Text that is not ASCII is first put in NFKC form, with every dash and
//! space character read as `-` and ` `, so full-width digits
//! (`４１１１…`) and no-break spaces do not hide a number.

use std::borrow::Cow;
use unicode_normalization::UnicodeNormalization;

/// What replaces a sensitive value inside text that is kept.
pub const REDACTED_VALUE: &str = "[redacted]";

/// IBAN lengths by country (the SWIFT IBAN registry).
const IBAN_LENGTHS: &[(&[u8; 2], usize)] = &[
    (b"AD", 24),
    (b"AE", 23),
    (b"AL", 28),
    (b"AT", 20),
    (b"AZ", 28),
    (b"BA", 20),
    (b"BE", 16),
    (b"BG", 22),
    (b"BH", 22),
    (b"BI", 27),
    (b"BR", 29),
    (b"BY", 28),
    (b"CH", 21),
    (b"CR", 22),
    (b"CY", 28),
    (b"CZ", 24),
    (b"DE", 22),
    (b"DJ", 27),
    (b"DK", 18),
    (b"DO", 28),
    (b"EE", 20),
    (b"EG", 29),
    (b"ES", 24),
    (b"FI", 18),
    (b"FK", 18),
    (b"FO", 18),
    (b"FR", 27),
    (b"GB", 22),
    (b"GE", 22),
    (b"GI", 23),
    (b"GL", 18),
    (b"GR", 27),
    (b"GT", 28),
    (b"HR", 21),
    (b"HU", 28),
    (b"IE", 22),
    (b"IL", 23),
    (b"IQ", 23),
    (b"IS", 26),
    (b"IT", 27),
    (b"JO", 30),
    (b"KW", 30),
    (b"KZ", 20),
    (b"LB", 28),
    (b"LC", 32),
    (b"LI", 21),
    (b"LT", 20),
    (b"LU", 20),
    (b"LV", 21),
    (b"LY", 25),
    (b"MC", 27),
    (b"MD", 24),
    (b"ME", 22),
    (b"MK", 19),
    (b"MN", 20),
    (b"MR", 27),
    (b"MT", 31),
    (b"MU", 30),
    (b"NI", 28),
    (b"NL", 18),
    (b"NO", 15),
    (b"OM", 23),
    (b"PK", 24),
    (b"PL", 28),
    (b"PS", 29),
    (b"PT", 25),
    (b"QA", 29),
    (b"RO", 24),
    (b"RS", 22),
    (b"RU", 33),
    (b"SA", 24),
    (b"SC", 31),
    (b"SD", 18),
    (b"SE", 24),
    (b"SI", 19),
    (b"SK", 24),
    (b"SM", 27),
    (b"SO", 23),
    (b"ST", 25),
    (b"SV", 28),
    (b"TL", 23),
    (b"TN", 24),
    (b"TR", 26),
    (b"UA", 29),
    (b"VA", 22),
    (b"VG", 24),
    (b"XK", 20),
    (b"YE", 30),
];

/// Whether an integer, written in decimal, is a card number (12 to 19
/// digits passing the Luhn check): a number property is checked like text.
#[must_use]
pub fn is_card_number(n: i64) -> bool {
    is_card_digits(n.unsigned_abs())
}

/// Whether a floating-point number is a whole number whose digits are a
/// card number ([`is_card_number`]): `4111111111111111.0` is as much a card
/// number as the integer is.
#[must_use]
pub fn is_card_number_float(f: f64) -> bool {
    // 1e19 is above every 19-digit number and below u64::MAX (1.8e19), so
    // the cast is exact for every whole number in range.
    f.is_finite() && f.fract() == 0.0 && f.abs() < 1e19 && is_card_digits(f.abs() as u64)
}

fn is_card_digits(n: u64) -> bool {
    let digits = n.to_string();
    (12..=19).contains(&digits.len()) && luhn(digits.as_bytes(), &[(0, digits.len())])
}

/// Whether the text is, or contains, a card number, an IBAN or an SSN.
#[must_use]
pub fn contains_sensitive_value(s: &str) -> bool {
    match normalized(s) {
        None => false,
        Some(n) => !spans(n.as_bytes()).is_empty(),
    }
}

/// The text with every card number, IBAN and SSN in it replaced by
/// [`REDACTED_VALUE`]; borrowed when there is none.
#[must_use]
pub fn redact_sensitive_values(s: &str) -> Cow<'_, str> {
    let Some(n) = normalized(s) else {
        return Cow::Borrowed(s);
    };
    let found = spans(n.as_bytes());
    if found.is_empty() {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(n.len());
    let mut at = 0;
    for (a, b) in found {
        if a < at {
            // Overlaps the span before: extend it.
            at = at.max(b);
            continue;
        }
        out.push_str(n.get(at..a).unwrap_or_default());
        out.push_str(REDACTED_VALUE);
        at = b;
    }
    out.push_str(n.get(at..).unwrap_or_default());
    Cow::Owned(out)
}

/// The text the detectors read, or `None` when it holds too few digits to
/// contain anything they look for (two check digits and at least ten more
/// characters for an IBAN, nine digits for an SSN, twelve for a card).
fn normalized(s: &str) -> Option<Cow<'_, str>> {
    // Percent-encoding (`4111%201111...`, `123%2D45%2D6789`, as paths and
    // utm values are stored) and HTML character references (`&#52;111...`)
    // are read as the characters they stand for. Each decoding makes the
    // text shorter, so this recursion ends.
    if s.contains(['%', '&']) {
        let d = super::names::decode(s);
        if d.len() < s.len() {
            return normalized(&d).map(|c| Cow::Owned(c.into_owned()));
        }
    }
    if s.is_ascii() {
        let digits = s.bytes().filter(u8::is_ascii_digit).count();
        return (digits >= 2 && s.len() >= 11).then_some(Cow::Borrowed(s));
    }
    if s.chars().filter(|c| c.is_numeric()).count() < 2 {
        return None;
    }
    let n: String = s
        .nfkc()
        .filter(|c| {
            !matches!(
                c,
                '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}'
            )
        })
        .map(|c| match c {
            '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}' | '\u{FF0D}' => '-',
            c if c.is_whitespace() => ' ',
            c => c,
        })
        .collect();
    Some(Cow::Owned(n))
}

/// Byte ranges of every sensitive value in `b`, sorted by start.
fn spans(b: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    cards(b, &mut out);
    ssns(b, &mut out);
    ibans(b, &mut out);
    out.sort_unstable();
    out
}

/// Separators a person or a form puts between digit groups: space, tab,
/// dash, dot (`4111.1111.1111.1111`) and the plus sign a form-encoded
/// space becomes.
fn is_sep(c: u8) -> bool {
    matches!(c, b' ' | b'-' | b'\t' | b'.' | b'+')
}

/// Card numbers: runs of digit groups, whole consecutive groups tried.
fn cards(b: &[u8], out: &mut Vec<(usize, usize)>) {
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        // A run of digit groups separated by 1-3 separators ([`is_sep`]).
        let mut groups: Vec<(usize, usize)> = Vec::new();
        let mut j = i;
        loop {
            let start = j;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            groups.push((start, j));
            let mut k = j;
            while k < b.len() && k - j < 3 && is_sep(b[k]) {
                k += 1;
            }
            if k > j && k < b.len() && b[k].is_ascii_digit() {
                j = k;
            } else {
                break;
            }
        }
        let mut first = 0;
        while first < groups.len() {
            let mut digits = 0;
            let mut hit = None;
            for (last, g) in groups.iter().enumerate().skip(first) {
                digits += g.1 - g.0;
                if digits > 19 {
                    break;
                }
                if digits >= 12
                    && !ipv4_shaped(b, &groups[first..=last])
                    && luhn(b, &groups[first..=last])
                {
                    hit = Some(last);
                }
            }
            match hit {
                Some(last) => {
                    out.push((groups[first].0, groups[last].1));
                    first = last + 1;
                }
                None => first += 1,
            }
        }
        i = j.max(i + 1);
    }
}

/// Whether the groups are four of one to three digits joined by single
/// dots: an IPv4 address, left to the IP scrubber (which writes `[ip]`),
/// not a card number.
fn ipv4_shaped(b: &[u8], groups: &[(usize, usize)]) -> bool {
    groups.len() == 4
        && groups.iter().all(|g| (1..=3).contains(&(g.1 - g.0)))
        && groups
            .windows(2)
            .all(|w| b.get(w[0].1..w[1].0) == Some(b".".as_slice()))
}

/// The Luhn check over the digits of some groups.
fn luhn(b: &[u8], groups: &[(usize, usize)]) -> bool {
    let mut sum = 0u32;
    let mut double = false;
    for &(s, e) in groups.iter().rev() {
        for &c in b[s..e].iter().rev() {
            let mut d = u32::from(c - b'0');
            if double {
                d *= 2;
                if d > 9 {
                    d -= 9;
                }
            }
            sum += d;
            double = !double;
        }
    }
    sum.is_multiple_of(10)
}

/// `ddd-dd-dddd` and `ddd dd dddd`, not inside a longer run of digits.
fn ssns(b: &[u8], out: &mut Vec<(usize, usize)>) {
    const SHAPE: [u8; 11] = *b"ddd-dd-dddd";
    if b.len() < SHAPE.len() {
        return;
    }
    for i in 0..=b.len() - SHAPE.len() {
        if i > 0 && b[i - 1].is_ascii_digit() {
            continue;
        }
        let ok = SHAPE.iter().zip(&b[i..]).all(|(want, c)| match want {
            b'd' => c.is_ascii_digit(),
            _ => is_sep(*c),
        });
        if ok && !b.get(i + SHAPE.len()).is_some_and(u8::is_ascii_digit) {
            out.push((i, i + SHAPE.len()));
        }
    }
}

/// IBANs of the registry's countries, with their exact lengths.
fn ibans(b: &[u8], out: &mut Vec<(usize, usize)>) {
    if b.len() < 15 {
        return;
    }
    for i in 0..b.len() - 3 {
        let cc = [b[i].to_ascii_uppercase(), b[i + 1].to_ascii_uppercase()];
        if !(cc[0].is_ascii_uppercase()
            && cc[1].is_ascii_uppercase()
            && b[i + 2].is_ascii_digit()
            && b[i + 3].is_ascii_digit())
        {
            continue;
        }
        let Some(&(_, len)) = IBAN_LENGTHS.iter().find(|(c, _)| **c == cc) else {
            continue;
        };
        // Collect `len` alphanumerics, single spaces between them allowed.
        let mut chars: Vec<u8> = Vec::with_capacity(len);
        let mut j = i;
        while j < b.len() && chars.len() < len {
            let c = b[j];
            if c.is_ascii_alphanumeric() {
                chars.push(c.to_ascii_uppercase());
                j += 1;
            } else if matches!(c, b' ' | b'-' | b'.')
                && !chars.is_empty()
                && b.get(j + 1).is_some_and(u8::is_ascii_alphanumeric)
            {
                j += 1;
            } else {
                break;
            }
        }
        // It ends where the text's word ends: a valid checksum in the middle
        // of a longer run of letters and digits is chance.
        let ends = b.get(j).is_none_or(|c| !c.is_ascii_alphanumeric());
        if chars.len() == len && ends && mod97(&chars) == 1 {
            out.push((i, j));
        }
    }
}

/// ISO 13616: the first four characters moved to the end, letters as
/// 10..35, the number taken mod 97.
fn mod97(chars: &[u8]) -> u32 {
    let (head, rest) = chars.split_at(4.min(chars.len()));
    let mut r = 0u32;
    for &c in rest.iter().chain(head) {
        r = if c.is_ascii_digit() {
            (r * 10 + u32::from(c - b'0')) % 97
        } else {
            (r * 100 + u32::from(c - b'A') + 10) % 97
        };
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Appends the Luhn check digit to a payload of digits.
    fn with_luhn(payload: &[u8]) -> Vec<u8> {
        let mut sum = 0u32;
        for (i, d) in payload.iter().rev().enumerate() {
            let mut d = u32::from(*d);
            if i % 2 == 0 {
                d *= 2;
                if d > 9 {
                    d -= 9;
                }
            }
            sum += d;
        }
        let mut v = payload.to_vec();
        v.push(((10 - sum % 10) % 10) as u8);
        v
    }

    fn digits(v: &[u8]) -> String {
        v.iter().map(|d| char::from(b'0' + d)).collect()
    }

    #[test]
    fn dotted_plus_and_encoded_card_numbers_ibans_and_ssns_are_found() {
        for s in [
            "4111.1111.1111.1111",
            "4111+1111+1111+1111",
            "4111%201111%201111%201111",
            "4111%2D1111%2D1111%2D1111",
            "/pay/SSN%20123-45-6789.",
            "078.05.1120",
            "&#52;111111111111111",
            "DE89.3704.0044.0532.0130.00",
            "de89%203704%200044%200532%200130%2000",
        ] {
            assert!(contains_sensitive_value(s), "{s}");
            assert!(
                !contains_sensitive_value(&redact_sensitive_values(s)),
                "{s}"
            );
        }
        for s in ["v1.2.3.4", "100% sure", "a&b=c", "2026.11.02"] {
            assert!(!contains_sensitive_value(s), "{s}");
        }
    }

    #[test]
    fn whole_floats_with_card_digits_are_card_numbers() {
        assert!(is_card_number_float(4_111_111_111_111_111.0));
        assert!(is_card_number_float(-4_111_111_111_111_111.0));
        assert!(is_card_number_float(378_282_246_310_005.0));
        assert!(!is_card_number_float(4_111_111_111_111_111.5e-3));
        assert!(!is_card_number_float(12.0));
        assert!(!is_card_number_float(f64::NAN));
        assert!(!is_card_number_float(f64::INFINITY));
        assert!(!is_card_number_float(1e300));
    }

    #[test]
    fn known_card_numbers_ibans_and_ssns_are_found() {
        for s in [
            "4111111111111111",
            "4111 1111 1111 1111",
            "4111-1111-1111-1111",
            "card: 4111 1111 1111 1111, thanks",
            "5555555555554444",
            "378282246310005",
            "3782 822463 10005",
            "6011111111111117",
            "4012888888881881",
            "x4111111111111111y",
            "４１１１ １１１１ １１１１ １１１１",
            "4111\u{a0}1111\u{a0}1111\u{a0}1111",
            "4111\u{200b}1111\u{200b}1111\u{200b}1111",
            "4111\t1111\t1111\t1111",
            "DE89-3704-0044-0532-0130-00",
            "30569309025904",
            "6304000000000000",
            "4111 – 1111 – 1111 – 1111",
            "DE89370400440532013000",
            "DE89 3704 0044 0532 0130 00",
            "de89 3704 0044 0532 0130 00",
            "iban=GB82WEST12345698765432",
            "GB82 WEST 1234 5698 7654 32",
            "FR1420041010050500013M02606",
            "NL91ABNA0417164300",
            "BE68539007547034",
            "CH9300762011623852957",
            "NO9386011117947",
            "MT84MALT011000012345MTLCAST001S",
            "123-45-6789",
            "123 45 6789",
            "ssn 078-05-1120.",
        ] {
            assert!(contains_sensitive_value(s), "{s} should be found");
            let r = redact_sensitive_values(s);
            assert!(r.contains(REDACTED_VALUE), "{s} -> {r}");
        }
    }

    #[test]
    fn look_alikes_are_kept() {
        for s in [
            "4111111111111112",
            "4111 1111 1111 1112",
            "12345678901",
            "123456789012345678901234",
            "2026-12-01 10:15:00",
            "+49 170 1234567",
            "DE89370400440532013001",
            "DE8937040044053201300",
            "GB82WEST1234569876543",
            "ZZ89370400440532013000",
            "DE89370400440532013000X",
            "DE893704004405320130001",
            "123456789",
            "1234-56-7890",
            "123-456-7890",
            "order 2026-000123",
            "v1.2.3-beta.4",
            "",
            "hello world",
        ] {
            assert!(!contains_sensitive_value(s), "{s} should be kept");
            assert_eq!(redact_sensitive_values(s), s);
        }
    }

    #[test]
    fn redaction_keeps_the_text_around_and_finds_every_value() {
        assert_eq!(
            redact_sensitive_values("a 4111111111111111 b 5555555555554444 c"),
            "a [redacted] b [redacted] c"
        );
        assert_eq!(
            redact_sensitive_values("4111111111111111 5555555555554444"),
            "[redacted] [redacted]"
        );
        assert_eq!(
            redact_sensitive_values("#pay[data-iban=DE89370400440532013000]"),
            "#pay[data-iban=[redacted]]"
        );
        assert_eq!(redact_sensitive_values("id 123-45-6789!"), "id [redacted]!");
    }

    #[test]
    fn integers_that_are_card_numbers() {
        assert!(is_card_number(4_111_111_111_111_111));
        assert!(is_card_number(-4_111_111_111_111_111));
        assert!(!is_card_number(4_111_111_111_111_112));
        assert!(!is_card_number(12_345));
        assert!(!is_card_number(i64::MIN));
    }

    proptest! {
        #[test]
        fn random_valid_card_numbers_in_random_text_are_always_found(
            payload in prop::collection::vec(0u8..10, 11..=18),
            group in 0usize..5,
            sep in prop::sample::select(vec!["", " ", "-", " - "]),
            pre in "[a-zA-Z ,.:;=#()]{0,12}",
            post in "[a-zA-Z ,.:;=#()]{0,12}",
        ) {
            let card = with_luhn(&payload);
            let plain = digits(&card);
            let written = if group == 0 || sep.is_empty() {
                plain.clone()
            } else {
                plain
                    .as_bytes()
                    .chunks(group + 2)
                    .map(|c| std::str::from_utf8(c).unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join(sep)
            };
            let text = format!("{pre}{written}{post}");
            prop_assert!(contains_sensitive_value(&text), "{}", text);
            let r = redact_sensitive_values(&text);
            prop_assert!(!r.contains(&written), "{}", r);
            prop_assert!(r.contains(REDACTED_VALUE));
        }

        #[test]
        fn digit_strings_failing_luhn_are_kept(
            payload in prop::collection::vec(0u8..10, 11..=18),
            bump in 1u8..10,
            pre in "[a-zA-Z ,.:;=#()]{0,12}",
            post in "[a-zA-Z ,.:;=#()]{0,12}",
        ) {
            let mut card = with_luhn(&payload);
            let last = card.len() - 1;
            card[last] = (card[last] + bump) % 10;
            let text = format!("{pre}{}{post}", digits(&card));
            prop_assert!(!contains_sensitive_value(&text), "{}", text);
            prop_assert_eq!(redact_sensitive_values(&text), text.as_str());
        }

        #[test]
        fn random_valid_ibans_are_found_in_any_case_and_spacing(
            country in prop::sample::select(IBAN_LENGTHS.to_vec()),
            body in prop::collection::vec(0u8..10, 30),
            lower in any::<bool>(),
            spaced in any::<bool>(),
            pre in "[a-z ,.:;=#()]{0,8}",
        ) {
            let (cc, len) = country;
            let bban: String = digits(&body[..len - 4]);
            // The check digits that make the mod-97 remainder 1.
            let probe: Vec<u8> = format!("{}{}00", cc[0] as char, cc[1] as char)
                .bytes()
                .chain(bban.bytes())
                .collect();
            let check = 98 - mod97(&probe);
            let iban = format!("{}{}{check:02}{bban}", cc[0] as char, cc[1] as char);
            let mut written = if spaced {
                iban.as_bytes()
                    .chunks(4)
                    .map(|c| std::str::from_utf8(c).unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join(" ")
            } else {
                iban.clone()
            };
            if lower {
                written = written.to_lowercase();
            }
            let text = format!("{pre} {written}");
            prop_assert!(contains_sensitive_value(&text), "{}", text);
            // A wrong check digit is not an IBAN.
            let wrong = format!("{}{}{:02}{bban}", cc[0] as char, cc[1] as char, (check + 1) % 100);
            let mut found = Vec::new();
            ibans(wrong.as_bytes(), &mut found);
            prop_assert!(found.is_empty(), "{}", wrong);
        }

        #[test]
        fn detectors_never_panic(s in "\\PC{0,80}") {
            let _ = contains_sensitive_value(&s);
            let _ = redact_sensitive_values(&s);
        }
    }
}
