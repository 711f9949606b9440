//! What every request passes before the routes, and what every error looks like after them.
//!
//! - A URI longer than [`MAX_URI_BYTES`] is `414`, headers larger than [`MAX_HEADER_BYTES`]
//!   `431` (hyper itself closes connections only far beyond these).
//! - A `POST`, `PATCH` or `PUT` must say `Content-Type: application/json` (`415` otherwise):
//!   a plain HTML form or a "simple" cross-site `fetch` cannot send that type without a CORS
//!   preflight, and the server answers no preflight, so no other web page can drive analyses
//!   or writes from a browser on the intranet.
//! - A write whose `Origin` is not the server's own host is `403` (same-origin policy; no
//!   `Access-Control-Allow-*` header is ever sent).
//! - Every error status leaves as `application/problem+json`, including the ones axum makes
//!   itself (405 with its `Allow` header kept, 404 …).
//! - A body must arrive within [`BODY_TIMEOUT`] (408) and hold at most [`MAX_BODY_BYTES`] (413).

use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;

/// The longest request target accepted (a tile or item URL is under 200 bytes).
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// The most header bytes accepted (a bearer token and a browser's usual headers fit in 2 KB).
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

/// The largest request body (as axum's default): a zoning of a few thousand villages is ~100 KB.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
/// The time a client has to send a request body once its headers are in.
pub const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// The request checks (module documentation).
pub async fn check_request(req: Request, next: Next) -> Response {
    if let Err(e) = refuse(&req) {
        return e.into_response();
    }
    let req = if matches!(*req.method(), Method::POST | Method::PATCH | Method::PUT) {
        match read_body(req).await {
            Ok(r) => r,
            Err(e) => return e.into_response(),
        }
    } else {
        req
    };
    problem_for_errors(next.run(req).await).await
}

/// Reads a body whole, within [`BODY_TIMEOUT`] and [`MAX_BODY_BYTES`]: a client sending a
/// byte a minute is told so (408) instead of holding a connection and a task forever.
async fn read_body(req: Request) -> Result<Request, ApiError> {
    let too_large = || {
        ApiError::status(
            StatusCode::PAYLOAD_TOO_LARGE,
            "请求体过大 Payload too large",
            format!(
                "请求体超过 {} MB / the body is larger than {} MB",
                MAX_BODY_BYTES >> 20,
                MAX_BODY_BYTES >> 20
            ),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
        return Err(too_large());
    }
    let (parts, body) = req.into_parts();
    match tokio::time::timeout(BODY_TIMEOUT, axum::body::to_bytes(body, MAX_BODY_BYTES)).await {
        Err(_) => Err(ApiError::status(
            StatusCode::REQUEST_TIMEOUT,
            "请求超时 Request timeout",
            format!(
                "请求体未在 {} 秒内收完 / the body did not arrive within {} s",
                BODY_TIMEOUT.as_secs(),
                BODY_TIMEOUT.as_secs()
            ),
        )),
        Ok(Err(_)) => Err(too_large()),
        Ok(Ok(bytes)) => Ok(Request::from_parts(parts, axum::body::Body::from(bytes))),
    }
}

fn refuse(req: &Request) -> Result<(), ApiError> {
    let uri_len = req.uri().to_string().len();
    if uri_len > MAX_URI_BYTES {
        return Err(ApiError::status(
            StatusCode::URI_TOO_LONG,
            "地址过长 URI too long",
            format!(
                "请求地址 {uri_len} 字节，上限 {MAX_URI_BYTES} / the request target is {uri_len} bytes, at most {MAX_URI_BYTES}"
            ),
        ));
    }
    let header_bytes: usize = req
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum();
    if header_bytes > MAX_HEADER_BYTES {
        return Err(ApiError::status(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "请求头过大 Request header fields too large",
            format!(
                "请求头 {header_bytes} 字节，上限 {MAX_HEADER_BYTES} / the headers are {header_bytes} bytes, at most {MAX_HEADER_BYTES}"
            ),
        ));
    }
    let writes = matches!(*req.method(), Method::POST | Method::PATCH | Method::PUT);
    if writes {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .is_some_and(|v| v == "application/json" || v.ends_with("+json"));
        if !json {
            return Err(ApiError::status(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "不支持的内容类型 Unsupported media type",
                "请求体应为 JSON，并带 Content-Type: application/json / the body must be JSON sent with Content-Type: application/json",
            ));
        }
    }
    if writes || *req.method() == Method::DELETE {
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|v| v.to_str().ok());
        if let Some(origin) = req
            .headers()
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
        {
            let origin_host = origin
                .split_once("://")
                .map_or(origin, |(_, rest)| rest)
                .trim_end_matches('/');
            if host != Some(origin_host) {
                return Err(ApiError::status(
                    StatusCode::FORBIDDEN,
                    "跨站请求被拒绝 Cross-origin request refused",
                    format!(
                        "来自 {origin} 的写请求被拒绝：只接受本站页面 / writes from {origin} are refused: only this server's own pages may send them"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Turns an error response that is not problem+json (axum's own 405, 413, …) into one.
async fn problem_for_errors(response: Response) -> Response {
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return response;
    }
    let allow = response.headers().get(header::ALLOW).cloned();
    let www_auth = response.headers().get(header::WWW_AUTHENTICATE).cloned();
    let (title, detail): (&'static str, String) = match status {
        StatusCode::METHOD_NOT_ALLOWED => (
            "方法不允许 Method not allowed",
            format!(
                "此资源不支持该方法 / this resource does not take that method (allowed: {})",
                allow
                    .as_ref()
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("none")
            ),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "请求体过大 Payload too large",
            "请求体超过 2 MB / the body is larger than 2 MB".into(),
        ),
        _ => (
            "请求失败 Request failed",
            status.canonical_reason().unwrap_or("error").to_string(),
        ),
    };
    let mut out = ApiError::status(status, title, detail).into_response();
    for (name, value) in [(header::ALLOW, allow), (header::WWW_AUTHENTICATE, www_auth)] {
        if let Some(v) = value {
            out.headers_mut().insert(name, v);
        }
    }
    out
}
