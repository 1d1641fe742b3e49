//! The table as data: `schema/table.json` is read here, by `fanorder migrate` (DynamoDB), by the
//! embedded adapter (its index tables) and by the CDK stack, so the three can never disagree.

use serde::Deserialize;

/// The schema file, compiled into the binary.
pub const TABLE_JSON: &str = include_str!("../../../schema/table.json");

/// One key attribute: its name and DynamoDB type (always `S` in this design).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct KeyAttr {
    /// Attribute name, e.g. `tenant_id`.
    pub name: String,
    /// Attribute type; only `S` (string) keys are used.
    #[serde(rename = "type")]
    pub kind: String,
}

/// A global secondary index.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct IndexSchema {
    /// Index name, e.g. `gsi1`.
    pub name: String,
    /// The index's partition key attribute.
    pub partition_key: KeyAttr,
    /// The index's sort key attribute.
    pub sort_key: KeyAttr,
    /// What the index projects; always `ALL` here.
    pub projection: String,
}

/// The one table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TableSchema {
    /// The default table name (overridden by `FANORDER_STORE=dynamodb:<table>`).
    pub table_name: String,
    /// Partition key attribute (`tenant_id`).
    pub partition_key: KeyAttr,
    /// Sort key attribute (`sk`).
    pub sort_key: KeyAttr,
    /// The GSIs.
    pub global_secondary_indexes: Vec<IndexSchema>,
    /// The TTL attribute (epoch seconds).
    pub ttl_attribute: String,
    /// The stream view type (`NEW_IMAGE`).
    pub stream_view_type: String,
    /// Billing mode (`PAY_PER_REQUEST`).
    pub billing_mode: String,
}

impl TableSchema {
    /// The schema compiled into this binary.
    pub fn load() -> &'static TableSchema {
        static SCHEMA: std::sync::OnceLock<TableSchema> = std::sync::OnceLock::new();
        SCHEMA.get_or_init(|| {
            // The file is part of the source tree and checked by a test; a broken file is a
            // build defect, not a runtime condition.
            serde_json::from_str(TABLE_JSON)
                .unwrap_or_else(|e| panic!("schema/table.json is invalid: {e}"))
        })
    }

    /// The index with this name.
    pub fn index(&self, name: &str) -> Option<&IndexSchema> {
        self.global_secondary_indexes
            .iter()
            .find(|i| i.name == name)
    }

    /// True for any attribute that is a key of the table or of an index.
    pub fn is_key_attribute(&self, name: &str) -> bool {
        name == self.partition_key.name
            || name == self.sort_key.name
            || self
                .global_secondary_indexes
                .iter()
                .any(|i| i.partition_key.name == name || i.sort_key.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_file_describes_the_one_table() {
        let schema = TableSchema::load();
        assert_eq!(schema.partition_key.name, "tenant_id");
        assert_eq!(schema.sort_key.name, "sk");
        assert_eq!(schema.ttl_attribute, "expires_at");
        assert_eq!(schema.stream_view_type, "NEW_IMAGE");
        assert!(schema.index("gsi1").is_some());
        assert!(schema.index("nope").is_none());
        let all_keys = std::iter::once(&schema.partition_key)
            .chain([&schema.sort_key])
            .chain(
                schema
                    .global_secondary_indexes
                    .iter()
                    .flat_map(|i| [&i.partition_key, &i.sort_key]),
            );
        for key in all_keys {
            assert_eq!(key.kind, "S", "{} must be a string key", key.name);
        }
        for index in &schema.global_secondary_indexes {
            assert_eq!(index.projection, "ALL");
        }
    }
}
