//! Village lookups for the web map: the list (search, fly-to) and one village's profile with
//! its statistics (the side panel).
//!
//! `GET /villages` lists every village with its code, name, town, population, industry, strong
//! flag, an interior point and its bbox (lon/lat). `GET /villages/{code}` adds households,
//! income, party members and the statistics of [`crate::engine::stats`] (land use by 三调 code
//! and by first-level class, greenhouses, facilities). The statistics are computed on the first
//! request (a scan of the parcels) and kept.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{RawQuery, State};
use geo::{BoundingRect, InteriorPoint};
use serde_json::{Value as Json, json};

use super::AppState;
use super::error::{ApiError, ApiPath, no_query};
use super::extract::json_response;
use super::features::{ServedLayer, value_json};
use crate::domain::{LayerKind, Value, landuse};
use crate::engine::stats::VillageStats;

fn villages(snap: &super::Snapshot) -> Result<&ServedLayer, ApiError> {
    snap.layers
        .get(&LayerKind::Villages)
        .ok_or_else(|| ApiError::not_found("the workspace has no villages layer"))
}

fn summary(layer: &ServedLayer, slot: usize) -> serde_json::Map<String, Json> {
    let mut m = serde_json::Map::new();
    for field in [
        "code",
        "name",
        "town",
        "town_code",
        "population",
        "industry",
        "strong",
    ] {
        m.insert(field.into(), value_json(layer.value(slot, field)));
    }
    let g = layer.geometry(slot);
    m.insert(
        "centroid".into(),
        g.interior_point()
            .map_or(Json::Null, |p| json!([p.x(), p.y()])),
    );
    m.insert(
        "bbox".into(),
        g.bounding_rect().map_or(Json::Null, |r| {
            json!([r.min().x, r.min().y, r.max().x, r.max().y])
        }),
    );
    m
}

/// `GET /villages`.
#[utoipa::path(
    operation_id = "villages_list",
    get,
    path = "/villages",
    tag = "villages",
    summary = "村庄列表 / every village (search, fly-to)",
    responses(
        (status = 200, description = "OK", body = crate::api::schemas::VillageList, content_type = "application/json"),
        crate::api::schemas::Problems,
    ),
    security((), ("bearer" = [])),
)]
pub async fn list(
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
) -> Result<axum::response::Response, ApiError> {
    no_query(&query)?;
    let snap = state.snapshot();
    let layer = villages(&snap)?;
    let rows: Vec<Json> = (0..layer.len())
        .map(|s| Json::Object(summary(layer, s)))
        .collect();
    Ok(json_response(
        "application/json",
        json!({"count": rows.len(), "villages": rows}),
    ))
}

/// `GET /villages/{code}`.
#[utoipa::path(
    get,
    path = "/villages/{code}",
    tag = "villages",
    summary = "村庄档案 / one village with its statistics",
    params(
        ("code" = String, Path, description = "12-digit village code"),
    ),
    responses(
        (status = 200, description = "OK", body = crate::api::schemas::VillageProfile, content_type = "application/json"),
        crate::api::schemas::Problems,
    ),
    security((), ("bearer" = [])),
)]
pub async fn profile(
    State(state): State<Arc<AppState>>,
    ApiPath(code): ApiPath<String>,
    RawQuery(query): RawQuery,
) -> Result<axum::response::Response, ApiError> {
    no_query(&query)?;
    let snap = state.snapshot();
    let layer = villages(&snap)?;
    let slot = (0..layer.len())
        .find(|&s| layer.value(s, "code").and_then(Value::as_text).as_deref() == Some(&code))
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "no village with code '{}'",
                code.chars().take(40).collect::<String>()
            ))
        })?;
    let mut m = summary(layer, slot);
    for field in ["households", "collective_income", "party_members"] {
        m.insert(field.into(), value_json(layer.value(slot, field)));
    }
    let snap2 = snap.clone();
    let code2 = code.clone();
    let stats = tokio::task::spawn_blocking(move || {
        snap2
            .village_stats()
            .map(|r| r.villages.iter().find(|v| v.code == code2).cloned())
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)?;
    if let Some(stats) = &stats {
        add_stats(&mut m, stats);
    }
    Ok(json_response("application/json", Json::Object(m)))
}

fn add_stats(m: &mut serde_json::Map<String, Json>, v: &VillageStats) {
    let mut classes: BTreeMap<String, f64> = BTreeMap::new();
    for (code, area) in &v.land_use_m2 {
        let class = code.trim().get(..2).unwrap_or("").to_string();
        *classes.entry(class).or_default() += area;
    }
    let classes: Vec<Json> = classes
        .into_iter()
        .map(|(class, area)| {
            let name = landuse::class_of(&format!("{class}00")).unwrap_or("其他");
            json!({"class": class, "name": name, "area_m2": area})
        })
        .collect();
    for (k, val) in [
        ("area_m2", json!(v.area_m2)),
        ("parcel_area_m2", json!(v.parcel_area_m2)),
        ("cultivated_m2", json!(v.cultivated_m2)),
        ("construction_m2", json!(v.construction_m2)),
        ("land_use_m2", json!(v.land_use_m2)),
        ("land_use_classes", json!(classes)),
        ("greenhouse_count", json!(v.greenhouse_count)),
        ("greenhouse_area_m2", json!(v.greenhouse_area_m2)),
        ("facilities", json!(v.facilities)),
        (
            "population_density_per_km2",
            json!(v.population_density_per_km2),
        ),
    ] {
        m.insert(k.into(), val);
    }
}
