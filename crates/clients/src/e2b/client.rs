//! `E2BSandboxCircuitBreaker`: E2B's control plane and the sandboxes' code interpreters behind
//! one breaker, over one HTTP client.

use std::fmt;
use std::sync::Arc;

use neural_trader_resilience::{CircuitBreaker, CircuitBreakerMetrics, Outcome};
use reqwest::header::HeaderValue;
use url::Url;

use super::access::AccessMap;
use super::error::E2BError;
use super::options::E2BOptions;
use crate::http::{ApiCircuitBreaker, ApiError, ApiOptions, Method, Request, Response};
use crate::redact::redact_url_str;

/// The longest sandbox id accepted (E2B's are about 20 characters).
const MAX_SANDBOX_ID_LEN: usize = 128;

/// E2B sandboxes behind a circuit breaker: create, run code, stop, list, over E2B's REST
/// protocol (`https://api.e2b.app` and each sandbox's code interpreter on port 49999).
///
/// Connection errors, timeouts, 5xx and 429 count against E2B (a 429's `Retry-After` keeps the
/// circuit open at least that long); 400, 401, 404, 409, a sandbox that is gone and exceptions
/// in the user's code do not. The API key goes in `X-API-Key` to the control plane only; a
/// sandbox's interpreter gets the sandbox's own access tokens.
///
/// ```no_run
/// use neural_trader_clients::e2b::E2BSandboxCircuitBreaker;
///
/// # async fn run() -> Result<(), neural_trader_clients::e2b::E2BError> {
/// let sandbox_cb = E2BSandboxCircuitBreaker::new(); // E2B_API_KEY, E2B_DOMAIN, E2B_API_URL
///
/// let sandbox_id = sandbox_cb.create_sandbox("code-interpreter-v1").await?;
/// let result = sandbox_cb.execute_code(&sandbox_id, "print('hello')").await?;
/// assert_eq!(result.stdout, ["hello\n"]);
/// sandbox_cb.stop_sandbox(&sandbox_id).await?;
/// # Ok(()) }
/// ```
pub struct E2BSandboxCircuitBreaker {
    pub(crate) api: ApiCircuitBreaker,
    api_key: Option<String>,
    pub(crate) domain: String,
    pub(crate) sandbox_url: Option<Url>,
    pub(crate) access: AccessMap,
}

impl fmt::Debug for E2BSandboxCircuitBreaker {
    /// Whether there is an API key, never the key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("E2BSandboxCircuitBreaker")
            .field("api", &self.api)
            .field("configured", &self.configured())
            .field("domain", &self.domain)
            .field(
                "sandbox_url",
                &self
                    .sandbox_url
                    .as_ref()
                    .map(|u| redact_url_str(u.as_str())),
            )
            .field("known_sandboxes", &self.access.len())
            .finish()
    }
}

impl Default for E2BSandboxCircuitBreaker {
    fn default() -> Self {
        Self::new()
    }
}

impl E2BSandboxCircuitBreaker {
    /// A client configured from the environment as the E2B SDKs are (`E2B_API_KEY`,
    /// `E2B_DOMAIN`, `E2B_API_URL`, `E2B_SANDBOX_URL`; see [`E2BOptions::from_env`]), behind a
    /// breaker named `e2b_sandbox` (failure_threshold 3, success_threshold 2, timeout 60 s,
    /// reset_timeout 120 s). Without an API key it is created, and every call fails with
    /// `ERR_E2B_NO_API_KEY`.
    ///
    /// # Panics
    ///
    /// If `E2B_API_URL`, `E2B_SANDBOX_URL` or `E2B_DOMAIN` is malformed, or the TLS backend
    /// cannot be initialised; [`E2BSandboxCircuitBreaker::with_options`] with
    /// [`E2BOptions::from_env`] returns that as an error instead.
    pub fn new() -> Self {
        match Self::with_options(E2BOptions::from_env()) {
            Ok(client) => client,
            Err(e) => panic!("cannot create the E2B client: {e}"),
        }
    }

    /// A client with `options`, behind a new breaker named `options.name`. Fails with
    /// `ERR_INVALID_URL` (`api_url`, `sandbox_url`), `ERR_INVALID_ARG_VALUE` (the domain, an API
    /// key that is not a valid header value, an empty name) or the code of an out-of-range
    /// breaker setting.
    pub fn with_options(options: E2BOptions) -> Result<Self, E2BError> {
        let breaker = CircuitBreaker::try_new(options.name.as_str(), options.breaker)
            .map_err(ApiError::from)?;
        Self::with_breaker(Arc::new(breaker), options)
    }

    /// A client behind an existing breaker (one from a registry, say). `options.name` and
    /// `options.breaker` are not used; the breaker's own timeout is each request's deadline.
    pub fn with_breaker(
        breaker: Arc<CircuitBreaker>,
        options: E2BOptions,
    ) -> Result<Self, E2BError> {
        options.validate().map_err(ApiError::from)?;
        let api_key = options.api_key.clone().filter(|k| !k.is_empty());
        if let Some(key) = &api_key {
            if HeaderValue::from_str(key).is_err() {
                return Err(E2BError::invalid_argument(
                    "the E2B API key is not a valid HTTP header value \
                     (control characters or non-ASCII text)",
                ));
            }
        }
        check_domain(&options.domain)?;
        let sandbox_url = options
            .sandbox_url
            .as_deref()
            .map(parse_sandbox_url)
            .transpose()?;
        let mut api_url = options.resolved_api_url();
        if !api_url.ends_with('/') {
            api_url.push('/');
        }
        let api = ApiCircuitBreaker::with_breaker(
            breaker,
            ApiOptions {
                base_url: Some(api_url),
                // No default headers: the API key is added to control-plane requests only, so
                // that it never reaches a sandbox.
                headers: Vec::new(),
                breaker: options.breaker,
                connect_timeout: options.connect_timeout,
                max_retry_after: options.max_retry_after,
                proxy_from_env: options.proxy_from_env,
                ..ApiOptions::default()
            },
        )?;
        Ok(Self {
            api,
            api_key,
            domain: options.domain,
            sandbox_url,
            access: AccessMap::new(),
        })
    }

    /// Whether an API key is set (calls can be made).
    pub fn configured(&self) -> bool {
        self.api_key.is_some()
    }

    /// The breaker's name.
    pub fn name(&self) -> &str {
        self.api.name()
    }

    /// The breaker, for its metrics and state (or to share it).
    pub fn breaker(&self) -> Arc<CircuitBreaker> {
        self.api.breaker()
    }

    /// The state: `CLOSED`, `OPEN` or `HALF_OPEN`.
    pub async fn get_state(&self) -> String {
        self.api.get_state().await
    }

    /// A snapshot of the breaker's counters.
    pub fn metrics(&self) -> CircuitBreakerMetrics {
        self.api.metrics()
    }

    /// Closes the HTTP client (see [`ApiCircuitBreaker::close`]): calls in flight and every
    /// later one reject with `ERR_HTTP_CLOSED`, the connection pool is dropped. Idempotent.
    pub async fn close(&self) {
        self.api.close().await;
    }

    /// A control-plane request (`path` relative to the API URL) carrying the API key;
    /// `ERR_E2B_NO_API_KEY` without one.
    pub(crate) fn control(&self, method: Method, path: &str) -> Result<Request, E2BError> {
        let key = self.api_key.as_deref().ok_or(E2BError::NoApiKey)?;
        Ok(Request::new(method, path).header("X-API-Key", key))
    }

    /// `ERR_E2B_NO_API_KEY` without an API key.
    pub(crate) fn require_key(&self) -> Result<(), E2BError> {
        self.api_key.as_ref().map(|_| ()).ok_or(E2BError::NoApiKey)
    }

    /// Sends `request` through the breaker; `parse` reads a response below 400 inside the
    /// permit, and the whole call is classified by [`E2BError::outcome`].
    pub(crate) async fn call<T>(
        &self,
        request: Request,
        parse: impl FnOnce(Response) -> Result<T, E2BError>,
    ) -> Result<T, E2BError> {
        self.api
            .request_with(
                request,
                parse,
                |result: &Result<T, E2BError>| match result {
                    Ok(_) => Outcome::Success,
                    Err(e) => e.outcome(),
                },
            )
            .await
    }
}

/// Refuses a sandbox id that could not be a host name label or a path segment (E2B's ids are
/// letters and digits, older ones with a `-`). The message does not repeat the value.
pub(crate) fn check_sandbox_id(sandbox_id: &str) -> Result<(), E2BError> {
    let valid = !sandbox_id.is_empty()
        && sandbox_id.len() <= MAX_SANDBOX_ID_LEN
        && sandbox_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if valid {
        Ok(())
    } else {
        Err(E2BError::invalid_argument(format!(
            "the sandbox id must be 1 to {MAX_SANDBOX_ID_LEN} letters, digits or '-'"
        )))
    }
}

fn check_domain(domain: &str) -> Result<(), E2BError> {
    let valid = !domain.is_empty()
        && domain.len() <= 253
        && !domain.starts_with(['.', '-'])
        && !domain.ends_with('.')
        && domain
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    if valid {
        Ok(())
    } else {
        Err(E2BError::invalid_argument(
            "the E2B domain must be a host name such as 'e2b.app'",
        ))
    }
}

fn parse_sandbox_url(text: &str) -> Result<Url, E2BError> {
    let invalid = |why: &str| {
        E2BError::Api(ApiError::InvalidUrl {
            message: format!("the sandbox URL {} is not {why}", redact_url_str(text)),
        })
    };
    let mut url = Url::parse(text).map_err(|_| invalid("a valid absolute URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(invalid("an http: or https: URL"));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sandbox_ids_are_host_labels() {
        for good in ["i7x8h2k4m9q1w3e5r6t0", "abc-123", "A1"] {
            assert!(check_sandbox_id(good).is_ok(), "{good}");
        }
        for bad in ["", "a/b", "a.b", "a b", "x?y", &"a".repeat(129)] {
            let err = check_sandbox_id(bad).unwrap_err();
            assert_eq!(err.code(), "ERR_INVALID_ARG_VALUE", "{bad}");
        }
    }

    #[test]
    fn options_are_checked() {
        let bad_domain = E2BOptions {
            domain: "e2b.app/evil".into(),
            ..E2BOptions::default()
        };
        assert_eq!(
            E2BSandboxCircuitBreaker::with_options(bad_domain)
                .unwrap_err()
                .code(),
            "ERR_INVALID_ARG_VALUE"
        );
        let bad_key = E2BOptions {
            api_key: Some("e2b_\nsecret".into()),
            ..E2BOptions::default()
        };
        let err = E2BSandboxCircuitBreaker::with_options(bad_key).unwrap_err();
        assert_eq!(err.code(), "ERR_INVALID_ARG_VALUE");
        assert!(!err.to_string().contains("secret"));
        let bad_url = E2BOptions {
            sandbox_url: Some("ftp://u:pw-77@example.test".into()),
            ..E2BOptions::default()
        };
        let err = E2BSandboxCircuitBreaker::with_options(bad_url).unwrap_err();
        assert_eq!(err.code(), "ERR_INVALID_URL");
        assert!(!err.to_string().contains("pw-77"), "{err}");
        let bad_api = E2BOptions {
            api_url: Some("not a url".into()),
            ..E2BOptions::default()
        };
        assert_eq!(
            E2BSandboxCircuitBreaker::with_options(bad_api)
                .unwrap_err()
                .code(),
            "ERR_INVALID_URL"
        );
    }

    #[test]
    fn sandbox_urls_become_bases() {
        let url = parse_sandbox_url("http://127.0.0.1:9/proxy?x=1").unwrap();
        assert_eq!(
            url.join("execute").unwrap().as_str(),
            "http://127.0.0.1:9/proxy/execute"
        );
    }

    #[test]
    fn without_a_key_nothing_is_sent() {
        let e2b = E2BSandboxCircuitBreaker::with_options(E2BOptions::default()).unwrap();
        assert!(!e2b.configured());
        assert_eq!(
            e2b.control(Method::GET, "v2/sandboxes").unwrap_err().code(),
            "ERR_E2B_NO_API_KEY"
        );
    }
}
