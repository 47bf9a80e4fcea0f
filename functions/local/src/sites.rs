//! `GET /sites/{site_slug}`: the live version of an agent's microsite, as a static host or CDN
//! would serve it in AWS.
//!
//! The page is the stored `agent_site_documents.html` of the newest version, served as it is:
//! it was rendered (and escaped) by `domain::site::render` when the version was built. An unknown
//! slug, a malformed one, or a site not built yet is a 404 problem.

use domain::site::values::SiteSlug;
use lambda_http::{Body, Request, RequestExt, Response};
use platform::ApiError;
use store::Db;

pub async fn handle(db: &Db, request: Request) -> Response<Body> {
    let request_id = platform::http::request_id(&request);
    platform::http::respond(&request_id, live_page(db, &request).await)
}

async fn live_page(db: &Db, request: &Request) -> Result<Response<Body>, ApiError> {
    let slug = request
        .path_parameters_ref()
        .and_then(|p| p.first("site_slug"))
        .and_then(|s| SiteSlug::parse(s).ok())
        .ok_or(ApiError::NotFound("site"))?;
    let client = db.client().await?;
    let html = store::sites::live_html(&**client, &slug)
        .await?
        .ok_or(ApiError::NotFound("site"))?;
    Response::builder()
        .status(200)
        .header(http::header::CONTENT_TYPE, "text/html; charset=utf-8")
        // A new version can be published any second; let caches revalidate.
        .header(http::header::CACHE_CONTROL, "no-cache")
        .body(Body::Text(html))
        .map_err(|e| ApiError::Internal(Box::new(e)))
}
