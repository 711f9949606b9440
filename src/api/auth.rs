//! Who is calling and whether they may: the `Authorization: Bearer <token>` check in front of
//! every route.
//!
//! The role a request needs comes from [`crate::auth::required_role`]; a token is looked up by
//! its SHA-256 hash in the workspace. No token where one is needed → 401 (with
//! `WWW-Authenticate: Bearer`); an unknown or revoked token → 401; a role too weak → 403.
//! Refused writes are written to the audit log too.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::ApiError;
use crate::auth::{required_role, token_hash};
use crate::domain::Role;
use crate::store::plans::AuditEntry;

/// The caller of a request, as the handlers see it.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The token's name, or `anonymous`.
    pub name: String,
    /// The token's role; `None` for an anonymous caller (no token).
    pub role: Option<Role>,
}

fn bearer(req: &Request) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or("");
    match text.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(Some(token.trim().to_string()))
        }
        _ => Err(unauthorized(
            "Authorization 头应为 'Bearer <令牌>' / the Authorization header must be 'Bearer <token>'",
        )),
    }
}

fn unauthorized(detail: &str) -> ApiError {
    ApiError::status(StatusCode::UNAUTHORIZED, "未授权 Unauthorized", detail)
}

fn with_challenge(e: ApiError) -> Response {
    let status = e.status;
    let mut response = e.into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"liancun\""),
        );
    }
    response
}

/// The middleware: resolves the caller, refuses what they may not do, passes the rest on.
pub async fn authorize(
    State(state): State<Arc<AppState>>,
    mut req: Request,
    next: Next,
) -> Response {
    let need = required_role(req.method().as_str(), req.uri().path(), state.read_access);
    let is_write = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        && need.is_some_and(|r| r >= Role::Editor);
    let token = match bearer(&req) {
        Ok(t) => t,
        Err(e) => return with_challenge(e),
    };
    let target = req.uri().path().to_string();
    let method = req.method().to_string();
    let lookup_state = state.clone();
    let caller = match token {
        None => Ok(None),
        Some(token) => tokio::task::spawn_blocking(move || {
            let store = lookup_state.read_store();
            store.token_by_hash(&token_hash(&token))
        })
        .await
        .map_err(ApiError::internal)
        .and_then(|r| r.map_err(ApiError::internal))
        .and_then(|found| {
            found
                .map(Some)
                .ok_or_else(|| unauthorized("令牌无效或已吊销 / the token is unknown or revoked"))
        }),
    };
    let refusal = match (&caller, need) {
        (Err(_), _) => None,
        (Ok(None), Some(role)) => Some(unauthorized(&format!(
            "需要{}权限的令牌 / this needs a token with role {role} (Authorization: Bearer <token>; create one with liancun token create)",
            role.label_zh()
        ))),
        (Ok(Some(t)), Some(role)) if t.role < role => Some(ApiError::status(
            StatusCode::FORBIDDEN,
            "权限不足 Forbidden",
            format!(
                "令牌 '{}' 的角色是 {}，此操作需要 {role} / token '{}' has role {}, this needs {role}",
                t.name, t.role, t.name, t.role
            ),
        )),
        _ => None,
    };
    let caller = match caller {
        Ok(c) => c,
        Err(e) => {
            if is_write {
                audit_refusal(&state, "anonymous", "", &method, &target, "401 bad token");
            }
            return with_challenge(e);
        }
    };
    if let Some(e) = refusal {
        if is_write {
            let (name, role) = caller
                .as_ref()
                .map_or(("anonymous".to_string(), String::new()), |t| {
                    (t.name.clone(), t.role.to_string())
                });
            audit_refusal(
                &state,
                &name,
                &role,
                &method,
                &target,
                &e.status.to_string(),
            );
        }
        return with_challenge(e);
    }
    let caller = Caller {
        name: caller
            .as_ref()
            .map_or_else(|| "anonymous".to_string(), |t| t.name.clone()),
        role: caller.map(|t| t.role),
    };
    req.extensions_mut().insert(caller.clone());
    let mut response = next.run(req).await;
    // For the request log.
    response.extensions_mut().insert(caller);
    response
}

/// Refused writes stored per minute, at most; the rest are counted (finding: one stored row
/// per refusal let anonymous callers fill the disk and hold the store's lock).
const REFUSALS_STORED_PER_MINUTE: u32 = 10;
/// The longest target kept in the audit log (a refused URL can be kilobytes long).
const AUDIT_TARGET_CHARS: usize = 200;

/// Samples refused writes into the audit log: the first `REFUSALS_STORED_PER_MINUTE` of
/// each minute are stored, the others counted and stored as one summary row when the next
/// minute's first refusal comes.
#[derive(Debug, Default)]
pub struct RefusalSampler {
    state: std::sync::Mutex<SamplerWindow>,
    /// Every refused write since the server started (for /metrics).
    pub refused_total: std::sync::atomic::AtomicU64,
}

#[derive(Debug, Default)]
struct SamplerWindow {
    started: Option<std::time::Instant>,
    stored: u32,
    suppressed: u64,
}

impl RefusalSampler {
    /// What to store for one more refusal: the entry itself (or not), and a summary of the
    /// previous minute's unstored ones (or not).
    fn admit(&self, now: std::time::Instant) -> (bool, u64) {
        self.refused_total
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut w = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let mut carried = 0;
        if w.started
            .is_none_or(|s| now.duration_since(s).as_secs() >= 60)
        {
            carried = std::mem::take(&mut w.suppressed);
            w.started = Some(now);
            w.stored = 0;
        }
        if w.stored < REFUSALS_STORED_PER_MINUTE {
            w.stored += 1;
            (true, carried)
        } else {
            w.suppressed += 1;
            (false, carried)
        }
    }
}

/// Records a refused write, sampled (best effort: a failure to log is itself logged).
fn audit_refusal(
    state: &Arc<AppState>,
    actor: &str,
    role: &str,
    method: &str,
    target: &str,
    outcome: &str,
) {
    let (store_it, carried) = state.refusals.admit(std::time::Instant::now());
    let mut entries = Vec::new();
    if carried > 0 {
        entries.push(AuditEntry {
            actor: "anonymous".into(),
            role: String::new(),
            action: "denied (sampled)".into(),
            target: String::new(),
            outcome: "refused".into(),
            detail: format!(
                "上一分钟另有 {carried} 次被拒绝的写请求未逐条记录 / {carried} more refused writes in the previous minute were counted, not stored one by one"
            ),
        });
    }
    if store_it {
        let target = target.trim_start_matches('/');
        let mut kept: String = target.chars().take(AUDIT_TARGET_CHARS).collect();
        if kept.len() < target.len() {
            kept.push('…');
        }
        entries.push(AuditEntry {
            actor: actor.chars().take(AUDIT_TARGET_CHARS).collect(),
            role: role.into(),
            action: format!("denied {method}"),
            target: kept,
            outcome: outcome.into(),
            detail: String::new(),
        });
    }
    if entries.is_empty() {
        return;
    }
    let state = state.clone();
    tokio::task::spawn_blocking(move || {
        for entry in &entries {
            if let Err(e) = state.plan_store().record_audit(entry) {
                eprintln!("audit log: {e}");
            }
        }
    });
}

/// `GET /auth/whoami`: who the token says the caller is, the role, and whether they may edit
/// plans (an unknown or revoked token is a 401, like everywhere).
#[utoipa::path(
    get,
    path = "/auth/whoami",
    tag = "auth",
    summary = "当前令牌 / who the token says the caller is",
    responses(
        (status = 200, description = "OK", body = crate::api::schemas::WhoAmI, content_type = "application/json"),
        crate::api::schemas::Problems,
    ),
    security((), ("bearer" = [])),
)]
pub async fn whoami(
    State(state): State<Arc<AppState>>,
    axum::Extension(caller): axum::Extension<Caller>,
) -> Response {
    let body = serde_json::json!({
        "name": caller.name,
        "role": caller.role.map(|r| r.name()),
        "can_edit": caller.role.is_some_and(|r| r >= Role::Editor),
        "read": match state.read_access {
            crate::auth::ReadAccess::Public => "public",
            crate::auth::ReadAccess::Viewer => "viewer",
        },
    });
    (
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}
