//! Attribute values as they travel from a source file to the workspace and back.

use std::fmt;

/// One attribute value. Sources (GeoJSON, DBF, CSV, GeoPackage) all map onto these five cases.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// No value (SQL NULL, JSON null, an empty DBF or CSV cell).
    Null,
    /// A boolean.
    Bool(bool),
    /// A 64-bit integer.
    Int(i64),
    /// A double-precision number.
    Real(f64),
    /// Text (UTF-8).
    Text(String),
}

impl Value {
    /// Whether the value is `Null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The value as text, as a user would type it (integers without a decimal point).
    pub fn as_text(&self) -> Option<String> {
        match self {
            Value::Null => None,
            Value::Bool(b) => Some(b.to_string()),
            Value::Int(i) => Some(i.to_string()),
            Value::Real(r) if r.fract() == 0.0 && r.abs() < 1e18 => Some(format!("{}", *r as i64)),
            Value::Real(r) => Some(r.to_string()),
            Value::Text(s) => Some(s.clone()),
        }
    }

    /// The value as a number: integers, reals, booleans (1/0) and text that parses as a number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Real(r) => Some(*r),
            Value::Text(s) => s.trim().parse().ok(),
            Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
            Value::Null => None,
        }
    }

    /// The value as an integer: integers, whole reals and text that parses as an integer.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Real(r) if r.fract() == 0.0 => Some(*r as i64),
            Value::Text(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// The text, if the value is `Text` (no conversion).
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.as_text() {
            Some(t) => f.write_str(&t),
            None => f.write_str("null"),
        }
    }
}
