//! The typings of what `executeCode` resolves with. The value itself is the client's JSON,
//! parsed by the engine (`JSON.parse` is faster than building it through N-API), so these
//! structs are never built: they give `index.d.ts` its interfaces.
#![allow(dead_code)]

use napi_derive::napi;

/// What `executeCode` resolves with. An exception in the code is `error`, not a rejection.
#[napi(object)]
pub struct E2BExecution {
    /// What the code printed to stdout, one entry per chunk the interpreter sent.
    pub stdout: Vec<String>,
    /// What the code printed to stderr.
    pub stderr: Vec<String>,
    /// Rich results: `display(...)` calls and the value of the last expression.
    pub results: Vec<E2BExecutionResult>,
    /// The exception the code raised, or `null`.
    #[napi(ts_type = "E2BExecutionError | null")]
    pub error: E2BExecutionError,
    /// The execution counter of the context (`In [n]`), or `null`.
    #[napi(ts_type = "number | null")]
    pub execution_count: f64,
}

/// An exception raised by the executed code.
#[napi(object)]
pub struct E2BExecutionError {
    /// Its class ('ZeroDivisionError').
    pub name: String,
    /// Its message ('division by zero').
    pub value: String,
    /// The traceback as the kernel prints it.
    pub traceback: String,
}

/// One rich result; only the representations present are set (images base64-encoded).
#[napi(object)]
pub struct E2BExecutionResult {
    /// Whether this is the value of the last expression.
    pub is_main_result: bool,
    /// `text/plain`.
    pub text: Option<String>,
    /// `text/html`.
    pub html: Option<String>,
    /// `text/markdown`.
    pub markdown: Option<String>,
    /// `image/svg+xml`.
    pub svg: Option<String>,
    /// `image/png`, base64.
    pub png: Option<String>,
    /// `image/jpeg`, base64.
    pub jpeg: Option<String>,
    /// `application/pdf`, base64.
    pub pdf: Option<String>,
    /// `text/latex`.
    pub latex: Option<String>,
    /// `application/javascript`.
    pub javascript: Option<String>,
    /// `application/json`.
    #[napi(ts_type = "unknown")]
    pub json: Option<String>,
    /// Data of a DataFrame-like value.
    #[napi(ts_type = "unknown")]
    pub data: Option<String>,
    /// A chart extracted from a plot.
    #[napi(ts_type = "unknown")]
    pub chart: Option<String>,
    /// Other representations, by MIME type.
    #[napi(ts_type = "Record<string, unknown>")]
    pub extra: Option<String>,
}
