//! Reports in process memory, with the same guards as the DynamoDB store: an intake write
//! applies whole or not at all — new de-duplication key, reporter under the daily limit,
//! tally unchanged since read — with its messages and, when the store keeps cases, the case
//! a crossing opens; a resolution applies once, at the tally's version.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::cases::MemoryCaseStore;
use super::outbox::MemoryOutbox;
use crate::policy::reports::ReporterStats;
use crate::reports::command::ResolutionDecision;
use crate::reports::store::{
    sort_heaviest_first, CountedReport, MarkKey, ReportRecord, ReportStatus, ReportStore,
    ReportWrite, ReportWriteError, ResolveWrite, ResolveWriteError, TallyState,
};
use crate::reports::tally::ReporterMark;
use crate::store::StoreError;
use crate::support::case::{log_opening, Case};
use crate::taxonomy::ReportCategory;

#[derive(Debug, Default)]
struct Tables {
    /// De-duplication key → the report id first filed under it.
    keys: HashMap<String, String>,
    reports: HashMap<String, ReportRecord>,
    tallies: HashMap<String, TallyState>,
    /// (reporter, UTC day) → reports filed that day.
    rate: HashMap<(String, u64), u32>,
    reporters: HashMap<String, ReporterStats>,
    /// (target, category, reporter) → what the reporter counts for in the target's tally,
    /// and the report that set it.
    marks: HashMap<(String, ReportCategory, String), (ReporterMark, Option<String>)>,
}

#[derive(Debug, Default)]
pub struct MemoryReportStore {
    tables: Mutex<Tables>,
    outbox: Arc<MemoryOutbox>,
    cases: Option<Arc<MemoryCaseStore>>,
}

impl MemoryReportStore {
    /// A report store with an outbox of its own.
    pub fn new() -> Self {
        Self::default()
    }

    /// A report store writing to `outbox`, which other memory stores may share.
    pub fn with_outbox(outbox: Arc<MemoryOutbox>) -> Self {
        MemoryReportStore {
            tables: Mutex::default(),
            outbox,
            cases: None,
        }
    }

    /// Also opens support's case for every crossing, in `cases`, with the report.
    pub fn opening_cases(mut self, cases: Arc<MemoryCaseStore>) -> Self {
        self.cases = Some(cases);
        self
    }

    pub fn outbox(&self) -> &Arc<MemoryOutbox> {
        &self.outbox
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Tables> {
        // Writes check every guard before changing anything; a poisoned lock is consistent.
        self.tables.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl ReportStore for MemoryReportStore {
    async fn reporter_stats(&self, reporter_id: &str) -> Result<ReporterStats, StoreError> {
        Ok(self
            .lock()
            .reporters
            .get(reporter_id)
            .copied()
            .unwrap_or_default())
    }

    async fn tally(&self, target_user_id: &str) -> Result<TallyState, StoreError> {
        Ok(self
            .lock()
            .tallies
            .get(target_user_id)
            .cloned()
            .unwrap_or_default())
    }

    async fn marks(
        &self,
        target_user_id: &str,
        keys: &[MarkKey],
    ) -> Result<Vec<(MarkKey, ReporterMark)>, StoreError> {
        let t = self.lock();
        Ok(keys
            .iter()
            .filter_map(|(category, reporter)| {
                t.marks
                    .get(&(target_user_id.to_owned(), *category, reporter.clone()))
                    .map(|(mark, _)| ((*category, reporter.clone()), *mark))
            })
            .collect())
    }

    async fn counted_reports(
        &self,
        target_user_id: &str,
        category: ReportCategory,
        epoch: u32,
        limit: usize,
    ) -> Result<Vec<CountedReport>, StoreError> {
        let t = self.lock();
        let mut counted: Vec<CountedReport> = t
            .marks
            .iter()
            .filter(|((target, c, _), (mark, _))| {
                target == target_user_id && *c == category && mark.epoch == epoch
            })
            .map(|((_, _, reporter_id), (mark, report_id))| CountedReport {
                reporter_id: reporter_id.clone(),
                report_id: report_id.clone(),
                weight: mark.weight,
            })
            .collect();
        sort_heaviest_first(&mut counted);
        counted.truncate(limit);
        Ok(counted)
    }

    async fn record(&self, write: ReportWrite) -> Result<(), ReportWriteError> {
        let mut t = self.lock();
        if let Some(original) = t.keys.get(&write.dedupe_key) {
            return Err(ReportWriteError::Duplicate(Some(original.clone())));
        }
        if t.reports.contains_key(&write.report.report_id) {
            return Err(ReportWriteError::Duplicate(Some(
                write.report.report_id.clone(),
            )));
        }
        let rate_key = (write.report.reporter_id.clone(), write.rate_day);
        let filed = t.rate.get(&rate_key).copied().unwrap_or(0);
        if filed >= write.rate_limit {
            return Err(ReportWriteError::RateLimited);
        }
        let target = write.report.target_user_id.clone();
        let version = t.tallies.get(&target).map_or(0, |s| s.version);
        if version != write.expected_tally_version {
            return Err(ReportWriteError::TallyChanged);
        }
        t.keys
            .insert(write.dedupe_key, write.report.report_id.clone());
        t.rate.insert(rate_key, filed + 1);
        for m in write.marks {
            t.marks.insert(
                (target.clone(), m.category, m.reporter_id),
                (m.mark, m.report_id),
            );
        }
        t.tallies.insert(
            target,
            TallyState {
                tally: write.tally,
                version: version + 1,
            },
        );
        t.reports
            .insert(write.report.report_id.clone(), write.report);
        if let (Some(cases), Some(crossing)) = (&self.cases, &write.crossing) {
            let case = Case::for_crossing(crossing);
            log_opening(&case, cases.open(&case));
        }
        self.outbox.write(&write.outbox);
        Ok(())
    }

    async fn report(&self, report_id: &str) -> Result<Option<ReportRecord>, StoreError> {
        Ok(self.lock().reports.get(report_id).cloned())
    }

    async fn resolve(&self, write: ResolveWrite) -> Result<(), ResolveWriteError> {
        let ResolveWrite {
            report_id,
            reporter_id,
            decision,
            decided_by,
            tally,
            outbox,
            ..
        } = write;
        let mut t = self.lock();
        let version = t
            .tallies
            .get(&tally.target_user_id)
            .map_or(0, |s| s.version);
        if version != tally.expected_version {
            return Err(ResolveWriteError::TallyChanged);
        }
        let Some(report) = t.reports.get_mut(&report_id) else {
            return Err(ResolveWriteError::Store(StoreError::Inconsistent(format!(
                "no report {report_id} to resolve"
            ))));
        };
        if report.status != ReportStatus::Open {
            return Err(ResolveWriteError::AlreadyResolved);
        }
        report.status = decision.into();
        report.decided_by = Some(decided_by);
        let stats = t.reporters.entry(reporter_id).or_default();
        match decision {
            ResolutionDecision::Confirmed => stats.confirmed += 1,
            ResolutionDecision::Rejected => stats.rejected += 1,
        }
        t.tallies.insert(
            tally.target_user_id,
            TallyState {
                tally: tally.tally,
                version: version + 1,
            },
        );
        self.outbox.write(&outbox);
        Ok(())
    }
}
