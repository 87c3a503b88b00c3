//! `ApiCircuitBreaker` against a real HTTP/1.1 server on 127.0.0.1 (see `http_support`):
//! requests and responses, caller errors that must not trip the breaker, and secrets that must
//! never show. The failure classes that trip it are in `http_breaker.rs`.

mod http_support;

use std::time::Duration;

use http_support::{closed_port, TestServer};
use neural_trader_clients::http::{
    ApiCircuitBreaker, ApiError, ApiOptions, Body, BodyKind, Method, Request, StatusCode,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(Debug, Deserialize, PartialEq)]
struct Quote {
    symbol: String,
    price: f64,
}

#[derive(Serialize)]
struct Order<'a> {
    symbol: &'a str,
    qty: u32,
}

fn api(name: &str, options: ApiOptions) -> ApiCircuitBreaker {
    ApiCircuitBreaker::with_options(
        name,
        ApiOptions {
            proxy_from_env: false,
            ..options
        },
    )
    .unwrap()
}

fn options_with_threshold(failure_threshold: u32) -> ApiOptions {
    let mut options = ApiOptions::default();
    options.breaker.failure_threshold = failure_threshold;
    options
}

#[tokio::test]
async fn get_deserializes_json_and_request_returns_status_headers_and_body() {
    let server = TestServer::start().await;
    let api = api("http-get", ApiOptions::default());
    let quote: Quote = api.get(&server.url("/json")).await.unwrap();
    assert_eq!(
        quote,
        Quote {
            symbol: "AAPL".into(),
            price: 101.5
        }
    );
    let text = api
        .request(Request::new(Method::GET, server.url("/text")))
        .await
        .unwrap();
    assert_eq!(text.status, StatusCode::OK);
    assert_eq!(text.headers["content-type"], "text/plain; charset=utf-8");
    assert_eq!(text.text(), "hello");
    assert_eq!(text.body_kind(), BodyKind::Text);
    assert_eq!(api.get_state().await, "CLOSED");
    assert_eq!(api.metrics().successful_calls, 2);
}

#[tokio::test]
async fn relative_urls_base_url_default_headers_and_query() {
    let server = TestServer::start().await;
    let api = api(
        "http-base",
        ApiOptions {
            base_url: Some(server.url("/")),
            headers: vec![
                ("x-client".into(), "neural-trader".into()),
                ("x-overridden".into(), "default".into()),
            ],
            ..Default::default()
        },
    );
    let echoed: Value = api
        .json(
            Request::new(Method::GET, "echo?fixed=1")
                .header("x-overridden", "request")
                .query("symbol", "BRK.B")
                .query("note", "a b&c"),
        )
        .await
        .unwrap();
    assert_eq!(echoed["path"], "/echo");
    assert_eq!(echoed["query"], "fixed=1&symbol=BRK.B&note=a+b%26c");
    assert_eq!(echoed["headers"]["x-client"], "neural-trader");
    assert_eq!(echoed["headers"]["x-overridden"], "request");
    let quote: Quote = api.get("/json").await.unwrap();
    assert_eq!(quote.symbol, "AAPL");
}

#[tokio::test]
async fn post_put_and_delete_send_json_bodies() {
    let server = TestServer::start().await;
    let api = api("http-bodies", ApiOptions::default());
    let url = server.url("/echo");
    let posted: Value = api
        .post(
            &url,
            &Order {
                symbol: "AAPL",
                qty: 10,
            },
        )
        .await
        .unwrap();
    assert_eq!(posted["method"], "POST");
    assert_eq!(posted["headers"]["content-type"], "application/json");
    assert_eq!(posted["body"], r#"{"symbol":"AAPL","qty":10}"#);
    let put: Value = api.put(&url, &json!([1, 2])).await.unwrap();
    assert_eq!(
        (put["method"].as_str(), put["body"].as_str()),
        (Some("PUT"), Some("[1,2]"))
    );
    let deleted: Value = api.delete(&url).await.unwrap();
    assert_eq!(deleted["method"], "DELETE");
    let () = api.delete(&server.url("/empty")).await.unwrap();
    let text = api
        .request(
            Request::new(Method::PATCH, &url)
                .body(Body::Text("plain words".into()))
                .header("content-type", "text/x-custom"),
        )
        .await
        .unwrap();
    let echoed: Value = text.json().unwrap();
    assert_eq!(echoed["headers"]["content-type"], "text/x-custom");
    assert_eq!(echoed["body"], "plain words");
}

#[tokio::test]
async fn one_keep_alive_connection_serves_sequential_requests() {
    let server = TestServer::start().await;
    let api = api("http-pool", ApiOptions::default());
    for _ in 0..10 {
        let _: Quote = api.get(&server.url("/json")).await.unwrap();
    }
    // Usually 1; a connection goes back to the pool just after its response is read, so on a
    // loaded machine the next request may now and then open another.
    assert!(
        server.connections() <= 3,
        "{} connections",
        server.connections()
    );
}

#[tokio::test]
async fn client_errors_reject_with_the_response_but_do_not_trip() {
    let server = TestServer::start().await;
    let api = api("http-4xx", options_with_threshold(1));
    for code in [404, 400, 401, 403, 409, 422] {
        let err = api
            .get::<Value>(&server.url(&format!("/status/{code}")))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "ERR_HTTP_STATUS");
        let ApiError::Status(status) = &err else {
            panic!("{err:?}")
        };
        assert_eq!(status.status.as_u16(), code);
        assert_eq!(status.headers["content-type"], "application/json");
        assert_eq!(status.body, format!(r#"{{"error":"status {code}"}}"#));
        assert!(
            err.to_string().contains(&format!("responded {code}")),
            "{err}"
        );
    }
    assert_eq!(api.get_state().await, "CLOSED");
    let m = api.metrics();
    assert_eq!((m.ignored_calls, m.failed_calls, m.total_calls), (6, 0, 6));
}

#[tokio::test]
async fn a_body_that_does_not_decode_is_a_decode_error_not_a_failure() {
    let server = TestServer::start().await;
    let api = api("http-decode", options_with_threshold(1));
    let err = api.get::<Quote>(&server.url("/text")).await.unwrap_err();
    assert_eq!(err.code(), "ERR_HTTP_DECODE");
    assert_eq!(api.get_state().await, "CLOSED");
    assert_eq!(api.metrics().successful_calls, 1);
}

#[tokio::test]
async fn bad_urls_and_headers_are_refused_before_the_breaker() {
    let api = api("http-bad-input", options_with_threshold(1));
    for (url, needle) in [
        ("not a url", "not a valid URL"),
        ("/relative", "baseUrl"),
        ("ftp://127.0.0.1/file", "unsupported URL scheme 'ftp:'"),
        ("http://[::1", "not a valid URL"),
    ] {
        let err = api.get::<Value>(url).await.unwrap_err();
        assert_eq!(err.code(), "ERR_INVALID_URL", "{url}");
        assert!(err.to_string().contains(needle), "{err}");
    }
    let bad_header = Request::new(Method::GET, "http://127.0.0.1:1/").header("bad name", "v");
    assert_eq!(
        api.request(bad_header).await.unwrap_err().code(),
        "ERR_INVALID_ARG_VALUE"
    );
    assert_eq!(api.metrics().total_calls, 0, "nothing was counted");
    let bad_base = ApiCircuitBreaker::with_options(
        "http-bad-base",
        ApiOptions {
            base_url: Some("mailto:someone@example.test".into()),
            ..Default::default()
        },
    );
    assert_eq!(bad_base.unwrap_err().code(), "ERR_INVALID_URL");
    let mut zero = ApiOptions::default();
    zero.breaker.failure_threshold = 0;
    assert_eq!(
        ApiCircuitBreaker::with_options("http-zero", zero)
            .unwrap_err()
            .code(),
        "ERR_OUT_OF_RANGE"
    );
    assert_eq!(
        ApiCircuitBreaker::with_options("", ApiOptions::default())
            .unwrap_err()
            .code(),
        "ERR_INVALID_ARG_VALUE"
    );
}

#[tokio::test]
async fn userinfo_is_sent_as_basic_auth() {
    let server = TestServer::start().await;
    let api = api("http-basic", ApiOptions::default());
    let url = format!("http://trader:s%3Acret@{}/echo", server.addr);
    let echoed: Value = api.get(&url).await.unwrap();
    // base64("trader:s:cret")
    assert_eq!(
        echoed["headers"]["authorization"],
        "Basic dHJhZGVyOnM6Y3JldA=="
    );
    assert!(server.seen()[0].target == "/echo");
}

#[tokio::test]
async fn no_secret_appears_in_any_error_message() {
    let server = TestServer::start().await;
    let port = closed_port().await;
    let api = api(
        "http-secrets",
        ApiOptions {
            headers: vec![("x-api-key".into(), "header-key-123".into())],
            ..Default::default()
        },
    );
    let secrets = [
        "pass-word-9",
        "query-key-456",
        "bearer-tok-789",
        "header-key-123",
    ];
    let targets = [
        format!("http://user:pass-word-9@127.0.0.1:{port}/x?api_key=query-key-456"),
        format!(
            "http://user:pass-word-9@{}/status/500?api_key=query-key-456",
            server.addr
        ),
        format!(
            "http://user:pass-word-9@{}/truncate?token=query-key-456",
            server.addr
        ),
        format!(
            "http://user:pass-word-9@{}/redirect-loop?api_key=query-key-456",
            server.addr
        ),
        "ftp://user:pass-word-9@127.0.0.1/?api_key=query-key-456".to_string(),
        "http://user:pass-word-9@[bad/?api_key=query-key-456".to_string(),
    ];
    for target in &targets {
        let request = Request::new(Method::GET, target.as_str())
            .header("authorization", "Bearer bearer-tok-789")
            .timeout(Duration::from_secs(5));
        let err = api.request(request).await.unwrap_err();
        let shown = format!("{err} {err:?}");
        for secret in secrets {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    }
    let shown = format!("{api:?} {:?}", api.metrics());
    for secret in secrets {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
}
