//! Model-based fuzzing of the engine: a sequence of operations (ingest,
//! flush, erase, opt-out, clock moves, compaction, close and reopen) is
//! replayed against the engine and against a plain in-memory model of what
//! must be visible. Whenever nothing is waiting in the writers' queues, the
//! engine's visible events of every domain must equal the model's; after a
//! reopen and at the end, no file may hold IP text, the marker of a hit that
//! was never to be stored, or the marker of an erased event whose purge ran
//! (not even the aggregate file: see
//! tests/regress_erased_visitor_in_expired_rollup.rs).
//!
//! Every hit's path starts with a marker `~<seq>~` (ten digits) that no
//! generated text can forge (`~` is removed from generated text), so events
//! read back are matched to the model by their marker, and files are
//! searched for markers in one pass.
#![no_main]

#[path = "common/scratch.rs"]
mod scratch;

use aho_corasick::AhoCorasick;
use arbitrary::{Arbitrary, Result as ArbResult, Unstructured};
use libfuzzer_sys::fuzz_target;
use pledgedb_core::{
    Config, Consent, DayRange, Db, DomainError, DropReason, EraseError, Erasure, FormField,
    HitError, HitField, HitKind, HitProp, IngestError, Ingested, KeyKind, ManualClock, Query,
    TimeRange, Timestamp, VisitorId, VisitorRef, audit_dir, time::MS_PER_DAY,
};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const DOMAINS: [&str; 3] = ["a.example", "b.example", "c.example"];
const CLIENTS: u8 = 6;
const TOKENS: u8 = 4;
const MAX_OPS: usize = 64;
const MAX_BATCH: usize = 4;
const MAX_PIECES: usize = 4;
const MAX_PIECE_BYTES: usize = 40;
/// Characters of the "small alphabet" strings: address characters, URL
/// punctuation and a few letters, so that near-addresses are common.
const ALPHABET: &[u8] = b"0123456789abcdefABCDEFxyz.:/%-_[]?=&# ";
const RAW_DAYS: i64 = 90;
const TOMBSTONE_MS: i64 = 24 * 3_600_000;
const FUTURE_MS: i64 = 24 * 3_600_000;

// ---------------------------------------------------------------- inputs --

#[derive(Debug, Clone, Copy)]
struct DomainIdx(usize);
impl<'a> Arbitrary<'a> for DomainIdx {
    fn arbitrary(u: &mut Unstructured<'a>) -> ArbResult<Self> {
        Ok(DomainIdx(u.int_in_range(0..=DOMAINS.len() - 1)?))
    }
}

#[derive(Debug, Clone, Copy)]
struct ClientIdx(u8);
impl<'a> Arbitrary<'a> for ClientIdx {
    fn arbitrary(u: &mut Unstructured<'a>) -> ArbResult<Self> {
        Ok(ClientIdx(u.int_in_range(0..=CLIENTS - 1)?))
    }
}

/// A client id, or none (a quarter of the time). Exhausted input gives
/// client 0, so that short inputs still name the same visitor often.
#[derive(Debug, Clone, Copy)]
struct MaybeClient(Option<u8>);
impl<'a> Arbitrary<'a> for MaybeClient {
    fn arbitrary(u: &mut Unstructured<'a>) -> ArbResult<Self> {
        let b = u8::arbitrary(u)?;
        Ok(MaybeClient((b % 4 != 3).then_some((b / 4) % CLIENTS)))
    }
}

/// A flag that is set one time in eight (DNT, GPC), so that most hits pass
/// the gate.
#[derive(Debug, Clone, Copy)]
struct Rare(bool);
impl<'a> Arbitrary<'a> for Rare {
    fn arbitrary(u: &mut Unstructured<'a>) -> ArbResult<Self> {
        Ok(Rare(u8::arbitrary(u)? % 8 == 7))
    }
}

#[derive(Debug, Clone, Copy)]
struct TokenIdx(u8);
impl<'a> Arbitrary<'a> for TokenIdx {
    fn arbitrary(u: &mut Unstructured<'a>) -> ArbResult<Self> {
        Ok(TokenIdx(u.int_in_range(0..=TOKENS - 1)?))
    }
}

/// A string of the small alphabet.
#[derive(Debug, Clone)]
struct AlphaStr(String);
impl<'a> Arbitrary<'a> for AlphaStr {
    fn arbitrary(u: &mut Unstructured<'a>) -> ArbResult<Self> {
        let n = u.int_in_range(0..=MAX_PIECE_BYTES)?;
        let mut s = String::with_capacity(n);
        for _ in 0..n {
            s.push(char::from(*u.choose(ALPHABET)?));
        }
        Ok(AlphaStr(s))
    }
}

#[derive(Debug, Clone, Copy, Arbitrary)]
enum IpSpec {
    V4([u8; 4]),
    V6([u8; 16]),
    /// An IPv4-mapped IPv6 address.
    Mapped([u8; 4]),
}

impl IpSpec {
    fn addr(self) -> IpAddr {
        match self {
            IpSpec::V4(b) => IpAddr::V4(Ipv4Addr::from(b)),
            IpSpec::V6(b) => IpAddr::V6(Ipv6Addr::from(b)),
            IpSpec::Mapped(b) => IpAddr::V6(Ipv4Addr::from(b).to_ipv6_mapped()),
        }
    }
}

#[derive(Debug, Clone, Copy, Arbitrary)]
enum IpForm {
    Plain,
    Bracketed,
    Expanded,
    Upper,
    PercentEncoded,
    WithPort(u16),
}

#[derive(Debug, Clone, Copy, Arbitrary)]
enum Sep {
    Space,
    Slash,
    Equals,
    Amp,
    Comma,
    Paren,
    Quote,
}

impl Sep {
    fn around(self) -> (&'static str, &'static str) {
        match self {
            Sep::Space => (" ", " "),
            Sep::Slash => ("/", "/"),
            Sep::Equals => ("=", "&"),
            Sep::Amp => ("&", "&"),
            Sep::Comma => (",", ","),
            Sep::Paren => ("(", ")"),
            Sep::Quote => ("\"", "\""),
        }
    }
}

#[derive(Debug, Clone, Arbitrary)]
enum Piece {
    Alpha(AlphaStr),
    Free(String),
    Ip(IpSpec, IpForm, Sep),
}

/// Generated text: a few pieces, with IP addresses embedded between
/// separators.
#[derive(Debug, Clone)]
struct Txt(Vec<Piece>);
impl<'a> Arbitrary<'a> for Txt {
    fn arbitrary(u: &mut Unstructured<'a>) -> ArbResult<Self> {
        let n = u.int_in_range(0..=MAX_PIECES)?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(Piece::arbitrary(u)?);
        }
        Ok(Txt(v))
    }
}

#[derive(Debug, Clone, Arbitrary)]
enum TsSpec {
    Now,
    PastMinutes(u16),
    PastDays(u8, u16),
    FutureMinutes(u16),
}

#[derive(Debug, Clone, Arbitrary)]
enum PropSpec {
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(Txt),
}

#[derive(Debug, Clone, Arbitrary)]
enum KindSpec {
    PageView(Option<Txt>),
    Click(i32, i32, Txt),
    Scroll(u8),
    FormView(Txt),
    Keystroke(Txt, Txt, u8),
    FormSubmit(Txt, Vec<(Txt, Txt)>),
    Custom(Txt, Vec<(Txt, PropSpec)>),
}

#[derive(Debug, Clone, Arbitrary)]
struct HitSpec {
    domain: DomainIdx,
    client: MaybeClient,
    ip: Option<IpSpec>,
    user_agent: Option<Txt>,
    session: Option<u8>,
    token: Option<TokenIdx>,
    dnt: Rare,
    gpc: Rare,
    consent: u8,
    ts: TsSpec,
    full_url: bool,
    path: Txt,
    query: Txt,
    kind: KindSpec,
}

/// Whom to erase: one of the visitors ingested so far (counted back from
/// the latest), so that erasures usually find someone, or any name.
#[derive(Debug, Clone, Copy, Arbitrary)]
enum EraseTarget {
    Recent(u8),
    Named(DomainIdx, ClientIdx),
}

#[derive(Debug, Clone, Arbitrary)]
enum Op {
    Ingest(HitSpec),
    IngestBatch(Vec<HitSpec>),
    Flush,
    EraseVisitor(EraseTarget),
    OptOut(TokenIdx),
    AdvanceClockHours(u8),
    AdvanceClockDays(u8),
    CompactNow,
    Reopen,
}

#[derive(Debug)]
struct Input(Vec<Op>);
impl<'a> Arbitrary<'a> for Input {
    fn arbitrary(u: &mut Unstructured<'a>) -> ArbResult<Self> {
        let mut ops = Vec::new();
        while ops.len() < MAX_OPS && !u.is_empty() {
            ops.push(Op::arbitrary(u)?);
        }
        Ok(Input(ops))
    }
}

// ------------------------------------------------------------ rendering --

/// Truncates to at most `max` bytes at a char boundary and removes the
/// marker delimiter `~`.
fn clean(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].replace('~', "")
}

fn ip_text(ip: IpAddr, form: IpForm) -> String {
    match (form, ip) {
        (IpForm::Plain, _) => ip.to_string(),
        (IpForm::Bracketed, IpAddr::V6(_)) => format!("[{ip}]"),
        (IpForm::Bracketed, IpAddr::V4(_)) => format!("[{ip}]"),
        (IpForm::Expanded, IpAddr::V6(v6)) => expanded(v6),
        (IpForm::Expanded, IpAddr::V4(v4)) => {
            let o = v4.octets();
            format!("{:03}.{:03}.{:03}.{:03}", o[0], o[1], o[2], o[3])
        }
        (IpForm::Upper, _) => ip.to_string().to_uppercase(),
        (IpForm::PercentEncoded, _) => ip.to_string().replace(':', "%3A").replace('.', "%2E"),
        (IpForm::WithPort(p), IpAddr::V6(_)) => format!("[{ip}]:{p}"),
        (IpForm::WithPort(p), IpAddr::V4(_)) => format!("{ip}:{p}"),
    }
}

fn expanded(v6: Ipv6Addr) -> String {
    v6.segments()
        .iter()
        .map(|s| format!("{s:04x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Renders text, recording every IP it embeds.
fn render(t: &Txt, ips: &mut Vec<IpAddr>) -> String {
    let mut out = String::new();
    for p in &t.0 {
        match p {
            Piece::Alpha(a) => out.push_str(&clean(&a.0, MAX_PIECE_BYTES)),
            Piece::Free(s) => out.push_str(&clean(s, MAX_PIECE_BYTES)),
            Piece::Ip(spec, form, sep) => {
                let ip = spec.addr();
                ips.push(ip);
                let (l, r) = sep.around();
                out.push_str(l);
                out.push_str(&ip_text(ip, *form));
                out.push_str(r);
            }
        }
    }
    out
}

fn marker(seq: u64) -> String {
    format!("~{seq:010}~")
}

fn client_id(c: u8) -> String {
    format!("client-{c}")
}

fn token(t: u8) -> String {
    format!("token-{t}")
}

// ---------------------------------------------------------------- model --

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Who {
    Client(u8),
    Cookieless,
    Anonymous,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Accepted, not yet flushed.
    Pending,
    /// Flushed.
    Durable,
    /// Never stored (refused, dropped, or erased before it reached a file).
    NeverStored,
}

#[derive(Debug, Clone)]
struct Ev {
    seq: u64,
    domain: usize,
    who: Who,
    ts: i64,
    day: i64,
    page_view: bool,
    state: State,
    /// Covered by a tombstone at some point: hidden, and purged by the next
    /// compaction pass.
    erased: bool,
    /// Physically removed by a purge rewrite.
    purged: bool,
}

#[derive(Debug, Clone, Copy)]
struct Tomb {
    purged_at: Option<i64>,
}

struct Model {
    now: i64,
    events: Vec<Ev>,
    domain_exists: [bool; 3],
    opted_out: HashSet<u8>,
    tombs: HashMap<(usize, u8), Tomb>,
    /// Segments of days before this were unlinked by expiry.
    unlinked_before: [i64; 3],
    next_seq: u64,
}

fn day_of(ts: i64) -> i64 {
    ts.div_euclid(MS_PER_DAY)
}

impl Model {
    fn cutoff(&self) -> i64 {
        self.now - RAW_DAYS * MS_PER_DAY
    }

    fn pending(&self) -> bool {
        self.events.iter().any(|e| e.state == State::Pending)
    }

    fn flush(&mut self) {
        for e in &mut self.events {
            if e.state == State::Pending {
                e.state = State::Durable;
            }
        }
    }

    fn present(&self, e: &Ev) -> bool {
        e.state == State::Durable && !e.purged && e.day >= self.unlinked_before[e.domain]
    }

    fn visible(&self, e: &Ev) -> bool {
        self.present(e) && !e.erased && e.ts >= self.cutoff()
    }

    /// The expected outcome of ingesting a hit, and its event if stored.
    fn ingest(&mut self, h: &HitSpec, ts: i64) -> Result<Ingested, HitField> {
        let seq = self.next_seq;
        self.next_seq += 1;
        let d = h.domain.0;
        let mut ev = Ev {
            seq,
            domain: d,
            who: Who::Anonymous,
            ts,
            day: day_of(ts),
            page_view: matches!(h.kind, KindSpec::PageView(_)),
            state: State::NeverStored,
            erased: false,
            purged: false,
        };
        if ts > self.now + FUTURE_MS {
            self.events.push(ev);
            return Err(HitField::Timestamp);
        }
        let dropped = if h.token.is_some_and(|t| self.opted_out.contains(&t.0)) {
            Some(DropReason::OptedOut)
        } else if h.dnt.0 {
            Some(DropReason::DoNotTrack)
        } else if h.gpc.0 {
            Some(DropReason::GlobalPrivacyControl)
        } else {
            None
        };
        if let Some(r) = dropped {
            self.events.push(ev);
            return Ok(Ingested::Dropped(r));
        }
        // A keystroke in a sensitive field (or form) is dropped after the
        // gate, before anything is written.
        if let KindSpec::Keystroke(f, g, _) = &h.kind {
            let mut ips = Vec::new();
            let s = pledgedb_core::DomainSettings::default();
            if s.is_sensitive_name(&render(f, &mut ips))
                || s.is_sensitive_name(&render(g, &mut ips))
            {
                self.events.push(ev);
                return Ok(Ingested::Dropped(DropReason::SensitiveKeystroke));
            }
        }
        let identified = consent_of(h.consent) != Consent::Denied;
        if ts < self.cutoff() {
            self.events.push(ev);
            return Ok(Ingested::Dropped(DropReason::Expired));
        }
        // Only a hit that passes the gate (and is not expired) creates its
        // domain: a dropped hit writes nothing.
        self.domain_exists[d] = true;
        ev.who = match (identified, h.client.0, h.ip) {
            (false, _, _) => Who::Anonymous,
            (true, Some(c), _) => Who::Client(c),
            (true, None, Some(_)) => Who::Cookieless,
            (true, None, None) => Who::Anonymous,
        };
        ev.state = State::Pending;
        if let Who::Client(c) = ev.who
            && self.tombs.contains_key(&(d, c))
        {
            // The writer drops events of a tombstoned visitor.
            ev.state = State::NeverStored;
            ev.erased = true;
        }
        let anon = ev.who == Who::Anonymous;
        self.events.push(ev);
        Ok(if anon {
            Ingested::QueuedAnonymous
        } else {
            Ingested::Queued
        })
    }

    /// Whether `erase_visitor` finds the visitor (some segment still indexes
    /// it), after the flush it starts with.
    fn erase(&mut self, d: usize, c: u8) -> bool {
        self.flush();
        let found = self
            .events
            .iter()
            .any(|e| e.domain == d && e.who == Who::Client(c) && self.present(e));
        if found {
            self.tombs.insert((d, c), Tomb { purged_at: None });
            let unlinked_before = self.unlinked_before[d];
            for e in &mut self.events {
                // Events of segments already expired live on only in the
                // anonymous roll-up made before the request.
                if e.domain == d
                    && e.who == Who::Client(c)
                    && e.state == State::Durable
                    && e.day >= unlinked_before
                {
                    e.erased = true;
                }
            }
        }
        found
    }

    /// A pass: per domain, the erasure purge, then expiry (so an erased
    /// event never reaches the roll-up of an expiring day), then tombstone
    /// expiry.
    fn compact(&mut self) {
        self.flush();
        let now = self.now;
        for ((d, c), t) in self.tombs.iter_mut() {
            if t.purged_at.is_none() {
                for e in &mut self.events {
                    if e.domain == *d && e.who == Who::Client(*c) && e.erased {
                        e.purged = true;
                    }
                }
                t.purged_at = Some(now);
            }
        }
        let before = day_of(self.cutoff());
        for d in 0..DOMAINS.len() {
            if self.domain_exists[d] {
                self.unlinked_before[d] = self.unlinked_before[d].max(before);
            }
        }
        self.tombs
            .retain(|_, t| t.purged_at.is_none_or(|p| p + TOMBSTONE_MS > now));
    }

    /// Expected visible events of a domain: seq -> (who, ts).
    fn expected(&self, d: usize) -> BTreeMap<u64, (Who, i64)> {
        self.events
            .iter()
            .filter(|e| e.domain == d && self.visible(e))
            .map(|e| (e.seq, (e.who, e.ts)))
            .collect()
    }
}

fn consent_of(b: u8) -> Consent {
    match b % 8 {
        0..=4 => Consent::Unknown,
        5 | 6 => Consent::Granted,
        _ => Consent::Denied,
    }
}

// --------------------------------------------------------------- engine --

struct Harness {
    dir: tempfile::TempDir,
    data: PathBuf,
    clock: ManualClock,
    db: Option<Db>,
    model: Model,
    /// Every IP address used, in hits or embedded in text.
    ips: BTreeSet<IpAddr>,
    /// (domain, client) of every hit with a client id, in order.
    clients: Vec<(usize, u8)>,
}

fn config(clock: &ManualClock) -> Config {
    let mut c = Config::default().with_clock(Arc::new(clock.clone()));
    c.background_compaction = false;
    c.writer.threads = 1;
    c
}

impl Harness {
    fn new() -> Harness {
        let dir = scratch::scratch_dir();
        let data = dir.path().join("data");
        let start = Timestamp::from_ymd_hms(2026, 11, 2, 12, 0, 0);
        let clock = ManualClock::new(start);
        let db = Db::open(&data, config(&clock)).expect("open");
        Harness {
            dir,
            data,
            clock,
            db: Some(db),
            model: Model {
                now: start.0,
                events: Vec::new(),
                domain_exists: [false; 3],
                opted_out: HashSet::new(),
                tombs: HashMap::new(),
                unlinked_before: [i64::MIN; 3],
                next_seq: 1,
            },
            ips: BTreeSet::new(),
            clients: Vec::new(),
        }
    }

    fn db(&self) -> &Db {
        self.db.as_ref().expect("db open")
    }

    fn build_hit(&mut self, h: &HitSpec, seq: u64) -> (pledgedb_core::Hit, i64) {
        let now = self.model.now;
        let ts = match h.ts {
            TsSpec::Now => now,
            TsSpec::PastMinutes(m) => now - i64::from(m) * 60_000,
            TsSpec::PastDays(d, m) => {
                now - i64::from(d % 100) * MS_PER_DAY - i64::from(m % 1440) * 60_000
            }
            TsSpec::FutureMinutes(m) => now + i64::from(m % 1600) * 60_000,
        };
        let mut ips = Vec::new();
        let path_text = render(&h.path, &mut ips).replace(['?', '#'], "");
        let query = render(&h.query, &mut ips);
        let host = if h.full_url {
            format!("https://{}", DOMAINS[h.domain.0])
        } else {
            String::new()
        };
        let url = format!("{host}/{}/{path_text}?utm_source={query}", marker(seq));
        let kind = match &h.kind {
            KindSpec::PageView(r) => HitKind::PageView {
                referrer: r.as_ref().map(|t| render(t, &mut ips)),
            },
            KindSpec::Click(x, y, t) => HitKind::Click {
                x: *x,
                y: *y,
                target: render(t, &mut ips),
            },
            KindSpec::Scroll(d) => HitKind::Scroll { depth: d % 101 },
            KindSpec::FormView(f) => HitKind::FormView {
                form: render(f, &mut ips),
            },
            KindSpec::Keystroke(f, g, k) => HitKind::Keystroke {
                form: render(f, &mut ips),
                field: render(g, &mut ips),
                key: match k % 3 {
                    0 => KeyKind::Character,
                    1 => KeyKind::Delete,
                    _ => KeyKind::Other,
                },
            },
            KindSpec::FormSubmit(f, fields) => HitKind::FormSubmit {
                form: render(f, &mut ips),
                fields: fields
                    .iter()
                    .take(4)
                    .map(|(n, v)| FormField::new(render(n, &mut ips), render(v, &mut ips)))
                    .collect(),
            },
            KindSpec::Custom(n, props) => HitKind::Custom {
                name: render(n, &mut ips),
                props: props
                    .iter()
                    .take(4)
                    .map(|(k, v)| {
                        let v = match v {
                            PropSpec::Bool(b) => HitProp::Bool(*b),
                            PropSpec::Int(i) => HitProp::Int(*i),
                            PropSpec::Float(f) if f.is_finite() => HitProp::Float(*f),
                            PropSpec::Float(_) => HitProp::Float(0.5),
                            PropSpec::Text(t) => HitProp::Text(render(t, &mut ips)),
                        };
                        (render(k, &mut ips), v)
                    })
                    .collect(),
            },
        };
        let mut hit = pledgedb_core::Hit::new(DOMAINS[h.domain.0], url, kind)
            .at(Timestamp(ts))
            .dnt(h.dnt.0)
            .gpc(h.gpc.0)
            .consent(consent_of(h.consent));
        if let Some(c) = h.client.0 {
            self.clients.push((h.domain.0, c));
            hit = hit.client_id(client_id(c));
        }
        if let Some(ip) = h.ip {
            let ip = ip.addr();
            ips.push(ip);
            hit = hit.ip(ip);
        }
        if let Some(ua) = &h.user_agent {
            hit = hit.user_agent(render(ua, &mut ips));
        }
        if let Some(s) = h.session {
            hit = hit.session_id(format!("s{s}"));
        }
        if let Some(t) = h.token {
            hit = hit.opt_out_token(token(t.0));
        }
        self.ips.extend(ips);
        (hit, ts)
    }

    fn check_outcome(
        got: &Result<Ingested, IngestError>,
        want: &Result<Ingested, HitField>,
        seq: u64,
    ) {
        match (got, want) {
            (Ok(g), Ok(w)) => assert_eq!(g, w, "hit {seq}: outcome"),
            (Err(IngestError::Hit(HitError { field, .. })), Err(w)) => {
                assert_eq!(field, w, "hit {seq}: refused field");
            }
            _ => panic!("hit {seq}: engine {got:?}, model {want:?}"),
        }
    }

    fn apply(&mut self, op: &Op) {
        match op {
            Op::Ingest(h) => {
                let seq = self.model.next_seq;
                let (hit, ts) = self.build_hit(h, seq);
                let want = self.model.ingest(h, ts);
                let got = self.db().ingest(hit);
                Self::check_outcome(&got, &want, seq);
            }
            Op::IngestBatch(hs) => {
                let mut hits = Vec::new();
                let mut wants = Vec::new();
                for h in hs.iter().take(MAX_BATCH) {
                    let seq = self.model.next_seq;
                    let (hit, ts) = self.build_hit(h, seq);
                    wants.push((seq, self.model.ingest(h, ts)));
                    hits.push(hit);
                }
                let got = self.db().ingest_batch(hits);
                assert_eq!(got.len(), wants.len());
                for (g, (seq, w)) in got.iter().zip(&wants) {
                    Self::check_outcome(g, w, *seq);
                }
            }
            Op::Flush => {
                self.db().flush().expect("flush");
                self.model.flush();
            }
            Op::EraseVisitor(target) => {
                let (d, c) = match *target {
                    EraseTarget::Recent(back) if !self.clients.is_empty() => {
                        let n = self.clients.len();
                        self.clients[n - 1 - usize::from(back) % n]
                    }
                    EraseTarget::Recent(_) => (0, 0),
                    EraseTarget::Named(d, c) => (d.0, c.0),
                };
                if !self.model.domain_exists[d] {
                    assert!(matches!(
                        self.db().domain(DOMAINS[d]),
                        Err(DomainError::NotFound(_))
                    ));
                    return;
                }
                let dom = self.db().domain(DOMAINS[d]).expect("domain");
                let r = dom.erase_visitor(&VisitorRef::ClientId(client_id(c)));
                let found = self.model.erase(d, c);
                match r {
                    Ok(Erasure::Pending(_)) => assert!(found, "erased a visitor the model lacks"),
                    Ok(Erasure::NotFound) => assert!(!found, "visitor not found by the engine"),
                    Err(EraseError::InvalidId(_)) => panic!("client id is valid"),
                    Err(e) => panic!("erase_visitor: {e}"),
                }
            }
            Op::OptOut(t) => {
                self.db().opt_out(&token(t.0)).expect("opt_out");
                assert!(self.db().is_opted_out(&token(t.0)));
                self.model.opted_out.insert(t.0);
            }
            Op::AdvanceClockHours(h) => {
                let ms = i64::from(*h) * 3_600_000;
                self.clock.advance_millis(ms);
                self.model.now += ms;
            }
            Op::AdvanceClockDays(d) => {
                let ms = i64::from(d % 100) * MS_PER_DAY;
                self.clock.advance_millis(ms);
                self.model.now += ms;
            }
            Op::CompactNow => {
                self.db().compact_now().expect("compact_now");
                self.model.compact();
                for d in 0..DOMAINS.len() {
                    if self.model.domain_exists[d] {
                        let dom = self.db().domain(DOMAINS[d]).expect("domain");
                        assert_eq!(dom.pending_purges(), 0, "purges left after compact_now");
                    }
                }
            }
            Op::Reopen => {
                self.close();
                self.scan_files();
                self.db = Some(Db::open(&self.data, config(&self.clock)).expect("reopen"));
                for (d, exists) in self.model.domain_exists.iter().enumerate() {
                    assert_eq!(
                        self.db().domain(DOMAINS[d]).is_ok(),
                        *exists,
                        "domain catalog after reopen"
                    );
                }
                for t in 0..TOKENS {
                    assert_eq!(
                        self.db().is_opted_out(&token(t)),
                        self.model.opted_out.contains(&t),
                        "opt-out registry after reopen"
                    );
                }
            }
        }
    }

    fn close(&mut self) {
        if let Some(db) = self.db.take() {
            db.close().expect("close");
        }
        self.model.flush();
    }

    /// Compares the engine's visible events with the model's.
    fn compare(&self, deep: bool) {
        let db = self.db();
        let cutoff = self.model.cutoff();
        for (d, name) in DOMAINS.iter().enumerate() {
            let dom = match db.domain(name) {
                Ok(dom) => dom,
                Err(DomainError::NotFound(_)) => {
                    assert!(!self.model.domain_exists[d], "domain {name} missing");
                    continue;
                }
                Err(e) => panic!("domain {name}: {e}"),
            };
            assert!(self.model.domain_exists[d], "domain {name} exists unasked");
            let ids: HashMap<VisitorId, u8> = (0..CLIENTS)
                .map(|c| (dom.visitor_id(&VisitorRef::ClientId(client_id(c))), c))
                .collect();
            let events = dom.events(TimeRange::all()).expect("events");
            let mut got = BTreeMap::new();
            for e in &events {
                let path = e.path.as_str();
                let seq = path
                    .strip_prefix("/~")
                    .and_then(|p| p.get(..10))
                    .and_then(|p| p.parse::<u64>().ok())
                    .unwrap_or_else(|| panic!("path without marker in {name}: {path:?}"));
                let who = if e.visitor == VisitorId::ANONYMOUS {
                    assert_eq!(e.session.0, 0, "anonymous event with a session");
                    Who::Anonymous
                } else {
                    assert_ne!(e.session.0, 0, "identified event without a session");
                    ids.get(&e.visitor)
                        .map_or(Who::Cookieless, |c| Who::Client(*c))
                };
                assert!(e.ts.0 >= cutoff, "expired event {seq} visible");
                assert!(
                    got.insert(seq, (who, e.ts.0)).is_none(),
                    "event {seq} stored twice in {name}"
                );
            }
            let want = self.model.expected(d);
            if got != want {
                let extra: Vec<_> = got.iter().filter(|(k, _)| !want.contains_key(k)).collect();
                let missing: Vec<_> = want.iter().filter(|(k, _)| !got.contains_key(k)).collect();
                let differ: Vec<_> = got
                    .iter()
                    .filter(|(k, v)| want.get(k).is_some_and(|w| w != *v))
                    .collect();
                panic!(
                    "{name}: engine and model differ\n extra {extra:?}\n missing {missing:?}\n \
                     differ {differ:?}"
                );
            }
            assert_eq!(
                dom.count(TimeRange::all()).expect("count"),
                want.len() as u64
            );
            // Dashboard metrics over the days wholly inside retention agree
            // with the raw events, whether they come from roll-ups or scans.
            let first = day_of(cutoff) + 1;
            let last = day_of(self.model.now) + 1;
            let q = Query::days(DayRange::new(
                pledgedb_core::Day(first as i32),
                pledgedb_core::Day(last as i32),
            ));
            let m = dom.metrics(&q).expect("metrics");
            let in_days = |e: &&Ev| e.day >= first && e.day <= last;
            let exp: Vec<&Ev> = self
                .model
                .events
                .iter()
                .filter(|e| e.domain == d && self.model.visible(e))
                .filter(in_days)
                .collect();
            assert_eq!(m.events, exp.len() as u64, "{name}: metrics events");
            assert_eq!(
                m.pageviews,
                exp.iter().filter(|e| e.page_view).count() as u64,
                "{name}: metrics page views"
            );
            if deep {
                for c in 0..CLIENTS {
                    let ex = dom
                        .export_visitor(&VisitorRef::ClientId(client_id(c)))
                        .expect("export");
                    let mut got: Vec<u64> = ex
                        .events
                        .iter()
                        .filter_map(|e| e.path.as_str().get(2..12)?.parse().ok())
                        .collect();
                    got.sort_unstable();
                    let want: Vec<u64> = want
                        .iter()
                        .filter(|(_, (w, _))| *w == Who::Client(c))
                        .map(|(s, _)| *s)
                        .collect();
                    assert_eq!(got, want, "{name}: export of client {c}");
                }
            }
        }
    }

    /// Scans every file (the database must be closed): no IP text, and no
    /// marker of a hit that was never stored or of an erased event whose
    /// purge ran while its segment still exists.
    fn scan_files(&self) {
        let report = audit_dir(&self.data).expect("audit");
        let files = all_files(&self.data);
        for f in &report.findings {
            let bytes = &files.iter().find(|(p, _)| *p == f.path).expect("file").1;
            let run: String = bytes[f.offset as usize..]
                .iter()
                .take_while(|b| (0x20..0x7f).contains(*b))
                .map(|b| char::from(*b))
                .collect();
            panic!("audit found IP text in {}: {run:?}", f.path.display());
        }
        let forms: Vec<String> = self.ips.iter().flat_map(|ip| forms_of(*ip)).collect();
        if !forms.is_empty() {
            let ac = AhoCorasick::new(&forms).expect("patterns");
            for (path, bytes) in &files {
                if let Some(m) = ac.find(bytes) {
                    panic!(
                        "{} holds the IP text {:?}",
                        path.display(),
                        forms[m.pattern().as_usize()]
                    );
                }
            }
        }
        let mut stored: HashMap<u64, Vec<&Path>> = HashMap::new();
        for (path, bytes) in &files {
            for seq in markers_in(bytes) {
                stored.entry(seq).or_default().push(path);
            }
        }
        for e in &self.model.events {
            // A purged event is in no file at all: its segment was
            // rewritten without it, and a roll-up made afterwards (sealing,
            // or the aggregate of an expiring day) leaves it out.
            let forbidden = e.state == State::NeverStored || e.purged;
            if forbidden && let Some(paths) = stored.get(&e.seq) {
                panic!("marker of event {e:?} is in {paths:?}");
            }
        }
    }
}

/// Textual forms of an address that the scrubber must never let through:
/// the dotted quad, and IPv6 forms with at least three groups (shorter ones
/// glued to letters are exempt by design). Forms shorter than seven bytes
/// could occur in binary data by chance and are left to `audit_dir`.
fn forms_of(ip: IpAddr) -> Vec<String> {
    let mut v = Vec::new();
    match ip {
        IpAddr::V4(v4) => v.push(v4.to_string()),
        IpAddr::V6(v6) => {
            let s = v6.to_string();
            let groups = s.split(':').filter(|g| !g.is_empty()).count();
            if groups >= 3 || s.contains('.') {
                v.push(s.clone());
                v.push(s.to_uppercase());
                v.push(s.replace(':', "%3A"));
            }
            v.push(expanded(v6));
            if let Some(v4) = v6.to_ipv4_mapped() {
                v.push(v4.to_string());
            }
        }
    }
    v.retain(|f| f.len() >= 7);
    v.sort();
    v.dedup();
    v
}

fn all_files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let bytes = std::fs::read(&p).expect("read");
                out.push((p, bytes));
            }
        }
    }
    out
}

/// Every `~dddddddddd~` marker in `bytes`.
fn markers_in(bytes: &[u8]) -> Vec<u64> {
    memchr::memchr_iter(b'~', bytes)
        .filter_map(|i| {
            let m = bytes.get(i..i + 12)?;
            let digits = &m[1..11];
            (m[11] == b'~' && digits.iter().all(u8::is_ascii_digit))
                .then(|| std::str::from_utf8(digits).ok()?.parse().ok())?
        })
        .collect()
}

fuzz_target!(|input: Input| {
    let mut h = Harness::new();
    let mut compared = 0;
    let trace_ops = std::env::var_os("PLEDGEDB_FUZZ_TRACE").is_some_and(|v| v == "ops");
    for op in &input.0 {
        if trace_ops {
            eprintln!("op {op:?}");
        }
        h.apply(op);
        if !h.model.pending() {
            h.compare(matches!(op, Op::Reopen));
            compared += 1;
        }
    }
    h.close();
    h.scan_files();
    if std::env::var_os("PLEDGEDB_FUZZ_TRACE").is_some() {
        // What an input exercised, to judge a corpus: `-runs=0` over it.
        let m = &h.model;
        let count = |f: &dyn Fn(&Ev) -> bool| m.events.iter().filter(|e| f(e)).count();
        eprintln!(
            "ops {} compared {compared} events {} stored {} never-stored {} erased {} purged {} \
             unlinked {} reopens {} compactions {} tombstones {}",
            input.0.len(),
            m.events.len(),
            count(&|e| e.state == State::Durable),
            count(&|e| e.state == State::NeverStored),
            count(&|e| e.erased),
            count(&|e| e.purged),
            count(&|e| e.day < m.unlinked_before[e.domain]),
            input.0.iter().filter(|o| matches!(o, Op::Reopen)).count(),
            input
                .0
                .iter()
                .filter(|o| matches!(o, Op::CompactNow))
                .count(),
            m.tombs.len(),
        );
    }
    drop(h.dir);
});
