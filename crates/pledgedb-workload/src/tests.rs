use super::*;
use pledgedb_core::{EventType, Limits, MS_PER_DAY};
use std::collections::{HashMap, HashSet};

fn small(seed: u64) -> WorkloadConfig {
    WorkloadConfig {
        seed,
        days: 3,
        visitors_per_day: 60,
        ..WorkloadConfig::default()
    }
}

fn run(cfg: WorkloadConfig) -> (Vec<Hit>, GeneratedTruth, Vec<String>) {
    let mut w = Workload::new(cfg);
    let tokens = w.opt_out_tokens().to_vec();
    let hits: Vec<Hit> = w.by_ref().collect();
    (hits, w.into_truth(), tokens)
}

/// The path of a generated URL: after the host, before the query.
fn path_of(url: &str) -> &str {
    let rest = url.strip_prefix("https://").unwrap_or(url);
    let rest = &rest[rest.find('/').unwrap_or(rest.len())..];
    rest.split('?').next().unwrap_or("/")
}

/// The engine's gate, applied to a hit as sent.
fn verdict(hit: &Hit, policy: &ConsentPolicy, tokens: &HashSet<&str>) -> Ingested {
    if hit
        .opt_out_token
        .as_deref()
        .is_some_and(|t| tokens.contains(t))
    {
        return Ingested::Dropped(DropReason::OptedOut);
    }
    if hit.dnt && policy.honour_dnt {
        return Ingested::Dropped(DropReason::DoNotTrack);
    }
    if hit.gpc && policy.honour_gpc {
        return Ingested::Dropped(DropReason::GlobalPrivacyControl);
    }
    let ok = match hit.consent {
        Consent::Granted => true,
        Consent::Denied => false,
        Consent::Unknown => !policy.require_consent,
    };
    if ok && (hit.client_id.is_some() || hit.ip.is_some()) {
        Ingested::Queued
    } else if ok || policy.without_consent == WithoutConsent::Anonymous {
        Ingested::QueuedAnonymous
    } else {
        Ingested::Dropped(DropReason::NoConsent)
    }
}

#[test]
fn same_seed_same_hits_other_seed_other_hits() {
    let (a, ta, ka) = run(small(7));
    let (b, tb, kb) = run(small(7));
    assert!(!a.is_empty());
    assert_eq!(a, b);
    assert_eq!(ta, tb);
    assert_eq!(ka, kb);
    let (c, _, _) = run(small(8));
    assert_ne!(a, c);
    let g: Vec<Hit> = generate(&small(7)).collect();
    assert_eq!(a, g);
}

#[test]
fn truth_counts_what_was_yielded() {
    let mut cfg = small(3);
    cfg.domain_policies = vec![(
        "docs.example".into(),
        ConsentPolicy {
            require_consent: true,
            without_consent: WithoutConsent::Drop,
            ..ConsentPolicy::default()
        },
    )];
    let (hits, truth, tokens) = run(cfg.clone());
    let tokens: HashSet<&str> = tokens.iter().map(String::as_str).collect();
    assert_eq!(truth.hits, hits.len() as u64);
    assert_eq!(truth.by_kind.total(), truth.hits);
    assert_eq!(truth.outcomes.total(), truth.hits);
    let mut total = Outcomes::default();
    let mut kinds = KindCounts::default();
    for dt in &truth.domains {
        let mine: Vec<&Hit> = hits.iter().filter(|h| h.domain == dt.domain).collect();
        assert_eq!(dt.hits, mine.len() as u64, "{}", dt.domain);
        let policy = cfg.policy_for(&dt.domain);
        let mut out = Outcomes::default();
        let mut by_kind = KindCounts::default();
        let mut by_path: HashMap<&str, u64> = HashMap::new();
        let (mut cookieless, mut submits, mut views, mut sensitive) = (0, 0, 0, 0);
        for h in &mine {
            let v = verdict_for_hit(verdict(h, &policy, &tokens), h);
            out.record(v);
            by_kind.add(&h.kind);
            if matches!(v, Ingested::Queued | Ingested::QueuedAnonymous) {
                *by_path.entry(path_of(&h.url)).or_default() += 1;
            }
            cookieless += u64::from(h.client_id.is_none());
            match &h.kind {
                HitKind::FormView { .. } => views += 1,
                HitKind::FormSubmit { fields, .. } => {
                    submits += 1;
                    sensitive += fields
                        .iter()
                        .filter(|f| pledgedb_core::DomainSettings::default().is_sensitive(f))
                        .count() as u64;
                }
                _ => {}
            }
        }
        assert_eq!(dt.outcomes, out, "{}", dt.domain);
        assert_eq!(dt.by_kind, by_kind, "{}", dt.domain);
        assert_eq!(dt.cookieless_hits, cookieless);
        assert_eq!(dt.form_views, views);
        assert_eq!(dt.form_submits, submits);
        assert_eq!(dt.sensitive_fields_submitted, sensitive);
        let mut want: Vec<(&str, u64)> = by_path.into_iter().collect();
        want.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        assert_eq!(dt.stored_by_path(), want, "{}", dt.domain);
        assert_eq!(
            dt.stored_by_country().iter().map(|c| c.1).sum::<u64>(),
            out.stored()
        );
        assert_eq!(dt.sessions, u64::from(cfg.days * cfg.visitors_per_day));
        assert_eq!(dt.new_visitors, cfg.new_visitors_per_domain());
        for (k, n) in by_kind.iter() {
            kinds.0[usize::from(k.code())] += n;
        }
        total.identified += out.identified;
        total.anonymous += out.anonymous;
        total.opted_out += out.opted_out;
        total.do_not_track += out.do_not_track;
        total.global_privacy_control += out.global_privacy_control;
        total.no_consent += out.no_consent;
        total.sensitive_keystroke += out.sensitive_keystroke;
    }
    assert_eq!(truth.outcomes, total);
    assert_eq!(truth.by_kind, kinds);
    // The strict domain drops hits without consent; the others keep them
    // anonymously.
    let docs = truth.domain("docs.example").map(|d| d.outcomes);
    assert!(docs.is_some_and(|o| o.no_consent > 0 && o.anonymous == 0));
    let shop = truth.domain("shop.example").map(|d| d.outcomes);
    assert!(shop.is_some_and(|o| o.no_consent == 0 && o.anonymous > 0));
}

#[test]
fn every_hit_passes_the_engine_limits() {
    let limits = Limits::default();
    for h in generate(&small(11)) {
        if let Err(e) = limits.check(&h) {
            panic!("{e}: {h:?}");
        }
        assert!(pledgedb_core::limits::validate_domain_name(&h.domain).is_ok());
    }
}

#[test]
fn hits_are_in_time_order_within_the_days() {
    let cfg = small(5);
    let first = cfg.start.millis().div_euclid(MS_PER_DAY) * MS_PER_DAY;
    let end = first + i64::from(cfg.days) * MS_PER_DAY;
    let mut last = i64::MIN;
    let mut per_hour = [0u64; 24];
    for h in generate(&cfg) {
        let ts = h.timestamp.map_or(i64::MIN, |t| t.millis());
        assert!(ts >= last, "out of order");
        last = ts;
        assert!(ts >= first);
        // A visit starting just before midnight may run a little over.
        assert!(ts < end + 3 * 3_600_000, "{ts} vs {end}");
        per_hour[(ts.rem_euclid(MS_PER_DAY) / 3_600_000) as usize] += 1;
    }
    // More traffic in the afternoon than at night.
    assert!(per_hour[13] > 2 * per_hour[3], "{per_hour:?}");
}

#[test]
fn client_ids_are_per_domain_and_returning_visitors_keep_theirs() {
    let cfg = small(9);
    let mut ids: HashMap<&str, HashSet<String>> = HashMap::new();
    let mut days_of: HashMap<String, HashSet<i64>> = HashMap::new();
    let hits: Vec<Hit> = generate(&cfg).collect();
    for h in &hits {
        if let Some(c) = &h.client_id {
            ids.entry(h.domain.as_str()).or_default().insert(c.clone());
            days_of
                .entry(format!("{}/{c}", h.domain))
                .or_default()
                .insert(h.timestamp.map_or(0, |t| t.millis() / MS_PER_DAY));
        }
    }
    let sets: Vec<&HashSet<String>> = ids.values().collect();
    assert_eq!(sets.len(), 3);
    for (i, a) in sets.iter().enumerate() {
        for b in &sets[i + 1..] {
            assert!(a.is_disjoint(b), "a client id is shared by two domains");
        }
    }
    let multi_day = days_of.values().filter(|d| d.len() > 1).count();
    assert!(multi_day > 10, "only {multi_day} visitors came back");
}

#[test]
fn opt_out_tokens_are_exact() {
    let cfg = WorkloadConfig {
        opt_out_share: 0.1,
        ..small(13)
    };
    let (hits, truth, tokens) = run(cfg);
    let listed: HashSet<&str> = tokens.iter().map(String::as_str).collect();
    assert_eq!(listed.len(), tokens.len());
    assert!(!listed.is_empty());
    let seen: HashSet<&str> = hits
        .iter()
        .filter_map(|h| h.opt_out_token.as_deref())
        .collect();
    assert_eq!(seen, listed);
    assert_eq!(
        truth.outcomes.opted_out,
        hits.iter().filter(|h| h.opt_out_token.is_some()).count() as u64
    );
}

#[test]
fn forms_type_keys_never_content_and_submit_sensitive_fields() {
    let cfg = WorkloadConfig {
        visitors_per_day: 300,
        ..small(17)
    };
    let (hits, truth, _) = run(cfg);
    let mut keys = 0;
    let mut passwords = 0;
    let mut cards = 0;
    for h in &hits {
        match &h.kind {
            HitKind::Keystroke { key, form, field } => {
                keys += 1;
                assert!(matches!(key, KeyKind::Character | KeyKind::Delete));
                assert!(!form.is_empty() && !field.is_empty());
            }
            HitKind::FormSubmit { fields, .. } => {
                assert!(fields.iter().all(|f| !f.value.is_empty()));
                passwords += fields.iter().filter(|f| f.name == "password").count();
                cards += fields.iter().filter(|f| f.name == "card_number").count();
            }
            _ => {}
        }
    }
    assert!(keys > 100);
    assert!(passwords > 0 && cards > 0);
    let views: u64 = truth.domains.iter().map(|d| d.form_views).sum();
    let submits: u64 = truth.domains.iter().map(|d| d.form_submits).sum();
    let share = submits as f64 / views as f64;
    assert!((0.45..0.75).contains(&share), "{share}");
}

#[test]
fn networks_parse_do_not_overlap_and_cover_every_ip() {
    let nets: Vec<(Net, &str)> = COUNTRY_NETWORKS
        .iter()
        .map(|(c, code)| (Net::parse(c).unwrap_or_else(|| panic!("{c}")), *code))
        .collect();
    let codes: HashSet<&str> = nets.iter().map(|n| n.1).collect();
    let countries: HashSet<&str> = COUNTRIES.iter().map(|c| c.0).collect();
    assert_eq!(codes, countries);
    assert!((8..=12).contains(&codes.len()));
    for (i, (a, _)) in nets.iter().enumerate() {
        for (b, _) in &nets[i + 1..] {
            let (ha, hb) = (a.host(0), b.host(0));
            assert!(!a.contains(hb) && !b.contains(ha), "{a:?} overlaps {b:?}");
        }
    }
    let (hits, truth, tokens) = run(small(21));
    let tokens: HashSet<&str> = tokens.iter().map(String::as_str).collect();
    let mut v6 = 0;
    let mut per_country: HashMap<(&str, &str), u64> = HashMap::new();
    for h in &hits {
        let ip = h.ip.unwrap_or(IpAddr::from([0, 0, 0, 0]));
        v6 += u64::from(ip.is_ipv6());
        let found: Vec<&str> = nets
            .iter()
            .filter(|(n, _)| n.contains(ip))
            .map(|n| n.1)
            .collect();
        assert_eq!(found.len(), 1, "{ip} in {found:?}");
        let v = verdict_for_hit(verdict(h, &ConsentPolicy::default(), &tokens), h);
        if matches!(v, Ingested::Queued | Ingested::QueuedAnonymous) {
            *per_country
                .entry((h.domain.as_str(), found[0]))
                .or_default() += 1;
        }
    }
    assert!(v6 > 0);
    for d in &truth.domains {
        for (code, n) in d.stored_by_country() {
            assert_eq!(per_country.get(&(d.domain.as_str(), code)), Some(&n));
        }
    }
}

#[test]
fn the_mix_is_realistic() {
    let cfg = WorkloadConfig {
        days: 4,
        visitors_per_day: 400,
        ..WorkloadConfig::default()
    };
    let (hits, truth, _) = run(cfg.clone());
    let n = hits.len() as f64;
    let cookieless = hits.iter().filter(|h| h.client_id.is_none()).count() as f64;
    assert!(
        (0.05..0.2).contains(&(cookieless / n)),
        "{}",
        cookieless / n
    );
    let with_utm = hits
        .iter()
        .filter(|h| h.url.contains("utm_source="))
        .count();
    assert!(with_utm > 0);
    let bots = hits
        .iter()
        .filter(|h| h.user_agent.as_deref().is_some_and(|u| u.contains("bot")))
        .count();
    assert!(bots > 0);
    let referrers: HashSet<&str> = hits
        .iter()
        .filter_map(|h| match &h.kind {
            HitKind::PageView {
                referrer: Some(r), ..
            } if !r.contains(".example") => Some(r.as_str()),
            _ => None,
        })
        .collect();
    assert!(referrers.len() >= 6, "{referrers:?}");
    for d in &truth.domains {
        let later = d.sessions - u64::from(cfg.visitors_per_day);
        let share = d.returning_sessions as f64 / later as f64;
        assert!((share - 0.3).abs() < 0.01, "{share}");
        let pv = d.by_kind.get(EventType::PageView) as f64 / d.sessions as f64;
        assert!((1.5..4.0).contains(&pv), "{pv} page views per visit");
        assert!(d.by_kind.get(EventType::Click) > 0);
        assert!(d.by_kind.get(EventType::Scroll) > 0);
        assert!(d.by_kind.get(EventType::Custom) > 0);
        // Zipf: the home page is the most viewed.
        let mut views: HashMap<&str, u64> = HashMap::new();
        for h in hits.iter().filter(|h| h.domain == d.domain) {
            if matches!(h.kind, HitKind::PageView { .. }) {
                *views.entry(path_of(&h.url)).or_default() += 1;
            }
        }
        let top = views
            .iter()
            .max_by_key(|(p, n)| (**n, std::cmp::Reverse(**p)));
        assert_eq!(top.map(|t| *t.0), Some("/"), "{views:?}");
        assert!(d.stored_by_path().len() >= 30);
        assert!(d.outcomes.do_not_track > 0 && d.outcomes.global_privacy_control > 0);
        assert!(d.outcomes.opted_out > 0);
    }
}

#[test]
fn empty_configurations_yield_nothing() {
    for cfg in [
        WorkloadConfig {
            days: 0,
            ..WorkloadConfig::default()
        },
        WorkloadConfig {
            visitors_per_day: 0,
            ..WorkloadConfig::default()
        },
        WorkloadConfig {
            domains: vec![],
            ..WorkloadConfig::default()
        },
    ] {
        let (hits, truth, tokens) = run(cfg);
        assert!(hits.is_empty() && tokens.is_empty());
        assert_eq!(truth.hits, 0);
    }
}
