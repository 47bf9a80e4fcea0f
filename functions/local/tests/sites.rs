//! The demo microsite as a developer meets it: built at first start without anyone asking,
//! served at `GET /sites/asha-verma`, and rebuilt within two seconds of an edit made straight in
//! the database (as a dashboard would make it).

use domain::jobs::Queue;
use domain::secret::Secret;
use lambda_http::{Body, Request, Response};
use local::dispatch::{Consumers, start_in_process, start_trigger_relay};
use local::routes::{App, router};
use local::seed::{DemoSettings, seed};
use platform::jobs::Publisher;
use site_rebuild::SiteRebuild;
use std::sync::Arc;
use std::time::Duration;
use store::testing::TestDb;

fn get(path: &str) -> Request {
    http::Request::builder()
        .method("GET")
        .uri(path)
        .body(Body::Empty)
        .expect("a valid request")
}

fn text(response: &Response<Body>) -> String {
    String::from_utf8_lossy(response.body().as_ref()).into_owned()
}

/// The stack as `local` starts it: demo seeded, sites consumer registered, trigger relay on.
async fn start() -> (TestDb, local::router::Router) {
    let test = TestDb::new().await;
    let demo = DemoSettings {
        api_key: "le_test_key".to_owned(),
        whatsapp_phone_number_id: "1".to_owned(),
        whatsapp_app_secret: Secret::new("s"),
        whatsapp_verify_token: Secret::new("t"),
        stripe_webhook_secret: None,
    };
    seed(test.db(), &demo).await.expect("the demo is seeded");
    let consumers = Consumers::new().with(
        Queue::Sites,
        Arc::new(SiteRebuild::template_only(test.db().clone())),
    );
    let publisher = Publisher::new(test.db().clone(), start_in_process(consumers));
    start_trigger_relay(publisher.clone());
    let app = App::new(
        test.db().clone(),
        publisher,
        Secret::new("s"),
        Secret::new("t"),
    );
    (test, router(app))
}

/// Polls the page until `check` holds or `within` passes.
async fn page_when(
    router: &local::router::Router,
    within: Duration,
    check: impl Fn(&str) -> bool,
) -> Response<Body> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let response = router.dispatch(get("/sites/asha-verma")).await;
        if response.status() == 200 && check(&text(&response)) {
            return response;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not there within {within:?}: {} {}",
            response.status(),
            text(&response)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_demo_site_is_built_at_first_start_and_served_as_html() {
    let (_test, router) = start().await;

    let response = page_when(&router, Duration::from_secs(3), |_| true).await;

    assert_eq!(
        response.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    let page = text(&response);
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("Asha Verma"));
    assert!(page.contains("2 BHK with balcony, Baner"));
    assert!(page.contains("₹85,00,000"));
}

#[tokio::test]
async fn an_edit_in_the_database_is_on_the_site_within_two_seconds() {
    let (test, router) = start().await;
    page_when(&router, Duration::from_secs(3), |_| true).await;

    test.client()
        .await
        .batch_execute(
            "UPDATE property_listings SET title = '2 BHK with a garden, Baner' WHERE external_ref = 'demo-1'",
        )
        .await
        .expect("the edit");

    let response = page_when(&router, Duration::from_secs(2), |page| {
        page.contains("2 BHK with a garden, Baner")
    })
    .await;
    assert!(!text(&response).contains("2 BHK with balcony"));
}

#[tokio::test]
async fn an_unknown_or_malformed_slug_is_a_404_problem() {
    let (_test, router) = start().await;
    for path in ["/sites/nobody-here", "/sites/Not_A_Slug"] {
        let response = router.dispatch(get(path)).await;
        assert_eq!(response.status(), 404, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{path}"
        );
    }
}

/// The browser: `$CHROMIUM`, else Debian's `chromium` on the PATH (scripts/test installs it).
fn find_chromium() -> Option<std::path::PathBuf> {
    if let Some(path) = std::env::var_os("CHROMIUM") {
        return Some(path.into());
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("chromium"))
            .find(|candidate| candidate.is_file())
    })
}

/// Flags for a quiet, hermetic headless run: no sandbox (containers, root), no GPU, and none of
/// the background traffic a first run makes.
const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
];

#[tokio::test]
async fn the_demo_site_renders_in_headless_chromium() {
    let Some(chromium) = find_chromium() else {
        eprintln!(
            "skipped: no Chromium (Debian's `chromium` package; scripts/test installs it, or set CHROMIUM)"
        );
        return;
    };
    let (_test, router) = start().await;
    page_when(&router, Duration::from_secs(3), |_| true).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let url = format!(
        "http://{}/sites/asha-verma",
        listener.local_addr().expect("an address")
    );
    tokio::spawn(local::server::serve(
        listener,
        router,
        std::future::pending(),
    ));
    let profile = std::env::temp_dir().join(format!("sites-chromium-{}", uuid::Uuid::new_v4()));

    let output = tokio::task::spawn_blocking({
        let profile = profile.clone();
        move || {
            std::process::Command::new(chromium)
                .args(CHROMIUM_FLAGS)
                .arg(format!("--user-data-dir={}", profile.display()))
                .arg("--dump-dom")
                .arg(url)
                .output()
        }
    })
    .await
    .expect("the browser task ran")
    .expect("chromium starts");
    let _ = std::fs::remove_dir_all(profile);

    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let dom = String::from_utf8_lossy(&output.stdout);
    assert!(
        dom.contains("<h1>Homes in Baner, Aundh and Kothrud with Asha Verma</h1>"),
        "{dom}"
    );
    assert!(dom.contains("2 BHK with balcony, Baner"), "{dom}");
}
