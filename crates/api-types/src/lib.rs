//! The HTTP API's request and response shapes and its problem catalogue, with OpenAPI schemas.
//! Shared by the server, the tests and the benchmark client. Requests reject unknown fields.

pub mod admin;
pub mod audit;
pub mod auth;
pub mod clients;
pub mod date;
pub mod decimal;
pub mod documents;
pub mod engagements;
pub mod invoices;
pub mod marketplace;
pub mod notifications;
pub mod patch;
pub mod problem;
pub mod quickbooks;
pub mod tasks;
pub mod time;
pub mod workflow_recurrence;
pub mod workflow_reminders;
pub mod workflows;

pub use problem::{FieldError, Problem, ProblemType};

/// A page of a keyset-paginated list.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// `?limit=&cursor=` of list endpoints.
#[derive(Debug, Clone, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page, 1 to 200 (default 50).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageParams {
    pub const DEFAULT_LIMIT: u32 = 50;
    pub const MAX_LIMIT: u32 = 200;

    /// The requested page size, or the field error to answer with.
    pub fn limit(&self) -> Result<usize, FieldError> {
        match self.limit {
            None => Ok(Self::DEFAULT_LIMIT as usize),
            Some(n) if (1..=Self::MAX_LIMIT).contains(&n) => Ok(n as usize),
            Some(_) => Err(FieldError::new("limit", format!("must be between 1 and {}", Self::MAX_LIMIT))),
        }
    }
}

/// A request body that must be a JSON object. serde's derived structs also accept an array of the
/// fields in order, so without this `[]` would pass as an empty body.
#[derive(Debug, Clone)]
pub struct Object<T>(pub T);

impl<'de, T: serde::de::DeserializeOwned> serde::Deserialize<'de> for Object<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let found = match <serde_json::Value as serde::Deserialize>::deserialize(deserializer)? {
            value @ serde_json::Value::Object(_) => {
                return T::deserialize(value).map(Object).map_err(D::Error::custom);
            }
            serde_json::Value::Array(_) => "an array",
            serde_json::Value::String(_) => "a string",
            serde_json::Value::Number(_) => "a number",
            serde_json::Value::Bool(_) => "a boolean",
            serde_json::Value::Null => "null",
        };
        Err(D::Error::custom(format!("the body must be a JSON object, not {found}")))
    }
}
