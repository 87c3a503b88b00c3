//! A [`BreakerTransaction`] that several tasks (or a foreign runtime's callbacks) can hold:
//! its operations run one at a time, in the order they take the lock.

use std::sync::Arc;

use tokio::sync::Mutex;

use super::error::DbError;
use super::render::JsRows;
use super::transaction::BreakerTransaction;
use super::value::{ExecuteResult, Rows, Value};

/// A cloneable handle to one [`BreakerTransaction`].
#[derive(Debug, Clone)]
pub struct SharedTransaction {
    inner: Arc<Mutex<BreakerTransaction>>,
    remaining_ms: Option<f64>,
}

impl SharedTransaction {
    /// Wraps `tx`.
    pub fn new(tx: BreakerTransaction) -> Self {
        Self {
            remaining_ms: tx.remaining_ms(),
            inner: Arc::new(Mutex::new(tx)),
        }
    }

    /// Milliseconds that were left before the deadline when this handle was made (`None`: no
    /// timeout).
    pub fn remaining_ms_at_start(&self) -> Option<f64> {
        self.remaining_ms
    }

    /// See [`BreakerTransaction::query_rows`].
    pub async fn query_rows(&self, sql: &str, params: &[Value]) -> Result<Rows, DbError> {
        self.inner.lock().await.query_rows(sql, params).await
    }

    /// See [`BreakerTransaction::query_js`].
    pub async fn query_js(&self, sql: &str, params: &[Value]) -> Result<JsRows, DbError> {
        self.inner.lock().await.query_js(sql, params).await
    }

    /// See [`BreakerTransaction::execute`].
    pub async fn execute(&self, sql: &str, params: &[Value]) -> Result<ExecuteResult, DbError> {
        self.inner.lock().await.execute(sql, params).await
    }

    /// See [`BreakerTransaction::commit`].
    pub async fn commit(&self) -> Result<(), DbError> {
        self.inner.lock().await.commit().await
    }

    /// See [`BreakerTransaction::rollback`].
    pub async fn rollback(&self) -> Result<(), DbError> {
        self.inner.lock().await.rollback().await
    }

    /// See [`BreakerTransaction::time_out`]; returns the timeout error every later use gets.
    pub async fn time_out(&self) -> DbError {
        let mut tx = self.inner.lock().await;
        tx.time_out();
        tx.timeout_error()
    }
}
