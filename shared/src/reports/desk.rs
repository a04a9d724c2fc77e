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

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tracing::info;

use super::command::{Report, ReportCommand, Resolution, ResolutionDecision};
use super::store::{
    Crossing, MarkWrite, ReportRecord, ReportStatus, ReportStore, ReportWrite, ReportWriteError,
    ResolveWrite, ResolveWriteError, TallyWrite,
};
use super::tally::{HeldReport, ReporterMark, TallyClock, TargetTally};
use crate::alert::{Alert, ReportThresholdAlert};
use crate::clock::{Clock, Timestamp, SECONDS_PER_DAY};
use crate::digest::stable_key;
use crate::input::Id;
use crate::policy::Policy;
use crate::screening::Screener;
use crate::store::{retry_on_conflict, Attempt, RetryBudget, StoreError};
use crate::taxonomy::{Category, ReportCategory};
use crate::verdict::Verdict;
use crate::violation::{ViolationConfirmed, ViolationSource};

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

/// Takes users' reports and support's resolutions; alerts and confirmed violations leave
/// through the store's outbox.
pub struct ReportDesk<S> {
    store: S,
    screener: Screener,
    clock: Arc<dyn Clock>,
}

impl<S: ReportStore> ReportDesk<S> {
    pub fn new(store: S, screener: Screener, clock: Arc<dyn Clock>) -> Self {
        ReportDesk {
            store,
            screener,
            clock,
        }
    }

    pub fn store(&self) -> &S {
        &self.store
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
        let clock = TallyClock::of(rules);
        let now = self.clock.now();
        let target = report.target_user_id.as_str();
        let stats = self
            .store
            .reporter_stats(report.reporter_id.as_str())
            .await?;
        let state = self.store.tally(target).await?;
        let weight = rules.reporter_weight(&stats, report.reporter_account_created_at, now);
        let new_account = rules.is_new_account(report.reporter_account_created_at, now);

        let mut tally = state.tally.clone();
        tally.expire(now, &clock);
        // What counts now: held new-account reports that have outlived the brigade window
        // without becoming a brigade, and this report unless its account is new — a new
        // account's report is held for the window first.
        let mut to_count: Vec<HeldReport> = tally.release_settled(now, &clock);
        let this = HeldReport {
            report_id: Some(report.report_id.to_string()),
            reporter_id: report.reporter_id.to_string(),
            category: report.category,
            weight,
            received_at: now,
            brigading: false,
        };
        let brigade = if new_account {
            tally.hold(this, now, &clock)
        } else {
            to_count.push(this);
            false
        };
        let marks = self
            .count(&mut tally, to_count, target, now, &clock)
            .await?;
        let newly_flagged = brigade && !tally.brigading_flagged;
        tally.brigading_flagged |= brigade;
        let scores = tally.scores();
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
        let hide_pending_review = crossed.iter().any(
            |c| matches!(c, ReportCategory::Category(c) if rules.hide_pending_review.contains(c)),
        );
        let mut outbox = Vec::new();
        if !crossed.is_empty() || newly_flagged {
            let alert = Alert::Reports(ReportThresholdAlert::new(
                target,
                report.target_submission_id.as_ref().map(|s| s.as_str()),
                &scores,
                &crossed,
                brigade,
                hide_pending_review,
                verdict,
                report.report_id.as_str(),
                state.version + 1,
            ));
            outbox.push(
                alert
                    .to_outbox()
                    .map_err(|e| StoreError::Malformed(format!("encoding an alert: {e}")))?,
            );
        }
        let crossing = (!crossed.is_empty()).then(|| Crossing {
            report: report.clone(),
            crossed: crossed.iter().map(|c| (*c, tally.epoch(*c))).collect(),
            brigading: brigade,
            hide_pending_review,
            verdict: verdict.cloned(),
            policy_version: self.policy().version().to_owned(),
            at: now,
        });
        let write = ReportWrite {
            dedupe_key: report.dedupe_key(),
            report: record,
            rate_day: day,
            rate_limit: rules.rate_limit_per_day,
            rate_expires_at: (day + 2) * SECONDS_PER_DAY,
            expected_tally_version: state.version,
            tally,
            marks,
            outbox,
            crossing,
        };
        match self.store.record(write).await {
            Ok(()) => {
                info!(report_id = %report.report_id, target, category = report.category.id(),
                      weight, brigading = brigade, "report recorded");
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

    /// Counts `reports` in `tally`, each reporter once per category at their heaviest;
    /// returns the reporters' marks that changed, to be written with the tally.
    async fn count(
        &self,
        tally: &mut TargetTally,
        reports: Vec<HeldReport>,
        target: &str,
        now: Timestamp,
        clock: &TallyClock,
    ) -> Result<Vec<MarkWrite>, ReportError> {
        if reports.is_empty() {
            return Ok(Vec::new());
        }
        let mut keys: Vec<(ReportCategory, String)> = reports
            .iter()
            .map(|r| (r.category, r.reporter_id.clone()))
            .collect();
        keys.sort();
        keys.dedup();
        let mut marks: BTreeMap<(ReportCategory, String), ReporterMark> =
            self.store.marks(target, &keys).await?.into_iter().collect();
        let mut changed: BTreeMap<(ReportCategory, String), (ReporterMark, Option<String>)> =
            BTreeMap::new();
        for r in reports {
            let key = (r.category, r.reporter_id);
            let current = marks.get(&key).copied();
            if let Some(mark) = tally.count(key.0, r.weight, r.received_at, current, now, clock) {
                marks.insert(key.clone(), mark);
                changed.insert(key, (mark, r.report_id));
            }
        }
        Ok(changed
            .into_iter()
            .map(|((category, reporter_id), (mark, report_id))| MarkWrite {
                category,
                reporter_id,
                mark,
                report_id,
                expires_at: clock.mark_expiry(mark.bucket),
            })
            .collect())
    }

    pub async fn resolve(&self, r: &Resolution) -> Result<ResolutionOutcome, ReportError> {
        retry_on_conflict(RETRIES, || self.try_resolve(r), || ReportError::Contention).await
    }

    async fn try_resolve(&self, r: &Resolution) -> Result<Attempt<ResolutionOutcome>, ReportError> {
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
        let violation = violation_category
            .map(|category| self.violation_for(&record, category, r))
            .transpose()?;
        let outbox = violation
            .iter()
            .map(ViolationConfirmed::to_outbox)
            .collect();
        // Support has looked at this wave: the category may cross (and alert) afresh.
        let state = self.store.tally(&record.target_user_id).await?;
        let mut tally = state.tally;
        tally.rearm(record.category);
        let write = ResolveWrite {
            report_id: record.report_id.clone(),
            reporter_id: record.reporter_id.clone(),
            decision: r.decision,
            decided_by: r.decided_by.to_string(),
            resolved_at: self.clock.now(),
            tally: TallyWrite {
                target_user_id: record.target_user_id.clone(),
                expected_version: state.version,
                tally,
            },
            outbox,
        };
        let applied = match self.store.resolve(write).await {
            Ok(()) => true,
            // A redelivered resolution: its violation went out with the first one.
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
            Err(ResolveWriteError::TallyChanged) => return Ok(Attempt::Conflict),
            Err(ResolveWriteError::Store(e)) => return Err(e.into()),
        };
        let violation_id = violation.map(|v| v.violation_id.to_string());
        info!(report_id = %r.report_id, status = ?status, applied, "report resolved");
        Ok(Attempt::Done(ResolutionOutcome {
            report_id: record.report_id,
            status,
            applied,
            violation_id,
        }))
    }

    /// The violation a confirmed report hands to user-escalation. Its id names the
    /// incident, not the report: the reported user, the category, and the reported
    /// submission (or, for a report of the account itself, the report window it fell in),
    /// so that three confirmed reports of one scam posting are one strike, not three.
    fn violation_for(
        &self,
        record: &ReportRecord,
        category: Category,
        resolution: &Resolution,
    ) -> Result<ViolationConfirmed, ReportError> {
        let incident = match &record.target_submission_id {
            Some(submission) => format!("submission:{submission}"),
            None => format!(
                "window:{}",
                record.received_at / (self.policy().reports().window_days * SECONDS_PER_DAY)
            ),
        };
        let key = stable_key(&[&record.target_user_id, category.id(), &incident]);
        // Both ids come from a stored report, whose ids were checked at intake.
        let malformed = |e: crate::input::InvalidInput| StoreError::Malformed(e.to_string());
        Ok(ViolationConfirmed {
            violation_id: Id::parse("violation_id", &format!("report-{key}")).map_err(malformed)?,
            user_id: Id::parse("user_id", &record.target_user_id).map_err(malformed)?,
            category,
            severity: resolution
                .severity
                .unwrap_or(self.policy().category(category).severity),
            source: ViolationSource::Report,
            evidence: [
                Some(format!("report:{}", record.report_id)),
                record
                    .target_submission_id
                    .as_ref()
                    .map(|s| format!("submission:{s}")),
            ]
            .into_iter()
            .flatten()
            .collect(),
            decided_by: resolution.decided_by.clone(),
        })
    }
}
