//! Remote models: the Open Inference Protocol v2 and TensorFlow Serving REST, over the HTTP
//! layer of [`ApiCircuitBreaker`] (one pooled client, the breaker's permit around the exchange
//! and the parsing of the answer, so that a NaN in a well-formed answer trips it too).

use std::sync::Arc;
use std::time::Duration;

use neural_trader_resilience::{validate_duration, CircuitBreaker, ConfigError, Outcome};
use reqwest::Method;
use serde_json::{json, Value};

use super::error::NeuralError;
use crate::http::{ApiCircuitBreaker, ApiOptions, Body, Request, Response};

/// The protocol a model server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteProtocol {
    /// Open Inference Protocol v2 (`POST /v2/models/{m}[/versions/{v}]/infer`).
    V2,
    /// TensorFlow Serving REST (`POST /v1/models/{m}[/versions/{v}]:predict`).
    TfServing,
}

/// Where and how to reach a remote model.
#[derive(Debug, Clone)]
pub struct RemoteOptions {
    /// Base URL of the server (`http://127.0.0.1:8000`).
    pub endpoint: String,
    /// The protocol it speaks.
    pub protocol: RemoteProtocol,
    /// The model's name on the server.
    pub model: String,
    /// A model version, if the server should not pick the latest.
    pub version: Option<String>,
    /// Extra request headers (authorization, say; never shown in errors).
    pub headers: Vec<(String, String)>,
    /// How long a connection attempt may take (default 5 s; an overrun is `ERR_HTTP_CONNECT`).
    pub connect_timeout: Duration,
    /// Whether `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY` and `NO_PROXY` apply (default `true`).
    pub proxy_from_env: bool,
}

impl RemoteOptions {
    /// Checks every field against its range: a model name and version that are not empty, a
    /// positive connect timeout.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.model.is_empty() {
            return Err(ConfigError::invalid_value(
                "model",
                "a non-empty string",
                "''",
            ));
        }
        if self.version.as_deref() == Some("") {
            return Err(ConfigError::invalid_value(
                "version",
                "a non-empty string",
                "''",
            ));
        }
        validate_duration("connect_timeout", self.connect_timeout)
    }

    /// `model` on the server at `endpoint` speaking `protocol`; the latest version, no extra
    /// headers, the HTTP layer's connect timeout, proxies from the environment.
    ///
    /// ```
    /// use neural_trader_clients::neural::{RemoteOptions, RemoteProtocol};
    ///
    /// let mut remote = RemoteOptions::new("http://127.0.0.1:8000", RemoteProtocol::V2, "price");
    /// remote.version = Some("3".into());
    /// ```
    pub fn new(
        endpoint: impl Into<String>,
        protocol: RemoteProtocol,
        model: impl Into<String>,
    ) -> Self {
        Self {
            endpoint: endpoint.into(),
            protocol,
            model: model.into(),
            version: None,
            headers: Vec::new(),
            connect_timeout: crate::http::DEFAULT_CONNECT_TIMEOUT,
            proxy_from_env: true,
        }
    }
}

/// A remote model reached through the HTTP layer.
#[derive(Debug)]
pub struct RemoteModel {
    api: ApiCircuitBreaker,
    protocol: RemoteProtocol,
    model_path: String,
}

fn segment(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

impl RemoteModel {
    pub(crate) fn new(
        breaker: Arc<CircuitBreaker>,
        options: RemoteOptions,
    ) -> Result<Self, NeuralError> {
        if options.model.is_empty() || options.version.as_deref() == Some("") {
            return Err(NeuralError::InvalidOption(
                "the remote model name and version must not be empty".into(),
            ));
        }
        let mut endpoint = options.endpoint.clone();
        if !endpoint.ends_with('/') {
            endpoint.push('/');
        }
        let api = ApiCircuitBreaker::with_breaker(
            breaker,
            ApiOptions {
                base_url: Some(endpoint),
                headers: options.headers.clone(),
                connect_timeout: options.connect_timeout,
                proxy_from_env: options.proxy_from_env,
                ..ApiOptions::default()
            },
        )
        .map_err(NeuralError::Remote)?;
        let version = options
            .version
            .as_deref()
            .map(|v| format!("/versions/{}", segment(v)))
            .unwrap_or_default();
        let model_path = match options.protocol {
            RemoteProtocol::V2 => format!("v2/models/{}{version}", segment(&options.model)),
            RemoteProtocol::TfServing => format!("v1/models/{}{version}", segment(&options.model)),
        };
        Ok(Self {
            api,
            protocol: options.protocol,
            model_path,
        })
    }

    /// The protocol spoken.
    pub fn protocol(&self) -> RemoteProtocol {
        self.protocol
    }

    /// Closes the HTTP client (see [`ApiCircuitBreaker::close`]).
    pub async fn close(&self) {
        self.api.close().await;
    }

    pub(crate) async fn predict(
        &self,
        features: Vec<f64>,
        timeout: Duration,
    ) -> Result<Vec<f64>, NeuralError> {
        if features.is_empty() || features.iter().any(|v| !v.is_finite()) {
            return Err(NeuralError::InvalidInput(
                "features must be a non-empty list of finite numbers".into(),
            ));
        }
        let (path, body) = match self.protocol {
            RemoteProtocol::V2 => (
                format!("{}/infer", self.model_path),
                json!({ "inputs": [{
                    "name": "input",
                    "shape": [1, features.len()],
                    "datatype": "FP64",
                    "data": features,
                }] }),
            ),
            RemoteProtocol::TfServing => (
                format!("{}:predict", self.model_path),
                json!({ "instances": [features] }),
            ),
        };
        let request = Request::new(Method::POST, path)
            .body(Body::json(&body).map_err(NeuralError::Remote)?)
            .timeout(timeout);
        let protocol = self.protocol;
        self.api
            .request_with(
                request,
                move |response| parse_prediction(protocol, &response),
                |result: &Result<Vec<f64>, NeuralError>| match result {
                    Ok(_) => Outcome::Success,
                    Err(e) => e.outcome(),
                },
            )
            .await
    }
}

/// Reads the first output of one instance, refusing NaN and infinities (which TF Serving may
/// write as bare `NaN` / `Infinity` tokens).
fn parse_prediction(
    protocol: RemoteProtocol,
    response: &Response,
) -> Result<Vec<f64>, NeuralError> {
    let text = String::from_utf8_lossy(&response.body);
    let (clean, had_non_finite) = replace_non_finite_tokens(&text);
    if had_non_finite {
        return Err(NeuralError::NonFinite(
            "the model server answered NaN or an infinite value".into(),
        ));
    }
    let value: Value = serde_json::from_str(&clean)
        .map_err(|e| NeuralError::BadResponse(format!("the answer is not JSON: {e}")))?;
    let numbers = match protocol {
        RemoteProtocol::V2 => {
            let output = value
                .get("outputs")
                .and_then(Value::as_array)
                .and_then(|o| o.first())
                .ok_or_else(|| NeuralError::BadResponse("the answer has no `outputs`".into()))?;
            let data = output
                .get("data")
                .and_then(Value::as_array)
                .ok_or_else(|| NeuralError::BadResponse("the output has no `data`".into()))?;
            if let Some(shape) = output.get("shape").and_then(Value::as_array) {
                let size: Option<u64> = shape.iter().map(Value::as_u64).product();
                if size != Some(data.len() as u64) {
                    return Err(NeuralError::BadResponse(
                        "the output's shape does not match its data".into(),
                    ));
                }
            }
            data.clone()
        }
        RemoteProtocol::TfServing => {
            let first = value
                .get("predictions")
                .or_else(|| value.get("outputs"))
                .and_then(Value::as_array)
                .and_then(|p| p.first())
                .ok_or_else(|| {
                    NeuralError::BadResponse("the answer has no `predictions`".into())
                })?;
            match first {
                Value::Array(items) => items.clone(),
                other => vec![other.clone()],
            }
        }
    };
    numbers
        .iter()
        .map(|v| {
            v.as_f64()
                .ok_or_else(|| NeuralError::BadResponse("an output is not a number".into()))
        })
        .collect::<Result<Vec<f64>, _>>()
        .and_then(|values| {
            if values.is_empty() {
                Err(NeuralError::BadResponse("the output is empty".into()))
            } else {
                Ok(values)
            }
        })
}

/// Replaces the bare tokens `NaN`, `Infinity` and `-Infinity` outside strings with `null`, and
/// says whether there were any.
fn replace_non_finite_tokens(text: &str) -> (String, bool) {
    let mut out = String::with_capacity(text.len());
    let mut found = false;
    let mut in_string = false;
    let mut escaped = false;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            rest = &rest[c.len_utf8()..];
            continue;
        }
        if c == '"' {
            in_string = true;
        }
        let token = ["-Infinity", "Infinity", "NaN"]
            .into_iter()
            .find(|t| rest.starts_with(t));
        if let Some(token) = token {
            out.push_str("null");
            found = true;
            rest = &rest[token.len()..];
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    (out, found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_non_finite_tokens_are_found_outside_strings_only() {
        let (clean, found) = replace_non_finite_tokens(r#"{"predictions": [NaN, -Infinity, 1.5]}"#);
        assert!(found);
        assert_eq!(clean, r#"{"predictions": [null, null, 1.5]}"#);
        let (clean, found) = replace_non_finite_tokens(r#"{"name": "NaN \"Infinity\""}"#);
        assert!(!found);
        assert_eq!(clean, r#"{"name": "NaN \"Infinity\""}"#);
    }

    #[test]
    fn model_names_are_one_path_segment() {
        assert_eq!(segment("a b/c"), "a%20b%2Fc");
    }
}
