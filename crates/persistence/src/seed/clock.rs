//! Time for synthetic data: a business calendar (weekdays, Q4 peak, Chinese New Year and
//! Golden Week troughs), days drawn by it, times within office hours, and UUID v7 ids built
//! from the generated timestamps.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use rand::rngs::StdRng;
use rand::{Rng, RngCore};
use uuid::Uuid;

use super::names::CHINESE_NEW_YEAR;

/// Midnight (UTC) at the start of `d`.
pub(crate) fn day_start(d: NaiveDate) -> DateTime<Utc> {
    d.and_time(chrono::NaiveTime::MIN).and_utc()
}

/// Chinese New Year's day in `year`, when the table knows it.
fn new_year(year: i32) -> Option<NaiveDate> {
    CHINESE_NEW_YEAR
        .iter()
        .find(|(y, ..)| *y == year)
        .and_then(|(y, m, d)| NaiveDate::from_ymd_opt(*y, *m, *d))
}

/// How busy trade is on `d`, relative to an ordinary weekday in March (1,000,000): fewer
/// deals at weekends, a peak in November and December, troughs around Chinese New Year,
/// May Day and the October Golden Week.
pub(crate) fn business_weight(d: NaiveDate) -> u64 {
    let weekday = match d.weekday() {
        Weekday::Sat => 30,
        Weekday::Sun => 15,
        _ => 100,
    };
    const MONTH: [u64; 12] = [90, 80, 100, 100, 95, 100, 95, 95, 105, 100, 125, 135];
    let month = MONTH[d.month0() as usize];
    let mut holiday = 100;
    if d.month() == 10 && d.day() <= 7 {
        holiday = 20;
    }
    if d.month() == 5 && d.day() <= 5 {
        holiday = 40;
    }
    if let Some(cny) = new_year(d.year()) {
        holiday = match (d - cny).num_days() {
            -7..=-1 => 55,
            0..=7 => 10,
            8..=14 => 65,
            _ => holiday,
        };
    }
    weekday * month * holiday
}

/// Draws days from a range with given weights (and a growth trend), by inverse
/// cumulative weight.
pub(crate) struct DayPicker {
    first: NaiveDate,
    cumulative: Vec<u64>,
}

impl DayPicker {
    /// Days `first..=last`, each weighted by `weight`, times a linear trend that ends
    /// `growth_percent` higher than it starts.
    pub(crate) fn new(
        first: NaiveDate,
        last: NaiveDate,
        growth_percent: u64,
        weight: impl Fn(NaiveDate) -> u64,
    ) -> Self {
        let n = (last - first).num_days().max(0) as u64 + 1;
        let mut cumulative = Vec::with_capacity(n as usize);
        let mut total = 0u64;
        for i in 0..n {
            let d = first + Duration::days(i as i64);
            let trend = 100 + growth_percent * i / n.max(1);
            total += weight(d) * trend / 100 + 1;
            cumulative.push(total);
        }
        Self { first, cumulative }
    }

    /// One day.
    pub(crate) fn pick(&self, rng: &mut StdRng) -> NaiveDate {
        let total = self.cumulative.last().copied().unwrap_or(1);
        let r = rng.random_range(0..total);
        let i = self.cumulative.partition_point(|c| *c <= r);
        self.first + Duration::days(i as i64)
    }
}

/// A uniformly drawn instant in `[a, b]` (whole seconds); `a` when the range is empty.
pub(crate) fn between(rng: &mut StdRng, a: DateTime<Utc>, b: DateTime<Utc>) -> DateTime<Utc> {
    let span = (b - a).num_seconds();
    if span <= 0 {
        return a;
    }
    a + Duration::seconds(rng.random_range(0..=span))
}

/// An instant in `[a, b]` at an office time (08:30–18:30 Beijing) of a uniformly drawn
/// day, moved into the range when the range cuts that day short; `a` when it is empty.
pub(crate) fn office_between(
    rng: &mut StdRng,
    a: DateTime<Utc>,
    b: DateTime<Utc>,
) -> DateTime<Utc> {
    if b <= a {
        return a;
    }
    let day = between(rng, a, b).date_naive();
    let t = day_start(day) + Duration::seconds(rng.random_range(1_800..37_800));
    t.clamp(a, b)
}

/// A time on `d` within Chinese office hours (08:30–18:30 Beijing time, 00:30–10:30
/// UTC), never after `now`.
pub(crate) fn office_time(rng: &mut StdRng, d: NaiveDate, now: DateTime<Utc>) -> DateTime<Utc> {
    let start = day_start(d);
    let t = start + Duration::seconds(rng.random_range(1_800..37_800));
    if t <= now {
        t
    } else {
        between(rng, start.min(now), now)
    }
}

/// Days as a duration.
pub(crate) fn days(n: i64) -> Duration {
    Duration::days(n)
}

/// Makes UUID v7 ids whose timestamp is the record's creation time and whose random bits
/// come from their own seeded generator, so that ids sort like the records and a run is
/// reproducible.
pub(crate) struct Ids {
    rng: StdRng,
}

impl Ids {
    /// Ids from `rng`.
    pub(crate) fn new(rng: StdRng) -> Self {
        Self { rng }
    }

    /// A v7 id stamped `at`.
    pub(crate) fn at(&mut self, at: DateTime<Utc>) -> Uuid {
        let mut random = [0u8; 10];
        self.rng.fill_bytes(&mut random);
        let millis = u64::try_from(at.timestamp_millis()).unwrap_or_default();
        uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    #[test]
    fn the_calendar_has_a_q4_peak_and_a_new_year_trough() {
        // Both Wednesdays.
        let november = business_weight(date(2026, 11, 18));
        let new_year = business_weight(date(2026, 2, 18));
        let march = business_weight(date(2026, 3, 18));
        assert!(
            november > march && march > new_year * 5,
            "{november} {march} {new_year}"
        );
        assert!(
            business_weight(date(2026, 3, 21)) < march / 3,
            "Saturdays are quiet"
        );
    }

    #[test]
    fn office_times_never_pass_now() {
        let mut rng = StdRng::seed_from_u64(7);
        let now = day_start(date(2026, 11, 20)) + Duration::hours(2);
        for _ in 0..1000 {
            let t = office_time(&mut rng, date(2026, 11, 20), now);
            assert!(t <= now && t >= day_start(date(2026, 11, 20)));
        }
    }

    #[test]
    fn ids_are_v7_and_sort_by_time() {
        let mut ids = Ids::new(StdRng::seed_from_u64(1));
        let t = day_start(date(2026, 1, 1));
        let a = ids.at(t);
        let b = ids.at(t + Duration::seconds(1));
        assert_eq!(a.get_version_num(), 7);
        assert!(a < b);
    }
}
