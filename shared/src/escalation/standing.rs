//! An account's standing: the strikes that count against it, the level they led to, and a
//! forced withdrawal waiting for its second approval.
//!
//! Only one thing is sticky: a withdrawn account stays withdrawn until someone explicitly
//! reinstates it. Everything else is recomputed from the strikes by [`Standing::settle`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::policy::ladder::{AccountLevel, LadderPolicy, LevelChange, Strike};

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

    /// When expiry may next lower this account's level: the earliest expiry among its
    /// strikes. `None` once nothing can expire any more — no strikes left, or withdrawn
    /// (sticky until a person reinstates it).
    pub fn next_expiry(&self) -> Option<Timestamp> {
        if self.level() == AccountLevel::Withdrawn {
            return None;
        }
        self.strikes.values().map(|s| s.expires_at).min()
    }

    /// The standing as it is at `now`, strikes that expired since it was stored left out
    /// and the level settled — what a query answers before the sweep has written it.
    pub fn at(&self, ladder: &LadderPolicy, now: Timestamp) -> Standing {
        let mut settled = self.clone();
        settled.settle(ladder, now, EXPIRY_ACTOR, EXPIRY_CAUSE);
        settled
    }
}

/// Who lowers a level when strikes expire, in the audit trail.
pub const EXPIRY_ACTOR: &str = "anshin-expiry";
/// What triggered it.
const EXPIRY_CAUSE: &str = "expiry";

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::clock::SECONDS_PER_DAY;
    use crate::policy::ladder::SeverityPoints;
    use crate::taxonomy::{Category, Severity};
    use std::collections::BTreeMap;

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
    fn a_standing_seen_at_a_later_time_has_its_expired_strikes_settled() {
        let l = ladder();
        let mut standing = Standing::default();
        let early = strike("a", Category::Spam, 5, 0);
        let late = strike("b", Category::Spam, 1, 100 * SECONDS_PER_DAY);
        standing.strikes.insert("a".into(), early.clone());
        standing.strikes.insert("b".into(), late.clone());
        standing.settle(&l, 100 * SECONDS_PER_DAY, "alice", "b");
        assert_eq!(standing.level(), AccountLevel::WithdrawalPending);
        assert_eq!(standing.next_expiry(), Some(early.expires_at));

        let later = standing.at(&l, early.expires_at);
        assert_eq!(
            later.level(),
            AccountLevel::Warning,
            "only the late strike counts"
        );
        assert!(later.pending_withdrawal.is_none());
        assert_eq!(later.next_expiry(), Some(late.expires_at));
        assert_eq!(later.at(&l, late.expires_at).next_expiry(), None);
        assert_eq!(
            standing.level(),
            AccountLevel::WithdrawalPending,
            "at() changes a copy"
        );
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
