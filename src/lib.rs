//! liancun (联村) — joint-village zone planning.
//!
//! Where things live, from the data up to the front doors (no module imports one above it):
//! - [`domain`]: layers, canonical fields, land-use codes, roles, feature values — no I/O.
//! - [`engine`]: pure, synchronous algorithms on metric geometries: CRS handling, spatial index,
//!   validation, statistics, contiguity, road networks, tiles, and the two optimisers
//!   (`engine::zoning`: proposing, evaluating and certifying zones; `engine::location`: LSCP,
//!   MCLP, p-median, p-center).
//! - [`store`]: the [`store::FeatureStore`] and plan-store traits, their GeoPackage and PostGIS
//!   backends, and `workspace copy` between them.
//! - [`ingest`]: readers for GeoJSON, Shapefile, CSV and GeoPackage, encodings, field mapping and
//!   the import pipeline with its validation report.
//! - [`workspace`]: one opened workspace (store, CRS, data version).
//! - [`demo`]: the deterministic demo-county generator (villages, parcels, facilities, roads).
//! - Services between the engine and the front doors, shared by the CLI and HTTP:
//!   [`zones`] (a village becomes a zone here: loading, requests, proposals, evaluations and
//!   their typed reports), [`location`] (coverage, site selection, center villages),
//!   [`plan`] (versioned plans, checks, exports, one-zone-one-plan sheets), [`request`] (the
//!   checks both doors apply alike), [`report`] (CSV helpers), [`render`] (SVG/PDF sheets and
//!   the shared symbology), [`auth`] (tokens), [`lang`] (the CLI's message language).
//! - [`api`]: the HTTP API and web map; the CLI lives in the binary (`src/main.rs`, `src/cli/`).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

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
pub mod request;
pub mod store;
pub mod workspace;
pub mod zones;
