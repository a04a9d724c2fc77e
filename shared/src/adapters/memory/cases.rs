//! Cases in process memory, with the same guards as the DynamoDB store (a new id to open,
//! the loaded version to replace), and a collecting outbox for support's messages.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::clock::SECONDS_PER_DAY;
use crate::store::StoreError;
use crate::support::case::{Case, CaseStatus, CaseSummary};
use crate::support::messages::{OutboxError, SupportMessage, SupportOutbox};
use crate::support::store::{CaseStore, CaseWriteError};

#[derive(Debug, Default)]
pub struct MemoryCaseStore {
    cases: Mutex<HashMap<String, (Case, u64)>>,
}

impl MemoryCaseStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Case, u64)>> {
        // Writes replace a whole entry; a poisoned lock is consistent.
        self.cases.lock().unwrap_or_else(|p| p.into_inner())
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
    async fn open(&self, case: &Case) -> Result<bool, StoreError> {
        let mut cases = self.lock();
        if cases.contains_key(case.id()) {
            return Ok(false);
        }
        cases.insert(case.id().to_owned(), (case.clone(), 1));
        Ok(true)
    }

    async fn load(&self, case_id: &str) -> Result<Option<(Case, u64)>, StoreError> {
        Ok(self.lock().get(case_id).cloned())
    }

    async fn save(&self, case: &Case, expected_version: u64) -> Result<(), CaseWriteError> {
        let mut cases = self.lock();
        match cases.get(case.id()) {
            Some((_, version)) if *version == expected_version => {
                cases.insert(case.id().to_owned(), (case.clone(), expected_version + 1));
                Ok(())
            }
            _ => Err(CaseWriteError::Changed),
        }
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

/// Keeps every message support sent, in order (tests, the local console).
#[derive(Debug, Default)]
pub struct MemorySupportOutbox {
    sent: Mutex<Vec<SupportMessage>>,
}

impl MemorySupportOutbox {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn sent(&self) -> Vec<SupportMessage> {
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl SupportOutbox for MemorySupportOutbox {
    async fn send(&self, messages: &[SupportMessage]) -> Result<(), OutboxError> {
        self.sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(messages);
        Ok(())
    }
}

/// A shared outbox works too (a test keeps a handle while the desk owns the other).
impl<T: SupportOutbox> SupportOutbox for std::sync::Arc<T> {
    fn send(
        &self,
        messages: &[SupportMessage],
    ) -> impl std::future::Future<Output = Result<(), OutboxError>> + Send {
        T::send(self, messages)
    }
}
