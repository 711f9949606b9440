//! The one-zone-one-plan sheet (一片一规划图) and the county overview (片区总图), drawn as SVG in
//! millimetres on A4 or A3 landscape, or A3 or A1 portrait.
//!
//! Layout (`render::sheet::layout`), worked out per paper size rather than one page shrunk to another: the
//! title across the top; the map frame with a kilometre grid labelled outside its top and left
//! edges, a scale bar (a round length and the ratio) and a north arrow (Gauss–Krüger grid
//! north); the panel (right of the map in landscape, under it in portrait) flowing the legend,
//! statistics, notes and lists through its columns; a title block (图签: 编制单位, plan and
//! version, 图号, scale, CRS, date) in the panel's corner; data sources under the map.
//!
//! Map content: land use from the 三调 parcels, neighbouring zones greyed, member villages
//! outlined in one style (the legend's), the zone boundary, greenhouses, facilities as badges in
//! their kind's colour — only the zone's own and planned facilities draw service circles — and
//! the key village starred. The overview fills villages by their zone's colour, draws township
//! boundaries and names, and marks zones that break a bound. Every colour comes from the shared
//! [`super::symbology`] table, so a kind looks the same on every sheet, in the legend and on the
//! web map. Labels carry a white halo and are placed to avoid symbols and each other.
//!
//! Text is never smaller than [`MIN_TEXT_MM`] (font size), so its cap height stays at or above
//! 2 mm on A4. Input is in metric coordinates (the workspace's CGCS2000 Gauss–Krüger zone): the
//! map is a plain scale transform, so distances on paper are true to the stated scale. Pure: the
//! caller gathers the data ([`crate::plan::sheet`]).

use std::fmt::Write;

use geo::{Coord, MultiPolygon, Rect};

use super::symbology::{KindStyle, symbology};

/// Paper sizes and orientations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paper {
    /// A4 landscape.
    A4,
    /// A3 landscape.
    A3,
    /// A3 portrait.
    A3Portrait,
    /// A1 portrait (wall sheet).
    A1Portrait,
}

/// The smallest font size on any sheet, mm. The sheet font's capitals and CJK ideographs stand at
/// least 0.7 em tall, so text is at least 2.1 mm high (the issue asks ≥ 2 mm on A4).
pub const MIN_TEXT_MM: f64 = 3.0;

impl Paper {
    /// What `parse` accepts, for error messages.
    pub const NAMES: &'static str = "a3, a4, a3-portrait or a1-portrait";

    /// The paper a request names: `a3`, `a4`, `a3-portrait` or `a1-portrait` (and short forms), any
    /// case.
    pub fn parse(text: &str) -> Option<Paper> {
        match text.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "a3" | "a3-landscape" => Some(Paper::A3),
            "a4" | "a4-landscape" => Some(Paper::A4),
            "a3-portrait" | "a3p" => Some(Paper::A3Portrait),
            "a1-portrait" | "a1p" | "a1" => Some(Paper::A1Portrait),
            _ => None,
        }
    }

    /// Width and height in mm, as the sheet is read.
    pub fn size_mm(self) -> (f64, f64) {
        match self {
            Paper::A3 => (420.0, 297.0),
            Paper::A4 => (297.0, 210.0),
            Paper::A3Portrait => (297.0, 420.0),
            Paper::A1Portrait => (594.0, 841.0),
        }
    }

    /// Whether the sheet is taller than wide.
    pub fn is_portrait(self) -> bool {
        matches!(self, Paper::A3Portrait | Paper::A1Portrait)
    }

    /// Type and line scale: A4 is set at the minimum sizes, larger sheets a little larger (they
    /// are read from further away), A1 about twice.
    fn type_scale(self) -> f64 {
        match self {
            Paper::A4 => 1.0,
            Paper::A3 | Paper::A3Portrait => 1.15,
            Paper::A1Portrait => 1.9,
        }
    }
}

/// A village drawn on the sheet.
#[derive(Debug, Clone)]
pub struct SheetVillage {
    /// The village's name, its label.
    pub name: String,
    /// The village boundary in the metric CRS (metres).
    pub polygon: MultiPolygon<f64>,
    /// Where the label and the key-village star go (a point inside, metres).
    pub anchor: Coord<f64>,
    /// Overview: the zone's map colour index (the fill).
    pub colour: usize,
    /// Whether this is its zone's key village (drawn with a star).
    pub is_key: bool,
    /// Labels are placed in this order, highest first (population).
    pub priority: f64,
}

/// A facility: an existing one from the facilities layer, or one the plan adds.
#[derive(Debug, Clone)]
pub struct SheetFacility {
    /// The facility kind (e.g. 卫生室), which picks its colour and glyph.
    pub kind: String,
    /// Where it is, in the metric CRS (metres).
    pub point: Coord<f64>,
    /// Service radius in metres, if known.
    pub radius_m: Option<f64>,
    /// Draw its service circle: the zone's own facilities and planned ones only.
    pub service_circle: bool,
    /// Planned (规划), drawn hollow; otherwise existing (现状).
    pub planned: bool,
}

/// An outlined, labelled area (a zone).
#[derive(Debug, Clone)]
pub struct SheetZone {
    /// The zone's id (Z003), printed where its name does not fit.
    pub id: String,
    /// The zone's name, printed inside it.
    pub label: String,
    /// The dissolved zone boundary in the metric CRS (metres).
    pub polygon: MultiPolygon<f64>,
    /// The zone's map colour index into the symbology's zone colours.
    pub colour: usize,
    /// The key village's anchor and name, starred on the overview.
    pub key: Option<(Coord<f64>, String)>,
    /// What the zone breaks (Chinese), marked on the overview.
    pub violations: Vec<String>,
}

/// A township, outlined and named on the overview.
#[derive(Debug, Clone)]
pub struct SheetTownship {
    /// The township's name.
    pub name: String,
    /// The township boundary in the metric CRS (metres).
    pub polygon: MultiPolygon<f64>,
}

/// The title block (图签) in the panel's corner.
#[derive(Debug, Clone, Default)]
pub struct TitleBlock {
    /// 编制单位 (left blank to fill in by hand when not given).
    pub organization: String,
    /// Plan name and version.
    pub plan: String,
    /// 图号.
    pub number: String,
    /// The date of the sheet, `YYYY-MM-DD` (UTC).
    pub date: String,
    /// The coordinate system in words.
    pub crs: String,
}

/// Everything a sheet shows.
#[derive(Debug, Clone)]
pub struct SheetInput {
    /// Paper size and orientation.
    pub paper: Paper,
    /// The sheet's title, e.g. `<zone> 一片一规划图` or `<plan> · 片区总图`.
    pub title: String,
    /// The line under the title (zone id and type, key village, plan and version).
    pub subtitle: String,
    /// The map extent (metres); padded and fitted to the frame.
    pub extent: Rect<f64>,
    /// Land use: polygon and 三调 code.
    pub parcels: Vec<(MultiPolygon<f64>, String)>,
    /// Areas greyed out (neighbouring zones, villages outside).
    pub context: Vec<MultiPolygon<f64>>,
    /// Villages: outlined (zone sheet) or filled with their zone's colour (overview).
    pub villages: Vec<SheetVillage>,
    /// Fill villages with their zone's colour (overview) instead of outlining them.
    pub fill_villages: bool,
    /// Boundaries drawn bold (the zone; in the overview every zone, labelled).
    pub zones: Vec<SheetZone>,
    /// Print the zones' names on the map (overview).
    pub label_zones: bool,
    /// Townships outlined and named (overview).
    pub townships: Vec<SheetTownship>,
    /// Greenhouse polygons (metres).
    pub greenhouses: Vec<MultiPolygon<f64>>,
    /// Facilities drawn as badges, existing and planned.
    pub facilities: Vec<SheetFacility>,
    /// Statistics table rows (label, value); a row with an empty value is a heading.
    pub table: Vec<(String, String)>,
    /// Notes printed in the panel (the zone's 备注), if any.
    pub notes: String,
    /// The heading and entries of the list under the table (member villages, or zones).
    pub list_title: String,
    /// The entries of that list.
    pub list: Vec<String>,
    /// The title block (图签) in the panel's corner.
    pub title_block: TitleBlock,
    /// Lines under the map (data sources, how areas were computed).
    pub footer: Vec<String>,
    /// The font family named in the SVG's text (the embedded sheet font).
    pub font_family: String,
}

/// The first-level class of a 三调 code (wetland codes are class 00, as in 三调 工作分类).
pub fn land_class(code: &str) -> &'static str {
    if crate::domain::landuse::is_wetland(code) {
        return "00";
    }
    let prefix = code.trim().get(..2).unwrap_or("");
    symbology()
        .land_classes
        .iter()
        .find(|c| c.cls == prefix)
        .map_or("", |c| c.cls.as_str())
}

/// Member village outlines on a zone sheet (one style, the legend's).
const MEMBER_LINE: &str = "#1d3557";
/// Township boundaries on the overview.
const TOWN_LINE: &str = "#5b4636";
const CONTEXT_FILL: &str = "#9e9e9e";
const GRID_LINE: &str = "#5f6b73";
const TEXT: &str = "#1a1a1a";
const TEXT_SOFT: &str = "#4a4a4a";

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Approximate width of `text` at font size `size` mm (CJK glyphs 1 em, others about half).
fn text_width(text: &str, size: f64) -> f64 {
    text.chars()
        .map(|c| if c.is_ascii() { size * 0.55 } else { size })
        .sum()
}

/// A box on paper, mm.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Area {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

impl Area {
    fn right(&self) -> f64 {
        self.x + self.w
    }
    fn bottom(&self) -> f64 {
        self.y + self.h
    }
    fn overlap(&self, o: &Area) -> f64 {
        let w = self.right().min(o.right()) - self.x.max(o.x);
        let h = self.bottom().min(o.bottom()) - self.y.max(o.y);
        if w > 0.0 && h > 0.0 { w * h } else { 0.0 }
    }
    fn inside(&self, o: &Area) -> bool {
        self.x >= o.x && self.y >= o.y && self.right() <= o.right() && self.bottom() <= o.bottom()
    }
}

/// Where everything goes on one paper size.
#[derive(Debug, Clone)]
struct Layout {
    ts: f64,
    margin: f64,
    /// The map frame.
    frame: Area,
    /// Panel columns the legend, statistics and lists flow through, in order.
    columns: Vec<Area>,
    title_block: Area,
    /// Lines under the map: left edge, first baseline, width, how many lines.
    footer: (f64, f64, f64, usize),
}

/// The page plan of a paper size.
fn layout(paper: Paper) -> Layout {
    let (pw, ph) = paper.size_mm();
    let ts = paper.type_scale();
    let margin = 8.0 * ts;
    let title_h = 16.0 * ts;
    // Room for the grid labels above and left of the frame.
    let gutter = 5.0 * ts;
    let footer_lines = 2;
    let footer_h = footer_lines as f64 * 3.8 * ts + 2.0 * ts;
    let block_h = 6.0 * 5.0 * ts;
    let gap = 5.0 * ts;
    if !paper.is_portrait() {
        let panel_w = pw * 0.3;
        let frame = Area {
            x: margin + gutter,
            y: margin + title_h + gutter,
            w: pw - 2.0 * margin - panel_w - gap - gutter,
            h: ph - 2.0 * margin - title_h - gutter - footer_h,
        };
        let px = pw - margin - panel_w;
        let title_block = Area {
            x: px,
            y: ph - margin - block_h,
            w: panel_w,
            h: block_h,
        };
        let col_gap = 4.0 * ts;
        let col_w = (panel_w - col_gap) / 2.0;
        let top = margin + title_h;
        let columns = (0..2)
            .map(|i| Area {
                x: px + i as f64 * (col_w + col_gap),
                y: top,
                w: col_w,
                h: title_block.y - 4.0 * ts - top,
            })
            .collect();
        Layout {
            ts,
            margin,
            frame,
            columns,
            title_block,
            footer: (
                margin,
                frame.bottom() + 5.0 * ts,
                frame.right() - margin,
                footer_lines,
            ),
        }
    } else {
        let frame_w = pw - 2.0 * margin - gutter;
        let frame = Area {
            x: margin + gutter,
            y: margin + title_h + gutter,
            w: frame_w,
            h: (ph - 2.0 * margin - title_h - gutter - footer_h) * 0.62,
        };
        let top = frame.bottom() + 6.0 * ts;
        let bottom = ph - margin - footer_h;
        let col_gap = 5.0 * ts;
        let col_w = (pw - 2.0 * margin - 2.0 * col_gap) / 3.0;
        let title_block = Area {
            x: margin + 2.0 * (col_w + col_gap),
            y: bottom - block_h,
            w: col_w,
            h: block_h,
        };
        let columns = (0..3)
            .map(|i| Area {
                x: margin + i as f64 * (col_w + col_gap),
                y: top,
                w: col_w,
                h: if i == 2 {
                    title_block.y - 4.0 * ts - top
                } else {
                    bottom - top
                },
            })
            .collect();
        Layout {
            ts,
            margin,
            frame,
            columns,
            title_block,
            footer: (margin, bottom + 5.0 * ts, pw - 2.0 * margin, footer_lines),
        }
    }
}

/// The map transform: metres → paper mm.
struct MapFrame {
    area: Area,
    min_x: f64,
    max_y: f64,
    /// mm per metre.
    s: f64,
}

impl MapFrame {
    fn new(area: Area, extent: Rect<f64>) -> MapFrame {
        let pad = 0.06;
        let (ew, eh) = (extent.width().max(1.0), extent.height().max(1.0));
        let (ew, eh) = (ew * (1.0 + 2.0 * pad), eh * (1.0 + 2.0 * pad));
        // The largest round scale at which the extent fits.
        let fit = 1000.0 / (area.w / ew).min(area.h / eh);
        let s = 1000.0 / nice_scale(fit);
        let cx = (extent.min().x + extent.max().x) / 2.0;
        let cy = (extent.min().y + extent.max().y) / 2.0;
        MapFrame {
            area,
            min_x: cx - area.w / s / 2.0,
            max_y: cy + area.h / s / 2.0,
            s,
        }
    }

    fn xy(&self, c: Coord<f64>) -> (f64, f64) {
        (
            self.area.x + (c.x - self.min_x) * self.s,
            self.area.y + (self.max_y - c.y) * self.s,
        )
    }

    /// The frame's extent in metres (for culling).
    fn bounds(&self) -> Rect<f64> {
        Rect::new(
            Coord {
                x: self.min_x,
                y: self.max_y - self.area.h / self.s,
            },
            Coord {
                x: self.min_x + self.area.w / self.s,
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
    MapFrame::new(layout(paper).frame, extent).bounds()
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

/// A round length: 1, 2 or 5 × 10^k metres, at most `target` metres.
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

/// A facility badge: a disc in the kind's colour with its glyph in white (existing), or a white
/// disc ringed in the colour with the glyph in the colour (planned) — the web map's badges.
/// The group carries the kind and colour (`data-kind`, `data-colour`) so that tests can check a
/// kind is drawn alike on every sheet and in the legend.
fn badge(kind: &str, style: &KindStyle, cx: f64, cy: f64, r: f64, planned: bool) -> String {
    let colour = style.color.as_str();
    let (disc, ink) = if planned {
        ("#ffffff", colour)
    } else {
        (colour, "#ffffff")
    };
    let mut out = format!(
        r##"<g class="{}" data-kind="{}" data-colour="{colour}">"##,
        if planned {
            "facility planned"
        } else {
            "facility"
        },
        escape(kind)
    );
    let _ = write!(
        out,
        r##"<circle cx="{cx:.2}" cy="{cy:.2}" r="{r:.2}" fill="{disc}" stroke="{}" stroke-width="{:.2}"/>"##,
        if planned { colour } else { "#ffffff" },
        r * 0.22
    );
    let g = r * 0.62;
    let glyph = match style.glyph.as_str() {
        "star" => format!(
            r##"<path d="{}" fill="{ink}"/>"##,
            star(cx, cy + g * 0.08, g)
        ),
        "cross" => {
            let a = g * 0.32;
            format!(
                r##"<path d="M{:.2} {:.2}h{:.2}v{:.2}h{:.2}v{:.2}h{:.2}v{:.2}h{:.2}v{:.2}h{:.2}v{:.2}h{:.2}Z" fill="{ink}"/>"##,
                cx - a,
                cy - g,
                2.0 * a,
                g - a,
                g - a,
                2.0 * a,
                a - g,
                g - a,
                -2.0 * a,
                a - g,
                a - g,
                -2.0 * a,
                g - a
            )
        }
        "heart" => format!(
            r##"<path d="M{cx:.2} {:.2}L{:.2} {:.2}A{:.2} {:.2} 0 0 1 {cx:.2} {:.2}A{:.2} {:.2} 0 0 1 {:.2} {:.2}Z" fill="{ink}"/>"##,
            cy + g * 0.85,
            cx - g * 0.85,
            cy - g * 0.05,
            g * 0.43,
            g * 0.43,
            cy - g * 0.5,
            g * 0.43,
            g * 0.43,
            cx + g * 0.85,
            cy - g * 0.05
        ),
        "snow" => {
            let mut d = String::new();
            for i in 0..3 {
                let a = std::f64::consts::PI / 3.0 * i as f64 + std::f64::consts::FRAC_PI_2;
                let _ = write!(
                    d,
                    "M{:.2} {:.2}L{:.2} {:.2}",
                    cx + g * a.cos(),
                    cy + g * a.sin(),
                    cx - g * a.cos(),
                    cy - g * a.sin()
                );
            }
            format!(
                r##"<path d="{d}" stroke="{ink}" stroke-width="{:.2}" stroke-linecap="round"/>"##,
                g * 0.28
            )
        }
        "sprout" => format!(
            r##"<path d="M{cx:.2} {:.2}V{:.2}" stroke="{ink}" stroke-width="{:.2}"/><ellipse cx="{:.2}" cy="{:.2}" rx="{:.2}" ry="{:.2}" fill="{ink}"/><ellipse cx="{:.2}" cy="{:.2}" rx="{:.2}" ry="{:.2}" fill="{ink}"/>"##,
            cy + g,
            cy - g * 0.2,
            g * 0.25,
            cx - g * 0.45,
            cy - g * 0.35,
            g * 0.45,
            g * 0.28,
            cx + g * 0.45,
            cy - g * 0.55,
            g * 0.45,
            g * 0.28
        ),
        _ => format!(
            r##"<circle cx="{cx:.2}" cy="{cy:.2}" r="{:.2}" fill="{ink}"/>"##,
            g * 0.45
        ),
    };
    out.push_str(&glyph);
    out.push_str("</g>");
    out
}

/// Text with a white halo (the stroke is painted under the fill).
fn halo_text(svg: &mut String, (x, y): (f64, f64), size: f64, text: &str, extra: &str, halo: f64) {
    let _ = write!(
        svg,
        r##"<text x="{x:.2}" y="{y:.2}" font-size="{size:.2}" text-anchor="middle" fill="{TEXT}" stroke="#ffffff" stroke-width="{halo:.2}" stroke-linejoin="round" paint-order="stroke"{extra}>{}</text>"##,
        escape(text)
    );
}

/// Greedy label placement: each label takes the first candidate position that stays in the frame
/// and meets no symbol and no label placed before it; when every candidate collides it takes the
/// one with the least overlap (a label is never dropped: the names are what the sheet is for).
struct LabelPlacer {
    frame: Area,
    taken: Vec<Area>,
}

impl LabelPlacer {
    /// Places a `w` × `h` label near (x, y) only where it meets nothing; returns its box.
    fn try_place(&mut self, at: (f64, f64), w: f64, h: f64, clear_below: f64) -> Option<Area> {
        let (best, cost) = self.best(at, w, h, clear_below);
        if cost > 0.0 {
            return None;
        }
        self.taken.push(best);
        Some(best)
    }

    /// Places a `w` × `h` label near (x, y), overlapping as little as it must; returns its box.
    fn place(&mut self, at: (f64, f64), w: f64, h: f64, clear_below: f64) -> Area {
        let (best, _) = self.best(at, w, h, clear_below);
        self.taken.push(best);
        best
    }

    /// The best candidate box and how much it overlaps (0: nothing).
    fn best(&self, (x, y): (f64, f64), w: f64, h: f64, clear_below: f64) -> (Area, f64) {
        let gap = h * 0.25;
        let centred = |dx: f64, dy: f64| Area {
            x: x - w / 2.0 + dx,
            y: y - h / 2.0 + dy,
            w,
            h,
        };
        let below = clear_below.max(0.0);
        let candidates = [
            centred(0.0, below),
            centred(0.0, -(h + gap).max(below)),
            centred(0.0, h + gap + below),
            centred(w / 2.0 + gap + below, 0.0),
            centred(-(w / 2.0 + gap + below), 0.0),
            centred(w / 2.0 + gap, h + gap),
            centred(-(w / 2.0 + gap), h + gap),
            centred(w / 2.0 + gap, -(h + gap)),
            centred(-(w / 2.0 + gap), -(h + gap)),
            centred(0.0, 2.0 * (h + gap)),
            centred(0.0, -2.0 * (h + gap)),
        ];
        let cost = |a: &Area| -> f64 {
            let clash: f64 = self.taken.iter().map(|t| t.overlap(a)).sum();
            let outside = if a.inside(&self.frame) { 0.0 } else { w * h };
            clash + outside
        };
        let mut best = candidates[0];
        let mut best_cost = f64::INFINITY;
        for c in candidates {
            let k = cost(&c);
            if k < best_cost {
                best_cost = k;
                best = c;
            }
            if k <= 0.0 {
                break;
            }
        }
        (best, best_cost)
    }
}

/// Splits text into lines of at most `width` mm at font size `size`.
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

/// Places rows down the panel's columns, moving to the next column when one is full.
struct Flow {
    columns: Vec<Area>,
    column: usize,
    y: f64,
    /// Rows that found no room.
    dropped: usize,
}

impl Flow {
    fn new(columns: Vec<Area>) -> Flow {
        let y = columns[0].y;
        Flow {
            columns,
            column: 0,
            y,
            dropped: 0,
        }
    }

    /// Room for a row `h` high, keeping `keep` mm more with it (a heading keeps its first row):
    /// the row's left edge, top and width; `None` when the panel is full.
    fn take(&mut self, h: f64, keep: f64) -> Option<(f64, f64, f64)> {
        loop {
            let col = self.columns[self.column];
            if self.y + h + keep <= col.bottom() + 1e-9 {
                let top = self.y;
                self.y += h;
                return Some((col.x, top, col.w));
            }
            if self.column + 1 >= self.columns.len() {
                self.dropped += 1;
                return None;
            }
            self.column += 1;
            self.y = self.columns[self.column].y;
        }
    }

    /// Vertical space before a new section (none at the top of a column).
    fn space(&mut self, h: f64) {
        if self.y > self.columns[self.column].y + 1e-9 {
            self.y += h;
        }
    }
}

/// Draws the sheet as an SVG document (mm units): the map (land, boundaries, grid, symbols,
/// labels, north arrow and scale bar), then the panel (legend, statistics, list), the title
/// block and the footer.
pub fn sheet_svg(input: &SheetInput) -> String {
    let mut sheet = SheetPainter::new(input);
    sheet.begin();
    let classes_present = sheet.land_and_boundaries();
    let grid = sheet.grid();
    let furniture = sheet.furniture();
    let mut placer = sheet.label_placer(&furniture);
    let (star_size, marks) = sheet.symbols(&mut placer);
    sheet.labels(&mut placer, star_size);
    sheet.frame_and_grid_labels(&grid);
    sheet.north_arrow(&furniture);
    sheet.scale_bar(&furniture);
    let mut flow = Flow::new(sheet.page.columns.clone());
    sheet.legend(&mut flow, classes_present, marks, &grid);
    sheet.statistics(&mut flow);
    sheet.notes_and_list(&mut flow);
    sheet.title_block(furniture.ratio);
    sheet.footer();
    sheet.svg.push_str("</svg>");
    sheet.svg
}

/// Facility badge radius on paper, mm at the A4 type scale.
const BADGE_R_MM: f64 = 1.5;

/// Where the north arrow and the scale bar go (reserved before the labels, drawn after them).
#[derive(Clone, Copy)]
struct Furniture {
    /// North arrow tip.
    nx: f64,
    ny: f64,
    /// Scale bar: its length in metres and on paper, its origin, its box and the ratio.
    metres: f64,
    bar: f64,
    bx: f64,
    by: f64,
    scale_box: Area,
    ratio: i64,
}

/// The sheet being drawn: the input, the page plan, the map transform and the SVG so far.
struct SheetPainter<'a> {
    input: &'a SheetInput,
    sym: &'static super::symbology::Symbology,
    page: Layout,
    frame: MapFrame,
    /// Type scale of the paper, and the body text size (mm).
    ts: f64,
    body: f64,
    svg: String,
}

/// A panel heading (legend, statistics, …), kept with its first row.
fn heading(svg: &mut String, flow: &mut Flow, ts: f64, text: &str) {
    let heading_size = 4.0 * ts;
    let heading_h = 6.2 * ts;
    let row_h = MIN_TEXT_MM * ts * 1.3;
    flow.space(2.5 * ts);
    if let Some((x, y, _)) = flow.take(heading_h, row_h) {
        let _ = write!(
            svg,
            r##"<text x="{x:.2}" y="{:.2}" font-size="{heading_size:.2}" font-weight="bold" fill="{TEXT}">{}</text>"##,
            y + heading_size,
            escape(text)
        );
    }
}

impl<'a> SheetPainter<'a> {
    fn new(input: &'a SheetInput) -> Self {
        let page = layout(input.paper);
        let ts = page.ts;
        let frame = MapFrame::new(page.frame, input.extent);
        SheetPainter {
            input,
            sym: symbology(),
            page,
            frame,
            ts,
            body: MIN_TEXT_MM * ts,
            svg: String::new(),
        }
    }

    /// The document, its definitions, the white paper and the title.
    fn begin(&mut self) {
        let input = self.input;
        let ts = self.ts;
        let fa = self.frame.area;
        let page = &self.page;
        let svg = &mut self.svg;
        let (pw, ph) = self.input.paper.size_mm();
        let font = escape(&self.input.font_family);
        let _ = write!(
            svg,
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="{pw}mm" height="{ph}mm" viewBox="0 0 {pw} {ph}" font-family="{font}, sans-serif">"##
        );
        let _ = write!(
            svg,
            r##"<defs><clipPath id="map"><rect x="{:.2}" y="{:.2}" width="{:.2}" height="{:.2}"/></clipPath><pattern id="gh" patternUnits="userSpaceOnUse" width="1.2" height="1.2" patternTransform="rotate(45)"><rect width="1.2" height="1.2" fill="#ffffff"/><line x1="0" y1="0" x2="0" y2="1.2" stroke="#6c7a89" stroke-width="0.35"/></pattern></defs>"##,
            fa.x, fa.y, fa.w, fa.h
        );
        let _ = write!(
            svg,
            r##"<rect width="{pw}" height="{ph}" fill="#ffffff"/>"##
        );

        // Title.
        let m = page.margin;
        let _ = write!(
            svg,
            r##"<text x="{m:.2}" y="{:.2}" font-size="{:.2}" font-weight="bold" fill="{TEXT}">{}</text>"##,
            m + 7.0 * ts,
            7.0 * ts,
            escape(&input.title)
        );
        let _ = write!(
            svg,
            r##"<text x="{m:.2}" y="{:.2}" font-size="{:.2}" fill="{TEXT_SOFT}">{}</text>"##,
            m + 12.5 * ts,
            3.6 * ts,
            escape(&input.subtitle)
        );
    }

    /// Opens the map group and draws land use, context, greenhouses, villages, townships,
    /// service circles and zone outlines; returns the land classes drawn (for the legend).
    fn land_and_boundaries(&mut self) -> Vec<&'static str> {
        let input = self.input;
        let sym = self.sym;
        let ts = self.ts;
        let frame = &self.frame;
        let fa = self.frame.area;
        let view = self.frame.bounds();
        let svg = &mut self.svg;
        // ---- Map ----
        let _ = write!(svg, r##"<g clip-path="url(#map)">"##);
        let _ = write!(
            svg,
            r##"<rect x="{:.2}" y="{:.2}" width="{:.2}" height="{:.2}" fill="#f4f4f2"/>"##,
            fa.x, fa.y, fa.w, fa.h
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
                sym.land_colour(class)
            );
        }
        for polygon in &input.context {
            if bbox(polygon).is_some_and(|b| intersects(&b, &view)) {
                let _ = write!(
                    svg,
                    r##"<path d="{}" fill="{CONTEXT_FILL}" fill-opacity="0.55" stroke="#ffffff" stroke-width="{:.2}" fill-rule="evenodd"/>"##,
                    frame.path(polygon),
                    0.3 * ts
                );
            }
        }
        for gh in &input.greenhouses {
            if bbox(gh).is_some_and(|b| intersects(&b, &view)) {
                let _ = write!(
                    svg,
                    r##"<path d="{}" fill="url(#gh)" stroke="#34495e" stroke-width="{:.2}"/>"##,
                    frame.path(gh),
                    0.15 * ts
                );
            }
        }
        for v in &input.villages {
            if input.fill_villages {
                let _ = write!(
                    svg,
                    r##"<path d="{}" fill="{}" fill-opacity="0.85" stroke="#ffffff" stroke-width="{:.2}" fill-rule="evenodd"/>"##,
                    frame.path(&v.polygon),
                    sym.zone_colour(v.colour),
                    0.2 * ts
                );
            } else {
                let _ = write!(
                    svg,
                    r##"<path d="{}" fill="none" stroke="{MEMBER_LINE}" stroke-width="{:.2}" stroke-dasharray="{:.2} {:.2}" fill-rule="evenodd"/>"##,
                    frame.path(&v.polygon),
                    0.6 * ts,
                    2.0 * ts,
                    0.8 * ts
                );
            }
        }
        for t in &input.townships {
            let _ = write!(
                svg,
                r##"<path d="{}" fill="none" stroke="{TOWN_LINE}" stroke-width="{:.2}" stroke-dasharray="{:.2} {:.2} {:.2} {:.2}" stroke-linejoin="round" fill-rule="evenodd"/>"##,
                frame.path(&t.polygon),
                0.9 * ts,
                3.0 * ts,
                0.9 * ts,
                0.6 * ts,
                0.9 * ts
            );
        }
        // Service circles: the zone's own and planned facilities only.
        for f in input.facilities.iter().filter(|f| f.service_circle) {
            if let Some(r) = f.radius_m {
                let colour = &sym.facility(&f.kind).color;
                let (x, y) = frame.xy(f.point);
                let _ = write!(
                    svg,
                    r##"<circle class="service" cx="{x:.2}" cy="{y:.2}" r="{:.2}" fill="{colour}" fill-opacity="0.07" stroke="{colour}" stroke-width="{:.2}" stroke-dasharray="{:.2} {:.2}"/>"##,
                    r * frame.s,
                    0.35 * ts,
                    1.4 * ts,
                    0.8 * ts
                );
            }
        }
        for z in &input.zones {
            let _ = write!(
                svg,
                r##"<path d="{}" fill="none" stroke="{}" stroke-width="{:.2}" stroke-linejoin="round" fill-rule="evenodd"/>"##,
                frame.path(&z.polygon),
                sym.zone_line,
                if input.label_zones {
                    0.5 * ts
                } else {
                    1.2 * ts
                }
            );
        }
        // Violations (overview): the zone outlined in the violation colour.
        for z in input.zones.iter().filter(|z| !z.violations.is_empty()) {
            let _ = write!(
                svg,
                r##"<path d="{}" fill="none" stroke="{}" stroke-width="{:.2}" stroke-linejoin="round" fill-rule="evenodd"/>"##,
                frame.path(&z.polygon),
                sym.violation,
                0.9 * ts
            );
        }
        classes_present
    }

    /// The kilometre grid, over the land but under the symbols; returns its lines.
    fn grid(&mut self) -> Vec<(bool, f64, f64)> {
        let ts = self.ts;
        let frame = &self.frame;
        let fa = self.frame.area;
        let svg = &mut self.svg;
        // The kilometre grid, over the land but under the symbols.
        let grid = grid_lines(frame);
        for (is_x, _, p) in &grid {
            let (x1, y1, x2, y2) = if *is_x {
                (*p, fa.y, *p, fa.bottom())
            } else {
                (fa.x, *p, fa.right(), *p)
            };
            let _ = write!(
                svg,
                r##"<line x1="{x1:.2}" y1="{y1:.2}" x2="{x2:.2}" y2="{y2:.2}" stroke="{GRID_LINE}" stroke-width="{:.2}" stroke-opacity="0.55"/>"##,
                0.15 * ts
            );
        }

        grid
    }

    /// Facility badges, key-village stars and violation marks; their boxes keep labels off
    /// them. Returns the star size and how many violation marks were drawn.
    fn symbols(&mut self, placer: &mut LabelPlacer) -> (f64, usize) {
        let input = self.input;
        let sym = self.sym;
        let ts = self.ts;
        let body = self.body;
        let frame = &self.frame;
        let fa = self.frame.area;
        let svg = &mut self.svg;
        let badge_r = BADGE_R_MM * ts;
        let mut facilities: Vec<&SheetFacility> = input.facilities.iter().collect();
        // Planned facilities on top.
        facilities.sort_by_key(|f| f.planned);
        for f in &facilities {
            let (x, y) = frame.xy(f.point);
            if !(fa.x..=fa.right()).contains(&x) || !(fa.y..=fa.bottom()).contains(&y) {
                continue;
            }
            svg.push_str(&badge(
                &f.kind,
                sym.facility(&f.kind),
                x,
                y,
                badge_r,
                f.planned,
            ));
            placer.taken.push(Area {
                x: x - badge_r,
                y: y - badge_r,
                w: 2.0 * badge_r,
                h: 2.0 * badge_r,
            });
        }
        let star_r = 2.4 * ts;
        let mut stars: Vec<(f64, f64)> = Vec::new();
        for v in input.villages.iter().filter(|v| v.is_key) {
            stars.push(frame.xy(v.anchor));
        }
        for z in &input.zones {
            if let Some((c, _)) = &z.key {
                stars.push(frame.xy(*c));
            }
        }
        let star_size = if input.label_zones {
            star_r * 0.7
        } else {
            star_r
        };
        for &(x, y) in &stars {
            let _ = write!(
                svg,
                r##"<path d="{}" fill="{}" stroke="#7a5a00" stroke-width="{:.2}"/>"##,
                star(x, y, star_size),
                sym.key_village,
                0.2 * ts
            );
            placer.taken.push(Area {
                x: x - star_size,
                y: y - star_size,
                w: 2.0 * star_size,
                h: 2.0 * star_size,
            });
        }
        // Violation marks: a red triangle with "!" at the zone's inner point.
        let mut marks = 0;
        for z in input.zones.iter().filter(|z| !z.violations.is_empty()) {
            let Some(c) = ({
                use geo::InteriorPoint;
                z.polygon.interior_point()
            }) else {
                continue;
            };
            let (x, y) = frame.xy(c.0);
            let (x, y) = (x + 3.5 * ts, y - 3.5 * ts);
            let r = 2.2 * ts;
            let _ = write!(
                svg,
                r##"<path class="violation" d="M{x:.2} {:.2}L{:.2} {:.2}L{:.2} {:.2}Z" fill="{}" stroke="#ffffff" stroke-width="{:.2}"/><text x="{x:.2}" y="{:.2}" font-size="{:.2}" font-weight="bold" text-anchor="middle" fill="#ffffff">!</text>"##,
                y - r,
                x + r,
                y + r * 0.8,
                x - r,
                y + r * 0.8,
                sym.violation,
                0.25 * ts,
                y + r * 0.65,
                body,
            );
            placer.taken.push(Area {
                x: x - r,
                y: y - r,
                w: 2.0 * r,
                h: 1.8 * r,
            });
            marks += 1;
        }

        (star_size, marks)
    }

    /// Labels, most important first (villages; or townships and zones on the overview), then
    /// closes the map group.
    fn labels(&mut self, placer: &mut LabelPlacer, star_size: f64) {
        let input = self.input;
        let ts = self.ts;
        let body = self.body;
        let frame = &self.frame;
        let svg = &mut self.svg;
        // Labels, most important first.
        let halo = 0.7 * ts;
        let label_size = if input.paper == Paper::A4 {
            body
        } else {
            3.2 * ts
        };
        if !input.label_zones {
            let mut order: Vec<&SheetVillage> = input.villages.iter().collect();
            order.sort_by(|a, b| {
                b.is_key
                    .cmp(&a.is_key)
                    .then(b.priority.total_cmp(&a.priority))
            });
            for v in order {
                let (x, y) = frame.xy(v.anchor);
                let size = if v.is_key {
                    label_size * 1.15
                } else {
                    label_size
                };
                let w = text_width(&v.name, size) + 0.6 * ts;
                let h = size * 1.1;
                let clear = if v.is_key { star_size + h / 2.0 } else { 0.0 };
                let at = placer.place((x, y), w, h, clear);
                halo_text(
                    svg,
                    (at.x + at.w / 2.0, at.y + h * 0.82),
                    size,
                    &v.name,
                    if v.is_key {
                        r##" font-weight="bold""##
                    } else {
                        ""
                    },
                    halo,
                );
            }
        } else {
            // Townships first (larger, soft), then zones.
            for t in &input.townships {
                let Some(c) = ({
                    use geo::InteriorPoint;
                    t.polygon.interior_point()
                }) else {
                    continue;
                };
                let size = 4.2 * ts;
                let (w, h) = (text_width(&t.name, size) + ts, size * 1.1);
                let at = placer.place(frame.xy(c.0), w, h, 0.0);
                let _ = write!(
                    svg,
                    r##"<text x="{:.2}" y="{:.2}" font-size="{size:.2}" text-anchor="middle" fill="{TOWN_LINE}" fill-opacity="0.85" stroke="#ffffff" stroke-width="{halo:.2}" stroke-linejoin="round" paint-order="stroke" letter-spacing="{:.2}">{}</text>"##,
                    at.x + at.w / 2.0,
                    at.y + h * 0.82,
                    0.4 * ts,
                    escape(&t.name)
                );
            }
            for z in &input.zones {
                let Some(c) = ({
                    use geo::InteriorPoint;
                    z.polygon.interior_point()
                }) else {
                    continue;
                };
                let (x, y) = frame.xy(c.0);
                let size = body;
                let h = size * 1.1;
                let width = |t: &str| text_width(t, size) + 0.6 * ts;
                // The name where it fits; else the zone's id (the panel lists ids with names).
                let (text, at) = match placer.try_place((x, y + h), width(&z.label), h, 0.0) {
                    Some(at) => (z.label.as_str(), at),
                    None => (
                        z.id.as_str(),
                        placer.place((x, y + h), width(&z.id), h, 0.0),
                    ),
                };
                halo_text(
                    svg,
                    (at.x + at.w / 2.0, at.y + h * 0.82),
                    size,
                    text,
                    "",
                    halo,
                );
            }
        }
        let _ = write!(svg, "</g>");
    }

    /// The frame line and the grid labels outside it.
    fn frame_and_grid_labels(&mut self, grid: &[(bool, f64, f64)]) {
        let ts = self.ts;
        let body = self.body;
        let fa = self.frame.area;
        let svg = &mut self.svg;
        let _ = write!(
            svg,
            r##"<rect x="{:.2}" y="{:.2}" width="{:.2}" height="{:.2}" fill="none" stroke="#333333" stroke-width="{:.2}"/>"##,
            fa.x,
            fa.y,
            fa.w,
            fa.h,
            0.4 * ts
        );
        // Grid labels outside the frame: eastings above, northings left (rotated), in km.
        for (is_x, value, p) in grid {
            let text = grid_label(*value, grid_step(grid));
            if *is_x {
                let _ = write!(
                    svg,
                    r##"<text x="{p:.2}" y="{:.2}" font-size="{body:.2}" text-anchor="middle" fill="{TEXT_SOFT}">{text}</text>"##,
                    fa.y - 1.2 * ts
                );
            } else {
                let lx = fa.x - 1.2 * ts;
                let _ = write!(
                    svg,
                    r##"<text x="{lx:.2}" y="{p:.2}" font-size="{body:.2}" text-anchor="middle" fill="{TEXT_SOFT}" transform="rotate(-90 {lx:.2} {p:.2})">{text}</text>"##
                );
            }
        }
    }

    /// The north arrow in its reserved box.
    fn north_arrow(&mut self, furniture: &Furniture) {
        let ts = self.ts;
        let svg = &mut self.svg;
        let (nx, ny) = (furniture.nx, furniture.ny);
        // North arrow (grid north of the Gauss–Krüger zone).
        let _ = write!(
            svg,
            r##"<rect x="{:.2}" y="{:.2}" width="{:.2}" height="{:.2}" fill="#ffffff" fill-opacity="0.8"/><path d="M{nx:.2} {ny:.2} L{:.2} {:.2} L{nx:.2} {:.2} L{:.2} {:.2} Z" fill="#222222"/><text x="{nx:.2}" y="{:.2}" font-size="{:.2}" text-anchor="middle" fill="#222222">北</text>"##,
            nx - 4.0 * ts,
            ny - 1.0 * ts,
            8.0 * ts,
            16.0 * ts,
            nx + 3.0 * ts,
            ny + 9.0 * ts,
            ny + 6.8 * ts,
            nx - 3.0 * ts,
            ny + 9.0 * ts,
            ny + 13.8 * ts,
            3.8 * ts
        );
    }

    /// The scale bar in its reserved box.
    fn scale_bar(&mut self, furniture: &Furniture) {
        let ts = self.ts;
        let body = self.body;
        let svg = &mut self.svg;
        let Furniture {
            metres,
            bar,
            bx,
            by,
            scale_box,
            ..
        } = *furniture;
        // Scale bar: a round length near 40 mm on paper, and the ratio.
        let _ = write!(
            svg,
            r##"<rect x="{:.2}" y="{:.2}" width="{:.2}" height="{:.2}" fill="#ffffff" fill-opacity="0.85"/>"##,
            scale_box.x, scale_box.y, scale_box.w, scale_box.h
        );
        for i in 0..4 {
            let _ = write!(
                svg,
                r##"<rect x="{:.2}" y="{by:.2}" width="{:.2}" height="{:.2}" fill="{}" stroke="#222222" stroke-width="{:.2}"/>"##,
                bx + bar / 4.0 * i as f64,
                bar / 4.0,
                1.4 * ts,
                if i % 2 == 0 { "#222222" } else { "#ffffff" },
                0.2 * ts
            );
        }
        let length_text = if metres >= 1000.0 {
            format!("{} 千米", metres / 1000.0)
        } else {
            format!("{metres} 米")
        };
        let _ = write!(
            svg,
            r##"<text x="{bx:.2}" y="{:.2}" font-size="{body:.2}" text-anchor="middle" fill="#222222">0</text><text x="{:.2}" y="{:.2}" font-size="{body:.2}" text-anchor="middle" fill="#222222">{length_text}</text><text x="{:.2}" y="{:.2}" font-size="{body:.2}" fill="#222222">比例尺 1:{}</text>"##,
            by - 1.2 * ts,
            bx + bar,
            by - 1.2 * ts,
            bx + bar + 9.0 * ts,
            by + 1.5 * ts,
            group_digits(furniture.ratio)
        );
    }

    /// The legend: one entry per line, its text wrapped to the column.
    fn legend(
        &mut self,
        flow: &mut Flow,
        mut classes_present: Vec<&'static str>,
        marks: usize,
        grid: &[(bool, f64, f64)],
    ) {
        let input = self.input;
        let sym = self.sym;
        let ts = self.ts;
        let body = self.body;
        let badge_r = BADGE_R_MM * self.ts;
        let svg = &mut self.svg;
        // Legend: one entry per line, its text wrapped to the column.
        heading(svg, flow, ts, "图例");
        let sw = 6.0 * ts;
        let mut legend: Vec<(String, String)> = Vec::new();
        let line = |colour: &str, width: f64, dash: &str| {
            format!(
                r##"<line x1="0" y1="{:.2}" x2="{sw:.2}" y2="{:.2}" stroke="{colour}" stroke-width="{width:.2}"{dash}/>"##,
                body * 0.5,
                body * 0.5
            )
        };
        let swatch = |fill: &str, extra: &str| {
            format!(
                r##"<rect width="{sw:.2}" height="{:.2}" fill="{fill}"{extra}/>"##,
                body
            )
        };
        if input.label_zones {
            legend.push((line(&sym.zone_line, 0.5 * ts, ""), "片区界线".into()));
            if !input.townships.is_empty() {
                legend.push((
                    line(
                        TOWN_LINE,
                        0.9 * ts,
                        &format!(
                            r##" stroke-dasharray="{:.2} {:.2} {:.2} {:.2}""##,
                            3.0 * ts,
                            0.9 * ts,
                            0.6 * ts,
                            0.9 * ts
                        ),
                    ),
                    "乡镇界".into(),
                ));
            }
            if marks > 0 {
                legend.push((
                    format!(
                        r##"<path d="M{:.2} 0L{:.2} {:.2}L{:.2} {:.2}Z" fill="{}"/>"##,
                        sw / 2.0,
                        sw / 2.0 + body * 0.6,
                        body,
                        sw / 2.0 - body * 0.6,
                        body,
                        sym.violation
                    ),
                    "违反约束的片区（红线）".into(),
                ));
            }
        } else {
            legend.push((line(&sym.zone_line, 1.2 * ts, ""), "片区范围".into()));
            legend.push((
                line(
                    MEMBER_LINE,
                    0.6 * ts,
                    &format!(r##" stroke-dasharray="{:.2} {:.2}""##, 2.0 * ts, 0.8 * ts),
                ),
                "成员村界".into(),
            ));
            if !input.context.is_empty() {
                legend.push((
                    swatch(CONTEXT_FILL, r##" fill-opacity="0.55""##),
                    "相邻片区 / 片区外".into(),
                ));
            }
        }
        legend.push((
            format!(
                r##"<path d="{}" fill="{}" stroke="#7a5a00" stroke-width="0.2"/>"##,
                star(sw / 2.0, body * 0.5, body * 0.55),
                sym.key_village
            ),
            "中心村".into(),
        ));
        if !input.greenhouses.is_empty() {
            legend.push((
                swatch("url(#gh)", r##" stroke="#34495e" stroke-width="0.15""##),
                "大棚".into(),
            ));
        }
        // Facility kinds in the table's order; kinds the table does not list share one entry.
        let mut kinds: Vec<&str> = input.facilities.iter().map(|f| f.kind.as_str()).collect();
        kinds.sort_by_key(|k| (sym.facility_rank(k), *k));
        kinds.dedup();
        let (known, others): (Vec<&str>, Vec<&str>) =
            kinds.iter().partition(|k| sym.knows_facility(k));
        for kind in &known {
            let radii: Vec<f64> = input
                .facilities
                .iter()
                .filter(|f| f.kind == *kind && f.service_circle)
                .filter_map(|f| f.radius_m)
                .collect();
            let radius = match radii.first() {
                Some(r) if radii.iter().all(|x| (x - r).abs() < 0.5) => {
                    format!("（服务半径 {r:.0} 米）")
                }
                Some(_) => "（服务半径按设施）".into(),
                None => String::new(),
            };
            legend.push((
                badge(
                    kind,
                    sym.facility(kind),
                    sw / 2.0,
                    body * 0.5,
                    badge_r,
                    false,
                ),
                format!("{kind}{radius}"),
            ));
        }
        if !others.is_empty() {
            legend.push((
                badge(
                    others[0],
                    &sym.facility_other,
                    sw / 2.0,
                    body * 0.5,
                    badge_r,
                    false,
                ),
                format!("其他设施：{}", others.join("、")),
            ));
        }
        if input.facilities.iter().any(|f| f.planned) {
            let kind = input
                .facilities
                .iter()
                .find(|f| f.planned)
                .map_or("", |f| f.kind.as_str());
            legend.push((
                badge(
                    kind,
                    sym.facility(kind),
                    sw / 2.0,
                    body * 0.5,
                    badge_r,
                    true,
                ),
                "规划设施（空心）".into(),
            ));
        }
        if input.facilities.iter().any(|f| f.service_circle) {
            legend.push((
            format!(
                r##"<circle cx="{:.2}" cy="{:.2}" r="{:.2}" fill="none" stroke="{TEXT_SOFT}" stroke-width="{:.2}" stroke-dasharray="{:.2} {:.2}"/>"##,
                sw / 2.0,
                body * 0.5,
                body * 0.55,
                0.35 * ts,
                1.0 * ts,
                0.6 * ts
            ),
            "服务半径（本片区及规划设施）".into(),
        ));
        }
        classes_present.sort();
        for class in &classes_present {
            if let Some(c) = sym.land_class(class) {
                legend.push((swatch(&c.color, ""), c.name.clone()));
            }
        }
        if let Some(step) = grid_step(grid) {
            legend.push((
                line(GRID_LINE, 0.15 * ts, ""),
                format!("公里网（间隔 {}）", length_words(step)),
            ));
        }
        for (symbol, text) in &legend {
            let lines = {
                let w = flow.columns[flow.column].w - sw - 2.0 * ts;
                wrap(text, body, w)
            };
            let h = (lines.len().max(1) as f64 * body * 1.15).max(body * 1.45);
            let Some((x, y, _)) = flow.take(h, 0.0) else {
                continue;
            };
            let _ = write!(
                svg,
                r##"<g transform="translate({x:.2} {:.2})">{symbol}</g>"##,
                y + 0.1 * ts
            );
            for (j, l) in lines.iter().enumerate() {
                let _ = write!(
                    svg,
                    r##"<text x="{:.2}" y="{:.2}" font-size="{body:.2}" fill="#222222">{}</text>"##,
                    x + sw + 1.5 * ts,
                    y + body * 0.88 + j as f64 * body * 1.15,
                    escape(l)
                );
            }
        }
    }

    /// The statistics table.
    fn statistics(&mut self, flow: &mut Flow) {
        let input = self.input;
        let ts = self.ts;
        let body = self.body;
        let row_h = self.body * 1.3;
        let svg = &mut self.svg;
        // Statistics: label left, value right; a value that does not fit goes under its label.
        heading(svg, flow, ts, "统计");
        for (label, value) in &input.table {
            let w = flow.columns[flow.column].w;
            if value.is_empty() {
                flow.space(1.0 * ts);
                if let Some((x, y, _)) = flow.take(row_h, row_h) {
                    let _ = write!(
                        svg,
                        r##"<text x="{x:.2}" y="{:.2}" font-size="{body:.2}" font-weight="bold" fill="#333333">{}</text>"##,
                        y + body * 0.95,
                        escape(label)
                    );
                }
                continue;
            }
            let fits = text_width(label, body) + text_width(value, body) + 4.0 * ts <= w - 1.5 * ts;
            // A value that does not fit beside its label goes under it, wrapped, right-aligned.
            let value_lines = if fits {
                vec![value.clone()]
            } else {
                wrap(value, body, w - 4.0 * ts)
            };
            let h = row_h * (value_lines.len() + usize::from(!fits)) as f64;
            let Some((x, y, w)) = flow.take(h, 0.0) else {
                continue;
            };
            let _ = write!(
                svg,
                r##"<text x="{:.2}" y="{:.2}" font-size="{body:.2}" fill="#222222">{}</text><line x1="{x:.2}" y1="{:.2}" x2="{:.2}" y2="{:.2}" stroke="#dddddd" stroke-width="0.15"/>"##,
                x + 1.5 * ts,
                y + body * 0.95,
                escape(label),
                y + h - 0.2 * ts,
                x + w,
                y + h - 0.2 * ts
            );
            let first = if fits { y } else { y + row_h };
            for (i, l) in value_lines.iter().enumerate() {
                let _ = write!(
                    svg,
                    r##"<text x="{:.2}" y="{:.2}" font-size="{body:.2}" text-anchor="end" fill="#222222">{}</text>"##,
                    x + w,
                    first + i as f64 * row_h + body * 0.95,
                    escape(l)
                );
            }
        }
    }

    /// The zone's notes, then the list (members or zones).
    fn notes_and_list(&mut self, flow: &mut Flow) {
        let input = self.input;
        let sym = self.sym;
        let ts = self.ts;
        let body = self.body;
        let row_h = self.body * 1.3;
        let svg = &mut self.svg;
        // Notes, then the list (members or zones).
        if !input.notes.trim().is_empty() {
            heading(svg, flow, ts, "备注");
            let w = flow.columns[flow.column].w;
            for l in wrap(input.notes.trim(), body, w) {
                if let Some((x, y, _)) = flow.take(row_h, 0.0) {
                    let _ = write!(
                        svg,
                        r##"<text x="{x:.2}" y="{:.2}" font-size="{body:.2}" fill="#222222">{}</text>"##,
                        y + body * 0.95,
                        escape(&l)
                    );
                }
            }
        }
        heading(svg, flow, ts, &input.list_title);
        let mut items = input.list.iter().peekable();
        let mut shown = 0;
        while items.peek().is_some() {
            // Fill one line of the current column with whole items.
            let w = flow.columns[flow.column].w;
            let mut text = String::new();
            let mut taken = 0;
            while let Some(item) = items.peek() {
                let piece = format!("{item}、");
                if !text.is_empty() && text_width(&text, body) + text_width(&piece, body) > w {
                    break;
                }
                text.push_str(&piece);
                items.next();
                taken += 1;
            }
            if items.peek().is_none() {
                text.pop();
            }
            let Some((x, y, _)) = flow.take(row_h, 0.0) else {
                break;
            };
            shown += taken;
            let _ = write!(
                svg,
                r##"<text x="{x:.2}" y="{:.2}" font-size="{body:.2}" fill="#222222">{}</text>"##,
                y + body * 0.95,
                escape(&text)
            );
        }
        if shown < input.list.len() || flow.dropped > 0 {
            // No room left: say so in the last line of the last column.
            let col = flow.columns[flow.columns.len() - 1];
            let _ = write!(
                svg,
                r##"<rect x="{:.2}" y="{:.2}" width="{:.2}" height="{:.2}" fill="#ffffff"/><text x="{:.2}" y="{:.2}" font-size="{body:.2}" fill="{}">{}</text>"##,
                col.x,
                col.bottom() - row_h,
                col.w,
                row_h,
                col.x,
                col.bottom() - row_h + body * 0.95,
                sym.violation,
                wrap("… 余见导出的成员表与统计表", body, col.w)[0]
            );
        }
    }

    /// The title block (图签).
    fn title_block(&mut self, ratio: i64) {
        let input = self.input;
        let ts = self.ts;
        let body = self.body;
        let page = &self.page;
        let svg = &mut self.svg;
        // Title block (图签).
        let tb = page.title_block;
        let tb_rows = [
            ("编制单位", input.title_block.organization.as_str()),
            ("方案", input.title_block.plan.as_str()),
            ("图号", input.title_block.number.as_str()),
            ("比例尺", &format!("1:{}", group_digits(ratio))),
            ("坐标系", input.title_block.crs.as_str()),
            ("制图日期", input.title_block.date.as_str()),
        ];
        let rh = tb.h / tb_rows.len() as f64;
        let label_w = 18.0 * ts;
        let _ = write!(
            svg,
            r##"<rect x="{:.2}" y="{:.2}" width="{:.2}" height="{:.2}" fill="#ffffff" stroke="#333333" stroke-width="{:.2}"/><line x1="{:.2}" y1="{:.2}" x2="{:.2}" y2="{:.2}" stroke="#333333" stroke-width="0.2"/>"##,
            tb.x,
            tb.y,
            tb.w,
            tb.h,
            0.4 * ts,
            tb.x + label_w,
            tb.y,
            tb.x + label_w,
            tb.bottom()
        );
        for (i, (label, value)) in tb_rows.iter().enumerate() {
            let y = tb.y + i as f64 * rh;
            if i > 0 {
                let _ = write!(
                    svg,
                    r##"<line x1="{:.2}" y1="{y:.2}" x2="{:.2}" y2="{y:.2}" stroke="#333333" stroke-width="0.2"/>"##,
                    tb.x,
                    tb.right()
                );
            }
            let value = wrap(value, body, tb.w - label_w - 3.0 * ts)
                .into_iter()
                .next()
                .unwrap_or_default();
            let _ = write!(
                svg,
                r##"<text x="{:.2}" y="{:.2}" font-size="{body:.2}" fill="{TEXT_SOFT}">{label}</text><text x="{:.2}" y="{:.2}" font-size="{body:.2}" fill="{TEXT}">{}</text>"##,
                tb.x + 1.5 * ts,
                y + rh / 2.0 + body * 0.36,
                tb.x + label_w + 1.5 * ts,
                y + rh / 2.0 + body * 0.36,
                escape(&value)
            );
        }
    }

    /// Sources and method under the map.
    fn footer(&mut self) {
        let input = self.input;
        let body = self.body;
        let page = &self.page;
        let svg = &mut self.svg;
        // Under the map: sources and method, as many lines as there is room for.
        let (fx, fy, fw, n) = page.footer;
        let lines: Vec<String> = input
            .footer
            .iter()
            .flat_map(|l| wrap(l, body, fw))
            .collect();
        for (i, l) in lines.iter().take(n).enumerate() {
            let text = if i + 1 == n && lines.len() > n {
                let mut t: String = l
                    .chars()
                    .take(l.chars().count().saturating_sub(1))
                    .collect();
                t.push('…');
                t
            } else {
                l.clone()
            };
            let _ = write!(
                svg,
                r##"<text x="{fx:.2}" y="{:.2}" font-size="{body:.2}" fill="#555555">{}</text>"##,
                fy + i as f64 * body * 1.25,
                escape(&text)
            );
        }
    }

    /// Where the north arrow and the scale bar go: a round length near 40 mm on paper.
    fn furniture(&self) -> Furniture {
        let (ts, fa, frame) = (self.ts, self.frame.area, &self.frame);
        let metres = nice_length(40.0 * ts / frame.s);
        let bar = metres * frame.s;
        let (bx, by) = (fa.x + 5.0 * ts, fa.bottom() - 7.0 * ts);
        Furniture {
            nx: fa.right() - 9.0 * ts,
            ny: fa.y + 5.0 * ts,
            metres,
            bar,
            bx,
            by,
            scale_box: Area {
                x: bx - 2.0 * ts,
                y: by - 5.5 * ts,
                w: bar + 40.0 * ts,
                h: 10.5 * ts,
            },
            ratio: (1000.0 / frame.s).round() as i64,
        }
    }

    /// A label placer over the map frame with the north arrow's and scale bar's boxes taken.
    fn label_placer(&self, furniture: &Furniture) -> LabelPlacer {
        let (ts, fa) = (self.ts, self.frame.area);
        let (nx, ny) = (furniture.nx, furniture.ny);
        LabelPlacer {
            frame: Area {
                x: fa.x + 0.5,
                y: fa.y + 0.5,
                w: fa.w - 1.0,
                h: fa.h - 1.0,
            },
            taken: vec![
                Area {
                    x: nx - 4.0 * ts,
                    y: ny - 1.0 * ts,
                    w: 8.0 * ts,
                    h: 16.0 * ts,
                },
                furniture.scale_box,
            ],
        }
    }
}

/// Grid lines inside the frame: (is an easting, value in metres, position on paper in mm).
fn grid_lines(frame: &MapFrame) -> Vec<(bool, f64, f64)> {
    let view = frame.bounds();
    let step = nice_length(view.width().max(view.height()) / 5.0).max(100.0);
    let mut out = Vec::new();
    let mut x = (view.min().x / step).ceil() * step;
    while x < view.max().x {
        out.push((true, x, frame.xy(Coord { x, y: 0.0 }).0));
        x += step;
    }
    let mut y = (view.min().y / step).ceil() * step;
    while y < view.max().y {
        out.push((false, y, frame.xy(Coord { x: 0.0, y }).1));
        y += step;
    }
    out
}

fn grid_step(grid: &[(bool, f64, f64)]) -> Option<f64> {
    let xs: Vec<f64> = grid.iter().filter(|g| g.0).map(|g| g.1).collect();
    xs.windows(2).map(|w| w[1] - w[0]).next()
}

/// A grid value in kilometres, with the decimals the step needs.
fn grid_label(value: f64, step: Option<f64>) -> String {
    if step.unwrap_or(1000.0) >= 1000.0 {
        format!("{:.0}", value / 1000.0)
    } else {
        format!("{:.1}", value / 1000.0)
    }
}

fn length_words(metres: f64) -> String {
    if metres >= 1000.0 {
        format!("{} 千米", metres / 1000.0)
    } else {
        format!("{metres} 米")
    }
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
        assert_eq!(nice_length(999.0), 500.0);
        assert_eq!(nice_length(10.0), 10.0);
        assert_eq!(group_digits(50000), "50,000");
        assert_eq!(group_digits(999), "999");
        let lines = wrap("一二三四五六七八九十", 3.0, 9.0);
        assert_eq!(lines, vec!["一二三", "四五六", "七八九", "十"]);
        assert_eq!(land_class("0702"), "07");
        assert_eq!(land_class("1106"), "00");
        assert_eq!(escape("a<b&\"c\""), "a&lt;b&amp;&quot;c&quot;");
        assert_eq!(grid_label(4_012_000.0, Some(1000.0)), "4012");
        assert_eq!(grid_label(512_500.0, Some(500.0)), "512.5");
        assert_eq!(Paper::parse("A3-Portrait"), Some(Paper::A3Portrait));
        assert_eq!(Paper::parse("a1"), Some(Paper::A1Portrait));
        assert_eq!(Paper::parse("a0"), None);
    }

    #[test]
    fn every_layout_fits_its_paper() {
        for paper in [Paper::A4, Paper::A3, Paper::A3Portrait, Paper::A1Portrait] {
            let (pw, ph) = paper.size_mm();
            let l = layout(paper);
            let page = Area {
                x: 0.0,
                y: 0.0,
                w: pw,
                h: ph,
            };
            for a in l.columns.iter().chain([&l.frame, &l.title_block]) {
                assert!(
                    a.inside(&page) && a.w > 40.0 && a.h > 20.0,
                    "{paper:?}: {a:?}"
                );
                assert_eq!(a.overlap(&l.frame) > 0.0, a == &l.frame, "{paper:?}: {a:?}");
            }
            for c in &l.columns {
                assert_eq!(c.overlap(&l.title_block), 0.0, "{paper:?}");
            }
            assert!(
                l.frame.w * l.frame.h > 0.4 * pw * ph,
                "{paper:?}: the map is the sheet"
            );
        }
    }

    #[test]
    fn labels_avoid_symbols_and_each_other_when_there_is_room() {
        let mut placer = LabelPlacer {
            frame: Area {
                x: 0.0,
                y: 0.0,
                w: 100.0,
                h: 100.0,
            },
            taken: vec![Area {
                x: 48.0,
                y: 48.0,
                w: 4.0,
                h: 4.0,
            }],
        };
        // Three labels wanting the same spot, over a symbol.
        let boxes: Vec<Area> = (0..3)
            .map(|_| placer.place((50.0, 50.0), 12.0, 3.3, 0.0))
            .collect();
        for (i, a) in boxes.iter().enumerate() {
            assert_eq!(a.overlap(&placer.taken[0]), 0.0, "label {i} on the symbol");
            for b in &boxes[..i] {
                assert_eq!(a.overlap(b), 0.0, "labels overlap");
            }
            assert!(a.inside(&placer.frame));
        }
        // With no room anywhere, it still places the label (least overlap), never drops it.
        let mut crowded = LabelPlacer {
            frame: Area {
                x: 0.0,
                y: 0.0,
                w: 10.0,
                h: 10.0,
            },
            taken: vec![Area {
                x: 0.0,
                y: 0.0,
                w: 10.0,
                h: 10.0,
            }],
        };
        let a = crowded.place((5.0, 5.0), 4.0, 2.0, 0.0);
        assert!(a.w == 4.0 && crowded.taken.len() == 2);
    }
}
