//! The OpenAPI 3 description of the native API, generated from the handlers' annotations and
//! the request and response types themselves, so it cannot drift from the code.

use axum::Json;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Attaché",
        description = "Translation-memory and terminology server for Chinese–English foreign-affairs texts"
    ),
    paths(
        super::health,
        super::segments::lookup,
        super::segments::lookup_batch,
        super::segments::split,
        super::segments::add,
        super::segments::get,
        super::segments::update,
        super::segments::delete,
        super::segments::concordance,
        super::files::import,
        super::files::export,
        super::terms::create,
        super::terms::search,
        super::terms::get,
        super::terms::replace,
        super::terms::patch,
        super::terms::delete,
        super::terms::approve,
        super::terms::reject,
        super::terms::history,
        super::terms::changes,
        super::terms::recognize,
        super::terms::check,
        super::terms::export,
        super::terms::import,
        super::access::keys,
        super::access::whoami,
    ),
    modifiers(&BearerKeys),
    security(("api_key" = [])),
    tags(
        (name = "tm", description = "Translation memory: lookup, segments, concordance, files"),
        (name = "termbase", description = "Glossary: curation, recognition, QA, TBX"),
        (name = "service", description = "Health and keys"),
    )
)]
pub struct ApiDoc;

/// Every route but `/health`, `/ready` and this description needs `Authorization: Bearer KEY`
/// when the server has keys.
struct BearerKeys;

impl utoipa::Modify for BearerKeys {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// `GET /api/v1/openapi.json`
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
