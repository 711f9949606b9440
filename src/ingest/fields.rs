//! Mapping of source fields to canonical fields, and conversion of values to canonical types.
//!
//! Priority when several source fields could fill one canonical field: a `--map SRC=DST` rule,
//! then a source field named exactly like the canonical field, then the aliases in the order
//! [`crate::domain::layer`] lists them. A source field that loses keeps its value under its own
//! name, like every field we do not recognise: nothing is dropped.

use std::collections::HashMap;

use crate::domain::{FieldSpec, FieldType, LayerKind, Value};

#[derive(Debug, Clone)]
enum Target {
    /// Canonical field index and rank (lower wins).
    Canonical(usize, usize),
    /// Kept under this column name.
    Extra(String),
}

/// Maps the properties of one feature onto canonical fields plus kept extras.
pub struct FieldMapper {
    layer: LayerKind,
    rules: Vec<(String, String)>,
    cache: HashMap<String, Target>,
}

/// One feature's attributes after mapping: canonical values by field index, then extras.
#[derive(Debug, Clone, Default)]
pub struct MappedAttributes {
    /// Per canonical field of the layer (by index): the source field name and value that fill it,
    /// if any.
    pub canonical: Vec<Option<(String, Value)>>,
    /// Every other attribute, under its own (GeoPackage-safe) column name.
    pub extras: Vec<(String, Value)>,
}

/// Column names that would collide with the GeoPackage table's own columns.
fn safe_extra_name(name: &str) -> String {
    let trimmed = name.trim();
    if trimmed.eq_ignore_ascii_case("fid")
        || trimmed.eq_ignore_ascii_case("geom")
        || trimmed.is_empty()
    {
        format!("src_{trimmed}")
    } else {
        trimmed.to_string()
    }
}

impl FieldMapper {
    /// `rules` are the user's `SRC=DST` pairs; DST may be a canonical field or any new name.
    pub fn new(layer: LayerKind, rules: &[(String, String)]) -> FieldMapper {
        FieldMapper {
            layer,
            rules: rules.to_vec(),
            cache: HashMap::new(),
        }
    }

    fn target(&mut self, source: &str) -> Target {
        if let Some(t) = self.cache.get(source) {
            return t.clone();
        }
        let fields = self.layer.canonical_fields();
        let by_name = |n: &str| fields.iter().position(|f| f.name == n);
        let target = if let Some((_, dst)) = self
            .rules
            .iter()
            .find(|(src, _)| src.trim() == source.trim())
        {
            match by_name(dst.trim()) {
                Some(i) => Target::Canonical(i, 0),
                None => Target::Extra(safe_extra_name(dst)),
            }
        } else if let Some(spec) = self.layer.recognise(source) {
            let i = by_name(spec.name).unwrap_or(0);
            let rank = if spec.name.eq_ignore_ascii_case(source.trim()) {
                1
            } else {
                2 + spec
                    .aliases
                    .iter()
                    .position(|a| a.eq_ignore_ascii_case(source.trim()))
                    .unwrap_or(0)
            };
            Target::Canonical(i, rank)
        } else {
            Target::Extra(safe_extra_name(source))
        };
        self.cache.insert(source.to_string(), target.clone());
        target
    }

    /// Maps one feature's properties.
    pub fn map(&mut self, properties: Vec<(String, Value)>) -> MappedAttributes {
        let n = self.layer.canonical_fields().len();
        let mut canonical: Vec<Option<(String, Value, usize)>> = vec![None; n];
        let mut extras = Vec::new();
        for (name, value) in properties {
            match self.target(&name) {
                Target::Canonical(i, rank) => match &canonical[i] {
                    Some((_, _, held)) if *held <= rank => {
                        extras.push((safe_extra_name(&name), value))
                    }
                    _ => {
                        if let Some((old, old_value, _)) = canonical[i].take() {
                            extras.push((safe_extra_name(&old), old_value));
                        }
                        canonical[i] = Some((name, value, rank));
                    }
                },
                Target::Extra(column) => extras.push((column, value)),
            }
        }
        MappedAttributes {
            canonical: canonical
                .into_iter()
                .map(|c| c.map(|(name, v, _)| (name, v)))
                .collect(),
            extras,
        }
    }
}

/// Converts a value to a canonical field's type. `Err` says why in words.
pub fn coerce(spec: &FieldSpec, value: Value) -> Result<Value, String> {
    let number_text = |s: &str| s.trim().replace([',', '，', ' '], "");
    match (spec.ty, value) {
        (_, Value::Null) => Ok(Value::Null),
        (_, Value::Text(s)) if s.trim().is_empty() => Ok(Value::Null),
        // Text that needs no trimming is moved, not copied (the common case, per feature).
        (FieldType::Text, Value::Text(s)) if s.trim().len() == s.len() => Ok(Value::Text(s)),
        (FieldType::Text, v) => Ok(Value::Text(
            v.as_text().unwrap_or_default().trim().to_string(),
        )),
        (FieldType::Integer, Value::Int(i)) => Ok(Value::Int(i)),
        (FieldType::Integer, Value::Real(r)) if r.fract() == 0.0 && r.abs() < 9e15 => {
            Ok(Value::Int(r as i64))
        }
        (FieldType::Integer, Value::Text(s)) => {
            let t = number_text(&s);
            t.parse::<i64>()
                .ok()
                .or_else(|| {
                    t.parse::<f64>()
                        .ok()
                        .filter(|f| f.fract() == 0.0 && f.abs() < 9e15)
                        .map(|f| f as i64)
                })
                .map(Value::Int)
                .ok_or_else(|| format!("'{s}' is not a whole number"))
        }
        (FieldType::Integer, v) => Err(format!("'{v}' is not a whole number")),
        (FieldType::Real, Value::Int(i)) => Ok(Value::Real(i as f64)),
        (FieldType::Real, Value::Real(r)) if r.is_finite() => Ok(Value::Real(r)),
        (FieldType::Real, Value::Text(s)) => number_text(&s)
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(Value::Real)
            .ok_or_else(|| format!("'{s}' is not a number")),
        (FieldType::Real, v) => Err(format!("'{v}' is not a number")),
        (FieldType::Boolean, Value::Bool(b)) => Ok(Value::Bool(b)),
        (FieldType::Boolean, Value::Int(i)) if i == 0 || i == 1 => Ok(Value::Bool(i == 1)),
        (FieldType::Boolean, Value::Text(s)) => match s.trim().to_lowercase().as_str() {
            "是" | "强" | "强村" | "true" | "t" | "yes" | "y" | "1" => Ok(Value::Bool(true)),
            "否" | "弱" | "弱村" | "false" | "f" | "no" | "n" | "0" => Ok(Value::Bool(false)),
            _ => Err(format!("'{s}' is not yes/no (是/否, true/false, 1/0)")),
        },
        (FieldType::Boolean, v) => Err(format!("'{v}' is not yes/no")),
    }
}

/// Normalises a village code: 12 digits, or a 19-digit ZLDWDM-style code ending in seven zeros.
pub fn normalise_village_code(code: &str) -> Result<String, String> {
    let c = code.trim();
    let digits = c.bytes().all(|b| b.is_ascii_digit());
    match c.len() {
        12 if digits => Ok(c.to_string()),
        19 if digits && c.ends_with("0000000") => Ok(c[..12].to_string()),
        _ => Err(format!(
            "村代码 '{c}' is not a 12-digit statistical code (统计用区划代码)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Value {
        Value::Text(s.into())
    }

    #[test]
    fn aliases_map_and_unknown_fields_are_kept() {
        let mut m = FieldMapper::new(
            LayerKind::Villages,
            &[("编号".into(), "code".into()), ("BZ".into(), "备注".into())],
        );
        let out = m.map(vec![
            ("编号".into(), t("370323109222")),
            ("村代码".into(), t("370323109999")),
            ("CUNMC".into(), t("朱家户村")),
            ("RK".into(), Value::Int(1200)),
            ("BZ".into(), t("山区")),
            ("海拔".into(), Value::Real(420.5)),
            ("fid".into(), Value::Int(3)),
        ]);
        let names: Vec<&str> = LayerKind::Villages
            .canonical_fields()
            .iter()
            .map(|f| f.name)
            .collect();
        let get = |n: &str| {
            out.canonical[names.iter().position(|x| *x == n).unwrap()]
                .clone()
                .map(|c| c.1)
        };
        assert_eq!(
            get("code"),
            Some(t("370323109222")),
            "the --map rule wins over the alias"
        );
        assert_eq!(get("name"), Some(t("朱家户村")));
        assert_eq!(get("population"), Some(Value::Int(1200)));
        assert!(
            out.extras.contains(&("村代码".into(), t("370323109999"))),
            "the losing source field is kept"
        );
        assert!(out.extras.contains(&("备注".into(), t("山区"))));
        assert!(out.extras.contains(&("海拔".into(), Value::Real(420.5))));
        assert!(out.extras.contains(&("src_fid".into(), Value::Int(3))));
    }

    #[test]
    fn values_are_converted_or_explained() {
        let spec = |name: &str| {
            *LayerKind::Villages
                .canonical_fields()
                .iter()
                .find(|f| f.name == name)
                .unwrap()
        };
        assert_eq!(
            coerce(&spec("population"), t("1,234")).unwrap(),
            Value::Int(1234)
        );
        assert_eq!(
            coerce(&spec("population"), Value::Real(88.0)).unwrap(),
            Value::Int(88)
        );
        assert!(
            coerce(&spec("population"), t("很多"))
                .unwrap_err()
                .contains("whole number")
        );
        assert_eq!(
            coerce(&spec("collective_income"), t(" 12.5 ")).unwrap(),
            Value::Real(12.5)
        );
        assert_eq!(coerce(&spec("strong"), t("是")).unwrap(), Value::Bool(true));
        assert_eq!(
            coerce(&spec("strong"), Value::Int(0)).unwrap(),
            Value::Bool(false)
        );
        assert_eq!(
            coerce(&spec("code"), Value::Int(370323109222)).unwrap(),
            t("370323109222")
        );
        assert_eq!(
            coerce(&spec("code"), Value::Real(370323109222.0)).unwrap(),
            t("370323109222")
        );
        assert_eq!(coerce(&spec("name"), t("  ")).unwrap(), Value::Null);
        assert_eq!(
            normalise_village_code("3703231092220000000").unwrap(),
            "370323109222"
        );
        assert!(normalise_village_code("3703231092").is_err());
    }
}
