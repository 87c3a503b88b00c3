//! Times a 100-row PostgreSQL query four ways, in Rust alone (no JavaScript): sqlx's own pool,
//! `DatabaseCircuitBreaker::query_rows` (the value model), `query_rows` plus rendering the rows
//! for JavaScript, and `query_js` (rendered directly, what the Node.js binding uses). Prints the
//! best of 10 rounds of 1000 queries each.
//!
//! ```text
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable \
//!   cargo run --release -p neural-trader-clients --example pg_query_timing
//! ```

use std::time::Instant;

use neural_trader_clients::database::{DatabaseCircuitBreaker, DatabaseOptions, Value};
use sqlx::Executor;

const ROUNDS: usize = 10;
const QUERIES: u32 = 1000;

fn per_query(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1e6 / f64::from(QUERIES)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test?sslmode=disable".into());
    let table = format!("nt_timing_{}", std::process::id());
    let sql = format!(
        "SELECT id, symbol, qty, px, note FROM {table} WHERE id > $1 ORDER BY id LIMIT 100"
    );
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(10)
        .test_before_acquire(false)
        .connect(&url)
        .await?;
    pool.execute(format!("CREATE TABLE {table} (id bigint PRIMARY KEY, symbol text, qty integer, px double precision, note text)").as_str())
        .await?;
    pool.execute(format!("INSERT INTO {table} SELECT g, 'SYM' || g, g * 10, g * 1.25, 'note number ' || g FROM generate_series(1, 100) g").as_str())
        .await?;
    let db = DatabaseCircuitBreaker::with_options(
        "timing",
        DatabaseOptions {
            url: Some(url.clone()),
            ..DatabaseOptions::default()
        },
    )?;
    let params = [Value::Int(0)];
    let mut best = [f64::MAX; 4];
    for _ in 0..ROUNDS {
        let start = Instant::now();
        for _ in 0..QUERIES {
            let rows = sqlx::query(&sql).bind(0i64).fetch_all(&pool).await?;
            std::hint::black_box(rows);
        }
        best[0] = best[0].min(per_query(start));
        let start = Instant::now();
        for _ in 0..QUERIES {
            std::hint::black_box(db.query_rows(&sql, &params).await?);
        }
        best[1] = best[1].min(per_query(start));
        let start = Instant::now();
        for _ in 0..QUERIES {
            std::hint::black_box(db.query_rows(&sql, &params).await?.to_js());
        }
        best[2] = best[2].min(per_query(start));
        let start = Instant::now();
        for _ in 0..QUERIES {
            std::hint::black_box(db.query_js(&sql, &params).await?);
        }
        best[3] = best[3].min(per_query(start));
    }
    pool.execute(format!("DROP TABLE {table}").as_str()).await?;
    println!(
        "best of {ROUNDS} x {QUERIES} queries: sqlx pool fetch_all {:.1} us, query_rows {:.1} us, query_rows + to_js {:.1} us, query_js {:.1} us",
        best[0], best[1], best[2], best[3]
    );
    Ok(())
}
