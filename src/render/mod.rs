//! Map sheets: SVG drawn here, turned into PDF (text stays text, the font subset-embedded) by
//! `svg2pdf` and into PNG by `resvg`.
//!
//! - [`sheet`]: the one-zone-one-plan (一片一规划) sheet and the county overview, as SVG, from
//!   metric geometries and tables (pure).
//! - this module: the CJK font and the conversions.
//!
//! The font is WenQuanYi Micro Hei (文泉驿微米黑, Apache-2.0 or GPL-3+ with font exception),
//! shipped in `data/fonts/` and compiled into the binary, so sheets come out the same on a
//! fresh machine with no fonts installed. `LIANCUN_FONT=/path/font.ttf` uses another font
//! (its family name is read from the file).

pub mod sheet;
pub mod symbology;

use std::sync::{Arc, OnceLock};

use svg2pdf::usvg;

/// The shipped CJK font (TrueType collection: Micro Hei and Micro Hei Mono).
static SHIPPED_FONT: &[u8] = include_bytes!("../../data/fonts/wqy-microhei.ttc");

/// The family name SVG text asks for.
pub const FONT_FAMILY: &str = "WenQuanYi Micro Hei";

/// Why a sheet could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The SVG the sheet drew does not parse (a bug, never the user's input).
    #[error("SVG 无法解析 / the sheet SVG does not parse: {0}")]
    Svg(String),
    /// The PDF writer failed.
    #[error("PDF 生成失败 / cannot write the PDF: {0}")]
    Pdf(String),
    /// The rasteriser failed.
    #[error("PNG 生成失败 / cannot write the PNG: {0}")]
    Png(String),
    /// A font file that cannot be read or used.
    #[error("字体 / font {path}: {reason}")]
    Font {
        /// The font file.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
}

struct Fonts {
    db: Arc<usvg::fontdb::Database>,
    family: String,
}

fn fonts() -> Result<&'static Fonts, RenderError> {
    static FONTS: OnceLock<Result<Fonts, String>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let mut db = usvg::fontdb::Database::new();
            let family = match std::env::var("LIANCUN_FONT") {
                Ok(path) if !path.is_empty() => {
                    let bytes = std::fs::read(&path).map_err(|e| format!("{path}: {e}"))?;
                    db.load_font_data(bytes);
                    db.faces()
                        .next()
                        .and_then(|f| f.families.first().map(|(n, _)| n.clone()))
                        .ok_or_else(|| format!("{path}: not a font usvg can read"))?
                }
                _ => {
                    db.load_font_data(SHIPPED_FONT.to_vec());
                    FONT_FAMILY.to_string()
                }
            };
            db.set_sans_serif_family(family.clone());
            Ok(Fonts {
                db: Arc::new(db),
                family,
            })
        })
        .as_ref()
        .map_err(|reason| RenderError::Font {
            path: std::env::var("LIANCUN_FONT")
                .unwrap_or_else(|_| "data/fonts/wqy-microhei.ttc".into()),
            reason: reason.clone(),
        })
}

/// The font family to name in SVG text.
pub fn font_family() -> String {
    fonts().map_or_else(|_| FONT_FAMILY.to_string(), |f| f.family.clone())
}

fn parse(svg: &str) -> Result<usvg::Tree, RenderError> {
    let fonts = fonts()?;
    let options = usvg::Options {
        fontdb: fonts.db.clone(),
        font_family: fonts.family.clone(),
        ..usvg::Options::default()
    };
    usvg::Tree::from_str(svg, &options).map_err(|e| RenderError::Svg(e.to_string()))
}

/// A PDF of one page, the size of the SVG (its width/height in mm), text kept as text.
pub fn svg_to_pdf(svg: &str) -> Result<Vec<u8>, RenderError> {
    let tree = parse(svg)?;
    // usvg measures the SVG in CSS pixels (96 per inch); tell svg2pdf so the page keeps its mm.
    svg2pdf::to_pdf(
        &tree,
        svg2pdf::ConversionOptions::default(),
        svg2pdf::PageOptions { dpi: 96.0 },
    )
    .map_err(|e| RenderError::Pdf(e.to_string()))
}

/// A PNG at `dpi` dots per inch on a white background.
pub fn svg_to_png(svg: &str, dpi: f32) -> Result<Vec<u8>, RenderError> {
    let tree = parse(svg)?;
    let scale = dpi / 96.0;
    let size = tree
        .size()
        .to_int_size()
        .scale_by(scale)
        .ok_or_else(|| RenderError::Png("empty sheet".into()))?;
    let mut pixmap =
        resvg::tiny_skia::Pixmap::new(size.width(), size.height()).ok_or_else(|| {
            RenderError::Png(format!(
                "cannot allocate {}×{} px",
                size.width(),
                size.height()
            ))
        })?;
    pixmap.fill(resvg::tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap
        .encode_png()
        .map_err(|e| RenderError::Png(e.to_string()))
}
