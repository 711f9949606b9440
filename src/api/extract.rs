//! What every handler shares to read a request and write a response: the query string's
//! pairs, a JSON body of parameters, integers from the query, a JSON response, and running
//! workspace-bound work on a blocking thread. Handlers import these from here, never from
//! each other (they used to trade them: analysis ↔ features ↔ plan_layers).

use axum::body::Bytes;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::Value as Json;

use super::error::ApiError;

/// The decoded (key, value) pairs of a query string.
pub(crate) fn query_pairs(raw: Option<&str>) -> Result<Vec<(String, String)>, ApiError> {
    serde_urlencoded::from_str(raw.unwrap_or(""))
        .map_err(|e| ApiError::bad_request(format!("the query string cannot be decoded: {e}")))
}

/// Parses a JSON request body of parameters (an empty body is `{}`); malformed → 400.
pub(crate) fn parse_body<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    let body: &[u8] = if body.is_empty() { b"{}" } else { body };
    serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!(
            "请求体不是有效的参数 JSON / the body is not valid parameters: {e}"
        ))
    })
}

/// An integer query parameter; anything else is a 400 naming it.
pub(crate) fn number(key: &str, value: &str) -> Result<i64, ApiError> {
    value
        .parse::<i64>()
        .map_err(|_| ApiError::bad_request(format!("{key}='{value}' 不是整数 / is not an integer")))
}

/// A response with a JSON body and the given content type.
pub(crate) fn json_response(content_type: &'static str, body: Json) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body.to_string()).into_response()
}

/// Runs workspace-bound work on a blocking thread.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(ApiError::internal)?
}
