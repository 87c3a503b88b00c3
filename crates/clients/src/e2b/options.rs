//! Options of an [`super::E2BSandboxCircuitBreaker`] (where E2B is, the API key, the breaker)
//! and of its calls (a new sandbox, one execution), with the defaults of the E2B SDKs.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use neural_trader_resilience::{validate_duration, CircuitBreakerConfig, ConfigError};

use crate::http::{DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_RETRY_AFTER};
use crate::redact::redact_url_str;

/// The domain of E2B's cloud (`E2B_DOMAIN` overrides it).
pub const DEFAULT_DOMAIN: &str = "e2b.app";

/// The port of the code interpreter inside a sandbox.
pub const INTERPRETER_PORT: u16 = 49999;

/// How long a new sandbox lives by default (300 s, as in the E2B SDKs).
pub const DEFAULT_SANDBOX_TIMEOUT_SECS: u32 = 300;

/// The deadline of each request by default (60 s, the E2B SDKs' request timeout).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// The breaker's name by default.
pub const DEFAULT_NAME: &str = "e2b_sandbox";

/// How an [`super::E2BSandboxCircuitBreaker`] reaches E2B.
///
/// [`E2BOptions::from_env`] reads what the E2B SDKs read; [`Default`] reads nothing.
///
/// ```
/// use neural_trader_clients::e2b::{E2BOptions, E2BSandboxCircuitBreaker};
/// use std::time::Duration;
///
/// let mut options = E2BOptions {
///     api_key: Some("e2b_0123abcd".into()),
///     ..E2BOptions::default()
/// };
/// options.breaker.timeout = Duration::from_secs(120); // long-running code
/// let e2b = E2BSandboxCircuitBreaker::with_options(options).unwrap();
/// assert!(e2b.configured());
/// assert_eq!(e2b.breaker().config().failure_threshold, 3);
/// assert!(!format!("{e2b:?}").contains("0123abcd"));
/// ```
#[derive(Clone)]
pub struct E2BOptions {
    /// The breaker's name (default `e2b_sandbox`).
    pub name: String,
    /// The API key (`e2b_...`), sent in `X-API-Key` to the control plane only. `None` (or
    /// empty): every call fails with `ERR_E2B_NO_API_KEY` before sending anything.
    pub api_key: Option<String>,
    /// The control plane's URL; `None`: `https://api.{domain}`.
    pub api_url: Option<String>,
    /// The domain of E2B (default `e2b.app`): the control plane is `api.{domain}` and a
    /// sandbox's code interpreter `49999-{sandboxID}.{domain}` (unless the sandbox reports a
    /// domain of its own).
    pub domain: String,
    /// Where to reach every sandbox's code interpreter instead of `49999-{sandboxID}.{domain}`
    /// (self-hosting, a proxy, tests): requests go to `{sandbox_url}/execute` and name the
    /// sandbox in the `E2b-Sandbox-Id` and `E2b-Sandbox-Port` headers.
    pub sandbox_url: Option<String>,
    /// The breaker. Its `timeout` is the deadline of each request (an execution's whole output
    /// included); defaults: failure_threshold 3, success_threshold 2, timeout 60 s,
    /// reset_timeout 120 s.
    pub breaker: CircuitBreakerConfig,
    /// How long a connection attempt may take (default 5 s).
    pub connect_timeout: Duration,
    /// The longest `Retry-After` honoured (default one hour).
    pub max_retry_after: Duration,
    /// Whether `HTTP_PROXY` / `HTTPS_PROXY` / `ALL_PROXY` / `NO_PROXY` apply (default `true`).
    pub proxy_from_env: bool,
}

impl E2BOptions {
    /// The breaker configuration by default (that of the original design).
    pub fn default_breaker_config() -> CircuitBreakerConfig {
        CircuitBreakerConfig {
            failure_threshold: 3,
            success_threshold: 2,
            timeout: DEFAULT_REQUEST_TIMEOUT,
            reset_timeout: Duration::from_secs(120),
            half_open_max_calls: None,
            stack_trace: true,
        }
    }

    /// The defaults, with what the E2B SDKs read from the environment: `E2B_API_KEY`,
    /// `E2B_DOMAIN`, `E2B_API_URL` (else `https://api.${E2B_DOMAIN}`) and `E2B_SANDBOX_URL`.
    /// Empty variables count as unset.
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`E2BOptions::from_env`] reading variables through `lookup` (the JS binding passes
    /// `process.env`, which differs from the process environment in worker threads).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let var = |name: &str| lookup(name).filter(|v| !v.is_empty());
        Self {
            api_key: var("E2B_API_KEY"),
            api_url: var("E2B_API_URL"),
            domain: var("E2B_DOMAIN").unwrap_or_else(|| DEFAULT_DOMAIN.to_string()),
            sandbox_url: var("E2B_SANDBOX_URL"),
            ..Self::default()
        }
    }

    /// Checks every field but `breaker` (checked when the breaker is made) against its range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        validate_duration("connect_timeout", self.connect_timeout)?;
        validate_duration("max_retry_after", self.max_retry_after)
    }

    /// The control plane's URL: `api_url`, or `https://api.{domain}`.
    pub fn resolved_api_url(&self) -> String {
        match &self.api_url {
            Some(url) => url.clone(),
            None => format!("https://api.{}", self.domain),
        }
    }
}

impl Default for E2BOptions {
    fn default() -> Self {
        Self {
            name: DEFAULT_NAME.to_string(),
            api_key: None,
            api_url: None,
            domain: DEFAULT_DOMAIN.to_string(),
            sandbox_url: None,
            breaker: Self::default_breaker_config(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            max_retry_after: DEFAULT_MAX_RETRY_AFTER,
            proxy_from_env: true,
        }
    }
}

impl fmt::Debug for E2BOptions {
    /// Whether there is an API key, never the key; URLs redacted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("E2BOptions")
            .field("name", &self.name)
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .field("api_url", &self.api_url.as_deref().map(redact_url_str))
            .field("domain", &self.domain)
            .field(
                "sandbox_url",
                &self.sandbox_url.as_deref().map(redact_url_str),
            )
            .field("breaker", &self.breaker)
            .field("connect_timeout", &self.connect_timeout)
            .field("max_retry_after", &self.max_retry_after)
            .field("proxy_from_env", &self.proxy_from_env)
            .finish()
    }
}

/// What a new sandbox gets (`POST /sandboxes`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateOptions {
    /// How long the sandbox lives, in seconds (default 300); E2B kills it then.
    pub timeout_secs: u32,
    /// Metadata to find it by (listed with it).
    pub metadata: BTreeMap<String, String>,
    /// Environment variables of every process in the sandbox (executions included).
    pub env_vars: BTreeMap<String, String>,
}

impl CreateOptions {
    /// Checks `timeout_secs` (see [`validate_seconds`]).
    pub fn validate(&self) -> Result<(), ConfigError> {
        validate_seconds("timeout_secs", self.timeout_secs)
    }
}

/// The longest sandbox lifetime E2B takes, in seconds (its API's `int32`).
pub const MAX_SANDBOX_TIMEOUT_SECS: u32 = i32::MAX as u32;

/// Checks a sandbox lifetime in seconds: at most [`MAX_SANDBOX_TIMEOUT_SECS`].
pub fn validate_seconds(field: &'static str, secs: u32) -> Result<(), ConfigError> {
    if secs <= MAX_SANDBOX_TIMEOUT_SECS {
        Ok(())
    } else {
        Err(ConfigError::out_of_range(
            field,
            format!("an integer number of seconds >= 0 and <= {MAX_SANDBOX_TIMEOUT_SECS}"),
            secs.to_string(),
        ))
    }
}

impl Default for CreateOptions {
    fn default() -> Self {
        Self {
            timeout_secs: DEFAULT_SANDBOX_TIMEOUT_SECS,
            metadata: BTreeMap::new(),
            env_vars: BTreeMap::new(),
        }
    }
}

/// How to run one piece of code (`POST /execute`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecuteOptions {
    /// The language (`python`, `javascript`, `r`, `java`, `bash`, ...); `None`: the default
    /// Python context. Not together with `context_id`.
    pub language: Option<String>,
    /// A code context created earlier (an E2B SDK's `createCodeContext`); not together with
    /// `language`.
    pub context_id: Option<String>,
    /// Environment variables of this execution only (over the sandbox's).
    pub env_vars: BTreeMap<String, String>,
    /// The deadline of this call, output included (default: the breaker's timeout). An overrun
    /// is `ERR_CIRCUIT_TIMEOUT` and counts as a failure.
    pub timeout: Option<Duration>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_design() {
        let o = E2BOptions::default();
        assert_eq!(o.breaker.failure_threshold, 3);
        assert_eq!(o.breaker.success_threshold, 2);
        assert_eq!(o.breaker.timeout, Duration::from_secs(60));
        assert_eq!(o.breaker.reset_timeout, Duration::from_secs(120));
        assert_eq!(o.resolved_api_url(), "https://api.e2b.app");
        assert_eq!(o.name, "e2b_sandbox");
        assert_eq!(CreateOptions::default().timeout_secs, 300);
    }

    #[test]
    fn environment_as_the_sdks_read_it() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let o = E2BOptions::from_lookup(env(&[
            ("E2B_API_KEY", "e2b_abc"),
            ("E2B_DOMAIN", "example.test"),
        ]));
        assert_eq!(o.api_key.as_deref(), Some("e2b_abc"));
        assert_eq!(o.resolved_api_url(), "https://api.example.test");
        let o = E2BOptions::from_lookup(env(&[
            ("E2B_API_KEY", ""),
            ("E2B_API_URL", "http://127.0.0.1:3000"),
            ("E2B_DOMAIN", "example.test"),
        ]));
        assert_eq!(o.api_key, None, "an empty variable is unset");
        assert_eq!(o.resolved_api_url(), "http://127.0.0.1:3000");
        assert_eq!(o.domain, "example.test");
    }

    #[test]
    fn debug_hides_the_key() {
        let o = E2BOptions {
            api_key: Some("e2b_s3cr3t".into()),
            api_url: Some("https://u:pw-9@api.example.test".into()),
            ..E2BOptions::default()
        };
        let shown = format!("{o:?}");
        assert!(
            !shown.contains("s3cr3t") && !shown.contains("pw-9"),
            "{shown}"
        );
    }
}
