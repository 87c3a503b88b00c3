//! A [`BreakerTransaction`] that several tasks (or a foreign runtime's callbacks) can hold:
//! its operations run one at a time, in the order they take the lock. [`SharedTransaction::expiry`]
//! ends it at its deadline even while nobody uses it, so that the holder needs no timer of its
//! own: the deadline has one owner, the transaction.

use std::sync::{Arc, Weak};

use tokio::sync::{watch, Mutex};

use super::error::DbError;
use super::render::JsRows;
use super::transaction::BreakerTransaction;
use super::value::{ExecuteResult, Rows, Value};

/// A cloneable handle to one [`BreakerTransaction`].
#[derive(Debug, Clone)]
pub struct SharedTransaction {
    inner: Arc<Mutex<BreakerTransaction>>,
    /// `true` once committed or rolled back; closed when the last handle is dropped.
    ended: Arc<watch::Sender<bool>>,
    deadline: Option<tokio::time::Instant>,
}

impl SharedTransaction {
    /// Wraps `tx`.
    pub fn new(tx: BreakerTransaction) -> Self {
        Self {
            deadline: tx.deadline(),
            inner: Arc::new(Mutex::new(tx)),
            ended: Arc::new(watch::Sender::new(false)),
        }
    }

    /// A future that ends the transaction as timed out at its deadline and fails with the
    /// timeout error then; it completes with `Ok` as soon as the transaction is committed,
    /// rolled back or dropped (it holds no handle: it never keeps the transaction alive).
    pub fn expiry(
        &self,
    ) -> impl std::future::Future<Output = Result<(), DbError>> + Send + 'static {
        let tx: Weak<Mutex<BreakerTransaction>> = Arc::downgrade(&self.inner);
        let mut ended = self.ended.subscribe();
        let deadline = self.deadline;
        async move {
            let Some(deadline) = deadline else {
                let _ = ended.wait_for(|e| *e).await;
                return Ok(());
            };
            let ended = async move {
                let _ = ended.wait_for(|e| *e).await;
            };
            if tokio::time::timeout_at(deadline, ended).await.is_ok() {
                return Ok(());
            }
            let Some(tx) = tx.upgrade() else {
                return Ok(());
            };
            let mut tx = tx.lock().await;
            tx.time_out();
            if tx.timed_out() {
                Err(tx.timeout_error())
            } else {
                Ok(())
            }
        }
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
        let result = self.inner.lock().await.commit().await;
        self.ended.send_replace(true);
        result
    }

    /// See [`BreakerTransaction::rollback`].
    pub async fn rollback(&self) -> Result<(), DbError> {
        let result = self.inner.lock().await.rollback().await;
        self.ended.send_replace(true);
        result
    }
}
