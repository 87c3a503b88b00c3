//! The control plane (`https://api.{domain}`, `X-API-Key`): create, stop, extend, look up and
//! list sandboxes. Every request is one breaker call; a listing is one call per page.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{json, Map};

use super::access::{SandboxAccess, LOOKUP_TTL};
use super::client::{check_sandbox_id, E2BSandboxCircuitBreaker};
use super::error::E2BError;
use super::options::CreateOptions;
use crate::http::{Body, Method, Response};

/// Sandboxes per page of a listing (the API's maximum).
const PAGE_SIZE: &str = "100";

/// The most pages a listing reads (a guard against a server that never stops paging).
const MAX_PAGES: usize = 10_000;

/// A sandbox as the control plane lists it (`GET /v2/sandboxes`, `GET /sandboxes/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct SandboxInfo {
    /// Its id.
    #[serde(rename = "sandboxID")]
    pub sandbox_id: String,
    /// The template it was made from.
    #[serde(rename = "templateID", default)]
    pub template_id: String,
    /// The template's alias, if it has one.
    #[serde(default)]
    pub alias: Option<String>,
    /// The id of the client (host) it runs on.
    #[serde(rename = "clientID", default)]
    pub client_id: Option<String>,
    /// When it started (RFC 3339).
    #[serde(rename = "startedAt", default)]
    pub started_at: Option<String>,
    /// When it ends unless extended (RFC 3339).
    #[serde(rename = "endAt", default)]
    pub end_at: Option<String>,
    /// `running` or `paused`.
    #[serde(default)]
    pub state: Option<String>,
    /// vCPUs.
    #[serde(rename = "cpuCount", default)]
    pub cpu_count: Option<u32>,
    /// Memory in MiB.
    #[serde(rename = "memoryMB", default)]
    pub memory_mb: Option<u32>,
    /// Disk in MiB.
    #[serde(rename = "diskSizeMB", default)]
    pub disk_size_mb: Option<u32>,
    /// The version of the sandbox's daemon.
    #[serde(rename = "envdVersion", default)]
    pub envd_version: Option<String>,
    /// The metadata it was created with.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub metadata: BTreeMap<String, String>,
}

fn null_as_empty<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    Ok(Option::<BTreeMap<String, String>>::deserialize(d)?.unwrap_or_default())
}

/// What the control plane says about reaching a sandbox (`Sandbox`, `SandboxDetail`).
#[derive(Deserialize)]
struct Reachable {
    #[serde(rename = "sandboxID")]
    sandbox_id: String,
    #[serde(rename = "envdAccessToken", default)]
    envd_access_token: Option<String>,
    #[serde(rename = "trafficAccessToken", default)]
    traffic_access_token: Option<String>,
    #[serde(default)]
    domain: Option<String>,
}

impl Reachable {
    fn access(self) -> SandboxAccess {
        SandboxAccess {
            domain: self.domain.filter(|d| !d.is_empty()),
            envd_access_token: self.envd_access_token.filter(|t| !t.is_empty()),
            traffic_access_token: self.traffic_access_token.filter(|t| !t.is_empty()),
        }
    }
}

/// `response`'s body as a `T`; `ERR_E2B_RESPONSE` (which counts as a failure) if it is not.
fn body<T: DeserializeOwned>(response: &Response, what: &str) -> Result<T, E2BError> {
    serde_json::from_slice(&response.body).map_err(|e| {
        E2BError::response(format!(
            "the E2B API answered with a body that is not {what} ({e})"
        ))
    })
}

fn is_status(error: &E2BError, status: StatusCode) -> bool {
    error.status() == Some(status)
}

impl E2BSandboxCircuitBreaker {
    /// Creates a sandbox from `template` (`base`, `code-interpreter-v1`, or one of your own)
    /// that lives 300 s, and returns its id. Code runs only in templates with E2B's code
    /// interpreter (`code-interpreter-v1`); in others `/execute` answers 502 (port not open).
    pub async fn create_sandbox(&self, template: &str) -> Result<String, E2BError> {
        self.create_sandbox_with(template, CreateOptions::default())
            .await
    }

    /// Creates a sandbox from `template` with `options` (lifetime, metadata, environment) and
    /// returns its id (`POST /sandboxes`). 429 (too many sandboxes for the team) trips the
    /// breaker and keeps it open for the `Retry-After`; 400 and 401 do not.
    pub async fn create_sandbox_with(
        &self,
        template: &str,
        options: CreateOptions,
    ) -> Result<String, E2BError> {
        if template.is_empty() {
            return Err(E2BError::invalid_argument(
                "the template must be a non-empty string",
            ));
        }
        let mut new_sandbox = Map::new();
        new_sandbox.insert("templateID".into(), json!(template));
        new_sandbox.insert("timeout".into(), json!(options.timeout_secs));
        if !options.metadata.is_empty() {
            new_sandbox.insert("metadata".into(), json!(options.metadata));
        }
        if !options.env_vars.is_empty() {
            new_sandbox.insert("envVars".into(), json!(options.env_vars));
        }
        // As the SDKs do: the sandbox's daemon then requires its envdAccessToken.
        new_sandbox.insert("secure".into(), json!(true));
        let request = self
            .control(Method::POST, "sandboxes")?
            .body(Body::json(&new_sandbox)?);
        let created: Reachable = self
            .call(request, |response| {
                let created: Reachable = body(&response, "a Sandbox")?;
                check_sandbox_id(&created.sandbox_id).map_err(|_| {
                    E2BError::response("the E2B API answered with a sandbox id that is not valid")
                })?;
                Ok(created)
            })
            .await?;
        let id = created.sandbox_id.clone();
        self.access.insert(
            &id,
            created.access(),
            Duration::from_secs(u64::from(options.timeout_secs)),
        );
        Ok(id)
    }

    /// Kills a sandbox (`DELETE /sandboxes/{id}`): `true`, or `false` when it was already gone
    /// (404, which does not count against E2B).
    pub async fn stop_sandbox(&self, sandbox_id: &str) -> Result<bool, E2BError> {
        check_sandbox_id(sandbox_id)?;
        let request = self.control(Method::DELETE, &format!("sandboxes/{sandbox_id}"))?;
        let result = self.call(request, |_| Ok(())).await;
        match result {
            Ok(()) => {
                self.access.remove(sandbox_id);
                Ok(true)
            }
            Err(e) if is_status(&e, StatusCode::NOT_FOUND) => {
                self.access.remove(sandbox_id);
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// Sets how long a running sandbox still lives, from now (`POST /sandboxes/{id}/timeout`).
    /// `ERR_SANDBOX_NOT_FOUND` if it is gone.
    pub async fn set_sandbox_timeout(
        &self,
        sandbox_id: &str,
        timeout_secs: u32,
    ) -> Result<(), E2BError> {
        check_sandbox_id(sandbox_id)?;
        let request = self
            .control(Method::POST, &format!("sandboxes/{sandbox_id}/timeout"))?
            .body(Body::json(&json!({ "timeout": timeout_secs }))?);
        match self.call(request, |_| Ok(())).await {
            Ok(()) => {
                self.access
                    .extend(sandbox_id, Duration::from_secs(u64::from(timeout_secs)));
                Ok(())
            }
            Err(e) => Err(self.not_found_if_404(sandbox_id, e)),
        }
    }

    /// A sandbox's details (`GET /sandboxes/{id}`); `ERR_SANDBOX_NOT_FOUND` if it is gone.
    pub async fn get_sandbox(&self, sandbox_id: &str) -> Result<SandboxInfo, E2BError> {
        Ok(self.look_up(sandbox_id).await?.0)
    }

    /// Every running or paused sandbox of the team (`GET /v2/sandboxes`, following
    /// `X-Next-Token` page after page; each page is one breaker call).
    pub async fn list_sandboxes(&self) -> Result<Vec<SandboxInfo>, E2BError> {
        self.require_key()?;
        let mut all = Vec::new();
        let mut seen_tokens = HashSet::new();
        let mut next: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut request = self
                .control(Method::GET, "v2/sandboxes")?
                .query("limit", PAGE_SIZE);
            if let Some(token) = &next {
                request = request.query("nextToken", token.as_str());
            }
            let (page, token) = self
                .call(request, |response| {
                    let page: Vec<SandboxInfo> = body(&response, "a list of sandboxes")?;
                    let token = response
                        .headers
                        .get("x-next-token")
                        .and_then(|v| v.to_str().ok())
                        .filter(|t| !t.is_empty())
                        .map(str::to_string);
                    Ok((page, token))
                })
                .await?;
            all.extend(page);
            match token {
                None => return Ok(all),
                Some(token) if !seen_tokens.insert(token.clone()) => {
                    return Err(E2BError::response(
                        "the E2B API sent the same X-Next-Token twice while listing sandboxes",
                    ))
                }
                Some(token) => next = Some(token),
            }
        }
        Err(E2BError::response(format!(
            "the E2B API kept paging after {MAX_PAGES} pages of sandboxes"
        )))
    }

    /// Looks a sandbox up and remembers how to reach it (for a sandbox this client did not
    /// create, or whose entry expired).
    pub(crate) async fn look_up(
        &self,
        sandbox_id: &str,
    ) -> Result<(SandboxInfo, SandboxAccess), E2BError> {
        check_sandbox_id(sandbox_id)?;
        let request = self.control(Method::GET, &format!("sandboxes/{sandbox_id}"))?;
        let result = self
            .call(request, |response| {
                let info: SandboxInfo = body(&response, "a SandboxDetail")?;
                let reachable: Reachable = body(&response, "a SandboxDetail")?;
                Ok((info, reachable.access()))
            })
            .await;
        match result {
            Ok((info, access)) => {
                if info.state.as_deref() != Some("paused") {
                    self.access.insert(sandbox_id, access.clone(), LOOKUP_TTL);
                }
                Ok((info, access))
            }
            Err(e) => Err(self.not_found_if_404(sandbox_id, e)),
        }
    }

    /// A 404 of the control plane, for a sandbox, as `ERR_SANDBOX_NOT_FOUND` (forgetting it).
    fn not_found_if_404(&self, sandbox_id: &str, error: E2BError) -> E2BError {
        if is_status(&error, StatusCode::NOT_FOUND) {
            self.access.remove(sandbox_id);
            E2BError::SandboxNotFound {
                sandbox_id: sandbox_id.to_string(),
            }
        } else {
            error
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_sandboxes_read_with_or_without_optional_fields() {
        let listed: Vec<SandboxInfo> = serde_json::from_str(
            r#"[{"templateID":"base","alias":"base","sandboxID":"abc","clientID":"c1",
                 "startedAt":"2026-01-01T00:00:00Z","endAt":"2026-01-01T00:05:00Z",
                 "cpuCount":2,"memoryMB":512,"diskSizeMB":512,"metadata":{"k":"v"},
                 "state":"running","envdVersion":"0.2.0"},
                {"sandboxID":"def","templateID":"t","metadata":null}]"#,
        )
        .unwrap();
        assert_eq!(listed[0].metadata["k"], "v");
        assert_eq!(listed[0].memory_mb, Some(512));
        assert_eq!(listed[1].state, None);
        assert!(listed[1].metadata.is_empty());
    }

    #[test]
    fn tokens_are_read_and_empty_ones_dropped() {
        let r: Reachable = serde_json::from_str(
            r#"{"sandboxID":"a","envdAccessToken":"t1","trafficAccessToken":null,"domain":""}"#,
        )
        .unwrap();
        let access = r.access();
        assert_eq!(access.envd_access_token.as_deref(), Some("t1"));
        assert_eq!(access.traffic_access_token, None);
        assert_eq!(access.domain, None);
    }
}
