//! The layers a workspace holds and their canonical fields, with the source field names we
//! recognise without configuration (Chinese names, pinyin initials as in 三调/统计 data, English).

use std::fmt;
use std::str::FromStr;

/// A workspace layer. The lower-case name is the table name in the GeoPackage and the collection id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LayerKind {
    /// Administrative villages (行政村): boundary polygons with code, name, population, industry, ….
    Villages,
    /// Land-use parcels (地块图斑) of the Third National Land Survey (三调), with their DLBM code.
    Parcels,
    /// Greenhouses (大棚): polygons with type and crop.
    Greenhouses,
    /// Public-service facilities (设施): points with kind, name and the village they serve.
    Facilities,
    /// Roads (道路): lines with class and speed, for network distances.
    Roads,
    /// Other zone members (其他成员): enterprises, communities, schools, as points or polygons.
    Members,
}

/// Which geometries a layer accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeometryFamily {
    /// Polygon or MultiPolygon, stored as MULTIPOLYGON.
    Polygonal,
    /// Point, stored as POINT.
    Point,
    /// LineString or MultiLineString, stored as MULTILINESTRING.
    Linear,
    /// Point or (Multi)Polygon, stored as GEOMETRY (enterprises may be a site outline or a pin).
    PointOrPolygonal,
}

impl GeometryFamily {
    /// The GeoPackage geometry type name of the column.
    pub fn gpkg_type(self) -> &'static str {
        match self {
            GeometryFamily::Polygonal => "MULTIPOLYGON",
            GeometryFamily::Point => "POINT",
            GeometryFamily::Linear => "MULTILINESTRING",
            GeometryFamily::PointOrPolygonal => "GEOMETRY",
        }
    }

    /// The family's Chinese name with the accepted geometry types, for messages.
    pub fn describe_zh(self) -> &'static str {
        match self {
            GeometryFamily::Polygonal => "面 (Polygon/MultiPolygon)",
            GeometryFamily::Point => "点 (Point)",
            GeometryFamily::Linear => "线 (LineString/MultiLineString)",
            GeometryFamily::PointOrPolygonal => "点或面 (Point/Polygon)",
        }
    }
}

/// Storage type of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// UTF-8 text (SQLite `TEXT`).
    Text,
    /// A 64-bit integer (SQLite `INTEGER`).
    Integer,
    /// A double-precision number (SQLite `REAL`).
    Real,
    /// A boolean (GeoPackage `BOOLEAN`, stored as 0/1).
    Boolean,
}

impl FieldType {
    /// The GeoPackage column type of the field.
    pub fn gpkg_type(self) -> &'static str {
        match self {
            FieldType::Text => "TEXT",
            FieldType::Integer => "INTEGER",
            FieldType::Real => "REAL",
            FieldType::Boolean => "BOOLEAN",
        }
    }
}

/// A canonical field: its name in the workspace, type, Chinese label and the source names that map
/// to it automatically (matched case-insensitively, ignoring surrounding spaces).
#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    /// The field's name in the workspace (the GeoPackage column), e.g. `population`.
    pub name: &'static str,
    /// The field's storage type.
    pub ty: FieldType,
    /// The field's Chinese label, e.g. 户籍人口.
    pub label_zh: &'static str,
    /// Source field names mapped to it without configuration (Chinese, pinyin initials, English).
    pub aliases: &'static [&'static str],
}

const fn field(
    name: &'static str,
    ty: FieldType,
    label_zh: &'static str,
    aliases: &'static [&'static str],
) -> FieldSpec {
    FieldSpec {
        name,
        ty,
        label_zh,
        aliases,
    }
}

use FieldType::{Boolean, Integer, Real, Text};

const VILLAGE_FIELDS: &[FieldSpec] = &[
    field(
        "code",
        Text,
        "村代码",
        &[
            "村代码",
            "村级代码",
            "行政村代码",
            "统计用区划代码",
            "区划代码",
            "CUNDM",
            "XZQDM",
            "行政区代码",
            "village_code",
            "CODE",
        ],
    ),
    field(
        "name",
        Text,
        "村名",
        &[
            "村名",
            "村名称",
            "行政村",
            "行政村名称",
            "CUNMC",
            "XZQMC",
            "行政区名称",
            "village_name",
            "village",
        ],
    ),
    field(
        "town_code",
        Text,
        "乡镇代码",
        &["乡镇代码", "镇代码", "XZDM", "XIANGDM", "town_code"],
    ),
    field(
        "town",
        Text,
        "乡镇",
        &[
            "乡镇",
            "乡镇名称",
            "镇",
            "镇名",
            "所属乡镇",
            "XZMC",
            "XIANGMC",
            "town_name",
        ],
    ),
    field(
        "population",
        Integer,
        "人口",
        &[
            "人口",
            "户籍人口",
            "常住人口",
            "总人口",
            "RK",
            "ZRK",
            "HJRK",
            "pop",
        ],
    ),
    field(
        "households",
        Integer,
        "户数",
        &["户数", "总户数", "HS", "ZHS"],
    ),
    field(
        "collective_income",
        Real,
        "村集体收入(万元)",
        &[
            "集体收入",
            "村集体收入",
            "集体经济收入",
            "村集体经济收入",
            "JTSR",
            "income",
        ],
    ),
    field(
        "industry",
        Text,
        "主导产业",
        &["产业", "主导产业", "特色产业", "CY", "ZDCY"],
    ),
    field(
        "party_members",
        Integer,
        "党员数",
        &["党员数", "党员", "党员人数", "DYS"],
    ),
    field(
        "strong",
        Boolean,
        "强村",
        &["强村", "是否强村", "QC", "is_strong"],
    ),
];

const PARCEL_FIELDS: &[FieldSpec] = &[
    field("dlbm", Text, "地类编码", &["DLBM", "地类编码"]),
    field("dlmc", Text, "地类名称", &["DLMC", "地类名称"]),
    field(
        "zldwdm",
        Text,
        "坐落单位代码",
        &["ZLDWDM", "坐落单位代码", "QSDWDM", "权属单位代码"],
    ),
    field("tbmj", Real, "图斑面积(m²)", &["TBMJ", "图斑面积"]),
];

const GREENHOUSE_FIELDS: &[FieldSpec] = &[
    field("kind", Text, "类型", &["类型", "大棚类型", "LX", "type"]),
    field("crop", Text, "作物", &["作物", "种植作物", "ZW", "ZZZW"]),
    field(
        "village_code",
        Text,
        "村代码",
        &["村代码", "CUNDM", "ZLDWDM", "坐落单位代码"],
    ),
];

const FACILITY_FIELDS: &[FieldSpec] = &[
    field(
        "kind",
        Text,
        "设施类型",
        &["设施类型", "类型", "类别", "LX", "SSLX", "type", "category"],
    ),
    field("name", Text, "名称", &["名称", "设施名称", "MC", "SSMC"]),
    field(
        "capacity",
        Integer,
        "容量",
        &["容量", "规模", "床位数", "RL", "GM"],
    ),
    field(
        "radius_m",
        Real,
        "服务半径(m)",
        &["服务半径", "FWBJ", "radius"],
    ),
    field(
        "village_code",
        Text,
        "村代码",
        &["村代码", "所在村代码", "CUNDM"],
    ),
];

const ROAD_FIELDS: &[FieldSpec] = &[
    field(
        "class",
        Text,
        "道路等级",
        &["道路等级", "等级", "DLDJ", "DJ", "highway"],
    ),
    field(
        "name",
        Text,
        "道路名称",
        &["名称", "道路名称", "MC", "DLMC"],
    ),
    field(
        "speed_kmh",
        Real,
        "速度(km/h)",
        &["速度", "设计速度", "SD", "speed"],
    ),
];

const MEMBER_FIELDS: &[FieldSpec] = &[
    field("kind", Text, "类型", &["类型", "主体类型", "LX", "type"]),
    field("name", Text, "名称", &["名称", "单位名称", "MC"]),
    field(
        "village_code",
        Text,
        "所在村代码",
        &["村代码", "所在村代码", "CUNDM"],
    ),
];

impl LayerKind {
    /// Every layer kind, in the order layers are listed and imported.
    pub const ALL: [LayerKind; 6] = [
        LayerKind::Villages,
        LayerKind::Parcels,
        LayerKind::Greenhouses,
        LayerKind::Facilities,
        LayerKind::Roads,
        LayerKind::Members,
    ];

    /// The lower-case name: the GeoPackage table, the OGC API collection id and the CLI's
    /// `--layer`.
    pub fn name(self) -> &'static str {
        match self {
            LayerKind::Villages => "villages",
            LayerKind::Parcels => "parcels",
            LayerKind::Greenhouses => "greenhouses",
            LayerKind::Facilities => "facilities",
            LayerKind::Roads => "roads",
            LayerKind::Members => "members",
        }
    }

    /// The layer's Chinese name, e.g. 行政村.
    pub fn label_zh(self) -> &'static str {
        match self {
            LayerKind::Villages => "行政村",
            LayerKind::Parcels => "地块图斑",
            LayerKind::Greenhouses => "大棚",
            LayerKind::Facilities => "设施",
            LayerKind::Roads => "道路",
            LayerKind::Members => "其他成员(企业/社区/学校)",
        }
    }

    /// The geometries the layer accepts.
    pub fn geometry_family(self) -> GeometryFamily {
        match self {
            LayerKind::Villages | LayerKind::Parcels | LayerKind::Greenhouses => {
                GeometryFamily::Polygonal
            }
            LayerKind::Facilities => GeometryFamily::Point,
            LayerKind::Roads => GeometryFamily::Linear,
            LayerKind::Members => GeometryFamily::PointOrPolygonal,
        }
    }

    /// The layer's canonical fields (those analyses read), with their recognised source names.
    pub fn canonical_fields(self) -> &'static [FieldSpec] {
        match self {
            LayerKind::Villages => VILLAGE_FIELDS,
            LayerKind::Parcels => PARCEL_FIELDS,
            LayerKind::Greenhouses => GREENHOUSE_FIELDS,
            LayerKind::Facilities => FACILITY_FIELDS,
            LayerKind::Roads => ROAD_FIELDS,
            LayerKind::Members => MEMBER_FIELDS,
        }
    }

    /// The canonical field a source field name maps to, if it is one we recognise.
    pub fn recognise(self, source_name: &str) -> Option<&'static FieldSpec> {
        let wanted = source_name.trim();
        self.canonical_fields().iter().find(|f| {
            f.name.eq_ignore_ascii_case(wanted)
                || f.aliases.iter().any(|a| a.eq_ignore_ascii_case(wanted))
        })
    }

    /// The canonical field that must be present on every feature, if any.
    pub fn required_field(self) -> Option<&'static str> {
        match self {
            LayerKind::Villages => Some("code"),
            LayerKind::Parcels => Some("dlbm"),
            LayerKind::Facilities => Some("kind"),
            _ => None,
        }
    }
}

impl fmt::Display for LayerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for LayerKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        LayerKind::ALL
            .into_iter()
            .find(|k| k.name() == s || k.name().trim_end_matches('s') == s)
            .ok_or_else(|| {
                format!(
                    "未知图层 unknown layer '{s}': expected one of {}",
                    LayerKind::ALL.map(|k| k.name()).join(", ")
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usual_source_names_are_recognised() {
        let v = LayerKind::Villages;
        assert_eq!(v.recognise("村代码").unwrap().name, "code");
        assert_eq!(v.recognise("cundm").unwrap().name, "code");
        assert_eq!(v.recognise("XZQDM").unwrap().name, "code");
        assert_eq!(v.recognise("XZQMC").unwrap().name, "name");
        assert_eq!(v.recognise("人口").unwrap().name, "population");
        assert_eq!(v.recognise("RK").unwrap().name, "population");
        assert_eq!(v.recognise("population").unwrap().name, "population");
        assert!(v.recognise("备注").is_none());
        let p = LayerKind::Parcels;
        assert_eq!(p.recognise("DLBM").unwrap().name, "dlbm");
        assert_eq!(p.recognise("ZLDWDM").unwrap().name, "zldwdm");
        assert_eq!(p.recognise("TBMJ").unwrap().name, "tbmj");
        assert_eq!(
            LayerKind::Greenhouses
                .recognise("village_code")
                .unwrap()
                .name,
            "village_code"
        );
    }

    #[test]
    fn layer_names_parse() {
        assert_eq!(
            "villages".parse::<LayerKind>().unwrap(),
            LayerKind::Villages
        );
        assert_eq!("Parcel".parse::<LayerKind>().unwrap(), LayerKind::Parcels);
        assert!("towns".parse::<LayerKind>().is_err());
    }
}
