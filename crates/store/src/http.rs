//! How store outcomes look to an API client, mapped once at the boundary.

use std::time::Duration;

use fanorder_platform::ApiError;

use crate::model::StoreError;

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::InvalidCursor => ApiError::bad_request(
                "invalid_cursor",
                "the cursor is not valid for this list; start from the first page",
            ),
            StoreError::ConditionFailed { .. } | StoreError::TransactionCanceled { .. } => {
                ApiError::conflict("conflict", "the resource changed or already exists")
            }
            StoreError::Contention => ApiError::conflict(
                "contention",
                "another change to the same resource is in progress; retry",
            ),
            StoreError::Throttled => ApiError::Unavailable {
                detail: "the store is busy; retry shortly".to_owned(),
                retry_after: Some(Duration::from_secs(1)),
            },
            StoreError::ItemTooLarge => ApiError::PayloadTooLarge,
            StoreError::Unavailable(detail) => ApiError::Unavailable {
                detail,
                retry_after: Some(Duration::from_secs(1)),
            },
            StoreError::Invalid(detail) => {
                ApiError::internal(format!("store refused a request: {detail}"))
            }
        }
    }
}
