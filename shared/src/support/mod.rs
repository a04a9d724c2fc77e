//! Support's desk: the human half of anshin. Every `review` and `hide` verdict, and every
//! report target that crosses its threshold, becomes a [`case`]; support members work the
//! queue and decide, under their own authenticated name ([`member`]); each decision is one
//! guarded write of the case ([`store`]) together with the messages it causes
//! ([`messages`]), into the outbox: the command to user-escalation or report-intake, and a
//! `case_resolved` event the platform uses to tell the poster what to fix.
//!
//! Read in this order: [`case`] (what a case holds, how it opens) → [`member`] (who may do
//! what) → [`desk`] (claim, decide, account actions, trends) → [`messages`] (what goes out)
//! → [`store`] (the storage port: memory and DynamoDB adapters).

pub mod case;
pub mod desk;
pub mod member;
pub mod messages;
pub mod store;
pub mod trends;

pub use case::{Case, CaseAction, CaseOrigin, CaseOutcome, CaseStatus, CaseSummary, Urgency};
pub use desk::{Decision, QueueFilter, SupportDesk, SupportError};
pub use member::{Group, Member};
pub use messages::CaseResolved;
pub use store::CaseStore;
