//! E2B's `X-API-Key` never reaches a host other than the control plane (issue 9): the E2B
//! client follows redirects through the HTTP layer, which drops credential headers when the
//! origin changes. Real HTTP servers on 127.0.0.1 (`http_support`): the "control plane"
//! redirects (307) to another port.

mod http_support;

use http_support::TestServer;
use neural_trader_clients::e2b::{E2BOptions, E2BSandboxCircuitBreaker};

const KEY: &str = "e2b_0123456789abcdef0123456789abcdef01234567";

fn client(api_url: String) -> E2BSandboxCircuitBreaker {
    E2BSandboxCircuitBreaker::with_options(E2BOptions {
        api_key: Some(KEY.to_string()),
        api_url: Some(api_url),
        proxy_from_env: false,
        ..E2BOptions::default()
    })
    .unwrap()
}

#[tokio::test]
async fn the_api_key_does_not_follow_a_redirect_to_another_host() {
    let control = TestServer::start().await;
    let elsewhere = TestServer::start().await;
    let e2b = client(control.url(&format!("/to/{}/", elsewhere.addr.port())));
    // `elsewhere` answers 404 to `/sandboxes`: the call fails, which is not the point.
    let _ = e2b.list_sandboxes().await;
    assert_eq!(control.seen()[0].header("x-api-key"), Some(KEY));
    let seen = elsewhere.seen();
    assert_eq!(seen.len(), 1, "the redirect was followed");
    assert!(
        seen[0].target.starts_with("/v2/sandboxes"),
        "{}",
        seen[0].target
    );
    assert_eq!(seen[0].header("x-api-key"), None, "the key crossed origins");
}

#[tokio::test]
async fn a_same_origin_redirect_keeps_the_api_key() {
    let control = TestServer::start().await;
    let e2b = client(control.url(&format!("/to/{}/", control.addr.port())));
    let _ = e2b.list_sandboxes().await;
    let seen = control.seen();
    assert_eq!(seen.len(), 2);
    assert!(
        seen[1].target.starts_with("/v2/sandboxes"),
        "{}",
        seen[1].target
    );
    assert_eq!(seen[1].header("x-api-key"), Some(KEY));
    e2b.close().await;
    assert_eq!(
        e2b.list_sandboxes().await.unwrap_err().code(),
        "ERR_HTTP_CLOSED"
    );
}
