//! The screening recorder on DynamoDB: a verdict's messages go into the outbox, and — when
//! the recorder keeps cases — the case a `review` or `hide` opens goes in with them, in one
//! transaction. A verdict that holds a posting is recorded with the case that lets support
//! find it, or not at all (the invocation fails and the platform retries).
//!
//! A retried screening finds its case open already: the case put's guard cancels the
//! transaction, and the messages are written again alone (same ids, so the same items).

use aws_sdk_dynamodb::Client;

use super::cases::DynamoCaseStore;
use super::outbox::outbox_put;
use super::table::{condition_failed, transact, transaction_failed};
use crate::clock::Clock;
use crate::outbox::OutboxMessage;
use crate::screening::{ScreeningRecorder, Submission};
use crate::store::StoreError;
use crate::support::case::{log_opening, Case};
use crate::verdict::Verdict;

pub struct DynamoScreeningRecorder {
    client: Client,
    table: String,
    clock: std::sync::Arc<dyn Clock>,
    cases: Option<DynamoCaseStore>,
}

impl DynamoScreeningRecorder {
    /// A recorder of messages alone.
    pub fn new(client: Client, table: impl Into<String>, clock: std::sync::Arc<dyn Clock>) -> Self {
        DynamoScreeningRecorder {
            client,
            table: table.into(),
            clock,
            cases: None,
        }
    }

    /// Also opens support's case for every `review` and `hide`, in `cases` (the same table).
    pub fn opening_cases(mut self, cases: DynamoCaseStore) -> Self {
        self.cases = Some(cases);
        self
    }
}

impl ScreeningRecorder for DynamoScreeningRecorder {
    async fn record(
        &self,
        submission: &Submission,
        verdict: &Verdict,
        messages: Vec<OutboxMessage>,
    ) -> Result<(), StoreError> {
        let now = self.clock.now();
        let puts = messages
            .iter()
            .map(|m| outbox_put(&self.table, m, now))
            .collect::<Result<Vec<_>, _>>()?;
        let case = self
            .cases
            .as_ref()
            .and_then(|cases| Some((cases, Case::for_verdict(submission, verdict, now)?)));
        let Some((cases, case)) = case else {
            return transact(&self.client, puts)
                .await
                .map_err(transaction_failed);
        };
        let mut operations = cases.open_operations(&case).await?;
        operations.extend(puts.iter().cloned());
        match transact(&self.client, operations).await {
            Ok(()) => {
                log_opening(&case, true);
                Ok(())
            }
            // The case is open already (operation 0 is its guarded put): a retry.
            Err(e) if condition_failed(&e, 0) => {
                log_opening(&case, false);
                transact(&self.client, puts)
                    .await
                    .map_err(transaction_failed)
            }
            Err(e) => Err(transaction_failed(e)),
        }
    }
}
