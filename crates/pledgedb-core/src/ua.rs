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

/// Why a user agent is a [`Device::Bot`]: not a person's browser.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BotClass {
    /// A search or other crawler, or a headless browser (woothee's
    /// `crawler` category, `HeadlessChrome`).
    Crawler,
    /// A feed reader or podcast app polling a feed ([`FEED_READERS`], or a
    /// word of the user agent containing `rss`, `feed` or `podcast`).
    FeedReader,
    /// An HTTP library or command-line tool ([`HTTP_LIBRARIES`]).
    HttpLibrary,
}

impl BotClass {
    /// A short snake_case name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            BotClass::Crawler => "crawler",
            BotClass::FeedReader => "feed_reader",
            BotClass::HttpLibrary => "http_library",
        }
    }
}

/// Feed readers, feed fetchers and podcast apps, matched case-insensitively
/// anywhere in the user agent (spaces optional). Besides these, any word of
/// the user agent (a run of ASCII letters and digits) that contains `rss`,
/// `feed` or `podcast` marks a feed reader (`FreshRSS`, `Feedbin`,
/// `FeedFetcher-Google`, `UniversalFeedParser`, `Podcasts/1650`, a generic
/// "RSS reader"). The classification uses the name as browser family.
pub const FEED_READERS: &[&str] = &[
    "Feedly",
    "Inoreader",
    "NewsBlur",
    "Tiny Tiny RSS",
    "FreshRSS",
    "Miniflux",
    "NetNewsWire",
    "Feedbin",
    "Feedspot",
    "FeedFetcher-Google",
    "Feedbro",
    "FeedHQ",
    "Feeder",
    "Newsboat",
    "Newsbeuter",
    "Liferea",
    "Akregator",
    "QuiteRSS",
    "RSSOwl",
    "The Old Reader",
    "TheOldReader",
    "BazQux",
    "Bloglovin",
    "Netvibes",
    "NewsGator",
    "Superfeedr",
    "SimplePie",
    "Selfoss",
    "Nextcloud-News",
    "Reeder",
    "ReadKit",
    "Fiery Feeds",
    "Newsify",
    "rss2email",
    "Overcast",
    "Pocket Casts",
    "PocketCasts",
    "AntennaPod",
    "Podcast Addict",
    "PodcastAddict",
    "Castro",
    "gPodder",
    "Downcast",
    "BeyondPod",
    "Podkicker",
    "Podbean",
    "Podverse",
    "Player FM",
    "CastBox",
    "iCatcher",
    "iTunes",
    "Spotify",
    "Stitcher",
    "Podchaser",
    "Podcast Republic",
    "Breaker",
    "Bloglines",
    "RSS Bandit",
];

/// HTTP libraries and command-line tools, matched case-insensitively
/// against the product names of the user agent (`name/version`, or a bare
/// word, anywhere in it, also inside parentheses), so `curl/8.5.0`,
/// `Python/3.11 aiohttp/3.9` and `Apache-HttpClient/4.5 (Java/17)` match but
/// a browser's `Mozilla/5.0 ... Safari/537.36` does not. The classification
/// uses the name as browser family.
pub const HTTP_LIBRARIES: &[&str] = &[
    "curl",
    "libcurl",
    "PycURL",
    "Wget",
    "Wget2",
    "aria2",
    "python-requests",
    "python-urllib",
    "Python-urllib3",
    "urllib3",
    "urllib",
    "python-httpx",
    "httpx",
    "aiohttp",
    "httplib2",
    "python",
    "Go-http-client",
    "fasthttp",
    "Java",
    "Java-http-client",
    "okhttp",
    "Apache-HttpClient",
    "Apache-HttpAsyncClient",
    "Jakarta Commons-HttpClient",
    "AHC",
    "Jetty",
    "Vert.x-WebClient",
    "Ktor client",
    "axios",
    "node-fetch",
    "undici",
    "got",
    "Deno",
    "Bun",
    "libwww-perl",
    "lwp-request",
    "LWP::Simple",
    "Mechanize",
    "WWW-Mechanize",
    "GuzzleHttp",
    "Guzzle",
    "PHP",
    "WordPress",
    "Zend_Http_Client",
    "Symfony HttpClient",
    "HTTPie",
    "reqwest",
    "hyper",
    "ureq",
    "isahc",
    "Ruby",
    "Faraday",
    "http.rb",
    "rest-client",
    "Typhoeus",
    "Dart",
    "RestSharp",
    "WinHttp",
    "WinHttpRequest",
    "PowerShell",
    "WindowsPowerShell",
    "PostmanRuntime",
    "insomnia",
    "Scrapy",
    "colly",
    "HTTPClient",
    "hackney",
    "Elixir",
];

/// Whether a feed reader or an HTTP library made the request, and its name.
fn automated_client(ua: &str) -> Option<(BotClass, &'static str)> {
    // Product names: the part before '/' of each token between spaces,
    // parentheses, semicolons and commas.
    for token in ua.split(|c: char| c.is_whitespace() || "();,".contains(c)) {
        let name = token.split('/').next().unwrap_or("");
        if name.is_empty() {
            continue;
        }
        if let Some(lib) = HTTP_LIBRARIES
            .iter()
            .find(|l| !l.contains(' ') && l.eq_ignore_ascii_case(name))
        {
            return Some((BotClass::HttpLibrary, lib));
        }
    }
    let squeezed: String = ua
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect();
    for lib in HTTP_LIBRARIES.iter().filter(|l| l.contains(' ')) {
        let l: String = lib.split_whitespace().collect::<String>().to_lowercase();
        if squeezed.contains(&format!("{l}/")) || squeezed.starts_with(&l) {
            return Some((BotClass::HttpLibrary, lib));
        }
    }
    for name in FEED_READERS {
        let n: String = name.split_whitespace().collect::<String>().to_lowercase();
        if squeezed.contains(&n) {
            return Some((BotClass::FeedReader, name));
        }
    }
    let generic = ua.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| {
        let w = w.to_ascii_lowercase();
        w.contains("rss") || w.contains("feed") || w.contains("podcast")
    });
    generic.then_some((BotClass::FeedReader, "feed reader"))
}

/// Why the engine classifies a user agent as [`Device::Bot`], or `None` if
/// it does not (a person's browser, or an unknown client).
///
/// Feed readers and HTTP libraries are recognised before woothee's crawler
/// category, so a fetcher woothee also lists as a crawler (`Feedly`) is a
/// [`BotClass::FeedReader`]. Only the first [`MAX_UA_LEN`] bytes are looked
/// at. Never panics.
#[must_use]
pub fn bot_class(user_agent: &str) -> Option<BotClass> {
    let ua = truncate(user_agent, MAX_UA_LEN).trim();
    if let Some((class, _)) = automated_client(ua) {
        return Some(class);
    }
    (classify(ua).device == Device::Bot).then_some(BotClass::Crawler)
}

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
/// (`HeadlessChrome`) is a [`Device::Bot`]. So are feed readers, podcast
/// apps and HTTP libraries ([`FEED_READERS`], [`HTTP_LIBRARIES`]; see
/// [`bot_class`]), whatever woothee says: they poll feeds and call APIs, they
/// are not people reading pages. Their browser family is the name matched.
#[must_use]
pub fn classify(user_agent: &str) -> UaInfo {
    /// User agents remembered per thread: real traffic repeats a few
    /// thousand user agents, and parsing one costs microseconds. The cache
    /// is keyed by a hash under a random per-thread key, so it never holds
    /// a user agent's text.
    const CACHE_MAX: usize = 4096;
    thread_local! {
        static KEY: crate::hash::FoldState = crate::hash::FoldState::new();
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
    if let Some((_, name)) = automated_client(ua) {
        return UaInfo {
            device: Device::Bot,
            browser: name,
        };
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
        for ua in ["", "   ", "-", "garbage \u{1F600} ü"] {
            assert_eq!(classify(ua), UaInfo::UNKNOWN, "for {ua:?}");
        }
        assert_eq!(UaInfo::default(), UaInfo::UNKNOWN);
    }

    #[test]
    fn appliances_and_tools_are_unknown_devices() {
        let ps4 =
            classify("Mozilla/5.0 (PlayStation 4 3.11) AppleWebKit/537.73 (KHTML, like Gecko)");
        assert_eq!(ps4.device, Device::Unknown);
        // Tools are bots now (see `feed_readers_and_http_libraries_are_bots`).
        let curl = classify("curl/8.5.0");
        assert_eq!(curl.device, Device::Bot);
    }

    const FEEDS: &[&str] = &[
        "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 16 subscribers; like FeedFetcher-Google)",
        "Mozilla/5.0 (compatible; Inoreader/1.0; +http://www.inoreader.com/feed-fetcher; 3 subscribers)",
        "NewsBlur Feed Fetcher - 12 subscribers - http://www.newsblur.com/site/123/ (Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_5) AppleWebKit/537.36)",
        "Tiny Tiny RSS/22.08-a1b2c3d (https://tt-rss.org/)",
        "FreshRSS/1.23.1 (Linux; https://freshrss.org)",
        "Mozilla/5.0 (compatible; Miniflux/2.0.50; +https://miniflux.app)",
        "NetNewsWire (RSS Reader; https://netnewswire.com/)",
        "Feedbin feed-id:1234 - 5 subscribers",
        "Mozilla/5.0 (compatible; Feedspot/1.0 (+https://www.feedspot.com/fs/fetcher; like FeedFetcher-Google)",
        "FeedFetcher-Google; (+http://www.google.com/feedfetcher.html)",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36 RSSReader/2",
        "SomeFeedReader/0.3",
        "UniversalFeedParser/6.0.10 +https://github.com/kurtmckee/feedparser/",
        "Overcast/1.0 Podcast Sync (3 subscribers; feed-id=123; +http://overcast.fm/)",
        "PocketCasts/1.0 (Pocket Casts Feed Parser; +http://pocketcasts.com/)",
        "AntennaPod/3.2.0",
        "Podcasts/1650.20 CFNetwork/1408.0.4 Darwin/22.5.0",
        "PodcastAddict/v5 (+https://podcastaddict.com/; Android podcast app)",
        "gPodder/3.11.1 (+http://gpodder.org/) Linux",
        "iTunes/12.12 (Macintosh; OS X 13.4) AppleWebKit/615.2.9",
        "Spotify/1.0",
        "Mozilla/5.0 (compatible; Feeder.co/2.0)",
        "Elfeed/3.4.1",
    ];

    const LIBRARIES: &[&str] = &[
        "curl/8.5.0",
        "Wget/1.21.4",
        "Wget",
        "python-requests/2.31.0",
        "Python-urllib/3.11",
        "Go-http-client/1.1",
        "Go-http-client/2.0",
        "Java/17.0.2",
        "okhttp/4.12.0",
        "axios/1.6.2",
        "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
        "node-fetch",
        "libwww-perl/6.72",
        "Apache-HttpClient/4.5.13 (Java/11.0.16)",
        "GuzzleHttp/7",
        "HTTPie/3.2.2",
        "Python/3.11 aiohttp/3.9.1",
        "python-httpx/0.27.0",
        "reqwest/0.12.4",
        "Ruby",
        "PostmanRuntime/7.36.0",
        "Jakarta Commons-HttpClient/3.1",
        "Dart/3.2 (dart:io)",
        "got (https://github.com/sindresorhus/got)",
        "WordPress/6.4.2; https://blog.example",
        "Mozilla/5.0 (Windows NT; Windows NT 10.0; en-US) WindowsPowerShell/5.1.19041.3803",
        "Bun/1.0.25",
    ];

    #[test]
    fn feed_readers_and_http_libraries_are_bots() {
        for (table, class) in [
            (FEEDS, BotClass::FeedReader),
            (LIBRARIES, BotClass::HttpLibrary),
        ] {
            for ua in table {
                let got = classify(ua);
                assert_eq!(got.device, Device::Bot, "for {ua}");
                assert_ne!(got.browser, UNKNOWN_BROWSER, "for {ua}");
                assert_eq!(bot_class(ua), Some(class), "for {ua}");
            }
        }
        assert_eq!(classify("curl/8.5.0").browser, "curl");
        assert_eq!(
            classify("Feedly/1.0 (+http://www.feedly.com/)").browser,
            "Feedly"
        );
    }

    #[test]
    fn browsers_are_not_bots_and_crawlers_are_crawlers() {
        for table in [DESKTOP, MOBILE, TABLET] {
            for (ua, _) in table {
                assert_eq!(bot_class(ua), None, "for {ua}");
            }
        }
        // People's browsers and in-app browsers that name many products.
        for ua in [
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/21E219 [FBAN/FBIOS;FBDV/iPhone14,5;FBMD/iPhone;FBSN/iOS;FBSV/17.4;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5]",
            "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/AP1A.240405.002; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/124.0.6367.54 Mobile Safari/537.36 Instagram 327.0.0.34.120 Android",
            "Mozilla/5.0 (Linux; U; Android 10; en-US; RMX2030 Build/QKQ1.200209.002) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/78.0.3904.108 UCBrowser/13.4.0.1306 Mobile Safari/537.36",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 YaBrowser/24.4.0.0 Safari/537.36",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Vivaldi/6.7",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 DuckDuckGo/7 Safari/605.1.15",
            "Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-A536B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
        ] {
            assert_eq!(bot_class(ua), None, "for {ua}");
            assert_ne!(classify(ua).device, Device::Bot, "for {ua}");
        }
        for (ua, _) in BOT {
            assert_eq!(bot_class(ua), Some(BotClass::Crawler), "for {ua}");
        }
        for ua in ["", "-", "garbage"] {
            assert_eq!(bot_class(ua), None);
        }
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
        fn bot_class_agrees_with_the_device(ua in "(Mozilla|Chrome|curl|Feed|rss|Java|Podcast|python-requests|/|;|\\(|\\)| |[0-9.]|[a-z]){0,40}") {
            prop_assert_eq!(classify(&ua).device == Device::Bot, bot_class(&ua).is_some());
        }

        #[test]
        fn never_panics_on_ua_like_input(ua in "(Mozilla|Chrome|Firefox|MSIE|Android|iPad|Windows|bot|Version|/|;|\\(|\\)| |[0-9.]){0,60}") {
            let _ = classify(&ua);
        }
    }
}
