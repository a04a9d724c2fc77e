//! The account ladder: good standing → warning (警告表示) → suspension (利用停止) →
//! forced withdrawal (強制退会), computed from a user's unexpired, unrevoked strikes.
//!
//! The level is always derived from the strikes themselves, never from a running
//! counter, so that expiry and revocation can never leave it drifting. Only one thing is
//! sticky: a withdrawn account stays withdrawn until someone explicitly reinstates it.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::taxonomy::{Category, Severity};

/// Seconds since the Unix epoch.
pub type Timestamp = u64;

pub const SECONDS_PER_DAY: u64 = 86_400;

/// Where an account stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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

/// A forced withdrawal waiting for its second approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingWithdrawal {
    pub requested_by: String,
    pub requested_at: Timestamp,
    pub triggering_violation: String,
}

/// A user's standing: the strikes that are not revoked (expired ones included, until
/// they are pruned) and the level they led to.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Standing {
    pub strikes: BTreeMap<String, Strike>,
    pub level: Option<AccountLevel>,
    pub pending_withdrawal: Option<PendingWithdrawal>,
}

/// A level change, for the alert and the audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelChange {
    pub from: AccountLevel,
    pub to: AccountLevel,
}

impl Standing {
    pub fn level(&self) -> AccountLevel {
        self.level.unwrap_or(AccountLevel::GoodStanding)
    }

    /// Recomputes the level after the strikes changed. `decided_by` is whoever made the
    /// change that may push the account to withdrawal; they cannot also confirm it.
    pub fn settle(
        &mut self,
        ladder: &LadderPolicy,
        now: Timestamp,
        decided_by: &str,
        triggering_violation: &str,
    ) -> Option<LevelChange> {
        let before = self.level();
        if before == AccountLevel::Withdrawn {
            return None;
        }
        // Expired strikes can go: the violation records keep the history.
        self.strikes.retain(|_, s| s.counts_at(now));
        let (_, earned) = ladder.earned_level(self.strikes.values(), now);
        let after = match earned {
            AccountLevel::Withdrawn if ladder.withdrawal_needs_second_approval => {
                if self.pending_withdrawal.is_none() {
                    self.pending_withdrawal = Some(PendingWithdrawal {
                        requested_by: decided_by.to_owned(),
                        requested_at: now,
                        triggering_violation: triggering_violation.to_owned(),
                    });
                }
                AccountLevel::WithdrawalPending
            }
            other => {
                if other != AccountLevel::Withdrawn {
                    self.pending_withdrawal = None;
                }
                other
            }
        };
        self.level = Some(after);
        (before != after).then_some(LevelChange {
            from: before,
            to: after,
        })
    }

    /// The points that count at `now`.
    pub fn points(&self, ladder: &LadderPolicy, now: Timestamp) -> u32 {
        ladder.earned_level(self.strikes.values(), now).0
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn ladder() -> LadderPolicy {
        LadderPolicy {
            warning_points: 1,
            suspension_points: 3,
            withdrawal_points: 6,
            strike_expiry_days: 365,
            withdrawal_needs_second_approval: true,
            points: SeverityPoints {
                low: 1,
                medium: 2,
                high: 3,
                critical: 6,
            },
            category_points: BTreeMap::new(),
            straight_to_withdrawal: [Category::IllegalWork].into(),
            auto_strike: [Category::IllegalWork].into(),
        }
    }

    fn strike(id: &str, category: Category, points: u32, at: Timestamp) -> Strike {
        Strike {
            violation_id: id.into(),
            category,
            severity: Severity::Medium,
            points,
            confirmed_at: at,
            expires_at: ladder().expiry_for(at),
        }
    }

    #[test]
    fn points_climb_the_ladder_in_order() {
        let l = ladder();
        let mut standing = Standing::default();
        let mut levels = vec![];
        for (i, points) in [1, 2, 3].into_iter().enumerate() {
            let id = format!("v{i}");
            standing
                .strikes
                .insert(id.clone(), strike(&id, Category::Spam, points, 100));
            standing.settle(&l, 200, "alice", &id);
            levels.push(standing.level());
        }
        assert_eq!(
            levels,
            vec![
                AccountLevel::Warning,
                AccountLevel::Suspended,
                AccountLevel::WithdrawalPending
            ]
        );
        assert_eq!(
            standing.pending_withdrawal.as_ref().unwrap().requested_by,
            "alice"
        );
    }

    #[test]
    fn expired_strikes_stop_counting() {
        let l = ladder();
        let s = strike("old", Category::Spam, 3, 0);
        assert_eq!(
            l.earned_level([&s], s.expires_at - 1).1,
            AccountLevel::Suspended
        );
        assert_eq!(
            l.earned_level([&s], s.expires_at).1,
            AccountLevel::GoodStanding
        );
    }

    #[test]
    fn one_strike_in_a_straight_to_withdrawal_category_is_enough() {
        let l = ladder();
        let s = strike("crime", Category::IllegalWork, 1, 0);
        assert_eq!(l.earned_level([&s], 10), (1, AccountLevel::Withdrawn));
    }

    #[test]
    fn without_second_approval_withdrawal_is_immediate_and_sticky() {
        let mut l = ladder();
        l.withdrawal_needs_second_approval = false;
        let mut standing = Standing::default();
        standing
            .strikes
            .insert("a".into(), strike("a", Category::Spam, 6, 0));
        let change = standing.settle(&l, 1, "alice", "a");
        assert_eq!(
            change,
            Some(LevelChange {
                from: AccountLevel::GoodStanding,
                to: AccountLevel::Withdrawn
            })
        );
        standing.strikes.clear();
        assert_eq!(
            standing.settle(&l, 2, "bob", "-"),
            None,
            "withdrawn stays withdrawn"
        );
        assert_eq!(standing.level(), AccountLevel::Withdrawn);
    }

    #[test]
    fn removing_strikes_drops_the_level_and_clears_a_pending_withdrawal() {
        let l = ladder();
        let mut standing = Standing::default();
        standing
            .strikes
            .insert("a".into(), strike("a", Category::Spam, 6, 0));
        standing.settle(&l, 1, "alice", "a");
        assert_eq!(standing.level(), AccountLevel::WithdrawalPending);
        standing
            .strikes
            .insert("b".into(), strike("b", Category::Spam, 1, 0));
        standing.strikes.remove("a");
        let change = standing.settle(&l, 2, "bob", "a");
        assert_eq!(
            change,
            Some(LevelChange {
                from: AccountLevel::WithdrawalPending,
                to: AccountLevel::Warning
            })
        );
        assert!(standing.pending_withdrawal.is_none());
    }
}
