//! The support desk: what a member can do, checked and carried out the same way whether the
//! console's pages, its JSON API or a test calls it.
//!
//! Every action takes the acting [`Member`] as the token verifier established it, checks
//! the member's group first (nothing is read or written for a member who may not act), and
//! validates the request before any write. A case decision is one guarded write of the case
//! and of the messages it sends, into the outbox (retried from a fresh load when another
//! writer got there first): once it is recorded its messages are delivered, whatever happens
//! to this process. Deciding a closed case again the same way is a no-op that sends nothing
//! — a double-click is one decision; deciding it differently is a conflict.
//!
//! Account actions (revoking a strike, confirming a forced withdrawal, reinstating) are
//! user-escalation's to carry out and audit; the desk checks them against the ledger first,
//! so that a member is told at once when the two-person rule refuses them, and writes the
//! command to the outbox with the member's authenticated id as `decided_by`.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tracing::info;

use super::case::{
    Case, CaseAction, CaseEvent, CaseOrigin, CaseResolution, CaseStatus, CaseSummary,
};
use super::member::{Forbidden, Group, Member};
use super::messages::CaseResolved;
use super::store::{CaseStore, CaseWriteError};
use super::trends::{self, Trends};
use crate::clock::{Clock, SECONDS_PER_DAY};
use crate::digest::stable_key;
use crate::escalation::{
    account_standing, AccountStanding, EscalationCommand, LedgerStore, Reinstated,
    ViolationRevoked, WithdrawalConfirmed,
};
use crate::input::{bounded_text, Blank, Id, InvalidInput};
use crate::outbox::OutboxMessage;
use crate::policy::ladder::AccountLevel;
use crate::policy::Policy;
use crate::reports::{ReportStore, Resolution, ResolutionDecision, TargetTally};
use crate::screening::auto_strike_id;
use crate::store::{retry_on_conflict, Attempt, RetryBudget, StoreError};
use crate::taxonomy::{Category, ReportCategory};
use crate::verdict::{Decision as VerdictDecision, ScoreSource};
use crate::violation::{ViolationConfirmed, ViolationSource};

/// Longest reason a member can give (revocation, reinstatement).
pub const MAX_REASON_CHARS: usize = crate::escalation::command::MAX_REASON_CHARS;

/// How often a decision reloads when other writers keep changing the case.
const RETRIES: RetryBudget = RetryBudget { attempts: 16 };

/// Reports one report-case decision resolves at most, heaviest first: each is a message in
/// the decision's one transaction (DynamoDB takes 100 items in one). A wave is a handful of
/// reporters; the rest of a larger one stay open, and no longer count once the first
/// resolutions re-arm the category.
pub const MAX_RESOLUTIONS_PER_DECISION: usize = 50;

/// A member's decision on a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub action: CaseAction,
    /// The categories found: at least one to confirm or keep hidden, none for a false
    /// positive.
    pub categories: BTreeSet<Category>,
}

/// What a decision did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionOutcome {
    pub case: CaseSummary,
    /// False when the case had been decided this way already: nothing was sent.
    pub applied: bool,
}

/// What a member may need to know about a case's author.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountView {
    pub standing: AccountStanding,
    /// The author's cases, newest first.
    pub cases: Vec<CaseSummary>,
}

/// One case page's worth: the case, its author, the reports against them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseView {
    pub case: Case,
    pub version: u64,
    pub author: AccountView,
    pub reports: TargetTally,
}

/// Filters of the queue; `None` is "any".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueFilter {
    pub category: Option<Category>,
    pub kind: Option<crate::taxonomy::SubmissionKind>,
    pub decision: Option<VerdictDecision>,
    pub status: Option<CaseStatus>,
    pub origin: Option<CaseOrigin>,
}

impl QueueFilter {
    fn keeps(&self, c: &CaseSummary) -> bool {
        self.category.is_none_or(|x| c.categories.contains(&x))
            && self.kind.is_none_or(|x| c.kind == Some(x))
            && self.decision.is_none_or(|x| c.decision == Some(x))
            && self.status.is_none_or(|x| c.status == x)
            && self.origin.is_none_or(|x| c.origin == x)
    }
}

/// A report target with its open reports, for the reports page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportTarget {
    pub case: CaseSummary,
    pub tally: TargetTally,
    /// (category, weighted score, reporters), highest first.
    pub scores: Vec<(ReportCategory, f64, usize)>,
}

/// What an account action sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandSent {
    pub command: String,
    pub user_id: String,
    pub decided_by: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SupportError {
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    #[error("{0} not found")]
    NotFound(String),
    /// The action contradicts what has happened already; nothing was changed.
    #[error("{0}")]
    Conflict(String),
    #[error("case {0} changed too often to decide; retry")]
    Contention(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reads cases, the ledger and the reports; writes cases, and the messages decisions send
/// through the case store's outbox.
pub struct SupportDesk<C, L, R> {
    cases: C,
    ledger: L,
    reports: R,
    policy: Arc<Policy>,
    clock: Arc<dyn Clock>,
}

impl<C: CaseStore, L: LedgerStore, R: ReportStore> SupportDesk<C, L, R> {
    pub fn new(
        cases: C,
        ledger: L,
        reports: R,
        policy: Arc<Policy>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        SupportDesk {
            cases,
            ledger,
            reports,
            policy,
            clock,
        }
    }

    pub fn cases(&self) -> &C {
        &self.cases
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub fn now(&self) -> crate::clock::Timestamp {
        self.clock.now()
    }

    /// Open cases by urgency, then oldest first.
    pub async fn queue(
        &self,
        member: &Member,
        filter: &QueueFilter,
    ) -> Result<Vec<CaseSummary>, SupportError> {
        member.require(Group::Support)?;
        let mut cases: Vec<CaseSummary> = self
            .cases
            .queue()
            .await?
            .into_iter()
            .filter(|c| filter.keeps(c))
            .collect();
        cases.sort_by(|a, b| {
            (a.urgency.rank(), a.opened_at, &a.case_id).cmp(&(
                b.urgency.rank(),
                b.opened_at,
                &b.case_id,
            ))
        });
        Ok(cases)
    }

    pub async fn case(&self, member: &Member, case_id: &str) -> Result<CaseView, SupportError> {
        member.require(Group::Support)?;
        let (case, version) = self.load(case_id).await?;
        let author = self.account_view(&case.summary.author_id).await?;
        let reports = self.reports.tally(&case.summary.author_id).await?.tally;
        Ok(CaseView {
            case,
            version,
            author,
            reports,
        })
    }

    pub async fn account(
        &self,
        member: &Member,
        user_id: &str,
    ) -> Result<AccountView, SupportError> {
        member.require(Group::Support)?;
        let user_id = Id::parse("user_id", user_id)?;
        self.account_view(user_id.as_str()).await
    }

    async fn account_view(&self, user_id: &str) -> Result<AccountView, SupportError> {
        Ok(AccountView {
            standing: account_standing(&self.ledger, &self.policy, self.clock.now(), user_id)
                .await?,
            cases: self.cases.cases_of(user_id, 20).await?,
        })
    }

    async fn load(&self, case_id: &str) -> Result<(Case, u64), SupportError> {
        let case_id = Id::parse("case_id", case_id)?;
        self.cases
            .load(case_id.as_str())
            .await?
            .ok_or_else(|| SupportError::NotFound(format!("case {case_id}")))
    }

    /// Takes an open case for the member; claiming one's own claim again changes nothing.
    pub async fn claim(&self, member: &Member, case_id: &str) -> Result<CaseSummary, SupportError> {
        member.require(Group::Support)?;
        retry_on_conflict(
            RETRIES,
            || self.try_claim(member, case_id),
            || SupportError::Contention(case_id.to_owned()),
        )
        .await
    }

    async fn try_claim(
        &self,
        member: &Member,
        case_id: &str,
    ) -> Result<Attempt<CaseSummary>, SupportError> {
        let (mut case, version) = self.load(case_id).await?;
        match (case.summary.status, case.summary.claimed_by.as_deref()) {
            (CaseStatus::Closed, _) => {
                return Err(SupportError::Conflict(format!("case {case_id} is closed")))
            }
            (CaseStatus::Claimed, Some(by)) if by == member.id.as_str() => {
                return Ok(Attempt::Done(case.summary))
            }
            (CaseStatus::Claimed, Some(by)) => {
                return Err(SupportError::Conflict(format!(
                    "case {case_id} is claimed by {by}"
                )))
            }
            _ => {}
        }
        let now = self.clock.now();
        case.summary.status = CaseStatus::Claimed;
        case.summary.claimed_by = Some(member.id.to_string());
        case.summary.updated_at = now;
        case.history.push(CaseEvent {
            at: now,
            actor: member.id.to_string(),
            what: "claimed".to_owned(),
        });
        match self.cases.save(&case, version, &[]).await {
            Ok(()) => {
                info!(case_id, member = %member.id, "case claimed");
                Ok(Attempt::Done(case.summary))
            }
            Err(CaseWriteError::Changed) => Ok(Attempt::Conflict),
            Err(CaseWriteError::Store(e)) => Err(e.into()),
        }
    }

    /// Decides a case: one guarded write of the case and the messages it sends.
    pub async fn decide(
        &self,
        member: &Member,
        case_id: &str,
        decision: &Decision,
    ) -> Result<DecisionOutcome, SupportError> {
        member.require(Group::Support)?;
        match decision.action {
            CaseAction::FalsePositive if !decision.categories.is_empty() => {
                return Err(InvalidInput::new(
                    "categories",
                    "a false positive carries no categories",
                )
                .into())
            }
            CaseAction::Confirm | CaseAction::KeepHidden if decision.categories.is_empty() => {
                return Err(InvalidInput::new("categories", "choose at least one category").into())
            }
            _ => {}
        }
        retry_on_conflict(
            RETRIES,
            || self.try_decide(member, case_id, decision),
            || SupportError::Contention(case_id.to_owned()),
        )
        .await
    }

    async fn try_decide(
        &self,
        member: &Member,
        case_id: &str,
        decision: &Decision,
    ) -> Result<Attempt<DecisionOutcome>, SupportError> {
        let (mut case, version) = self.load(case_id).await?;
        let categories: Vec<Category> = decision.categories.iter().copied().collect();
        if let Some(done) = &case.summary.resolution {
            // The same decision again (a double-click, a retried request): nothing to do.
            if done.action == decision.action && done.final_categories == categories {
                return Ok(Attempt::Done(DecisionOutcome {
                    case: case.summary,
                    applied: false,
                }));
            }
            return Err(SupportError::Conflict(format!(
                "case {case_id} was decided already ({} by {})",
                done.outcome.as_str(),
                done.decided_by
            )));
        }
        if let Some(by) = case.summary.claimed_by.as_deref() {
            if by != member.id.as_str() {
                return Err(SupportError::Conflict(format!(
                    "case {case_id} is claimed by {by}"
                )));
            }
        }
        if case.summary.origin == CaseOrigin::Reports && decision.action == CaseAction::KeepHidden {
            return Err(InvalidInput::new(
                "action",
                "a report case is confirmed or rejected; keep_hidden is for screened submissions",
            )
            .into());
        }
        let now = self.clock.now();
        let mut messages: Vec<OutboxMessage> = Vec::new();
        let mut violation_ids = Vec::new();
        match (case.summary.origin, decision.action) {
            (CaseOrigin::Screening, CaseAction::Confirm) => {
                for category in &categories {
                    let v = self.violation_for(&case, *category, member)?;
                    violation_ids.push(v.violation_id.to_string());
                    messages.push(v.to_outbox());
                }
            }
            (CaseOrigin::Screening, CaseAction::FalsePositive) => {
                // A hide wrongly made an automatic strike: a person's "no" takes it back.
                for violation_id in self.automatic_strikes(&case) {
                    violation_ids.push(violation_id.to_string());
                    let revoked = EscalationCommand::ViolationRevoked(ViolationRevoked {
                        violation_id,
                        decided_by: member.id.clone(),
                        reason: format!("case {case_id}: false positive"),
                    });
                    messages.push(revoked.to_outbox());
                }
            }
            (CaseOrigin::Screening, CaseAction::KeepHidden) => {}
            (CaseOrigin::Reports, action) => {
                for resolution in self.resolutions(&case, action, &categories, member).await? {
                    messages.push(resolution.to_outbox());
                }
            }
        }
        case.summary.resolution = Some(CaseResolution {
            action: decision.action,
            outcome: decision.action.outcome(),
            final_categories: categories,
            decided_by: member.id.to_string(),
            decided_at: now,
            violation_ids,
        });
        case.summary.status = CaseStatus::Closed;
        case.summary.claimed_by = Some(member.id.to_string());
        case.summary.closed_at = Some(now);
        case.summary.updated_at = now;
        case.history.push(CaseEvent {
            at: now,
            actor: member.id.to_string(),
            what: format!("decided: {}", decision.action.as_str()),
        });
        if let Some(event) = CaseResolved::for_case(&case) {
            messages.push(
                event
                    .to_outbox()
                    .map_err(|e| StoreError::Malformed(format!("encoding case_resolved: {e}")))?,
            );
        }
        match self.cases.save(&case, version, &messages).await {
            Ok(()) => {
                let ids: Vec<&str> = messages.iter().map(|m| m.id.as_str()).collect();
                info!(case_id, member = %member.id, action = decision.action.as_str(),
                      categories = ?decision.categories, messages = ?ids, "case decided");
                Ok(Attempt::Done(DecisionOutcome {
                    case: case.summary,
                    applied: true,
                }))
            }
            Err(CaseWriteError::Changed) => Ok(Attempt::Conflict),
            Err(CaseWriteError::Store(e)) => Err(e.into()),
        }
    }

    /// What a report case's decision tells report-intake: one resolution per report that
    /// counts in the wave the case was opened for (each crossed category at the epoch it
    /// crossed in), heaviest first, at most [`MAX_RESOLUTIONS_PER_DECISION`]. A confirmed
    /// report becomes a violation in the category the member chose for it: its own, when
    /// chosen, else the first chosen.
    async fn resolutions(
        &self,
        case: &Case,
        action: CaseAction,
        categories: &[Category],
        member: &Member,
    ) -> Result<Vec<Resolution>, SupportError> {
        let Some(reports) = &case.summary.reports else {
            return Ok(Vec::new());
        };
        let target = case.summary.author_id.as_str();
        let confirmed = action == CaseAction::Confirm;
        let mut seen = BTreeSet::new();
        let mut resolutions = Vec::new();
        for crossed in &reports.crossed {
            let epoch = reports.epochs.get(crossed).copied().unwrap_or_default();
            let room = MAX_RESOLUTIONS_PER_DECISION - resolutions.len();
            if room == 0 {
                break;
            }
            let counted = self
                .reports
                .counted_reports(target, *crossed, epoch, room)
                .await?;
            let category = match crossed {
                ReportCategory::Category(c) if categories.contains(c) => Some(*c),
                _ => categories.first().copied(),
            };
            for report_id in counted.into_iter().filter_map(|r| r.report_id) {
                if !seen.insert(report_id.clone()) {
                    continue;
                }
                resolutions.push(Resolution {
                    report_id: Id::parse("report_id", &report_id)?,
                    decision: if confirmed {
                        ResolutionDecision::Confirmed
                    } else {
                        ResolutionDecision::Rejected
                    },
                    decided_by: member.id.clone(),
                    category: if confirmed { category } else { None },
                    severity: None,
                });
            }
        }
        Ok(resolutions)
    }

    /// The strike a confirmed category earns; its id is derived from the case and the
    /// category, so however often it is delivered it counts once.
    fn violation_for(
        &self,
        case: &Case,
        category: Category,
        member: &Member,
    ) -> Result<ViolationConfirmed, SupportError> {
        let mut evidence = vec![format!("case:{}", case.id())];
        if let Some(submission) = &case.summary.submission_id {
            evidence.insert(0, format!("submission:{submission}"));
        }
        Ok(ViolationConfirmed {
            violation_id: Id::parse(
                "violation_id",
                &format!("case-{}", stable_key(&[case.id(), category.id()])),
            )?,
            user_id: Id::parse("user_id", &case.summary.author_id)?,
            category,
            severity: self.policy.category(category).severity,
            source: ViolationSource::Support,
            evidence,
            decided_by: member.id.clone(),
        })
    }

    /// The automatic strikes screening sent for this case's verdict.
    fn automatic_strikes(&self, case: &Case) -> Vec<Id> {
        let (Some(verdict), Some(submission_id)) = (
            case.content.verdict.as_ref(),
            case.summary.submission_id.as_deref(),
        ) else {
            return Vec::new();
        };
        if verdict.decision != VerdictDecision::Hide {
            return Vec::new();
        }
        verdict
            .categories
            .iter()
            .filter(|f| self.policy.ladder().auto_strike.contains(&f.category))
            .filter(|f| {
                f.source == ScoreSource::Rule
                    && f.score >= self.policy.category(f.category).hide_threshold
            })
            .filter_map(|f| {
                Id::parse(
                    "violation_id",
                    &auto_strike_id(submission_id, f.category, &verdict.content_hash),
                )
                .ok()
            })
            .collect()
    }

    /// An appeal upheld: the strike stops counting.
    pub async fn revoke_strike(
        &self,
        member: &Member,
        violation_id: &str,
        reason: &str,
    ) -> Result<CommandSent, SupportError> {
        member.require(Group::Support)?;
        let violation_id = Id::parse("violation_id", violation_id)?;
        let reason = bounded_text(
            "reason",
            reason.to_owned(),
            MAX_REASON_CHARS,
            Blank::Refused,
        )?;
        let record = self
            .ledger
            .load_violation(violation_id.as_str())
            .await?
            .ok_or_else(|| SupportError::NotFound(format!("violation {violation_id}")))?;
        if record.revocation.is_some() {
            return Err(SupportError::Conflict(format!(
                "violation {violation_id} is revoked already"
            )));
        }
        self.send_command(
            member,
            &record.user_id,
            EscalationCommand::ViolationRevoked(ViolationRevoked {
                violation_id,
                decided_by: member.id.clone(),
                reason,
            }),
        )
        .await
    }

    /// The second approval of a forced withdrawal (lead only, and never by the member whose
    /// decision triggered it).
    pub async fn confirm_withdrawal(
        &self,
        member: &Member,
        user_id: &str,
    ) -> Result<CommandSent, SupportError> {
        member.require(Group::Lead)?;
        let user_id = Id::parse("user_id", user_id)?;
        let state = self.ledger.load_user(user_id.as_str()).await?;
        let pending = match (&state.standing.pending_withdrawal, state.standing.level()) {
            (Some(p), AccountLevel::WithdrawalPending) => p,
            _ => {
                return Err(SupportError::Conflict(format!(
                    "{user_id} has no forced withdrawal awaiting confirmation"
                )))
            }
        };
        if pending.requested_by == member.id.as_str() {
            return Err(SupportError::Conflict(format!(
                "the withdrawal of {user_id} must be confirmed by a member other than the one who triggered it"
            )));
        }
        self.send_command(
            member,
            user_id.as_str(),
            EscalationCommand::WithdrawalConfirmed(WithdrawalConfirmed {
                user_id: user_id.clone(),
                decided_by: member.id.clone(),
            }),
        )
        .await
    }

    /// Brings a withdrawn account back (lead only).
    pub async fn reinstate(
        &self,
        member: &Member,
        user_id: &str,
        reason: &str,
    ) -> Result<CommandSent, SupportError> {
        member.require(Group::Lead)?;
        let user_id = Id::parse("user_id", user_id)?;
        let reason = bounded_text(
            "reason",
            reason.to_owned(),
            MAX_REASON_CHARS,
            Blank::Refused,
        )?;
        let state = self.ledger.load_user(user_id.as_str()).await?;
        if state.standing.level() != AccountLevel::Withdrawn {
            return Err(SupportError::Conflict(format!(
                "{user_id} is not withdrawn"
            )));
        }
        self.send_command(
            member,
            user_id.as_str(),
            EscalationCommand::Reinstated(Reinstated {
                user_id: user_id.clone(),
                decided_by: member.id.clone(),
                reason,
            }),
        )
        .await
    }

    async fn send_command(
        &self,
        member: &Member,
        user_id: &str,
        command: EscalationCommand,
    ) -> Result<CommandSent, SupportError> {
        let name = crate::input::Vocabulary::as_str(command.command_type()).to_owned();
        let message = command.to_outbox();
        self.cases.send(&[message], self.clock.now()).await?;
        info!(user_id, member = %member.id, command = %name, "account command written to the outbox");
        Ok(CommandSent {
            command: name,
            user_id: user_id.to_owned(),
            decided_by: member.id.to_string(),
        })
    }

    /// Open report cases with their targets' live tallies.
    pub async fn report_targets(&self, member: &Member) -> Result<Vec<ReportTarget>, SupportError> {
        let filter = QueueFilter {
            origin: Some(CaseOrigin::Reports),
            ..QueueFilter::default()
        };
        let cases = self.queue(member, &filter).await?;
        let mut targets = Vec::with_capacity(cases.len());
        for case in cases {
            let tally = self.reports.tally(&case.author_id).await?.tally;
            let mut scores: Vec<(ReportCategory, f64, usize)> = tally
                .scores()
                .into_iter()
                .map(|(c, (score, reporters))| (c, score, reporters))
                .collect();
            scores.sort_by(|a, b| b.1.total_cmp(&a.1));
            targets.push(ReportTarget {
                case,
                tally,
                scores,
            });
        }
        Ok(targets)
    }

    /// Decisions per category per day, repeat offenders and reposts over the last `days`.
    pub async fn trends(&self, member: &Member, days: u64) -> Result<Trends, SupportError> {
        member.require(Group::Support)?;
        let today = self.clock.now() / SECONDS_PER_DAY;
        let first = today + 1 - days.max(1);
        let mut closed = Vec::new();
        let mut opened = Vec::new();
        for day in first..=today {
            closed.push((day, self.cases.closed_on(day).await?));
            opened.extend(self.cases.opened_on(day).await?);
        }
        Ok(trends::compute(&closed, &opened))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::sync::Arc;

    use super::*;
    use crate::adapters::memory::{
        MemoryCaseStore, MemoryLedgerStore, MemoryOutbox, MemoryReportStore,
        MemoryScreeningRecorder,
    };
    use crate::clock::SystemClock;
    use crate::outbox::Destination;
    use crate::screening::{ScreenDesk, Screener, Submission};

    struct Local {
        desk: SupportDesk<Arc<MemoryCaseStore>, MemoryLedgerStore, MemoryReportStore>,
        screen: ScreenDesk<MemoryScreeningRecorder>,
        cases: Arc<MemoryCaseStore>,
        outbox: Arc<MemoryOutbox>,
    }

    fn local() -> Local {
        let policy = Arc::new(Policy::embedded().unwrap());
        let outbox = MemoryOutbox::new();
        let cases = Arc::new(MemoryCaseStore::with_outbox(Arc::clone(&outbox)));
        let screen = ScreenDesk::new(
            Screener::new(Arc::clone(&policy)),
            MemoryScreeningRecorder::new(Arc::clone(&outbox))
                .opening_cases(Arc::clone(&cases), Arc::new(SystemClock)),
        );
        let desk = SupportDesk::new(
            Arc::clone(&cases),
            MemoryLedgerStore::with_outbox(Arc::clone(&outbox)),
            MemoryReportStore::with_outbox(Arc::clone(&outbox)),
            policy,
            Arc::new(SystemClock),
        );
        Local {
            desk,
            screen,
            cases,
            outbox,
        }
    }

    fn member(id: &str, groups: &[Group]) -> Member {
        Member {
            id: Id::parse("id", id).unwrap(),
            display_name: None,
            groups: groups.iter().copied().collect(),
        }
    }

    /// Screens a fixture (opening its case) and answers the case's id.
    async fn case_for(local: &Local, fixture: &str) -> String {
        let submission = Submission::from_json_str(fixture).unwrap();
        local.screen.screen(&submission).await.unwrap();
        let queue = local.cases.queue().await.unwrap();
        queue
            .into_iter()
            .find(|c| c.submission_id.as_deref() == Some(submission.submission_id().as_str()))
            .expect("a hide opens a case")
            .case_id
    }

    /// The messages (destination, body) written to the outbox since `from`, its length then.
    fn written_since(outbox: &MemoryOutbox, from: usize) -> Vec<(Destination, String)> {
        outbox.written()[from..]
            .iter()
            .map(|m| (m.destination, m.body.clone()))
            .collect()
    }

    const CONTACT: &str =
        include_str!("../../../events/screen-submission/off-platform-contact-evasion.json");
    const CRIME: &str = include_str!("../../../events/screen-submission/crime-recruitment.json");

    fn confirm(category: Category) -> Decision {
        Decision {
            action: CaseAction::Confirm,
            categories: BTreeSet::from([category]),
        }
    }

    #[tokio::test]
    async fn a_decision_writes_its_strike_and_case_resolved_with_the_closed_case() {
        let local = local();
        let case_id = case_for(&local, CONTACT).await;
        let before = local.outbox.written().len();
        let agent = member("agent-a", &[Group::Support]);
        let outcome = local
            .desk
            .decide(&agent, &case_id, &confirm(Category::OffPlatformContact))
            .await
            .unwrap();
        assert!(outcome.applied);
        assert_eq!(outcome.case.status, CaseStatus::Closed);
        let written = written_since(&local.outbox, before);
        assert_eq!(written.len(), 2, "{written:?}");
        let strike: serde_json::Value = serde_json::from_str(&written[0].1).unwrap();
        assert_eq!(written[0].0, Destination::Escalation);
        assert_eq!(
            (strike["type"].as_str(), strike["decided_by"].as_str()),
            (Some("violation_confirmed"), Some("agent-a"))
        );
        let resolved: serde_json::Value = serde_json::from_str(&written[1].1).unwrap();
        assert_eq!(written[1].0, Destination::Alerts);
        assert_eq!(resolved["event_type"], "case_resolved");
        assert_eq!(resolved["outcome"], "removed");
    }

    #[tokio::test]
    async fn the_same_decision_again_writes_nothing_and_a_different_one_is_a_conflict() {
        let local = local();
        let case_id = case_for(&local, CONTACT).await;
        let agent = member("agent-a", &[Group::Support]);
        let decision = confirm(Category::OffPlatformContact);
        local
            .desk
            .decide(&agent, &case_id, &decision)
            .await
            .unwrap();
        let after_first = local.outbox.written().len();
        let again = local
            .desk
            .decide(&agent, &case_id, &decision)
            .await
            .unwrap();
        assert!(!again.applied);
        let other = Decision {
            action: CaseAction::FalsePositive,
            categories: BTreeSet::new(),
        };
        let refused = local
            .desk
            .decide(&member("agent-b", &[Group::Support]), &case_id, &other)
            .await;
        assert!(
            matches!(refused, Err(SupportError::Conflict(_))),
            "{refused:?}"
        );
        assert_eq!(local.outbox.written().len(), after_first);
    }

    #[tokio::test]
    async fn a_write_at_a_stale_version_stores_neither_the_case_nor_its_messages() {
        let local = local();
        let case_id = case_for(&local, CONTACT).await;
        let (mut case, version) = local.cases.load(&case_id).await.unwrap().unwrap();
        let before = local.outbox.written().len();
        local.cases.save(&case, version, &[]).await.unwrap();
        case.summary.status = CaseStatus::Closed;
        let message = EscalationCommand::StandingQuery {
            user_id: Id::parse("user_id", "worker-5120").unwrap(),
        }
        .to_outbox();
        let stale = local.cases.save(&case, version, &[message]).await;
        assert!(matches!(stale, Err(CaseWriteError::Changed)));
        assert_eq!(local.outbox.written().len(), before);
        let (stored, _) = local.cases.load(&case_id).await.unwrap().unwrap();
        assert_eq!(stored.summary.status, CaseStatus::Open);
    }

    #[tokio::test]
    async fn a_member_without_the_group_is_refused_and_nothing_is_written() {
        let local = local();
        let case_id = case_for(&local, CONTACT).await;
        let before = local.outbox.written().len();
        let visitor = member("visitor-c", &[]);
        let refused = local
            .desk
            .decide(&visitor, &case_id, &confirm(Category::OffPlatformContact))
            .await;
        assert!(matches!(refused, Err(SupportError::Forbidden(_))));
        let agent = member("agent-a", &[Group::Support]);
        for refused in [
            local.desk.confirm_withdrawal(&agent, "worker-5120").await,
            local.desk.reinstate(&agent, "worker-5120", "appeal").await,
        ] {
            assert!(
                matches!(refused, Err(SupportError::Forbidden(_))),
                "{refused:?}"
            );
        }
        assert_eq!(local.outbox.written().len(), before);
        let (case, version) = local.cases.load(&case_id).await.unwrap().unwrap();
        assert_eq!((case.summary.status, version), (CaseStatus::Open, 1));
    }

    #[tokio::test]
    async fn a_false_positive_revokes_screenings_automatic_strike_in_the_members_name() {
        let local = local();
        let case_id = case_for(&local, CRIME).await;
        let before = local.outbox.written().len();
        let released = Decision {
            action: CaseAction::FalsePositive,
            categories: BTreeSet::new(),
        };
        let agent = member("agent-b", &[Group::Support]);
        local
            .desk
            .decide(&agent, &case_id, &released)
            .await
            .unwrap();
        let written = written_since(&local.outbox, before);
        let revoked: Vec<serde_json::Value> = written
            .iter()
            .filter(|(d, _)| *d == Destination::Escalation)
            .map(|(_, body)| serde_json::from_str(body).unwrap())
            .collect();
        assert_eq!(revoked.len(), 1, "{written:?}");
        assert_eq!(revoked[0]["type"], "violation_revoked");
        assert_eq!(revoked[0]["decided_by"], "agent-b");
        assert!(revoked[0]["violation_id"]
            .as_str()
            .unwrap()
            .starts_with("auto-"));
    }
}
