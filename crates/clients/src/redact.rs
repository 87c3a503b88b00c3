//! Keeps secrets out of errors, logs and metrics.
//!
//! Every URL that may end up in a message goes through [`redact_url`] (or
//! [`redact_url_allowing`]): the userinfo (`user:password@`) is replaced and the value of every
//! query parameter is masked, except those whose names the user listed as safe
//! (`safe_query_params` of the HTTP client).
//!
//! Why an allow-list and not a list of secret-looking names: a deny-list misses names. The one
//! this module had (`api_key`, `token`, `signature`, ...) let `refresh_token`, `access_key`,
//! `X-Amz-Signature`, `X-Amz-Credential`, `id_token`, `secret_key`, `jwt` and `session` through
//! into every HTTP error (issue 9); no list of names can know every service's credentials, while
//! the user knows which of their parameters are harmless to show.

use url::Url;

/// `url` with its userinfo replaced by `***` and the value of every query parameter by `***`.
pub fn redact_url(url: &Url) -> String {
    redact_url_allowing(url, &[])
}

/// `url` with its userinfo replaced by `***` and the value of every query parameter by `***`
/// except those named in `safe` (compared exactly, as query names are case-sensitive).
pub fn redact_url_allowing(url: &Url, safe: &[String]) -> String {
    let mut clean = url.clone();
    if !clean.username().is_empty() || clean.password().is_some() {
        let _ = clean.set_username("***");
        let _ = clean.set_password(None);
    }
    if clean.query().is_some() {
        let pairs: Vec<(String, String)> = clean
            .query_pairs()
            .map(|(k, v)| {
                let v = if safe.iter().any(|s| *s == k) {
                    v.into_owned()
                } else {
                    "***".to_string()
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
    fn every_query_value_is_masked_unless_listed_as_safe() {
        let url =
            Url::parse("https://h.test/p?refresh_token=r1&jwt=j1&symbol=AAPL&side=buy").unwrap();
        let shown = redact_url_allowing(&url, &["symbol".to_string()]);
        assert_eq!(
            shown,
            "https://h.test/p?refresh_token=***&jwt=***&symbol=AAPL&side=***"
        );
        assert_eq!(
            redact_url(&url),
            "https://h.test/p?refresh_token=***&jwt=***&symbol=***&side=***"
        );
    }

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
        assert!(shown.contains("symbol=***"), "{shown}");
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
