//! The trading system, as the original design's end-to-end test uses it (`ARCHITECTURE.md`), against a real local
//! HTTP server: 5 failing quote requests open `market_data_api`.

mod http_support;

use neural_trader_clients::http::ApiError;
use neural_trader_clients::trading::{TradingOptions, TradingSystemCircuitBreakers, BREAKER_NAMES};

fn system_for(server: &http_support::TestServer) -> TradingSystemCircuitBreakers {
    let mut options = TradingOptions::default();
    // `/status/500/...`: the test server answers every quote with a 500.
    options.market_data.base_url = Some(server.url("/status/500/"));
    options.market_data.proxy_from_env = false;
    options.order_execution.base_url = Some(server.url("/"));
    options.order_execution.proxy_from_env = false;
    options.e2b.api_key = None;
    TradingSystemCircuitBreakers::with_options(options).expect("valid options")
}

#[tokio::test]
async fn test_end_to_end_scenario() {
    let server = http_support::TestServer::start().await;
    let system = system_for(&server);

    // Simulate failures
    for _ in 0..5 {
        let _ = system
            .market_data_api
            .get::<serde_json::Value>("v1/quotes/FAIL")
            .await;
    }

    // Verify circuit opened
    let health = system.health_status().await;
    assert!(health
        .iter()
        .find(|(name, _)| name == "market_data_api")
        .unwrap()
        .1
        .starts_with("OPEN"));

    // The sixth call is refused without reaching the server.
    let before = server.requests();
    let err = system
        .market_data_api
        .get::<serde_json::Value>("v1/quotes/AAPL")
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::Circuit(_)), "{err}");
    assert_eq!(server.requests(), before);
}

#[tokio::test]
async fn health_status_lists_every_breaker_and_the_registry_holds_them() {
    let server = http_support::TestServer::start().await;
    let system = system_for(&server);
    let health = system.health_status().await;
    let names: Vec<&str> = health.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, BREAKER_NAMES);
    assert!(health.iter().all(|(_, s)| s == "CLOSED"));

    let json: serde_json::Value = system.order_execution_api.get("json").await.unwrap();
    assert_eq!(json["symbol"], "AAPL");
    let rows: Vec<serde_json::Value> = system.database.query("SELECT 1 AS one").await.unwrap();
    assert_eq!(rows[0]["one"], 1);
    let metrics = system.all_metrics();
    assert_eq!(metrics.len(), 5);
    assert_eq!(metrics["order_execution_api"].successful_calls, 1);
    assert_eq!(metrics["database"].successful_calls, 1);
    assert!(!system.e2b_sandbox.configured());
}
