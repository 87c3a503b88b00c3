//! Server-side cancellation of a statement whose caller stopped waiting (a breaker timeout, or
//! `close()`), so that the server stops working for nobody and the connection comes back.
//!
//! Dropping sqlx's future only stops reading: `pg_sleep(6)` goes on for 6 s and holds its
//! connection, and with a small pool a few timeouts starve it. So each connection's key is read
//! once, when the connection is first leased (see `lease.rs`), and kept with it:
//!
//! - PostgreSQL: the backend's process id (`pg_backend_pid()`). sqlx 0.8 keeps the
//!   `BackendKeyData` secret of the protocol's CancelRequest private (`PgConnectionInner`), so
//!   the cancel is `pg_cancel_backend(pid)` sent on a short-lived connection with the pool's own
//!   options (a role may cancel its own backends).
//! - MySQL / MariaDB: the connection id (`CONNECTION_ID()`), cancelled by `KILL QUERY <id>` on a
//!   short-lived connection. The id is a number we read from the server: nothing is
//!   interpolated that a caller wrote.
//! - SQLite: the `sqlite3*` handle (`lock_handle`), interrupted with `sqlite3_interrupt`, which
//!   SQLite documents as safe to call from any thread while the connection is open. A handle
//!   is only used while the lease that owns its connection is alive (the [`Running`] entry is
//!   removed before the lease is dropped), so it never outlives its connection.
//!
//! Either way the connection then goes back to sqlx, which checks it, and serves again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use futures_util::future::BoxFuture;
use parking_lot::Mutex;
use tokio::sync::Notify;

/// How long an abandoned connection may take to answer after its statement was cancelled.
const DRAIN_LIMIT: std::time::Duration = std::time::Duration::from_secs(5);

/// What identifies a connection to its server, for cancelling what it runs.
#[derive(Debug, Clone, Copy)]
pub(crate) enum CancelKey {
    #[cfg(feature = "database-postgres")]
    Postgres(i32),
    #[cfg(feature = "database-mysql")]
    MySql(u64),
    #[cfg(feature = "database-sqlite")]
    Sqlite(SqliteHandle),
}

/// A `sqlite3*`, only dereferenced by SQLite itself in `sqlite3_interrupt` (see the module docs).
#[cfg(feature = "database-sqlite")]
#[derive(Debug, Clone, Copy)]
pub(crate) struct SqliteHandle(*mut std::ffi::c_void);

// SAFETY: `sqlite3_interrupt` may be called from any thread; the pointer is never dereferenced
// here.
#[cfg(feature = "database-sqlite")]
unsafe impl Send for SqliteHandle {}
#[cfg(feature = "database-sqlite")]
unsafe impl Sync for SqliteHandle {}

#[cfg(feature = "database-sqlite")]
extern "C" {
    // From the SQLite that sqlx links in (libsqlite3-sys, bundled).
    fn sqlite3_interrupt(db: *mut std::ffi::c_void);
}

/// How a driver reads the key of a connection.
pub(crate) trait KeyOf: sqlx::Database {
    fn key_of(conn: &mut Self::Connection) -> BoxFuture<'_, Option<CancelKey>>;
}

#[cfg(feature = "database-postgres")]
impl KeyOf for sqlx::Postgres {
    fn key_of(conn: &mut Self::Connection) -> BoxFuture<'_, Option<CancelKey>> {
        Box::pin(async move {
            let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
                .fetch_one(conn)
                .await
                .ok()?;
            Some(CancelKey::Postgres(pid))
        })
    }
}

#[cfg(feature = "database-mysql")]
impl KeyOf for sqlx::MySql {
    fn key_of(conn: &mut Self::Connection) -> BoxFuture<'_, Option<CancelKey>> {
        Box::pin(async move {
            let id: u64 = sqlx::query_scalar("SELECT CONNECTION_ID()")
                .fetch_one(conn)
                .await
                .ok()?;
            Some(CancelKey::MySql(id))
        })
    }
}

#[cfg(feature = "database-sqlite")]
impl KeyOf for sqlx::Sqlite {
    fn key_of(conn: &mut Self::Connection) -> BoxFuture<'_, Option<CancelKey>> {
        Box::pin(async move {
            let mut handle = conn.lock_handle().await.ok()?;
            Some(CancelKey::Sqlite(SqliteHandle(
                handle.as_raw_handle().as_ptr().cast(),
            )))
        })
    }
}

/// Where a cancel is sent from: the pool's connect options (a new connection per cancel).
#[derive(Debug, Clone)]
pub(crate) enum Target {
    #[cfg(feature = "database-postgres")]
    Postgres(Arc<sqlx::postgres::PgConnectOptions>),
    #[cfg(feature = "database-mysql")]
    MySql(Arc<sqlx::mysql::MySqlConnectOptions>),
    /// SQLite needs no connection.
    #[allow(dead_code)] // only constructed with the sqlite feature
    Local,
}

/// Sends cancels, and counts those sent in the background so that `close()` can wait for
/// their connections to be closed too.
#[derive(Debug)]
pub(crate) struct Canceller {
    target: Target,
    pending: Arc<(AtomicUsize, Notify)>,
}

impl Canceller {
    pub(crate) fn new(target: Target) -> Self {
        Self {
            target,
            pending: Arc::default(),
        }
    }

    /// Cancels what the connection of `key` runs; resolves once the server has been told.
    /// (SQLite's interrupt happens when this is called.)
    pub(crate) fn cancel(&self, key: CancelKey) -> BoxFuture<'static, ()> {
        #[allow(unused_imports)]
        use sqlx::{ConnectOptions, Connection, Executor};
        match (&self.target, key) {
            #[cfg(feature = "database-sqlite")]
            (_, CancelKey::Sqlite(h)) => {
                // SAFETY: see the module docs: the handle's connection is alive.
                unsafe { sqlite3_interrupt(h.0) };
                Box::pin(async {})
            }
            #[cfg(feature = "database-postgres")]
            (Target::Postgres(options), CancelKey::Postgres(pid)) => {
                let options = Arc::clone(options);
                Box::pin(async move {
                    if let Ok(mut conn) = options.connect().await {
                        let _ = sqlx::query("SELECT pg_cancel_backend($1)")
                            .bind(pid)
                            .execute(&mut conn)
                            .await;
                        let _ = conn.close().await;
                    }
                })
            }
            #[cfg(feature = "database-mysql")]
            (Target::MySql(options), CancelKey::MySql(id)) => {
                let options = Arc::clone(options);
                Box::pin(async move {
                    if let Ok(mut conn) = options.connect().await {
                        let _ = conn.execute(format!("KILL QUERY {id}").as_str()).await;
                        let _ = conn.close().await;
                    }
                })
            }
            #[allow(unreachable_patterns)]
            _ => Box::pin(async {}),
        }
    }

    /// Takes over `conn`, whose statement's caller stopped waiting (from a `Drop`: in the
    /// background): cancels the statement, then drains the connection before sqlx's pool
    /// gets it back. The first ping after a cancelled statement returns that statement's error,
    /// the next one a clean answer; a connection that gives none within [`DRAIN_LIMIT`] is
    /// closed. (Handing the connection straight back to sqlx left it out of the pool for good
    /// in our measurements: sqlx's ping-on-return of a connection whose statement is cancelled
    /// meanwhile, and the close that follows its error, never completed with TLS.)
    pub(crate) fn abandon<DB: sqlx::Database>(
        &self,
        key: Option<CancelKey>,
        mut conn: sqlx::pool::PoolConnection<DB>,
    ) {
        use sqlx::Connection;
        // SQLite's interrupt happens here, while the connection is alive.
        let cancel = key.map(|k| self.cancel(k));
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            // Outside a runtime (a JS object finalized at exit) sqlx could not spawn the task
            // that takes the connection back: close it directly (as `lease.rs` does).
            drop(conn.detach());
            return;
        };
        let pending = Arc::clone(&self.pending);
        pending.0.fetch_add(1, Ordering::AcqRel);
        handle.spawn(async move {
            if let Some(cancel) = cancel {
                cancel.await;
            }
            let mut healthy = false;
            for _ in 0..2 {
                match tokio::time::timeout(DRAIN_LIMIT, conn.ping()).await {
                    Ok(Ok(())) => {
                        healthy = true;
                        break;
                    }
                    Ok(Err(sqlx::Error::Database(_))) => continue,
                    _ => break,
                }
            }
            if !healthy {
                conn.close_on_drop();
            }
            drop(conn);
            if pending.0.fetch_sub(1, Ordering::AcqRel) == 1 {
                pending.1.notify_waiters();
            }
        });
    }

    /// Resolves once no background cancel is under way.
    pub(crate) async fn settled(&self) {
        loop {
            let notified = self.pending.1.notified();
            if self.pending.0.load(Ordering::Acquire) == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// The statements running on pooled connections, by operation, so that `close()` can cancel
/// them; `closed` refuses new ones.
#[derive(Debug, Default)]
pub(crate) struct Running {
    next: AtomicU64,
    ops: Mutex<(bool, HashMap<u64, CancelKey>)>,
}

impl Running {
    /// Registers a statement about to run; `None` once closing.
    pub(crate) fn start(&self, key: Option<CancelKey>) -> Option<u64> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let mut ops = self.ops.lock();
        if ops.0 {
            return None;
        }
        if let Some(key) = key {
            ops.1.insert(id, key);
        }
        Some(id)
    }

    /// Unregisters a statement (finished, or abandoned: then cancelled by the caller).
    pub(crate) fn end(&self, id: u64) {
        self.ops.lock().1.remove(&id);
    }

    /// Refuses new statements and cancels every running one; resolves once the servers have
    /// been told.
    pub(crate) async fn close(&self, canceller: &Canceller) {
        let keys: Vec<CancelKey> = {
            let mut ops = self.ops.lock();
            ops.0 = true;
            // SQLite's interrupt happens here, under the lock, while each connection is alive.
            ops.1
                .values()
                .filter(|k| !is_remote(k))
                .for_each(|k| drop(canceller.cancel(*k)));
            ops.1.values().copied().filter(is_remote).collect()
        };
        futures_util::future::join_all(keys.into_iter().map(|k| canceller.cancel(k))).await;
    }
}

/// Whether cancelling `key` takes a connection to the server.
pub(crate) fn is_remote(key: &CancelKey) -> bool {
    #[cfg(feature = "database-sqlite")]
    if matches!(key, CancelKey::Sqlite(_)) {
        return false;
    }
    let _ = key;
    true
}
