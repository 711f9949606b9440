//! Lean parsing of one GeoJSON feature straight into liancun's types.
//!
//! Compared with building a `geojson::Feature` and converting it, this skips the intermediate
//! property map (`serde_json::Value`s in a BTreeMap), the per-position small vectors and the
//! second conversion pass: properties become `(name, Value)` pairs in file order, coordinates
//! become `geo` coordinates directly. Ring closure is checked here (unclosed rings are closed and
//! reported as a repair), as is the minimum number of positions.

use std::borrow::Cow;
use std::fmt;

use geo::{Coord, Geometry, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::domain::Value;

/// A feature as parsed: id, geometry (or why it is unreadable), repairs made, properties.
pub struct ParsedFeature {
    /// The feature's `id` (string or number), as text.
    pub id: Option<String>,
    /// The geometry (`None` for a null geometry); `Err` says why it could not be read.
    pub geometry: Result<Option<Geometry<f64>>, String>,
    /// Repairs made while parsing (e.g. an unclosed ring closed).
    pub repaired: Vec<String>,
    /// The properties in file order (nested objects and arrays as JSON text).
    pub properties: Vec<(String, Value)>,
}

#[derive(Deserialize)]
struct LeanFeature<'a> {
    #[serde(default)]
    id: Option<LeanId>,
    #[serde(default)]
    properties: Option<Properties>,
    #[serde(default, borrow)]
    geometry: Option<LeanGeometry<'a>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum LeanId {
    Text(String),
    Number(serde_json::Number),
}

#[derive(Deserialize)]
struct LeanGeometry<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default, borrow)]
    coordinates: Option<&'a RawValue>,
}

/// Properties in file order.
struct Properties(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Properties {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Properties;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a properties object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Properties, A::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(8));
                while let Some(key) = map.next_key::<String>()? {
                    let PropertyValue(v) = map.next_value()?;
                    out.push((key, v));
                }
                Ok(Properties(out))
            }
            fn visit_unit<E>(self) -> Result<Properties, E> {
                Ok(Properties(Vec::new()))
            }
        }
        d.deserialize_any(V)
    }
}

/// One property value; arrays and objects are kept as their JSON text.
struct PropertyValue(Value);

impl<'de> Deserialize<'de> for PropertyValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = PropertyValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E>(self) -> Result<PropertyValue, E> {
                Ok(PropertyValue(Value::Null))
            }
            fn visit_none<E>(self) -> Result<PropertyValue, E> {
                Ok(PropertyValue(Value::Null))
            }
            fn visit_bool<E>(self, b: bool) -> Result<PropertyValue, E> {
                Ok(PropertyValue(Value::Bool(b)))
            }
            fn visit_i64<E>(self, n: i64) -> Result<PropertyValue, E> {
                Ok(PropertyValue(Value::Int(n)))
            }
            fn visit_u64<E>(self, n: u64) -> Result<PropertyValue, E> {
                Ok(PropertyValue(
                    i64::try_from(n)
                        .map(Value::Int)
                        .unwrap_or(Value::Real(n as f64)),
                ))
            }
            fn visit_f64<E>(self, x: f64) -> Result<PropertyValue, E> {
                Ok(PropertyValue(Value::Real(x)))
            }
            fn visit_str<E>(self, s: &str) -> Result<PropertyValue, E> {
                Ok(PropertyValue(Value::Text(s.to_string())))
            }
            fn visit_string<E>(self, s: String) -> Result<PropertyValue, E> {
                Ok(PropertyValue(Value::Text(s)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<PropertyValue, A::Error> {
                let v = serde_json::Value::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
                Ok(PropertyValue(Value::Text(v.to_string())))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<PropertyValue, A::Error> {
                let v = serde_json::Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(PropertyValue(Value::Text(v.to_string())))
            }
        }
        d.deserialize_any(V)
    }
}

/// A position: the first two numbers (a third, the height, is ignored).
struct Position(Coord<f64>);

impl<'de> Deserialize<'de> for Position {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Position;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a position [x, y]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Position, A::Error> {
                let x: f64 = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::custom("a position has fewer than 2 numbers"))?;
                let y: f64 = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::custom("a position has fewer than 2 numbers"))?;
                while seq.next_element::<de::IgnoredAny>()?.is_some() {}
                Ok(Position(Coord { x, y }))
            }
        }
        d.deserialize_seq(V)
    }
}

fn coords(ps: Vec<Position>) -> Vec<Coord<f64>> {
    ps.into_iter().map(|p| p.0).collect()
}

fn line(ps: Vec<Position>) -> Result<LineString<f64>, String> {
    if ps.len() < 2 {
        return Err(format!(
            "a line has {} position(s); at least 2 are needed",
            ps.len()
        ));
    }
    Ok(LineString(coords(ps)))
}

/// `which` names the ring in messages; it is only built when there is something to say.
fn ring(
    ps: Vec<Position>,
    which: &dyn Fn() -> String,
    repaired: &mut Vec<String>,
) -> Result<LineString<f64>, String> {
    let mut c = coords(ps);
    if c.is_empty() {
        return Err(format!("{} is empty", which()));
    }
    if c.first() != c.last() {
        repaired.push(format!(
            "{} 未闭合 is not closed (first position ≠ last); closed it",
            which()
        ));
        c.push(c[0]);
    }
    if c.len() < 4 {
        return Err(format!(
            "{} has {} positions; a closed ring needs at least 4",
            which(),
            c.len()
        ));
    }
    Ok(LineString(c))
}

fn polygon(
    rings: Vec<Vec<Position>>,
    label: &dyn Fn() -> String,
    repaired: &mut Vec<String>,
) -> Result<Polygon<f64>, String> {
    let mut iter = rings.into_iter().enumerate();
    let (_, outer) = iter
        .next()
        .ok_or_else(|| format!("{} has no rings", label()))?;
    let exterior = ring(outer, &|| format!("{} exterior ring", label()), repaired)?;
    let interiors = iter
        .map(|(i, r)| ring(r, &|| format!("{} hole {i}", label()), repaired))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Polygon::new(exterior, interiors))
}

fn geometry(kind: &str, raw: &str, repaired: &mut Vec<String>) -> Result<Geometry<f64>, String> {
    fn parse<'a, T: Deserialize<'a>>(raw: &'a str) -> Result<T, String> {
        serde_json::from_str(raw).map_err(|e| format!("bad coordinates: {e}"))
    }
    Ok(match kind {
        "Point" => Geometry::Point(Point(parse::<Position>(raw)?.0)),
        "MultiPoint" => Geometry::MultiPoint(MultiPoint(
            coords(parse(raw)?).into_iter().map(Point).collect(),
        )),
        "LineString" => Geometry::LineString(line(parse(raw)?)?),
        "MultiLineString" => Geometry::MultiLineString(MultiLineString(
            parse::<Vec<Vec<Position>>>(raw)?
                .into_iter()
                .map(line)
                .collect::<Result<_, _>>()?,
        )),
        "Polygon" => Geometry::Polygon(polygon(parse(raw)?, &|| "polygon".to_string(), repaired)?),
        "MultiPolygon" => Geometry::MultiPolygon(MultiPolygon(
            parse::<Vec<Vec<Vec<Position>>>>(raw)?
                .into_iter()
                .enumerate()
                .map(|(i, p)| polygon(p, &|| format!("part {i}"), repaired))
                .collect::<Result<_, _>>()?,
        )),
        "GeometryCollection" => {
            return Err("GeometryCollection is not supported; split it into features".into());
        }
        other => return Err(format!("unknown geometry type '{other}'")),
    })
}

/// Parses one feature's JSON. `Err` is for text that is not a feature object at all; a geometry
/// that cannot be read is reported in [`ParsedFeature::geometry`] instead.
pub fn parse_feature(bytes: &[u8]) -> Result<ParsedFeature, serde_json::Error> {
    let lean: LeanFeature = serde_json::from_slice(bytes)?;
    let id = lean.id.map(|id| match id {
        LeanId::Text(s) => s,
        LeanId::Number(n) => n.to_string(),
    });
    let mut repaired = Vec::new();
    let geometry = match lean.geometry {
        None => Ok(None),
        Some(g) => match g.coordinates {
            None => Err(format!("{} geometry without coordinates", g.kind)),
            Some(raw) => geometry(&g.kind, raw.get(), &mut repaired).map(Some),
        },
    };
    Ok(ParsedFeature {
        id,
        geometry,
        repaired,
        properties: lean.properties.map(|p| p.0).unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_parse_in_file_order_with_types() {
        let f = parse_feature(
            br#"{"type":"Feature","id":7,"properties":{"z":1,"code":"370323109222","x":2.5,"ok":true,"n":null,"tags":["a",1],"big":18446744073709551615},
               "geometry":{"type":"Polygon","coordinates":[[[118,36,420],[118.01,36],[118.01,36.01]]]}}"#,
        )
        .unwrap();
        assert_eq!(f.id.as_deref(), Some("7"));
        let names: Vec<&str> = f.properties.iter().map(|p| p.0.as_str()).collect();
        assert_eq!(names, ["z", "code", "x", "ok", "n", "tags", "big"]);
        assert_eq!(f.properties[0].1, Value::Int(1));
        assert_eq!(f.properties[3].1, Value::Bool(true));
        assert_eq!(f.properties[4].1, Value::Null);
        assert_eq!(f.properties[5].1, Value::Text(r#"["a",1]"#.into()));
        assert_eq!(f.properties[6].1, Value::Real(18446744073709551615.0));
        let Ok(Some(Geometry::Polygon(p))) = f.geometry else {
            panic!()
        };
        assert_eq!(p.exterior().0.len(), 4, "closed");
        assert_eq!(f.repaired.len(), 1);
    }

    #[test]
    fn nineteen_digit_codes_written_as_numbers_stay_exact() {
        let f = parse_feature(
            br#"{"type":"Feature","properties":{"zldwdm":3703231090030000000},"geometry":null}"#,
        )
        .unwrap();
        assert_eq!(f.properties[0].1, Value::Int(3_703_231_090_030_000_000));
        assert_eq!(
            f.properties[0].1.as_text().as_deref(),
            Some("3703231090030000000")
        );
    }

    #[test]
    fn unreadable_geometries_are_reported_not_fatal() {
        let f = parse_feature(br#"{"type":"Feature","properties":null,"geometry":{"type":"LineString","coordinates":[[1,2]]}}"#).unwrap();
        assert!(f.geometry.unwrap_err().contains("at least 2"));
        let f = parse_feature(br#"{"type":"Feature","properties":{},"geometry":{"type":"Circle","coordinates":[1,2]}}"#).unwrap();
        assert!(f.geometry.unwrap_err().contains("unknown geometry type"));
        let f = parse_feature(br#"{"type":"Feature","properties":{},"geometry":null}"#).unwrap();
        assert!(matches!(f.geometry, Ok(None)));
        assert!(parse_feature(br#"{"type":"Feature","properties":{"a":}}"#).is_err());
    }
}
