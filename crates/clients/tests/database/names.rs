//! Issue 9, from Rust: a database name that does not exist (PostgreSQL SQLSTATE 3D000, MySQL
//! 1049) fails every call as surely as a wrong password, so it is a connection failure that
//! trips the breaker; a `void` column (`pg_sleep()`) is `''`, as node-postgres gives it.

use neural_trader_clients::database::Value;
use neural_trader_resilience::CircuitBreakerConfig;

use super::{env_url, server};

/// `url` with its database name replaced by one that does not exist.
fn missing_database(url: &str) -> String {
    let mut url = url::Url::parse(url).unwrap();
    url.set_path("/nt_no_such_database");
    url.to_string()
}

async fn trips_on_a_missing_database(var: &str) {
    let Some(url) = env_url(var) else {
        return;
    };
    let config = CircuitBreakerConfig {
        failure_threshold: 1,
        ..CircuitBreakerConfig::default()
    };
    let db = server(&missing_database(&url), config);
    let err = db.query_rows("SELECT 1", &[]).await.unwrap_err();
    assert_eq!(err.code(), "ERR_DB_CONNECTION", "{var}: {err}");
    assert_eq!(db.breaker().metrics().failed_calls, 1, "{var}");
    assert_eq!(db.get_state().await, "OPEN", "{var}");
}

#[tokio::test]
async fn a_missing_database_is_a_connection_failure_that_trips() {
    trips_on_a_missing_database("DATABASE_URL").await;
    trips_on_a_missing_database("MYSQL_URL").await;
}

#[tokio::test]
async fn a_void_column_is_an_empty_string() {
    let Some(url) = env_url("DATABASE_URL") else {
        return;
    };
    let db = server(&url, CircuitBreakerConfig::default());
    let rows = db
        .query_rows("SELECT pg_sleep(0) AS slept", &[])
        .await
        .unwrap();
    assert_eq!(rows.rows[0][0], Value::Text(String::new()));
}
