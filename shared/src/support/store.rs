//! The case store port: what the support desk needs from storage.
//!
//! A case is written whole, guarded: opening inserts it only if its id is new (a retried
//! screening opens nothing twice), and every later write replaces it only at the version it
//! was loaded at, so two members deciding the same case at once (or one member's
//! double-click) make exactly one decision; the loser reloads and finds it decided. A store
//! keeps the indexes the pages read — the open queue, cases by opening day, decisions by
//! day, cases by author — in the same atomic write as the case, seals the case's content at
//! rest, and lets a closed case expire after the retention it was configured with.

use std::future::Future;

use super::case::{Case, CaseSummary};
use crate::clock::Timestamp;
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
    /// Opens `case`; `false` (and nothing written) when a case with its id exists.
    fn open(&self, case: &Case) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The case and the version it was loaded at.
    fn load(
        &self,
        case_id: &str,
    ) -> impl Future<Output = Result<Option<(Case, u64)>, StoreError>> + Send;

    /// Replaces the case, only if it is still at `expected_version`.
    fn save(
        &self,
        case: &Case,
        expected_version: u64,
    ) -> impl Future<Output = Result<(), CaseWriteError>> + Send;

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

/// When a case's item (and its sealed text) may be deleted: `retention_days` after it
/// closed; never while it is open.
pub fn expires_at(summary: &CaseSummary, retention_days: u64) -> Option<Timestamp> {
    summary
        .closed_at
        .map(|closed| closed + retention_days * crate::clock::SECONDS_PER_DAY)
}
