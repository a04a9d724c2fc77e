//! How a command reaches a function: invoked directly with one command, or through an SNS
//! subscription with one command per record (`Records[i].Sns.Message`, a JSON string).
//!
//! The envelope is AWS's own shape ([`aws_lambda_events::event::sns::SnsEvent`]), read with
//! `serde_path_to_error` so that a broken envelope is refused naming the field
//! (`Records[0].Sns.Timestamp`) and never quoting it. What a command may be, and which kinds
//! may come through which door, is the caller's to decide with the two parsers it passes. A
//! refusal inside a record names the record: `Records[2].Sns.Message.category`.

use aws_lambda_events::event::sns::SnsEvent;
use serde_json::Value;

use crate::input::{field_of, InvalidInput};

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

/// Whether `payload` is an SNS → Lambda event: a `Records` array with an `Sns` record.
fn is_sns_event(payload: &Value) -> bool {
    payload
        .get("Records")
        .and_then(Value::as_array)
        .is_some_and(|records| records.iter().any(|r| r.get("Sns").is_some()))
}

/// Reads `payload` as an SNS → Lambda event when it is one, each record's message with
/// `record`; otherwise as one command with `direct`.
pub fn read<T>(
    payload: Value,
    direct: impl Fn(Value) -> Result<T, InvalidInput>,
    record: impl Fn(Value) -> Result<T, InvalidInput>,
) -> Result<Delivery<T>, InvalidInput> {
    if !is_sns_event(&payload) {
        return direct(payload).map(Delivery::Direct);
    }
    let event: SnsEvent = serde_path_to_error::deserialize(payload).map_err(|e| {
        // serde's message may quote the value; the path alone says what is wrong where.
        InvalidInput::new(&field_of(e.path()), "is missing or has the wrong type")
    })?;
    event
        .records
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let field = format!("Records[{i}].Sns.Message");
            let message: Value = serde_json::from_str(&r.sns.message)
                .map_err(|_| InvalidInput::new(&field, "is not JSON"))?;
            record(message).map_err(|e| e.within(&field))
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
            .map(|m| {
                json!({
                    "EventSource": "aws:sns", "EventVersion": "1.0",
                    "EventSubscriptionArn": "arn:aws:sns:us-east-1:1:t:s",
                    "Sns": {
                        "Type": "Notification", "MessageId": "m-1",
                        "TopicArn": "arn:aws:sns:us-east-1:1:t", "Subject": null,
                        "Message": m, "Timestamp": "2026-11-27T12:00:00.000Z",
                        "SignatureVersion": "1", "Signature": "EXAMPLE",
                        "SigningCertUrl": "https://sns.example/cert.pem",
                        "UnsubscribeUrl": "https://sns.example/unsubscribe",
                        "MessageAttributes": {}
                    }
                })
            })
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
        let mut event = sns(&["x"]);
        event["Records"][0]["Sns"]["Message"] = json!(5);
        let e = read(event, number, number).unwrap_err();
        assert_eq!(e.field, "Records[0].Sns.Message");
        assert!(!e.to_string().contains("secret"));
    }

    #[test]
    fn a_broken_envelope_is_refused_naming_the_field() {
        let mut event = sns(&[r#"{"n": 1}"#]);
        event["Records"][0]["Sns"]["Timestamp"] = json!("not a time, 090-1234-5678");
        let e = read(event, number, number).unwrap_err();
        assert_eq!(e.field, "Records[0].Sns.Timestamp");
        assert!(!e.to_string().contains("090"));
    }

    #[test]
    fn a_broken_message_attribute_is_named_by_its_attribute_only_when_that_is_a_plain_name() {
        // Found by the sns_envelope fuzz target: the refusal quoted an attribute's name,
        // which is the publisher's text.
        let broken = |name: &str| {
            let mut event = sns(&[r#"{"n": 1}"#]);
            event["Records"][0]["Sns"]["MessageAttributes"] = json!({ name: {"Value": 5} });
            read(event, number, number).unwrap_err()
        };
        let e = broken("call me on 090-1234-5678");
        assert_eq!(e.field, "Records[0].Sns.MessageAttributes");
        assert!(!e.to_string().contains("090"));
        let e = broken("event_type");
        assert_eq!(e.field, "Records[0].Sns.MessageAttributes.event_type.Value");
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
