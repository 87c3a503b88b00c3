//! The original design's "E2B Sandbox Operations" snippet (`ARCHITECTURE.md`), through the path it uses
//! (`neural_trader_napi::resilience`) and `E2BSandboxCircuitBreaker::new()` (configured from
//! the environment as the E2B SDKs are), against the local E2B server
//! (`__test__/support/e2b-server.js`) run as a child process. Skipped, with the reason printed,
//! when `node` is not on PATH. Its own test binary (it sets environment variables); named so
//! that `cargo test -p neural-trader-napi circuit_breaker` runs it with the other snippets.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use neural_trader_napi::resilience::E2BSandboxCircuitBreaker;

const KEY: &str = "e2b_0a1b2c3d4e5f60718293a4b5c6d7e8f901234567";

/// The server child process, killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the server; its URL, or `None` when `node` cannot run.
fn start_server() -> Option<(Server, String)> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("__test__/support/e2b-server.js");
    let mut child = match Command::new("node")
        .arg(script)
        .args([
            "--api-key",
            KEY,
            "--line-delay-ms",
            "1",
            "--exit-on-stdin-close",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => {
            eprintln!("skipped: cannot run `node` ({e}); this test needs Node.js on PATH");
            return None;
        }
    };
    let mut line = String::new();
    BufReader::new(child.stdout.take()?)
        .read_line(&mut line)
        .ok()?;
    // {"url":"http://127.0.0.1:PORT","apiKey":"..."}
    let url = line
        .split("\"url\":\"")
        .nth(1)?
        .split('"')
        .next()?
        .to_string();
    Some((Server(child), url))
}

#[tokio::test]
async fn circuit_breaker_e2b_sandbox_operations() -> anyhow::Result<()> {
    let Some((_server, url)) = start_server() else {
        return Ok(());
    };
    std::env::set_var("E2B_API_KEY", KEY);
    std::env::set_var("E2B_API_URL", &url);
    std::env::set_var("E2B_SANDBOX_URL", &url);
    std::env::set_var("NO_PROXY", "127.0.0.1,localhost");

    let sandbox_cb = E2BSandboxCircuitBreaker::new();

    // Create sandbox
    let sandbox_id = sandbox_cb.create_sandbox("base").await?;

    // Execute code
    let result = sandbox_cb
        .execute_code(&sandbox_id, "print('hello')")
        .await?;
    assert_eq!(result.stdout, ["hello\n"]);
    assert!(result.error.is_none());

    // Stop sandbox
    assert!(sandbox_cb.stop_sandbox(&sandbox_id).await?);

    assert_eq!(sandbox_cb.get_state().await, "CLOSED");
    assert_eq!(sandbox_cb.metrics().successful_calls, 3);
    Ok(())
}
