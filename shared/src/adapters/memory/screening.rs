//! The screening recorder in memory: a verdict's messages go to the outbox.

use std::sync::Arc;

use super::outbox::MemoryOutbox;
use crate::outbox::OutboxMessage;
use crate::screening::{ScreeningRecorder, Submission};
use crate::store::StoreError;
use crate::verdict::Verdict;

#[derive(Debug, Default)]
pub struct MemoryScreeningRecorder {
    outbox: Arc<MemoryOutbox>,
}

impl MemoryScreeningRecorder {
    pub fn new(outbox: Arc<MemoryOutbox>) -> Self {
        MemoryScreeningRecorder { outbox }
    }

    pub fn outbox(&self) -> &Arc<MemoryOutbox> {
        &self.outbox
    }
}

impl ScreeningRecorder for MemoryScreeningRecorder {
    async fn record(
        &self,
        _submission: &Submission,
        _verdict: &Verdict,
        messages: Vec<OutboxMessage>,
    ) -> Result<(), StoreError> {
        self.outbox.write(&messages);
        Ok(())
    }
}
