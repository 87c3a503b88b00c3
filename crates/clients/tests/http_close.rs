//! `ApiCircuitBreaker::close` (issue 9: 2,000 breakers left up to 740 keep-alive sockets open):
//! requests after it and requests in flight fail with `ERR_HTTP_CLOSED` without counting
//! against the service, closing twice is fine, and the server sees every connection closed.

mod http_support;

use std::sync::Arc;

use http_support::TestServer;
use neural_trader_clients::http::{ApiCircuitBreaker, ApiOptions};
use serde_json::Value;

fn api(name: &str) -> ApiCircuitBreaker {
    let mut options = ApiOptions {
        proxy_from_env: false,
        ..ApiOptions::default()
    };
    options.breaker.failure_threshold = 1;
    ApiCircuitBreaker::with_options(name, options).unwrap()
}

#[tokio::test]
async fn after_close_requests_fail_with_err_http_closed_and_the_socket_is_closed() {
    let server = TestServer::start().await;
    let api = api("http-close");
    let _: Value = api.get(&server.url("/json")).await.unwrap();
    assert_eq!(server.open_connections(), 1, "a keep-alive connection");

    api.close().await;
    assert!(api.is_closed());
    assert_eq!(
        server.drained().await,
        0,
        "the pooled connection was closed"
    );

    let err = api.get::<Value>(&server.url("/json")).await.unwrap_err();
    assert_eq!(err.code(), "ERR_HTTP_CLOSED");
    assert_eq!(server.requests(), 1, "nothing more was sent");
    // Not the service's fault: a threshold of 1 would have opened the circuit.
    assert_eq!(api.breaker().get_state().await, "CLOSED");
    assert_eq!(api.metrics().failed_calls, 0);

    api.close().await;
    let err = api.get::<Value>(&server.url("/json")).await.unwrap_err();
    assert_eq!(err.code(), "ERR_HTTP_CLOSED");
}

#[tokio::test]
async fn a_request_in_flight_is_cancelled_by_close() {
    let server = TestServer::start().await;
    let api = Arc::new(api("http-close-in-flight"));
    let pending = {
        let api = Arc::clone(&api);
        let url = server.url("/hang");
        tokio::spawn(async move { api.get::<Value>(&url).await })
    };
    while server.requests() == 0 {
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    api.close().await;
    let err = pending.await.unwrap().unwrap_err();
    assert_eq!(err.code(), "ERR_HTTP_CLOSED");
    assert_eq!(api.breaker().get_state().await, "CLOSED");
    assert_eq!(
        server.drained().await,
        0,
        "the hanging connection was closed"
    );
}

#[tokio::test]
async fn two_hundred_breakers_closed_leave_no_connection_open() {
    let server = TestServer::start().await;
    let mut apis = Vec::new();
    for i in 0..200 {
        let api = api(&format!("http-close-{i}"));
        let _: Value = api.get(&server.url("/json")).await.unwrap();
        apis.push(api);
    }
    assert_eq!(server.open_connections(), 200);
    for api in &apis {
        api.close().await;
    }
    assert_eq!(server.drained().await, 0);
}
