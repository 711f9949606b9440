//! 三调 land-use codes (第三次全国国土调查工作分类, based on GB/T 21010-2017): names, first-level
//! classes, and the groupings planners report (耕地, 建设用地, 湿地).

/// (code, name) of the second-level classes used by 三调.
pub const CODES: &[(&str, &str)] = &[
    ("0101", "水田"),
    ("0102", "水浇地"),
    ("0103", "旱地"),
    ("0201", "果园"),
    ("0202", "茶园"),
    ("0203", "橡胶园"),
    ("0204", "其他园地"),
    ("0301", "乔木林地"),
    ("0302", "竹林地"),
    ("0303", "红树林地"),
    ("0304", "森林沼泽"),
    ("0305", "灌木林地"),
    ("0306", "灌丛沼泽"),
    ("0307", "其他林地"),
    ("0401", "天然牧草地"),
    ("0402", "沼泽草地"),
    ("0403", "人工牧草地"),
    ("0404", "其他草地"),
    ("05H1", "商业服务业设施用地"),
    ("0508", "物流仓储用地"),
    ("0601", "工业用地"),
    ("0602", "采矿用地"),
    ("0603", "盐田"),
    ("0701", "城镇住宅用地"),
    ("0702", "农村宅基地"),
    ("08H1", "机关团体新闻出版用地"),
    ("08H2", "科教文卫用地"),
    ("0809", "公用设施用地"),
    ("0810", "公园与绿地"),
    ("09", "特殊用地"),
    ("1001", "铁路用地"),
    ("1002", "轨道交通用地"),
    ("1003", "公路用地"),
    ("1004", "城镇村道路用地"),
    ("1005", "交通服务场站用地"),
    ("1006", "农村道路"),
    ("1007", "机场用地"),
    ("1008", "港口码头用地"),
    ("1009", "管道运输用地"),
    ("1101", "河流水面"),
    ("1102", "湖泊水面"),
    ("1103", "水库水面"),
    ("1104", "坑塘水面"),
    ("1105", "沿海滩涂"),
    ("1106", "内陆滩涂"),
    ("1107", "沟渠"),
    ("1108", "沼泽地"),
    ("1109", "水工建筑用地"),
    ("1110", "冰川及永久积雪"),
    ("1201", "空闲地"),
    ("1202", "设施农用地"),
    ("1203", "田坎"),
    ("1204", "盐碱地"),
    ("1205", "沙地"),
    ("1206", "裸土地"),
    ("1207", "裸岩石砾地"),
];

/// First-level classes (一级类) by their two-digit prefix.
pub const CLASSES: &[(&str, &str)] = &[
    ("01", "耕地"),
    ("02", "园地"),
    ("03", "林地"),
    ("04", "草地"),
    ("05", "商业服务业用地"),
    ("06", "工矿用地"),
    ("07", "住宅用地"),
    ("08", "公共管理与公共服务用地"),
    ("09", "特殊用地"),
    ("10", "交通运输用地"),
    ("11", "水域及水利设施用地"),
    ("12", "其他土地"),
];

/// The name of a land-use code, if it is a known 三调 code.
pub fn name_of(code: &str) -> Option<&'static str> {
    let code = code.trim();
    CODES.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)
}

/// The first-level class (一级类) name of a code, e.g. "0103" → "耕地".
pub fn class_of(code: &str) -> Option<&'static str> {
    let prefix = code.trim().get(..2)?;
    CLASSES.iter().find(|(c, _)| *c == prefix).map(|(_, n)| *n)
}

/// 耕地: 0101 水田, 0102 水浇地, 0103 旱地.
pub fn is_cultivated(code: &str) -> bool {
    code.trim().starts_with("01")
}

/// 建设用地 as 三调 counts it: 05, 06 except 0603 盐田, 07, 08, 09, transport except 1006 农村道路,
/// 1109 水工建筑用地 and 1201 空闲地. 1202 设施农用地 is agricultural land, not construction land.
pub fn is_construction(code: &str) -> bool {
    let code = code.trim();
    match code.get(..2) {
        Some("05" | "07" | "08" | "09") => true,
        Some("06") => code != "0603",
        Some("10") => code != "1006",
        _ => code == "1109" || code == "1201",
    }
}

/// 湿地 group in 三调: 0303, 0304, 0306, 0402, 0603, 1105, 1106, 1108.
pub fn is_wetland(code: &str) -> bool {
    matches!(
        code.trim(),
        "0303" | "0304" | "0306" | "0402" | "0603" | "1105" | "1106" | "1108"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groupings_follow_sandiao() {
        assert!(is_cultivated("0101") && is_cultivated("0103") && !is_cultivated("0201"));
        assert!(is_construction("0702") && is_construction("0601") && is_construction("1003"));
        assert!(!is_construction("1006") && !is_construction("1202") && !is_construction("0603"));
        assert!(is_wetland("1106") && !is_wetland("1101"));
        assert_eq!(name_of("1202"), Some("设施农用地"));
        assert_eq!(class_of("0305"), Some("林地"));
        assert_eq!(name_of("9999"), None);
    }
}
