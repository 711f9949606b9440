//! The shapes of the API's answers, for the OpenAPI document only ([`super::openapi`]).
//!
//! Request bodies are the handlers' own types (`ZoneRequest`, `LocateBody`, `EditBody`, …).
//! The answers are still built as JSON values by the engine's report functions, so their shapes
//! are described here: the members every answer has, with their types; nested reports are
//! objects whose members the engine documents. The schema fuzz test (`tests/schema_fuzz.rs`,
//! schemathesis in CI) checks every answer against these, so they cannot drift unnoticed.
#![allow(dead_code)] // described, never constructed

use std::collections::BTreeMap;

use serde_json::Value as Json;
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder, ResponsesBuilder};
use utoipa::{IntoResponses, ToSchema};

/// An error (RFC 9457 problem details). Analyses add members: `field` (the parameter at
/// fault), or for a zoning that cannot be made `constraint`, `villages` and its report.
#[derive(ToSchema)]
pub struct Problem {
    /// Always `about:blank`: the status and title say what happened.
    #[schema(rename = "type")]
    kind: String,
    /// Short title, Chinese then English.
    title: String,
    status: u16,
    /// What was wrong, naming the parameter, feature or village and the reason.
    detail: String,
}

/// The error answers every route can give: 4XX problems (bad input, no or weak token, not
/// found, too large, unsupported media type, precondition failed …), 503 when the analysis
/// pool is full (with `Retry-After`), 500 never with internals.
pub struct Problems;

impl IntoResponses for Problems {
    fn responses() -> BTreeMap<String, RefOr<utoipa::openapi::Response>> {
        let problem = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/problem+json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                )
                .build()
        };
        ResponsesBuilder::new()
            .response(
                "4XX",
                problem("请求有误 / the request was refused: problem details"),
            )
            .response(
                "5XX",
                problem("服务器繁忙或出错 / busy (503, Retry-After) or an internal error"),
            )
            .build()
            .into()
    }
}

/// A link of the OGC API documents.
#[derive(ToSchema)]
pub struct Link {
    href: String,
    rel: String,
    #[schema(rename = "type")]
    media_type: Option<String>,
    title: Option<String>,
}

/// `GET /`: the OGC API landing page.
#[derive(ToSchema)]
pub struct Landing {
    title: String,
    description: String,
    links: Vec<Link>,
}

/// `GET /conformance`.
#[derive(ToSchema)]
pub struct Conformance {
    #[schema(rename = "conformsTo")]
    conforms_to: Vec<String>,
}

/// One collection: a workspace layer or a plan's zones (`plan-{id}`).
#[derive(ToSchema)]
pub struct Collection {
    id: String,
    title: String,
    description: Option<String>,
    #[schema(rename = "itemType")]
    item_type: String,
    crs: Vec<String>,
    extent: Json,
    links: Vec<Link>,
}

/// `GET /collections`.
#[derive(ToSchema)]
pub struct Collections {
    links: Vec<Link>,
    collections: Vec<Collection>,
}

/// A GeoJSON feature (RFC 7946); geometries in the CRS asked for (CRS84 by default).
#[derive(ToSchema)]
pub struct Feature {
    #[schema(rename = "type", pattern = "^Feature$")]
    kind: String,
    /// The feature id (an integer for layers, the zone's position for plan collections; none
    /// for the contiguity graph's lines).
    id: Option<Json>,
    properties: Option<BTreeMap<String, Json>>,
    geometry: Json,
}

/// A page of features (`numberMatched` counts every match, `next` links the next page).
#[derive(ToSchema)]
pub struct FeatureCollection {
    #[schema(rename = "type", pattern = "^FeatureCollection$")]
    kind: String,
    #[schema(rename = "numberMatched")]
    number_matched: Option<u64>,
    #[schema(rename = "numberReturned")]
    number_returned: Option<u64>,
    #[schema(rename = "timeStamp")]
    time_stamp: Option<String>,
    links: Option<Vec<Link>>,
    features: Vec<Feature>,
}

/// TileJSON 3.0 of one vector tile layer.
#[derive(ToSchema)]
pub struct TileJson {
    tilejson: String,
    name: String,
    tiles: Vec<String>,
    minzoom: u8,
    maxzoom: u8,
    bounds: Vec<f64>,
    vector_layers: Vec<BTreeMap<String, Json>>,
}

/// A village in the list: code, name, town, population, industry, strong flag, an interior
/// point and the bbox (lon/lat).
#[derive(ToSchema)]
pub struct VillageSummary {
    code: String,
    name: Option<String>,
    town: Option<String>,
    town_code: Option<String>,
    population: Option<f64>,
    strong: Option<bool>,
    /// An interior point (lon, lat).
    centroid: Option<Vec<f64>>,
    /// minLon, minLat, maxLon, maxLat.
    bbox: Option<Vec<f64>>,
}

/// `GET /villages`.
#[derive(ToSchema)]
pub struct VillageList {
    count: u64,
    villages: Vec<VillageSummary>,
}

/// `GET /villages/{code}`: the summary with households, income, party members and the
/// village's statistics (land use, greenhouses, facilities).
#[derive(ToSchema)]
pub struct VillageProfile {
    code: String,
    name: Option<String>,
    area_m2: Option<f64>,
    land_use_classes: Option<Vec<BTreeMap<String, Json>>>,
    facilities: Option<Json>,
}

/// `GET /analysis/contiguity`: the graph (villages, edges with shared border length, islands,
/// exclaves).
#[derive(ToSchema)]
pub struct ContiguityReport {
    villages: u64,
    edges: Vec<BTreeMap<String, Json>>,
    components: u64,
    islands: Vec<Vec<String>>,
    exclaves: Vec<BTreeMap<String, Json>>,
    metric_crs: String,
}

/// `POST /analysis/zones/propose`: the zones (key village, members, statistics, why), the
/// evaluation and the search's record; with `geojson: true` the dissolved zones.
#[derive(ToSchema)]
pub struct Proposal {
    zones: Vec<BTreeMap<String, Json>>,
    objective: BTreeMap<String, Json>,
    /// Moves the search made.
    moves: u64,
    stopped_by_time_limit: bool,
    seconds: f64,
    /// The request answered (the fields given), for a plan created from this proposal.
    #[schema(value_type = Object)]
    request: Json,
    geojson: Option<Json>,
}

/// `POST /analysis/zones/evaluate`: each zone's statistics and violations, and the totals.
#[derive(ToSchema)]
pub struct Evaluation {
    zones: Vec<BTreeMap<String, Json>>,
    totals: Json,
    seconds: f64,
    geojson: Option<Json>,
}

/// `GET /analysis/service-radii`: the radius per facility kind with its source, and the kinds
/// present in the workspace.
#[derive(ToSchema)]
pub struct ServiceRadii {
    service_radii: Vec<BTreeMap<String, Json>>,
    kinds_present: Json,
}

/// A facility analysis's report (coverage, location or center ranking): its members are those
/// of the model asked for (`model`, the sites, who is covered, the solver's status …).
#[derive(ToSchema)]
#[schema(value_type = Object)]
pub struct AnalysisReport(BTreeMap<String, Json>);

/// One plan in the list.
#[derive(ToSchema)]
pub struct PlanSummary {
    id: i64,
    name: String,
    version: i64,
    etag: String,
    created_at: String,
    created_by: String,
    updated_at: String,
    updated_by: String,
    links: Vec<Link>,
}

/// `GET /plans`.
#[derive(ToSchema)]
pub struct PlanList {
    plans: Vec<PlanSummary>,
}

/// A plan at one version, checked: its zones with members, statistics and violations,
/// unassigned villages and warnings (`PATCH` adds `changes`: the diff and its summary).
#[derive(ToSchema)]
pub struct Plan {
    id: i64,
    name: String,
    /// The version shown, and the plan's newest.
    version: i64,
    head: i64,
    etag: String,
    zones: Vec<BTreeMap<String, Json>>,
    totals: BTreeMap<String, Json>,
    /// Villages in no zone (code and name).
    unassigned: Vec<BTreeMap<String, Json>>,
    warnings: Vec<Json>,
    /// The parameters the plan is checked against.
    params: BTreeMap<String, Json>,
    changes: Option<Json>,
}

/// `GET /plans/{id}/versions`.
#[derive(ToSchema)]
pub struct PlanVersions {
    plan: i64,
    name: String,
    head: i64,
    versions: Vec<BTreeMap<String, Json>>,
}

/// `GET /plans/{id}/diff`: what changed between two versions.
#[derive(ToSchema)]
pub struct PlanDiff {
    from: i64,
    to: i64,
    summary: String,
    changes: BTreeMap<String, Json>,
}

/// `GET /audit`: the audit log, newest first.
#[derive(ToSchema)]
pub struct AuditLog {
    entries: Vec<BTreeMap<String, Json>>,
}

/// `GET /auth/whoami`.
#[derive(ToSchema)]
pub struct WhoAmI {
    /// The token's name; `null` without a token.
    name: Option<String>,
    /// viewer, editor or admin; `null` without a token.
    role: Option<String>,
    can_edit: bool,
    /// Who may read on this server: `public` (anyone) or `viewer` (a token is needed).
    read: String,
}

/// `GET /health`.
#[derive(ToSchema)]
pub struct Health {
    status: String,
    /// The served data version (layer:import counter list).
    data_version: String,
    uptime_s: u64,
}

/// `GET /map/config.json`: what the web map needs before it loads data.
#[derive(ToSchema)]
pub struct MapConfig {
    title: String,
    basemap: Option<String>,
    /// `viewer`: the map asks for a token before it loads any data.
    read: String,
}

/// `f`: the format of a features answer.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum FeatureFormat {
    /// Plain JSON (where a route has a non-GeoJSON answer; the features routes answer GeoJSON
    /// either way).
    Json,
    /// GeoJSON (`application/geo+json`).
    Geojson,
}

fn one_of(values: &[&str], description: &str) -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(values.iter().copied()))
        .description(Some(description))
        .build()
}

/// `model` of `POST /analysis/locate`.
pub fn location_models() -> utoipa::openapi::Object {
    one_of(
        &["lscp", "mclp", "pmedian", "pcenter"],
        "LSCP 最少设施全覆盖 / MCLP 最大覆盖 / p-median 总距离最小 / p-center 最远距离最小",
    )
}

/// `demand`: where a village's demand sits.
pub fn demand_modes() -> utoipa::openapi::Object {
    one_of(
        &["residential", "centroid", "representative", "point"],
        "需求点 / demand points: residential parcels (default), the centroid or an interior point",
    )
}

/// `candidates`: where new facilities may go.
pub fn candidate_modes() -> utoipa::openapi::Object {
    one_of(
        &[
            "representative",
            "point",
            "village",
            "centroid",
            "construction",
        ],
        "候选点 / candidate sites: one per village (default), or construction-land parcels",
    )
}

/// `distance`: straight, along the roads, or in minutes.
pub fn distance_modes() -> utoipa::openapi::Object {
    one_of(
        &[
            "straight",
            "euclidean",
            "network",
            "road",
            "roads",
            "time",
            "minutes",
            "drive",
            "driving",
            "walk",
            "walking",
        ],
        "距离 / distance: straight line (default), along the roads (m), driving time at road speeds or walking time at 5 km/h (min)",
    )
}

/// `method` of the location models.
pub fn location_methods() -> utoipa::openapi::Object {
    one_of(
        &["auto", "exact", "heuristic"],
        "求解方法 / exact MILP where it fits (auto, default), always exact, or heuristic with a bound",
    )
}

/// `industry_mode` of the zone analyses.
pub fn industry_modes() -> utoipa::openapi::Object {
    one_of(
        &["similar", "complementary"],
        "产业 / zones of similar (default) or complementary industries",
    )
}

/// `from` of `POST /plans`.
pub fn plan_sources() -> utoipa::openapi::Object {
    one_of(
        &["proposal", "empty", "zoning"],
        "方案来源 / start from a proposal (default without zoning), empty, or the zoning given",
    )
}

/// `format` of `GET /plans/{id}/export` (aliases such as `geopackage`, `shapefile` work too).
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum ExportFormat {
    /// Dissolved zones as GeoJSON (lon/lat).
    Geojson,
    /// Dissolved zones and the member table as a GeoPackage.
    Gpkg,
    /// Dissolved zones as a zipped Shapefile.
    Shp,
    /// The member table (zone, village) as CSV.
    Csv,
    /// Statistics per zone as CSV.
    Stats,
}

/// `format` of `GET /plans/{id}/sheet`.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum SheetFormat {
    /// A PDF sheet (the default).
    Pdf,
    /// An SVG sheet.
    Svg,
    /// A PNG raster of the sheet.
    Png,
}

/// `paper` of `GET /plans/{id}/sheet`.
#[derive(ToSchema, serde::Serialize)]
pub enum Paper {
    /// A3 landscape.
    #[serde(rename = "a3")]
    A3,
    /// A4 landscape.
    #[serde(rename = "a4")]
    A4,
    /// A3 portrait.
    #[serde(rename = "a3-portrait")]
    A3Portrait,
    /// A1 portrait.
    #[serde(rename = "a1-portrait")]
    A1Portrait,
}
