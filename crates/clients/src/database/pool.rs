//! The driver-specific pools (not sqlx's `Any` driver, which cannot return numeric, timestamptz,
//! jsonb or uuid), and the one place that dispatches an operation to its driver.
//!
//! Each driver (its variant of [`DbPool`] and [`DriverTx`], its arm of every dispatch) exists
//! only when its Cargo feature is on; at least one is (see `lib.rs`).

#[cfg(feature = "database-mysql")]
use sqlx::mysql::{MySqlPool, MySqlPoolOptions};
#[cfg(feature = "database-postgres")]
use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
#[cfg(feature = "database-sqlite")]
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
#[cfg(feature = "database-mysql")]
use sqlx::MySql;
#[cfg(feature = "database-postgres")]
use sqlx::Postgres;
#[cfg(feature = "database-sqlite")]
use sqlx::Sqlite;
use std::sync::atomic::{AtomicBool, Ordering};

use super::cancel::{CancelKey, KeyOf};
use super::closing::OpenTransactions;

use super::cancel::{Canceller, Running, Target as CancelTarget};
use super::error::{DbError, DbErrorKind};
#[cfg(any(feature = "database-postgres", feature = "database-mysql"))]
use super::lease::PING_AFTER_IDLE;
use super::lease::{Ctx, IdleLeases};
#[cfg(feature = "database-mysql")]
use super::mysql;
use super::options::{parse_url, secrets_of, DatabaseOptions, Target, MAX_CONNECTIONS};
#[cfg(feature = "database-postgres")]
use super::postgres::ParamTypes;
use super::probe::Probe;
use super::render::JsRows;
#[cfg(feature = "database-sqlite")]
use super::sqlite;
use super::value::{ExecuteResult, Rows, Value};
#[cfg(feature = "database-postgres")]
use super::{pg_decode, postgres};

/// What a query's rows are returned as: the value model ([`Rows`]) or rendered for JavaScript
/// ([`JsRows`], which PostgreSQL rows are rendered as directly, without building values).
pub(crate) trait RowFormat: Sized {
    /// From rows of the value model (SQLite, MySQL).
    #[cfg(any(feature = "database-sqlite", feature = "database-mysql"))]
    fn from_rows(rows: Rows) -> Self;
    /// From PostgreSQL's rows.
    #[cfg(feature = "database-postgres")]
    fn from_pg(rows: Vec<PgRow>) -> Result<Self, DbError>;
}

impl RowFormat for Rows {
    #[cfg(any(feature = "database-sqlite", feature = "database-mysql"))]
    fn from_rows(rows: Rows) -> Self {
        rows
    }

    #[cfg(feature = "database-postgres")]
    fn from_pg(rows: Vec<PgRow>) -> Result<Self, DbError> {
        pg_decode::decode_rows(rows)
    }
}

impl RowFormat for JsRows {
    #[cfg(any(feature = "database-sqlite", feature = "database-mysql"))]
    fn from_rows(rows: Rows) -> Self {
        rows.to_js()
    }

    #[cfg(feature = "database-postgres")]
    fn from_pg(rows: Vec<PgRow>) -> Result<Self, DbError> {
        pg_decode::render_rows(&rows)
    }
}

/// A pool of one driver.
#[derive(Debug)]
pub(crate) enum DbPool {
    #[cfg(feature = "database-sqlite")]
    Sqlite(SqlitePool),
    #[cfg(feature = "database-postgres")]
    Postgres(PgPool),
    #[cfg(feature = "database-mysql")]
    MySql(MySqlPool),
}

/// The idle leases of the pool's driver (see `lease.rs`).
#[derive(Debug, Default)]
pub(crate) struct Idle {
    #[cfg(feature = "database-sqlite")]
    sqlite: IdleLeases<Sqlite>,
    #[cfg(feature = "database-postgres")]
    postgres: IdleLeases<Postgres>,
    #[cfg(feature = "database-mysql")]
    mysql: IdleLeases<MySql>,
}

/// The pool plus what every operation on it needs.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) pool: DbPool,
    /// Connections kept between operations.
    idle: Idle,
    /// PostgreSQL parameter types per SQL text.
    #[cfg(feature = "database-postgres")]
    pub(crate) pg_types: ParamTypes,
    /// Strings that must never appear in an error (the URL's password).
    pub(crate) secrets: Vec<String>,
    /// The statements running on leased connections (`cancel.rs`).
    running: Running,
    /// How a running statement is cancelled on the server.
    pub(crate) canceller: Canceller,
    /// The server's TCP address, probed while the pool is empty (`probe.rs`).
    probe: Option<Probe>,
    /// The open transactions, rolled back by `close()` (`closing.rs`).
    pub(crate) txs: OpenTransactions,
    /// Set by `close()` before anything else.
    closed: AtomicBool,
}

/// An open transaction of one driver.
#[derive(Debug)]
pub(crate) enum DriverTx {
    #[cfg(feature = "database-sqlite")]
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    #[cfg(feature = "database-postgres")]
    Postgres(sqlx::Transaction<'static, Postgres>),
    #[cfg(feature = "database-mysql")]
    MySql(sqlx::Transaction<'static, MySql>),
}

/// A NUL byte would end the statement early on the wire (a protocol error, which would trip).
/// Every driver checks the SQL text with this before sending it.
pub(crate) fn check_sql(sql: &str) -> Result<(), DbError> {
    if sql.contains('\0') {
        return Err(DbError::new(
            DbErrorKind::ParamValue,
            "The SQL text must not contain a NUL character",
        ));
    }
    Ok(())
}

impl Shared {
    /// Builds the pool of `url` (`options.url`) without connecting: the first operation
    /// connects (so that an unreachable server is a failure the breaker counts, not an error of
    /// the constructor). Needs a Tokio runtime context for server URLs (the pool's maintenance
    /// task).
    pub(crate) fn connect_lazy(url: &str, options: &DatabaseOptions) -> Result<Self, DbError> {
        let max = options.max_connections.clamp(1, MAX_CONNECTIONS);
        let acquire = options.acquire_timeout;
        let secrets = secrets_of(url);
        let pool = match parse_url(url)? {
            #[cfg(feature = "database-sqlite")]
            Target::Sqlite { options, in_memory } => DbPool::Sqlite(if in_memory {
                memory_pool(options, acquire)
            } else {
                SqlitePoolOptions::new()
                    .max_connections(max)
                    .acquire_timeout(acquire)
                    .connect_lazy_with(options)
            }),
            #[cfg(feature = "database-postgres")]
            Target::Postgres(options) => DbPool::Postgres(
                PgPoolOptions::new()
                    .max_connections(max)
                    .acquire_timeout(acquire)
                    .test_before_acquire(false)
                    .before_acquire(|conn, meta| Box::pin(ping_if_idle(conn, meta)))
                    .connect_lazy_with(options),
            ),
            #[cfg(feature = "database-mysql")]
            Target::MySql(options) => DbPool::MySql(
                MySqlPoolOptions::new()
                    .max_connections(max)
                    .acquire_timeout(acquire)
                    .test_before_acquire(false)
                    .before_acquire(|conn, meta| Box::pin(ping_if_idle(conn, meta)))
                    .connect_lazy_with(options),
            ),
        };
        Ok(Self::with_pool(pool, secrets))
    }

    fn with_pool(pool: DbPool, secrets: Vec<String>) -> Self {
        let (canceller, probe) = match &pool {
            #[cfg(feature = "database-sqlite")]
            DbPool::Sqlite(_) => (Canceller::new(CancelTarget::Local), None),
            #[cfg(feature = "database-postgres")]
            DbPool::Postgres(p) => {
                let o = p.connect_options();
                let probe = Probe::tcp(o.get_host(), o.get_port(), o.get_socket());
                (Canceller::new(CancelTarget::Postgres(o)), probe)
            }
            #[cfg(feature = "database-mysql")]
            DbPool::MySql(p) => {
                let o = p.connect_options();
                let probe = Probe::tcp(o.get_host(), o.get_port(), o.get_socket());
                (Canceller::new(CancelTarget::MySql(o)), probe)
            }
        };
        Self {
            pool,
            idle: Idle::default(),
            #[cfg(feature = "database-postgres")]
            pg_types: ParamTypes::default(),
            secrets,
            running: Running::default(),
            canceller,
            probe,
            txs: OpenTransactions::default(),
            closed: AtomicBool::new(false),
        }
    }

    /// What an operation on `pool`'s leases needs.
    fn ctx<'a, DB: sqlx::Database>(&'a self, pool: &'a sqlx::Pool<DB>, sql: &str) -> Ctx<'a, DB> {
        Ctx {
            pool,
            repeatable: super::lease::repeatable(sql),
            secrets: &self.secrets,
            running: &self.running,
            canceller: &self.canceller,
            probe: self.probe.as_ref(),
        }
    }

    /// A private in-memory SQLite database (cannot fail).
    #[cfg(feature = "database-sqlite")]
    pub(crate) fn memory(acquire_timeout: std::time::Duration) -> Self {
        Self::with_pool(
            DbPool::Sqlite(memory_pool(SqliteConnectOptions::new(), acquire_timeout)),
            Vec::new(),
        )
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
            #[cfg(feature = "database-sqlite")]
            DbPool::Sqlite(p) => idle
                .sqlite
                .run(&self.ctx(p, sql), || {
                    async |c| sqlite::fetch(c, sql, params, s).await
                })
                .await
                .map(O::from_rows),
            #[cfg(feature = "database-postgres")]
            DbPool::Postgres(p) => O::from_pg(
                idle.postgres
                    .run(&self.ctx(p, sql), || {
                        async |c| postgres::fetch(c, &self.pg_types, sql, params, s).await
                    })
                    .await?,
            ),
            #[cfg(feature = "database-mysql")]
            DbPool::MySql(p) => idle
                .mysql
                .run(&self.ctx(p, sql), || {
                    async |c| mysql::fetch(c, sql, params, s).await
                })
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
            #[cfg(feature = "database-sqlite")]
            DbPool::Sqlite(p) => {
                idle.sqlite
                    .run(&self.ctx(p, sql), || {
                        async |c| sqlite::execute(c, sql, params, s).await
                    })
                    .await
            }
            #[cfg(feature = "database-postgres")]
            DbPool::Postgres(p) => {
                idle.postgres
                    .run(&self.ctx(p, sql), || {
                        async |c| postgres::execute(c, &self.pg_types, sql, params, s).await
                    })
                    .await
            }
            #[cfg(feature = "database-mysql")]
            DbPool::MySql(p) => {
                idle.mysql
                    .run(&self.ctx(p, sql), || {
                        async |c| mysql::execute(c, sql, params, s).await
                    })
                    .await
            }
        }
    }

    /// Takes a connection and begins a transaction on it. The connection comes from the idle
    /// leases when there is one (then sqlx's pool gets it back after the transaction).
    pub(crate) async fn begin(&self) -> Result<(DriverTx, Option<CancelKey>), DbError> {
        Ok(match &self.pool {
            #[cfg(feature = "database-sqlite")]
            DbPool::Sqlite(p) => {
                let (tx, key) = self.begin_on(&self.idle.sqlite, p).await?;
                (DriverTx::Sqlite(tx), key)
            }
            #[cfg(feature = "database-postgres")]
            DbPool::Postgres(p) => {
                let (tx, key) = self.begin_on(&self.idle.postgres, p).await?;
                (DriverTx::Postgres(tx), key)
            }
            #[cfg(feature = "database-mysql")]
            DbPool::MySql(p) => {
                let (tx, key) = self.begin_on(&self.idle.mysql, p).await?;
                (DriverTx::MySql(tx), key)
            }
        })
    }

    async fn begin_on<DB: KeyOf>(
        &self,
        idle: &IdleLeases<DB>,
        pool: &sqlx::Pool<DB>,
    ) -> Result<(sqlx::Transaction<'static, DB>, Option<CancelKey>), DbError> {
        let lease = idle
            .lease(&self.ctx(pool, "BEGIN"))
            .await
            .map_err(|e| self.err(e))?;
        let (conn, key) = lease.into_pooled();
        // `Pool::begin` does exactly this with a connection it acquired itself (the function
        // is public but hidden from sqlx's docs).
        let tx = sqlx::Transaction::begin(conn, None)
            .await
            .map_err(|e| self.err(e))?;
        Ok((tx, key))
    }

    /// Closes everything (see `closing.rs`): later operations fail with `ERR_DB_CLOSED`.
    pub(crate) async fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.close_all().await
    }

    /// The pool's running statements are cancelled, then its kept connections handed back.
    pub(crate) async fn cancel_and_release(&self) {
        self.running.close(&self.canceller).await;
        #[cfg(feature = "database-sqlite")]
        self.idle.sqlite.close();
        #[cfg(feature = "database-postgres")]
        self.idle.postgres.close();
        #[cfg(feature = "database-mysql")]
        self.idle.mysql.close();
    }

    /// Closes sqlx's pool until no connection is left. sqlx's `Pool::close` (0.8) can return
    /// with a connection idle in it: one released while `close` waited for the last permits
    /// (a connection coming back from an operation, or from its test after a timed-out query)
    /// is pushed to the idle queue after the last time `close` emptied it, and would stay open
    /// until the pool is dropped. Calling `close` again closes it; no new connection can be
    /// opened once the pool is closed, so this ends.
    pub(crate) async fn close_pool(&self) {
        loop {
            let size = match &self.pool {
                #[cfg(feature = "database-sqlite")]
                DbPool::Sqlite(p) => {
                    p.close().await;
                    p.size()
                }
                #[cfg(feature = "database-postgres")]
                DbPool::Postgres(p) => {
                    p.close().await;
                    p.size()
                }
                #[cfg(feature = "database-mysql")]
                DbPool::MySql(p) => {
                    p.close().await;
                    p.size()
                }
            };
            if size == 0 {
                break;
            }
            tokio::task::yield_now().await;
        }
    }

    /// `"sqlite"`, `"postgres"` or `"mysql"`.
    pub(crate) fn driver(&self) -> &'static str {
        match &self.pool {
            #[cfg(feature = "database-sqlite")]
            DbPool::Sqlite(_) => "sqlite",
            #[cfg(feature = "database-postgres")]
            DbPool::Postgres(_) => "postgres",
            #[cfg(feature = "database-mysql")]
            DbPool::MySql(_) => "mysql",
        }
    }

    /// Whether [`Shared::close`] was called.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }
}

/// Pings a connection that has been idle for a while (the server may have closed it) instead
/// of every connection on every acquire (sqlx's default), which would double the round trips
/// of every query. A connection found dead is discarded and another is taken, so a server
/// restart costs no failed call.
#[cfg(any(feature = "database-postgres", feature = "database-mysql"))]
async fn ping_if_idle<C: sqlx::Connection>(
    conn: &mut C,
    meta: sqlx::pool::PoolConnectionMetadata,
) -> Result<bool, sqlx::Error> {
    if meta.idle_for >= PING_AFTER_IDLE {
        return Ok(conn.ping().await.is_ok());
    }
    Ok(true)
}

/// One connection, never closed by the pool (no idle timeout, no lifetime): an in-memory
/// database lives exactly as long as its connection. No maintenance task is spawned, so this
/// needs no runtime context.
#[cfg(feature = "database-sqlite")]
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
        match self {
            #[cfg(feature = "database-postgres")]
            DriverTx::Postgres(_) => true,
            #[allow(unreachable_patterns)] // PostgreSQL is the only variant
            _ => false,
        }
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
            #[cfg(feature = "database-sqlite")]
            DriverTx::Sqlite(tx) => sqlite::fetch(tx, sql, params, s).await.map(O::from_rows),
            #[cfg(feature = "database-postgres")]
            DriverTx::Postgres(tx) => {
                O::from_pg(postgres::fetch(tx, &shared.pg_types, sql, params, s).await?)
            }
            #[cfg(feature = "database-mysql")]
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
            #[cfg(feature = "database-sqlite")]
            DriverTx::Sqlite(tx) => sqlite::execute(tx, sql, params, s).await,
            #[cfg(feature = "database-postgres")]
            DriverTx::Postgres(tx) => postgres::execute(tx, &shared.pg_types, sql, params, s).await,
            #[cfg(feature = "database-mysql")]
            DriverTx::MySql(tx) => mysql::execute(tx, sql, params, s).await,
        }
    }

    /// Commits.
    pub(crate) async fn commit(self, shared: &Shared) -> Result<(), DbError> {
        match self {
            #[cfg(feature = "database-sqlite")]
            DriverTx::Sqlite(tx) => tx.commit().await,
            #[cfg(feature = "database-postgres")]
            DriverTx::Postgres(tx) => tx.commit().await,
            #[cfg(feature = "database-mysql")]
            DriverTx::MySql(tx) => tx.commit().await,
        }
        .map_err(|e| shared.err(e))
    }

    /// Rolls back.
    pub(crate) async fn rollback(self, shared: &Shared) -> Result<(), DbError> {
        match self {
            #[cfg(feature = "database-sqlite")]
            DriverTx::Sqlite(tx) => tx.rollback().await,
            #[cfg(feature = "database-postgres")]
            DriverTx::Postgres(tx) => tx.rollback().await,
            #[cfg(feature = "database-mysql")]
            DriverTx::MySql(tx) => tx.rollback().await,
        }
        .map_err(|e| shared.err(e))
    }
}
