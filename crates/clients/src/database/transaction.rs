//! Transactions: one breaker call from `BEGIN` to `COMMIT` or `ROLLBACK`.
//!
//! [`Transaction`] is what a transaction closure receives
//! ([`crate::database::DatabaseCircuitBreaker::transaction`]). [`BreakerTransaction`] is the same
//! transaction held across calls from another runtime (the Node.js binding): it owns a breaker
//! permit token and a deadline, and it reports the outcome exactly once, when it ends.
//!
//! What the breaker records for a transaction: success when it commits; failure when any of its
//! operations hit an error that trips (connection, pool, server unavailable) or the deadline
//! passed; ignored when it rolled back for any other reason (a constraint violation, an error
//! of the caller's own code); cancelled when it was dropped unfinished.
//!
//! PostgreSQL aborts a transaction at its first failed statement and answers a later `COMMIT`
//! with a silent `ROLLBACK`: here such a commit fails with `ERR_DB_TRANSACTION_ABORTED` instead of
//! reporting success for writes that were thrown away.

use std::sync::Arc;

use neural_trader_resilience::{CircuitBreaker, CircuitBreakerError, Outcome, PermitToken};
use serde::de::DeserializeOwned;
use tokio::time::Instant;

use super::cancel::is_remote;
use super::closing::TxSlot;
use super::error::{closed_error, DbError, DbErrorKind};
use super::pool::{DriverTx, RowFormat, Shared};
use super::render::JsRows;
use super::value::{ExecuteResult, Rows, Value};

/// An open transaction: run statements with [`Transaction::query_with`] and
/// [`Transaction::execute`]; its owner commits or rolls it back.
#[derive(Debug)]
pub struct Transaction {
    /// Shared with `close()`, which rolls back a transaction still open (`closing.rs`).
    slot: Arc<TxSlot>,
    shared: Arc<Shared>,
    /// A statement failed on the server (PostgreSQL has then aborted the transaction).
    failed: bool,
    /// An operation hit an error that counts against the database.
    tripped: bool,
    /// Rolled back in the background already (`abandon`).
    abandoned: bool,
}

impl Transaction {
    /// Takes a connection and begins a transaction on it; fails with `ERR_DB_CLOSED` once the
    /// pool is closing (the transaction just begun is then rolled back).
    pub(crate) async fn open(shared: Arc<Shared>) -> Result<Self, DbError> {
        let (driver, key) = shared.begin().await?;
        let slot = Arc::new(TxSlot {
            driver: tokio::sync::Mutex::new(Some(driver)),
            // A SQLite handle is only interrupted while its lease is known to be alive
            // (`cancel.rs`); a transaction's statements are not interrupted.
            key: key.filter(is_remote),
        });
        if !shared.txs.register(&slot) {
            let driver = slot.driver.lock().await.take();
            if let Some(driver) = driver {
                let _ = driver.rollback(&shared).await;
            }
            return Err(closed_error());
        }
        Ok(Self {
            slot,
            shared,
            failed: false,
            tripped: false,
            abandoned: false,
        })
    }

    fn note<T>(&mut self, result: Result<T, DbError>) -> Result<T, DbError> {
        if let Err(e) = &result {
            self.failed |= e.db_code().is_some() || e.trips();
            self.tripped |= e.trips();
        }
        result
    }

    fn closed() -> DbError {
        DbError::new(
            DbErrorKind::TransactionClosed,
            "The transaction has already ended",
        )
    }

    /// The error of an operation on a transaction that has ended: `ERR_DB_CLOSED` when
    /// `close()` ended it.
    fn ended(&self) -> DbError {
        if self.shared.is_closed() {
            closed_error()
        } else {
            Self::closed()
        }
    }

    /// The driver transaction, taken out (to commit or roll back).
    async fn take(&self) -> Result<DriverTx, DbError> {
        let driver = self.slot.driver.lock().await.take();
        driver.ok_or_else(|| self.ended())
    }

    /// Runs `sql` with `params` and returns its rows in the value model.
    pub async fn query_rows(&mut self, sql: &str, params: &[Value]) -> Result<Rows, DbError> {
        self.fetch(sql, params).await
    }

    /// Runs `sql` with `params` and returns its rows rendered for JavaScript.
    pub async fn query_js(&mut self, sql: &str, params: &[Value]) -> Result<JsRows, DbError> {
        self.fetch(sql, params).await
    }

    async fn fetch<O: RowFormat>(&mut self, sql: &str, params: &[Value]) -> Result<O, DbError> {
        let slot = Arc::clone(&self.slot);
        let mut driver = slot.driver.lock().await;
        let driver = driver.as_mut().ok_or_else(|| self.ended())?;
        let result = driver.fetch(&self.shared, sql, params).await;
        self.note(result)
    }

    /// Runs `sql` and deserializes each row into `T`.
    pub async fn query<T: DeserializeOwned>(&mut self, sql: &str) -> Result<Vec<T>, DbError> {
        self.query_with(sql, &[]).await
    }

    /// Runs `sql` with `params` and deserializes each row into `T`.
    pub async fn query_with<T: DeserializeOwned>(
        &mut self,
        sql: &str,
        params: &[Value],
    ) -> Result<Vec<T>, DbError> {
        self.query_rows(sql, params).await?.deserialize()
    }

    /// Runs `sql` with `params` for its effect.
    pub async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<ExecuteResult, DbError> {
        let slot = Arc::clone(&self.slot);
        let mut driver = slot.driver.lock().await;
        let driver = driver.as_mut().ok_or_else(|| self.ended())?;
        let result = driver.execute(&self.shared, sql, params).await;
        self.note(result)
    }

    /// Whether an operation hit an error that counts against the database.
    pub(crate) fn tripped(&self) -> bool {
        self.tripped
    }

    /// Commits, unless a statement failed in a transaction the server has aborted; then rolls
    /// back and fails with `ERR_DB_TRANSACTION_ABORTED`.
    pub(crate) async fn commit(&mut self) -> Result<(), DbError> {
        let driver = self.take().await?;
        if self.failed && driver.aborts_on_error() {
            let rolled_back = driver.rollback(&self.shared).await;
            self.note(rolled_back)?;
            return Err(DbError::new(
                DbErrorKind::TransactionAborted,
                "The transaction was rolled back: a statement in it failed, which aborts a PostgreSQL transaction",
            )
            .with_db(Some("25P02".into()), Some("25P02".into()), None));
        }
        let committed = driver.commit(&self.shared).await;
        self.note(committed)
    }

    /// Rolls back.
    pub(crate) async fn rollback(&mut self) -> Result<(), DbError> {
        let driver = self.take().await?;
        let rolled_back = driver.rollback(&self.shared).await;
        self.note(rolled_back)
    }

    /// Rolls back in the background (after a timeout: the caller must not wait), first
    /// cancelling on the server the statement the timeout left running (`cancel.rs`), which
    /// would otherwise hold the connection, and the rollback, until it ends.
    fn abandon(&mut self) {
        if std::mem::replace(&mut self.abandoned, true) {
            return;
        }
        let slot = Arc::clone(&self.slot);
        let shared = Arc::clone(&self.shared);
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                if let Some(key) = slot.key {
                    shared.canceller.cancel(key).await;
                }
                let driver = slot.driver.lock().await.take();
                if let Some(driver) = driver {
                    let _ = driver.rollback(&shared).await;
                }
            });
        }
    }
}

impl Drop for Transaction {
    /// Dropped unfinished (a closure transaction cut short by the breaker's timeout, say):
    /// cancels what it runs and rolls back, as after a timeout.
    fn drop(&mut self) {
        let unfinished = self.slot.driver.try_lock().map_or(true, |d| d.is_some());
        if unfinished {
            self.abandon();
        }
    }
}

/// What a finished [`Transaction`] means for the breaker.
pub(crate) fn outcome_of<R>(result: &Result<R, DbError>, tripped: bool) -> Outcome {
    match result {
        Ok(_) => Outcome::Success,
        Err(e) if e.trips() || tripped => Outcome::Failure,
        Err(_) => Outcome::Ignored,
    }
}

/// How a [`BreakerTransaction`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ended {
    No,
    Committed,
    RolledBack,
    TimedOut,
}

/// A transaction held across calls (by the Node.js binding): it holds a breaker permit token
/// from `begin` until it ends, and every operation, the commit and the rollback are bounded by
/// the breaker's timeout counted from `begin`. When the deadline passes the transaction is
/// rolled back, counted as a failure, and every later use fails with `ERR_CIRCUIT_TIMEOUT`.
/// Dropped unfinished, it rolls back and counts as cancelled.
#[derive(Debug)]
pub struct BreakerTransaction {
    tx: Transaction,
    breaker: Arc<CircuitBreaker>,
    token: Option<PermitToken>,
    deadline: Option<Instant>,
    ended: Ended,
    runtime: tokio::runtime::Handle,
}

impl BreakerTransaction {
    pub(crate) fn new(
        tx: Transaction,
        breaker: Arc<CircuitBreaker>,
        token: PermitToken,
        deadline: Option<Instant>,
        runtime: tokio::runtime::Handle,
    ) -> Self {
        Self {
            tx,
            breaker,
            token: Some(token),
            deadline,
            ended: Ended::No,
            runtime,
        }
    }

    /// When the breaker's timeout ends the transaction (`None`: no timeout).
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// The error of a transaction that outlived the breaker's timeout.
    pub fn timeout_error(&self) -> DbError {
        DbError::from_breaker(CircuitBreakerError::Timeout {
            name: self.breaker.name().into(),
            timeout: self.breaker.config().timeout,
        })
    }

    fn finish(&mut self, outcome: Outcome, ended: Ended) {
        self.ended = ended;
        if let Some(token) = self.token.take() {
            self.breaker.complete(token, outcome);
        }
    }

    fn check_open(&self) -> Result<(), DbError> {
        match self.ended {
            Ended::No => Ok(()),
            Ended::TimedOut => Err(self.timeout_error()),
            _ => Err(Transaction::closed()),
        }
    }

    /// Runs `op` before the deadline; on timeout ends the transaction as timed out.
    async fn bounded<T>(
        &mut self,
        op: impl AsyncFnOnce(&mut Transaction) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        self.check_open()?;
        let result = match self.deadline {
            None => Ok(op(&mut self.tx).await),
            Some(deadline) => tokio::time::timeout_at(deadline, op(&mut self.tx)).await,
        };
        match result {
            Ok(r) => r,
            Err(_) => {
                self.tx.abandon();
                self.finish(Outcome::Failure, Ended::TimedOut);
                Err(self.timeout_error())
            }
        }
    }

    /// Runs `sql` with `params` in the transaction and returns its rows.
    pub async fn query_rows(&mut self, sql: &str, params: &[Value]) -> Result<Rows, DbError> {
        self.bounded(async |tx: &mut Transaction| tx.query_rows(sql, params).await)
            .await
    }

    /// Runs `sql` with `params` in the transaction and returns its rows rendered for
    /// JavaScript.
    pub async fn query_js(&mut self, sql: &str, params: &[Value]) -> Result<JsRows, DbError> {
        self.bounded(async |tx: &mut Transaction| tx.query_js(sql, params).await)
            .await
    }

    /// Runs `sql` with `params` in the transaction for its effect.
    pub async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<ExecuteResult, DbError> {
        self.bounded(async |tx: &mut Transaction| tx.execute(sql, params).await)
            .await
    }

    /// Commits and reports the transaction to the breaker (success, or the commit's error).
    pub async fn commit(&mut self) -> Result<(), DbError> {
        let result = self
            .bounded(async |tx: &mut Transaction| tx.commit().await)
            .await;
        if self.ended == Ended::No {
            let outcome = outcome_of(&result, self.tx.tripped());
            let ended = if result.is_ok() {
                Ended::Committed
            } else {
                Ended::RolledBack
            };
            self.finish(outcome, ended);
        }
        result
    }

    /// Rolls back and reports the transaction to the breaker (ignored, or failure if an
    /// operation in it hit an error that trips). After a timeout it is already rolled back:
    /// this does nothing.
    pub async fn rollback(&mut self) -> Result<(), DbError> {
        if self.ended == Ended::TimedOut {
            return Ok(());
        }
        let result = self
            .bounded(async |tx: &mut Transaction| tx.rollback().await)
            .await;
        if self.ended == Ended::No {
            let outcome = match &result {
                Err(e) if e.trips() => Outcome::Failure,
                _ if self.tx.tripped() => Outcome::Failure,
                _ => Outcome::Ignored,
            };
            self.finish(outcome, Ended::RolledBack);
        }
        result
    }

    /// Ends the transaction now as timed out (the caller's own timer fired first): rolls back
    /// in the background and counts a failure. Does nothing if it has already ended.
    pub fn time_out(&mut self) {
        if self.ended == Ended::No {
            let _guard = self.runtime.enter();
            self.tx.abandon();
            self.finish(Outcome::Failure, Ended::TimedOut);
        }
    }

    /// Whether it ended by outliving the breaker's timeout.
    pub fn timed_out(&self) -> bool {
        self.ended == Ended::TimedOut
    }

    /// Whether it has ended (committed, rolled back or timed out).
    pub fn is_ended(&self) -> bool {
        self.ended != Ended::No
    }
}

impl Drop for BreakerTransaction {
    fn drop(&mut self) {
        if self.ended == Ended::No {
            // sqlx returns the connection (rolling back) from a task: enter the runtime that
            // began the transaction, whichever thread drops it.
            let _guard = self.runtime.enter();
            self.tx.abandon();
            self.finish(Outcome::Cancelled, Ended::RolledBack);
        }
    }
}
