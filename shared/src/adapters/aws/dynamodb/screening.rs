//! The screening recorder on DynamoDB: a verdict's messages go into the outbox in one
//! transaction.

use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::Client;

use super::outbox::outbox_put;
use super::table::unavailable;
use crate::clock::Clock;
use crate::outbox::OutboxMessage;
use crate::screening::{ScreeningRecorder, Submission};
use crate::store::StoreError;
use crate::verdict::Verdict;

pub struct DynamoScreeningRecorder {
    client: Client,
    table: String,
    clock: std::sync::Arc<dyn Clock>,
}

impl DynamoScreeningRecorder {
    pub fn new(client: Client, table: impl Into<String>, clock: std::sync::Arc<dyn Clock>) -> Self {
        DynamoScreeningRecorder {
            client,
            table: table.into(),
            clock,
        }
    }
}

impl ScreeningRecorder for DynamoScreeningRecorder {
    async fn record(
        &self,
        _submission: &Submission,
        _verdict: &Verdict,
        messages: Vec<OutboxMessage>,
    ) -> Result<(), StoreError> {
        let now = self.clock.now();
        let puts = messages
            .iter()
            .map(|m| outbox_put(&self.table, m, now))
            .collect::<Result<Vec<_>, _>>()?;
        self.client
            .transact_write_items()
            .set_transact_items(Some(puts))
            .send()
            .await
            .map_err(|e| unavailable("TransactWriteItems", DisplayErrorContext(e)))?;
        Ok(())
    }
}
