//! Import end to end: round trips, encodings, coordinate systems, and every bad input with the
//! answer it gets. Library-level where possible, through the CLI where the exit code matters.

mod common;

use common::*;
use geo::Geometry;
use liancun::domain::{LayerKind, Value};
use liancun::engine::crs::{Crs, Reprojector};
use liancun::engine::geometry::coords_of;
use liancun::ingest::import::{ImportOptions, ImportReport, Severity, import};
use liancun::ingest::{IngestError, Progress};
use liancun::workspace::Workspace;
use serde_json::Value as Json;

fn run_import(
    ws: &mut Workspace,
    file: &std::path::Path,
    options: &ImportOptions,
) -> Result<ImportReport, IngestError> {
    import(ws.store_mut(), file, options, Progress::default())
}

fn villages(ws: &Workspace) -> Vec<liancun::store::StoredFeature> {
    let mut out = Vec::new();
    ws.store()
        .scan(LayerKind::Villages, &mut |f| {
            out.push(f);
            Ok(())
        })
        .unwrap();
    out
}

fn text_column(ws: &Workspace, kind: LayerKind, column: &str) -> Vec<String> {
    let info = ws.store().layer(kind).unwrap().unwrap();
    let i = info.column_index(column).unwrap();
    let mut out = Vec::new();
    ws.store()
        .scan(kind, &mut |f| {
            out.push(f.values[i].as_text().unwrap_or_default());
            Ok(())
        })
        .unwrap();
    out
}

#[test]
fn geojson_round_trip_keeps_features_attributes_and_coordinates() {
    let dir = temp_dir("round_trip");
    let src = dir.join("in.geojson");
    let original = r#"{"type":"FeatureCollection","features":[
 {"type":"Feature","properties":{"code":"370323109222","name":"朱家户村","town":"燕崖镇","population":1203,"collective_income":35.75,"strong":true,"industry":"苹果","备注":"山区·红色旅游","海拔米":412.5,"户主数":388,"已核查":false,"标签":["果业","旅游"]},
  "geometry":{"type":"Polygon","coordinates":[[[118.123456789,36.100000001],[118.133456789,36.100000001],[118.133456789,36.110000001],[118.123456789,36.110000001],[118.123456789,36.100000001]],[[118.125,36.102],[118.126,36.102],[118.126,36.103],[118.125,36.103],[118.125,36.102]]]}},
 {"type":"Feature","properties":{"code":"370323109226","name":"桑家峪村","population":876,"strong":false,"备注":null},
  "geometry":{"type":"MultiPolygon","coordinates":[[[[118.133456789,36.100000001],[118.143456789,36.100000001],[118.143456789,36.110000001],[118.133456789,36.110000001],[118.133456789,36.100000001]]],[[[118.2,36.2],[118.201,36.2],[118.201,36.201],[118.2,36.2]]]]}}
]}"#;
    std::fs::write(&src, original).unwrap();
    let mut ws = Workspace::open(&dir.join("w.gpkg")).unwrap();
    let report = run_import(&mut ws, &src, &ImportOptions::new(LayerKind::Villages)).unwrap();
    assert!(report.committed, "{}", report.render());
    let mut out = Vec::new();
    assert_eq!(ws.export_geojson(LayerKind::Villages, &mut out).unwrap(), 2);

    let input: Json = serde_json::from_str(original).unwrap();
    let output: Json = serde_json::from_slice(&out).unwrap();
    for (a, b) in input["features"]
        .as_array()
        .unwrap()
        .iter()
        .zip(output["features"].as_array().unwrap())
    {
        // Every non-null attribute comes back with its value and type (Chinese text intact).
        for (k, v) in a["properties"].as_object().unwrap() {
            if v.is_null() {
                continue;
            }
            let expected = if v.is_array() {
                Json::String(v.to_string())
            } else {
                v.clone()
            };
            assert_eq!(b["properties"][k], expected, "attribute {k}");
        }
        // Every coordinate comes back to 1e-9 degrees (polygons are stored as multipolygons).
        let ga: geo::Geometry<f64> = geo::Geometry::try_from(
            serde_json::from_value::<geojson::Geometry>(a["geometry"].clone()).unwrap(),
        )
        .unwrap();
        let gb: geo::Geometry<f64> = geo::Geometry::try_from(
            serde_json::from_value::<geojson::Geometry>(b["geometry"].clone()).unwrap(),
        )
        .unwrap();
        let (ca, cb) = (coords_of(&ga), coords_of(&gb));
        assert_eq!(ca.len(), cb.len());
        for (p, q) in ca.iter().zip(&cb) {
            assert!(
                (p.x - q.x).abs() < 1e-9 && (p.y - q.y).abs() < 1e-9,
                "{p:?} vs {q:?}"
            );
        }
    }
}

#[test]
fn gbk_shapefile_imports_with_correct_chinese_names() {
    let dir = temp_dir("gbk");
    let mut ws = Workspace::open(&dir.join("w.gpkg")).unwrap();
    // With a .cpg saying GBK, and the usual source names CUNDM/CUNMC/RK/乡镇名称.
    let report = run_import(
        &mut ws,
        &fixture("shp/villages_gbk.shp"),
        &ImportOptions::new(LayerKind::Villages),
    )
    .unwrap();
    assert!(report.committed, "{}", report.render());
    assert_eq!(
        text_column(&ws, LayerKind::Villages, "name"),
        ["朱家户村", "桑家峪村", "车场村"]
    );
    assert_eq!(
        text_column(&ws, LayerKind::Villages, "town"),
        ["燕崖镇", "燕崖镇", "南鲁山镇"]
    );
    assert_eq!(
        text_column(&ws, LayerKind::Villages, "population"),
        ["1203", "876", "654"]
    );

    // Without .cpg, .prj or a code-page byte: GBK is detected; the CRS must be given.
    let no_crs = run_import(
        &mut ws,
        &fixture("shp/villages_gbk_nocpg.shp"),
        &ImportOptions::new(LayerKind::Villages),
    );
    match no_crs {
        Err(IngestError::MissingCrs { reason, .. }) => {
            assert!(reason.contains("no .prj"), "{reason}")
        }
        other => panic!("a shapefile without .prj must ask for --crs, got {other:?}"),
    }
    let mut options = ImportOptions::new(LayerKind::Villages);
    options.crs = Some(Crs::Epsg(4490));
    let report = run_import(&mut ws, &fixture("shp/villages_gbk_nocpg.shp"), &options).unwrap();
    assert!(report.committed);
    assert!(
        report.notes.iter().any(|n| n.contains("GBK")),
        "{:?}",
        report.notes
    );
    assert_eq!(
        text_column(&ws, LayerKind::Villages, "name"),
        ["朱家户村", "桑家峪村", "车场村"]
    );
}

#[test]
fn zone_39_prefixed_gauss_kruger_lands_in_the_right_place() {
    let dir = temp_dir("zone39");
    let mut ws = Workspace::open(&dir.join("w.gpkg")).unwrap();
    let report = run_import(
        &mut ws,
        &fixture("shp/villages_zone39.shp"),
        &ImportOptions::new(LayerKind::Villages),
    )
    .unwrap();
    assert!(report.committed, "{}", report.render());
    assert_eq!(report.crs, "EPSG:4527");
    // The fixture was projected by GDAL from squares with corners on a 0.01° grid.
    for f in villages(&ws) {
        for c in coords_of(&f.geometry) {
            for v in [c.x, c.y] {
                let snapped = (v * 100.0).round() / 100.0;
                assert!(
                    (v - snapped).abs() < 1e-8,
                    "{v} is not back on the 0.01° grid"
                );
            }
            assert!(
                (118.0 - 1e-8..=118.02 + 1e-8).contains(&c.x)
                    && (36.0 - 1e-8..=36.02 + 1e-8).contains(&c.y)
            );
        }
    }

    // A CSV of facilities with prefixed eastings and no CRS at all: the zone is read off the easting.
    let proj: Json =
        serde_json::from_str(&std::fs::read_to_string(fixture("proj_reference.json")).unwrap())
            .unwrap();
    let refs: Vec<&Json> = proj["points"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["epsg"] == 4527)
        .collect();
    let mut csv = String::from("x,y,设施类型,名称\n");
    for p in &refs {
        csv.push_str(&format!(
            "{},{},卫生室,{}\n",
            p["x"],
            p["y"],
            p["name"].as_str().unwrap()
        ));
    }
    let csv_path = dir.join("facilities.csv");
    std::fs::write(&csv_path, csv).unwrap();
    let report = run_import(
        &mut ws,
        &csv_path,
        &ImportOptions::new(LayerKind::Facilities),
    )
    .unwrap();
    assert!(report.committed, "{}", report.render());
    assert_eq!(report.crs, "EPSG:4527");
    let mut points = Vec::new();
    ws.store()
        .scan(LayerKind::Facilities, &mut |f| {
            points.push(coords_of(&f.geometry)[0]);
            Ok(())
        })
        .unwrap();
    for (p, r) in points.iter().zip(&refs) {
        // 1e-9° ≈ 0.1 mm: the reference eastings/northings carry 4 decimals.
        assert!(
            (p.x - r["lon"].as_f64().unwrap()).abs() < 1e-8
                && (p.y - r["lat"].as_f64().unwrap()).abs() < 1e-8,
            "{p:?} vs {r}"
        );
    }
}

#[test]
fn reprojection_matches_proj_cs2cs_to_a_millimetre() {
    let proj: Json =
        serde_json::from_str(&std::fs::read_to_string(fixture("proj_reference.json")).unwrap())
            .unwrap();
    let points = proj["points"].as_array().unwrap();
    assert!(points.len() >= 30);
    for p in points {
        let epsg = p["epsg"].as_u64().unwrap() as u32;
        let r = Reprojector::new(&Crs::Epsg(4490), &Crs::Epsg(epsg)).unwrap();
        let mut g = Geometry::Point(geo::Point::new(
            p["lon"].as_f64().unwrap(),
            p["lat"].as_f64().unwrap(),
        ));
        r.transform_geometry(&mut g).unwrap();
        let c = coords_of(&g)[0];
        let (dx, dy) = (
            c.x - p["x"].as_f64().unwrap(),
            c.y - p["y"].as_f64().unwrap(),
        );
        assert!(
            dx.hypot(dy) < 0.001,
            "EPSG:{epsg} {}: off by {dx:.5}, {dy:.5} m",
            p["name"]
        );
    }
}

#[test]
fn village_areas_match_an_independent_tool() {
    let reference: Json =
        serde_json::from_str(&std::fs::read_to_string(fixture("area_reference.json")).unwrap())
            .unwrap();
    let polygons = reference["polygons"].as_array().unwrap();
    let dir = temp_dir("areas");
    let features: Vec<(String, String)> = polygons
        .iter()
        .enumerate()
        .map(|(i, p)| {
            (
                format!(r#"{{"code":"37032310900{i}"}}"#),
                p["geojson"].to_string(),
            )
        })
        .collect();
    let refs: Vec<(&str, &str)> = features
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    write_geojson(&dir.join("v.geojson"), &refs);
    let mut ws = Workspace::open(&dir.join("w.gpkg")).unwrap();
    let report = run_import(
        &mut ws,
        &dir.join("v.geojson"),
        &ImportOptions::new(LayerKind::Villages),
    )
    .unwrap();
    assert!(report.committed, "{}", report.render());
    assert_eq!(ws.metric_epsg().unwrap(), 4548);
    let stats = ws.village_stats().unwrap();
    for (v, p) in stats.villages.iter().zip(polygons) {
        let expected = p["area_m2_planar_epsg4548"].as_f64().unwrap();
        assert!(
            (v.area_m2 - expected).abs() / expected < 1e-7,
            "{}: {} vs shapely {}",
            p["name"],
            v.area_m2,
            expected
        );
    }
}

#[test]
fn broken_json_is_an_error_and_the_previous_layer_survives() {
    let dir = temp_dir("broken_json");
    let good = dir.join("good.geojson");
    write_geojson(
        &good,
        &[(r#"{"code":"370323109222"}"#, &square(118.0, 36.0, 0.01))],
    );
    let ws_path = dir.join("w.gpkg");
    let mut ws = Workspace::open(&ws_path).unwrap();
    assert!(
        run_import(&mut ws, &good, &ImportOptions::new(LayerKind::Villages))
            .unwrap()
            .committed
    );

    let broken = dir.join("broken.geojson");
    let text = std::fs::read_to_string(&good).unwrap();
    std::fs::write(&broken, &text[..text.len() - 20]).unwrap();
    match run_import(&mut ws, &broken, &ImportOptions::new(LayerKind::Villages)) {
        Err(IngestError::Malformed {
            format: "GeoJSON", ..
        }) => {}
        other => panic!("expected a GeoJSON format error, got {other:?}"),
    }
    assert_eq!(
        text_column(&ws, LayerKind::Villages, "code"),
        ["370323109222"]
    );

    let o = liancun(&[
        "import",
        "-w",
        ws_path.to_str().unwrap(),
        "-l",
        "villages",
        broken.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("malformed GeoJSON"), "{}", stderr(&o));
}

#[test]
fn self_intersecting_polygon_is_rejected_unless_repaired() {
    let dir = temp_dir("bowtie");
    let file = dir.join("v.geojson");
    let bowtie = r#"{"type":"Polygon","coordinates":[[[118.0,36.0],[118.0,36.01],[118.01,36.0],[118.01,36.01],[118.0,36.0]]]}"#;
    write_geojson(
        &file,
        &[
            (r#"{"code":"370323109222"}"#, &square(118.1, 36.1, 0.01)),
            (r#"{"code":"370323109226"}"#, bowtie),
        ],
    );
    let ws_path = dir.join("w.gpkg");
    let o = liancun(&[
        "import",
        "-w",
        ws_path.to_str().unwrap(),
        "-l",
        "villages",
        file.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(
        out.contains("[invalid-geometry] feature #2") && out.contains("self-intersection"),
        "{out}"
    );
    assert!(out.contains("rejected"));
    let ws = Workspace::open(&ws_path).unwrap();
    assert!(
        ws.store().layer(LayerKind::Villages).unwrap().is_none(),
        "nothing was written"
    );
    drop(ws);

    let o = liancun(&[
        "import",
        "-w",
        ws_path.to_str().unwrap(),
        "-l",
        "villages",
        file.to_str().unwrap(),
        "--repair",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("REPAIRED [invalid-geometry] feature #2"),
        "{}",
        stdout(&o)
    );
    let ws = Workspace::open(&ws_path).unwrap();
    let stored = villages(&ws);
    assert_eq!(stored.len(), 2);
    let Geometry::MultiPolygon(mp) = &stored[1].geometry else {
        panic!()
    };
    assert_eq!(mp.0.len(), 2, "the bowtie became two triangles");
}

#[test]
fn swapped_lat_lon_is_detected_and_repairable() {
    let dir = temp_dir("swapped");
    let file = dir.join("v.geojson");
    let swapped = r#"{"type":"Polygon","coordinates":[[[36.0,118.0],[36.0,118.01],[36.01,118.01],[36.01,118.0],[36.0,118.0]]]}"#;
    write_geojson(&file, &[(r#"{"code":"370323109222"}"#, swapped)]);
    let mut ws = Workspace::open(&dir.join("w.gpkg")).unwrap();
    let report = run_import(&mut ws, &file, &ImportOptions::new(LayerKind::Villages)).unwrap();
    assert!(!report.committed);
    assert_eq!(report.count_kind("swapped-axes"), 1);
    assert!(
        report.problems[0].message.contains("lat/lon swapped"),
        "{}",
        report.render()
    );

    let mut options = ImportOptions::new(LayerKind::Villages);
    options.repair = true;
    let report = run_import(&mut ws, &file, &options).unwrap();
    assert!(report.committed);
    let c = coords_of(&villages(&ws)[0].geometry)[0];
    assert_eq!((c.x, c.y), (118.0, 36.0));
}

#[test]
fn wrong_layer_type_is_rejected_with_the_expected_type() {
    let dir = temp_dir("wrong_type");
    let file = dir.join("points.geojson");
    write_geojson(
        &file,
        &[(
            r#"{"code":"370323109222"}"#,
            r#"{"type":"Point","coordinates":[118.0,36.0]}"#,
        )],
    );
    let mut ws = Workspace::open(&dir.join("w.gpkg")).unwrap();
    let report = run_import(&mut ws, &file, &ImportOptions::new(LayerKind::Villages)).unwrap();
    assert!(!report.committed);
    assert_eq!(report.problems[0].kind, "wrong-geometry-type");
    assert!(
        report.problems[0].message.contains("got Point"),
        "{}",
        report.render()
    );
    // And polygons are not facilities.
    let file = dir.join("polys.geojson");
    write_geojson(
        &file,
        &[(r#"{"kind":"卫生室"}"#, &square(118.0, 36.0, 0.001))],
    );
    let report = run_import(&mut ws, &file, &ImportOptions::new(LayerKind::Facilities)).unwrap();
    assert!(!report.committed);
    assert_eq!(report.count_kind("wrong-geometry-type"), 1);
}

#[test]
fn bad_attributes_duplicates_and_unknown_codes_are_named() {
    let dir = temp_dir("attributes");
    let file = dir.join("v.geojson");
    write_geojson(
        &file,
        &[
            (
                r#"{"code":"370323109222","population":"很多"}"#,
                &square(118.0, 36.0, 0.01),
            ),
            (r#"{"code":"370323109222"}"#, &square(118.01, 36.0, 0.01)),
            (r#"{"code":"3703"}"#, &square(118.02, 36.0, 0.01)),
            (r#"{"name":"无代码村"}"#, &square(118.03, 36.0, 0.01)),
        ],
    );
    let mut ws = Workspace::open(&dir.join("w.gpkg")).unwrap();
    let report = run_import(&mut ws, &file, &ImportOptions::new(LayerKind::Villages)).unwrap();
    assert!(!report.committed);
    let find = |kind: &str| {
        report
            .problems
            .iter()
            .find(|p| p.kind == kind)
            .unwrap_or_else(|| panic!("{kind}: {}", report.render()))
    };
    assert!(
        find("bad-value").message.contains("population")
            && find("bad-value").feature == "feature #1"
    );
    assert_eq!(find("duplicate-code").feature, "feature #2");
    assert!(find("duplicate-code").message.contains("feature #1"));
    assert_eq!(find("bad-code").feature, "feature #3");
    assert_eq!(find("missing-field").feature, "feature #4");
    assert_eq!(report.count(Severity::Error), 4);
}

#[test]
fn parcels_with_unknown_zldwdm_are_warned_and_villages_boundaries_checked() {
    let dir = temp_dir("parcels_warn");
    let v = dir.join("v.geojson");
    // Second village overlaps the first by 0.001° (~90 m); a third leaves a gap.
    write_geojson(
        &v,
        &[
            (r#"{"code":"370323109222"}"#, &square(118.0, 36.0, 0.01)),
            (r#"{"code":"370323109226"}"#, &square(118.009, 36.0, 0.01)),
        ],
    );
    let mut ws = Workspace::open(&dir.join("w.gpkg")).unwrap();
    let report = run_import(&mut ws, &v, &ImportOptions::new(LayerKind::Villages)).unwrap();
    assert!(report.committed, "boundary problems are warnings");
    assert_eq!(
        report.count_kind("boundary-overlap"),
        1,
        "{}",
        report.render()
    );
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.feature.contains("370323109222") && p.feature.contains("370323109226"))
    );

    let p = dir.join("p.geojson");
    write_geojson(
        &p,
        &[
            (
                r#"{"DLBM":"0103","ZLDWDM":"3703231092220000000"}"#,
                &square(118.001, 36.001, 0.001),
            ),
            (
                r#"{"DLBM":"0201","ZLDWDM":"3703239999990000000"}"#,
                &square(118.003, 36.001, 0.001),
            ),
        ],
    );
    let report = run_import(&mut ws, &p, &ImportOptions::new(LayerKind::Parcels)).unwrap();
    assert!(report.committed);
    assert_eq!(report.count_kind("unknown-village-code"), 1);
    assert_eq!(
        report
            .problems
            .iter()
            .find(|p| p.kind == "unknown-village-code")
            .unwrap()
            .feature,
        "feature #2"
    );
}

#[test]
fn a_failed_reimport_leaves_the_previous_contents() {
    let dir = temp_dir("atomic");
    let first = dir.join("first.geojson");
    write_geojson(
        &first,
        &[
            (
                r#"{"code":"370323109222","name":"朱家户村"}"#,
                &square(118.0, 36.0, 0.01),
            ),
            (
                r#"{"code":"370323109226","name":"桑家峪村"}"#,
                &square(118.01, 36.0, 0.01),
            ),
        ],
    );
    let mut ws = Workspace::open(&dir.join("w.gpkg")).unwrap();
    assert!(
        run_import(&mut ws, &first, &ImportOptions::new(LayerKind::Villages))
            .unwrap()
            .committed
    );
    let version = ws
        .store()
        .layer(LayerKind::Villages)
        .unwrap()
        .unwrap()
        .data_version;
    // The second file is fine for 300 features, then has an invalid one.
    let second = dir.join("second.geojson");
    let mut features: Vec<(String, String)> = (0..300)
        .map(|i| {
            (
                format!(r#"{{"code":"370323100{i:03}"}}"#),
                square(118.0 + i as f64 * 0.001, 36.0, 0.001),
            )
        })
        .collect();
    features.push((
        r#"{"code":"370323101999"}"#.into(),
        r#"{"type":"Point","coordinates":[118,36]}"#.into(),
    ));
    let refs: Vec<(&str, &str)> = features
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    write_geojson(&second, &refs);
    let report = run_import(&mut ws, &second, &ImportOptions::new(LayerKind::Villages)).unwrap();
    assert!(!report.committed);
    assert_eq!(report.features_read, 301);
    let info = ws.store().layer(LayerKind::Villages).unwrap().unwrap();
    assert_eq!((info.feature_count, info.data_version), (2, version));
    assert_eq!(
        text_column(&ws, LayerKind::Villages, "name"),
        ["朱家户村", "桑家峪村"]
    );
}

#[test]
fn gdal_opens_the_workspace_with_its_layers_and_counts() {
    if !require_tool("ogrinfo") {
        return;
    }
    let dir = temp_dir("gdal");
    let ws_path = dir.join("w.gpkg");
    let v = dir.join("v.geojson");
    write_geojson(
        &v,
        &[
            (
                r#"{"code":"370323109222","name":"朱家户村"}"#,
                &square(118.0, 36.0, 0.01),
            ),
            (
                r#"{"code":"370323109226","name":"桑家峪村"}"#,
                &square(118.01, 36.0, 0.01),
            ),
        ],
    );
    let f = dir.join("f.geojson");
    write_geojson(
        &f,
        &[(
            r#"{"kind":"卫生室","name":"朱家户村卫生室"}"#,
            r#"{"type":"Point","coordinates":[118.005,36.005]}"#,
        )],
    );
    let w = ws_path.to_str().unwrap();
    assert!(
        liancun(&["import", "-w", w, "-l", "villages", v.to_str().unwrap()])
            .status
            .success()
    );
    assert!(
        liancun(&["import", "-w", w, "-l", "facilities", f.to_str().unwrap()])
            .status
            .success()
    );

    let o = std::process::Command::new("ogrinfo")
        .args(["-so", "-al", w])
        .output()
        .unwrap();
    let out = stdout(&o);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        !stderr(&o).contains("ERROR") && !stderr(&o).contains("Warning"),
        "GDAL complained: {}",
        stderr(&o)
    );
    assert!(
        out.contains("Layer name: villages") && out.contains("Layer name: facilities"),
        "{out}"
    );
    assert!(
        out.contains("Geometry: Multi Polygon") && out.contains("Geometry: Point"),
        "{out}"
    );
    // Layer name, geometry and count, in the order GDAL lists them.
    let summary: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("Layer name") || l.starts_with("Feature Count"))
        .collect();
    assert_eq!(
        summary[..4],
        [
            "Layer name: villages",
            "Feature Count: 2",
            "Layer name: facilities",
            "Feature Count: 1"
        ]
    );
    assert!(
        out.contains("ID[\"EPSG\",4490]"),
        "layers are in CGCS2000: {out}"
    );
    // The spatial index is there and GDAL uses it for a spatial filter.
    let o = std::process::Command::new("ogrinfo")
        .args([
            "-q", w, "villages", "-spat", "118.012", "36.002", "118.013", "36.003",
        ])
        .output()
        .unwrap();
    assert!(
        stdout(&o).contains("桑家峪村") && !stdout(&o).contains("朱家户村"),
        "{}",
        stdout(&o)
    );
    let o = std::process::Command::new("ogrinfo")
        .args([
            "-q",
            w,
            "-sql",
            "SELECT count(*) AS n FROM rtree_villages_geom",
        ])
        .output()
        .unwrap();
    assert!(stdout(&o).contains("n (Integer) = 2"), "{}", stdout(&o));
}

#[test]
fn members_accept_points_and_polygons_and_values_keep_types() {
    let dir = temp_dir("members");
    let file = dir.join("m.geojson");
    write_geojson(
        &file,
        &[
            (
                r#"{"类型":"企业","名称":"沂源县红果果业有限公司","员工数":120}"#,
                r#"{"type":"Point","coordinates":[118.1,36.1]}"#,
            ),
            (
                r#"{"类型":"学校","名称":"燕崖镇中心小学"}"#,
                &square(118.2, 36.2, 0.002),
            ),
        ],
    );
    let mut ws = Workspace::open(&dir.join("w.gpkg")).unwrap();
    let report = run_import(&mut ws, &file, &ImportOptions::new(LayerKind::Members)).unwrap();
    assert!(report.committed, "{}", report.render());
    let info = ws.store().layer(LayerKind::Members).unwrap().unwrap();
    let staff = info.column_index("员工数").unwrap();
    let mut seen = Vec::new();
    ws.store()
        .scan(LayerKind::Members, &mut |f| {
            seen.push(f.values[staff].clone());
            Ok(())
        })
        .unwrap();
    assert_eq!(seen, [Value::Int(120), Value::Null]);
    assert_eq!(
        text_column(&ws, LayerKind::Members, "kind"),
        ["企业", "学校"]
    );
    // A field that is null where it first appears takes its type from its first value; one that
    // is null everywhere is still kept.
    let file = dir.join("m2.geojson");
    write_geojson(
        &file,
        &[
            (
                r#"{"kind":"企业","员工数":null,"备注":null}"#,
                r#"{"type":"Point","coordinates":[118.1,36.1]}"#,
            ),
            (
                r#"{"kind":"企业","员工数":35,"备注":null}"#,
                r#"{"type":"Point","coordinates":[118.2,36.1]}"#,
            ),
        ],
    );
    assert!(
        run_import(&mut ws, &file, &ImportOptions::new(LayerKind::Members))
            .unwrap()
            .committed
    );
    let info = ws.store().layer(LayerKind::Members).unwrap().unwrap();
    let staff = &info.columns[info.column_index("员工数").unwrap()];
    assert_eq!(staff.ty, liancun::domain::FieldType::Integer);
    assert!(
        info.column_index("备注").is_some(),
        "an all-null field is kept"
    );
}

#[test]
fn the_packed_spatial_index_is_sound_and_answers_like_a_scan() {
    let dir = temp_dir("rtree");
    let file = dir.join("p.geojson");
    // 3000 parcels: 59 leaves, 2 inner nodes and a root (three levels).
    let features: Vec<(String, String)> = (0..3000)
        .map(|i| {
            let (c, r) = (i % 60, i / 60);
            (
                r#"{"dlbm":"0103"}"#.to_string(),
                square(118.0 + c as f64 * 0.0011, 36.0 + r as f64 * 0.0013, 0.001),
            )
        })
        .collect();
    let refs: Vec<(&str, &str)> = features
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    write_geojson(&file, &refs);
    let mut ws = Workspace::open(&dir.join("w.gpkg")).unwrap();
    assert!(
        run_import(&mut ws, &file, &ImportOptions::new(LayerKind::Parcels))
            .unwrap()
            .committed
    );
    let store = liancun::store::gpkg::GpkgStore::open(&dir.join("w.gpkg")).unwrap();
    let conn = store.connection();
    let check: String = conn
        .query_row("SELECT rtreecheck('rtree_parcels_geom')", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let depth: i64 = conn
        .query_row(
            "SELECT rtreedepth(data) FROM rtree_parcels_geom_node WHERE nodeno = 1",
            [],
            |r| r.get(0),
        )
        .unwrap_or(-1);
    assert!(depth == 2 || depth == -1, "three levels: depth {depth}");
    for (x0, y0, x1, y1) in [
        (118.0, 36.0, 118.01, 36.01),
        (118.03, 36.02, 118.031, 36.05),
        (117.0, 35.0, 117.5, 35.5),
        (118.0, 36.0, 119.0, 37.0),
    ] {
        let by_index: i64 = conn
            .query_row(
                "SELECT count(*) FROM rtree_parcels_geom WHERE maxx >= ?1 AND minx <= ?3 AND maxy >= ?2 AND miny <= ?4",
                [x0, y0, x1, y1],
                |r| r.get(0),
            )
            .unwrap();
        let by_scan: i64 = conn
            .query_row(
                "SELECT count(*) FROM parcels WHERE ST_MaxX(geom) >= ?1 AND ST_MinX(geom) <= ?3 AND ST_MaxY(geom) >= ?2 AND ST_MinY(geom) <= ?4",
                [x0, y0, x1, y1],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(by_index, by_scan, "window {x0},{y0},{x1},{y1}");
    }
    // Later edits go through the triggers and keep the index in step.
    conn.execute("DELETE FROM parcels WHERE fid <= 100", [])
        .unwrap();
    let n: i64 = conn
        .query_row("SELECT count(*) FROM rtree_parcels_geom", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 2900);
    let check: String = conn
        .query_row("SELECT rtreecheck('rtree_parcels_geom')", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}

#[test]
fn a_geopackage_layer_imports_with_its_srs() {
    let dir = temp_dir("gpkg_source");
    // Our own workspace is a GeoPackage: copy its villages into another workspace.
    let first = dir.join("first.gpkg");
    let v = dir.join("v.geojson");
    write_geojson(
        &v,
        &[
            (
                r#"{"code":"370323109222","name":"朱家户村","备注":"甲"}"#,
                &square(118.0, 36.0, 0.01),
            ),
            (
                r#"{"code":"370323109226","name":"桑家峪村"}"#,
                &square(118.01, 36.0, 0.01),
            ),
        ],
    );
    let mut ws = Workspace::open(&first).unwrap();
    assert!(
        run_import(&mut ws, &v, &ImportOptions::new(LayerKind::Villages))
            .unwrap()
            .committed
    );
    drop(ws);
    let mut second = Workspace::open(&dir.join("second.gpkg")).unwrap();
    let mut options = ImportOptions::new(LayerKind::Villages);
    options.read.source_layer = Some("villages".into()); // the file also holds attribute tables
    let report = run_import(&mut second, &first, &options).unwrap();
    assert!(report.committed, "{}", report.render());
    assert_eq!(report.crs, "EPSG:4490");
    assert_eq!(
        text_column(&second, LayerKind::Villages, "name"),
        ["朱家户村", "桑家峪村"]
    );
    assert_eq!(
        text_column(&second, LayerKind::Villages, "备注"),
        ["甲", ""]
    );

    // A GeoPackage written by GDAL in Gauss–Krüger zone 39.
    if require_tool("ogr2ogr") {
        let gk = dir.join("gdal_zone39.gpkg");
        let o = std::process::Command::new("ogr2ogr")
            .args([
                "-f",
                "GPKG",
                gk.to_str().unwrap(),
                v.to_str().unwrap(),
                "-t_srs",
                "EPSG:4527",
                "-nln",
                "村界",
            ])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        let mut third = Workspace::open(&dir.join("third.gpkg")).unwrap();
        let report = run_import(&mut third, &gk, &ImportOptions::new(LayerKind::Villages)).unwrap();
        assert!(report.committed, "{}", report.render());
        assert_eq!(report.crs, "EPSG:4527");
        let c = coords_of(&villages(&third)[0].geometry)[0];
        assert!(
            (c.x - 118.0).abs() < 1e-8 && (c.y - 36.0).abs() < 1e-8,
            "{c:?}"
        );
    }
}

#[test]
fn csv_with_wkt_in_gbk_and_field_mapping_via_the_cli() {
    let dir = temp_dir("csv_gbk");
    let csv = "村庄编号,村庄名称,常住人口,WKT\n370323109222,朱家户村,1203,\"POLYGON((118 36,118.01 36,118.01 36.01,118 36.01,118 36))\"\n";
    let (bytes, _, _) = encoding_rs::GBK.encode(csv);
    let file = dir.join("villages.csv");
    std::fs::write(&file, &bytes).unwrap();
    let ws = dir.join("w.gpkg");
    let w = ws.to_str().unwrap();
    let f = file.to_str().unwrap();
    // Without --encoding the GBK bytes are not UTF-8 and the names come out wrong; the code
    // column is not recognised either, so the required field is reported missing.
    let o = liancun(&["import", "-w", w, "-l", "villages", f, "--encoding", "gbk"]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("[missing-field] feature #1") && stdout(&o).contains("--map SRC=code"),
        "{}",
        stdout(&o)
    );
    let o = liancun(&[
        "import",
        "-w",
        w,
        "-l",
        "villages",
        f,
        "--encoding",
        "gbk",
        "--map",
        "村庄编号=code",
        "--map",
        "村庄名称=name",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("CSV coordinates look like lon/lat"),
        "{}",
        stdout(&o)
    );
    let ws = Workspace::open(&ws).unwrap();
    assert_eq!(text_column(&ws, LayerKind::Villages, "name"), ["朱家户村"]);
    assert_eq!(
        text_column(&ws, LayerKind::Villages, "population"),
        ["1203"],
        "常住人口 is a known alias"
    );
    drop(ws);

    // Bad arguments get a clear message and exit code 1.
    let o = liancun(&[
        "import",
        "-w",
        w,
        "-l",
        "villages",
        f,
        "--encoding",
        "klingon",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("unknown encoding 'klingon'"),
        "{}",
        stderr(&o)
    );
    let o = liancun(&[
        "import",
        "-w",
        w,
        "-l",
        "villages",
        f,
        "--map",
        "no-equals-sign",
    ]);
    assert!(stderr(&o).contains("expected SRC=DST"), "{}", stderr(&o));
    let o = liancun(&["import", "-w", w, "-l", "villages", "missing.geojson"]);
    assert!(stderr(&o).contains("file not found"), "{}", stderr(&o));
    let txt = dir.join("notes.docx");
    std::fs::write(&txt, "x").unwrap();
    let o = liancun(&["import", "-w", w, "-l", "villages", txt.to_str().unwrap()]);
    assert!(
        stderr(&o).contains("unsupported file type"),
        "{}",
        stderr(&o)
    );
    let o = liancun(&["import", "-w", w, "-l", "towns", f]);
    assert_eq!(o.status.code(), Some(2), "clap rejects an unknown layer");
    assert!(
        stderr(&o).contains("unknown layer 'towns'"),
        "{}",
        stderr(&o)
    );
    let o = liancun(&[
        "import",
        "-w",
        w,
        "-l",
        "villages",
        f,
        "--crs",
        "EPSG:999999",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("unrecognised CRS"), "{}", stderr(&o));
}

#[test]
fn garbled_text_negative_counts_empty_names_and_crowded_villages_are_caught() {
    let dir = temp_dir("garbled");
    let mut ws = Workspace::open(&dir.join("w.gpkg")).unwrap();
    let gbk = fixture("shp/villages_gbk.shp");
    let good = run_import(&mut ws, &gbk, &ImportOptions::new(LayerKind::Villages)).unwrap();
    assert!(good.committed, "{}", good.render());

    // GBK bytes read as UTF-8: refused (not 导入成功 with garbled names and null counts), the
    // message names the field and the encoding that works, and the stored villages stay.
    let mut options = ImportOptions::new(LayerKind::Villages);
    options.read.encoding = Some("utf-8".into());
    let report = run_import(&mut ws, &gbk, &options).unwrap();
    assert!(!report.committed, "{}", report.render());
    let garbled: Vec<_> = report
        .problems
        .iter()
        .filter(|p| p.kind == "undecodable-text")
        .collect();
    assert_eq!(garbled.len(), 3, "one per feature: {}", report.render());
    assert_eq!(garbled[0].feature, "feature #1");
    assert!(
        garbled[0].message.contains("--encoding gbk") && garbled[0].message.contains("UTF-8"),
        "{}",
        garbled[0].message
    );
    assert_eq!(
        text_column(&ws, LayerKind::Villages, "name"),
        ["朱家户村", "桑家峪村", "车场村"],
        "the refused import left the villages as they were"
    );

    // A GBK CSV without --encoding is detected as GBK (it is not UTF-8) and says so.
    let csv = "code,name,population,WKT\n370323109222,朱家户村,1203,\"POLYGON((118 36,118.01 36,118.01 36.01,118 36.01,118 36))\"\n";
    let file = dir.join("gbk.csv");
    std::fs::write(&file, encoding_rs::GBK.encode(csv).0).unwrap();
    let mut options = ImportOptions::new(LayerKind::Villages);
    options.crs = Some(Crs::Epsg(4490));
    let report = run_import(&mut ws, &file, &options).unwrap();
    assert!(report.committed, "{}", report.render());
    assert!(
        report.notes.iter().any(|n| n.contains("read as GBK")),
        "{:?}",
        report.notes
    );
    assert_eq!(text_column(&ws, LayerKind::Villages, "name"), ["朱家户村"]);
    // The same CSV forced to UTF-8 names GBK as the fix.
    options.read.encoding = Some("utf-8".into());
    let report = run_import(&mut ws, &file, &options).unwrap();
    assert!(!report.committed);
    assert_eq!(report.count_kind("undecodable-text"), 1);
    assert!(
        report.render().contains("--encoding gbk"),
        "{}",
        report.render()
    );

    // Negative counts and blank names are errors naming the feature; a village of a million
    // people on about 1 km² is a warning (a unit error, most likely).
    let file = dir.join("bad.geojson");
    write_geojson(
        &file,
        &[
            (
                r#"{"code":"370323109001","name":"甲村","population":-5}"#,
                &square(118.0, 36.0, 0.01),
            ),
            (
                r#"{"code":"370323109002","name":"  ","population":800}"#,
                &square(118.01, 36.0, 0.01),
            ),
            (
                r#"{"code":"370323109003","name":"丙村","households":-1}"#,
                &square(118.02, 36.0, 0.01),
            ),
            (
                r#"{"code":"370323109004","name":"丁村","population":1000000}"#,
                &square(118.03, 36.0, 0.01),
            ),
        ],
    );
    let report = run_import(&mut ws, &file, &ImportOptions::new(LayerKind::Villages)).unwrap();
    assert!(!report.committed);
    let of = |kind: &str| -> Vec<&str> {
        report
            .problems
            .iter()
            .filter(|p| p.kind == kind)
            .map(|p| p.feature.as_str())
            .collect()
    };
    assert_eq!(
        of("negative-value"),
        ["feature #1", "feature #3"],
        "{}",
        report.render()
    );
    assert_eq!(of("empty-name"), ["feature #2"]);
    assert_eq!(of("implausible-density"), ["feature #4"]);
    assert_eq!(report.count(Severity::Error), 3, "{}", report.render());
    assert!(report.render().contains("population"));
    // With the errors fixed, the crowded village alone does not stop the import.
    write_geojson(
        &file,
        &[(
            r#"{"code":"370323109004","name":"丁村","population":1000000}"#,
            &square(118.03, 36.0, 0.01),
        )],
    );
    let report = run_import(&mut ws, &file, &ImportOptions::new(LayerKind::Villages)).unwrap();
    assert!(report.committed, "{}", report.render());
    assert_eq!(report.count_kind("implausible-density"), 1);
}
