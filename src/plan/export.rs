//! A plan's zones as files: polygons dissolved from their members, the member table and the
//! statistics per zone.
//!
//! Zones are dissolved in the workspace's metric CRS (CGCS2000 3° Gauss–Krüger, where village
//! areas are measured) with `geo`'s unary union and taken back to CGCS2000 lon/lat for output,
//! so a zone's area equals the sum of its members' areas up to the gaps and overlaps between
//! village boundaries. Tables are CSV in UTF-8 with a byte-order mark, which Excel needs to
//! read Chinese text.
//!
//! Geometry files ([`ExportOptions`]) are written in CGCS2000 lon/lat by default, in the
//! workspace's Gauss–Krüger zone (`metric`), or in any EPSG CRS PROJ knows; a Shapefile's text
//! is UTF-8 or, on request, GBK (what older ArcGIS and bureau tools expect), refused with the
//! zone and field named when a name has a character GBK cannot hold.

use std::collections::BTreeMap;

use geo::{Area, BooleanOps, MultiPolygon};
use serde_json::{Value as Json, json};

use super::{PlanContent, PlanError};
use crate::engine::crs::{Crs, EPSG_CGCS2000, Reprojector};
use crate::engine::stats::VillageStatsReport;
use crate::workspace::WorkspaceError;
use crate::zones::ZoningData;

/// One zone dissolved from its member villages.
pub struct DissolvedZone {
    /// The zone's id (Z001, …).
    pub id: String,
    /// The zone's name.
    pub name: String,
    /// The zone type's Chinese label (强村带动型 …).
    pub kind: &'static str,
    /// The key village's 12-digit code (empty when none is set).
    pub key_code: String,
    /// The key village's name (empty when none is set).
    pub key_name: String,
    /// Village indices into [`ZoningData::villages`].
    pub members: Vec<usize>,
    /// Total registered population of the members, persons.
    pub population: f64,
    /// Area of the dissolved polygon (m², metric CRS).
    pub area_m2: f64,
    /// Σ of the members' areas (m²).
    pub members_area_m2: f64,
    /// The dissolved boundary in CGCS2000 lon/lat (EPSG:4490).
    pub lonlat: MultiPolygon<f64>,
    /// The dissolved boundary in the workspace's metric CRS (metres).
    pub metric: MultiPolygon<f64>,
}

/// Dissolves every zone of the plan (zones without members are left out).
pub fn dissolve(data: &ZoningData, content: &PlanContent) -> Result<Vec<DissolvedZone>, PlanError> {
    let back = Reprojector::new(&Crs::Epsg(data.metric_epsg), &Crs::Epsg(EPSG_CGCS2000))
        .map_err(|e| PlanError::Zones(WorkspaceError::from(e).into()))?;
    let mut out = Vec::new();
    for z in &content.zones {
        let members = data.known_indices(&z.members);
        if members.is_empty() {
            continue;
        }
        let polygons: Vec<&MultiPolygon<f64>> =
            members.iter().map(|&v| &data.metric_polygons[v]).collect();
        let metric: MultiPolygon<f64> =
            geo::unary_union(polygons.iter().flat_map(|mp| mp.0.iter()));
        let metric = if metric.0.is_empty() {
            // unary_union of one polygon may come back empty on degenerate input; fall back.
            polygons
                .iter()
                .fold(MultiPolygon(vec![]), |acc, p| acc.union(*p))
        } else {
            metric
        };
        let mut lonlat = geo::Geometry::MultiPolygon(metric.clone());
        back.transform_geometry(&mut lonlat)
            .map_err(|e| PlanError::Zones(WorkspaceError::from(e).into()))?;
        let lonlat = match lonlat {
            geo::Geometry::MultiPolygon(mp) => mp,
            _ => unreachable!("a transformed multipolygon stays one"),
        };
        let key = z
            .key_village
            .as_ref()
            .and_then(|k| data.index_of_code.get(k))
            .map(|&v| &data.villages[v]);
        out.push(DissolvedZone {
            id: z.id.clone(),
            name: z.name.clone(),
            kind: z.kind.label(),
            key_code: key.map(|v| v.code.clone()).unwrap_or_default(),
            key_name: key.map(|v| v.name.clone()).unwrap_or_default(),
            population: members.iter().map(|&v| data.villages[v].population).sum(),
            members_area_m2: members.iter().map(|&v| data.villages[v].area_m2).sum(),
            area_m2: metric.unsigned_area(),
            members,
            lonlat,
            metric,
        });
    }
    Ok(out)
}

/// The CRS exported geometries are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExportCrs {
    /// CGCS2000 lon/lat, EPSG:4490 (RFC 7946 order for GeoJSON).
    #[default]
    LonLat,
    /// The workspace's metric CRS (its CGCS2000 3° Gauss–Krüger zone).
    Metric,
    /// Any other EPSG code PROJ knows.
    Epsg(u32),
}

impl ExportCrs {
    /// What `parse` accepts, for error messages.
    pub const NAMES: &'static str =
        "4490 (default), metric (the workspace's Gauss–Krüger zone) or EPSG:N";

    /// The CRS a request names: `4490`/`lonlat` (default), `metric`, or `EPSG:N` / `N`.
    pub fn parse(text: &str) -> Option<ExportCrs> {
        let t = text.trim().to_ascii_lowercase();
        match t.as_str() {
            "" | "lonlat" | "cgcs2000" => return Some(ExportCrs::LonLat),
            "metric" | "gk" | "gauss-kruger" => return Some(ExportCrs::Metric),
            _ => {}
        }
        let code: u32 = t.strip_prefix("epsg:").unwrap_or(&t).parse().ok()?;
        Some(if code == EPSG_CGCS2000 {
            ExportCrs::LonLat
        } else {
            ExportCrs::Epsg(code)
        })
    }

    /// The EPSG code for a workspace whose metric CRS is `metric_epsg`.
    pub fn epsg(self, metric_epsg: u32) -> u32 {
        match self {
            ExportCrs::LonLat => EPSG_CGCS2000,
            ExportCrs::Metric => metric_epsg,
            ExportCrs::Epsg(code) => code,
        }
    }
}

/// The text encoding of a Shapefile's attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ShapefileEncoding {
    /// UTF-8 (the default; .cpg says UTF-8).
    #[default]
    Utf8,
    /// GBK (code page 936), for older Chinese GIS software.
    Gbk,
}

impl ShapefileEncoding {
    /// The encoding a request names: `utf-8` or `gbk` (`cp936`, `936`).
    pub fn parse(text: &str) -> Option<ShapefileEncoding> {
        match text.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "utf-8" | "utf8" => Some(ShapefileEncoding::Utf8),
            "gbk" | "cp936" | "936" => Some(ShapefileEncoding::Gbk),
            _ => None,
        }
    }

    /// What the .cpg file says (GDAL and ArcGIS read both).
    fn cpg(self) -> &'static str {
        match self {
            ShapefileEncoding::Utf8 => "UTF-8",
            ShapefileEncoding::Gbk => "GBK",
        }
    }
}

/// How geometry files are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExportOptions {
    /// The CRS geometries are written in (not for tables).
    pub crs: ExportCrs,
    /// The Shapefile's attribute encoding (UTF-8 unless GBK is asked for; Shapefiles only).
    pub encoding: ShapefileEncoding,
}

impl ExportOptions {
    /// Checks the options against the format: the CRS must be one PROJ knows, GBK is for
    /// Shapefiles, and tables have no CRS.
    pub fn validate(&self, format: ExportFormat, metric_epsg: u32) -> Result<(), PlanError> {
        if self.encoding != ShapefileEncoding::Utf8 && format != ExportFormat::Shapefile {
            return Err(PlanError::Input {
                field: "encoding",
                reason:
                    "GBK 只用于 Shapefile（其余格式均为 UTF-8）/ GBK applies to shapefiles only"
                        .into(),
            });
        }
        let epsg = self.crs.epsg(metric_epsg);
        if epsg != EPSG_CGCS2000 {
            if matches!(format, ExportFormat::MembersCsv | ExportFormat::Statistics) {
                return Err(PlanError::Input {
                    field: "crs",
                    reason: "表格没有坐标，无需坐标系 / tables carry no coordinates".into(),
                });
            }
            crate::engine::crs::epsg_definition(epsg).map_err(|e| PlanError::Input {
                field: "crs",
                reason: e.to_string(),
            })?;
        }
        Ok(())
    }
}

/// The zones' polygons in the export CRS, with its definition (`None`: EPSG:4490).
fn zones_in(
    zones: &[DissolvedZone],
    epsg: u32,
    metric_epsg: u32,
) -> Result<
    (
        Vec<MultiPolygon<f64>>,
        Option<crate::engine::crs::CrsDefinition>,
    ),
    PlanError,
> {
    if epsg == EPSG_CGCS2000 {
        return Ok((zones.iter().map(|z| z.lonlat.clone()).collect(), None));
    }
    let definition = crate::engine::crs::epsg_definition(epsg).map_err(|e| PlanError::Input {
        field: "crs",
        reason: e.to_string(),
    })?;
    if epsg == metric_epsg {
        return Ok((
            zones.iter().map(|z| z.metric.clone()).collect(),
            Some(definition),
        ));
    }
    let to = Reprojector::new(&Crs::Epsg(EPSG_CGCS2000), &Crs::Epsg(epsg))
        .map_err(|e| PlanError::Zones(WorkspaceError::from(e).into()))?;
    let mut out = Vec::with_capacity(zones.len());
    for z in zones {
        let mut g = geo::Geometry::MultiPolygon(z.lonlat.clone());
        to.transform_geometry(&mut g)
            .map_err(|e| PlanError::Input {
                field: "crs",
                reason: format!(
                    "片区 {} 不在 EPSG:{epsg} 的范围内 / zone outside the CRS: {e}",
                    z.id
                ),
            })?;
        match g {
            geo::Geometry::MultiPolygon(mp) => out.push(mp),
            _ => unreachable!("a transformed multipolygon stays one"),
        }
    }
    Ok((out, Some(definition)))
}

/// The dissolved zones as GeoJSON with the plan's name and version: RFC 7946 lon/lat, or in
/// another CRS named by the (2008) `crs` member, which GDAL and QGIS read.
pub fn zones_geojson(
    zones: &[DissolvedZone],
    plan: &str,
    version: i64,
    geometries: &[MultiPolygon<f64>],
    crs: Option<u32>,
) -> Json {
    let features: Vec<Json> = zones
        .iter()
        .zip(geometries)
        .map(|(z, g)| {
            json!({
                "type": "Feature",
                "id": z.id,
                "properties": zone_properties(z, plan, version),
                "geometry": geojson::Geometry::from(&geo::Geometry::MultiPolygon(g.clone())),
            })
        })
        .collect();
    let mut out = json!({"type": "FeatureCollection", "name": plan, "features": features});
    if let Some(epsg) = crs {
        out["crs"] = json!({"type": "name", "properties": {"name": format!("urn:ogc:def:crs:EPSG::{epsg}")}});
    }
    out
}

/// The attributes of a dissolved zone (also the columns of the GeoPackage and Shapefile).
pub fn zone_properties(z: &DissolvedZone, plan: &str, version: i64) -> Json {
    json!({
        "zone_id": z.id,
        "name": z.name,
        "type": z.kind,
        "key_code": z.key_code,
        "key_name": z.key_name,
        "villages": z.members.len(),
        "population": z.population,
        "area_km2": (z.area_m2 / 1e4).round() / 100.0,
        "plan": plan,
        "version": version,
    })
}

fn csv(rows: &[Vec<String>]) -> String {
    let mut out = String::from("\u{feff}");
    for r in rows {
        out.push_str(
            &r.iter()
                .map(|c| crate::report::csv_field(c))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push_str("\r\n");
    }
    out
}

/// One row per member (villages, then non-village members), UTF-8 with BOM.
pub fn members_csv(data: &ZoningData, content: &PlanContent) -> String {
    let mut rows = vec![
        [
            "片区编号",
            "片区名称",
            "片区类型",
            "成员类型",
            "代码",
            "名称",
            "乡镇",
            "乡镇代码",
            "人口",
            "集体收入(万元)",
            "强村",
            "中心村",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for z in &content.zones {
        for code in &z.members {
            let Some(&v) = data.index_of_code.get(code) else {
                continue;
            };
            let vil = &data.villages[v];
            rows.push(vec![
                z.id.clone(),
                z.name.clone(),
                z.kind.label().into(),
                "行政村".into(),
                vil.code.clone(),
                vil.name.clone(),
                data.town_name(v).to_string(),
                vil.town_code.clone(),
                format!("{}", vil.population),
                format!("{}", vil.income),
                if vil.strong { "是" } else { "否" }.into(),
                if z.key_village.as_deref() == Some(code) {
                    "是"
                } else {
                    "否"
                }
                .into(),
            ]);
        }
        for name in &z.other_members {
            let kind = data
                .members
                .iter()
                .find(|m| &m.name == name)
                .map(|m| m.kind.clone())
                .unwrap_or_default();
            rows.push(vec![
                z.id.clone(),
                z.name.clone(),
                z.kind.label().into(),
                kind,
                String::new(),
                name.clone(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            ]);
        }
    }
    csv(&rows)
}

/// Statistics of one zone: members' totals, land use by 三调 class, greenhouses, facilities.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ZoneStatistics {
    /// Member villages.
    pub villages: usize,
    /// Total registered population, persons.
    pub population: f64,
    /// Total area of the members, m².
    pub area_m2: f64,
    /// Total collective income (万元).
    pub collective_income: f64,
    /// 三调 first-level class (two digits) → m².
    pub land_use_m2: BTreeMap<String, f64>,
    /// Greenhouses in the members.
    pub greenhouse_count: u64,
    /// Greenhouse area, m².
    pub greenhouse_area_m2: f64,
    /// Facility kind → count, over the members.
    pub facilities: BTreeMap<String, u64>,
}

/// Sums the per-village statistics over each zone's members.
pub fn zone_statistics(
    data: &ZoningData,
    stats: &VillageStatsReport,
    zone_members: &[usize],
) -> ZoneStatistics {
    let by_code: std::collections::HashMap<&str, &crate::engine::stats::VillageStats> = stats
        .villages
        .iter()
        .map(|s| (s.code.as_str(), s))
        .collect();
    let mut out = ZoneStatistics {
        villages: zone_members.len(),
        ..ZoneStatistics::default()
    };
    for &v in zone_members {
        let vil = &data.villages[v];
        out.population += vil.population;
        out.area_m2 += vil.area_m2;
        out.collective_income += vil.income;
        if let Some(s) = by_code.get(vil.code.as_str()) {
            for (code, m2) in &s.land_use_m2 {
                let class = code.get(..2).unwrap_or(code).to_string();
                *out.land_use_m2.entry(class).or_default() += m2;
            }
            out.greenhouse_count += s.greenhouse_count;
            out.greenhouse_area_m2 += s.greenhouse_area_m2;
            for (k, n) in &s.facilities {
                *out.facilities.entry(k.clone()).or_default() += n;
            }
        }
    }
    out
}

/// The statistics of every zone as CSV (UTF-8 with BOM): one row per zone, land use by
/// first-level 三调 class in hectares, greenhouses, facilities by kind.
pub fn statistics_csv(
    data: &ZoningData,
    stats: &VillageStatsReport,
    content: &PlanContent,
) -> String {
    let per_zone: Vec<(&super::PlanZone, ZoneStatistics)> = content
        .zones
        .iter()
        .map(|z| {
            (
                z,
                zone_statistics(data, stats, &data.known_indices(&z.members)),
            )
        })
        .collect();
    let classes: std::collections::BTreeSet<&String> = per_zone
        .iter()
        .flat_map(|(_, s)| s.land_use_m2.keys())
        .collect();
    let kinds: std::collections::BTreeSet<&String> = per_zone
        .iter()
        .flat_map(|(_, s)| s.facilities.keys())
        .collect();
    let mut header: Vec<String> = [
        "片区编号",
        "片区名称",
        "片区类型",
        "中心村",
        "村数",
        "人口",
        "面积(km²)",
        "集体收入(万元)",
        "大棚(个)",
        "大棚面积(ha)",
    ]
    .map(String::from)
    .to_vec();
    header.extend(classes.iter().map(|c| {
        format!(
            "{}{}(ha)",
            c,
            crate::domain::landuse::class_of(c).unwrap_or("")
        )
    }));
    header.extend(kinds.iter().map(|k| format!("{k}(个)")));
    let mut rows = vec![header];
    for (z, s) in &per_zone {
        let key = z
            .key_village
            .as_ref()
            .and_then(|k| data.index_of_code.get(k))
            .map(|&v| data.villages[v].name.clone())
            .unwrap_or_default();
        let mut row = vec![
            z.id.clone(),
            z.name.clone(),
            z.kind.label().into(),
            key,
            s.villages.to_string(),
            format!("{}", s.population),
            format!("{:.3}", s.area_m2 / 1e6),
            format!("{:.2}", s.collective_income),
            s.greenhouse_count.to_string(),
            format!("{:.2}", s.greenhouse_area_m2 / 1e4),
        ];
        row.extend(
            classes
                .iter()
                .map(|c| format!("{:.2}", s.land_use_m2.get(*c).copied().unwrap_or(0.0) / 1e4)),
        );
        row.extend(
            kinds
                .iter()
                .map(|k| s.facilities.get(*k).copied().unwrap_or(0).to_string()),
        );
        rows.push(row);
    }
    csv(&rows)
}

/// The file formats a plan exports to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// Dissolved zones, RFC 7946 (lon/lat).
    GeoJson,
    /// Dissolved zones (EPSG:4490) and the member table.
    GeoPackage,
    /// Dissolved zones as a Shapefile (.shp/.shx/.dbf/.prj/.cpg UTF-8), zipped over HTTP.
    Shapefile,
    /// The member table.
    MembersCsv,
    /// The statistics per zone.
    Statistics,
}

impl ExportFormat {
    /// What `parse` accepts, for error messages.
    pub const NAMES: &'static str = "geojson, gpkg, shp, csv (members) or stats";

    /// The format a request names (aliases: `json`, `geopackage`, `shapefile`/`zip`, `members`,
    /// `statistics`).
    pub fn parse(text: &str) -> Option<ExportFormat> {
        Some(match text.trim().to_ascii_lowercase().as_str() {
            "geojson" | "json" => ExportFormat::GeoJson,
            "gpkg" | "geopackage" => ExportFormat::GeoPackage,
            "shp" | "shapefile" | "zip" => ExportFormat::Shapefile,
            "csv" | "members" => ExportFormat::MembersCsv,
            "stats" | "statistics" => ExportFormat::Statistics,
            _ => return None,
        })
    }

    /// The file extension of the download.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::GeoJson => "geojson",
            ExportFormat::GeoPackage => "gpkg",
            ExportFormat::Shapefile => "zip",
            ExportFormat::MembersCsv => "members.csv",
            ExportFormat::Statistics => "stats.csv",
        }
    }

    /// The download's media type (`application/geo+json`, `application/zip`, …).
    pub fn media_type(self) -> &'static str {
        match self {
            ExportFormat::GeoJson => "application/geo+json",
            ExportFormat::GeoPackage => "application/geopackage+sqlite3",
            ExportFormat::Shapefile => "application/zip",
            ExportFormat::MembersCsv | ExportFormat::Statistics => "text/csv; charset=utf-8",
        }
    }
}

fn io(e: impl std::fmt::Display) -> PlanError {
    PlanError::Io(e.to_string())
}

/// A scratch directory removed when dropped.
struct Scratch(std::path::PathBuf);

impl Scratch {
    fn new() -> Result<Scratch, PlanError> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "liancun-export-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(io)?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The export as bytes (a Shapefile is a .zip of its parts).
pub fn export_bytes(
    data: &ZoningData,
    stats: Option<&VillageStatsReport>,
    content: &PlanContent,
    version: i64,
    format: ExportFormat,
    options: &ExportOptions,
) -> Result<Vec<u8>, PlanError> {
    options.validate(format, data.metric_epsg)?;
    match format {
        ExportFormat::GeoJson => {
            let zones = dissolve(data, content)?;
            let epsg = options.crs.epsg(data.metric_epsg);
            let (geometries, definition) = zones_in(&zones, epsg, data.metric_epsg)?;
            Ok(zones_geojson(
                &zones,
                &content.name,
                version,
                &geometries,
                definition.map(|d| d.epsg),
            )
            .to_string()
            .into_bytes())
        }
        ExportFormat::MembersCsv => Ok(members_csv(data, content).into_bytes()),
        ExportFormat::Statistics => {
            let stats = stats.ok_or_else(|| io("statistics need the per-village statistics"))?;
            Ok(statistics_csv(data, stats, content).into_bytes())
        }
        ExportFormat::GeoPackage => {
            let scratch = Scratch::new()?;
            let path = scratch.0.join("plan.gpkg");
            write_geopackage(data, content, version, &path, options)?;
            std::fs::read(&path).map_err(io)
        }
        ExportFormat::Shapefile => {
            let scratch = Scratch::new()?;
            let base = scratch.0.join("zones.shp");
            let parts = write_shapefile(data, content, version, &base, options)?;
            let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            for part in parts {
                let name = part
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or("zones")
                    .to_string();
                zip.start_file(name, options).map_err(io)?;
                let bytes = std::fs::read(&part).map_err(io)?;
                std::io::Write::write_all(&mut zip, &bytes).map_err(io)?;
            }
            Ok(zip.finish().map_err(io)?.into_inner())
        }
    }
}

/// Writes the zones (features) and members (attributes) as a new GeoPackage at `path`.
pub fn write_geopackage(
    data: &ZoningData,
    content: &PlanContent,
    version: i64,
    path: &std::path::Path,
    options: &ExportOptions,
) -> Result<(), PlanError> {
    use crate::domain::{FieldType, Value};
    use crate::store::gpkg::ExportTable;
    let zones = dissolve(data, content)?;
    let (geometries, srs) = zones_in(&zones, options.crs.epsg(data.metric_epsg), data.metric_epsg)?;
    let zone_columns: Vec<(String, FieldType)> = [
        ("zone_id", FieldType::Text),
        ("name", FieldType::Text),
        ("type", FieldType::Text),
        ("key_code", FieldType::Text),
        ("key_name", FieldType::Text),
        ("villages", FieldType::Integer),
        ("population", FieldType::Real),
        ("area_km2", FieldType::Real),
        ("plan", FieldType::Text),
        ("version", FieldType::Integer),
    ]
    .into_iter()
    .map(|(n, t)| (n.to_string(), t))
    .collect();
    let zone_rows = zones
        .iter()
        .zip(&geometries)
        .map(|(z, g)| {
            (
                Some(geo::Geometry::MultiPolygon(g.clone())),
                vec![
                    Value::Text(z.id.clone()),
                    Value::Text(z.name.clone()),
                    Value::Text(z.kind.into()),
                    Value::Text(z.key_code.clone()),
                    Value::Text(z.key_name.clone()),
                    Value::Int(z.members.len() as i64),
                    Value::Real(z.population),
                    Value::Real(z.area_m2 / 1e6),
                    Value::Text(content.name.clone()),
                    Value::Int(version),
                ],
            )
        })
        .collect();
    let mut member_rows = Vec::new();
    for z in &content.zones {
        for code in &z.members {
            let Some(&v) = data.index_of_code.get(code) else {
                continue;
            };
            let vil = &data.villages[v];
            member_rows.push((
                None,
                vec![
                    Value::Text(z.id.clone()),
                    Value::Text("行政村".into()),
                    Value::Text(vil.code.clone()),
                    Value::Text(vil.name.clone()),
                    Value::Real(vil.population),
                    Value::Bool(z.key_village.as_deref() == Some(code)),
                ],
            ));
        }
        for name in &z.other_members {
            member_rows.push((
                None,
                vec![
                    Value::Text(z.id.clone()),
                    Value::Text("非村成员".into()),
                    Value::Null,
                    Value::Text(name.clone()),
                    Value::Null,
                    Value::Bool(false),
                ],
            ));
        }
    }
    let tables = [
        ExportTable {
            name: "zones".into(),
            description: format!(
                "{} 片区（第 {version} 版）/ zones of the plan",
                content.name
            ),
            geometry_type: Some("MULTIPOLYGON"),
            columns: zone_columns,
            rows: zone_rows,
            srs,
        },
        ExportTable {
            name: "members".into(),
            description: "片区成员 / zone members".into(),
            geometry_type: None,
            columns: [
                ("zone_id", FieldType::Text),
                ("member_type", FieldType::Text),
                ("code", FieldType::Text),
                ("name", FieldType::Text),
                ("population", FieldType::Real),
                ("key_village", FieldType::Boolean),
            ]
            .into_iter()
            .map(|(n, t)| (n.to_string(), t))
            .collect(),
            rows: member_rows,
            srs: None,
        },
    ];
    crate::store::gpkg::write_geopackage(path, &tables).map_err(PlanError::Store)
}

/// Writes the zones as a Shapefile at `shp` (plus .shx, .dbf, .prj and a .cpg naming the text
/// encoding); returns the files written.
pub fn write_shapefile(
    data: &ZoningData,
    content: &PlanContent,
    version: i64,
    shp: &std::path::Path,
    options: &ExportOptions,
) -> Result<Vec<std::path::PathBuf>, PlanError> {
    use dbase::{FieldValue, Record, TableWriterBuilder};
    options.validate(ExportFormat::Shapefile, data.metric_epsg)?;
    let zones = dissolve(data, content)?;
    let epsg = options.crs.epsg(data.metric_epsg);
    let (geometries, definition) = zones_in(&zones, epsg, data.metric_epsg)?;
    if options.encoding == ShapefileEncoding::Gbk {
        // GBK cannot hold every character (e.g. rare 生僻字 in names): refuse rather than write
        // "&#…;" in their place.
        for z in &zones {
            for (field, text) in [
                ("name", z.name.as_str()),
                ("key_name", z.key_name.as_str()),
                ("plan", content.name.as_str()),
            ] {
                if let Some(ch) = text
                    .chars()
                    .find(|c| encoding_rs::GBK.encode(&c.to_string()).2)
                {
                    return Err(PlanError::Input {
                        field: "encoding",
                        reason: format!(
                            "片区 {} 的 {field}「{text}」含 GBK 无法表示的字符「{ch}」，请用 UTF-8 导出 / zone {}: {field} has a character GBK cannot hold; export as UTF-8",
                            z.id, z.id
                        ),
                    });
                }
            }
        }
    }
    let name = |s: &str| dbase::FieldName::try_from(s).expect("short ASCII field name");
    let builder = match options.encoding {
        ShapefileEncoding::Utf8 => TableWriterBuilder::with_encoding(dbase::UnicodeLossy),
        ShapefileEncoding::Gbk => {
            TableWriterBuilder::with_encoding(dbase::encoding::EncodingRs::from(encoding_rs::GBK))
        }
    };
    let builder = builder
        .add_character_field(name("zone_id"), 16)
        .add_character_field(name("name"), 254)
        .add_character_field(name("type"), 32)
        .add_character_field(name("key_code"), 12)
        .add_character_field(name("key_name"), 120)
        .add_numeric_field(name("villages"), 6, 0)
        .add_numeric_field(name("population"), 12, 0)
        .add_numeric_field(name("area_km2"), 12, 3)
        .add_character_field(name("plan"), 254)
        .add_numeric_field(name("version"), 8, 0);
    let mut writer = shapefile::Writer::from_path(shp, builder).map_err(io)?;
    for (z, g) in zones.iter().zip(&geometries) {
        let polygon = shapefile::Polygon::from(g.clone());
        let mut record = Record::default();
        let text = |s: &str| FieldValue::Character(Some(s.to_string()));
        record.insert("zone_id".into(), text(&z.id));
        record.insert("name".into(), text(&z.name));
        record.insert("type".into(), text(z.kind));
        record.insert("key_code".into(), text(&z.key_code));
        record.insert("key_name".into(), text(&z.key_name));
        record.insert(
            "villages".into(),
            FieldValue::Numeric(Some(z.members.len() as f64)),
        );
        record.insert("population".into(), FieldValue::Numeric(Some(z.population)));
        record.insert(
            "area_km2".into(),
            FieldValue::Numeric(Some(z.area_m2 / 1e6)),
        );
        record.insert("plan".into(), text(&content.name));
        record.insert("version".into(), FieldValue::Numeric(Some(version as f64)));
        writer
            .write_shape_and_record(&polygon, &record)
            .map_err(io)?;
    }
    drop(writer);
    let prj = shp.with_extension("prj");
    let prj_text = definition.map_or(crate::store::gpkg::WKT_4490.to_string(), |d| d.esri_wkt);
    std::fs::write(&prj, prj_text).map_err(io)?;
    let cpg = shp.with_extension("cpg");
    std::fs::write(&cpg, options.encoding.cpg()).map_err(io)?;
    Ok(["shp", "shx", "dbf", "prj", "cpg"]
        .iter()
        .map(|e| shp.with_extension(e))
        .collect())
}
