//! Escalation: confirmed violations become strikes, strikes move accounts up the ladder,
//! and every move is audited and announced — exactly once per violation.
//!
//! Read in this order: [`command`] (what user-escalation takes) → [`escalator`] (one
//! guarded commit per command, retried on conflict) with [`standing`] (what an account's
//! strikes earn) → [`ledger`] (the storage port: memory and DynamoDB adapters).

pub mod command;
pub mod escalator;
pub mod ledger;
pub mod standing;

pub use command::{
    EscalationCommand, EscalationCommandType, Reinstated, ViolationRevoked, WithdrawalConfirmed,
};
pub use escalator::{
    account_standing, AccountStanding, EscalationError, EscalationOutcome, EscalationResponse,
    Escalator, SweepOutcome,
};
pub use ledger::LedgerStore;
pub use standing::{PendingWithdrawal, Standing};
