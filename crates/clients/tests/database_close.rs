//! DatabaseCircuitBreaker's connections from Rust: `close()` leaves none open and ends what was
//! running, a timeout cancels the statement on the server, a refused port fails at once with
//! its cause, a kept connection the server killed costs no failed call. PostgreSQL when
//! DATABASE_URL is set, MariaDB/MySQL when MYSQL_URL is set (skipped with a printed reason
//! otherwise); SQLite always.

use std::time::Duration;

use neural_trader_clients::database::{DatabaseCircuitBreaker, DatabaseOptions, Value};
use neural_trader_resilience::CircuitBreakerConfig;

fn env_url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            println!("skipped: {var} is not set");
            None
        }
    }
}

fn breaker(name: &str, url: &str, max: u32, timeout_ms: u64) -> DatabaseCircuitBreaker {
    DatabaseCircuitBreaker::with_options(
        format!("{name}_{}", std::process::id()),
        DatabaseOptions {
            url: Some(url.to_string()),
            max_connections: max,
            acquire_timeout: Duration::from_secs(30),
            breaker: CircuitBreakerConfig {
                timeout: Duration::from_millis(timeout_ms),
                failure_threshold: 100,
                ..CircuitBreakerConfig::default()
            },
        },
    )
    .expect("valid options")
}

fn with_app(url: &str, app: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}application_name={app}")
}

async fn count(admin: &DatabaseCircuitBreaker, sql: &str, app: &str) -> i64 {
    let rows = admin
        .query_rows(sql, &[Value::Text(app.into())])
        .await
        .expect("count");
    match rows.rows[0][0] {
        Value::Int(n) | Value::BigInt(n) => n,
        ref other => panic!("count: {other:?}"),
    }
}

const BY_APP: &str = "SELECT count(*)::int FROM pg_stat_activity WHERE application_name = $1";
const SLEEPING: &str = "SELECT count(*)::int FROM pg_stat_activity WHERE application_name = $1 \
                        AND state = 'active' AND query LIKE '%pg_sleep%'";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_close_leaves_no_connection_and_timeouts_cancel() {
    let Some(url) = env_url("DATABASE_URL") else {
        return;
    };
    let app = format!("nt_rs_close_{}", std::process::id());
    let admin = breaker("admin", &url, 1, 10_000);
    let db = breaker("pg_close", &with_app(&url, &app), 2, 300);
    for _ in 0..4 {
        let err = db
            .query_rows("SELECT pg_sleep(6)", &[])
            .await
            .expect_err("times out");
        assert_eq!(err.code(), "ERR_CIRCUIT_TIMEOUT");
    }
    // The statements were cancelled: the pool of two serves again.
    db.query_rows("SELECT 1", &[]).await.expect("served");
    let mut active = count(&admin, SLEEPING, &app).await;
    for _ in 0..50 {
        if active == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        active = count(&admin, SLEEPING, &app).await;
    }
    assert_eq!(active, 0);
    let running = {
        let db = &db;
        async move { db.query_rows("SELECT pg_sleep(20)", &[]).await }
    };
    let (result, ()) = tokio::join!(running, async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        db.close().await;
    });
    assert_eq!(result.expect_err("closed").code(), "ERR_DB_CLOSED");
    assert_eq!(count(&admin, BY_APP, &app).await, 0);
    db.close().await;
    admin.close().await;
}

#[tokio::test]
async fn refused_port_fails_at_once_with_its_cause() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    for scheme in ["postgres", "mysql"] {
        let db = breaker(
            "refused",
            &format!("{scheme}://trader:Sup3rS3cret@127.0.0.1:{port}/db"),
            2,
            60_000,
        );
        let err = db.query_rows("SELECT 1", &[]).await.expect_err("refused");
        assert_eq!(err.code(), "ERR_DB_CONNECTION", "{err}");
        assert!(err.message().to_lowercase().contains("refused"), "{err}");
        assert!(!err.message().contains("Sup3rS3cret"));
        db.close().await;
    }
}

#[tokio::test]
async fn mysql_killed_connections_cost_no_failed_call() {
    let Some(url) = env_url("MYSQL_URL") else {
        return;
    };
    let admin = breaker("admin", &url, 1, 10_000);
    let db = breaker("my_stale", &url, 1, 10_000);
    let rows = db
        .query_rows("SELECT CONNECTION_ID()", &[])
        .await
        .expect("id");
    let id = match &rows.rows[0][0] {
        Value::Int(n) | Value::BigInt(n) => *n,
        other => panic!("id: {other:?}"),
    };
    admin
        .execute(&format!("KILL {id}"), &[])
        .await
        .expect("kill");
    for i in 0..25 {
        db.query_rows("SELECT ?", &[Value::Int(i)])
            .await
            .expect("served");
    }
    assert_eq!(db.breaker().metrics().failed_calls, 0);
    db.close().await;
    admin.close().await;
}

#[tokio::test]
async fn postgres_terminated_connections_cost_no_failed_call() {
    let Some(url) = env_url("DATABASE_URL") else {
        return;
    };
    let app = format!("nt_rs_stale_{}", std::process::id());
    let admin = breaker("admin", &url, 1, 10_000);
    let db = breaker("pg_stale", &with_app(&url, &app), 1, 10_000);
    db.query_rows("SELECT 1", &[]).await.expect("connected");
    let killed = admin
        .query_rows(
            "SELECT count(pg_terminate_backend(pid))::int FROM pg_stat_activity \
             WHERE application_name = $1 AND state = 'idle'",
            &[Value::Text(app.clone())],
        )
        .await
        .expect("terminated");
    assert_eq!(killed.rows[0][0], Value::Int(1));
    for i in 0..5 {
        db.query_rows("SELECT $1::int", &[Value::Int(i)])
            .await
            .expect("served");
    }
    assert_eq!(db.breaker().metrics().failed_calls, 0);
    assert_eq!(db.get_state().await, "CLOSED");
    db.close().await;
    admin.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_timeout_interrupts_and_close_ends_a_running_statement() {
    let db = DatabaseCircuitBreaker::with_options(
        "sqlite_interrupt",
        DatabaseOptions {
            breaker: CircuitBreakerConfig {
                timeout: Duration::from_millis(200),
                failure_threshold: 100,
                ..CircuitBreakerConfig::default()
            },
            ..DatabaseOptions::default()
        },
    )
    .expect("options");
    const FOREVER: &str =
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c";
    let err = db.query_rows(FOREVER, &[]).await.expect_err("times out");
    assert_eq!(err.code(), "ERR_CIRCUIT_TIMEOUT");
    // One connection: it serves again only if the statement was interrupted.
    db.query_rows("SELECT 1", &[]).await.expect("served");
    db.close().await;
    let err = db.query_rows("SELECT 1", &[]).await.expect_err("closed");
    assert_eq!(err.code(), "ERR_DB_CLOSED");
}
