//! The content of one plan version and the edits that make the next one.
//!
//! A [`PlanContent`] is what a version stores (as JSON, `format` 1): the zones with their
//! member villages (12-digit codes), non-village members (names), key village, zone type,
//! shared facilities and notes, plus the bounds the plan is checked against. Every change goes
//! through [`apply_edits`], which either applies a whole list of [`Edit`]s or none (an
//! [`EditError`] names the edit, the field and the reason). [`diff`] says what changed between
//! two versions: moved villages and members, changed key villages, names, types, facilities,
//! notes, zones added or removed.
//!
//! Pure: no I/O. The catalogue of known villages and members comes from the caller.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

/// 片区类型: the four types of joint-village zone used in the provincial guides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
pub enum ZoneType {
    /// 强村带动型: a strong village leads the others.
    #[serde(rename = "强村带动型")]
    StrongLeads,
    /// 村村互助型: villages of similar strength help each other.
    #[serde(rename = "村村互助型")]
    MutualAid,
    /// 村企联建型: villages and enterprises build the zone together (村企共建).
    #[serde(rename = "村企联建型")]
    VillageEnterprise,
    /// 城乡融合型: urban–rural integration, villages developing together with a nearby town.
    #[serde(rename = "城乡融合型")]
    UrbanRural,
}

impl ZoneType {
    /// Every zone type, in the guides' order.
    pub const ALL: [ZoneType; 4] = [
        ZoneType::StrongLeads,
        ZoneType::MutualAid,
        ZoneType::VillageEnterprise,
        ZoneType::UrbanRural,
    ];

    /// The type's Chinese name, as stored in plans and printed on sheets.
    pub fn label(self) -> &'static str {
        match self {
            ZoneType::StrongLeads => "强村带动型",
            ZoneType::MutualAid => "村村互助型",
            ZoneType::VillageEnterprise => "村企联建型",
            ZoneType::UrbanRural => "城乡融合型",
        }
    }

    /// Accepts the Chinese label or the English variant name (case-insensitive, `-`/`_` free).
    pub fn parse(text: &str) -> Option<ZoneType> {
        let t = text.trim();
        let folded: String = t
            .chars()
            .filter(|c| *c != '-' && *c != '_')
            .collect::<String>()
            .to_lowercase();
        ZoneType::ALL.into_iter().find(|z| {
            z.label() == t
                || folded
                    == match z {
                        ZoneType::StrongLeads => "strongleads",
                        ZoneType::MutualAid => "mutualaid",
                        ZoneType::VillageEnterprise => "villageenterprise",
                        ZoneType::UrbanRural => "urbanrural",
                    }
        })
    }
}

/// A shared facility the plan assigns to a zone (existing or planned), sited at a member village.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanFacility {
    /// e.g. 农事服务中心, 冷库, 共富工坊 (same kinds as the facilities layer).
    pub kind: String,
    /// The facility's own name (may be empty).
    #[serde(default)]
    pub name: String,
    /// The member village it is sited in (12-digit code).
    pub village: String,
    /// "existing" or "planned".
    #[serde(default = "planned")]
    pub status: String,
}

fn planned() -> String {
    "planned".into()
}

/// One zone (片区) of a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanZone {
    /// Stable id within the plan (Z001, …); survives renames.
    pub id: String,
    /// 片区名称, e.g. 中庄联村片区.
    pub name: String,
    /// The zone's type (片区类型).
    #[serde(rename = "type")]
    pub kind: ZoneType,
    /// The key (center) village's code; `None` until chosen.
    pub key_village: Option<String>,
    /// Member village codes.
    pub members: Vec<String>,
    /// Non-village members (enterprises, communities, schools) by name.
    #[serde(default)]
    pub other_members: Vec<String>,
    /// Shared facilities assigned to the zone (existing or planned).
    #[serde(default)]
    pub facilities: Vec<PlanFacility>,
    /// The planner's notes (备注), printed on the zone's sheet.
    #[serde(default)]
    pub notes: String,
    /// Map colour index (neighbouring zones differ); kept across versions where it still fits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub colour: Option<usize>,
}

/// What one version of a plan holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanContent {
    /// Version of this JSON layout (1).
    pub format: u32,
    /// The plan's name.
    pub name: String,
    /// The zones, in the plan's order.
    pub zones: Vec<PlanZone>,
    /// The zoning bounds the plan is checked against (the fields of a zone proposal request).
    #[serde(default)]
    pub params: serde_json::Map<String, serde_json::Value>,
}

impl PlanContent {
    /// An empty plan called `name` (format 1, no zones, no bounds).
    pub fn new(name: &str) -> PlanContent {
        PlanContent {
            format: 1,
            name: name.to_string(),
            zones: Vec::new(),
            params: serde_json::Map::new(),
        }
    }

    /// The zone holding village `code`, if any.
    pub fn zone_of_village(&self, code: &str) -> Option<usize> {
        self.zones
            .iter()
            .position(|z| z.members.iter().any(|m| m == code))
    }

    /// The position of zone `id`, if the plan has it.
    pub fn zone_index(&self, id: &str) -> Option<usize> {
        self.zones.iter().position(|z| z.id == id)
    }

    /// The next free zone id (Z001, Z002, … after the highest used).
    pub fn next_zone_id(&self) -> String {
        let next = self
            .zones
            .iter()
            .filter_map(|z| z.id.strip_prefix('Z').and_then(|n| n.parse::<usize>().ok()))
            .max()
            .unwrap_or(0)
            + 1;
        format!("Z{next:03}")
    }
}

/// What the edits may refer to: the workspace's villages and non-village members.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    /// Village code → name.
    pub villages: HashMap<String, String>,
    /// Non-village member name → the code of the village it lies in.
    pub member_village: HashMap<String, String>,
}

/// One change to a plan (the `op` field names it in JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Edit {
    /// Moves a village (and the non-village members lying in it) to zone `to`; `to: null`
    /// leaves it unassigned.
    Move {
        /// The village's 12-digit code.
        village: String,
        /// The target zone's id; `None` leaves the village unassigned.
        to: Option<String>,
    },
    /// Moves a non-village member (enterprise, community, school) to zone `to`.
    MoveMember {
        /// The member's name (as in the members layer).
        member: String,
        /// The target zone's id; `None` leaves the member unassigned.
        to: Option<String>,
    },
    /// Makes a member village the zone's key (center) village; a zone named after its old key
    /// village follows the new one.
    SetKey {
        /// The zone's id.
        zone: String,
        /// The new key village's 12-digit code.
        village: String,
    },
    /// Renames a zone (names are unique within the plan).
    Rename {
        /// The zone's id.
        zone: String,
        /// The new name (at most 60 characters).
        name: String,
    },
    /// Changes a zone's type.
    SetType {
        /// The zone's id.
        zone: String,
        /// The type: the Chinese label (e.g. 村村互助型) or the English variant name (e.g.
        /// `mutual_aid`).
        #[serde(rename = "type")]
        kind: String,
    },
    /// Replaces a zone's shared facilities; each must sit in a member village.
    SetFacilities {
        /// The zone's id.
        zone: String,
        /// The new list of facilities.
        facilities: Vec<PlanFacility>,
    },
    /// Replaces a zone's notes (备注).
    SetNotes {
        /// The zone's id.
        zone: String,
        /// The notes (at most 4000 characters; may be empty).
        notes: String,
    },
    /// Adds an empty zone; `id` defaults to the next free one.
    AddZone {
        /// The new zone's id (letters, digits, `-`, `_`, at most 16); `None`: the next free `Z###`.
        #[serde(default)]
        id: Option<String>,
        /// The new zone's name (unique within the plan).
        name: String,
        /// The zone's type, as for [`Edit::SetType`]; default 村村互助型.
        #[serde(rename = "type", default)]
        kind: Option<String>,
    },
    /// Removes a zone that has no members left.
    RemoveZone {
        /// The zone's id.
        zone: String,
    },
    /// Renames the plan itself.
    RenamePlan {
        /// The plan's new name.
        name: String,
    },
}

/// Why an edit was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("edits[{index}].{field}: {reason}")]
pub struct EditError {
    /// Position of the refused edit in the list (0-based).
    pub index: usize,
    /// The field at fault, e.g. `to`, `name`, `facilities.village`.
    pub field: &'static str,
    /// Why, Chinese and English.
    pub reason: String,
}

const MAX_NAME_CHARS: usize = 60;
const MAX_NOTES_CHARS: usize = 4000;

fn check_text(
    index: usize,
    field: &'static str,
    text: &str,
    max: usize,
    allow_empty: bool,
) -> Result<(), EditError> {
    let n = text.chars().count();
    if !allow_empty && text.trim().is_empty() {
        return Err(EditError {
            index,
            field,
            reason: "不能为空 / must not be empty".into(),
        });
    }
    if n > max {
        return Err(EditError {
            index,
            field,
            reason: format!("长度 {n} 超过 {max} 字 / longer than {max} characters"),
        });
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(EditError {
            index,
            field,
            reason: "含有控制字符 / contains control characters".into(),
        });
    }
    Ok(())
}

/// Applies `edits` in order to a copy of `content`; all or nothing.
pub fn apply_edits(
    content: &PlanContent,
    edits: &[Edit],
    catalogue: &Catalogue,
) -> Result<PlanContent, EditError> {
    if edits.is_empty() {
        return Err(EditError {
            index: 0,
            field: "op",
            reason: "没有要做的修改 / no edits given".into(),
        });
    }
    let mut next = content.clone();
    for (i, edit) in edits.iter().enumerate() {
        apply_one(&mut next, i, edit, catalogue)?;
    }
    Ok(next)
}

fn zone_mut<'a>(
    plan: &'a mut PlanContent,
    index: usize,
    id: &str,
) -> Result<&'a mut PlanZone, EditError> {
    let known: Vec<String> = plan.zones.iter().map(|z| z.id.clone()).collect();
    plan.zones
        .iter_mut()
        .find(|z| z.id == id)
        .ok_or_else(|| EditError {
            index,
            field: "zone",
            reason: format!(
                "方案中没有片区 '{id}' / no zone '{id}' in the plan (zones: {})",
                known.join(", ")
            ),
        })
}

fn target_zone(
    plan: &PlanContent,
    index: usize,
    to: &Option<String>,
) -> Result<Option<usize>, EditError> {
    match to {
        None => Ok(None),
        Some(id) => plan.zone_index(id).map(Some).ok_or_else(|| EditError {
            index,
            field: "to",
            reason: format!(
                "方案中没有片区 '{id}'（先用 add_zone 新建）/ no zone '{id}' in the plan (add it with add_zone first)"
            ),
        }),
    }
}

fn apply_one(
    plan: &mut PlanContent,
    i: usize,
    edit: &Edit,
    catalogue: &Catalogue,
) -> Result<(), EditError> {
    match edit {
        Edit::Move { village, to } => {
            if !catalogue.villages.contains_key(village) {
                return Err(EditError {
                    index: i,
                    field: "village",
                    reason: format!(
                        "工作区没有村代码 {village} / no village {village} in the workspace"
                    ),
                });
            }
            let target = target_zone(plan, i, to)?;
            let from = plan.zone_of_village(village);
            if from == target {
                return Ok(());
            }
            // Members lying in the village move with it when they were in its zone.
            let riders: Vec<String> = catalogue
                .member_village
                .iter()
                .filter(|(_, v)| *v == village)
                .map(|(m, _)| m.clone())
                .filter(|m| from.is_some_and(|f| plan.zones[f].other_members.contains(m)))
                .collect();
            if let Some(f) = from {
                let zone = &mut plan.zones[f];
                zone.members.retain(|m| m != village);
                zone.other_members.retain(|m| !riders.contains(m));
                if zone.key_village.as_deref() == Some(village) {
                    zone.key_village = None;
                }
                zone.facilities.retain(|f| &f.village != village);
            }
            if let Some(t) = target {
                let zone = &mut plan.zones[t];
                zone.members.push(village.clone());
                zone.members.sort();
                zone.other_members.extend(riders);
                zone.other_members.sort();
            }
        }
        Edit::MoveMember { member, to } => {
            if !catalogue.member_village.contains_key(member) {
                return Err(EditError {
                    index: i,
                    field: "member",
                    reason: format!(
                        "工作区没有名为 '{member}' 的非村成员 / no enterprise, community or school named '{member}'"
                    ),
                });
            }
            let target = target_zone(plan, i, to)?;
            for z in &mut plan.zones {
                z.other_members.retain(|m| m != member);
            }
            if let Some(t) = target {
                plan.zones[t].other_members.push(member.clone());
                plan.zones[t].other_members.sort();
            }
        }
        Edit::SetKey { zone, village } => {
            let z = zone_mut(plan, i, zone)?;
            if !z.members.contains(village) {
                return Err(EditError {
                    index: i,
                    field: "village",
                    reason: format!(
                        "村 {village} 不是片区 {zone} 的成员 / village {village} is not a member of zone {zone}"
                    ),
                });
            }
            // A zone still called after its old key village ("朱家户村片区", the default name)
            // follows the new key; a name the planner chose stays.
            let default_name = |code: &str| {
                catalogue
                    .villages
                    .get(code)
                    .map(|name| format!("{name}片区"))
            };
            let renamed = z
                .key_village
                .as_deref()
                .and_then(default_name)
                .filter(|old| *old == z.name)
                .and(default_name(village));
            z.key_village = Some(village.clone());
            if let Some(name) = renamed
                && !plan.zones.iter().any(|other| other.name == name)
            {
                zone_mut(plan, i, zone)?.name = name;
            }
        }
        Edit::Rename { zone, name } => {
            check_text(i, "name", name, MAX_NAME_CHARS, false)?;
            let name = name.trim().to_string();
            if plan.zones.iter().any(|z| &z.id != zone && z.name == name) {
                return Err(EditError {
                    index: i,
                    field: "name",
                    reason: format!(
                        "已有片区叫 '{name}' / another zone is already called '{name}'"
                    ),
                });
            }
            zone_mut(plan, i, zone)?.name = name;
        }
        Edit::SetType { zone, kind } => {
            let t = ZoneType::parse(kind).ok_or_else(|| EditError {
                index: i,
                field: "type",
                reason: format!(
                    "未知片区类型 '{kind}' / unknown zone type; one of {}",
                    ZoneType::ALL.map(ZoneType::label).join("、")
                ),
            })?;
            zone_mut(plan, i, zone)?.kind = t;
        }
        Edit::SetFacilities { zone, facilities } => {
            let z = zone_mut(plan, i, zone)?;
            for f in facilities {
                check_text(i, "facilities.kind", &f.kind, MAX_NAME_CHARS, false)?;
                check_text(i, "facilities.name", &f.name, MAX_NAME_CHARS, true)?;
                if !z.members.contains(&f.village) {
                    return Err(EditError {
                        index: i,
                        field: "facilities.village",
                        reason: format!(
                            "设施 '{}' 所在村 {} 不是片区 {zone} 的成员 / the facility's village is not a member of the zone",
                            f.kind, f.village
                        ),
                    });
                }
                if f.status != "planned" && f.status != "existing" {
                    return Err(EditError {
                        index: i,
                        field: "facilities.status",
                        reason: format!(
                            "'{}': 应为 planned 或 existing / must be planned or existing",
                            f.status
                        ),
                    });
                }
            }
            z.facilities = facilities.clone();
        }
        Edit::SetNotes { zone, notes } => {
            check_text(i, "notes", notes, MAX_NOTES_CHARS, true)?;
            zone_mut(plan, i, zone)?.notes = notes.clone();
        }
        Edit::AddZone { id, name, kind } => {
            check_text(i, "name", name, MAX_NAME_CHARS, false)?;
            let id = match id {
                Some(id) => {
                    let ok = !id.is_empty()
                        && id.len() <= 16
                        && id
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
                    if !ok {
                        return Err(EditError {
                            index: i,
                            field: "id",
                            reason: format!(
                                "'{id}': 片区编号只能用字母、数字、-、_（≤16）/ letters, digits, - and _ only (≤ 16)"
                            ),
                        });
                    }
                    if plan.zone_index(id).is_some() {
                        return Err(EditError {
                            index: i,
                            field: "id",
                            reason: format!("片区 '{id}' 已存在 / zone '{id}' exists"),
                        });
                    }
                    id.clone()
                }
                None => plan.next_zone_id(),
            };
            let kind = match kind {
                None => ZoneType::MutualAid,
                Some(k) => ZoneType::parse(k).ok_or_else(|| EditError {
                    index: i,
                    field: "type",
                    reason: format!("未知片区类型 '{k}' / unknown zone type"),
                })?,
            };
            if plan.zones.iter().any(|z| z.name == name.trim()) {
                return Err(EditError {
                    index: i,
                    field: "name",
                    reason: format!(
                        "已有片区叫 '{name}' / another zone is already called '{name}'"
                    ),
                });
            }
            plan.zones.push(PlanZone {
                id,
                name: name.trim().to_string(),
                kind,
                key_village: None,
                members: Vec::new(),
                other_members: Vec::new(),
                facilities: Vec::new(),
                notes: String::new(),
                colour: None,
            });
        }
        Edit::RemoveZone { zone } => {
            let z = zone_mut(plan, i, zone)?;
            if !z.members.is_empty() {
                return Err(EditError {
                    index: i,
                    field: "zone",
                    reason: format!(
                        "片区 {zone} 还有 {} 个成员村，先移走 / zone {zone} still has {} member villages; move them first",
                        z.members.len(),
                        z.members.len()
                    ),
                });
            }
            plan.zones.retain(|z| &z.id != zone);
        }
        Edit::RenamePlan { name } => {
            check_text(i, "name", name, MAX_NAME_CHARS, false)?;
            plan.name = name.trim().to_string();
        }
    }
    Ok(())
}

/// What changed from one version to another.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PlanDiff {
    /// (village code, zone before, zone after); `None` is unassigned.
    pub moved_villages: Vec<Moved>,
    /// Non-village members moved: (name, zone before, zone after).
    pub moved_members: Vec<Moved>,
    /// Zones whose key village changed: before and after (village codes).
    pub key_villages: Vec<Changed>,
    /// Zones renamed: old and new names.
    pub names: Vec<Changed>,
    /// Zones whose type changed: old and new type labels.
    pub types: Vec<Changed>,
    /// Zones whose shared facilities changed.
    pub facilities: Vec<String>,
    /// Zones whose notes changed.
    pub notes: Vec<String>,
    /// Ids of zones added.
    pub zones_added: Vec<String>,
    /// Ids of zones removed.
    pub zones_removed: Vec<String>,
    /// The plan's old and new names, when it was renamed.
    pub plan_name: Option<Changed>,
}

/// Something that moved between zones.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Moved {
    /// The village code or member name.
    pub id: String,
    /// The zone it was in; `None`: unassigned.
    pub from: Option<String>,
    /// The zone it is in now; `None`: unassigned.
    pub to: Option<String>,
}

/// A zone attribute (or the plan's name) before and after.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Changed {
    /// The zone (empty for the plan's own name).
    pub zone: String,
    /// The value before (`None` when unset).
    pub from: Option<String>,
    /// The value after (`None` when unset).
    pub to: Option<String>,
}

impl PlanDiff {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        *self == PlanDiff::default()
    }

    /// A one-line summary for version lists: Chinese, then English.
    pub fn summary(&self) -> String {
        self.summary_named(&HashMap::new())
    }

    /// The summary with village names (code → name) where people read it: "村 朱家户村
    /// (370323109222) 从 Z001 调到 Z002".
    pub fn summary_named(&self, village_names: &HashMap<String, String>) -> String {
        let village = |code: &str| match village_names.get(code) {
            Some(name) if !name.is_empty() => format!("{name} ({code})"),
            _ => code.to_string(),
        };
        let mut zh: Vec<String> = Vec::new();
        let mut en: Vec<String> = Vec::new();
        if self.moved_villages.len() == 1 {
            let m = &self.moved_villages[0];
            let (from, to) = (m.from.as_deref(), m.to.as_deref());
            zh.push(format!(
                "村 {} 从 {} 调到 {}",
                village(&m.id),
                from.unwrap_or("未分区"),
                to.unwrap_or("未分区")
            ));
            en.push(format!(
                "village {} moved {} → {}",
                village(&m.id),
                from.unwrap_or("unassigned"),
                to.unwrap_or("unassigned")
            ));
        } else if !self.moved_villages.is_empty() {
            zh.push(format!("调整村 {} 个", self.moved_villages.len()));
            en.push(format!("{} villages moved", self.moved_villages.len()));
        }
        if !self.moved_members.is_empty() {
            zh.push(format!("调整非村成员 {} 个", self.moved_members.len()));
            en.push(format!(
                "non-village members moved: {}",
                self.moved_members.len()
            ));
        }
        let mut count = |n: usize, what_zh: &str, what_en: &str| {
            if n > 0 {
                zh.push(format!("{what_zh} {n} 处"));
                en.push(format!("{what_en}: {n}"));
            }
        };
        count(self.key_villages.len(), "改中心村", "key villages changed");
        count(self.names.len(), "改名", "zones renamed");
        count(self.types.len(), "改类型", "zone types changed");
        count(
            self.facilities.len(),
            "改共享设施",
            "shared facilities changed",
        );
        count(self.notes.len(), "改备注", "notes changed");
        if !self.zones_added.is_empty() {
            zh.push(format!("新建片区 {}", self.zones_added.join("、")));
            en.push(format!("zones added: {}", self.zones_added.join(", ")));
        }
        if !self.zones_removed.is_empty() {
            zh.push(format!("删除片区 {}", self.zones_removed.join("、")));
            en.push(format!("zones removed: {}", self.zones_removed.join(", ")));
        }
        if let Some(c) = &self.plan_name {
            let to = c.to.as_deref().unwrap_or("");
            zh.push(format!("方案改名为 {to}"));
            en.push(format!("plan renamed to {to}"));
        }
        if zh.is_empty() {
            "无变化 / no change".into()
        } else {
            format!("{} / {}", zh.join("；"), en.join("; "))
        }
    }
}

fn assignment(
    plan: &PlanContent,
    of: impl Fn(&PlanZone) -> &Vec<String>,
) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for z in &plan.zones {
        for m in of(z) {
            map.insert(m.clone(), z.id.clone());
        }
    }
    map
}

fn moved(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) -> Vec<Moved> {
    let ids: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    ids.into_iter()
        .filter(|id| a.get(*id) != b.get(*id))
        .map(|id| Moved {
            id: id.clone(),
            from: a.get(id).cloned(),
            to: b.get(id).cloned(),
        })
        .collect()
}

/// What changed from `a` to `b`.
pub fn diff(a: &PlanContent, b: &PlanContent) -> PlanDiff {
    let mut d = PlanDiff {
        moved_villages: moved(
            &assignment(a, |z| &z.members),
            &assignment(b, |z| &z.members),
        ),
        moved_members: moved(
            &assignment(a, |z| &z.other_members),
            &assignment(b, |z| &z.other_members),
        ),
        ..PlanDiff::default()
    };
    let before: BTreeMap<&str, &PlanZone> = a.zones.iter().map(|z| (z.id.as_str(), z)).collect();
    let after: BTreeMap<&str, &PlanZone> = b.zones.iter().map(|z| (z.id.as_str(), z)).collect();
    for (id, za) in &before {
        let Some(zb) = after.get(id) else {
            d.zones_removed.push(id.to_string());
            continue;
        };
        let changed = |from: Option<String>, to: Option<String>| Changed {
            zone: id.to_string(),
            from,
            to,
        };
        if za.key_village != zb.key_village {
            d.key_villages
                .push(changed(za.key_village.clone(), zb.key_village.clone()));
        }
        if za.name != zb.name {
            d.names
                .push(changed(Some(za.name.clone()), Some(zb.name.clone())));
        }
        if za.kind != zb.kind {
            d.types.push(changed(
                Some(za.kind.label().into()),
                Some(zb.kind.label().into()),
            ));
        }
        if za.facilities != zb.facilities {
            d.facilities.push(id.to_string());
        }
        if za.notes != zb.notes {
            d.notes.push(id.to_string());
        }
    }
    d.zones_added = after
        .keys()
        .filter(|id| !before.contains_key(*id))
        .map(|id| id.to_string())
        .collect();
    if a.name != b.name {
        d.plan_name = Some(Changed {
            zone: String::new(),
            from: Some(a.name.clone()),
            to: Some(b.name.clone()),
        });
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue() -> Catalogue {
        Catalogue {
            villages: ["A", "B", "C", "D"]
                .iter()
                .map(|c| (c.to_string(), format!("{c}村")))
                .collect(),
            member_village: [("鲁源公司".to_string(), "B".to_string())]
                .into_iter()
                .collect(),
        }
    }

    fn plan() -> PlanContent {
        let zone = |id: &str, members: &[&str], key: &str| PlanZone {
            id: id.into(),
            name: format!("{id}片区"),
            kind: ZoneType::StrongLeads,
            key_village: Some(key.into()),
            members: members.iter().map(|s| s.to_string()).collect(),
            other_members: vec![],
            facilities: vec![],
            notes: String::new(),
            colour: None,
        };
        let mut p = PlanContent::new("试点方案");
        p.zones = vec![
            zone("Z001", &["A", "B"], "B"),
            zone("Z002", &["C", "D"], "C"),
        ];
        p.zones[0].other_members = vec!["鲁源公司".into()];
        p
    }

    #[test]
    fn moving_a_village_carries_its_members_and_clears_a_lost_key() {
        let p = plan();
        let next = apply_edits(
            &p,
            &[Edit::Move {
                village: "B".into(),
                to: Some("Z002".into()),
            }],
            &catalogue(),
        )
        .unwrap();
        assert_eq!(next.zones[0].members, vec!["A"]);
        assert_eq!(next.zones[0].key_village, None, "B was Z001's key");
        assert_eq!(next.zones[1].members, vec!["B", "C", "D"]);
        assert_eq!(next.zones[1].other_members, vec!["鲁源公司"]);
        let d = diff(&p, &next);
        assert_eq!(
            d.moved_villages,
            vec![Moved {
                id: "B".into(),
                from: Some("Z001".into()),
                to: Some("Z002".into())
            }]
        );
        assert_eq!(d.moved_members.len(), 1);
        assert_eq!(d.key_villages.len(), 1);
        assert_eq!(
            d.summary(),
            "村 B 从 Z001 调到 Z002；调整非村成员 1 个；改中心村 1 处 / village B moved Z001 → Z002; non-village members moved: 1; key villages changed: 1"
        );
        assert!(diff(&next, &next).is_empty());
        assert!(
            d.summary_named(&catalogue().villages)
                .starts_with("村 B村 (B) 从 Z001 调到 Z002；"),
            "{}",
            d.summary_named(&catalogue().villages)
        );
    }

    #[test]
    fn a_zone_named_after_its_key_village_follows_a_new_key() {
        let mut p = plan();
        p.zones[0].name = "B村片区".into(); // the default name: after key village B
        p.zones[1].name = "东部片区".into(); // a name the planner chose
        let next = apply_edits(
            &p,
            &[
                Edit::SetKey {
                    zone: "Z001".into(),
                    village: "A".into(),
                },
                Edit::SetKey {
                    zone: "Z002".into(),
                    village: "D".into(),
                },
            ],
            &catalogue(),
        )
        .unwrap();
        assert_eq!(next.zones[0].name, "A村片区");
        assert_eq!(next.zones[1].name, "东部片区", "a chosen name stays");
    }

    #[test]
    fn a_failing_edit_leaves_nothing_applied() {
        let p = plan();
        let err = apply_edits(
            &p,
            &[
                Edit::Rename {
                    zone: "Z001".into(),
                    name: "新名".into(),
                },
                Edit::SetKey {
                    zone: "Z001".into(),
                    village: "C".into(),
                },
            ],
            &catalogue(),
        )
        .unwrap_err();
        assert_eq!((err.index, err.field), (1, "village"));
        assert_eq!(p.zones[0].name, "Z001片区");
    }

    #[test]
    fn bad_edits_name_the_field() {
        let p = plan();
        let cases: Vec<(Edit, &str)> = vec![
            (
                Edit::Move {
                    village: "X".into(),
                    to: Some("Z001".into()),
                },
                "village",
            ),
            (
                Edit::Move {
                    village: "A".into(),
                    to: Some("Z009".into()),
                },
                "to",
            ),
            (
                Edit::MoveMember {
                    member: "无名".into(),
                    to: None,
                },
                "member",
            ),
            (
                Edit::SetKey {
                    zone: "Z009".into(),
                    village: "A".into(),
                },
                "zone",
            ),
            (
                Edit::Rename {
                    zone: "Z001".into(),
                    name: "  ".into(),
                },
                "name",
            ),
            (
                Edit::Rename {
                    zone: "Z001".into(),
                    name: "Z002片区".into(),
                },
                "name",
            ),
            (
                Edit::SetType {
                    zone: "Z001".into(),
                    kind: "大型".into(),
                },
                "type",
            ),
            (
                Edit::SetFacilities {
                    zone: "Z001".into(),
                    facilities: vec![PlanFacility {
                        kind: "冷库".into(),
                        name: String::new(),
                        village: "C".into(),
                        status: "planned".into(),
                    }],
                },
                "facilities.village",
            ),
            (
                Edit::AddZone {
                    id: Some("Z001".into()),
                    name: "新片区".into(),
                    kind: None,
                },
                "id",
            ),
            (
                Edit::AddZone {
                    id: None,
                    name: "x".repeat(61),
                    kind: None,
                },
                "name",
            ),
            (
                Edit::RemoveZone {
                    zone: "Z001".into(),
                },
                "zone",
            ),
            (
                Edit::SetNotes {
                    zone: "Z001".into(),
                    notes: "a\u{0}b".into(),
                },
                "notes",
            ),
        ];
        for (edit, field) in cases {
            let err = apply_edits(&p, std::slice::from_ref(&edit), &catalogue()).unwrap_err();
            assert_eq!(err.field, field, "{edit:?} → {err}");
        }
        assert_eq!(apply_edits(&p, &[], &catalogue()).unwrap_err().field, "op");
    }

    #[test]
    fn zones_are_added_typed_and_removed_when_empty() {
        let p = plan();
        let next = apply_edits(
            &p,
            &[
                Edit::AddZone {
                    id: None,
                    name: "东部片区".into(),
                    kind: Some("村企联建型".into()),
                },
                Edit::Move {
                    village: "D".into(),
                    to: Some("Z003".into()),
                },
                Edit::SetType {
                    zone: "Z002".into(),
                    kind: "mutual-aid".into(),
                },
                Edit::SetKey {
                    zone: "Z003".into(),
                    village: "D".into(),
                },
            ],
            &catalogue(),
        )
        .unwrap();
        assert_eq!(next.zones[2].id, "Z003");
        assert_eq!(next.zones[2].kind, ZoneType::VillageEnterprise);
        assert_eq!(next.zones[1].kind, ZoneType::MutualAid);
        let d = diff(&p, &next);
        assert_eq!(d.zones_added, vec!["Z003"]);
        assert_eq!(d.types.len(), 1);
        let emptied = apply_edits(
            &next,
            &[
                Edit::Move {
                    village: "D".into(),
                    to: None,
                },
                Edit::RemoveZone {
                    zone: "Z003".into(),
                },
            ],
            &catalogue(),
        )
        .unwrap();
        assert_eq!(emptied.zones.len(), 2);
        assert_eq!(emptied.zone_of_village("D"), None);
        let json = serde_json::to_string(&emptied).unwrap();
        assert!(json.contains("\"type\":\"村村互助型\""), "{json}");
        let back: PlanContent = serde_json::from_str(&json).unwrap();
        assert_eq!(back, emptied);
    }
}
