//! The FeatureStore contract: what every storage backend must do. Each backend runs the same
//! `contract` function (today the GeoPackage store; a PostGIS store will call it too).

mod common;

use geo::{Geometry, Point, polygon};
use liancun::domain::{FieldType, GeometryFamily, LayerKind, Value};
use liancun::store::gpkg::GpkgStore;
use liancun::store::{FeatureStore, LayerProvenance, StoreError};

fn village(x: f64) -> Geometry<f64> {
    Geometry::MultiPolygon(geo::MultiPolygon(vec![
        polygon![(x: x, y: 36.0), (x: x + 0.01, y: 36.0), (x: x + 0.01, y: 36.01), (x: x, y: 36.0)],
    ]))
}

fn contract(store: &mut dyn FeatureStore) {
    // An empty store has no layers, and scanning a missing one says so.
    assert!(store.layers().unwrap().is_empty());
    assert!(matches!(
        store.scan(LayerKind::Villages, &mut |_| Ok(())),
        Err(StoreError::MissingLayer(_))
    ));

    // A committed replacement is visible with its columns, count, bbox and version 1.
    let mut w = store
        .begin_replace(LayerKind::Villages, GeometryFamily::Polygonal)
        .unwrap();
    let code = w.ensure_column("code", FieldType::Text).unwrap();
    let strong = w.ensure_column("strong", FieldType::Boolean).unwrap();
    assert_eq!(
        w.ensure_column("code", FieldType::Text).unwrap(),
        code,
        "ensure_column is idempotent"
    );
    let fid1 = w
        .insert(
            &village(118.0),
            &[
                (code, Value::Text("370323109222".into())),
                (strong, Value::Bool(true)),
            ],
        )
        .unwrap();
    let extra = w.ensure_column("备注", FieldType::Text).unwrap();
    let fid2 = w
        .insert(
            &village(118.01),
            &[
                (code, Value::Text("370323109226".into())),
                (extra, Value::Text("山区".into())),
            ],
        )
        .unwrap();
    assert!(fid2 > fid1);
    let info = w
        .commit(&LayerProvenance {
            source: "test".into(),
        })
        .unwrap();
    assert_eq!((info.feature_count, info.data_version), (2, 1));
    assert_eq!(
        info.columns
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        ["code", "strong", "备注"]
    );
    let bbox = info.bbox.unwrap();
    for (got, want) in bbox.iter().zip([118.0, 36.0, 118.01 + 0.01, 36.01]) {
        assert!((got - want).abs() < 1e-12, "{bbox:?}");
    }

    // Scans come in fid order with values aligned to the columns; nulls stay null, types stay.
    let mut seen = Vec::new();
    store
        .scan(LayerKind::Villages, &mut |f| {
            seen.push(f);
            Ok(())
        })
        .unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        seen[0].values,
        [
            Value::Text("370323109222".into()),
            Value::Bool(true),
            Value::Null
        ]
    );
    assert_eq!(
        seen[1].values,
        [
            Value::Text("370323109226".into()),
            Value::Null,
            Value::Text("山区".into())
        ]
    );
    assert_eq!(seen[0].geometry, village(118.0));

    // A bbox scan gives exactly the features whose box meets it (touching counts), in fid order.
    let fids_in = |bbox: [f64; 4]| {
        let mut fids = Vec::new();
        store
            .scan_bbox(LayerKind::Villages, bbox, &mut |f| {
                fids.push(f.fid);
                Ok(())
            })
            .unwrap();
        fids
    };
    assert_eq!(fids_in([117.0, 35.0, 119.0, 37.0]), vec![fid1, fid2]);
    assert_eq!(fids_in([118.001, 36.001, 118.002, 36.002]), vec![fid1]);
    assert_eq!(fids_in([118.015, 36.0, 118.016, 36.005]), vec![fid2]);
    assert_eq!(
        fids_in([118.01, 36.0, 118.01, 36.0]),
        vec![fid1, fid2],
        "a shared edge"
    );
    assert!(
        fids_in([118.0201, 36.0, 118.03, 36.01]).is_empty(),
        "just east of both"
    );
    assert!(
        fids_in([118.0, 36.0101, 118.02, 36.02]).is_empty(),
        "just north"
    );

    // A replacement that is dropped without commit changes nothing.
    {
        let mut w = store
            .begin_replace(LayerKind::Villages, GeometryFamily::Polygonal)
            .unwrap();
        let c = w.ensure_column("code", FieldType::Text).unwrap();
        w.insert(&village(119.0), &[(c, Value::Text("x".into()))])
            .unwrap();
    }
    let info = store.layer(LayerKind::Villages).unwrap().unwrap();
    assert_eq!((info.feature_count, info.data_version), (2, 1));

    // A second commit replaces the contents and bumps the version.
    let mut w = store
        .begin_replace(LayerKind::Villages, GeometryFamily::Polygonal)
        .unwrap();
    let c = w.ensure_column("code", FieldType::Text).unwrap();
    w.insert(&village(118.5), &[(c, Value::Text("370323111238".into()))])
        .unwrap();
    let info = w
        .commit(&LayerProvenance {
            source: "again".into(),
        })
        .unwrap();
    assert_eq!(
        (info.feature_count, info.data_version, info.source.as_str()),
        (1, 2, "again")
    );

    // Other layers are independent; points work too.
    let mut w = store
        .begin_replace(LayerKind::Facilities, GeometryFamily::Point)
        .unwrap();
    let k = w.ensure_column("kind", FieldType::Text).unwrap();
    w.insert(
        &Geometry::Point(Point::new(118.5, 36.005)),
        &[(k, Value::Text("卫生室".into()))],
    )
    .unwrap();
    w.commit(&LayerProvenance { source: "f".into() }).unwrap();
    let kinds: Vec<LayerKind> = store.layers().unwrap().iter().map(|l| l.kind).collect();
    assert_eq!(kinds, [LayerKind::Villages, LayerKind::Facilities]);

    // Settings, and a reading handle that sees what was committed.
    assert_eq!(store.setting("metric_epsg").unwrap(), None);
    store.set_setting("metric_epsg", "4548").unwrap();
    store.set_setting("metric_epsg", "4547").unwrap();
    assert_eq!(
        store.setting("metric_epsg").unwrap().as_deref(),
        Some("4547")
    );
    let reader = store.reader().unwrap();
    assert_eq!(
        reader
            .layer(LayerKind::Villages)
            .unwrap()
            .unwrap()
            .feature_count,
        1
    );
}

#[test]
fn geopackage_store_meets_the_contract() {
    let dir = common::temp_dir("contract_gpkg");
    let mut store = GpkgStore::open(&dir.join("w.gpkg")).unwrap();
    contract(&mut store);
}

#[test]
fn a_file_that_is_not_a_geopackage_is_refused() {
    let dir = common::temp_dir("contract_not_gpkg");
    let path = dir.join("other.sqlite");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE accounts(id INTEGER PRIMARY KEY, balance REAL); INSERT INTO accounts VALUES (1, 9.5);").unwrap();
    drop(conn);
    match GpkgStore::open(&path) {
        Err(StoreError::Open { reason, .. }) => {
            assert!(reason.contains("not a GeoPackage"), "{reason}")
        }
        other => panic!("expected a refusal, got {:?}", other.map(|_| ())),
    }
    let text = dir.join("notes.gpkg");
    std::fs::write(&text, "just text, not a database ............................................................................").unwrap();
    assert!(GpkgStore::open(&text).is_err());
}
