//! The one-zone-one-plan sheet (一片一规划图) and the county overview, drawn as SVG in
//! millimetres on A3 or A4 landscape.
//!
//! Layout: title and subtitle across the top; the map on the left (land use from the 三调
//! parcels in the first-level class palette, neighbouring zones greyed, member villages outlined
//! and named, the zone boundary, greenhouses, facilities with their service circles, the key
//! village starred), with a scale bar (a round length, the ratio beside it) and a north arrow
//! (Gauss–Krüger grid north); on the right the legend, the statistics table and the member list;
//! plan, version, date, data sources and the CRS along the bottom.
//!
//! Input is in metric coordinates (the workspace's CGCS2000 Gauss–Krüger zone): the map is a
//! plain scale transform, so distances on paper are true to the stated scale. Pure: the caller
//! gathers the data ([`crate::plan::sheet`]).

use std::fmt::Write;

use geo::{Coord, MultiPolygon, Rect};

/// Paper sizes (landscape).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paper {
    A3,
    A4,
}

impl Paper {
    pub fn parse(text: &str) -> Option<Paper> {
        match text.trim().to_ascii_lowercase().as_str() {
            "a3" => Some(Paper::A3),
            "a4" => Some(Paper::A4),
            _ => None,
        }
    }

    /// Width and height in mm, landscape.
    pub fn size_mm(self) -> (f64, f64) {
        match self {
            Paper::A3 => (420.0, 297.0),
            Paper::A4 => (297.0, 210.0),
        }
    }
}

/// A village drawn on the sheet.
#[derive(Debug, Clone)]
pub struct SheetVillage {
    pub name: String,
    pub polygon: MultiPolygon<f64>,
    pub anchor: Coord<f64>,
    /// Colour index (members: position; overview: the zone's map colour).
    pub colour: usize,
    pub is_key: bool,
}

/// A facility with its service radius (metres), if known.
#[derive(Debug, Clone)]
pub struct SheetFacility {
    pub kind: String,
    pub point: Coord<f64>,
    pub radius_m: Option<f64>,
}

/// An outlined, labelled area (a zone).
#[derive(Debug, Clone)]
pub struct SheetZone {
    pub label: String,
    pub polygon: MultiPolygon<f64>,
    pub colour: usize,
    pub key: Option<(Coord<f64>, String)>,
}

/// Everything a sheet shows.
#[derive(Debug, Clone)]
pub struct SheetInput {
    pub paper: Paper,
    pub title: String,
    pub subtitle: String,
    /// The map extent (metres); padded and fitted to the frame.
    pub extent: Rect<f64>,
    /// Land use: polygon and 三调 code.
    pub parcels: Vec<(MultiPolygon<f64>, String)>,
    /// Areas greyed out (neighbouring zones, villages outside).
    pub context: Vec<MultiPolygon<f64>>,
    /// Villages outlined, filled with their colour when `fill_villages`.
    pub villages: Vec<SheetVillage>,
    pub fill_villages: bool,
    /// Boundaries drawn bold (the zone; in the overview every zone, labelled).
    pub zones: Vec<SheetZone>,
    pub label_zones: bool,
    pub greenhouses: Vec<MultiPolygon<f64>>,
    pub facilities: Vec<SheetFacility>,
    /// Statistics table rows (label, value); a row with an empty value is a heading.
    pub table: Vec<(String, String)>,
    /// The heading and entries of the list under the table (member villages, or zones).
    pub list_title: String,
    pub list: Vec<String>,
    /// Footer lines (plan and version, date, sources, CRS).
    pub footer: Vec<String>,
    pub font_family: String,
}

/// 三调 first-level classes: code, name, colour (the palette of the web map, `web/src/palette.js`).
pub const LAND_CLASSES: &[(&str, &str, &str)] = &[
    ("00", "湿地", "#7ccbb9"),
    ("01", "耕地", "#fbf3a0"),
    ("02", "园地", "#f3c56b"),
    ("03", "林地", "#5daa5f"),
    ("04", "草地", "#b9dd84"),
    ("05", "商业服务业用地", "#f08a8a"),
    ("06", "工矿用地", "#c49a80"),
    ("07", "住宅用地", "#e4685c"),
    ("08", "公共管理与公共服务用地", "#ef9fcf"),
    ("09", "特殊用地", "#a98fbd"),
    ("10", "交通运输用地", "#b8b8b8"),
    ("11", "水域及水利设施用地", "#8fcbef"),
    ("12", "其他土地", "#dcd3bf"),
];

/// The first-level class of a 三调 code (wetland codes are class 00, as in 三调 工作分类).
pub fn land_class(code: &str) -> &'static str {
    if crate::domain::landuse::is_wetland(code) {
        return "00";
    }
    let prefix = code.trim().get(..2).unwrap_or("");
    LAND_CLASSES
        .iter()
        .find(|(c, _, _)| *c == prefix)
        .map_or("", |(c, _, _)| c)
}

fn land_colour(class: &str) -> &'static str {
    LAND_CLASSES
        .iter()
        .find(|(c, _, _)| *c == class)
        .map_or("#e6e6e6", |(_, _, col)| col)
}

/// Distinct colours for member villages / zones.
const COLOURS: &[&str] = &[
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2",
    "#bcbd22", "#7f7f7f",
];
/// Light fills for the overview's zones (neighbouring zones differ).
const FILLS: &[&str] = &[
    "#8dd3c7", "#ffffb3", "#bebada", "#fb8072", "#80b1d3", "#fdb462", "#b3de69", "#fccde5",
];
const FACILITY_COLOURS: &[&str] = &[
    "#c0392b", "#2471a3", "#1e8449", "#7d3c98", "#b9770e", "#117a65", "#5d6d7e",
];

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The map transform: metres → paper mm.
struct MapFrame {
    x0: f64,
    y0: f64,
    w: f64,
    h: f64,
    min_x: f64,
    max_y: f64,
    /// mm per metre.
    s: f64,
    dx: f64,
    dy: f64,
}

impl MapFrame {
    fn new(x0: f64, y0: f64, w: f64, h: f64, extent: Rect<f64>) -> MapFrame {
        let pad = 0.06;
        let (ew, eh) = (extent.width().max(1.0), extent.height().max(1.0));
        let (ew, eh) = (ew * (1.0 + 2.0 * pad), eh * (1.0 + 2.0 * pad));
        // The largest round scale at which the extent fits.
        let fit = 1000.0 / (w / ew).min(h / eh);
        let denominator = nice_scale(fit);
        let s = 1000.0 / denominator;
        let cx = (extent.min().x + extent.max().x) / 2.0;
        let cy = (extent.min().y + extent.max().y) / 2.0;
        MapFrame {
            x0,
            y0,
            w,
            h,
            min_x: cx - w / s / 2.0,
            max_y: cy + h / s / 2.0,
            s,
            dx: 0.0,
            dy: 0.0,
        }
    }

    fn xy(&self, c: Coord<f64>) -> (f64, f64) {
        (
            self.x0 + self.dx + (c.x - self.min_x) * self.s,
            self.y0 + self.dy + (self.max_y - c.y) * self.s,
        )
    }

    /// The frame's extent in metres (for culling).
    fn bounds(&self) -> Rect<f64> {
        Rect::new(
            Coord {
                x: self.min_x,
                y: self.max_y - self.h / self.s,
            },
            Coord {
                x: self.min_x + self.w / self.s,
                y: self.max_y,
            },
        )
    }

    fn path(&self, mp: &MultiPolygon<f64>) -> String {
        let mut d = String::new();
        for p in &mp.0 {
            for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
                let mut last = (f64::NAN, f64::NAN);
                for (i, c) in ring.0.iter().enumerate() {
                    let (x, y) = self.xy(*c);
                    // Skip points closer than 0.05 mm to the last one: invisible, and they bloat the file.
                    if i > 0 && (x - last.0).abs() < 0.05 && (y - last.1).abs() < 0.05 {
                        continue;
                    }
                    let _ = write!(d, "{}{:.2} {:.2}", if i == 0 { "M" } else { "L" }, x, y);
                    last = (x, y);
                }
                d.push('Z');
            }
        }
        d
    }
}

/// The part of the world (metres) the map frame of `paper` shows for `extent`.
pub fn map_view(paper: Paper, extent: Rect<f64>) -> Rect<f64> {
    let (pw, ph) = paper.size_mm();
    let k = pw / 420.0;
    let margin = 10.0 * k;
    let map_w = pw - 2.0 * margin - 112.0 * k - 6.0 * k;
    let map_h = ph - 2.0 * margin - 22.0 * k - 16.0 * k;
    MapFrame::new(margin, margin, map_w, map_h, extent).bounds()
}

fn intersects(a: &Rect<f64>, b: &Rect<f64>) -> bool {
    a.min().x <= b.max().x
        && b.min().x <= a.max().x
        && a.min().y <= b.max().y
        && b.min().y <= a.max().y
}

fn bbox(mp: &MultiPolygon<f64>) -> Option<Rect<f64>> {
    use geo::BoundingRect;
    mp.bounding_rect()
}

/// The smallest round scale denominator (1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 7.5 or 8 × 10^k) not
/// below `fit`.
fn nice_scale(fit: f64) -> f64 {
    let base = 10f64.powf(fit.log10().floor());
    [1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 7.5, 8.0, 10.0]
        .into_iter()
        .map(|m| m * base)
        .find(|d| *d >= fit * (1.0 - 1e-9))
        .unwrap_or(10.0 * base)
}

/// A round length for the scale bar: 1, 2 or 5 × 10^k metres, about `target` metres.
fn nice_length(target: f64) -> f64 {
    let k = target.log10().floor();
    let base = 10f64.powf(k);
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * base)
        .rfind(|l| *l <= target)
        .unwrap_or(base)
}

fn star(cx: f64, cy: f64, r: f64) -> String {
    let mut d = String::new();
    for i in 0..10 {
        let a = std::f64::consts::PI / 5.0 * i as f64 - std::f64::consts::FRAC_PI_2;
        let rr = if i % 2 == 0 { r } else { r * 0.45 };
        let _ = write!(
            d,
            "{}{:.2} {:.2}",
            if i == 0 { "M" } else { "L" },
            cx + rr * a.cos(),
            cy + rr * a.sin()
        );
    }
    d.push('Z');
    d
}

/// Splits text into lines of at most `width` mm at font size `size` (CJK glyphs are 1 em wide,
/// others about half).
fn wrap(text: &str, size: f64, width: f64) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut w = 0.0;
    for ch in text.chars() {
        let cw = if ch.is_ascii() { size * 0.55 } else { size };
        if w + cw > width && !line.is_empty() {
            lines.push(std::mem::take(&mut line));
            w = 0.0;
        }
        line.push(ch);
        w += cw;
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Draws the sheet as an SVG document (mm units).
pub fn sheet_svg(input: &SheetInput) -> String {
    let (pw, ph) = input.paper.size_mm();
    let k = pw / 420.0; // type scale: A4 is 0.71 of A3
    let margin = 10.0 * k;
    let title_h = 22.0 * k;
    let footer_h = 16.0 * k;
    let panel_w = 112.0 * k;
    let map_w = pw - 2.0 * margin - panel_w - 6.0 * k;
    let map_h = ph - 2.0 * margin - title_h - footer_h;
    let frame = MapFrame::new(margin, margin + title_h, map_w, map_h, input.extent);
    let view = frame.bounds();
    let font = escape(&input.font_family);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{pw}mm" height="{ph}mm" viewBox="0 0 {pw} {ph}" font-family="{font}, sans-serif">"##
    );
    let _ = write!(
        svg,
        r##"<defs><clipPath id="map"><rect x="{:.2}" y="{:.2}" width="{:.2}" height="{:.2}"/></clipPath><pattern id="gh" patternUnits="userSpaceOnUse" width="1.2" height="1.2" patternTransform="rotate(45)"><rect width="1.2" height="1.2" fill="#ffffff"/><line x1="0" y1="0" x2="0" y2="1.2" stroke="#6c7a89" stroke-width="0.35"/></pattern></defs>"##,
        frame.x0, frame.y0, frame.w, frame.h
    );
    let _ = write!(
        svg,
        r##"<rect width="{pw}" height="{ph}" fill="#ffffff"/>"##
    );

    // Title.
    let _ = write!(
        svg,
        r##"<text x="{:.2}" y="{:.2}" font-size="{:.2}" font-weight="bold" fill="#1a1a1a">{}</text>"##,
        margin,
        margin + 9.0 * k,
        9.0 * k,
        escape(&input.title)
    );
    let _ = write!(
        svg,
        r##"<text x="{:.2}" y="{:.2}" font-size="{:.2}" fill="#444444">{}</text>"##,
        margin,
        margin + 16.5 * k,
        4.2 * k,
        escape(&input.subtitle)
    );

    // Map.
    let _ = write!(svg, r##"<g clip-path="url(#map)">"##);
    let _ = write!(
        svg,
        r##"<rect x="{:.2}" y="{:.2}" width="{:.2}" height="{:.2}" fill="#f4f4f2"/>"##,
        frame.x0, frame.y0, frame.w, frame.h
    );
    let mut classes_present: Vec<&'static str> = Vec::new();
    for (polygon, code) in &input.parcels {
        if !bbox(polygon).is_some_and(|b| intersects(&b, &view)) {
            continue;
        }
        let class = land_class(code);
        if !classes_present.contains(&class) {
            classes_present.push(class);
        }
        let _ = write!(
            svg,
            r##"<path d="{}" fill="{}"/>"##,
            frame.path(polygon),
            land_colour(class)
        );
    }
    for polygon in &input.context {
        if bbox(polygon).is_some_and(|b| intersects(&b, &view)) {
            let _ = write!(
                svg,
                r##"<path d="{}" fill="#9e9e9e" fill-opacity="0.55" stroke="#ffffff" stroke-width="{:.2}" fill-rule="evenodd"/>"##,
                frame.path(polygon),
                0.3 * k
            );
        }
    }
    for gh in &input.greenhouses {
        if bbox(gh).is_some_and(|b| intersects(&b, &view)) {
            let _ = write!(
                svg,
                r##"<path d="{}" fill="url(#gh)" stroke="#34495e" stroke-width="{:.2}"/>"##,
                frame.path(gh),
                0.15 * k
            );
        }
    }
    for v in &input.villages {
        let colour = COLOURS[v.colour % COLOURS.len()];
        let fill = if input.fill_villages {
            format!(
                r##"fill="{}" fill-opacity="0.85""##,
                FILLS[v.colour % FILLS.len()]
            )
        } else {
            r##"fill="none""##.to_string()
        };
        let _ = write!(
            svg,
            r##"<path d="{}" {fill} stroke="{}" stroke-width="{:.2}" stroke-dasharray="{:.2} {:.2}" fill-rule="evenodd"/>"##,
            frame.path(&v.polygon),
            if input.fill_villages {
                "#ffffff"
            } else {
                colour
            },
            if input.fill_villages {
                0.2 * k
            } else {
                0.7 * k
            },
            2.0 * k,
            0.8 * k
        );
    }
    let mut kinds: Vec<String> = Vec::new();
    for f in &input.facilities {
        if !kinds.contains(&f.kind) {
            kinds.push(f.kind.clone());
        }
    }
    kinds.sort();
    for f in &input.facilities {
        let colour = FACILITY_COLOURS
            [kinds.iter().position(|k| k == &f.kind).unwrap_or(0) % FACILITY_COLOURS.len()];
        let (x, y) = frame.xy(f.point);
        if let Some(r) = f.radius_m {
            let _ = write!(
                svg,
                r##"<circle cx="{x:.2}" cy="{y:.2}" r="{:.2}" fill="{colour}" fill-opacity="0.06" stroke="{colour}" stroke-width="{:.2}" stroke-dasharray="{:.2} {:.2}"/>"##,
                r * frame.s,
                0.3 * k,
                1.2 * k,
                0.8 * k
            );
        }
    }
    for z in &input.zones {
        let _ = write!(
            svg,
            r##"<path d="{}" fill="none" stroke="#c0392b" stroke-width="{:.2}" stroke-linejoin="round" fill-rule="evenodd"/>"##,
            frame.path(&z.polygon),
            if input.label_zones { 0.6 * k } else { 1.3 * k }
        );
    }
    for f in &input.facilities {
        let colour = FACILITY_COLOURS
            [kinds.iter().position(|k| k == &f.kind).unwrap_or(0) % FACILITY_COLOURS.len()];
        let (x, y) = frame.xy(f.point);
        let _ = write!(
            svg,
            r##"<circle cx="{x:.2}" cy="{y:.2}" r="{:.2}" fill="{colour}" stroke="#ffffff" stroke-width="{:.2}"/>"##,
            1.1 * k,
            0.3 * k
        );
    }
    // Village names (members) and the key village's star.
    let label = 2.6 * k;
    for v in &input.villages {
        let (x, y) = frame.xy(v.anchor);
        if v.is_key {
            let _ = write!(
                svg,
                r##"<path d="{}" fill="#e31a1c" stroke="#ffffff" stroke-width="{:.2}"/>"##,
                star(x, y, 2.6 * k),
                0.3 * k
            );
        }
        if !input.label_zones {
            let _ = write!(
                svg,
                r##"<text x="{:.2}" y="{:.2}" font-size="{:.2}" text-anchor="middle" fill="#111111"{}>{}</text>"##,
                x,
                y + if v.is_key { 5.2 * k } else { 1.0 * k },
                if v.is_key { label * 1.15 } else { label },
                if v.is_key {
                    r##" font-weight="bold""##
                } else {
                    ""
                },
                escape(&v.name)
            );
        }
    }
    if input.label_zones {
        for z in &input.zones {
            if let Some((c, _)) = &z.key {
                let (x, y) = frame.xy(*c);
                let _ = write!(
                    svg,
                    r##"<path d="{}" fill="#e31a1c" stroke="#ffffff" stroke-width="{:.2}"/>"##,
                    star(x, y, 1.6 * k),
                    0.2 * k
                );
            }
            let centre = {
                use geo::InteriorPoint;
                z.polygon.interior_point()
            };
            if let Some(c) = centre {
                let (x, y) = frame.xy(c.0);
                let _ = write!(
                    svg,
                    r##"<text x="{x:.2}" y="{:.2}" font-size="{:.2}" text-anchor="middle" fill="#111111">{}</text>"##,
                    y + 3.6 * k,
                    2.1 * k,
                    escape(&z.label)
                );
            }
        }
    }
    let _ = write!(svg, "</g>");
    let _ = write!(
        svg,
        r##"<rect x="{:.2}" y="{:.2}" width="{:.2}" height="{:.2}" fill="none" stroke="#333333" stroke-width="{:.2}"/>"##,
        frame.x0,
        frame.y0,
        frame.w,
        frame.h,
        0.4 * k
    );

    // North arrow (grid north of the Gauss–Krüger zone).
    let (nx, ny) = (frame.x0 + frame.w - 10.0 * k, frame.y0 + 6.0 * k);
    let _ = write!(
        svg,
        r##"<path d="M{nx:.2} {ny:.2} L{:.2} {:.2} L{nx:.2} {:.2} L{:.2} {:.2} Z" fill="#222222"/><text x="{nx:.2}" y="{:.2}" font-size="{:.2}" text-anchor="middle" fill="#222222">北</text>"##,
        nx + 3.0 * k,
        ny + 10.0 * k,
        ny + 7.5 * k,
        nx - 3.0 * k,
        ny + 10.0 * k,
        ny + 14.5 * k,
        4.0 * k
    );
    // Scale bar: a round length near 40 mm on paper, and the ratio.
    let metres = nice_length(40.0 * k / frame.s);
    let bar = metres * frame.s;
    let (bx, by) = (frame.x0 + 6.0 * k, frame.y0 + frame.h - 7.0 * k);
    let _ = write!(
        svg,
        r##"<rect x="{bx:.2}" y="{:.2}" width="{:.2}" height="{:.2}" fill="#ffffff" fill-opacity="0.85"/>"##,
        by - 6.0 * k,
        bar + 34.0 * k,
        10.0 * k
    );
    for i in 0..4 {
        let _ = write!(
            svg,
            r##"<rect x="{:.2}" y="{by:.2}" width="{:.2}" height="{:.2}" fill="{}" stroke="#222222" stroke-width="{:.2}"/>"##,
            bx + bar / 4.0 * i as f64,
            bar / 4.0,
            1.4 * k,
            if i % 2 == 0 { "#222222" } else { "#ffffff" },
            0.2 * k
        );
    }
    let length_text = if metres >= 1000.0 {
        format!("{} 千米", metres / 1000.0)
    } else {
        format!("{metres} 米")
    };
    let ratio = (1000.0 / frame.s).round() as i64;
    let _ = write!(
        svg,
        r##"<text x="{bx:.2}" y="{:.2}" font-size="{:.2}" fill="#222222">0</text><text x="{:.2}" y="{:.2}" font-size="{:.2}" text-anchor="middle" fill="#222222">{length_text}</text><text x="{:.2}" y="{:.2}" font-size="{:.2}" fill="#222222">比例尺 1:{}</text>"##,
        by - 1.2 * k,
        2.4 * k,
        bx + bar,
        by - 1.2 * k,
        2.4 * k,
        bx + bar + 3.0 * k,
        by + 1.4 * k,
        2.4 * k,
        group_digits(ratio)
    );

    // Right panel: legend, statistics, list.
    let px = margin + map_w + 6.0 * k;
    let mut y = margin + title_h + 2.0 * k;
    let heading = |svg: &mut String, y: &mut f64, text: &str| {
        let _ = write!(
            svg,
            r##"<text x="{px:.2}" y="{:.2}" font-size="{:.2}" font-weight="bold" fill="#1a1a1a">{}</text>"##,
            *y + 4.0 * k,
            4.0 * k,
            escape(text)
        );
        *y += 6.5 * k;
    };
    heading(&mut svg, &mut y, "图例");
    let row = 4.6 * k;
    let sw = 6.0 * k;
    let text_size = 2.8 * k;
    let mut legend: Vec<(String, String)> = Vec::new();
    legend.push((
        format!(r##"<line x1="0" y1="1.5" x2="{sw:.2}" y2="1.5" stroke="#c0392b" stroke-width="{:.2}"/>"##, 1.3 * k),
        if input.label_zones { "片区界线".into() } else { "片区范围".into() },
    ));
    if !input.label_zones {
        legend.push((
            format!(r##"<line x1="0" y1="1.5" x2="{sw:.2}" y2="1.5" stroke="#1f77b4" stroke-width="{:.2}" stroke-dasharray="{:.2} {:.2}"/>"##, 0.7 * k, 2.0 * k, 0.8 * k),
            "成员村界".into(),
        ));
        legend.push((
            format!(r##"<rect width="{sw:.2}" height="3" fill="#9e9e9e" fill-opacity="0.55"/>"##),
            "相邻片区".into(),
        ));
    }
    legend.push((
        format!(
            r##"<path d="{}" fill="#e31a1c"/>"##,
            star(sw / 2.0, 1.5, 1.8 * k)
        ),
        "中心村".into(),
    ));
    if !input.greenhouses.is_empty() {
        legend.push((
            format!(r##"<rect width="{sw:.2}" height="3" fill="url(#gh)" stroke="#34495e" stroke-width="0.15"/>"##),
            "大棚".into(),
        ));
    }
    for (i, kind) in kinds.iter().enumerate() {
        let colour = FACILITY_COLOURS[i % FACILITY_COLOURS.len()];
        let radius = input
            .facilities
            .iter()
            .find(|f| &f.kind == kind)
            .and_then(|f| f.radius_m)
            .map_or(String::new(), |r| format!(" · 半径{r:.0}米"));
        legend.push((
            format!(
                r##"<circle cx="{:.2}" cy="1.5" r="{:.2}" fill="{colour}"/>"##,
                sw / 2.0,
                1.1 * k
            ),
            format!("{kind}{radius}"),
        ));
    }
    classes_present.sort();
    for class in &classes_present {
        if let Some((_, name, colour)) = LAND_CLASSES.iter().find(|(c, _, _)| c == class) {
            legend.push((
                format!(r##"<rect width="{sw:.2}" height="3" fill="{colour}"/>"##),
                name.to_string(),
            ));
        }
    }
    // Two columns of legend entries.
    let col_w = panel_w / 2.0;
    let rows = legend.len().div_ceil(2);
    for (i, (symbol, text)) in legend.iter().enumerate() {
        let (cx, cy) = (px + (i / rows) as f64 * col_w, y + (i % rows) as f64 * row);
        let _ = write!(
            svg,
            r##"<g transform="translate({cx:.2} {cy:.2})">{symbol}</g>"##
        );
        for (j, line) in wrap(text, text_size, col_w - sw - 3.0 * k)
            .iter()
            .take(2)
            .enumerate()
        {
            let _ = write!(
                svg,
                r##"<text x="{:.2}" y="{:.2}" font-size="{text_size:.2}" fill="#222222">{}</text>"##,
                cx + sw + 1.5 * k,
                cy + 2.6 * k + j as f64 * text_size * 1.05,
                escape(line)
            );
        }
    }
    y += rows as f64 * row + 4.0 * k;

    heading(&mut svg, &mut y, "统计");
    let line_h = 3.9 * k;
    for (label, value) in &input.table {
        if value.is_empty() {
            let _ = write!(
                svg,
                r##"<text x="{px:.2}" y="{:.2}" font-size="{:.2}" font-weight="bold" fill="#333333">{}</text>"##,
                y + 2.8 * k,
                text_size,
                escape(label)
            );
        } else {
            let _ = write!(
                svg,
                r##"<text x="{:.2}" y="{:.2}" font-size="{text_size:.2}" fill="#222222">{}</text><text x="{:.2}" y="{:.2}" font-size="{text_size:.2}" text-anchor="end" fill="#222222">{}</text><line x1="{px:.2}" y1="{:.2}" x2="{:.2}" y2="{:.2}" stroke="#dddddd" stroke-width="0.15"/>"##,
                px + 2.0 * k,
                y + 2.8 * k,
                escape(label),
                px + panel_w,
                y + 2.8 * k,
                escape(value),
                y + 3.6 * k,
                px + panel_w,
                y + 3.6 * k
            );
        }
        y += line_h;
    }
    y += 2.0 * k;
    heading(&mut svg, &mut y, &input.list_title);
    let list_size = 2.6 * k;
    let bottom = ph - margin - footer_h;
    let lines = wrap_items(&input.list, list_size, panel_w);
    let room = ((bottom - y) / (list_size * 1.3)).floor().max(0.0) as usize;
    let shown = lines.len().min(room);
    for (i, line) in lines.iter().take(shown).enumerate() {
        let _ = write!(
            svg,
            r##"<text x="{px:.2}" y="{:.2}" font-size="{list_size:.2}" fill="#222222">{}</text>"##,
            y + 2.6 * k + i as f64 * list_size * 1.3,
            escape(line)
        );
    }
    if shown < lines.len() {
        let _ = write!(
            svg,
            r##"<text x="{px:.2}" y="{:.2}" font-size="{list_size:.2}" fill="#c0392b">… 余见成员表</text>"##,
            y + 2.6 * k + shown as f64 * list_size * 1.3
        );
    }

    // Footer.
    let fy = ph - margin - footer_h + 6.0 * k;
    let _ = write!(
        svg,
        r##"<line x1="{margin:.2}" y1="{:.2}" x2="{:.2}" y2="{:.2}" stroke="#888888" stroke-width="0.2"/>"##,
        fy - 3.5 * k,
        pw - margin,
        fy - 3.5 * k
    );
    let footer_size = 2.4 * k;
    let footer_lines: Vec<String> = input
        .footer
        .iter()
        .flat_map(|l| wrap(l, footer_size, pw - 2.0 * margin))
        .collect();
    for (i, line) in footer_lines.iter().take(4).enumerate() {
        let _ = write!(
            svg,
            r##"<text x="{margin:.2}" y="{:.2}" font-size="{footer_size:.2}" fill="#555555">{}</text>"##,
            fy + i as f64 * 3.0 * k,
            escape(line)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Joins items with 、 into lines of at most `width` mm, never splitting an item.
fn wrap_items(items: &[String], size: f64, width: f64) -> Vec<String> {
    let measure = |t: &str| {
        t.chars()
            .map(|c| if c.is_ascii() { size * 0.55 } else { size })
            .sum::<f64>()
    };
    let mut lines = Vec::new();
    let mut line = String::new();
    for (i, item) in items.iter().enumerate() {
        let piece = if i + 1 < items.len() {
            format!("{item}、")
        } else {
            item.clone()
        };
        if !line.is_empty() && measure(&line) + measure(&piece) > width {
            lines.push(std::mem::take(&mut line));
        }
        line.push_str(&piece);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

fn group_digits(n: i64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_bars_are_round_and_text_wraps() {
        assert_eq!(nice_length(3700.0), 2000.0);
        assert_eq!(nice_scale(37_284.0), 40_000.0);
        assert_eq!(nice_scale(20_000.0), 20_000.0);
        assert_eq!(nice_scale(52_731.0), 60_000.0);
        let items: Vec<String> = ["甲村", "乙村", "丙庄村"].map(String::from).to_vec();
        assert_eq!(wrap_items(&items, 1.0, 6.5), vec!["甲村、乙村、", "丙庄村"]);
        assert_eq!(nice_length(999.0), 500.0);
        assert_eq!(nice_length(10.0), 10.0);
        assert_eq!(group_digits(50000), "50,000");
        assert_eq!(group_digits(999), "999");
        let lines = wrap("一二三四五六七八九十", 3.0, 9.0);
        assert_eq!(lines, vec!["一二三", "四五六", "七八九", "十"]);
        assert_eq!(land_class("0702"), "07");
        assert_eq!(land_class("1106"), "00");
        assert_eq!(escape("a<b&\"c\""), "a&lt;b&amp;&quot;c&quot;");
    }
}
