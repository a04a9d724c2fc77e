//! In-process adapters with the same semantics as the AWS ones, for the CLI and tests.

use std::io::Write;
use std::sync::Mutex;

use crate::alert::{Alert, AlertError, AlertSink};

/// Keeps every alert in memory and, if asked, echoes it to stderr as one JSON line.
#[derive(Debug, Default)]
pub struct EmbeddedAlertSink {
    alerts: Mutex<Vec<Alert>>,
    echo_to_stderr: bool,
}

impl EmbeddedAlertSink {
    /// Collects silently; tests read them back with [`EmbeddedAlertSink::alerts`].
    pub fn collecting() -> Self {
        Self::default()
    }

    /// Collects and prints each alert to stderr, so a local run shows what support would get.
    pub fn printing() -> Self {
        EmbeddedAlertSink {
            alerts: Mutex::default(),
            echo_to_stderr: true,
        }
    }

    pub fn alerts(&self) -> Vec<Alert> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Alert>> {
        // A panic while holding this lock cannot leave the Vec half-written, so a
        // poisoned lock is still safe to use.
        self.alerts.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl AlertSink for EmbeddedAlertSink {
    async fn publish(&self, alert: &Alert) -> Result<(), AlertError> {
        if self.echo_to_stderr {
            let line = serde_json::to_string(alert).map_err(|e| AlertError(e.to_string()))?;
            writeln!(std::io::stderr(), "alert: {line}").map_err(|e| AlertError(e.to_string()))?;
        }
        self.lock().push(alert.clone());
        Ok(())
    }
}
