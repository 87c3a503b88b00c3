//! A protocol-faithful test server of `__test__/support/` (E2B, inference) run as a child
//! process: `node <script> <args> --exit-on-stdin-close` prints `{"url": ...}` on its first line
//! and serves until killed (or until this process dies and its stdin closes). Faults and the
//! request log go through `POST /__control` (see `__test__/support/README.md`).

// Each test binary that includes this module uses a different part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};

/// A running server; killed when dropped.
pub struct NodeServer {
    child: Child,
    /// Its base URL (`http://127.0.0.1:PORT`).
    pub url: String,
    http: reqwest::Client,
}

impl NodeServer {
    /// Starts `__test__/support/<script>` with `args`; `None` (after printing why) when `node`
    /// cannot run, so that the calling test can skip.
    pub fn start(script: &str, args: &[&str], what: &str) -> Option<Self> {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../__test__/support")
            .join(script);
        let spawned = Command::new("node")
            .arg(&path)
            .args(args)
            .arg("--exit-on-stdin-close")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(e) => {
                eprintln!("skipped: cannot run `node` ({e}); {what} need Node.js on PATH");
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

    /// Adds a fault rule.
    pub async fn fault(&self, rule: Value) {
        self.control(json!({"action": "setFault", "fault": rule}))
            .await;
    }

    /// Removes every fault rule.
    pub async fn clear_faults(&self) {
        self.control(json!({"action": "clearFaults"})).await;
    }

    /// Every request received so far, oldest first.
    pub async fn requests(&self) -> Vec<Value> {
        let answer = self.control(json!({"action": "requests"})).await;
        answer["requests"].as_array().unwrap().clone()
    }
}

impl Drop for NodeServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
