//! liancun (联村) — joint-village zone planning.
//!
//! Where things live:
//! - [`domain`]: layers, canonical fields, land-use codes, feature values — no I/O.
//! - [`engine`]: pure, synchronous algorithms on metric geometries: CRS handling, spatial index,
//!   validation, per-village statistics.
//! - [`store`]: the [`store::FeatureStore`] trait and its GeoPackage backend (the workspace).
//! - [`ingest`]: readers for GeoJSON, Shapefile, CSV and GeoPackage, field mapping and the import
//!   pipeline with its validation report.
//! - [`demo`]: the deterministic demo-county generator.
#![forbid(unsafe_code)]

pub mod api;
pub mod auth;
pub mod demo;
pub mod domain;
pub mod engine;
pub mod ingest;
pub mod lang;
pub mod location;
pub mod plan;
pub mod render;
pub mod report;
pub mod store;
pub mod workspace;
pub mod zones;
