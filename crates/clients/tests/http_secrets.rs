//! Secrets that must not escape (issue 9): every query value is masked in errors unless listed
//! in `safe_query_params`, and credential headers never follow a redirect to another origin,
//! against real HTTP servers on 127.0.0.1 (`http_support`).

mod http_support;

use http_support::{Seen, TestServer};
use neural_trader_clients::http::{ApiCircuitBreaker, ApiError, ApiOptions, Method, Request};

/// The query names the issue found in errors.
const LEAKED: [&str; 8] = [
    "refresh_token",
    "access_key",
    "X-Amz-Signature",
    "X-Amz-Credential",
    "id_token",
    "secret_key",
    "jwt",
    "session",
];

fn api(options: ApiOptions) -> ApiCircuitBreaker {
    let mut options = ApiOptions {
        proxy_from_env: false,
        ..options
    };
    options.breaker.failure_threshold = 1000;
    ApiCircuitBreaker::with_options("http-secrets", options).unwrap()
}

fn status_url(err: &ApiError) -> String {
    match err {
        ApiError::Status(status) => status.url.clone(),
        other => panic!("expected a status error, got {other:?}"),
    }
}

#[tokio::test]
async fn every_query_value_is_masked_in_message_and_url() {
    let server = TestServer::start().await;
    let api = api(ApiOptions::default());
    for name in LEAKED {
        let value = format!("leak-{}-value", name.len());
        let err = api
            .request(Request::new(Method::GET, server.url("/status/500")).query(name, &value))
            .await
            .unwrap_err();
        let message = err.to_string();
        let url = status_url(&err);
        for shown in [&message, &url] {
            assert!(!shown.contains(&value), "{name}: {shown}");
            assert!(shown.contains("=***"), "{name}: {shown}");
        }
        // The request itself carried the value.
        assert!(server.seen().last().unwrap().target.contains(&value));
    }
}

#[tokio::test]
async fn a_listed_safe_param_is_shown_and_the_others_are_not() {
    let server = TestServer::start().await;
    let api = api(ApiOptions {
        safe_query_params: vec!["symbol".into()],
        ..ApiOptions::default()
    });
    let err = api
        .get::<serde_json::Value>(&server.url("/status/404?symbol=AAPL&jwt=eyJ-secret&Symbol=x9"))
        .await
        .unwrap_err();
    let url = status_url(&err);
    assert!(url.contains("symbol=AAPL"), "{url}");
    assert!(!url.contains("eyJ-secret") && !url.contains("x9"), "{url}");
    assert!(err.to_string().contains("symbol=AAPL"), "{err}");
}

#[tokio::test]
async fn the_lists_are_checked() {
    let bad = ApiOptions {
        secret_headers: vec!["not a header".into()],
        ..ApiOptions::default()
    };
    let err = ApiCircuitBreaker::with_options("bad-secret-headers", bad).unwrap_err();
    assert_eq!(err.code(), "ERR_INVALID_ARG_VALUE");
    let long = ApiOptions {
        safe_query_params: vec!["a".into(); 1001],
        ..ApiOptions::default()
    };
    let err = ApiCircuitBreaker::with_options("long-safe-params", long).unwrap_err();
    assert_eq!(err.code(), "ERR_OUT_OF_RANGE");
}

/// Headers that must not cross origins, and one that may.
const CREDENTIALS: [(&str, &str); 4] = [
    ("x-api-key", "key-111"),
    ("x-auth", "auth-222"),
    ("api-credential", "cred-333"),
    ("x-desk", "desk-444"),
];

fn credential_request(url: String) -> Request {
    CREDENTIALS
        .iter()
        .fold(Request::new(Method::GET, url), |r, (n, v)| r.header(*n, *v))
        .header("authorization", "Bearer tok-555")
        .header("x-request-id", "req-1")
}

fn last(server: &TestServer) -> Seen {
    server.seen().last().cloned().unwrap()
}

#[tokio::test]
async fn a_cross_origin_redirect_drops_credentials_a_same_origin_one_keeps_them() {
    let origin = TestServer::start().await;
    let other = TestServer::start().await;
    let api = api(ApiOptions {
        secret_headers: vec!["X-Desk".into()],
        ..ApiOptions::default()
    });

    let path = format!("/to/{}/echo?q=1", other.addr.port());
    let response = api
        .request(credential_request(origin.url(&path)))
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(other.requests(), 1, "the redirect was followed");
    let seen = last(&other);
    for (name, _) in CREDENTIALS {
        assert_eq!(seen.header(name), None, "{name} reached the other origin");
    }
    assert_eq!(seen.header("authorization"), None);
    assert_eq!(seen.header("x-request-id"), Some("req-1"));
    assert_eq!(seen.target, "/echo?q=1");

    let path = format!("/to/{}/echo", origin.addr.port());
    api.request(credential_request(origin.url(&path)))
        .await
        .unwrap();
    let seen = last(&origin);
    assert_eq!(seen.target, "/echo");
    for (name, value) in CREDENTIALS {
        assert_eq!(seen.header(name), Some(value), "{name} on the same origin");
    }
    assert_eq!(seen.header("authorization"), Some("Bearer tok-555"));
}

#[tokio::test]
async fn default_headers_do_not_cross_origins_either() {
    let origin = TestServer::start().await;
    let other = TestServer::start().await;
    let api = api(ApiOptions {
        headers: vec![("X-API-Key".into(), "default-key-666".into())],
        ..ApiOptions::default()
    });
    let path = format!("/to/{}/json", other.addr.port());
    let _: serde_json::Value = api.get(&origin.url(&path)).await.unwrap();
    assert_eq!(last(&origin).header("x-api-key"), Some("default-key-666"));
    assert_eq!(last(&other).header("x-api-key"), None);
}

#[tokio::test]
async fn a_post_redirected_by_307_is_resent_with_its_body() {
    let origin = TestServer::start().await;
    let api = api(ApiOptions::default());
    let path = format!("/to/{}/echo", origin.addr.port());
    let echoed: serde_json::Value = api
        .post(&origin.url(&path), &serde_json::json!({"qty": 3}))
        .await
        .unwrap();
    assert_eq!(echoed["method"], "POST");
    assert_eq!(echoed["body"], r#"{"qty":3}"#);
}
