//! The protocol-faithful local E2B server (`__test__/support/e2b-server.js`) as a child
//! process: `node e2b-server.js --api-key KEY --exit-on-stdin-close` prints
//! `{"url": ...}` and serves the control plane and every sandbox's `/execute` on one port;
//! faults, the request log and sandbox switches go through `POST /__control`.
//!
//! Tests skip (with a printed reason) when `node` is not on PATH.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use neural_trader_clients::e2b::{E2BOptions, E2BSandboxCircuitBreaker};
use serde_json::{json, Value};

/// The API key the server accepts.
pub const KEY: &str = "e2b_00112233445566778899aabbccddeeff00112233";

/// A running server; killed when dropped (and it exits by itself if this process dies, as its
/// stdin closes).
pub struct E2BServer {
    child: Child,
    pub url: String,
    http: reqwest::Client,
}

impl E2BServer {
    /// Starts a server, or `None` (with the reason printed) when `node` is not available.
    pub fn start() -> Option<Self> {
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../__test__/support/e2b-server.js");
        let spawned = Command::new("node")
            .arg(&script)
            .args([
                "--api-key",
                KEY,
                "--line-delay-ms",
                "1",
                "--exit-on-stdin-close",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(e) => {
                eprintln!("skipped: cannot run `node` ({e}); the E2B tests need Node.js on PATH");
                return None;
            }
        };
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the server prints its URL");
        let info: Value = serde_json::from_str(&line).expect("a JSON line");
        let url = info["url"].as_str().expect("url").to_string();
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        Some(Self { child, url, http })
    }

    /// `POST /__control` with `body`; the answer.
    pub async fn control(&self, body: Value) -> Value {
        let answer: Value = self
            .http
            .post(format!("{}/__control", self.url))
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(answer["ok"], true, "{answer}");
        answer
    }

    /// Adds a fault rule (see `__test__/support/README.md`).
    pub async fn fault(&self, rule: Value) {
        self.control(json!({"action": "setFault", "fault": rule}))
            .await;
    }

    /// Every request received so far, oldest first.
    pub async fn requests(&self) -> Vec<Value> {
        let answer = self.control(json!({"action": "requests"})).await;
        answer["requests"].as_array().unwrap().clone()
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

impl Drop for E2BServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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
