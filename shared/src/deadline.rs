//! The invocation's remaining time, as every retry loop below a handler sees it.
//!
//! A Lambda invocation ends at a fixed instant; a loop that keeps retrying past it is cut
//! off mid-write and its caller sees a timeout instead of a clear answer. The handler sets
//! the instant once, for the whole task that serves the invocation ([`within`]); the
//! loops ask [`allows`] before each pause. Outside a handler (the CLI, tests) no deadline
//! is set and only the loops' own attempt budgets bound them.

use std::future::Future;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

tokio::task_local! {
    static DEADLINE: Instant;
}

/// What a handler keeps for itself after the last retry: time to write its answer and
/// log, so that an exhausted loop still ends in a typed error rather than a timeout.
pub const ANSWER_RESERVE: Duration = Duration::from_millis(300);

/// Runs `work` with `deadline` as the instant no retry may pause past.
pub async fn within<F: Future>(deadline: Instant, work: F) -> F::Output {
    DEADLINE.scope(deadline, work).await
}

/// Runs a Lambda invocation's `work` within its deadline (milliseconds since the Unix
/// epoch, as the runtime API announces it). A deadline of 0 is a context built by hand
/// (tests, local tools), not a real invocation: no deadline is set then.
pub async fn for_invocation<F: Future>(deadline_ms: u64, work: F) -> F::Output {
    if deadline_ms == 0 {
        work.await
    } else {
        within(from_epoch_millis(deadline_ms), work).await
    }
}

/// The instant to give [`within`] for a Lambda invocation that ends at `deadline_ms`
/// (milliseconds since the Unix epoch, as the runtime API announces it), less
/// [`ANSWER_RESERVE`]. A deadline already past (a clock skew, a test context with 0)
/// leaves no time to retry in, which is the safe reading.
pub fn from_epoch_millis(deadline_ms: u64) -> Instant {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let remaining = Duration::from_millis(deadline_ms.saturating_sub(now_ms));
    Instant::now() + remaining.saturating_sub(ANSWER_RESERVE)
}

/// Whether a pause of `pause` from now still ends before the task's deadline; always true
/// outside [`within`].
pub fn allows(pause: Duration) -> bool {
    DEADLINE
        .try_with(|deadline| Instant::now() + pause < *deadline)
        .unwrap_or(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn without_a_deadline_every_pause_is_allowed() {
        assert!(allows(Duration::from_secs(3600)));
    }

    #[tokio::test]
    async fn within_a_deadline_only_pauses_that_end_before_it_are_allowed() {
        let deadline = Instant::now() + Duration::from_secs(10);
        within(deadline, async {
            assert!(allows(Duration::from_millis(5)));
            assert!(!allows(Duration::from_secs(11)));
        })
        .await;
        // The scope ends with the task it wrapped.
        assert!(allows(Duration::from_secs(11)));
    }

    #[test]
    fn a_lambda_deadline_keeps_the_answer_reserve_and_a_past_one_leaves_nothing() {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        let left = from_epoch_millis(now_ms + 10_000).saturating_duration_since(Instant::now());
        assert!(
            left <= Duration::from_millis(10_000) - ANSWER_RESERVE,
            "{left:?}"
        );
        // Loose below: a loaded machine may stall between the two clock readings.
        assert!(left > Duration::from_millis(5_000), "{left:?}");
        assert_eq!(
            from_epoch_millis(0).saturating_duration_since(Instant::now()),
            Duration::ZERO
        );
    }

    #[tokio::test]
    async fn an_invocation_with_a_real_deadline_is_bounded_and_a_hand_built_one_is_not() {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        let bounded = for_invocation(now_ms + 1_000, async { allows(Duration::from_secs(2)) });
        assert!(!bounded.await);
        assert!(for_invocation(0, async { allows(Duration::from_secs(2)) }).await);
    }
}
