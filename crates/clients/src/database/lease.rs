//! Pooled connections kept between operations instead of being handed back to sqlx's pool.
//!
//! sqlx pings every connection it gets back (`PoolConnection`'s drop spawns a task that sends a
//! `Sync` and waits for the server's answer before the connection can be acquired again): one
//! more server round trip, and one more wake-up of a runtime thread, for every query. Here a
//! connection whose operation finished cleanly goes to a small stack of idle leases instead, and
//! the next operation takes it from there without any round trip. Anything else (an error, an
//! operation dropped halfway by a timeout) drops the connection the sqlx way, so sqlx still
//! checks and cleans up every connection that may be in a doubtful state.
//!
//! An operation that finds no idle lease gets a connection from sqlx's pool, which opens a new
//! one while it has room; once it is full, the operation waits both for sqlx's pool and for a
//! lease to come back, whichever is first, so connections parked here never starve it.
//!
//! A lease idle for [`PING_AFTER_IDLE`] or more is pinged before use (the server may have closed
//! it meanwhile); one found dead is closed and the next one tried, so a server restart costs no
//! failed call. A lease idle for [`IDLE_LIMIT`] goes back to sqlx's pool (whose idle timeout
//! then applies).

use std::ops::{Deref, DerefMut};
use std::time::{Duration, Instant};

use futures_util::future::{select, Either};
use parking_lot::Mutex;
use sqlx::pool::PoolConnection;
use sqlx::{Connection, Database, Pool};
use tokio::sync::Notify;

use super::error::DbError;

/// How long a connection may sit idle before it is pinged when taken.
pub(crate) const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// How long a connection may sit among the idle leases before it goes back to sqlx's pool.
pub(crate) const IDLE_LIMIT: Duration = Duration::from_secs(60);

struct Stack<DB: Database> {
    closed: bool,
    /// Most recently used last.
    conns: Vec<(PoolConnection<DB>, Instant)>,
}

/// The idle leases of one pool.
pub(crate) struct IdleLeases<DB: Database> {
    stack: Mutex<Stack<DB>>,
    /// Signalled when a connection comes back.
    returned: Notify,
}

impl<DB: Database> std::fmt::Debug for IdleLeases<DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdleLeases")
            .field("idle", &self.stack.lock().conns.len())
            .finish()
    }
}

impl<DB: Database> Default for IdleLeases<DB> {
    fn default() -> Self {
        Self {
            stack: Mutex::new(Stack {
                closed: false,
                conns: Vec::new(),
            }),
            returned: Notify::new(),
        }
    }
}

impl<DB: Database> IdleLeases<DB> {
    /// The most recently used idle connection, if any (those idle past [`IDLE_LIMIT`] are
    /// handed back to sqlx on the way).
    fn pop(&self) -> Option<(PoolConnection<DB>, Instant)> {
        let mut stack = self.stack.lock();
        let stale = stack
            .conns
            .iter()
            .take_while(|(_, since)| since.elapsed() >= IDLE_LIMIT)
            .count();
        let stale: Vec<_> = stack.conns.drain(..stale).collect();
        let next = stack.conns.pop();
        drop(stack);
        drop(stale);
        next
    }

    /// Keeps `conn` for the next operation (or hands it back to sqlx once closed).
    fn push(&self, conn: PoolConnection<DB>) {
        let mut stack = self.stack.lock();
        if stack.closed {
            drop(stack);
            drop(conn);
            return;
        }
        stack.conns.push((conn, Instant::now()));
        drop(stack);
        self.returned.notify_one();
    }

    /// Hands every idle connection back and keeps none from now on (before closing the pool,
    /// which waits for every connection to come back).
    pub(crate) fn close(&self) {
        let conns = {
            let mut stack = self.stack.lock();
            stack.closed = true;
            std::mem::take(&mut stack.conns)
        };
        drop(conns);
    }

    /// A live idle connection, if there is one.
    async fn take_idle(&self) -> Option<PoolConnection<DB>> {
        while let Some((mut conn, since)) = self.pop() {
            if since.elapsed() < PING_AFTER_IDLE || conn.ping().await.is_ok() {
                return Some(conn);
            }
            // Dead: close it rather than have sqlx test it again.
            conn.close_on_drop();
        }
        None
    }

    /// Runs `op` on a leased connection (see [`IdleLeases::lease`]), which is kept for the next
    /// operation when `op` succeeds and goes back to sqlx otherwise.
    pub(crate) async fn run<T>(
        &self,
        pool: &Pool<DB>,
        secrets: &[String],
        op: impl AsyncFnOnce(&mut DB::Connection) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        let mut lease = self
            .lease(pool)
            .await
            .map_err(|e| DbError::from_sqlx(e, secrets))?;
        let result = op(&mut lease).await;
        lease.finish(&result);
        result
    }

    /// A connection: an idle lease if there is a live one; otherwise one from `pool`, which
    /// opens a new one while it has room; when it has none, the first of a connection coming
    /// back to `pool` and one coming back here.
    pub(crate) async fn lease<'a>(&'a self, pool: &Pool<DB>) -> Result<Lease<'a, DB>, sqlx::Error> {
        let conn = loop {
            if let Some(conn) = self.take_idle().await {
                break conn;
            }
            if pool.size() < pool.options().get_max_connections() {
                // Room for a new connection: let sqlx open it (a connect is never cut short by
                // a lease coming back meanwhile).
                break pool.acquire().await?;
            }
            let returned = std::pin::pin!(self.returned.notified());
            let acquire = std::pin::pin!(pool.acquire());
            match select(acquire, returned).await {
                Either::Left((conn, _)) => break conn?,
                Either::Right(((), _)) => continue,
            }
        };
        Ok(Lease {
            conn: Some(conn),
            home: self,
        })
    }
}

impl<DB: Database> Drop for IdleLeases<DB> {
    fn drop(&mut self) {
        let conns = std::mem::take(&mut self.stack.get_mut().conns);
        if tokio::runtime::Handle::try_current().is_ok() {
            drop(conns);
            return;
        }
        // Outside a runtime (a JS object finalized at exit, say) sqlx could not spawn the task
        // that takes a connection back: close each one directly instead.
        for (conn, _) in conns {
            drop(conn.detach());
        }
    }
}

/// A connection taken for one operation (or a transaction, [`Lease::into_pooled`]). Dropped, it
/// goes back to sqlx's pool (which tests it); `finish` keeps it among the idle leases when the
/// operation ended cleanly.
pub(crate) struct Lease<'a, DB: Database> {
    conn: Option<PoolConnection<DB>>,
    home: &'a IdleLeases<DB>,
}

impl<DB: Database> Lease<'_, DB> {
    /// Ends the lease after an operation: a connection whose operation succeeded is kept for
    /// the next one; after an error it goes back to sqlx, which tests it.
    fn finish<T, E>(mut self, result: &Result<T, E>) {
        if let (Ok(_), Some(conn)) = (result, self.conn.take()) {
            self.home.push(conn);
        }
    }
}

impl<DB: Database> Lease<'_, DB> {
    /// The connection itself, no longer a lease: it goes back to sqlx's pool when dropped (a
    /// transaction's connection, say).
    pub(crate) fn into_pooled(mut self) -> PoolConnection<DB> {
        self.conn.take().expect("a lease holds its connection")
    }
}

impl<DB: Database> Deref for Lease<'_, DB> {
    type Target = DB::Connection;

    fn deref(&self) -> &DB::Connection {
        // `conn` is only taken by `finish`, which consumes the lease.
        self.conn.as_deref().expect("a lease holds its connection")
    }
}

impl<DB: Database> DerefMut for Lease<'_, DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        self.conn
            .as_deref_mut()
            .expect("a lease holds its connection")
    }
}
