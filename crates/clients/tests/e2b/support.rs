//! The protocol-faithful local E2B server (`__test__/support/e2b-server.js`) as a child
//! process (see `common/node_server.rs`): it serves the control plane and every sandbox's
//! `/execute` on one port.
//!
//! Tests skip (with a printed reason) when `node` is not on PATH.

use std::ops::Deref;
use std::time::Duration;

use neural_trader_clients::e2b::{E2BOptions, E2BSandboxCircuitBreaker};
use serde_json::{json, Value};

use crate::node_server::NodeServer;

/// The API key the server accepts.
pub const KEY: &str = "e2b_00112233445566778899aabbccddeeff00112233";

/// A running E2B server; killed when dropped.
pub struct E2BServer(NodeServer);

impl Deref for E2BServer {
    type Target = NodeServer;
    fn deref(&self) -> &NodeServer {
        &self.0
    }
}

impl E2BServer {
    /// Starts a server, or `None` (with the reason printed) when `node` is not available.
    pub fn start() -> Option<Self> {
        NodeServer::start(
            "e2b-server.js",
            &["--api-key", KEY, "--line-delay-ms", "1"],
            "the E2B tests",
        )
        .map(Self)
    }

    /// The server's sandboxes (expiry applied).
    pub async fn sandboxes(&self) -> Vec<Value> {
        let answer = self.control(json!({"action": "sandboxes"})).await;
        answer["sandboxes"].as_array().unwrap().clone()
    }

    /// Options pointing a client at this server (control plane and code interpreter).
    pub fn options(&self) -> E2BOptions {
        E2BOptions {
            api_key: Some(KEY.to_string()),
            api_url: Some(self.url.clone()),
            sandbox_url: Some(self.url.clone()),
            proxy_from_env: false,
            ..E2BOptions::default()
        }
    }

    /// A client of this server with `failure_threshold`, `reset_timeout` and `timeout`.
    pub fn client(
        &self,
        failure_threshold: u32,
        reset: Duration,
        timeout: Duration,
    ) -> E2BSandboxCircuitBreaker {
        let mut options = self.options();
        options.breaker.failure_threshold = failure_threshold;
        options.breaker.reset_timeout = reset;
        options.breaker.timeout = timeout;
        E2BSandboxCircuitBreaker::with_options(options).unwrap()
    }

    /// A client of this server with the default breaker.
    pub fn default_client(&self) -> E2BSandboxCircuitBreaker {
        E2BSandboxCircuitBreaker::with_options(self.options()).unwrap()
    }
}

/// Starts a server or returns from the test (node missing).
macro_rules! server_or_skip {
    () => {
        match $crate::support::E2BServer::start() {
            Some(server) => server,
            None => return,
        }
    };
}
pub(crate) use server_or_skip;
