//! Wire shapes of reports (JSON) — kept apart from the engine's domain types.

use serde_json::{Value as Json, json};

use crate::engine::stats::VillageStatsReport;

/// A text cell that a spreadsheet will not run as a formula: text starting with `=`, `+`, `-`,
/// `@`, a tab or a carriage return gets a leading `'` (OWASP "CSV injection"); numbers such as
/// `-12.5` stay as they are.
pub fn csv_text(s: &str) -> std::borrow::Cow<'_, str> {
    let risky = s.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && s.trim().parse::<f64>().is_err() {
        std::borrow::Cow::Owned(format!("'{s}"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// [`csv_text`] quoted as RFC 4180 asks when it holds a comma, quote or line break (for CSV
/// written without a CSV writer).
pub fn csv_field(s: &str) -> String {
    let s = csv_text(s);
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.into_owned()
    }
}

/// A number as JSON writes it (`1234.0`, `0.5`, `null` for NaN), so CSV cells and JSON fields
/// print the same value the same way.
pub fn json_number(x: f64) -> String {
    Json::from(x).to_string()
}

/// [`json_number`] for an optional value: an empty cell when absent.
pub fn json_number_or_empty(x: Option<f64>) -> String {
    x.map_or(String::new(), json_number)
}

/// The UTC civil date and time of `secs` seconds since the Unix epoch: (year, month, day, hour,
/// minute, second), by Howard Hinnant's days-to-civil algorithm.
pub fn utc_civil(secs: u64) -> (i64, i64, i64, u64, u64, u64) {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d, rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Per-village statistics as JSON. Each village row carries `code`, `name`, `parcel_area_m2`,
/// `land_use_m2` (land-use code → m²), `greenhouse_count`, `greenhouse_area_m2` and `facilities`
/// (kind → count), which other tools rely on; areas are in m² in the metric CRS given.
pub fn stats_json(
    report: &VillageStatsReport,
    metric_epsg: u32,
    reconciliation_error: f64,
) -> Json {
    let villages: Vec<Json> = report
        .villages
        .iter()
        .map(|v| {
            json!({
                "code": v.code,
                "name": v.name,
                "town": v.town,
                "population": v.population,
                "area_m2": v.area_m2,
                "parcel_area_m2": v.parcel_area_m2,
                "land_use_m2": v.land_use_m2,
                "cultivated_m2": v.cultivated_m2,
                "construction_m2": v.construction_m2,
                "greenhouse_count": v.greenhouse_count,
                "greenhouse_area_m2": v.greenhouse_area_m2,
                "facilities": v.facilities,
                "population_density_per_km2": v.population_density_per_km2,
            })
        })
        .collect();
    let t = &report.totals;
    json!({
        "metric_crs": format!("EPSG:{metric_epsg}"),
        "area_method": "planar area in the CGCS2000 3-degree Gauss-Kruger zone of the workspace",
        "villages": villages,
        "totals": {
            "villages": report.villages.len(),
            "village_area_m2": t.village_area_m2,
            "population": t.population,
            "parcel_count": t.parcel_count,
            "parcel_area_m2": t.parcel_area_m2,
            "unassigned_parcel_area_m2": t.unassigned_parcel_area_m2,
            "parcels_by_code": t.parcels_by_code,
            "parcels_by_geometry": t.parcels_by_geometry,
            "parcels_with_unknown_code": t.parcels_with_unknown_code,
            "land_use_m2": t.land_use_m2,
            "greenhouse_count": t.greenhouse_count,
            "greenhouse_area_m2": t.greenhouse_area_m2,
            "unassigned_greenhouses": t.unassigned_greenhouses,
            "facility_count": t.facility_count,
            "unassigned_facilities": t.unassigned_facilities,
            "parcel_reconciliation_error": reconciliation_error,
        }
    })
}

#[cfg(test)]
mod csv_tests {
    use super::{csv_field, csv_text};

    #[test]
    fn formulas_are_neutralised_and_numbers_kept() {
        assert_eq!(
            csv_text("=HYPERLINK(\"http://x\")"),
            "'=HYPERLINK(\"http://x\")"
        );
        assert_eq!(csv_text("+1+2"), "'+1+2");
        assert_eq!(csv_text("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_text("-12.5"), "-12.5");
        assert_eq!(csv_text("西坡村"), "西坡村");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("=1,2"), "\"'=1,2\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
