//! The driver-specific pools (not sqlx's `Any` driver, which cannot return numeric, timestamptz,
//! jsonb or uuid), and the one place that dispatches an operation to its driver.

use sqlx::mysql::{MySqlPool, MySqlPoolOptions};
use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use sqlx::{MySql, Postgres, Sqlite};

use super::error::DbError;
use super::lease::{IdleLeases, PING_AFTER_IDLE};
use super::options::{parse_url, secrets_of, DatabaseOptions, Target, MAX_CONNECTIONS};
use super::postgres::ParamTypes;
use super::render::JsRows;
use super::value::{ExecuteResult, Rows, Value};
use super::{mysql, pg_decode, postgres, sqlite};

/// What a query's rows are returned as: the value model ([`Rows`]) or rendered for JavaScript
/// ([`JsRows`], which PostgreSQL rows are rendered as directly, without building values).
pub(crate) trait RowFormat: Sized {
    /// From rows of the value model (SQLite, MySQL).
    fn from_rows(rows: Rows) -> Self;
    /// From PostgreSQL's rows.
    fn from_pg(rows: Vec<PgRow>) -> Result<Self, DbError>;
}

impl RowFormat for Rows {
    fn from_rows(rows: Rows) -> Self {
        rows
    }

    fn from_pg(rows: Vec<PgRow>) -> Result<Self, DbError> {
        pg_decode::decode_rows(rows)
    }
}

impl RowFormat for JsRows {
    fn from_rows(rows: Rows) -> Self {
        rows.to_js()
    }

    fn from_pg(rows: Vec<PgRow>) -> Result<Self, DbError> {
        pg_decode::render_rows(&rows)
    }
}

/// A pool of one driver.
#[derive(Debug)]
pub(crate) enum DbPool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
    MySql(MySqlPool),
}

/// The idle leases of the pool's driver (see `lease.rs`).
#[derive(Debug, Default)]
pub(crate) struct Idle {
    sqlite: IdleLeases<Sqlite>,
    postgres: IdleLeases<Postgres>,
    mysql: IdleLeases<MySql>,
}

/// The pool plus what every operation on it needs.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) pool: DbPool,
    /// Connections kept between operations.
    idle: Idle,
    /// PostgreSQL parameter types per SQL text.
    pub(crate) pg_types: ParamTypes,
    /// Strings that must never appear in an error (the URL's password).
    pub(crate) secrets: Vec<String>,
}

/// An open transaction of one driver.
#[derive(Debug)]
pub(crate) enum DriverTx {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
    MySql(sqlx::Transaction<'static, MySql>),
}

impl Shared {
    /// Builds the pool without connecting: the first operation connects (so that an
    /// unreachable server is a failure the breaker counts, not an error of the constructor).
    /// Needs a Tokio runtime context for server URLs (the pool's maintenance task).
    pub(crate) fn connect_lazy(options: &DatabaseOptions) -> Result<Self, DbError> {
        let max = options.max_connections.clamp(1, MAX_CONNECTIONS);
        let acquire = options.acquire_timeout;
        let (target, secrets) = match options.url.as_deref() {
            None => (memory_target(), Vec::new()),
            Some(url) => (parse_url(url)?, secrets_of(url)),
        };
        let pool = match target {
            Target::Sqlite { options, in_memory } => DbPool::Sqlite(if in_memory {
                memory_pool(options, acquire)
            } else {
                SqlitePoolOptions::new()
                    .max_connections(max)
                    .acquire_timeout(acquire)
                    .connect_lazy_with(options)
            }),
            Target::Postgres(options) => DbPool::Postgres(
                PgPoolOptions::new()
                    .max_connections(max)
                    .acquire_timeout(acquire)
                    .test_before_acquire(false)
                    .before_acquire(|conn, meta| Box::pin(ping_if_idle(conn, meta)))
                    .connect_lazy_with(options),
            ),
            Target::MySql(options) => DbPool::MySql(
                MySqlPoolOptions::new()
                    .max_connections(max)
                    .acquire_timeout(acquire)
                    .test_before_acquire(false)
                    .before_acquire(|conn, meta| Box::pin(ping_if_idle(conn, meta)))
                    .connect_lazy_with(options),
            ),
        };
        Ok(Self {
            pool,
            idle: Idle::default(),
            pg_types: ParamTypes::default(),
            secrets,
        })
    }

    /// A private in-memory SQLite database (cannot fail).
    pub(crate) fn memory(acquire_timeout: std::time::Duration) -> Self {
        Self {
            pool: DbPool::Sqlite(memory_pool(SqliteConnectOptions::new(), acquire_timeout)),
            idle: Idle::default(),
            pg_types: ParamTypes::default(),
            secrets: Vec::new(),
        }
    }

    fn err(&self, e: sqlx::Error) -> DbError {
        DbError::from_sqlx(e, &self.secrets)
    }

    /// Runs `sql` on a pooled connection and returns its rows.
    pub(crate) async fn fetch<O: RowFormat>(
        &self,
        sql: &str,
        params: &[Value],
    ) -> Result<O, DbError> {
        let (s, idle) = (&self.secrets, &self.idle);
        match &self.pool {
            DbPool::Sqlite(p) => idle
                .sqlite
                .run(p, s, async |c| sqlite::fetch(c, sql, params, s).await)
                .await
                .map(O::from_rows),
            DbPool::Postgres(p) => O::from_pg(
                idle.postgres
                    .run(p, s, async |c| {
                        postgres::fetch(c, &self.pg_types, sql, params, s).await
                    })
                    .await?,
            ),
            DbPool::MySql(p) => idle
                .mysql
                .run(p, s, async |c| mysql::fetch(c, sql, params, s).await)
                .await
                .map(O::from_rows),
        }
    }

    /// Runs `sql` on a pooled connection for its effect.
    pub(crate) async fn execute(
        &self,
        sql: &str,
        params: &[Value],
    ) -> Result<ExecuteResult, DbError> {
        let (s, idle) = (&self.secrets, &self.idle);
        match &self.pool {
            DbPool::Sqlite(p) => {
                idle.sqlite
                    .run(p, s, async |c| sqlite::execute(c, sql, params, s).await)
                    .await
            }
            DbPool::Postgres(p) => {
                idle.postgres
                    .run(p, s, async |c| {
                        postgres::execute(c, &self.pg_types, sql, params, s).await
                    })
                    .await
            }
            DbPool::MySql(p) => {
                idle.mysql
                    .run(p, s, async |c| mysql::execute(c, sql, params, s).await)
                    .await
            }
        }
    }

    /// Takes a connection and begins a transaction on it. The connection comes from the idle
    /// leases when there is one (then sqlx's pool gets it back after the transaction).
    pub(crate) async fn begin(&self) -> Result<DriverTx, DbError> {
        Ok(match &self.pool {
            DbPool::Sqlite(p) => DriverTx::Sqlite(self.begin_on(&self.idle.sqlite, p).await?),
            DbPool::Postgres(p) => DriverTx::Postgres(self.begin_on(&self.idle.postgres, p).await?),
            DbPool::MySql(p) => DriverTx::MySql(self.begin_on(&self.idle.mysql, p).await?),
        })
    }

    async fn begin_on<DB: sqlx::Database>(
        &self,
        idle: &IdleLeases<DB>,
        pool: &sqlx::Pool<DB>,
    ) -> Result<sqlx::Transaction<'static, DB>, DbError> {
        let conn = idle.lease(pool).await.map_err(|e| self.err(e))?;
        // `Pool::begin` does exactly this with a connection it acquired itself (the function
        // is public but hidden from sqlx's docs).
        sqlx::Transaction::begin(conn.into_pooled(), None)
            .await
            .map_err(|e| self.err(e))
    }

    /// Closes the pool: waits for connections in use to come back and closes them all.
    pub(crate) async fn close(&self) {
        self.idle.sqlite.close();
        self.idle.postgres.close();
        self.idle.mysql.close();
        match &self.pool {
            DbPool::Sqlite(p) => p.close().await,
            DbPool::Postgres(p) => p.close().await,
            DbPool::MySql(p) => p.close().await,
        }
    }

    /// `"sqlite"`, `"postgres"` or `"mysql"`.
    pub(crate) fn driver(&self) -> &'static str {
        match &self.pool {
            DbPool::Sqlite(_) => "sqlite",
            DbPool::Postgres(_) => "postgres",
            DbPool::MySql(_) => "mysql",
        }
    }

    /// Whether [`Shared::close`] was called.
    pub(crate) fn is_closed(&self) -> bool {
        match &self.pool {
            DbPool::Sqlite(p) => p.is_closed(),
            DbPool::Postgres(p) => p.is_closed(),
            DbPool::MySql(p) => p.is_closed(),
        }
    }
}

/// Pings a connection that has been idle for a while (the server may have closed it) instead
/// of every connection on every acquire (sqlx's default), which would double the round trips
/// of every query. A connection found dead is discarded and another is taken, so a server
/// restart costs no failed call.
async fn ping_if_idle<C: sqlx::Connection>(
    conn: &mut C,
    meta: sqlx::pool::PoolConnectionMetadata,
) -> Result<bool, sqlx::Error> {
    if meta.idle_for >= PING_AFTER_IDLE {
        return Ok(conn.ping().await.is_ok());
    }
    Ok(true)
}

/// `:memory:` opened directly: a database private to its one connection.
fn memory_target() -> Target {
    Target::Sqlite {
        options: SqliteConnectOptions::new(),
        in_memory: true,
    }
}

/// One connection, never closed by the pool (no idle timeout, no lifetime): an in-memory
/// database lives exactly as long as its connection. No maintenance task is spawned, so this
/// needs no runtime context.
fn memory_pool(options: SqliteConnectOptions, acquire: std::time::Duration) -> SqlitePool {
    SqlitePoolOptions::new()
        .max_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .acquire_timeout(acquire)
        .test_before_acquire(false)
        .connect_lazy_with(options)
}

impl DriverTx {
    /// Whether a failed statement aborts the whole transaction (PostgreSQL does; MySQL and
    /// SQLite roll back only the statement).
    pub(crate) fn aborts_on_error(&self) -> bool {
        matches!(self, DriverTx::Postgres(_))
    }

    /// Runs `sql` in the transaction and returns its rows.
    pub(crate) async fn fetch<O: RowFormat>(
        &mut self,
        shared: &Shared,
        sql: &str,
        params: &[Value],
    ) -> Result<O, DbError> {
        let s = &shared.secrets;
        match self {
            DriverTx::Sqlite(tx) => sqlite::fetch(tx, sql, params, s).await.map(O::from_rows),
            DriverTx::Postgres(tx) => {
                O::from_pg(postgres::fetch(tx, &shared.pg_types, sql, params, s).await?)
            }
            DriverTx::MySql(tx) => mysql::fetch(tx, sql, params, s).await.map(O::from_rows),
        }
    }

    /// Runs `sql` in the transaction for its effect.
    pub(crate) async fn execute(
        &mut self,
        shared: &Shared,
        sql: &str,
        params: &[Value],
    ) -> Result<ExecuteResult, DbError> {
        let s = &shared.secrets;
        match self {
            DriverTx::Sqlite(tx) => sqlite::execute(tx, sql, params, s).await,
            DriverTx::Postgres(tx) => postgres::execute(tx, &shared.pg_types, sql, params, s).await,
            DriverTx::MySql(tx) => mysql::execute(tx, sql, params, s).await,
        }
    }

    /// Commits.
    pub(crate) async fn commit(self, shared: &Shared) -> Result<(), DbError> {
        match self {
            DriverTx::Sqlite(tx) => tx.commit().await,
            DriverTx::Postgres(tx) => tx.commit().await,
            DriverTx::MySql(tx) => tx.commit().await,
        }
        .map_err(|e| shared.err(e))
    }

    /// Rolls back.
    pub(crate) async fn rollback(self, shared: &Shared) -> Result<(), DbError> {
        match self {
            DriverTx::Sqlite(tx) => tx.rollback().await,
            DriverTx::Postgres(tx) => tx.rollback().await,
            DriverTx::MySql(tx) => tx.rollback().await,
        }
        .map_err(|e| shared.err(e))
    }
}
