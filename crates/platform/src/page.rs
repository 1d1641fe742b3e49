//! List pagination shared by every list route: `?limit=&cursor=` in, `{items, next_cursor}` out.

use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// The default page size.
pub const DEFAULT_LIMIT: usize = 50;
/// The largest page size a client may ask for.
pub const MAX_LIMIT: usize = 100;

/// Query parameters of a list.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<usize>,
    /// The `next_cursor` of the previous page; omit for the first page.
    #[param(max_length = 2048)]
    pub cursor: Option<String>,
}

impl PageParams {
    /// The page size, checked.
    pub fn limit(&self) -> Result<usize, ApiError> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(_) => Err(ApiError::invalid(
                "limit",
                format!("must be 1 to {MAX_LIMIT}"),
            )),
        }
    }
}

/// One page of a list.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}
