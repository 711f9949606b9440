//! The OpenAPI 3.0 document of the service, built from the served layers: every collection's
//! items path lists its own property filters, so the document always matches the data.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{Value as Json, json};

use super::AppState;
use super::features::{ApiCrs, DEFAULT_LIMIT, MAX_LIMIT};
use crate::domain::FieldType;

fn param(name: &str, description: &str, schema: Json) -> Json {
    json!({"name": name, "in": "query", "required": false, "description": description, "schema": schema, "style": "form", "explode": false})
}

fn common_item_params() -> Vec<Json> {
    let crs = json!({"type": "string", "format": "uri", "enum": ApiCrs::offered()});
    vec![
        param(
            "bbox",
            "minLon,minLat,maxLon,maxLat (in the order of bbox-crs)",
            json!({"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}}),
        ),
        param("bbox-crs", "CRS of bbox (default CRS84)", crs.clone()),
        param(
            "crs",
            "CRS of the response geometries (default CRS84), authority axis order",
            crs,
        ),
        param(
            "limit",
            "features per page",
            json!({"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}),
        ),
        param(
            "cursor",
            "id of the last feature of the previous page (from the next link)",
            json!({"type": "integer"}),
        ),
        param(
            "f",
            "format",
            json!({"type": "string", "enum": ["json", "geojson"]}),
        ),
    ]
}

fn response(description: &str, media: &str) -> Json {
    json!({"description": description, "content": {media: {"schema": {"type": "object"}}}})
}

fn problem() -> Json {
    json!({"description": "problem", "content": {"application/problem+json": {"schema": {"type": "object", "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"}, "detail": {"type": "string"}}}}}})
}

/// The document.
pub fn document(state: &AppState) -> Json {
    let mut paths = serde_json::Map::new();
    let simple = |summary: &str| json!({"get": {"summary": summary, "responses": {"200": response("OK", "application/json"), "4XX": problem()}}});
    paths.insert("/".into(), simple("landing page"));
    paths.insert("/conformance".into(), simple("conformance classes"));
    paths.insert("/collections".into(), simple("the layers of the workspace"));
    for layer in state.snapshot().layers.values() {
        let id = layer.info.kind.name();
        let mut params = common_item_params();
        for column in &layer.info.columns {
            let ty = match column.ty {
                FieldType::Integer => "integer",
                FieldType::Real => "number",
                FieldType::Boolean => "boolean",
                FieldType::Text => "string",
            };
            params.push(param(
                &column.name,
                &format!("features whose {} equals this value", column.name),
                json!({"type": ty}),
            ));
        }
        paths.insert(
            format!("/collections/{id}"),
            simple(&format!("{} ({id})", layer.info.kind.label_zh())),
        );
        paths.insert(
            format!("/collections/{id}/items"),
            json!({"get": {"summary": format!("features of {id}"), "parameters": params,
                "responses": {"200": response("a page of features", "application/geo+json"), "4XX": problem()}}}),
        );
        paths.insert(
            format!("/collections/{id}/items/{{featureId}}"),
            json!({"get": {"summary": format!("one feature of {id}"),
                "parameters": [
                    {"name": "featureId", "in": "path", "required": true, "schema": {"type": "integer"}},
                    param("crs", "CRS of the geometry", json!({"type": "string", "format": "uri", "enum": ApiCrs::offered()})),
                    param("f", "format", json!({"type": "string", "enum": ["json", "geojson"]})),
                ],
                "responses": {"200": response("a feature", "application/geo+json"), "4XX": problem()}}}),
        );
    }
    json!({
        "openapi": "3.0.3",
        "info": {"title": state.title, "version": env!("CARGO_PKG_VERSION"), "description": "联村 liancun — OGC API – Features"},
        "paths": paths,
    })
}

pub async fn api(State(state): State<Arc<AppState>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/vnd.oai.openapi+json;version=3.0",
        )],
        document(&state).to_string(),
    )
        .into_response()
}
