//! The strike ledger port: what the escalation logic needs from storage, and nothing more.
//!
//! The logic lives in [`super::escalator`]; a store only loads state and commits a
//! change atomically. A commit is all-or-nothing and carries its own guards: a violation
//! is inserted only if its id is new, a revocation applies only once, and the user's
//! standing is replaced only if nobody changed it since it was loaded (optimistic
//! concurrency on `version`). That is what makes a strike count exactly once under
//! retries and concurrent deliveries, in DynamoDB and in the embedded store alike.

use std::future::Future;

use serde::{Deserialize, Serialize};

use super::standing::Standing;
use crate::clock::Timestamp;
use crate::outbox::OutboxMessage;
use crate::policy::ladder::AccountLevel;
use crate::store::StoreError;
use crate::taxonomy::{Category, Severity};
use crate::violation::ViolationSource;

/// What was decided when a violation was first recorded; a duplicate delivery returns it
/// unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedOutcome {
    pub level_before: AccountLevel,
    pub level_after: AccountLevel,
    pub points_after: u32,
}

/// An appeal upheld.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationRecord {
    pub revoked_by: String,
    pub revoked_at: Timestamp,
    pub reason: String,
}

/// A confirmed violation as stored, keyed by its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViolationRecord {
    pub violation_id: String,
    pub user_id: String,
    pub category: Category,
    pub severity: Severity,
    pub source: ViolationSource,
    pub evidence: Vec<String>,
    pub decided_by: String,
    pub points: u32,
    pub confirmed_at: Timestamp,
    pub expires_at: Timestamp,
    pub policy_version: String,
    pub outcome: RecordedOutcome,
    /// Absent (not null) until revoked: the DynamoDB guard is `attribute_not_exists`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation: Option<RevocationRecord>,
}

/// A user's standing with the version it was loaded at (0: never written).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserState {
    pub standing: Standing,
    pub version: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    ViolationConfirmed,
    ViolationRevoked,
    WithdrawalConfirmed,
    Reinstated,
    /// Strikes expired and the level came down (the scheduled sweep).
    StrikesExpired,
}

/// Who changed what, when, why, under which policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub user_id: String,
    pub at: Timestamp,
    pub actor: String,
    pub action: AuditAction,
    /// The violation concerned, if any.
    pub violation_id: Option<String>,
    pub reason: Option<String>,
    pub level_before: AccountLevel,
    pub level_after: AccountLevel,
    pub policy_version: String,
}

/// How a commit touches the violation item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViolationWrite {
    /// Insert, only if no violation with this id exists.
    Insert(ViolationRecord),
    /// Replace with this revoked record, only if the stored one is not yet revoked.
    Revoke(ViolationRecord),
    Untouched,
}

/// One atomic change to the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    pub user_id: String,
    /// The version the standing was loaded at; the commit fails if it moved.
    pub expected_version: u64,
    pub standing: Standing,
    pub violation: ViolationWrite,
    pub audit: AuditRecord,
    /// What the change must announce, written with it (see [`crate::outbox`]).
    pub outbox: Vec<OutboxMessage>,
}

/// Why a commit did not apply. Nothing was written in any case.
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    #[error("violation already recorded")]
    ViolationAlreadyRecorded,
    #[error("violation already revoked")]
    ViolationAlreadyRevoked,
    #[error("standing changed since it was loaded")]
    StandingChanged,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Storage for strikes, standings and the audit trail.
pub trait LedgerStore: Send + Sync {
    fn load_user(
        &self,
        user_id: &str,
    ) -> impl Future<Output = Result<UserState, StoreError>> + Send;

    fn load_violation(
        &self,
        violation_id: &str,
    ) -> impl Future<Output = Result<Option<ViolationRecord>, StoreError>> + Send;

    fn commit(&self, commit: Commit) -> impl Future<Output = Result<(), CommitError>> + Send;

    /// Users whose standing has a strike expiring at or before `now` (see
    /// [`super::standing::Standing::next_expiry`]), at most `limit`, soonest first.
    fn due_for_expiry(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;

    /// The user's audit records, oldest first.
    fn audit_trail(
        &self,
        user_id: &str,
    ) -> impl Future<Output = Result<Vec<AuditRecord>, StoreError>> + Send;
}
