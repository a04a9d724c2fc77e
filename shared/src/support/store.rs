//! The case store port: what the support desk needs from storage.
//!
//! A case is opened by the write that calls for it (the screening recorder's, the report
//! store's; see [`super::case`]), guarded so that a retried screening opens nothing twice.
//! Every later write replaces it only at the version it was loaded at, so two members
//! deciding the same case at once (or one member's double-click) make exactly one decision;
//! the loser reloads and finds it decided. A decision's messages (see [`super::messages`])
//! go into the outbox in that same write: recorded together or not at all. A store keeps
//! the indexes the pages read — the open queue, cases by opening day, decisions by day,
//! cases by author — in the same atomic write as the case, seals the case's content at
//! rest, and lets a closed case expire after the retention it was configured with.

use std::future::Future;
use std::sync::Arc;

use super::case::{Case, CaseSummary};
use crate::clock::Timestamp;
use crate::outbox::OutboxMessage;
use crate::store::StoreError;

/// Default retention of a closed case (its text included): 180 days after closing.
pub const DEFAULT_RETENTION_DAYS: u64 = 180;

/// Why a guarded case write did not apply. Nothing was written in either case.
#[derive(Debug, thiserror::Error)]
pub enum CaseWriteError {
    /// The case changed since it was loaded: reload and decide again.
    #[error("case changed since it was loaded")]
    Changed,
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub trait CaseStore: Send + Sync {
    /// The case and the version it was loaded at.
    fn load(
        &self,
        case_id: &str,
    ) -> impl Future<Output = Result<Option<(Case, u64)>, StoreError>> + Send;

    /// Replaces the case, only if it is still at `expected_version`, and writes `outbox`
    /// (the messages the change sends) with it: both or neither.
    fn save(
        &self,
        case: &Case,
        expected_version: u64,
        outbox: &[OutboxMessage],
    ) -> impl Future<Output = Result<(), CaseWriteError>> + Send;

    /// Writes the messages of an action that changes no case (an account action's command)
    /// to the outbox, in one write, at `at`.
    fn send(
        &self,
        outbox: &[OutboxMessage],
        at: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Every case not yet closed.
    fn queue(&self) -> impl Future<Output = Result<Vec<CaseSummary>, StoreError>> + Send;

    /// Cases opened on the UTC day `day` (days since the epoch).
    fn opened_on(
        &self,
        day: u64,
    ) -> impl Future<Output = Result<Vec<CaseSummary>, StoreError>> + Send;

    /// Cases closed on the UTC day `day`.
    fn closed_on(
        &self,
        day: u64,
    ) -> impl Future<Output = Result<Vec<CaseSummary>, StoreError>> + Send;

    /// An author's cases, newest first, at most `limit`.
    fn cases_of(
        &self,
        author_id: &str,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<CaseSummary>, StoreError>> + Send;
}

/// A shared store works too (a memory store shared by the desk and the writes that open
/// cases).
impl<T: CaseStore> CaseStore for Arc<T> {
    fn load(
        &self,
        case_id: &str,
    ) -> impl Future<Output = Result<Option<(Case, u64)>, StoreError>> + Send {
        T::load(self, case_id)
    }

    fn save(
        &self,
        case: &Case,
        expected_version: u64,
        outbox: &[OutboxMessage],
    ) -> impl Future<Output = Result<(), CaseWriteError>> + Send {
        T::save(self, case, expected_version, outbox)
    }

    fn send(
        &self,
        outbox: &[OutboxMessage],
        at: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        T::send(self, outbox, at)
    }

    fn queue(&self) -> impl Future<Output = Result<Vec<CaseSummary>, StoreError>> + Send {
        T::queue(self)
    }

    fn opened_on(
        &self,
        day: u64,
    ) -> impl Future<Output = Result<Vec<CaseSummary>, StoreError>> + Send {
        T::opened_on(self, day)
    }

    fn closed_on(
        &self,
        day: u64,
    ) -> impl Future<Output = Result<Vec<CaseSummary>, StoreError>> + Send {
        T::closed_on(self, day)
    }

    fn cases_of(
        &self,
        author_id: &str,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<CaseSummary>, StoreError>> + Send {
        T::cases_of(self, author_id, limit)
    }
}

/// When a case's item (and its sealed text) may be deleted: `retention_days` after it
/// closed; never while it is open.
pub fn expires_at(summary: &CaseSummary, retention_days: u64) -> Option<Timestamp> {
    summary
        .closed_at
        .map(|closed| closed + retention_days * crate::clock::SECONDS_PER_DAY)
}
