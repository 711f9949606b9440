//! Large and interrupted imports, through the CLI as a user runs them:
//! - a GeoJSON far larger than the memory the import may use is streamed (peak RSS bounded);
//! - an import killed with SIGKILL mid-write leaves the workspace exactly as it was.
//!
//! The big file is `LIANCUN_BIG_IMPORT_MB` MB (default 256; `.ci/run` and the closing note use
//! 2048 for the 2 GB case).

mod common;

use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use liancun::domain::LayerKind;
use liancun::workspace::Workspace;

/// Writes parcels (≈ 1 KB each: a 24-vertex polygon and attributes) until the file reaches `mb`.
fn write_parcels(path: &Path, mb: u64) -> u64 {
    let mut w = BufWriter::new(std::fs::File::create(path).unwrap());
    w.write_all(b"{\"type\":\"FeatureCollection\",\"features\":[\n")
        .unwrap();
    let (mut written, mut n) = (0u64, 0u64);
    while written < mb * 1024 * 1024 {
        let (col, row) = (n % 2000, n / 2000);
        let (x0, y0) = (117.9 + col as f64 * 0.0003, 35.9 + row as f64 * 0.0003);
        let ring: Vec<String> = (0..24)
            .map(|k| {
                let a = k as f64 / 24.0 * std::f64::consts::TAU;
                format!(
                    "[{:.9},{:.9}]",
                    x0 + 0.00012 * (1.0 + a.cos()),
                    y0 + 0.00012 * (1.0 + a.sin())
                )
            })
            .chain(std::iter::once(format!(
                "[{:.9},{:.9}]",
                x0 + 0.00024,
                y0 + 0.00012
            )))
            .collect();
        let line = format!(
            "{}{{\"type\":\"Feature\",\"properties\":{{\"BSM\":{n},\"DLBM\":\"0103\",\"DLMC\":\"旱地\",\"ZLDWDM\":\"3703231092220000000\",\"备注\":\"流式导入测试 streaming import test\"}},\"geometry\":{{\"type\":\"Polygon\",\"coordinates\":[[{}]]}}}}\n",
            if n == 0 { "" } else { "," },
            ring.join(",")
        );
        w.write_all(line.as_bytes()).unwrap();
        written += line.len() as u64;
        n += 1;
    }
    w.write_all(b"]}\n").unwrap();
    w.flush().unwrap();
    n
}

/// Peak resident memory (VmHWM, kB) of a running process, read from /proc.
fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[test]
fn a_file_much_larger_than_memory_is_streamed() {
    let mb: u64 = std::env::var("LIANCUN_BIG_IMPORT_MB")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(256);
    let dir = temp_dir("big_import");
    let file = dir.join("parcels.geojson");
    let features = write_parcels(&file, mb);
    let ws = dir.join("w.gpkg");
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_liancun"))
        .args([
            "import",
            "-w",
            ws.to_str().unwrap(),
            "-l",
            "parcels",
            file.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut peak = 0;
    let status = loop {
        if let Some(kb) = peak_rss_kb(child.id()) {
            peak = peak.max(kb);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = child.wait_with_output().unwrap();
    assert!(status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let peak_mb = peak / 1024;
    eprintln!(
        "imported {features} parcels ({mb} MB of GeoJSON) in {:.1} s, peak RSS {peak_mb} MB",
        started.elapsed().as_secs_f64()
    );
    // Memory does not follow the file size: a constant (the 64 MB SQLite page cache, buffers)
    // plus the R-tree bulk load's 32 bytes per feature (allowed twice over here).
    let allowed_mb = 160 + features * 64 / (1024 * 1024);
    assert!(
        peak_mb < allowed_mb,
        "peak RSS {peak_mb} MB (allowed {allowed_mb} MB) for a {mb} MB file of {features} features"
    );
    assert!(
        peak_mb < mb.max(512) / 2,
        "peak RSS {peak_mb} MB is not far below the {mb} MB file"
    );
    let w = Workspace::open(&ws).unwrap();
    assert_eq!(
        w.store()
            .layer(LayerKind::Parcels)
            .unwrap()
            .unwrap()
            .feature_count,
        features
    );
    drop(w);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_killed_import_leaves_the_workspace_unchanged() {
    let dir = temp_dir("killed_import");
    let ws = dir.join("w.gpkg");
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
    let w = ws.to_str().unwrap();
    assert!(
        liancun(&["import", "-w", w, "-l", "villages", first.to_str().unwrap()])
            .status
            .success()
    );

    // A long re-import of the same layer, killed while it writes.
    let big = dir.join("big.geojson");
    let features: Vec<(String, String)> = (0..150_000)
        .map(|i| {
            (
                format!(r#"{{"code":"3703{i:08}","name":"村{i}"}}"#),
                square(
                    118.0 + (i % 500) as f64 * 0.001,
                    36.0 + (i / 500) as f64 * 0.001,
                    0.001,
                ),
            )
        })
        .collect();
    let refs: Vec<(&str, &str)> = features
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    write_geojson(&big, &refs);
    let journal = dir.join("w.gpkg-journal");
    let mut child = Command::new(env!("CARGO_BIN_EXE_liancun"))
        .args(["import", "-w", w, "-l", "villages", big.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !journal.exists() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the import finished before it could be killed"
        );
        assert!(
            Instant::now() < deadline,
            "the import never started writing"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the import finished before it could be killed"
    );
    child.kill().unwrap(); // SIGKILL: no destructor, no rollback by the process itself
    child.wait().unwrap();

    // Reopening rolls the hot journal back: the old layer, whole, and a sound file.
    let reopened = Workspace::open(&ws).unwrap();
    let info = reopened
        .store()
        .layer(LayerKind::Villages)
        .unwrap()
        .unwrap();
    assert_eq!((info.feature_count, info.data_version), (2, 1));
    let file = liancun::store::gpkg::GpkgStore::open(&ws).unwrap();
    let check: String = file
        .connection()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let staging: i64 = file
        .connection()
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name LIKE '%staging%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(staging, 0);
    drop(reopened);
    // And the workspace still accepts a new import.
    assert!(
        liancun(&["import", "-w", w, "-l", "villages", first.to_str().unwrap()])
            .status
            .success()
    );
}
