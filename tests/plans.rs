//! Plans end to end on the demo county: roles and tokens, versions, ETag / If-Match conflicts
//! between two editors, warnings after an edit, diff and restore, exports (dissolved areas,
//! GeoPackage/Shapefile read back by GDAL, CSV for Excel), the CLI, and a server killed in the
//! middle of a burst of writes.

mod common;

use std::sync::Arc;

use axum::http::StatusCode;
use common::*;
use liancun::api::{AppState, router};
use liancun::workspace::Workspace;
use serde_json::{Value as Json, json};

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn etag(headers: &axum::http::HeaderMap) -> String {
    headers
        .get("etag")
        .expect("an ETag")
        .to_str()
        .unwrap()
        .to_string()
}

/// Member village codes by zone id.
fn zones(plan: &Json) -> Vec<(String, Vec<String>)> {
    plan["zones"]
        .as_array()
        .unwrap()
        .iter()
        .map(|z| {
            (
                z["id"].as_str().unwrap().to_string(),
                z["members"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| m["code"].as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect()
}

/// A demo workspace with four tokens and the router over it; each test gets its own.
struct Scene {
    ws: std::path::PathBuf,
    app: axum::Router,
    viewer: String,
    /// Editor A (编辑甲) and editor B (编辑乙), as `Bearer …` headers.
    a: String,
    b: String,
    admin: String,
}

const CREATE: &str = r#"{"name": "2026 联村片区方案", "from": "proposal", "message": "初稿"}"#;

/// The scene on `backend` (`None` when PostGIS is not available outside CI). Built on a thread
/// of its own: the PostGIS driver blocks, which a test's async thread must not.
fn scene(name: &str, backend: Backend) -> Option<Scene> {
    let name = name.to_string();
    std::thread::spawn(move || {
        let ws = demo_workspace_on(backend, &name)?;
        Some({
            let viewer = bearer(&token(&ws, "viewer", "查看员"));
            let a = bearer(&token(&ws, "editor", "编辑甲"));
            let b = bearer(&token(&ws, "editor", "编辑乙"));
            let admin = bearer(&token(&ws, "admin", "管理员"));
            let app = router(Arc::new(
                AppState::load(&Workspace::open(&ws).unwrap(), "t").unwrap(),
            ));
            Scene {
                ws,
                app,
                viewer,
                a,
                b,
                admin,
            }
        })
    })
    .join()
    .unwrap()
}

impl Drop for Scene {
    fn drop(&mut self) {
        drop_workspace(&self.ws);
    }
}

/// Each scenario above, on the GeoPackage and on PostGIS (one test each).
macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {$(
        mod $case {
            #[tokio::test]
            async fn geopackage() {
                super::$case(super::Backend::GeoPackage).await
            }
            #[tokio::test]
            async fn postgis() {
                super::$case(super::Backend::PostGis).await
            }
        }
    )*};
}

on_both_backends!(
    writing_a_plan_needs_an_editor_token,
    an_editor_creates_a_plan_that_anyone_reads_and_revalidates,
    an_edit_that_splits_a_zone_is_flagged_and_recolours_only_its_neighbours,
    a_stale_editor_is_refused_and_edits_after_reloading,
    bad_edits_name_the_edit_and_field_and_write_nothing,
    history_names_the_moved_village_and_restore_brings_version_one_back,
    bad_plan_creations_name_the_field_and_an_empty_plan_warns,
    deleting_needs_an_admin_and_the_audit_log_has_every_write_and_refusal,
    whoami_names_the_token_and_a_revoked_token_stops_at_once,
);

/// Plan 1 as editor A created it from the proposal: its ETag, body and zones.
struct Created {
    v1: String,
    plan: Json,
    before: Vec<(String, Vec<String>)>,
}

async fn create_plan(s: &Scene) -> Created {
    let (status, h, plan) =
        send(&s.app, "POST", "/plans", &[("authorization", &s.a)], CREATE).await;
    assert_eq!(status, StatusCode::CREATED, "{plan}");
    let before = zones(&plan);
    Created {
        v1: etag(&h),
        plan,
        before,
    }
}

/// Version 2: editor A moved the first zone's first village into the last zone (far away).
struct Moved {
    v2: String,
    plan: Json,
    moved: String,
    from_zone: String,
    to_zone: String,
}

fn move_edit(c: &Created) -> (String, String, String, String) {
    let (from_zone, members) = &c.before[0];
    let moved = members[0].clone();
    let to_zone = c.before.last().unwrap().0.clone();
    let edit =
        json!({"edits": [{"op": "move", "village": moved, "to": to_zone}], "message": "试调"})
            .to_string();
    (edit, moved, from_zone.clone(), to_zone)
}

async fn move_village(s: &Scene, c: &Created) -> Moved {
    let (edit, moved, from_zone, to_zone) = move_edit(c);
    let (status, h, plan) = send(
        &s.app,
        "PATCH",
        "/plans/1",
        &[("authorization", &s.a), ("if-match", &c.v1)],
        &edit,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{plan}");
    Moved {
        v2: etag(&h),
        plan,
        moved,
        from_zone,
        to_zone,
    }
}

fn rename_edit(m: &Moved) -> String {
    json!({"edits": [{"op": "rename", "zone": m.from_zone, "name": "乙的名字"}]}).to_string()
}

/// Version 3: editor B renamed the first zone on top of version 2.
async fn rename_by_b(s: &Scene, m: &Moved) -> String {
    let (status, h, e) = send(
        &s.app,
        "PATCH",
        "/plans/1",
        &[("authorization", &s.b), ("if-match", &m.v2)],
        &rename_edit(m),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{e}");
    etag(&h)
}

async fn writing_a_plan_needs_an_editor_token(backend: Backend) {
    let Some(s) = scene("plans_roles", backend) else {
        return;
    };
    let app = &s.app;
    // None → 401 with a challenge, a viewer → 403, nonsense → 401.
    let (st, h, e) = send(app, "POST", "/plans", &[], CREATE).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{e}");
    assert!(h.get("www-authenticate").is_some());
    assert_eq!(e["status"], 401);
    let (st, _, e) = send(
        app,
        "POST",
        "/plans",
        &[("authorization", &s.viewer)],
        CREATE,
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{e}");
    assert!(e["detail"].as_str().unwrap().contains("viewer"), "{e}");
    for header in ["Bearer lc_nonsense", "Basic eDp5"] {
        let (st, _, _) = send(app, "POST", "/plans", &[("authorization", header)], CREATE).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{header}");
    }
    let (_, _, list) = send(app, "GET", "/plans", &[], "").await;
    assert_eq!(
        list["plans"].as_array().unwrap().len(),
        0,
        "refusals stored nothing"
    );
}

async fn an_editor_creates_a_plan_that_anyone_reads_and_revalidates(backend: Backend) {
    let Some(s) = scene("plans_create", backend) else {
        return;
    };
    let (st, h, plan) = send(&s.app, "POST", "/plans", &[("authorization", &s.a)], CREATE).await;
    // 201, Location, ETag of version 1; every village is in a zone.
    assert_eq!(st, StatusCode::CREATED, "{plan}");
    assert_eq!(h.get("location").unwrap(), "/plans/1");
    let v1 = etag(&h);
    assert_eq!(v1, "\"plan-1-v1\"");
    assert_eq!(plan["version"], 1);
    assert_eq!(plan["created_by"], "编辑甲");
    assert_eq!(plan["unassigned"].as_array().unwrap().len(), 0);
    assert!(
        plan["warnings"].as_array().unwrap().is_empty(),
        "{}",
        plan["warnings"]
    );
    let before = zones(&plan);
    assert!(before.len() > 10);
    // Reading is public by default; the ETag revalidates.
    let (st, h, shown) = send(&s.app, "GET", "/plans/1", &[], "").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(etag(&h), v1);
    assert_eq!(zones(&shown), before);
    let (st, _, _) = send(&s.app, "GET", "/plans/1", &[("if-none-match", &v1)], "").await;
    assert_eq!(st, StatusCode::NOT_MODIFIED);
}

async fn an_edit_that_splits_a_zone_is_flagged_and_recolours_only_its_neighbours(backend: Backend) {
    let Some(s) = scene("plans_edit", backend) else {
        return;
    };
    let c = create_plan(&s).await;
    let (edit, moved, from_zone, to_zone) = move_edit(&c);
    let (st, _, e) = send(
        &s.app,
        "PATCH",
        "/plans/1",
        &[("authorization", &s.a)],
        &edit,
    )
    .await;
    assert_eq!(st, StatusCode::PRECONDITION_REQUIRED, "no If-Match: {e}");
    let m = move_village(&s, &c).await;
    assert_eq!(m.v2, "\"plan-1-v2\"");
    let v2plan = &m.plan;
    assert_eq!(v2plan["updated_by"], "编辑甲");
    assert_eq!(v2plan["based_on"], 1);
    assert_eq!(
        v2plan["changes"]["diff"]["moved_villages"][0]["id"],
        moved.as_str()
    );
    // The last zone breaks in two and the plan says so.
    let warnings = v2plan["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w["zone"] == to_zone.as_str() && w["constraint"] == "disconnected"),
        "{warnings:?}"
    );
    let after = zones(v2plan);
    // Colours stay put: only zones touching the moved village may change colour.
    let colour_of = |plan: &Json| -> Vec<(String, u64)> {
        plan["zones"]
            .as_array()
            .unwrap()
            .iter()
            .map(|z| {
                (
                    z["id"].as_str().unwrap().to_string(),
                    z["colour"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let recoloured: Vec<String> = colour_of(&c.plan)
        .into_iter()
        .zip(colour_of(v2plan))
        .filter(|(a, b)| a.1 != b.1)
        .map(|(a, _)| a.0)
        .collect();
    assert!(recoloured.len() <= 2, "recoloured {recoloured:?}");
    let members_of = |zone: &str| &after.iter().find(|z| z.0 == zone).unwrap().1;
    assert!(!members_of(&from_zone).contains(&moved));
    assert!(members_of(&to_zone).contains(&moved));
}

async fn a_stale_editor_is_refused_and_edits_after_reloading(backend: Backend) {
    let Some(s) = scene("plans_conflict", backend) else {
        return;
    };
    let c = create_plan(&s).await;
    let m = move_village(&s, &c).await;
    // Editor B still holds version 1: refused with 412, nothing of B's lands.
    let (st, _, e) = send(
        &s.app,
        "PATCH",
        "/plans/1",
        &[("authorization", &s.b), ("if-match", &c.v1)],
        &rename_edit(&m),
    )
    .await;
    assert_eq!(st, StatusCode::PRECONDITION_FAILED, "{e}");
    assert!(e["detail"].as_str().unwrap().contains("version 2"), "{e}");
    let (_, h, now) = send(&s.app, "GET", "/plans/1", &[], "").await;
    assert_eq!(etag(&h), m.v2);
    assert!(
        now["zones"]
            .as_array()
            .unwrap()
            .iter()
            .all(|z| z["name"] != "乙的名字")
    );
    // B reloads and edits on top of version 2.
    let v3 = rename_by_b(&s, &m).await;
    assert_eq!(v3, "\"plan-1-v3\"");
}

async fn bad_edits_name_the_edit_and_field_and_write_nothing(backend: Backend) {
    let Some(s) = scene("plans_bad_edits", backend) else {
        return;
    };
    let c = create_plan(&s).await;
    let m = move_village(&s, &c).await;
    let (a, from_zone, moved) = (&s.a, &m.from_zone, &m.moved);
    // 422 naming the edit and field; nothing written (the ETag stays).
    for (edits, field) in [
        (
            json!([{"op": "move", "village": "370323999999", "to": from_zone}]),
            "edits[0].village",
        ),
        (
            json!([{"op": "rename", "zone": from_zone, "name": "x"}, {"op": "set_key", "zone": from_zone, "village": moved}]),
            "edits[1].village",
        ),
        (
            json!([{"op": "set_type", "zone": from_zone, "type": "巨型"}]),
            "edits[0].type",
        ),
        (
            json!([{"op": "move", "village": moved, "to": "Z999"}]),
            "edits[0].to",
        ),
        (json!([]), "edits[0].op"),
    ] {
        let body = json!({"edits": edits}).to_string();
        let (st, _, e) = send(
            &s.app,
            "PATCH",
            "/plans/1",
            &[("authorization", a), ("if-match", &m.v2)],
            &body,
        )
        .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{edits}: {e}");
        assert_eq!(e["field"], field, "{e}");
    }
    let (st, _, _) = send(
        &s.app,
        "PATCH",
        "/plans/1",
        &[("authorization", a), ("if-match", &m.v2)],
        r#"{"edits": [{"op": "explode"}]}"#,
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let rename = rename_edit(&m);
    let (st, _, _) = send(
        &s.app,
        "PATCH",
        "/plans/1",
        &[("authorization", a), ("if-match", "\"plan-2-v2\"")],
        &rename,
    )
    .await;
    assert_eq!(st, StatusCode::PRECONDITION_FAILED, "another plan's ETag");
    let (st, _, _) = send(
        &s.app,
        "PATCH",
        "/plans/9",
        &[("authorization", a), ("if-match", "*")],
        &rename,
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (_, h, _) = send(&s.app, "GET", "/plans/1", &[], "").await;
    assert_eq!(etag(&h), m.v2, "refused edits wrote nothing");
}

async fn history_names_the_moved_village_and_restore_brings_version_one_back(backend: Backend) {
    let Some(s) = scene("plans_history", backend) else {
        return;
    };
    let c = create_plan(&s).await;
    let m = move_village(&s, &c).await;
    let v3 = rename_by_b(&s, &m).await;
    let (moved, from_zone, to_zone) = (&m.moved, &m.from_zone, &m.to_zone);
    // Who, when, what.
    let (st, _, versions) = send(&s.app, "GET", "/plans/1/versions", &[], "").await;
    assert_eq!(st, StatusCode::OK);
    let list = versions["versions"].as_array().unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(list[0]["author"], "编辑乙");
    assert_eq!(list[1]["message"], "试调");
    // The history says which village moved by its name, code beside it.
    let summary = list[1]["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("村 ")
            && summary.contains(&format!("({moved}) 从 {from_zone} 调到 {to_zone}"))
            && !summary.starts_with(&format!("村 {moved}")),
        "{summary}"
    );
    let (_, _, d) = send(&s.app, "GET", "/plans/1/diff?from=1&to=2", &[], "").await;
    let moved_list = d["changes"]["moved_villages"].as_array().unwrap();
    assert_eq!(moved_list.len(), 1, "{d}");
    assert_eq!(moved_list[0]["id"], moved.as_str());
    assert_eq!(moved_list[0]["to"], to_zone.as_str());
    let (st, h, restored) = send(
        &s.app,
        "POST",
        "/plans/1/restore",
        &[("authorization", &s.a), ("if-match", &v3)],
        r#"{"version": 1}"#,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{restored}");
    assert_eq!(etag(&h), "\"plan-1-v4\"");
    assert_eq!(zones(&restored), c.before);
    let (st, _, old) = send(&s.app, "GET", "/plans/1/versions/2", &[], "").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(zones(&old), zones(&m.plan), "history is kept");
    let (st, _, e) = send(
        &s.app,
        "POST",
        "/plans/1/restore",
        &[("authorization", &s.a), ("if-match", "\"plan-1-v4\"")],
        r#"{"version": 99}"#,
    )
    .await;
    assert_eq!(
        (st, e["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("version"))
    );
}

async fn bad_plan_creations_name_the_field_and_an_empty_plan_warns(backend: Backend) {
    let Some(s) = scene("plans_bad_create", backend) else {
        return;
    };
    for (body, field) in [
        (r#"{"name": ""}"#, "name"),
        (r#"{"name": "x", "from": "magic"}"#, "from"),
        (r#"{"name": "x", "from": "zoning"}"#, "zoning"),
        (
            r#"{"name": "x", "params": {"max_members": "many"}}"#,
            "params",
        ),
    ] {
        let (st, _, e) = send(&s.app, "POST", "/plans", &[("authorization", &s.a)], body).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {e}");
        assert_eq!(e["field"], field, "{e}");
    }
    let (st, _, empty) = send(
        &s.app,
        "POST",
        "/plans",
        &[("authorization", &s.a)],
        r#"{"name": "空白方案", "from": "empty"}"#,
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    assert!(
        empty["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["constraint"] == "unassigned")
    );
}

async fn deleting_needs_an_admin_and_the_audit_log_has_every_write_and_refusal(backend: Backend) {
    let Some(s) = scene("plans_audit", backend) else {
        return;
    };
    let app = &s.app;
    // Writes by both editors and refusals of anonymous and viewer callers.
    let (st, _, _) = send(app, "POST", "/plans", &[], CREATE).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, _, _) = send(
        app,
        "POST",
        "/plans",
        &[("authorization", &s.viewer)],
        CREATE,
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let c = create_plan(&s).await;
    let m = move_village(&s, &c).await;
    let v3 = rename_by_b(&s, &m).await;
    let (st, _, _) = send(
        app,
        "POST",
        "/plans/1/restore",
        &[("authorization", &s.a), ("if-match", &v3)],
        r#"{"version": 1}"#,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let (st, _, _) = send(
        app,
        "POST",
        "/plans",
        &[("authorization", &s.a)],
        r#"{"name": "空白方案", "from": "empty"}"#,
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    // Deleting needs admin.
    let (st, _, _) = send(
        app,
        "DELETE",
        "/plans/2",
        &[("authorization", &s.a), ("if-match", "\"plan-2-v1\"")],
        "",
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _, _) = send(
        app,
        "DELETE",
        "/plans/2",
        &[("authorization", &s.admin), ("if-match", "\"plan-2-v1\"")],
        "",
    )
    .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (_, _, list) = send(app, "GET", "/plans", &[], "").await;
    assert_eq!(list["plans"].as_array().unwrap().len(), 1);
    // The audit log is the admin's.
    let (st, _, _) = send(app, "GET", "/audit", &[("authorization", &s.a)], "").await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // Refusals are logged off the request path; give that a moment.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (st, _, log) = send(
        app,
        "GET",
        "/audit?limit=200",
        &[("authorization", &s.admin)],
        "",
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let actions: Vec<(String, String)> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_string(),
                e["actor"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for (action, actor) in [
        ("plan.create", "编辑甲"),
        ("plan.edit", "编辑甲"),
        ("plan.edit", "编辑乙"),
        ("plan.restore", "编辑甲"),
        ("plan.delete", "管理员"),
        ("token.create", "cli"),
        ("denied POST", "anonymous"),
        ("denied POST", "查看员"),
        ("denied DELETE", "编辑甲"),
    ] {
        assert!(
            actions
                .iter()
                .any(|(a, who)| a == action
                    && (who == actor || who.starts_with(&format!("{actor}:")))),
            "{action} by {actor} missing from {actions:?}"
        );
    }
}

async fn whoami_names_the_token_and_a_revoked_token_stops_at_once(backend: Backend) {
    let Some(s) = scene("plans_whoami", backend) else {
        return;
    };
    let app = &s.app;
    // The token's name and role; none is anonymous; a bad one is 401.
    let (st, _, me) = send(app, "GET", "/auth/whoami", &[("authorization", &s.b)], "").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        (
            me["name"].as_str(),
            me["role"].as_str(),
            me["can_edit"].as_bool()
        ),
        (Some("编辑乙"), Some("editor"), Some(true))
    );
    let (_, _, me) = send(
        app,
        "GET",
        "/auth/whoami",
        &[("authorization", &s.viewer)],
        "",
    )
    .await;
    assert_eq!(
        (me["role"].as_str(), me["can_edit"].as_bool()),
        (Some("viewer"), Some(false))
    );
    let (_, _, me) = send(app, "GET", "/auth/whoami", &[], "").await;
    assert_eq!(
        (me["name"].as_str(), me["role"].clone()),
        (Some("anonymous"), Json::Null)
    );
    let (st, _, _) = send(
        app,
        "GET",
        "/auth/whoami",
        &[("authorization", "Bearer lc_0")],
        "",
    )
    .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    // A revoked token stops working at once (token 2 is editor A's).
    let c = create_plan(&s).await;
    let o = liancun(&["token", "revoke", "-w", s.ws.to_str().unwrap(), "--id", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rename =
        json!({"edits": [{"op": "rename", "zone": c.before[0].0, "name": "x"}]}).to_string();
    let (st, _, _) = send(
        app,
        "PATCH",
        "/plans/1",
        &[("authorization", &s.a), ("if-match", "*")],
        &rename,
    )
    .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, _, _) = send(app, "GET", "/auth/whoami", &[("authorization", &s.a)], "").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn reading_can_require_a_viewer_token() {
    let ws = demo_workspace("plans_read_viewer");
    let viewer = token(&ws, "viewer", "查看员");
    let mut state = AppState::load(&Workspace::open(&ws).unwrap(), "t").unwrap();
    state.read_access = liancun::auth::ReadAccess::Viewer;
    let app = router(Arc::new(state));
    for uri in ["/collections", "/plans", "/villages", "/tiles/villages"] {
        let (s, h, _) = send(&app, "GET", uri, &[], "").await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{uri}");
        assert!(h.get("www-authenticate").is_some());
        let (s, _, _) = send(&app, "GET", uri, &[("authorization", &bearer(&viewer))], "").await;
        assert_eq!(s, StatusCode::OK, "{uri}");
    }
    let (s, _, _) = send(
        &app,
        "POST",
        "/analysis/centers",
        &[],
        r#"{"town": "370323101"}"#,
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "analyses are reads");
}

#[tokio::test]
async fn exports_dissolve_members_exactly_and_open_in_gdal() {
    let ws = demo_workspace("plans_export");
    let editor = token(&ws, "editor", "编辑");
    let app = router(Arc::new(
        AppState::load(&Workspace::open(&ws).unwrap(), "t").unwrap(),
    ));
    let (s, _, plan) = send(
        &app,
        "POST",
        "/plans",
        &[("authorization", &bearer(&editor))],
        r#"{"name": "导出测试"}"#,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{plan}");

    // Dissolved area = Σ member areas within 0.01 % (metric CRS), zone by zone.
    let workspace = Workspace::open(&ws).unwrap();
    let data = liancun::zones::ZoningData::load(
        &workspace,
        &liancun::zones::ZoneRequest::default()
            .load_options()
            .unwrap(),
    )
    .unwrap();
    let (_, _, content) = liancun::plan::load(workspace.store(), 1, None).unwrap();
    let dissolved = liancun::plan::export::dissolve(&data, &content).unwrap();
    assert_eq!(dissolved.len(), content.zones.len());
    for z in &dissolved {
        let rel = (z.area_m2 - z.members_area_m2).abs() / z.members_area_m2;
        assert!(
            rel < 1e-4,
            "{}: dissolved {} vs members {} ({rel})",
            z.id,
            z.area_m2,
            z.members_area_m2
        );
        assert!(z.metric.0.len() <= z.members.len());
    }

    // GeoJSON over HTTP: one feature per zone with its attributes.
    let (s, h, gj) = send(&app, "GET", "/plans/1/export?format=geojson", &[], "").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h.get("content-type").unwrap(), "application/geo+json");
    assert!(
        h.get("content-disposition")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("plan-1-v1.geojson")
    );
    assert_eq!(
        gj["features"].as_array().unwrap().len(),
        content.zones.len()
    );
    assert_eq!(gj["features"][0]["properties"]["zone_id"], "Z001");
    let (s, _, _) = send(&app, "GET", "/plans/1/export?format=dwg", &[], "").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _, _) = send(&app, "GET", "/plans/7/export?format=csv", &[], "").await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // The plan's zones are an OGC API collection and a tile layer, at the head version.
    let (_, _, list) = send(&app, "GET", "/collections", &[], "").await;
    assert!(
        list["collections"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == "plan-1"),
        "{list}"
    );
    let (s, _, items) = send(&app, "GET", "/collections/plan-1/items", &[], "").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(items["numberMatched"], content.zones.len());
    assert_eq!(items["features"][0]["properties"]["version"], 1);
    let (s, _, one) = send(&app, "GET", "/collections/plan-1/items/2", &[], "").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(one["properties"]["zone_id"], content.zones[1].id.as_str());
    let (s, _, _) = send(&app, "GET", "/collections/plan-1/items/999", &[], "").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, _) = send(&app, "GET", "/collections/plan-7/items", &[], "").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, tj) = send(&app, "GET", "/tiles/plan-1", &[], "").await;
    assert_eq!(s, StatusCode::OK);
    let bounds: Vec<f64> = tj["bounds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_f64().unwrap())
        .collect();
    let (lon, lat) = ((bounds[0] + bounds[2]) / 2.0, (bounds[1] + bounds[3]) / 2.0);
    let z = 9u32;
    let n = f64::from(1u32 << z);
    let x = ((lon + 180.0) / 360.0 * n) as u32;
    let y = ((1.0 - lat.to_radians().tan().asinh() / std::f64::consts::PI) / 2.0 * n) as u32;
    let (s, h, _) = send(
        &app,
        "GET",
        &format!("/tiles/plan-1/{z}/{x}/{y}.mvt"),
        &[],
        "",
    )
    .await;
    assert_eq!(s, StatusCode::OK, "tile {z}/{x}/{y}");
    assert_eq!(
        h.get("content-type").unwrap(),
        "application/vnd.mapbox-vector-tile"
    );
    let tag_v1 = etag(&h);
    let edit =
        json!({"edits": [{"op": "rename", "zone": content.zones[0].id, "name": "改名后的片区"}]})
            .to_string();
    let (s, _, _) = send(
        &app,
        "PATCH",
        "/plans/1",
        &[
            ("authorization", &bearer(&editor)),
            ("if-match", "\"plan-1-v1\""),
        ],
        &edit,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (_, _, items) = send(&app, "GET", "/collections/plan-1/items?limit=1", &[], "").await;
    assert_eq!(items["features"][0]["properties"]["name"], "改名后的片区");
    assert_eq!(items["features"][0]["properties"]["version"], 2);
    assert_eq!(items["numberReturned"], 1);
    let (_, h, _) = send(
        &app,
        "GET",
        &format!("/tiles/plan-1/{z}/{x}/{y}.mvt"),
        &[],
        "",
    )
    .await;
    assert_ne!(etag(&h), tag_v1, "tiles follow the head version");

    // CLI exports: CSV for Excel (BOM, every village once), statistics, GeoPackage, Shapefile.
    let dir = temp_dir("plans_export_files");
    let w = ws.to_str().unwrap();
    for (format, file) in [
        ("csv", "m.csv"),
        ("stats", "s.csv"),
        ("gpkg", "z.gpkg"),
        ("shp", "z.shp"),
        ("shp", "z.zip"),
    ] {
        let out = dir.join(file);
        let o = liancun(&[
            "plan",
            "export",
            "-w",
            w,
            "--plan",
            "1",
            "--format",
            format,
            "-o",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{format}: {}", stderr(&o));
    }
    let members = std::fs::read_to_string(dir.join("m.csv")).unwrap();
    assert!(members.starts_with('\u{feff}'), "BOM for Excel");
    let codes: Vec<&str> = members
        .lines()
        .skip(1)
        .filter(|l| l.contains(",行政村,"))
        .map(|l| l.split(',').nth(4).unwrap())
        .collect();
    let mut unique = codes.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), codes.len());
    assert_eq!(codes.len(), data.villages.len());
    // 乡镇 holds the township's name (what a planner reads), 乡镇代码 its code.
    let header: Vec<&str> = members.lines().next().unwrap().split(',').collect();
    assert_eq!(&header[6..8], ["乡镇", "乡镇代码"]);
    for line in members.lines().skip(1).filter(|l| l.contains(",行政村,")) {
        let cells: Vec<&str> = line.split(',').collect();
        let v = data.index_of_code[cells[4]];
        assert_eq!(cells[6], data.town_name(v));
        assert!(
            cells[6].ends_with('镇') || cells[6].ends_with('乡') || cells[6].ends_with("街道"),
            "{line}"
        );
        assert_eq!(cells[7], data.villages[v].town_code);
    }
    let stats = std::fs::read_to_string(dir.join("s.csv")).unwrap();
    assert!(
        stats.lines().next().unwrap().contains("01耕地(ha)"),
        "{}",
        stats.lines().next().unwrap()
    );
    assert_eq!(stats.lines().count(), content.zones.len() + 1);
    for ext in ["shp", "shx", "dbf", "prj", "cpg"] {
        assert!(dir.join(format!("z.{ext}")).exists(), "z.{ext}");
    }
    assert_eq!(std::fs::read_to_string(dir.join("z.cpg")).unwrap(), "UTF-8");
    assert!(std::fs::read(dir.join("z.zip")).unwrap().starts_with(b"PK"));

    if require_tool("ogrinfo") {
        for (file, layer) in [("z.gpkg", "zones"), ("z.shp", "z")] {
            let o = std::process::Command::new("ogrinfo")
                .args(["-ro", "-al", "-q", dir.join(file).to_str().unwrap(), layer])
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&o.stdout);
            assert!(
                o.status.success(),
                "{file}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            assert_eq!(
                text.matches("OGRFeature").count(),
                content.zones.len(),
                "{file}"
            );
            assert!(
                text.contains(&format!("name (String) = {}", content.zones[1].name)),
                "{file}: Chinese text survives"
            );
        }
    }
}

#[test]
fn plans_from_the_command_line() {
    let ws = demo_workspace("plans_cli");
    let w = ws.to_str().unwrap();
    let o = liancun(&[
        "plan",
        "create",
        "-w",
        w,
        "--name",
        "乡镇方案",
        "--params",
        r#"{"min_members": 2, "max_members": 10}"#,
        "--author",
        "李四",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("已新建方案 1 / created plan 1"));
    // Bounds the county cannot meet: exit 2 naming the constraint, no plan stored.
    let o = liancun(&[
        "plan",
        "create",
        "-w",
        w,
        "--name",
        "不可行",
        "--params",
        r#"{"within_town": true, "max_members": 8}"#,
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("(bounds)"), "{}", stderr(&o));
    let o = liancun(&["plan", "create", "-w", w, "--name", "x", "--params", "[1]"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("(params)"), "{}", stderr(&o));
    let show = |v: Option<&str>| -> Json {
        let mut args = vec!["plan", "show", "-w", w, "--plan", "1", "--format", "json"];
        if let Some(v) = v {
            args.extend(["--version", v]);
        }
        let o = liancun(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        serde_json::from_str(&stdout(&o)).unwrap()
    };
    let v1 = show(None);
    assert_eq!(v1["params"]["max_members"], 10);
    assert!(
        v1["zones"]
            .as_array()
            .unwrap()
            .iter()
            .all(|z| z["members"].as_array().unwrap().len() <= 10)
    );
    let z1 = v1["zones"][0]["id"].as_str().unwrap().to_string();
    let code = v1["zones"][0]["members"][0]["code"]
        .as_str()
        .unwrap()
        .to_string();

    // Leave a village unassigned and rename the zone in one version; then the warnings say so.
    let o = liancun(&[
        "plan",
        "edit",
        "-w",
        w,
        "--plan",
        "1",
        "--move",
        &format!("{code}="),
        "--rename",
        &format!("{z1}=东片"),
        "--author",
        "李四",
        "-m",
        "待定",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("第 2 版") && out.contains("unassigned"),
        "{out}"
    );
    // A stale base is exit 3; a bad edit is exit 2 naming the field; nothing is written.
    let o = liancun(&[
        "plan",
        "edit",
        "-w",
        w,
        "--plan",
        "1",
        "--base",
        "1",
        "--rename",
        &format!("{z1}=西片"),
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let o = liancun(&[
        "plan",
        "edit",
        "-w",
        w,
        "--plan",
        "1",
        "--type",
        &format!("{z1}=大片区"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("edits[0].type"), "{}", stderr(&o));
    let o = liancun(&["plan", "edit", "-w", w, "--plan", "5", "--rename", "Z001=x"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("(plan)"), "{}", stderr(&o));
    assert_eq!(show(None)["version"], 2);
    assert_eq!(show(None)["zones"][0]["name"], "东片");

    // Shared facilities from the CLI: KIND@CODE[:NAME], members only.
    let member = v1["zones"][1]["members"][0]["code"]
        .as_str()
        .unwrap()
        .to_string();
    let z2 = v1["zones"][1]["id"].as_str().unwrap().to_string();
    let o = liancun(&[
        "plan",
        "edit",
        "-w",
        w,
        "--plan",
        "1",
        "--facilities",
        &format!("{z2}=冷库@{member}:东片冷库"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(show(None)["zones"][1]["facilities"][0]["name"], "东片冷库");
    let o = liancun(&[
        "plan",
        "edit",
        "-w",
        w,
        "--plan",
        "1",
        "--facilities",
        &format!("{z2}=冷库@{code}"),
    ]);
    assert_eq!(o.status.code(), Some(2), "a village outside the zone");
    assert!(stderr(&o).contains("facilities.village"), "{}", stderr(&o));
    let o = liancun(&[
        "plan",
        "edit",
        "-w",
        w,
        "--plan",
        "1",
        "--facilities",
        &format!("{z2}=冷库"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("(facilities)"), "{}", stderr(&o));
    // The facility edit made version 3; restoring version 1 below makes version 4.
    let o = liancun(&["plan", "versions", "-w", w, "--plan", "1"]);
    let out = stdout(&o);
    assert!(out.contains("cli:李四") && out.contains("待定"), "{out}");
    let o = liancun(&[
        "plan", "diff", "-w", w, "--plan", "1", "--from", "1", "--to", "2",
    ]);
    let d: Json = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(d["changes"]["moved_villages"][0]["id"], code.as_str());
    assert_eq!(d["changes"]["moved_villages"][0]["to"], Json::Null);
    let o = liancun(&["plan", "restore", "-w", w, "--plan", "1", "--version", "1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(show(None)["zones"], show(Some("1"))["zones"]);
    let o = liancun(&["plan", "list", "-w", w]);
    assert!(stdout(&o).contains("乡镇方案\t4"), "{}", stdout(&o));
    let o = liancun(&["audit", "-w", w]);
    assert!(stdout(&o).contains("plan.restore"), "{}", stdout(&o));
    let o = liancun(&["token", "create", "-w", w, "--role", "boss"]);
    assert_eq!(o.status.code(), Some(2), "clap refuses an unknown role");
}

/// Kills the server in the middle of a burst of writes from several editors, restarts it, and
/// checks that every acknowledged write is there, versions are whole and consecutive, and the
/// workspace file is intact.
#[test]
fn a_server_killed_during_a_burst_of_writes_loses_no_acknowledged_write() {
    let ws = demo_workspace("plans_crash");
    let editor = token(&ws, "editor", "压测");
    let auth = bearer(&editor);
    let server = Server::start(&ws);
    let (status, _, body) = http(
        &server.url,
        "POST",
        "/plans",
        &[("Authorization", &auth)],
        r#"{"name": "压测方案", "from": "proposal"}"#,
    )
    .unwrap();
    assert_eq!(status, 201, "{body}");
    let plan: Json = serde_json::from_str(&body).unwrap();
    let zone_ids: Vec<String> = plan["zones"]
        .as_array()
        .unwrap()
        .iter()
        .map(|z| z["id"].as_str().unwrap().to_string())
        .collect();

    // Four writers, each setting notes "w{t}-{n}" on its own zone, retrying on 412.
    let acked = Arc::new(std::sync::Mutex::new(Vec::<(i64, String, String)>::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut writers = Vec::new();
    for (t, zone) in zone_ids.iter().take(4).enumerate() {
        let (url, auth, acked, stop) = (
            server.url.clone(),
            auth.clone(),
            acked.clone(),
            stop.clone(),
        );
        let zone = zone.clone();
        writers.push(std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let Ok((s, headers, _)) = http(&url, "GET", "/plans/1", &[], "") else {
                    return;
                };
                if s != 200 {
                    return;
                }
                let tag = headers.iter().find(|(k, _)| k == "etag").unwrap().1.clone();
                let note = format!("w{t}-{n}");
                let body = json!({"edits": [{"op": "set_notes", "zone": zone, "notes": note}]})
                    .to_string();
                match http(
                    &url,
                    "PATCH",
                    "/plans/1",
                    &[("Authorization", &auth), ("If-Match", &tag)],
                    &body,
                ) {
                    Ok((200, headers, _)) => {
                        let tag = headers.iter().find(|(k, _)| k == "etag").unwrap().1.clone();
                        let version: i64 = tag
                            .trim_matches('"')
                            .rsplit("-v")
                            .next()
                            .unwrap()
                            .parse()
                            .unwrap();
                        acked.lock().unwrap().push((version, zone.clone(), note));
                        n += 1;
                    }
                    Ok((412, _, _)) => {}
                    Ok((s, _, b)) => panic!("unexpected {s}: {b}"),
                    Err(_) => return, // the server is gone
                }
            }
        }));
    }
    // Let the burst run, then kill -9 while writes are in flight.
    while acked.lock().unwrap().len() < 40 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    drop(server);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in writers {
        w.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 40);

    // Restart: every acknowledged version holds its write; versions 1..=head all present and
    // whole; the audit log has one edit per version after the first.
    let server = Server::start(&ws);
    let head = assert_acknowledged_edits_kept(&server.url, &acked);
    drop(server);
    let store = liancun::store::gpkg::GpkgStore::open(&ws).unwrap();
    let conn = store.connection();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let edits: i64 = conn
        .query_row(
            "SELECT count(*) FROM liancun_audit WHERE action = 'plan.edit' AND target = 'plans/1'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        edits,
        head - 1,
        "one audit entry per version, written with it"
    );
}

/// Reads a binary PPM (P6) as written by `pdftoppm`: width, height, RGB bytes.
fn read_ppm(bytes: &[u8]) -> (usize, usize, Vec<u8>) {
    let mut fields = Vec::new();
    let mut i = 0;
    while fields.len() < 4 {
        while bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let start = i;
        while !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        fields.push(String::from_utf8_lossy(&bytes[start..i]).to_string());
    }
    assert_eq!(fields[0], "P6");
    let (w, h): (usize, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    (w, h, bytes[i + 1..].to_vec())
}

#[tokio::test]
async fn one_zone_one_plan_sheets_are_searchable_pdfs_that_render() {
    let ws = demo_workspace("plans_sheets");
    let editor = token(&ws, "editor", "制图员");
    let app = router(Arc::new(
        AppState::load(&Workspace::open(&ws).unwrap(), "t").unwrap(),
    ));
    let (s, _, plan) = send(
        &app,
        "POST",
        "/plans",
        &[("authorization", &bearer(&editor))],
        r#"{"name": "出图方案"}"#,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{plan}");
    let zone = &plan["zones"][1];
    let (zone_id, zone_name) = (zone["id"].as_str().unwrap(), zone["name"].as_str().unwrap());
    let members: Vec<&str> = zone["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();

    let fetch = |uri: String| {
        let app = app.clone();
        async move {
            use http_body_util::BodyExt;
            use tower::ServiceExt;
            let response = app
                .oneshot(
                    axum::http::Request::builder()
                        .uri(uri)
                        .body(axum::body::Body::empty())
                        .unwrap(),
                )
                .await
                .unwrap();
            let status = response.status();
            let ct = response
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default();
            (
                status,
                ct,
                response
                    .into_body()
                    .collect()
                    .await
                    .unwrap()
                    .to_bytes()
                    .to_vec(),
            )
        }
    };
    let dir = temp_dir("plans_sheets_files");
    let mut pdfs = Vec::new();
    for (query, file) in [
        (format!("zone={zone_id}&format=pdf&paper=a4"), "zone-a4.pdf"),
        (format!("zone={zone_id}&paper=a3"), "zone-a3.pdf"),
        ("format=pdf".to_string(), "overview.pdf"),
    ] {
        let (s, ct, bytes) = fetch(format!("/plans/1/sheet?{query}")).await;
        assert_eq!(
            s,
            StatusCode::OK,
            "{query}: {}",
            String::from_utf8_lossy(&bytes)
        );
        assert_eq!(ct, "application/pdf");
        assert!(bytes.starts_with(b"%PDF-"));
        std::fs::write(dir.join(file), &bytes).unwrap();
        pdfs.push(dir.join(file));
    }
    let (s, ct, svg) = fetch(format!("/plans/1/sheet?zone={zone_id}&format=svg")).await;
    assert_eq!((s, ct.as_str()), (StatusCode::OK, "image/svg+xml"));
    assert!(String::from_utf8_lossy(&svg).contains(zone_name));
    let (s, _, png) = fetch(format!("/plans/1/sheet?zone={zone_id}&format=png&paper=a4")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 50_000,
        "{} bytes",
        png.len()
    );
    // What bad requests get.
    for (query, status) in [
        ("zone=Z999", StatusCode::NOT_FOUND),
        ("format=doc", StatusCode::BAD_REQUEST),
        ("paper=a0", StatusCode::BAD_REQUEST),
        ("scale=1", StatusCode::BAD_REQUEST),
    ] {
        let (s, _, _) = fetch(format!("/plans/1/sheet?{query}")).await;
        assert_eq!(s, status, "{query}");
    }
    let (s, _, _) = fetch("/plans/4/sheet".into()).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // The CLI writes the same sheet.
    let cli_pdf = dir.join("cli.pdf");
    let o = liancun(&[
        "plan",
        "sheet",
        "-w",
        ws.to_str().unwrap(),
        "--plan",
        "1",
        "--zone",
        zone_id,
        "-o",
        cli_pdf.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::read(&cli_pdf).unwrap().starts_with(b"%PDF-"));
    let o = liancun(&[
        "plan",
        "sheet",
        "-w",
        ws.to_str().unwrap(),
        "--plan",
        "1",
        "--zone",
        "Z999",
        "-o",
        cli_pdf.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("(zone)"), "{}", stderr(&o));

    if !(require_tool("pdftotext") && require_tool("pdftoppm")) {
        return;
    }
    // Real text: the zone name, every member, the legend, scale and north arrow, the version.
    for pdf in &pdfs[..2] {
        let o = std::process::Command::new("pdftotext")
            .arg(pdf)
            .arg("-")
            .output()
            .unwrap();
        assert!(o.status.success());
        let text = String::from_utf8_lossy(&o.stdout);
        for needle in [
            zone_name,
            "一片一规划图",
            "图例",
            "片区范围",
            "成员村界",
            "中心村",
            "统计",
            "比例尺",
            "北",
            "第 1 版",
            "数据来源",
        ] {
            assert!(
                text.contains(needle),
                "{}: '{needle}' not found in\n{text}",
                pdf.display()
            );
        }
        for m in &members {
            assert!(
                text.contains(m),
                "{}: member '{m}' not found",
                pdf.display()
            );
        }
    }
    let o = std::process::Command::new("pdftotext")
        .arg(&pdfs[2])
        .arg("-")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("片区总图"), "{text}");
    for z in plan["zones"].as_array().unwrap().iter().take(10) {
        assert!(
            text.contains(z["name"].as_str().unwrap()),
            "overview lacks {}",
            z["name"]
        );
    }
    // Rendered, the sheet is not blank: most of the page is drawn, in many colours.
    for pdf in &pdfs {
        let prefix = pdf.with_extension("");
        let o = std::process::Command::new("pdftoppm")
            .args(["-r", "30", "-singlefile"])
            .arg(pdf)
            .arg(&prefix)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let (w, h, rgb) = read_ppm(&std::fs::read(prefix.with_extension("ppm")).unwrap());
        assert!(w > 200 && h > 100, "{w}×{h}");
        let pixels: Vec<&[u8]> = rgb.chunks(3).collect();
        let drawn = pixels.iter().filter(|p| p.iter().any(|&c| c < 235)).count() as f64
            / pixels.len() as f64;
        let colours: std::collections::HashSet<&[u8]> = pixels.iter().copied().collect();
        assert!(
            drawn > 0.2,
            "{}: only {drawn:.2} of the page drawn",
            pdf.display()
        );
        assert!(
            colours.len() > 50,
            "{}: {} colours",
            pdf.display(),
            colours.len()
        );
    }
}

#[test]
fn a_plan_from_a_proposal_file_checks_the_proposal_bounds() {
    let ws = demo_workspace("plan_from_proposal");
    let w = ws.to_str().unwrap();
    let dir = ws.parent().unwrap();
    // A proposal with bounds unlike the defaults: every zone has 11–14 villages (default max 10).
    let file = dir.join("proposal.json");
    let o = liancun(&[
        "zones",
        "propose",
        "-w",
        w,
        "--min-members",
        "11",
        "--max-members",
        "14",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let proposal: Json = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(proposal["request"]["min_members"], 11);
    assert_eq!(proposal["request"]["max_members"], 14);
    assert!(proposal["request"].get("geojson").is_none());
    // The same zoning without its request, for the contrast below.
    let mut bare = proposal.clone();
    bare.as_object_mut().unwrap().remove("request");
    let bare_file = dir.join("bare.json");
    std::fs::write(&bare_file, bare.to_string()).unwrap();
    for (name, from) in [("提案方案", &file), ("无参数", &bare_file)] {
        let o = liancun(&[
            "plan",
            "create",
            "-w",
            w,
            "--name",
            name,
            "--from",
            from.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let show = |id: &str| -> Json {
        let o = liancun(&["plan", "show", "-w", w, "--plan", id, "--format", "json"]);
        assert!(o.status.success(), "{}", stderr(&o));
        serde_json::from_str(&stdout(&o)).unwrap()
    };
    let violations = |plan: &Json| -> Vec<String> {
        plan["zones"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|z| z["violations"].as_array().unwrap())
            .map(|v| v["constraint"].as_str().unwrap().to_string())
            .collect()
    };
    // With the proposal's own bounds, the plan holds them all: no warning.
    let with_request = show("1");
    assert_eq!(violations(&with_request), Vec::<String>::new());
    // Checked against the defaults instead, every zone is over the default maximum.
    let zones = proposal["zones"].as_array().unwrap().len();
    let defaults = violations(&show("2"));
    assert_eq!(
        defaults
            .iter()
            .filter(|c| c.as_str() == "max_members")
            .count(),
        zones,
        "{defaults:?}"
    );
}

/// `font-size="…"` values of an SVG, mm.
fn font_sizes(svg: &str) -> Vec<f64> {
    svg.split("font-size=\"")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].parse::<f64>().unwrap())
        .collect()
}

/// (kind, colour, planned) of every facility badge drawn on a sheet, map and legend.
fn badges(svg: &str) -> Vec<(String, String, bool)> {
    svg.split("<g class=\"facility")
        .skip(1)
        .map(|s| {
            let attr = |name: &str| {
                let start = s.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
                s[start..start + s[start..].find('"').unwrap()].to_string()
            };
            (
                attr("data-kind"),
                attr("data-colour"),
                s.starts_with(" planned"),
            )
        })
        .collect()
}

fn sheet_svg(ws: &str, args: &[&str]) -> String {
    let dir = std::path::Path::new(ws).parent().unwrap();
    let out = dir.join("sheet.svg");
    let mut all = vec![
        "plan",
        "sheet",
        "-w",
        ws,
        "--plan",
        "1",
        "-o",
        out.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    let o = liancun(&all);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    std::fs::read_to_string(out).unwrap()
}

#[test]
fn sheets_follow_their_paper_size_and_the_shared_symbology() {
    let ws = demo_workspace("sheets_paper");
    let w = ws.to_str().unwrap();
    let o = liancun(&["plan", "create", "-w", w, "--name", "出图"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let table: Json = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/web/src/symbology.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let colour_of = |kind: &str| -> String {
        table["facility_kinds"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["value"] == kind)
            .unwrap_or(&table["facility_other"])["color"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let mut seen: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> =
        Default::default();
    for (paper, size) in [
        ("a4", ("297mm", "210mm")),
        ("a3", ("420mm", "297mm")),
        ("a3-portrait", ("297mm", "420mm")),
        ("a1-portrait", ("594mm", "841mm")),
    ] {
        for zone in [Some("Z002"), Some("Z005"), None] {
            let mut args = vec!["--format", "svg", "--paper", paper];
            if let Some(z) = zone {
                args.extend(["--zone", z]);
            }
            let svg = sheet_svg(w, &args);
            let what = format!("{paper} {zone:?}");
            assert!(
                svg.contains(&format!("width=\"{}\" height=\"{}\"", size.0, size.1)),
                "{what}: paper size"
            );
            // Cap height ≥ 2 mm: no text below 3 mm (the font's capitals are ≥ 0.7 em).
            let smallest = font_sizes(&svg).into_iter().fold(f64::MAX, f64::min);
            assert!(smallest >= 3.0, "{what}: text at {smallest} mm");
            assert!(svg.contains("编制单位") && svg.contains("图号") && svg.contains("公里网"));
            let drawn = badges(&svg);
            for (kind, colour, _) in &drawn {
                assert_eq!(colour, &colour_of(kind), "{what}: {kind}");
                seen.entry(kind.clone()).or_default().insert(colour.clone());
                // Every kind on the map is in the legend too.
                assert!(
                    drawn.iter().filter(|(k, ..)| k == kind).count() >= 2,
                    "{what}: {kind} drawn once"
                );
            }
            if zone.is_some() {
                assert!(!drawn.is_empty(), "{what}: no facilities");
                // Only the zone's own facilities draw service circles, not every one in view.
                let circles = svg.matches("class=\"service\"").count();
                assert!(
                    circles > 0 && circles < drawn.len() / 2,
                    "{what}: {circles} circles for {} badges",
                    drawn.len()
                );
            }
        }
    }
    assert!(seen.len() >= 3, "{seen:?}");
    assert!(seen.values().all(|c| c.len() == 1), "{seen:?}");

    // A planned facility: drawn hollow in its kind's colour, with one more service circle.
    let before = sheet_svg(w, &["--format", "svg", "--zone", "Z002"]);
    let plan = stdout(&liancun(&[
        "plan", "show", "-w", w, "--plan", "1", "--format", "json",
    ]));
    let plan: Json = serde_json::from_str(&plan).unwrap();
    let member = plan["zones"][1]["members"][0]["code"]
        .as_str()
        .unwrap()
        .to_string();
    let o = liancun(&[
        "plan",
        "edit",
        "-w",
        w,
        "--plan",
        "1",
        "--facilities",
        &format!("Z002=冷库@{member}:东片冷库"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let after = sheet_svg(
        w,
        &[
            "--format",
            "svg",
            "--zone",
            "Z002",
            "--organization",
            "沂源县自然资源局",
        ],
    );
    assert_eq!(
        after.matches("class=\"service\"").count(),
        before.matches("class=\"service\"").count() + 1
    );
    let planned: Vec<_> = badges(&after).into_iter().filter(|b| b.2).collect();
    assert!(
        !planned.is_empty()
            && planned
                .iter()
                .all(|b| b.0 == "冷库" && b.1 == colour_of("冷库"))
    );
    assert!(after.contains("规划设施") && after.contains("沂源县自然资源局"));
    assert!(
        after.contains("方案1-Z002-V2"),
        "图号 names plan, zone and version"
    );

    // What a bad organisation or paper gets: the field named, nothing written.
    let out = ws.parent().unwrap().join("bad.pdf");
    for (args, field) in [
        (vec!["--organization", "第一行\n第二行"], "(organization)"),
        (vec!["--paper", "a0"], "(paper)"),
    ] {
        let mut all = vec![
            "plan",
            "sheet",
            "-w",
            w,
            "--plan",
            "1",
            "-o",
            out.to_str().unwrap(),
        ];
        all.extend(args);
        let o = liancun(&all);
        assert_eq!(o.status.code(), Some(2), "{field}");
        assert!(stderr(&o).contains(field), "{}", stderr(&o));
        assert!(!out.exists());
    }

    // The PDF has the paper's size.
    if !require_tool("pdfinfo") {
        return;
    }
    for (paper, pts) in [
        ("a4", "841.89 x 595.276"),
        ("a1-portrait", "1683.78 x 2383.94"),
    ] {
        let pdf = ws.parent().unwrap().join(format!("{paper}.pdf"));
        let o = liancun(&[
            "plan",
            "sheet",
            "-w",
            w,
            "--plan",
            "1",
            "--paper",
            paper,
            "-o",
            pdf.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let info = std::process::Command::new("pdfinfo")
            .arg(&pdf)
            .output()
            .unwrap();
        let info = String::from_utf8_lossy(&info.stdout);
        assert!(info.contains(pts), "{paper}: {info}");
    }
}

#[test]
fn the_overview_draws_townships_and_marks_zones_that_break_a_bound() {
    let ws = demo_workspace("sheets_overview");
    let w = ws.to_str().unwrap();
    let o = liancun(&["plan", "create", "-w", w, "--name", "总图"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let clean = sheet_svg(w, &["--format", "svg"]);
    assert!(!clean.contains("class=\"violation\""));
    assert!(clean.contains("乡镇界"));
    for town in ["悦庄镇", "南麻街道"] {
        assert!(clean.contains(town), "township {town} not named");
    }
    // Move every member of the last zone into Z002: Z002 then has more than the 10 members the
    // plan allows, a violation the overview must mark.
    let plan: Json = serde_json::from_str(&stdout(&liancun(&[
        "plan", "show", "-w", w, "--plan", "1", "--format", "json",
    ])))
    .unwrap();
    let last = plan["zones"].as_array().unwrap().last().unwrap().clone();
    let z2 = &plan["zones"][1];
    assert_eq!(z2["id"], "Z002");
    let moved = last["members"].as_array().unwrap();
    assert!(z2["members"].as_array().unwrap().len() + moved.len() > 10);
    let mut args = vec![
        "plan".to_string(),
        "edit".into(),
        "-w".into(),
        w.into(),
        "--plan".into(),
        "1".into(),
    ];
    for m in moved {
        args.push("--move".into());
        args.push(format!("{}=Z002", m["code"].as_str().unwrap()));
    }
    let o = liancun(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success(), "{}", stderr(&o));
    let broken = sheet_svg(w, &["--format", "svg", "--paper", "a3-portrait"]);
    assert!(broken.contains("class=\"violation\""), "no violation mark");
    assert!(broken.contains("违反约束的片区") && broken.contains("多于上限"));
    assert!(broken.contains(z2["name"].as_str().unwrap()));
}

#[tokio::test]
async fn exports_in_gauss_kruger_or_any_epsg_and_gbk_shapefiles() {
    let ws = demo_workspace("plans_export_crs");
    let w = ws.to_str().unwrap();
    let o = liancun(&["plan", "create", "-w", w, "--name", "导出方案"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let dir = ws.parent().unwrap().to_path_buf();
    let export = |args: &[&str], file: &str| {
        let out = dir.join(file);
        let mut all = vec![
            "plan",
            "export",
            "-w",
            w,
            "--plan",
            "1",
            "-o",
            out.to_str().unwrap(),
        ];
        all.extend_from_slice(args);
        (liancun(&all), out)
    };

    // GeoJSON in the workspace's Gauss–Krüger zone: named by its crs member, in metres, and the
    // area of each polygon is the zone's area.
    let (o, path) = export(&["--format", "geojson", "--crs", "metric"], "gk.geojson");
    assert!(o.status.success(), "{}", stderr(&o));
    let gj: Json = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let crs = gj["crs"]["properties"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(crs.starts_with("urn:ogc:def:crs:EPSG::45"), "{crs}");
    for f in gj["features"].as_array().unwrap().iter().take(5) {
        let g: geojson::Geometry = serde_json::from_value(f["geometry"].clone()).unwrap();
        let g: geo::Geometry<f64> = g.try_into().unwrap();
        let area_km2 = geo::Area::unsigned_area(&g) / 1e6;
        let stated = f["properties"]["area_km2"].as_f64().unwrap();
        assert!((area_km2 - stated).abs() < 0.01, "{area_km2} vs {stated}");
        let first = geo::CoordsIter::coords_iter(&g).next().unwrap();
        assert!(
            first.x > 100_000.0 && first.y > 3_000_000.0,
            "{first:?} not metres"
        );
    }

    // A GBK Shapefile in the prefixed zone 39 (EPSG:4527), as bureaus deliver theirs.
    let (o, shp) = export(
        &["--format", "shp", "--crs", "EPSG:4527", "--encoding", "gbk"],
        "gbk.shp",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(shp.with_extension("cpg")).unwrap(),
        "GBK"
    );
    let prj = std::fs::read_to_string(shp.with_extension("prj")).unwrap();
    assert!(prj.starts_with("PROJCS[") && prj.contains("39"), "{prj}");
    let plan: Json = serde_json::from_str(&stdout(&liancun(&[
        "plan", "show", "-w", w, "--plan", "1", "--format", "json",
    ])))
    .unwrap();
    let zone_name = plan["zones"][1]["name"].as_str().unwrap().to_string();
    let dbf = std::fs::read(shp.with_extension("dbf")).unwrap();
    let (gbk, _, _) = encoding_rs::GBK.encode(&zone_name);
    assert!(
        dbf.windows(gbk.len()).any(|w| w == &gbk[..]),
        "the zone name is stored in GBK"
    );
    let mut reader = shapefile::Reader::from_path(&shp).unwrap();
    let (shape, _) = reader.iter_shapes_and_records().next().unwrap().unwrap();
    let shapefile::Shape::Polygon(p) = shape else {
        panic!("polygons")
    };
    assert!(
        p.rings()[0].points()[0].x > 39_000_000.0,
        "zone-prefixed eastings"
    );

    // A GeoPackage in EPSG:4527 declares it.
    let (o, gpkg) = export(&["--format", "gpkg", "--crs", "4527"], "gk.gpkg");
    assert!(o.status.success(), "{}", stderr(&o));
    let db = rusqlite::Connection::open(&gpkg).unwrap();
    let srs: i64 = db
        .query_row(
            "SELECT srs_id FROM gpkg_geometry_columns WHERE table_name = 'zones'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(srs, 4527);
    let name: String = db
        .query_row(
            "SELECT srs_name FROM gpkg_spatial_ref_sys WHERE srs_id = 4527",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(name.contains("zone 39"), "{name}");

    // What bad options get: the field named, exit 2, no file written.
    for (args, field, file) in [
        (
            vec!["--format", "shp", "--crs", "EPSG:999999"],
            "(crs)",
            "bad1.shp",
        ),
        (
            vec!["--format", "geojson", "--crs", "north"],
            "(crs)",
            "bad2.geojson",
        ),
        (
            vec!["--format", "geojson", "--encoding", "gbk"],
            "(encoding)",
            "bad3.geojson",
        ),
        (
            vec!["--format", "csv", "--crs", "metric"],
            "(crs)",
            "bad4.csv",
        ),
        (
            vec!["--format", "shp", "--encoding", "latin1"],
            "(encoding)",
            "bad5.shp",
        ),
    ] {
        let (o, out) = export(&args, file);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(field), "{args:?}: {}", stderr(&o));
        assert!(!out.exists(), "{args:?} wrote a file");
    }
    // A name GBK cannot hold (𠀀, outside GBK) is refused rather than written as "&#131072;".
    let o = liancun(&[
        "plan",
        "edit",
        "-w",
        w,
        "--plan",
        "1",
        "--rename",
        "Z002=𠀀村片区",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (o, out) = export(&["--format", "shp", "--encoding", "gbk"], "rare.shp");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("(encoding)") && stderr(&o).contains("Z002"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists() && !out.with_extension("dbf").exists());
    // UTF-8 holds it.
    let (o, _) = export(&["--format", "shp"], "rare-utf8.shp");
    assert!(o.status.success(), "{}", stderr(&o));

    // Over HTTP: the same options as query parameters.
    let app = router(Arc::new(
        AppState::load(&Workspace::open(&ws).unwrap(), "t").unwrap(),
    ));
    let (s, _, _) = send(
        &app,
        "GET",
        "/plans/1/export?format=geojson&crs=metric",
        &[],
        "",
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    // A parameter that does not parse is a 400; a CRS or encoding that does not fit the plan or
    // the format is a 422 naming the field, as other plan inputs.
    for (query, status, field) in [
        ("format=shp&crs=north", StatusCode::BAD_REQUEST, None),
        ("format=shp&encoding=big5", StatusCode::BAD_REQUEST, None),
        (
            "format=shp&crs=EPSG:999999",
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("crs"),
        ),
        (
            "format=stats&crs=metric",
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("crs"),
        ),
        (
            "format=shp&encoding=gbk",
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("encoding"),
        ),
    ] {
        let (s, _, body) = send(&app, "GET", &format!("/plans/1/export?{query}"), &[], "").await;
        assert_eq!(s, status, "{query}: {body}");
        if let Some(field) = field {
            assert_eq!(body["field"], field, "{query}: {body}");
        }
    }
}

#[tokio::test]
async fn a_township_proposal_and_its_plan_check_that_township_only() {
    let ws = demo_workspace("plans_township");
    let w = ws.to_str().unwrap();
    let dir = ws.parent().unwrap().to_path_buf();
    let data = liancun::zones::ZoningData::load(
        &Workspace::open(&ws).unwrap(),
        &liancun::zones::LoadOptions::default(),
    )
    .unwrap();
    let town = "悦庄镇";
    let in_town: Vec<usize> = (0..data.villages.len())
        .filter(|&v| data.town_name(v) == town)
        .collect();
    assert!(in_town.len() > 10, "{town} has {} villages", in_town.len());

    // CLI: every village of the township in a zone, none from elsewhere; the bounds echoed.
    let file = dir.join("town.json");
    let o = liancun(&[
        "zones",
        "propose",
        "-w",
        w,
        "--town",
        town,
        "--strong-share",
        "0.3",
        "--time-limit",
        "20",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let proposal: Json = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(proposal["request"]["towns"], json!([town]));
    assert_eq!(proposal["request"]["strong_share"], json!(0.3));
    let mut placed: Vec<usize> = proposal["zones"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|z| z["members"].as_array().unwrap().clone())
        .map(|c| data.index_of_code[c.as_str().unwrap()])
        .collect();
    placed.sort_unstable();
    assert_eq!(placed, in_town, "exactly the villages of {town}");

    // A plan from that file checks the township only: no villages elsewhere "unassigned".
    let o = liancun(&[
        "plan",
        "create",
        "-w",
        w,
        "--name",
        "悦庄镇方案",
        "--from",
        file.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let show = |w: &str| -> Json {
        serde_json::from_str(&stdout(&liancun(&[
            "plan", "show", "-w", w, "--plan", "1", "--format", "json",
        ])))
        .unwrap()
    };
    let plan = show(w);
    let warnings = plan["warnings"].as_array().unwrap();
    // Strong villages as the plan's request picks them (share 0.3), not the default 0.2: the
    // proposal put a strong village in every zone, and the plan's check agrees.
    assert!(
        warnings
            .iter()
            .all(|x| x["constraint"] != "unassigned" && x["constraint"] != "strong"),
        "{warnings:?}"
    );
    assert_eq!(plan["unassigned"].as_array().unwrap().len(), 0);
    // A village from another township moved in is named for what it is.
    let outsider = (0..data.villages.len())
        .find(|&v| data.town_name(v) != town)
        .unwrap();
    let o = liancun(&[
        "plan",
        "edit",
        "-w",
        w,
        "--plan",
        "1",
        "--move",
        &format!("{}=Z001", data.villages[outsider].code),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let plan = show(w);
    let outside: Vec<&Json> = plan["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["constraint"] == "outside_towns")
        .collect();
    assert_eq!(outside.len(), 1, "{:?}", plan["warnings"]);
    assert!(
        outside[0]["detail"]
            .as_str()
            .unwrap()
            .contains(&data.villages[outsider].name)
    );

    // One language when asked (--lang, or the locale): each half of "中文 / English" alone.
    let lang_run = |args: &[&str], env: Option<(&str, &str)>| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_liancun"));
        c.env_remove("LIANCUN_LANG")
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env("LANG", "C.UTF-8");
        if let Some((k, v)) = env {
            c.env(k, v);
        }
        c.args(args).output().unwrap()
    };
    let mars = ["zones", "propose", "-w", w, "--town", "火星镇"];
    let o = lang_run(&[&mars[..], &["--lang", "en"]].concat(), None);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.starts_with("error (towns): no township '火星镇'") && !err.contains("没有乡镇"),
        "{err}"
    );
    let o = lang_run(&mars, Some(("LANG", "zh_CN.UTF-8")));
    let err = stderr(&o);
    assert!(
        err.starts_with("错误 (towns): 没有乡镇「火星镇」") && !err.contains("no township"),
        "{err}"
    );
    let o = lang_run(&mars, None);
    assert!(
        stderr(&o).contains("没有乡镇") && stderr(&o).contains("no township"),
        "C locale: both"
    );
    let o = lang_run(
        &[
            "plan", "sheet", "-w", w, "--plan", "1", "--paper", "a0", "-o", "x.pdf", "--lang", "en",
        ],
        None,
    );
    assert_eq!(
        stderr(&o).trim(),
        "error (paper): 'a0': a3, a4, a3-portrait or a1-portrait"
    );
    let o = lang_run(&["plan", "list", "-w", w, "--lang", "fr"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("(lang)"), "{}", stderr(&o));

    // What an unknown township gets: exit 2 / 400 naming the field and the known townships.
    let o = liancun(&[
        "zones",
        "propose",
        "-w",
        w,
        "--town",
        "火星镇",
        "-o",
        dir.join("x.json").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("towns") && stderr(&o).contains(town),
        "{}",
        stderr(&o)
    );
    let app = router(Arc::new(
        AppState::load(&Workspace::open(&ws).unwrap(), "t").unwrap(),
    ));
    let (s, _, body) = send(
        &app,
        "POST",
        "/analysis/zones/propose",
        &[],
        r#"{"towns": ["火星镇"]}"#,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    // Over HTTP the same township proposal, and its evaluation leaves the rest of the county out.
    let (s, _, body) = send(
        &app,
        "POST",
        "/analysis/zones/propose",
        &[],
        &json!({"towns": [town], "strong_share": 0.3, "time_limit_s": 20}).to_string(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let zoning = json!({"zones": body["zones"]});
    let (s, _, evaluation) = send(
        &app,
        "POST",
        "/analysis/zones/evaluate",
        &[],
        &json!({"zoning": zoning, "params": {"towns": [town], "strong_share": 0.3}}).to_string(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{evaluation}");
    assert_eq!(
        evaluation["unassigned"].as_array().map_or(0, Vec::len),
        0,
        "{}",
        evaluation["unassigned"]
    );
}
