//! The one symbology table shared by the web map, the printed sheets and their legends:
//! `web/src/symbology.json`, compiled in. A facility kind, a 三调 land class, a zone colour, the
//! key village's star and the violation mark look the same on the screen and on every sheet.

use std::sync::OnceLock;

use serde::Deserialize;

/// How a facility kind is drawn: its colour and the glyph in its badge.
#[derive(Debug, Clone, Deserialize)]
pub struct KindStyle {
    /// The kind (`null` for the style of kinds the table does not list).
    pub value: Option<String>,
    /// The badge colour, CSS hex (e.g. `#1f9e89`).
    pub color: String,
    /// star, cross, heart, snow, sprout or dot.
    pub glyph: String,
}

/// A 三调 first-level land class: code, full name, the short name tables use, colour.
#[derive(Debug, Clone, Deserialize)]
pub struct LandClassStyle {
    /// The class's two-digit code (`01` 耕地, `03` 林地, …; `00` 湿地).
    pub cls: String,
    /// The class's full Chinese name, e.g. 公共管理与公共服务用地.
    pub name: String,
    /// The short name tables and legends use, e.g. 公服用地.
    pub short: String,
    /// The class's fill colour, CSS hex.
    pub color: String,
}

/// The whole table.
#[derive(Debug, Clone, Deserialize)]
pub struct Symbology {
    /// The facility kinds the table lists, in legend order.
    pub facility_kinds: Vec<KindStyle>,
    /// The style of every kind the table does not list.
    pub facility_other: KindStyle,
    /// The 三调 first-level land classes.
    pub land_classes: Vec<LandClassStyle>,
    /// Fill colour of land whose class the table lacks, CSS hex.
    pub land_fallback: String,
    /// Zone fill colours, by a zone's map colour index (cycled).
    pub zone_colors: Vec<String>,
    /// Colour of zone outlines, CSS hex.
    pub zone_line: String,
    /// Colour of the key village's star, CSS hex.
    pub key_village: String,
    /// Colour of the mark on a zone that breaks a bound, CSS hex.
    pub violation: String,
    /// Fill colour of villages in no zone, CSS hex.
    pub unassigned: String,
}

const TABLE: &str = include_str!("../../web/src/symbology.json");

/// The table (parsed once; a unit test proves it parses).
pub fn symbology() -> &'static Symbology {
    static PARSED: OnceLock<Symbology> = OnceLock::new();
    PARSED.get_or_init(|| serde_json::from_str(TABLE).expect("web/src/symbology.json is valid"))
}

impl Symbology {
    /// The style of a facility kind; kinds the table does not list share `facility_other`.
    pub fn facility(&self, kind: &str) -> &KindStyle {
        self.facility_kinds
            .iter()
            .find(|k| k.value.as_deref() == Some(kind))
            .unwrap_or(&self.facility_other)
    }

    /// Whether the table lists `kind` by name.
    pub fn knows_facility(&self, kind: &str) -> bool {
        self.facility_kinds
            .iter()
            .any(|k| k.value.as_deref() == Some(kind))
    }

    /// The order kinds are listed in legends: the table's order, then other kinds by name.
    pub fn facility_rank(&self, kind: &str) -> usize {
        self.facility_kinds
            .iter()
            .position(|k| k.value.as_deref() == Some(kind))
            .unwrap_or(self.facility_kinds.len())
    }

    /// The style of a land class by its two-digit code, if the table lists it.
    pub fn land_class(&self, cls: &str) -> Option<&LandClassStyle> {
        self.land_classes.iter().find(|c| c.cls == cls)
    }

    /// The fill colour of a land class, or `land_fallback` for a class the table lacks.
    pub fn land_colour(&self, cls: &str) -> &str {
        self.land_class(cls)
            .map_or(self.land_fallback.as_str(), |c| c.color.as_str())
    }

    /// A zone's fill from its map colour index (indices past the table cycle, as on the map).
    pub fn zone_colour(&self, index: usize) -> &str {
        &self.zone_colors[index % self.zone_colors.len()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shared_table_parses_and_is_complete() {
        let s = symbology();
        assert!(s.facility_kinds.len() >= 5);
        assert_eq!(s.facility("卫生室").color, "#1f9e89");
        assert_eq!(s.facility("幼儿园").color, s.facility_other.color);
        assert!(!s.knows_facility("幼儿园"));
        assert_eq!(
            s.land_classes.len(),
            13,
            "湿地 and the twelve classes 01–12"
        );
        assert_eq!(s.land_colour("99"), s.land_fallback);
        assert_eq!(s.zone_colour(s.zone_colors.len()), s.zone_colors[0]);
        for c in s
            .facility_kinds
            .iter()
            .map(|k| &k.color)
            .chain(s.land_classes.iter().map(|c| &c.color))
            .chain(&s.zone_colors)
        {
            assert!(
                c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|d| d.is_ascii_hexdigit()),
                "{c}"
            );
        }
    }
}
