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

use super::cancel::{CancelKey, Canceller, KeyOf, Running};
use super::error::{closed_error, DbError, DbErrorKind};
use super::probe::Probe;

/// How long a connection may sit idle before it is pinged when taken.
pub(crate) const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// How long a connection may sit among the idle leases before it goes back to sqlx's pool.
pub(crate) const IDLE_LIMIT: Duration = Duration::from_secs(60);

/// A kept connection: since when it is idle, and its cancel key.
type Kept<DB> = (PoolConnection<DB>, Instant, Option<CancelKey>);

struct Stack<DB: Database> {
    closed: bool,
    /// Most recently used last, each with its cancel key (`cancel.rs`).
    conns: Vec<Kept<DB>>,
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

impl<DB: KeyOf> IdleLeases<DB> {
    /// The most recently used idle connection, if any (those idle past [`IDLE_LIMIT`] are
    /// handed back to sqlx on the way).
    fn pop(&self) -> Option<Kept<DB>> {
        let mut stack = self.stack.lock();
        let stale = stack
            .conns
            .iter()
            .take_while(|(_, since, _)| since.elapsed() >= IDLE_LIMIT)
            .count();
        let stale: Vec<_> = stack.conns.drain(..stale).collect();
        let next = stack.conns.pop();
        drop(stack);
        drop(stale);
        next
    }

    /// Keeps `conn` for the next operation (or hands it back to sqlx once closed).
    fn push(&self, conn: PoolConnection<DB>, key: Option<CancelKey>) {
        let mut stack = self.stack.lock();
        if stack.closed {
            drop(stack);
            drop(conn);
            return;
        }
        stack.conns.push((conn, Instant::now(), key));
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

    /// A live idle connection and its key, if there is one.
    async fn take_idle(&self) -> Option<(PoolConnection<DB>, Option<CancelKey>)> {
        while let Some((mut conn, since, key)) = self.pop() {
            if since.elapsed() < PING_AFTER_IDLE || conn.ping().await.is_ok() {
                return Some((conn, key));
            }
            // Dead: close it rather than have sqlx test it again.
            conn.close_on_drop();
        }
        None
    }

    /// Runs `op` on a leased connection (see [`IdleLeases::lease`]), which is kept for the next
    /// operation when `op` succeeds and goes back to sqlx otherwise.
    ///
    /// A kept connection the server closed while it sat here (a restart, a failover,
    /// `pg_terminate_backend`, `KILL`, `idle_session_timeout`) fails the first statement sent
    /// on it. That failure is not the database's: the connection is discarded and `op` runs
    /// again on the next connection, but only when the failure is the server's notice that it
    /// ended the session or the socket's end (see [`died_idle`]: why the statement cannot have
    /// run, and the one case it cannot tell apart); a failure on a connection that was not kept
    /// is returned, and counts.
    ///
    /// `make_op` makes the operation for each attempt (an `AsyncFnOnce` passed by value: a
    /// borrowed `AsyncFn` makes the caller's future not `Send` for every lifetime).
    pub(crate) async fn run<'a, T, Op>(
        &'a self,
        ctx: &Ctx<'a, DB>,
        make_op: impl Fn() -> Op,
    ) -> Result<T, DbError>
    where
        Op: AsyncFnOnce(&mut DB::Connection) -> Result<T, DbError>,
    {
        // Each retry discards one kept connection: at most as many as the pool holds.
        let mut retries = ctx.pool.options().get_max_connections();
        loop {
            let mut lease = self
                .lease(ctx)
                .await
                .map_err(|e| DbError::from_sqlx(e, ctx.secrets))?;
            let result = lease.exec(ctx, make_op()).await;
            match &result {
                Err(e) if lease.kept && retries > 0 && died_idle(e, ctx.repeatable) => {
                    retries -= 1;
                    lease.discard();
                }
                _ => {
                    lease.finish(&result);
                    return result;
                }
            }
        }
    }

    /// A connection: an idle lease if there is a live one; otherwise one from `pool`, which
    /// opens a new one while it has room; when it has none, the first of a connection coming
    /// back to `pool` and one coming back here. A connection new to the leases has its cancel
    /// key read (one round trip, once per connection taken from sqlx).
    pub(crate) async fn lease<'a>(
        &'a self,
        ctx: &Ctx<'a, DB>,
    ) -> Result<Lease<'a, DB>, sqlx::Error> {
        let pool = ctx.pool;
        let (mut conn, key, kept) = loop {
            if let Some((conn, key)) = self.take_idle().await {
                break (conn, key, true);
            }
            if pool.size() < pool.options().get_max_connections() {
                // Room for a new connection: let sqlx open it (a connect is never cut short by
                // a lease coming back meanwhile), while probing the server's port when nothing
                // is connected yet (see `probe.rs`: a refused port fails now, not at the
                // acquire timeout).
                let conn = match (pool.size(), ctx.probe) {
                    (0, Some(probe)) => probe.acquire(pool).await?,
                    _ => pool.acquire().await?,
                };
                break (conn, None, false);
            }
            let returned = std::pin::pin!(self.returned.notified());
            let acquire = std::pin::pin!(pool.acquire());
            match select(acquire, returned).await {
                Either::Left((conn, _)) => break (conn?, None, false),
                Either::Right(((), _)) => continue,
            }
        };
        let key = match key {
            Some(key) => Some(key),
            None => DB::key_of(&mut conn).await,
        };
        Ok(Lease {
            conn: Some(conn),
            key,
            kept,
            home: self,
            flight: None,
        })
    }
}

/// Whether `e`, the first failure of a statement sent on a kept connection, says the
/// connection had died while it sat idle, so that the statement cannot have run.
///
/// How we know: a kept connection is idle between operations (never inside a transaction:
/// transactions take their connection out of the leases for good) and was healthy when it was
/// kept. A server that closes an idle session sends its notice (PostgreSQL's FATAL 57P01
/// `admin_shutdown`, 57P02, 57P03; MariaDB's 1927 `ER_CONNECTION_KILLED`, 1053) and closes the
/// socket without reading what comes after, so that notice, or the write failing (broken pipe,
/// connection reset) or end-of-stream before any answer (I/O and protocol errors carry no
/// SQLSTATE), is what the first read returns, before any response to our statement. A backend
/// ended *while* running our statement ends with the same notice, but its statement's
/// transaction is then rolled back with it (a kept connection runs in autocommit), so running
/// it again does not run it twice.
///
/// What the error alone cannot tell apart (sqlx reports an error, not how far the exchange
/// got): a connection reset, end-of-stream or MySQL's 2006 / 2013 that happens after the server
/// committed the statement but before its answer arrived (the server crashing at that very
/// moment, or the network failing mid-answer). So those retry only a `repeatable` statement (one
/// that reads: see [`repeatable`]); the server's own notices (57P0x, 1927, 1053) retry any.
fn died_idle(e: &DbError, repeatable: bool) -> bool {
    if e.kind() != DbErrorKind::Connection && e.kind() != DbErrorKind::Unavailable {
        return false;
    }
    match (e.sql_state(), e.db_code()) {
        (Some(state), _) if state.starts_with("57P") => true,
        (_, Some("1927" | "1053")) => true,
        (None, None) => repeatable && e.kind() == DbErrorKind::Connection,
        (_, Some("2006" | "2013")) => repeatable,
        _ => false,
    }
}

/// Whether `sql` only reads, so that sending it again after an ambiguous failure cannot apply a
/// change twice: it starts with `SELECT`, `SHOW`, `VALUES` or `TABLE` (not `EXPLAIN`: `EXPLAIN
/// ANALYZE` runs its statement) and has no `FOR UPDATE` / `FOR SHARE` lock and no `nextval(`.
/// (A SELECT that calls a function with side effects is not recognised as such: such a statement
/// should not rely on this retry.)
pub(crate) fn repeatable(sql: &str) -> bool {
    let lower = sql.trim_start().to_ascii_lowercase();
    let reads = ["select", "show", "values", "table"].iter().any(|k| {
        lower.starts_with(k)
            && !lower[k.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_')
    });
    reads
        && !lower.contains(" for update")
        && !lower.contains(" for share")
        && !lower.contains("nextval(")
}

/// What an operation on a lease needs besides the connection.
pub(crate) struct Ctx<'a, DB: Database> {
    pub(crate) pool: &'a Pool<DB>,
    /// Whether the statement may be sent again after an ambiguous failure (see [`died_idle`]).
    pub(crate) repeatable: bool,
    pub(crate) secrets: &'a [String],
    pub(crate) running: &'a Running,
    pub(crate) canceller: &'a Canceller,
    pub(crate) probe: Option<&'a Probe>,
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
        for (conn, _, _) in conns {
            drop(conn.detach());
        }
    }
}

/// A connection taken for one operation (or a transaction, [`Lease::into_pooled`]). Dropped, it
/// goes back to sqlx's pool (which tests it); `finish` keeps it among the idle leases when the
/// operation ended cleanly.
pub(crate) struct Lease<'a, DB: KeyOf> {
    conn: Option<PoolConnection<DB>>,
    /// See `cancel.rs`.
    key: Option<CancelKey>,
    /// Taken from the kept connections (it sat idle before this operation).
    kept: bool,
    home: &'a IdleLeases<DB>,
    /// The statement running on it (`exec`), registered in `Running` under this id.
    flight: Option<(&'a Running, &'a Canceller, u64)>,
}

impl<DB: KeyOf> Drop for Lease<'_, DB> {
    /// Dropped while its statement runs (a timeout dropped the operation): the statement is
    /// cancelled on the server and the connection drained before it is used again
    /// ([`Canceller::abandon`]).
    fn drop(&mut self) {
        let Some((running, canceller, id)) = self.flight.take() else {
            return;
        };
        // Unregistered first: `Running::close` never sees a key whose lease is gone.
        running.end(id);
        if let Some(conn) = self.conn.take() {
            canceller.abandon(self.key, conn);
        }
    }
}

impl<'a, DB: KeyOf> Lease<'a, DB> {
    /// Runs `op` on the connection as a registered statement (cancelled on the server if
    /// this future is dropped before it ends; refused once the pool is closing).
    async fn exec<T>(
        &mut self,
        ctx: &Ctx<'a, DB>,
        op: impl AsyncFnOnce(&mut DB::Connection) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        let Some(id) = ctx.running.start(self.key) else {
            return Err(closed_error());
        };
        self.flight = Some((ctx.running, ctx.canceller, id));
        let result = op(&mut **self).await;
        if let Some((running, _, id)) = self.flight.take() {
            running.end(id);
        }
        result
    }

    /// Ends the lease after an operation: a connection whose operation succeeded is kept for
    /// the next one; after an error it goes back to sqlx, which tests it.
    fn finish<T, E>(mut self, result: &Result<T, E>) {
        if let (Ok(_), Some(conn)) = (result, self.conn.take()) {
            self.home.push(conn, self.key);
        }
    }

    /// Closes a connection found dead (sqlx does not test it again).
    fn discard(mut self) {
        if let Some(conn) = self.conn.as_mut() {
            conn.close_on_drop();
        }
    }

    /// The connection itself and its cancel key, no longer a lease: it goes back to sqlx's
    /// pool when dropped (a transaction's connection, say).
    pub(crate) fn into_pooled(mut self) -> (PoolConnection<DB>, Option<CancelKey>) {
        let conn = self.conn.take().expect("a lease holds its connection");
        (conn, self.key)
    }
}

impl<DB: KeyOf> Deref for Lease<'_, DB> {
    type Target = DB::Connection;

    fn deref(&self) -> &DB::Connection {
        // `conn` is only taken by `finish`, which consumes the lease.
        self.conn.as_deref().expect("a lease holds its connection")
    }
}

impl<DB: KeyOf> DerefMut for Lease<'_, DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        self.conn
            .as_deref_mut()
            .expect("a lease holds its connection")
    }
}

#[cfg(test)]
mod tests {
    use super::repeatable;

    #[test]
    fn only_reads_are_repeatable() {
        for sql in [
            "SELECT 1",
            "  select $1::int",
            "SHOW TABLES",
            "VALUES (1)",
            "TABLE t",
        ] {
            assert!(repeatable(sql), "{sql}");
        }
        for sql in [
            "INSERT INTO t VALUES (1)",
            "UPDATE t SET a = 1",
            "DELETE FROM t",
            "SELECT * FROM t FOR UPDATE",
            "SELECT nextval('s')",
            "WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x",
            "selection",
            "CALL p()",
            "EXPLAIN ANALYZE DELETE FROM t",
        ] {
            assert!(!repeatable(sql), "{sql}");
        }
    }
}
