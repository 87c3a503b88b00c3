//! What one execution produced: printed output, rich results, the user's exception and the
//! execution count. Serialized in camelCase (`executionCount`, `isMainResult`), the shape the
//! JavaScript binding returns.

use serde::Serialize;
use serde_json::{Map, Value};

/// The outcome of one execution.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Execution {
    /// What the code printed to stdout, one entry per chunk the interpreter sent.
    pub stdout: Vec<String>,
    /// What the code printed to stderr, one entry per chunk.
    pub stderr: Vec<String>,
    /// Rich results: `display(...)` calls and the value of the last expression (the main
    /// result).
    pub results: Vec<ExecResult>,
    /// The exception the code raised, if any (the call itself succeeded).
    pub error: Option<ExecutionError>,
    /// The execution counter of the context (`In [n]`), if the interpreter sent it.
    pub execution_count: Option<u64>,
}

impl Execution {
    /// The main result (the value of the last expression), if there is one.
    pub fn main_result(&self) -> Option<&ExecResult> {
        self.results.iter().find(|r| r.is_main_result)
    }

    /// The text of the main result, if there is one.
    pub fn text(&self) -> Option<&str> {
        self.main_result().and_then(|r| r.text.as_deref())
    }

    /// This execution as JSON text, in the camelCase shape the JavaScript binding returns.
    pub fn to_json(&self) -> String {
        // Cannot fail: every map key is a string and JSON values hold no NaN.
        serde_json::to_string(self).unwrap_or_else(|_| "null".to_string())
    }
}

/// An exception raised by the user's code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ExecutionError {
    /// The exception's class (`ZeroDivisionError`).
    pub name: String,
    /// Its message (`division by zero`).
    pub value: String,
    /// The traceback, as the kernel prints it.
    pub traceback: String,
}

/// One rich result; each representation present is a field (images base64-encoded).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecResult {
    /// Whether this is the value of the last expression (rather than a `display` call).
    pub is_main_result: bool,
    /// `text/plain`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// `text/html`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    /// `text/markdown`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub markdown: Option<String>,
    /// `image/svg+xml`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub svg: Option<String>,
    /// `image/png`, base64.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub png: Option<String>,
    /// `image/jpeg`, base64.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jpeg: Option<String>,
    /// `application/pdf`, base64.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pdf: Option<String>,
    /// `text/latex`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latex: Option<String>,
    /// `application/javascript`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub javascript: Option<String>,
    /// `application/json`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub json: Option<Value>,
    /// Data of a DataFrame-like value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    /// A chart extracted from a plot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chart: Option<Value>,
    /// Other representations: the line's `extra` object and any field not listed above.
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

impl ExecResult {
    /// Reads a `result` line's fields (`type` already removed).
    pub(crate) fn from_fields(fields: Map<String, Value>) -> Self {
        let mut result = ExecResult::default();
        for (key, value) in fields {
            let text_slot = match key.as_str() {
                "text" => Some(&mut result.text),
                "html" => Some(&mut result.html),
                "markdown" => Some(&mut result.markdown),
                "svg" => Some(&mut result.svg),
                "png" => Some(&mut result.png),
                "jpeg" => Some(&mut result.jpeg),
                "pdf" => Some(&mut result.pdf),
                "latex" => Some(&mut result.latex),
                "javascript" => Some(&mut result.javascript),
                _ => None,
            };
            match (text_slot, key.as_str(), value) {
                (_, _, Value::Null) => {}
                (Some(slot), _, Value::String(text)) => *slot = Some(text),
                (None, "is_main_result", Value::Bool(main)) => result.is_main_result = main,
                (None, "json", value) => result.json = Some(value),
                (None, "data", value) => result.data = Some(value),
                (None, "chart", value) => result.chart = Some(value),
                (None, "extra", Value::Object(extra)) => result.extra.extend(extra),
                (_, _, value) => {
                    result.extra.insert(key, value);
                }
            }
        }
        result
    }
}
