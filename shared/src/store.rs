//! What every storage port shares: the error a store raises, and the one way the core
//! retries an optimistic write that lost a race.
//!
//! Stores guard their writes (a version that must not have moved, a key that must be new),
//! so two writers racing on one account or one report target never both win: the loser's
//! write is refused whole and it starts again from a fresh read. [`retry_on_conflict`] is
//! that loop, with one backoff for every service and an attempt budget each service sets.

use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A store could not do what was asked. Safe to log: it carries no personal text.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store could not be reached, timed out or failed the call; a later retry may
    /// succeed.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The store refused for capacity (throttling) after the SDK's own retries; the
    /// invocation fails so that its source retries it later, with nothing written.
    #[error("store throttled: {0}")]
    Throttled(String),
    /// The store refused the request as invalid (a validation error, an item over the size
    /// limit): the same request will be refused again, so it is never retried.
    #[error("store rejected the request: {0}")]
    Rejected(String),
    /// An item could not be encoded or decoded: a defect in this build, or an item written
    /// by an incompatible one — not an outage, and retrying will not help.
    #[error("stored item does not fit this build: {0}")]
    Malformed(String),
    /// The store answered in a way its own guards rule out (a guard the write did not
    /// carry failed, an item vanished between two reads): a defect, logged as one.
    #[error("store answered inconsistently: {0}")]
    Inconsistent(String),
}

impl StoreError {
    /// The `errorType` a function answers with: what the caller should do about it —
    /// retry later (`StoreUnavailable`, `StoreThrottled`), fix the request
    /// (`StoreRejected`), or call an engineer (`InternalError`).
    pub fn error_type(&self) -> &'static str {
        match self {
            StoreError::Unavailable(_) => "StoreUnavailable",
            StoreError::Throttled(_) => "StoreThrottled",
            StoreError::Rejected(_) => "StoreRejected",
            StoreError::Malformed(_) | StoreError::Inconsistent(_) => "InternalError",
        }
    }
}

/// One try of an optimistic write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt<T> {
    /// The write went through, or there was nothing to write: the answer.
    Done(T),
    /// Another writer changed what this one read; read again and retry.
    Conflict,
}

/// How often a service tries before giving up on a write that keeps losing races.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryBudget {
    pub attempts: u32,
}

/// Runs `attempt` until it is done, pausing after each conflict (short, growing, jittered
/// pauses, so that writers racing on one item spread out); after `budget` conflicts in a
/// row, or when the next pause would run past the invocation's deadline
/// ([`crate::deadline`]), gives up with `exhausted()`. An error from an attempt ends the
/// loop at once.
pub async fn retry_on_conflict<T, E, Fut>(
    budget: RetryBudget,
    mut attempt: impl FnMut() -> Fut,
    exhausted: impl FnOnce() -> E,
) -> Result<T, E>
where
    Fut: Future<Output = Result<Attempt<T>, E>>,
{
    for n in 0..budget.attempts {
        match attempt().await? {
            Attempt::Done(value) => return Ok(value),
            Attempt::Conflict => {
                let pause = backoff(n);
                if !crate::deadline::allows(pause) {
                    break;
                }
                tokio::time::sleep(pause).await;
            }
        }
    }
    Err(exhausted())
}

/// The pause after the `n`-th conflict: from about 1 ms, doubling up to about 32 ms, each
/// between half and all of its step.
fn backoff(n: u32) -> Duration {
    let step_us = 1_000u64 << n.min(5);
    // Jitter from the clock's sub-second noise: cheap, and enough to de-synchronise
    // writers that started together.
    let noise = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::from(d.subsec_nanos()));
    Duration::from_micros(step_us / 2 + noise % (step_us / 2))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[tokio::test]
    async fn a_conflict_is_retried_until_the_attempt_is_done() {
        let calls = Cell::new(0);
        let result: Result<u32, &str> = retry_on_conflict(
            RetryBudget { attempts: 5 },
            || {
                calls.set(calls.get() + 1);
                let n = calls.get();
                async move {
                    Ok(if n < 3 {
                        Attempt::Conflict
                    } else {
                        Attempt::Done(n)
                    })
                }
            },
            || "exhausted",
        )
        .await;
        assert_eq!(result, Ok(3));
    }

    #[tokio::test]
    async fn the_budget_ends_a_losing_streak_and_an_error_ends_it_at_once() {
        let calls = Cell::new(0);
        let result: Result<(), &str> = retry_on_conflict(
            RetryBudget { attempts: 4 },
            || {
                calls.set(calls.get() + 1);
                async { Ok(Attempt::Conflict) }
            },
            || "exhausted",
        )
        .await;
        assert_eq!((result, calls.get()), (Err("exhausted"), 4));

        calls.set(0);
        let result: Result<(), &str> = retry_on_conflict(
            RetryBudget { attempts: 4 },
            || {
                calls.set(calls.get() + 1);
                async { Err("store down") }
            },
            || "exhausted",
        )
        .await;
        assert_eq!((result, calls.get()), (Err("store down"), 1));
    }

    #[tokio::test]
    async fn the_invocation_deadline_ends_the_loop_before_its_budget() {
        let calls = Cell::new(0);
        let deadline = std::time::Instant::now() + Duration::from_millis(20);
        let result: Result<(), &str> = crate::deadline::within(
            deadline,
            retry_on_conflict(
                RetryBudget { attempts: 10_000 },
                || {
                    calls.set(calls.get() + 1);
                    async { Ok(Attempt::Conflict) }
                },
                || "exhausted",
            ),
        )
        .await;
        assert_eq!(result, Err("exhausted"));
        // 20 ms hold a handful of 1–32 ms pauses, nowhere near the budget.
        assert!(calls.get() < 20, "{} attempts", calls.get());
    }

    #[test]
    fn pauses_grow_and_stay_within_their_step() {
        for n in 0..10 {
            let step = Duration::from_micros(1_000u64 << n.min(5));
            let pause = backoff(n);
            assert!(pause >= step / 2 && pause < step, "{n}: {pause:?}");
        }
    }
}
