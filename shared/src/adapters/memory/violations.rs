//! The violation queue in process: handed straight to an escalator (the demo, the local
//! console), or kept in memory and echoed to stderr when asked (`anshin screen`, tests).

use std::io::Write;
use std::sync::{Arc, Mutex};

use crate::alert::AlertSink;
use crate::escalation::{Escalator, LedgerStore};
use crate::violation::{QueueError, ViolationConfirmed, ViolationQueue};

/// Runs each violation through an escalator in the same process, as SNS and
/// user-escalation would in AWS.
pub struct DirectViolationQueue<S, A> {
    escalator: Arc<Escalator<S, A>>,
}

impl<S, A> DirectViolationQueue<S, A> {
    pub fn new(escalator: Arc<Escalator<S, A>>) -> Self {
        DirectViolationQueue { escalator }
    }

    pub fn escalator(&self) -> &Escalator<S, A> {
        &self.escalator
    }
}

impl<S: LedgerStore, A: AlertSink> ViolationQueue for DirectViolationQueue<S, A> {
    async fn submit(&self, violation: &ViolationConfirmed) -> Result<(), QueueError> {
        self.escalator
            .confirm(violation)
            .await
            .map(|_| ())
            .map_err(|e| QueueError(e.to_string()))
    }
}

/// Keeps every violation handed on, or prints each to stderr as the command
/// user-escalation would receive and keeps none (`anshin screen`: flat memory).
#[derive(Debug, Default)]
pub struct MemoryViolationQueue {
    violations: Mutex<Vec<ViolationConfirmed>>,
    echo_to_stderr: bool,
}

impl MemoryViolationQueue {
    pub fn collecting() -> Self {
        Self::default()
    }

    pub fn printing() -> Self {
        MemoryViolationQueue {
            violations: Mutex::default(),
            echo_to_stderr: true,
        }
    }

    pub fn violations(&self) -> Vec<ViolationConfirmed> {
        // A panic while holding the lock cannot leave the Vec half-written.
        self.violations
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl ViolationQueue for MemoryViolationQueue {
    async fn submit(&self, violation: &ViolationConfirmed) -> Result<(), QueueError> {
        if self.echo_to_stderr {
            writeln!(
                std::io::stderr(),
                "violation: {}",
                violation.to_command_json()
            )
            .map_err(|e| QueueError(e.to_string()))?;
        } else {
            self.violations
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(violation.clone());
        }
        Ok(())
    }
}
