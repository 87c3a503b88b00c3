//! Remote models over the Open Inference Protocol v2 and TensorFlow Serving REST, against the
//! protocol-faithful local inference server run as a child process: predictions (one output,
//! several, a pinned version), and what trips the breaker (503, NaN or infinite outputs,
//! malformed answers, refused connections, timeouts) and what does not (404, 400).

use std::time::{Duration, Instant};

use neural_trader_clients::neural::{RemoteOptions, RemoteProtocol, TrainOptions};
use serde_json::json;

use crate::support::{remote_breaker, server_or_skip, TempPath};

const PROTOCOLS: [RemoteProtocol; 2] = [RemoteProtocol::V2, RemoteProtocol::TfServing];
const LONG: Duration = Duration::from_secs(30);

/// The fault route of a protocol's predict call.
fn route(protocol: RemoteProtocol) -> &'static str {
    match protocol {
        RemoteProtocol::V2 => "infer",
        RemoteProtocol::TfServing => "predict",
    }
}

#[tokio::test]
async fn remote_models_predict_over_both_protocols() {
    let server = server_or_skip!();
    for protocol in PROTOCOLS {
        let cb = server.breaker(protocol, "m", 5, LONG);
        // y = x0 + 2 x1 + 3 x2 + 0.5
        assert_eq!(cb.predict(vec![1.0, 2.0, 3.0]).await.unwrap(), vec![14.5]);
        assert_eq!(
            cb.predict(vec![-0.5, 0.0, 1e-3]).await.unwrap(),
            vec![0.003]
        );
        let pair = server.breaker(protocol, "pair", 5, LONG);
        assert_eq!(pair.predict(vec![2.0, 5.0]).await.unwrap(), vec![7.0, 4.0]);

        let mut pinned = RemoteOptions::new(server.url.clone(), protocol, "m");
        pinned.version = Some("1".into());
        pinned.headers = vec![("authorization".into(), "Bearer t0ken".into())];
        pinned.proxy_from_env = false;
        let cb = remote_breaker(pinned, 5, LONG);
        assert_eq!(cb.predict(vec![0.0, 0.0, 0.0]).await.unwrap(), vec![0.5]);
        let m = cb.breaker().metrics();
        assert_eq!((m.total_calls, m.successful_calls), (1, 1));
    }
    let requests = server.requests().await;
    let paths: Vec<&str> = requests
        .iter()
        .map(|r| r["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "/v2/models/m/infer",
            "/v2/models/m/infer",
            "/v2/models/pair/infer",
            "/v2/models/m/versions/1/infer",
            "/v1/models/m:predict",
            "/v1/models/m:predict",
            "/v1/models/pair:predict",
            "/v1/models/m/versions/1:predict",
        ]
    );
    assert_eq!(
        requests[0]["json"],
        json!({"inputs": [{"name": "input", "shape": [1, 3], "datatype": "FP64", "data": [1, 2, 3]}]})
    );
    assert_eq!(requests[4]["json"], json!({"instances": [[1, 2, 3]]}));
    assert_eq!(requests[3]["headers"]["authorization"], "Bearer t0ken");
}

#[tokio::test]
async fn unavailable_models_trip_the_breaker() {
    let server = server_or_skip!();
    for protocol in PROTOCOLS {
        server
            .fault(json!({"route": route(protocol), "status": 503}))
            .await;
        let cb = server.breaker(protocol, "m", 2, LONG);
        for _ in 0..2 {
            let err = cb.predict(vec![1.0, 2.0, 3.0]).await.unwrap_err();
            assert_eq!(err.code(), "ERR_HTTP_STATUS", "{err}");
            assert!(err.to_string().contains("503"), "{err}");
        }
        assert_eq!(cb.get_state().await, "OPEN");
        let sent = server.requests().await.len();
        let err = cb.predict(vec![1.0, 2.0, 3.0]).await.unwrap_err();
        assert_eq!(err.code(), "ERR_CIRCUIT_OPEN", "{err}");
        assert_eq!(
            server.requests().await.len(),
            sent,
            "an open circuit sends nothing"
        );
        let m = cb.breaker().metrics();
        assert_eq!((m.failed_calls, m.rejected_calls), (2, 1));
        server.clear_faults().await;
    }
}

#[tokio::test]
async fn unknown_models_and_bad_requests_do_not_trip() {
    let server = server_or_skip!();
    for protocol in PROTOCOLS {
        let missing = server.breaker(protocol, "missing", 1, LONG);
        let wrong_dimension = server.breaker(protocol, "m", 1, LONG);
        for _ in 0..3 {
            let err = missing.predict(vec![1.0, 2.0, 3.0]).await.unwrap_err();
            assert_eq!(err.code(), "ERR_HTTP_STATUS");
            assert!(err.to_string().contains("404"), "{err}");
            let err = wrong_dimension.predict(vec![1.0, 2.0]).await.unwrap_err();
            assert_eq!(err.code(), "ERR_HTTP_STATUS");
            assert!(err.to_string().contains("400"), "{err}");
        }
        for cb in [&missing, &wrong_dimension] {
            assert_eq!(cb.get_state().await, "CLOSED");
            let m = cb.breaker().metrics();
            assert_eq!((m.ignored_calls, m.failed_calls), (3, 0));
        }
        // Features that are not finite numbers are refused before anything is sent.
        let err = wrong_dimension.predict(vec![f64::NAN]).await.unwrap_err();
        assert_eq!(err.code(), "ERR_INVALID_ARG_VALUE");
        let err = wrong_dimension.predict(vec![]).await.unwrap_err();
        assert_eq!(err.code(), "ERR_INVALID_ARG_VALUE");
        assert_eq!(wrong_dimension.breaker().metrics().total_calls, 3);
    }
}

#[tokio::test]
async fn non_finite_and_malformed_outputs_trip_the_breaker() {
    let server = server_or_skip!();
    for protocol in PROTOCOLS {
        let cb = server.breaker(protocol, "m", 3, LONG);
        for value in ["NaN", "Infinity", "-Infinity"] {
            server
                .fault(json!({"route": route(protocol), "kind": "nan", "value": value, "times": 1}))
                .await;
            let err = cb.predict(vec![1.0, 2.0, 3.0]).await.unwrap_err();
            assert_eq!(err.code(), "ERR_MODEL_NON_FINITE", "{value}: {err}");
        }
        assert_eq!(cb.get_state().await, "OPEN");

        // An answer without the instance's output; for v2 also a shape that disagrees with
        // the data (TF Serving has no shape to disagree with).
        let modes: &[&str] = match protocol {
            RemoteProtocol::V2 => &["rows", "mismatch"],
            RemoteProtocol::TfServing => &["rows"],
        };
        for mode in modes {
            let cb = server.breaker(protocol, "m", 1, LONG);
            server
                .fault(json!({"route": route(protocol), "kind": "shape", "mode": mode, "times": 1}))
                .await;
            let err = cb.predict(vec![1.0, 2.0, 3.0]).await.unwrap_err();
            assert_eq!(err.code(), "ERR_MODEL_RESPONSE", "{mode}: {err}");
            assert_eq!(cb.get_state().await, "OPEN");
        }
    }
}

#[tokio::test]
async fn refused_connections_and_timeouts_trip_the_breaker() {
    let server = server_or_skip!();
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    for protocol in PROTOCOLS {
        let mut remote = RemoteOptions::new(format!("http://127.0.0.1:{closed}"), protocol, "m");
        remote.proxy_from_env = false;
        let cb = remote_breaker(remote, 2, LONG);
        for _ in 0..2 {
            let err = cb.predict(vec![1.0, 2.0, 3.0]).await.unwrap_err();
            assert_eq!(err.code(), "ERR_HTTP_CONNECT", "{err}");
        }
        assert_eq!(cb.get_state().await, "OPEN");

        server
            .fault(json!({"route": route(protocol), "kind": "hang"}))
            .await;
        let cb = server.breaker(protocol, "m", 2, Duration::from_millis(200));
        for _ in 0..2 {
            let started = Instant::now();
            let err = cb.predict(vec![1.0, 2.0, 3.0]).await.unwrap_err();
            assert_eq!(err.code(), "ERR_CIRCUIT_TIMEOUT", "{err}");
            assert!(started.elapsed() >= Duration::from_millis(200));
        }
        assert_eq!(cb.get_state().await, "OPEN");
        server.clear_faults().await;
    }
}

#[tokio::test]
async fn remote_models_are_not_trained_or_saved_here() {
    let server = server_or_skip!();
    let cb = server.breaker(RemoteProtocol::V2, "m", 1, LONG);
    let err = cb
        .train_with(vec![vec![1.0]], vec![vec![1.0]], TrainOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "ERR_NOT_SUPPORTED");
    let file = TempPath::new("remote.safetensors");
    assert_eq!(
        cb.save(file.path()).await.unwrap_err().code(),
        "ERR_NOT_SUPPORTED"
    );
    assert_eq!(
        cb.load(file.path()).await.unwrap_err().code(),
        "ERR_NOT_SUPPORTED"
    );
    assert_eq!(cb.breaker().metrics().total_calls, 0);
}
