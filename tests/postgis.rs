//! The PostGIS backend end to end: a workspace copied GeoPackage → PostGIS → GeoPackage without
//! loss; two `liancun serve` replicas on one database (edits, conflicts and re-imports seen by
//! both); a replica killed with SIGKILL during a burst of writes loses no acknowledged write.
//!
//! They need `LIANCUN_TEST_DATABASE` (a `postgres://` URL; `.ci/run` starts PostgreSQL with
//! PostGIS and sets it). Without it they skip loudly, except in CI where they fail.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use liancun::store::StoreLocation;
use liancun::store::copy::same_contents;
use serde_json::{Value as Json, json};

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn etag(headers: &[(String, String)]) -> String {
    headers
        .iter()
        .find(|(k, _)| k == "etag")
        .map(|(_, v)| v.clone())
        .expect("an ETag")
}

fn version_of(tag: &str) -> i64 {
    tag.trim_matches('"')
        .rsplit("-v")
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

fn open(at: &str) -> Box<dyn liancun::store::WorkspaceStore> {
    StoreLocation::parse(at).unwrap().open().unwrap()
}

/// The demo workspace with a plan (two versions), two tokens (one revoked) and their audit
/// entries, copied into PostGIS and back into a new GeoPackage: all three hold the same layers,
/// features, settings, plans, versions, tokens and audit log. A second copy into the now
/// non-empty schema is refused and changes nothing.
#[test]
fn a_workspace_copied_to_postgis_and_back_is_the_same() {
    let Some(db) = postgres_workspace("copy") else {
        return;
    };
    let ws = demo_workspace("postgis_copy");
    let w = ws.to_str().unwrap();
    let o = liancun(&[
        "plan",
        "create",
        "-w",
        w,
        "--name",
        "乡镇方案",
        "--from",
        "proposal",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    token(&ws, "editor", "编辑甲");
    let o = liancun(&[
        "token", "create", "-w", w, "--role", "viewer", "--name", "过客",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = liancun(&["token", "revoke", "-w", w, "--id", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));

    let o = liancun(&["workspace", "copy", "--from", w, "--to", &db]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("villages") && out.contains("parcels"), "{out}");
    assert!(
        !out.contains(":liancun@"),
        "the password is not printed: {out}"
    );
    let back = ws.with_file_name("back.gpkg");
    let o = liancun(&[
        "workspace",
        "copy",
        "--from",
        &db,
        "--to",
        back.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));

    let (source, pg, round) = (open(w), open(&db), open(back.to_str().unwrap()));
    assert!(source.layers().unwrap().len() >= 5);
    assert_eq!(source.archive().unwrap().versions.len(), 1);
    assert_eq!(source.archive().unwrap().tokens.len(), 2);
    assert!(
        same_contents(&*source, &*pg).unwrap(),
        "GeoPackage → PostGIS"
    );
    assert!(
        same_contents(&*source, &*round).unwrap(),
        "→ GeoPackage again"
    );

    // Into a non-empty target: refused, named, nothing written.
    let before = pg.archive().unwrap();
    let o = liancun(&["workspace", "copy", "--from", w, "--to", &db]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stderr(&o).contains("not empty"), "{}", stderr(&o));
    assert_eq!(pg.archive().unwrap(), before);
    // The copy's ids continue: a new plan in PostGIS is plan 2.
    let o = liancun(&[
        "plan",
        "create",
        "-w",
        &db,
        "--name",
        "第二方案",
        "--from",
        "proposal",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(pg.plans().unwrap().last().unwrap().id, 2);
    drop_schema(&db);
}

fn drop_schema(url: &str) {
    let StoreLocation::Postgres(at) = StoreLocation::parse(url).unwrap() else {
        unreachable!()
    };
    liancun::store::postgis::PgStore::drop_schema(&at).unwrap();
}

/// The demo county imported straight into PostGIS by `liancun demo`, served by two replicas.
fn demo_in_postgres(name: &str) -> Option<String> {
    let db = postgres_workspace(name)?;
    let reference = format!("{}/data/reference", env!("CARGO_MANIFEST_DIR"));
    let o = liancun(&["demo", "-w", &db, "--reference", &reference]);
    assert!(o.status.success(), "{}", stderr(&o));
    Some(db)
}

/// Two replicas on one database: a plan created through A is served by B; two editors
/// committing on the same head through A and B get exactly one winner per round (the other a
/// 412 naming the new head); an edit through A is read through B at once; a re-import through
/// the CLI reaches both replicas' snapshots within seconds.
#[test]
fn two_replicas_on_one_database_answer_alike() {
    let Some(db) = demo_in_postgres("replicas") else {
        return;
    };
    let editor_a = bearer(&token(Path::new(&db), "editor", "编辑甲"));
    let editor_b = bearer(&token(Path::new(&db), "editor", "编辑乙"));
    let a = Server::start(Path::new(&db));
    let b = Server::start(Path::new(&db));
    for path in [
        "/collections/villages/items?limit=5",
        "/villages",
        "/tiles/villages/10/847/402.mvt",
    ] {
        // The same answer and validator but for each server's own address in links and the
        // time of asking.
        let same = |url: &str| {
            let (s, headers, body) = http(url, "GET", path, &[], "").unwrap();
            let mut body = body.replace(url, "SERVER");
            if let Some(at) = body.find("\"timeStamp\":\"") {
                body.replace_range(at..at + 34, "");
            }
            let tag = headers
                .iter()
                .find(|(k, _)| k == "etag")
                .map(|(_, v)| v.clone());
            (s, tag, body)
        };
        let (from_a, from_b) = (same(&a.url), same(&b.url));
        assert_eq!(from_a.0, 200, "{path}");
        assert!(
            from_a.1.is_some() || !path.starts_with("/tiles"),
            "a tile has an ETag"
        );
        assert_eq!(from_a, from_b, "{path}");
    }
    let (s, h, body) = http(
        &a.url,
        "POST",
        "/plans",
        &[("Authorization", &editor_a)],
        r#"{"name": "联村方案", "from": "proposal"}"#,
    )
    .unwrap();
    assert_eq!(s, 201, "{body}");
    let plan: Json = serde_json::from_str(&body).unwrap();
    let zone = plan["zones"][0]["id"].as_str().unwrap().to_string();
    let mut tag = etag(&h);
    let (s, hb, _) = http(&b.url, "GET", "/plans/1", &[], "").unwrap();
    assert_eq!((s, etag(&hb)), (200, tag.clone()), "B serves A's new plan");

    for round in 0..6 {
        let edit = |who: &str| {
            json!({"edits": [{"op": "set_notes", "zone": zone, "notes": format!("{who}{round}")}]})
                .to_string()
        };
        let (ea, eb) = (edit("甲"), edit("乙"));
        let (url_a, url_b, auth_a, auth_b) = (
            a.url.clone(),
            b.url.clone(),
            editor_a.clone(),
            editor_b.clone(),
        );
        let (tag_a, tag_b) = (tag.clone(), tag.clone());
        let ta = std::thread::spawn(move || {
            http(
                &url_a,
                "PATCH",
                "/plans/1",
                &[("Authorization", &auth_a), ("If-Match", &tag_a)],
                &ea,
            )
            .unwrap()
        });
        let tb = std::thread::spawn(move || {
            http(
                &url_b,
                "PATCH",
                "/plans/1",
                &[("Authorization", &auth_b), ("If-Match", &tag_b)],
                &eb,
            )
            .unwrap()
        });
        let (ra, rb) = (ta.join().unwrap(), tb.join().unwrap());
        let mut statuses = [ra.0, rb.0];
        statuses.sort();
        assert_eq!(statuses, [200, 412], "round {round}: {} / {}", ra.2, rb.2);
        let (winner, who) = if ra.0 == 200 {
            (&ra, "甲")
        } else {
            (&rb, "乙")
        };
        tag = etag(&winner.1);
        assert_eq!(version_of(&tag), round + 2);
        // Whoever won, both replicas now serve the winner's notes at the new head.
        for url in [&a.url, &b.url] {
            let (s, h, body) = http(url, "GET", "/plans/1", &[], "").unwrap();
            assert_eq!((s, etag(&h)), (200, tag.clone()));
            let p: Json = serde_json::from_str(&body).unwrap();
            let notes = p["zones"]
                .as_array()
                .unwrap()
                .iter()
                .find(|z| z["id"] == zone.as_str())
                .unwrap()["notes"]
                .clone();
            assert_eq!(notes, format!("{who}{round}").as_str());
        }
    }

    // A re-import (one village renamed) through the CLI: both replicas reload within seconds.
    let villages = std::env::temp_dir()
        .join(format!("liancun-demo-t_replicas_{}", std::process::id()))
        .join("villages.geojson");
    let text = std::fs::read_to_string(&villages).unwrap();
    let (_, first) = http(
        &a.url,
        "GET",
        "/collections/villages/items?limit=1",
        &[],
        "",
    )
    .map(|(_, _, b)| ((), b))
    .unwrap();
    let name = serde_json::from_str::<Json>(&first).unwrap()["features"][0]["properties"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let renamed = villages.with_file_name("renamed.geojson");
    std::fs::write(
        &renamed,
        text.replacen(&format!("\"{name}\""), "\"改名村\"", 1),
    )
    .unwrap();
    let o = liancun(&[
        "import",
        "-w",
        &db,
        "--layer",
        "villages",
        renamed.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    for url in [&a.url, &b.url] {
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            let (_, _, body) =
                http(url, "GET", "/collections/villages/items?limit=1", &[], "").unwrap();
            if body.contains("改名村") {
                break;
            }
            assert!(
                Instant::now() < until,
                "{url} still serves the old villages"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    drop((a, b));
    drop_schema(&db);
}

/// Four writers through two replicas; one replica is killed with SIGKILL mid-burst. Every
/// acknowledged version is in the database with its write, versions are consecutive, and the
/// surviving replica goes on serving.
#[test]
fn a_replica_killed_mid_burst_loses_no_acknowledged_write() {
    let Some(db) = demo_in_postgres("crash") else {
        return;
    };
    let auth = bearer(&token(Path::new(&db), "editor", "压测"));
    let a = Server::start(Path::new(&db));
    let b = Server::start(Path::new(&db));
    let (s, _, body) = http(
        &a.url,
        "POST",
        "/plans",
        &[("Authorization", &auth)],
        r#"{"name": "压测方案", "from": "proposal"}"#,
    )
    .unwrap();
    assert_eq!(s, 201, "{body}");
    let plan: Json = serde_json::from_str(&body).unwrap();
    let zones: Vec<String> = plan["zones"]
        .as_array()
        .unwrap()
        .iter()
        .take(4)
        .map(|z| z["id"].as_str().unwrap().to_string())
        .collect();
    let acked = Arc::new(std::sync::Mutex::new(Vec::<(i64, String, String)>::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = zones
        .iter()
        .enumerate()
        .map(|(t, zone)| {
            let url = if t % 2 == 0 {
                a.url.clone()
            } else {
                b.url.clone()
            };
            let (auth, acked, stop, zone) =
                (auth.clone(), acked.clone(), stop.clone(), zone.clone());
            std::thread::spawn(move || {
                let mut n = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let Ok((200, headers, _)) = http(&url, "GET", "/plans/1", &[], "") else {
                        return;
                    };
                    let note = format!("w{t}-{n}");
                    let body = json!({"edits": [{"op": "set_notes", "zone": zone, "notes": note}]})
                        .to_string();
                    match http(
                        &url,
                        "PATCH",
                        "/plans/1",
                        &[("Authorization", &auth), ("If-Match", &etag(&headers))],
                        &body,
                    ) {
                        Ok((200, headers, _)) => {
                            acked.lock().unwrap().push((
                                version_of(&etag(&headers)),
                                zone.clone(),
                                note,
                            ));
                            n += 1;
                        }
                        Ok((412, _, _)) => {}
                        Ok((s, _, b)) => panic!("unexpected {s}: {b}"),
                        Err(_) => return, // this replica is gone
                    }
                }
            })
        })
        .collect();
    while acked.lock().unwrap().len() < 30 {
        std::thread::sleep(Duration::from_millis(20));
    }
    let killed = a.pid();
    drop(a); // SIGKILL
    let until = Instant::now() + Duration::from_secs(2);
    while Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in writers {
        w.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 30, "{killed}");

    let (s, _, _) = http(&b.url, "GET", "/villages", &[], "").unwrap();
    assert_eq!(s, 200, "the surviving replica serves");
    assert_acknowledged_edits_kept(&b.url, &acked);
    drop(b);
    drop_schema(&db);
}

/// An import into PostGIS streams and validates like one into a GeoPackage: a good file lands
/// whole; a file with a self-intersecting village is refused (exit 2, the feature named) after
/// its rows were streamed, and the stored layer stays as it was, version and all.
#[test]
fn a_rejected_import_into_postgis_leaves_the_layer_as_it_was() {
    let Some(db) = postgres_workspace("reject") else {
        return;
    };
    let dir = temp_dir("postgis_reject");
    let good = dir.join("good.geojson");
    write_geojson(
        &good,
        &[
            (
                r#"{"code":"370323109222","name":"甲村"}"#,
                &square(118.1, 36.1, 0.01),
            ),
            (
                r#"{"code":"370323109226","name":"乙村"}"#,
                &square(118.11, 36.1, 0.01),
            ),
        ],
    );
    let o = liancun(&[
        "import",
        "-w",
        &db,
        "-l",
        "villages",
        good.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let bad = dir.join("bad.geojson");
    let bowtie = r#"{"type":"Polygon","coordinates":[[[118.0,36.0],[118.0,36.01],[118.01,36.0],[118.01,36.01],[118.0,36.0]]]}"#;
    let mut features = vec![(
        r#"{"code":"370323109230"}"#.to_string(),
        square(118.2, 36.2, 0.01),
    )];
    features.push((r#"{"code":"370323109231"}"#.to_string(), bowtie.to_string()));
    let refs: Vec<(&str, &str)> = features
        .iter()
        .map(|(p, g)| (p.as_str(), g.as_str()))
        .collect();
    write_geojson(&bad, &refs);
    let o = liancun(&["import", "-w", &db, "-l", "villages", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(stdout(&o).contains("feature #2"), "{}", stdout(&o));
    let store = open(&db);
    let info = store
        .layer(liancun::domain::LayerKind::Villages)
        .unwrap()
        .unwrap();
    assert_eq!((info.feature_count, info.data_version), (2, 1));
    let o = liancun(&["info", "-w", &db]);
    let out = stdout(&o);
    assert!(
        out.contains("villages") && out.contains("2 features"),
        "{out}"
    );
    assert!(
        !out.contains(":liancun@"),
        "the password is not printed: {out}"
    );
    let StoreLocation::Postgres(at) = StoreLocation::parse(&db).unwrap() else {
        unreachable!()
    };
    let pg = liancun::store::postgis::PgStore::open(&at).unwrap();
    let staging: i64 = pg
        .query(
            "SELECT count(*) FROM pg_tables WHERE schemaname = $1 AND tablename LIKE '%staging%'",
            &[&at.schema()],
        )
        .unwrap()[0]
        .get(0);
    assert_eq!(staging, 0, "the refused import's staging table is gone");
    drop((store, pg));
    drop_schema(&db);
}

/// The database cuts every connection of a replica (a restart, a failover, an idle timeout):
/// the replica's next reads and writes connect again and answer — no error reaches the editor.
#[test]
fn a_replica_reconnects_when_the_database_cuts_its_connections() {
    let Some(db) = demo_in_postgres("cut") else {
        return;
    };
    // Its own application name, so that only this replica's connections are cut.
    let name = format!("liancun_cut_{}", std::process::id());
    let replica_db = format!("{db}&application_name={name}");
    let editor = bearer(&token(Path::new(&db), "editor", "编辑甲"));
    let server = Server::start(Path::new(&replica_db));
    let (s, h, body) = http(
        &server.url,
        "POST",
        "/plans",
        &[("Authorization", &editor)],
        r#"{"name": "断线方案", "from": "proposal"}"#,
    )
    .unwrap();
    assert_eq!(s, 201, "{body}");
    let plan: Json = serde_json::from_str(&body).unwrap();
    let zone = plan["zones"][0]["id"].as_str().unwrap().to_string();
    let StoreLocation::Postgres(at) = StoreLocation::parse(&db).unwrap() else {
        unreachable!()
    };
    let admin = liancun::store::postgis::PgStore::open(&at).unwrap();
    let cut = || -> i64 {
        admin
            .query(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1",
                &[&name],
            )
            .unwrap()[0]
            .get(0)
    };
    assert!(
        cut() >= 2,
        "the replica's plan and read connections were cut"
    );
    // Reads: the plan (plan store) with a token (read store).
    let (s, h2, body) = http(
        &server.url,
        "GET",
        "/plans/1",
        &[("Authorization", &editor)],
        "",
    )
    .unwrap();
    assert_eq!((s, etag(&h2)), (200, etag(&h)), "{body}");
    cut();
    // A write straight after a cut.
    let edit = json!({"edits": [{"op": "set_notes", "zone": zone, "notes": "断线后"}]}).to_string();
    let (s, _, body) = http(
        &server.url,
        "PATCH",
        "/plans/1",
        &[("Authorization", &editor), ("If-Match", &etag(&h))],
        &edit,
    )
    .unwrap();
    assert_eq!(s, 200, "{body}");
    assert!(body.contains("断线后"));
    drop(server);
    drop(admin);
    drop_schema(&db);
}
