//! The store contracts: what every storage backend must do. Each backend (the GeoPackage file,
//! the PostGIS schema) runs the same `contract` (layers and settings) and `plan_contract`
//! (plans, versions, tokens, audit) functions.

mod common;

use geo::{Geometry, Point, polygon};
use liancun::domain::{FieldType, GeometryFamily, LayerKind, Role, Value};
use liancun::store::gpkg::GpkgStore;
use liancun::store::plans::{AuditEntry, NewVersion, PlanStore};
use liancun::store::postgis::{PgLocation, PgStore};
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

fn audit(action: &str) -> AuditEntry {
    AuditEntry {
        actor: "测试".into(),
        role: "editor".into(),
        action: action.into(),
        target: "plans/1".into(),
        outcome: "ok".into(),
        detail: String::new(),
    }
}

fn version(content: &str) -> NewVersion<'_> {
    NewVersion {
        name: "方案",
        author: "测试",
        message: "",
        summary: "",
        diff: "{}",
        content,
    }
}

fn plan_contract(store: &mut dyn PlanStore) {
    // Versions move the head; a commit on a stale head is a conflict and writes nothing.
    let plan = store
        .create_plan(&version("v1"), &audit("plan.create"))
        .unwrap();
    assert_eq!((plan.id, plan.head, plan.name.as_str()), (1, 1, "方案"));
    assert!(
        plan.created_at.ends_with('Z') && plan.created_at.len() == 24,
        "{plan:?}"
    );
    let p2 = store
        .commit_version(1, 1, &version("v2"), &audit("plan.edit"))
        .unwrap();
    assert_eq!(p2.head, 2);
    let stale = store.commit_version(1, 1, &version("v2b"), &audit("plan.edit"));
    assert!(
        matches!(
            stale,
            Err(StoreError::Conflict {
                expected: 1,
                head: 2,
                ..
            })
        ),
        "{stale:?}"
    );
    assert_eq!(
        store.version(1, 2).unwrap().unwrap().content.as_deref(),
        Some("v2")
    );
    assert!(store.version(1, 3).unwrap().is_none());
    let versions = store.versions(1).unwrap();
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        [2, 1],
        "newest first"
    );
    assert!(versions.iter().all(|v| v.content.is_none()));
    let log = store.audit_log(10).unwrap();
    assert_eq!(
        log.iter()
            .map(|a| a.entry.action.as_str())
            .collect::<Vec<_>>(),
        ["plan.edit", "plan.create"],
        "the refused commit wrote nothing; newest first"
    );
    assert_eq!(log[1].entry.target, "plans/1", "create audits the new id");
    assert!(matches!(
        store.commit_version(9, 1, &version("x"), &audit("plan.edit")),
        Err(StoreError::NoPlan(9))
    ));
    assert!(matches!(
        store.delete_plan(1, 1, &audit("plan.delete")),
        Err(StoreError::Conflict { head: 2, .. })
    ));
    store.delete_plan(1, 2, &audit("plan.delete")).unwrap();
    assert!(store.plans().unwrap().is_empty());
    assert!(store.plan(1).unwrap().is_none());
    assert!(
        store.version(1, 1).unwrap().is_none(),
        "a deleted plan's versions are hidden"
    );
    let again = store
        .create_plan(&version("w1"), &audit("plan.create"))
        .unwrap();
    assert_eq!(again.id, 2, "ids are never reused");

    // Tokens are found by hash until revoked; revoking twice is a no.
    let t = store
        .create_token("张三", Role::Editor, "ab12", &audit("token.create"))
        .unwrap();
    assert_eq!(
        store.token_by_hash("ab12").unwrap().unwrap().role,
        Role::Editor
    );
    assert!(store.token_by_hash("ab13").unwrap().is_none());
    assert!(store.revoke_token(t.id, &audit("token.revoke")).unwrap());
    assert!(!store.revoke_token(t.id, &audit("token.revoke")).unwrap());
    assert!(store.token_by_hash("ab12").unwrap().is_none());
    assert!(store.tokens().unwrap()[0].revoked_at.is_some());
    store.record_audit(&audit("denied")).unwrap();
    assert_eq!(store.audit_log(1).unwrap()[0].entry.action, "denied");
}

#[test]
fn geopackage_store_meets_the_contract() {
    let dir = common::temp_dir("contract_gpkg");
    let mut store = GpkgStore::open(&dir.join("w.gpkg")).unwrap();
    contract(&mut store);
    let mut plans = GpkgStore::open(&dir.join("plans.gpkg")).unwrap();
    plan_contract(&mut plans);
}

#[test]
fn postgis_store_meets_the_contract() {
    let Some(url) = common::postgres_workspace("contract") else {
        return;
    };
    let location = PgLocation::parse(&url).unwrap();
    let mut store = PgStore::open(&location).unwrap();
    contract(&mut store);
    let plans_url = url.replace("schema=t_contract", "schema=t_contract_plans");
    let plans_location = PgLocation::parse(&plans_url).unwrap();
    PgStore::drop_schema(&plans_location).unwrap();
    let mut plans = PgStore::open(&plans_location).unwrap();
    plan_contract(&mut plans);
    PgStore::drop_schema(&location).unwrap();
    PgStore::drop_schema(&plans_location).unwrap();
}

/// Two connections (as two replicas would hold) commit on the same head, round after round:
/// exactly one wins each round and the other gets the conflict naming the winner's head.
#[test]
fn postgis_editors_racing_on_one_plan_get_one_winner_per_round() {
    let Some(url) = common::postgres_workspace("race") else {
        return;
    };
    let location = PgLocation::parse(&url).unwrap();
    let mut first = PgStore::open(&location).unwrap();
    first
        .create_plan(&version("v1"), &audit("plan.create"))
        .unwrap();
    let rounds = 20;
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
    let editors: Vec<_> = ["甲", "乙"]
        .into_iter()
        .map(|who| {
            let (location, barrier) = (location.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut store = PgStore::open(&location).unwrap();
                let mut wins = Vec::new();
                for round in 1..=rounds {
                    barrier.wait();
                    let content = format!("{who}{round}");
                    match store.commit_version(1, round, &version(&content), &audit("plan.edit")) {
                        Ok(p) => {
                            assert_eq!(p.head, round + 1);
                            wins.push(round);
                        }
                        Err(StoreError::Conflict { head, .. }) => assert_eq!(head, round + 1),
                        Err(e) => panic!("{who} round {round}: {e}"),
                    }
                    barrier.wait();
                }
                wins
            })
        })
        .collect();
    let wins: Vec<Vec<i64>> = editors.into_iter().map(|h| h.join().unwrap()).collect();
    let mut all: Vec<i64> = wins.concat();
    all.sort();
    assert_eq!(
        all,
        (1..=rounds).collect::<Vec<_>>(),
        "one winner per round: {wins:?}"
    );
    let plan = first.plan(1).unwrap().unwrap();
    assert_eq!(plan.head, rounds + 1);
    assert_eq!(first.versions(1).unwrap().len() as i64, rounds + 1);
    PgStore::drop_schema(&location).unwrap();
}

#[test]
fn postgis_refuses_what_it_cannot_open() {
    let Some(url) = common::postgres_workspace("refuse") else {
        return;
    };
    // A schema name that is not a plain identifier is refused before connecting.
    let bad = url.replace("schema=t_refuse", "schema=x;drop");
    assert!(matches!(
        liancun::store::StoreLocation::parse(&bad),
        Err(StoreError::Open { .. })
    ));
    // A wrong password names the server's reason and hides the password.
    let wrong = url.replacen("://liancun:liancun@", "://liancun:wrong@", 1);
    if wrong != url {
        let e = PgStore::open(&PgLocation::parse(&wrong).unwrap())
            .err()
            .expect("a wrong password is refused")
            .to_string();
        assert!(e.contains("password") && !e.contains("wrong@"), "{e}");
    }
    // A read-only handle writes nothing.
    let location = PgLocation::parse(&url).unwrap();
    drop(PgStore::open(&location).unwrap());
    let mut reader = PgStore::open_read_only(&location).unwrap();
    assert!(reader.set_setting("k", "v").is_err());
    PgStore::drop_schema(&location).unwrap();
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

/// A committed replacement is announced to listeners of the same workspace (schema), whichever
/// process commits it; a dropped (uncommitted) one and another schema's are not.
#[test]
fn postgis_announces_committed_replacements_to_its_listeners() {
    let Some(url) = common::postgres_workspace("listen") else {
        return;
    };
    let location = PgLocation::parse(&url).unwrap();
    let other =
        PgLocation::parse(&url.replace("schema=t_listen", "schema=t_listen_other")).unwrap();
    PgStore::drop_schema(&other).unwrap();
    let (mut store, mut other_store) = (
        PgStore::open(&location).unwrap(),
        PgStore::open(&other).unwrap(),
    );
    let (tx, rx) = std::sync::mpsc::channel();
    let listening = location.clone();
    std::thread::spawn(move || {
        liancun::store::postgis::follow_changes(&listening, |layer| {
            tx.send(layer.to_string()).is_ok()
        })
    });
    let replace = |store: &mut PgStore, kind: LayerKind, commit: bool| {
        let mut w = store
            .begin_replace(kind, GeometryFamily::Polygonal)
            .unwrap();
        w.insert(&village(118.0), &[]).unwrap();
        if commit {
            w.commit(&LayerProvenance { source: "t".into() }).unwrap();
        }
    };
    // The listener connects in its own time: replace until it hears one.
    let mut heard = None;
    for _ in 0..100 {
        replace(&mut store, LayerKind::Villages, true);
        if let Ok(layer) = rx.recv_timeout(std::time::Duration::from_millis(300)) {
            heard = Some(layer);
            break;
        }
    }
    assert_eq!(heard.as_deref(), Some("villages"));
    while rx.try_recv().is_ok() {}
    replace(&mut store, LayerKind::Parcels, false);
    replace(&mut other_store, LayerKind::Villages, true);
    replace(&mut store, LayerKind::Greenhouses, true);
    let next = rx.recv_timeout(std::time::Duration::from_secs(30)).unwrap();
    assert_eq!(
        next, "greenhouses",
        "neither the dropped nor the other schema's replacement"
    );
    drop(rx);
    PgStore::drop_schema(&location).unwrap();
    PgStore::drop_schema(&other).unwrap();
}
