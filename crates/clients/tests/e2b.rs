//! `E2BSandboxCircuitBreaker` against the protocol-faithful local E2B server run as a child
//! process (`e2b/support.rs`): the create / execute / list / timeout / stop round trip, output
//! streams, bad arguments and where the API key may appear; what trips the breaker and what
//! does not is in `e2b/breaker.rs`.

#[path = "e2b/breaker.rs"]
mod breaker;
#[path = "common/node_server.rs"]
mod node_server;
#[path = "e2b/support.rs"]
mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use neural_trader_clients::e2b::{
    CreateOptions, E2BOptions, E2BSandboxCircuitBreaker, ExecuteOptions,
};
use serde_json::{json, Value};
use support::{server_or_skip, KEY};

const LONG: Duration = Duration::from_secs(60);

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[tokio::test]
async fn create_execute_list_extend_and_stop() {
    let server = server_or_skip!();
    let e2b = server.default_client();
    let id = e2b
        .create_sandbox_with(
            "base",
            CreateOptions {
                timeout_secs: 120,
                metadata: map(&[("strategy", "momentum")]),
                env_vars: map(&[("GREETING", "hi")]),
            },
        )
        .await
        .unwrap();

    let hello = e2b.execute_code(&id, "print('hello')").await.unwrap();
    assert_eq!(hello.stdout, ["hello\n"]);
    assert!(hello.stderr.is_empty() && hello.results.is_empty() && hello.error.is_none());
    assert_eq!(hello.execution_count, Some(1));

    let code = "import os, sys\nx = 6\nprint(os.environ['GREETING'], os.environ['RUN'])\n\
                print('careful', file=sys.stderr)\ndisplay(JSON({'a': 1}))\nx * 7";
    let rich = e2b
        .execute_code_with(
            &id,
            code,
            ExecuteOptions {
                language: Some("python".into()),
                env_vars: map(&[("RUN", "r1")]),
                ..ExecuteOptions::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(rich.stdout, ["hi r1\n"]);
    assert_eq!(rich.stderr, ["careful\n"]);
    assert_eq!(rich.results.len(), 2);
    assert!(!rich.results[0].is_main_result);
    assert_eq!(rich.results[0].json, Some(json!({"a": 1})));
    assert_eq!(rich.text(), Some("42"));
    assert_eq!(rich.execution_count, Some(2));

    let listed = e2b.list_sandboxes().await.unwrap();
    let mine = listed.iter().find(|s| s.sandbox_id == id).unwrap();
    assert_eq!(mine.template_id, "base");
    assert_eq!(mine.metadata, map(&[("strategy", "momentum")]));
    assert_eq!(mine.state.as_deref(), Some("running"));

    e2b.set_sandbox_timeout(&id, 600).await.unwrap();
    let info = e2b.get_sandbox(&id).await.unwrap();
    assert!(info.end_at.is_some());

    assert!(e2b.stop_sandbox(&id).await.unwrap());
    assert!(!e2b.stop_sandbox(&id).await.unwrap(), "already gone");
    assert!(server.sandboxes().await.is_empty());

    let m = e2b.metrics();
    assert_eq!(
        (m.successful_calls, m.failed_calls, m.ignored_calls),
        (7, 0, 1)
    );
    assert_eq!(e2b.get_state().await, "CLOSED");

    let requests = server.requests().await;
    let create = &requests[0];
    assert_eq!(create["path"], "/sandboxes");
    assert_eq!(
        create["json"],
        json!({"templateID": "base", "timeout": 120, "metadata": {"strategy": "momentum"},
               "envVars": {"GREETING": "hi"}, "secure": true})
    );
    assert_eq!(requests[2]["json"]["env_vars"], json!({"RUN": "r1"}));
    let timeout = requests.iter().find(|r| r["route"] == "timeout").unwrap();
    assert_eq!(timeout["json"], json!({"timeout": 600}));
}

#[tokio::test]
async fn keepalive_lines_are_skipped() {
    let server = server_or_skip!();
    server
        .control(json!({"action": "setOptions", "keepaliveMs": 40}))
        .await;
    let e2b = server.default_client();
    let id = e2b.create_sandbox("base").await.unwrap();
    let run = e2b
        .execute_code(&id, "print('a')\nsleep(0.2)\nprint('b')")
        .await
        .unwrap();
    assert_eq!(run.stdout, ["a\n", "b\n"]);
}

#[tokio::test]
async fn without_an_api_key_nothing_is_sent() {
    let server = server_or_skip!();
    let mut options = server.options();
    options.api_key = None;
    let e2b = E2BSandboxCircuitBreaker::with_options(options).unwrap();
    assert!(!e2b.configured());
    assert_eq!(
        e2b.create_sandbox("base").await.unwrap_err().code(),
        "ERR_E2B_NO_API_KEY"
    );
    assert_eq!(
        e2b.execute_code("abc", "1").await.unwrap_err().code(),
        "ERR_E2B_NO_API_KEY"
    );
    assert_eq!(
        e2b.list_sandboxes().await.unwrap_err().code(),
        "ERR_E2B_NO_API_KEY"
    );
    assert!(e2b
        .stop_sandbox("abc")
        .await
        .unwrap_err()
        .to_string()
        .contains("E2B_API_KEY"));
    assert!(server.requests().await.is_empty());
    assert_eq!(e2b.metrics().total_calls, 0);
}

#[tokio::test]
async fn a_sandbox_created_elsewhere_is_looked_up_once() {
    let server = server_or_skip!();
    let creator = server.default_client();
    let id = creator.create_sandbox("base").await.unwrap();
    let other = server.default_client();
    for _ in 0..2 {
        let run = other.execute_code(&id, "print('x')").await.unwrap();
        assert_eq!(run.stdout, ["x\n"]);
    }
    let routes: Vec<Value> = server
        .requests()
        .await
        .iter()
        .map(|r| r["route"].clone())
        .collect();
    assert_eq!(
        routes,
        ["createSandbox", "getSandbox", "execute", "execute"]
    );
}

#[tokio::test]
async fn listing_follows_next_tokens() {
    let server = server_or_skip!();
    let e2b = server.default_client();
    let mut ids = Vec::new();
    for _ in 0..105 {
        ids.push(e2b.create_sandbox("base").await.unwrap());
    }
    server.control(json!({"action": "clearRequests"})).await;
    let listed: Vec<String> = e2b
        .list_sandboxes()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.sandbox_id)
        .collect();
    assert_eq!(listed, ids);
    let requests = server.requests().await;
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0]["query"], json!({"limit": "100"}));
    assert!(requests[1]["query"]["nextToken"].is_string());
}

#[tokio::test]
async fn the_api_key_goes_to_the_control_plane_only() {
    let server = server_or_skip!();
    let e2b = server.client(5, LONG, LONG);
    let id = e2b.create_sandbox("base").await.unwrap();
    e2b.execute_code(&id, "print(1)").await.unwrap();
    e2b.list_sandboxes().await.unwrap();
    server
        .fault(json!({"route": "execute", "status": 500, "times": 1}))
        .await;
    let err = e2b.execute_code(&id, "1").await.unwrap_err();
    let mut errors = vec![err];
    errors.push(e2b.execute_code("unknown1", "1").await.unwrap_err());
    server
        .fault(json!({"route": "deleteSandbox", "kind": "drop", "times": 1}))
        .await;
    errors.push(e2b.stop_sandbox(&id).await.unwrap_err());
    e2b.stop_sandbox(&id).await.unwrap();

    assert!(server.sandboxes().await.is_empty(), "stopped");
    for request in server.requests().await {
        let headers = request["headers"].as_object().unwrap();
        let interpreter = request["route"] == "execute";
        if interpreter {
            assert!(headers.get("x-api-key").is_none(), "{request}");
            assert_eq!(headers["e2b-sandbox-id"], id.as_str());
            assert_eq!(headers["e2b-sandbox-port"], "49999");
            assert!(headers["x-access-token"].as_str().unwrap().len() >= 32);
        } else {
            assert_eq!(headers["x-api-key"], KEY, "{request}");
        }
        let elsewhere = headers
            .iter()
            .filter(|(name, _)| *name != "x-api-key")
            .any(|(_, v)| v.to_string().contains(KEY));
        assert!(!elsewhere, "{request}");
        assert!(!request["body"].as_str().unwrap().contains(KEY));
        assert!(!request["path"].as_str().unwrap().contains(KEY));
    }
    for err in &errors {
        assert!(!err.to_string().contains(KEY), "{err}");
        assert!(!format!("{err:?}").contains(KEY), "{err:?}");
    }
    assert!(!format!("{e2b:?}").contains(KEY));
    assert!(!format!("{:?}", e2b.metrics()).contains(KEY));
    assert!(!format!("{:?}", e2b.breaker()).contains(KEY));
}

#[tokio::test]
async fn bad_arguments_are_refused_before_anything_is_sent() {
    let server = server_or_skip!();
    let e2b = server.default_client();
    let both = ExecuteOptions {
        language: Some("python".into()),
        context_id: Some("ctx".into()),
        ..ExecuteOptions::default()
    };
    let cases = [
        e2b.create_sandbox("").await.unwrap_err(),
        e2b.execute_code("", "1").await.unwrap_err(),
        e2b.execute_code("../sandboxes", "1").await.unwrap_err(),
        e2b.execute_code_with("abc", "1", both).await.unwrap_err(),
        e2b.stop_sandbox("a b").await.unwrap_err(),
        e2b.set_sandbox_timeout("a/b", 1).await.unwrap_err(),
    ];
    for err in cases {
        assert_eq!(err.code(), "ERR_INVALID_ARG_VALUE", "{err}");
    }
    assert!(server.requests().await.is_empty());
    assert_eq!(e2b.metrics().total_calls, 0);
    let bad = E2BOptions {
        api_url: Some("ftp://example.test".into()),
        ..E2BOptions::default()
    };
    assert_eq!(
        E2BSandboxCircuitBreaker::with_options(bad)
            .unwrap_err()
            .code(),
        "ERR_INVALID_URL"
    );
}
