//! Vector tiles and TileJSON on the demo county, decoded with an independent MVT reader (prost
//! messages written from the vector-tile 2.1 specification), and the village lookups.

mod common;

use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use common::*;
use geo::{Contains, Coord, LineString, MultiPolygon, Polygon, coord};
use http_body_util::BodyExt;
use liancun::api::{AppState, router};
use liancun::domain::LayerKind;
use liancun::engine::tiles::{EXTENT, TileId, mercator_unit};
use liancun::workspace::Workspace;
use prost::Message;
use serde_json::Value as Json;
use tower::ServiceExt;

/// The vector tile 2.1 schema (github.com/mapbox/vector-tile-spec, vector_tile.proto).
mod pb {
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Tile {
        #[prost(message, repeated, tag = "3")]
        pub layers: Vec<Layer>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Value {
        #[prost(string, optional, tag = "1")]
        pub string_value: Option<String>,
        #[prost(float, optional, tag = "2")]
        pub float_value: Option<f32>,
        #[prost(double, optional, tag = "3")]
        pub double_value: Option<f64>,
        #[prost(int64, optional, tag = "4")]
        pub int_value: Option<i64>,
        #[prost(uint64, optional, tag = "5")]
        pub uint_value: Option<u64>,
        #[prost(sint64, optional, tag = "6")]
        pub sint_value: Option<i64>,
        #[prost(bool, optional, tag = "7")]
        pub bool_value: Option<bool>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Feature {
        #[prost(uint64, optional, tag = "1")]
        pub id: Option<u64>,
        #[prost(uint32, repeated, packed = "true", tag = "2")]
        pub tags: Vec<u32>,
        #[prost(int32, optional, tag = "3")]
        pub r#type: Option<i32>,
        #[prost(uint32, repeated, packed = "true", tag = "4")]
        pub geometry: Vec<u32>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Layer {
        #[prost(uint32, required, tag = "15")]
        pub version: u32,
        #[prost(string, required, tag = "1")]
        pub name: String,
        #[prost(message, repeated, tag = "2")]
        pub features: Vec<Feature>,
        #[prost(string, repeated, tag = "3")]
        pub keys: Vec<String>,
        #[prost(message, repeated, tag = "4")]
        pub values: Vec<Value>,
        #[prost(uint32, optional, tag = "5")]
        pub extent: Option<u32>,
    }
}

/// A source vertex by its exact bits.
type VertexKey = (u64, u64);

/// A decoded feature: its tags and its geometry as parts (rings or lines or points).
struct Decoded {
    id: u64,
    kind: i32,
    tags: HashMap<String, String>,
    parts: Vec<Vec<(i64, i64)>>,
}

fn decode(bytes: &[u8]) -> (String, u32, Vec<Decoded>) {
    let tile = pb::Tile::decode(bytes).expect("a valid protobuf tile");
    assert_eq!(tile.layers.len(), 1);
    let layer = &tile.layers[0];
    assert_eq!(layer.version, 2);
    let features = layer
        .features
        .iter()
        .map(|f| {
            let mut tags = HashMap::new();
            for kv in f.tags.chunks(2) {
                let v = &layer.values[kv[1] as usize];
                let text = v
                    .string_value
                    .clone()
                    .or(v.sint_value.map(|i| i.to_string()))
                    .or(v.int_value.map(|i| i.to_string()))
                    .or(v.double_value.map(|d| d.to_string()))
                    .or(v.bool_value.map(|b| b.to_string()))
                    .unwrap_or_default();
                tags.insert(layer.keys[kv[0] as usize].clone(), text);
            }
            // Commands: MoveTo 1, LineTo 2, ClosePath 7; parameters zig-zag deltas.
            let (mut parts, mut current, mut cursor) = (Vec::new(), Vec::new(), (0i64, 0i64));
            let mut i = 0;
            while i < f.geometry.len() {
                let (cmd, count) = (f.geometry[i] & 7, f.geometry[i] >> 3);
                i += 1;
                match cmd {
                    1 | 2 => {
                        if cmd == 1 && !current.is_empty() {
                            parts.push(std::mem::take(&mut current));
                        }
                        for _ in 0..count {
                            let zz = |v: u32| ((v >> 1) as i64) ^ -((v & 1) as i64);
                            cursor.0 += zz(f.geometry[i]);
                            cursor.1 += zz(f.geometry[i + 1]);
                            i += 2;
                            current.push(cursor);
                            if cmd == 1 && f.r#type == Some(1) {
                                parts.push(std::mem::take(&mut current));
                            }
                        }
                    }
                    7 => parts.push(std::mem::take(&mut current)),
                    other => panic!("unknown command {other}"),
                }
            }
            if !current.is_empty() {
                parts.push(current);
            }
            Decoded {
                id: f.id.expect("feature id"),
                kind: f.r#type.unwrap_or(0),
                tags,
                parts,
            }
        })
        .collect();
    (layer.name.clone(), layer.extent.unwrap_or(4096), features)
}

async fn request(
    app: &axum::Router,
    uri: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut req = Request::builder().uri(uri).header("host", "test.local");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let response = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, headers, bytes)
}

fn area2(ring: &[(i64, i64)]) -> i64 {
    let n = ring.len();
    (0..n)
        .map(|i| ring[i].0 * ring[(i + 1) % n].1 - ring[(i + 1) % n].0 * ring[i].1)
        .sum()
}

/// Rings of a decoded polygon feature grouped into polygons (exterior = positive area).
fn polygons(f: &Decoded) -> MultiPolygon<f64> {
    let mut out: Vec<Polygon<f64>> = Vec::new();
    for ring in &f.parts {
        let a = area2(ring);
        assert_ne!(a, 0, "feature {}: a ring without area", f.id);
        let mut coords: Vec<Coord<f64>> = ring
            .iter()
            .map(|&(x, y)| coord! {x: x as f64, y: y as f64})
            .collect();
        coords.push(coords[0]);
        if a > 0 {
            out.push(Polygon::new(LineString(coords), vec![]));
        } else {
            let last = out.last_mut().expect("a hole follows its exterior ring");
            last.interiors_push(LineString(coords));
        }
    }
    MultiPolygon(out)
}

#[tokio::test]
async fn vector_tiles_of_the_demo_county() {
    let ws_path = demo_workspace("tiles");
    let ws = Workspace::open(&ws_path).unwrap();
    let app = router(Arc::new(AppState::load(&ws, "test").unwrap()));

    // TileJSON 3.0.
    let (status, _, body) = request(&app, "/tiles/parcels", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let tj: Json = serde_json::from_slice(&body).unwrap();
    assert_eq!(tj["tilejson"], "3.0.0");
    assert_eq!(
        tj["tiles"][0],
        "http://test.local/tiles/parcels/{z}/{x}/{y}.mvt"
    );
    assert_eq!(tj["minzoom"], 12);
    assert_eq!(tj["vector_layers"][0]["id"], "parcels");
    assert_eq!(tj["vector_layers"][0]["fields"]["dlbm"], "String");
    assert_eq!(tj["bounds"].as_array().unwrap().len(), 4);
    assert_eq!(tj["center"].as_array().unwrap().len(), 3);

    // A parcels tile at z14 near the county centre: gzip, content type, ETag, tags, and every
    // parcel whose envelope lies inside the tile appears.
    let centre = TileId::containing(118.17, 36.18, 14);
    let uri = format!("/tiles/parcels/14/{}/{}.mvt", centre.x, centre.y);
    let (status, headers, gz) = request(&app, &uri, &[("accept-encoding", "gzip, br")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers["content-type"],
        "application/vnd.mapbox-vector-tile"
    );
    assert_eq!(headers["content-encoding"], "gzip");
    assert!(
        headers["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    let etag = headers["etag"].to_str().unwrap().to_string();
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut raw)
        .unwrap();
    let (_, plain_headers, plain) = request(&app, &uri, &[]).await;
    assert!(plain_headers.get("content-encoding").is_none());
    assert_eq!(plain, raw, "gzip and identity bodies carry the same tile");
    let (name, extent, features) = decode(&raw);
    assert_eq!((name.as_str(), extent), ("parcels", EXTENT));
    assert!(features.len() > 20, "{} parcels", features.len());
    assert!(
        features
            .iter()
            .all(|f| f.kind == 3 && f.tags.contains_key("dlbm"))
    );
    // Independent count: parcels whose lon/lat envelope lies wholly inside the unbuffered tile.
    let [w, s, e, n] = centre.lonlat_bounds(0.0);
    let mut inside = std::collections::BTreeSet::new();
    ws.store()
        .scan(LayerKind::Parcels, &mut |f| {
            use geo::BoundingRect;
            let r = f.geometry.bounding_rect().unwrap();
            if r.min().x > w && r.max().x < e && r.min().y > s && r.max().y < n {
                inside.insert(f.fid as u64);
            }
            Ok(())
        })
        .unwrap();
    let ids: std::collections::BTreeSet<u64> = features.iter().map(|f| f.id).collect();
    assert!(!inside.is_empty());
    assert!(
        inside.is_subset(&ids),
        "{} parcels inside the tile are missing",
        inside.difference(&ids).count()
    );

    // Revalidation and errors.
    let (status, _, body) = request(&app, &uri, &[("if-none-match", &etag)]).await;
    assert_eq!((status, body.len()), (StatusCode::NOT_MODIFIED, 0));
    let (status, _, body) = request(&app, "/tiles/parcels/8/212/100.mvt", &[]).await;
    assert_eq!(
        (status, body.len()),
        (StatusCode::NO_CONTENT, 0),
        "below the parcels' minzoom"
    );
    let (status, _, _) = request(&app, "/tiles/villages/14/0/0.mvt", &[]).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "an empty tile");
    for (bad, want) in [
        ("/tiles/villages/40/0/0.mvt", StatusCode::BAD_REQUEST),
        ("/tiles/villages/3/8/0.mvt", StatusCode::BAD_REQUEST),
        ("/tiles/villages/3/-1/0.mvt", StatusCode::BAD_REQUEST),
        ("/tiles/villages/3/0/x.mvt", StatusCode::BAD_REQUEST),
        (
            "/tiles/villages/3/0/99999999999999999999.mvt",
            StatusCode::BAD_REQUEST,
        ),
        ("/tiles/villages/3/0/0.mvt?foo=1", StatusCode::BAD_REQUEST),
        ("/tiles/villages/3/0/0.png", StatusCode::NOT_FOUND),
        ("/tiles/rivers/3/0/0.mvt", StatusCode::NOT_FOUND),
        ("/tiles/rivers", StatusCode::NOT_FOUND),
    ] {
        let (status, headers, body) = request(&app, bad, &[]).await;
        assert_eq!(status, want, "{bad}");
        assert_eq!(headers["content-type"], "application/problem+json", "{bad}");
        let detail: Json = serde_json::from_slice(&body).unwrap();
        assert!(!detail["detail"].as_str().unwrap().is_empty());
    }

    // Villages: every village that meets the tile is there with its tags.
    let (status, _, body) = request(&app, "/tiles/villages/9/424/200.mvt", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let (name, _, features) = decode(&body);
    assert_eq!(name, "villages");
    assert!(features.len() > 100);
    assert!(
        features
            .iter()
            .all(|f| f.tags["code"].len() == 12 && f.tags.contains_key("name"))
    );
    assert!(
        features
            .iter()
            .any(|f| f.tags.get("strong").map(String::as_str) == Some("true"))
    );
}

/// Samples a grid of points over a tile and counts the decoded village polygons covering each.
/// Inside the county, away from its outer boundary, every point must be covered exactly once:
/// 0 is a crack between neighbours, 2 an overlap.
fn coverage_faults(
    features: &[Decoded],
    inside_county: &dyn Fn(Coord<f64>) -> bool,
) -> (usize, usize, usize) {
    use geo::BoundingRect;
    let shapes: Vec<(geo::Rect<f64>, MultiPolygon<f64>)> = features
        .iter()
        .map(|f| {
            let mp = polygons(f);
            (mp.bounding_rect().unwrap(), mp)
        })
        .collect();
    let (mut checked, mut cracks, mut overlaps) = (0, 0, 0);
    let step = 8.0;
    let mut y = 0.5 * step + 0.37;
    while y < EXTENT as f64 {
        let mut x = 0.5 * step + 0.21;
        while x < EXTENT as f64 {
            let p = coord! {x: x, y: y};
            if inside_county(p) {
                checked += 1;
                let covered = shapes
                    .iter()
                    .filter(|(r, mp)| {
                        r.min().x <= x
                            && x <= r.max().x
                            && r.min().y <= y
                            && y <= r.max().y
                            && mp.contains(&p)
                    })
                    .count();
                match covered {
                    0 => cracks += 1,
                    1 => {}
                    _ => overlaps += 1,
                }
            }
            x += step;
        }
        y += step;
    }
    (checked, cracks, overlaps)
}

#[tokio::test]
async fn simplified_village_borders_stay_shared_on_decoded_tiles() {
    let ws_path = demo_workspace("tiles_borders");
    let ws = Workspace::open(&ws_path).unwrap();
    let app = router(Arc::new(AppState::load(&ws, "test").unwrap()));
    let mut sources: Vec<geo::Geometry<f64>> = Vec::new();
    ws.store()
        .scan(LayerKind::Villages, &mut |f| {
            sources.push(f.geometry);
            Ok(())
        })
        .unwrap();
    for (z, lon, lat) in [(8u8, 118.2, 36.15), (10, 118.17, 36.18), (12, 118.1, 36.1)] {
        let tile = TileId::containing(lon, lat, z);
        let to_tile = |c: Coord<f64>| {
            let u = mercator_unit(c);
            let scale = (1u64 << z) as f64 * EXTENT as f64;
            coord! {x: u.x * scale - tile.x as f64 * EXTENT as f64, y: u.y * scale - tile.y as f64 * EXTENT as f64}
        };
        // The county's outer boundary: source edges that no neighbour shares, in tile units.
        let mut edges: HashMap<(VertexKey, VertexKey), usize> = HashMap::new();
        let key = |c: Coord<f64>| (c.x.to_bits(), c.y.to_bits());
        for g in &sources {
            use geo::CoordsIter;
            if let geo::Geometry::MultiPolygon(mp) = g {
                for p in &mp.0 {
                    for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
                        for w in ring.0.windows(2) {
                            let (a, b) = (key(w[0]), key(w[1]));
                            *edges
                                .entry(if a < b { (a, b) } else { (b, a) })
                                .or_default() += 1;
                        }
                    }
                }
            }
            let _ = g.coords_count();
        }
        let outline: Vec<(Coord<f64>, Coord<f64>)> = edges
            .iter()
            .filter(|(_, n)| **n == 1)
            .map(|((a, b), _)| {
                let c = |k: (u64, u64)| coord! {x: f64::from_bits(k.0), y: f64::from_bits(k.1)};
                (to_tile(c(*a)), to_tile(c(*b)))
            })
            .collect();
        let margin = 12.0;
        let outline: Vec<geo::Line<f64>> = outline
            .into_iter()
            .filter(|(a, b)| {
                a.x.min(b.x) < EXTENT as f64 + margin
                    && a.x.max(b.x) > -margin
                    && a.y.min(b.y) < EXTENT as f64 + margin
                    && a.y.max(b.y) > -margin
            })
            .map(|(a, b)| geo::Line::new(a, b))
            .collect();
        let covered_by_source: Vec<(geo::Rect<f64>, MultiPolygon<f64>)> = sources
            .iter()
            .filter_map(|g| match g {
                geo::Geometry::MultiPolygon(mp) => {
                    use geo::BoundingRect;
                    let t = geo::MapCoords::map_coords(mp, to_tile);
                    Some((t.bounding_rect().unwrap(), t))
                }
                _ => None,
            })
            .collect();
        let inside_county = |p: Coord<f64>| {
            use geo::Distance;
            covered_by_source.iter().any(|(r, mp)| {
                r.min().x <= p.x
                    && p.x <= r.max().x
                    && r.min().y <= p.y
                    && p.y <= r.max().y
                    && mp.contains(&p)
            }) && outline
                .iter()
                .all(|l| geo::Euclidean.distance(&geo::Point(p), l) > margin)
        };
        let uri = format!("/tiles/villages/{z}/{}/{}.mvt", tile.x, tile.y);
        let (status, _, body) = request(&app, &uri, &[]).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        let (_, _, features) = decode(&body);
        let (checked, cracks, overlaps) = coverage_faults(&features, &inside_county);
        assert!(
            checked > 10_000,
            "z{z}: only {checked} sample points inside the county"
        );
        assert_eq!((cracks, overlaps), (0, 0), "z{z}: {checked} points checked");
        // The simplification did something at county zooms.
        if z == 8 {
            let vertices: usize = features
                .iter()
                .map(|f| f.parts.iter().map(Vec::len).sum::<usize>())
                .sum();
            let source_vertices: usize = sources.iter().map(geo::CoordsIter::coords_count).sum();
            assert!(
                vertices < source_vertices / 2,
                "{vertices} of {source_vertices} vertices kept at z8"
            );
        }
    }
}

#[tokio::test]
async fn village_list_and_profile() {
    let ws_path = demo_workspace("villages_api");
    let ws = Workspace::open(&ws_path).unwrap();
    let app = router(Arc::new(AppState::load(&ws, "test").unwrap()));
    let (status, _, body) = request(&app, "/villages", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let list: Json = serde_json::from_slice(&body).unwrap();
    let villages = list["villages"].as_array().unwrap();
    assert_eq!(villages.len(), 468);
    let v = &villages[10];
    let code = v["code"].as_str().unwrap();
    let centroid = v["centroid"].as_array().unwrap();
    let b = v["bbox"].as_array().unwrap();
    let (lon, lat) = (centroid[0].as_f64().unwrap(), centroid[1].as_f64().unwrap());
    assert!(b[0].as_f64().unwrap() <= lon && lon <= b[2].as_f64().unwrap());
    assert!(b[1].as_f64().unwrap() <= lat && lat <= b[3].as_f64().unwrap());

    let (status, _, body) = request(&app, &format!("/villages/{code}"), &[]).await;
    assert_eq!(status, StatusCode::OK);
    let p: Json = serde_json::from_slice(&body).unwrap();
    assert_eq!(p["name"], v["name"]);
    assert_eq!(p["population"], v["population"]);
    // Land-use classes add up to the per-code areas and to the parcel area.
    let by_code: f64 = p["land_use_m2"]
        .as_object()
        .unwrap()
        .values()
        .map(|a| a.as_f64().unwrap())
        .sum();
    let by_class: f64 = p["land_use_classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["area_m2"].as_f64().unwrap())
        .sum();
    assert!((by_code - by_class).abs() < 1e-6 * by_code.max(1.0));
    assert!((by_code - p["parcel_area_m2"].as_f64().unwrap()).abs() < 1.0);
    assert!(p["area_m2"].as_f64().unwrap() > 10_000.0);
    // The same numbers as `liancun stats`.
    let o = liancun(&[
        "stats",
        "-w",
        ws_path.to_str().unwrap(),
        "--format",
        "json",
        "--village",
        code,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let cli: Json = serde_json::from_str(&stdout(&o)).unwrap();
    let row = &cli["villages"][0];
    assert_eq!(row["greenhouse_count"], p["greenhouse_count"]);
    assert!(
        (row["parcel_area_m2"].as_f64().unwrap() - p["parcel_area_m2"].as_f64().unwrap()).abs()
            < 1e-6
    );

    for (bad, want) in [
        ("/villages/000000000000", StatusCode::NOT_FOUND),
        ("/villages?x=1", StatusCode::BAD_REQUEST),
        ("/villages/%FF%FE", StatusCode::BAD_REQUEST),
        ("/tiles/%FF/1/0/0.mvt", StatusCode::BAD_REQUEST),
    ] {
        let (status, headers, _) = request(&app, bad, &[]).await;
        assert_eq!(status, want, "{bad}");
        assert_eq!(headers["content-type"], "application/problem+json", "{bad}");
    }
    let (status, _, body) = request(&app, "/map/config.json", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let cfg: Json = serde_json::from_slice(&body).unwrap();
    assert_eq!(cfg["basemap"], Json::Null);
}
