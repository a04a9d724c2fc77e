//! The report desk: intake, de-duplication, rate limits, reporter weight, brigading, the
//! road to support, and resolution into strikes.
//!
//! A report is recorded in one atomic, guarded write ([`ReportStore::record`]): the
//! (reporter, target, submission) key must be new (a repeat returns the original report
//! id and changes nothing), the reporter's daily counter must be under the limit (the
//! 21st report of the day is refused and nothing is stored), and the target's tally is
//! replaced only at the version it was read at. The tally keeps, per category, the weights
//! of distinct reporters; a category whose weighted score reaches its threshold alerts
//! support once per crossing. Reporters are weighed by their track record (confirmed vs
//! rejected reports, as Discourse does) and accounts younger than the policy's age count
//! less. A burst of reports from new accounts against one target is flagged as brigading
//! and those reports do not count toward a crossing.
//!
//! Support resolves a report here (not in user-escalation): report-intake owns the
//! report's status and the reporter's accuracy, and hands a confirmed violation to
//! user-escalation with an id derived from the report, so a resolution delivered twice
//! still makes one strike.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tracing::info;

use super::command::{Report, ReportCommand, Resolution, ResolutionDecision};
use super::store::{
    ReportRecord, ReportStatus, ReportStore, ReportWrite, ReportWriteError, ResolveWriteError,
};
use super::tally::TallyEntry;
use crate::alert::{Alert, AlertError, AlertSink, ReportThresholdAlert};
use crate::clock::{Clock, SECONDS_PER_DAY};
use crate::digest::stable_key;
use crate::input::Id;
use crate::policy::Policy;
use crate::screening::Screener;
use crate::store::{retry_on_conflict, Attempt, RetryBudget, StoreError};
use crate::taxonomy::ReportCategory;
use crate::verdict::Verdict;
use crate::violation::{QueueError, ViolationConfirmed, ViolationQueue, ViolationSource};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportAccepted {
    pub report_id: String,
    /// False when this was a repeat of an earlier report; `report_id` is then the original.
    pub new: bool,
    pub weight: f64,
    pub brigading: bool,
    /// Categories that crossed their threshold with this report.
    pub crossed: Vec<ReportCategory>,
    pub verdict: Option<Verdict>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResolutionOutcome {
    pub report_id: String,
    pub status: ReportStatus,
    /// False when the resolution had been applied already.
    pub applied: bool,
    pub violation_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("reporter {reporter_id} has reached {limit} reports today")]
    RateLimited { reporter_id: String, limit: u32 },
    #[error("unknown report {0}")]
    UnknownReport(String),
    #[error("report {0} was resolved differently already")]
    ConflictingResolution(String),
    #[error("a confirmed report of category other needs the violation's category")]
    CategoryNeeded,
    #[error("target changed too often to commit; retry later")]
    Contention,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Alert(#[from] AlertError),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// How often an intake re-reads a target's tally that other reports keep changing.
const RETRIES: RetryBudget = RetryBudget { attempts: 64 };

/// What report-intake answers for one command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ReportResponse {
    Accepted(ReportAccepted),
    Resolved(ResolutionOutcome),
}

pub struct ReportDesk<S, A, V> {
    store: S,
    alerts: A,
    violations: V,
    screener: Screener,
    clock: Arc<dyn Clock>,
}

impl<S: ReportStore, A: AlertSink, V: ViolationQueue> ReportDesk<S, A, V> {
    pub fn new(
        store: S,
        alerts: A,
        violations: V,
        screener: Screener,
        clock: Arc<dyn Clock>,
    ) -> Self {
        ReportDesk {
            store,
            alerts,
            violations,
            screener,
            clock,
        }
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    pub fn alerts(&self) -> &A {
        &self.alerts
    }

    pub fn violations(&self) -> &V {
        &self.violations
    }

    pub fn policy(&self) -> &Policy {
        self.screener.policy()
    }

    pub async fn handle(&self, command: ReportCommand) -> Result<ReportResponse, ReportError> {
        Ok(match command {
            ReportCommand::Report(r) => ReportResponse::Accepted(self.intake(&r).await?),
            ReportCommand::Resolution(r) => ReportResponse::Resolved(self.resolve(&r).await?),
        })
    }

    pub async fn intake(&self, report: &Report) -> Result<ReportAccepted, ReportError> {
        let verdict = report.submission.as_ref().map(|s| self.screener.screen(s));
        retry_on_conflict(
            RETRIES,
            || self.try_intake(report, verdict.as_ref()),
            || ReportError::Contention,
        )
        .await
    }

    async fn try_intake(
        &self,
        report: &Report,
        verdict: Option<&Verdict>,
    ) -> Result<Attempt<ReportAccepted>, ReportError> {
        let rules = self.policy().reports();
        {
            let now = self.clock.now();
            let stats = self
                .store
                .reporter_stats(report.reporter_id.as_str())
                .await?;
            let state = self.store.tally(report.target_user_id.as_str()).await?;
            let weight = rules.reporter_weight(&stats, report.reporter_account_created_at, now);
            let new_account = rules.is_new_account(report.reporter_account_created_at, now);
            let mut tally = state.tally.clone();
            tally.entries.push(TallyEntry {
                report_id: Some(report.report_id.to_string()),
                reporter_id: report.reporter_id.to_string(),
                category: report.category,
                weight,
                new_account,
                received_at: now,
                brigading: false,
            });
            // Brigading: enough new-account reports within the window. All of them (this
            // one included) stop counting toward a crossing.
            let window_start = now.saturating_sub(rules.brigade_window_minutes * 60);
            let burst: Vec<usize> = tally
                .entries
                .iter()
                .enumerate()
                .filter(|(_, e)| e.new_account && e.received_at >= window_start)
                .map(|(i, _)| i)
                .collect();
            let brigade = burst.len() >= rules.brigade_min_reports;
            if brigade {
                for i in &burst {
                    tally.entries[*i].brigading = true;
                }
            }
            let newly_flagged = brigade && !tally.brigading_flagged;
            tally.brigading_flagged |= brigade;
            let scores = tally.scores(window_start);
            let crossed: Vec<ReportCategory> = scores
                .iter()
                .filter(|(c, (score, _))| {
                    *score >= rules.threshold_for(**c) && !tally.crossed.contains(c)
                })
                .map(|(c, _)| *c)
                .collect();
            tally.crossed.extend(crossed.iter().copied());

            let record = ReportRecord {
                report_id: report.report_id.to_string(),
                reporter_id: report.reporter_id.to_string(),
                target_user_id: report.target_user_id.to_string(),
                target_submission_id: report.target_submission_id.as_ref().map(|s| s.to_string()),
                category: report.category,
                weight,
                new_account,
                brigading: brigade,
                received_at: now,
                status: ReportStatus::Open,
                decided_by: None,
            };
            let day = now / SECONDS_PER_DAY;
            let write = ReportWrite {
                dedupe_key: report.dedupe_key(),
                report: record,
                rate_day: day,
                rate_limit: rules.rate_limit_per_day,
                rate_expires_at: (day + 2) * SECONDS_PER_DAY,
                expected_tally_version: state.version,
                tally: tally.clone(),
            };
            match self.store.record(write).await {
                Ok(()) => {
                    info!(report_id = %report.report_id, target = %report.target_user_id, category = report.category.id(),
                          weight, brigading = brigade, "report recorded");
                    if !crossed.is_empty() || newly_flagged {
                        let alert = ReportThresholdAlert::new(
                            report.target_user_id.as_str(),
                            report.target_submission_id.as_ref().map(|s| s.as_str()),
                            &scores,
                            &crossed,
                            brigade,
                            crossed.iter().any(|c| matches!(c, ReportCategory::Category(c) if rules.hide_pending_review.contains(c))),
                            verdict,
                            report.report_id.as_str(),
                        );
                        self.alerts.publish(&Alert::Reports(alert)).await?;
                    }
                    Ok(Attempt::Done(ReportAccepted {
                        report_id: report.report_id.to_string(),
                        new: true,
                        weight,
                        brigading: brigade,
                        crossed,
                        verdict: verdict.cloned(),
                    }))
                }
                Err(ReportWriteError::Duplicate(original)) => Ok(Attempt::Done(ReportAccepted {
                    report_id: original.unwrap_or_else(|| report.report_id.to_string()),
                    new: false,
                    weight: 0.0,
                    brigading: false,
                    crossed: Vec::new(),
                    verdict: verdict.cloned(),
                })),
                Err(ReportWriteError::RateLimited) => Err(ReportError::RateLimited {
                    reporter_id: report.reporter_id.to_string(),
                    limit: rules.rate_limit_per_day,
                }),
                Err(ReportWriteError::TallyChanged) => Ok(Attempt::Conflict),
                Err(ReportWriteError::Store(e)) => Err(e.into()),
            }
        }
    }

    pub async fn resolve(&self, r: &Resolution) -> Result<ResolutionOutcome, ReportError> {
        let record = self
            .store
            .report(r.report_id.as_str())
            .await?
            .ok_or_else(|| ReportError::UnknownReport(r.report_id.to_string()))?;
        let status = ReportStatus::from(r.decision);
        // Decided before anything is written: a refused resolution must change nothing.
        let violation_category = match (r.decision, r.category, record.category) {
            (ResolutionDecision::Confirmed, Some(c), _)
            | (ResolutionDecision::Confirmed, None, ReportCategory::Category(c)) => Some(c),
            (ResolutionDecision::Confirmed, None, ReportCategory::Other) => {
                return Err(ReportError::CategoryNeeded)
            }
            (ResolutionDecision::Rejected, _, _) => None,
        };
        let applied = match self
            .store
            .resolve(
                &record.report_id,
                &record.reporter_id,
                r.decision,
                r.decided_by.as_str(),
            )
            .await
        {
            Ok(()) => true,
            Err(ResolveWriteError::AlreadyResolved) => {
                let now_stored = self
                    .store
                    .report(&record.report_id)
                    .await?
                    .map(|s| s.status);
                if now_stored != Some(status) {
                    return Err(ReportError::ConflictingResolution(record.report_id));
                }
                false
            }
            Err(ResolveWriteError::Store(e)) => return Err(e.into()),
        };
        let violation_id = if let Some(category) = violation_category {
            let violation = ViolationConfirmed {
                // Both come from a stored report, whose ids were checked at intake.
                violation_id: Id::parse(
                    "violation_id",
                    &format!("report-{}", stable_key(&[&record.report_id])),
                )
                .map_err(|e| StoreError::Malformed(e.to_string()))?,
                user_id: Id::parse("user_id", &record.target_user_id)
                    .map_err(|e| StoreError::Malformed(e.to_string()))?,
                category,
                severity: r
                    .severity
                    .unwrap_or(self.policy().category(category).severity),
                source: ViolationSource::Report,
                evidence: [
                    Some(format!("report:{}", record.report_id)),
                    record
                        .target_submission_id
                        .map(|s| format!("submission:{s}")),
                ]
                .into_iter()
                .flatten()
                .collect(),
                decided_by: r.decided_by.clone(),
            };
            // Handed on again when the resolution is redelivered: the violation id makes
            // it count once in the ledger.
            self.violations.submit(&violation).await?;
            Some(violation.violation_id.to_string())
        } else {
            None
        };
        info!(report_id = %r.report_id, status = ?status, applied, "report resolved");
        Ok(ResolutionOutcome {
            report_id: record.report_id,
            status,
            applied,
            violation_id,
        })
    }
}
