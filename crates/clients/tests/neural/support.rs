//! Support of the neural tests: the protocol-faithful local inference server
//! (`__test__/support/inference-server.js`) as a child process, temporary files, and data sets.
//!
//! The server (see `common/node_server.rs`) serves the Open Inference Protocol v2 and TensorFlow
//! Serving REST for linear models y = W·x + b.
//! Tests skip (with a printed reason) when `node` is not on PATH.

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use neural_trader_clients::neural::{
    NeuralCircuitBreaker, NeuralOptions, RemoteOptions, RemoteProtocol,
};

use crate::node_server::NodeServer;

/// The models the server serves: `m` is y = x0 + 2 x1 + 3 x2 + 0.5 (versions 1 and 2), `pair`
/// has two outputs, (x0 + x1, x1 - x0 + 1).
const MODELS: &str = r#"{"models": {
    "m": {"weights": [1, 2, 3], "bias": 0.5, "versions": ["1", "2"]},
    "pair": {"weights": [[1, 1], [-1, 1]], "bias": [0, 1]}
}}"#;

/// A running inference server; killed when dropped.
pub struct InferenceServer(NodeServer);

impl Deref for InferenceServer {
    type Target = NodeServer;
    fn deref(&self) -> &NodeServer {
        &self.0
    }
}

impl InferenceServer {
    /// Starts a server, or `None` (with the reason printed) when `node` is not available.
    pub fn start() -> Option<Self> {
        NodeServer::start(
            "inference-server.js",
            &["--config", MODELS],
            "the remote model tests",
        )
        .map(Self)
    }

    /// A breaker over `model` on this server, opening after `failure_threshold` failures,
    /// with a 60 s reset timeout and `predict_timeout`.
    pub fn breaker(
        &self,
        protocol: RemoteProtocol,
        model: &str,
        failure_threshold: u32,
        predict_timeout: Duration,
    ) -> NeuralCircuitBreaker {
        let mut remote = RemoteOptions::new(self.url.clone(), protocol, model);
        remote.proxy_from_env = false;
        remote_breaker(remote, failure_threshold, predict_timeout)
    }
}

/// A breaker over `remote` with `failure_threshold`, a 60 s reset timeout and
/// `predict_timeout`.
pub fn remote_breaker(
    remote: RemoteOptions,
    failure_threshold: u32,
    predict_timeout: Duration,
) -> NeuralCircuitBreaker {
    let mut options = NeuralOptions {
        predict_timeout,
        remote: Some(remote),
        ..NeuralOptions::default()
    };
    options.breaker.failure_threshold = failure_threshold;
    options.breaker.reset_timeout = Duration::from_secs(60);
    NeuralCircuitBreaker::with_options(&unique("remote"), options).unwrap()
}

/// Starts a server or returns from the test (node missing).
macro_rules! server_or_skip {
    () => {
        match $crate::support::InferenceServer::start() {
            Some(server) => server,
            None => return,
        }
    };
}
pub(crate) use server_or_skip;

/// A name no other test uses.
pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A path in the temporary directory, removed (with anything saved next to it) when dropped.
pub struct TempPath(pub PathBuf);

impl TempPath {
    /// A fresh path ending in `name`.
    pub fn new(name: &str) -> Self {
        Self(std::env::temp_dir().join(format!("{}-{name}", unique("neural-test"))))
    }

    /// The path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A `side` x `side` grid over [lo, hi]², as rows `[a, b]`.
pub fn grid(side: usize, lo: f64, hi: f64) -> Vec<Vec<f64>> {
    let step = (hi - lo) / (side - 1) as f64;
    (0..side * side)
        .map(|i| vec![lo + (i / side) as f64 * step, lo + (i % side) as f64 * step])
        .collect()
}

/// `n` evenly spaced points over [lo, hi], as one-feature rows.
pub fn line(n: usize, lo: f64, hi: f64) -> Vec<Vec<f64>> {
    (0..n)
        .map(|i| vec![lo + (hi - lo) * i as f64 / (n - 1) as f64])
        .collect()
}

/// `f` of every row, as one-value labels.
pub fn labels(rows: &[Vec<f64>], f: impl Fn(&[f64]) -> f64) -> Vec<Vec<f64>> {
    rows.iter().map(|r| vec![f(r)]).collect()
}
