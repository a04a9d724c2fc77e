//! The screening recorder in memory: a verdict's messages go to the outbox and, when the
//! recorder keeps cases, the case a `review` or `hide` opens goes to the case store — under
//! the same call, as the DynamoDB recorder writes both in one transaction.

use std::sync::Arc;

use super::cases::MemoryCaseStore;
use super::outbox::MemoryOutbox;
use crate::clock::Clock;
use crate::outbox::OutboxMessage;
use crate::screening::{ScreeningRecorder, Submission};
use crate::store::StoreError;
use crate::support::case::{log_opening, Case};
use crate::verdict::Verdict;

#[derive(Default)]
pub struct MemoryScreeningRecorder {
    outbox: Arc<MemoryOutbox>,
    cases: Option<(Arc<MemoryCaseStore>, Arc<dyn Clock>)>,
}

impl MemoryScreeningRecorder {
    /// A recorder of messages alone (the CLI keeps no cases).
    pub fn new(outbox: Arc<MemoryOutbox>) -> Self {
        MemoryScreeningRecorder {
            outbox,
            cases: None,
        }
    }

    /// Also opens support's case for every `review` and `hide`, in `cases`, at `clock`'s time.
    pub fn opening_cases(mut self, cases: Arc<MemoryCaseStore>, clock: Arc<dyn Clock>) -> Self {
        self.cases = Some((cases, clock));
        self
    }

    pub fn outbox(&self) -> &Arc<MemoryOutbox> {
        &self.outbox
    }
}

impl ScreeningRecorder for MemoryScreeningRecorder {
    async fn record(
        &self,
        submission: &Submission,
        verdict: &Verdict,
        messages: Vec<OutboxMessage>,
    ) -> Result<(), StoreError> {
        if let Some((cases, clock)) = &self.cases {
            if let Some(case) = Case::for_verdict(submission, verdict, clock.now()) {
                log_opening(&case, cases.open(&case));
            }
        }
        self.outbox.write(&messages);
        Ok(())
    }
}
