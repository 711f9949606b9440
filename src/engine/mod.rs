//! The spatial engine: pure, synchronous computation on geometries, no files and no HTTP.
//!
//! - [`crs`]: CGCS2000 coordinate systems, Gauss–Krüger zone detection, reprojection with PROJ.
//! - [`geometry`]: coordinate traversal and small geometry helpers shared by the modules below.
//! - [`validate`]: per-feature validity checks and repairs; gaps and overlaps between villages.
//! - [`index`]: the in-memory R-tree per layer over metric geometries.
//! - [`stats`]: per-village statistics (land use, greenhouses, facilities, density).

pub mod crs;
pub mod geometry;
pub mod index;
pub mod stats;
pub mod validate;
