//! The spatial engine: pure, synchronous computation on geometries, no files and no HTTP.
//!
//! - [`cancel`]: cooperative cancellation of long runs (client gone, server stopping).
//! - [`contiguity`]: the adjacency graph of villages (rook/queen, tolerant of gaps and overlaps).
//! - [`crs`]: CGCS2000 coordinate systems, Gauss–Krüger zone detection, reprojection with PROJ.
//! - [`geometry`]: coordinate traversal and small geometry helpers shared by the modules below.
//! - [`validate`]: per-feature validity checks and repairs; gaps and overlaps between villages.
//! - [`index`]: the in-memory R-tree per layer over metric geometries.
//! - [`simplify`]: simplification that keeps the borders neighbours share coincident.
//! - [`tiles`]: Mapbox Vector Tiles: tile math, clipping, quantising, encoding.
//! - [`zoning`]: joint-village zones: proposal ("strong leads weak") and evaluation.
//! - [`random`]: the seeded generator behind every randomised step.
//! - [`stats`]: per-village statistics (land use, greenhouses, facilities, density).

pub mod cancel;
pub mod contiguity;
pub mod crs;
pub mod geometry;
pub mod index;
pub mod location;
pub mod network;
pub mod random;
pub mod simplify;
pub mod stats;
pub mod tiles;
pub mod validate;
pub mod zoning;
