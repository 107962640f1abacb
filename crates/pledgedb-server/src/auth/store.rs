//! The account store: `DATA/accounts.json`, written whole and atomically
//! (temporary file, fsync, rename, fsync of the directory) at every change.
//!
//! It holds no secret in clear and no client address: passwords as Argon2id
//! PHC strings (random salt from the OS), API keys and session tokens as
//! SHA-256 digests (they are 32 random bytes, so a fast hash is enough: no
//! dictionary to guess from). The file is re-read when another process (the
//! `user` and `key` commands) changed it, so a running server sees new
//! users and revoked keys at their next request.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The file name of the store inside the data directory.
pub const FILE_NAME: &str = "accounts.json";

/// Prefix of every API key.
pub const KEY_PREFIX: &str = "pdb_";

/// How long a login session lasts.
pub const SESSION_TTL_MS: i64 = 12 * 3_600_000;

/// Most live sessions one user has.
pub const MAX_SESSIONS_PER_USER: usize = 32;

/// Longest user or key name.
pub const MAX_NAME: usize = 64;

/// Longest password accepted (Argon2 hashes anything, but a megabyte
/// password is an attack on the CPU).
pub const MAX_PASSWORD: usize = 1024;

/// Shortest password accepted.
pub const MIN_PASSWORD: usize = 8;

/// What an API key may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Read the Stats API of its site.
    Stats,
    /// The Stats API and the operator endpoints of its site.
    Admin,
}

impl Scope {
    /// Parses `stats` or `admin`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Scope> {
        match s {
            "stats" => Some(Scope::Stats),
            "admin" => Some(Scope::Admin),
            _ => None,
        }
    }

    /// `stats` or `admin`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Stats => "stats",
            Scope::Admin => "admin",
        }
    }
}

/// A person who logs in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The login name.
    pub name: String,
    /// Argon2id PHC string (algorithm, parameters, salt, hash).
    pub password: String,
    /// The sites the user may see (every site when `admin`).
    pub sites: Vec<String>,
    /// Sees every site and may use the operator endpoints.
    pub admin: bool,
}

/// An API key, known only by its digest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    /// The key's name, for listing and revoking.
    pub name: String,
    /// Hex SHA-256 of the key's text.
    pub digest: String,
    /// The one site the key is for.
    pub site: String,
    /// What it may do.
    pub scope: Scope,
    /// When it was made (ms since the epoch, the engine's clock).
    pub created_ms: i64,
}

/// A login session, known only by the digest of its cookie.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// Hex SHA-256 of the cookie's token.
    pub digest: String,
    /// Whose session.
    pub user: String,
    /// The token a page must send back with every state-changing request.
    pub csrf: String,
    /// When it ends (ms since the epoch, the engine's clock).
    pub expires_ms: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Data {
    users: Vec<User>,
    keys: Vec<ApiKey>,
    sessions: Vec<SessionRecord>,
}

/// Why an account operation failed. Never names a password, a key or a
/// token.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// A user or key of that name exists.
    #[error("a {0} of that name exists already")]
    Exists(&'static str),
    /// No user or key of that name.
    #[error("no {0} of that name")]
    NotFound(&'static str),
    /// A name that is empty, too long or holds other than letters, digits,
    /// `.`, `_`, `-`, `@`.
    #[error("a name is 1 to {MAX_NAME} letters, digits, '.', '_', '-' or '@'")]
    BadName,
    /// A site that is not a domain name.
    #[error("a site is a domain name (not an address)")]
    BadSite,
    /// A password outside the accepted lengths.
    #[error("a password has {MIN_PASSWORD} to {MAX_PASSWORD} bytes")]
    BadPassword,
    /// The store could not be read or written.
    #[error("the account store: {0}")]
    Io(#[from] std::io::Error),
    /// The store's file is not what this version writes.
    #[error("the account store is damaged: {0}")]
    Damaged(String),
    /// The password hasher failed.
    #[error("password hashing failed")]
    Hash,
}

struct Cached {
    stamp: Option<(SystemTime, u64, u64)>,
    data: Data,
}

/// The account store of a data directory.
pub struct Accounts {
    path: PathBuf,
    cache: Mutex<Cached>,
    limiter: super::LoginLimiter,
}

impl std::fmt::Debug for Accounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accounts")
            .field("path", &self.path)
            .finish()
    }
}

/// Fills `n` bytes from the operating system's generator.
pub fn random_bytes<const N: usize>() -> std::io::Result<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(b)
}

/// Lower-case hex.
#[must_use]
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Hex SHA-256 of a secret's text.
#[must_use]
pub fn digest(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// Compares two strings in time independent of where they differ.
#[must_use]
pub fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether a user or key name is acceptable: 1 to [`MAX_NAME`] letters,
/// digits, `.`, `_`, `-`, `@`, and nothing IP-shaped (by the engine's own
/// definition), so no address is ever written to the store.
#[must_use]
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
        && !pledgedb_core::text::contains_ip(name)
}

/// Whether a site name is a domain name the engine would register (which
/// refuses IP literals and host names that spell an address).
#[must_use]
pub fn valid_site(site: &str) -> bool {
    pledgedb_core::limits::validate_domain_name(site).is_ok()
        && !pledgedb_core::text::contains_ip(site)
}

/// A PHC string that no password matches, verified against when a login
/// names no user, so an unknown name costs the same time as a wrong
/// password.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        let salt = random_bytes::<16>()
            .ok()
            .and_then(|b| SaltString::encode_b64(&b).ok());
        salt.and_then(|s| {
            Argon2::default()
                .hash_password(&random_bytes::<32>().unwrap_or([7; 32]), &s)
                .ok()
                .map(|h| h.to_string())
        })
        .unwrap_or_default()
    })
}

/// Hashes a password with Argon2id (the crate's default parameters) and a
/// random salt.
pub fn hash_password(password: &str) -> Result<String, AccountError> {
    if password.len() < MIN_PASSWORD || password.len() > MAX_PASSWORD {
        return Err(AccountError::BadPassword);
    }
    let salt = SaltString::encode_b64(&random_bytes::<16>()?).map_err(|_| AccountError::Hash)?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| AccountError::Hash)
}

fn verify_password(phc: &str, password: &str) -> bool {
    if password.len() > MAX_PASSWORD {
        return false;
    }
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

impl Accounts {
    /// Opens (or creates) the account store of the data directory `dir`.
    pub fn open(dir: &Path) -> std::io::Result<Accounts> {
        let a = Accounts {
            path: dir.join(FILE_NAME),
            cache: Mutex::new(Cached {
                stamp: None,
                data: Data::default(),
            }),
            limiter: super::LoginLimiter::new()?,
        };
        a.refresh().map_err(|e| match e {
            AccountError::Io(e) => e,
            other => std::io::Error::other(other.to_string()),
        })?;
        Ok(a)
    }

    /// The login rate limiter (in memory only).
    #[must_use]
    pub fn limiter(&self) -> &super::LoginLimiter {
        &self.limiter
    }

    /// The store's file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What tells a changed file: its modification time, length and (on
    /// Unix) inode, which every atomic rewrite changes.
    fn stamp(&self) -> std::io::Result<Option<(SystemTime, u64, u64)>> {
        match std::fs::metadata(&self.path) {
            Ok(m) => {
                #[cfg(unix)]
                let ino = std::os::unix::fs::MetadataExt::ino(&m);
                #[cfg(not(unix))]
                let ino = 0;
                Ok(Some((m.modified()?, m.len(), ino)))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Re-reads the file if it changed since it was last read.
    fn refresh(&self) -> Result<(), AccountError> {
        let mut c = self.cache.lock();
        self.refresh_locked(&mut c)
    }

    fn refresh_locked(&self, c: &mut Cached) -> Result<(), AccountError> {
        let stamp = self.stamp()?;
        if stamp.is_some() && stamp == c.stamp {
            return Ok(());
        }
        c.data = match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| AccountError::Damaged(format!("line {}", e.line())))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Data::default(),
            Err(e) => return Err(e.into()),
        };
        c.stamp = stamp;
        Ok(())
    }

    /// Reads the current data, changes it with `f` and writes it back
    /// atomically if `f` succeeded.
    fn change<T>(
        &self,
        f: impl FnOnce(&mut Data) -> Result<T, AccountError>,
    ) -> Result<T, AccountError> {
        let mut c = self.cache.lock();
        self.refresh_locked(&mut c)?;
        let mut data = c.data.clone();
        let out = f(&mut data)?;
        let bytes =
            serde_json::to_vec_pretty(&data).map_err(|e| AccountError::Damaged(e.to_string()))?;
        write_atomically(&self.path, &bytes)?;
        c.data = data;
        c.stamp = self.stamp()?;
        Ok(out)
    }

    fn read<T>(&self, f: impl FnOnce(&Data) -> T) -> Result<T, AccountError> {
        let mut c = self.cache.lock();
        self.refresh_locked(&mut c)?;
        Ok(f(&c.data))
    }

    /// Adds a user.
    pub fn add_user(
        &self,
        name: &str,
        password: &str,
        sites: &[String],
        admin: bool,
    ) -> Result<(), AccountError> {
        if !valid_name(name) {
            return Err(AccountError::BadName);
        }
        if !sites.iter().all(|s| valid_site(s)) {
            return Err(AccountError::BadSite);
        }
        let phc = hash_password(password)?;
        self.change(|d| {
            if d.users.iter().any(|u| u.name == name) {
                return Err(AccountError::Exists("user"));
            }
            let mut sites = sites.to_vec();
            sites.sort();
            sites.dedup();
            d.users.push(User {
                name: name.to_string(),
                password: phc,
                sites,
                admin,
            });
            Ok(())
        })
    }

    /// Removes a user and their sessions.
    pub fn remove_user(&self, name: &str) -> Result<(), AccountError> {
        self.change(|d| {
            let before = d.users.len();
            d.users.retain(|u| u.name != name);
            if d.users.len() == before {
                return Err(AccountError::NotFound("user"));
            }
            d.sessions.retain(|s| s.user != name);
            Ok(())
        })
    }

    /// Every user (password hashes included: they are hashes).
    pub fn users(&self) -> Result<Vec<User>, AccountError> {
        self.read(|d| d.users.clone())
    }

    /// The user with this name, if the password is theirs. Costs one
    /// Argon2 verification whether or not the user exists.
    pub fn check_password(&self, name: &str, password: &str) -> Result<Option<User>, AccountError> {
        let user = self.read(|d| d.users.iter().find(|u| u.name == name).cloned())?;
        match user {
            Some(u) => Ok(verify_password(&u.password, password).then_some(u)),
            None => {
                let _ = verify_password(decoy_hash(), password);
                Ok(None)
            }
        }
    }

    /// Makes a new API key; returns its text, which is not kept.
    pub fn add_key(
        &self,
        name: &str,
        site: &str,
        scope: Scope,
        now_ms: i64,
    ) -> Result<String, AccountError> {
        if !valid_name(name) {
            return Err(AccountError::BadName);
        }
        if !valid_site(site) {
            return Err(AccountError::BadSite);
        }
        let text = format!("{KEY_PREFIX}{}", hex(&random_bytes::<32>()?));
        let digest = digest(&text);
        self.change(|d| {
            if d.keys.iter().any(|k| k.name == name) {
                return Err(AccountError::Exists("key"));
            }
            d.keys.push(ApiKey {
                name: name.to_string(),
                digest,
                site: site.to_string(),
                scope,
                created_ms: now_ms,
            });
            Ok(())
        })?;
        Ok(text)
    }

    /// Every key (digests only).
    pub fn keys(&self) -> Result<Vec<ApiKey>, AccountError> {
        self.read(|d| d.keys.clone())
    }

    /// Revokes a key by name.
    pub fn revoke_key(&self, name: &str) -> Result<(), AccountError> {
        self.change(|d| {
            let before = d.keys.len();
            d.keys.retain(|k| k.name != name);
            if d.keys.len() == before {
                return Err(AccountError::NotFound("key"));
            }
            Ok(())
        })
    }

    /// The key whose text this is.
    pub fn find_key(&self, text: &str) -> Result<Option<ApiKey>, AccountError> {
        if !text.starts_with(KEY_PREFIX) || text.len() > 128 {
            return Ok(None);
        }
        let want = digest(text);
        self.read(|d| d.keys.iter().find(|k| same(&k.digest, &want)).cloned())
    }

    /// Opens a session for a user; returns the cookie's token and the CSRF
    /// token. Expired sessions are dropped on the way.
    pub fn open_session(&self, user: &str, now_ms: i64) -> Result<(String, String), AccountError> {
        let token = hex(&random_bytes::<32>()?);
        let csrf = hex(&random_bytes::<32>()?);
        let rec = SessionRecord {
            digest: digest(&token),
            user: user.to_string(),
            csrf: csrf.clone(),
            expires_ms: now_ms.saturating_add(SESSION_TTL_MS),
        };
        self.change(|d| {
            d.sessions.retain(|s| s.expires_ms > now_ms);
            // A user keeps at most MAX_SESSIONS_PER_USER sessions: the
            // oldest ends first, so logins cannot grow the file without end.
            let mine = d.sessions.iter().filter(|s| s.user == user).count();
            if mine >= MAX_SESSIONS_PER_USER {
                let mut drop = mine + 1 - MAX_SESSIONS_PER_USER;
                d.sessions.retain(|s| {
                    if drop > 0 && s.user == user {
                        drop -= 1;
                        false
                    } else {
                        true
                    }
                });
            }
            d.sessions.push(rec);
            Ok(())
        })?;
        Ok((token, csrf))
    }

    /// The live session of a cookie token and its user (who must still
    /// exist).
    pub fn session(
        &self,
        token: &str,
        now_ms: i64,
    ) -> Result<Option<(SessionRecord, User)>, AccountError> {
        if token.is_empty() || token.len() > 128 {
            return Ok(None);
        }
        let want = digest(token);
        self.read(|d| {
            let s = d
                .sessions
                .iter()
                .find(|s| same(&s.digest, &want) && s.expires_ms > now_ms)?;
            let u = d.users.iter().find(|u| u.name == s.user)?;
            Some((s.clone(), u.clone()))
        })
    }

    /// Deletes the session of a cookie token (logout).
    pub fn close_session(&self, token: &str) -> Result<(), AccountError> {
        let want = digest(token);
        self.change(|d| {
            d.sessions.retain(|s| !same(&s.digest, &want));
            Ok(())
        })
    }
}

/// Writes a file whole: a temporary file beside it, fsync, rename over the
/// old one, fsync of the directory. Readable by its owner only on Unix.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = path.with_extension("json.tmp");
    {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_keys_and_sessions_are_stored_only_hashed() {
        let dir = tempfile::tempdir().unwrap();
        let a = Accounts::open(dir.path()).unwrap();
        a.add_user("ana", "correct horse battery", &["a.example".into()], false)
            .unwrap();
        let key = a.add_key("k1", "a.example", Scope::Stats, 0).unwrap();
        let (token, _) = a.open_session("ana", 0).unwrap();
        let bytes = std::fs::read(a.path()).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("correct horse battery"));
        assert!(!text.contains(&key));
        assert!(!text.contains(&key[KEY_PREFIX.len()..]));
        assert!(!text.contains(&token));
        assert!(text.contains("$argon2id$"));
        // A second handle (another process) reads the same store.
        let b = Accounts::open(dir.path()).unwrap();
        assert!(
            b.check_password("ana", "correct horse battery")
                .unwrap()
                .is_some()
        );
        assert!(
            b.check_password("ana", "wrong horse battery")
                .unwrap()
                .is_none()
        );
        assert!(
            b.check_password("bob", "correct horse battery")
                .unwrap()
                .is_none()
        );
        assert_eq!(b.find_key(&key).unwrap().unwrap().site, "a.example");
        assert!(b.session(&token, 1).unwrap().is_some());
        assert!(
            b.session(&token, SESSION_TTL_MS).unwrap().is_none(),
            "expired"
        );
        b.revoke_key("k1").unwrap();
        a.close_session(&token).unwrap();
        assert!(a.find_key(&key).unwrap().is_none());
        assert!(b.session(&token, 1).unwrap().is_none());
    }

    #[test]
    fn sessions_per_user_are_capped_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        let a = Accounts::open(dir.path()).unwrap();
        a.add_user("ana", "long enough", &[], false).unwrap();
        let tokens: Vec<String> = (0..MAX_SESSIONS_PER_USER + 3)
            .map(|_| a.open_session("ana", 0).unwrap().0)
            .collect();
        for (i, t) in tokens.iter().enumerate() {
            assert_eq!(a.session(t, 1).unwrap().is_some(), i >= 3, "{i}");
        }
    }

    #[test]
    fn names_and_passwords_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let a = Accounts::open(dir.path()).unwrap();
        for bad in [
            "",
            "a b",
            "x/y",
            "é",
            &"x".repeat(65),
            "203.0.113.5",
            "host-203-0-113-5",
            "fe80--1.ipv6-literal.net",
            "u2001-db8--1",
        ] {
            assert!(matches!(
                a.add_user(bad, "long enough", &[], false),
                Err(AccountError::BadName)
            ));
            assert!(matches!(
                a.add_key(bad, "s", Scope::Admin, 0),
                Err(AccountError::BadName)
            ));
        }
        assert!(matches!(
            a.add_user("ok", "short", &[], false),
            Err(AccountError::BadPassword)
        ));
        for site in [
            "203.0.113.5",
            "[2001:db8::1]",
            "c-73-22-11-5.example.net",
            "",
            "a b",
        ] {
            assert!(matches!(
                a.add_user("ok", "long enough", &[site.to_string()], false),
                Err(AccountError::BadSite)
            ));
            assert!(matches!(
                a.add_key("ok", site, Scope::Stats, 0),
                Err(AccountError::BadSite)
            ));
        }
        for ok in ["ana", "ana.b@example.org", "k-2026", "v1.2"] {
            assert!(valid_name(ok), "{ok}");
        }
        assert!(!dir.path().join(FILE_NAME).exists(), "nothing was written");
        a.add_user("ok", "long enough", &[], true).unwrap();
        assert!(matches!(
            a.add_user("ok", "long enough", &[], true),
            Err(AccountError::Exists("user"))
        ));
        assert!(matches!(
            a.revoke_key("none"),
            Err(AccountError::NotFound("key"))
        ));
        for junk in ["", "pdb_", "pdb_00", "nope", &"pdb_x".repeat(100)] {
            assert!(a.find_key(junk).unwrap().is_none());
            assert!(a.session(junk, 0).unwrap().is_none());
        }
    }
}
