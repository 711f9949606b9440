//! The name and WKT of an EPSG coordinate reference system, read from PROJ's database.
//!
//! liancun forbids `unsafe` code; the `proj` crate wraps transformations but not
//! `proj_as_wkt`, which a Shapefile's `.prj` and a GeoPackage's `gpkg_spatial_ref_sys` need.
//! This crate holds that one FFI call, kept small so it can be read in a minute.

use std::ffi::{CStr, CString};
use std::os::raw::c_char;

/// An EPSG CRS as files describe it.
#[derive(Debug, Clone, PartialEq)]
pub struct Definition {
    pub epsg: u32,
    /// PROJ's name, e.g. "CGCS2000 / 3-degree Gauss-Kruger zone 39".
    pub name: String,
    /// OGC WKT 1 (what GDAL writes into a GeoPackage).
    pub wkt: String,
    /// ESRI WKT 1 (what ArcGIS and GDAL read from a `.prj`).
    pub esri_wkt: String,
    /// A 2D geographic CRS (degrees) rather than a projected one (metres).
    pub geographic: bool,
}

/// Why a code has no definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupError {
    /// PROJ's database has no object with this code.
    Unknown,
    /// The code names something that is not a 2D geographic or projected CRS (a unit, a datum…).
    NotACrs,
}

/// Looks `EPSG:code` up in PROJ's database.
pub fn epsg(code: u32) -> Result<Definition, LookupError> {
    let name = CString::new(format!("EPSG:{code}")).map_err(|_| LookupError::Unknown)?;
    // SAFETY: a context of our own; every PROJ object created here is destroyed before the
    // context, and each string PROJ returns is copied before its object is destroyed.
    unsafe {
        let ctx = proj_sys::proj_context_create();
        // Lookups of unknown codes are expected; keep PROJ from printing them.
        proj_sys::proj_log_level(ctx, proj_sys::PJ_LOG_LEVEL_PJ_LOG_NONE);
        let pj = proj_sys::proj_create(ctx, name.as_ptr());
        if pj.is_null() {
            proj_sys::proj_context_destroy(ctx);
            return Err(LookupError::Unknown);
        }
        let copy = |p: *const c_char| {
            (!p.is_null()).then(|| CStr::from_ptr(p).to_string_lossy().into_owned())
        };
        let kind = proj_sys::proj_get_type(pj);
        let geographic = kind == proj_sys::PJ_TYPE_PJ_TYPE_GEOGRAPHIC_2D_CRS;
        let is_crs = geographic || kind == proj_sys::PJ_TYPE_PJ_TYPE_PROJECTED_CRS;
        let result = if is_crs {
            let name = copy(proj_sys::proj_get_name(pj));
            let wkt = copy(proj_sys::proj_as_wkt(
                ctx,
                pj,
                proj_sys::PJ_WKT_TYPE_PJ_WKT1_GDAL,
                std::ptr::null(),
            ));
            let esri_wkt = copy(proj_sys::proj_as_wkt(
                ctx,
                pj,
                proj_sys::PJ_WKT_TYPE_PJ_WKT1_ESRI,
                std::ptr::null(),
            ));
            match (name, wkt, esri_wkt) {
                (Some(name), Some(wkt), Some(esri_wkt)) => Ok(Definition {
                    epsg: code,
                    name,
                    wkt,
                    esri_wkt,
                    geographic,
                }),
                _ => Err(LookupError::NotACrs),
            }
        } else {
            Err(LookupError::NotACrs)
        };
        proj_sys::proj_destroy(pj);
        proj_sys::proj_context_destroy(ctx);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauss_kruger_and_geographic_codes_have_definitions() {
        let gk = epsg(4527).unwrap();
        assert!(
            gk.name.contains("CGCS2000") && gk.name.contains("zone 39"),
            "{}",
            gk.name
        );
        assert!(gk.esri_wkt.starts_with("PROJCS[") && gk.wkt.contains("4527"));
        assert!(!gk.geographic);
        assert!(epsg(4490).unwrap().geographic);
        assert_eq!(
            epsg(4480),
            Err(LookupError::NotACrs),
            "CGCS2000 3D: not a 2D CRS"
        );
        assert_eq!(epsg(999_999), Err(LookupError::Unknown));
    }
}
