//! The `serve` and `site` commands of the `pledgedb` binary. The shell
//! only parses the top-level arguments and calls [`serve`] or [`site`].

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use pledgedb_core::{Config, Db};

use crate::config::{ServerConfig, parse_proxies};
use crate::sites::SiteOrigins;

/// `pledgedb serve DIR [--listen ADDR] [--geoip PATH] [--trusted-proxies
/// CIDR,...] [--config FILE]`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The data directory (also accepted before `serve`).
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Where to listen (default 127.0.0.1:8000, loopback only).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,
    /// A MaxMind-format country database.
    #[arg(long, value_name = "PATH")]
    pub geoip: Option<PathBuf>,
    /// Proxies whose X-Forwarded-For hop is believed, comma-separated CIDR
    /// blocks or addresses (default: none; the connection's address is the
    /// client's).
    #[arg(long, value_name = "CIDR,...")]
    pub trusted_proxies: Option<String>,
    /// A TOML file with everything else (limits, rates, commit interval,
    /// extra origins); see docs/serve.md.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// `pledgedb DIR site ...`.
#[derive(Debug, Args)]
pub struct SiteArgs {
    #[command(subcommand)]
    command: SiteCommand,
}

#[derive(Debug, Subcommand)]
enum SiteCommand {
    /// Registers a site: the collector accepts hits for it (and only for
    /// registered sites), and CORS allows https://D, http://D and its
    /// subdomains, plus every --origin.
    Add {
        /// The site's domain, e.g. shop.example.
        #[arg(value_name = "D")]
        domain: String,
        /// Another origin allowed to send hits for this site (repeatable),
        /// e.g. https://shop-example.pages.dev.
        #[arg(long = "origin", value_name = "URL")]
        origins: Vec<String>,
    },
    /// Lists the registered sites and their extra origins.
    List,
}

/// The server's configuration from flags and the config file. Flags win
/// over the file.
pub fn server_config(
    args: &ServeArgs,
    geoip: Option<PathBuf>,
) -> Result<ServerConfig, crate::config::ConfigError> {
    let mut c = ServerConfig::default();
    if let Some(f) = &args.config {
        c.apply_file(f)?;
    }
    if let Some(l) = args.listen {
        c.listen = l;
    }
    if let Some(g) = args.geoip.clone().or(geoip) {
        c.geoip = Some(g);
    }
    if let Some(p) = &args.trusted_proxies {
        c.trusted_proxies = parse_proxies(p.split(','))?;
    }
    Ok(c)
}

/// The engine's configuration under `serve`: no domain is ever created
/// by a hit, only by `site add`.
#[must_use]
pub fn engine_config(c: &ServerConfig) -> Config {
    let mut cfg = Config {
        create_domains_on_ingest: false,
        ..Config::default()
    };
    cfg.geoip.clone_from(&c.geoip);
    cfg
}

fn pick_dir(before: Option<PathBuf>, after: Option<PathBuf>) -> Result<PathBuf, ExitCode> {
    match (before, after) {
        (Some(_), Some(_)) => {
            eprintln!("Error: give the data directory once, before or after `serve`");
            Err(ExitCode::from(2))
        }
        (Some(d), None) | (None, Some(d)) => Ok(d),
        (None, None) => Ok(PathBuf::from("pledgedb-data")),
    }
}

/// `pledgedb serve`: runs until Ctrl-C or SIGTERM, then flushes and exits.
#[must_use]
pub fn serve(dir: Option<PathBuf>, geoip: Option<PathBuf>, args: ServeArgs) -> ExitCode {
    let dir = match pick_dir(dir, args.dir.clone()) {
        Ok(d) => d,
        Err(code) => return code,
    };
    let config = match server_config(&args, geoip) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("Error: {e}");
            return ExitCode::from(2);
        }
    };
    let db = match Db::open(&dir, engine_config(&config)) {
        Ok(db) => db,
        Err(e) => {
            eprintln!("Error: cannot open the data directory: {e}");
            return ExitCode::FAILURE;
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("Error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(async move {
        let server = crate::Server::bind(db, config).await?;
        let addr = server.local_addr()?;
        let sites = server.state().db.domains();
        println!(
            "pledgedb serve: http://{addr}/ for {} site(s); Ctrl-C stops",
            sites.len()
        );
        server.run(crate::server::shutdown_signal()).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {}", pledgedb_core::text::redact_ips(&e.to_string()));
            ExitCode::FAILURE
        }
    }
}

/// `pledgedb DIR site add D [--origin URL]...` and `pledgedb DIR site list`.
#[must_use]
pub fn site(dir: &Path, args: SiteArgs) -> ExitCode {
    let db = match Db::open(dir, Config::default()) {
        Ok(db) => db,
        Err(e) => {
            eprintln!("Error: cannot open the data directory: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = match args.command {
        SiteCommand::Add { domain, origins } => site_add(&db, &domain, &origins),
        SiteCommand::List => {
            let o = SiteOrigins::load(db.path());
            for d in db.domains() {
                let extra = o.extra(&d);
                if extra.is_empty() {
                    println!("{d}");
                } else {
                    println!("{d}  (also {})", extra.join(", "));
                }
            }
            ExitCode::SUCCESS
        }
    };
    if let Err(e) = db.close() {
        eprintln!("Error: {e}");
        return ExitCode::FAILURE;
    }
    code
}

fn site_add(db: &Db, domain: &str, origins: &[String]) -> ExitCode {
    let domain = domain.trim().to_ascii_lowercase();
    let mut normalized = Vec::new();
    for o in origins {
        match crate::sites::normalize_origin(o) {
            Some(n) => normalized.push(n),
            None => {
                eprintln!(
                    "Error: --origin must be an origin such as https://app.example.net \
                     (scheme and host, no path, not an IP address)"
                );
                return ExitCode::from(2);
            }
        }
    }
    if let Err(e) = db.create_domain(&domain) {
        eprintln!("Error: {e}");
        return ExitCode::from(2);
    }
    let mut o = SiteOrigins::load(db.path());
    o.add(&domain, normalized);
    if let Err(e) = o.save(db.path()) {
        eprintln!("Error: cannot save the site's origins: {e}");
        return ExitCode::FAILURE;
    }
    println!("site {domain} registered. Paste into every page of it:");
    println!();
    println!(
        "  <script defer src=\"https://YOUR-PLEDGEDB-SERVER/pledge.js\" data-domain=\"{domain}\"></script>"
    );
    println!();
    println!("(pledge.full.js also records clicks, scroll depth and form interactions.)");
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Serve {
        #[command(flatten)]
        args: ServeArgs,
    }

    #[derive(Parser)]
    struct Site {
        #[command(flatten)]
        args: SiteArgs,
    }

    #[test]
    fn flags_win_over_the_config_file_and_bad_proxies_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("serve.toml");
        std::fs::write(
            &f,
            "listen = \"127.0.0.1:9001\"\ntrusted_proxies = [\"10.0.0.0/8\"]\nmax_batch = 7\n",
        )
        .unwrap();
        let fs = f.to_str().unwrap();
        let s = Serve::parse_from(["serve", "data", "--config", fs]);
        let c = server_config(&s.args, None).unwrap();
        assert_eq!(c.listen.port(), 9001);
        assert_eq!(c.max_batch, 7);
        assert_eq!(c.trusted_proxies.len(), 1);
        let s = Serve::parse_from([
            "serve",
            "--listen",
            "127.0.0.1:9002",
            "--trusted-proxies",
            "127.0.0.1, 192.168.0.0/16",
            "--config",
            fs,
        ]);
        let c = server_config(&s.args, Some("g.mmdb".into())).unwrap();
        assert_eq!(c.listen.port(), 9002);
        assert_eq!(c.trusted_proxies.len(), 2);
        assert_eq!(c.geoip.as_deref(), Some(Path::new("g.mmdb")));
        assert!(!engine_config(&c).create_domains_on_ingest);
        let s = Serve::parse_from(["serve", "--trusted-proxies", "203.0.113.9/77"]);
        let e = server_config(&s.args, None).unwrap_err().to_string();
        assert!(!e.contains("203.0.113.9"), "{e}");
        // the directory once, before or after `serve`
        assert!(pick_dir(Some("a".into()), Some("b".into())).is_err());
        assert_eq!(
            pick_dir(None, Some("b".into())).unwrap(),
            PathBuf::from("b")
        );
    }

    #[test]
    fn site_add_registers_the_domain_and_its_origins_and_refuses_bad_ones() {
        let dir = tempfile::tempdir().unwrap();
        let add = |args: &[&str]| {
            let mut v = vec!["site", "add"];
            v.extend_from_slice(args);
            site(dir.path(), Site::parse_from(v).args)
        };
        assert_eq!(
            add(&[
                "Shop.Example",
                "--origin",
                "https://shop-example.pages.dev/"
            ]),
            ExitCode::SUCCESS
        );
        assert_ne!(add(&["203.0.113.9"]), ExitCode::SUCCESS);
        assert_ne!(
            add(&["b.example", "--origin", "https://203.0.113.9"]),
            ExitCode::SUCCESS
        );
        assert_ne!(
            add(&["c.example", "--origin", "https://c.example/path"]),
            ExitCode::SUCCESS
        );
        let db = Db::open(dir.path(), Config::default()).unwrap();
        assert_eq!(db.domains(), vec!["shop.example".to_owned()]);
        let o = SiteOrigins::load(dir.path());
        assert_eq!(o.extra("shop.example"), ["https://shop-example.pages.dev"]);
        db.close().unwrap();
    }
}
