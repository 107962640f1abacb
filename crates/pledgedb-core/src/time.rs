//! Time: millisecond timestamps, UTC days, and the injectable clock.
//!
//! Everything that depends on the current time (retention, erasure deadlines,
//! salt rotation, the default timestamp of a hit) asks a [`Clock`], so tests
//! move time with a [`ManualClock`] instead of sleeping.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Milliseconds since the Unix epoch, UTC. Serialised as RFC 3339 UTC with
/// milliseconds in JSON, as the integer on disk (`repr.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

/// Milliseconds in one day.
pub const MS_PER_DAY: i64 = 86_400_000;

impl Timestamp {
    /// The UTC day this moment falls in.
    #[must_use]
    pub fn day(self) -> Day {
        let d = self.0.div_euclid(MS_PER_DAY);
        Day(d.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32)
    }

    /// Milliseconds since the epoch.
    #[must_use]
    pub fn millis(self) -> i64 {
        self.0
    }

    /// This moment moved by `ms` milliseconds (saturating).
    #[must_use]
    pub fn plus_millis(self, ms: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(ms))
    }

    /// Builds a timestamp from a UTC calendar date and time of day.
    #[must_use]
    pub fn from_ymd_hms(y: i32, m: u32, d: u32, hh: u32, mm: u32, ss: u32) -> Timestamp {
        let day = Day::from_ymd(y, m, d);
        Timestamp(
            i64::from(day.0) * MS_PER_DAY
                + (i64::from(hh) * 3600 + i64::from(mm) * 60 + i64::from(ss)) * 1000,
        )
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let day = self.day();
        let ms = self.0.rem_euclid(MS_PER_DAY);
        let secs = ms / 1000;
        write!(
            f,
            "{}T{:02}:{:02}:{:02}.{:03}Z",
            day,
            secs / 3600,
            (secs / 60) % 60,
            secs % 60,
            ms % 1000
        )
    }
}

/// A UTC calendar day, counted in days since 1970-01-01.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Day(pub i32);

impl Day {
    /// The first millisecond of this day.
    #[must_use]
    pub fn start(self) -> Timestamp {
        Timestamp(i64::from(self.0) * MS_PER_DAY)
    }

    /// The first millisecond of the next day (exclusive end of this day).
    #[must_use]
    pub fn end(self) -> Timestamp {
        Timestamp((i64::from(self.0) + 1) * MS_PER_DAY)
    }

    /// The day `n` days later (or earlier for negative `n`).
    #[must_use]
    pub fn plus(self, n: i32) -> Day {
        Day(self.0.saturating_add(n))
    }

    /// The day of a proleptic Gregorian calendar date.
    #[must_use]
    pub fn from_ymd(y: i32, m: u32, d: u32) -> Day {
        // Days-from-civil (Howard Hinnant's algorithm).
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y.rem_euclid(400);
        let m = m as i32;
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i32 - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        Day(era * 146_097 + doe - 719_468)
    }

    /// The calendar date `(year, month, day)` of this day.
    #[must_use]
    pub fn to_ymd(self) -> (i32, u32, u32) {
        let z = self.0 + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let y = yoe + era * 400;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        (if m <= 2 { y + 1 } else { y }, m, d)
    }

    /// Parses `YYYY-MM-DD`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Day> {
        let mut it = s.splitn(3, '-');
        let y: i32 = it.next()?.parse().ok()?;
        let m: u32 = it.next()?.parse().ok()?;
        let d: u32 = it.next()?.parse().ok()?;
        if !(1..=12).contains(&m) || !(1..=31).contains(&d) || !(0..=9999).contains(&y) {
            return None;
        }
        let day = Day::from_ymd(y, m, d);
        (day.to_ymd() == (y, m, d)).then_some(day)
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.to_ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

/// A source of the current time. The engine never reads the system clock
/// directly: pass a [`ManualClock`] in tests to move time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The system's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp(i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }
}

/// A clock that only moves when told to. Clones share the same time.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// A clock standing at `start`.
    #[must_use]
    pub fn new(start: Timestamp) -> Self {
        ManualClock(Arc::new(AtomicI64::new(start.0)))
    }

    /// Moves the clock forward (or back, for negative values) by `ms`.
    pub fn advance_millis(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }

    /// Moves the clock forward by whole days.
    pub fn advance_days(&self, days: i64) {
        self.advance_millis(days * MS_PER_DAY);
    }

    /// Sets the clock to `t`.
    pub fn set(&self, t: Timestamp) {
        self.0.store(t.0, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        for n in -800_000..800_000 {
            let d = Day(n);
            let (y, m, dd) = d.to_ymd();
            assert_eq!(Day::from_ymd(y, m, dd), d);
        }
        assert_eq!(Day::from_ymd(1970, 1, 1), Day(0));
        assert_eq!(Day::from_ymd(2026, 11, 29).to_string(), "2026-11-29");
        assert_eq!(Day::parse("2026-02-30"), None);
        assert_eq!(Day::parse("2024-02-29"), Some(Day::from_ymd(2024, 2, 29)));
    }

    #[test]
    fn timestamp_display_and_day() {
        let t = Timestamp::from_ymd_hms(2026, 11, 29, 13, 5, 9);
        assert_eq!(t.to_string(), "2026-11-29T13:05:09.000Z");
        assert_eq!(t.day(), Day::from_ymd(2026, 11, 29));
        assert_eq!(Timestamp(-1).day(), Day(-1));
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(Timestamp(1000));
        let c2 = c.clone();
        assert_eq!(c.now(), Timestamp(1000));
        c2.advance_days(1);
        assert_eq!(c.now(), Timestamp(1000 + MS_PER_DAY));
    }
}
