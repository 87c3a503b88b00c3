//! Running code: `POST /execute` on a sandbox's code interpreter (port 49999), read as a stream
//! of JSON lines (see `execute`).
//!
//! The interpreter is addressed as `https://49999-{sandboxID}.{domain}` (the sandbox's domain
//! when the control plane reported one), or through the `sandbox_url` override with the
//! `E2b-Sandbox-Id` and `E2b-Sandbox-Port` headers. Only the sandbox's own credentials go there
//! (`X-Access-Token`, `E2B-Traffic-Access-Token`), never the API key. A sandbox this client did
//! not create is looked up once on the control plane to learn them.
//!
//! The request goes through the same HTTP client and breaker as the control plane: one
//! absolute URL per sandbox, resolved as is by the HTTP layer.

use serde_json::{json, Map};

use super::access::SandboxAccess;
use super::client::{check_sandbox_id, E2BSandboxCircuitBreaker};
use super::error::E2BError;
use super::execute::ExecutionParser;
use super::execution::Execution;
use super::options::{ExecuteOptions, INTERPRETER_PORT};
use crate::http::{Body, Method, Request};

impl E2BSandboxCircuitBreaker {
    /// Runs `code` in the sandbox's default Python context and returns what it printed and
    /// produced. An exception in `code` is [`Execution::error`] of a successful call (it does
    /// not count against E2B); a sandbox that is gone is `ERR_SANDBOX_NOT_FOUND` (nor does
    /// that); a stream that breaks off is `ERR_E2B_STREAM` (that does).
    pub async fn execute_code(&self, sandbox_id: &str, code: &str) -> Result<Execution, E2BError> {
        self.execute_code_with(sandbox_id, code, ExecuteOptions::default())
            .await
    }

    /// [`E2BSandboxCircuitBreaker::execute_code`] with a language or context, environment
    /// variables for this execution, and a deadline of its own.
    pub async fn execute_code_with(
        &self,
        sandbox_id: &str,
        code: &str,
        options: ExecuteOptions,
    ) -> Result<Execution, E2BError> {
        self.require_key()?;
        check_sandbox_id(sandbox_id)?;
        let body = execute_body(code, &options)?;
        let access = match self.access.get(sandbox_id) {
            Some(access) => access,
            None => self.look_up(sandbox_id).await?.1,
        };
        let mut request = Request::new(Method::POST, self.interpreter_url(sandbox_id, &access)?)
            .header("E2b-Sandbox-Id", sandbox_id)
            .header("E2b-Sandbox-Port", INTERPRETER_PORT.to_string())
            .body(Body::json(&body)?);
        if let Some(token) = &access.envd_access_token {
            request = request.header("X-Access-Token", token.as_str());
        }
        if let Some(token) = &access.traffic_access_token {
            request = request.header("E2B-Traffic-Access-Token", token.as_str());
        }
        request.timeout = options.timeout;
        let result = self
            .call(request, |response| {
                let mut parser = ExecutionParser::new();
                parser.feed(&response.body)?;
                parser.finish()
            })
            .await;
        match result {
            Err(E2BError::SandboxNotFound { .. }) => {
                self.access.remove(sandbox_id);
                Err(E2BError::SandboxNotFound {
                    sandbox_id: sandbox_id.to_string(),
                })
            }
            other => other,
        }
    }

    /// `…/execute` of the sandbox's code interpreter.
    fn interpreter_url(
        &self,
        sandbox_id: &str,
        access: &SandboxAccess,
    ) -> Result<String, E2BError> {
        if let Some(base) = &self.sandbox_url {
            return base.join("execute").map(String::from).map_err(|e| {
                E2BError::invalid_argument(format!("the sandbox URL cannot be joined: {e}"))
            });
        }
        let domain = access.domain.as_deref().unwrap_or(&self.domain);
        Ok(format!(
            "https://{INTERPRETER_PORT}-{sandbox_id}.{domain}/execute"
        ))
    }
}

/// The body of `POST /execute`: `{"code", "language"?, "context_id"?, "env_vars"?}`.
fn execute_body(
    code: &str,
    options: &ExecuteOptions,
) -> Result<Map<String, serde_json::Value>, E2BError> {
    if options.language.is_some() && options.context_id.is_some() {
        return Err(E2BError::invalid_argument(
            "give a language or a context id, not both",
        ));
    }
    let mut body = Map::new();
    body.insert("code".into(), json!(code));
    if let Some(language) = &options.language {
        if language.is_empty() {
            return Err(E2BError::invalid_argument("the language must not be empty"));
        }
        body.insert("language".into(), json!(language));
    }
    if let Some(context_id) = &options.context_id {
        if context_id.is_empty() {
            return Err(E2BError::invalid_argument(
                "the context id must not be empty",
            ));
        }
        body.insert("context_id".into(), json!(context_id));
    }
    if !options.env_vars.is_empty() {
        body.insert("env_vars".into(), json!(options.env_vars));
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_has_only_what_was_given() {
        let body = execute_body("1 + 1", &ExecuteOptions::default()).unwrap();
        assert_eq!(serde_json::Value::Object(body), json!({"code": "1 + 1"}));
        let mut options = ExecuteOptions {
            language: Some("python".into()),
            ..ExecuteOptions::default()
        };
        options.env_vars.insert("K".into(), "v".into());
        let body = execute_body("x", &options).unwrap();
        assert_eq!(
            serde_json::Value::Object(body),
            json!({"code": "x", "language": "python", "env_vars": {"K": "v"}})
        );
        options.context_id = Some("ctx".into());
        assert_eq!(
            execute_body("x", &options).unwrap_err().code(),
            "ERR_INVALID_ARG_VALUE"
        );
    }
}
