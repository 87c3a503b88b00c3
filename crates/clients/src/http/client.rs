//! `ApiCircuitBreaker`: an HTTP/JSON client behind its own circuit breaker.

use std::fmt;
use std::sync::Arc;

use neural_trader_resilience::{CallError, CircuitBreaker, CircuitBreakerMetrics, Outcome};
use reqwest::header::HeaderMap;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Serialize;
use url::Url;

use super::classify::outcome_of;
use super::error::ApiError;
use super::headers::parse_headers;
use super::options::ApiOptions;
use super::policy::Policy;
use super::pool::{unless_closed, Pool};
use super::request::{decode_json, Body, Request, Response};
use super::target::{parse_base_url, prepare};
use super::transport::{exchange, Limits};
use crate::redact::redact_url;

/// An HTTP/JSON client whose every request goes through one circuit breaker.
///
/// Connection errors, timeouts, 5xx, 408 and 429 count against the service (a 429 or 503 with
/// `Retry-After` keeps an open circuit open at least that long); other 4xx reject with
/// [`ApiError::Status`] but do not move the circuit. One pooled reqwest client (rustls,
/// keep-alive) per breaker.
///
/// ```no_run
/// use neural_trader_clients::http::ApiCircuitBreaker;
///
/// # #[derive(serde::Deserialize)] struct MarketData {}
/// # #[derive(serde::Serialize)] struct OrderRequest {}
/// # #[derive(serde::Deserialize)] struct OrderResponse {}
/// # async fn run(order_request: OrderRequest) -> anyhow::Result<()> {
/// let api_cb = ApiCircuitBreaker::new("market_data_api");
/// let data: MarketData = api_cb.get("https://api.example.com/market/data").await?;
/// let response: OrderResponse = api_cb
///     .post("https://api.example.com/orders", &order_request)
///     .await?;
/// println!("API Circuit State: {}", api_cb.get_state().await);
/// # Ok(()) }
/// ```
pub struct ApiCircuitBreaker {
    breaker: Arc<CircuitBreaker>,
    pool: Pool,
    base_url: Option<Url>,
    headers: HeaderMap,
    policy: Arc<Policy>,
    limits: Limits,
}

impl fmt::Debug for ApiCircuitBreaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiCircuitBreaker")
            .field("breaker", &self.breaker)
            .field("base_url", &self.base_url.as_ref().map(redact_url))
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl ApiCircuitBreaker {
    /// A client with the default options (no base URL; failure_threshold 5, success_threshold
    /// 2, reset_timeout 30 s; 10 s per request).
    ///
    /// # Panics
    ///
    /// If the TLS backend cannot be initialised, as `reqwest::Client::new` does; use
    /// [`ApiCircuitBreaker::with_options`] to get that as an error.
    pub fn new(name: &str) -> Self {
        match Self::with_options(name, ApiOptions::default()) {
            Ok(client) => client,
            Err(e) => panic!("cannot create the HTTP client of '{name}': {e}"),
        }
    }

    /// A client with `options`, behind a new breaker named `name`. Fails with
    /// `ERR_INVALID_URL` (base URL), `ERR_INVALID_ARG_VALUE` (a header, an empty name) or the
    /// code of an out-of-range breaker setting.
    pub fn with_options(name: &str, options: ApiOptions) -> Result<Self, ApiError> {
        let breaker = CircuitBreaker::try_new(name, options.breaker)?;
        Self::with_breaker(Arc::new(breaker), options)
    }

    /// A client behind an existing breaker (one from a registry, say, so that several clients
    /// or worker threads share it). `options.breaker` is not used; the breaker's own timeout is
    /// the deadline of each request.
    pub fn with_breaker(
        breaker: Arc<CircuitBreaker>,
        options: ApiOptions,
    ) -> Result<Self, ApiError> {
        options.validate()?;
        let base_url = options
            .base_url
            .as_deref()
            .map(parse_base_url)
            .transpose()?;
        let headers = parse_headers(&options.headers)?;
        let mut builder = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout)
            // Followed by hand in `transport`, so that credentials never cross origins.
            .redirect(reqwest::redirect::Policy::none());
        if !options.proxy_from_env {
            builder = builder.no_proxy();
        }
        let client = builder.build().map_err(|e| {
            ApiError::invalid_argument(format!(
                "the HTTP client cannot be created: {}",
                std::error::Error::source(&e)
                    .map_or_else(|| "TLS backend".to_string(), |s| s.to_string())
            ))
        })?;
        Ok(Self {
            breaker,
            pool: Pool::new(client),
            base_url,
            headers,
            policy: Arc::new(Policy::new(
                &options.safe_query_params,
                &options.secret_headers,
            )),
            limits: Limits {
                max_retry_after: options.max_retry_after,
                max_response_bytes: options.max_response_bytes,
            },
        })
    }

    /// The breaker's name.
    pub fn name(&self) -> &str {
        self.breaker.name()
    }

    /// The breaker, for its metrics and state (or to share it).
    pub fn breaker(&self) -> Arc<CircuitBreaker> {
        Arc::clone(&self.breaker)
    }

    /// The state: `CLOSED`, `OPEN` or `HALF_OPEN`.
    pub async fn get_state(&self) -> String {
        self.breaker.get_state().await
    }

    /// A snapshot of the breaker's counters.
    pub fn metrics(&self) -> CircuitBreakerMetrics {
        self.breaker.metrics()
    }

    /// Sends `request` through the breaker and reads the whole response.
    ///
    /// A bad URL, header or body is refused before the breaker is asked (not counted). Then:
    /// `ERR_CIRCUIT_OPEN` without sending; `ERR_CIRCUIT_TIMEOUT` when the exchange, body
    /// included, outlives the request's deadline; `ERR_HTTP_CONNECT` / `ERR_HTTP_IO` /
    /// `ERR_HTTP_REDIRECT` when it fails; [`ApiError::Status`] from status 400.
    pub async fn request(&self, request: Request) -> Result<Response, ApiError> {
        let timeout = request.timeout;
        let prepared = prepare(self.base_url.as_ref(), &self.headers, &self.policy, request)?;
        let (client, closed) = self.pool.open(self.name())?;
        let limits = self.limits;
        let name = self.name();
        let work = async move { exchange(&client, prepared, &limits).await };
        self.breaker
            .execute_with(unless_closed(work, closed, name), timeout, outcome_of)
            .await
            .map_err(|e| match e {
                CallError::Breaker(e) => ApiError::Circuit(e),
                CallError::Operation(e) => e,
            })
    }

    /// Sends `request` through the breaker like [`ApiCircuitBreaker::request`], then turns the
    /// response into a `T` with `parse` and decides what the whole call means for the circuit
    /// with `classify`, both inside the breaker's permit and deadline. This is the HTTP layer
    /// other clients build on (E2B, remote models): they keep this client's pool, deadline,
    /// redaction and error codes, and add their own reading of the answer (a NaN in a
    /// well-formed response can then trip the breaker).
    pub async fn request_with<T, E, P, C>(
        &self,
        request: Request,
        parse: P,
        classify: C,
    ) -> Result<T, E>
    where
        E: From<ApiError>,
        P: FnOnce(Response) -> Result<T, E>,
        C: FnOnce(&Result<T, E>) -> Outcome,
    {
        let timeout = request.timeout;
        let prepared = prepare(self.base_url.as_ref(), &self.headers, &self.policy, request)?;
        let (client, closed) = self.pool.open(self.name())?;
        let limits = self.limits;
        let name = self.name();
        let work = async move {
            let response = unless_closed(exchange(&client, prepared, &limits), closed, name);
            parse(response.await?)
        };
        self.breaker
            .execute_with(work, timeout, classify)
            .await
            .map_err(|e| match e {
                CallError::Breaker(e) => E::from(ApiError::Circuit(e)),
                CallError::Operation(e) => e,
            })
    }

    /// Closes the client: every request still in flight stops at once and rejects with
    /// `ERR_HTTP_CLOSED` (not counted against the service), every later one too, and the
    /// connection pool is dropped. Resolves once no request holds the pool any more; the
    /// sockets are then shut by their connection tasks on the runtime, a moment later (nothing
    /// in reqwest reports that moment). Calling it again does nothing.
    ///
    /// Why cancel rather than wait for requests in flight: a request may hang for its whole
    /// deadline (or forever with `Duration::MAX`), and whoever closes is shutting down.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Whether [`Self::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.pool.is_closed()
    }

    /// `GET url`, the body deserialized from JSON (an empty body reads as `null`).
    pub async fn get<T: DeserializeOwned>(&self, url: &str) -> Result<T, ApiError> {
        self.json(Request::new(Method::GET, url)).await
    }

    /// `POST url` with `body` as JSON, the response deserialized from JSON.
    pub async fn post<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        url: &str,
        body: &B,
    ) -> Result<T, ApiError> {
        self.json(Request::new(Method::POST, url).body(Body::json(body)?))
            .await
    }

    /// `PUT url` with `body` as JSON, the response deserialized from JSON.
    pub async fn put<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        url: &str,
        body: &B,
    ) -> Result<T, ApiError> {
        self.json(Request::new(Method::PUT, url).body(Body::json(body)?))
            .await
    }

    /// `DELETE url`, the response deserialized from JSON (`()` or `Option<T>` for a 204).
    pub async fn delete<T: DeserializeOwned>(&self, url: &str) -> Result<T, ApiError> {
        self.json(Request::new(Method::DELETE, url)).await
    }

    /// Sends `request` and deserializes the response body. A body that does not decode is
    /// `ERR_HTTP_DECODE`; the exchange itself was already counted as a success.
    pub async fn json<T: DeserializeOwned>(&self, request: Request) -> Result<T, ApiError> {
        let response = self.request(request).await?;
        decode_json(&response.body)
    }
}
