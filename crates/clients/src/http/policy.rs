//! What the user said about secrets (`ApiOptions::safe_query_params` and `secret_headers`),
//! read once per client and shared by every request: which query values a message may show
//! (see `crate::redact` for why it is an allow-list) and which headers, besides the
//! credential-like ones, are secret (dropped on a cross-origin redirect by `super::redirect`,
//! scrubbed from messages by `super::target`).

use reqwest::header::{HeaderMap, HeaderName};
use url::Url;

use crate::redact::redact_url_allowing;

/// What the user said about secrets: the query parameters errors may show, and the headers
/// (besides the credential-like ones) that are secret.
#[derive(Debug, Default)]
pub(crate) struct Policy {
    pub(crate) safe_query_params: Vec<String>,
    pub(crate) secret_headers: Vec<HeaderName>,
}

impl Policy {
    /// From the options' lists (checked by `ApiOptions::validate`).
    pub(crate) fn new(safe_query_params: &[String], secret_headers: &[String]) -> Self {
        Self {
            safe_query_params: safe_query_params.to_vec(),
            secret_headers: secret_headers
                .iter()
                .filter_map(|n| HeaderName::from_bytes(n.as_bytes()).ok())
                .collect(),
        }
    }

    /// `url` as messages may show it.
    pub(crate) fn show(&self, url: &Url) -> String {
        redact_url_allowing(url, &self.safe_query_params)
    }

    /// The values of the headers the user marked as secret, for scrubbing.
    pub(crate) fn marked_values(&self, headers: &HeaderMap) -> Vec<String> {
        self.secret_headers
            .iter()
            .flat_map(|name| headers.get_all(name).iter())
            .filter_map(|v| v.to_str().ok())
            .map(str::to_string)
            .collect()
    }
}
