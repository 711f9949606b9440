//! Domain types: the layers of a workspace, their canonical fields, attribute values, the
//! village every analysis reads and the 三调 land-use codes. No I/O and no serde here: readers, the store and the API convert to and
//! from these types.

pub mod landuse;
pub mod layer;
pub mod role;
pub mod value;
pub mod village;

pub use layer::{FieldSpec, FieldType, GeometryFamily, LayerKind};
pub use role::Role;
pub use value::Value;
pub use village::{Village, VillageColumns};

/// The first 12 digits of a 坐落单位代码 (ZLDWDM) or village code: the village's statistical code.
///
/// ZLDWDM is usually 19 digits (12-digit village code + 7 zeros for the group level); some data
/// carries the 12-digit code directly. Anything shorter than 12 digits or not all digits gives `None`.
pub fn village_code_of(zldwdm: &str) -> Option<&str> {
    let code = zldwdm.trim();
    let prefix = code.get(..12)?;
    prefix.bytes().all(|b| b.is_ascii_digit()).then_some(prefix)
}

#[cfg(test)]
mod tests {
    use super::village_code_of;

    #[test]
    fn zldwdm_prefix_is_the_village_code() {
        assert_eq!(village_code_of("3703231092220000000"), Some("370323109222"));
        assert_eq!(village_code_of("370323109222"), Some("370323109222"));
        assert_eq!(village_code_of(" 370323109222 "), Some("370323109222"));
        assert_eq!(village_code_of("37032310922"), None);
        assert_eq!(village_code_of("37032310922X0000000"), None);
    }
}
