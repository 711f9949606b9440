//! A plan's zones as an OGC API collection (`/collections/plan-{id}`, items, single items) and
//! a vector tile layer (`/tiles/plan-{id}`, `/tiles/plan-{id}/{z}/{x}/{y}.mvt`), always at the
//! plan's head version.
//!
//! The zones are dissolved from their member villages ([`crate::plan::export::dissolve`]) once
//! per version and cached; a request first reads the head version (one indexed query) and
//! rebuilds only when the plan changed. Features are in CRS84; a feature's id is its position
//! (1-based) in the plan's zone list, its `zone_id` property the zone id.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use geo::{BoundingRect, Geometry};
use serde_json::{Value as Json, json};

use super::AppState;
use super::error::ApiError;
use super::extract::blocking;
use super::extract::json_response;
use crate::domain::Value;
use crate::engine::tiles::{CoordSpace, TileEncoder, TileId};
use crate::plan;

/// One zone: its geometry (CRS84) and attributes.
pub type ZoneFeature = (Geometry<f64>, Vec<(String, Value)>);

/// The dissolved zones of one plan version.
pub struct PlanLayer {
    /// The plan's id.
    pub plan: i64,
    /// The plan version the zones were dissolved from (the head when built).
    pub version: i64,
    /// The plan's name.
    pub name: String,
    /// One dissolved zone per feature, in the plan's zone order (feature id = position + 1).
    pub features: Vec<ZoneFeature>,
    /// Bounding box of all zones in CRS84 `[min lon, min lat, max lon, max lat]`; `None` when no
    /// zone has a geometry.
    pub bbox: Option<[f64; 4]>,
}

/// Plan layers by plan id.
#[derive(Default)]
pub struct PlanLayerCache(Mutex<HashMap<i64, Arc<PlanLayer>>>);

/// `plan-12` → 12.
pub fn plan_id(collection: &str) -> Option<i64> {
    collection.strip_prefix("plan-")?.parse().ok()
}

/// The head version's layer (blocking).
pub fn layer(state: &AppState, plan: i64) -> Result<Arc<PlanLayer>, ApiError> {
    let head = state
        .plan_store()
        .plan(plan)
        .map_err(ApiError::internal)?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "no collection 'plan-{plan}': 方案 {plan} 不存在 / no plan {plan}"
            ))
        })?
        .head;
    let snap = state.snapshot();
    let cache = &snap.plan_layers.0;
    if let Some(l) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(&plan)
        && l.version == head
    {
        return Ok(l.clone());
    }
    let data = state.plan_zoning_data().map_err(ApiError::internal)?;
    let (_, version, content) =
        plan::load(&*state.plan_store(), plan, Some(head)).map_err(ApiError::internal)?;
    let zones = plan::export::dissolve(&data, &content).map_err(ApiError::internal)?;
    let mut bbox: Option<[f64; 4]> = None;
    let features = zones
        .iter()
        .map(|z| {
            let geometry = Geometry::MultiPolygon(z.lonlat.clone());
            if let Some(r) = geometry.bounding_rect() {
                let b = [r.min().x, r.min().y, r.max().x, r.max().y];
                bbox = Some(match bbox {
                    None => b,
                    Some(o) => [
                        o[0].min(b[0]),
                        o[1].min(b[1]),
                        o[2].max(b[2]),
                        o[3].max(b[3]),
                    ],
                });
            }
            let props = plan::export::zone_properties(z, &content.name, version);
            let values = props
                .as_object()
                .expect("zone properties are an object")
                .iter()
                .map(|(k, v)| {
                    let value = match v {
                        Json::String(s) => Value::Text(s.clone()),
                        Json::Number(n) if n.is_i64() => Value::Int(n.as_i64().unwrap_or(0)),
                        Json::Number(n) => Value::Real(n.as_f64().unwrap_or(0.0)),
                        Json::Bool(b) => Value::Bool(*b),
                        _ => Value::Null,
                    };
                    (k.clone(), value)
                })
                .collect();
            (geometry, values)
        })
        .collect();
    let built = Arc::new(PlanLayer {
        plan,
        version,
        name: content.name.clone(),
        features,
        bbox,
    });
    cache
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(plan, built.clone());
    Ok(built)
}

fn value_json(v: &Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Bool(b) => json!(b),
        Value::Int(i) => json!(i),
        Value::Real(r) => json!(r),
        Value::Text(s) => json!(s),
    }
}

fn feature_json(layer: &PlanLayer, i: usize) -> Json {
    let (geometry, values) = &layer.features[i];
    json!({
        "type": "Feature",
        "id": i + 1,
        "properties": values.iter().map(|(k, v)| (k.clone(), value_json(v))).collect::<serde_json::Map<_, _>>(),
        "geometry": geojson::Geometry::from(geometry),
    })
}

/// The collection description (also listed in `/collections`).
pub fn collection_json(base: &str, layer: &PlanLayer) -> Json {
    let id = format!("plan-{}", layer.plan);
    json!({
        "id": id,
        "title": format!("规划方案：{}（第 {} 版）", layer.name, layer.version),
        "description": format!("方案 {} 的片区（由成员村融合） / the zones of plan {}, dissolved from their member villages", layer.plan, layer.plan),
        "itemType": "feature",
        "crs": ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"],
        "extent": {"spatial": {"bbox": [layer.bbox.unwrap_or([-180.0, -90.0, 180.0, 90.0])], "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}},
        "links": [
            {"href": format!("{base}/collections/{id}"), "rel": "self", "type": "application/json"},
            {"href": format!("{base}/collections/{id}/items"), "rel": "items", "type": "application/geo+json"},
            {"href": format!("{base}/tiles/{id}"), "rel": "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector", "type": "application/json", "title": "TileJSON of the vector tiles"},
            {"href": format!("{base}/plans/{}", layer.plan), "rel": "describedby", "type": "application/json", "title": "the plan"},
        ],
    })
}

/// Every plan's collection description (for `/collections`).
pub fn collections(state: &AppState, base: &str) -> Result<Vec<Json>, ApiError> {
    let plans = state.plan_store().plans().map_err(ApiError::internal)?;
    plans
        .iter()
        .map(|p| layer(state, p.id).map(|l| collection_json(base, &l)))
        .collect()
}

/// `GET /collections/plan-{id}`.
pub async fn collection(
    state: Arc<AppState>,
    plan: i64,
    base: String,
) -> Result<Response, ApiError> {
    let l = blocking(move || layer(&state, plan)).await?;
    Ok(json_response(
        "application/json",
        collection_json(&base, &l),
    ))
}

/// `GET /collections/plan-{id}/items[?bbox=w,s,e,n&limit=n]`.
pub async fn items(
    state: Arc<AppState>,
    plan: i64,
    base: String,
    query: Option<String>,
) -> Result<Response, ApiError> {
    let pairs = super::extract::query_pairs(query.as_deref())?;
    let (mut bbox, mut limit) = (None, 1000usize);
    for (k, v) in pairs {
        match k.as_str() {
            "bbox" => {
                let n: Vec<f64> = v.split(',').filter_map(|x| x.trim().parse().ok()).collect();
                if n.len() != 4 {
                    return Err(ApiError::bad_request(format!(
                        "bbox='{v}': four numbers w,s,e,n"
                    )));
                }
                bbox = Some([n[0], n[1], n[2], n[3]]);
            }
            "limit" => {
                limit = v
                    .parse()
                    .ok()
                    .filter(|n| (1..=10_000).contains(n))
                    .ok_or_else(|| ApiError::bad_request(format!("limit='{v}': 1–10000")))?
            }
            "f" if v == "json" || v == "geojson" => {}
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown parameter '{other}': a plan's zones take bbox, limit and f (in CRS84)"
                )));
            }
        }
    }
    let l = blocking(move || layer(&state, plan)).await?;
    let matched: Vec<usize> = (0..l.features.len())
        .filter(|&i| {
            let Some([w, s, e, n]) = bbox else {
                return true;
            };
            l.features[i].0.bounding_rect().is_some_and(|r| {
                r.min().x <= e && w <= r.max().x && r.min().y <= n && s <= r.max().y
            })
        })
        .collect();
    let features: Vec<Json> = matched
        .iter()
        .take(limit)
        .map(|&i| feature_json(&l, i))
        .collect();
    Ok(json_response(
        "application/geo+json",
        json!({
            "type": "FeatureCollection",
            "numberMatched": matched.len(),
            "numberReturned": features.len(),
            "links": [{"href": format!("{base}/collections/plan-{plan}/items"), "rel": "self", "type": "application/geo+json"}],
            "features": features,
        }),
    ))
}

/// `GET /collections/plan-{id}/items/{n}`.
pub async fn item(state: Arc<AppState>, plan: i64, fid: String) -> Result<Response, ApiError> {
    let l = blocking(move || layer(&state, plan)).await?;
    let i = fid
        .parse::<usize>()
        .ok()
        .filter(|&n| n >= 1 && n <= l.features.len())
        .ok_or_else(|| {
            ApiError::not_found(format!("collection 'plan-{plan}' has no feature '{fid}'"))
        })?;
    Ok(json_response(
        "application/geo+json",
        feature_json(&l, i - 1),
    ))
}

/// `GET /tiles/plan-{id}`: TileJSON 3.0.0.
pub async fn tilejson(state: Arc<AppState>, plan: i64, base: String) -> Result<Response, ApiError> {
    let l = blocking(move || layer(&state, plan)).await?;
    let id = format!("plan-{plan}");
    let bounds = l.bbox.unwrap_or([-180.0, -85.0, 180.0, 85.0]);
    Ok(json_response(
        "application/json",
        json!({
            "tilejson": "3.0.0",
            "name": id,
            "description": format!("规划方案：{}（第 {} 版）", l.name, l.version),
            "version": format!("{}", l.version),
            "scheme": "xyz",
            "tiles": [format!("{base}/tiles/{id}/{{z}}/{{x}}/{{y}}.mvt")],
            "minzoom": 0,
            "maxzoom": 16,
            "bounds": bounds,
            "center": [(bounds[0] + bounds[2]) / 2.0, (bounds[1] + bounds[3]) / 2.0, 9],
            "vector_layers": [{"id": id, "minzoom": 0, "maxzoom": 16, "fields": {
                "zone_id": "String", "name": "String", "type": "String", "key_code": "String",
                "key_name": "String", "villages": "Number", "population": "Number", "area_km2": "Number",
                "plan": "String", "version": "Number"}}],
        }),
    ))
}

/// `GET /tiles/plan-{id}/{z}/{x}/{y}.mvt` (ETag: plan, version and tile).
pub async fn tile(
    state: Arc<AppState>,
    plan: i64,
    tile: TileId,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let l = blocking(move || layer(&state, plan)).await?;
    let etag = format!(
        "\"plan-{plan}-v{}-{}-{}-{}\"",
        l.version, tile.z, tile.x, tile.y
    );
    let cache = [
        (header::ETAG, etag.clone()),
        (header::CACHE_CONTROL, "no-cache".to_string()),
    ];
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
    {
        return Ok((StatusCode::NOT_MODIFIED, cache).into_response());
    }
    let id = format!("plan-{plan}");
    let bytes = blocking(move || {
        let mut encoder = TileEncoder::new(tile, &id);
        let [w, s, e, n] = tile.lonlat_bounds(0.05);
        for (i, (geometry, values)) in l.features.iter().enumerate() {
            let meets = geometry.bounding_rect().is_some_and(|r| {
                r.min().x <= e && w <= r.max().x && r.min().y <= n && s <= r.max().y
            });
            if meets {
                let mut tags = values.iter().map(|(k, v)| (k.as_str(), v));
                encoder
                    .add(i as u64 + 1, geometry, CoordSpace::LonLat, &mut tags)
                    .map_err(ApiError::internal)?;
            }
        }
        encoder.finish().map_err(ApiError::internal)
    })
    .await?;
    Ok(match bytes {
        Some(b) => (
            StatusCode::OK,
            cache,
            [(
                header::CONTENT_TYPE,
                "application/vnd.mapbox-vector-tile".to_string(),
            )],
            b,
        )
            .into_response(),
        None => (StatusCode::NO_CONTENT, cache).into_response(),
    })
}
