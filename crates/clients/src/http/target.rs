//! Turns a [`Request`] into what is sent: the absolute URL without its userinfo, the headers
//! (with Basic authentication from the userinfo), the body, and the request's secrets, so that
//! no message about this request can show them.
//!
//! Everything here is checked before the breaker is asked: a bad URL or header is the caller's
//! mistake and is never counted against the service.

use std::sync::Arc;

use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use url::Url;

use super::error::ApiError;
use super::headers::{basic_auth, parse_headers, secret_values};
use super::policy::Policy;
use super::request::Request;
use crate::redact::{redact_url, redact_url_str, scrub};

/// A request ready to be sent, and how to talk about it.
pub(crate) struct Prepared {
    /// What reqwest sends.
    pub(crate) request: reqwest::Request,
    /// The context of every message about it.
    pub(crate) context: Context,
}

/// What messages about one request may say: its method and redacted URL, and the secrets they
/// must never contain.
#[derive(Debug, Clone)]
pub(crate) struct Context {
    pub(crate) method: reqwest::Method,
    /// The URL as sent (no userinfo), to be replaced by `shown` in third-party messages.
    pub(crate) sent_url: String,
    /// The URL with secrets masked.
    pub(crate) shown: String,
    secrets: Vec<String>,
    /// The user's secrets policy (for the URLs of redirects).
    pub(crate) policy: Arc<Policy>,
}

impl Context {
    /// `text` (a third-party error message) with this request's URL redacted and its secrets
    /// removed.
    pub(crate) fn clean(&self, text: &str) -> String {
        let text = text.replace(&self.sent_url, &self.shown);
        let secrets: Vec<&str> = self.secrets.iter().map(String::as_str).collect();
        scrub(&text, &secrets)
    }

    /// `"<METHOD> <redacted url>"`.
    pub(crate) fn describe(&self) -> String {
        format!("{} {}", self.method, self.shown)
    }
}

/// Parses the client's base URL: absolute, `http:` or `https:`.
pub(crate) fn parse_base_url(text: &str) -> Result<Url, ApiError> {
    let url = Url::parse(text).map_err(|e| {
        ApiError::invalid_url(format!(
            "the base URL {} is not a valid absolute URL ({e})",
            redact_url_str(text)
        ))
    })?;
    check_scheme(&url)?;
    if url.cannot_be_a_base() {
        return Err(ApiError::invalid_url(format!(
            "the base URL {} cannot be a base",
            redact_url(&url)
        )));
    }
    Ok(url)
}

fn check_scheme(url: &Url) -> Result<(), ApiError> {
    match url.scheme() {
        "http" | "https" => Ok(()),
        other => Err(ApiError::invalid_url(format!(
            "unsupported URL scheme '{other}:' in {} (expected http: or https:)",
            redact_url(url)
        ))),
    }
}

/// Resolves `text` against `base` (or parses it as absolute when there is none).
pub(crate) fn resolve_url(base: Option<&Url>, text: &str) -> Result<Url, ApiError> {
    let parsed = match base {
        Some(base) => base.join(text),
        None => Url::parse(text),
    };
    let url = parsed.map_err(|e| {
        let hint = match (e, base) {
            (url::ParseError::RelativeUrlWithoutBase, None) => {
                " (a relative URL needs the baseUrl option)".to_string()
            }
            (e, _) => format!(" ({e})"),
        };
        ApiError::invalid_url(format!("{} is not a valid URL{hint}", redact_url_str(text)))
    })?;
    check_scheme(&url)?;
    Ok(url)
}

/// The decoded userinfo of `url`, and `url` without it.
fn take_userinfo(url: &mut Url) -> Option<(String, Option<String>)> {
    if url.username().is_empty() && url.password().is_none() {
        return None;
    }
    let user = percent_encoding_decode(url.username());
    let password = url.password().map(percent_encoding_decode);
    let _ = url.set_username("");
    let _ = url.set_password(None);
    Some((user, password))
}

fn percent_encoding_decode(s: &str) -> String {
    // `url` keeps userinfo percent-encoded; `form_urlencoded` would turn '+' into ' ', so decode
    // by hand.
    let hex = |b: u8| (b as char).to_digit(16);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The secret values of `url`'s query (those `policy` masks).
fn secret_query_values(url: &Url, policy: &Policy) -> Vec<String> {
    let Ok(redacted) = Url::parse(&policy.show(url)) else {
        return Vec::new();
    };
    url.query_pairs()
        .zip(redacted.query_pairs())
        .filter(|((_, original), (_, shown))| original != shown)
        .map(|((_, original), _)| original.into_owned())
        .collect()
}

/// Builds what is sent for `request`: resolves the URL against `base`, appends the query,
/// moves userinfo into Basic authentication (unless an `authorization` header is given, which
/// wins), sets the body's `content-type` unless a header does.
pub(crate) fn prepare(
    base: Option<&Url>,
    defaults: &HeaderMap,
    policy: &Arc<Policy>,
    request: Request,
) -> Result<Prepared, ApiError> {
    let Request {
        method,
        url,
        headers,
        query,
        body,
        timeout: _,
    } = request;
    let mut url = resolve_url(base, &url)?;
    url.set_fragment(None);
    if !query.is_empty() {
        url.query_pairs_mut()
            .extend_pairs(query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    }
    let mut secrets = secret_query_values(&url, policy);
    let userinfo = take_userinfo(&mut url);

    let mut header_map = parse_headers(&headers)?;
    if let Some((user, password)) = userinfo {
        secrets.push(user.clone());
        secrets.extend(password.clone());
        if !header_map.contains_key(AUTHORIZATION) && !defaults.contains_key(AUTHORIZATION) {
            header_map.insert(AUTHORIZATION, basic_auth(&user, password.as_deref()));
        }
    }
    if let Some(content_type) = body.content_type() {
        if !header_map.contains_key(CONTENT_TYPE) && !defaults.contains_key(CONTENT_TYPE) {
            header_map.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        }
    }
    // The client's headers, under the request's own (merged here rather than by reqwest's
    // `default_headers`, which it would add back to a redirected request after
    // `super::redirect` dropped them).
    for name in defaults.keys() {
        if !header_map.contains_key(name) {
            for value in defaults.get_all(name) {
                header_map.append(name.clone(), value.clone());
            }
        }
    }
    secrets.extend(secret_values(&header_map));
    secrets.extend(policy.marked_values(&header_map));
    secrets.retain(|s| s.len() >= 3);

    let context = Context {
        method: method.clone(),
        sent_url: url.to_string(),
        shown: policy.show(&url),
        secrets,
        policy: Arc::clone(policy),
    };
    let mut sent = reqwest::Request::new(method, url);
    *sent.headers_mut() = header_map;
    *sent.body_mut() = body.into_reqwest();
    Ok(Prepared {
        request: sent,
        context,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_urls_resolve_like_the_url_standard() {
        let base = parse_base_url("https://api.example.test/v1/").unwrap();
        let join = |s: &str| resolve_url(Some(&base), s).unwrap().to_string();
        assert_eq!(
            join("quotes/AAPL"),
            "https://api.example.test/v1/quotes/AAPL"
        );
        assert_eq!(join("/health"), "https://api.example.test/health");
        assert_eq!(join("http://other.test/x"), "http://other.test/x");
        assert_eq!(
            resolve_url(None, "/x").unwrap_err().code(),
            "ERR_INVALID_URL"
        );
        assert!(resolve_url(None, "/x")
            .unwrap_err()
            .to_string()
            .contains("baseUrl"));
    }

    #[test]
    fn only_http_and_https() {
        for bad in [
            "ftp://example.test/",
            "file:///etc/passwd",
            "mailto:a@b.test",
        ] {
            assert_eq!(
                resolve_url(None, bad).unwrap_err().code(),
                "ERR_INVALID_URL"
            );
        }
        assert_eq!(
            parse_base_url("ws://example.test").unwrap_err().code(),
            "ERR_INVALID_URL"
        );
        assert_eq!(
            parse_base_url("nope").unwrap_err().code(),
            "ERR_INVALID_URL"
        );
    }

    #[test]
    fn userinfo_becomes_basic_auth_and_is_never_shown() {
        let req = Request::new(
            reqwest::Method::GET,
            "http://alice:p%40ss+word@127.0.0.1:9/x?api_key=k3y&symbol=AAPL#frag",
        );
        let prepared = prepare(None, &HeaderMap::new(), &Arc::default(), req).unwrap();
        let sent = &prepared.request;
        assert_eq!(
            sent.url().as_str(),
            "http://127.0.0.1:9/x?api_key=k3y&symbol=AAPL"
        );
        // base64("alice:p@ss+word")
        assert_eq!(sent.headers()[AUTHORIZATION], "Basic YWxpY2U6cEBzcyt3b3Jk");
        assert!(sent.headers()[AUTHORIZATION].is_sensitive());
        let ctx = &prepared.context;
        assert!(!ctx.shown.contains("k3y") && ctx.shown.contains("symbol=***"));
        let cleaned = ctx.clean("failed http://127.0.0.1:9/x?api_key=k3y&symbol=AAPL p@ss+word");
        assert!(
            !cleaned.contains("k3y") && !cleaned.contains("p@ss+word"),
            "{cleaned}"
        );
    }

    #[test]
    fn an_explicit_authorization_header_wins_over_userinfo() {
        let req = Request::new(reqwest::Method::GET, "http://u:pw1@127.0.0.1/")
            .header("Authorization", "Bearer t0ken");
        let prepared = prepare(None, &HeaderMap::new(), &Arc::default(), req).unwrap();
        assert_eq!(prepared.request.headers()[AUTHORIZATION], "Bearer t0ken");
        assert_eq!(prepared.context.clean("x t0ken pw1"), "x *** ***");
    }
}
