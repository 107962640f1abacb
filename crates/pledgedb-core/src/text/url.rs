//! What the engine keeps of page and referrer URLs: the page path with its
//! `utm_*` parameters, and the referrer's host.
//!
//! The page path and `utm_*` values are slices and copies of the input, not
//! cut: callers pass them through [`Text::new`](super::Text::new), which
//! scrubs IP addresses. The referrer host is the one result that is
//! shortened, so [`referrer_host`] scrubs it before it cuts it
//! ([`redact_then_cut`]).

use super::scrub::{redact_ips, redact_then_cut};

/// The parts of a page URL that the engine stores.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReducedUrl<'a> {
    /// The path, without scheme, host, port, user info, query string or
    /// fragment, percent-encoding as it was; `/` when the URL has none.
    pub path: &'a str,
    /// The `utm_*` query parameters in their original order, as `k=v&k=v`;
    /// empty when there are none.
    pub utm: String,
}

/// Reduces a page URL to its path and its `utm_*` parameters.
///
/// Takes a full URL (`https://shop.example/a/b?q=1&utm_source=news#frag`), a
/// scheme-relative one (`//shop.example/a`) or a bare path (`/a/b?x=1`).
/// Parameter names match `utm_` in any case. Never panics.
#[must_use]
pub fn reduce_url(url: &str) -> ReducedUrl<'_> {
    let url = url.trim();
    let url = url.split_once('#').map_or(url, |(before, _)| before);
    let (before_query, query) = url.split_once('?').unwrap_or((url, ""));
    let path = path_of(before_query);
    let path = if path.is_empty() { "/" } else { path };
    let mut utm = String::new();
    for param in query.split('&') {
        let name = param.split_once('=').map_or(param, |(name, _)| name);
        let is_utm = name.len() > 4
            && name
                .get(..4)
                .is_some_and(|p| p.eq_ignore_ascii_case("utm_"));
        if is_utm {
            if !utm.is_empty() {
                utm.push('&');
            }
            utm.push_str(param);
        }
    }
    ReducedUrl { path, utm }
}

/// The host of a referrer URL, lower case, without user info, port, a
/// trailing dot or a `www.` prefix, with IP-shaped text redacted:
/// `https://www.Google.com/search?q=x` gives `google.com`,
/// `http://c-73-22-11-5.example.net/` gives `c-[ip].example.net`.
///
/// Input that is not a URL with a host comes back trimmed and scrubbed. The
/// result is cut to at most 253 bytes (at a char boundary) after it has been
/// scrubbed, never before. Never panics.
#[must_use]
pub fn referrer_host(url: &str) -> String {
    // Scrubbed before the host is cut out of it: taking the host drops a
    // trailing dot, a port and user info, and `203.0.113.` must not become
    // `203.0.113`.
    let url = redact_ips(url.trim());
    let url = url.as_ref();
    match host_of(url) {
        Some(host) => redact_then_cut(&host.to_lowercase(), MAX_HOST),
        None => redact_then_cut(url, MAX_HOST),
    }
}

/// The longest host name DNS allows, in bytes.
const MAX_HOST: usize = 253;

/// Splits `scheme:rest` when `s` starts with a syntactically valid scheme.
fn split_scheme(s: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = s.split_once(':')?;
    let mut bytes = scheme.bytes();
    let valid = bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    valid.then_some((scheme, rest))
}

/// What follows `//` in a URL with an authority, if `s` is one.
fn after_slashes(s: &str) -> Option<&str> {
    if let Some(rest) = s.strip_prefix("//") {
        return Some(rest);
    }
    split_scheme(s)?.1.strip_prefix("//")
}

/// The path of a URL without query string and fragment.
fn path_of(s: &str) -> &str {
    if let Some(rest) = after_slashes(s) {
        return rest.find('/').and_then(|i| rest.get(i..)).unwrap_or("");
    }
    match split_scheme(s) {
        Some((_, rest)) => {
            // `host:8080/path` is a host with a port, not a scheme.
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            let after = rest.get(digits..).unwrap_or_default();
            if digits > 0 && (after.is_empty() || after.starts_with('/')) {
                after
            } else {
                rest
            }
        }
        None => s,
    }
}

/// The host of a URL with an authority, without user info, port, trailing
/// dot and `www.` prefix; `None` when there is no such host.
fn host_of(url: &str) -> Option<&str> {
    let rest = after_slashes(url)?;
    let end = rest.find(['/', '\\', '?', '#']).unwrap_or(rest.len());
    let authority = rest.get(..end)?;
    let host_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let host = if host_port.starts_with('[') {
        // An IPv6 literal, kept with its brackets.
        match host_port.find(']') {
            Some(close) => host_port.get(..=close)?,
            None => host_port,
        }
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    let host = host.trim_end_matches('.');
    let host = match host.get(..4) {
        Some(www) if www.eq_ignore_ascii_case("www.") => host.get(4..)?,
        _ => host,
    };
    (!host.is_empty()).then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn reduced<'a>(path: &'a str, utm: &str) -> ReducedUrl<'a> {
        ReducedUrl {
            path,
            utm: utm.to_owned(),
        }
    }

    #[test]
    fn page_urls_are_reduced() {
        let cases = [
            (
                "https://shop.example/a/b?q=1&utm_source=news#frag",
                reduced("/a/b", "utm_source=news"),
            ),
            (
                "https://shop.example/a?utm_source=news&x=1&utm_medium=email&utm_campaign=spring%20sale",
                reduced(
                    "/a",
                    "utm_source=news&utm_medium=email&utm_campaign=spring%20sale",
                ),
            ),
            ("https://shop.example", reduced("/", "")),
            ("https://shop.example/", reduced("/", "")),
            (
                "https://shop.example?utm_source=x",
                reduced("/", "utm_source=x"),
            ),
            ("https://shop.example#top", reduced("/", "")),
            (
                "http://user:secret@shop.example:8080/p/q.html?a=b",
                reduced("/p/q.html", ""),
            ),
            ("HTTPS://SHOP.EXAMPLE/Case/Kept", reduced("/Case/Kept", "")),
            (
                "//shop.example/x?utm_term=shoes",
                reduced("/x", "utm_term=shoes"),
            ),
            ("/a/b?x", reduced("/a/b", "")),
            (
                "/a/b?utm_content=c&utm_id=7#f",
                reduced("/a/b", "utm_content=c&utm_id=7"),
            ),
            ("/caf%C3%A9/%2Fx", reduced("/caf%C3%A9/%2Fx", "")),
            ("/café/ünï", reduced("/café/ünï", "")),
            ("", reduced("/", "")),
            ("   /padded  ", reduced("/padded", "")),
            ("?utm_source=a", reduced("/", "utm_source=a")),
            ("#only", reduced("/", "")),
            ("http://[2001:db8::1]:8080/admin", reduced("/admin", "")),
            ("http://192.0.2.1/p?ip=192.0.2.1", reduced("/p", "")),
            ("localhost:8080/dev", reduced("/dev", "")),
            ("about:blank", reduced("blank", "")),
            (
                "/a?UTM_Source=x&utm_=y&utm&utm_flag",
                reduced("/a", "UTM_Source=x&utm_flag"),
            ),
            ("/a?q=1?utm_source=x", reduced("/a", "")),
            ("/a?&&utm_source=&", reduced("/a", "utm_source=")),
            ("relative/path?x=1", reduced("relative/path", "")),
        ];
        for (url, want) in cases {
            assert_eq!(reduce_url(url), want, "{url:?}");
        }
    }

    #[test]
    fn referrer_hosts() {
        let cases = [
            ("https://www.Google.com/search?q=x", "google.com"),
            (
                "https://news.ycombinator.com/item?id=1",
                "news.ycombinator.com",
            ),
            ("http://user:pw@www.example.org:8080/x", "example.org"),
            ("https://example.com.", "example.com"),
            ("https://EXAMPLE.com?x=1", "example.com"),
            ("https://example.com#x", "example.com"),
            ("//cdn.example/x", "cdn.example"),
            ("https://WWW.example.com", "example.com"),
            ("https://www2.example.com", "www2.example.com"),
            ("https://wwwexample.com", "wwwexample.com"),
            (
                "android-app://com.google.android.gm/",
                "com.google.android.gm",
            ),
            ("http://[2001:db8::1]:8080/", "[ip]"),
            ("http://192.0.2.1:80/x", "[ip]"),
            ("http://203.0.113./x", "[ip]"),
            ("http://www.203.0.113.9./x", "www[ip]"),
            ("http://2001:db8::1/x", "[ip]"),
            ("http://fe80--1s4.ipv6-literal.net/", "[ip]"),
            (
                "http://ec2-203-0-113-9.compute-1.amazonaws.com/",
                "ec2-[ip].compute-1.amazonaws.com",
            ),
            ("https://bücher.example/", "bücher.example"),
            ("  (direct)  ", "(direct)"),
            ("not a url", "not a url"),
            ("google.com/search", "google.com/search"),
            ("", ""),
            ("http://", "http://"),
            ("https://www./x", "www"),
            ("file:///etc/hosts", "file:///etc/hosts"),
        ];
        for (url, want) in cases {
            assert_eq!(referrer_host(url), want, "{url:?}");
        }
    }

    #[test]
    fn long_referrers_are_cut_at_char_boundaries() {
        let long = "é".repeat(200);
        let out = referrer_host(&long);
        assert_eq!(out.len(), 252);
        assert!(long.starts_with(&out));
        let host = format!("https://{}.example/", "a".repeat(300));
        assert_eq!(referrer_host(&host).len(), 253);
        let unicode_host = format!("https://{}/", "ü".repeat(300));
        assert_eq!(referrer_host(&unicode_host), "ü".repeat(126));
    }

    proptest! {
        #[test]
        fn never_panics(url in prop_oneof!["\\PC*", ".*", "[a-z:/?#&=@%.\\[\\]é_]{0,40}"]) {
            let r = reduce_url(&url);
            prop_assert!(!r.path.is_empty());
            prop_assert!(!r.path.contains('?') && !r.path.contains('#'));
            for param in r.utm.split('&').filter(|p| !p.is_empty()) {
                prop_assert!(param.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("utm_")));
            }
            let host = referrer_host(&url);
            prop_assert!(host.len() <= MAX_HOST);
        }

        #[test]
        fn paths_and_utm_survive(
            segs in prop::collection::vec("[a-zA-Z0-9._~%-]{1,8}", 0..4),
            utm in prop::collection::vec(("[a-z]{1,6}", "[a-zA-Z0-9%+]{0,6}"), 0..3),
            other in prop::collection::vec(("[a-z]{1,6}", "[a-zA-Z0-9%+]{0,6}"), 0..3),
        ) {
            let path = format!("/{}", segs.join("/"));
            let utm: Vec<String> = utm.iter().map(|(k, v)| format!("utm_{k}={v}")).collect();
            let other: Vec<String> = other.iter().map(|(k, v)| format!("x{k}={v}")).collect();
            let mut params = Vec::new();
            for (i, u) in utm.iter().enumerate() {
                params.push(u.clone());
                if let Some(o) = other.get(i) {
                    params.push(o.clone());
                }
            }
            params.extend(other.iter().skip(utm.len()).cloned());
            let url = format!("https://user@shop.example:443{path}?{}#frag", params.join("&"));
            prop_assert_eq!(reduce_url(&url), reduced(&path, &utm.join("&")));
        }
    }
}
