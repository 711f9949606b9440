//! The HTTP API in-process (router + oneshot, no socket) on the demo workspace, and a real
//! client: GDAL's OGC API – Features driver against the running server.

mod common;

use std::process::Command;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use http_body_util::BodyExt;
use liancun::api::{AppState, router};
use liancun::workspace::Workspace;
use serde_json::Value as Json;
use tower::ServiceExt;

async fn get(app: &axum::Router, uri: &str) -> (StatusCode, String, Json) {
    let response = app
        .clone()
        .oneshot(
            Request::builder()
                .uri(uri)
                .header("host", "test.local")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let json = serde_json::from_slice(&bytes).unwrap_or(Json::Null);
    (status, content_type, json)
}

/// The demo workspace the Features tests read (none of them writes).
fn shared_demo() -> std::path::PathBuf {
    static WS: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    WS.get_or_init(|| demo_workspace("api_core")).clone()
}

/// The workspace and a router over it.
fn app() -> (Workspace, axum::Router) {
    let ws = Workspace::open(&shared_demo()).unwrap();
    let app = router(Arc::new(AppState::load(&ws, "test").unwrap()));
    (ws, app)
}

#[tokio::test]
async fn the_landing_page_conformance_and_openapi_describe_the_service() {
    let (_ws, app) = app();
    let (status, _, landing) = get(&app, "/").await;
    assert_eq!(status, StatusCode::OK);
    let rels: Vec<&str> = landing["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["rel"].as_str().unwrap())
        .collect();
    assert!(rels.contains(&"conformance") && rels.contains(&"data"));
    // The OpenAPI 3.1 document describes every route, the bearer scheme, each collection's own
    // filters and the declared limit.
    let (status, content_type, api) = get(&app, "/api").await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("application/vnd.oai.openapi+json"));
    assert_eq!(api["openapi"], "3.1.0");
    assert_eq!(
        api["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    for (path, method) in [
        ("/tiles/{id}/{z}/{x}/{y}.mvt", "get"),
        ("/analysis/zones/propose", "post"),
        ("/plans/{id}", "patch"),
        ("/audit", "get"),
        ("/auth/whoami", "get"),
    ] {
        assert!(api["paths"][path][method].is_object(), "{path} {method}");
    }
    // Writes need a token; reads may (under --read viewer) or may not.
    assert_eq!(
        api["paths"]["/plans"]["post"]["security"],
        serde_json::json!([{"bearer": []}])
    );
    let propose = &api["paths"]["/analysis/zones/propose"]["post"];
    let body_ref = propose["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        .as_str()
        .unwrap_or_default();
    assert!(body_ref.ends_with("/ZoneRequest"), "{propose}");
    let items = &api["paths"]["/collections/villages/items"]["get"]["parameters"];
    let names: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"code") && names.contains(&"population") && names.contains(&"bbox"),
        "{names:?}"
    );
    let limit = items
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "limit")
        .unwrap();
    assert_eq!(
        (
            limit["schema"]["default"].as_u64(),
            limit["schema"]["maximum"].as_u64()
        ),
        (Some(100), Some(10_000))
    );
    assert!(
        api["paths"]["/collections/parcels/items"]["get"]["parameters"]
            .to_string()
            .contains("dlbm")
    );
    let (_, _, conformance) = get(&app, "/conformance").await;
    assert!(
        conformance["conformsTo"]
            .to_string()
            .contains("ogcapi-features-1/1.0/conf/core")
    );
}

#[tokio::test]
async fn collections_list_every_layer_with_its_extent() {
    let (_ws, app) = app();

    let (_, _, collections) = get(&app, "/collections").await;
    let ids: Vec<&str> = collections["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "villages",
            "parcels",
            "greenhouses",
            "facilities",
            "roads",
            "members"
        ]
    );
    let (_, _, villages) = get(&app, "/collections/villages").await;
    let bbox = villages["extent"]["spatial"]["bbox"][0].as_array().unwrap();
    assert!(bbox[0].as_f64().unwrap() > 117.8 && bbox[2].as_f64().unwrap() < 118.6);
}

#[tokio::test]
async fn paging_through_next_links_returns_each_feature_once() {
    let (_ws, app) = app();
    // Default page, then every page through the next links: each feature exactly once.
    let (status, content_type, first) = get(&app, "/collections/villages/items").await;
    assert_eq!(
        (status, content_type.as_str()),
        (StatusCode::OK, "application/geo+json")
    );
    assert_eq!(
        (
            first["numberMatched"].as_u64(),
            first["numberReturned"].as_u64()
        ),
        (Some(468), Some(100))
    );
    let mut seen = Vec::new();
    let mut uri = "/collections/villages/items?limit=150".to_string();
    loop {
        let (_, _, page) = get(&app, &uri).await;
        seen.extend(
            page["features"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["id"].as_i64().unwrap()),
        );
        match page["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["rel"] == "next")
        {
            Some(next) => {
                uri = next["href"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("http://test.local")
                    .to_string()
            }
            None => break,
        }
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!((seen.len(), sorted.len()), (468, 468));
    assert_eq!(seen, sorted, "pages come in feature-id order");
}

#[tokio::test]
async fn a_bbox_selects_exactly_the_parcels_a_brute_force_test_does() {
    let (ws, app) = app();
    // bbox: the count equals a brute-force test of every parcel against the box.
    let (_, _, boxed) = get(
        &app,
        "/collections/parcels/items?bbox=118.1,36.1,118.12,36.12&limit=10000",
    )
    .await;
    let engine_count = boxed["numberMatched"].as_u64().unwrap();
    let mut brute = 0;
    let window = geo::Rect::new(
        geo::coord! {x: 118.1, y: 36.1},
        geo::coord! {x: 118.12, y: 36.12},
    )
    .to_polygon();
    liancun::store::FeatureStore::scan(ws.store(), liancun::domain::LayerKind::Parcels, &mut |f| {
        if geo::Intersects::intersects(&f.geometry, &window) {
            brute += 1;
        }
        Ok(())
    })
    .unwrap();
    assert!(engine_count > 0);
    assert_eq!(engine_count, brute);
    assert_eq!(boxed["numberReturned"].as_u64(), Some(engine_count));
}

#[tokio::test]
async fn attribute_filters_and_single_items() {
    let (_ws, app) = app();
    // Attribute equality filter and a single item.
    let (_, _, town) = get(
        &app,
        "/collections/villages/items?town=%E5%8E%86%E5%B1%B1%E8%A1%97%E9%81%93&limit=1000",
    )
    .await;
    let n = town["numberMatched"].as_u64().unwrap();
    assert!(n > 0 && n < 468);
    assert!(
        town["features"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["properties"]["town"] == "历山街道")
    );
    let (status, _, one) = get(&app, "/collections/villages/items/1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["id"], 1);
    assert!(
        one["properties"]["code"]
            .as_str()
            .unwrap()
            .starts_with("370323")
    );
}

#[tokio::test]
async fn limits_above_the_maximum_are_lowered() {
    let (_ws, app) = app();
    // Limits above the maximum are lowered to it.
    let (status, _, big) = get(&app, "/collections/parcels/items?limit=99999999").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(big["numberReturned"].as_u64(), Some(10_000));
}

#[tokio::test]
async fn bad_requests_get_problem_documents_never_a_5xx() {
    let (_ws, app) = app();
    // Bad requests: 400/404 with problem+json, never a 5xx.
    for (uri, status, needle) in [
        (
            "/collections/villages/items?foo=1",
            StatusCode::BAD_REQUEST,
            "unknown parameter 'foo'",
        ),
        (
            "/collections/villages/items?bbox=1,2,3",
            StatusCode::BAD_REQUEST,
            "4 (or 6) numbers",
        ),
        (
            "/collections/villages/items?bbox=NaN,0,1,1",
            StatusCode::BAD_REQUEST,
            "finite numbers",
        ),
        (
            "/collections/villages/items?bbox=0,0,1,100",
            StatusCode::BAD_REQUEST,
            "finite CRS84",
        ),
        (
            "/collections/villages/items?bbox=a,b,c,d",
            StatusCode::BAD_REQUEST,
            "bbox 'a,b,c,d'",
        ),
        (
            "/collections/villages/items?limit=0",
            StatusCode::BAD_REQUEST,
            "limit '0'",
        ),
        (
            "/collections/villages/items?limit=-5",
            StatusCode::BAD_REQUEST,
            "limit '-5'",
        ),
        (
            "/collections/villages/items?cursor=x",
            StatusCode::BAD_REQUEST,
            "cursor 'x'",
        ),
        (
            "/collections/villages/items?bbox-crs=EPSG:32650",
            StatusCode::BAD_REQUEST,
            "bbox-crs",
        ),
        (
            "/collections/villages/items?%FF%FE=1",
            StatusCode::BAD_REQUEST,
            "unknown parameter",
        ),
        (
            "/collections/towns/items",
            StatusCode::NOT_FOUND,
            "no collection 'towns'",
        ),
        (
            "/collections/villages/items/999999",
            StatusCode::NOT_FOUND,
            "no feature '999999'",
        ),
        (
            "/collections/villages/items/abc",
            StatusCode::NOT_FOUND,
            "no feature 'abc'",
        ),
        ("/nowhere", StatusCode::NOT_FOUND, "no resource at /nowhere"),
    ] {
        let (got, content_type, body) = get(&app, uri).await;
        assert_eq!(got, status, "{uri}: {body}");
        assert_eq!(content_type, "application/problem+json", "{uri}");
        assert!(
            body["detail"].as_str().unwrap().contains(needle),
            "{uri}: {body}"
        );
    }
}

#[tokio::test]
async fn coordinates_in_the_requested_crs_with_authority_axis_order() {
    let ws_path = demo_workspace("api_crs");
    let ws = Workspace::open(&ws_path).unwrap();
    let app = router(Arc::new(AppState::load(&ws, "test").unwrap()));
    let first_position = |f: &Json| -> (f64, f64) {
        let mut c = &f["geometry"]["coordinates"];
        while c[0].is_array() {
            c = &c[0];
        }
        (c[0].as_f64().unwrap(), c[1].as_f64().unwrap())
    };
    let content_crs = |uri: &str| {
        let app = app.clone();
        let uri = uri.to_string();
        async move {
            let r = app
                .oneshot(Request::builder().uri(uri).body(Body::empty()).unwrap())
                .await
                .unwrap();
            r.headers()
                .get("content-crs")
                .map(|v| v.to_str().unwrap().to_string())
        }
    };
    let (_, _, crs84) = get(&app, "/collections/facilities/items/1").await;
    let (lon, lat) = first_position(&crs84);
    assert!((117.5..119.0).contains(&lon) && (35.5..36.6).contains(&lat));
    assert_eq!(
        content_crs("/collections/facilities/items/1")
            .await
            .as_deref(),
        Some("<http://www.opengis.net/def/crs/OGC/1.3/CRS84>")
    );

    // EPSG:4490 and 4326: latitude first.
    for code in [4490, 4326] {
        let uri = format!(
            "/collections/facilities/items/1?crs=http://www.opengis.net/def/crs/EPSG/0/{code}"
        );
        let (_, _, f) = get(&app, &uri).await;
        assert_eq!(first_position(&f), (lat, lon), "EPSG:{code}");
        assert_eq!(
            content_crs(&uri).await,
            Some(format!("<http://www.opengis.net/def/crs/EPSG/0/{code}>"))
        );
    }
    // Gauss–Krüger (no prefix and zone 39): northing first, metres, equal to PROJ's numbers.
    for code in [4548u32, 4527] {
        let (_, _, f) = get(
            &app,
            &format!("/collections/facilities/items/1?crs=EPSG:{code}"),
        )
        .await;
        let mut g = geo::Geometry::Point(geo::Point::new(lon, lat));
        liancun::engine::crs::Reprojector::new(
            &liancun::engine::crs::Crs::Epsg(4490),
            &liancun::engine::crs::Crs::Epsg(code),
        )
        .unwrap()
        .transform_geometry(&mut g)
        .unwrap();
        let geo::Geometry::Point(p) = g else { panic!() };
        let (north, east) = first_position(&f);
        assert!(
            (north - p.y()).abs() < 1e-6 && (east - p.x()).abs() < 1e-6,
            "EPSG:{code}: {north},{east} vs {p:?}"
        );
    }

    // bbox-crs: the same window in CRS84 and lat-first EPSG:4326 selects the same parcels; in
    // Gauss–Krüger it selects a window around them.
    let (_, _, a) = get(
        &app,
        "/collections/parcels/items?bbox=118.1,36.1,118.12,36.12&limit=1",
    )
    .await;
    let (_, _, b) = get(&app, "/collections/parcels/items?bbox=36.1,118.1,36.12,118.12&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/4326&limit=1").await;
    assert_eq!(a["numberMatched"], b["numberMatched"]);
    let (_, _, gk) = get(
        &app,
        "/collections/parcels/items?bbox=3998000,609000,4001000,612000&bbox-crs=EPSG:4548&limit=1",
    )
    .await;
    assert!(gk["numberMatched"].as_u64().unwrap() > 0, "{gk}");

    // Not offered: 400 naming the parameter.
    for uri in [
        "/collections/parcels/items?crs=EPSG:3857",
        "/collections/parcels/items/1?crs=EPSG:2000",
        "/collections/parcels/items?bbox-crs=EPSG:32650&bbox=1,2,3,4",
    ] {
        let (status, content_type, body) = get(&app, uri).await;
        assert_eq!(
            (status, content_type.as_str()),
            (StatusCode::BAD_REQUEST, "application/problem+json"),
            "{uri}"
        );
        assert!(
            body["detail"].as_str().unwrap().contains("not offered"),
            "{uri}: {body}"
        );
    }
    let (_, _, collection) = get(&app, "/collections/parcels").await;
    let offered: Vec<&str> = collection["crs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(
        offered.contains(&"http://www.opengis.net/def/crs/EPSG/0/4490")
            && offered.contains(&"http://www.opengis.net/def/crs/EPSG/0/4527")
    );
}

/// Deterministic pseudo-random numbers for the query fuzz loop.
fn next(seed: &mut u64) -> usize {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (*seed >> 33) as usize
}

#[tokio::test]
async fn no_query_string_makes_the_server_fail() {
    let ws_path = demo_workspace("api_fuzz");
    let ws = Workspace::open(&ws_path).unwrap();
    let app = router(Arc::new(AppState::load(&ws, "test").unwrap()));
    let keys = [
        "bbox", "limit", "cursor", "f", "bbox-crs", "code", "name", "town", "x", "%FF", "%E4%B8",
        "bbox%00", "",
    ];
    let values = [
        "118,36,118.1,36.1",
        "NaN,NaN,NaN,NaN",
        "inf,0,1,1",
        "1e308,1e308,1e309,1",
        "-180,-90,180,90",
        "3,2,1",
        "",
        "0",
        "-1",
        "99999999999999999999999",
        "10",
        "json",
        "xml",
        "%FF%FE",
        "%E5%8E%86",
        "1,2,3,4,5,6",
        "%00",
        "../../etc",
        "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
        "370323001001",
    ];
    let paths = [
        "/collections/villages/items",
        "/collections/parcels/items",
        "/collections/nope/items",
        "/collections/villages/items/1",
    ];
    let mut seed = 99u64;
    for _ in 0..400 {
        let mut query = Vec::new();
        for _ in 0..(1 + next(&mut seed) % 4) {
            query.push(format!(
                "{}={}",
                keys[next(&mut seed) % keys.len()],
                values[next(&mut seed) % values.len()]
            ));
        }
        let uri = format!(
            "{}?{}",
            paths[next(&mut seed) % paths.len()],
            query.join("&")
        );
        let (status, content_type, _) = get(&app, &uri).await;
        assert!(!status.is_server_error(), "{uri} → {status}");
        if status.is_client_error() {
            assert_eq!(content_type, "application/problem+json", "{uri}");
        }
    }
}

#[test]
fn gdal_lists_and_copies_every_collection() {
    if !require_tool("ogrinfo") {
        return;
    }
    let ws_path = demo_workspace("api_gdal");
    let server = Server::start(&ws_path);
    let url = format!("{}/", server.url);

    {
        let o = Command::new("ogrinfo")
            .args(["-so", "-al", &format!("OAPIF:{url}")])
            .output()
            .unwrap();
        let out = stdout(&o);
        assert!(o.status.success(), "{}", stderr(&o));
        let ws = Workspace::open(&ws_path).unwrap();
        for info in liancun::store::FeatureStore::layers(ws.store()).unwrap() {
            let block = out
                .split("Layer name: ")
                .find(|b| b.starts_with(info.kind.name()))
                .unwrap_or_else(|| panic!("{} missing: {out}", info.kind));
            assert!(
                block.contains(&format!("Feature Count: {}", info.feature_count)),
                "{}: {block}",
                info.kind
            );
        }
        let copy = ws_path.with_file_name("copy.gpkg");
        let o = Command::new("ogr2ogr")
            .args([
                "-f",
                "GPKG",
                copy.to_str().unwrap(),
                &format!("OAPIF:{url}"),
                "parcels",
            ])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        let o = Command::new("ogrinfo")
            .args(["-so", copy.to_str().unwrap(), "parcels"])
            .output()
            .unwrap();
        let parcels =
            liancun::store::FeatureStore::layer(ws.store(), liancun::domain::LayerKind::Parcels)
                .unwrap()
                .unwrap();
        assert!(
            stdout(&o).contains(&format!("Feature Count: {}", parcels.feature_count)),
            "{}",
            stdout(&o)
        );
        // Same place: GDAL read the coordinates in the right axis order.
        let extent = |text: &str| {
            text.lines()
                .find(|l| l.starts_with("Extent"))
                .map(str::to_string)
        };
        let original = Command::new("ogrinfo")
            .args(["-so", ws_path.to_str().unwrap(), "parcels"])
            .output()
            .unwrap();
        assert_eq!(extent(&stdout(&o)), extent(&stdout(&original)));
        assert!(extent(&stdout(&o)).is_some());
    }
}

/// Zoning (two ways of loading), site selection and statistics of one snapshot read the villages
/// layer once; a re-import of the villages makes the next read load them again, with the new data.
#[test]
fn a_snapshot_reads_the_villages_once_per_data_version() {
    let path = demo_workspace("api_village_cache");
    let ws = Workspace::open(&path).unwrap();
    let state = AppState::load(&ws, "test").unwrap();
    let snap = state.snapshot();
    let defaults = liancun::zones::LoadOptions::default();
    let by_share = liancun::zones::LoadOptions {
        strong_share: Some(0.3),
        ..Default::default()
    };
    let zoning = snap.zoning_data(&defaults).unwrap();
    snap.zoning_data(&by_share).unwrap();
    snap.location_data(liancun::location::LoadParcels::default())
        .unwrap();
    snap.village_stats().unwrap();
    assert_eq!(
        snap.village_loads(),
        1,
        "four analyses, one read of the villages"
    );

    // Re-import the villages with one name changed: the same snapshot's next read sees it.
    let exported = temp_dir("api_village_cache_export").join("villages.geojson");
    let out = liancun(&[
        "export",
        "--workspace",
        path.to_str().unwrap(),
        "--layer",
        "villages",
        "--out",
        exported.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut doc: Json = serde_json::from_str(&std::fs::read_to_string(&exported).unwrap()).unwrap();
    let first = &mut doc["features"][0]["properties"];
    let code = first["code"].as_str().unwrap().to_string();
    first["name"] = Json::from("改名村");
    std::fs::write(&exported, doc.to_string()).unwrap();
    let out = liancun(&[
        "import",
        "--workspace",
        path.to_str().unwrap(),
        "--layer",
        "villages",
        exported.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let ws = snap.open().unwrap();
    let (_, villages) = ws.villages().unwrap();
    assert_eq!(snap.village_loads(), 2, "a new data version is read again");
    let renamed = villages.iter().find(|v| v.code == code).unwrap();
    assert_eq!(renamed.name, "改名村");
    assert!(zoning.villages.iter().all(|v| v.name != "改名村"));
}
