//! How a command reaches a function: invoked directly with one command, or through an SNS
//! subscription with one command per record (`Records[i].Sns.Message`, a JSON string).
//!
//! Only the shape of the envelope is read here; what a command may be, and which kinds may
//! come through which door, is the caller's to decide with the two parsers it passes. A
//! refusal inside a record names the record: `Records[2].Sns.Message.category`.

use serde_json::Value;

use crate::InvalidInput;

/// The commands of one invocation, and how they came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery<T> {
    Direct(T),
    Sns(Vec<T>),
}

impl<T> Delivery<T> {
    /// The commands in order, and whether they came through SNS.
    pub fn into_commands(self) -> (Vec<T>, bool) {
        match self {
            Delivery::Direct(command) => (vec![command], false),
            Delivery::Sns(commands) => (commands, true),
        }
    }
}

/// Reads `payload` as an SNS → Lambda event when it is one (a `Records` array with an `Sns`
/// record), each record's message with `record`; otherwise as one command with `direct`.
pub fn read<T>(
    payload: Value,
    direct: impl Fn(Value) -> Result<T, InvalidInput>,
    record: impl Fn(Value) -> Result<T, InvalidInput>,
) -> Result<Delivery<T>, InvalidInput> {
    let records = match payload.get("Records").and_then(Value::as_array) {
        Some(records) if records.iter().any(|r| r.get("Sns").is_some()) => records,
        _ => return direct(payload).map(Delivery::Direct),
    };
    records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let field = format!("Records[{i}].Sns.Message");
            let text = r
                .get("Sns")
                .and_then(|sns| sns.get("Message"))
                .and_then(Value::as_str)
                .ok_or_else(|| InvalidInput::new(&field, "is missing or not a string"))?;
            let message: Value =
                serde_json::from_str(text).map_err(|_| InvalidInput::new(&field, "is not JSON"))?;
            record(message)
                .map_err(|e| InvalidInput::new(&format!("{field}.{}", e.field), e.reason))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Delivery::Sns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn number(v: Value) -> Result<u64, InvalidInput> {
        v.get("n")
            .and_then(Value::as_u64)
            .ok_or_else(|| InvalidInput::new("n", "must be a number"))
    }

    fn sns(messages: &[&str]) -> Value {
        let records: Vec<Value> = messages
            .iter()
            .map(|m| json!({"EventSource": "aws:sns", "Sns": {"Type": "Notification", "Message": m}}))
            .collect();
        json!({ "Records": records })
    }

    #[test]
    fn a_plain_payload_is_one_direct_command() {
        let d = read(json!({"n": 7}), number, |_| panic!("not SNS")).unwrap();
        assert_eq!(d, Delivery::Direct(7));
        assert_eq!(d.into_commands(), (vec![7], false));
    }

    #[test]
    fn an_sns_event_is_one_command_per_record_in_order_read_by_the_record_parser() {
        let d = read(
            sns(&[r#"{"n": 1}"#, r#"{"n": 2}"#]),
            |_| panic!("not direct"),
            number,
        );
        let d = d.unwrap();
        assert_eq!(d, Delivery::Sns(vec![1, 2]));
        assert_eq!(d.into_commands(), (vec![1, 2], true));
    }

    #[test]
    fn a_refusal_inside_a_record_names_the_record_and_the_field() {
        let e = read(sns(&[r#"{"n": 1}"#, r#"{"n": "x"}"#]), number, number).unwrap_err();
        assert_eq!(e.field, "Records[1].Sns.Message.n");
        assert_eq!(e.reason, "must be a number");
    }

    #[test]
    fn a_record_whose_message_is_not_json_or_not_a_string_is_refused_without_echoing_it() {
        let e = read(sns(&["secret text, not json"]), number, number).unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.reason.as_str()),
            ("Records[0].Sns.Message", "is not JSON")
        );
        let e = read(
            json!({"Records": [{"Sns": {"Message": 5}}]}),
            number,
            number,
        )
        .unwrap_err();
        assert_eq!(e.field, "Records[0].Sns.Message");
        assert!(!e.to_string().contains("secret"));
    }

    #[test]
    fn records_without_sns_are_a_direct_command() {
        for payload in [
            json!({"Records": [{"s3": {}}], "n": 1}),
            json!({"Records": "x", "n": 1}),
        ] {
            assert_eq!(read(payload, number, number).unwrap(), Delivery::Direct(1));
        }
    }
}
