//! Databases behind a circuit breaker (see the crate docs).
