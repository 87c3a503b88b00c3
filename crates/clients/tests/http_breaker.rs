//! Every failure class trips an `ApiCircuitBreaker` (5xx, 408, 429, timeouts, refused
//! connections, connections closed mid-response, redirect loops), `Retry-After` holds the
//! circuit open past its reset timeout, and the circuit recovers through half-open. Against a
//! real HTTP/1.1 server on 127.0.0.1 (see `http_support`).

mod http_support;

use std::time::{Duration, SystemTime};

use http_support::{closed_port, TestServer};
use neural_trader_clients::http::{ApiCircuitBreaker, ApiError, ApiOptions, Method, Request};
use serde_json::Value;

fn api(failure_threshold: u32, reset_ms: u64, timeout_ms: u64) -> ApiCircuitBreaker {
    let mut options = ApiOptions {
        proxy_from_env: false,
        ..Default::default()
    };
    options.breaker.failure_threshold = failure_threshold;
    options.breaker.reset_timeout = Duration::from_millis(reset_ms);
    options.breaker.timeout = Duration::from_millis(timeout_ms);
    ApiCircuitBreaker::with_options("http-breaker", options).unwrap()
}

async fn get(api: &ApiCircuitBreaker, url: &str) -> Result<Value, ApiError> {
    api.get::<Value>(url).await
}

/// Sends `threshold` requests to `path`, each failing with `code`, and checks that the circuit
/// opened and that the next request was not sent.
async fn trips(path: &str, code: &str, timeout_ms: u64) {
    let server = TestServer::start().await;
    let api = api(3, 60_000, timeout_ms);
    let url = server.url(path);
    for i in 0..3 {
        assert_eq!(api.get_state().await, "CLOSED", "{path} before failure {i}");
        let err = get(&api, &url).await.unwrap_err();
        assert_eq!(err.code(), code, "{path}: {err}");
    }
    assert_eq!(api.get_state().await, "OPEN", "{path}");
    let sent = server.requests();
    let err = get(&api, &url).await.unwrap_err();
    assert!(err.is_circuit_open(), "{err}");
    assert_eq!(err.to_string(), "Circuit breaker 'http-breaker' is OPEN");
    assert_eq!(
        server.requests(),
        sent,
        "{path}: an open circuit sends nothing"
    );
    let m = api.metrics();
    assert_eq!(
        (m.failed_calls, m.rejected_calls, m.times_opened),
        (3, 1, 1)
    );
}

#[tokio::test]
async fn server_errors_trip_the_breaker() {
    for code in [500, 502, 503, 504] {
        trips(&format!("/status/{code}"), "ERR_HTTP_STATUS", 5_000).await;
    }
}

#[tokio::test]
async fn request_timeout_408_and_throttling_429_trip_the_breaker() {
    trips("/status/408", "ERR_HTTP_STATUS", 5_000).await;
    trips("/status/429", "ERR_HTTP_STATUS", 5_000).await;
}

#[tokio::test]
async fn timeouts_trip_the_breaker() {
    trips("/hang", "ERR_CIRCUIT_TIMEOUT", 100).await;
}

#[tokio::test]
async fn a_body_that_outlives_the_deadline_is_a_timeout() {
    // Headers come at once; the body never ends (100 bytes announced, 10 sent, socket open):
    // covered by /truncate closing, so here the deadline is on /delay, the body included.
    let server = TestServer::start().await;
    let api = api(5, 60_000, 100);
    let err = get(&api, &server.url("/delay/400")).await.unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert_eq!(
        err.to_string(),
        "Circuit breaker 'http-breaker' timed out after 100 ms"
    );
    assert_eq!(api.metrics().failed_calls, 1);
}

#[tokio::test]
async fn refused_connections_trip_the_breaker() {
    let port = closed_port().await;
    let api = api(2, 60_000, 5_000);
    let url = format!("http://127.0.0.1:{port}/x");
    for _ in 0..2 {
        let err = get(&api, &url).await.unwrap_err();
        assert_eq!(err.code(), "ERR_HTTP_CONNECT", "{err}");
        assert!(err.to_string().contains("could not connect"), "{err}");
    }
    assert_eq!(api.get_state().await, "OPEN");
}

#[tokio::test]
async fn connections_closed_mid_response_trip_the_breaker() {
    trips("/truncate", "ERR_HTTP_IO", 5_000).await;
    trips("/close", "ERR_HTTP_IO", 5_000).await;
}

#[tokio::test]
async fn redirect_loops_trip_the_breaker() {
    trips("/redirect-loop", "ERR_HTTP_REDIRECT", 5_000).await;
}

#[tokio::test]
async fn a_per_request_timeout_overrides_the_default() {
    let server = TestServer::start().await;
    let short = api(5, 60_000, 50);
    let slow = Request::new(Method::GET, server.url("/delay/150")).timeout(Duration::from_secs(5));
    assert_eq!(short.request(slow).await.unwrap().status.as_u16(), 200);
    let long = api(5, 60_000, 10_000);
    let hang = Request::new(Method::GET, server.url("/hang")).timeout(Duration::from_millis(80));
    let started = std::time::Instant::now();
    let err = long.request(hang).await.unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert!(err.to_string().ends_with("after 80 ms"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

/// Opens the circuit with one 429 carrying `retry_after`, then checks it is still open after
/// the (short) reset timeout, and half-opens once `hold` has passed.
async fn retry_after_holds_the_circuit_open(
    retry_after: &str,
    still_open_at: Duration,
    hold: Duration,
) {
    let server = TestServer::start().await;
    let api = api(1, 50, 5_000);
    let query: String = url::form_urlencoded::byte_serialize(retry_after.as_bytes()).collect();
    let throttled = server.url(&format!("/status/429?retry_after={query}"));
    let err = get(&api, &throttled).await.unwrap_err();
    let ApiError::Status(status) = &err else {
        panic!("{err}")
    };
    assert!(status.retry_after.is_some(), "{retry_after}");
    assert_eq!(api.get_state().await, "OPEN");
    tokio::time::sleep(still_open_at).await;
    let err = get(&api, &server.url("/json")).await.unwrap_err();
    assert!(
        err.is_circuit_open(),
        "still open past the 50 ms reset timeout: {err}"
    );
    tokio::time::sleep(hold.saturating_sub(still_open_at)).await;
    let value = get(&api, &server.url("/json")).await.unwrap();
    assert_eq!(value["symbol"], "AAPL");
    assert_eq!(
        api.get_state().await,
        "HALF_OPEN",
        "one probe of two succeeded"
    );
}

#[tokio::test]
async fn retry_after_seconds_hold_the_circuit_open() {
    retry_after_holds_the_circuit_open(
        "1",
        Duration::from_millis(400),
        Duration::from_millis(1_150),
    )
    .await;
}

#[tokio::test]
async fn retry_after_http_dates_hold_the_circuit_open() {
    // HTTP-dates have whole seconds: +2 s from now is 1 to 2 s from now.
    let date = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(2));
    retry_after_holds_the_circuit_open(
        &date,
        Duration::from_millis(600),
        Duration::from_millis(2_150),
    )
    .await;
}

#[tokio::test]
async fn the_circuit_recovers_through_half_open() {
    let server = TestServer::start().await;
    let api = api(2, 100, 5_000);
    let url = server.url("/flaky");
    server.set_failing(true);
    for _ in 0..2 {
        assert_eq!(get(&api, &url).await.unwrap_err().code(), "ERR_HTTP_STATUS");
    }
    assert_eq!(api.get_state().await, "OPEN");
    tokio::time::sleep(Duration::from_millis(150)).await;
    // A failing probe reopens.
    assert_eq!(get(&api, &url).await.unwrap_err().code(), "ERR_HTTP_STATUS");
    assert_eq!(api.get_state().await, "OPEN");
    server.set_failing(false);
    tokio::time::sleep(Duration::from_millis(150)).await;
    get(&api, &url).await.unwrap();
    assert_eq!(api.get_state().await, "HALF_OPEN");
    get(&api, &url).await.unwrap();
    assert_eq!(api.get_state().await, "CLOSED");
    let m = api.metrics();
    assert_eq!((m.times_opened, m.times_half_opened), (2, 2));
}
