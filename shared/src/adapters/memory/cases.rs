//! Cases in process memory, with the same guards as the DynamoDB store (a new id to open,
//! the loaded version to replace) and a decision's messages written to the outbox under the
//! same lock as the case.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::outbox::MemoryOutbox;
use crate::clock::{Timestamp, SECONDS_PER_DAY};
use crate::outbox::OutboxMessage;
use crate::store::StoreError;
use crate::support::case::{Case, CaseStatus, CaseSummary};
use crate::support::store::{CaseStore, CaseWriteError};

#[derive(Debug, Default)]
pub struct MemoryCaseStore {
    cases: Mutex<HashMap<String, (Case, u64)>>,
    outbox: Arc<MemoryOutbox>,
}

impl MemoryCaseStore {
    /// A case store writing to `outbox`, which other memory stores may share.
    pub fn with_outbox(outbox: Arc<MemoryOutbox>) -> Self {
        MemoryCaseStore {
            cases: Mutex::default(),
            outbox,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Case, u64)>> {
        // Writes replace a whole entry; a poisoned lock is consistent.
        self.cases.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Opens `case` unless a case with its id exists; whether it opened. Called by the
    /// memory stores whose writes open cases, inside their own write.
    pub(crate) fn open(&self, case: &Case) -> bool {
        let mut cases = self.lock();
        if cases.contains_key(case.id()) {
            return false;
        }
        cases.insert(case.id().to_owned(), (case.clone(), 1));
        true
    }

    fn summaries(&self, keep: impl Fn(&CaseSummary) -> bool) -> Vec<CaseSummary> {
        self.lock()
            .values()
            .map(|(c, _)| &c.summary)
            .filter(|s| keep(s))
            .cloned()
            .collect()
    }
}

impl CaseStore for MemoryCaseStore {
    async fn load(&self, case_id: &str) -> Result<Option<(Case, u64)>, StoreError> {
        Ok(self.lock().get(case_id).cloned())
    }

    async fn save(
        &self,
        case: &Case,
        expected_version: u64,
        outbox: &[OutboxMessage],
    ) -> Result<(), CaseWriteError> {
        let mut cases = self.lock();
        match cases.get(case.id()) {
            Some((_, version)) if *version == expected_version => {
                cases.insert(case.id().to_owned(), (case.clone(), expected_version + 1));
                self.outbox.write(outbox);
                Ok(())
            }
            _ => Err(CaseWriteError::Changed),
        }
    }

    async fn send(&self, outbox: &[OutboxMessage], _at: Timestamp) -> Result<(), StoreError> {
        self.outbox.write(outbox);
        Ok(())
    }

    async fn queue(&self) -> Result<Vec<CaseSummary>, StoreError> {
        Ok(self.summaries(|s| s.status != CaseStatus::Closed))
    }

    async fn opened_on(&self, day: u64) -> Result<Vec<CaseSummary>, StoreError> {
        Ok(self.summaries(|s| s.opened_at / SECONDS_PER_DAY == day))
    }

    async fn closed_on(&self, day: u64) -> Result<Vec<CaseSummary>, StoreError> {
        Ok(self.summaries(|s| s.closed_at.is_some_and(|t| t / SECONDS_PER_DAY == day)))
    }

    async fn cases_of(
        &self,
        author_id: &str,
        limit: usize,
    ) -> Result<Vec<CaseSummary>, StoreError> {
        let mut cases = self.summaries(|s| s.author_id == author_id);
        cases.sort_by(|a, b| (b.opened_at, &b.case_id).cmp(&(a.opened_at, &a.case_id)));
        cases.truncate(limit);
        Ok(cases)
    }
}
