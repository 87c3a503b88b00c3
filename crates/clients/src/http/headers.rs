//! Headers: parsing (messages name a header, never its value), which ones carry credentials,
//! how they may be shown, and Basic authentication.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::error::ApiError;

/// The most headers a request (or a client's defaults) may have. `HeaderMap` panics past
/// 32768 entries; real servers refuse far fewer (Node.js: 2000, hyper: 100).
pub const MAX_HEADERS: usize = 1000;

/// Parses `pairs` into a map (a repeated name keeps every value); refuses more than
/// [`MAX_HEADERS`].
pub(crate) fn parse_headers(pairs: &[(String, String)]) -> Result<HeaderMap, ApiError> {
    if pairs.len() > MAX_HEADERS {
        return Err(ApiError::invalid_argument(format!(
            "too many headers: {} (at most {MAX_HEADERS})",
            pairs.len()
        )));
    }
    let mut map = HeaderMap::with_capacity(pairs.len() + 2);
    for (name, value) in pairs {
        let (name, value) = parse_header(name, value)?;
        map.append(name, value);
    }
    Ok(map)
}

/// Parses one header; the message names the header, never its value.
pub(crate) fn parse_header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), ApiError> {
    let header_name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
        ApiError::invalid_argument(format!(
            "{:?} is not a valid HTTP header name",
            name.chars().take(64).collect::<String>()
        ))
    })?;
    let mut header_value = HeaderValue::from_str(value).map_err(|_| {
        ApiError::invalid_argument(format!(
            "the value of the header \"{header_name}\" is not a valid HTTP header value \
             (control characters or non-ASCII text)"
        ))
    })?;
    if is_secret_header(&header_name) {
        header_value.set_sensitive(true);
    }
    Ok((header_name, header_value))
}

/// Whether the values of headers named `name` are credentials (`authorization`, cookies, and
/// names with `key`, `token`, `secret`, `password`, `signature` or `session`): never shown, and
/// scrubbed from messages.
pub fn is_secret_header(name: &HeaderName) -> bool {
    let name = name.as_str();
    matches!(
        name,
        "authorization" | "proxy-authorization" | "cookie" | "set-cookie"
    ) || ["key", "token", "secret", "password", "signature", "session"]
        .iter()
        .any(|word| name.contains(word))
}

/// `headers` as `(name, value)` pairs, the values of a repeated name joined with `", "` (as
/// `Headers.get` does in fetch), non-UTF-8 bytes replaced; with `mask_secrets`, the values of
/// [`is_secret_header`] names are `***` (for errors, which end up in logs).
pub fn header_pairs(headers: &HeaderMap, mask_secrets: bool) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = Vec::with_capacity(headers.keys_len());
    for name in headers.keys() {
        let value = if mask_secrets && is_secret_header(name) {
            "***".to_string()
        } else {
            let values: Vec<String> = headers
                .get_all(name)
                .iter()
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .collect();
            values.join(", ")
        };
        pairs.push((name.as_str().to_string(), value));
    }
    pairs
}

/// The values of secret headers in `headers`, for scrubbing.
pub(crate) fn secret_values(headers: &HeaderMap) -> Vec<String> {
    headers
        .iter()
        .filter(|(name, _)| is_secret_header(name))
        .filter_map(|(_, value)| value.to_str().ok())
        .flat_map(|v| {
            // The whole value, and its credential alone ("Bearer <token>").
            let mut parts = vec![v.to_string()];
            if let Some((_, credential)) = v.split_once(' ') {
                parts.push(credential.trim().to_string());
            }
            parts
        })
        .collect()
}

pub(crate) fn basic_auth(user: &str, password: Option<&str>) -> HeaderValue {
    let credentials = format!("{user}:{}", password.unwrap_or(""));
    let mut value = HeaderValue::from_str(&format!("Basic {}", base64(credentials.as_bytes())))
        .unwrap_or_else(|_| HeaderValue::from_static("Basic"));
    value.set_sensitive(true);
    value
}

/// Standard base64 with padding (RFC 4648), for Basic authentication.
fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> shift) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_pairs_join_repeats_and_mask_secrets() {
        let mut headers = HeaderMap::new();
        headers.append("x-multi", HeaderValue::from_static("a"));
        headers.append("x-multi", HeaderValue::from_static("b"));
        headers.append("set-cookie", HeaderValue::from_static("sid=s3cr3t"));
        headers.append("x-csrf-token", HeaderValue::from_static("t0k"));
        headers.append(
            "www-authenticate",
            HeaderValue::from_static("Bearer realm=x"),
        );
        let shown = header_pairs(&headers, true);
        assert!(shown.contains(&("x-multi".into(), "a, b".into())));
        assert!(shown.contains(&("set-cookie".into(), "***".into())));
        assert!(shown.contains(&("x-csrf-token".into(), "***".into())));
        assert!(shown.contains(&("www-authenticate".into(), "Bearer realm=x".into())));
        let all = header_pairs(&headers, false);
        assert!(all.contains(&("set-cookie".into(), "sid=s3cr3t".into())));
    }

    #[test]
    fn base64_matches_rfc_4648() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), expected);
        }
    }

    #[test]
    fn too_many_headers_are_refused() {
        let pairs: Vec<(String, String)> = (0..=MAX_HEADERS)
            .map(|i| (format!("x-h{i}"), "v".to_string()))
            .collect();
        assert_eq!(
            parse_headers(&pairs).unwrap_err().code(),
            "ERR_INVALID_ARG_VALUE"
        );
        assert_eq!(parse_headers(&pairs[1..]).unwrap().len(), MAX_HEADERS);
    }

    #[test]
    fn bad_headers_are_refused_without_showing_the_value() {
        let err = parse_header("x-api-key", "se\ncret").unwrap_err();
        assert_eq!(err.code(), "ERR_INVALID_ARG_VALUE");
        assert!(!err.to_string().contains("se\ncret") && err.to_string().contains("x-api-key"));
        assert_eq!(
            parse_header("a b", "v").unwrap_err().code(),
            "ERR_INVALID_ARG_VALUE"
        );
        assert!(parse_header("authorization", "Bearer x")
            .unwrap()
            .1
            .is_sensitive());
    }
}
