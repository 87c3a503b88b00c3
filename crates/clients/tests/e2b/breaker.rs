//! What trips the breaker and what does not: 5xx, 429 (held open for its `Retry-After`),
//! timeouts and broken streams count; 401, a vanished sandbox and exceptions in user code do
//! not.

use std::time::{Duration, Instant};

use neural_trader_clients::e2b::{E2BError, E2BSandboxCircuitBreaker, ExecuteOptions};
use serde_json::json;

use crate::support::server_or_skip;

const LONG: Duration = Duration::from_secs(60);

#[tokio::test]
async fn an_exception_in_user_code_is_a_result_and_does_not_trip() {
    let server = server_or_skip!();
    let e2b = server.client(1, LONG, LONG);
    let id = e2b.create_sandbox("base").await.unwrap();
    for _ in 0..3 {
        let run = e2b
            .execute_code(&id, "print('before')\n1 / 0")
            .await
            .unwrap();
        assert_eq!(run.stdout, ["before\n"]);
        let error = run.error.unwrap();
        assert_eq!(error.name, "ZeroDivisionError");
        assert_eq!(error.value, "division by zero");
        assert!(error.traceback.contains("ZeroDivisionError"));
    }
    assert_eq!(e2b.get_state().await, "CLOSED");
    assert_eq!(e2b.metrics().failed_calls, 0);
}

#[tokio::test]
async fn a_wrong_api_key_is_rejected_without_tripping() {
    let server = server_or_skip!();
    let mut options = server.options();
    options.api_key = Some("e2b_deadbeef".into());
    options.breaker.failure_threshold = 1;
    let e2b = E2BSandboxCircuitBreaker::with_options(options).unwrap();
    for _ in 0..3 {
        let err = e2b.create_sandbox("base").await.unwrap_err();
        assert_eq!(err.code(), "ERR_HTTP_STATUS");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    }
    assert_eq!(e2b.get_state().await, "CLOSED");
    let m = e2b.metrics();
    assert_eq!((m.ignored_calls, m.failed_calls), (3, 0));
}

#[tokio::test]
async fn throttling_opens_the_circuit_for_at_least_retry_after() {
    let server = server_or_skip!();
    server
        .fault(json!({"route": "createSandbox", "status": 429, "retryAfter": 2, "times": 1}))
        .await;
    let e2b = server.client(1, Duration::from_millis(100), LONG);
    let started = Instant::now();
    let err = e2b.create_sandbox("base").await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(429));
    assert_eq!(e2b.get_state().await, "OPEN");
    tokio::time::sleep(Duration::from_millis(600)).await;
    let err = e2b.create_sandbox("base").await.unwrap_err();
    assert!(
        err.is_circuit_open(),
        "reset_timeout passed, Retry-After not: {err}"
    );
    while started.elapsed() < Duration::from_millis(2100) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    e2b.create_sandbox("base").await.unwrap();
    assert_eq!(server.requests().await.len(), 2);
}

#[tokio::test]
async fn server_errors_trip_the_breaker() {
    let server = server_or_skip!();
    server
        .fault(json!({"route": ["createSandbox", "listSandboxes"], "status": 503}))
        .await;
    let e2b = server.client(3, LONG, LONG);
    for _ in 0..2 {
        assert_eq!(
            e2b.create_sandbox("base").await.unwrap_err().code(),
            "ERR_HTTP_STATUS"
        );
    }
    assert_eq!(
        e2b.list_sandboxes().await.unwrap_err().code(),
        "ERR_HTTP_STATUS"
    );
    assert_eq!(e2b.get_state().await, "OPEN");
    assert!(e2b.list_sandboxes().await.unwrap_err().is_circuit_open());
    let m = e2b.metrics();
    assert_eq!((m.failed_calls, m.rejected_calls), (3, 1));
}

#[tokio::test]
async fn a_slow_execution_times_out_and_counts() {
    let server = server_or_skip!();
    let e2b = server.client(3, LONG, LONG);
    let id = e2b.create_sandbox("base").await.unwrap();
    server
        .fault(json!({"route": "execute", "kind": "delay", "delayMs": 3000, "times": 1}))
        .await;
    let started = Instant::now();
    let err = e2b
        .execute_code_with(
            &id,
            "1",
            ExecuteOptions {
                timeout: Some(Duration::from_millis(200)),
                ..ExecuteOptions::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "ERR_CIRCUIT_TIMEOUT");
    assert!(err.is_timeout());
    assert!(started.elapsed() < Duration::from_millis(2000));
    assert_eq!(e2b.metrics().failed_calls, 1);
}

#[tokio::test]
async fn a_stream_cut_mid_execution_trips() {
    let server = server_or_skip!();
    let e2b = server.client(2, LONG, LONG);
    let id = e2b.create_sandbox("base").await.unwrap();
    server
        .fault(json!({"route": "execute", "kind": "drop", "afterLines": 2}))
        .await;
    for _ in 0..2 {
        let err = e2b
            .execute_code(&id, "print(1)\nprint(2)\nprint(3)")
            .await
            .unwrap_err();
        assert!(
            matches!(err.code(), "ERR_HTTP_IO" | "ERR_E2B_STREAM"),
            "{}: {err}",
            err.code()
        );
    }
    assert_eq!(e2b.get_state().await, "OPEN");
}

#[tokio::test]
async fn a_vanished_sandbox_is_not_found_and_does_not_trip() {
    let server = server_or_skip!();
    let e2b = server.client(1, LONG, LONG);
    let id = e2b.create_sandbox("base").await.unwrap();
    server
        .control(json!({"action": "vanish", "sandboxId": id}))
        .await;
    let err = e2b.execute_code(&id, "1").await.unwrap_err();
    assert_eq!(err.code(), "ERR_SANDBOX_NOT_FOUND");
    assert!(matches!(&err, E2BError::SandboxNotFound { sandbox_id } if *sandbox_id == id));
    // Forgotten: the next try looks it up on the control plane (404), still not found.
    let err = e2b.execute_code(&id, "1").await.unwrap_err();
    assert_eq!(err.code(), "ERR_SANDBOX_NOT_FOUND");
    assert_eq!(
        e2b.set_sandbox_timeout(&id, 30).await.unwrap_err().code(),
        "ERR_SANDBOX_NOT_FOUND"
    );
    assert!(!e2b.stop_sandbox(&id).await.unwrap());
    assert_eq!(e2b.get_state().await, "CLOSED");
    assert_eq!(e2b.metrics().failed_calls, 0);
}
