//! Vector tiles and TileJSON.
//!
//! `/tiles/{layer}` answers TileJSON 3.0; `/tiles/{layer}/{z}/{x}/{y}.mvt` a Mapbox Vector Tile
//! (one layer named like the collection, extent 4096, 64-unit buffer), gzip-compressed when the
//! client accepts it. Villages are simplified per zoom with shared borders kept coincident
//! ([`crate::engine::simplify`]); the other layers are only quantised, and shown from the zoom
//! where they are legible (parcels from z12). A tile below a layer's minimum zoom, or with
//! nothing in it, is `204 No Content`. The `ETag` is derived from the layer's data version and
//! import time and the server version, so a re-import changes it; `If-None-Match` gets `304`.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use geo::{Geometry, MapCoords};
use serde_json::{Value as Json, json};

use super::AppState;
use super::error::{ApiError, ApiPath, no_query};
use super::extract::json_response;
use super::features::{ServedLayer, base_url, layer};
use crate::domain::{FieldType, LayerKind};
use crate::engine::geometry::to_multipolygon;
use crate::engine::simplify::SharedBorderSimplifier;
use crate::engine::tiles::{
    BUFFER, CoordSpace, EXTENT, MAX_ZOOM, TileEncoder, TileError, TileId, mercator_unit,
};

const MVT: &str = "application/vnd.mapbox-vector-tile";
/// Simplification tolerance in tile units (4096 per tile): a quarter of a pixel on a 512-pixel
/// tile, below what the eye sees and enough to thin village borders at county zooms.
const TOLERANCE_UNITS: f64 = 4.0;
/// Above this zoom the tolerance is below a centimetre on the ground: geometries are served as
/// they are.
const LAST_SIMPLIFIED_ZOOM: u8 = 14;

/// The zoom range at which a layer is drawn (and served with content).
pub fn zoom_range(kind: LayerKind) -> (u8, u8) {
    match kind {
        LayerKind::Villages => (5, 16),
        // A 三调 parcel is 20–200 m across: from z12 (≈ 30 m per pixel) it is a visible shape.
        LayerKind::Parcels => (12, 16),
        LayerKind::Greenhouses => (13, 16),
        LayerKind::Roads => (8, 16),
        LayerKind::Facilities | LayerKind::Members => (10, 16),
    }
}

/// What a layer needs for tiling besides its features: per-zoom simplified geometries
/// (villages) and the cache validator seed.
pub struct TileLayer {
    /// The lowest zoom at which the layer's tiles have content.
    pub minzoom: u8,
    /// The highest zoom at which the layer's tiles have content.
    pub maxzoom: u8,
    /// (zoom, geometries in Web Mercator world units, by slot), ascending by zoom.
    simplified: Vec<(u8, Vec<Geometry<f64>>)>,
    etag_seed: u64,
}

impl TileLayer {
    /// Prepares one served layer for tiling: for villages, their shared-border-simplified polygons
    /// in Web Mercator per zoom up to z14; the ETag seed for every layer.
    pub fn build(layer: &ServedLayer) -> TileLayer {
        let (minzoom, maxzoom) = zoom_range(layer.info.kind);
        let simplified = if layer.info.kind == LayerKind::Villages {
            let polygons: Vec<geo::MultiPolygon<f64>> = layer
                .geometries()
                .iter()
                .map(|g| {
                    to_multipolygon(g.clone())
                        .unwrap_or_else(|| geo::MultiPolygon(vec![]))
                        .map_coords(mercator_unit)
                })
                .collect();
            let simplifier = SharedBorderSimplifier::new(&polygons);
            (minzoom..=LAST_SIMPLIFIED_ZOOM)
                .map(|z| {
                    let tolerance = TOLERANCE_UNITS / ((1u64 << z) as f64 * EXTENT as f64);
                    let geoms = simplifier
                        .simplify(tolerance)
                        .into_iter()
                        .map(Geometry::MultiPolygon)
                        .collect();
                    (z, geoms)
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (
            layer.info.kind.name(),
            layer.info.data_version,
            &layer.info.imported_at,
            env!("CARGO_PKG_VERSION"),
        )
            .hash(&mut h);
        TileLayer {
            minzoom,
            maxzoom,
            simplified,
            etag_seed: h.finish(),
        }
    }

    fn etag(&self, tile: TileId) -> String {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (self.etag_seed, tile.z, tile.x, tile.y).hash(&mut h);
        format!("\"{:016x}\"", h.finish())
    }

    /// Encodes one tile; `None` when nothing lies in it.
    pub fn encode(&self, layer: &ServedLayer, tile: TileId) -> Result<Option<Vec<u8>>, TileError> {
        let mut encoder = TileEncoder::new(tile, layer.info.kind.name());
        if tile.z < self.minzoom {
            return encoder.finish();
        }
        let simplified = self
            .simplified
            .iter()
            .find(|(z, _)| *z == tile.z)
            .map(|(_, g)| g);
        let [w, s, e, n] = tile.lonlat_bounds(BUFFER);
        let names: Vec<&str> = layer.info.columns.iter().map(|c| c.name.as_str()).collect();
        for slot in layer.slots_in_envelope(w, s, e, n) {
            let (geometry, space) = match simplified {
                Some(g) => (&g[slot], CoordSpace::MercatorUnit),
                None => (layer.geometry(slot), CoordSpace::LonLat),
            };
            let mut tags = names.iter().copied().zip(layer.values(slot));
            encoder.add(layer.fid(slot) as u64, geometry, space, &mut tags)?;
        }
        encoder.finish()
    }
}

/// Builds the tiling state of every served layer.
pub fn build_tile_layers(
    layers: &BTreeMap<LayerKind, ServedLayer>,
) -> BTreeMap<LayerKind, TileLayer> {
    layers
        .iter()
        .map(|(k, l)| (*k, TileLayer::build(l)))
        .collect()
}

fn field_type_name(t: FieldType) -> &'static str {
    match t {
        FieldType::Text => "String",
        FieldType::Integer | FieldType::Real => "Number",
        FieldType::Boolean => "Boolean",
    }
}

/// `GET /tiles/{layer}`: TileJSON 3.0.0.
#[utoipa::path(
    get,
    path = "/tiles/{id}",
    tag = "tiles",
    summary = "矢量瓦片 TileJSON / TileJSON 3.0 of a layer",
    params(
        ("id" = String, Path, description = "layer name or plan-{id}"),
    ),
    responses(
        (status = 200, description = "OK", body = crate::api::schemas::TileJson, content_type = "application/json"),
        crate::api::schemas::Problems,
    ),
    security((), ("bearer" = [])),
)]
pub async fn tilejson(
    State(state): State<Arc<AppState>>,
    ApiPath(id): ApiPath<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    no_query(&query)?;
    if let Some(plan) = super::plan_layers::plan_id(&id) {
        return super::plan_layers::tilejson(state, plan, base_url(&headers)).await;
    }
    let snap = state.snapshot();
    let served = layer(&snap, &id)?;
    let tiling = &snap.tiles[&served.info.kind];
    let base = base_url(&headers);
    let fields: serde_json::Map<String, Json> = served
        .info
        .columns
        .iter()
        .map(|c| (c.name.clone(), json!(field_type_name(c.ty))))
        .collect();
    let bounds = served.info.bbox.unwrap_or([-180.0, -85.0, 180.0, 85.0]);
    let centre_zoom = tiling.minzoom.max(9);
    Ok(json_response(
        "application/json",
        json!({
            "tilejson": "3.0.0",
            "name": id,
            "description": served.info.kind.label_zh(),
            "version": "1.0.0",
            "scheme": "xyz",
            "tiles": [format!("{base}/tiles/{id}/{{z}}/{{x}}/{{y}}.mvt")],
            "minzoom": tiling.minzoom,
            "maxzoom": tiling.maxzoom,
            "bounds": bounds,
            "center": [(bounds[0] + bounds[2]) / 2.0, (bounds[1] + bounds[3]) / 2.0, centre_zoom],
            "vector_layers": [{
                "id": id,
                "description": served.info.kind.label_zh(),
                "minzoom": tiling.minzoom,
                "maxzoom": tiling.maxzoom,
                "fields": fields,
            }],
        }),
    ))
}

/// `GET /tiles/{layer}/{z}/{x}/{y}.mvt`.
#[utoipa::path(
    get,
    path = "/tiles/{id}/{z}/{x}/{y}.mvt",
    tag = "tiles",
    summary = "矢量瓦片 / a Mapbox Vector Tile",
    params(
        ("id" = String, Path, description = "layer name or plan-{id}"),
        ("z" = u8, Path, description = "zoom (0–22)", minimum = 0, maximum = 22),
        ("x" = u32, Path, description = "column"),
        ("y" = u32, Path, description = "row"),
        ("If-None-Match" = Option<String>, Header, description = "an ETag of this tile: 304 when unchanged"),
    ),
    responses(
        (status = 200, description = "OK", body = Vec<u8>, content_type = "application/vnd.mapbox-vector-tile", headers(("ETag" = String, description = "changes with the data"), ("Cache-Control" = String, description = "max-age=60"))),
        (status = 204, description = "瓦片为空或低于最小级别 / nothing in this tile, or below the layer's minimum zoom"),
        (status = 304, description = "未变化 / unchanged since the ETag given"),
        crate::api::schemas::Problems,
    ),
    security((), ("bearer" = [])),
)]
pub async fn tile(
    State(state): State<Arc<AppState>>,
    ApiPath((id, z, x, y)): ApiPath<(String, String, String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    no_query(&query)?;
    let y = y
        .strip_suffix(".mvt")
        .or_else(|| y.strip_suffix(".pbf"))
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "tiles are at /tiles/{id}/{{z}}/{{x}}/{{y}}.mvt, not '{}'",
                y.chars().take(40).collect::<String>()
            ))
        })?;
    let number = |name: &str, v: &str| -> Result<i64, ApiError> {
        v.parse::<i64>().map_err(|_| {
            ApiError::bad_request(format!(
                "{name}='{}' is not an integer",
                v.chars().take(40).collect::<String>()
            ))
        })
    };
    let tile = TileId::new(number("z", &z)?, number("x", &x)?, number("y", y)?)
        .map_err(|e| ApiError::bad_request(format!("tile {z}/{x}/{y}: {e}")))?;
    if let Some(plan) = super::plan_layers::plan_id(&id) {
        return super::plan_layers::tile(state, plan, tile, headers).await;
    }
    let snap = state.snapshot();
    let served = layer(&snap, &id)?;
    let kind = served.info.kind;
    let tiling = &snap.tiles[&kind];
    let etag = tiling.etag(tile);
    let cache_headers = [
        (header::ETAG, etag.clone()),
        // Tiles change only when the workspace does: a minute of caching, then revalidation
        // (a cheap 304) so that a re-import shows up.
        (header::CACHE_CONTROL, "public, max-age=60".to_string()),
    ];
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
    {
        return Ok((StatusCode::NOT_MODIFIED, cache_headers).into_response());
    }
    if tile.z < tiling.minzoom {
        return Ok((StatusCode::NO_CONTENT, cache_headers).into_response());
    }
    let gzip = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|e| e.trim().split(';').next() == Some("gzip"))
        });
    let snap2 = snap.clone();
    let encoded = tokio::task::spawn_blocking(move || {
        let served = &snap2.layers[&kind];
        let bytes = snap2.tiles[&kind].encode(served, tile)?;
        Ok::<_, TileError>(match bytes {
            Some(b) if gzip => {
                let mut enc =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                enc.write_all(&b)
                    .and_then(|_| enc.finish())
                    .map(|g| Some((g, true)))
                    .map_err(|e| TileError::Encode(e.to_string()))?
            }
            Some(b) => Some((b, false)),
            None => None,
        })
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)?;
    let Some((body, gzipped)) = encoded else {
        return Ok((StatusCode::NO_CONTENT, cache_headers).into_response());
    };
    let mut response = (
        cache_headers,
        [
            (header::CONTENT_TYPE, MVT.to_string()),
            (header::VARY, "Accept-Encoding".to_string()),
        ],
        body,
    )
        .into_response();
    if gzipped {
        response
            .headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    Ok(response)
}

/// The deepest zoom a client may ask for (for the OpenAPI document).
pub const fn max_zoom() -> u8 {
    MAX_ZOOM
}
