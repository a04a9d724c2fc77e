//! From confirmed violations to consequences: strikes, the account ladder, and alerts.
//!
//! Commands arrive from support, from report resolution or from screening. Each one
//! loads the user's standing, computes the new one with the ladder, and commits it in one
//! atomic, guarded write ([`Commit`]). A duplicate delivery hits the guard and returns the
//! outcome recorded the first time; a concurrent change to the same user makes the commit
//! fail and the command start again from a fresh load ([`retry_on_conflict`]). A level
//! change's alert is written in the same commit, to the outbox, which delivers it at least
//! once whatever happens to this process after the commit; so a duplicate delivery of a
//! command only reports the recorded outcome and announces nothing again.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tracing::info;

use super::command::{EscalationCommand, Reinstated, ViolationRevoked, WithdrawalConfirmed};
use super::ledger::{
    AuditAction, AuditRecord, Commit, CommitError, LedgerStore, RecordedOutcome, RevocationRecord,
    ViolationRecord, ViolationWrite,
};
use super::standing::{PendingWithdrawal, Standing, EXPIRY_ACTOR};
use crate::alert::{AccountLevelAlert, Alert};
use crate::clock::Clock;
use crate::input::Id;
use crate::outbox::OutboxMessage;
use crate::policy::ladder::{AccountLevel, LevelChange, Strike};
use crate::policy::Policy;
use crate::store::{retry_on_conflict, Attempt, RetryBudget, StoreError};
use crate::taxonomy::Category;
use crate::violation::ViolationConfirmed;

/// How often a command reloads and retries when other writers keep changing the same
/// user. Generous, because losing a race costs only a read: dozens of deliveries racing
/// on one account (a burst of reports confirmed together) must all get through.
const RETRIES: RetryBudget = RetryBudget { attempts: 256 };

/// What a command did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscalationOutcome {
    pub user_id: String,
    pub violation_id: Option<String>,
    /// False when the command changed nothing: a duplicate delivery, a second revoke.
    pub applied: bool,
    pub level_before: AccountLevel,
    pub level: AccountLevel,
    pub points: u32,
}

impl EscalationOutcome {
    pub fn level_change(&self) -> Option<LevelChange> {
        (self.level_before != self.level).then_some(LevelChange {
            from: self.level_before,
            to: self.level,
        })
    }
}

/// What one sweep of expired strikes did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepOutcome {
    /// Accounts whose strikes had expired.
    pub checked: usize,
    /// Of those, accounts whose level came down.
    pub changed: usize,
}

/// Where an account stands, as support sees it: the answer to a standing query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountStanding {
    pub user_id: String,
    pub level: AccountLevel,
    pub points: u32,
    pub active_strikes: Vec<Strike>,
    pub pending_withdrawal: Option<PendingWithdrawal>,
    pub history: Vec<AuditRecord>,
}

/// Where `user_id` stands at `now`, read from the ledger: what a standing query answers and
/// what support's console shows (it reads the ledger; it never writes it).
pub async fn account_standing<S: LedgerStore>(
    store: &S,
    policy: &Policy,
    now: crate::clock::Timestamp,
    user_id: &str,
) -> Result<AccountStanding, StoreError> {
    let ladder = policy.ladder();
    let state = store.load_user(user_id).await?;
    let history = store.audit_trail(user_id).await?;
    // As it is now, whether or not the sweep has written the expiry yet.
    let standing = state.standing.at(ladder, now);
    Ok(AccountStanding {
        user_id: user_id.to_owned(),
        level: standing.level(),
        points: standing.points(ladder, now),
        active_strikes: standing
            .strikes
            .values()
            .filter(|s| s.counts_at(now))
            .cloned()
            .collect(),
        pending_withdrawal: standing.pending_withdrawal.clone(),
        history,
    })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EscalationResponse {
    Outcome(EscalationOutcome),
    Standing(AccountStanding),
    Sweep(SweepOutcome),
}

#[derive(Debug, thiserror::Error)]
pub enum EscalationError {
    #[error("unknown violation {0}")]
    UnknownViolation(String),
    #[error("violation {violation_id} is already recorded for another user")]
    ViolationIdConflict { violation_id: String },
    #[error("user {0} has no forced withdrawal awaiting confirmation")]
    NoPendingWithdrawal(String),
    #[error(
        "the withdrawal of {user_id} must be confirmed by a support member other than {decided_by}"
    )]
    SameApprover { user_id: String, decided_by: String },
    #[error("user {0} changed too often to commit; retry later")]
    Contention(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Runs escalation commands against a ledger store; alerts leave through its outbox.
pub struct Escalator<S> {
    store: S,
    policy: Arc<Policy>,
    clock: Arc<dyn Clock>,
}

impl<S: LedgerStore> Escalator<S> {
    pub fn new(store: S, policy: Arc<Policy>, clock: Arc<dyn Clock>) -> Self {
        Escalator {
            store,
            policy,
            clock,
        }
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    pub async fn handle(
        &self,
        command: EscalationCommand,
    ) -> Result<EscalationResponse, EscalationError> {
        match command {
            EscalationCommand::ViolationConfirmed(c) => {
                self.confirm(&c).await.map(EscalationResponse::Outcome)
            }
            EscalationCommand::ViolationRevoked(c) => {
                self.revoke(&c).await.map(EscalationResponse::Outcome)
            }
            EscalationCommand::WithdrawalConfirmed(c) => self
                .confirm_withdrawal(&c)
                .await
                .map(EscalationResponse::Outcome),
            EscalationCommand::Reinstated(c) => {
                self.reinstate(&c).await.map(EscalationResponse::Outcome)
            }
            EscalationCommand::StandingQuery { user_id } => self
                .standing(&user_id)
                .await
                .map(EscalationResponse::Standing),
        }
    }

    pub async fn confirm(
        &self,
        v: &ViolationConfirmed,
    ) -> Result<EscalationOutcome, EscalationError> {
        retry_on_conflict(
            RETRIES,
            || self.try_confirm(v),
            || EscalationError::Contention(v.user_id.to_string()),
        )
        .await
    }

    async fn try_confirm(
        &self,
        v: &ViolationConfirmed,
    ) -> Result<Attempt<EscalationOutcome>, EscalationError> {
        let ladder = self.policy.ladder();
        let now = self.clock.now();
        let state = self.store.load_user(v.user_id.as_str()).await?;
        let mut standing = state.standing.clone();
        let before = standing.level();
        let points = ladder.points_for(v.category, v.severity);
        standing.strikes.insert(
            v.violation_id.to_string(),
            Strike {
                violation_id: v.violation_id.to_string(),
                category: v.category,
                severity: v.severity,
                points,
                confirmed_at: now,
                expires_at: ladder.expiry_for(now),
            },
        );
        standing.settle(ladder, now, v.decided_by.as_str(), v.violation_id.as_str());
        let outcome = RecordedOutcome {
            level_before: before,
            level_after: standing.level(),
            points_after: standing.points(ladder, now),
        };
        let record = ViolationRecord {
            violation_id: v.violation_id.to_string(),
            user_id: v.user_id.to_string(),
            category: v.category,
            severity: v.severity,
            source: v.source,
            evidence: v.evidence.clone(),
            decided_by: v.decided_by.to_string(),
            points,
            confirmed_at: now,
            expires_at: ladder.expiry_for(now),
            policy_version: self.policy.version().to_owned(),
            outcome: outcome.clone(),
            revocation: None,
        };
        let change = LevelChange {
            from: before,
            to: outcome.level_after,
        };
        let outbox = self.level_alert(
            &record.user_id,
            change,
            &format!("confirmed:{}", record.violation_id),
            Some(record.category),
            outcome.points_after,
            state.version + 1,
        )?;
        let commit = Commit {
            user_id: v.user_id.to_string(),
            expected_version: state.version,
            audit: self.audit(
                &record.user_id,
                now,
                v.decided_by.as_str(),
                AuditAction::ViolationConfirmed,
                Some(&record.violation_id),
                None,
                before,
                standing.level(),
            ),
            standing,
            violation: ViolationWrite::Insert(record.clone()),
            outbox,
        };
        match self.store.commit(commit).await {
            Ok(()) => {
                info!(violation_id = %v.violation_id, user_id = %v.user_id, category = %v.category,
                      level_before = before.as_str(), level = outcome.level_after.as_str(), "strike recorded");
                Ok(Attempt::Done(outcome_of(&record, true)))
            }
            Err(CommitError::ViolationAlreadyRecorded) => {
                let existing = self
                    .store
                    .load_violation(v.violation_id.as_str())
                    .await?
                    .ok_or_else(|| {
                        StoreError::Inconsistent(
                            "violation vanished after a duplicate insert".into(),
                        )
                    })?;
                if existing.user_id != v.user_id.as_str() {
                    return Err(EscalationError::ViolationIdConflict {
                        violation_id: v.violation_id.to_string(),
                    });
                }
                info!(violation_id = %v.violation_id, "duplicate delivery; returning the recorded outcome");
                Ok(Attempt::Done(outcome_of(&existing, false)))
            }
            Err(CommitError::StandingChanged) => Ok(Attempt::Conflict),
            Err(CommitError::ViolationAlreadyRevoked) => {
                Err(StoreError::Inconsistent("revocation guard failed on an insert".into()).into())
            }
            Err(CommitError::Store(e)) => Err(e.into()),
        }
    }

    pub async fn revoke(&self, r: &ViolationRevoked) -> Result<EscalationOutcome, EscalationError> {
        retry_on_conflict(
            RETRIES,
            || self.try_revoke(r),
            || EscalationError::Contention(r.violation_id.to_string()),
        )
        .await
    }

    async fn try_revoke(
        &self,
        r: &ViolationRevoked,
    ) -> Result<Attempt<EscalationOutcome>, EscalationError> {
        let ladder = self.policy.ladder();
        let now = self.clock.now();
        let record = self
            .store
            .load_violation(r.violation_id.as_str())
            .await?
            .ok_or_else(|| EscalationError::UnknownViolation(r.violation_id.to_string()))?;
        let state = self.store.load_user(&record.user_id).await?;
        let before = state.standing.level();
        if record.revocation.is_some() {
            return Ok(Attempt::Done(EscalationOutcome {
                user_id: record.user_id,
                violation_id: Some(record.violation_id),
                applied: false,
                level_before: before,
                level: before,
                points: state.standing.points(ladder, now),
            }));
        }
        let mut standing = state.standing.clone();
        standing.strikes.remove(&record.violation_id);
        let change = standing.settle(ladder, now, r.decided_by.as_str(), &record.violation_id);
        let outcome = EscalationOutcome {
            user_id: record.user_id.clone(),
            violation_id: Some(record.violation_id.clone()),
            applied: true,
            level_before: before,
            level: standing.level(),
            points: standing.points(ladder, now),
        };
        let mut revoked = record.clone();
        revoked.revocation = Some(RevocationRecord {
            revoked_by: r.decided_by.to_string(),
            revoked_at: now,
            reason: r.reason.clone(),
        });
        let outbox = match change {
            Some(change) => self.level_alert(
                &record.user_id,
                change,
                &format!("revoked:{}", record.violation_id),
                Some(record.category),
                outcome.points,
                state.version + 1,
            )?,
            None => Vec::new(),
        };
        let commit = Commit {
            user_id: record.user_id.clone(),
            expected_version: state.version,
            audit: self.audit(
                &record.user_id,
                now,
                r.decided_by.as_str(),
                AuditAction::ViolationRevoked,
                Some(&record.violation_id),
                Some(&r.reason),
                before,
                standing.level(),
            ),
            standing,
            violation: ViolationWrite::Revoke(revoked),
            outbox,
        };
        match self.store.commit(commit).await {
            Ok(()) => {
                info!(violation_id = %r.violation_id, user_id = %record.user_id, level = outcome.level.as_str(), "strike revoked");
                Ok(Attempt::Done(outcome))
            }
            // Someone else revoked it in the meantime: the next pass reports "no change".
            Err(CommitError::ViolationAlreadyRevoked) | Err(CommitError::StandingChanged) => {
                Ok(Attempt::Conflict)
            }
            Err(CommitError::ViolationAlreadyRecorded) => {
                Err(StoreError::Inconsistent("insert guard failed on a revocation".into()).into())
            }
            Err(CommitError::Store(e)) => Err(e.into()),
        }
    }

    pub async fn confirm_withdrawal(
        &self,
        w: &WithdrawalConfirmed,
    ) -> Result<EscalationOutcome, EscalationError> {
        retry_on_conflict(
            RETRIES,
            || self.try_confirm_withdrawal(w),
            || EscalationError::Contention(w.user_id.to_string()),
        )
        .await
    }

    async fn try_confirm_withdrawal(
        &self,
        w: &WithdrawalConfirmed,
    ) -> Result<Attempt<EscalationOutcome>, EscalationError> {
        let ladder = self.policy.ladder();
        let now = self.clock.now();
        let state = self.store.load_user(w.user_id.as_str()).await?;
        let before = state.standing.level();
        // A withdrawal whose strikes have expired since is no longer pending, whether or not
        // the sweep has written that yet.
        if before == AccountLevel::WithdrawalPending
            && state.standing.at(ladder, now).level() != AccountLevel::WithdrawalPending
        {
            return Err(EscalationError::NoPendingWithdrawal(w.user_id.to_string()));
        }
        let unchanged = EscalationOutcome {
            user_id: w.user_id.to_string(),
            violation_id: None,
            applied: false,
            level_before: before,
            level: before,
            points: state.standing.points(ladder, now),
        };
        let pending = match (&state.standing.pending_withdrawal, before) {
            // A repeated confirmation of a done withdrawal changes nothing.
            (_, AccountLevel::Withdrawn) => return Ok(Attempt::Done(unchanged)),
            (Some(pending), AccountLevel::WithdrawalPending) => pending.clone(),
            _ => return Err(EscalationError::NoPendingWithdrawal(w.user_id.to_string())),
        };
        if pending.requested_by == w.decided_by.as_str() {
            return Err(EscalationError::SameApprover {
                user_id: w.user_id.to_string(),
                decided_by: w.decided_by.to_string(),
            });
        }
        let mut standing = state.standing.clone();
        standing.level = Some(AccountLevel::Withdrawn);
        let outbox = self.level_alert(
            w.user_id.as_str(),
            LevelChange {
                from: before,
                to: AccountLevel::Withdrawn,
            },
            &format!("withdrawal:{}", pending.triggering_violation),
            None,
            unchanged.points,
            state.version + 1,
        )?;
        let commit = Commit {
            user_id: w.user_id.to_string(),
            expected_version: state.version,
            audit: self.audit(
                w.user_id.as_str(),
                now,
                w.decided_by.as_str(),
                AuditAction::WithdrawalConfirmed,
                Some(&pending.triggering_violation),
                None,
                before,
                AccountLevel::Withdrawn,
            ),
            standing,
            violation: ViolationWrite::Untouched,
            outbox,
        };
        if self.commit_standing(commit).await? == Attempt::Conflict {
            return Ok(Attempt::Conflict);
        }
        info!(user_id = %w.user_id, "forced withdrawal confirmed");
        Ok(Attempt::Done(EscalationOutcome {
            applied: true,
            level: AccountLevel::Withdrawn,
            ..unchanged
        }))
    }

    pub async fn reinstate(&self, r: &Reinstated) -> Result<EscalationOutcome, EscalationError> {
        retry_on_conflict(
            RETRIES,
            || self.try_reinstate(r),
            || EscalationError::Contention(r.user_id.to_string()),
        )
        .await
    }

    async fn try_reinstate(
        &self,
        r: &Reinstated,
    ) -> Result<Attempt<EscalationOutcome>, EscalationError> {
        let ladder = self.policy.ladder();
        let now = self.clock.now();
        let state = self.store.load_user(r.user_id.as_str()).await?;
        let before = state.standing.level();
        if before != AccountLevel::Withdrawn {
            return Ok(Attempt::Done(EscalationOutcome {
                user_id: r.user_id.to_string(),
                violation_id: None,
                applied: false,
                level_before: before,
                level: before,
                points: state.standing.points(ladder, now),
            }));
        }
        // A reinstated account starts over; the violations stay in the record.
        let standing = Standing {
            level: Some(AccountLevel::GoodStanding),
            ..Standing::default()
        };
        let outbox = self.level_alert(
            r.user_id.as_str(),
            LevelChange {
                from: before,
                to: AccountLevel::GoodStanding,
            },
            &format!("reinstated:{now}"),
            None,
            0,
            state.version + 1,
        )?;
        let commit = Commit {
            user_id: r.user_id.to_string(),
            expected_version: state.version,
            audit: self.audit(
                r.user_id.as_str(),
                now,
                r.decided_by.as_str(),
                AuditAction::Reinstated,
                None,
                Some(&r.reason),
                before,
                AccountLevel::GoodStanding,
            ),
            standing,
            violation: ViolationWrite::Untouched,
            outbox,
        };
        if self.commit_standing(commit).await? == Attempt::Conflict {
            return Ok(Attempt::Conflict);
        }
        info!(user_id = %r.user_id, "account reinstated");
        Ok(Attempt::Done(EscalationOutcome {
            user_id: r.user_id.to_string(),
            violation_id: None,
            applied: true,
            level_before: before,
            level: AccountLevel::GoodStanding,
            points: 0,
        }))
    }

    /// Commits a change to a standing alone (no violation written): a moved version is a
    /// conflict to retry, and a violation guard failing can only be a store defect.
    async fn commit_standing(&self, commit: Commit) -> Result<Attempt<()>, EscalationError> {
        debug_assert_eq!(commit.violation, ViolationWrite::Untouched);
        match self.store.commit(commit).await {
            Ok(()) => Ok(Attempt::Done(())),
            Err(CommitError::StandingChanged) => Ok(Attempt::Conflict),
            Err(CommitError::Store(e)) => Err(e.into()),
            Err(
                e @ (CommitError::ViolationAlreadyRecorded | CommitError::ViolationAlreadyRevoked),
            ) => Err(StoreError::Inconsistent(format!(
                "a violation guard failed on a commit that writes no violation: {e}"
            ))
            .into()),
        }
    }

    /// The scheduled sweep: every account with a strike that has expired by now gets its
    /// level recomputed, written, and — when it moved — announced. At most `limit` accounts
    /// per call; the next call takes the rest.
    pub async fn sweep_expired(&self, limit: usize) -> Result<SweepOutcome, EscalationError> {
        let due = self.store.due_for_expiry(self.clock.now(), limit).await?;
        let mut outcome = SweepOutcome::default();
        for user_id in due {
            let changed = retry_on_conflict(
                RETRIES,
                || self.try_settle_expiry(&user_id),
                || EscalationError::Contention(user_id.clone()),
            )
            .await?;
            outcome.checked += 1;
            outcome.changed += usize::from(changed);
        }
        Ok(outcome)
    }

    /// Writes the standing of `user_id` as it is now; whether its level moved.
    async fn try_settle_expiry(&self, user_id: &str) -> Result<Attempt<bool>, EscalationError> {
        let ladder = self.policy.ladder();
        let now = self.clock.now();
        let state = self.store.load_user(user_id).await?;
        if state.standing.next_expiry().is_none_or(|at| at > now) {
            // Another writer settled it in the meantime.
            return Ok(Attempt::Done(false));
        }
        let before = state.standing.level();
        let mut standing = state.standing.clone();
        let change = standing.settle(ladder, now, EXPIRY_ACTOR, "expiry");
        let points = standing.points(ladder, now);
        let outbox = match change {
            Some(change) => self.level_alert(
                user_id,
                change,
                &format!("expired:{now}"),
                None,
                points,
                state.version + 1,
            )?,
            None => Vec::new(),
        };
        let commit = Commit {
            user_id: user_id.to_owned(),
            expected_version: state.version,
            audit: self.audit(
                user_id,
                now,
                EXPIRY_ACTOR,
                AuditAction::StrikesExpired,
                None,
                None,
                before,
                standing.level(),
            ),
            standing,
            violation: ViolationWrite::Untouched,
            outbox,
        };
        if self.commit_standing(commit).await? == Attempt::Conflict {
            return Ok(Attempt::Conflict);
        }
        if let Some(change) = change {
            info!(
                user_id,
                from = change.from.as_str(),
                to = change.to.as_str(),
                "strikes expired"
            );
        }
        Ok(Attempt::Done(change.is_some()))
    }

    pub async fn standing(&self, user_id: &Id) -> Result<AccountStanding, EscalationError> {
        Ok(account_standing(
            &self.store,
            &self.policy,
            self.clock.now(),
            user_id.as_str(),
        )
        .await?)
    }

    #[allow(clippy::too_many_arguments)]
    fn audit(
        &self,
        user_id: &str,
        at: u64,
        actor: &str,
        action: AuditAction,
        violation_id: Option<&str>,
        reason: Option<&str>,
        level_before: AccountLevel,
        level_after: AccountLevel,
    ) -> AuditRecord {
        AuditRecord {
            user_id: user_id.to_owned(),
            at,
            actor: actor.to_owned(),
            action,
            violation_id: violation_id.map(str::to_owned),
            reason: reason.map(str::to_owned),
            level_before,
            level_after,
            policy_version: self.policy.version().to_owned(),
        }
    }

    /// The `account_level_changed` alert for a change that moves the level (none if it does
    /// not), as the outbox message the commit writes. `sequence` is the standing's version
    /// after the commit.
    fn level_alert(
        &self,
        user_id: &str,
        change: LevelChange,
        cause: &str,
        category: Option<Category>,
        points: u32,
        sequence: u64,
    ) -> Result<Vec<OutboxMessage>, EscalationError> {
        if change.from == change.to {
            return Ok(Vec::new());
        }
        let alert = Alert::AccountLevel(AccountLevelAlert::new(
            user_id,
            change,
            cause,
            category,
            points,
            self.policy.version(),
            sequence,
        ));
        let message = alert
            .to_outbox()
            .map_err(|e| StoreError::Malformed(format!("encoding an alert: {e}")))?;
        Ok(vec![message])
    }
}

/// What a recorded violation did, as its command's answer; `applied` is false for a
/// duplicate delivery.
fn outcome_of(record: &ViolationRecord, applied: bool) -> EscalationOutcome {
    EscalationOutcome {
        user_id: record.user_id.clone(),
        violation_id: Some(record.violation_id.clone()),
        applied,
        level_before: record.outcome.level_before,
        level: record.outcome.level_after,
        points: record.outcome.points_after,
    }
}
