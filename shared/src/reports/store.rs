//! The report store port: what the report desk needs from storage. An intake is one atomic
//! write whose guards (new de-duplication key, reporter under the daily limit, tally
//! unchanged since read) either all hold or leave everything as it was; a resolution moves
//! a report out of `open` once, together with its reporter's record and its target's tally.
//! Every write to one target's tally, intake or resolution, is guarded by the tally's
//! version, so the reporter marks written beside it never race.

use std::future::Future;

use serde::{Deserialize, Serialize};

use super::command::{Report, ResolutionDecision};
use super::tally::{ReporterMark, TargetTally};
use crate::clock::Timestamp;
use crate::outbox::OutboxMessage;
use crate::policy::reports::ReporterStats;
use crate::store::StoreError;
use crate::taxonomy::ReportCategory;
use crate::verdict::Verdict;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    Open,
    Confirmed,
    Rejected,
}

impl From<ResolutionDecision> for ReportStatus {
    fn from(decision: ResolutionDecision) -> Self {
        match decision {
            ResolutionDecision::Confirmed => ReportStatus::Confirmed,
            ResolutionDecision::Rejected => ReportStatus::Rejected,
        }
    }
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
    /// The UTC day (days since the epoch) the reporter's rate counter counts.
    pub rate_day: u64,
    pub rate_limit: u32,
    /// When the rate counter may be deleted (DynamoDB TTL).
    pub rate_expires_at: Timestamp,
    pub expected_tally_version: u64,
    pub tally: TargetTally,
    /// The reporters that now count for more in the target's tally.
    pub marks: Vec<MarkWrite>,
    /// What the report must announce (a threshold or brigading alert), written with it.
    pub outbox: Vec<OutboxMessage>,
    /// The crossing this report made, if it made one: a store that keeps support's cases
    /// opens the case about it in the same write, so that no crossing is left without one.
    pub crossing: Option<Crossing>,
}

/// A report that made categories of its target cross their threshold: what support's case
/// about the crossing is opened from (`support::Case::for_crossing`).
#[derive(Debug, Clone, PartialEq)]
pub struct Crossing {
    /// The report that crossed, with the reported submission when it carried one.
    pub report: Report,
    /// The categories that crossed, each with the epoch it crossed in: the wave support
    /// resolves when it decides the case.
    pub crossed: Vec<(ReportCategory, u32)>,
    pub brigading: bool,
    /// The policy asks the platform to hide the reported submission until support looked.
    pub hide_pending_review: bool,
    /// The reported submission's verdict, when the report carried the submission.
    pub verdict: Option<Verdict>,
    pub policy_version: String,
    pub at: Timestamp,
}

/// Whose mark, in which category: (category, reporter id).
pub type MarkKey = (ReportCategory, String);

/// One reporter's mark in one category of the target's tally, and when it may go.
#[derive(Debug, Clone, PartialEq)]
pub struct MarkWrite {
    pub category: ReportCategory,
    pub reporter_id: String,
    pub mark: ReporterMark,
    /// The report that set the mark: the one support resolves for this reporter.
    pub report_id: Option<String>,
    pub expires_at: Timestamp,
}

/// A report that counts in a target's tally: one per reporter and category, the heaviest,
/// as its mark names it. Support's desk resolves a wave by these.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CountedReport {
    pub reporter_id: String,
    /// None for marks written before marks named their report.
    pub report_id: Option<String>,
    pub weight: f64,
}

/// The new state of a target's tally, replacing the one read at `expected_version`.
#[derive(Debug, Clone, PartialEq)]
pub struct TallyWrite {
    pub target_user_id: String,
    pub expected_version: u64,
    pub tally: TargetTally,
}

/// Heaviest first, then by reporter: the order [`ReportStore::counted_reports`] answers in.
pub fn sort_heaviest_first(reports: &mut [CountedReport]) {
    reports.sort_by(|a, b| {
        b.weight
            .total_cmp(&a.weight)
            .then_with(|| a.reporter_id.cmp(&b.reporter_id))
    });
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

/// One atomic resolution write.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolveWrite {
    pub report_id: String,
    pub reporter_id: String,
    pub decision: ResolutionDecision,
    pub decided_by: String,
    pub resolved_at: Timestamp,
    /// The target's tally, re-armed for the report's category.
    pub tally: TallyWrite,
    /// The violation a confirmation hands to user-escalation.
    pub outbox: Vec<OutboxMessage>,
}

#[derive(Debug, thiserror::Error)]
pub enum ResolveWriteError {
    #[error("already resolved")]
    AlreadyResolved,
    #[error("tally changed")]
    TallyChanged,
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
    /// The marks of these (category, reporter) pairs in the target's tally, where present.
    fn marks(
        &self,
        target_user_id: &str,
        keys: &[MarkKey],
    ) -> impl Future<Output = Result<Vec<(MarkKey, ReporterMark)>, StoreError>> + Send;
    /// The reports that count in `category` of the target's tally in `epoch` (one per
    /// reporter, heaviest first), at most `limit`.
    fn counted_reports(
        &self,
        target_user_id: &str,
        category: ReportCategory,
        epoch: u32,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<CountedReport>, StoreError>> + Send;
    fn record(
        &self,
        write: ReportWrite,
    ) -> impl Future<Output = Result<(), ReportWriteError>> + Send;
    fn report(
        &self,
        report_id: &str,
    ) -> impl Future<Output = Result<Option<ReportRecord>, StoreError>> + Send;
    /// Moves an open report to the status the decision gives it, counts it in its
    /// reporter's record, and writes the outbox messages (the violation a confirmation hands
    /// on) — all once, and all together.
    fn resolve(
        &self,
        write: ResolveWrite,
    ) -> impl Future<Output = Result<(), ResolveWriteError>> + Send;
}
