//! HTTP APIs behind a circuit breaker: [`ApiCircuitBreaker`].
//!
//! - `client`: the breaker-wrapped client (one pooled reqwest client per breaker).
//! - `target`: URL resolution, Basic authentication from userinfo, headers, and the secrets
//!   that no message may show; checked before the breaker is asked, so a caller's mistake is
//!   never counted against the service.
//! - `transport`: one exchange (the whole body is read inside the request's deadline) and the
//!   mapping of reqwest errors to codes without reqwest's URL-bearing messages.
//! - `policy`: the user's secrets (safe query parameters, secret headers); `pool`: the
//!   connection pool that `close()` drops, cancelling the requests that hold it.
//! - `redirect`: redirects, followed by hand so that credential headers never reach another
//!   origin.
//! - `classify`: status and transport errors to an [`neural_trader_resilience::Outcome`], and
//!   `Retry-After` parsing. This is the only breaker logic the client owns.
//!
//! Why the deadline is the breaker's and not reqwest's: the core's `execute_with` timeout drops
//! the exchange, counts it as a failure and returns `ERR_CIRCUIT_TIMEOUT`, exactly as a timed-out
//! `call` does, so HTTP and JavaScript callers see one timeout behaviour. reqwest keeps only the
//! connect timeout, which fails faster, and with a clearer error, than the whole deadline.

pub mod classify;
mod client;
mod error;
mod headers;
mod options;
mod policy;
mod pool;
mod redirect;
mod request;
mod target;
mod transport;

pub use bytes::Bytes;
pub use classify::{
    error_outcome, outcome_of, parse_retry_after, status_outcome, DEFAULT_MAX_RETRY_AFTER,
};
pub use client::ApiCircuitBreaker;
pub use error::{ApiError, StatusError};
pub use headers::{header_pairs, is_secret_header, MAX_HEADERS};
pub use options::{
    ApiOptions, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT, MAX_NAMES,
};
pub use redirect::{is_credential_header, MAX_REDIRECTS};
pub use request::{body_kind, Body, BodyKind, Request, Response};
pub use reqwest::header::{HeaderMap, HeaderValue};
pub use reqwest::{Method, StatusCode};
