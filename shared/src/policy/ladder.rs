//! The account ladder as policy: good standing → warning (警告表示) → suspension (利用停止)
//! → forced withdrawal (強制退会), the points each strike is worth, when strikes expire, and
//! the level a set of strikes earns.
//!
//! The level is always derived from the strikes themselves, never from a running
//! counter, so that expiry and revocation can never leave it drifting. What an account's
//! standing does with it (second approval, stickiness) is in `escalation::standing`.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::clock::{Timestamp, SECONDS_PER_DAY};
use crate::taxonomy::{Category, Severity};

/// Where an account stands.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum AccountLevel {
    GoodStanding,
    /// 警告表示: a warning is shown on the account.
    Warning,
    /// 利用停止: the account cannot post or trade.
    Suspended,
    /// Forced withdrawal decided by one support member, awaiting a second's confirmation.
    WithdrawalPending,
    /// 強制退会 under the terms of use.
    Withdrawn,
}

impl AccountLevel {
    pub const fn as_str(self) -> &'static str {
        match self {
            AccountLevel::GoodStanding => "good_standing",
            AccountLevel::Warning => "warning",
            AccountLevel::Suspended => "suspended",
            AccountLevel::WithdrawalPending => "withdrawal_pending",
            AccountLevel::Withdrawn => "withdrawn",
        }
    }
}

/// Points a strike is worth, by severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SeverityPoints {
    pub low: u32,
    pub medium: u32,
    pub high: u32,
    pub critical: u32,
}

impl SeverityPoints {
    pub fn for_severity(&self, severity: Severity) -> u32 {
        match severity {
            Severity::Low => self.low,
            Severity::Medium => self.medium,
            Severity::High => self.high,
            Severity::Critical => self.critical,
        }
    }
}

/// The ladder's settings, from the `[ladder]` section of the policy file.
#[derive(Debug, Clone, PartialEq)]
pub struct LadderPolicy {
    pub warning_points: u32,
    pub suspension_points: u32,
    pub withdrawal_points: u32,
    /// After this many days a strike stops counting.
    pub strike_expiry_days: u64,
    /// Forced withdrawal waits for a second, different support member.
    pub withdrawal_needs_second_approval: bool,
    pub points: SeverityPoints,
    /// Per-category overrides of `points`.
    pub category_points: BTreeMap<Category, SeverityPoints>,
    /// One unexpired strike in these categories means withdrawal.
    pub straight_to_withdrawal: BTreeSet<Category>,
    /// A screening `hide` in these categories becomes a confirmed violation by itself.
    pub auto_strike: BTreeSet<Category>,
}

impl LadderPolicy {
    pub fn points_for(&self, category: Category, severity: Severity) -> u32 {
        self.category_points
            .get(&category)
            .unwrap_or(&self.points)
            .for_severity(severity)
    }

    pub fn expiry_for(&self, confirmed_at: Timestamp) -> Timestamp {
        confirmed_at.saturating_add(self.strike_expiry_days.saturating_mul(SECONDS_PER_DAY))
    }

    /// The level the given strikes earn at `now`, before the second-approval and
    /// stickiness rules of [`Standing`] apply. Returns the points that count, too.
    pub fn earned_level<'a>(
        &self,
        strikes: impl IntoIterator<Item = &'a Strike>,
        now: Timestamp,
    ) -> (u32, AccountLevel) {
        let mut points = 0u32;
        let mut straight_to_withdrawal = false;
        for strike in strikes.into_iter().filter(|s| s.counts_at(now)) {
            points = points.saturating_add(strike.points);
            straight_to_withdrawal |= self.straight_to_withdrawal.contains(&strike.category);
        }
        let level = if straight_to_withdrawal || points >= self.withdrawal_points {
            AccountLevel::Withdrawn
        } else if points >= self.suspension_points {
            AccountLevel::Suspended
        } else if points >= self.warning_points {
            AccountLevel::Warning
        } else {
            AccountLevel::GoodStanding
        };
        (points, level)
    }
}

/// One confirmed violation as it counts against an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Strike {
    pub violation_id: String,
    pub category: Category,
    pub severity: Severity,
    pub points: u32,
    pub confirmed_at: Timestamp,
    pub expires_at: Timestamp,
}

impl Strike {
    pub fn counts_at(&self, now: Timestamp) -> bool {
        now < self.expires_at
    }
}

/// A level change, for the alert and the audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelChange {
    pub from: AccountLevel,
    pub to: AccountLevel,
}
