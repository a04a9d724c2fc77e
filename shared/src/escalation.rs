//! From confirmed violations to consequences: strikes, the account ladder, and alerts.
//!
//! Commands arrive from support, from report resolution or from screening. Each one
//! loads the user's standing, computes the new one with [`crate::ladder`], and commits it
//! in one atomic, guarded write ([`crate::ledger::Commit`]). A duplicate delivery hits the
//! guard and returns the outcome recorded the first time; a concurrent change to the
//! same user makes the commit fail and the command start again from a fresh load.
//! Alerts go out after the commit; if publishing fails the command fails, and its retry
//! finds the violation recorded and publishes the same alert (same dedupe key) again.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracing::{info, warn};

use crate::alert::{AccountLevelAlert, Alert, AlertError, AlertSink};
use crate::clock::Clock;
use crate::error::{parse_payload, required, required_id, InvalidInput};
use crate::ladder::{AccountLevel, LevelChange, PendingWithdrawal, Standing, Strike};
use crate::ledger::{
    AuditAction, AuditRecord, Commit, CommitError, LedgerStore, RecordedOutcome, RevocationRecord,
    StoreError, ViolationRecord, ViolationSource, ViolationWrite,
};
use crate::policy::Policy;
use crate::submission::{Id, Submission};
use crate::taxonomy::{Category, Severity};
use crate::verdict::{Decision, ScoreSource, Verdict};

/// Longest free-text reason we keep (appeals, reinstatements).
pub const MAX_REASON_CHARS: usize = 1_000;
/// Evidence references per violation, and the length of each.
pub const MAX_EVIDENCE_REFS: usize = 20;
pub const MAX_EVIDENCE_REF_CHARS: usize = 256;
/// How often a command reloads and retries when other writers keep changing the same
/// user. Generous, because losing a race costs only a read: dozens of deliveries racing
/// on one account (a burst of reports confirmed together) must all get through.
const MAX_ATTEMPTS: u32 = 256;

/// A support decision (or an automatic one) that a user broke the rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ViolationConfirmed {
    pub violation_id: Id,
    pub user_id: Id,
    pub category: Category,
    pub severity: Severity,
    pub source: ViolationSource,
    /// References such as `submission:job-123` or `report:r-9`; never the text itself.
    pub evidence: Vec<String>,
    pub decided_by: Id,
}

impl ViolationConfirmed {
    /// The command as user-escalation reads it (see [`EscalationCommand::from_json`]).
    pub fn to_command_json(&self) -> Value {
        serde_json::json!({
            "type": "violation_confirmed",
            "violation_id": self.violation_id,
            "user_id": self.user_id,
            "category": self.category,
            "severity": self.severity,
            "source": self.source,
            "evidence": self.evidence,
            "decided_by": self.decided_by,
        })
    }
}

/// Who decides an automatic strike, in the audit trail and in the pending withdrawal
/// (so that any human can confirm it).
pub const SCREENING_DECIDER: &str = "anshin-screening";

/// The strikes a verdict makes by itself: a `hide` in a category the ladder marks
/// `auto_strike`, backed by a rule hit (a model score alone never strikes).
///
/// The violation id is derived from the submission, its content and the category, so a
/// re-screened or redelivered submission yields the same id and counts once.
pub fn auto_strikes(
    submission: &Submission,
    verdict: &Verdict,
    policy: &Policy,
) -> Vec<ViolationConfirmed> {
    if verdict.decision != Decision::Hide {
        return Vec::new();
    }
    verdict
        .categories
        .iter()
        .filter(|f| policy.ladder().auto_strike.contains(&f.category))
        .filter(|f| {
            f.source == ScoreSource::Rule && f.score >= policy.category(f.category).hide_threshold
        })
        .filter_map(|f| {
            let digest = crate::alert::dedupe_key(&[
                submission.submission_id().as_str(),
                f.category.id(),
                &verdict.content_hash,
            ]);
            let violation_id = Id::parse("violation_id", &format!("auto-{digest}")).ok()?;
            Some(ViolationConfirmed {
                violation_id,
                user_id: submission.author_id().clone(),
                category: f.category,
                severity: policy.category(f.category).severity,
                source: ViolationSource::Screening,
                evidence: vec![format!("submission:{}", submission.submission_id())],
                decided_by: Id::parse("decided_by", SCREENING_DECIDER).ok()?,
            })
        })
        .collect()
}

/// The violation could not be handed to user-escalation. Safe to log.
#[derive(Debug, thiserror::Error)]
#[error("violation not delivered to user-escalation: {0}")]
pub struct QueueError(pub String);

/// Where screening sends the violations it confirms by itself: SNS to user-escalation in
/// AWS, a direct call into an [`Escalator`] locally.
pub trait ViolationQueue: Send + Sync {
    fn submit(
        &self,
        violation: &ViolationConfirmed,
    ) -> impl Future<Output = Result<(), QueueError>> + Send;
}

/// The local queue: runs the violation through an escalator in the same process.
pub struct DirectViolationQueue<S, A> {
    escalator: Arc<Escalator<S, A>>,
}

impl<S, A> DirectViolationQueue<S, A> {
    pub fn new(escalator: Arc<Escalator<S, A>>) -> Self {
        DirectViolationQueue { escalator }
    }

    pub fn escalator(&self) -> &Escalator<S, A> {
        &self.escalator
    }
}

impl<S: LedgerStore, A: AlertSink> ViolationQueue for DirectViolationQueue<S, A> {
    async fn submit(&self, violation: &ViolationConfirmed) -> Result<(), QueueError> {
        self.escalator
            .confirm(violation)
            .await
            .map(|_| ())
            .map_err(|e| QueueError(e.to_string()))
    }
}

/// An appeal upheld: the violation stops counting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ViolationRevoked {
    pub violation_id: Id,
    pub decided_by: Id,
    pub reason: String,
}

/// The second support member's confirmation of a forced withdrawal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WithdrawalConfirmed {
    pub user_id: Id,
    pub decided_by: Id,
}

/// Bringing a withdrawn account back, with a clean slate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reinstated {
    pub user_id: Id,
    pub decided_by: Id,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum EscalationCommand {
    ViolationConfirmed(ViolationConfirmed),
    ViolationRevoked(ViolationRevoked),
    WithdrawalConfirmed(WithdrawalConfirmed),
    Reinstated(Reinstated),
    /// A user's standing with its history.
    StandingQuery {
        user_id: Id,
    },
}

/// The wire shape: every field optional so that a missing one is named.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CommandPayload {
    #[serde(rename = "type")]
    command_type: Option<String>,
    violation_id: Option<String>,
    user_id: Option<String>,
    category: Option<String>,
    severity: Option<String>,
    source: Option<String>,
    evidence: Option<Vec<String>>,
    decided_by: Option<String>,
    reason: Option<String>,
}

fn reason(value: Option<String>) -> Result<String, InvalidInput> {
    let reason = required("reason", value)?;
    if reason.trim().is_empty() {
        return Err(InvalidInput::new("reason", "must not be empty"));
    }
    let len = reason.chars().count();
    if len > MAX_REASON_CHARS {
        return Err(InvalidInput::new(
            "reason",
            format!("is {len} characters long; at most {MAX_REASON_CHARS} are allowed"),
        ));
    }
    Ok(reason)
}

/// Parses a snake_case enum value through serde, naming the field on failure.
fn parse_enum<T: for<'de> Deserialize<'de>>(
    field: &str,
    raw: String,
    expected: &str,
) -> Result<T, InvalidInput> {
    serde_json::from_value(Value::String(raw.clone()))
        .map_err(|_| InvalidInput::new(field, format!("{raw:?} is not one of {expected}")))
}

impl EscalationCommand {
    pub fn from_json(value: Value) -> Result<Self, InvalidInput> {
        let p: CommandPayload = parse_payload(value)?;
        let command_type = required("type", p.command_type)?;
        match command_type.as_str() {
            "violation_confirmed" => {
                let category_raw = required("category", p.category)?;
                let category = category_raw
                    .parse::<Category>()
                    .map_err(|e| InvalidInput::new("category", e.to_string()))?;
                let evidence = p.evidence.unwrap_or_default();
                if evidence.len() > MAX_EVIDENCE_REFS {
                    return Err(InvalidInput::new(
                        "evidence",
                        format!("has {} references; at most {MAX_EVIDENCE_REFS} are allowed", evidence.len()),
                    ));
                }
                for (i, reference) in evidence.iter().enumerate() {
                    if reference.is_empty() || reference.chars().count() > MAX_EVIDENCE_REF_CHARS {
                        return Err(InvalidInput::new(
                            &format!("evidence[{i}]"),
                            format!("must be 1 to {MAX_EVIDENCE_REF_CHARS} characters"),
                        ));
                    }
                }
                Ok(EscalationCommand::ViolationConfirmed(ViolationConfirmed {
                    violation_id: required_id("violation_id", p.violation_id)?,
                    user_id: required_id("user_id", p.user_id)?,
                    category,
                    severity: parse_enum(
                        "severity",
                        required("severity", p.severity)?,
                        "low, medium, high, critical",
                    )?,
                    source: parse_enum("source", required("source", p.source)?, "screening, report, support")?,
                    evidence,
                    decided_by: required_id("decided_by", p.decided_by)?,
                }))
            }
            "violation_revoked" => Ok(EscalationCommand::ViolationRevoked(ViolationRevoked {
                violation_id: required_id("violation_id", p.violation_id)?,
                decided_by: required_id("decided_by", p.decided_by)?,
                reason: reason(p.reason)?,
            })),
            "withdrawal_confirmed" => Ok(EscalationCommand::WithdrawalConfirmed(WithdrawalConfirmed {
                user_id: required_id("user_id", p.user_id)?,
                decided_by: required_id("decided_by", p.decided_by)?,
            })),
            "reinstated" => Ok(EscalationCommand::Reinstated(Reinstated {
                user_id: required_id("user_id", p.user_id)?,
                decided_by: required_id("decided_by", p.decided_by)?,
                reason: reason(p.reason)?,
            })),
            "standing_query" => Ok(EscalationCommand::StandingQuery {
                user_id: required_id("user_id", p.user_id)?,
            }),
            other => Err(InvalidInput::new(
                "type",
                format!(
                    "{other:?} is not one of violation_confirmed, violation_revoked, withdrawal_confirmed, reinstated, standing_query"
                ),
            )),
        }
    }
}

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

/// A user's standing as support sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StandingReport {
    pub user_id: String,
    pub level: AccountLevel,
    pub points: u32,
    pub active_strikes: Vec<Strike>,
    pub pending_withdrawal: Option<PendingWithdrawal>,
    pub history: Vec<AuditRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EscalationResponse {
    Outcome(EscalationOutcome),
    Standing(StandingReport),
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
    #[error(transparent)]
    Alert(#[from] AlertError),
}

/// Runs escalation commands against a ledger store, alerting through a sink.
pub struct Escalator<S, A> {
    store: S,
    alerts: A,
    policy: Arc<Policy>,
    clock: Arc<dyn Clock>,
}

impl<S: LedgerStore, A: AlertSink> Escalator<S, A> {
    pub fn new(store: S, alerts: A, policy: Arc<Policy>, clock: Arc<dyn Clock>) -> Self {
        Escalator {
            store,
            alerts,
            policy,
            clock,
        }
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    pub fn alerts(&self) -> &A {
        &self.alerts
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
        let ladder = self.policy.ladder();
        for attempt in 0..MAX_ATTEMPTS {
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
            };
            match self.store.commit(commit).await {
                Ok(()) => {
                    info!(violation_id = %v.violation_id, user_id = %v.user_id, category = %v.category,
                          level_before = before.as_str(), level = outcome.level_after.as_str(), "strike recorded");
                    return self.finish(&record, true).await;
                }
                Err(CommitError::ViolationAlreadyRecorded) => {
                    let existing = self
                        .store
                        .load_violation(v.violation_id.as_str())
                        .await?
                        .ok_or_else(|| {
                            StoreError("violation vanished after a duplicate insert".into())
                        })?;
                    if existing.user_id != v.user_id.as_str() {
                        return Err(EscalationError::ViolationIdConflict {
                            violation_id: v.violation_id.to_string(),
                        });
                    }
                    info!(violation_id = %v.violation_id, "duplicate delivery; returning the recorded outcome");
                    return self.finish(&existing, false).await;
                }
                Err(CommitError::StandingChanged) => backoff(attempt).await,
                Err(CommitError::ViolationAlreadyRevoked) => {
                    return Err(StoreError("revocation guard failed on an insert".into()).into())
                }
                Err(CommitError::Store(e)) => return Err(e.into()),
            }
        }
        Err(EscalationError::Contention(v.user_id.to_string()))
    }

    /// Publishes the level change a recorded violation caused (again, for a duplicate:
    /// that is how a failed publish is retried) and reports the outcome.
    async fn finish(
        &self,
        record: &ViolationRecord,
        applied: bool,
    ) -> Result<EscalationOutcome, EscalationError> {
        let outcome = EscalationOutcome {
            user_id: record.user_id.clone(),
            violation_id: Some(record.violation_id.clone()),
            applied,
            level_before: record.outcome.level_before,
            level: record.outcome.level_after,
            points: record.outcome.points_after,
        };
        if let Some(change) = outcome.level_change() {
            self.publish_level_change(
                &record.user_id,
                change,
                &format!("confirmed:{}", record.violation_id),
                Some(record.category),
                outcome.points,
                &record.policy_version,
            )
            .await?;
        }
        Ok(outcome)
    }

    pub async fn revoke(&self, r: &ViolationRevoked) -> Result<EscalationOutcome, EscalationError> {
        let ladder = self.policy.ladder();
        for attempt in 0..MAX_ATTEMPTS {
            let now = self.clock.now();
            let record = self
                .store
                .load_violation(r.violation_id.as_str())
                .await?
                .ok_or_else(|| EscalationError::UnknownViolation(r.violation_id.to_string()))?;
            let state = self.store.load_user(&record.user_id).await?;
            let before = state.standing.level();
            if record.revocation.is_some() {
                return Ok(EscalationOutcome {
                    user_id: record.user_id,
                    violation_id: Some(record.violation_id),
                    applied: false,
                    level_before: before,
                    level: before,
                    points: state.standing.points(ladder, now),
                });
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
            };
            match self.store.commit(commit).await {
                Ok(()) => {
                    info!(violation_id = %r.violation_id, user_id = %record.user_id, level = outcome.level.as_str(), "strike revoked");
                    if let Some(change) = change {
                        self.publish_level_change(
                            &record.user_id,
                            change,
                            &format!("revoked:{}", record.violation_id),
                            Some(record.category),
                            outcome.points,
                            self.policy.version(),
                        )
                        .await?;
                    }
                    return Ok(outcome);
                }
                // Someone else revoked it in the meantime: the next pass reports "no change".
                Err(CommitError::ViolationAlreadyRevoked) | Err(CommitError::StandingChanged) => {
                    backoff(attempt).await
                }
                Err(CommitError::ViolationAlreadyRecorded) => {
                    return Err(StoreError("insert guard failed on a revocation".into()).into())
                }
                Err(CommitError::Store(e)) => return Err(e.into()),
            }
        }
        Err(EscalationError::Contention(r.violation_id.to_string()))
    }

    pub async fn confirm_withdrawal(
        &self,
        w: &WithdrawalConfirmed,
    ) -> Result<EscalationOutcome, EscalationError> {
        let ladder = self.policy.ladder();
        for attempt in 0..MAX_ATTEMPTS {
            let now = self.clock.now();
            let state = self.store.load_user(w.user_id.as_str()).await?;
            let before = state.standing.level();
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
                (_, AccountLevel::Withdrawn) => return Ok(unchanged),
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
            };
            match self.store.commit(commit).await {
                Ok(()) => {
                    info!(user_id = %w.user_id, "forced withdrawal confirmed");
                    let change = LevelChange {
                        from: before,
                        to: AccountLevel::Withdrawn,
                    };
                    self.publish_level_change(
                        w.user_id.as_str(),
                        change,
                        &format!("withdrawal:{}", pending.triggering_violation),
                        None,
                        unchanged.points,
                        self.policy.version(),
                    )
                    .await?;
                    return Ok(EscalationOutcome {
                        applied: true,
                        level: AccountLevel::Withdrawn,
                        ..unchanged
                    });
                }
                Err(CommitError::StandingChanged) => backoff(attempt).await,
                Err(CommitError::Store(e)) => return Err(e.into()),
                Err(other) => {
                    return Err(StoreError(format!("unexpected guard failure: {other}")).into())
                }
            }
        }
        Err(EscalationError::Contention(w.user_id.to_string()))
    }

    pub async fn reinstate(&self, r: &Reinstated) -> Result<EscalationOutcome, EscalationError> {
        let ladder = self.policy.ladder();
        for attempt in 0..MAX_ATTEMPTS {
            let now = self.clock.now();
            let state = self.store.load_user(r.user_id.as_str()).await?;
            let before = state.standing.level();
            if before != AccountLevel::Withdrawn {
                return Ok(EscalationOutcome {
                    user_id: r.user_id.to_string(),
                    violation_id: None,
                    applied: false,
                    level_before: before,
                    level: before,
                    points: state.standing.points(ladder, now),
                });
            }
            // A reinstated account starts over; the violations stay in the record.
            let standing = Standing {
                level: Some(AccountLevel::GoodStanding),
                ..Standing::default()
            };
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
            };
            match self.store.commit(commit).await {
                Ok(()) => {
                    let change = LevelChange {
                        from: before,
                        to: AccountLevel::GoodStanding,
                    };
                    self.publish_level_change(
                        r.user_id.as_str(),
                        change,
                        &format!("reinstated:{now}"),
                        None,
                        0,
                        self.policy.version(),
                    )
                    .await?;
                    return Ok(EscalationOutcome {
                        user_id: r.user_id.to_string(),
                        violation_id: None,
                        applied: true,
                        level_before: before,
                        level: AccountLevel::GoodStanding,
                        points: 0,
                    });
                }
                Err(CommitError::StandingChanged) => backoff(attempt).await,
                Err(CommitError::Store(e)) => return Err(e.into()),
                Err(other) => {
                    return Err(StoreError(format!("unexpected guard failure: {other}")).into())
                }
            }
        }
        Err(EscalationError::Contention(r.user_id.to_string()))
    }

    pub async fn standing(&self, user_id: &Id) -> Result<StandingReport, EscalationError> {
        let now = self.clock.now();
        let ladder = self.policy.ladder();
        let state = self.store.load_user(user_id.as_str()).await?;
        let history = self.store.audit_trail(user_id.as_str()).await?;
        let standing = state.standing;
        Ok(StandingReport {
            user_id: user_id.to_string(),
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

    async fn publish_level_change(
        &self,
        user_id: &str,
        change: LevelChange,
        cause: &str,
        category: Option<Category>,
        points: u32,
        policy_version: &str,
    ) -> Result<(), EscalationError> {
        let alert = Alert::AccountLevel(AccountLevelAlert::new(
            user_id,
            change,
            cause,
            category,
            points,
            policy_version,
        ));
        if let Err(e) = self.alerts.publish(&alert).await {
            warn!(user_id, dedupe_key = alert.dedupe_key(), error = %e, "level-change alert not delivered");
            return Err(e.into());
        }
        info!(
            user_id,
            from = change.from.as_str(),
            to = change.to.as_str(),
            dedupe_key = alert.dedupe_key(),
            "level change published"
        );
        Ok(())
    }
}

/// Short, growing, jittered pauses so that writers racing on one user spread out.
async fn backoff(attempt: u32) {
    let base_ms = 1u64 << attempt.min(5);
    // Jitter from the clock's sub-second noise: cheap, and good enough to de-synchronise.
    let jitter = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::from(d.subsec_nanos()) % base_ms.max(1));
    tokio::time::sleep(Duration::from_millis(base_ms / 2 + jitter)).await;
}
