//! `application/problem+json` errors (RFC 9457). A 5xx never shows internals; the cause is
//! written to the log (standard error) instead.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An API error: status, short title and a detail that names the parameter and the reason.
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status (also the document's `status`).
    pub status: StatusCode,
    /// A short bilingual summary of the kind of problem.
    pub title: &'static str,
    /// What went wrong with this request, naming the value at fault.
    pub detail: String,
    /// Extension members of the problem document (e.g. the constraint and villages involved).
    pub extra: Option<serde_json::Map<String, serde_json::Value>>,
    /// Seconds for a `Retry-After` header (503 when the server is busy).
    pub retry_after: Option<u64>,
}

impl From<crate::request::FieldError> for ApiError {
    fn from(e: crate::request::FieldError) -> ApiError {
        ApiError::field(e.field, e.message)
    }
}

impl ApiError {
    /// 400: the request cannot be read as asked.
    pub fn bad_request(detail: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            title: "请求参数错误 Bad request",
            detail: detail.into(),
            extra: None,
            retry_after: None,
        }
    }
    /// 404: no such resource.
    pub fn not_found(detail: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            title: "未找到 Not found",
            detail: detail.into(),
            extra: None,
            retry_after: None,
        }
    }
    /// 422: the request is well-formed but cannot be met (e.g. an infeasible zoning).
    pub fn unprocessable(
        detail: impl Into<String>,
        extra: serde_json::Map<String, serde_json::Value>,
    ) -> ApiError {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            title: "无法满足的请求 Unprocessable request",
            detail: detail.into(),
            extra: Some(extra),
            retry_after: None,
        }
    }
    /// 422 naming the request field at fault (`field` in the problem document).
    pub fn field(field: &str, detail: impl Into<String>) -> ApiError {
        let mut extra = serde_json::Map::new();
        extra.insert("field".into(), json!(field));
        ApiError::unprocessable(detail, extra)
    }
    /// Names the request field at fault in the problem document.
    pub fn with_field(mut self, field: &str) -> ApiError {
        self.extra
            .get_or_insert_with(Default::default)
            .insert("field".into(), json!(field));
        self
    }
    /// 422 for a zoning that could not be made: the failure's structured report (outcome,
    /// proven, constraint, villages, needed, available, certificates, relaxations) as members.
    pub fn zoning_failure(f: crate::zones::ZoningFailure) -> ApiError {
        let mut extra = f.report;
        extra.insert("constraint".into(), json!(f.constraint));
        extra.insert("villages".into(), json!(f.villages));
        ApiError::unprocessable(f.detail, extra)
    }
    /// Any other status with its title (401, 403, 412, 428 …).
    pub fn status(status: StatusCode, title: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            title,
            detail: detail.into(),
            extra: None,
            retry_after: None,
        }
    }
    /// 500: logs the cause and tells the client only that the server failed.
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        eprintln!("internal error: {cause}");
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            title: "服务器内部错误 Internal error",
            detail: "the server could not answer; the cause is in its log".into(),
            extra: None,
            retry_after: None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({
            "type": "about:blank",
            "title": self.title,
            "status": self.status.as_u16(),
            "detail": self.detail,
        });
        if let (Some(extra), Some(obj)) = (self.extra, body.as_object_mut()) {
            obj.extend(extra);
        }
        let mut response = (
            self.status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body.to_string(),
        )
            .into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

/// The fallback handler: 404 naming the path.
pub async fn not_found(uri: Uri) -> ApiError {
    ApiError::not_found(format!("no resource at {}", uri.path()))
}

/// Path parameters whose rejection (e.g. percent-encoded bytes that are not UTF-8) is a
/// problem+json 400 like every other error, instead of axum's plain-text answer.
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(t)| ApiPath(t))
            .map_err(|e| ApiError::bad_request(format!("path: {}", e.body_text())))
    }
}

/// For resources that take no query parameters: any query string is a 400.
pub fn no_query(query: &Option<String>) -> Result<(), ApiError> {
    match query.as_deref() {
        None | Some("") => Ok(()),
        Some(q) => Err(ApiError::bad_request(format!(
            "this resource takes no query parameters, got '{}'",
            q.chars().take(80).collect::<String>()
        ))),
    }
}
