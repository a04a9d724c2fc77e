//! A target's tally: what has been reported against one user, bounded whatever the traffic.
//!
//! The tally keeps sums, not reports: per time bucket and category, the weight that counts
//! and how many reporters it comes from. Each reporter counts once per category, at their
//! heaviest — which reporter already counts, and how much, is a [`ReporterMark`] kept beside
//! the tally (one small item per reporter, in the same partition), so the tally itself
//! never grows with the number of reporters. Buckets older than the report window leave the
//! tally (the window moves in steps of a tenth of itself, so a report stops counting between
//! one and 1.1 windows after it came); a resolution starts a category's count afresh (a new
//! epoch), so the next wave must cross on its own and alerts again.
//!
//! A report from a new account is held, not counted, for the brigade window: enough held
//! reports inside the window are a brigade and never count; the others count once they are
//! older than the window. At most [`MAX_HELD`] are held — a burst larger than that is a
//! brigade whatever the rest of it looks like.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::clock::{Timestamp, SECONDS_PER_DAY};
use crate::policy::reports::ReportPolicy;
use crate::taxonomy::ReportCategory;

/// New-account reports held at most.
pub const MAX_HELD: usize = 64;
/// Buckets per report window: the window moves in steps of a tenth.
const BUCKETS_PER_WINDOW: u64 = 10;

/// The time rules of a tally, from the report policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TallyClock {
    pub window_seconds: u64,
    pub bucket_seconds: u64,
    pub brigade_seconds: u64,
    pub brigade_min_reports: usize,
}

impl TallyClock {
    pub fn of(policy: &ReportPolicy) -> Self {
        let window_seconds = policy.window_days * SECONDS_PER_DAY;
        TallyClock {
            window_seconds,
            bucket_seconds: (window_seconds / BUCKETS_PER_WINDOW).max(1),
            brigade_seconds: policy.brigade_window_minutes * 60,
            brigade_min_reports: policy.brigade_min_reports,
        }
    }

    pub fn bucket_of(&self, at: Timestamp) -> u64 {
        at / self.bucket_seconds
    }

    /// The oldest bucket still inside the window at `now`.
    fn first_live_bucket(&self, now: Timestamp) -> u64 {
        self.bucket_of(now.saturating_sub(self.window_seconds))
    }

    /// When a mark in `bucket` stops mattering: once its bucket has left the window.
    pub fn mark_expiry(&self, bucket: u64) -> Timestamp {
        (bucket + 1) * self.bucket_seconds + self.window_seconds
    }
}

/// What counts in one category of one bucket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct CategorySum {
    pub weight: f64,
    pub reporters: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    /// `received_at / bucket_seconds`.
    pub index: u64,
    pub sums: BTreeMap<ReportCategory, CategorySum>,
}

/// A new account's report, held for the brigade window before it may count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeldReport {
    /// The report itself, so that the mark it earns once it counts names it (support
    /// resolves a wave by the reports its marks name). Absent in reports held before it
    /// was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_id: Option<String>,
    pub reporter_id: String,
    pub category: ReportCategory,
    pub weight: f64,
    pub received_at: Timestamp,
    /// Part of a brigade: never counts.
    pub brigading: bool,
}

/// What one reporter counts for in one category of one target: their heaviest weight, the
/// bucket it sits in, and the epoch it was counted in (a resolution starts a new one).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ReporterMark {
    pub weight: f64,
    pub bucket: u64,
    pub epoch: u32,
}

/// What has been reported against one user.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TargetTally {
    /// Oldest first; only buckets inside the window.
    #[serde(default)]
    pub buckets: Vec<Bucket>,
    #[serde(default)]
    pub held: Vec<HeldReport>,
    /// Categories that have crossed their threshold (and alerted support) this epoch.
    #[serde(default)]
    pub crossed: Vec<ReportCategory>,
    /// Per category, how many times support has resolved a wave of it.
    #[serde(default)]
    pub epochs: BTreeMap<ReportCategory, u32>,
    /// A brigading alert has gone out since the last resolution.
    #[serde(default)]
    pub brigading_flagged: bool,
}

impl TargetTally {
    pub fn epoch(&self, category: ReportCategory) -> u32 {
        self.epochs.get(&category).copied().unwrap_or(0)
    }

    /// Drops the buckets that have left the window.
    pub fn expire(&mut self, now: Timestamp, clock: &TallyClock) {
        let first = clock.first_live_bucket(now);
        self.buckets.retain(|b| b.index >= first);
    }

    /// Holds a new account's report for the brigade window. Returns whether the held
    /// reports inside the window now make a brigade (they are all marked so, this one too).
    pub fn hold(&mut self, report: HeldReport, now: Timestamp, clock: &TallyClock) -> bool {
        self.held.push(report);
        if self.held.len() > MAX_HELD {
            let excess = self.held.len() - MAX_HELD;
            self.held.drain(..excess);
        }
        let window_start = now.saturating_sub(clock.brigade_seconds);
        let burst = self
            .held
            .iter()
            .filter(|h| h.received_at >= window_start)
            .count();
        let brigade = burst >= clock.brigade_min_reports;
        if brigade {
            for h in self
                .held
                .iter_mut()
                .filter(|h| h.received_at >= window_start)
            {
                h.brigading = true;
            }
        }
        brigade
    }

    /// Takes out the held reports older than the brigade window; returns those that were not
    /// part of a brigade, to be counted now.
    pub fn release_settled(&mut self, now: Timestamp, clock: &TallyClock) -> Vec<HeldReport> {
        let window_start = now.saturating_sub(clock.brigade_seconds);
        let (settled, still_held): (Vec<_>, Vec<_>) = std::mem::take(&mut self.held)
            .into_iter()
            .partition(|h| h.received_at < window_start);
        self.held = still_held;
        settled.into_iter().filter(|h| !h.brigading).collect()
    }

    /// Counts a report given the reporter's current mark in its category (if any); returns
    /// the mark to write, or `None` when the reporter already counts as much or more.
    pub fn count(
        &mut self,
        category: ReportCategory,
        weight: f64,
        received_at: Timestamp,
        mark: Option<ReporterMark>,
        now: Timestamp,
        clock: &TallyClock,
    ) -> Option<ReporterMark> {
        let epoch = self.epoch(category);
        let first = clock.first_live_bucket(now);
        let bucket = clock.bucket_of(received_at).max(first);
        let live = mark.filter(|m| m.epoch == epoch && m.bucket >= first);
        if let Some(old) = live {
            if old.weight >= weight {
                return None;
            }
            self.add(old.bucket, category, -old.weight, -1);
        }
        self.add(bucket, category, weight, 1);
        Some(ReporterMark {
            weight,
            bucket,
            epoch,
        })
    }

    fn add(&mut self, index: u64, category: ReportCategory, weight: f64, reporters: i64) {
        let position = match self.buckets.binary_search_by_key(&index, |b| b.index) {
            Ok(i) => i,
            Err(i) => {
                self.buckets.insert(
                    i,
                    Bucket {
                        index,
                        sums: BTreeMap::new(),
                    },
                );
                i
            }
        };
        let sums = &mut self.buckets[position].sums;
        let sum = sums.entry(category).or_default();
        sum.weight += weight;
        sum.reporters = u32::try_from(i64::from(sum.reporters) + reporters).unwrap_or(0);
        if sum.reporters == 0 {
            sums.remove(&category);
        }
        if sums.is_empty() {
            self.buckets.remove(position);
        }
    }

    /// Weighted score and reporters per category, over the buckets in the window.
    pub fn scores(&self) -> BTreeMap<ReportCategory, (f64, usize)> {
        let mut scores: BTreeMap<ReportCategory, (f64, usize)> = BTreeMap::new();
        for bucket in &self.buckets {
            for (category, sum) in &bucket.sums {
                let s = scores.entry(*category).or_insert((0.0, 0));
                s.0 += sum.weight;
                s.1 += sum.reporters as usize;
            }
        }
        // Additions and removals of the same weights can leave a hair's breadth behind.
        for s in scores.values_mut() {
            s.0 = (s.0 * 1e9).round() / 1e9;
        }
        scores
    }

    /// Support resolved a report of `category`: the wave it belonged to has been looked at.
    /// Its count starts afresh (marks of the old epoch no longer count), it may cross and
    /// alert again, and a new brigade may be flagged again.
    pub fn rearm(&mut self, category: ReportCategory) {
        *self.epochs.entry(category).or_insert(0) += 1;
        for bucket in &mut self.buckets {
            bucket.sums.remove(&category);
        }
        self.buckets.retain(|b| !b.sums.is_empty());
        self.crossed.retain(|c| *c != category);
        self.brigading_flagged = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::taxonomy::Category;

    const SPAM: ReportCategory = ReportCategory::Category(Category::Spam);
    const DAY: u64 = SECONDS_PER_DAY;

    fn clock() -> TallyClock {
        TallyClock {
            window_seconds: 90 * DAY,
            bucket_seconds: 9 * DAY,
            brigade_seconds: 3_600,
            brigade_min_reports: 4,
        }
    }

    #[test]
    fn a_reporter_counts_once_per_category_at_their_heaviest() {
        let c = clock();
        let mut t = TargetTally::default();
        let now = 1_000 * DAY;
        let mark_a = t.count(SPAM, 1.0, now, None, now, &c);
        assert!(
            t.count(SPAM, 0.5, now, mark_a, now, &c).is_none(),
            "lighter: no change"
        );
        let heavier = t.count(SPAM, 1.5, now, mark_a, now, &c);
        assert_eq!(heavier.map(|m| m.weight), Some(1.5));
        t.count(SPAM, 1.0, now, None, now, &c);
        assert_eq!(t.scores()[&SPAM], (2.5, 2));
    }

    #[test]
    fn reports_leave_the_tally_with_the_window_and_the_tally_stays_small() {
        let c = clock();
        let mut t = TargetTally::default();
        let start = 1_000 * DAY;
        for i in 0..10_000u64 {
            let at = start + i * 60;
            t.expire(at, &c);
            t.count(SPAM, 1.0, at, None, at, &c);
        }
        assert_eq!(t.scores()[&SPAM].1, 10_000);
        assert!(t.buckets.len() <= 2, "{} buckets", t.buckets.len());
        let later = start + 100 * DAY;
        t.expire(later, &c);
        assert!(t.scores().is_empty(), "every report has left the window");
        let size = serde_json::to_string(&t).unwrap().len();
        assert!(size < 1_000, "{size} bytes");
    }

    #[test]
    fn a_burst_of_held_reports_is_a_brigade_and_never_counts() {
        let c = clock();
        let mut t = TargetTally::default();
        let now = 1_000 * DAY;
        let held = |i: u64| HeldReport {
            report_id: None,
            reporter_id: format!("sock-{i}"),
            category: SPAM,
            weight: 0.5,
            received_at: now + i * 60,
            brigading: false,
        };
        assert!(!t.hold(held(0), now, &c));
        assert!(!t.hold(held(1), now + 60, &c));
        assert!(!t.hold(held(2), now + 120, &c));
        assert!(t.hold(held(3), now + 180, &c), "the fourth within the hour");
        assert!(t.release_settled(now + 2 * 3_600, &c).is_empty());
        assert!(t.held.is_empty());

        // A lone new account, on the other hand, counts once the window has passed.
        t.hold(held(10), now + 10 * 3_600, &c);
        let settled = t.release_settled(now + 12 * 3_600, &c);
        assert_eq!(settled.len(), 1);
    }

    #[test]
    fn held_reports_are_bounded() {
        let c = clock();
        let mut t = TargetTally::default();
        for i in 0..1_000u64 {
            t.hold(
                HeldReport {
                    report_id: None,
                    reporter_id: format!("sock-{i}"),
                    category: SPAM,
                    weight: 0.5,
                    received_at: i,
                    brigading: false,
                },
                i,
                &c,
            );
        }
        assert_eq!(t.held.len(), MAX_HELD);
    }

    #[test]
    fn a_resolution_starts_the_categorys_count_afresh() {
        let c = clock();
        let mut t = TargetTally::default();
        let now = 1_000 * DAY;
        let mark = t.count(SPAM, 1.0, now, None, now, &c);
        t.crossed.push(SPAM);
        t.brigading_flagged = true;
        t.rearm(SPAM);
        assert!(t.scores().is_empty());
        assert!(t.crossed.is_empty() && !t.brigading_flagged);
        // The same reporter counts again in the new epoch.
        let again = t.count(SPAM, 1.0, now, mark, now, &c);
        assert_eq!(again.map(|m| m.epoch), Some(1));
        assert_eq!(t.scores()[&SPAM], (1.0, 1));
    }
}
