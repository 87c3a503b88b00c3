//! `close()`: every connection of the breaker closed when it resolves, whatever was using it.
//!
//! Closing only sqlx's pool was not enough: its `close` waits for connections out of the pool
//! and can return with one still open (see `Shared::close_pool`), a connection kept between
//! operations (`lease.rs`) or held by an open transaction never comes back on its own, and a
//! statement still running keeps its connection for as long as it runs. So `close()`, in order:
//!
//! 1. refuses new operations (`ERR_DB_CLOSED`) and new transactions;
//! 2. cancels on the server every statement running on a leased connection (`cancel.rs`) and
//!    hands the kept connections back to sqlx's pool;
//! 3. cancels what each open transaction runs, waits for its current operation, rolls it back
//!    and hands its connection back (a later operation on it fails with `ERR_DB_CLOSED`);
//! 4. closes sqlx's pool until no connection is left.
//!
//! It is idempotent: a second call (or a concurrent one) runs the same steps, which find
//! nothing left to do but wait for the pool to be empty.

use std::sync::{Arc, Weak};

use parking_lot::Mutex;

use super::cancel::CancelKey;
use super::pool::{DriverTx, Shared};

/// What an open transaction shares with `close()`: its driver transaction (taken by whoever
/// ends it first) and the cancel key of its connection.
#[derive(Debug)]
pub(crate) struct TxSlot {
    pub(crate) driver: tokio::sync::Mutex<Option<DriverTx>>,
    pub(crate) key: Option<CancelKey>,
}

/// The open transactions of a pool (weakly: a transaction dropped is gone from here).
#[derive(Debug, Default)]
pub(crate) struct OpenTransactions(Mutex<(bool, Vec<Weak<TxSlot>>)>);

impl OpenTransactions {
    /// Registers a transaction; `false` once closing (the caller rolls it back).
    pub(crate) fn register(&self, slot: &Arc<TxSlot>) -> bool {
        let mut open = self.0.lock();
        if open.0 {
            return false;
        }
        open.1.retain(|w| w.strong_count() > 0);
        open.1.push(Arc::downgrade(slot));
        true
    }

    /// Refuses new transactions; the open ones.
    fn close(&self) -> Vec<Arc<TxSlot>> {
        let mut open = self.0.lock();
        open.0 = true;
        open.1.drain(..).filter_map(|w| w.upgrade()).collect()
    }
}

impl Shared {
    /// Steps 2 to 4 of the module docs (step 1 is the caller's flag).
    pub(crate) async fn close_all(&self) {
        let open = self.txs.close();
        self.cancel_and_release().await;
        let cancels = open
            .iter()
            .filter_map(|slot| slot.key)
            .map(|key| self.canceller.cancel(key));
        futures_util::future::join_all(cancels).await;
        for slot in open {
            let driver = slot.driver.lock().await.take();
            if let Some(driver) = driver {
                // A failed rollback closes the connection (sqlx does not keep it): either way
                // the transaction's writes are gone.
                let _ = driver.rollback(self).await;
            }
        }
        self.canceller.settled().await;
        self.close_pool().await;
    }
}
