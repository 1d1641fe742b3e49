//! The JSON Schema of every event type and version (`schema/events/`), compiled in, and the
//! check tests run on every event the suites emit.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::model::{Event, EventType};

/// The schema files, by `<type>.v<version>`.
pub const SCHEMAS: [(&str, &str); 8] = [
    (
        "tenant.created.v1",
        include_str!("../../../schema/events/tenant.created.v1.json"),
    ),
    (
        "staff.added.v1",
        include_str!("../../../schema/events/staff.added.v1.json"),
    ),
    (
        "order.placed.v1",
        include_str!("../../../schema/events/order.placed.v1.json"),
    ),
    (
        "order.paid.v1",
        include_str!("../../../schema/events/order.paid.v1.json"),
    ),
    (
        "order.status_changed.v1",
        include_str!("../../../schema/events/order.status_changed.v1.json"),
    ),
    (
        "order.cancelled.v1",
        include_str!("../../../schema/events/order.cancelled.v1.json"),
    ),
    (
        "order.late.v1",
        include_str!("../../../schema/events/order.late.v1.json"),
    ),
    (
        "payment.rejected.v1",
        include_str!("../../../schema/events/payment.rejected.v1.json"),
    ),
];

fn validators() -> &'static HashMap<String, jsonschema::Validator> {
    static VALIDATORS: OnceLock<HashMap<String, jsonschema::Validator>> = OnceLock::new();
    VALIDATORS.get_or_init(|| {
        SCHEMAS
            .iter()
            .map(|(name, text)| {
                // The files are part of the source tree and checked by a test.
                let schema: serde_json::Value = serde_json::from_str(text)
                    .unwrap_or_else(|e| panic!("schema/events/{name}.json: {e}"));
                let validator = jsonschema::validator_for(&schema)
                    .unwrap_or_else(|e| panic!("schema/events/{name}.json: {e}"));
                ((*name).to_owned(), validator)
            })
            .collect()
    })
}

/// Checks an event against the schema of its type and version; the errors say where it differs.
pub fn validate(event: &Event) -> Result<(), Vec<String>> {
    let name = format!("{}.v{}", event.event_type, event.event_version);
    let validator = validators()
        .get(&name)
        .ok_or_else(|| vec![format!("no schema for {name}")])?;
    let value = serde_json::to_value(event).map_err(|e| vec![e.to_string()])?;
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// True when every event type has a schema file.
pub fn covers_every_type() -> bool {
    EventType::ALL
        .iter()
        .all(|t| validators().contains_key(&format!("{}.v{}", t.name(), t.version())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use fanorder_platform::TenantId;
    use jiff::Timestamp;

    #[test]
    fn every_type_has_a_schema_and_the_envelope_is_enforced() {
        assert!(covers_every_type());
        let ok = Event::new(
            EventType::StaffAdded,
            TenantId::new(),
            Timestamp::now(),
            serde_json::json!({"staff": {"id": TenantId::new().to_string(), "email": "a@b.co", "name": "A", "role": "cook"}}),
        );
        assert_eq!(validate(&ok), Ok(()));
        let mut wrong_role = ok.clone();
        wrong_role.data["staff"]["role"] = "chef".into();
        assert!(validate(&wrong_role).is_err());
        let mut missing = ok.clone();
        missing.data = serde_json::json!({});
        assert!(validate(&missing).unwrap_err()[0].contains("staff"));
        let mut unknown = ok;
        unknown.event_type = "order.exploded".into();
        assert!(validate(&unknown).is_err());
    }
}
