//! Plans (规划方案): saved zonings that a bureau edits, versions and checks.
//!
//! - [`model`]: what a version holds ([`PlanContent`]), the edits ([`Edit`]) and the diff — pure.
//! - this module: workspace in, JSON out. [`create`] makes a plan from a zone proposal, a zoning
//!   file or nothing; [`edit`] applies a list of edits as one new version; [`restore`] makes an
//!   old version the newest; every write goes through [`PlanStore`] in one transaction with
//!   its audit entry, based on the head version the caller read (a stale one is a conflict).
//!   After each write the plan is re-evaluated ([`crate::engine::zoning::evaluate`]) and the
//!   warnings (disconnected zones, bounds, missing key village, empty zones, unassigned
//!   villages) come back with it.
//! - [`export`]: zones dissolved from their members, member tables, statistics.

pub mod export;
pub mod model;
pub mod sheet;

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value as Json, json};

use crate::engine::zoning::evaluate::Evaluation;
use crate::store::StoreError;
use crate::store::plans::{AuditEntry, NewVersion, PlanRecord, PlanStore};
use crate::zones::round;
use crate::zones::{ZoneRequest, ZonesError, ZoningData, parse_zoning, zone_id};
pub use model::{Catalogue, Edit, EditError, PlanContent, PlanDiff, PlanZone, ZoneType};

/// Why a plan could not be created, read, edited, checked or exported.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The villages could not be loaded, or a zone request or zoning file is invalid.
    #[error("{0}")]
    Zones(#[from] ZonesError),
    /// The plan store failed, has no such plan, or the head moved meanwhile (conflict).
    #[error("{0}")]
    Store(#[from] StoreError),
    /// An edit of the list was refused (none was applied).
    #[error("{0}")]
    Edit(#[from] EditError),
    /// A bad parameter: the field and the reason.
    #[error("{field}: {reason}")]
    Input {
        /// The parameter at fault, as the request spells it.
        field: &'static str,
        /// What is wrong with it, Chinese and English.
        reason: String,
    },
    /// A proposal that cannot meet its constraints (proven, or not found in time).
    #[error("{}", .0.detail)]
    Infeasible(Box<crate::zones::ZoningFailure>),
    /// An export or sheet could not be written or rendered (the message says why).
    #[error("写文件失败 / cannot write the export: {0}")]
    Io(String),
    /// The plan exists but has no such version.
    #[error("方案 {plan} 没有版本 {version} / plan {plan} has no version {version}")]
    NoVersion {
        /// The plan's id.
        plan: i64,
        /// The version asked for.
        version: i64,
    },
    /// A stored version that does not parse (never written by liancun).
    #[error(
        "方案 {plan} 版本 {version} 已损坏 / plan {plan} version {version} is unreadable: {reason}"
    )]
    Corrupt {
        /// The plan's id.
        plan: i64,
        /// The unreadable version.
        version: i64,
        /// The JSON parser's message.
        reason: String,
    },
}

/// Who is writing (a token's name and role, or `cli:<user>`).
#[derive(Debug, Clone)]
pub struct Actor {
    /// A token's name, or `cli:<user>`.
    pub name: String,
    /// The role (`viewer`, `editor`, `admin`), or `cli` for the command line.
    pub role: String,
}

impl Actor {
    /// The command-line user: `--author`, else `$USER`.
    pub fn cli(author: Option<&str>) -> Actor {
        let name = author
            .map(str::to_string)
            .or_else(|| std::env::var("USER").ok())
            .unwrap_or_else(|| "cli".into());
        Actor {
            name: format!("cli:{name}"),
            role: "cli".into(),
        }
    }

    fn audit(&self, action: &str, target: String, detail: String) -> AuditEntry {
        AuditEntry {
            actor: self.name.clone(),
            role: self.role.clone(),
            action: action.into(),
            target,
            outcome: "ok".into(),
            detail,
        }
    }
}

/// Where a new plan's zones come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A fresh zone proposal with the given parameters.
    Proposal,
    /// No zones: every village unassigned.
    Empty,
    /// A zoning file's text (proposal JSON, `{code: zone}` or CSV `code,zone`).
    Zoning(String),
}

/// Villages and non-village members that edits may name.
pub fn catalogue(data: &ZoningData) -> Catalogue {
    Catalogue {
        villages: data
            .villages
            .iter()
            .map(|v| (v.code.clone(), v.name.clone()))
            .collect(),
        member_village: data
            .members
            .iter()
            .map(|m| (m.name.clone(), data.villages[m.village].code.clone()))
            .collect(),
    }
}

/// The zone request stored with a plan (its bounds).
pub fn plan_request(content: &PlanContent) -> Result<ZoneRequest, PlanError> {
    serde_json::from_value(Json::Object(content.params.clone())).map_err(|e| PlanError::Input {
        field: "params",
        reason: format!("方案参数无效 / the plan's parameters are invalid: {e}"),
    })
}

/// Builds zones from groups of village indices: name after the key village, type by rule.
fn zones_from_groups(
    data: &ZoningData,
    groups: Vec<(String, Vec<usize>, Option<usize>)>,
) -> Vec<PlanZone> {
    groups
        .into_iter()
        .map(|(id, mut members, key)| {
            members.sort_by(|a, b| data.villages[*a].code.cmp(&data.villages[*b].code));
            let others: Vec<&crate::zones::NonVillageMember> = data
                .members
                .iter()
                .filter(|m| members.contains(&m.village))
                .collect();
            let mut other_members: Vec<String> = others.iter().map(|m| m.name.clone()).collect();
            other_members.sort();
            other_members.dedup();
            let kind = if members.iter().any(|&v| data.villages[v].strong) {
                ZoneType::StrongLeads
            } else if others.iter().any(|m| m.kind.contains("企")) {
                ZoneType::VillageEnterprise
            } else {
                ZoneType::MutualAid
            };
            let name = match key {
                Some(k) => format!("{}片区", data.villages[k].name),
                None => format!("{id}片区"),
            };
            PlanZone {
                id,
                name,
                kind,
                key_village: key.map(|k| data.villages[k].code.clone()),
                members: members
                    .iter()
                    .map(|&v| data.villages[v].code.clone())
                    .collect(),
                other_members,
                facilities: Vec::new(),
                notes: String::new(),
                colour: None,
            }
        })
        .collect()
}

/// Makes unique zone names (a key village name can repeat across towns).
fn dedupe_names(zones: &mut [PlanZone]) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for z in zones.iter_mut() {
        let n = seen.entry(z.name.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            z.name = format!("{}（{}）", z.name, z.id);
        }
    }
}

/// The content of a new plan (not yet stored).
pub fn initial_content(
    data: &ZoningData,
    name: &str,
    source: &Source,
    params: serde_json::Map<String, Json>,
) -> Result<PlanContent, PlanError> {
    let mut content = PlanContent::new(name);
    content.params = params;
    // A proposal file carries the request it answered: without parameters of its own, the plan
    // takes those (else every bound the proposal was built for would be checked against the
    // defaults, and flag zones the proposal made on purpose).
    if let (Source::Zoning(text), true) = (source, content.params.is_empty())
        && let Ok(Json::Object(file)) = serde_json::from_str::<Json>(text)
        && let Some(Json::Object(request)) = file.get("request")
    {
        content.params = request.clone();
    }
    let request = plan_request(&content)?;
    request.bounds()?;
    // Zone types follow the strong villages of the plan's own request.
    let for_plan = data.for_request(&request)?;
    let data: &ZoningData = &for_plan;
    match source {
        Source::Empty => {}
        Source::Proposal => {
            let proposal = match crate::zones::propose_request(data, &request)? {
                Ok(p) => p,
                Err(f) => return Err(PlanError::Infeasible(Box::new(f))),
            };
            let groups = proposal
                .zones
                .iter()
                .enumerate()
                .map(|(i, z)| (zone_id(i), z.members.clone(), Some(z.key_village)))
                .collect();
            content.zones = zones_from_groups(data, groups);
        }
        Source::Zoning(text) => {
            let (zone_of, keys) = parse_zoning(data, text)?;
            let mut by_zone: BTreeMap<String, Vec<usize>> = BTreeMap::new();
            for (v, z) in zone_of.iter().enumerate() {
                if let Some(z) = z {
                    by_zone.entry(z.clone()).or_default().push(v);
                }
            }
            let groups = by_zone
                .into_iter()
                .enumerate()
                .map(|(i, (label, members))| {
                    let key = keys.get(&label).copied().or_else(|| {
                        // The strongest member by collective income, as the proposal picks.
                        members.iter().copied().max_by(|&a, &b| {
                            let (va, vb) = (&data.villages[a], &data.villages[b]);
                            (va.strong, va.income)
                                .partial_cmp(&(vb.strong, vb.income))
                                .unwrap_or(std::cmp::Ordering::Equal)
                        })
                    });
                    (zone_id(i), members, key)
                })
                .collect();
            content.zones = zones_from_groups(data, groups);
        }
    }
    dedupe_names(&mut content.zones);
    recolour(data, &mut content);
    Ok(content)
}

/// Map colours of the zones: each keeps its stored colour where no neighbour has it.
pub fn zone_colours(data: &ZoningData, content: &PlanContent) -> Vec<usize> {
    let members: Vec<Vec<usize>> = content
        .zones
        .iter()
        .map(|z| data.known_indices(&z.members))
        .collect();
    let previous: Vec<Option<usize>> = content.zones.iter().map(|z| z.colour).collect();
    crate::engine::zoning::zone_colours_keeping(
        &members,
        &data.graph.neighbour_lists(true),
        &previous,
    )
}

/// Stores the zones' map colours in the content (kept where they still fit).
fn recolour(data: &ZoningData, content: &mut PlanContent) {
    let colours = zone_colours(data, content);
    for (z, c) in content.zones.iter_mut().zip(colours) {
        z.colour = Some(c);
    }
}

/// A plan's evaluation and the warnings it raises.
pub struct Checked {
    /// The evaluation of the plan's zoning against its bounds.
    pub evaluation: Evaluation,
    /// What the planner must look at, zone by zone.
    pub warnings: Vec<PlanWarning>,
}

/// Something a planner must look at in a plan: a broken bound, a village outside the plan's
/// townships or gone from the workspace, a zone without a key village or members, villages in
/// no zone.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PlanWarning {
    /// The zone it is about (`None`: the whole plan).
    pub zone: Option<String>,
    /// Its code: a bound's (`disconnected`, `max_members`, …) or `outside_towns`,
    /// `unknown_village`, `key_village`, `empty`, `unassigned`.
    pub constraint: &'static str,
    /// Both languages.
    pub detail: String,
    /// A broken bound's numbers (the client words them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub params: Option<Json>,
    /// A broken bound's Chinese wording.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zh: Option<String>,
    /// `unassigned`: the first 50 villages' codes and names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub villages: Option<Vec<String>>,
    /// `unassigned`: those villages' names, aligned with `villages`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub village_names: Option<Vec<String>>,
}

impl PlanWarning {
    fn new(zone: &str, constraint: &'static str, detail: impl Into<String>) -> PlanWarning {
        PlanWarning {
            zone: Some(zone.to_string()),
            constraint,
            detail: detail.into(),
            params: None,
            zh: None,
            villages: None,
            village_names: None,
        }
    }
}

/// Evaluates a plan against its bounds and lists what a planner must look at.
pub fn check(data: &ZoningData, content: &PlanContent) -> Result<Checked, PlanError> {
    let request = plan_request(content)?;
    // Strong villages and contiguity as the plan's own request chose them (a plan made with a
    // strong share of 0.3 is not checked against the default 0.2).
    let for_plan = data.for_request(&request)?;
    let data: &ZoningData = &for_plan;
    // A plan for some townships only expects their villages in zones.
    let scope = data.town_villages(&request.towns)?.map(|keep| {
        let mut inside = vec![false; data.villages.len()];
        for v in keep {
            inside[v] = true;
        }
        inside
    });
    let in_scope = |v: usize| scope.as_ref().is_none_or(|s| s[v]);
    let mut zone_of: Vec<Option<String>> = vec![None; data.villages.len()];
    let mut keys = BTreeMap::new();
    let mut warnings = Vec::new();
    for z in &content.zones {
        for code in &z.members {
            match data.index_of_code.get(code) {
                Some(&v) if !in_scope(v) => {
                    zone_of[v] = Some(z.id.clone());
                    warnings.push(PlanWarning::new(
                        &z.id,
                        "outside_towns",
                        format!(
                            "{}（{code}）属{}，不在方案的乡镇范围内 / village outside the plan's townships",
                            data.villages[v].name,
                            data.town_name(v)
                        ),
                    ));
                }
                Some(&v) => zone_of[v] = Some(z.id.clone()),
                None => warnings.push(PlanWarning::new(
                    &z.id,
                    "unknown_village",
                    format!("村 {code} 已不在工作区的村界图层中 / village {code} is no longer in the workspace"),
                )),
            }
        }
        match &z.key_village {
            Some(k) => {
                if let Some(&v) = data.index_of_code.get(k) {
                    keys.insert(z.id.clone(), v);
                }
            }
            None if !z.members.is_empty() => warnings.push(PlanWarning::new(
                &z.id,
                "key_village",
                "未指定中心村（统计中暂按集体收入最高的强村）/ no key village chosen (the strongest member stands in)",
            )),
            None => {}
        }
        if z.members.is_empty() {
            warnings.push(PlanWarning::new(
                &z.id,
                "empty",
                "片区没有成员村 / the zone has no member villages",
            ));
        }
    }
    let evaluation = crate::zones::evaluate_assignment(data, &request, &(zone_of, keys))?;
    for z in &evaluation.zones {
        for v in &z.violations {
            let v = crate::zones::ViolationReport::new(v);
            warnings.push(PlanWarning {
                params: Some(v.params),
                zh: Some(v.zh),
                ..PlanWarning::new(&z.id, v.constraint, v.detail)
            });
        }
    }
    if !evaluation.unassigned.is_empty() {
        let n = evaluation.unassigned.len();
        let first = &evaluation.unassigned[..n.min(50)];
        warnings.push(PlanWarning {
            zone: None,
            villages: Some(
                first
                    .iter()
                    .map(|&v| data.villages[v].code.clone())
                    .collect(),
            ),
            // Names beside the codes: what a planner reads.
            village_names: Some(
                first
                    .iter()
                    .map(|&v| data.villages[v].name.clone())
                    .collect(),
            ),
            ..PlanWarning::new(
                "",
                "unassigned",
                format!("{n} 个村未划入任何片区 / {n} villages are in no zone"),
            )
        });
    }
    Ok(Checked {
        evaluation,
        warnings,
    })
}

/// The ETag of a plan at a version (strong; changes with every write).
pub fn etag(plan: i64, version: i64) -> String {
    format!("\"plan-{plan}-v{version}\"")
}

/// A member village as a plan shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PlanMember {
    /// The village's 12-digit code.
    pub code: String,
    /// The village's name.
    pub name: String,
    /// Registered population (户籍人口), persons.
    pub population: f64,
    /// Strong as the plan's own request picks strong villages.
    pub strong: bool,
}

/// One zone of a plan with its statistics and what it breaks.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PlanZoneReport {
    /// The zone's id (Z001, …).
    pub id: String,
    /// The zone's name.
    pub name: String,
    /// The zone type's Chinese label (强村带动型 …).
    #[serde(rename = "type")]
    pub zone_type: &'static str,
    /// The zone's map colour index (neighbouring zones differ).
    pub colour: usize,
    /// The key (center) village, if chosen and in the workspace.
    pub key_village: Option<crate::zones::VillageRef>,
    /// The member villages found in the workspace.
    pub members: Vec<PlanMember>,
    /// Non-village members (enterprises, communities, schools) by name.
    pub other_members: Vec<String>,
    /// Shared facilities assigned to the zone.
    pub facilities: Vec<model::PlanFacility>,
    /// The planner's notes (备注).
    pub notes: String,
    /// Total registered population of the members, persons.
    pub population: f64,
    /// Total collective income of the members (万元), rounded to 0.01.
    pub collective_income: f64,
    /// Total area of the members, km² (rounded to 0.001).
    pub area_km2: f64,
    /// Whether the members form one connected piece.
    pub connected: bool,
    /// Number of connected pieces (0 for an empty zone).
    pub parts: usize,
    /// Every bound the zone breaks.
    pub violations: Vec<crate::zones::ViolationReport>,
    /// From the key village to the farthest member, km (anchor to anchor); `None` for an empty
    /// zone.
    pub key_to_farthest_member_km: Option<f64>,
}

/// A plan's totals.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PlanTotals {
    /// Zones in the plan.
    pub zones: usize,
    /// Villages in the workspace.
    pub villages: usize,
    /// Villages in a zone.
    pub assigned: usize,
    /// Zones whose members are not connected.
    pub disconnected_zones: usize,
    /// Number of (zone, broken bound) pairs.
    pub violations: usize,
    /// Zones breaking at least one bound.
    pub zones_with_violations: usize,
}

/// A plan as the CLI prints it and HTTP returns it: record, zones with members, statistics and
/// violations, unassigned villages, warnings.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PlanReport {
    /// The plan's id.
    pub id: i64,
    /// The plan's name at this version.
    pub name: String,
    /// The version shown.
    pub version: i64,
    /// The plan's head (newest) version.
    pub head: i64,
    /// The ETag of this version (`"plan-<id>-v<version>"`).
    pub etag: String,
    /// When the plan was created, UTC.
    pub created_at: String,
    /// Who created it.
    pub created_by: String,
    /// When the head last moved, UTC.
    pub updated_at: String,
    /// Who committed the head version.
    pub updated_by: String,
    /// The zoning bounds the plan is checked against (a zone request's fields).
    pub params: serde_json::Map<String, Json>,
    /// The zones with members, statistics and violations, in the plan's order.
    pub zones: Vec<PlanZoneReport>,
    /// Villages in no zone.
    pub unassigned: Vec<crate::zones::VillageRef>,
    /// Non-village members in no zone, by name.
    pub other_members_unassigned: Vec<String>,
    /// What the planner must look at.
    pub warnings: Vec<PlanWarning>,
    /// Counts over the whole plan.
    pub totals: PlanTotals,
    /// The four zone type labels, for clients offering a choice.
    pub zone_types: [&'static str; 4],
}

/// The report of a plan at a version.
pub fn plan_report(
    data: &ZoningData,
    record: &PlanRecord,
    version: i64,
    content: &PlanContent,
    checked: &Checked,
) -> PlanReport {
    // Which members are strong, as the plan's request picks them (as its check did).
    let for_plan = plan_request(content)
        .ok()
        .and_then(|r| data.for_request(&r).ok());
    let data: &ZoningData = for_plan.as_deref().unwrap_or(data);
    let by_id: HashMap<&str, &crate::engine::zoning::evaluate::ZoneEvaluation> = checked
        .evaluation
        .zones
        .iter()
        .map(|z| (z.id.as_str(), z))
        .collect();
    let colours = zone_colours(data, content);
    let zones = content
        .zones
        .iter()
        .zip(colours)
        .map(|(z, colour)| {
            let idx = data.known_indices(&z.members);
            let e = by_id.get(z.id.as_str());
            let sum = |f: &dyn Fn(usize) -> f64| idx.iter().map(|&v| f(v)).sum::<f64>();
            PlanZoneReport {
                id: z.id.clone(),
                name: z.name.clone(),
                zone_type: z.kind.label(),
                colour,
                key_village: z
                    .key_village
                    .as_ref()
                    .and_then(|k| data.index_of_code.get(k))
                    .map(|&v| data.village_ref(v)),
                members: idx
                    .iter()
                    .map(|&v| {
                        let vil = &data.villages[v];
                        PlanMember {
                            code: vil.code.clone(),
                            name: vil.name.clone(),
                            population: vil.population,
                            strong: vil.strong,
                        }
                    })
                    .collect(),
                other_members: z.other_members.clone(),
                facilities: z.facilities.clone(),
                notes: z.notes.clone(),
                population: sum(&|v| data.villages[v].population),
                collective_income: round(sum(&|v| data.villages[v].income), 2),
                area_km2: round(sum(&|v| data.villages[v].area_m2) / 1e6, 3),
                connected: e.is_none_or(|e| e.parts <= 1),
                parts: e.map_or(0, |e| e.parts),
                violations: e.map_or(vec![], |e| {
                    e.violations
                        .iter()
                        .map(crate::zones::ViolationReport::new)
                        .collect()
                }),
                key_to_farthest_member_km: e.map(|e| round(e.key_to_farthest_m / 1000.0, 3)),
            }
        })
        .collect();
    let ev = &checked.evaluation;
    PlanReport {
        id: record.id,
        name: content.name.clone(),
        version,
        head: record.head,
        etag: etag(record.id, version),
        created_at: record.created_at.clone(),
        created_by: record.created_by.clone(),
        updated_at: record.updated_at.clone(),
        updated_by: record.updated_by.clone(),
        params: content.params.clone(),
        zones,
        unassigned: ev.unassigned.iter().map(|&v| data.village_ref(v)).collect(),
        other_members_unassigned: data
            .members
            .iter()
            .map(|m| m.name.clone())
            .filter(|n| !content.zones.iter().any(|z| z.other_members.contains(n)))
            .collect(),
        warnings: checked.warnings.clone(),
        totals: PlanTotals {
            zones: content.zones.len(),
            villages: data.villages.len(),
            assigned: data.villages.len() - ev.unassigned.len(),
            disconnected_zones: ev.disconnected_zones,
            violations: ev.violations,
            zones_with_violations: ev.zones_with_violations,
        },
        zone_types: ZoneType::ALL.map(ZoneType::label),
    }
}

/// A plan as JSON ([`PlanReport`]).
pub fn plan_json(
    data: &ZoningData,
    record: &PlanRecord,
    version: i64,
    content: &PlanContent,
    checked: &Checked,
) -> Json {
    serde_json::to_value(plan_report(data, record, version, content, checked))
        .expect("reports serialise")
}

fn parse_content(plan: i64, version: i64, text: &str) -> Result<PlanContent, PlanError> {
    serde_json::from_str(text).map_err(|e| PlanError::Corrupt {
        plan,
        version,
        reason: e.to_string(),
    })
}

/// A plan's record and its content at `version` (the head when `None`).
pub fn load(
    store: &dyn PlanStore,
    plan: i64,
    version: Option<i64>,
) -> Result<(PlanRecord, i64, PlanContent), PlanError> {
    let record = store.plan(plan)?.ok_or(StoreError::NoPlan(plan))?;
    let v = version.unwrap_or(record.head);
    let row = store
        .version(plan, v)?
        .ok_or(PlanError::NoVersion { plan, version: v })?;
    let content = parse_content(plan, v, row.content.as_deref().unwrap_or(""))?;
    Ok((record, v, content))
}

fn store_json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).expect("plan types serialise")
}

/// Stores a new plan (version 1).
pub fn create(
    store: &mut dyn PlanStore,
    content: &PlanContent,
    actor: &Actor,
    message: &str,
) -> Result<PlanRecord, PlanError> {
    let diff = model::diff(&PlanContent::new(&content.name), content);
    let summary = format!(
        "新建方案：{} 个片区，{} 个村",
        content.zones.len(),
        content.zones.iter().map(|z| z.members.len()).sum::<usize>()
    );
    let record = store.create_plan(
        &NewVersion {
            name: &content.name,
            author: &actor.name,
            message,
            summary: &summary,
            diff: &store_json(&diff),
            content: &store_json(content),
        },
        &actor.audit("plan.create", String::new(), summary.clone()),
    )?;
    Ok(record)
}

/// Village code → name, for summaries people read.
pub fn village_names(data: &ZoningData) -> HashMap<String, String> {
    data.villages
        .iter()
        .map(|v| (v.code.clone(), v.name.clone()))
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn commit(
    store: &mut dyn PlanStore,
    data: &ZoningData,
    plan: i64,
    expected_head: i64,
    (before, after): (&PlanContent, &PlanContent),
    actor: &Actor,
    action: &str,
    message: &str,
) -> Result<(PlanRecord, PlanDiff), PlanError> {
    let diff = model::diff(before, after);
    let summary = diff.summary_named(&village_names(data));
    let record = store.commit_version(
        plan,
        expected_head,
        &NewVersion {
            name: &after.name,
            author: &actor.name,
            message,
            summary: &summary,
            diff: &store_json(&diff),
            content: &store_json(after),
        },
        &actor.audit(
            action,
            format!("plans/{plan}"),
            format!("v{} → v{}: {summary}", expected_head, expected_head + 1),
        ),
    )?;
    Ok((record, diff))
}

/// A write based on `expected_head` may go ahead only while it is still the head.
fn ensure_head(record: &PlanRecord, expected_head: i64) -> Result<(), PlanError> {
    if record.head == expected_head {
        Ok(())
    } else {
        Err(StoreError::Conflict {
            plan: record.id,
            expected: expected_head,
            head: record.head,
        }
        .into())
    }
}

/// Applies `edits` to the head (which must still be `expected_head`) as one new version.
pub fn edit(
    store: &mut dyn PlanStore,
    data: &ZoningData,
    plan: i64,
    expected_head: i64,
    edits: &[Edit],
    actor: &Actor,
    message: &str,
) -> Result<(PlanRecord, PlanContent, PlanDiff), PlanError> {
    let (before, after) = prepare_edit(store, data, plan, expected_head, edits)?;
    commit_edit(
        store,
        data,
        plan,
        expected_head,
        (&before, &after),
        actor,
        message,
    )
}

/// The first half of [`edit`]: the plan at `expected_head` and the content after the edits.
/// It only reads, so a server runs it without holding the store for writing; the head is
/// checked again when [`commit_edit`] writes (one winner per race).
pub fn prepare_edit(
    store: &dyn PlanStore,
    data: &ZoningData,
    plan: i64,
    expected_head: i64,
    edits: &[Edit],
) -> Result<(PlanContent, PlanContent), PlanError> {
    let (record, _, before) = load(store, plan, Some(expected_head)).map_err(|e| match e {
        PlanError::NoVersion { .. } => match store.plan(plan) {
            Ok(Some(r)) => PlanError::Store(StoreError::Conflict {
                plan,
                expected: expected_head,
                head: r.head,
            }),
            _ => e,
        },
        other => other,
    })?;
    ensure_head(&record, expected_head)?;
    let mut after = model::apply_edits(&before, edits, &catalogue(data))?;
    recolour(data, &mut after);
    Ok((before, after))
}

/// The second half of [`edit`]: stores the edited content as the next version.
pub fn commit_edit(
    store: &mut dyn PlanStore,
    data: &ZoningData,
    plan: i64,
    expected_head: i64,
    (before, after): (&PlanContent, &PlanContent),
    actor: &Actor,
    message: &str,
) -> Result<(PlanRecord, PlanContent, PlanDiff), PlanError> {
    let (record, diff) = commit(
        store,
        data,
        plan,
        expected_head,
        (before, after),
        actor,
        "plan.edit",
        message,
    )?;
    Ok((record, after.clone(), diff))
}

/// Makes `version` the newest version again (as a new version; history is kept).
pub fn restore(
    store: &mut dyn PlanStore,
    data: &ZoningData,
    plan: i64,
    expected_head: i64,
    version: i64,
    actor: &Actor,
) -> Result<(PlanRecord, PlanContent, PlanDiff), PlanError> {
    let (record, _, before) = load(store, plan, None)?;
    ensure_head(&record, expected_head)?;
    let (_, _, old) = load(store, plan, Some(version))?;
    let message = format!("恢复到版本 {version} / restored version {version}");
    let (record, diff) = commit(
        store,
        data,
        plan,
        expected_head,
        (&before, &old),
        actor,
        "plan.restore",
        &message,
    )?;
    Ok((record, old, diff))
}

/// What changed between two versions, with village names.
pub fn diff_json(data: &ZoningData, from: (i64, &PlanContent), to: (i64, &PlanContent)) -> Json {
    let d = model::diff(from.1, to.1);
    let name = |code: &str| {
        data.index_of_code
            .get(code)
            .map(|&v| data.villages[v].name.clone())
            .unwrap_or_default()
    };
    let mut j = serde_json::to_value(&d).expect("diff serialises");
    if let Some(list) = j["moved_villages"].as_array_mut() {
        for m in list {
            let n = name(m["id"].as_str().unwrap_or(""));
            m["name"] = json!(n);
        }
    }
    json!({"from": from.0, "to": to.0, "summary": d.summary_named(&village_names(data)), "changes": j})
}
