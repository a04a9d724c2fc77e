//! The support desk: what a member can do, checked and carried out the same way whether the
//! console's pages, its JSON API or a test calls it.
//!
//! Every action takes the acting [`Member`] as the token verifier established it, checks
//! the member's group first (nothing is read or written for a member who may not act), and
//! validates the request before any write. A case decision is one guarded write of the case
//! (retried from a fresh load when another writer got there first), then its messages leave
//! through the outbox port. Deciding a closed case again the same way is a no-op that sends
//! nothing — a double-click is one decision; deciding it differently is a conflict.
//!
//! Account actions (revoking a strike, confirming a forced withdrawal, reinstating) are
//! user-escalation's to carry out and audit; the desk checks them against the ledger first,
//! so that a member is told at once when the two-person rule refuses them, and sends the
//! command with the member's authenticated id as `decided_by`.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tracing::info;

use super::case::{
    Case, CaseAction, CaseEvent, CaseOrigin, CaseResolution, CaseStatus, CaseSummary,
};
use super::member::{Forbidden, Group, Member};
use super::messages::{CaseResolved, OutboxError, SupportMessage, SupportOutbox};
use super::store::{CaseStore, CaseWriteError};
use super::trends::{self, Trends};
use crate::clock::{Clock, SECONDS_PER_DAY};
use crate::digest::stable_key;
use crate::escalation::{
    account_standing, AccountStanding, EscalationCommand, LedgerStore, Reinstated,
    ViolationRevoked, WithdrawalConfirmed,
};
use crate::input::{bounded_text, Blank, Id, InvalidInput};
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
    /// The decision is recorded but its messages did not leave; the case says so and a
    /// resend delivers them (same ids, same dedupe keys).
    #[error(transparent)]
    Delivery(#[from] OutboxError),
}

pub struct SupportDesk<C, L, R, O> {
    cases: C,
    ledger: L,
    reports: R,
    outbox: O,
    policy: Arc<Policy>,
    clock: Arc<dyn Clock>,
}

impl<C: CaseStore, L: LedgerStore, R: ReportStore, O: SupportOutbox> SupportDesk<C, L, R, O> {
    pub fn new(
        cases: C,
        ledger: L,
        reports: R,
        outbox: O,
        policy: Arc<Policy>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        SupportDesk {
            cases,
            ledger,
            reports,
            outbox,
            policy,
            clock,
        }
    }

    pub fn cases(&self) -> &C {
        &self.cases
    }

    pub fn outbox(&self) -> &O {
        &self.outbox
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
        match self.cases.save(&case, version).await {
            Ok(()) => {
                info!(case_id, member = %member.id, "case claimed");
                Ok(Attempt::Done(case.summary))
            }
            Err(CaseWriteError::Changed) => Ok(Attempt::Conflict),
            Err(CaseWriteError::Store(e)) => Err(e.into()),
        }
    }

    /// Decides a case: one guarded write, then its messages.
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
        let (outcome, messages) = retry_on_conflict(
            RETRIES,
            || self.try_decide(member, case_id, decision),
            || SupportError::Contention(case_id.to_owned()),
        )
        .await?;
        if !messages.is_empty() {
            self.deliver(&outcome.case, &messages).await?;
        }
        Ok(outcome)
    }

    async fn try_decide(
        &self,
        member: &Member,
        case_id: &str,
        decision: &Decision,
    ) -> Result<Attempt<(DecisionOutcome, Vec<SupportMessage>)>, SupportError> {
        let (mut case, version) = self.load(case_id).await?;
        let categories: Vec<Category> = decision.categories.iter().copied().collect();
        if let Some(done) = &case.summary.resolution {
            // The same decision again (a double-click, a retried request): nothing to do.
            if done.action == decision.action && done.final_categories == categories {
                return Ok(Attempt::Done((
                    DecisionOutcome {
                        case: case.summary,
                        applied: false,
                    },
                    Vec::new(),
                )));
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
        let mut messages = Vec::new();
        let mut violation_ids = Vec::new();
        match (case.summary.origin, decision.action) {
            (CaseOrigin::Screening, CaseAction::Confirm) => {
                for category in &categories {
                    let v = self.violation_for(&case, *category, member)?;
                    violation_ids.push(v.violation_id.to_string());
                    messages.push(SupportMessage::Escalation(
                        EscalationCommand::ViolationConfirmed(v),
                    ));
                }
            }
            (CaseOrigin::Screening, CaseAction::FalsePositive) => {
                // A hide wrongly made an automatic strike: a person's "no" takes it back.
                for violation_id in self.automatic_strikes(&case) {
                    violation_ids.push(violation_id.to_string());
                    messages.push(SupportMessage::Escalation(
                        EscalationCommand::ViolationRevoked(ViolationRevoked {
                            violation_id,
                            decided_by: member.id.clone(),
                            reason: format!("case {case_id}: false positive"),
                        }),
                    ));
                }
            }
            (CaseOrigin::Screening, CaseAction::KeepHidden) => {}
            (CaseOrigin::Reports, action) => {
                let tally = self.reports.tally(&case.summary.author_id).await?.tally;
                let confirmed = action == CaseAction::Confirm;
                let mut seen = BTreeSet::new();
                for entry in tally.entries.iter().filter(|e| !e.brigading) {
                    let Some(report_id) = entry.report_id.as_deref() else {
                        continue;
                    };
                    if !seen.insert(report_id.to_owned()) {
                        continue;
                    }
                    let category = match entry.category {
                        ReportCategory::Category(c) if decision.categories.contains(&c) => Some(c),
                        _ => categories.first().copied(),
                    };
                    messages.push(SupportMessage::Resolution(Resolution {
                        report_id: Id::parse("report_id", report_id)?,
                        decision: if confirmed {
                            ResolutionDecision::Confirmed
                        } else {
                            ResolutionDecision::Rejected
                        },
                        decided_by: member.id.clone(),
                        category: if confirmed { category } else { None },
                        severity: None,
                    }));
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
            messages.push(SupportMessage::CaseResolved(event));
        }
        match self.cases.save(&case, version).await {
            Ok(()) => {
                info!(case_id, member = %member.id, action = decision.action.as_str(),
                      categories = ?decision.categories, messages = messages.len(), "case decided");
                Ok(Attempt::Done((
                    DecisionOutcome {
                        case: case.summary,
                        applied: true,
                    },
                    messages,
                )))
            }
            Err(CaseWriteError::Changed) => Ok(Attempt::Conflict),
            Err(CaseWriteError::Store(e)) => Err(e.into()),
        }
    }

    async fn deliver(
        &self,
        case: &CaseSummary,
        messages: &[SupportMessage],
    ) -> Result<(), SupportError> {
        self.outbox.send(messages).await?;
        let kinds: Vec<&str> = messages.iter().map(SupportMessage::kind).collect();
        info!(case_id = %case.case_id, messages = ?kinds, "support messages sent");
        Ok(())
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
        self.outbox
            .send(&[SupportMessage::Escalation(command)])
            .await?;
        info!(user_id, member = %member.id, command = %name, "account command sent");
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
        let now = self.clock.now();
        let settled_before = now.saturating_sub(self.policy.reports().brigade_window_minutes * 60);
        let mut targets = Vec::with_capacity(cases.len());
        for case in cases {
            let tally = self.reports.tally(&case.author_id).await?.tally;
            let mut scores: Vec<(ReportCategory, f64, usize)> = tally
                .scores(settled_before)
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

/// Opens `case` (screen-submission for a `review` or `hide`, report-intake for a crossing);
/// false when it was open already — a retried screening or report opens nothing twice.
pub async fn open_case<C: CaseStore>(cases: &C, case: &Case) -> Result<bool, StoreError> {
    let opened = cases.open(case).await?;
    info!(case_id = %case.id(), origin = case.summary.origin.as_str(),
          urgency = case.summary.urgency.as_str(), opened, "case opened");
    Ok(opened)
}
