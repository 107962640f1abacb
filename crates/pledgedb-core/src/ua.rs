//! User-agent classification: a device class and a browser family.
//!
//! On ingest the user agent is classified once and then dropped; only the
//! [`UaInfo`] is kept. Parsing is done by the `woothee` crate; this module
//! maps its categories onto [`Device`] and adds tablet detection, which
//! woothee does not do (it reports iPads and Android tablets as
//! `smartphone`).

use crate::event::Device;
use std::collections::HashSet;
use std::sync::LazyLock;

/// At most this many bytes of a user agent are looked at (cut back to a
/// character boundary). Real user agents are well below it; a huge one costs
/// no more than this.
pub const MAX_UA_LEN: usize = 512;

/// The browser family given when none could be recognised.
pub const UNKNOWN_BROWSER: &str = "unknown";

/// What is kept of a user agent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UaInfo {
    /// The class of device.
    pub device: Device,
    /// The browser family as named by woothee (e.g. `"Chrome"`, `"Firefox"`,
    /// `"Safari"`, or a crawler's name such as `"Googlebot"`), or
    /// [`UNKNOWN_BROWSER`].
    pub browser: &'static str,
}

impl UaInfo {
    /// The classification of a missing or unrecognisable user agent.
    pub const UNKNOWN: UaInfo = UaInfo {
        device: Device::Unknown,
        browser: UNKNOWN_BROWSER,
    };
}

impl Default for UaInfo {
    fn default() -> Self {
        UaInfo::UNKNOWN
    }
}

/// Every name woothee can report. Its results borrow their names from its
/// static dataset, but the signature ties them to the input's lifetime; this
/// set gives back the `'static` string without allocating per call.
static KNOWN_NAMES: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    woothee::dataset::DATASET
        .values()
        .map(|entry| entry.name)
        .filter(|name| !name.is_empty())
        .collect()
});

/// Classifies a user agent into a device class and a browser family.
///
/// Only the first [`MAX_UA_LEN`] bytes are considered. An empty or
/// unrecognised user agent gives [`UaInfo::UNKNOWN`]. Never panics.
///
/// Mapping of woothee's categories: `pc` is [`Device::Desktop`],
/// `smartphone` and `mobilephone` are [`Device::Mobile`] (but an iPad, or an
/// Android device whose user agent lacks the `Mobile` token, is
/// [`Device::Tablet`]), `crawler` is [`Device::Bot`], and `appliance`, `misc`
/// (e.g. curl) and unknown are [`Device::Unknown`]. A headless browser
/// (`HeadlessChrome`) is a [`Device::Bot`].
#[must_use]
pub fn classify(user_agent: &str) -> UaInfo {
    /// User agents remembered per thread: real traffic repeats a few
    /// thousand user agents, and parsing one costs microseconds. The cache
    /// is keyed by a hash under a random per-thread key, so it never holds
    /// a user agent's text.
    const CACHE_MAX: usize = 4096;
    thread_local! {
        static KEY: crate::codec::hash::FoldState = crate::codec::hash::FoldState::new();
        static CACHE: std::cell::RefCell<std::collections::HashMap<u64, UaInfo>> =
            std::cell::RefCell::new(std::collections::HashMap::new());
    }
    use std::hash::BuildHasher;
    let ua = truncate(user_agent, MAX_UA_LEN);
    let h = KEY.with(|k| k.hash_one(ua));
    if let Some(hit) = CACHE.with(|c| c.borrow().get(&h).copied()) {
        return hit;
    }
    let info = classify_uncached(ua);
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= CACHE_MAX {
            c.clear();
        }
        c.insert(h, info);
    });
    info
}

fn classify_uncached(user_agent: &str) -> UaInfo {
    let ua = truncate(user_agent, MAX_UA_LEN).trim();
    if ua.is_empty() {
        return UaInfo::UNKNOWN;
    }
    let Some(parsed) = woothee::parser::Parser::new().parse(ua) else {
        return UaInfo::UNKNOWN;
    };
    let browser = KNOWN_NAMES
        .get(parsed.name)
        .copied()
        .unwrap_or(UNKNOWN_BROWSER);
    let device = match parsed.category {
        "pc" => Device::Desktop,
        "smartphone" | "mobilephone" => {
            if is_tablet(parsed.os, ua) {
                Device::Tablet
            } else {
                Device::Mobile
            }
        }
        "crawler" => Device::Bot,
        _ => Device::Unknown,
    };
    let device = if device != Device::Bot && ua.contains("HeadlessChrome") {
        Device::Bot
    } else {
        device
    };
    UaInfo { device, browser }
}

/// Whether a device woothee calls a smartphone is a tablet: an iPad, or an
/// Android device that does not say `Mobile` (Android tablets leave the token
/// out; Firefox for Android says `Tablet` instead of `Mobile`).
fn is_tablet(os: &str, ua: &str) -> bool {
    match os {
        "iPad" => true,
        "Android" => !ua.contains("Mobile"),
        _ => false,
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character
/// boundary.
fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const DESKTOP: &[(&str, &str)] = &[
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
            "Chrome",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.67",
            "Edge",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15",
            "Safari",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
            "Firefox",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 OPR/109.0.0.0",
            "Opera",
        ),
        (
            "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
            "Chrome",
        ),
        (
            "Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko",
            "Internet Explorer",
        ),
    ];

    const MOBILE: &[(&str, &str)] = &[
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1",
            "Safari",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1",
            "Chrome",
        ),
        (
            "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
            "Chrome",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
            "SamsungBrowser",
        ),
        (
            "Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0",
            "Firefox",
        ),
        (
            "Mozilla/5.0 (Linux; Android 9; CUBOT P30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
            "Chrome",
        ),
    ];

    const TABLET: &[(&str, &str)] = &[
        (
            "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
            "Safari",
        ),
        (
            "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1",
            "Chrome",
        ),
        (
            "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
            "Chrome",
        ),
        (
            "Mozilla/5.0 (Android 13; Tablet; rv:125.0) Gecko/125.0 Firefox/125.0",
            "Firefox",
        ),
    ];

    const BOT: &[(&str, &str)] = &[
        (
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Googlebot",
        ),
        (
            "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.201 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Googlebot",
        ),
        (
            "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
            "bingbot",
        ),
        (
            "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
            "misc crawler",
        ),
        (
            "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
            "misc crawler",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36",
            "Chrome",
        ),
    ];

    fn check(table: &[(&str, &'static str)], device: Device) {
        for &(ua, browser) in table {
            assert_eq!(classify(ua), UaInfo { device, browser }, "for {ua}");
        }
    }

    #[test]
    fn desktop_user_agents() {
        check(DESKTOP, Device::Desktop);
    }

    #[test]
    fn mobile_user_agents() {
        check(MOBILE, Device::Mobile);
    }

    #[test]
    fn tablet_user_agents() {
        check(TABLET, Device::Tablet);
    }

    #[test]
    fn bot_user_agents() {
        check(BOT, Device::Bot);
    }

    #[test]
    fn empty_and_unrecognised_are_unknown() {
        for ua in [
            "",
            "   ",
            "-",
            "python-requests/2.31.0",
            "garbage \u{1F600} ü",
        ] {
            assert_eq!(classify(ua), UaInfo::UNKNOWN, "for {ua:?}");
        }
        assert_eq!(UaInfo::default(), UaInfo::UNKNOWN);
    }

    #[test]
    fn appliances_and_tools_are_unknown_devices() {
        let ps4 =
            classify("Mozilla/5.0 (PlayStation 4 3.11) AppleWebKit/537.73 (KHTML, like Gecko)");
        assert_eq!(ps4.device, Device::Unknown);
        let curl = classify("curl/8.5.0");
        assert_eq!(curl.device, Device::Unknown);
    }

    #[test]
    fn long_user_agent_is_cut_at_a_char_boundary() {
        // A multi-byte character straddles the cut.
        let mut ua = String::from(DESKTOP[0].0);
        while ua.len() < MAX_UA_LEN - 1 {
            ua.push(' ');
        }
        ua.push('ü');
        ua.push_str(&"x".repeat(100_000));
        let got = classify(&ua);
        assert_eq!(got.device, Device::Desktop);
        assert_eq!(got.browser, "Chrome");
        assert!(truncate(&ua, MAX_UA_LEN).len() < MAX_UA_LEN);
        assert_eq!(truncate("abc", MAX_UA_LEN), "abc");
    }

    #[test]
    fn mobile_token_past_the_cut_is_not_seen() {
        // Only the first MAX_UA_LEN bytes count, even for the tablet check.
        let mut ua = String::from(
            "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
        );
        ua.push_str(&" ".repeat(MAX_UA_LEN));
        ua.push_str("Mobile");
        assert_eq!(classify(&ua).device, Device::Tablet);
    }

    proptest! {
        #[test]
        fn never_panics(ua in any::<String>()) {
            let got = classify(&ua);
            prop_assert!(!got.browser.is_empty());
        }

        #[test]
        fn never_panics_on_ua_like_input(ua in "(Mozilla|Chrome|Firefox|MSIE|Android|iPad|Windows|bot|Version|/|;|\\(|\\)| |[0-9.]){0,60}") {
            let _ = classify(&ua);
        }
    }
}
