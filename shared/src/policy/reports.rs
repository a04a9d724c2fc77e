//! The `[reports]` section of the policy: when users' reports bring a target to support,
//! how much each reporter weighs, what a brigade looks like, and the daily rate limit.

use serde::{Deserialize, Serialize};

use crate::clock::{Timestamp, SECONDS_PER_DAY};
use crate::taxonomy::{Category, ReportCategory};

/// The `[reports]` section of the policy file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportPolicy {
    /// Reports one reporter may file per UTC day.
    pub rate_limit_per_day: u32,
    /// Weighted score at which a target is brought to support.
    pub threshold: f64,
    /// A lower threshold for these categories.
    pub severe_threshold: f64,
    pub severe_categories: Vec<Category>,
    /// Accounts younger than this many days weigh `new_account_weight` times as much.
    pub new_account_days: u64,
    pub new_account_weight: f64,
    /// This many reports from new accounts against one target within the window are a
    /// brigade.
    pub brigade_window_minutes: u64,
    pub brigade_min_reports: usize,
    /// Crossing in these categories asks the platform to hide the submission pending review.
    #[serde(default)]
    pub hide_pending_review: Vec<Category>,
    /// Reports older than this stop counting and leave the target's tally; confirmed
    /// reports of one target and category within one window are one violation.
    #[serde(default = "default_window_days")]
    pub window_days: u64,
}

fn default_window_days() -> u64 {
    90
}

impl ReportPolicy {
    pub fn threshold_for(&self, category: ReportCategory) -> f64 {
        match category {
            ReportCategory::Category(c) if self.severe_categories.contains(&c) => {
                self.severe_threshold
            }
            _ => self.threshold,
        }
    }

    /// A reporter's weight: track record (Laplace-smoothed accuracy, 1.0 for a newcomer,
    /// up to 2.0 for a reliable one, toward 0 for one whose reports keep being rejected),
    /// times the new-account discount.
    pub fn reporter_weight(
        &self,
        stats: &ReporterStats,
        account_created_at: Timestamp,
        now: Timestamp,
    ) -> f64 {
        let accuracy = (f64::from(stats.confirmed) + 1.0)
            / (f64::from(stats.confirmed + stats.rejected) + 2.0);
        let age_days = now.saturating_sub(account_created_at) / SECONDS_PER_DAY;
        let age_factor = if age_days < self.new_account_days {
            self.new_account_weight
        } else {
            1.0
        };
        2.0 * accuracy * age_factor
    }

    pub fn is_new_account(&self, account_created_at: Timestamp, now: Timestamp) -> bool {
        now.saturating_sub(account_created_at) / SECONDS_PER_DAY < self.new_account_days
    }
}

/// A reporter's track record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReporterStats {
    pub confirmed: u32,
    pub rejected: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;

    fn rules() -> ReportPolicy {
        Policy::embedded().unwrap().reports().clone()
    }

    #[test]
    fn a_reporter_weighs_by_track_record_and_account_age() {
        let r = rules();
        let now = 1_800_000_000;
        let old = now - 400 * SECONDS_PER_DAY;
        let fresh = ReporterStats::default();
        assert_eq!(r.reporter_weight(&fresh, old, now), 1.0);
        assert_eq!(r.reporter_weight(&fresh, now - SECONDS_PER_DAY, now), 0.5);
        let reliable = ReporterStats {
            confirmed: 8,
            rejected: 0,
        };
        assert!((r.reporter_weight(&reliable, old, now) - 1.8).abs() < 1e-9);
        let noisy = ReporterStats {
            confirmed: 0,
            rejected: 8,
        };
        assert!((r.reporter_weight(&noisy, old, now) - 0.2).abs() < 1e-9);
    }
}
