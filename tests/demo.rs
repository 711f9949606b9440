//! The demo county end to end through the CLI: generate + import every layer, statistics that
//! reconcile, GDAL reading the workspace, and the spatial query command.

mod common;

use common::*;
use serde_json::Value as Json;

fn reference() -> String {
    format!("{}/data/reference", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_demo_workspace_imports_cleanly_and_its_statistics_reconcile() {
    let dir = temp_dir("demo_cli");
    let ws = dir.join("demo.gpkg");
    let w = ws.to_str().unwrap();
    let o = liancun(&["demo", "-w", w, "--reference", &reference()]);
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    for layer in [
        "villages",
        "parcels",
        "greenhouses",
        "facilities",
        "roads",
        "members",
    ] {
        assert!(out.contains(&format!("  {layer}")), "{out}");
    }
    assert!(
        out.contains(" 468 features  0 error(s) 0 warning(s)"),
        "villages tile without gaps or overlaps: {out}"
    );

    let o = liancun(&["stats", "-w", w, "--format", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let stats: Json = serde_json::from_slice(&o.stdout).unwrap();
    let villages = stats["villages"].as_array().unwrap();
    assert_eq!(villages.len(), 468);
    for key in [
        "code",
        "name",
        "parcel_area_m2",
        "land_use_m2",
        "greenhouse_count",
        "greenhouse_area_m2",
        "facilities",
    ] {
        assert!(
            villages.iter().all(|v| !v[key].is_null()),
            "every row carries {key}"
        );
    }
    let t = &stats["totals"];
    let sum = |key: &str| {
        villages
            .iter()
            .map(|v| v[key].as_f64().unwrap())
            .sum::<f64>()
    };
    // Σ villages + unassigned = layer total (the issue asks for 0.1 %; exact here).
    let parcels_total = t["parcel_area_m2"].as_f64().unwrap();
    let assigned = sum("parcel_area_m2") + t["unassigned_parcel_area_m2"].as_f64().unwrap();
    assert!(
        (assigned - parcels_total).abs() / parcels_total < 1e-3,
        "{assigned} vs {parcels_total}"
    );
    assert!(t["parcel_reconciliation_error"].as_f64().unwrap() < 1e-6);
    // The parcels tile each village: land use adds up to the village's area within 0.1 %.
    for v in villages {
        let (parcels, area) = (
            v["parcel_area_m2"].as_f64().unwrap(),
            v["area_m2"].as_f64().unwrap(),
        );
        assert!(
            (parcels - area).abs() / area < 1e-3,
            "{}: parcels {parcels} vs village {area}",
            v["name"]
        );
        let by_code: f64 = v["land_use_m2"]
            .as_object()
            .unwrap()
            .values()
            .map(|x| x.as_f64().unwrap())
            .sum();
        assert!((by_code - parcels).abs() < 1e-6 * parcels.max(1.0));
    }
    let greenhouses = sum("greenhouse_count") + t["unassigned_greenhouses"].as_f64().unwrap();
    assert_eq!(greenhouses, t["greenhouse_count"].as_f64().unwrap());
    let facilities: f64 = villages
        .iter()
        .map(|v| {
            v["facilities"]
                .as_object()
                .unwrap()
                .values()
                .map(|x| x.as_f64().unwrap())
                .sum::<f64>()
        })
        .sum();
    assert_eq!(
        facilities + t["unassigned_facilities"].as_f64().unwrap(),
        t["facility_count"].as_f64().unwrap()
    );
    assert!(t["greenhouse_count"].as_f64().unwrap() > 500.0);
    // County area: the real outline is 1,636.2 km² (geodesic); planar Gauss–Krüger is a little larger.
    let area_km2 = t["village_area_m2"].as_f64().unwrap() / 1e6;
    assert!((1636.0..1640.0).contains(&area_km2), "{area_km2}");

    // One village, as CSV.
    let code = villages[0]["code"].as_str().unwrap();
    let o = liancun(&["stats", "-w", w, "--village", code]);
    let csv = stdout(&o);
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(csv.lines().nth(1).unwrap().starts_with(code));
    let o = liancun(&["stats", "-w", w, "--village", "999999999999"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no village with code 999999999999"));

    // The engine answers a point query: the village under its own facility.
    let o = liancun(&[
        "query",
        "-w",
        w,
        "-l",
        "villages",
        "--at",
        "118.17,36.18",
        "--k",
        "3",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let q = stdout(&o);
    assert_eq!(q.lines().count(), 3, "{q}");
    assert!(
        q.lines().next().unwrap().contains("0.0 m") && q.contains("(contains the point)"),
        "{q}"
    );

    if require_tool("ogrinfo") {
        let o = std::process::Command::new("ogrinfo")
            .args(["-so", "-al", w])
            .output()
            .unwrap();
        let info = stdout(&o);
        assert!(
            o.status.success() && !stderr(&o).contains("ERROR"),
            "{}",
            stderr(&o)
        );
        for layer in [
            "villages",
            "parcels",
            "greenhouses",
            "facilities",
            "roads",
            "members",
        ] {
            assert!(info.contains(&format!("Layer name: {layer}")), "{info}");
        }
        assert!(info.contains("Feature Count: 468"));
    }
}
