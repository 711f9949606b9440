//! From a plan to its sheets: gathers what a one-zone-one-plan sheet or the county overview
//! shows (member villages, the dissolved zone, neighbouring zones, 三调 parcels and greenhouses
//! in view, facilities with their service radii, statistics, coverage of the members, sources,
//! the title block; for the overview also township boundaries and the zones that break a bound)
//! and hands it to [`crate::render::sheet`].

use geo::{BoundingRect, Coord, MultiPolygon, Rect};

use super::export::{dissolve, zone_statistics};
use super::{PlanContent, PlanError};
use crate::domain::LayerKind;
use crate::engine::crs::{Crs, EPSG_CGCS2000, Reprojector};
use crate::engine::geometry::to_multipolygon;
use crate::engine::stats::VillageStatsReport;
use crate::location::{LoadParcels, LocationData};
use crate::render::sheet::{
    Paper, SheetFacility, SheetInput, SheetTownship, SheetVillage, SheetZone, TitleBlock, map_view,
};
use crate::store::plans::PlanRecord;
use crate::workspace::{Workspace, WorkspaceError};
use crate::zones::ZoningData;
use crate::zones::round;

/// Output formats of a sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SheetFormat {
    /// PDF, one page (vector, text kept as text).
    Pdf,
    /// SVG (vector).
    Svg,
    /// PNG raster at 150 dpi.
    Png,
}

impl SheetFormat {
    /// The format a request names: `pdf`, `svg` or `png` (any case).
    pub fn parse(text: &str) -> Option<SheetFormat> {
        match text.trim().to_ascii_lowercase().as_str() {
            "pdf" => Some(SheetFormat::Pdf),
            "svg" => Some(SheetFormat::Svg),
            "png" => Some(SheetFormat::Png),
            _ => None,
        }
    }

    /// The file extension (`pdf`, `svg`, `png`).
    pub fn extension(self) -> &'static str {
        match self {
            SheetFormat::Pdf => "pdf",
            SheetFormat::Svg => "svg",
            SheetFormat::Png => "png",
        }
    }

    /// The media type (`application/pdf`, `image/svg+xml`, `image/png`).
    pub fn media_type(self) -> &'static str {
        match self {
            SheetFormat::Pdf => "application/pdf",
            SheetFormat::Svg => "image/svg+xml",
            SheetFormat::Png => "image/png",
        }
    }
}

/// How a sheet is printed.
#[derive(Debug, Clone)]
pub struct SheetOptions {
    /// Paper size and orientation.
    pub paper: Paper,
    /// 编制单位 for the title block (blank: left to fill in by hand).
    pub organization: String,
}

impl Default for SheetOptions {
    fn default() -> Self {
        SheetOptions {
            paper: Paper::A3,
            organization: String::new(),
        }
    }
}

impl SheetOptions {
    /// Checks the organisation text (one line, printable, at most 40 characters).
    pub fn validate(&self) -> Result<(), PlanError> {
        let o = &self.organization;
        if o.chars().count() > 40 || o.chars().any(char::is_control) {
            return Err(PlanError::Input {
                field: "organization",
                reason: "编制单位须为一行、不超过 40 个字符 / one line of at most 40 characters"
                    .into(),
            });
        }
        Ok(())
    }
}

fn ws_err(e: impl Into<WorkspaceError>) -> PlanError {
    PlanError::Zones(e.into().into())
}

fn union_rect(a: Option<Rect<f64>>, b: Rect<f64>) -> Rect<f64> {
    match a {
        None => b,
        Some(a) => Rect::new(
            Coord {
                x: a.min().x.min(b.min().x),
                y: a.min().y.min(b.min().y),
            },
            Coord {
                x: a.max().x.max(b.max().x),
                y: a.max().y.max(b.max().y),
            },
        ),
    }
}

/// Polygons of `kind` whose lon/lat box meets `view` (metres), in metres, with `column`'s text.
fn polygons_in_view(
    ws: &Workspace,
    kind: LayerKind,
    column: Option<&str>,
    view: Rect<f64>,
    metric_epsg: u32,
) -> Result<Vec<(MultiPolygon<f64>, String)>, PlanError> {
    let Some(info) = ws.store().layer(kind).map_err(ws_err)? else {
        return Ok(Vec::new());
    };
    let col = column.and_then(|c| info.column_index(c));
    // The view's lon/lat box: the corners taken back from the metric CRS.
    let back =
        Reprojector::new(&Crs::Epsg(metric_epsg), &Crs::Epsg(EPSG_CGCS2000)).map_err(ws_err)?;
    let mut corners = [
        view.min(),
        view.max(),
        Coord {
            x: view.min().x,
            y: view.max().y,
        },
        Coord {
            x: view.max().x,
            y: view.min().y,
        },
    ];
    back.transform_coords(&mut corners).map_err(ws_err)?;
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for c in corners {
        x0 = x0.min(c.x);
        y0 = y0.min(c.y);
        x1 = x1.max(c.x);
        y1 = y1.max(c.y);
    }
    let lonlat_view = Rect::new(Coord { x: x0, y: y0 }, Coord { x: x1, y: y1 });
    let to_metric = Reprojector::to_metric(metric_epsg).map_err(ws_err)?;
    let mut out = Vec::new();
    let bbox = [
        lonlat_view.min().x,
        lonlat_view.min().y,
        lonlat_view.max().x,
        lonlat_view.max().y,
    ];
    ws.store()
        .scan_bbox(kind, bbox, &mut |f| {
            let mut g = f.geometry;
            to_metric
                .transform_geometry(&mut g)
                .map_err(|e| crate::store::StoreError::Encode(e.to_string()))?;
            let text = col
                .and_then(|c| f.values[c].as_text())
                .unwrap_or_default()
                .to_string();
            if let Some(mp) = to_multipolygon(g) {
                out.push((mp, text));
            }
            Ok(())
        })
        .map_err(ws_err)?;
    Ok(out)
}

/// Today's date (UTC), as 2026-11-23.
fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (y, m, d, ..) = crate::report::utc_civil(secs);
    format!("{y:04}-{m:02}-{d:02}")
}

fn sources(ws: &Workspace, metric_epsg: u32) -> Result<Vec<String>, PlanError> {
    let layers = ws.store().layers().map_err(ws_err)?;
    let list: Vec<String> = layers
        .iter()
        .map(|l| {
            // The file name is enough to find the source; whole paths crowd the sheet.
            let file = l
                .source
                .rsplit(['/', '\\'])
                .next()
                .unwrap_or(&l.source)
                .split(" (")
                .next()
                .unwrap_or_default();
            format!(
                "{} {}（{}）",
                l.kind.label_zh(),
                file,
                l.imported_at.get(..10).unwrap_or(&l.imported_at)
            )
        })
        .collect();
    Ok(vec![
        format!("数据来源：{}。", list.join("；")),
        format!(
            "面积与距离按 CGCS2000 3° 高斯–克吕格投影 EPSG:{metric_epsg} 计算；土地利用按第三次全国国土调查工作分类一级类着色。由 liancun 联村 生成。"
        ),
    ])
}

/// The sheet of one zone (`zone: Some`) or the county overview (`None`).
pub fn sheet_input(
    ws: &Workspace,
    data: &ZoningData,
    stats: &VillageStatsReport,
    (record, version, content): (&PlanRecord, i64, &PlanContent),
    zone: Option<&str>,
    options: &SheetOptions,
) -> Result<SheetInput, PlanError> {
    options.validate()?;
    let paper = options.paper;
    let metric_epsg = data.metric_epsg;
    let dissolved = dissolve(data, content)?;
    let colours = super::zone_colours(data, content);
    let footer = sources(ws, metric_epsg)?;
    let font_family = crate::render::font_family();
    let title_block = |number: String| TitleBlock {
        organization: options.organization.clone(),
        plan: format!(
            "{} · 第 {version} 版（{} {}）",
            content.name,
            record.updated_by,
            record.updated_at.get(..10).unwrap_or(&record.updated_at)
        ),
        number,
        date: today(),
        crs: format!("CGCS2000 · EPSG:{metric_epsg}"),
    };

    let Some(zone_id) = zone else {
        // County overview: every village filled by its zone's colour, zones outlined and named.
        let mut zone_of = vec![None; data.villages.len()];
        for (i, z) in content.zones.iter().enumerate() {
            for c in &z.members {
                if let Some(&v) = data.index_of_code.get(c) {
                    zone_of[v] = Some(i);
                }
            }
        }
        let mut extent = None;
        let mut villages = Vec::new();
        let mut context = Vec::new();
        for (v, vil) in data.villages.iter().enumerate() {
            if let Some(b) = data.metric_polygons[v].bounding_rect() {
                extent = Some(union_rect(extent, b));
            }
            match zone_of[v] {
                Some(z) => villages.push(SheetVillage {
                    name: vil.name.clone(),
                    polygon: data.metric_polygons[v].clone(),
                    anchor: vil.anchor,
                    colour: colours[z],
                    is_key: false,
                    priority: vil.population,
                }),
                None => context.push(data.metric_polygons[v].clone()),
            }
        }
        // What each zone breaks, in the plan's own bounds.
        let checked = super::check(data, content)?;
        let broken: std::collections::HashMap<&str, Vec<String>> = checked
            .evaluation
            .zones
            .iter()
            .filter(|z| !z.violations.is_empty())
            .map(|z| {
                (
                    z.id.as_str(),
                    z.violations.iter().map(|v| v.describe_zh()).collect(),
                )
            })
            .collect();
        let zones: Vec<SheetZone> = dissolved
            .iter()
            .map(|d| {
                let i = content.zones.iter().position(|z| z.id == d.id).unwrap_or(0);
                let key = content.zones[i]
                    .key_village
                    .as_ref()
                    .and_then(|k| data.index_of_code.get(k))
                    .map(|&v| (data.villages[v].anchor, data.villages[v].name.clone()));
                SheetZone {
                    id: d.id.clone(),
                    label: d.name.clone(),
                    polygon: d.metric.clone(),
                    colour: colours[i],
                    key,
                    violations: broken.get(d.id.as_str()).cloned().unwrap_or_default(),
                }
            })
            .collect();
        let assigned = zone_of.iter().filter(|z| z.is_some()).count();
        let mut table = vec![
            ("片区数".to_string(), content.zones.len().to_string()),
            (
                "已划入片区的村".into(),
                format!("{assigned} / {}", data.villages.len()),
            ),
            (
                "片区人口".into(),
                format!("{:.0}", dissolved.iter().map(|d| d.population).sum::<f64>()),
            ),
            ("按类型".into(), String::new()),
        ];
        for t in super::ZoneType::ALL {
            let n = content.zones.iter().filter(|z| z.kind == t).count();
            if n > 0 {
                table.push((t.label().into(), format!("{n} 个")));
            }
        }
        let flagged: Vec<&SheetZone> = zones.iter().filter(|z| !z.violations.is_empty()).collect();
        table.push(("约束检查".into(), String::new()));
        table.push(("违反约束的片区".into(), format!("{} 个", flagged.len())));
        for z in &flagged {
            table.push((z.label.clone(), z.violations.join("；")));
        }
        let list = content
            .zones
            .iter()
            .map(|z| format!("{} {}（{} 村）", z.id, z.name, z.members.len()))
            .collect();
        let townships = townships(data);
        return Ok(SheetInput {
            paper,
            title: format!("{} · 片区总图", content.name),
            subtitle: format!(
                "全域 {} 个片区 · 第 {version} 版 · 一片一规划",
                content.zones.len()
            ),
            extent: extent.ok_or_else(|| PlanError::Input {
                field: "villages",
                reason: "工作区没有村 / no villages".into(),
            })?,
            parcels: Vec::new(),
            context,
            villages,
            fill_villages: true,
            zones,
            label_zones: true,
            townships,
            greenhouses: Vec::new(),
            facilities: Vec::new(),
            table,
            notes: String::new(),
            list_title: "片区".into(),
            list,
            title_block: title_block(format!("方案{}-总图-V{version}", record.id)),
            footer,
            font_family,
        });
    };

    let z = content
        .zones
        .iter()
        .find(|z| z.id == zone_id)
        .ok_or_else(|| PlanError::Input {
            field: "zone",
            reason: format!(
                "方案中没有片区 '{zone_id}' / no zone '{zone_id}' (zones: {})",
                content
                    .zones
                    .iter()
                    .map(|z| z.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })?;
    let this = dissolved
        .iter()
        .find(|d| d.id == z.id)
        .ok_or_else(|| PlanError::Input {
            field: "zone",
            reason: format!(
                "片区 {zone_id} 没有成员村，无图可出 / zone {zone_id} has no member villages"
            ),
        })?;
    let members = this.members.clone();
    let extent = members
        .iter()
        .filter_map(|&v| data.metric_polygons[v].bounding_rect())
        .fold(None, |acc, b| Some(union_rect(acc, b)))
        .expect("a zone with members has an extent");
    let view = map_view(paper, extent);
    let villages: Vec<SheetVillage> = members
        .iter()
        .enumerate()
        .map(|(i, &v)| SheetVillage {
            name: data.villages[v].name.clone(),
            polygon: data.metric_polygons[v].clone(),
            anchor: data.villages[v].anchor,
            colour: i,
            is_key: z.key_village.as_deref() == Some(data.villages[v].code.as_str()),
            priority: data.villages[v].population,
        })
        .collect();
    let mut context: Vec<MultiPolygon<f64>> = dissolved
        .iter()
        .filter(|d| d.id != z.id)
        .map(|d| d.metric.clone())
        .collect();
    // Villages in no zone are greyed too.
    let assigned: std::collections::HashSet<&str> = content
        .zones
        .iter()
        .flat_map(|z| z.members.iter().map(String::as_str))
        .collect();
    for (v, vil) in data.villages.iter().enumerate() {
        if !assigned.contains(vil.code.as_str()) {
            context.push(data.metric_polygons[v].clone());
        }
    }
    let parcels = polygons_in_view(ws, LayerKind::Parcels, Some("dlbm"), view, metric_epsg)?;
    let greenhouses: Vec<MultiPolygon<f64>> =
        polygons_in_view(ws, LayerKind::Greenhouses, None, view, metric_epsg)?
            .into_iter()
            .map(|(g, _)| g)
            .collect();
    let location = LocationData::load(
        ws,
        LoadParcels {
            residential: false,
            construction: false,
            roads: false,
        },
    )
    .map_err(|e| PlanError::Io(e.to_string()))?;
    let radius = |f: &crate::location::Facility| {
        f.radius_m
            .or_else(|| location.radius_of(&f.kind).map(|r| r.radius_m))
    };
    let in_view = |c: Coord<f64>| {
        c.x >= view.min().x && c.x <= view.max().x && c.y >= view.min().y && c.y <= view.max().y
    };
    // Existing facilities in view; only those inside the zone draw their service circles.
    let mut facilities: Vec<SheetFacility> = location
        .facilities
        .iter()
        .filter(|f| in_view(f.point))
        .map(|f| SheetFacility {
            kind: f.kind.clone(),
            point: f.point,
            radius_m: radius(f),
            service_circle: {
                use geo::Intersects;
                this.metric.intersects(&geo::Point(f.point))
            },
            planned: false,
        })
        .collect();
    // Facilities the plan adds, at their village, with the kind's radius from the table.
    for f in z.facilities.iter().filter(|f| f.status != "existing") {
        if let Some(&v) = data.index_of_code.get(&f.village) {
            facilities.push(SheetFacility {
                kind: f.kind.clone(),
                point: data.villages[v].anchor,
                radius_m: location.radius_of(&f.kind).map(|r| r.radius_m),
                service_circle: true,
                planned: true,
            });
        }
    }

    // Statistics of the members.
    let s = zone_statistics(data, stats, &members);
    let key_name = z
        .key_village
        .as_ref()
        .and_then(|k| data.index_of_code.get(k))
        .map_or("未指定".to_string(), |&v| data.villages[v].name.clone());
    let mut table = vec![
        ("成员村".to_string(), format!("{} 个", s.villages)),
        ("非村成员".into(), format!("{} 个", z.other_members.len())),
        ("人口".into(), format!("{:.0} 人", s.population)),
        ("面积".into(), format!("{:.2} 平方千米", s.area_m2 / 1e6)),
        (
            "集体经营性收入".into(),
            format!("{:.1} 万元", s.collective_income),
        ),
        ("土地利用（公顷）".into(), String::new()),
    ];
    for (class, m2) in &s.land_use_m2 {
        // The short names of the shared symbology keep the rows on one line.
        let name = crate::render::symbology::symbology()
            .land_class(class)
            .map(|c| c.short.as_str())
            .or_else(|| crate::domain::landuse::class_of(class))
            .unwrap_or(class);
        table.push((name.to_string(), format!("{:.1}", m2 / 1e4)));
    }
    table.push(("大棚".into(), String::new()));
    table.push((
        "数量 / 面积".into(),
        format!(
            "{} 个 / {:.1} 公顷",
            s.greenhouse_count,
            s.greenhouse_area_m2 / 1e4
        ),
    ));
    table.push(("设施（片区内）".into(), String::new()));
    for (kind, n) in &s.facilities {
        table.push((kind.clone(), format!("{n} 处")));
    }
    // Coverage: the share of the members' population whose village point lies within the
    // service radius of a facility of each kind (any facility, inside the zone or not).
    let total_pop: f64 = members.iter().map(|&v| data.villages[v].population).sum();
    let mut kinds: Vec<&String> = location.facilities.iter().map(|f| &f.kind).collect();
    kinds.sort();
    kinds.dedup();
    if !kinds.is_empty() && total_pop > 0.0 {
        table.push(("服务覆盖（人口占比）".into(), String::new()));
        for kind in kinds {
            let covered: f64 = members
                .iter()
                .filter(|&&v| {
                    let a = data.villages[v].anchor;
                    location
                        .facilities
                        .iter()
                        .filter(|f| &f.kind == kind)
                        .any(|f| {
                            radius(f).is_some_and(|r| {
                                let (dx, dy) = (f.point.x - a.x, f.point.y - a.y);
                                (dx * dx + dy * dy).sqrt() <= r
                            })
                        })
                })
                .map(|&v| data.villages[v].population)
                .fold(0.0, |a, b| a + b);
            table.push((
                kind.clone(),
                format!("{}%", round(covered / total_pop * 100.0, 1)),
            ));
        }
    }
    if !z.facilities.is_empty() {
        table.push(("规划共享设施".into(), String::new()));
        for f in &z.facilities {
            let at = data
                .index_of_code
                .get(&f.village)
                .map_or(f.village.clone(), |&v| data.villages[v].name.clone());
            let status = if f.status == "existing" {
                "现状"
            } else {
                "规划"
            };
            table.push((
                format!(
                    "{}{}",
                    f.kind,
                    if f.name.is_empty() {
                        String::new()
                    } else {
                        format!("（{}）", f.name)
                    }
                ),
                format!("{at} · {status}"),
            ));
        }
    }
    let mut list: Vec<String> = villages.iter().map(|v| v.name.clone()).collect();
    list.extend(z.other_members.iter().cloned());
    Ok(SheetInput {
        paper,
        title: format!("{} 一片一规划图", z.name),
        subtitle: format!(
            "{} · {} · 中心村 {key_name} · 方案「{}」第 {version} 版",
            z.id,
            z.kind.label(),
            content.name
        ),
        extent,
        parcels,
        context,
        villages,
        fill_villages: false,
        zones: vec![SheetZone {
            id: z.id.clone(),
            label: z.name.clone(),
            polygon: this.metric.clone(),
            colour: 0,
            key: None,
            violations: Vec::new(),
        }],
        label_zones: false,
        townships: Vec::new(),
        greenhouses,
        facilities,
        table,
        notes: z.notes.trim().to_string(),
        list_title: "成员".into(),
        list,
        title_block: title_block(format!("方案{}-{}-V{version}", record.id, z.id)),
        footer,
        font_family,
    })
}

/// Township outlines (villages dissolved by township code) and names, for the overview.
fn townships(data: &ZoningData) -> Vec<SheetTownship> {
    let mut by_town: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
    for (v, vil) in data.villages.iter().enumerate() {
        if !vil.town_code.is_empty() {
            by_town.entry(vil.town_code.as_str()).or_default().push(v);
        }
    }
    if by_town.len() < 2 {
        return Vec::new();
    }
    by_town
        .into_values()
        .map(|vs| {
            let polygon: MultiPolygon<f64> =
                geo::unary_union(vs.iter().flat_map(|&v| data.metric_polygons[v].0.iter()));
            SheetTownship {
                name: data.town_name(vs[0]).to_string(),
                polygon,
            }
        })
        .collect()
}

/// The sheet in the asked format.
pub fn render(input: &SheetInput, format: SheetFormat) -> Result<Vec<u8>, PlanError> {
    let svg = crate::render::sheet::sheet_svg(input);
    match format {
        SheetFormat::Svg => Ok(svg.into_bytes()),
        SheetFormat::Pdf => {
            crate::render::svg_to_pdf(&svg).map_err(|e| PlanError::Io(e.to_string()))
        }
        SheetFormat::Png => {
            crate::render::svg_to_png(&svg, 150.0).map_err(|e| PlanError::Io(e.to_string()))
        }
    }
}
