//! DatabaseCircuitBreaker against real databases: SQLite always, PostgreSQL when DATABASE_URL
//! is set, MySQL/MariaDB when MYSQL_URL is set (each skipped with a printed reason otherwise).

use std::time::Duration;

use neural_trader_clients::database::{
    DatabaseCircuitBreaker, DatabaseOptions, DbError, LastInsertId, Transaction, Value,
};
use neural_trader_resilience::CircuitBreakerConfig;

#[path = "database/names.rs"]
mod names;

fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn env_url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            println!("skipped: {var} is not set");
            None
        }
    }
}

fn server(url: &str, breaker: CircuitBreakerConfig) -> DatabaseCircuitBreaker {
    DatabaseCircuitBreaker::with_options(
        unique("db"),
        DatabaseOptions {
            url: Some(url.to_string()),
            max_connections: 4,
            acquire_timeout: Duration::from_secs(5),
            breaker,
        },
    )
    .expect("valid URL")
}

#[derive(serde::Deserialize, Debug, PartialEq)]
struct Trade {
    id: i64,
    symbol: String,
}

#[tokio::test]
async fn sqlite_round_trip_and_rust_deserialize() {
    let db = DatabaseCircuitBreaker::new("trading_db");
    db.execute(
        "CREATE TABLE trades (id INTEGER PRIMARY KEY, symbol TEXT NOT NULL UNIQUE, px REAL, raw BLOB, big INTEGER)",
        &[],
    )
    .await
    .unwrap();
    let done = db
        .execute(
            "INSERT INTO trades (symbol, px, raw, big) VALUES ($1, $2, $3, $4)",
            &[
                "AAPL".into(),
                Value::Float(101.5),
                Value::Bytes(vec![0, 255]),
                Value::BigInt(9_007_199_254_740_993),
            ],
        )
        .await
        .unwrap();
    assert_eq!(done.rows_affected, 1);
    assert_eq!(done.last_insert_id, Some(LastInsertId::Signed(1)));
    let trades: Vec<Trade> = db.query("SELECT id, symbol FROM trades").await.unwrap();
    assert_eq!(
        trades,
        vec![Trade {
            id: 1,
            symbol: "AAPL".into()
        }]
    );
    let rows = db
        .query_rows("SELECT px, raw, big FROM trades", &[])
        .await
        .unwrap();
    assert_eq!(
        rows.rows[0],
        vec![
            Value::Float(101.5),
            Value::Bytes(vec![0, 255]),
            Value::BigInt(9_007_199_254_740_993)
        ]
    );
    // A constraint violation rejects with the database's code but does not trip.
    let err = db
        .execute("INSERT INTO trades (symbol) VALUES ($1)", &["AAPL".into()])
        .await
        .unwrap_err();
    assert_eq!(err.code(), "ERR_DB_CONSTRAINT");
    assert_eq!(err.db_code(), Some("2067"));
    let m = db.breaker().metrics();
    assert_eq!((m.failed_calls, m.ignored_calls), (0, 1));
    // A syntax error neither.
    let err = db.query_rows("SELEKT 1", &[]).await.unwrap_err();
    assert_eq!(err.code(), "ERR_DB_QUERY");
    assert_eq!(db.get_state().await, "CLOSED");
}

#[tokio::test]
async fn sqlite_transactions_commit_and_roll_back_as_one_call() {
    let db = DatabaseCircuitBreaker::new("ledger");
    db.execute("CREATE TABLE t (n INTEGER UNIQUE)", &[])
        .await
        .unwrap();
    let before = db.breaker().metrics().total_calls;
    db.transaction(|tx: &mut Transaction| {
        Box::pin(async move {
            tx.execute("INSERT INTO t VALUES (1)", &[]).await?;
            tx.execute("INSERT INTO t VALUES (2)", &[]).await?;
            Ok(())
        })
    })
    .await
    .unwrap();
    assert_eq!(db.breaker().metrics().total_calls, before + 1);
    let err = db
        .transaction(|tx: &mut Transaction| {
            Box::pin(async move {
                tx.execute("INSERT INTO t VALUES (3)", &[]).await?;
                tx.execute("INSERT INTO t VALUES (1)", &[]).await?;
                Ok(())
            })
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), "ERR_DB_CONSTRAINT");
    let rows = db
        .query_rows("SELECT n FROM t ORDER BY n", &[])
        .await
        .unwrap();
    assert_eq!(rows.rows, vec![vec![Value::Int(1)], vec![Value::Int(2)]]);
    assert_eq!(db.breaker().metrics().failed_calls, 0);
}

#[tokio::test]
async fn sqlite_transaction_timeout_rolls_back_and_counts_a_failure() {
    let db = DatabaseCircuitBreaker::with_options(
        "slow",
        DatabaseOptions {
            breaker: CircuitBreakerConfig {
                timeout: Duration::from_millis(100),
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .unwrap();
    db.execute("CREATE TABLE t (n INTEGER)", &[]).await.unwrap();
    let err: DbError = db
        .transaction(|tx: &mut Transaction| {
            Box::pin(async move {
                tx.execute("INSERT INTO t VALUES (1)", &[]).await?;
                tokio::time::sleep(Duration::from_millis(300)).await;
                Ok(())
            })
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), "ERR_CIRCUIT_TIMEOUT");
    assert_eq!(db.breaker().metrics().failed_calls, 1);
    let rows = db.query_rows("SELECT n FROM t", &[]).await.unwrap();
    assert!(rows.rows.is_empty(), "{rows:?}");
}

#[tokio::test]
async fn unreachable_server_trips_and_hides_the_password() {
    // A port nothing listens on (bound then released).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let db = DatabaseCircuitBreaker::with_options(
        "down",
        DatabaseOptions {
            url: Some(format!("postgres://trader:s3cretPass@127.0.0.1:{port}/x")),
            acquire_timeout: Duration::from_millis(200),
            breaker: CircuitBreakerConfig {
                failure_threshold: 2,
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .unwrap();
    for _ in 0..2 {
        let err = db.query_rows("SELECT 1", &[]).await.unwrap_err();
        assert!(err.trips(), "{err:?}");
        assert!(!err.message().contains("s3cretPass"), "{err}");
    }
    let err = db.query_rows("SELECT 1", &[]).await.unwrap_err();
    assert_eq!(err.code(), "ERR_CIRCUIT_OPEN");
    assert_eq!(db.get_state().await, "OPEN");
}

#[tokio::test]
async fn postgres_types_params_and_classification() {
    let Some(url) = env_url("DATABASE_URL") else {
        return;
    };
    let db = server(&url, CircuitBreakerConfig::default());
    let t = unique("nt_pg");
    db.execute(
        &format!(
            "CREATE TABLE {t} (id BIGSERIAL PRIMARY KEY, qty BIGINT NOT NULL, px NUMERIC(12,4), doc JSONB, at TIMESTAMPTZ, d DATE, u UUID, b BYTEA, ok BOOL, f FLOAT8, s SMALLINT, note TEXT UNIQUE)"
        ),
        &[],
    )
    .await
    .unwrap();
    let done = db
        .execute(
            &format!("INSERT INTO {t} (qty, px, doc, at, d, u, b, ok, f, s, note) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)"),
            &[
                Value::Text("9007199254740993".into()),
                Value::Text("1.5".into()),
                Value::Text(r#"{"a":[1,2]}"#.into()),
                Value::Text("2024-01-02T03:04:05.678Z".into()),
                Value::Text("2024-02-29".into()),
                Value::Text("6f1c3a8e-9a51-4b8e-8d0c-3c2f8b0f5e11".into()),
                Value::Bytes(vec![1, 2, 3]),
                Value::Bool(true),
                Value::Float(0.25),
                Value::Float(7.0),
                Value::Text("x'); DROP TABLE users; --".into()),
            ],
        )
        .await
        .unwrap();
    assert_eq!(done.rows_affected, 1);
    assert_eq!(done.last_insert_id, None);
    let rows = db
        .query_rows(
            &format!("SELECT qty, px, doc, at, d, u, b, ok, f, s, note FROM {t}"),
            &[],
        )
        .await
        .unwrap();
    let r = &rows.rows[0];
    assert_eq!(r[0], Value::BigInt(9_007_199_254_740_993));
    assert_eq!(r[1], Value::Decimal("1.5000".into()));
    assert_eq!(r[2], Value::Json(serde_json::json!({"a": [1, 2]})));
    assert_eq!(
        r[3].to_json(),
        serde_json::json!("2024-01-02T03:04:05.678Z")
    );
    assert_eq!(r[4].to_json(), serde_json::json!("2024-02-29"));
    assert_eq!(
        r[5].to_json(),
        serde_json::json!("6f1c3a8e-9a51-4b8e-8d0c-3c2f8b0f5e11")
    );
    assert_eq!(r[6], Value::Bytes(vec![1, 2, 3]));
    assert_eq!(r[7], Value::Bool(true));
    assert_eq!(r[8], Value::Float(0.25));
    assert_eq!(r[9], Value::Int(7));
    assert_eq!(r[10], Value::Text("x'); DROP TABLE users; --".into()));

    let err = db
        .execute(
            &format!("INSERT INTO {t} (qty, note) VALUES ($1, $2)"),
            &[
                Value::Float(1.0),
                Value::Text("x'); DROP TABLE users; --".into()),
            ],
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "ERR_DB_CONSTRAINT");
    assert_eq!(err.sql_state(), Some("23505"));
    let err = db
        .execute(
            &format!("INSERT INTO {t} (qty) VALUES ($1)"),
            &[Value::Text("abc".into())],
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "ERR_INVALID_ARG_VALUE");
    let err = db
        .execute(
            &format!("INSERT INTO {t} (s) VALUES ($1)"),
            &[Value::Float(70000.0)],
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "ERR_OUT_OF_RANGE");
    let err = db.query_rows("SELECT $1::int", &[]).await.unwrap_err();
    assert_eq!(err.code(), "ERR_INVALID_ARG_VALUE");
    let m = db.breaker().metrics();
    assert_eq!(m.failed_calls, 0, "{m:?}");

    // A failed statement aborts a PostgreSQL transaction: the commit must not claim success.
    let err = db
        .transaction(|tx: &mut Transaction| {
            let t = t.clone();
            Box::pin(async move {
                tx.execute(&format!("INSERT INTO {t} (qty) VALUES (1)"), &[])
                    .await?;
                let _ = tx.query_rows("SELEKT", &[]).await;
                Ok(())
            })
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), "ERR_DB_TRANSACTION_ABORTED");
    let rows = db
        .query_rows(&format!("SELECT count(*) AS n FROM {t}"), &[])
        .await
        .unwrap();
    assert_eq!(rows.rows[0][0], Value::BigInt(1));
    db.execute(&format!("DROP TABLE {t}"), &[]).await.unwrap();
}

#[tokio::test]
async fn mysql_types_params_and_classification() {
    let Some(url) = env_url("MYSQL_URL") else {
        return;
    };
    let db = server(&url, CircuitBreakerConfig::default());
    let t = unique("nt_my");
    db.execute(
        &format!("CREATE TABLE {t} (id BIGINT AUTO_INCREMENT PRIMARY KEY, qty BIGINT, px DECIMAL(12,4), at DATETIME(3), b BLOB, f DOUBLE, note VARCHAR(100) UNIQUE)"),
        &[],
    )
    .await
    .unwrap();
    let done = db
        .execute(
            &format!("INSERT INTO {t} (qty, px, at, b, f, note) VALUES (?, ?, ?, ?, ?, ?)"),
            &[
                Value::BigInt(9_007_199_254_740_993),
                Value::Text("1.5".into()),
                Value::Text("2024-01-02 03:04:05.678".into()),
                Value::Bytes(vec![0, 1]),
                Value::Float(0.5),
                Value::Text("a'b".into()),
            ],
        )
        .await
        .unwrap();
    assert_eq!(done.last_insert_id, Some(LastInsertId::Unsigned(1)));
    let rows = db
        .query_rows(&format!("SELECT qty, px, at, b, f, note FROM {t}"), &[])
        .await
        .unwrap();
    let r = &rows.rows[0];
    assert_eq!(r[0], Value::BigInt(9_007_199_254_740_993));
    assert_eq!(r[1], Value::Decimal("1.5000".into()));
    assert_eq!(r[2].to_json(), serde_json::json!("2024-01-02T03:04:05.678"));
    assert_eq!(r[3], Value::Bytes(vec![0, 1]));
    assert_eq!(r[4], Value::Float(0.5));
    assert_eq!(r[5], Value::Text("a'b".into()));
    let err = db
        .execute(
            &format!("INSERT INTO {t} (note) VALUES (?)"),
            &["a'b".into()],
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "ERR_DB_CONSTRAINT");
    assert_eq!(err.db_code(), Some("1062"));
    assert_eq!(db.breaker().metrics().failed_calls, 0);
    db.execute(&format!("DROP TABLE {t}"), &[]).await.unwrap();
}

#[tokio::test]
async fn a_held_transaction_reports_once_and_rolls_back_when_dropped() {
    let db = DatabaseCircuitBreaker::new("held");
    db.execute("CREATE TABLE t (n INTEGER)", &[]).await.unwrap();
    {
        let mut tx = db.begin().await.unwrap();
        tx.execute("INSERT INTO t VALUES (1)", &[]).await.unwrap();
        // Dropped unended: rolled back, counted as cancelled (a failed call that does not
        // move the circuit).
    }
    let rows = db.query_rows("SELECT n FROM t", &[]).await.unwrap();
    assert!(rows.rows.is_empty(), "{rows:?}");
    assert_eq!(db.breaker().metrics().failed_calls, 1);
    assert_eq!(db.get_state().await, "CLOSED");

    let mut tx = db.begin().await.unwrap();
    tx.execute("INSERT INTO t VALUES (2)", &[]).await.unwrap();
    tx.commit().await.unwrap();
    assert!(tx.is_ended());
    assert_eq!(
        tx.commit().await.unwrap_err().code(),
        "ERR_DB_TRANSACTION_CLOSED"
    );
    assert_eq!(
        tx.query_rows("SELECT 1", &[]).await.unwrap_err().code(),
        "ERR_DB_TRANSACTION_CLOSED"
    );
    let m = db.breaker().metrics();
    assert_eq!((m.successful_calls, m.failed_calls), (3, 1), "{m:?}");
    let rows = db.query_rows("SELECT n FROM t", &[]).await.unwrap();
    assert_eq!(rows.rows, vec![vec![Value::Int(2)]]);
}

#[tokio::test]
async fn postgres_rows_rendered_for_js_directly_match_the_value_model_rendered() {
    let Some(url) = env_url("DATABASE_URL") else {
        return;
    };
    let db = server(&url, CircuitBreakerConfig::default());
    // Every type with a direct path (bool, int2/4/8, float4/8 finite and not, text-likes, an
    // enum-free varchar/bpchar/name), nulls, and types that go through the value model.
    let sql = r#"SELECT g AS id, (g % 2 = 0) AS even, g::int2 AS i2, (g * 1000)::int4 AS i4,
        (g::int8 * 9007199254740993) AS i8, g * 0.5::float4 AS f4,
        CASE WHEN g = 1 THEN 'NaN'::float8 WHEN g = 2 THEN '-Infinity' ELSE g / 3.0 END AS f8,
        'é "quoted" \ ' || g AS t, ('v' || g)::varchar AS v, 'c'::char(3) AS c, 'n'::name AS n,
        CASE WHEN g = 3 THEN NULL ELSE g END AS maybe, 1.50::numeric AS num,
        '\x0102'::bytea AS b, ARRAY[g, NULL] AS arr, '{"k":[1,2]}'::jsonb AS j,
        '2024-01-02 03:04:05+00'::timestamptz AS at, 1 AS id
        FROM generate_series(1, 5) g"#;
    let direct = db.query_js(sql, &[]).await.unwrap();
    let via_values = db.query_rows(sql, &[]).await.unwrap().to_js();
    // (Compared as text: a NaN patch is not equal to itself.)
    assert_eq!(format!("{direct:?}"), format!("{via_values:?}"));
    assert_eq!(direct.row_count, 5);
    assert!(direct.cells.contains(r#""9007199254740993""#));
    assert!(!direct.patches.is_empty());
    let empty = db.query_js("SELECT 1 AS x WHERE false", &[]).await.unwrap();
    assert_eq!((empty.row_count, empty.cells.as_str()), (0, "[]"));
}
