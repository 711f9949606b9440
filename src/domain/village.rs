//! A village as every analysis reads it — zoning, facility location and the per-village
//! statistics: the canonical fields of one row of the villages layer, read one way, with its
//! boundary in EPSG:4490 and in the workspace's metric CRS. `Workspace::villages` loads them.

use geo::MultiPolygon;

use super::Value;

/// Where the canonical fields sit in a villages layer's rows (`None`: the layer lacks it).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VillageColumns {
    /// `code`: the 12-digit village code.
    pub code: Option<usize>,
    /// `name`.
    pub name: Option<usize>,
    /// `town_code`: the 9-digit township code.
    pub town_code: Option<usize>,
    /// `town`: the township's name.
    pub town: Option<usize>,
    /// `population`.
    pub population: Option<usize>,
    /// `collective_income` (万元).
    pub collective_income: Option<usize>,
    /// `party_members`.
    pub party_members: Option<usize>,
    /// `industry`: the main industry.
    pub industry: Option<usize>,
    /// `strong`: the data's strong-village flag.
    pub strong: Option<usize>,
}

impl VillageColumns {
    /// The columns found by `index` (a column name → its position in a row).
    pub fn new(index: impl Fn(&str) -> Option<usize>) -> VillageColumns {
        VillageColumns {
            code: index("code"),
            name: index("name"),
            town_code: index("town_code"),
            town: index("town"),
            population: index("population"),
            collective_income: index("collective_income"),
            party_members: index("party_members"),
            industry: index("industry"),
            strong: index("strong"),
        }
    }
}

/// One village.
#[derive(Debug, Clone, PartialEq)]
pub struct Village {
    /// The row's id in the store.
    pub fid: i64,
    /// The 12-digit statistical code.
    pub code: String,
    /// The village's name.
    pub name: String,
    /// The `town_code` field, else the village code's first 9 digits (the township level of
    /// GB/T 10114 codes).
    pub town_code: String,
    /// The township's name ("" when the layer has none).
    pub town: String,
    /// Registered population.
    pub population: Option<f64>,
    /// 村集体经营性收入 (万元).
    pub collective_income: Option<f64>,
    /// Party members (党员数).
    pub party_members: Option<f64>,
    /// The main industry as the data words it.
    pub industry: String,
    /// The data's own strong-village flag, when it has one.
    pub strong_flag: Option<bool>,
    /// The boundary in EPSG:4490 and in the workspace's metric CRS.
    pub lonlat: MultiPolygon<f64>,
    /// The boundary in the metric CRS (metres).
    pub metric: MultiPolygon<f64>,
    /// The whole row (for attributes chosen by name, e.g. zoning's heterogeneity columns).
    pub values: Vec<Value>,
}

impl Village {
    /// Reads a row's canonical fields.
    pub fn from_row(
        columns: &VillageColumns,
        fid: i64,
        values: Vec<Value>,
        lonlat: MultiPolygon<f64>,
        metric: MultiPolygon<f64>,
    ) -> Village {
        let text = |c: Option<usize>| c.and_then(|c| values[c].as_text()).unwrap_or_default();
        let num = |c: Option<usize>| c.and_then(|c| values[c].as_f64());
        let code = text(columns.code);
        let town_code = match text(columns.town_code) {
            t if t.is_empty() => code.get(..9).unwrap_or("").to_string(),
            t => t,
        };
        Village {
            fid,
            name: text(columns.name),
            town_code,
            town: text(columns.town),
            population: num(columns.population),
            collective_income: num(columns.collective_income),
            party_members: num(columns.party_members),
            industry: text(columns.industry),
            strong_flag: columns.strong.and_then(|c| match &values[c] {
                Value::Bool(b) => Some(*b),
                Value::Int(i) => Some(*i != 0),
                _ => None,
            }),
            code,
            lonlat,
            metric,
            values,
        }
    }

    /// The population as a whole number, when it is one.
    pub fn whole_population(&self) -> Option<i64> {
        self.population
            .filter(|p| p.fract() == 0.0 && p.is_finite())
            .map(|p| p as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns() -> VillageColumns {
        let names = ["code", "name", "town_code", "population", "strong"];
        VillageColumns::new(|n| names.iter().position(|c| *c == n))
    }

    #[test]
    fn a_row_reads_its_canonical_fields_and_the_township_falls_back_to_the_code() {
        let row = |town: &str, strong: Value| {
            vec![
                Value::Text("370323102201".into()),
                Value::Text("朱家户村".into()),
                Value::Text(town.into()),
                Value::Int(1200),
                strong,
            ]
        };
        let empty = MultiPolygon(vec![]);
        let v = Village::from_row(
            &columns(),
            7,
            row("", Value::Int(1)),
            empty.clone(),
            empty.clone(),
        );
        assert_eq!(v.code, "370323102201");
        assert_eq!(
            v.town_code, "370323102",
            "first 9 digits without a town_code"
        );
        assert_eq!(v.population, Some(1200.0));
        assert_eq!(v.whole_population(), Some(1200));
        assert_eq!(v.strong_flag, Some(true));
        assert_eq!(v.collective_income, None, "no such column");
        assert_eq!(v.town, "");
        let v = Village::from_row(
            &columns(),
            8,
            row("370323999", Value::Null),
            empty.clone(),
            empty,
        );
        assert_eq!(v.town_code, "370323999");
        assert_eq!(v.strong_flag, None);
    }
}
