//! Options of an [`super::ApiCircuitBreaker`] and their defaults.

use std::time::Duration;

use neural_trader_resilience::{validate_duration, CircuitBreakerConfig, ConfigError};

use super::classify::DEFAULT_MAX_RETRY_AFTER;

/// The deadline of a request by default (10 s): connect, send, headers and the whole body.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest `max_response_bytes` accepted: 4 GiB (2^32 bytes). A body is read into memory
/// (and then into one JS string or `Buffer`), so a larger limit would only promise what no
/// machine running this can hold; 2^40 used to be accepted and meant no limit at all.
pub const MAX_RESPONSE_BYTES_LIMIT: u64 = 1 << 32;

/// The most names `safe_query_params` and `secret_headers` may each hold.
pub const MAX_NAMES: usize = 1000;

/// How long a connection attempt may take by default (5 s).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The largest response body read by default: 64 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 64 * 1024 * 1024;

/// How an [`super::ApiCircuitBreaker`] talks to its service.
///
/// ```
/// use neural_trader_clients::http::{ApiCircuitBreaker, ApiOptions};
/// use std::time::Duration;
///
/// let mut options = ApiOptions {
///     base_url: Some("https://api.example.test/v1/".into()),
///     headers: vec![("x-api-key".into(), "secret".into())],
///     ..Default::default()
/// };
/// options.breaker.timeout = Duration::from_secs(2); // the deadline of each request
/// options.breaker.failure_threshold = 3;
/// let api = ApiCircuitBreaker::with_options("quotes", options).unwrap();
/// assert_eq!(api.breaker().config().reset_timeout, Duration::from_secs(30));
/// ```
#[derive(Clone)]
pub struct ApiOptions {
    /// The URL relative request URLs resolve against, as `new URL(url, baseUrl)` does: keep a
    /// trailing `/` and use paths without a leading `/` to stay under its path.
    pub base_url: Option<String>,
    /// Headers sent with every request (a request's own headers override them).
    pub headers: Vec<(String, String)>,
    /// The breaker. Its `timeout` is the deadline of each request (default 10 s, enforced by
    /// the breaker, so an overrun is `ERR_CIRCUIT_TIMEOUT` and counts as a failure); the other
    /// defaults are failure_threshold 5, success_threshold 2 and reset_timeout 30 s.
    pub breaker: CircuitBreakerConfig,
    /// How long a connection attempt may take (default 5 s; an overrun is `ERR_HTTP_CONNECT`).
    pub connect_timeout: Duration,
    /// The longest `Retry-After` honoured (default one hour; longer ones are capped).
    pub max_retry_after: Duration,
    /// The largest response body read, in bytes (default [`DEFAULT_MAX_RESPONSE_BYTES`]); a
    /// larger one is `ERR_HTTP_BODY_TOO_LARGE`.
    pub max_response_bytes: u64,
    /// Whether `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY` and `NO_PROXY` from the environment
    /// apply (default `true`, as in reqwest and curl; loopback addresses are not exempt unless
    /// `NO_PROXY` says so).
    pub proxy_from_env: bool,
    /// Query parameters whose values errors may show (names compared exactly). Every other
    /// query value is `***` in every message and `url` of an error: an allow-list, because a
    /// list of secret-looking names always misses one (see `crate::redact`).
    pub safe_query_params: Vec<String>,
    /// Headers, besides the credential-like ones, that must not follow a redirect to another
    /// origin and whose values are never shown (see `super::redirect`). Case-insensitive.
    pub secret_headers: Vec<String>,
}

impl ApiOptions {
    /// The breaker configuration of an API client by default.
    pub fn default_breaker_config() -> CircuitBreakerConfig {
        CircuitBreakerConfig {
            failure_threshold: 5,
            success_threshold: 2,
            timeout: DEFAULT_TIMEOUT,
            reset_timeout: Duration::from_secs(30),
            half_open_max_calls: None,
            stack_trace: true,
        }
    }
}

impl ApiOptions {
    /// Checks every field but `breaker` (checked when the breaker is made) against its range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        validate_duration("connect_timeout", self.connect_timeout)?;
        validate_duration("max_retry_after", self.max_retry_after)?;
        if !(1..=MAX_RESPONSE_BYTES_LIMIT).contains(&self.max_response_bytes) {
            return Err(ConfigError::out_of_range(
                "max_response_bytes",
                format!("an integer >= 1 and <= {MAX_RESPONSE_BYTES_LIMIT}"),
                self.max_response_bytes.to_string(),
            ));
        }
        for (field, names) in [
            ("safe_query_params", &self.safe_query_params),
            ("secret_headers", &self.secret_headers),
        ] {
            if names.len() > MAX_NAMES {
                return Err(ConfigError::out_of_range(
                    field,
                    format!("a list of at most {MAX_NAMES} names"),
                    names.len().to_string(),
                ));
            }
        }
        if let Some(bad) = self
            .secret_headers
            .iter()
            .find(|n| reqwest::header::HeaderName::from_bytes(n.as_bytes()).is_err())
        {
            return Err(ConfigError::invalid_value(
                "secret_headers",
                "a list of valid HTTP header names",
                format!("{:?}", bad.chars().take(64).collect::<String>()),
            ));
        }
        Ok(())
    }
}

impl Default for ApiOptions {
    fn default() -> Self {
        Self {
            base_url: None,
            headers: Vec::new(),
            breaker: Self::default_breaker_config(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            max_retry_after: DEFAULT_MAX_RETRY_AFTER,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            proxy_from_env: true,
            safe_query_params: Vec::new(),
            secret_headers: Vec::new(),
        }
    }
}

impl std::fmt::Debug for ApiOptions {
    /// The base URL redacted and header names only: options may carry credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("ApiOptions")
            .field(
                "base_url",
                &self.base_url.as_deref().map(crate::redact::redact_url_str),
            )
            .field("headers", &names)
            .field("breaker", &self.breaker)
            .field("connect_timeout", &self.connect_timeout)
            .field("max_retry_after", &self.max_retry_after)
            .field("proxy_from_env", &self.proxy_from_env)
            .field("safe_query_params", &self.safe_query_params)
            .field("secret_headers", &self.secret_headers)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_design() {
        let o = ApiOptions::default();
        assert_eq!(o.breaker.failure_threshold, 5);
        assert_eq!(o.breaker.success_threshold, 2);
        assert_eq!(o.breaker.reset_timeout, Duration::from_secs(30));
        assert_eq!(o.breaker.timeout, Duration::from_secs(10));
        assert!(o.proxy_from_env);
    }

    #[test]
    fn debug_hides_credentials() {
        let o = ApiOptions {
            base_url: Some("https://u:pw-123@example.test/".into()),
            headers: vec![("authorization".into(), "Bearer tok-456".into())],
            ..Default::default()
        };
        let shown = format!("{o:?}");
        assert!(
            !shown.contains("pw-123") && !shown.contains("tok-456"),
            "{shown}"
        );
    }
}
