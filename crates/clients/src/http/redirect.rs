//! Redirects, followed by hand (reqwest's own policy is off) so that credentials never reach
//! another origin.
//!
//! Why by hand: reqwest's redirect policy sees only URLs and cannot change headers, and its
//! built-in cleaning on a cross-host redirect removes `Authorization`, `Cookie` and
//! `Proxy-Authorization` only, so `x-api-key` (E2B's `X-API-Key` among them) went to whatever
//! host a `Location` named (issue 9). Here, when the next URL has another origin (scheme, host
//! or port, as browsers and undici compare them), every credential-like header is dropped:
//! `authorization`, `proxy-authorization`, `cookie`, every name containing `key`, `token`,
//! `secret`, `auth`, `credential`, `session`, `signature`, `password` or `cookie`, and the
//! names the user marked (`secret_headers`). A word list is right here (unlike for query values,
//! see `crate::redact`) because a dropped header only costs a re-authentication on the other
//! origin, and the user's list covers what the words miss. Same-origin redirects keep every
//! header. No `Referer` is added (reqwest's would carry the query).
//!
//! The rules otherwise follow fetch: at most [`MAX_REDIRECTS`]; 301/302 turn a POST into a GET
//! and 303 turns anything but HEAD into a GET, without the body; 307/308 resend the same method
//! and body.

use reqwest::header::{
    HeaderMap, HeaderName, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, LOCATION,
    TRANSFER_ENCODING,
};
use reqwest::{Method, StatusCode};
use url::Url;

/// The most redirects one request follows (fetch's limit is 20, reqwest's 10; 10 is kept).
pub const MAX_REDIRECTS: usize = 10;

/// Words that make a header name a credential.
const CREDENTIAL_WORDS: &[&str] = &[
    "key",
    "token",
    "secret",
    "auth",
    "credential",
    "session",
    "signature",
    "password",
    "cookie",
];

/// Whether `a` and `b` have the same origin: scheme, host and port (the scheme's default when
/// none is written).
pub(crate) fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// Whether a header named `name` must not follow a cross-origin redirect: a credential-like
/// name, or one in `marked` (the user's `secret_headers`).
pub fn is_credential_header(name: &HeaderName, marked: &[HeaderName]) -> bool {
    let name_str = name.as_str();
    matches!(name_str, "authorization" | "proxy-authorization" | "cookie")
        || CREDENTIAL_WORDS.iter().any(|w| name_str.contains(w))
        || marked.contains(name)
}

/// Removes every credential header from `headers`.
pub(crate) fn strip_credentials(headers: &mut HeaderMap, marked: &[HeaderName]) {
    let doomed: Vec<HeaderName> = headers
        .keys()
        .filter(|n| is_credential_header(n, marked))
        .cloned()
        .collect();
    for name in doomed {
        headers.remove(name);
    }
}

/// Where a response with `status` and `headers` redirects to, resolved against `current`;
/// `None` if it is not a redirect (no `Location`, or a status that is not 301/302/303/307/308).
/// `Err` with a message when the `Location` is unusable.
pub(crate) fn location(
    status: StatusCode,
    headers: &HeaderMap,
    current: &Url,
) -> Option<Result<Url, &'static str>> {
    if !matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    let value = headers.get(LOCATION)?;
    let Ok(text) = value.to_str() else {
        return Some(Err("the redirect Location is not valid text"));
    };
    Some(match current.join(text) {
        Ok(mut next) if matches!(next.scheme(), "http" | "https") => {
            next.set_fragment(None);
            let _ = next.set_username("");
            let _ = next.set_password(None);
            Ok(next)
        }
        Ok(_) => Err("the redirect Location is not an http: or https: URL"),
        Err(_) => Err("the redirect Location is not a valid URL"),
    })
}

/// The request that follows `previous` (a copy of the request just sent) to `next` after a
/// `status` redirect: method and body per fetch, credentials dropped when the origin changes.
pub(crate) fn follow(
    mut request: reqwest::Request,
    status: StatusCode,
    next: Url,
    marked: &[HeaderName],
) -> reqwest::Request {
    let to_get = match status.as_u16() {
        301 | 302 => *request.method() == Method::POST,
        303 => *request.method() != Method::HEAD,
        _ => false,
    };
    if to_get {
        *request.method_mut() = Method::GET;
        *request.body_mut() = None;
        for name in [
            CONTENT_TYPE,
            CONTENT_LENGTH,
            CONTENT_ENCODING,
            TRANSFER_ENCODING,
        ] {
            request.headers_mut().remove(name);
        }
    }
    if !same_origin(request.url(), &next) {
        strip_credentials(request.headers_mut(), marked);
    }
    *request.url_mut() = next;
    request
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn origins_compare_scheme_host_and_port() {
        assert!(same_origin(
            &url("http://a.test/x"),
            &url("http://a.test:80/y")
        ));
        assert!(!same_origin(
            &url("http://a.test/"),
            &url("https://a.test/")
        ));
        assert!(!same_origin(&url("http://a.test/"), &url("http://b.test/")));
        assert!(!same_origin(
            &url("http://127.0.0.1:1/"),
            &url("http://127.0.0.1:2/")
        ));
    }

    #[test]
    fn credential_headers_by_name() {
        let marked = [HeaderName::from_static("x-desk")];
        for name in [
            "authorization",
            "proxy-authorization",
            "cookie",
            "x-api-key",
            "x-auth",
            "api-credential",
            "x-session-id",
            "x-amz-signature",
            "x-desk",
        ] {
            let name = HeaderName::from_bytes(name.as_bytes()).unwrap();
            assert!(is_credential_header(&name, &marked), "{name}");
        }
        for name in ["accept", "content-type", "x-request-id", "user-agent"] {
            let name = HeaderName::from_static(name);
            assert!(!is_credential_header(&name, &marked), "{name}");
        }
    }

    #[test]
    fn a_post_followed_after_302_is_a_get_without_body_or_credentials() {
        let mut previous = reqwest::Request::new(Method::POST, url("http://a.test/x"));
        previous
            .headers_mut()
            .insert("x-api-key", "k".parse().unwrap());
        previous
            .headers_mut()
            .insert(CONTENT_TYPE, "application/json".parse().unwrap());
        *previous.body_mut() = Some("{}".into());
        let same = follow(
            previous.try_clone().unwrap(),
            StatusCode::TEMPORARY_REDIRECT,
            url("http://a.test/z"),
            &[],
        );
        let next = follow(previous, StatusCode::FOUND, url("http://b.test/y"), &[]);
        assert_eq!(*next.method(), Method::GET);
        assert!(next.body().is_none());
        assert!(next.headers().is_empty(), "{:?}", next.headers());
        assert_eq!(*same.method(), Method::POST);
        assert_eq!(same.headers()["x-api-key"], "k");
    }
}
