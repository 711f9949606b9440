//! Geometry helpers: mutable coordinate traversal (for batch reprojection), envelopes, and
//! normalisation of a geometry to the shape a layer stores.

use geo::{
    BoundingRect, Coord, Geometry, LineString, MultiLineString, MultiPolygon, Polygon, Rect,
};
use rstar::{AABB, PointDistance, RTree, RTreeObject};

/// Calls `f` on every coordinate of `geom` in a fixed order (exterior ring before holes).
pub fn for_each_coord_mut(geom: &mut Geometry<f64>, f: &mut dyn FnMut(&mut Coord<f64>)) {
    fn line(ls: &mut LineString<f64>, f: &mut dyn FnMut(&mut Coord<f64>)) {
        ls.0.iter_mut().for_each(&mut *f);
    }
    fn polygon(p: &mut Polygon<f64>, f: &mut dyn FnMut(&mut Coord<f64>)) {
        p.exterior_mut(|ls| line(ls, f));
        p.interiors_mut(|rings| rings.iter_mut().for_each(|ls| line(ls, f)));
    }
    match geom {
        Geometry::Point(p) => f(&mut p.0),
        Geometry::MultiPoint(mp) => mp.0.iter_mut().for_each(|p| f(&mut p.0)),
        Geometry::LineString(ls) => line(ls, f),
        Geometry::MultiLineString(mls) => mls.0.iter_mut().for_each(|ls| line(ls, f)),
        Geometry::Polygon(p) => polygon(p, f),
        Geometry::MultiPolygon(mp) => mp.0.iter_mut().for_each(|p| polygon(p, f)),
        Geometry::GeometryCollection(gc) => gc.0.iter_mut().for_each(|g| for_each_coord_mut(g, f)),
        Geometry::Line(l) => {
            f(&mut l.start);
            f(&mut l.end);
        }
        Geometry::Rect(r) => {
            let (mut min, mut max) = (r.min(), r.max());
            f(&mut min);
            f(&mut max);
            *r = Rect::new(min, max);
        }
        Geometry::Triangle(t) => {
            let (mut a, mut b, mut c) = (t.v1(), t.v2(), t.v3());
            f(&mut a);
            f(&mut b);
            f(&mut c);
            *t = geo::Triangle::new(a, b, c);
        }
    }
}

/// All coordinates of `geom`, in the order [`for_each_coord_mut`] visits them.
pub fn coords_of(geom: &Geometry<f64>) -> Vec<Coord<f64>> {
    let mut copy = geom.clone();
    let mut out = Vec::new();
    for_each_coord_mut(&mut copy, &mut |c| out.push(*c));
    out
}

/// An R-tree entry: the slot of an item (its position in the caller's slice) and its envelope.
#[derive(Debug, Clone, Copy)]
pub struct SlotEnvelope {
    /// The item's position in the caller's slice.
    pub slot: usize,
    /// The item's bounding box (`[x, y]` corners).
    pub envelope: AABB<[f64; 2]>,
}

impl RTreeObject for SlotEnvelope {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        self.envelope
    }
}

impl PointDistance for SlotEnvelope {
    fn distance_2(&self, point: &[f64; 2]) -> f64 {
        self.envelope.distance_2(point)
    }
}

/// A rectangle as an R-tree envelope.
pub fn aabb(r: Rect<f64>) -> AABB<[f64; 2]> {
    AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y])
}

/// An R-tree (bulk-loaded) of the envelopes of `items`, by slot; items without coordinates are left out.
pub fn envelope_tree<'a, G: BoundingRect<f64, Output = Option<Rect<f64>>> + 'a>(
    items: impl IntoIterator<Item = &'a G>,
) -> RTree<SlotEnvelope> {
    let entries = items
        .into_iter()
        .enumerate()
        .filter_map(|(slot, g)| {
            g.bounding_rect().map(|r| SlotEnvelope {
                slot,
                envelope: aabb(r),
            })
        })
        .collect();
    RTree::bulk_load(entries)
}

/// A polygonal geometry as a MultiPolygon (the storage shape of polygon layers).
pub fn to_multipolygon(geom: Geometry<f64>) -> Option<MultiPolygon<f64>> {
    match geom {
        Geometry::Polygon(p) => Some(MultiPolygon(vec![p])),
        Geometry::MultiPolygon(mp) => Some(mp),
        Geometry::Rect(r) => Some(MultiPolygon(vec![r.to_polygon()])),
        Geometry::Triangle(t) => Some(MultiPolygon(vec![t.to_polygon()])),
        _ => None,
    }
}

/// A linear geometry as a MultiLineString (the storage shape of the roads layer).
pub fn to_multilinestring(geom: Geometry<f64>) -> Option<MultiLineString<f64>> {
    match geom {
        Geometry::LineString(ls) => Some(MultiLineString(vec![ls])),
        Geometry::MultiLineString(mls) => Some(mls),
        Geometry::Line(l) => Some(MultiLineString(vec![LineString(vec![l.start, l.end])])),
        _ => None,
    }
}

/// The OGC name of a geometry's type, for messages.
pub fn type_name(geom: &Geometry<f64>) -> &'static str {
    match geom {
        Geometry::Point(_) => "Point",
        Geometry::MultiPoint(_) => "MultiPoint",
        Geometry::LineString(_) | Geometry::Line(_) => "LineString",
        Geometry::MultiLineString(_) => "MultiLineString",
        Geometry::Polygon(_) | Geometry::Rect(_) | Geometry::Triangle(_) => "Polygon",
        Geometry::MultiPolygon(_) => "MultiPolygon",
        Geometry::GeometryCollection(_) => "GeometryCollection",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    #[test]
    fn traversal_visits_exterior_then_holes() {
        let p = polygon!(
            exterior: [(x: 0., y: 0.), (x: 10., y: 0.), (x: 10., y: 10.), (x: 0., y: 0.)],
            interiors: [[(x: 1., y: 1.), (x: 2., y: 1.), (x: 2., y: 2.), (x: 1., y: 1.)]],
        );
        let coords = coords_of(&Geometry::Polygon(p));
        assert_eq!(coords.len(), 8);
        assert_eq!(coords[4], Coord { x: 1., y: 1. });
    }
}
