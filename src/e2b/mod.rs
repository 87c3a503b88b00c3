//! The `E2BSandboxCircuitBreaker` class: E2B sandboxes (create, run code, stop, list) behind
//! one circuit breaker, on the binding's Tokio runtime. Options are in `options.rs`, the
//! typings of an execution in `results.rs`, errors in `error.rs`.

use std::collections::HashMap;
use std::sync::Arc;

mod error;
mod options;
mod results;

use napi::bindgen_prelude::ToNapiValue;
use napi::{Env, Result};
use napi_derive::napi;
use neural_trader_clients::e2b::{self as client, E2BError, SandboxInfo};
use neural_trader_resilience as core;

pub(crate) use self::options::{e2b_options, E2BClientOptions};
use self::options::{
    read_create_options, read_e2b_options, read_execute_options, read_seconds_argument,
};
use crate::breaker::breaker_accessors;
use crate::http::error::Failure;
use crate::js::errors::OrThrow;
use crate::js::options::argument;
use crate::js::promise::promise;
use crate::js::{parse_json, Arg, Async};
use crate::runtime::spawn_io;

/// E2B sandboxes behind a circuit breaker, over E2B's REST protocol (`https://api.e2b.app` and
/// each sandbox's code interpreter). Connection errors, timeouts, 5xx and 429 count against E2B
/// (a 429's `Retry-After` keeps the circuit open at least that long); 400, 401, 404, 409, a
/// vanished sandbox (`ERR_SANDBOX_NOT_FOUND`) and exceptions in the executed code do not.
#[napi]
pub struct E2BSandboxCircuitBreaker {
    inner: Arc<client::E2BSandboxCircuitBreaker>,
}

/// A sandbox as E2B lists it.
#[napi(object)]
pub struct E2BSandboxInfo {
    /// Its id.
    pub sandbox_id: String,
    /// The template it was made from.
    pub template_id: String,
    /// The template's alias.
    pub alias: Option<String>,
    /// The id of the host it runs on.
    pub client_id: Option<String>,
    /// When it started (ISO 8601).
    pub started_at: Option<String>,
    /// When it ends unless extended (ISO 8601).
    pub end_at: Option<String>,
    /// 'running' or 'paused'.
    pub state: Option<String>,
    /// vCPUs.
    pub cpu_count: Option<u32>,
    /// Memory in MiB.
    #[napi(js_name = "memoryMB")]
    pub memory_mb: Option<u32>,
    /// Disk in MiB.
    #[napi(js_name = "diskSizeMB")]
    pub disk_size_mb: Option<u32>,
    /// The version of the sandbox's daemon.
    pub envd_version: Option<String>,
    /// The metadata it was created with.
    pub metadata: HashMap<String, String>,
}

impl From<SandboxInfo> for E2BSandboxInfo {
    fn from(s: SandboxInfo) -> Self {
        Self {
            sandbox_id: s.sandbox_id,
            template_id: s.template_id,
            alias: s.alias,
            client_id: s.client_id,
            started_at: s.started_at,
            end_at: s.end_at,
            state: s.state,
            cpu_count: s.cpu_count,
            memory_mb: s.memory_mb,
            disk_size_mb: s.disk_size_mb,
            envd_version: s.envd_version,
            metadata: s.metadata.into_iter().collect(),
        }
    }
}

/// Settles a promise with the result of an E2B call, its errors mapped on the JS thread.
fn settle<'e, T, V, F, C>(env: &'e Env, call: F, convert: C) -> Async<'e, V>
where
    T: Send + 'static,
    V: ToNapiValue,
    F: std::future::Future<Output = std::result::Result<T, E2BError>> + Send + 'static,
    C: FnOnce(&'e Env, T) -> Result<V> + Send + 'static,
{
    spawn_io(
        env,
        async move { call.await.map_err(Failure::from) },
        convert,
    )
}

/// Reads `createSandbox`'s `template` (`undefined`: 'base').
fn read_template(env: &Env, template: Arg<'_>) -> Result<String> {
    template.map_or(Ok("base".to_string()), |t| {
        argument(env, "template", Some(t))
    })
}

impl E2BSandboxCircuitBreaker {
    /// Wraps a client built elsewhere (by the trading system, say).
    pub(crate) fn wrap(inner: Arc<client::E2BSandboxCircuitBreaker>) -> Self {
        Self { inner }
    }

    fn core_breaker(&self) -> Arc<core::CircuitBreaker> {
        self.inner.breaker()
    }
}

#[napi]
impl E2BSandboxCircuitBreaker {
    /// Creates the client and its breaker (name 'e2b_sandbox', failureThreshold 3,
    /// successThreshold 2, timeout 60000 ms, resetTimeout 120000 ms). Without an API key it is
    /// created (`configured` is false) and every call rejects with `ERR_E2B_NO_API_KEY`.
    /// Throws `TypeError` (`ERR_INVALID_ARG_TYPE`, `ERR_INVALID_ARG_VALUE`, `ERR_INVALID_URL`)
    /// or `RangeError` (`ERR_OUT_OF_RANGE`) for bad options.
    #[napi(
        constructor,
        ts_args_type = "options?: E2BSandboxCircuitBreakerOptions"
    )]
    pub fn new(env: Env, options: Arg) -> Result<Self> {
        let options = read_e2b_options(&env, options)?;
        let inner = client::E2BSandboxCircuitBreaker::with_options(options).or_throw(&env)?;
        Ok(Self::wrap(Arc::new(inner)))
    }

    /// Whether an API key is set (calls can be made).
    #[napi(getter)]
    pub fn configured(&self) -> bool {
        self.inner.configured()
    }

    /// Closes the HTTP client: calls in flight reject with an `HttpError` `ERR_HTTP_CLOSED`
    /// (not counted against E2B), so does every later call, and the keep-alive connections are
    /// dropped. Calling it again resolves at once. `await using` calls it too.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn close<'e>(&self, env: &'e Env) -> Async<'e, ()> {
        let inner = Arc::clone(&self.inner);
        let close = async move {
            inner.close().await;
            Ok(())
        };
        promise(env, || settle(env, close, |_, ()| Ok(())))
    }

    /// Creates a sandbox from `template` (default 'base'; code runs in templates with E2B's
    /// code interpreter, such as 'code-interpreter-v1') and resolves with its id.
    #[napi(
        ts_args_type = "template?: string, options?: E2BCreateSandboxOptions",
        ts_return_type = "Promise<string>"
    )]
    pub fn create_sandbox<'e>(
        &self,
        env: &'e Env,
        template: Arg<'e>,
        options: Arg<'e>,
    ) -> Async<'e, String> {
        promise(env, || {
            let template = read_template(env, template)?;
            let options = read_create_options(env, options)?;
            let inner = Arc::clone(&self.inner);
            settle(
                env,
                async move { inner.create_sandbox_with(&template, options).await },
                |_, id| Ok(id),
            )
        })
    }

    /// Runs `code` in the sandbox and resolves with `{ stdout, stderr, results, error,
    /// executionCount }`. An exception in the code is `error` (the call succeeded); a sandbox
    /// that is gone rejects with `ERR_SANDBOX_NOT_FOUND` (not counted against E2B); a stream
    /// that breaks off rejects with `ERR_E2B_STREAM` or `ERR_HTTP_IO` (counted).
    #[napi(
        ts_args_type = "sandboxId: string, code: string, options?: E2BExecuteOptions",
        ts_return_type = "Promise<E2BExecution>"
    )]
    pub fn execute_code<'e>(
        &self,
        env: &'e Env,
        sandbox_id: Arg<'e>,
        code: Arg<'e>,
        options: Arg<'e>,
    ) -> Async<'e> {
        promise(env, || {
            let id: String = argument(env, "sandboxId", sandbox_id)?;
            let code: String = argument(env, "code", code)?;
            let options = read_execute_options(env, options)?;
            let inner = Arc::clone(&self.inner);
            let execution = async move {
                Ok(inner
                    .execute_code_with(&id, &code, options)
                    .await?
                    .to_json())
            };
            settle(env, execution, |env, json| parse_json(env, &json))
        })
    }

    /// Kills a sandbox: resolves with `true`, or `false` when it was already gone.
    #[napi(
        ts_args_type = "sandboxId: string",
        ts_return_type = "Promise<boolean>"
    )]
    pub fn stop_sandbox<'e>(&self, env: &'e Env, sandbox_id: Arg<'e>) -> Async<'e, bool> {
        promise(env, || {
            let id: String = argument(env, "sandboxId", sandbox_id)?;
            let inner = Arc::clone(&self.inner);
            settle(env, async move { inner.stop_sandbox(&id).await }, |_, b| {
                Ok(b)
            })
        })
    }

    /// Sets how long a running sandbox still lives, in seconds from now; rejects with
    /// `ERR_SANDBOX_NOT_FOUND` if it is gone.
    #[napi(
        ts_args_type = "sandboxId: string, seconds: number",
        ts_return_type = "Promise<void>"
    )]
    pub fn set_sandbox_timeout<'e>(
        &self,
        env: &'e Env,
        sandbox_id: Arg<'e>,
        seconds: Arg<'e>,
    ) -> Async<'e, ()> {
        promise(env, || {
            let id: String = argument(env, "sandboxId", sandbox_id)?;
            let seconds = read_seconds_argument(env, seconds)?;
            let inner = Arc::clone(&self.inner);
            settle(
                env,
                async move { inner.set_sandbox_timeout(&id, seconds).await },
                |_, ()| Ok(()),
            )
        })
    }

    /// Every running or paused sandbox of the team (all pages).
    #[napi(ts_return_type = "Promise<E2BSandboxInfo[]>")]
    pub fn list_sandboxes<'e>(&self, env: &'e Env) -> Async<'e, Vec<E2BSandboxInfo>> {
        let inner = Arc::clone(&self.inner);
        let list = async move { inner.list_sandboxes().await };
        settle(env, list, |_, list| {
            Ok(list.into_iter().map(E2BSandboxInfo::from).collect())
        })
    }
}

breaker_accessors!(E2BSandboxCircuitBreaker);
