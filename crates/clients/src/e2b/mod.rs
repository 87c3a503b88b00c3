//! E2B sandboxes behind a circuit breaker: [`E2BSandboxCircuitBreaker`].
//!
//! It speaks E2B's REST protocol (the `e2b-dev/E2B` OpenAPI spec and the code interpreter's
//! `/execute` stream), so it works against `https://api.e2b.app` with a real key:
//!
//! - `control`: the control plane (`POST /sandboxes`, `DELETE /sandboxes/{id}`,
//!   `POST /sandboxes/{id}/timeout`, `GET /sandboxes/{id}`, `GET /v2/sandboxes` with
//!   `X-Next-Token` pages), authenticated by `X-API-Key`.
//! - `interpreter`: `POST /execute` on a sandbox's code interpreter (port 49999), authenticated by
//!   the sandbox's own tokens; `execute` reads its stream of JSON lines into an [`Execution`]
//!   (`execution`).
//! - `access`: each sandbox's domain and tokens, from its creation (or a lookup).
//! - `error`: [`E2BError`] and what each error means for the circuit.
//!
//! Why one HTTP client for both hosts: the control plane and every sandbox share one breaker
//! (a broken E2B is broken for both) and one connection pool; sandbox requests use absolute
//! URLs, which the HTTP layer sends as they are. The API key is not a default header of that
//! client but a header of each control-plane request, so it cannot reach a sandbox.
//!
//! Classification (the only breaker logic here): connection errors, timeouts, 5xx, 408, 429
//! (with `Retry-After`) and broken streams count against E2B; 400, 401, 404, 409, a vanished
//! sandbox (`/execute` 502 "The sandbox was not found") and exceptions in the user's code do not.

mod access;
mod client;
mod control;
mod error;
mod execute;
mod execution;
mod interpreter;
mod options;

pub use client::E2BSandboxCircuitBreaker;
pub use control::SandboxInfo;
pub use error::E2BError;
pub use execute::ExecutionParser;
pub use execution::{ExecResult, Execution, ExecutionError};
pub use options::{
    validate_seconds, CreateOptions, E2BOptions, ExecuteOptions, DEFAULT_DOMAIN, DEFAULT_NAME,
    DEFAULT_REQUEST_TIMEOUT, DEFAULT_SANDBOX_TIMEOUT_SECS, INTERPRETER_PORT,
    MAX_SANDBOX_TIMEOUT_SECS,
};
