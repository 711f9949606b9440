//! From a workspace to the zoning engine and back: loads the villages (metric geometry,
//! attributes, strong villages, non-village members), builds the contiguity graph, reads
//! zoning files, and shapes proposals, evaluations and the graph as JSON/GeoJSON. The CLI and
//! the HTTP handlers both go through here; the engine ([`crate::engine::zoning`]) never sees
//! files or JSON.

use std::collections::{BTreeMap, HashMap};

use geo::{Area, Coord, Euclidean, Length, MultiPolygon};
use serde_json::{Value as Json, json};

use crate::domain::LayerKind;
use crate::engine::contiguity::{ContiguityGraph, ContiguityParams, EdgeKind, anchor};
use crate::engine::crs::Reprojector;
use crate::engine::zoning::certify::Certificate;
use crate::engine::zoning::evaluate::Evaluation;
use crate::engine::zoning::propose::{Proposal, ZoningError, propose};
use crate::engine::zoning::relax::{Relaxation, VerifiedRelaxation, relaxations};
use crate::engine::zoning::{StrongRule, ZoningVillage, strong_villages};
use crate::workspace::{Workspace, WorkspaceError};

/// Which attributes and rules the zoning reads from the villages layer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LoadOptions {
    /// Numeric columns for the heterogeneity term (standardised).
    pub attributes: Vec<String>,
    /// `None`: the `strong` flag when the layer has one set, else the top 20 % by income.
    pub strong_share: Option<f64>,
    /// The share is taken within each township instead of county-wide.
    pub strong_in_town: bool,
    /// Exactly these villages are strong (replaces the flag and the share).
    pub strong_codes: Vec<String>,
    /// These villages are strong as well (added to the rule, e.g. a relaxation's designation).
    pub strong_extra: Vec<String>,
    /// How the contiguity graph is built (tolerance, weak touches, bridging).
    pub contiguity: ContiguityParams,
}

/// The default share of villages counted strong when the data has no `strong` flag.
pub const DEFAULT_STRONG_SHARE: f64 = 0.2;

/// An enterprise, community or school that joins the zone of its village.
#[derive(Debug, Clone, PartialEq)]
pub struct NonVillageMember {
    /// The member's name (as in the members layer).
    pub name: String,
    /// Its kind as the data words it (企业, 社区, 学校, …).
    pub kind: String,
    /// The village it belongs to (index into [`ZoningData::villages`]).
    pub village: usize,
    /// How the village was found: "code", "inside" or "nearest".
    pub how: &'static str,
}

/// Everything the zoning needs from a workspace.
#[derive(Clone)]
pub struct ZoningData {
    /// The villages as the zoning sees them, in layer order (strong villages resolved).
    pub villages: Vec<ZoningVillage>,
    /// Village boundaries in the metric CRS (metres), by village.
    pub metric_polygons: Vec<MultiPolygon<f64>>,
    /// Village boundaries in CGCS2000 lon/lat (EPSG:4490), by village.
    pub lonlat_polygons: Vec<MultiPolygon<f64>>,
    /// Each village's anchor (an interior point) in lon/lat, for labels and graph lines.
    pub lonlat_anchors: Vec<Coord<f64>>,
    /// The contiguity graph of the villages.
    pub graph: ContiguityGraph,
    /// Non-village members (enterprises, communities, schools) and their villages.
    pub members: Vec<NonVillageMember>,
    /// The workspace's metric CRS (CGCS2000 3° Gauss–Krüger EPSG code).
    pub metric_epsg: u32,
    /// How strong villages were chosen, in words.
    pub strong_rule: String,
    /// Village index by 12-digit code.
    pub index_of_code: HashMap<String, usize>,
    /// Township names by township code (from the villages' `town` field), for what people read.
    pub town_names: HashMap<String, String>,
    /// The villages' own `strong` values, from which `strong` is resolved.
    pub raw_strong: Vec<Option<bool>>,
    /// What this data was loaded with.
    pub options: LoadOptions,
}

/// Why the zoning could not load its data or read a request.
#[derive(Debug, thiserror::Error)]
pub enum ZonesError {
    /// The workspace could not be read.
    #[error("{0}")]
    Workspace(#[from] WorkspaceError),
    /// Bad input; `field` names the request field at fault as the request spells it.
    #[error("{message}")]
    Input {
        /// The request field at fault, as the request spells it.
        field: String,
        /// What is wrong with it, Chinese and English.
        message: String,
    },
}

impl ZonesError {
    /// A bad-input error about `field`.
    pub fn input(field: impl Into<String>, message: impl Into<String>) -> ZonesError {
        ZonesError::Input {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The request field a bad input is about (`None` for other errors).
    pub fn field(&self) -> Option<&str> {
        match self {
            ZonesError::Input { field, .. } => Some(field),
            ZonesError::Workspace(_) => None,
        }
    }
}

impl ZoningData {
    /// The villages of the townships named in `towns` (codes or names), ascending; `None` when
    /// `towns` is empty (the whole county). An unknown township is an error naming the known ones.
    pub fn town_villages(&self, towns: &[String]) -> Result<Option<Vec<usize>>, ZonesError> {
        if towns.is_empty() {
            return Ok(None);
        }
        let mut codes = std::collections::BTreeSet::new();
        for t in towns {
            let t = t.trim();
            let known = self.villages.iter().any(|v| v.town_code == t);
            let by_name = self
                .town_names
                .iter()
                .filter(|(_, name)| name.as_str() == t)
                .map(|(code, _)| code.as_str());
            let mut found = false;
            for code in by_name.chain(known.then_some(t)) {
                codes.insert(code.to_string());
                found = true;
            }
            if !found {
                let mut names: Vec<&str> = self.town_names.values().map(String::as_str).collect();
                names.sort_unstable();
                let names = names.join("、");
                return Err(ZonesError::input(
                    "towns",
                    format!("没有乡镇「{t}」（现有：{names}）/ no township '{t}' (known: {names})"),
                ));
            }
        }
        Ok(Some(
            (0..self.villages.len())
                .filter(|&v| codes.contains(&self.villages[v].town_code))
                .collect(),
        ))
    }

    /// The villages `keep` (ascending indices) as a zoning of their own: the contiguity graph is
    /// rebuilt over them; strong flags stay as the whole county resolved them.
    pub fn restricted_to(&self, keep: &[usize], contiguity: &ContiguityParams) -> ZoningData {
        let mut new_index = vec![None; self.villages.len()];
        for (i, &v) in keep.iter().enumerate() {
            new_index[v] = Some(i);
        }
        let metric_polygons: Vec<MultiPolygon<f64>> = keep
            .iter()
            .map(|&v| self.metric_polygons[v].clone())
            .collect();
        let villages: Vec<ZoningVillage> = keep.iter().map(|&v| self.villages[v].clone()).collect();
        ZoningData {
            graph: ContiguityGraph::build(&metric_polygons, contiguity),
            lonlat_polygons: keep
                .iter()
                .map(|&v| self.lonlat_polygons[v].clone())
                .collect(),
            lonlat_anchors: keep.iter().map(|&v| self.lonlat_anchors[v]).collect(),
            members: self
                .members
                .iter()
                .filter_map(|m| {
                    new_index[m.village].map(|village| NonVillageMember {
                        village,
                        ..m.clone()
                    })
                })
                .collect(),
            index_of_code: villages
                .iter()
                .enumerate()
                .map(|(i, v)| (v.code.clone(), i))
                .collect(),
            villages,
            metric_polygons,
            metric_epsg: self.metric_epsg,
            strong_rule: self.strong_rule.clone(),
            town_names: self.town_names.clone(),
            raw_strong: keep.iter().map(|&v| self.raw_strong[v]).collect(),
            options: LoadOptions {
                contiguity: contiguity.clone(),
                ..self.options.clone()
            },
        }
    }

    /// This data as `request` sees it: when the request picks strong villages or contiguity
    /// otherwise than this data was loaded with (a plan made with a strong share of 0.3, checked
    /// against the workspace's default data), the strong flags are resolved again and the
    /// contiguity graph rebuilt. Attributes are kept as loaded (they weigh the objective, not
    /// the bounds a check reports).
    pub fn for_request(
        &self,
        request: &ZoneRequest,
    ) -> Result<std::borrow::Cow<'_, ZoningData>, ZonesError> {
        let wanted = LoadOptions {
            attributes: self.options.attributes.clone(),
            ..request.load_options()?
        };
        if wanted == self.options {
            return Ok(std::borrow::Cow::Borrowed(self));
        }
        let mut villages = self.villages.clone();
        let strong_rule = resolve_strong(
            &mut villages,
            &self.raw_strong,
            &self.index_of_code,
            &wanted,
        )?;
        let graph = if wanted.contiguity == self.options.contiguity {
            self.graph.clone()
        } else {
            ContiguityGraph::build(&self.metric_polygons, &wanted.contiguity)
        };
        Ok(std::borrow::Cow::Owned(ZoningData {
            villages,
            metric_polygons: self.metric_polygons.clone(),
            lonlat_polygons: self.lonlat_polygons.clone(),
            lonlat_anchors: self.lonlat_anchors.clone(),
            graph,
            members: self.members.clone(),
            metric_epsg: self.metric_epsg,
            strong_rule,
            index_of_code: self.index_of_code.clone(),
            town_names: self.town_names.clone(),
            raw_strong: self.raw_strong.clone(),
            options: wanted,
        }))
    }

    /// A village's township as people say it: its name, or its code when the layer has none.
    pub fn town_name(&self, v: usize) -> &str {
        let code = &self.villages[v].town_code;
        self.town_names
            .get(code)
            .map_or(code.as_str(), String::as_str)
    }

    /// Loads the villages (metric and lon/lat), resolves the strong villages, builds the contiguity
    /// graph and places the non-village members.
    pub fn load(ws: &Workspace, opts: &LoadOptions) -> Result<ZoningData, ZonesError> {
        let (info, rows) = ws.villages().map_err(|e| match e {
            WorkspaceError::Missing(m) => ZonesError::input("workspace", m),
            other => other.into(),
        })?;
        let col = |name: &str| info.column_index(name);
        for a in &opts.attributes {
            let ok = info.columns.iter().any(|c| {
                &c.name == a
                    && matches!(
                        c.ty,
                        crate::domain::FieldType::Integer | crate::domain::FieldType::Real
                    )
            });
            if !ok {
                let numeric: Vec<&str> = info
                    .columns
                    .iter()
                    .filter(|c| {
                        matches!(
                            c.ty,
                            crate::domain::FieldType::Integer | crate::domain::FieldType::Real
                        )
                    })
                    .map(|c| c.name.as_str())
                    .collect();
                return Err(ZonesError::input(
                    "attributes",
                    format!(
                        "属性 '{a}' 不是村界图层的数值字段 / '{a}' is not a numeric column of the villages; numeric columns: {}",
                        numeric.join(", ")
                    ),
                ));
            }
        }
        let metric_epsg = ws.metric_epsg()?;
        let to_metric = Reprojector::to_metric(metric_epsg).map_err(WorkspaceError::from)?;
        let attribute_columns: Vec<Option<usize>> =
            opts.attributes.iter().map(|a| col(a)).collect();
        let mut villages = Vec::with_capacity(rows.len());
        let (mut metric_polygons, mut lonlat_polygons, mut lonlat_anchors) =
            (Vec::new(), Vec::new(), Vec::new());
        let mut flags = Vec::new();
        let mut index_of_code = HashMap::new();
        let mut town_names: HashMap<String, String> = HashMap::new();
        for (i, v) in rows.into_iter().enumerate() {
            let perimeter: f64 = v
                .metric
                .0
                .iter()
                .map(|p| {
                    Euclidean.length(p.exterior())
                        + p.interiors()
                            .iter()
                            .map(|r| Euclidean.length(r))
                            .sum::<f64>()
                })
                .sum();
            let attributes = attribute_columns
                .iter()
                .map(|c| c.and_then(|c| v.values[c].as_f64()).unwrap_or(f64::NAN))
                .collect();
            flags.push(v.strong_flag);
            index_of_code.insert(v.code.clone(), i);
            if !v.town.is_empty() {
                town_names
                    .entry(v.town_code.clone())
                    .or_insert_with(|| v.town.clone());
            }
            villages.push(ZoningVillage {
                name: v.name,
                town_code: v.town_code,
                population: v.population.unwrap_or(0.0),
                income: v.collective_income.unwrap_or(0.0),
                industry: v.industry,
                strong: false,
                anchor: anchor(&v.metric),
                area_m2: v.metric.unsigned_area(),
                perimeter_m: perimeter,
                attributes,
                code: v.code,
            });
            lonlat_anchors.push(anchor(&v.lonlat));
            metric_polygons.push(v.metric);
            lonlat_polygons.push(v.lonlat);
        }
        let strong_rule = resolve_strong(&mut villages, &flags, &index_of_code, opts)?;
        let graph = ContiguityGraph::build(&metric_polygons, &opts.contiguity);
        let members = load_members(ws, &to_metric, &villages, &metric_polygons, &index_of_code)?;
        Ok(ZoningData {
            town_names,
            raw_strong: flags,
            options: opts.clone(),
            villages,
            metric_polygons,
            lonlat_polygons,
            lonlat_anchors,
            graph,
            members,
            metric_epsg,
            strong_rule,
            index_of_code,
        })
    }

    /// Village indices of the codes the villages layer has (others are left out: a plan may
    /// name a village since removed, which its check reports).
    pub fn known_indices(&self, codes: &[String]) -> Vec<usize> {
        codes
            .iter()
            .filter_map(|c| self.index_of_code.get(c).copied())
            .collect()
    }

    /// Village indices from codes, or an error naming the unknown ones.
    pub fn indices(&self, codes: &[String], what: &str) -> Result<Vec<usize>, ZonesError> {
        let mut out = Vec::with_capacity(codes.len());
        let mut unknown = Vec::new();
        for c in codes {
            match self.index_of_code.get(c.trim()) {
                Some(&i) => out.push(i),
                None => unknown.push(c.as_str()),
            }
        }
        if unknown.is_empty() {
            Ok(out)
        } else {
            Err(ZonesError::input(
                what,
                format!(
                    "{what}: 未知村代码 unknown village codes: {}",
                    unknown
                        .iter()
                        .take(10)
                        .copied()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ))
        }
    }
}

/// Which villages are strong under `opts` (a share of collective income, county-wide or per
/// township, the data's flag, or listed codes, plus extra codes), set on `villages`; returns the
/// rule in words. `raw_flags` are the villages' own `strong` values.
fn resolve_strong(
    villages: &mut [ZoningVillage],
    raw_flags: &[Option<bool>],
    index_of_code: &HashMap<String, usize>,
    opts: &LoadOptions,
) -> Result<String, ZonesError> {
    let share_rule = |s: f64| {
        if opts.strong_in_town {
            (
                StrongRule::TopIncomeShareInTown(s),
                format!(
                    "各乡镇集体收入前 {:.0}% 为强村 / top {:.0}% by collective income within each township",
                    s * 100.0,
                    s * 100.0
                ),
            )
        } else {
            (
                StrongRule::TopIncomeShare(s),
                format!(
                    "集体收入前 {:.0}% 为强村 / top {:.0}% by collective income",
                    s * 100.0,
                    s * 100.0
                ),
            )
        }
    };
    let (rule, mut strong_rule) = match opts.strong_share {
        _ if !opts.strong_codes.is_empty() => (
            StrongRule::Flag,
            format!(
                "指定的 {} 个强村 / the {} villages listed as strong",
                opts.strong_codes.len(),
                opts.strong_codes.len()
            ),
        ),
        Some(s) => share_rule(s),
        None if raw_flags.contains(&Some(true)) && !opts.strong_in_town => (
            StrongRule::Flag,
            "村界图层的 strong（强村）字段 / the villages' strong flag".into(),
        ),
        None => {
            let (r, text) = share_rule(DEFAULT_STRONG_SHARE);
            let why = if opts.strong_in_town {
                ""
            } else {
                "无强村字段，"
            };
            (r, format!("{why}{text}"))
        }
    };
    let code_list = |list: &[String], what: &str| -> Result<Vec<usize>, ZonesError> {
        list.iter()
            .map(|c| {
                index_of_code.get(c.trim()).copied().ok_or_else(|| {
                    ZonesError::input(what, format!("{what}: 未知村代码 unknown village code {c}"))
                })
            })
            .collect()
    };
    let mut flags = raw_flags.to_vec();
    if !opts.strong_codes.is_empty() {
        flags = vec![Some(false); villages.len()];
        for i in code_list(&opts.strong_codes, "strong_codes")? {
            flags[i] = Some(true);
        }
    }
    let extra = code_list(&opts.strong_extra, "strong_extra")?;
    if !extra.is_empty() {
        strong_rule.push_str(&format!(
            "；另指定 {} 个强村 / plus {} villages designated strong",
            extra.len(),
            extra.len()
        ));
    }
    let incomes: Vec<f64> = villages.iter().map(|v| v.income).collect();
    let codes: Vec<String> = villages.iter().map(|v| v.code.clone()).collect();
    let towns: Vec<String> = villages.iter().map(|v| v.town_code.clone()).collect();
    for (v, s) in villages
        .iter_mut()
        .zip(strong_villages(&flags, &incomes, &codes, &towns, rule))
    {
        v.strong = s;
    }
    for i in extra {
        villages[i].strong = true;
    }
    Ok(strong_rule)
}

fn load_members(
    ws: &Workspace,
    to_metric: &Reprojector,
    villages: &[ZoningVillage],
    polygons: &[MultiPolygon<f64>],
    index_of_code: &HashMap<String, usize>,
) -> Result<Vec<NonVillageMember>, ZonesError> {
    let Some(info) = ws
        .store()
        .layer(LayerKind::Members)
        .map_err(WorkspaceError::from)?
    else {
        return Ok(Vec::new());
    };
    let (name_c, kind_c, code_c) = (
        info.column_index("name"),
        info.column_index("kind"),
        info.column_index("village_code"),
    );
    let tree = crate::engine::geometry::envelope_tree(polygons);
    let mut rows = Vec::new();
    ws.store()
        .scan(LayerKind::Members, &mut |f| {
            rows.push(f);
            Ok(())
        })
        .map_err(WorkspaceError::from)?;
    let mut out = Vec::new();
    for f in rows {
        let text = |c: Option<usize>| c.and_then(|c| f.values[c].as_text()).unwrap_or_default();
        let located = match index_of_code.get(&text(code_c)).copied() {
            Some(v) => Some((v, "code")),
            None => {
                let mut g = f.geometry.clone();
                to_metric
                    .transform_geometry(&mut g)
                    .map_err(WorkspaceError::from)?;
                geo::InteriorPoint::interior_point(&g).map(|p| {
                    use geo::Contains;
                    let p = p.0;
                    let inside = tree
                        .locate_all_at_point(&[p.x, p.y])
                        .map(|e| e.slot)
                        .find(|&s| polygons[s].contains(&geo::Point(p)));
                    match inside {
                        Some(v) => (v, "inside"),
                        None => {
                            let v = (0..villages.len())
                                .min_by(|&a, &b| {
                                    let da = (villages[a].anchor.x - p.x)
                                        .hypot(villages[a].anchor.y - p.y);
                                    let db = (villages[b].anchor.x - p.x)
                                        .hypot(villages[b].anchor.y - p.y);
                                    da.total_cmp(&db)
                                })
                                .unwrap_or(0);
                            (v, "nearest")
                        }
                    }
                })
            }
        };
        if let Some((village, how)) = located {
            out.push(NonVillageMember {
                name: text(name_c),
                kind: text(kind_c),
                village,
                how,
            });
        }
    }
    Ok(out)
}

/// The zone id of every village (`None`: not in the file) and the key villages given by zone.
pub type ParsedZoning = (Vec<Option<String>>, BTreeMap<String, usize>);

/// Reads a zoning: `{"zones": [{"id", "members": [codes], "key_village"?}]}` (a proposal),
/// `{"labels": {code: zone}}` (as written by other tools), a plain `{code: zone}` object, or
/// CSV with `code,zone` columns (header optional). Returns the zone of every village and the
/// key villages given.
pub fn parse_zoning(data: &ZoningData, text: &str) -> Result<ParsedZoning, ZonesError> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut keys: BTreeMap<String, String> = BTreeMap::new();
    let trimmed = text.trim_start_matches('\u{feff}').trim();
    if trimmed.starts_with('{') {
        let j: Json = serde_json::from_str(trimmed).map_err(|e| {
            ZonesError::input(
                "zoning",
                format!("分区文件不是有效的 JSON / the zoning is not valid JSON: {e}"),
            )
        })?;
        if let Some(zones) = j.get("zones").and_then(Json::as_array) {
            for (i, z) in zones.iter().enumerate() {
                let id = match &z["id"] {
                    Json::String(s) => s.clone(),
                    Json::Number(n) => n.to_string(),
                    _ => format!("{}", i + 1),
                };
                let members = z["members"].as_array().ok_or_else(|| {
                    ZonesError::input(
                        "zoning",
                        format!("zones[{i}] 没有 members 数组 / has no members array"),
                    )
                })?;
                for m in members {
                    let code = m
                        .as_str()
                        .map(str::to_string)
                        .or_else(|| m.get("code").and_then(Json::as_str).map(str::to_string));
                    let code = code.ok_or_else(|| {
                        ZonesError::input(
                            "zoning",
                            format!(
                                "zones[{i}].members: 成员应为村代码 / members must be village codes"
                            ),
                        )
                    })?;
                    pairs.push((code, id.clone()));
                }
                if let Some(k) = z
                    .get("key_village")
                    .and_then(|k| k.as_str().or_else(|| k.get("code").and_then(Json::as_str)))
                {
                    keys.insert(id.clone(), k.to_string());
                }
            }
        } else {
            let map = j.get("labels").unwrap_or(&j).as_object().ok_or_else(|| {
                ZonesError::input("zoning", "分区 JSON 应为 {\"zones\": [...]}、{\"labels\": {...}} 或 {村代码: 片区} / expected zones, labels or a code→zone object")
            })?;
            for (code, zone) in map {
                let zone = match zone {
                    Json::String(s) => s.clone(),
                    Json::Number(n) => n.to_string(),
                    Json::Null => continue,
                    other => {
                        return Err(ZonesError::input(
                            "zoning",
                            format!("村 {code}: 片区编号无效 / bad zone id {other}"),
                        ));
                    }
                };
                pairs.push((code.clone(), zone));
            }
        }
    } else {
        for (line_no, line) in trimmed.lines().enumerate() {
            let cells: Vec<&str> = line
                .split(',')
                .map(|c| c.trim().trim_matches('"'))
                .collect();
            if line.trim().is_empty() {
                continue;
            }
            if line_no == 0 && !cells[0].chars().all(|c| c.is_ascii_digit()) {
                continue; // header
            }
            if cells.len() < 2 || cells[0].is_empty() || cells[1].is_empty() {
                return Err(ZonesError::input(
                    "zoning",
                    format!(
                        "分区第 {} 行应为「村代码,片区」/ zoning line {} must be 'village code,zone': '{}'",
                        line_no + 1,
                        line_no + 1,
                        line.chars().take(60).collect::<String>()
                    ),
                ));
            }
            pairs.push((cells[0].to_string(), cells[1].to_string()));
        }
    }
    let mut zone_of: Vec<Option<String>> = vec![None; data.villages.len()];
    let mut unknown = Vec::new();
    for (code, zone) in pairs {
        match data.index_of_code.get(code.trim()) {
            Some(&v) => {
                if let Some(prev) = &zone_of[v]
                    && prev != &zone
                {
                    return Err(ZonesError::input(
                        "zoning",
                        format!(
                            "村 {code} 同时属于片区 {prev} 和 {zone} / village {code} is in two zones"
                        ),
                    ));
                }
                zone_of[v] = Some(zone);
            }
            None => unknown.push(code),
        }
    }
    if !unknown.is_empty() {
        return Err(ZonesError::input(
            "zoning",
            format!(
                "分区中有 {} 个未知村代码 / {} unknown village codes in the zoning: {}",
                unknown.len(),
                unknown.len(),
                unknown
                    .iter()
                    .take(10)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    if zone_of.iter().all(Option::is_none) {
        return Err(ZonesError::input(
            "zoning",
            "分区没有给任何村分配片区 / the zoning assigns no village to a zone",
        ));
    }
    let mut key_of = BTreeMap::new();
    for (z, code) in keys {
        let v = data.index_of_code.get(&code).copied().ok_or_else(|| {
            ZonesError::input(
                "zoning",
                format!(
                    "片区 {z} 的中心村 {code} 不在工作区 / zone {z}: unknown key village {code}"
                ),
            )
        })?;
        key_of.insert(z, v);
    }
    Ok((zone_of, key_of))
}

/// `x` rounded to `digits` decimals (for JSON and tables).
pub(crate) fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

/// Why a zone has the shape it has: a constraint's code and parameter (the client words it),
/// with both wordings for readers without the web map's dictionary.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BindingReport {
    /// The constraint's code (e.g. `at_max_members`, `single_strong`).
    pub code: &'static str,
    /// Its parameter (a member count or a population), if it has one.
    pub value: Option<f64>,
    /// The Chinese wording.
    pub zh: String,
    /// The English wording.
    pub en: String,
}

/// A member that is not a village (a cooperative, an enterprise) and how it was placed.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OtherMemberReport {
    /// The member's name.
    pub name: String,
    /// Its kind as the data words it.
    pub kind: String,
    /// The village code it belongs to.
    pub village: String,
    /// How its village was found: `code`, `inside` or `nearest`.
    pub located_by: &'static str,
}

/// One zone of a proposal.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ProposedZone {
    /// The zone's id (Z001, …).
    pub id: String,
    /// Map colour index (neighbouring zones differ).
    pub colour: usize,
    /// The key village's 12-digit code.
    pub key_village: String,
    /// The key village's name.
    pub key_village_name: String,
    /// Member village codes and names, in the same order.
    pub members: Vec<String>,
    /// Member village names, aligned with `members`.
    pub member_names: Vec<String>,
    /// Codes of the strong villages among the members.
    pub strong_villages: Vec<String>,
    /// Total registered population of the members, persons.
    pub population: f64,
    /// Total collective income of the members (万元), rounded to 0.01.
    pub collective_income: f64,
    /// Whether the zone was locked (kept as given).
    pub locked: bool,
    /// 强村带动型 or 村村互助型.
    pub zone_type: &'static str,
    /// The constraints that shaped the zone.
    pub binding: Vec<BindingReport>,
    /// Why these members, which constraint bound (Chinese, then English).
    pub explanation: String,
    /// Non-village members that join the zone with their village.
    pub other_members: Vec<OtherMemberReport>,
}

/// A proposal as the CLI prints it and HTTP returns it; the request's echo, the time taken and
/// the GeoJSON are the caller's to add.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ProposalReport {
    /// The zones, in id order.
    pub zones: Vec<ProposedZone>,
    /// The objective terms of the zoning.
    pub objective: ObjectiveReport,
    /// How the number of zones was set, in words.
    pub zone_count_rule: String,
    /// The most zones the bounds allow (an upper bound, not always reachable).
    pub zones_upper_bound: usize,
    /// How strong villages were chosen, in words.
    pub strong_rule: String,
    /// How each zone's key village is chosen ([`KEY_VILLAGE_RULE`]).
    pub key_village_rule: &'static str,
    /// Whether the time limit ended the search (the best zoning found is returned).
    pub stopped_by_time_limit: bool,
    /// Annealing moves tried.
    pub moves: usize,
}

/// How a zone's key village is chosen.
pub const KEY_VILLAGE_RULE: &str = "片区内集体收入最高的强村（并列时取到其他成员距离之和最小者） / the strong member with the highest collective income (ties: the most central)";

/// The report of a proposal: zones with members, key village, population, income, the
/// constraints that bind and the explanation; the objective terms.
pub fn proposal_report(data: &ZoningData, p: &Proposal) -> ProposalReport {
    let colours = map_colours(data, p.zones.iter().map(|z| z.members.clone()).collect());
    let zones = p
        .zones
        .iter()
        .zip(colours)
        .enumerate()
        .map(|(i, (z, colour))| {
            let village = |v: usize| &data.villages[v];
            ProposedZone {
                id: zone_id(i),
                colour,
                key_village: village(z.key_village).code.clone(),
                key_village_name: village(z.key_village).name.clone(),
                members: data.codes(&z.members),
                member_names: z.members.iter().map(|&v| village(v).name.clone()).collect(),
                strong_villages: z
                    .members
                    .iter()
                    .filter(|&&v| village(v).strong)
                    .map(|&v| village(v).code.clone())
                    .collect(),
                population: z.members.iter().map(|&v| village(v).population).sum(),
                collective_income: round(z.members.iter().map(|&v| village(v).income).sum(), 2),
                locked: z.locked,
                zone_type: z.zone_type.name(),
                binding: z
                    .binding
                    .iter()
                    .map(|b| BindingReport {
                        code: b.code(),
                        value: b.value(),
                        zh: b.text_zh(),
                        en: b.text_en(),
                    })
                    .collect(),
                explanation: z.explanation.clone(),
                other_members: data
                    .members
                    .iter()
                    .filter(|m| z.members.contains(&m.village))
                    .map(|m| OtherMemberReport {
                        name: m.name.clone(),
                        kind: m.kind.clone(),
                        village: village(m.village).code.clone(),
                        located_by: m.how,
                    })
                    .collect(),
            }
        })
        .collect();
    ProposalReport {
        zones,
        objective: ObjectiveReport::from(&p.terms),
        zone_count_rule: p.zone_count_rule.clone(),
        zones_upper_bound: p.zones_upper_bound,
        strong_rule: data.strong_rule.clone(),
        key_village_rule: KEY_VILLAGE_RULE,
        stopped_by_time_limit: p.stopped_by_time_limit,
        moves: p.moves,
    }
}

/// Proposal as JSON ([`ProposalReport`]).
pub fn proposal_json(data: &ZoningData, p: &Proposal) -> Json {
    serde_json::to_value(proposal_report(data, p)).expect("reports serialise")
}

/// A village as people read it: its code and its name.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct VillageRef {
    /// The village's 12-digit code.
    pub code: String,
    /// The village's name.
    pub name: String,
}

/// The objective's terms as reported (lower is better).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ObjectiveReport {
    /// The weighted total.
    pub total: f64,
    /// Heterogeneity of the chosen attributes within zones (0 without attributes).
    pub heterogeneity: f64,
    /// Industry impurity (negative when complementary industries are rewarded).
    pub industry: f64,
    /// Compactness: the zones' moment of inertia relative to the county's.
    pub compactness: f64,
    /// Income balance: squared coefficient of variation of zone incomes.
    pub balance: f64,
}

impl From<&crate::engine::zoning::ObjectiveTerms> for ObjectiveReport {
    fn from(t: &crate::engine::zoning::ObjectiveTerms) -> Self {
        ObjectiveReport {
            total: t.total,
            heterogeneity: t.heterogeneity,
            industry: t.industry,
            compactness: t.compactness,
            balance: t.balance,
        }
    }
}

/// A violated bound on the wire: its code, its numbers (the client words them in its own
/// language) and both wordings.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ViolationReport {
    /// The bound's code (`disconnected`, `min_members`, `max_members`, `pop_floor`, `pop_ceiling`,
    /// `strong`, `within_town`).
    pub constraint: &'static str,
    /// The bound's numbers, e.g. `{"members": 12, "max": 10}`.
    pub params: Json,
    /// Chinese and English wording.
    pub detail: String,
    /// The Chinese wording (for sheets).
    pub zh: String,
}

/// A zone's collective income (万元): total, smallest and largest member, Gini.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct IncomeReport {
    /// Total of the members (万元), rounded to 0.01.
    pub total: f64,
    /// Smallest member income (万元).
    pub min: f64,
    /// Largest member income (万元).
    pub max: f64,
    /// Gini coefficient of the member incomes (0: equal), rounded to 0.0001.
    pub gini: f64,
}

/// One zone of an evaluated zoning.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EvaluatedZone {
    /// The zone's id as the zoning names it.
    pub id: String,
    /// Map colour index (neighbouring zones differ).
    pub colour: usize,
    /// Member village codes, ascending by village.
    pub members: Vec<String>,
    /// The key village (given for the zone, else its strongest member).
    pub key_village: VillageRef,
    /// Whether the members form one connected piece.
    pub connected: bool,
    /// Number of connected pieces.
    pub parts: usize,
    /// Every bound the zone breaks.
    pub violations: Vec<ViolationReport>,
    /// Total registered population of the members, persons.
    pub population: f64,
    /// Collective income of the members.
    pub income: IncomeReport,
    /// Number of strong villages among the members.
    pub strong_villages: usize,
    /// Σ squared deviations of the standardised attributes from the zone mean.
    pub heterogeneity: f64,
    /// Total area of the members, km² (rounded to 0.001).
    pub area_km2: f64,
    /// Polsby–Popper compactness 4πA/P² of the dissolved zone, 0–1.
    pub compactness_polsby_popper: f64,
    /// From the key village to the farthest member, km (anchor to anchor).
    pub key_to_farthest_member_km: f64,
}

/// The whole zoning's totals.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EvaluationTotals {
    /// Number of zones.
    pub zones: usize,
    /// Villages in the workspace.
    pub villages: usize,
    /// Codes of villages in no zone.
    pub unassigned: Vec<String>,
    /// Σ zone heterogeneity.
    pub heterogeneity: f64,
    /// Zones whose members are not connected.
    pub disconnected_zones: usize,
    /// Number of (zone, broken bound) pairs.
    pub violations: usize,
    /// Zones breaking at least one bound.
    pub zones_with_violations: usize,
    /// The objective terms of the zoning.
    pub objective: ObjectiveReport,
}

/// An evaluated zoning as the CLI prints it and HTTP returns it (`zones evaluate`,
/// `POST /analysis/zones/evaluate`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EvaluationReport {
    /// The zones, ascending by id.
    pub zones: Vec<EvaluatedZone>,
    /// Totals over the zoning.
    pub totals: EvaluationTotals,
    /// How strong villages were chosen, in words.
    pub strong_rule: String,
}

impl ViolationReport {
    /// The report of one violated bound.
    pub fn new(v: &crate::engine::zoning::Violation) -> ViolationReport {
        use crate::engine::zoning::Violation as V;
        let params = match *v {
            V::Disconnected { parts } => json!({"parts": parts}),
            V::TooFewMembers { members, min } => json!({"members": members, "min": min}),
            V::TooManyMembers { members, max } => json!({"members": members, "max": max}),
            V::BelowFloor { population, floor } => {
                json!({"population": population, "floor": floor})
            }
            V::AboveCeiling {
                population,
                ceiling,
            } => json!({"population": population, "ceiling": ceiling}),
            V::NoStrongVillage => json!({}),
            V::CrossesTowns { towns } => json!({"towns": towns}),
        };
        ViolationReport {
            constraint: v.code(),
            params,
            detail: v.describe(),
            zh: v.describe_zh(),
        }
    }
}

/// A violated bound as JSON ([`ViolationReport`]).
pub fn violation_json(v: &crate::engine::zoning::Violation) -> Json {
    serde_json::to_value(ViolationReport::new(v)).expect("reports serialise")
}

impl ZoningData {
    /// A village's code and name.
    pub fn village_ref(&self, v: usize) -> VillageRef {
        VillageRef {
            code: self.villages[v].code.clone(),
            name: self.villages[v].name.clone(),
        }
    }

    fn codes(&self, villages: &[usize]) -> Vec<String> {
        villages
            .iter()
            .map(|&v| self.villages[v].code.clone())
            .collect()
    }
}

/// The report of an evaluation: per zone and totals.
pub fn evaluation_report(data: &ZoningData, e: &Evaluation) -> EvaluationReport {
    let colours = map_colours(data, e.zones.iter().map(|z| z.members.clone()).collect());
    let zones = e
        .zones
        .iter()
        .zip(colours)
        .map(|(z, colour)| EvaluatedZone {
            id: z.id.clone(),
            colour,
            members: data.codes(&z.members),
            key_village: data.village_ref(z.key_village),
            connected: z.parts == 1,
            parts: z.parts,
            violations: z.violations.iter().map(ViolationReport::new).collect(),
            population: z.population,
            income: IncomeReport {
                total: round(z.income_total, 2),
                min: z.income_min,
                max: z.income_max,
                gini: round(z.income_gini, 4),
            },
            strong_villages: z.strong_villages,
            heterogeneity: z.heterogeneity,
            area_km2: round(z.area_m2 / 1e6, 3),
            compactness_polsby_popper: round(z.polsby_popper, 4),
            key_to_farthest_member_km: round(z.key_to_farthest_m / 1000.0, 3),
        })
        .collect();
    EvaluationReport {
        zones,
        totals: EvaluationTotals {
            zones: e.zones.len(),
            villages: data.villages.len(),
            unassigned: data.codes(&e.unassigned),
            heterogeneity: e.heterogeneity,
            disconnected_zones: e.disconnected_zones,
            violations: e.violations,
            zones_with_violations: e.zones_with_violations,
            objective: ObjectiveReport::from(&e.terms),
        },
        strong_rule: data.strong_rule.clone(),
    }
}

/// Evaluation as JSON ([`EvaluationReport`]).
pub fn evaluation_json(data: &ZoningData, e: &Evaluation) -> Json {
    serde_json::to_value(evaluation_report(data, e)).expect("reports serialise")
}

/// The contiguity graph as JSON: edges with shared length and kind, islands, exclaves.
pub fn contiguity_json(data: &ZoningData) -> Json {
    let g = &data.graph;
    let code = |v: usize| data.villages[v].code.clone();
    let kind = |k: EdgeKind| match k {
        EdgeKind::Rook => "rook",
        EdgeKind::Weak => "weak",
        EdgeKind::Bridge => "bridge",
    };
    json!({
        "villages": g.n,
        "edges": g.edges.iter().map(|e| json!({
            "a": code(e.a), "b": code(e.b), "kind": kind(e.kind),
            "shared_m": round(e.shared_m, 2), "gap_m": round(e.gap_m, 2),
        })).collect::<Vec<_>>(),
        "components": g.components.len(),
        "islands": g.islands.iter().map(|c| c.iter().map(|&v| code(v)).collect::<Vec<_>>()).collect::<Vec<_>>(),
        "unbridged": g.unbridged.iter().map(|c| c.iter().map(|&v| code(v)).collect::<Vec<_>>()).collect::<Vec<_>>(),
        "exclaves": g.exclaves.iter().map(|x| json!({"village": code(x.village), "part": x.part, "area_m2": round(x.area_m2, 1)})).collect::<Vec<_>>(),
        "metric_crs": format!("EPSG:{}", data.metric_epsg),
    })
}

/// The graph as GeoJSON lines between village anchors (lon/lat).
pub fn contiguity_geojson(data: &ZoningData) -> Json {
    let g = &data.graph;
    let features: Vec<Json> = g
        .edges
        .iter()
        .map(|e| {
            let (a, b) = (data.lonlat_anchors[e.a], data.lonlat_anchors[e.b]);
            json!({
                "type": "Feature",
                "properties": {
                    "a": data.villages[e.a].code, "b": data.villages[e.b].code,
                    "kind": match e.kind { EdgeKind::Rook => "rook", EdgeKind::Weak => "weak", EdgeKind::Bridge => "bridge" },
                    "shared_m": round(e.shared_m, 2),
                },
                "geometry": {"type": "LineString", "coordinates": [[a.x, a.y], [b.x, b.y]]},
            })
        })
        .collect();
    json!({"type": "FeatureCollection", "features": features})
}

/// Colour index per zone (neighbouring zones differ, corner touches included), for the map and
/// sheets: `colour` in the JSON of proposals and evaluations.
pub(crate) fn map_colours(data: &ZoningData, members: Vec<Vec<usize>>) -> Vec<usize> {
    crate::engine::zoning::zone_colours(&members, &data.graph.neighbour_lists(true))
}

/// The dissolved zones of an evaluated zoning as GeoJSON.
pub fn evaluation_geojson(data: &ZoningData, e: &Evaluation) -> Json {
    let zones: Vec<(String, Vec<usize>, usize)> = e
        .zones
        .iter()
        .map(|z| (z.id.clone(), z.members.clone(), z.key_village))
        .collect();
    zones_geojson(data, &zones)
}

/// The id of the i-th zone of a proposal (Z001, Z002, …), as in [`proposal_json`].
pub fn zone_id(i: usize) -> String {
    format!("Z{:03}", i + 1)
}

/// The dissolved zones of a proposal as GeoJSON.
pub fn proposal_geojson(data: &ZoningData, p: &Proposal) -> Json {
    let zones: Vec<(String, Vec<usize>, usize)> = p
        .zones
        .iter()
        .enumerate()
        .map(|(i, z)| (zone_id(i), z.members.clone(), z.key_village))
        .collect();
    zones_geojson(data, &zones)
}

/// Dissolved zones as GeoJSON (lon/lat), with id, key village and population.
pub fn zones_geojson(data: &ZoningData, zones: &[(String, Vec<usize>, usize)]) -> Json {
    use geo::BooleanOps;
    let colours = map_colours(data, zones.iter().map(|z| z.1.clone()).collect());
    let features: Vec<Json> = zones
        .iter()
        .zip(colours)
        .map(|((id, members, key), colour)| {
            let mut union: MultiPolygon<f64> = MultiPolygon(vec![]);
            for &v in members {
                union = union.union(&data.lonlat_polygons[v]);
            }
            let pop: f64 = members.iter().map(|&v| data.villages[v].population).sum();
            json!({
                "type": "Feature",
                "properties": {"id": id, "colour": colour, "key_village": data.villages[*key].code, "key_village_name": data.villages[*key].name,
                               "members": members.len(), "population": pop},
                "geometry": geojson::Geometry::from(&geo::Geometry::MultiPolygon(union)),
            })
        })
        .collect();
    json!({"type": "FeatureCollection", "features": features})
}

/// The request a proposal answered, as a proposal file carries it (`"request"`): the fields that
/// were given, without the output switch `geojson`. A plan created from the file takes its
/// bounds from it, so the plan checks what the proposal was built for.
pub fn request_echo(request: &ZoneRequest) -> Json {
    let mut echo = serde_json::to_value(request).expect("a request serialises");
    if let Json::Object(m) = &mut echo {
        m.retain(|k, v| {
            k != "geojson"
                && !v.is_null()
                && *v != Json::Bool(false)
                && v.as_array().is_none_or(|a| !a.is_empty())
        });
    }
    echo
}

/// The parameters of a proposal or evaluation as users give them (CLI flags or the HTTP body);
/// every field is optional and the engine's defaults apply.
#[derive(
    Debug, Clone, Default, PartialEq, serde::Deserialize, serde::Serialize, utoipa::ToSchema,
)]
#[serde(deny_unknown_fields)]
pub struct ZoneRequest {
    /// Number of zones in all (locked ones included); default: found from the bounds.
    pub zones: Option<usize>,
    /// Fewest villages in a zone (default 2).
    pub min_members: Option<usize>,
    /// Most villages in a zone (default 10).
    pub max_members: Option<usize>,
    /// Smallest population of a zone, persons (default: none).
    pub pop_floor: Option<f64>,
    /// Largest population of a zone, persons (default: none).
    pub pop_ceiling: Option<f64>,
    /// Every zone must lie within one township.
    #[serde(default)]
    pub within_town: bool,
    /// Every zone must hold a strong village (default true).
    pub require_strong: Option<bool>,
    /// Share (0–1) of villages counted strong by collective income (default: the data's `strong`
    /// flag, else 0.2).
    pub strong_share: Option<f64>,
    /// The strong share is taken within each township.
    #[serde(default)]
    pub strong_in_town: bool,
    /// Exactly these villages are strong.
    #[serde(default)]
    pub strong_codes: Vec<String>,
    /// These villages are strong as well.
    #[serde(default)]
    pub strong_extra: Vec<String>,
    /// Villages that may lead a 村村互助型 zone without a strong village.
    #[serde(default)]
    pub mutual_aid: Vec<String>,
    /// Zones to keep as they are: lists of village codes.
    #[serde(default)]
    pub locked: Vec<Vec<String>>,
    /// Numeric village columns for the heterogeneity term.
    #[serde(default)]
    pub attributes: Vec<String>,
    /// Weights of the objective terms (defaults for those not given).
    pub weights: Option<WeightsRequest>,
    /// "similar" (default) or "complementary".
    #[schema(schema_with = crate::api::schemas::industry_modes)]
    pub industry_mode: Option<String>,
    /// Count point touches as adjacency (queen) instead of shared borders only (rook).
    #[serde(default)]
    pub queen: bool,
    /// Zone only the villages of these townships (codes or names); empty: the whole county.
    #[serde(default)]
    pub towns: Vec<String>,
    /// Boundaries closer than this count as touching, metres (default 1).
    pub tolerance_m: Option<f64>,
    /// Bridge islands to their nearest village within this distance, metres (default: no bridging).
    pub bridge_m: Option<f64>,
    /// Seed of the search (default 1): the same seed gives the same zoning.
    pub seed: Option<u64>,
    /// Time limit of the search, seconds (default 60).
    pub time_limit_s: Option<f64>,
    /// Annealing moves per village (default 200; small counties search longer unless given).
    pub effort: Option<usize>,
    /// HTTP only: add the dissolved zones as GeoJSON to the proposal or evaluation.
    #[serde(default)]
    pub geojson: bool,
}

/// Weights of the zoning objective's terms, each ≥ 0; a term not given keeps its default.
#[derive(
    Debug, Clone, Default, PartialEq, serde::Deserialize, serde::Serialize, utoipa::ToSchema,
)]
#[serde(deny_unknown_fields)]
pub struct WeightsRequest {
    /// Within-zone heterogeneity of `attributes` (default 1 with attributes, else 0).
    pub heterogeneity: Option<f64>,
    /// Industry similarity (or complementarity) (default 1).
    pub industry: Option<f64>,
    /// Compactness (default 1).
    pub compactness: Option<f64>,
    /// Income balance between zones (default 1).
    pub balance: Option<f64>,
}

fn check(name: &str, x: Option<f64>, min: f64) -> Result<Option<f64>, ZonesError> {
    match x {
        Some(v) if !v.is_finite() || v < min => Err(ZonesError::input(
            name,
            format!("{name} = {v}: 应为不小于 {min} 的数 / must be a number ≥ {min}"),
        )),
        other => Ok(other),
    }
}

impl ZoneRequest {
    /// The villages as an evaluation of this request sees them: villages allowed to lead a
    /// 村村互助型 zone count as strong for the strong-village rule. Unknown codes are an error.
    pub fn evaluation_villages<'d>(
        &self,
        data: &'d ZoningData,
    ) -> Result<std::borrow::Cow<'d, [ZoningVillage]>, ZonesError> {
        if self.mutual_aid.is_empty() {
            return Ok(std::borrow::Cow::Borrowed(&data.villages));
        }
        let mut v = data.villages.clone();
        for i in data.indices(&self.mutual_aid, "mutual_aid")? {
            v[i].strong = true;
        }
        Ok(std::borrow::Cow::Owned(v))
    }

    /// What to load from the workspace for this request.
    pub fn load_options(&self) -> Result<LoadOptions, ZonesError> {
        let share = check("strong_share", self.strong_share, 0.0)?;
        if share.is_some_and(|s| s > 1.0) {
            return Err(ZonesError::input(
                "strong_share",
                "strong_share 应在 0–1 之间 / must be between 0 and 1",
            ));
        }
        Ok(LoadOptions {
            attributes: self.attributes.clone(),
            strong_share: share,
            strong_in_town: self.strong_in_town,
            strong_codes: self.strong_codes.clone(),
            strong_extra: self.strong_extra.clone(),
            contiguity: ContiguityParams {
                tolerance_m: check("tolerance_m", self.tolerance_m, 0.0)?.unwrap_or(1.0),
                bridge_within_m: check("bridge_m", self.bridge_m, 0.0)?,
                ..ContiguityParams::default()
            },
        })
    }

    /// The hard bounds of this request (defaults where not given); an error names a bad field.
    pub fn bounds(&self) -> Result<crate::engine::zoning::Bounds, ZonesError> {
        let d = crate::engine::zoning::Bounds::default();
        Ok(crate::engine::zoning::Bounds {
            min_members: self.min_members.unwrap_or(d.min_members),
            max_members: self.max_members.unwrap_or(d.max_members),
            pop_floor: check("pop_floor", self.pop_floor, 0.0)?,
            pop_ceiling: check("pop_ceiling", self.pop_ceiling, 0.0)?,
            require_strong: self.require_strong.unwrap_or(d.require_strong),
            within_town: self.within_town,
        })
    }

    /// The objective weights and industry mode of this request; an error names a bad field.
    pub fn objective(&self) -> Result<crate::engine::zoning::Objective, ZonesError> {
        use crate::engine::zoning::{IndustryMode, Objective};
        let d = Objective::default();
        let w = self.weights.clone().unwrap_or_default();
        let mode = match self.industry_mode.as_deref() {
            None | Some("similar") => IndustryMode::Similar,
            Some("complementary") => IndustryMode::Complementary,
            Some(other) => {
                return Err(ZonesError::input(
                    "industry_mode",
                    format!(
                        "industry_mode '{other}': 应为 similar 或 complementary / must be similar or complementary"
                    ),
                ));
            }
        };
        let het_default = if self.attributes.is_empty() { 0.0 } else { 1.0 };
        Ok(Objective {
            heterogeneity: check("weights.heterogeneity", w.heterogeneity, 0.0)?
                .unwrap_or(het_default),
            industry: check("weights.industry", w.industry, 0.0)?.unwrap_or(d.industry),
            industry_mode: mode,
            compactness: check("weights.compactness", w.compactness, 0.0)?.unwrap_or(d.compactness),
            balance: check("weights.balance", w.balance, 0.0)?.unwrap_or(d.balance),
        })
    }

    /// The proposal parameters of this request: bounds, objective, locked zones, mutual-aid
    /// villages, seed, time and effort.
    pub fn propose_params(
        &self,
        data: &ZoningData,
    ) -> Result<crate::engine::zoning::propose::ProposeParams, ZonesError> {
        let d = crate::engine::zoning::propose::ProposeParams::default();
        let locked = self
            .locked
            .iter()
            .enumerate()
            .map(|(i, codes)| data.indices(codes, &format!("locked[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        // The server has checked its own cap already (`JobLimits::check_time_limit`).
        let time_limit =
            crate::request::time_limit(self.time_limit_s, d.time_limit.as_secs_f64(), None)
                .map_err(|e| ZonesError::input(e.field, e.message))?;
        let mutual_aid = data.indices(&self.mutual_aid, "mutual_aid")?;
        Ok(crate::engine::zoning::propose::ProposeParams {
            bounds: self.bounds()?,
            objective: self.objective()?,
            zones: self.zones,
            locked,
            mutual_aid,
            queen: self.queen,
            seed: self.seed.unwrap_or(d.seed),
            time_limit,
            effort: self.effort.unwrap_or(d.effort),
            // An explicit effort is taken as it is; by default small counties search longer.
            min_moves: if self.effort.is_some() {
                0
            } else {
                d.min_moves
            },
        })
    }
}

/// A proposal that could not be made: proven infeasible (with certificates and verified
/// relaxations) or not found in the time given. `report` holds the structured fields the CLI
/// prints and HTTP returns in its 422 problem document.
#[derive(Debug, Clone)]
pub struct ZoningFailure {
    /// The code of the constraint that could not be met (e.g. `strong_reach`, `max_members`).
    pub constraint: String,
    /// Why, Chinese and English.
    pub detail: String,
    /// Codes of the villages concerned.
    pub villages: Vec<String>,
    /// The structured fields of the failure (outcome, certificates, relaxations, …), as on the
    /// wire.
    pub report: serde_json::Map<String, Json>,
}

/// Runs a proposal for a request (CLI, HTTP and plans all come through here). `Ok(Err(_))`:
/// the request is valid but no zoning was made; `Err(_)`: the request itself is bad.
pub fn propose_request(
    data: &ZoningData,
    request: &ZoneRequest,
) -> Result<Result<Proposal, ZoningFailure>, ZonesError> {
    let for_request = data.for_request(request)?;
    let data: &ZoningData = &for_request;
    if let Some(keep) = data.town_villages(&request.towns)? {
        // Zone the townships on their own, then give the zones the county's village indices.
        let sub = data.restricted_to(&keep, &request.load_options()?.contiguity);
        let sub_request = ZoneRequest {
            towns: Vec::new(),
            ..request.clone()
        };
        return Ok(propose_request(&sub, &sub_request)?.map(|mut p| {
            for z in &mut p.zones {
                for m in &mut z.members {
                    *m = keep[*m];
                }
                z.key_village = keep[z.key_village];
            }
            p
        }));
    }
    let params = request.propose_params(data)?;
    match propose(&data.villages, &data.graph, &params) {
        Ok(p) => Ok(Ok(p)),
        Err(ZoningError::BadParams { field, message }) => Err(ZonesError::input(field, message)),
        Err(e) => {
            let relaxed = match &e {
                ZoningError::Infeasible(certs) => {
                    let budget = params
                        .time_limit
                        .min(std::time::Duration::from_secs(20))
                        .max(std::time::Duration::from_millis(200));
                    relaxations(&data.villages, &data.graph, &params, certs, budget)
                }
                _ => Vec::new(),
            };
            Ok(Err(failure(data, request, &e, &relaxed)))
        }
    }
}

/// Evaluates a zoning file's text (JSON or CSV) against a request; the CLI and HTTP both come
/// through here. Villages outside the request's townships are not expected in any zone.
pub fn evaluate_request(
    data: &ZoningData,
    request: &ZoneRequest,
    text: &str,
) -> Result<Evaluation, ZonesError> {
    let (zone_of, keys) = parse_zoning(data, text)?;
    evaluate_assignment(data, request, &(zone_of, keys))
}

/// Evaluates an assignment of villages to zones (with chosen key villages) against a request:
/// strong villages and contiguity as the request picks them; villages outside its townships are
/// not expected in any zone. Plans are checked through here too.
pub fn evaluate_assignment(
    data: &ZoningData,
    request: &ZoneRequest,
    (zone_of, keys): &ParsedZoning,
) -> Result<Evaluation, ZonesError> {
    let for_request = data.for_request(request)?;
    let data: &ZoningData = &for_request;
    let villages = request.evaluation_villages(data)?;
    let mut evaluation = crate::engine::zoning::evaluate::evaluate(
        &villages,
        &data.graph,
        zone_of,
        keys,
        &request.bounds()?,
        &request.objective()?,
        request.queen,
    );
    if let Some(keep) = data.town_villages(&request.towns)? {
        let inside: std::collections::HashSet<usize> = keep.into_iter().collect();
        evaluation.unassigned.retain(|v| inside.contains(v));
    }
    Ok(evaluation)
}

fn codes_of(data: &ZoningData, ids: &[usize]) -> Vec<String> {
    ids.iter().map(|&v| data.villages[v].code.clone()).collect()
}

fn certificate_json(data: &ZoningData, c: &Certificate) -> Json {
    let mut towns: Vec<&str> = c
        .villages
        .iter()
        .map(|&v| data.villages[v].town_code.as_str())
        .collect();
    towns.sort_unstable();
    towns.dedup();
    json!({
        "constraint": c.constraint,
        "detail": c.detail,
        "villages": codes_of(data, &c.villages),
        "village_names": c.villages.iter().map(|&v| data.villages[v].name.clone()).collect::<Vec<_>>(),
        "towns": towns,
        "strong": codes_of(data, &c.strong),
        "needed": c.needed,
        "available": c.available,
        "unit": c.unit,
        "steps": c.steps,
    })
}

/// The change of the request a relaxation makes, as fields to merge into it (the web map's
/// one click), and its CLI flags.
fn relaxation_patch(
    data: &ZoningData,
    request: &ZoneRequest,
    r: &Relaxation,
) -> (Json, String, String) {
    let names = |ids: &[usize]| {
        ids.iter()
            .map(|&v| data.villages[v].name.clone())
            .collect::<Vec<_>>()
            .join("、")
    };
    match r {
        Relaxation::MaxMembers(m) => (
            json!({"max_members": m}),
            format!("--max-members {m}"),
            format!("每个片区最多 {m} 个村 / at most {m} villages per zone"),
        ),
        Relaxation::MinMembers(m) => (
            json!({"min_members": m}),
            format!("--min-members {m}"),
            format!("每个片区至少 {m} 个村 / at least {m} villages per zone"),
        ),
        Relaxation::PopFloor(f) => (
            json!({"pop_floor": f}),
            format!("--pop-floor {f}"),
            format!("人口下限降到 {f:.0} / population floor lowered to {f:.0}"),
        ),
        Relaxation::PopCeiling(c) => (
            json!({"pop_ceiling": c}),
            format!("--pop-ceiling {c}"),
            format!("人口上限提高到 {c:.0} / population ceiling raised to {c:.0}"),
        ),
        Relaxation::Zones(k) => (
            json!({"zones": k}),
            format!("--zones {k}"),
            format!("分为 {k} 个片区 / {k} zones"),
        ),
        Relaxation::OwnZones(groups) => {
            let mut locked = request.locked.clone();
            locked.extend(groups.iter().map(|g| codes_of(data, g)));
            let all: Vec<usize> = groups.iter().flatten().copied().collect();
            (
                json!({"locked": locked}),
                groups
                    .iter()
                    .map(|g| format!("--lock-zone {}", codes_of(data, g).join(",")))
                    .collect::<Vec<_>>()
                    .join(" "),
                format!(
                    "把孤立的 {} 个村（{}）各自单独作为片区，不受约束 / keep these {} isolated villages as zones of their own, outside the bounds",
                    all.len(),
                    names(&all),
                    all.len()
                ),
            )
        }
        Relaxation::CrossTowns => (
            json!({"within_town": false}),
            "（去掉 --within-town / drop --within-town）".into(),
            "允许片区跨乡镇 / let zones cross township borders".into(),
        ),
        Relaxation::DesignateStrong(ids) => {
            let mut all = request.strong_extra.clone();
            all.extend(codes_of(data, ids));
            (
                json!({"strong_extra": all}),
                format!("--strong-extra {}", all.join(",")),
                format!(
                    "把 {} 个村定为强村（所缺地区按集体收入依次选取）：{} / designate {} villages strong (next by income where they are lacking)",
                    ids.len(),
                    names(ids),
                    ids.len()
                ),
            )
        }
        Relaxation::MutualAid(ids) => {
            let mut all = request.mutual_aid.clone();
            all.extend(codes_of(data, ids));
            (
                json!({"mutual_aid": all}),
                format!("--mutual-aid {}", all.join(",")),
                format!(
                    "允许 {} 个片区为村村互助型（无强村，由 {} 牵头） / let {} zones be 村村互助型 (mutual aid, no strong village), led by these villages",
                    ids.len(),
                    names(ids),
                    ids.len()
                ),
            )
        }
    }
}

fn failure(
    data: &ZoningData,
    request: &ZoneRequest,
    e: &ZoningError,
    relaxed: &[VerifiedRelaxation],
) -> ZoningFailure {
    let mut report = serde_json::Map::new();
    match e {
        ZoningError::Infeasible(certs) => {
            let c = &certs[0];
            report.insert("outcome".into(), json!("infeasible"));
            report.insert("proven".into(), json!(true));
            report.insert("constraint".into(), json!(c.constraint));
            report.insert("villages".into(), json!(codes_of(data, &c.villages)));
            report.insert("needed".into(), json!(c.needed));
            report.insert("available".into(), json!(c.available));
            report.insert("unit".into(), json!(c.unit));
            report.insert(
                "certificates".into(),
                Json::Array(certs.iter().map(|c| certificate_json(data, c)).collect()),
            );
            let list: Vec<Json> = relaxed
                .iter()
                .map(|r| {
                    let (patch, flags, text) = relaxation_patch(data, request, &r.relaxation);
                    json!({
                        "kind": r.relaxation.code(),
                        "description": text,
                        "request": patch,
                        "cli": flags,
                        "verified_zones": r.zones,
                        "verified_seconds": round(r.seconds, 3),
                    })
                })
                .collect();
            report.insert("relaxations".into(), Json::Array(list));
        }
        ZoningError::NotFound {
            constraint,
            villages,
            zones,
            ..
        } => {
            report.insert("outcome".into(), json!("not_found"));
            report.insert("proven".into(), json!(false));
            report.insert("constraint".into(), json!(constraint));
            report.insert("villages".into(), json!(codes_of(data, villages)));
            let zs: Vec<Json> = zones
                .iter()
                .take(50)
                .map(|(m, v)| {
                    json!({
                        "members": codes_of(data, m),
                        "violations": v.iter().map(|x| json!({"code": x.code(), "text": x.describe()})).collect::<Vec<_>>(),
                    })
                })
                .collect();
            report.insert("zones".into(), Json::Array(zs));
            report.insert("relaxations".into(), json!([]));
        }
        ZoningError::BadParams { .. } => {}
    }
    ZoningFailure {
        constraint: e.constraint().to_string(),
        detail: e.to_string(),
        villages: match e {
            ZoningError::Infeasible(c) => codes_of(data, &c[0].villages),
            ZoningError::NotFound { villages, .. } => codes_of(data, villages),
            ZoningError::BadParams { .. } => Vec::new(),
        },
        report,
    }
}

/// Prints a failure for a person (standard error): what was proven or not found, the
/// certificates, and each verified relaxation with its CLI flags; the structured report goes
/// to standard output as JSON.
pub fn print_failure(f: &ZoningFailure) {
    use crate::lang::{pick, say};
    let proven = f
        .report
        .get("proven")
        .and_then(Json::as_bool)
        .unwrap_or(false);
    if proven {
        eprintln!(
            "{} ({}): {}",
            say("无法分区（已证明无解）", "infeasible, proven"),
            f.constraint,
            pick(&f.detail)
        );
    } else {
        eprintln!(
            "{} ({}): {}",
            say("未找到分区", "not found"),
            f.constraint,
            pick(&f.detail)
        );
    }
    if let Some(Json::Array(certs)) = f.report.get("certificates") {
        for c in certs.iter().skip(1).take(5) {
            eprintln!(
                "  {}: {}",
                say("另", "also"),
                pick(c["detail"].as_str().unwrap_or(""))
            );
        }
    }
    if let Some(Json::Array(list)) = f.report.get("relaxations") {
        if !list.is_empty() {
            eprintln!(
                "{}:",
                say(
                    "可行的放宽（每项都已用实际分区验证）",
                    "relaxations, each verified by a zoning"
                )
            );
        }
        for r in list {
            eprintln!(
                "  {}  → {} {}   [{}]",
                pick(r["description"].as_str().unwrap_or("")),
                r["verified_zones"],
                say("个片区", "zones"),
                r["cli"].as_str().unwrap_or("")
            );
        }
    }
    let mut out = f.report.clone();
    out.insert("detail".into(), json!(f.detail));
    println!(
        "{}",
        serde_json::to_string_pretty(&Json::Object(out)).unwrap_or_default()
    );
}
