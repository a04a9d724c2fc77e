//! The strike ledger in process memory, with the same guards as the DynamoDB store: a
//! commit applies whole or not at all, inserts only new violations, revokes only once,
//! replaces a standing only at the version it was loaded at, and writes its outbox
//! messages together with the change.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use super::outbox::MemoryOutbox;
use crate::clock::Timestamp;
use crate::escalation::ledger::{
    AuditRecord, Commit, CommitError, LedgerStore, UserState, ViolationRecord, ViolationWrite,
};
use crate::store::StoreError;

#[derive(Debug, Default)]
struct Tables {
    users: HashMap<String, UserState>,
    violations: HashMap<String, ViolationRecord>,
    /// Per user, in commit order.
    audit: BTreeMap<String, Vec<AuditRecord>>,
}

#[derive(Debug, Default)]
pub struct MemoryLedgerStore {
    tables: Mutex<Tables>,
    outbox: Arc<MemoryOutbox>,
}

impl MemoryLedgerStore {
    /// A ledger with an outbox of its own.
    pub fn new() -> Self {
        Self::default()
    }

    /// A ledger writing to `outbox`, which other memory stores may share.
    pub fn with_outbox(outbox: Arc<MemoryOutbox>) -> Self {
        MemoryLedgerStore {
            tables: Mutex::default(),
            outbox,
        }
    }

    pub fn outbox(&self) -> &Arc<MemoryOutbox> {
        &self.outbox
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Tables> {
        // Every commit checks all guards before it writes anything, so a panic cannot
        // leave the tables half-changed; a poisoned lock is still consistent.
        self.tables.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl LedgerStore for MemoryLedgerStore {
    async fn load_user(&self, user_id: &str) -> Result<UserState, StoreError> {
        Ok(self.lock().users.get(user_id).cloned().unwrap_or_default())
    }

    async fn load_violation(
        &self,
        violation_id: &str,
    ) -> Result<Option<ViolationRecord>, StoreError> {
        Ok(self.lock().violations.get(violation_id).cloned())
    }

    async fn commit(&self, commit: Commit) -> Result<(), CommitError> {
        let mut tables = self.lock();
        match &commit.violation {
            ViolationWrite::Insert(v) if tables.violations.contains_key(&v.violation_id) => {
                return Err(CommitError::ViolationAlreadyRecorded)
            }
            ViolationWrite::Revoke(v)
                if tables
                    .violations
                    .get(&v.violation_id)
                    .is_none_or(|stored| stored.revocation.is_some()) =>
            {
                return Err(CommitError::ViolationAlreadyRevoked)
            }
            _ => {}
        }
        let current_version = tables.users.get(&commit.user_id).map_or(0, |u| u.version);
        if current_version != commit.expected_version {
            return Err(CommitError::StandingChanged);
        }
        match commit.violation {
            ViolationWrite::Insert(v) | ViolationWrite::Revoke(v) => {
                tables.violations.insert(v.violation_id.clone(), v);
            }
            ViolationWrite::Untouched => {}
        }
        tables.users.insert(
            commit.user_id.clone(),
            UserState {
                standing: commit.standing,
                version: current_version + 1,
            },
        );
        tables
            .audit
            .entry(commit.user_id)
            .or_default()
            .push(commit.audit);
        // Still under the tables' lock: the change and its messages land together.
        self.outbox.write(&commit.outbox);
        Ok(())
    }

    async fn due_for_expiry(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        let tables = self.lock();
        let mut due: Vec<(Timestamp, &String)> = tables
            .users
            .iter()
            .filter_map(|(user, state)| state.standing.next_expiry().map(|at| (at, user)))
            .filter(|(at, _)| *at <= now)
            .collect();
        due.sort();
        Ok(due
            .into_iter()
            .take(limit)
            .map(|(_, user)| user.clone())
            .collect())
    }

    async fn audit_trail(&self, user_id: &str) -> Result<Vec<AuditRecord>, StoreError> {
        Ok(self.lock().audit.get(user_id).cloned().unwrap_or_default())
    }
}
