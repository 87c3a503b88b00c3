//! A refused port or an unknown host fails an operation at once, with the cause in the message.
//!
//! sqlx's pool retries a refused connect (it assumes the server is starting) until the acquire
//! timeout, 30 s by default, and then reports `PoolTimedOut` without the cause. So when a pool
//! has no connection at all (the first operation, or every connection lost), the operation
//! opens a plain TCP connection to the server's address next to sqlx's connect: if that is
//! refused or the name does not resolve, the operation fails now with `ERR_DB_CONNECTION`
//! and the system's message ("Connection refused", "failed to lookup address information");
//! otherwise it waits for sqlx's connection as before. The probe runs beside the connect, so
//! it adds no latency; it is only made for TCP addresses (not Unix sockets), only while the
//! pool is empty, and only once sqlx has not connected within [`PROBE_AFTER`]: a server that
//! answers at once never sees the probe (an empty connection is a handshake error that MySQL
//! counts towards `max_connect_errors`), a refused port is still reported within that delay.

use std::io;

use futures_util::future::{select, Either};
use sqlx::pool::PoolConnection;
use sqlx::{Database, Pool};

/// How long sqlx may take to connect before the server's address is probed.
const PROBE_AFTER: std::time::Duration = std::time::Duration::from_millis(100);

/// The server's TCP address, as the connect options name it.
#[derive(Debug, Clone)]
pub(crate) struct Probe {
    host: String,
    port: u16,
}

impl Probe {
    /// The probe of a TCP server address (`None` for a Unix socket).
    #[cfg(any(feature = "database-postgres", feature = "database-mysql"))]
    pub(crate) fn tcp(host: &str, port: u16, socket: Option<&std::path::PathBuf>) -> Option<Self> {
        if socket.is_some() || host.starts_with('/') || host.is_empty() {
            return None;
        }
        Some(Self {
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string(),
            port,
        })
    }

    /// sqlx's `pool.acquire()`, failed at once when the server's port refuses connections or
    /// its name does not resolve.
    pub(crate) async fn acquire<DB: Database>(
        &self,
        pool: &Pool<DB>,
    ) -> Result<PoolConnection<DB>, sqlx::Error> {
        let acquire = std::pin::pin!(pool.acquire());
        let probe = std::pin::pin!(self.connect());
        match select(acquire, probe).await {
            Either::Left((conn, _)) => conn,
            Either::Right((Ok(()), acquire)) => acquire.await,
            Either::Right((Err(e), _)) => Err(sqlx::Error::Io(e)),
        }
    }

    async fn connect(&self) -> io::Result<()> {
        tokio::time::sleep(PROBE_AFTER).await;
        match tokio::net::TcpStream::connect((self.host.as_str(), self.port)).await {
            Ok(_stream) => Ok(()),
            Err(e) => Err(io::Error::new(
                e.kind(),
                format!("could not connect to {}:{}: {e}", self.host, self.port),
            )),
        }
    }
}
