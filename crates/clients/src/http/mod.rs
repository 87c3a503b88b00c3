//! HTTP APIs behind a circuit breaker (see the crate docs).
