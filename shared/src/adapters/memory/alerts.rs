//! The alert port in memory: every alert kept, or only echoed to stderr.

use std::io::Write;
use std::sync::Mutex;

use crate::alert::{Alert, AlertError, AlertSink};

/// Keeps every alert in memory, or echoes each to stderr as one JSON line and keeps none.
#[derive(Debug, Default)]
pub struct MemoryAlertSink {
    alerts: Mutex<Vec<Alert>>,
    echo_to_stderr: bool,
}

impl MemoryAlertSink {
    /// Collects silently; tests read them back with [`MemoryAlertSink::alerts`].
    pub fn collecting() -> Self {
        Self::default()
    }

    /// Prints each alert to stderr, so a local run shows what support would get, and keeps
    /// none: `anshin screen` over a million postings stays in the same memory.
    pub fn printing() -> Self {
        MemoryAlertSink {
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

impl AlertSink for MemoryAlertSink {
    async fn publish(&self, alert: &Alert) -> Result<(), AlertError> {
        if self.echo_to_stderr {
            let line = serde_json::to_string(alert).map_err(|e| AlertError(e.to_string()))?;
            writeln!(std::io::stderr(), "alert: {line}").map_err(|e| AlertError(e.to_string()))?;
        } else {
            self.lock().push(alert.clone());
        }
        Ok(())
    }
}
