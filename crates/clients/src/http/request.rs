//! A request as the caller describes it, and the response as it comes back.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{HeaderMap, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::error::ApiError;
use crate::redact::redact_url_str;

/// One HTTP request. `url` is absolute, or relative to the client's base URL.
///
/// ```
/// use neural_trader_clients::http::{Body, Request};
/// use std::time::Duration;
///
/// let req = Request::new(reqwest::Method::POST, "/v1/orders")
///     .header("idempotency-key", "order-42")
///     .query("dry_run", "true")
///     .body(Body::json(&serde_json::json!({ "symbol": "AAPL", "qty": 10 })).unwrap())
///     .timeout(Duration::from_secs(2));
/// assert_eq!(req.method, reqwest::Method::POST);
/// ```
#[derive(Clone)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// Absolute, or relative to the base URL (resolved as `new URL(url, baseUrl)` would).
    /// Userinfo (`user:password@`) is sent as Basic authentication, never shown.
    pub url: String,
    /// Headers, added to (and overriding) the client's default headers.
    pub headers: Vec<(String, String)>,
    /// Query parameters, appended to the URL's own.
    pub query: Vec<(String, String)>,
    /// The body.
    pub body: Body,
    /// The deadline of the whole exchange (connect, send, headers and body); `None`: the
    /// client's. [`Duration::MAX`] disables it.
    pub timeout: Option<Duration>,
}

impl Request {
    /// A request with no header, query, body or own timeout.
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        Self {
            method,
            url: url.into(),
            headers: Vec::new(),
            query: Vec::new(),
            body: Body::Empty,
            timeout: None,
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Adds a query parameter.
    pub fn query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: Body) -> Self {
        self.body = body;
        self
    }

    /// Sets the deadline of this request.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
}

impl fmt::Debug for Request {
    /// Header values are not shown and the URL is redacted: a `Request` may carry credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("url", &redact_url_str(&self.url))
            .field("headers", &names)
            .field("query", &self.query.len())
            .field("body", &self.body)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A request body. Its kind sets the `content-type` unless a header does.
#[derive(Clone, Default)]
pub enum Body {
    /// No body.
    #[default]
    Empty,
    /// Serialized JSON (`application/json`).
    Json(Bytes),
    /// Text (`text/plain; charset=utf-8`).
    Text(String),
    /// Bytes (`application/octet-stream`).
    Bytes(Bytes),
}

impl Body {
    /// `value` serialized as JSON; `ERR_INVALID_ARG_VALUE` if it cannot be (a map with
    /// non-string keys, a failing `Serialize` impl).
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<Self, ApiError> {
        serde_json::to_vec(value)
            .map(|v| Body::Json(v.into()))
            .map_err(|e| {
                ApiError::invalid_argument(format!("the body cannot be serialized as JSON: {e}"))
            })
    }

    /// The `content-type` this kind of body implies.
    pub fn content_type(&self) -> Option<&'static str> {
        match self {
            Body::Empty => None,
            Body::Json(_) => Some("application/json"),
            Body::Text(_) => Some("text/plain; charset=utf-8"),
            Body::Bytes(_) => Some("application/octet-stream"),
        }
    }

    pub(crate) fn into_reqwest(self) -> Option<reqwest::Body> {
        match self {
            Body::Empty => None,
            Body::Json(b) | Body::Bytes(b) => Some(b.into()),
            Body::Text(s) => Some(s.into()),
        }
    }

    fn len(&self) -> usize {
        match self {
            Body::Empty => 0,
            Body::Json(b) | Body::Bytes(b) => b.len(),
            Body::Text(s) => s.len(),
        }
    }
}

impl fmt::Debug for Body {
    /// The kind and length only: a body may carry credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self {
            Body::Empty => return f.write_str("Empty"),
            Body::Json(_) => "Json",
            Body::Text(_) => "Text",
            Body::Bytes(_) => "Bytes",
        };
        write!(f, "{kind}({} bytes)", self.len())
    }
}

/// A response with a status below 400 (redirects are followed, up to 10).
#[derive(Debug, Clone)]
pub struct Response {
    /// The status.
    pub status: StatusCode,
    /// The URL that answered (after redirects), secrets masked.
    pub url: String,
    /// The headers.
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
}

impl Response {
    /// The body deserialized from JSON; an empty body reads as `null` (so `()` and `Option<T>`
    /// accept a 204). `ERR_HTTP_DECODE` if it is not JSON of that shape.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        decode_json(&self.body)
    }

    /// The body as text (invalid UTF-8 replaced by U+FFFD).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// What the body is, by its `content-type` (see [`BodyKind`]).
    pub fn body_kind(&self) -> BodyKind {
        body_kind(&self.headers, &self.body)
    }
}

/// `body` deserialized from JSON, an empty body reading as `null`.
pub(crate) fn decode_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let body = if body.is_empty() { b"null" } else { body };
    serde_json::from_slice(body).map_err(|e| ApiError::Decode {
        message: format!("the response body is not the expected JSON: {e}"),
    })
}

/// What a response body is, decided by its `content-type`; the JS binding returns a parsed
/// value, a string or a `Buffer` accordingly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// No body at all.
    Empty,
    /// `application/json` or `*/*+json`.
    Json,
    /// `text/*`, XML, JavaScript, form data, or any type with a `charset`; or no `content-type`
    /// and a body that is valid UTF-8.
    Text,
    /// Anything else (images, `application/octet-stream`, ...).
    Binary,
}

/// What `body` is, by the `content-type` in `headers`.
pub fn body_kind(headers: &HeaderMap, body: &[u8]) -> BodyKind {
    if body.is_empty() {
        return BodyKind::Empty;
    }
    let Some(content_type) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return if std::str::from_utf8(body).is_ok() {
            BodyKind::Text
        } else {
            BodyKind::Binary
        };
    };
    let content_type = content_type.to_ascii_lowercase();
    let (essence, params) = content_type
        .split_once(';')
        .unwrap_or((content_type.as_str(), ""));
    let essence = essence.trim();
    if essence == "application/json" || essence.ends_with("+json") {
        BodyKind::Json
    } else if essence.starts_with("text/")
        || essence.ends_with("/xml")
        || essence.ends_with("+xml")
        || essence == "application/javascript"
        || essence == "application/x-www-form-urlencoded"
        || params.contains("charset=")
    {
        BodyKind::Text
    } else {
        BodyKind::Binary
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn kind(content_type: Option<&str>, body: &[u8]) -> BodyKind {
        let mut headers = HeaderMap::new();
        if let Some(ct) = content_type {
            headers.insert(CONTENT_TYPE, HeaderValue::from_str(ct).unwrap());
        }
        body_kind(&headers, body)
    }

    #[test]
    fn body_kinds_follow_the_content_type() {
        assert_eq!(kind(Some("application/json"), b"{}"), BodyKind::Json);
        assert_eq!(
            kind(Some("Application/JSON; charset=utf-8"), b"1"),
            BodyKind::Json
        );
        assert_eq!(
            kind(Some("application/problem+json"), b"{}"),
            BodyKind::Json
        );
        assert_eq!(kind(Some("text/plain"), b"hi"), BodyKind::Text);
        assert_eq!(kind(Some("application/xml"), b"<a/>"), BodyKind::Text);
        assert_eq!(
            kind(Some("application/vnd.x; charset=utf-8"), b"x"),
            BodyKind::Text
        );
        assert_eq!(
            kind(Some("application/octet-stream"), b"\x00\x01"),
            BodyKind::Binary
        );
        assert_eq!(kind(Some("image/png"), b"x"), BodyKind::Binary);
        assert_eq!(kind(None, b"plain"), BodyKind::Text);
        assert_eq!(kind(None, b"\xff\xfe"), BodyKind::Binary);
        assert_eq!(kind(Some("application/json"), b""), BodyKind::Empty);
    }

    #[test]
    fn json_of_an_empty_body_is_null() {
        assert_eq!(decode_json::<Option<u32>>(b"").unwrap(), None);
        decode_json::<()>(b"").unwrap();
        assert_eq!(decode_json::<u32>(b"42").unwrap(), 42);
        assert_eq!(
            decode_json::<u32>(b"nope").unwrap_err().code(),
            "ERR_HTTP_DECODE"
        );
    }

    #[test]
    fn debug_shows_no_secret() {
        let req = Request::new(
            Method::GET,
            "https://u:hunter22@example.test/?api_key=abc123",
        )
        .header("authorization", "Bearer sekrit-token")
        .body(Body::Text("password=hunter22".into()));
        let shown = format!("{req:?}");
        for secret in ["hunter22", "abc123", "sekrit-token"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("authorization"), "{shown}");
    }
}
