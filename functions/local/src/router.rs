//! A small router for the local stack.
//!
//! API Gateway does the routing in AWS; locally this does the same job: match method and path,
//! put `{name}` segments into the request's path parameters (where lambda_http handlers read
//! them), and call the handler. 404 for an unknown path, 405 for a known path with another
//! method (with `Allow` naming the route's methods), both as problem documents like every other
//! error.

use lambda_http::{Body, Request, RequestExt, Response};
use platform::ApiError;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

type BoxFuture = Pin<Box<dyn Future<Output = Response<Body>> + Send>>;
type Handler = Arc<dyn Fn(Request) -> BoxFuture + Send + Sync>;

struct Route {
    method: http::Method,
    /// As given, in API Gateway's syntax (`/agents/{agent_id}/scrape-quota`).
    pattern: String,
    segments: Vec<Segment>,
    handler: Handler,
}

#[derive(Debug, PartialEq)]
enum Segment {
    Literal(String),
    Param(String),
}

#[derive(Clone, Default)]
pub struct Router {
    routes: Arc<Vec<Route>>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field("routes", &self.routes.len())
            .finish()
    }
}

impl Router {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a route. `pattern` is API Gateway's syntax: `/agents/{agent_id}/scrape-quota`.
    pub fn route<F, Fut>(mut self, method: http::Method, pattern: &str, handler: F) -> Self
    where
        F: Fn(Request) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Response<Body>> + Send + 'static,
    {
        let segments = split(pattern)
            .map(
                |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(name) => Segment::Param(name.to_owned()),
                    None => Segment::Literal(s.to_owned()),
                },
            )
            .collect();
        let handler: Handler = Arc::new(move |request| Box::pin(handler(request)));
        // Building happens once at start-up, before the router is shared.
        if let Some(routes) = Arc::get_mut(&mut self.routes) {
            routes.push(Route {
                method,
                pattern: pattern.to_owned(),
                segments,
                handler,
            });
        }
        self
    }

    /// Every route as (method, pattern), in the order they were added: what `openapi.yaml` must
    /// document, no more and no less (a test compares the two).
    pub fn routes(&self) -> Vec<(http::Method, String)> {
        self.routes
            .iter()
            .map(|route| (route.method.clone(), route.pattern.clone()))
            .collect()
    }

    /// Routes a request to its handler.
    pub async fn dispatch(&self, request: Request) -> Response<Body> {
        let path: Vec<&str> = split(request.uri().path()).collect();
        let mut allowed: Vec<&str> = Vec::new();
        for route in self.routes.iter() {
            let Some(params) = match_path(&route.segments, &path) else {
                continue;
            };
            if route.method != request.method() {
                allowed.push(route.method.as_str());
                continue;
            }
            let request = request.with_path_parameters(params);
            return (route.handler)(request).await;
        }
        let id = platform::http::request_id(&request);
        if allowed.is_empty() {
            return ApiError::NotFound("route").into_response(&id);
        }
        // RFC 9110 §15.5.6: a 405 lists the methods the route has.
        let mut response = ApiError::MethodNotAllowed.into_response(&id);
        if let Ok(value) = http::HeaderValue::from_str(&allowed.join(", ")) {
            response.headers_mut().insert(http::header::ALLOW, value);
        }
        response
    }
}

fn split(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

fn match_path(segments: &[Segment], path: &[&str]) -> Option<HashMap<String, String>> {
    if segments.len() != path.len() {
        return None;
    }
    let mut params = HashMap::new();
    for (segment, part) in segments.iter().zip(path) {
        match segment {
            Segment::Literal(literal) if literal == part => {}
            Segment::Literal(_) => return None,
            Segment::Param(name) => {
                params.insert(name.clone(), (*part).to_owned());
            }
        }
    }
    Some(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, path: &str) -> Request {
        http::Request::builder()
            .method(method)
            .uri(path)
            .body(Body::Empty)
            .expect("a valid test request")
    }

    fn echo_router() -> Router {
        Router::new().route(
            http::Method::GET,
            "/agents/{agent_id}/scrape-quota",
            |req: Request| async move {
                let id = req
                    .path_parameters()
                    .first("agent_id")
                    .unwrap_or_default()
                    .to_owned();
                Response::new(Body::from(id))
            },
        )
    }

    #[tokio::test]
    async fn path_parameters_reach_the_handler() {
        let response = echo_router()
            .dispatch(request("GET", "/agents/a-1/scrape-quota"))
            .await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.body().as_ref(), b"a-1");
    }

    #[tokio::test]
    async fn unknown_paths_are_404_and_wrong_methods_405() {
        let router = echo_router();
        assert_eq!(router.dispatch(request("GET", "/nope")).await.status(), 404);
        assert_eq!(
            router
                .dispatch(request("DELETE", "/agents/a/scrape-quota"))
                .await
                .status(),
            405
        );
    }

    #[tokio::test]
    async fn a_405_lists_the_methods_the_route_has() {
        let router = echo_router().route(
            http::Method::POST,
            "/agents/{agent_id}/scrape-quota",
            |_req: Request| async move { Response::new(Body::Empty) },
        );

        let response = router
            .dispatch(request("DELETE", "/agents/a/scrape-quota"))
            .await;

        assert_eq!(response.status(), 405);
        assert_eq!(response.headers()["allow"], "GET, POST");
    }
}
