//! Metrics as CloudWatch Embedded Metric Format (EMF) lines on stdout.
//!
//! Lambda ships stdout to CloudWatch Logs, which turns each EMF line into metrics without
//! an API call or an extra permission: decisions per category, reports accepted or refused,
//! level changes, latency. A line carries ids of nothing — only function, dimension values
//! and numbers — so it is as safe to log as the rest.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

/// The CloudWatch namespace of every anshin metric.
pub const NAMESPACE: &str = "anshin";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
        }
    }
}

/// One EMF record: metric values under one set of dimensions.
pub fn emf_line(
    function: &str,
    dimensions: &[(&str, &str)],
    metrics: &[(&str, f64, Unit)],
    timestamp_ms: u64,
) -> String {
    let mut record = Map::new();
    let mut names = vec![Value::from("function")];
    record.insert("function".into(), Value::from(function));
    for (name, value) in dimensions {
        names.push(Value::from(*name));
        record.insert((*name).into(), Value::from(*value));
    }
    for (name, value, _) in metrics {
        record.insert((*name).into(), json!(value));
    }
    let definitions: Vec<Value> = metrics
        .iter()
        .map(|(name, _, unit)| json!({"Name": name, "Unit": unit.as_str()}))
        .collect();
    record.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{"Namespace": NAMESPACE, "Dimensions": [names], "Metrics": definitions}],
        }),
    );
    Value::Object(record).to_string()
}

/// Writes one EMF record to stdout, stamped now.
pub fn emit(function: &str, dimensions: &[(&str, &str)], metrics: &[(&str, f64, Unit)]) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    println!("{}", emf_line(function, dimensions, metrics, now));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_emf_line_declares_its_dimensions_and_metrics_and_carries_their_values() {
        let line = emf_line(
            "screen-submission",
            &[("decision", "hide")],
            &[
                ("Screened", 1.0, Unit::Count),
                ("LatencyMs", 2.5, Unit::Milliseconds),
            ],
            1_800_000_000_000,
        );
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["function"], "screen-submission");
        assert_eq!(v["decision"], "hide");
        assert_eq!(v["Screened"], 1.0);
        assert_eq!(v["LatencyMs"], 2.5);
        let aws = &v["_aws"];
        assert_eq!(aws["Timestamp"], 1_800_000_000_000u64);
        let directive = &aws["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], NAMESPACE);
        assert_eq!(directive["Dimensions"], json!([["function", "decision"]]));
        assert_eq!(
            directive["Metrics"][1],
            json!({"Name": "LatencyMs", "Unit": "Milliseconds"})
        );
    }
}
