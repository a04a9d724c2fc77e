//! Reports from users: intake, de-duplication, rate limits, reporter weight, brigading,
//! the road to support, and resolution into strikes.
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
use std::future::Future;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracing::info;

use crate::alert::{dedupe_key, Alert, AlertError, AlertSink, ReportThresholdAlert};
use crate::clock::Clock;
use crate::error::{parse_payload, required, required_id, InvalidInput};
use crate::escalation::{QueueError, ViolationConfirmed, ViolationQueue};
use crate::ladder::{Timestamp, SECONDS_PER_DAY};
use crate::ledger::{StoreError, ViolationSource};
use crate::policy::Policy;
use crate::screen::Screener;
use crate::submission::{Id, Submission};
use crate::taxonomy::{Category, Severity};
use crate::verdict::Verdict;

/// Longest report description, in code points.
pub const MAX_DESCRIPTION_CHARS: usize = 2_000;

/// What the reporter says is wrong: a taxonomy category or `other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReportCategory {
    Category(Category),
    Other,
}

impl Serialize for ReportCategory {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

impl<'de> Deserialize<'de> for ReportCategory {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        if raw == "other" {
            return Ok(ReportCategory::Other);
        }
        raw.parse::<Category>()
            .map(ReportCategory::Category)
            .map_err(serde::de::Error::custom)
    }
}

impl ReportCategory {
    pub fn id(self) -> &'static str {
        match self {
            ReportCategory::Category(c) => c.id(),
            ReportCategory::Other => "other",
        }
    }
}

/// A validated report.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The platform's id, if it sent one; otherwise derived from the de-duplication key.
    pub report_id: Id,
    pub reporter_id: Id,
    /// When the reporter's account was created (from the platform's authenticated context).
    pub reporter_account_created_at: Timestamp,
    pub target_user_id: Id,
    pub target_submission_id: Option<Id>,
    pub submission: Option<Submission>,
    pub category: ReportCategory,
    pub description: String,
}

/// Support's decision on a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResolutionDecision {
    Confirmed,
    Rejected,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Resolution {
    pub report_id: Id,
    pub decision: ResolutionDecision,
    pub decided_by: Id,
    /// For a confirmed report: the category and severity of the violation; the category
    /// defaults to the reported one (required when that was `other`).
    pub category: Option<Category>,
    pub severity: Option<Severity>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ReportCommand {
    Report(Box<Report>),
    Resolution(Resolution),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportPayload {
    #[serde(rename = "type")]
    command_type: Option<String>,
    report_id: Option<String>,
    reporter_id: Option<String>,
    reporter_account_created_at: Option<u64>,
    target_user_id: Option<String>,
    target_submission_id: Option<String>,
    submission: Option<Value>,
    category: Option<String>,
    description: Option<String>,
    decision: Option<String>,
    decided_by: Option<String>,
    severity: Option<String>,
}

fn optional_category(field: &str, raw: Option<String>) -> Result<Option<Category>, InvalidInput> {
    raw.map(|c| {
        c.parse::<Category>()
            .map_err(|e| InvalidInput::new(field, e.to_string()))
    })
    .transpose()
}

impl ReportCommand {
    pub fn from_json(value: Value) -> Result<Self, InvalidInput> {
        let p: ReportPayload = parse_payload(value)?;
        match required("type", p.command_type)?.as_str() {
            "report" => {
                let reporter_id = required_id("reporter_id", p.reporter_id)?;
                let target_user_id = required_id("target_user_id", p.target_user_id)?;
                if reporter_id == target_user_id {
                    return Err(InvalidInput::new(
                        "target_user_id",
                        "is the reporter; one cannot report oneself",
                    ));
                }
                let raw_category = required("category", p.category)?;
                let category = if raw_category == "other" {
                    ReportCategory::Other
                } else {
                    ReportCategory::Category(raw_category.parse::<Category>().map_err(|e| {
                        InvalidInput::new(
                            "category",
                            format!("{e}; use a taxonomy id or \"other\""),
                        )
                    })?)
                };
                let description = p.description.unwrap_or_default();
                let len = description.chars().count();
                if len > MAX_DESCRIPTION_CHARS {
                    return Err(InvalidInput::new(
                        "description",
                        format!(
                            "is {len} characters long; at most {MAX_DESCRIPTION_CHARS} are allowed"
                        ),
                    ));
                }
                let target_submission_id = p
                    .target_submission_id
                    .map(|s| Id::parse("target_submission_id", &s))
                    .transpose()?;
                let submission = p
                    .submission
                    .map(|s| {
                        Submission::from_json(s).map_err(|e| {
                            InvalidInput::new(&format!("submission.{}", e.field), e.reason)
                        })
                    })
                    .transpose()?;
                if let Some(s) = &submission {
                    if s.author_id() != &target_user_id {
                        return Err(InvalidInput::new(
                            "submission.author_id",
                            "is not the reported user",
                        ));
                    }
                    if target_submission_id
                        .as_ref()
                        .is_some_and(|t| t != s.submission_id())
                    {
                        return Err(InvalidInput::new(
                            "submission.submission_id",
                            "differs from target_submission_id",
                        ));
                    }
                }
                let target_submission_id = target_submission_id
                    .or_else(|| submission.as_ref().map(|s| s.submission_id().clone()));
                let key = dedupe_key(&[
                    reporter_id.as_str(),
                    target_user_id.as_str(),
                    target_submission_id.as_ref().map_or("", |s| s.as_str()),
                ]);
                let report_id = match p.report_id {
                    Some(raw) => Id::parse("report_id", &raw)?,
                    None => Id::parse("report_id", &format!("rep-{key}"))?,
                };
                Ok(ReportCommand::Report(Box::new(Report {
                    report_id,
                    reporter_id,
                    reporter_account_created_at: required(
                        "reporter_account_created_at",
                        p.reporter_account_created_at,
                    )?,
                    target_user_id,
                    target_submission_id,
                    submission,
                    category,
                    description,
                })))
            }
            "resolution" => {
                let decision = match required("decision", p.decision)?.as_str() {
                    "confirmed" => ResolutionDecision::Confirmed,
                    "rejected" => ResolutionDecision::Rejected,
                    other => {
                        return Err(InvalidInput::new(
                            "decision",
                            format!("{other:?} is not one of confirmed, rejected"),
                        ))
                    }
                };
                let severity = p
                    .severity
                    .map(|s| {
                        serde_json::from_value::<Severity>(Value::String(s.clone())).map_err(|_| {
                            InvalidInput::new(
                                "severity",
                                format!("{s:?} is not one of low, medium, high, critical"),
                            )
                        })
                    })
                    .transpose()?;
                Ok(ReportCommand::Resolution(Resolution {
                    report_id: required_id("report_id", p.report_id)?,
                    decision,
                    decided_by: required_id("decided_by", p.decided_by)?,
                    category: optional_category("category", p.category)?,
                    severity,
                }))
            }
            other => Err(InvalidInput::new(
                "type",
                format!("{other:?} is not one of report, resolution"),
            )),
        }
    }
}

impl Report {
    /// Reporter, target and submission: one report per triple counts.
    pub fn dedupe_key(&self) -> String {
        dedupe_key(&[
            self.reporter_id.as_str(),
            self.target_user_id.as_str(),
            self.target_submission_id
                .as_ref()
                .map_or("", |s| s.as_str()),
        ])
    }
}

// ---- the report policy -------------------------------------------------------------------

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

// ---- stored shapes ------------------------------------------------------------------------

/// A reporter's track record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReporterStats {
    pub confirmed: u32,
    pub rejected: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    Open,
    Confirmed,
    Rejected,
}

impl ReportStatus {
    /// The stored form, as serde writes it.
    pub const fn as_str(self) -> &'static str {
        match self {
            ReportStatus::Open => "open",
            ReportStatus::Confirmed => "confirmed",
            ReportStatus::Rejected => "rejected",
        }
    }
}

/// A report as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportRecord {
    pub report_id: String,
    pub reporter_id: String,
    pub target_user_id: String,
    pub target_submission_id: Option<String>,
    pub category: ReportCategory,
    pub weight: f64,
    pub new_account: bool,
    pub brigading: bool,
    pub received_at: Timestamp,
    pub status: ReportStatus,
    pub decided_by: Option<String>,
}

/// One report's contribution, kept in the target's tally.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TallyEntry {
    pub reporter_id: String,
    pub category: ReportCategory,
    pub weight: f64,
    pub new_account: bool,
    pub received_at: Timestamp,
    /// Part of a brigade: does not count toward a crossing.
    pub brigading: bool,
}

/// What has been reported against one user.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TargetTally {
    pub entries: Vec<TallyEntry>,
    /// Categories that have crossed their threshold (and alerted support) already.
    pub crossed: Vec<ReportCategory>,
    /// A brigading alert has gone out for this target.
    pub brigading_flagged: bool,
}

impl TargetTally {
    /// Weighted score per category: each reporter counts once (their heaviest report),
    /// brigading reports not at all, and a new account's report only once it is older than
    /// the brigade window (`settled_before`): until then a burst may still form around it,
    /// so new accounts alone can never push a target over in one sitting.
    pub fn scores(&self, settled_before: Timestamp) -> BTreeMap<ReportCategory, (f64, usize)> {
        let mut best: BTreeMap<(ReportCategory, &str), f64> = BTreeMap::new();
        let counts = |e: &&TallyEntry| {
            let provisional = e.new_account && e.received_at >= settled_before;
            !(e.brigading || provisional)
        };
        for e in self.entries.iter().filter(counts) {
            let w = best
                .entry((e.category, e.reporter_id.as_str()))
                .or_insert(0.0);
            *w = w.max(e.weight);
        }
        let mut scores: BTreeMap<ReportCategory, (f64, usize)> = BTreeMap::new();
        for ((category, _), weight) in best {
            let s = scores.entry(category).or_insert((0.0, 0));
            s.0 += weight;
            s.1 += 1;
        }
        scores
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct TallyState {
    pub tally: TargetTally,
    pub version: u64,
}

/// One atomic intake write.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportWrite {
    pub dedupe_key: String,
    pub report: ReportRecord,
    pub rate_window: u64,
    pub rate_limit: u32,
    /// When the rate counter may be deleted (DynamoDB TTL).
    pub rate_expires_at: Timestamp,
    pub expected_tally_version: u64,
    pub tally: TargetTally,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportWriteError {
    /// Carries the id of the report first filed under this key.
    #[error("duplicate report")]
    Duplicate(Option<String>),
    #[error("rate limited")]
    RateLimited,
    #[error("tally changed")]
    TallyChanged,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, thiserror::Error)]
pub enum ResolveWriteError {
    #[error("already resolved")]
    AlreadyResolved,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Storage for reports, tallies, rate counters and reporter records.
pub trait ReportStore: Send + Sync {
    fn reporter_stats(
        &self,
        reporter_id: &str,
    ) -> impl Future<Output = Result<ReporterStats, StoreError>> + Send;
    fn tally(
        &self,
        target_user_id: &str,
    ) -> impl Future<Output = Result<TallyState, StoreError>> + Send;
    fn record(
        &self,
        write: ReportWrite,
    ) -> impl Future<Output = Result<(), ReportWriteError>> + Send;
    fn report(
        &self,
        report_id: &str,
    ) -> impl Future<Output = Result<Option<ReportRecord>, StoreError>> + Send;
    /// Moves an open report to `status` and counts it in its reporter's record, once.
    fn resolve(
        &self,
        report_id: &str,
        reporter_id: &str,
        status: ReportStatus,
        decided_by: &str,
    ) -> impl Future<Output = Result<(), ResolveWriteError>> + Send;
    /// Reports stored for a reporter within a rate window (for tests and support).
    fn rate_count(
        &self,
        reporter_id: &str,
        window: u64,
    ) -> impl Future<Output = Result<u32, StoreError>> + Send;
}

// ---- the service -------------------------------------------------------------------------

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

const MAX_ATTEMPTS: u32 = 64;

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

    fn policy(&self) -> &Policy {
        self.screener.policy()
    }

    pub async fn handle(&self, command: ReportCommand) -> Result<Value, ReportError> {
        let value = match command {
            ReportCommand::Report(r) => serde_json::to_value(self.intake(&r).await?),
            ReportCommand::Resolution(r) => serde_json::to_value(self.resolve(&r).await?),
        };
        value.map_err(|e| StoreError(e.to_string()).into())
    }

    pub async fn intake(&self, report: &Report) -> Result<ReportAccepted, ReportError> {
        let rules = self.policy().reports();
        let verdict = report.submission.as_ref().map(|s| self.screener.screen(s));
        for attempt in 0..MAX_ATTEMPTS {
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
            let window = now / SECONDS_PER_DAY;
            let write = ReportWrite {
                dedupe_key: report.dedupe_key(),
                report: record,
                rate_window: window,
                rate_limit: rules.rate_limit_per_day,
                rate_expires_at: (window + 2) * SECONDS_PER_DAY,
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
                            verdict.as_ref(),
                            &report.report_id.to_string(),
                        );
                        self.alerts.publish(&Alert::Reports(alert)).await?;
                    }
                    return Ok(ReportAccepted {
                        report_id: report.report_id.to_string(),
                        new: true,
                        weight,
                        brigading: brigade,
                        crossed,
                        verdict,
                    });
                }
                Err(ReportWriteError::Duplicate(original)) => {
                    return Ok(ReportAccepted {
                        report_id: original.unwrap_or_else(|| report.report_id.to_string()),
                        new: false,
                        weight: 0.0,
                        brigading: false,
                        crossed: Vec::new(),
                        verdict,
                    })
                }
                Err(ReportWriteError::RateLimited) => {
                    return Err(ReportError::RateLimited {
                        reporter_id: report.reporter_id.to_string(),
                        limit: rules.rate_limit_per_day,
                    })
                }
                Err(ReportWriteError::TallyChanged) => {
                    tokio::time::sleep(std::time::Duration::from_millis(
                        1 + u64::from(attempt % 8) * 3,
                    ))
                    .await
                }
                Err(ReportWriteError::Store(e)) => return Err(e.into()),
            }
        }
        Err(ReportError::Contention)
    }

    pub async fn resolve(&self, r: &Resolution) -> Result<ResolutionOutcome, ReportError> {
        let record = self
            .store
            .report(r.report_id.as_str())
            .await?
            .ok_or_else(|| ReportError::UnknownReport(r.report_id.to_string()))?;
        let status = match r.decision {
            ResolutionDecision::Confirmed => ReportStatus::Confirmed,
            ResolutionDecision::Rejected => ReportStatus::Rejected,
        };
        // Decided before anything is written: a refused resolution must change nothing.
        let violation_category = match (status, r.category, record.category) {
            (ReportStatus::Confirmed, Some(c), _)
            | (ReportStatus::Confirmed, None, ReportCategory::Category(c)) => Some(c),
            (ReportStatus::Confirmed, None, ReportCategory::Other) => {
                return Err(ReportError::CategoryNeeded)
            }
            _ => None,
        };
        let applied = match self
            .store
            .resolve(
                &record.report_id,
                &record.reporter_id,
                status,
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
                violation_id: Id::parse(
                    "violation_id",
                    &format!("report-{}", dedupe_key(&[&record.report_id])),
                )
                .map_err(|e| StoreError(e.to_string()))?,
                user_id: Id::parse("user_id", &record.target_user_id)
                    .map_err(|e| StoreError(e.to_string()))?,
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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

    #[test]
    fn a_reporter_counts_once_per_category_at_their_heaviest() {
        let entry = |reporter: &str, weight: f64| TallyEntry {
            reporter_id: reporter.into(),
            category: ReportCategory::Category(Category::Spam),
            weight,
            new_account: false,
            received_at: 10,
            brigading: false,
        };
        let tally = TargetTally {
            entries: vec![entry("a", 1.0), entry("a", 1.5), entry("b", 1.0)],
            ..TargetTally::default()
        };
        assert_eq!(
            tally.scores(0)[&ReportCategory::Category(Category::Spam)],
            (2.5, 2)
        );
    }

    #[test]
    fn report_categories_read_and_write_as_taxonomy_ids_or_other() {
        let c: ReportCategory = serde_json::from_value(json!("other")).unwrap();
        assert_eq!(c, ReportCategory::Other);
        let c: ReportCategory = serde_json::from_value(json!("scam")).unwrap();
        assert_eq!(serde_json::to_value(c).unwrap(), json!("scam"));
        assert!(serde_json::from_value::<ReportCategory>(json!("rude")).is_err());
    }

    #[test]
    fn a_report_without_an_id_gets_one_from_its_dedupe_key() {
        let command = ReportCommand::from_json(json!({
            "type": "report", "reporter_id": "a", "reporter_account_created_at": 1,
            "target_user_id": "b", "category": "other"
        }))
        .unwrap();
        let ReportCommand::Report(report) = command else {
            panic!("a report")
        };
        assert_eq!(
            report.report_id.as_str(),
            format!("rep-{}", report.dedupe_key())
        );
    }
}
