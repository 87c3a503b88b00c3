//! The client's connection pool, which can be closed: [`Pool::close`] drops it and cancels the
//! requests that still hold it.
//!
//! Why: reqwest has no `close()`; its pool (and every keep-alive socket in it) lives as long as
//! any handle on the `reqwest::Client`, and idle sockets stay up to 90 s. 2,000 breakers left up
//! to 740 sockets open (issue 9). Here the breaker holds the only long-lived handle, in an
//! `Option` it can take; each request borrows a clone for its duration, together with a
//! receiver of the close signal, so that closing both refuses new requests and stops those in
//! flight (their futures are dropped, which drops their clones and gives back their
//! connections). When the last clone goes, hyper's connection tasks see their senders gone and
//! shut the sockets.

use std::future::Future;
use std::pin::pin;
use std::sync::{PoisonError, RwLock};
use std::task::Poll;

use tokio::sync::watch;

use super::error::ApiError;

/// A reqwest client that can be closed.
pub(crate) struct Pool {
    /// `None` once closed.
    client: RwLock<Option<reqwest::Client>>,
    /// `true` once closed; every request in flight holds a receiver.
    closed: watch::Sender<bool>,
}

impl Pool {
    pub(crate) fn new(client: reqwest::Client) -> Self {
        Self {
            client: RwLock::new(Some(client)),
            closed: watch::Sender::new(false),
        }
    }

    /// A handle on the pool and the close signal; `ERR_HTTP_CLOSED` once closed. The receiver
    /// is taken first, so a close that happens after this call is always seen.
    pub(crate) fn open(
        &self,
        name: &str,
    ) -> Result<(reqwest::Client, watch::Receiver<bool>), ApiError> {
        let closed = self.closed.subscribe();
        let client = self
            .client
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        match client {
            Some(client) if !*closed.borrow() => Ok((client, closed)),
            _ => Err(ApiError::closed(name)),
        }
    }

    /// Signals every request in flight, drops the pool, and waits until no request holds a
    /// handle on it. Idempotent.
    pub(crate) async fn close(&self) {
        self.closed.send_replace(true);
        let client = self
            .client
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        drop(client);
        // Each request in flight was woken by the send above and drops its receiver (and its
        // handle on the pool) when it ends.
        self.closed.closed().await;
    }

    pub(crate) fn is_closed(&self) -> bool {
        *self.closed.borrow()
    }
}

/// `work`, unless the pool is closed first (then `ERR_HTTP_CLOSED`, and `work` is dropped,
/// which cancels the exchange and gives its connection back).
pub(crate) async fn unless_closed<T>(
    work: impl Future<Output = Result<T, ApiError>>,
    mut closed: watch::Receiver<bool>,
    name: &str,
) -> Result<T, ApiError> {
    let mut work = pin!(work);
    let mut signal = pin!(async move {
        // An error means the sender is gone, which only happens once the pool is dropped.
        let _ = closed.wait_for(|closed| *closed).await;
    });
    std::future::poll_fn(|cx| {
        if let Poll::Ready(result) = work.as_mut().poll(cx) {
            return Poll::Ready(result);
        }
        match signal.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(ApiError::closed(name))),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}
