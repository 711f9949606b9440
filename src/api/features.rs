//! OGC API – Features Part 1 (Core, GeoJSON) over the workspace layers.
//!
//! Collections are the layers (`villages`, `parcels`, …). Items: `bbox` (CRS84), `limit`
//! (default 100, maximum 10,000 — larger values are lowered to it, as Part 1 allows), keyset
//! paging with `cursor` (the last feature id of the previous page, so pages stay stable while
//! reading), attribute equality filters on any column, `f=json`. Any other parameter is a 400.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use geo::{Geometry, Intersects, Rect, coord};
use rstar::RTree;
use serde_json::{Map, Value as Json, json};

use super::AppState;
use super::error::{ApiError, ApiPath};
use super::extract::{json_response, query_pairs};
use crate::domain::{LayerKind, Value};
use crate::engine::crs::{Crs, EPSG_CGCS2000, Reprojector};
use crate::engine::geometry::{SlotEnvelope, aabb, envelope_tree, for_each_coord_mut};
use crate::store::LayerInfo;
use crate::workspace::{Workspace, WorkspaceError};

/// An attribute value as JSON (`None` and `Null` are null).
pub(crate) fn value_json(v: Option<&Value>) -> Json {
    match v {
        None | Some(Value::Null) => Json::Null,
        Some(Value::Bool(b)) => json!(b),
        Some(Value::Int(i)) => json!(i),
        Some(Value::Real(r)) => json!(r),
        Some(Value::Text(s)) => json!(s),
    }
}

/// Features per items page when the request gives no `limit`.
pub const DEFAULT_LIMIT: usize = 100;
/// The largest `limit` served: a larger one is lowered to it.
pub const MAX_LIMIT: usize = 10_000;
const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";
const GEOJSON: &str = "application/geo+json";

/// A layer held in memory for serving: lon/lat geometries in fid order with an R-tree.
pub struct ServedLayer {
    /// The layer's kind, columns, feature count, bounding box and data version.
    pub info: LayerInfo,
    fids: Vec<i64>,
    geometries: Vec<Geometry<f64>>,
    values: Vec<Vec<Value>>,
    tree: RTree<SlotEnvelope>,
    slot_of_fid: HashMap<i64, usize>,
}

impl ServedLayer {
    /// Reads every feature of the layer from the workspace store (fid order) and builds its R-tree.
    pub fn load(workspace: &Workspace, info: LayerInfo) -> Result<ServedLayer, WorkspaceError> {
        let (mut fids, mut geometries, mut values) = (Vec::new(), Vec::new(), Vec::new());
        workspace.store().scan(info.kind, &mut |f| {
            fids.push(f.fid);
            geometries.push(f.geometry);
            values.push(f.values);
            Ok(())
        })?;
        let tree = envelope_tree(&geometries);
        let slot_of_fid = fids
            .iter()
            .enumerate()
            .map(|(slot, fid)| (*fid, slot))
            .collect();
        Ok(ServedLayer {
            info,
            fids,
            geometries,
            values,
            tree,
            slot_of_fid,
        })
    }

    /// Number of features.
    pub fn len(&self) -> usize {
        self.fids.len()
    }

    /// Whether the layer has no features.
    pub fn is_empty(&self) -> bool {
        self.fids.is_empty()
    }

    /// The feature id (GeoPackage fid) of the feature at `slot`.
    pub fn fid(&self, slot: usize) -> i64 {
        self.fids[slot]
    }

    /// The geometry in lon/lat (EPSG:4490).
    pub fn geometry(&self, slot: usize) -> &Geometry<f64> {
        &self.geometries[slot]
    }

    /// Every geometry in lon/lat (EPSG:4490), by slot.
    pub fn geometries(&self) -> &[Geometry<f64>] {
        &self.geometries
    }

    /// Values aligned with `info.columns`.
    pub fn values(&self, slot: usize) -> &[Value] {
        &self.values[slot]
    }

    /// The value of a named column, `None` when the layer lacks the column.
    pub fn value(&self, slot: usize, column: &str) -> Option<&Value> {
        self.info
            .column_index(column)
            .map(|c| &self.values[slot][c])
    }

    /// Slots whose envelope meets the lon/lat box, ascending.
    pub fn slots_in_envelope(&self, west: f64, south: f64, east: f64, north: f64) -> Vec<usize> {
        let rect = Rect::new(coord! {x: west, y: south}, coord! {x: east, y: north});
        let mut s: Vec<usize> = self
            .tree
            .locate_in_envelope_intersecting(&aabb(rect))
            .map(|e| e.slot)
            .collect();
        s.sort_unstable();
        s
    }

    /// Slots matching the query, ascending by fid, and how many matched in all.
    pub fn select(&self, q: &ItemsQuery) -> (Vec<usize>, usize, Option<i64>) {
        let mut slots: Vec<usize> = match q.bbox {
            Some(b) => {
                let rect = Rect::new(coord! {x: b[0], y: b[1]}, coord! {x: b[2], y: b[3]});
                let polygon = rect.to_polygon();
                let mut s: Vec<usize> = self
                    .tree
                    .locate_in_envelope_intersecting(&aabb(rect))
                    .map(|e| e.slot)
                    .filter(|&s| self.geometries[s].intersects(&polygon))
                    .collect();
                s.sort_unstable();
                s
            }
            None => (0..self.fids.len()).collect(),
        };
        slots.retain(|&s| {
            q.filters
                .iter()
                .all(|(col, want)| property_matches(&self.values[s][*col], want))
        });
        let matched = slots.len();
        let start = q
            .cursor
            .map_or(0, |c| slots.partition_point(|&s| self.fids[s] <= c));
        let page: Vec<usize> = slots[start..].iter().take(q.limit).copied().collect();
        let next = (start + page.len() < matched)
            .then(|| page.last().map(|&s| self.fids[s]))
            .flatten();
        (page, matched, next)
    }

    fn feature_json(
        &self,
        slot: usize,
        crs: ApiCrs,
        reprojector: Option<&Reprojector>,
    ) -> Result<Json, ApiError> {
        let mut props = Map::new();
        for (col, v) in self.info.columns.iter().zip(&self.values[slot]) {
            props.insert(col.name.clone(), value_json(Some(v)));
        }
        Ok(json!({
            "type": "Feature",
            "id": self.fids[slot],
            "geometry": geojson::Geometry::from(&to_output(&self.geometries[slot], crs, reprojector)?),
            "properties": props,
        }))
    }

    fn extent(&self) -> Json {
        match self.info.bbox {
            Some(b) => json!({"spatial": {"bbox": [b], "crs": CRS84}}),
            None => json!({"spatial": {"bbox": [], "crs": CRS84}}),
        }
    }
}

/// A CRS the API offers (OGC API – Features Part 2): CRS84, or an EPSG code among 4326, 4490
/// and the CGCS2000 Gauss–Krüger codes 4491–4554.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiCrs {
    /// OGC CRS84: WGS 84 / CGCS2000 lon/lat, longitude first.
    Crs84,
    /// An EPSG code: 4326, 4490 (authority axis order, latitude first) or a CGCS2000 Gauss–Krüger
    /// code 4491–4554.
    Epsg(u32),
}

impl ApiCrs {
    /// Parses `http://www.opengis.net/def/crs/EPSG/0/N`, the CRS84 URI, or `EPSG:N`.
    pub fn parse(text: &str) -> Option<ApiCrs> {
        let t = text.trim().trim_start_matches('[').trim_end_matches(']');
        if t == CRS84 || t.eq_ignore_ascii_case("OGC:CRS84") {
            return Some(ApiCrs::Crs84);
        }
        let code = t
            .strip_prefix("http://www.opengis.net/def/crs/EPSG/0/")
            .or_else(|| t.strip_prefix("EPSG:"))?
            .parse::<u32>()
            .ok()?;
        (code == 4326 || code == 4490 || crate::engine::crs::gauss_kruger(code).is_some())
            .then_some(ApiCrs::Epsg(code))
    }

    /// The CRS named by query parameter `name`, or a 400 that lists what is offered.
    fn from_param(name: &str, value: &str) -> Result<ApiCrs, ApiError> {
        ApiCrs::parse(value).ok_or_else(|| {
            ApiError::bad_request(format!(
                "{name} '{value}': not offered; use CRS84, EPSG:4326, EPSG:4490 or EPSG:4491–4554"
            ))
        })
    }

    /// The CRS's OGC URI (`http://www.opengis.net/def/crs/EPSG/0/N` or the CRS84 URI).
    pub fn uri(self) -> String {
        match self {
            ApiCrs::Crs84 => CRS84.to_string(),
            ApiCrs::Epsg(code) => format!("http://www.opengis.net/def/crs/EPSG/0/{code}"),
        }
    }

    /// Every CRS offered, as URIs.
    pub fn offered() -> Vec<String> {
        let mut all = vec![
            CRS84.to_string(),
            ApiCrs::Epsg(4326).uri(),
            ApiCrs::Epsg(4490).uri(),
        ];
        all.extend((4491..=4554).map(|c| ApiCrs::Epsg(c).uri()));
        all
    }

    /// EPSG:4326/4490 list latitude first and the Gauss–Krüger codes northing first (their
    /// authority axis order, which Part 2 asks for); CRS84 is lon, lat.
    fn north_first(self) -> bool {
        matches!(self, ApiCrs::Epsg(_))
    }

    /// The transformation from stored lon/lat (EPSG:4490) to this CRS in lon/lat or
    /// easting/northing order; `None` for no change of numbers.
    fn reprojector(self) -> Result<Option<Reprojector>, ApiError> {
        match self {
            ApiCrs::Epsg(code) if crate::engine::crs::gauss_kruger(code).is_some() => {
                Reprojector::new(&Crs::Epsg(EPSG_CGCS2000), &Crs::Epsg(code))
                    .map(Some)
                    .map_err(ApiError::internal)
            }
            _ => Ok(None),
        }
    }
}

/// Converts a stored geometry for output in `crs`.
fn to_output(
    geometry: &Geometry<f64>,
    crs: ApiCrs,
    reprojector: Option<&Reprojector>,
) -> Result<Geometry<f64>, ApiError> {
    let mut g = geometry.clone();
    if let Some(r) = reprojector {
        r.transform_geometry(&mut g).map_err(ApiError::internal)?;
    }
    if crs.north_first() {
        for_each_coord_mut(&mut g, &mut |c| std::mem::swap(&mut c.x, &mut c.y));
    }
    Ok(g)
}

/// A bbox given in `crs` (its axis order) as a CRS84 box; Gauss–Krüger boxes are converted
/// through their corners and edge midpoints.
fn bbox_to_crs84(b: [f64; 4], crs: ApiCrs) -> Result<[f64; 4], ApiError> {
    let [a0, a1, a2, a3] = b;
    let (x0, y0, x1, y1) = if crs.north_first() {
        (a1, a0, a3, a2)
    } else {
        (a0, a1, a2, a3)
    };
    match crs.reprojector()? {
        None => Ok([x0, y0, x1, y1]),
        Some(_) => {
            let ApiCrs::Epsg(code) = crs else {
                unreachable!("only EPSG codes are projected")
            };
            let back = Reprojector::new(&Crs::Epsg(code), &Crs::Epsg(EPSG_CGCS2000))
                .map_err(ApiError::internal)?;
            let (mx, my) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
            let mut pts: Vec<geo::Coord<f64>> = [
                (x0, y0),
                (x1, y0),
                (x1, y1),
                (x0, y1),
                (mx, y0),
                (mx, y1),
                (x0, my),
                (x1, my),
            ]
            .iter()
            .map(|&(x, y)| geo::Coord { x, y })
            .collect();
            back.transform_coords(&mut pts).map_err(|e| {
                ApiError::bad_request(format!("bbox {b:?} is outside EPSG:{code}: {e}"))
            })?;
            let fold = |f: fn(f64, f64) -> f64, init: f64, get: fn(&geo::Coord<f64>) -> f64| {
                pts.iter().map(get).fold(init, f)
            };
            Ok([
                fold(f64::min, f64::INFINITY, |c| c.x),
                fold(f64::min, f64::INFINITY, |c| c.y),
                fold(f64::max, f64::NEG_INFINITY, |c| c.x),
                fold(f64::max, f64::NEG_INFINITY, |c| c.y),
            ])
        }
    }
}

/// A parsed items request.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemsQuery {
    /// In CRS84, whatever `bbox-crs` was.
    pub bbox: Option<[f64; 4]>,
    /// The CRS of the response.
    pub crs: ApiCrs,
    /// Features per page, at most [`MAX_LIMIT`].
    pub limit: usize,
    /// The fid after which the page starts (the last fid of the previous page); `None` for the
    /// first page.
    pub cursor: Option<i64>,
    /// (column index, wanted text value).
    pub filters: Vec<(usize, String)>,
}

/// Parses the query string of an items request; every problem is a 400 naming the parameter.
pub fn parse_items_query(raw: Option<&str>, info: &LayerInfo) -> Result<ItemsQuery, ApiError> {
    let pairs = query_pairs(raw)?;
    let mut raw_bbox: Option<([f64; 4], String)> = None;
    let mut bbox_crs = ApiCrs::Crs84;
    let mut q = ItemsQuery {
        bbox: None,
        crs: ApiCrs::Crs84,
        limit: DEFAULT_LIMIT,
        cursor: None,
        filters: Vec::new(),
    };
    for (key, value) in pairs {
        match key.as_str() {
            "bbox" => {
                let numbers: Vec<f64> = value
                    .split(',')
                    .map(|n| n.trim().parse::<f64>())
                    .collect::<Result<_, _>>()
                    .map_err(|_| {
                        ApiError::bad_request(format!(
                            "bbox '{value}': expected minLon,minLat,maxLon,maxLat"
                        ))
                    })?;
                let b = match numbers.as_slice() {
                    [a, b, c, d] => [*a, *b, *c, *d],
                    [a, b, _, c, d, _] => [*a, *b, *c, *d],
                    _ => {
                        return Err(ApiError::bad_request(format!(
                            "bbox '{value}': expected 4 (or 6) numbers"
                        )));
                    }
                };
                if b.iter().any(|v| !v.is_finite()) {
                    return Err(ApiError::bad_request(format!(
                        "bbox '{value}': coordinates must be finite numbers"
                    )));
                }
                raw_bbox = Some((b, value));
            }
            "bbox-crs" => bbox_crs = ApiCrs::from_param("bbox-crs", &value)?,
            "crs" => q.crs = ApiCrs::from_param("crs", &value)?,
            "limit" => {
                let n: usize = value
                    .trim()
                    .parse()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "limit '{value}': expected a whole number from 1 to {MAX_LIMIT}"
                        ))
                    })?;
                q.limit = n.min(MAX_LIMIT);
            }
            "cursor" => {
                q.cursor = Some(value.trim().parse().map_err(|_| {
                    ApiError::bad_request(format!("cursor '{value}': expected a feature id"))
                })?)
            }
            "f" if value == "json" || value == "geojson" => {}
            "f" => {
                return Err(ApiError::bad_request(format!(
                    "f '{value}': only json is offered"
                )));
            }
            other => match info.column_index(other) {
                Some(col) => q.filters.push((col, value)),
                None => {
                    let columns: Vec<&str> = info.columns.iter().map(|c| c.name.as_str()).collect();
                    return Err(ApiError::bad_request(format!(
                        "unknown parameter '{other}': use bbox, bbox-crs, crs, limit, cursor, f or a property of {} ({})",
                        info.kind,
                        columns.join(", ")
                    )));
                }
            },
        }
    }
    if let Some((b, value)) = raw_bbox {
        let b = bbox_to_crs84(b, bbox_crs)?;
        let lon_ok = |x: f64| (-180.0..=180.0).contains(&x);
        let lat_ok = |y: f64| (-90.0..=90.0).contains(&y);
        if !(lon_ok(b[0]) && lon_ok(b[2]) && lat_ok(b[1]) && lat_ok(b[3])) || b[1] > b[3] {
            return Err(ApiError::bad_request(format!(
                "bbox '{value}': coordinates must be finite CRS84 lon/lat with minLat ≤ maxLat (in the order of bbox-crs)"
            )));
        }
        if b[0] > b[2] {
            return Err(ApiError::bad_request(format!(
                "bbox '{value}': boxes crossing the antimeridian are not supported"
            )));
        }
        q.bbox = Some(b);
    }
    Ok(q)
}

pub(crate) fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// Whether a stored value equals a filter's text: numbers as numbers (`27.390` matches 27.39,
/// `5.0` matches 5), booleans as `true`/`false`/`1`/`0`, text exactly.
fn property_matches(value: &Value, want: &str) -> bool {
    match value {
        Value::Null => false,
        Value::Int(i) => want.trim().parse::<f64>().is_ok_and(|w| w == *i as f64),
        Value::Real(r) => want
            .trim()
            .parse::<f64>()
            .is_ok_and(|w| (w - r).abs() <= 1e-9 * r.abs().max(1.0)),
        Value::Bool(b) => match want.trim() {
            "true" | "1" => *b,
            "false" | "0" => !*b,
            _ => false,
        },
        Value::Text(t) => t == want,
    }
}

pub(crate) fn layer<'a>(snap: &'a super::Snapshot, id: &str) -> Result<&'a ServedLayer, ApiError> {
    id.parse::<LayerKind>()
        .ok()
        .filter(|k| k.name() == id)
        .and_then(|k| snap.layers.get(&k))
        .ok_or_else(|| {
            let ids: Vec<&str> = snap.layers.keys().map(|k| k.name()).collect();
            ApiError::not_found(format!(
                "no collection '{id}'; collections: {}",
                ids.join(", ")
            ))
        })
}

/// `GET /`: the OGC landing page; a browser asking for HTML (and not `f=json`) is sent to the
/// web map instead.
#[utoipa::path(
    get,
    path = "/",
    tag = "features",
    summary = "OGC API 着陆页 / landing page",
    params(
        ("f" = Option<String>, Query, description = "json: always JSON (a browser asking for HTML is sent to the web map)"),
    ),
    responses(
        (status = 200, description = "OK", body = crate::api::schemas::Landing, content_type = "application/json"),
        (status = 303, description = "浏览器 → /map/ (Accept: text/html)", headers(("Location" = String, description = "/map/"))),
        crate::api::schemas::Problems,
    ),
    security((), ("bearer" = [])),
)]
pub async fn landing(
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let base = base_url(&headers);
    let wants_json = query
        .as_deref()
        .is_some_and(|q| q.split('&').any(|kv| kv == "f=json"));
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| {
            a.split(',')
                .next()
                .is_some_and(|first| first.trim().starts_with("text/html"))
        });
    if wants_html && !wants_json {
        return (
            axum::http::StatusCode::SEE_OTHER,
            [(header::LOCATION, "/map/")],
        )
            .into_response();
    }
    json_response(
        "application/json",
        json!({
            "title": state.title,
            "description": "联村片区规划数据服务 liancun: village, parcel, greenhouse and facility layers of the workspace",
            "links": [
                {"href": format!("{base}/"), "rel": "self", "type": "application/json", "title": "this document"},
                {"href": format!("{base}/api"), "rel": "service-desc", "type": super::openapi::MEDIA_TYPE, "title": "OpenAPI 3.1 definition"},
                {"href": format!("{base}/conformance"), "rel": "conformance", "type": "application/json", "title": "conformance classes"},
                {"href": format!("{base}/collections"), "rel": "data", "type": "application/json", "title": "collections"},
                {"href": format!("{base}/map/"), "rel": "alternate", "type": "text/html", "title": "村庄地图 web map"},
            ]
        }),
    )
}

/// `GET /conformance`: the OGC API – Features conformance classes (Core, GeoJSON, CRS).
#[utoipa::path(
    get,
    path = "/conformance",
    tag = "features",
    summary = "符合的标准 / conformance classes",
    responses(
        (status = 200, description = "OK", body = crate::api::schemas::Conformance, content_type = "application/json"),
        crate::api::schemas::Problems,
    ),
    security((), ("bearer" = [])),
)]
pub async fn conformance() -> Response {
    json_response(
        "application/json",
        json!({"conformsTo": [
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
            "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
        ]}),
    )
}

fn collection_json(base: &str, layer: &ServedLayer) -> Json {
    let id = layer.info.kind.name();
    json!({
        "id": id,
        "title": layer.info.kind.label_zh(),
        "description": format!("{} ({} features)", layer.info.kind.label_zh(), layer.info.feature_count),
        "itemType": "feature",
        "crs": ApiCrs::offered(),
        "storageCrs": ApiCrs::Epsg(EPSG_CGCS2000).uri(),
        "extent": layer.extent(),
        "links": [
            {"href": format!("{base}/collections/{id}"), "rel": "self", "type": "application/json"},
            {"href": format!("{base}/collections/{id}/items"), "rel": "items", "type": GEOJSON},
            {"href": format!("{base}/tiles/{id}"), "rel": "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector", "type": "application/json", "title": "TileJSON of the vector tiles"},
            {"href": format!("{base}/map/?layer={id}"), "rel": "alternate", "type": "text/html", "title": "web map"},
        ]
    })
}

/// `GET /collections`: every layer of the workspace and every plan's zones (`plan-{id}`) as
/// collections.
#[utoipa::path(
    get,
    path = "/collections",
    tag = "features",
    summary = "数据集（图层与方案片区）/ the collections",
    responses(
        (status = 200, description = "OK", body = crate::api::schemas::Collections, content_type = "application/json"),
        crate::api::schemas::Problems,
    ),
    security((), ("bearer" = [])),
)]
pub async fn collections(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let base = base_url(&headers);
    let mut list: Vec<Json> = state
        .snapshot()
        .layers
        .values()
        .map(|l| collection_json(&base, l))
        .collect();
    // Each plan's zones are a collection too.
    let (plans_state, plans_base) = (state.clone(), base.clone());
    list.extend(
        super::extract::blocking(move || {
            super::plan_layers::collections(&plans_state, &plans_base)
        })
        .await?,
    );
    Ok(json_response(
        "application/json",
        json!({
            "links": [{"href": format!("{base}/collections"), "rel": "self", "type": "application/json"}],
            "collections": list,
        }),
    ))
}

/// `GET /collections/{id}`: one layer or plan collection, with its extent, CRSs and links.
#[utoipa::path(
    get,
    path = "/collections/{id}",
    tag = "features",
    summary = "一个数据集 / one collection",
    params(
        ("id" = String, Path, description = "layer name (villages, parcels, greenhouses, facilities, …) or plan-{id}"),
    ),
    responses(
        (status = 200, description = "OK", body = crate::api::schemas::Collection, content_type = "application/json"),
        crate::api::schemas::Problems,
    ),
    security((), ("bearer" = [])),
)]
pub async fn collection(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    if let Some(plan) = super::plan_layers::plan_id(&id) {
        return super::plan_layers::collection(state, plan, base_url(&headers)).await;
    }
    let snap = state.snapshot();
    let layer = layer(&snap, &id)?;
    Ok(json_response(
        "application/json",
        collection_json(&base_url(&headers), layer),
    ))
}

/// `GET /collections/{id}/items`: a page of features, filtered by `bbox` and attributes, in the
/// requested CRS, with a `next` link.
#[utoipa::path(
    get,
    path = "/collections/{id}/items",
    tag = "features",
    summary = "要素（分页）/ a page of features",
    params(
        ("id" = String, Path, description = "layer name or plan-{id}"),
        ("bbox" = Option<String>, Query, description = "minLon,minLat,maxLon,maxLat (in the order of bbox-crs)"),
        ("bbox-crs" = Option<String>, Query, description = "CRS URI of bbox (default CRS84)"),
        ("crs" = Option<String>, Query, description = "CRS URI of the answer (default CRS84; authority axis order)"),
        ("limit" = Option<u32>, Query, description = "features per page (default 100; above 10000 is lowered to it)", minimum = 1, maximum = 10000),
        ("cursor" = Option<i64>, Query, description = "id of the last feature of the previous page (from the next link)"),
        ("f" = Option<crate::api::schemas::FeatureFormat>, Query, description = "format"),
    ),
    responses(
        (status = 200, description = "OK", body = crate::api::schemas::FeatureCollection, content_type = "application/geo+json", headers(("Content-Crs" = String, description = "the CRS of the geometries"))),
        crate::api::schemas::Problems,
    ),
    security((), ("bearer" = [])),
)]
pub async fn items(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    if let Some(plan) = super::plan_layers::plan_id(&id) {
        return super::plan_layers::items(state, plan, base_url(&headers), raw).await;
    }
    let snap = state.snapshot();
    let query = parse_items_query(raw.as_deref(), &layer(&snap, &id)?.info)?;
    let crs = query.crs;
    let base = base_url(&headers);
    let body = tokio::task::spawn_blocking(move || {
        let layer = layer(&snap, &id)?;
        let (page, matched, next) = layer.select(&query);
        let reprojector = query.crs.reprojector()?;
        let features: Vec<Json> =
            page.iter().map(|&s| layer.feature_json(s, query.crs, reprojector.as_ref())).collect::<Result<_, _>>()?;
        let self_href = format!("{base}/collections/{id}/items{}", raw.as_deref().map(|r| format!("?{r}")).unwrap_or_default());
        let mut links = vec![
            json!({"href": self_href, "rel": "self", "type": GEOJSON}),
            json!({"href": format!("{base}/map/?layer={id}"), "rel": "alternate", "type": "text/html", "title": "web map"}),
        ];
        if let Some(cursor) = next {
            let mut pairs: Vec<(String, String)> =
                serde_urlencoded::from_str(raw.as_deref().unwrap_or("")).unwrap_or_default();
            pairs.retain(|(k, _)| k != "cursor");
            pairs.push(("cursor".into(), cursor.to_string()));
            let qs = serde_urlencoded::to_string(&pairs).map_err(ApiError::internal)?;
            links.push(json!({"href": format!("{base}/collections/{id}/items?{qs}"), "rel": "next", "type": GEOJSON}));
        }
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Ok::<Json, ApiError>(json!({
            "type": "FeatureCollection",
            "numberMatched": matched,
            "numberReturned": features.len(),
            "timeStamp": rfc3339(timestamp),
            "links": links,
            "features": features,
        }))
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(with_content_crs(json_response(GEOJSON, body), crs))
}

/// `GET /collections/{id}/items/{fid}`: one feature by its id, in the requested CRS.
#[utoipa::path(
    get,
    path = "/collections/{id}/items/{fid}",
    tag = "features",
    summary = "一个要素 / one feature",
    params(
        ("id" = String, Path, description = "layer name or plan-{id}"),
        ("fid" = String, Path, description = "feature id"),
        ("crs" = Option<String>, Query, description = "CRS URI of the answer (default CRS84)"),
        ("f" = Option<crate::api::schemas::FeatureFormat>, Query, description = "format"),
    ),
    responses(
        (status = 200, description = "OK", body = crate::api::schemas::Feature, content_type = "application/geo+json", headers(("Content-Crs" = String, description = "the CRS of the geometry"))),
        crate::api::schemas::Problems,
    ),
    security((), ("bearer" = [])),
)]
pub async fn item(
    State(state): State<Arc<AppState>>,
    ApiPath((id, fid)): ApiPath<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    if let Some(plan) = super::plan_layers::plan_id(&id) {
        return super::plan_layers::item(state, plan, fid).await;
    }
    let snap = state.snapshot();
    let layer = layer(&snap, &id)?;
    let mut crs = ApiCrs::Crs84;
    let pairs = query_pairs(raw.as_deref())?;
    for (key, value) in pairs {
        match key.as_str() {
            "crs" => crs = ApiCrs::from_param("crs", &value)?,
            "f" if value == "json" || value == "geojson" => {}
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown parameter '{other}': a feature takes crs and f"
                )));
            }
        }
    }
    let slot = fid
        .parse::<i64>()
        .ok()
        .and_then(|f| layer.slot_of_fid.get(&f).copied())
        .ok_or_else(|| ApiError::not_found(format!("collection '{id}' has no feature '{fid}'")))?;
    let feature = layer.feature_json(slot, crs, crs.reprojector()?.as_ref())?;
    Ok(with_content_crs(json_response(GEOJSON, feature), crs))
}

/// Adds the `Content-Crs` header of Part 2.
fn with_content_crs(mut response: Response, crs: ApiCrs) -> Response {
    if let Ok(v) = axum::http::HeaderValue::from_str(&format!("<{}>", crs.uri())) {
        response.headers_mut().insert("content-crs", v);
    }
    response
}

/// Seconds since the epoch as an RFC 3339 UTC timestamp.
fn rfc3339(secs: u64) -> String {
    let (y, m, d, hh, mm, ss) = crate::report::utc_civil(secs);
    format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z")
}

#[cfg(test)]
mod tests {
    use super::rfc3339;

    #[test]
    fn timestamps_are_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_795_000_000), "2026-11-18T11:06:40Z");
    }
}
