use super::*;
use crate::event::{
    Country, Device, Event, EventKind, EventType, KeyKind, PropValue, SessionId, SubmittedField,
    VisitorId,
};
use crate::time::Timestamp;
use proptest::prelude::*;
use std::collections::HashMap;

const DAY0: i64 = 1_780_000_000_000;

fn t(s: &str) -> Text {
    Text::new(s)
}

fn base(ts: i64, visitor: u64, session: u64, kind: EventKind) -> Event {
    Event {
        ts: Timestamp(ts),
        visitor: VisitorId(visitor),
        session: SessionId(session),
        country: Country::from_code("DE"),
        device: Device::Desktop,
        browser: t("Firefox"),
        path: t("/"),
        kind,
    }
}

/// One event of every kind, with the awkward values: empty strings,
/// multi-byte UTF-8, negative and extreme coordinates, timestamps going
/// backwards, every property type.
fn every_kind() -> Vec<Event> {
    let mut v = vec![
        base(
            DAY0 + 5_000,
            0xdead_beef_0000_0001,
            0x5e55_0000_0000_0001,
            EventKind::PageView {
                referrer: t("news.ycombinator.com"),
                utm: t("utm_source=hn&utm_medium=social"),
            },
        ),
        base(
            DAY0 + 4_000, // backwards
            0xdead_beef_0000_0001,
            0x5e55_0000_0000_0001,
            EventKind::PageView {
                referrer: t(""),
                utm: t(""),
            },
        ),
        base(
            DAY0 + 4_001,
            0,
            0,
            EventKind::Click {
                x: -640,
                y: i32::MIN,
                target: t("button#käufer ✓"),
            },
        ),
        base(
            DAY0,
            u64::MAX,
            u64::MAX,
            EventKind::Click {
                x: i32::MAX,
                y: 0,
                target: t(""),
            },
        ),
        base(DAY0 + 10, 7, 8, EventKind::Scroll { depth: 0 }),
        base(DAY0 + 11, 7, 8, EventKind::Scroll { depth: 255 }),
        base(DAY0 + 12, 7, 8, EventKind::FormView { form: t("签名") }),
        base(
            DAY0 + 13,
            7,
            8,
            EventKind::FieldFocus {
                form: t("签名"),
                field: t("email"),
            },
        ),
        base(
            DAY0 + 14,
            7,
            8,
            EventKind::Keystroke {
                form: t("签名"),
                field: t("email"),
                key: KeyKind::Character,
            },
        ),
        base(
            DAY0 + 15,
            7,
            8,
            EventKind::Keystroke {
                form: t(""),
                field: t(""),
                key: KeyKind::Delete,
            },
        ),
        base(
            DAY0 + 15,
            7,
            8,
            EventKind::Keystroke {
                form: t("signup"),
                field: t("name"),
                key: KeyKind::Other,
            },
        ),
        base(
            DAY0 + 16,
            7,
            8,
            EventKind::FieldBlur {
                form: t("签名"),
                field: t("email"),
            },
        ),
        base(
            DAY0 + 17,
            7,
            8,
            EventKind::FormSubmit {
                form: t("签名"),
                fields: vec![
                    SubmittedField {
                        name: t("plan"),
                        value: t("pro 🚀"),
                    },
                    SubmittedField {
                        name: t(""),
                        value: t(""),
                    },
                ],
            },
        ),
        base(
            DAY0 + 18,
            7,
            8,
            EventKind::FormSubmit {
                form: t("empty"),
                fields: vec![],
            },
        ),
        base(
            DAY0 + 19,
            7,
            9, // same visitor, second session
            EventKind::Custom {
                name: t("purchase"),
                props: vec![
                    (t("paid"), PropValue::Bool(true)),
                    (t("gift"), PropValue::Bool(false)),
                    (t("cents"), PropValue::Int(i64::MIN)),
                    (t("qty"), PropValue::Int(-3)),
                    (t("ratio"), PropValue::Float(-0.0)),
                    (t("big"), PropValue::Float(f64::INFINITY)),
                    (t("sku"), PropValue::Text(t("ÆØÅ-1"))),
                    (t(""), PropValue::Text(t(""))),
                ],
            },
        ),
        base(
            DAY0 + 20,
            7,
            9,
            EventKind::Custom {
                name: t(""),
                props: vec![],
            },
        ),
    ];
    // Vary the per-event columns too.
    let countries = ["US", "ZZ", "JP", "DE"];
    for (i, e) in v.iter_mut().enumerate() {
        e.country = Country::from_code(countries[i % countries.len()]);
        e.device = Device::ALL[i % Device::ALL.len()];
        if i % 3 == 0 {
            e.browser = t("");
            e.path = t("/ünïcödé/页面");
        }
    }
    v
}

fn encode(events: &[Event]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_block(events, &mut out);
    out
}

/// Decodes `bytes` and checks every accessor against `events`.
fn assert_round_trip(events: &[Event]) -> Vec<u8> {
    let bytes = encode(events);
    let view = BlockView::parse(&bytes).unwrap();
    assert_eq!(view.len(), events.len());
    assert_eq!(view.is_empty(), events.is_empty());
    let decoded = view.events().unwrap();
    assert_eq!(decoded, events);
    assert_eq!(decode_block(&bytes).unwrap(), events);

    if let (Some(min), Some(max)) = (
        events.iter().map(|e| e.ts).min(),
        events.iter().map(|e| e.ts).max(),
    ) {
        assert_eq!(view.min_ts(), min.0);
        assert_eq!(view.max_ts(), max.0);
    }
    let ts: Vec<i64> = events.iter().map(|e| e.ts.0).collect();
    assert_eq!(view.timestamps().unwrap(), ts);
    let visitors: Vec<u64> = events.iter().map(|e| e.visitor.0).collect();
    assert_eq!(view.visitors().unwrap(), visitors);
    let sessions: Vec<u64> = events.iter().map(|e| e.session.0).collect();
    assert_eq!(view.sessions().unwrap(), sessions);
    let countries: Vec<Country> = events.iter().map(|e| e.country).collect();
    assert_eq!(view.countries().unwrap(), countries);
    let devices: Vec<Device> = events.iter().map(|e| e.device).collect();
    assert_eq!(view.devices().unwrap(), devices);
    let types: Vec<EventType> = events.iter().map(|e| e.kind.event_type()).collect();
    assert_eq!(view.types().unwrap(), types);

    let browsers = view.browsers().unwrap();
    assert_eq!(browsers.len(), events.len());
    let paths = view.paths().unwrap();
    for (i, e) in events.iter().enumerate() {
        assert_eq!(browsers.get(i), &e.browser);
        assert_eq!(paths.get(i), &e.path);
    }
    assert!(browsers.iter().eq(events.iter().map(|e| &e.browser)));
    // Dictionaries hold each distinct string once.
    let mut distinct: Vec<&str> = events.iter().map(|e| e.path.as_str()).collect();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(paths.dict.len(), distinct.len());

    let (refs, utms): (Vec<&Text>, Vec<&Text>) = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::PageView { referrer, utm } => Some((referrer, utm)),
            _ => None,
        })
        .unzip();
    assert!(view.referrers().unwrap().iter().eq(refs));
    assert!(view.utms().unwrap().iter().eq(utms));
    bytes
}

#[test]
fn every_kind_round_trips() {
    let events = every_kind();
    let bytes = assert_round_trip(&events);
    assert_eq!(bytes[0], BLOCK_FORMAT_VERSION);
    assert_eq!(bytes[1], 0, "flags byte");
}

#[test]
fn nan_float_properties_keep_their_bits() {
    let nan = f64::from_bits(0x7ff8_0000_dead_beef);
    let e = base(
        DAY0,
        1,
        2,
        EventKind::Custom {
            name: t("n"),
            props: vec![(t("x"), PropValue::Float(nan))],
        },
    );
    let back = decode_block(&encode(&[e])).unwrap();
    match &back[0].kind {
        EventKind::Custom { props, .. } => match props[0].1 {
            PropValue::Float(f) => assert_eq!(f.to_bits(), nan.to_bits()),
            ref other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
}

#[test]
fn empty_and_single_event_blocks() {
    let bytes = assert_round_trip(&[]);
    let view = BlockView::parse(&bytes).unwrap();
    assert_eq!((view.min_ts(), view.max_ts()), (0, 0));
    assert!(view.events().unwrap().is_empty());

    for e in every_kind() {
        assert_round_trip(&[e]);
    }
}

#[test]
fn extreme_timestamps_round_trip() {
    let events: Vec<Event> = [i64::MAX, i64::MIN, 0, -1, i64::MAX, i64::MIN + 1]
        .into_iter()
        .map(|ts| base(ts, 1, 1, EventKind::Scroll { depth: 50 }))
        .collect();
    assert_round_trip(&events);
}

/// A deterministic pseudo-random generator (splitmix64) for test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Skewed towards 0: popular items first.
    fn skewed(&mut self, n: u64) -> u64 {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((u * u * n as f64) as u64).min(n - 1)
    }
}

/// A realistic day of one site: a few hundred visitors, sessions of a few
/// page views each, ~50 paths, ~20 referrers, 10 countries, 3 devices, in
/// time order.
fn realistic_page_views(n: usize, seed: u64) -> Vec<Event> {
    let mut rng = Rng(seed);
    let countries = ["US", "DE", "GB", "FR", "IN", "BR", "JP", "CA", "NL", "ZZ"];
    let devices = [Device::Desktop, Device::Mobile, Device::Tablet];
    let browsers = ["Chrome", "Firefox", "Safari", "Edge", "Opera"];
    // Strings are made afresh for every event, as ingest does: no two events
    // share an `Arc`.
    let paths: Vec<String> = (0..50)
        .map(|i| match i {
            0 => "/".to_string(),
            1 => "/pricing".to_string(),
            2 => "/docs".to_string(),
            _ => format!("/blog/2026/post-number-{i}"),
        })
        .collect();
    let referrers: Vec<String> = (0..20).map(|i| format!("site{i}.example.com")).collect();
    let utms = [
        "utm_source=newsletter&utm_medium=email",
        "utm_campaign=launch",
    ];
    let visitors: Vec<(u64, Country, Device, &str)> = (0..300)
        .map(|_| {
            (
                rng.next(),
                Country::from_code(countries[rng.skewed(10) as usize]),
                devices[rng.skewed(3) as usize],
                browsers[rng.skewed(5) as usize],
            )
        })
        .collect();
    let mut events = Vec::with_capacity(n + 64);
    while events.len() < n {
        let (visitor, country, device, browser) = visitors[rng.skewed(300) as usize];
        let session = rng.next();
        let mut ts = DAY0 + rng.below(86_400_000) as i64;
        let pages = 1 + rng.below(16);
        for p in 0..pages {
            let (referrer, utm) = if p == 0 {
                let r = if rng.below(10) < 6 {
                    t(&referrers[rng.skewed(20) as usize])
                } else {
                    Text::empty()
                };
                let u = if rng.below(10) == 0 {
                    t(utms[rng.below(2) as usize])
                } else {
                    Text::empty()
                };
                (r, u)
            } else {
                (Text::empty(), Text::empty())
            };
            events.push(Event {
                ts: Timestamp(ts),
                visitor: VisitorId(visitor),
                session: SessionId(session),
                country,
                device,
                browser: t(browser),
                path: t(&paths[rng.skewed(50) as usize]),
                kind: EventKind::PageView { referrer, utm },
            });
            ts += 5_000 + rng.below(120_000) as i64;
        }
    }
    events.sort_by_key(|e| e.ts);
    events.truncate(n);
    events
}

/// A mixed block: page views plus every other kind, timestamps jittering
/// backwards now and then.
fn mixed_events(n: usize, seed: u64) -> Vec<Event> {
    let mut rng = Rng(seed);
    let kinds = every_kind();
    let mut events = realistic_page_views(n, seed);
    for (i, e) in events.iter_mut().enumerate() {
        if rng.below(3) == 0 {
            e.kind = kinds[rng.below(kinds.len() as u64) as usize].kind.clone();
        }
        if i % 7 == 0 {
            e.ts.0 -= rng.below(60_000) as i64;
        }
    }
    events
}

#[test]
fn five_thousand_mixed_events_round_trip() {
    let events = mixed_events(5000, 42);
    assert_eq!(events.len(), 5000);
    let bytes = assert_round_trip(&events);
    assert!(bytes.len() < 5000 * 24, "{} bytes", bytes.len());
}

#[test]
fn realistic_page_view_block_is_under_16_bytes_per_event() {
    let events = realistic_page_views(4096, 7);
    let distinct_visitors = {
        let mut v: Vec<u64> = events.iter().map(|e| e.visitor.0).collect();
        v.sort_unstable();
        v.dedup();
        v.len()
    };
    assert!(
        (100..=300).contains(&distinct_visitors),
        "{distinct_visitors}"
    );
    let bytes = assert_round_trip(&events);
    let per_event = bytes.len() as f64 / events.len() as f64;
    let view = BlockView::parse(&bytes).unwrap();
    let breakdown: Vec<String> = Col::ALL
        .iter()
        .filter(|c| !view.col(**c).is_empty())
        .map(|c| format!("{} {}", c.name(), view.col(*c).len()))
        .collect();
    println!(
        "realistic block: {} events, {} visitors, {} bytes, {per_event:.2} bytes/event; columns: {}",
        events.len(),
        distinct_visitors,
        bytes.len(),
        breakdown.join(", ")
    );
    assert!(per_event < 16.0, "{per_event:.2} bytes/event");
}

#[test]
fn encoder_reuse_gives_identical_bytes_and_appends() {
    let a = mixed_events(700, 1);
    let b = realistic_page_views(300, 2);
    let mut enc = BlockEncoder::new();
    let mut out = vec![0xAA, 0xBB];
    enc.encode(&a, &mut out);
    assert_eq!(&out[..2], &[0xAA, 0xBB], "encode appends");
    assert_eq!(&out[2..], &encode(&a)[..]);
    let mut out_b = Vec::new();
    enc.encode(&b, &mut out_b);
    assert_eq!(out_b, encode(&b));
    let mut again = Vec::new();
    enc.encode(&a, &mut again);
    assert_eq!(again, encode(&a));
}

/// Runs the parser and every accessor; the results do not matter, only that
/// nothing panics.
fn poke(bytes: &[u8]) {
    if let Ok(view) = BlockView::parse(bytes) {
        let _ = view.len();
        let _ = view.min_ts();
        let _ = view.max_ts();
        let _ = view.timestamps();
        let _ = view.visitors();
        let _ = view.sessions();
        let _ = view.countries();
        let _ = view.devices();
        let _ = view.types();
        let _ = view.browsers();
        let _ = view.paths();
        let _ = view.referrers();
        let _ = view.utms();
        let _ = view.events();
    }
    let _ = decode_block(bytes);
}

#[test]
fn header_errors_are_named() {
    let good = encode(&every_kind());
    let mut bad = good.clone();
    bad[0] = 2;
    assert!(matches!(
        BlockView::parse(&bad),
        Err(CodecError::UnsupportedVersion(2))
    ));
    let mut bad = good.clone();
    bad[1] = FLAG_COMPRESSED;
    assert!(matches!(
        BlockView::parse(&bad),
        Err(CodecError::UnsupportedFlags(1))
    ));
    let mut bad = good.clone();
    bad[1] = 0x80;
    assert!(matches!(
        BlockView::parse(&bad),
        Err(CodecError::UnsupportedFlags(0x80))
    ));
    assert!(matches!(
        BlockView::parse(&[]),
        Err(CodecError::Truncated { column: "header" })
    ));
    // One byte too many or too few after the directory.
    let mut bad = good.clone();
    bad.push(0);
    assert!(matches!(
        BlockView::parse(&bad),
        Err(CodecError::DirectoryMismatch)
    ));
    assert!(matches!(
        BlockView::parse(&good[..good.len() - 1]),
        Err(CodecError::DirectoryMismatch)
    ));
}

#[test]
fn huge_event_count_fails_fast() {
    // 2^32 events claimed in a handful of bytes.
    let mut bytes = vec![1u8, 0];
    varint::put_varint(&mut bytes, 1 << 32);
    bytes.extend_from_slice(&0i64.to_le_bytes());
    bytes.extend_from_slice(&0i64.to_le_bytes());
    bytes.push(NUM_COLUMNS as u8);
    bytes.extend(std::iter::repeat_n(0u8, NUM_COLUMNS));
    assert!(matches!(
        BlockView::parse(&bytes),
        Err(CodecError::TooManyValues { .. })
    ));
    // A column claiming more values than the block has events.
    let events = vec![base(DAY0, 1, 1, EventKind::Scroll { depth: 3 })];
    let good = encode(&events);
    let view = BlockView::parse(&good).unwrap();
    let mut col = Vec::new();
    varint::put_varint(&mut col, u64::MAX >> 1);
    col.extend_from_slice(&[1, 0, 0]); // 1 entry, packed, zero bits
    let mut v2 = view;
    v2.cols[Col::Browser as usize] = &col;
    assert!(matches!(
        v2.browsers(),
        Err(CodecError::CountMismatch { .. })
    ));
    v2.cols[Col::Referrer as usize] = &col;
    assert!(matches!(
        v2.referrers(),
        Err(CodecError::TooManyValues { .. })
    ));
}

#[test]
fn column_errors_are_named() {
    let events = every_kind();
    let good = encode(&events);
    let view = BlockView::parse(&good).unwrap();

    // Unknown event type code in the type dictionary.
    let mut v = view;
    let ty = [1u8, 1, 42, 0];
    v.cols[Col::Type as usize] = &ty;
    v.len = 1;
    assert!(matches!(v.types(), Err(CodecError::UnknownEventType(42))));
    // Unknown device, bad country.
    let dev = [1u8, 1, 9, 0];
    v.cols[Col::Device as usize] = &dev;
    assert!(matches!(v.devices(), Err(CodecError::UnknownDevice(9))));
    let c = [1u8, 1, b'd', b'E', 0];
    v.cols[Col::Country as usize] = &c;
    assert!(matches!(
        v.countries(),
        Err(CodecError::InvalidCountry([b'd', b'E']))
    ));
    // Invalid UTF-8 in a dictionary.
    let p = [1u8, 1, 2, 0xff, 0xfe, 0];
    v.cols[Col::Path as usize] = &p;
    assert!(matches!(
        v.paths(),
        Err(CodecError::InvalidUtf8 { column: "path" })
    ));
    // Varint id beyond the dictionary.
    let p = [1u8, 1, 1, b'a', 2, 5];
    v.cols[Col::Path as usize] = &p;
    assert!(matches!(
        v.paths(),
        Err(CodecError::DictIndexOutOfRange {
            column: "path",
            index: 5,
            len: 1
        })
    ));
    // Unknown id layout.
    let p = [1u8, 1, 1, b'a', 7];
    v.cols[Col::Path as usize] = &p;
    assert!(matches!(
        v.paths(),
        Err(CodecError::UnknownIdMode { mode: 7, .. })
    ));
    // Trailing bytes.
    let p = [1u8, 1, 1, b'a', 0, 0];
    v.cols[Col::Path as usize] = &p;
    assert!(matches!(
        v.paths(),
        Err(CodecError::TrailingBytes { column: "path" })
    ));
    // A pair code pointing before the first pair.
    let mut id = vec![1u8, 1];
    id.extend_from_slice(&[0; 8]);
    id.push(1);
    id.extend_from_slice(&[0; 8]);
    id.extend_from_slice(&[0, 3]);
    v.cols[Col::Ident as usize] = &id;
    assert!(matches!(
        v.sessions(),
        Err(CodecError::BadReference {
            column: "identity",
            code: 3
        })
    ));
    // A timestamp outside the header range.
    let ts = [1u8, 1]; // zz(-1): one before the minimum
    v.cols[Col::Ts as usize] = &ts;
    assert!(matches!(
        v.timestamps(),
        Err(CodecError::TimestampOutOfRange { .. })
    ));
    // Every truncation of a valid block fails cleanly.
    for cut in 0..good.len() {
        assert!(decode_block(&good[..cut]).is_err(), "cut at {cut}");
        poke(&good[..cut]);
    }
}

#[test]
fn mismatched_kind_columns_are_count_errors() {
    // Swap the type column of a block of clicks for one of page views.
    let clicks = vec![base(
        DAY0,
        1,
        1,
        EventKind::Click {
            x: 1,
            y: 2,
            target: t("a"),
        },
    )];
    let views = vec![base(
        DAY0,
        1,
        1,
        EventKind::PageView {
            referrer: t(""),
            utm: t(""),
        },
    )];
    let a = encode(&clicks);
    let b = encode(&views);
    let mut va = BlockView::parse(&a).unwrap();
    let vb = BlockView::parse(&b).unwrap();
    va.cols[Col::Type as usize] = vb.cols[Col::Type as usize];
    assert!(matches!(
        va.events(),
        Err(CodecError::CountMismatch {
            column: "referrer",
            expected: 1,
            found: 0
        })
    ));
}

fn text_strategy() -> impl Strategy<Value = Text> {
    prop_oneof![Just(String::new()), "[a-c/]{1,3}", "\\PC{0,12}",].prop_map(|s| Text::new(&s))
}

fn prop_value_strategy() -> impl Strategy<Value = PropValue> {
    prop_oneof![
        any::<bool>().prop_map(PropValue::Bool),
        any::<i64>().prop_map(PropValue::Int),
        any::<f64>()
            .prop_filter("NaN != NaN", |f| !f.is_nan())
            .prop_map(PropValue::Float),
        text_strategy().prop_map(PropValue::Text),
    ]
}

fn kind_strategy() -> impl Strategy<Value = EventKind> {
    let key = prop_oneof![
        Just(KeyKind::Character),
        Just(KeyKind::Delete),
        Just(KeyKind::Other)
    ];
    prop_oneof![
        4 => (text_strategy(), text_strategy())
            .prop_map(|(referrer, utm)| EventKind::PageView { referrer, utm }),
        1 => (any::<i32>(), any::<i32>(), text_strategy())
            .prop_map(|(x, y, target)| EventKind::Click { x, y, target }),
        1 => any::<u8>().prop_map(|depth| EventKind::Scroll { depth }),
        1 => text_strategy().prop_map(|form| EventKind::FormView { form }),
        1 => (text_strategy(), text_strategy())
            .prop_map(|(form, field)| EventKind::FieldFocus { form, field }),
        1 => (text_strategy(), text_strategy(), key)
            .prop_map(|(form, field, key)| EventKind::Keystroke { form, field, key }),
        1 => (text_strategy(), text_strategy())
            .prop_map(|(form, field)| EventKind::FieldBlur { form, field }),
        1 => (
            text_strategy(),
            prop::collection::vec(
                (text_strategy(), text_strategy())
                    .prop_map(|(name, value)| SubmittedField { name, value }),
                0..4
            )
        )
            .prop_map(|(form, fields)| EventKind::FormSubmit { form, fields }),
        1 => (
            text_strategy(),
            prop::collection::vec((text_strategy(), prop_value_strategy()), 0..4)
        )
            .prop_map(|(name, props)| EventKind::Custom { name, props }),
    ]
}

fn event_strategy() -> impl Strategy<Value = Event> {
    let ts = prop_oneof![DAY0..DAY0 + 86_400_000, any::<i64>()];
    let id = prop_oneof![0u64..4, any::<u64>()];
    let country =
        prop_oneof![Just("ZZ".to_string()), "[A-Z]{2}"].prop_map(|c| Country::from_code(&c));
    let device = prop::sample::select(Device::ALL.to_vec());
    (
        ts,
        id.clone(),
        id,
        country,
        device,
        text_strategy(),
        text_strategy(),
        kind_strategy(),
    )
        .prop_map(
            |(ts, visitor, session, country, device, browser, path, kind)| Event {
                ts: Timestamp(ts),
                visitor: VisitorId(visitor),
                session: SessionId(session),
                country,
                device,
                browser,
                path,
                kind,
            },
        )
}

proptest! {
    #[test]
    fn random_events_round_trip(events in prop::collection::vec(event_strategy(), 0..64)) {
        let bytes = encode(&events);
        let view = BlockView::parse(&bytes).unwrap();
        prop_assert_eq!(view.events().unwrap(), events.clone());
        let visitors: Vec<u64> = events.iter().map(|e| e.visitor.0).collect();
        prop_assert_eq!(view.visitors().unwrap(), visitors);
        let sessions: Vec<u64> = events.iter().map(|e| e.session.0).collect();
        prop_assert_eq!(view.sessions().unwrap(), sessions);
        let ts: Vec<i64> = events.iter().map(|e| e.ts.0).collect();
        prop_assert_eq!(view.timestamps().unwrap(), ts);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        poke(&bytes);
    }

    #[test]
    fn arbitrary_bytes_behind_a_valid_header_never_panic(
        n in 0u64..100,
        lens in prop::collection::vec(0u8..12, NUM_COLUMNS),
        body in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        // Fuzzing behind a valid header reaches the column decoders.
        let mut bytes = vec![1u8, 0];
        varint::put_varint(&mut bytes, n);
        bytes.extend_from_slice(&0i64.to_le_bytes());
        bytes.extend_from_slice(&i64::MAX.to_le_bytes());
        bytes.push(NUM_COLUMNS as u8);
        let total: usize = lens.iter().map(|&l| usize::from(l)).sum();
        bytes.extend_from_slice(&lens);
        bytes.extend(body.iter().copied().cycle().take(total));
        poke(&bytes);
    }

    #[test]
    fn mutated_blocks_never_panic(
        events in prop::collection::vec(event_strategy(), 1..24),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut bytes = encode(&events);
        for (at, b) in &flips {
            let i = at.index(bytes.len());
            bytes[i] = *b;
        }
        poke(&bytes);
        if truncate {
            bytes.truncate(cut.index(bytes.len()));
            poke(&bytes);
        }
    }

    #[test]
    fn mutated_columns_never_panic(
        events in prop::collection::vec(event_strategy(), 1..24),
        column in 0..NUM_COLUMNS,
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        // Mutate inside one column while keeping the directory valid.
        let bytes = encode(&events);
        let view = BlockView::parse(&bytes).unwrap();
        let mut col = view.cols[column].to_vec();
        if !col.is_empty() {
            for (at, b) in &flips {
                let i = at.index(col.len());
                col[i] = *b;
            }
        }
        let mut v = view;
        v.cols[column] = &col;
        let _ = v.timestamps();
        let _ = v.visitors();
        let _ = v.sessions();
        let _ = v.countries();
        let _ = v.devices();
        let _ = v.types();
        let _ = v.browsers();
        let _ = v.paths();
        let _ = v.referrers();
        let _ = v.utms();
        let _ = v.events();
    }
}

#[test]
fn identity_column_beats_plain_dictionaries() {
    // The alternative from the design discussion: separate visitor and
    // session dictionaries (8 bytes an entry) with a varint index per event.
    let events = realistic_page_views(4096, 7);
    let mut visitors: HashMap<u64, u64> = HashMap::new();
    let mut sessions: HashMap<u64, u64> = HashMap::new();
    let mut plain = 0;
    for e in &events {
        let n = visitors.len() as u64;
        plain += varint::varint_len(*visitors.entry(e.visitor.0).or_insert(n));
        let n = sessions.len() as u64;
        plain += varint::varint_len(*sessions.entry(e.session.0).or_insert(n));
    }
    plain += 8 * (visitors.len() + sessions.len()) + 4;
    let bytes = encode(&events);
    let ours = BlockView::parse(&bytes).unwrap().col(Col::Ident).len();
    println!(
        "identity column: {} visitors, {} sessions: plain dictionaries {plain} B ({:.2}/event), pair dictionary with recency codes {ours} B ({:.2}/event)",
        visitors.len(),
        sessions.len(),
        plain as f64 / 4096.0,
        ours as f64 / 4096.0
    );
    assert!(ours * 4 < plain * 3, "{ours} vs {plain}");
}

#[test]
fn view_debug_shows_column_lengths_not_bytes() {
    let bytes = encode(&every_kind());
    let view = BlockView::parse(&bytes).unwrap();
    let s = format!("{view:?}");
    assert!(s.starts_with("BlockView { len: 16,"), "{s}");
    assert!(s.contains("prop_text: "), "{s}");
}

/// The bytes of the hex dump under "## Example" in the module
/// documentation (`codec/mod.rs`, the normative specification): on each
/// line, the two-digit hex bytes before the description, with `00 × 14`
/// standing for fourteen zero bytes.
fn documented_example_bytes() -> Vec<u8> {
    let spec = include_str!("mod.rs");
    let example = spec
        .split("//! ## Example")
        .nth(1)
        .expect("codec/mod.rs has an Example section");
    let dump = example
        .split("//! ```text")
        .nth(1)
        .and_then(|s| s.split("//! ```").next())
        .expect("the Example section holds a text block");
    let mut bytes = Vec::new();
    for line in dump.lines() {
        let line = line.trim_start_matches("//!").trim();
        // The bytes end where the description starts: after a run of
        // blanks, or at the first word that is not a byte.
        let line = line.split("  ").next().unwrap_or("");
        let mut words = line.split_whitespace().peekable();
        while let Some(w) = words.next() {
            if w == "×" {
                let n: usize = words.next().and_then(|n| n.parse().ok()).unwrap();
                let last = *bytes.last().unwrap();
                bytes.extend(std::iter::repeat_n(last, n - 1));
            } else if w.len() == 2 && w.bytes().all(|b| b.is_ascii_hexdigit()) {
                bytes.push(u8::from_str_radix(w, 16).unwrap());
            } else {
                break;
            }
        }
    }
    bytes
}

#[test]
fn documented_example_matches_the_encoder() {
    // The hex dump of the specification, byte for byte, read from the
    // specification itself.
    let expected = documented_example_bytes();
    let ev = |ts, path| Event {
        ts: Timestamp(ts),
        visitor: VisitorId(0x0102_0304_0506_0708),
        session: SessionId(0x1112_1314_1516_1718),
        country: Country::from_code("DE"),
        device: Device::Mobile,
        browser: t("FF"),
        path: t(path),
        kind: EventKind::PageView {
            referrer: t(""),
            utm: t(""),
        },
    };
    let events = [ev(1000, "/a"), ev(999, "/b")];
    assert_eq!(encode(&events), expected);
    assert_eq!(
        BlockView::parse(&expected).unwrap().events().unwrap(),
        events
    );
    // The dump as it stood when the format was frozen: the spec's example
    // may be reworded, not changed.
    let frozen = "01 00 02 e7 03 00 00 00 00 00 00 e8 03 00 00 00 00 00 00 17
        03 16 04 05 04 06 0a 04 04 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        02 02 01
        02 01 08 07 06 05 04 03 02 01 01 18 17 16 15 14 13 12 11 00 00 01
        02 01 00 00  02 01 44 45 00  02 01 02 00  02 01 02 46 46 00
        02 02 02 2f 61 02 2f 62 00 02  02 01 00 00  02 01 00 00";
    let frozen: Vec<u8> = frozen
        .split_whitespace()
        .map(|h| u8::from_str_radix(h, 16).unwrap())
        .collect();
    assert_eq!(expected, frozen);
}

#[test]
fn design_md_links_the_codec_spec_and_copies_none_of_it() {
    // docs/design.md section 4 points to codec/mod.rs, the one normative
    // source, and restates none of its bytes or tables.
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/design.md");
    let design = std::fs::read_to_string(&path).unwrap();
    let section = design
        .split("## 4. Block format")
        .nth(1)
        .and_then(|s| s.split("\n## 5.").next())
        .expect("design.md has section 4");
    assert!(
        section.contains("(../crates/pledgedb-core/src/codec/mod.rs)"),
        "section 4 links to the codec specification"
    );
    assert!(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src/codec/mod.rs")
            .is_file()
    );
    for copied in [
        "e7 03 00 00",
        "| bytes",
        "`i64le`",
        "Block format, version 1",
        "#### ",
    ] {
        assert!(!section.contains(copied), "section 4 copies {copied:?}");
    }
    // No rustdoc-style link without a target (`[`Name`]` renders as a dead
    // link outside rustdoc).
    for (i, _) in section.match_indices("`]") {
        assert_eq!(
            section.as_bytes().get(i + 2),
            Some(&b'('),
            "a link without a target in section 4"
        );
    }
}
