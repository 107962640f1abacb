//! The static material traffic is made of: countries and their networks,
//! user agents, referrers, campaigns, page tables and forms.

/// The networks the generator draws client IPs from, as `(CIDR, ISO 3166-1
/// alpha-2 code)`. They are documentation and special-use blocks
/// (`192.0.2.0/24`, `198.51.100.0/24`, `203.0.113.0/24`, `2001:db8::/32`,
/// the shared address space `100.64.0.0/10` and the benchmarking block
/// `198.18.0.0/15`), cut into pieces, one or more per country, so no real
/// person's address is ever generated. They do not overlap. Build a GeoIP
/// database from this list and every generated hit resolves to its country.
pub const COUNTRY_NETWORKS: &[(&str, &str)] = &[
    ("203.0.113.0/25", "US"),
    ("100.64.0.0/14", "US"),
    ("2001:db8:1::/48", "US"),
    ("198.51.100.0/25", "DE"),
    ("100.68.0.0/14", "DE"),
    ("2001:db8:49::/48", "DE"),
    ("203.0.113.128/25", "GB"),
    ("100.72.0.0/14", "GB"),
    ("2001:db8:44::/48", "GB"),
    ("198.51.100.128/25", "FR"),
    ("100.76.0.0/14", "FR"),
    ("2001:db8:33::/48", "FR"),
    ("100.84.0.0/14", "IN"),
    ("2001:db8:91::/48", "IN"),
    ("100.88.0.0/14", "BR"),
    ("100.92.0.0/14", "JP"),
    ("2001:db8:81::/48", "JP"),
    ("192.0.2.128/25", "CA"),
    ("100.80.0.0/14", "CA"),
    ("192.0.2.0/25", "NL"),
    ("2001:db8:31::/48", "NL"),
    ("198.18.0.0/16", "AU"),
    ("198.19.0.0/16", "SE"),
    ("2001:db8:46::/48", "SE"),
];

/// Countries and their share of human visitors (weights, not percent).
/// Every code here has at least one network in [`COUNTRY_NETWORKS`] and the
/// other way round (checked by a test).
pub(crate) const COUNTRIES: &[(&str, u32)] = &[
    ("US", 28),
    ("DE", 14),
    ("GB", 11),
    ("IN", 9),
    ("FR", 8),
    ("BR", 6),
    ("JP", 6),
    ("CA", 5),
    ("NL", 5),
    ("AU", 4),
    ("SE", 4),
];

/// The class of a user agent, as the generator means it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum UaClass {
    Desktop,
    Mobile,
    Tablet,
    Bot,
}

/// Human browsers: user agent, weight, class.
pub(crate) const HUMAN_AGENTS: &[(&str, u32, UaClass)] = &[
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        24,
        UaClass::Desktop,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
        6,
        UaClass::Desktop,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
        5,
        UaClass::Desktop,
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
        8,
        UaClass::Desktop,
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        8,
        UaClass::Desktop,
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:133.0) Gecko/20100101 Firefox/133.0",
        2,
        UaClass::Desktop,
    ),
    (
        "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        3,
        UaClass::Desktop,
    ),
    (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        2,
        UaClass::Desktop,
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
        18,
        UaClass::Mobile,
    ),
    (
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
        14,
        UaClass::Mobile,
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
        3,
        UaClass::Mobile,
    ),
    (
        "Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
        3,
        UaClass::Tablet,
    ),
];

/// Crawlers: user agent, weight.
pub(crate) const BOT_AGENTS: &[(&str, u32)] = &[
    (
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        6,
    ),
    (
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        3,
    ),
    (
        "DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)",
        1,
    ),
];

/// Where a visit comes from: referring URL (`None`: direct), weight.
pub(crate) const REFERRERS: &[(Option<&str>, u32)] = &[
    (None, 38),
    (Some("https://www.google.com/"), 30),
    (Some("https://duckduckgo.com/"), 7),
    (Some("https://www.bing.com/"), 4),
    (Some("https://news.ycombinator.com/item?id=41234567"), 5),
    (Some("https://t.co/x7Yq2LmN3p"), 3),
    (Some("https://x.com/somebody/status/1850000000000000000"), 2),
    (Some("https://www.reddit.com/r/programming/"), 4),
    (Some("https://lobste.rs/s/a1b2c3"), 2),
    (
        Some("https://mastodon.social/@somebody/113500000000000000"),
        2,
    ),
    (Some("https://github.com/"), 3),
];

/// Query strings of campaign landings.
pub(crate) const CAMPAIGNS: &[&str] = &[
    "?utm_source=newsletter&utm_medium=email&utm_campaign=spring_sale",
    "?utm_source=twitter&utm_medium=social&utm_campaign=launch",
    "?utm_source=hn&utm_campaign=show_hn",
    "?utm_source=google&utm_medium=cpc&utm_campaign=brand",
    "?utm_source=mastodon&utm_medium=social",
];

/// What a click lands on.
pub(crate) const CLICK_TARGETS: &[&str] = &[
    "a.nav-link",
    "button.cta",
    "a.card",
    "button#add-to-cart",
    "a.footer-link",
    "img.hero",
    "button.menu-toggle",
    "a.pagination-next",
];

/// The kind of value a form field holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ValueKind {
    Email,
    Name,
    Address,
    Password,
    Card,
    Cvc,
}

/// A form field as the page defines it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FieldDef {
    pub(crate) name: &'static str,
    pub(crate) input_type: &'static str,
    pub(crate) autocomplete: Option<&'static str>,
    /// The engine must drop this field's value on submit.
    pub(crate) sensitive: bool,
    pub(crate) value: ValueKind,
}

/// A form on a page.
#[derive(Debug)]
pub(crate) struct FormDef {
    pub(crate) name: &'static str,
    pub(crate) fields: &'static [FieldDef],
}

const fn field(
    name: &'static str,
    input_type: &'static str,
    autocomplete: Option<&'static str>,
    sensitive: bool,
    value: ValueKind,
) -> FieldDef {
    FieldDef {
        name,
        input_type,
        autocomplete,
        sensitive,
        value,
    }
}

pub(crate) const SIGNUP: FormDef = FormDef {
    name: "signup",
    fields: &[
        field("email", "email", Some("email"), false, ValueKind::Email),
        field("name", "text", Some("name"), false, ValueKind::Name),
        field(
            "password",
            "password",
            Some("new-password"),
            true,
            ValueKind::Password,
        ),
    ],
};

pub(crate) const CHECKOUT: FormDef = FormDef {
    name: "checkout",
    fields: &[
        field("email", "email", Some("email"), false, ValueKind::Email),
        field("full_name", "text", Some("name"), false, ValueKind::Name),
        field(
            "address",
            "text",
            Some("street-address"),
            false,
            ValueKind::Address,
        ),
        field(
            "card_number",
            "text",
            Some("cc-number"),
            true,
            ValueKind::Card,
        ),
        field("card_cvc", "text", Some("cc-csc"), true, ValueKind::Cvc),
    ],
};

pub(crate) const NEWSLETTER: FormDef = FormDef {
    name: "newsletter",
    fields: &[
        field("email", "email", Some("email"), false, ValueKind::Email),
        field("name", "text", Some("name"), false, ValueKind::Name),
    ],
};

pub(crate) const FIRST_NAMES: &[&str] = &[
    "Alex", "Sam", "Maria", "Jonas", "Aiko", "Priya", "Lucas", "Emma", "Noah", "Lea", "Omar",
    "Sofia", "Ines", "Mateo", "Yuki", "Ravi",
];

pub(crate) const LAST_NAMES: &[&str] = &[
    "Smith", "Mueller", "Tanaka", "Sharma", "Silva", "Martin", "Jansen", "Brown", "Dubois",
    "Nilsson", "Garcia", "Kim",
];

pub(crate) const STREETS: &[&str] = &[
    "Example Street",
    "Sample Road",
    "Test Avenue",
    "Placeholder Lane",
    "Demo Way",
];

pub(crate) const TEST_CARDS: &[&str] = &[
    "4111 1111 1111 1111",
    "4242 4242 4242 4242",
    "5555 5555 5555 4444",
];

/// The custom events a page may fire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CustomDef {
    /// `add_to_cart` on a product page.
    AddToCart,
    /// `copy_code` on a documentation page.
    CopyCode,
    /// `share` on a blog post.
    Share,
}

pub(crate) const CODE_LANGS: &[&str] = &["rust", "shell", "python", "toml"];
pub(crate) const SHARE_NETWORKS: &[&str] = &["mastodon", "bluesky", "email", "linkedin"];

/// One page of a site.
#[derive(Debug, Clone)]
pub(crate) struct Page {
    pub(crate) path: String,
    pub(crate) form: Option<&'static FormDef>,
    pub(crate) custom: Option<CustomDef>,
}

fn page(path: impl Into<String>) -> Page {
    let path = path.into();
    let custom = if path.starts_with("/products/item-") {
        Some(CustomDef::AddToCart)
    } else if path.starts_with("/docs/") {
        Some(CustomDef::CopyCode)
    } else if path.starts_with("/blog/post-") {
        Some(CustomDef::Share)
    } else {
        None
    };
    Page {
        path,
        form: None,
        custom,
    }
}

fn form_page(path: &str, form: &'static FormDef) -> Page {
    Page {
        path: path.to_string(),
        form: Some(form),
        custom: None,
    }
}

/// The pages of a site, most popular first (rank order for the Zipf draw).
/// The kind of site is guessed from the first label of its name: `shop`,
/// `blog`, `docs`, anything else gets a generic site. Always 40 pages.
pub(crate) fn site_pages(domain: &str) -> Vec<Page> {
    let kind = domain.split('.').next().unwrap_or("");
    let mut v = Vec::with_capacity(40);
    match kind {
        "shop" | "store" => {
            v.push(page("/"));
            v.push(page("/products"));
            v.push(page("/pricing"));
            v.push(page("/products/item-1"));
            v.push(page("/cart"));
            v.push(page("/products/item-2"));
            v.push(form_page("/checkout", &CHECKOUT));
            v.push(page("/products/item-3"));
            v.push(page("/about"));
            v.push(form_page("/signup", &SIGNUP));
            v.push(page("/products/item-4"));
            v.push(page("/faq"));
            v.push(page("/contact"));
            v.push(page("/shipping"));
            v.push(page("/returns"));
            for i in 5..=20 {
                v.push(page(format!("/products/item-{i}")));
            }
            for i in 1..=6 {
                v.push(page(format!("/blog/post-{i}")));
            }
            v.push(page("/careers"));
            v.push(page("/privacy"));
            v.push(page("/terms"));
        }
        "blog" => {
            v.push(page("/"));
            v.push(page("/blog"));
            v.push(page("/blog/post-1"));
            v.push(page("/about"));
            v.push(page("/blog/post-2"));
            v.push(form_page("/newsletter", &NEWSLETTER));
            v.push(page("/blog/post-3"));
            v.push(page("/tags/rust"));
            v.push(page("/blog/post-4"));
            v.push(page("/tags/privacy"));
            v.push(page("/contact"));
            for i in 5..=30 {
                v.push(page(format!("/blog/post-{i}")));
            }
            v.push(page("/archive"));
            v.push(page("/rss"));
            v.push(page("/privacy"));
        }
        "docs" => {
            v.push(page("/"));
            v.push(page("/docs"));
            v.push(page("/docs/getting-started"));
            v.push(page("/docs/install"));
            v.push(page("/pricing"));
            v.push(form_page("/signup", &SIGNUP));
            v.push(page("/docs/api"));
            v.push(page("/docs/faq"));
            v.push(page("/changelog"));
            v.push(page("/docs/config"));
            for i in 1..=25 {
                v.push(page(format!("/docs/guides/guide-{i}")));
            }
            v.push(page("/status"));
            v.push(page("/support"));
            v.push(page("/privacy"));
            v.push(page("/terms"));
            v.push(page("/blog"));
        }
        _ => {
            v.push(page("/"));
            v.push(page("/about"));
            v.push(page("/pricing"));
            v.push(form_page("/signup", &SIGNUP));
            v.push(page("/contact"));
            v.push(page("/blog"));
            for i in 1..=34 {
                v.push(page(format!("/page-{i}")));
            }
        }
    }
    v
}

/// A table for drawing an index with given weights.
#[derive(Debug, Clone)]
pub(crate) struct Weighted {
    cum: Vec<f64>,
}

impl Weighted {
    pub(crate) fn new(weights: impl IntoIterator<Item = f64>) -> Weighted {
        let mut total = 0.0;
        let cum = weights
            .into_iter()
            .map(|w| {
                total += w.max(0.0);
                total
            })
            .collect();
        Weighted { cum }
    }

    /// Zipf weights `1 / rank^s` for `n` ranks.
    pub(crate) fn zipf(n: usize, s: f64) -> Weighted {
        Weighted::new((1..=n).map(|r| 1.0 / (r as f64).powf(s)))
    }

    /// The index for a uniform draw `u` in `[0, 1)`.
    pub(crate) fn index(&self, u: f64) -> usize {
        let total = self.cum.last().copied().unwrap_or(0.0);
        let target = u * total;
        self.cum
            .partition_point(|&c| c <= target)
            .min(self.cum.len().saturating_sub(1))
    }
}
