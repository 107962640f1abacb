//! The one definition of "IP-shaped" (promises P1 and P9): finds IPv4 and
//! IPv6 addresses in a normalized reading (see [`super::normalize`]) of
//! text. The scrubber redacts every match; the audit reports them.
//!
//! Three scanners run over the reading; their matches may overlap.
//!
//! **Colon and dot runs.** The reading is cut into maximal runs of hex
//! digits, `.` and `:`. A run that holds one of these anywhere matches as a
//! whole, with the `[` `]` around it if both are there:
//! * a dotted quad `d.d.d.d` whose two inner parts are whole groups of one to
//!   three decimal digits up to 255 (the outer ones may be glued to more
//!   digits: `5192.0.2.1` holds `192.0.2.1`);
//! * a trailing-dot triple `d.d.d.` not followed by a digit (`203.0.113.`):
//!   the first 24 bits of an address, what is left when one is cut short;
//! * eight groups of one to four hex digits joined by single colons;
//! * a chain of five to seven such groups with a decimal digit in it (96 bits
//!   of a global address), except six groups of exactly two hex digits each,
//!   a MAC address (`aa:bb:cc:dd:ee:ff`, `00:1A:2B:3C:4D:5E`);
//! * a chain of four groups with a decimal digit and a group of four hex
//!   digits (`2001:db8:85a3:8d3`, a /64 prefix, which names a household);
//! * a `::` with at least one group next to it, except the lone `::` and
//!   *identifier paths*: a short form (at most two groups) none of whose
//!   groups holds a decimal digit, where the `::` sits between two words of
//!   ASCII letters only (no digit, no `_`) and one of these words holds a
//!   letter that is not a hex digit: `std::vec`, `Vec::new`, `a::before`,
//!   `li::marker` are kept; `fe80::1`, `ip_fe80::1`, `host_2a02::5`, `a::b`,
//!   `dead::beef` and `::1` are addresses.
//!
//! **Dashed and underscored IPv4.** Four consecutive groups of one to three
//! decimal digits up to 255, each a whole run of digits, joined by single
//! `-` or `_`: `ec2-203-0-113-9`, `c-73-22-11-5`, `ip_10_0_0_5`; not inside a
//! MAC address written with dashes (`00-11-22-33-44-55`).
//!
//! **Dashed IPv6** (the `ipv6-literal.net` form: `-` for `:`, `--` for `::`,
//! `s` for the zone's `%`). A chain of hex groups of one to four digits, each
//! with no letter or digit glued to it (but the zone's `s`), joined by `-`
//! with at most one `--`, holding a decimal digit: eight groups, or a `--`
//! form with two to seven groups. Every label just before
//! `.ipv6-literal.net` matches whatever it spells.
//!
//! Every check looks at a bounded number of bytes around each position, or
//! walks each byte a bounded number of times, so matching is linear in the
//! length of the reading, and it never allocates.

/// One match, as a byte range of the reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Match {
    pub start: usize,
    pub end: usize,
    /// Whether the match is unmistakable even in binary data (see
    /// [`crate::audit`]): an IPv4 form with all four groups, or an IPv6 form
    /// with at least three groups or four hex digits.
    pub strong: bool,
}

/// Calls `sink` with every match in `n`, until `sink` returns `false`.
pub(crate) fn each_match(n: &[u8], sink: &mut dyn FnMut(Match) -> bool) {
    if !colon_dot_runs(n, sink) {
        return;
    }
    // The dashed scanners need a digit joined to a digit by `-` or `_`
    // (IPv4), or `--`, seven dashes or a literal suffix (IPv6).
    let (mut joined_digits, mut dashes, mut double) = (false, 0usize, false);
    for w in n.windows(3) {
        if let [a, sep, b] = w {
            joined_digits |= a.is_ascii_digit() && matches!(sep, b'-' | b'_') && b.is_ascii_digit();
            if *sep == b'-' {
                dashes += 1;
                double |= *a == b'-' || *b == b'-';
            }
        }
    }
    if joined_digits && !dashed_ipv4(n, sink) {
        return;
    }
    if double || dashes >= 7 {
        dashed_ipv6(n, sink);
    } else {
        literal_labels(n, sink);
    }
}

fn is_run_byte(c: u8) -> bool {
    c.is_ascii_hexdigit() || c == b'.' || c == b':'
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

// ---------------------------------------------------------------------------
// Colon and dot runs.

fn colon_dot_runs(n: &[u8], sink: &mut dyn FnMut(Match) -> bool) -> bool {
    let mut i = 0;
    while i < n.len() {
        if !n.get(i).copied().is_some_and(is_run_byte) {
            i += 1;
            continue;
        }
        let start = i;
        let mut separated = false;
        while let Some(&c) = n.get(i) {
            if !is_run_byte(c) {
                break;
            }
            separated |= c == b'.' || c == b':';
            i += 1;
        }
        if !separated {
            continue;
        }
        if let Some(strong) = run_holds_ip(n, start, i) {
            let (s, e) = with_brackets(n, start, i);
            if !sink(Match {
                start: s,
                end: e,
                strong,
            }) {
                return false;
            }
        }
    }
    true
}

/// Widens a run to the `[` `]` around it, if both are there.
fn with_brackets(n: &[u8], start: usize, end: usize) -> (usize, usize) {
    let open = start.checked_sub(1).and_then(|i| n.get(i)) == Some(&b'[');
    if open && n.get(end) == Some(&b']') {
        (start - 1, end + 1)
    } else {
        (start, end)
    }
}

/// Whether the run `n[start..end]` holds an address: `Some(strong)`.
fn run_holds_ip(n: &[u8], start: usize, end: usize) -> Option<bool> {
    let s = n.get(start..end)?;
    if holds_ipv4(s) {
        return Some(true);
    }
    let v6 = holds_ipv6(n, start, end);
    if v6 == Some(true) {
        return v6;
    }
    if holds_ipv4_triple(s) {
        return Some(false);
    }
    v6
}

/// Whether `s` holds a dotted quad.
fn holds_ipv4(s: &[u8]) -> bool {
    s.iter()
        .enumerate()
        .any(|(i, &c)| c == b'.' && ipv4_at_dot(s, i))
}

/// Whether a dotted quad has its first dot at `dot`.
fn ipv4_at_dot(s: &[u8], dot: usize) -> bool {
    let before = dot.checked_sub(1).and_then(|i| s.get(i));
    if !before.is_some_and(u8::is_ascii_digit) {
        return false;
    }
    let Some(second) = inner_octet(s, dot + 1) else {
        return false;
    };
    let Some(third) = inner_octet(s, second + 1) else {
        return false;
    };
    s.get(third + 1).is_some_and(u8::is_ascii_digit)
}

/// Whether `s` holds `d.d.d.` not followed by a digit, with a whole first
/// octet.
fn holds_ipv4_triple(s: &[u8]) -> bool {
    s.iter().enumerate().any(|(i, &c)| {
        if c != b'.' {
            return false;
        }
        let digits = s
            .get(..i)
            .unwrap_or_default()
            .iter()
            .rev()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if !(1..=3).contains(&digits) || octet_value(s, i - digits, i).is_none_or(|v| v > 255) {
            return false;
        }
        let Some(second) = inner_octet(s, i + 1) else {
            return false;
        };
        let Some(third) = inner_octet(s, second + 1) else {
            return false;
        };
        !s.get(third + 1).is_some_and(u8::is_ascii_digit)
    })
}

fn octet_value(s: &[u8], from: usize, to: usize) -> Option<u32> {
    s.get(from..to)?
        .iter()
        .try_fold(0u32, |v, &c| Some(v * 10 + u32::from(c.checked_sub(b'0')?)))
}

/// An octet of one to three decimal digits, at most 255, starting at `from`
/// and followed by a dot: returns the position of that dot.
fn inner_octet(s: &[u8], from: usize) -> Option<usize> {
    let mut value = 0u32;
    let mut i = from;
    while let Some(&c) = s.get(i) {
        if !c.is_ascii_digit() {
            break;
        }
        if i - from == 3 {
            return None;
        }
        value = value * 10 + u32::from(c - b'0');
        i += 1;
    }
    (i > from && value <= 255 && s.get(i) == Some(&b'.')).then_some(i)
}

/// The groups of an IPv6 candidate that end at the current group.
#[derive(Clone, Copy)]
struct Chain {
    /// How many groups, at most 8.
    groups: usize,
    /// Where the first of them starts (absolute).
    start: usize,
    /// Whether a group holds a decimal digit.
    digit: bool,
    /// Whether a group has four hex digits.
    four: bool,
    /// Whether every group has exactly two hex digits.
    all_two: bool,
}

impl Chain {
    fn first(group: &[u8], start: usize) -> Chain {
        Chain {
            groups: 1,
            start,
            digit: group.iter().any(u8::is_ascii_digit),
            four: group.len() == 4,
            all_two: group.len() == 2,
        }
    }

    fn then(self, group: &[u8]) -> Chain {
        Chain {
            groups: (self.groups + 1).min(8),
            start: self.start,
            digit: self.digit || group.iter().any(u8::is_ascii_digit),
            four: self.four || group.len() == 4,
            all_two: self.all_two && group.len() == 2,
        }
    }

    /// Whether a chain of single-colon groups that ends here is a partial
    /// address.
    fn is_partial_address(self) -> bool {
        let mac = self.groups == 6 && self.all_two;
        self.digit && (((5..=7).contains(&self.groups) && !mac) || (self.groups == 4 && self.four))
    }
}

/// Whether the run `n[rs..re]` holds an IPv6 address without its IPv4 tail:
/// `Some(strong)`, or `None`.
fn holds_ipv6(n: &[u8], rs: usize, re: usize) -> Option<bool> {
    let mut found: Option<bool> = None;
    // Notes a candidate; returns true once a strong one is found.
    let mut note = |strong: bool| {
        found = Some(found == Some(true) || strong);
        strong
    };
    // Whether a `::` form of `groups` groups spanning `start..end`, whose
    // `::` is at `colon`, counts as an address, and how strongly.
    let counts = |groups: usize, start: usize, end: usize, colon: usize| -> Option<bool> {
        let span = n.get(start..end).unwrap_or_default();
        let hex = span.iter().filter(|c| c.is_ascii_hexdigit()).count();
        if groups >= 3 {
            return Some(true);
        }
        let digit = span.iter().any(u8::is_ascii_digit);
        if !digit && identifier_path(n, colon) {
            return None;
        }
        Some(hex >= 4)
    };
    // The chain just before the current separator.
    let mut head: Option<Chain> = None;
    // The chain before the current group, if a single colon joins them.
    let mut linked: Option<Chain> = None;
    let mut i = rs;
    while i < re {
        let Some(&c) = n.get(i) else { break };
        if c.is_ascii_hexdigit() {
            let start = i;
            while i < re && n.get(i).is_some_and(u8::is_ascii_hexdigit) {
                i += 1;
            }
            let group = n.get(start..i).unwrap_or_default();
            if let Some(l) = linked
                && l.groups + 1 >= 8
                && note(true)
            {
                return found;
            }
            head = Some(match linked {
                // A longer group can only be the first of an address; the
                // chain before it ends with its first four digits.
                _ if group.len() > 4 => {
                    if let Some(l) = linked
                        && l.then(group.get(..4).unwrap_or_default())
                            .is_partial_address()
                        && note(true)
                    {
                        return found;
                    }
                    let tail = group.get(group.len() - 4..).unwrap_or_default();
                    Chain::first(tail, i - 4)
                }
                Some(l) => l.then(group),
                None => Chain::first(group, start),
            });
            linked = None;
            continue;
        }
        let sep_start = i;
        while i < re && n.get(i).is_some_and(|c| !c.is_ascii_hexdigit()) {
            i += 1;
        }
        let sep = n.get(sep_start..i).unwrap_or_default();
        let before = head.take();
        linked = None;
        let group_follows = i < re;
        if sep == b":" && group_follows {
            linked = before;
            continue;
        }
        if let Some(b) = before
            && b.is_partial_address()
            && note(true)
        {
            return found;
        }
        if sep == b"::" {
            let (h, start) = before.map_or((0, sep_start), |h| (h.groups, h.start));
            let (t, end) = if group_follows {
                tail(n, i, re)
            } else {
                (0, i)
            };
            if h + t > 0
                && let Some(strong) = counts(h + t, start, end, sep_start)
                && note(strong)
            {
                return found;
            }
            continue;
        }
        let leading = sep.iter().take_while(|&&c| c == b':').count();
        let trailing = sep.iter().rev().take_while(|&&c| c == b':').count();
        if let Some(h) = before
            && leading >= 2
            && let Some(strong) = counts(h.groups, h.start, sep_start + 2, sep_start)
            && note(strong)
        {
            return found;
        }
        if group_follows && trailing >= 2 {
            let (t, end) = tail(n, i, re);
            if let Some(strong) = counts(t, i - 2, end, i - 2)
                && note(strong)
            {
                return found;
            }
        }
    }
    if let Some(h) = head
        && h.is_partial_address()
    {
        note(true);
    }
    found
}

/// Counts the groups (up to 3) of an IPv6 candidate that follow a `::` and
/// start at `from`, within the run ending at `re`; returns the count and
/// where the last of them ends.
fn tail(n: &[u8], from: usize, re: usize) -> (usize, usize) {
    let hex = |i: usize| i < re && n.get(i).is_some_and(u8::is_ascii_hexdigit);
    let mut groups = 0;
    let mut i = from;
    loop {
        let start = i;
        while i - start < 5 && hex(i) {
            i += 1;
        }
        if i == start {
            return (groups, i);
        }
        groups += 1;
        if i - start == 5 {
            // A longer group can only be the last of an address.
            return (groups, start + 4);
        }
        let joined = i < re && n.get(i) == Some(&b':') && hex(i + 1);
        if groups >= 3 || !joined {
            return (groups, i);
        }
        i += 1;
    }
}

/// Whether the `::` at `colon` joins two words of ASCII letters only, one of
/// which holds a letter that is not a hex digit (`std::vec`, `a::before`).
fn identifier_path(n: &[u8], colon: usize) -> bool {
    let mut l = colon;
    while l > 0 && n.get(l - 1).copied().is_some_and(is_word) {
        l -= 1;
    }
    let mut r = colon + 2;
    while n.get(r).copied().is_some_and(is_word) {
        r += 1;
    }
    let left = n.get(l..colon).unwrap_or_default();
    let right = n.get(colon + 2..r).unwrap_or_default();
    let letters = |w: &[u8]| !w.is_empty() && w.iter().all(u8::is_ascii_alphabetic);
    let non_hex = |w: &[u8]| w.iter().any(|c| !c.is_ascii_hexdigit());
    letters(left) && letters(right) && (non_hex(left) || non_hex(right))
}

// ---------------------------------------------------------------------------
// Dashed and underscored IPv4.

fn dashed_ipv4(n: &[u8], sink: &mut dyn FnMut(Match) -> bool) -> bool {
    // The current chain of valid groups: its first group's start, its
    // second group's start, how many groups, whether a letter is glued
    // before the first, and where the last ends.
    let mut chain: Option<(usize, usize, usize, bool, usize)> = None;
    // A chain of five or more whose first group is glued to a letter
    // (`ec2-203-0-113-9`) starts at its second group.
    // A chain inside a dashed MAC address (`00-11-22-33-44-55`,
    // `0a-11-22-33-44-55`) is not an address.
    let finish = |c: Option<(usize, usize, usize, bool, usize)>,
                  sink: &mut dyn FnMut(Match) -> bool| match c {
        Some((first, _, _, _, end)) if in_dashed_mac(n, first, end) => true,
        Some((first, second, count, glued, end)) if count >= 4 => sink(Match {
            start: if glued && count >= 5 { second } else { first },
            end,
            strong: true,
        }),
        _ => true,
    };
    let mut i = 0;
    while i < n.len() {
        if !n.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
            continue;
        }
        let start = i;
        while n.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let valid = i - start <= 3 && octet_value(n, start, i).is_some_and(|v| v <= 255);
        let joined = chain.is_some_and(|c| c.4 + 1 == start)
            && matches!(
                start.checked_sub(1).and_then(|p| n.get(p)),
                Some(b'-' | b'_')
            );
        chain = match chain {
            Some(c) if valid && joined => {
                Some((c.0, if c.2 == 1 { start } else { c.1 }, c.2 + 1, c.3, i))
            }
            old => {
                if !finish(old, sink) {
                    return false;
                }
                let glued = start
                    .checked_sub(1)
                    .and_then(|p| n.get(p))
                    .is_some_and(u8::is_ascii_alphabetic);
                valid.then_some((start, start, 1, glued, i))
            }
        };
    }
    finish(chain, sink)
}

/// Whether `n[start..end]` lies inside a MAC address written with dashes:
/// six groups of exactly two hex digits, with no hex digit or dash around.
/// Looks at most 17 bytes each way.
fn in_dashed_mac(n: &[u8], start: usize, end: usize) -> bool {
    let mac_byte = |c: &u8| c.is_ascii_hexdigit() || *c == b'-';
    let mut s = start;
    while s > 0 && start - s < 17 && n.get(s - 1).is_some_and(mac_byte) {
        s -= 1;
    }
    let mut e = end;
    while e - end < 17 && n.get(e).is_some_and(mac_byte) {
        e += 1;
    }
    let Some(run) = n.get(s..e) else {
        return false;
    };
    run.len() == 17
        && run.iter().enumerate().all(|(i, c)| {
            if i % 3 == 2 {
                *c == b'-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

// ---------------------------------------------------------------------------
// Dashed IPv6.

/// The suffix of Microsoft's IPv6 literal host names.
const LITERAL_SUFFIX: &[u8] = b".ipv6-literal.net";

/// A chain of dashed-IPv6 groups.
#[derive(Clone, Copy)]
struct Dashed {
    start: usize,
    end: usize,
    groups: usize,
    /// How many `--` it holds.
    dd: usize,
    digit: bool,
    hex: usize,
    /// Whether a zone ended it.
    closed: bool,
}

fn dashed_ipv6(n: &[u8], sink: &mut dyn FnMut(Match) -> bool) -> bool {
    if !literal_labels(n, sink) {
        return false;
    }
    let hex = |i: usize| n.get(i).is_some_and(u8::is_ascii_hexdigit);
    let alnum = |i: usize| n.get(i).is_some_and(u8::is_ascii_alphanumeric);
    let mut chain: Option<Dashed> = None;
    let mut i = 0;
    while i < n.len() {
        if !hex(i) {
            i += 1;
            continue;
        }
        let gs = i;
        while hex(i) {
            i += 1;
        }
        let Some(end) = candidate_at(n, gs) else {
            if let Some(c) = chain.take()
                && !finish_dashed(n, c, sink)
            {
                return false;
            }
            while alnum(i) {
                i += 1;
            }
            continue;
        };
        let group = n.get(gs..i).unwrap_or_default();
        let digit = group.iter().any(u8::is_ascii_digit);
        let sep = chain
            .filter(|c| !c.closed)
            .and_then(|c| n.get(c.end..gs))
            .filter(|s| *s == b"-" || *s == b"--")
            .map(<[u8]>::len);
        chain = match (chain, sep) {
            (Some(c), Some(len)) if c.dd + usize::from(len == 2) <= 1 => Some(Dashed {
                end,
                groups: c.groups + 1,
                dd: c.dd + usize::from(len == 2),
                digit: c.digit || digit,
                hex: c.hex + group.len(),
                closed: end != i,
                ..c
            }),
            (old, _) => {
                if let Some(c) = old
                    && !finish_dashed(n, c, sink)
                {
                    return false;
                }
                let leading = gs >= 2
                    && n.get(gs - 2..gs) == Some(b"--")
                    && (gs == 2 || !(alnum(gs - 3) || n.get(gs - 3) == Some(&b'-')));
                Some(Dashed {
                    start: if leading { gs - 2 } else { gs },
                    end,
                    groups: 1,
                    dd: usize::from(leading),
                    digit,
                    hex: group.len(),
                    closed: end != i,
                })
            }
        };
        i = end;
    }
    match chain {
        Some(c) => finish_dashed(n, c, sink),
        None => true,
    }
}

/// If a dashed-IPv6 group starts at `start` (one to four hex digits, no
/// letter or digit glued before it, and after it nothing alphanumeric but a
/// zone `s` followed by letters and digits), where the group and its zone
/// end.
fn candidate_at(n: &[u8], start: usize) -> Option<usize> {
    if start > 0 && n.get(start - 1).is_some_and(u8::is_ascii_alphanumeric) {
        return None;
    }
    let mut i = start;
    while n.get(i).is_some_and(u8::is_ascii_hexdigit) {
        i += 1;
    }
    if !(1..=4).contains(&(i - start)) {
        return None;
    }
    match n.get(i) {
        Some(b's') if n.get(i + 1).is_some_and(u8::is_ascii_alphanumeric) => {
            let mut j = i + 1;
            while n.get(j).is_some_and(u8::is_ascii_alphanumeric) {
                j += 1;
            }
            Some(j)
        }
        Some(c) if c.is_ascii_alphanumeric() => None,
        _ => Some(i),
    }
}

/// Reports a finished dashed chain if it is an address; a trailing `--`
/// belongs to it.
fn finish_dashed(n: &[u8], mut c: Dashed, sink: &mut dyn FnMut(Match) -> bool) -> bool {
    let after = |k: usize| n.get(c.end + k).copied();
    if !c.closed
        && c.dd == 0
        && after(0) == Some(b'-')
        && after(1) == Some(b'-')
        && !after(2).is_some_and(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        c.end += 2;
        c.dd = 1;
    }
    let address =
        c.digit && ((c.dd == 0 && c.groups == 8) || (c.dd == 1 && (2..=7).contains(&c.groups)));
    if !address {
        return true;
    }
    sink(Match {
        start: c.start,
        end: c.end,
        strong: c.groups >= 3 || c.hex >= 4,
    })
}

/// Every label just before `.ipv6-literal.net` (any case).
fn literal_labels(n: &[u8], sink: &mut dyn FnMut(Match) -> bool) -> bool {
    let k = LITERAL_SUFFIX.len();
    let mut i = 0;
    while i + k <= n.len() {
        if n.get(i) != Some(&b'.') {
            i += 1;
            continue;
        }
        let Some(window) = n.get(i..i + k) else { break };
        if window.eq_ignore_ascii_case(LITERAL_SUFFIX) {
            let mut s = i;
            while s > 0
                && n.get(s - 1)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'-')
            {
                s -= 1;
            }
            if s < i
                && !sink(Match {
                    start: s,
                    end: i,
                    strong: true,
                })
            {
                return false;
            }
            i += k;
            continue;
        }
        i += 1;
    }
    true
}
