//! The import pipeline: read → resolve CRS → map fields → validate (and repair on request) →
//! write atomically → layer checks → report.
//!
//! Every problem names the feature (row, and id when the source has one) and the reason.
//! Errors reject the import: nothing is written and the previous layer stays as it was.
//! Warnings (e.g. a ZLDWDM that names no village, gaps between villages) are reported and the
//! import proceeds. With `repair`, repairable errors (unclosed rings, self-intersections,
//! swapped lat/lon) are fixed and listed as repairs.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use geo::{Area, Coord, GeodesicArea, Geometry, MultiPolygon};

use super::encoding::REPLACEMENT;
use super::fields::{FieldMapper, coerce, normalise_village_code};
use super::{IngestError, Progress, RawFeature, ReadOptions, SourceDescription, open_source};
use crate::domain::{GeometryFamily, LayerKind, Value, village_code_of};
use crate::engine::crs::{
    CoordinateGuess, Crs, EPSG_CGCS2000, Reprojector, guess_from_coordinates, in_china,
    metric_epsg_for_lon,
};
use crate::engine::geometry::{
    coords_of, for_each_coord_mut, to_multilinestring, to_multipolygon, type_name,
};
use crate::engine::validate::{
    BoundaryProblemKind, polygonal_problems, repair_polygonal, village_boundary_problems,
};
use crate::store::{FeatureStore, LayerProvenance};

/// Default tolerance (m) for gaps and overlaps between villages: about the accuracy of
/// 1:2000 boundary surveys; slivers narrower than this on average are digitising noise.
pub const DEFAULT_BOUNDARY_TOLERANCE_M: f64 = 1.0;

/// How many problems of one kind the report lists one by one (all are counted).
const LISTED_PER_KIND: usize = 50;

/// How to import one file into one workspace layer.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The workspace layer the file replaces (`--layer`).
    pub layer: LayerKind,
    /// `--crs`: overrides whatever the file says.
    pub crs: Option<Crs>,
    /// How to read the file (text encoding, GeoPackage table).
    pub read: ReadOptions,
    /// `--map SRC=DST` rules.
    pub mappings: Vec<(String, String)>,
    /// `--repair`: fix invalid geometries (and accept closed rings) instead of refusing them.
    pub repair: bool,
    /// Gaps and overlaps between villages narrower than this on average (m) are not reported.
    pub boundary_tolerance_m: f64,
}

impl ImportOptions {
    /// Default options for `layer`: CRS from the file, no mapping rules, no repair, 1 m tolerance.
    pub fn new(layer: LayerKind) -> ImportOptions {
        ImportOptions {
            layer,
            crs: None,
            read: ReadOptions::default(),
            mappings: Vec::new(),
            repair: false,
            boundary_tolerance_m: DEFAULT_BOUNDARY_TOLERANCE_M,
        }
    }
}

/// How serious a finding of the validation report is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Blocks the import: nothing is written while any error remains.
    Error,
    /// Worth a look, but the data is imported as it is.
    Warning,
    /// Fixed by `--repair`; the repaired data is imported.
    Repaired,
}

/// One finding of the validation report.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// How serious it is.
    pub severity: Severity,
    /// Machine-readable kind, e.g. `invalid-geometry`, `duplicate-code`.
    pub kind: &'static str,
    /// The feature(s) concerned, e.g. "feature #12 (id 370323109222)".
    pub feature: String,
    /// What is wrong (Chinese and English), with the values at fault.
    pub message: String,
}

/// The outcome of an import.
#[derive(Debug, Clone)]
pub struct ImportReport {
    /// The workspace layer the file was imported into.
    pub layer: LayerKind,
    /// The file read.
    pub source: PathBuf,
    /// The file's format, e.g. `GeoJSON`, `ESRI Shapefile`.
    pub format: &'static str,
    /// The CRS the coordinates were read in, e.g. `EPSG:4527`.
    pub crs: String,
    /// Where that CRS came from (`--crs`, a .prj, the GeoJSON default, the coordinates).
    pub crs_origin: String,
    /// Notes for the reader (encoding chosen, layer picked, CRS guesses, …).
    pub notes: Vec<String>,
    /// Features read from the file.
    pub features_read: u64,
    /// Features written to the workspace (0 when the import was refused).
    pub features_written: u64,
    /// The findings, listed up to 50 per kind (all are counted in `counts`).
    pub problems: Vec<Problem>,
    /// Count per (severity, kind), including problems not listed one by one.
    pub counts: Vec<(Severity, &'static str, u64)>,
    /// Whether the new contents replaced the layer (no errors).
    pub committed: bool,
    /// The workspace's metric CRS after the import (a CGCS2000 3° Gauss–Krüger EPSG code), if any.
    pub metric_epsg: Option<u32>,
    /// Wall-clock duration of the import, seconds.
    pub seconds: f64,
}

impl ImportReport {
    /// Number of findings of this severity, listed or not.
    pub fn count(&self, severity: Severity) -> u64 {
        self.counts
            .iter()
            .filter(|c| c.0 == severity)
            .map(|c| c.2)
            .sum()
    }

    /// Number of findings of this kind (e.g. `invalid-geometry`), listed or not.
    pub fn count_kind(&self, kind: &str) -> u64 {
        self.counts
            .iter()
            .filter(|c| c.1 == kind)
            .map(|c| c.2)
            .sum()
    }

    /// The report as text for the terminal (Chinese first, English after).
    pub fn render(&self) -> String {
        let mut out = String::new();
        let status = if self.committed {
            "导入成功 imported"
        } else {
            "导入被拒绝 rejected — workspace unchanged"
        };
        out.push_str(&format!(
            "== 导入报告 import report: {} ← {} ({}) ==\n",
            self.layer,
            self.source.display(),
            self.format
        ));
        out.push_str(&format!(
            "坐标系 CRS: {} (from {})\n",
            self.crs, self.crs_origin
        ));
        if let Some(m) = self.metric_epsg {
            out.push_str(&format!(
                "量算坐标系 metric CRS for areas/distances: EPSG:{m}\n"
            ));
        }
        for n in &self.notes {
            out.push_str(&format!("说明 note: {n}\n"));
        }
        out.push_str(&format!(
            "要素 features: {} read, {} written; {} error(s), {} warning(s), {} repair(s)\n",
            self.features_read,
            self.features_written,
            self.count(Severity::Error),
            self.count(Severity::Warning),
            self.count(Severity::Repaired)
        ));
        for p in &self.problems {
            let tag = match p.severity {
                Severity::Error => "错误 ERROR",
                Severity::Warning => "警告 WARN",
                Severity::Repaired => "已修复 REPAIRED",
            };
            out.push_str(&format!(
                "  {tag} [{}] {}: {}\n",
                p.kind, p.feature, p.message
            ));
        }
        for (sev, kind, n) in &self.counts {
            let listed = self
                .problems
                .iter()
                .filter(|p| p.severity == *sev && p.kind == *kind)
                .count() as u64;
            if *n > listed {
                out.push_str(&format!("  … {} more [{kind}] not listed\n", n - listed));
            }
        }
        out.push_str(&format!("结果 result: {status} in {:.2} s\n", self.seconds));
        out
    }
}

struct Findings {
    problems: Vec<Problem>,
    counts: Vec<(Severity, &'static str, u64)>,
}

impl Findings {
    fn add(&mut self, severity: Severity, kind: &'static str, feature: String, message: String) {
        let slot = match self
            .counts
            .iter()
            .position(|c| c.0 == severity && c.1 == kind)
        {
            Some(i) => i,
            None => {
                self.counts.push((severity, kind, 0));
                self.counts.len() - 1
            }
        };
        self.counts[slot].2 += 1;
        if self.counts[slot].2 as usize <= LISTED_PER_KIND {
            self.problems.push(Problem {
                severity,
                kind,
                feature,
                message,
            });
        }
    }

    /// Adds every finding of `other` (a single feature's, all listed).
    fn merge(&mut self, other: Findings) {
        for p in other.problems {
            self.add(p.severity, p.kind, p.feature, p.message);
        }
    }

    fn errors(&self) -> u64 {
        self.counts
            .iter()
            .filter(|c| c.0 == Severity::Error)
            .map(|c| c.2)
            .sum()
    }
}

/// How many features are sampled to guess the CRS of a file that does not declare one.
const CRS_SAMPLE: usize = 200;
const SAMPLE_COMPLETE: &str = "sample complete";

/// A feature after the reader thread's work: geometry checked, reprojected and shaped for the
/// layer (or `None`), with the findings about it.
struct PreparedFeature {
    /// The source feature (its geometry moved out into `geometry`).
    raw: RawFeature,
    geometry: Option<Geometry<f64>>,
    findings: Findings,
}

/// The reader thread's per-feature work: everything that needs only the feature itself.
fn prepare_feature(
    mut raw: RawFeature,
    family: GeometryFamily,
    to_lonlat: &Reprojector,
    repair: bool,
) -> PreparedFeature {
    let (row, id) = (raw.row, raw.id.clone());
    let label = || super::feature_label(row, id.as_deref());
    let mut findings = Findings {
        problems: Vec::new(),
        counts: Vec::new(),
    };
    let geometry = match std::mem::replace(&mut raw.geometry, Ok(None)) {
        Err(reason) => {
            findings.add(Severity::Error, "unreadable-geometry", label(), reason);
            None
        }
        Ok(None) => {
            findings.add(
                Severity::Error,
                "empty-geometry",
                label(),
                "没有几何 the feature has no geometry".into(),
            );
            None
        }
        Ok(Some(g)) => Some(g),
    };
    for note in &raw.repaired {
        if repair {
            findings.add(Severity::Repaired, "unclosed-ring", label(), note.clone());
        } else {
            findings.add(
                Severity::Error,
                "unclosed-ring",
                label(),
                format!("{note} — use --repair to accept"),
            );
        }
    }
    let geometry =
        geometry.and_then(|g| check_geometry(g, family, to_lonlat, repair, &label, &mut findings));
    PreparedFeature {
        raw,
        geometry,
        findings,
    }
}

/// Canonical values (by field index, converted to their types) and kept extras of one feature;
/// conversion failures become findings. Runs on the writing thread, which has time to spare
/// while the reading thread parses.
fn map_attributes(
    properties: Vec<(String, Value)>,
    layer: LayerKind,
    mapper: &mut FieldMapper,
    label: &dyn Fn() -> String,
    findings: &mut Findings,
) -> (Vec<Value>, Vec<(String, Value)>) {
    let fields = layer.canonical_fields();
    let mapped = mapper.map(properties);
    let mut canonical_values = vec![Value::Null; fields.len()];
    for (i, entry) in mapped.canonical.into_iter().enumerate() {
        let Some((source_name, value)) = entry else {
            continue;
        };
        match coerce(&fields[i], value) {
            Ok(v)
                if NON_NEGATIVE.contains(&fields[i].name)
                    && v.as_f64().is_some_and(|x| x < 0.0) =>
            {
                findings.add(
                    Severity::Error,
                    "negative-value",
                    label(),
                    format!(
                        "{} ({}, from '{source_name}') 为负数 {} / is negative: a count or measure cannot be below 0",
                        fields[i].name,
                        fields[i].label_zh,
                        v.as_f64().unwrap_or_default()
                    ),
                );
            }
            Ok(v)
                if layer == LayerKind::Villages
                    && fields[i].name == "name"
                    && v.as_str().is_none_or(|t| t.trim().is_empty()) =>
            {
                findings.add(
                    Severity::Error,
                    "empty-name",
                    label(),
                    format!(
                        "村名为空 the village name (from '{source_name}') is empty: every village needs a name on the map and in the plans"
                    ),
                );
            }
            Ok(v) => canonical_values[i] = v,
            Err(reason) => findings.add(
                Severity::Error,
                "bad-value",
                label(),
                format!(
                    "field {} ({}, from '{source_name}'): {reason}",
                    fields[i].name, fields[i].label_zh
                ),
            ),
        }
    }
    (canonical_values, mapped.extras)
}

/// Persons per km² above which a village's population is reported as implausible: above the
/// densest urban district in China (上海市黄浦区, about 32,000 per km² in the 2020 census), so
/// a village beyond it points to a unit error (hectares taken for km², 户数 × 10 in 人口).
const MAX_VILLAGE_DENSITY: f64 = 50_000.0;

/// Canonical counts and measures that cannot be negative.
const NON_NEGATIVE: &[&str] = &[
    "population",
    "households",
    "party_members",
    "capacity",
    "radius_m",
    "speed",
    "tbmj",
];

/// Features travel from the reader thread in batches of this size.
const BATCH: usize = 512;

fn resolve_crs(
    path: &Path,
    options: &ImportOptions,
    description: &SourceDescription,
    sample: &[RawFeature],
    notes: &mut Vec<String>,
) -> Result<(Crs, String), IngestError> {
    let declared = description.declared_crs.as_ref();
    let declared_is_default = description.crs_is_default;
    let origin = description.crs_origin.as_str();
    let format = description.format;
    if let Some(crs) = &options.crs {
        if let Some(d) = declared.filter(|d| *d != crs && !declared_is_default) {
            notes.push(format!(
                "--crs {} overrides the file's {}",
                crs.label(),
                d.label()
            ));
        }
        return Ok((crs.clone(), "--crs".into()));
    }
    let coords: Vec<Coord<f64>> = sample
        .iter()
        .filter_map(|f| f.geometry.as_ref().ok().and_then(|g| g.as_ref()))
        .flat_map(|g| coords_of(g).into_iter().take(4))
        .filter(|c| c.x.is_finite() && c.y.is_finite())
        .collect();
    let guess = guess_from_coordinates(&coords);
    if let Some(d) = declared.filter(|_| !declared_is_default) {
        return Ok((d.clone(), origin.to_string()));
    }
    match guess {
        CoordinateGuess::PrefixedGaussKruger(code) => {
            notes.push(format!(
                "8-digit eastings with zone prefix {}: detected CGCS2000 Gauss–Krüger EPSG:{code}",
                code_zone(code)
            ));
            Ok((Crs::Epsg(code), "coordinates (zone number in the easting)".into()))
        }
        CoordinateGuess::ProjectedWithoutZone => Err(IngestError::MissingCrs {
            path: path.to_path_buf(),
            reason: "coordinates are projected metres without a zone number in the easting, so the central meridian is unknown (e.g. EPSG:4548 for 117°E)".into(),
        }),
        _ if declared_is_default => Ok((declared.cloned().unwrap_or(Crs::Epsg(EPSG_CGCS2000)), origin.to_string())),
        CoordinateGuess::LonLat | CoordinateGuess::LatLonSwapped if format == "CSV" => {
            notes.push("CSV coordinates look like lon/lat in China: read as CGCS2000 EPSG:4490 (pass --crs to override)".into());
            Ok((Crs::Epsg(EPSG_CGCS2000), "CSV lon/lat columns".into()))
        }
        _ => Err(IngestError::MissingCrs { path: path.to_path_buf(), reason: format!("the file declares none ({origin})") }),
    }
}

fn code_zone(epsg: u32) -> u32 {
    crate::engine::crs::gauss_kruger(epsg)
        .and_then(|g| g.zone)
        .unwrap_or(0)
}

/// Imports `path` into layer `options.layer` of `store`. Returns the report; the layer is replaced
/// only when the report has no errors (`report.committed`). `Err` is for files that cannot be
/// read at all (then too nothing changes).
pub fn import(
    store: &mut dyn FeatureStore,
    path: &Path,
    options: &ImportOptions,
    progress: Progress,
) -> Result<ImportReport, IngestError> {
    let started = Instant::now();
    let layer = options.layer;
    let mut source = open_source(path, &options.read, progress.clone())?;
    let description = source.describe().clone();
    let mut notes = description.notes.clone();

    // Villages already in the workspace, to check codes that refer to them.
    let known_villages: Option<HashSet<String>> = if layer == LayerKind::Villages {
        None
    } else {
        village_codes(store)?
    };
    if known_villages.is_none() && layer != LayerKind::Villages {
        notes
            .push("villages not imported yet: village codes of this layer were not checked".into());
    }

    // Read a sample to resolve the CRS before anything is written; the full pass below starts
    // again from the first feature.
    let mut sample: Vec<RawFeature> = Vec::new();
    let sampled = source.read_all(&mut |f: RawFeature| {
        sample.push(f);
        if sample.len() >= CRS_SAMPLE {
            return Err(IngestError::Usage(SAMPLE_COMPLETE.into()));
        }
        Ok(())
    });
    match sampled {
        Err(IngestError::Usage(m)) if m == SAMPLE_COMPLETE => {}
        other => other?,
    }
    let (crs, crs_origin) = resolve_crs(path, options, &description, &sample, &mut notes)?;
    // Fail early (before the reader thread) if PROJ cannot transform from this CRS.
    Reprojector::new(&crs, &Crs::Epsg(EPSG_CGCS2000))?;
    if crs == Crs::Epsg(crate::engine::crs::EPSG_WGS84) {
        notes.push(
            "WGS 84 / CRS84 lon/lat stored as CGCS2000 without shift (they differ by < 1 m)".into(),
        );
    }

    let family = layer.geometry_family();
    let mut writer = store.begin_replace(layer, family)?;
    let fields = layer.canonical_fields();
    let mut column_of: Vec<usize> = Vec::with_capacity(fields.len());
    for f in fields {
        column_of.push(writer.ensure_column(f.name, f.ty)?);
    }
    let mut extra_columns: HashMap<String, usize> = HashMap::new();
    // Source fields seen only with null values so far; kept as TEXT columns at the end.
    let mut null_only: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    let mut mapper = FieldMapper::new(layer, &options.mappings);
    let mut findings = Findings {
        problems: Vec::new(),
        counts: Vec::new(),
    };
    let mut seen_codes: HashMap<String, String> = HashMap::new();
    let mut village_geometries: Vec<(String, MultiPolygon<f64>)> = Vec::new();
    let mut bbox_center: Option<(f64, f64, u64)> = None;
    let (mut read, mut written) = (0u64, 0u64);
    let code_idx = fields.iter().position(|f| f.name == "code");
    let village_ref_idx = fields
        .iter()
        .position(|f| f.name == "village_code" || f.name == "zldwdm");
    let population_idx = fields.iter().position(|f| f.name == "population");
    // The one encoding that would decode the file cleanly, found once when the first garbled
    // text turns up.
    let text_encoding = description.text_encoding;
    let mut clean: Option<Option<&'static str>> = None;
    let required_idx = layer
        .required_field()
        .and_then(|r| fields.iter().position(|f| f.name == r));

    let mut process = |prepared: PreparedFeature,
                       writer: &mut dyn crate::store::LayerWriter|
     -> Result<(), IngestError> {
        read += 1;
        let PreparedFeature {
            raw,
            geometry,
            findings: feature_findings,
        } = prepared;
        let RawFeature {
            row,
            id,
            properties,
            ..
        } = raw;
        let label = || super::feature_label(row, id.as_deref());
        let errors_before = findings.errors();
        findings.merge(feature_findings);
        if let Some((name, _)) = properties.iter().find(|(name, v)| {
            name.contains(REPLACEMENT) || v.as_str().is_some_and(|t| t.contains(REPLACEMENT))
        }) {
            let hint = match *clean.get_or_insert_with(|| super::encoding::clean_encoding(path)) {
                Some(e) => format!("改用 --encoding {e} 重新导入 / re-import with --encoding {e}"),
                None => "请用 --encoding 指定文件的编码（如 gbk、utf-8） / name the file's encoding with --encoding (e.g. gbk, utf-8)".into(),
            };
            findings.add(
                Severity::Error,
                "undecodable-text",
                label(),
                format!(
                    "字段 '{name}' 有按所选编码 ({}) 无法解码的字节，文本会成为乱码：{hint} / field '{name}' has bytes that do not decode as {}, so its text would be garbled",
                    text_encoding.unwrap_or("?"),
                    text_encoding.unwrap_or("?"),
                ),
            );
        }
        let (mut canonical_values, extras) =
            map_attributes(properties, layer, &mut mapper, &label, &mut findings);
        if layer == LayerKind::Villages
            && let (Some(pi), Some(Geometry::MultiPolygon(mp))) = (population_idx, &geometry)
            && let Some(population) = canonical_values[pi].as_f64()
        {
            let km2 = mp.geodesic_area_unsigned() / 1e6;
            if km2 > 0.0 && population / km2 > MAX_VILLAGE_DENSITY {
                findings.add(
                    Severity::Warning,
                    "implausible-density",
                    label(),
                    format!(
                        "人口密度 {:.0} 人/km²（人口 {population}，面积 {km2:.3} km²）高于 {MAX_VILLAGE_DENSITY} 人/km²：请检查人口字段或面积单位 / density {:.0} per km² (population {population}, area {km2:.3} km²) is above {MAX_VILLAGE_DENSITY} per km²: check the population field or the geometry's units",
                        population / km2,
                        population / km2
                    ),
                );
            }
        }
        let mut values: Vec<(usize, Value)> = Vec::with_capacity(fields.len() + extras.len());
        if let Some(ci) = code_idx.filter(|_| layer == LayerKind::Villages) {
            match canonical_values[ci].as_str().map(normalise_village_code) {
                Some(Ok(code)) => {
                    if let Some(first) = seen_codes.get(&code) {
                        findings.add(
                            Severity::Error,
                            "duplicate-code",
                            label(),
                            format!("村代码 {code} is also used by {first}"),
                        );
                    } else {
                        seen_codes.insert(code.clone(), label());
                    }
                    canonical_values[ci] = Value::Text(code);
                }
                Some(Err(reason)) => findings.add(Severity::Error, "bad-code", label(), reason),
                None => {}
            }
        }
        if let Some(ri) = required_idx
            && canonical_values[ri].is_null()
        {
            let spec = &fields[ri];
            findings.add(
                Severity::Error,
                "missing-field",
                label(),
                format!(
                    "required field {} ({}) is empty or absent (map your column with --map SRC={})",
                    spec.name, spec.label_zh, spec.name
                ),
            );
        }
        if let (Some(vi), Some(known)) = (village_ref_idx, known_villages.as_ref())
            && let Some(text) = canonical_values[vi].as_str()
        {
            let matched = village_code_of(text).is_some_and(|c| known.contains(c));
            if !matched {
                findings.add(
                        Severity::Warning,
                        "unknown-village-code",
                        label(),
                        format!("{} '{text}' matches no village in the workspace; located by geometry instead", fields[vi].name),
                    );
            }
        }
        let village_code = code_idx
            .filter(|_| layer == LayerKind::Villages)
            .and_then(|ci| canonical_values[ci].as_str().map(str::to_string));
        for (i, v) in canonical_values.into_iter().enumerate() {
            if !v.is_null() {
                values.push((column_of[i], v));
            }
        }

        let ok = findings.errors() == errors_before;
        // Once the import is doomed, keep validating but stop writing.
        if ok
            && findings.errors() == 0
            && let Some(g) = geometry
        {
            for (name, v) in extras {
                let col = match extra_columns.get(&name) {
                    Some(&c) => c,
                    None => {
                        // The column's type comes from its first non-null value.
                        let Some(ty) = value_type(&v) else {
                            null_only.insert(name);
                            continue;
                        };
                        let c = writer.ensure_column(&name, ty)?;
                        extra_columns.insert(name.clone(), c);
                        c
                    }
                };
                if !v.is_null() {
                    values.push((col, v));
                }
            }
            if let Some(r) = geo::BoundingRect::bounding_rect(&g) {
                let c = r.center();
                bbox_center = Some(match bbox_center {
                    None => (c.x, c.y, 1),
                    Some((x, y, n)) => (x + c.x, y + c.y, n + 1),
                });
            }
            if let (Some(code), Geometry::MultiPolygon(mp)) = (village_code, &g) {
                village_geometries.push((code, mp.clone()));
            }
            writer.insert(&g, &values)?;
            written += 1;
        }
        Ok(())
    };

    drop(sample);
    // Reader thread: parse, check and reproject geometries; this thread: attributes and writes.
    let repair = options.repair;
    let reader_crs = crs.clone();
    std::thread::scope(|scope| -> Result<(), IngestError> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<PreparedFeature>>(8);
        let reader = std::thread::Builder::new()
            .name("import-reader".into())
            .spawn_scoped(scope, move || -> Result<(), IngestError> {
                let to_lonlat = Reprojector::new(&reader_crs, &Crs::Epsg(EPSG_CGCS2000))?;
                let mut batch = Vec::with_capacity(BATCH);
                let stopped = || IngestError::Usage("the writer stopped".into());
                source.read_all(&mut |raw| {
                    batch.push(prepare_feature(raw, family, &to_lonlat, repair));
                    if batch.len() == BATCH {
                        tx.send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))
                            .map_err(|_| stopped())?;
                    }
                    Ok(())
                })?;
                if !batch.is_empty() {
                    tx.send(batch).map_err(|_| stopped())?;
                }
                Ok(())
            })
            .map_err(|e| IngestError::Usage(format!("cannot start the reader thread: {e}")))?;
        let mut written_ok: Result<(), IngestError> = Ok(());
        for batch in rx {
            for prepared in batch {
                if let Err(e) = process(prepared, writer.as_mut()) {
                    written_ok = Err(e);
                    break;
                }
            }
            if written_ok.is_err() {
                break; // dropping the receiver stops the reader
            }
        }
        let read_result = reader
            .join()
            .unwrap_or_else(|_| Err(IngestError::Usage("the reader thread panicked".into())));
        written_ok?;
        read_result
    })?;
    // Fields that were null on every feature are kept too (as TEXT), so nothing is dropped.
    if findings.errors() == 0 {
        for name in null_only.iter().filter(|n| !extra_columns.contains_key(*n)) {
            writer.ensure_column(name, crate::domain::FieldType::Text)?;
        }
    }

    // Layer-level checks.
    let mut metric_epsg = store_metric(&bbox_center);
    if layer == LayerKind::Villages && findings.errors() == 0 && !village_geometries.is_empty() {
        let epsg = metric_epsg.unwrap_or(4548);
        let to_metric = Reprojector::to_metric(epsg)?;
        let mut metric = Vec::with_capacity(village_geometries.len());
        for (_, mp) in &village_geometries {
            let mut g = Geometry::MultiPolygon(mp.clone());
            to_metric.transform_geometry(&mut g)?;
            metric.push(to_multipolygon(g).unwrap_or_else(|| geo::MultiPolygon(vec![])));
        }
        for p in village_boundary_problems(&metric, options.boundary_tolerance_m) {
            let names: Vec<&str> = p
                .villages
                .iter()
                .map(|&i| village_geometries[i].0.as_str())
                .collect();
            let (kind, zh) = match p.kind {
                BoundaryProblemKind::Gap => ("boundary-gap", "缝隙 gap"),
                BoundaryProblemKind::Overlap => ("boundary-overlap", "重叠 overlap"),
            };
            let mut at = Geometry::Point(geo::Point(p.at));
            let back = Reprojector::new(&Crs::Epsg(epsg), &Crs::Epsg(EPSG_CGCS2000))?;
            back.transform_geometry(&mut at)?;
            let c = coords_of(&at)[0];
            findings.add(
                Severity::Warning,
                kind,
                format!("villages {}", names.join(", ")),
                format!(
                    "{zh} of {:.1} m² (mean width {:.2} m > tolerance {} m) near {:.6}, {:.6}",
                    p.area_m2, p.mean_width_m, options.boundary_tolerance_m, c.x, c.y
                ),
            );
        }
    }

    let errors = findings.errors();
    let committed = if errors == 0 {
        writer.commit(&LayerProvenance {
            source: format!(
                "{} ({}, {})",
                path.display(),
                description.format,
                crs.label()
            ),
        })?;
        // The metric CRS follows the villages (the planning area); other layers only set it when
        // nothing has yet.
        if (layer == LayerKind::Villages || store.setting("metric_epsg")?.is_none())
            && let Some(epsg) = metric_epsg
        {
            store.set_setting("metric_epsg", &epsg.to_string())?;
        }
        true
    } else {
        drop(writer);
        metric_epsg = None;
        false
    };
    if let Some(existing) = store.setting("metric_epsg")? {
        metric_epsg = existing.parse().ok();
    }
    Ok(ImportReport {
        layer,
        source: path.to_path_buf(),
        format: description.format,
        crs: crs.label(),
        crs_origin,
        notes,
        features_read: read,
        features_written: if committed { written } else { 0 },
        problems: findings.problems,
        counts: findings.counts,
        committed,
        metric_epsg,
        seconds: started.elapsed().as_secs_f64(),
    })
}

fn store_metric(center: &Option<(f64, f64, u64)>) -> Option<u32> {
    center.map(|(x, _, n)| metric_epsg_for_lon(x / n as f64))
}

fn value_type(v: &Value) -> Option<crate::domain::FieldType> {
    use crate::domain::FieldType;
    Some(match v {
        Value::Null => return None,
        Value::Bool(_) => FieldType::Boolean,
        Value::Int(_) => FieldType::Integer,
        Value::Real(_) => FieldType::Real,
        Value::Text(_) => FieldType::Text,
    })
}

/// The codes of the villages stored in the workspace, `None` when there is no villages layer.
pub fn village_codes(store: &dyn FeatureStore) -> Result<Option<HashSet<String>>, IngestError> {
    let Some(info) = store.layer(LayerKind::Villages)? else {
        return Ok(None);
    };
    let Some(ci) = info.column_index("code") else {
        return Ok(Some(HashSet::new()));
    };
    let mut codes = HashSet::new();
    store.scan(LayerKind::Villages, &mut |f| {
        if let Some(c) = f.values[ci].as_str() {
            codes.insert(c.to_string());
        }
        Ok(())
    })?;
    Ok(Some(codes))
}

/// Checks (and with `repair` fixes) one geometry; returns it in CGCS2000 lon/lat shaped for the
/// layer, or `None` after recording why it cannot be stored.
fn check_geometry(
    geometry: Geometry<f64>,
    family: GeometryFamily,
    to_lonlat: &Reprojector,
    repair: bool,
    label: &dyn Fn() -> String,
    findings: &mut Findings,
) -> Option<Geometry<f64>> {
    let got = type_name(&geometry);
    let wrong_type = |findings: &mut Findings| {
        findings.add(
            Severity::Error,
            "wrong-geometry-type",
            label(),
            format!(
                "几何类型不符 expected {} for this layer, got {got}",
                family.describe_zh()
            ),
        );
        None
    };
    let mut shaped = match (family, geometry) {
        (
            GeometryFamily::Polygonal | GeometryFamily::PointOrPolygonal,
            g @ (Geometry::Polygon(_) | Geometry::MultiPolygon(_)),
        ) => Geometry::MultiPolygon(to_multipolygon(g)?),
        (GeometryFamily::Point | GeometryFamily::PointOrPolygonal, Geometry::Point(p)) => {
            Geometry::Point(p)
        }
        (GeometryFamily::Point | GeometryFamily::PointOrPolygonal, Geometry::MultiPoint(mp))
            if mp.0.len() == 1 =>
        {
            Geometry::Point(mp.0[0])
        }
        (GeometryFamily::Linear, g @ (Geometry::LineString(_) | Geometry::MultiLineString(_))) => {
            Geometry::MultiLineString(to_multilinestring(g)?)
        }
        _ => return wrong_type(findings),
    };
    let coords = coords_of(&shaped);
    if coords.is_empty() {
        findings.add(
            Severity::Error,
            "empty-geometry",
            label(),
            "几何为空 the geometry has no coordinates".into(),
        );
        return None;
    }
    if let Some(bad) = coords.iter().find(|c| !c.x.is_finite() || !c.y.is_finite()) {
        findings.add(
            Severity::Error,
            "non-finite",
            label(),
            format!("坐标非有限值 non-finite coordinate ({}, {})", bad.x, bad.y),
        );
        return None;
    }
    if let Err(e) = to_lonlat.transform_geometry(&mut shaped) {
        findings.add(Severity::Error, "reprojection", label(), e.to_string());
        return None;
    }
    let lonlat = coords_of(&shaped);
    if let Some(out) = lonlat.iter().find(|c| !in_china(c.x, c.y)) {
        let swapped = lonlat.iter().all(|c| in_china(c.y, c.x));
        if swapped && repair {
            for_each_coord_mut(&mut shaped, &mut |c| std::mem::swap(&mut c.x, &mut c.y));
            findings.add(
                Severity::Repaired,
                "swapped-axes",
                label(),
                "经纬度颠倒 lat/lon were swapped; swapped them back".into(),
            );
        } else if swapped {
            findings.add(
                Severity::Error,
                "swapped-axes",
                label(),
                format!("经纬度颠倒 ({}, {}) looks like lat/lon swapped (x must be the longitude); --repair swaps them", out.x, out.y),
            );
            return None;
        } else {
            findings.add(
                Severity::Error,
                "out-of-range",
                label(),
                format!("坐标超出中国范围 ({:.6}, {:.6}) after reprojection lies outside China's lon/lat range — wrong --crs?", out.x, out.y),
            );
            return None;
        }
    }
    if let Geometry::MultiPolygon(mp) = &shaped {
        let problems = polygonal_problems(mp);
        if !problems.is_empty() {
            let reason = problems.join("; ");
            if !repair {
                findings.add(
                    Severity::Error,
                    "invalid-geometry",
                    label(),
                    format!("无效几何 {reason} — --repair rebuilds it"),
                );
                return None;
            }
            match repair_polygonal(mp) {
                Some(fixed) => {
                    let (before, after) = (mp.unsigned_area(), fixed.geometry.unsigned_area());
                    let change = if before > 0.0 {
                        (after - before) / before * 100.0
                    } else {
                        0.0
                    };
                    findings.add(
                        Severity::Repaired,
                        "invalid-geometry",
                        label(),
                        format!("{reason}: {} (area {change:+.3} %)", fixed.description),
                    );
                    shaped = Geometry::MultiPolygon(fixed.geometry);
                }
                None => {
                    findings.add(
                        Severity::Error,
                        "invalid-geometry",
                        label(),
                        format!("无效几何 {reason}; nothing with area is left to repair"),
                    );
                    return None;
                }
            }
        }
    }
    Some(shaped)
}
