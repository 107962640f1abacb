//! Which origins may send hits for which site. A registered domain `D`
//! allows `https://D`, `http://D` and every subdomain of `D` (any port);
//! `site add D --origin URL` adds origins for `D` alone (kept in
//! `DIR/serve/origins.json`), and the config file's `extra_origins` are
//! allowed for every site.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The extra origins of each site, as saved by `site add --origin`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SiteOrigins {
    sites: BTreeMap<String, Vec<String>>,
}

fn file(dir: &Path) -> PathBuf {
    dir.join("serve").join("origins.json")
}

impl SiteOrigins {
    /// Loads the file of a data directory (empty when there is none or it
    /// cannot be read).
    #[must_use]
    pub fn load(dir: &Path) -> SiteOrigins {
        std::fs::read(file(dir))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// Saves it: written to a temporary file, synced, renamed.
    pub fn save(&self, dir: &Path) -> std::io::Result<()> {
        let path = file(dir);
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p)?;
        }
        let tmp = path.with_extension("json.tmp");
        let bytes = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &path)
    }

    /// Adds origins for a site (the site is listed even with none).
    pub fn add(&mut self, domain: &str, origins: Vec<String>) {
        let v = self.sites.entry(domain.to_owned()).or_default();
        for o in origins {
            if !v.contains(&o) {
                v.push(o);
            }
        }
    }

    /// The extra origins of one site.
    #[must_use]
    pub fn extra(&self, domain: &str) -> &[String] {
        self.sites.get(domain).map_or(&[], Vec::as_slice)
    }
}

/// `scheme://host[:port]` in lower case without a trailing slash, or
/// `None` for anything else (a path, user info, an IP-address host).
#[must_use]
pub fn normalize_origin(o: &str) -> Option<String> {
    let o = o.trim().trim_end_matches('/').to_ascii_lowercase();
    let (scheme, rest) = o.split_once("://")?;
    if scheme != "http" && scheme != "https" {
        return None;
    }
    if rest.is_empty() || rest.contains(['/', '@', '?', '#', ' ']) {
        return None;
    }
    let host = host_of(rest);
    if host.is_empty()
        || pledgedb_core::text::contains_ip(host)
        || host.parse::<std::net::IpAddr>().is_ok()
    {
        return None;
    }
    Some(o)
}

/// The host of `host[:port]`.
fn host_of(authority: &str) -> &str {
    match authority.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => authority,
    }
}

/// Whether `origin` (an `Origin` header) may send hits for `domain`:
/// `http(s)://domain` or a subdomain of it on any port, one of the site's
/// own extra origins, or one of the global extra origins.
#[must_use]
pub fn allowed_for(origin: &str, domain: &str, site_extra: &[String], global: &[String]) -> bool {
    let o = origin.trim().to_ascii_lowercase();
    if site_extra.iter().chain(global).any(|e| *e == o) {
        return true;
    }
    let Some((scheme, rest)) = o.split_once("://") else {
        return false;
    };
    if scheme != "http" && scheme != "https" {
        return false;
    }
    let host = host_of(rest);
    host == domain
        || host
            .strip_suffix(domain)
            .is_some_and(|p| p.ends_with('.') && p.len() > 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_of_a_site_and_only_those() {
        let site = vec!["https://shop-example.pages.dev".to_owned()];
        let global = vec!["http://localhost:3000".to_owned()];
        let yes = [
            "https://shop.example",
            "http://shop.example",
            "https://www.shop.example",
            "https://a.b.shop.example:8443",
            "HTTPS://SHOP.EXAMPLE",
            "https://shop-example.pages.dev",
            "http://localhost:3000",
        ];
        let no = [
            "https://evil.example",
            "https://evilshop.example",
            "https://shop.example.evil.example",
            "https://.shop.example",
            "ftp://shop.example",
            "null",
            "",
            "https://shop-example.pages.dev.evil.example",
            "http://localhost:3001",
            "shop.example",
        ];
        for o in yes {
            assert!(allowed_for(o, "shop.example", &site, &global), "{o}");
        }
        for o in no {
            assert!(!allowed_for(o, "shop.example", &site, &global), "{o}");
        }
        // another site's extra origins do not count
        assert!(!allowed_for(
            "https://shop-example.pages.dev",
            "blog.example",
            &[],
            &global
        ));
    }

    #[test]
    fn origins_are_normalized_or_refused() {
        assert_eq!(
            normalize_origin("HTTPS://App.Example.net/").as_deref(),
            Some("https://app.example.net")
        );
        assert_eq!(
            normalize_origin("http://localhost:3000").as_deref(),
            Some("http://localhost:3000")
        );
        for bad in [
            "app.example.net",
            "https://app.example.net/path",
            "https://user@app.example.net",
            "https://203.0.113.9",
            "https://[2001:db8::1]:443",
            "javascript://x",
            "https://",
        ] {
            assert_eq!(normalize_origin(bad), None, "{bad}");
        }
    }
}
