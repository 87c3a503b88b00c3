//! Keeps secrets out of errors, logs and metrics.
//!
//! Every URL that may end up in a message goes through [`redact_url`]: the userinfo
//! (`user:password@`) is replaced and the values of query parameters whose names look like
//! credentials are masked.

use url::Url;

/// Query parameter names (compared case-insensitively, ignoring `-` and `_`) whose values are
/// masked.
const SECRET_PARAMS: &[&str] = &[
    "apikey",
    "key",
    "token",
    "accesstoken",
    "authtoken",
    "secret",
    "clientsecret",
    "password",
    "passwd",
    "pwd",
    "signature",
    "sig",
    "auth",
    "authorization",
    "credential",
    "credentials",
    "sessionid",
];

fn is_secret_param(name: &str) -> bool {
    let normalized: String = name
        .chars()
        .filter(|c| *c != '-' && *c != '_')
        .flat_map(char::to_lowercase)
        .collect();
    SECRET_PARAMS.contains(&normalized.as_str())
}

/// `url` with its userinfo replaced by `***` and secret-looking query values by `***`.
pub fn redact_url(url: &Url) -> String {
    let mut clean = url.clone();
    if !clean.username().is_empty() || clean.password().is_some() {
        let _ = clean.set_username("***");
        let _ = clean.set_password(None);
    }
    if clean.query().is_some() {
        let pairs: Vec<(String, String)> = clean
            .query_pairs()
            .map(|(k, v)| {
                let v = if is_secret_param(&k) {
                    "***".to_string()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        clean.query_pairs_mut().clear().extend_pairs(pairs);
    }
    clean.to_string()
}

/// A URL given as text, redacted; text that does not parse as a URL is reduced to its scheme
/// (if any) so that nothing after it can leak.
pub fn redact_url_str(text: &str) -> String {
    match Url::parse(text) {
        Ok(url) => redact_url(&url),
        Err(_) => match text.split_once("://") {
            Some((scheme, _))
                if scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
            {
                format!("{scheme}://***")
            }
            _ => "***".to_string(),
        },
    }
}

/// Removes every occurrence of each secret from `text` (for messages of third-party errors that
/// may echo a URL or a header).
pub fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_string();
    for secret in secrets.iter().filter(|s| s.len() >= 3) {
        out = out.replace(secret, "***");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_and_secret_params_are_masked() {
        let url = Url::parse(
            "https://alice:s3cret@api.example.test/v1/q?symbol=AAPL&api_key=abc123&Token=zz",
        )
        .unwrap();
        let shown = redact_url(&url);
        assert!(
            !shown.contains("s3cret") && !shown.contains("alice"),
            "{shown}"
        );
        assert!(
            !shown.contains("abc123") && !shown.contains("zz"),
            "{shown}"
        );
        assert!(shown.contains("symbol=AAPL"), "{shown}");
    }

    #[test]
    fn unparsable_urls_keep_only_their_scheme() {
        assert_eq!(redact_url_str("postgres://u:p@[bad"), "postgres://***");
        assert_eq!(redact_url_str("not a url p@ss"), "***");
    }

    #[test]
    fn scrub_removes_secrets() {
        assert_eq!(
            scrub("failed for hunter22 at x", &["hunter22"]),
            "failed for *** at x"
        );
    }
}
