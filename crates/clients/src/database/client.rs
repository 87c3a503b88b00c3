//! `DatabaseCircuitBreaker`: a pool behind a breaker.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use neural_trader_resilience::{CircuitBreaker, CircuitBreakerConfig, Outcome, PermitToken};
use serde::de::DeserializeOwned;
use std::sync::atomic::{AtomicBool, Ordering};

use super::error::{DbError, DbErrorKind};
use super::options::DatabaseOptions;
use super::pool::Shared;
use super::render::JsRows;
use super::transaction::{outcome_of, BreakerTransaction, Transaction};
use super::value::{ExecuteResult, Rows, Value};

/// A database (SQLite, PostgreSQL or MySQL/MariaDB) behind a circuit breaker.
///
/// Every query, execute and whole transaction is one breaker call, bounded by the breaker's
/// timeout. Errors that say the database is down or drowning count as failures; errors that are
/// the caller's (constraint violations, syntax errors, bad parameters) are returned with the
/// database's code and counted as ignored (see [`DbError`]).
///
/// ```
/// use neural_trader_clients::database::{DatabaseCircuitBreaker, Value};
///
/// # #[cfg(not(feature = "database-sqlite"))] fn main() {} // the example's database is SQLite
/// # #[cfg(feature = "database-sqlite")]
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), neural_trader_clients::database::DbError> {
/// let db = DatabaseCircuitBreaker::new("trading_db");
/// db.execute("CREATE TABLE trades (id INTEGER PRIMARY KEY, symbol TEXT, qty INTEGER)", &[]).await?;
/// db.execute("INSERT INTO trades (symbol, qty) VALUES ($1, $2)", &["AAPL".into(), 100.into()]).await?;
///
/// #[derive(serde::Deserialize)]
/// struct Trade { symbol: String, qty: i64 }
/// let trades: Vec<Trade> = db.query("SELECT symbol, qty FROM trades").await?;
/// assert_eq!((trades[0].symbol.as_str(), trades[0].qty), ("AAPL", 100));
/// assert_eq!(db.get_state().await, "CLOSED");
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct DatabaseCircuitBreaker {
    breaker: Arc<CircuitBreaker>,
    shared: Arc<Shared>,
}

/// Runs `fut`, turning a panic in a driver into an `ERR_DB_INTERNAL` error.
async fn guarded<T>(
    fut: impl std::future::Future<Output = Result<T, DbError>>,
) -> Result<T, DbError> {
    AssertUnwindSafe(fut)
        .catch_unwind()
        .await
        .unwrap_or_else(|_| {
            Err(DbError::new(
                DbErrorKind::Internal,
                "The database driver panicked",
            ))
        })
}

impl DatabaseCircuitBreaker {
    /// A breaker named `name` over a private in-memory SQLite database (one connection), with
    /// the default breaker configuration. Needs the `database-sqlite` feature.
    #[cfg(feature = "database-sqlite")]
    pub fn new(name: impl Into<Arc<str>>) -> Self {
        let options = DatabaseOptions::default();
        Self {
            breaker: Arc::new(CircuitBreaker::new(name, options.breaker)),
            shared: Arc::new(Shared::memory(options.acquire_timeout)),
        }
    }

    /// A breaker named `name` over the database of `options.url`. Does not connect: the first
    /// operation does. Refuses an invalid URL or an unknown scheme (`ERR_INVALID_URL`,
    /// `ERR_INVALID_URL_SCHEME`; a scheme whose driver's feature is off, or no URL without the
    /// `database-sqlite` feature, is an unknown scheme), an empty name or an out-of-range
    /// breaker configuration. Must be called within a Tokio runtime for server URLs (the pool's
    /// maintenance task).
    pub fn with_options(
        name: impl Into<Arc<str>>,
        options: DatabaseOptions,
    ) -> Result<Self, DbError> {
        let breaker = CircuitBreaker::try_new(name, options.breaker)
            .map_err(|e| DbError::new(DbErrorKind::ParamValue, e.to_string()))?;
        options
            .validate()
            .map_err(|e| DbError::new(DbErrorKind::ParamValue, e.to_string()))?;
        let shared = match options.url.as_deref() {
            #[cfg(feature = "database-sqlite")]
            None => Shared::memory(options.acquire_timeout),
            #[cfg(not(feature = "database-sqlite"))]
            None => return Err(super::options::no_default_database()),
            Some(url) => {
                if tokio::runtime::Handle::try_current().is_err() {
                    return Err(DbError::new(
                        DbErrorKind::NoRuntime,
                        "A database pool must be created within a Tokio runtime",
                    ));
                }
                Shared::connect_lazy(url, &options)?
            }
        };
        Ok(Self {
            breaker: Arc::new(breaker),
            shared: Arc::new(shared),
        })
    }

    /// The breaker: state, metrics, configuration.
    pub fn breaker(&self) -> &Arc<CircuitBreaker> {
        &self.breaker
    }

    /// The driver: `"sqlite"`, `"postgres"` or `"mysql"`.
    pub fn driver(&self) -> &'static str {
        self.shared.driver()
    }

    /// The breaker's configuration.
    pub fn config(&self) -> &CircuitBreakerConfig {
        self.breaker.config()
    }

    /// The state as a string: `CLOSED`, `OPEN` or `HALF_OPEN`.
    pub async fn get_state(&self) -> String {
        self.breaker.get_state().await
    }

    fn check_closed(&self) -> Result<(), DbError> {
        if self.shared.is_closed() {
            return Err(DbError::new(
                DbErrorKind::Closed,
                format!("The database breaker '{}' is closed", self.breaker.name()),
            ));
        }
        Ok(())
    }

    /// Runs one operation as one breaker call.
    async fn call<T>(
        &self,
        op: impl std::future::Future<Output = Result<T, DbError>>,
    ) -> Result<T, DbError> {
        self.check_closed()?;
        self.breaker
            .execute_with(guarded(op), None, |r| match r {
                Ok(_) => Outcome::Success,
                Err(e) => e.outcome(),
            })
            .await
            .map_err(|e| self.closed_or(DbError::from_call(e)))
    }

    /// `e`, or `ERR_DB_CLOSED` when `close()` ended the operation (cancelled its statement or
    /// rolled back its transaction).
    fn closed_or(&self, e: DbError) -> DbError {
        match self.check_closed() {
            Err(closed) if e.kind() != DbErrorKind::CircuitTimeout => closed,
            _ => e,
        }
    }

    /// Runs `sql` (no parameters) and deserializes each row into `T`.
    pub async fn query<T: DeserializeOwned>(&self, sql: &str) -> Result<Vec<T>, DbError> {
        self.query_with(sql, &[]).await
    }

    /// Runs `sql` with `params` bound (`$1`.. for SQLite and PostgreSQL, `?` for MySQL) and
    /// deserializes each row into `T` (through a JSON object per row, see
    /// [`Value::to_json`]).
    pub async fn query_with<T: DeserializeOwned>(
        &self,
        sql: &str,
        params: &[Value],
    ) -> Result<Vec<T>, DbError> {
        self.query_rows(sql, params).await?.deserialize()
    }

    /// Runs `sql` with `params` and returns the rows in the value model.
    pub async fn query_rows(&self, sql: &str, params: &[Value]) -> Result<Rows, DbError> {
        self.call(self.shared.fetch(sql, params)).await
    }

    /// Runs `sql` with `params` and returns the rows rendered for JavaScript (what the Node.js
    /// binding resolves `query` with; see [`JsRows`]).
    pub async fn query_js(&self, sql: &str, params: &[Value]) -> Result<JsRows, DbError> {
        self.call(self.shared.fetch(sql, params)).await
    }

    /// Runs `sql` with `params` for its effect: rows affected and the last insert id.
    pub async fn execute(&self, sql: &str, params: &[Value]) -> Result<ExecuteResult, DbError> {
        self.call(self.shared.execute(sql, params)).await
    }

    /// Runs `f` in a transaction: commits when it returns `Ok`, rolls back when it returns
    /// `Err` or outlives the breaker's timeout. The whole transaction is one breaker call.
    ///
    /// ```
    /// # use neural_trader_clients::database::{DatabaseCircuitBreaker, DbError, Transaction};
    /// # #[cfg(not(feature = "database-sqlite"))] fn main() {} // the example's database is SQLite
    /// # #[cfg(feature = "database-sqlite")]
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), DbError> {
    /// let db = DatabaseCircuitBreaker::new("ledger");
    /// db.execute("CREATE TABLE t (n INTEGER)", &[]).await?;
    /// let n = db
    ///     .transaction(|tx: &mut Transaction| {
    ///         Box::pin(async move {
    ///             tx.execute("INSERT INTO t VALUES (1)", &[]).await?;
    ///             Ok(tx.execute("INSERT INTO t VALUES (2)", &[]).await?.rows_affected)
    ///         })
    ///     })
    ///     .await?;
    /// assert_eq!(n, 1);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn transaction<R, F>(&self, f: F) -> Result<R, DbError>
    where
        F: for<'c> FnOnce(&'c mut Transaction) -> BoxFuture<'c, Result<R, DbError>>,
    {
        self.check_closed()?;
        let tripped = AtomicBool::new(false);
        let shared = Arc::clone(&self.shared);
        let run = async {
            let mut tx = Transaction::open(shared).await?;
            let result = f(&mut tx).await;
            let result = match result {
                Ok(value) => tx.commit().await.map(|()| value),
                Err(e) => {
                    let _ = tx.rollback().await;
                    Err(e)
                }
            };
            tripped.store(tx.tripped(), Ordering::Relaxed);
            result
        };
        self.breaker
            .execute_with(guarded(run), None, |r| {
                outcome_of(r, tripped.load(Ordering::Relaxed))
            })
            .await
            .map_err(|e| self.closed_or(DbError::from_call(e)))
    }

    /// Begins a transaction held across calls (see [`BreakerTransaction`]): takes a breaker
    /// permit (failing with `ERR_CIRCUIT_OPEN` when the circuit is open), then a connection,
    /// within the breaker's timeout.
    pub async fn begin(&self) -> Result<BreakerTransaction, DbError> {
        self.check_closed()?;
        let token = self
            .breaker
            .acquire_token()
            .map_err(|_| DbError::from_breaker(self.breaker.open_error()))?;
        // Reports a cancellation if this future is dropped before the token is handed on.
        let mut guard = TokenGuard(&self.breaker, Some(token));
        let config = self.breaker.config();
        let deadline = config
            .has_timeout()
            .then(|| tokio::time::Instant::now().checked_add(config.timeout))
            .flatten();
        let open = || guarded(Transaction::open(Arc::clone(&self.shared)));
        let begun = match deadline {
            None => Ok(open().await),
            Some(d) => tokio::time::timeout_at(d, open()).await,
        };
        match begun {
            Ok(Ok(tx)) => Ok(BreakerTransaction::new(
                tx,
                Arc::clone(&self.breaker),
                guard.take(),
                deadline,
                tokio::runtime::Handle::current(),
            )),
            Ok(Err(e)) => {
                self.breaker.complete(guard.take(), e.outcome());
                Err(e)
            }
            Err(_) => {
                self.breaker.complete(guard.take(), Outcome::Failure);
                Err(DbError::from_breaker(
                    neural_trader_resilience::CircuitBreakerError::Timeout {
                        name: self.breaker.name().into(),
                        timeout: config.timeout,
                    },
                ))
            }
        }
    }

    /// Closes the breaker's database: later operations fail with `ERR_DB_CLOSED`. Cancels
    /// the statements running on the server, rolls back the open transactions, and resolves
    /// once every connection is closed (SQLite: its threads and files released). Idempotent.
    pub async fn close(&self) {
        self.shared.close().await
    }

    /// Whether [`DatabaseCircuitBreaker::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.shared.is_closed()
    }
}

/// A permit token that counts as cancelled unless taken.
struct TokenGuard<'a>(&'a CircuitBreaker, Option<PermitToken>);

impl TokenGuard<'_> {
    fn take(&mut self) -> PermitToken {
        self.1.take().unwrap_or(PermitToken::CLOSED)
    }
}

impl Drop for TokenGuard<'_> {
    fn drop(&mut self) {
        if let Some(token) = self.1.take() {
            self.0.complete(token, Outcome::Cancelled);
        }
    }
}
