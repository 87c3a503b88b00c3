//! `NeuralCircuitBreaker` with its built-in model: it learns a linear map, a non-linear one
//! and several outputs at once to a stated loss; save / load round trips; bad files, bad data
//! and predictions before training are typed errors that leave the breaker alone. What trips
//! the breaker is in `neural/breaker.rs`; remote model servers in `neural/remote.rs`.
//!
//! Sizes are chosen so that every training here takes well under a second in a debug build
//! (candle without optimisations runs a [32, 32] network at a few ms per batch).

#[path = "neural/breaker.rs"]
mod breaker;
#[path = "neural/inputs.rs"]
mod inputs;
#[path = "common/node_server.rs"]
mod node_server;
#[path = "neural/remote.rs"]
mod remote;
#[path = "neural/support.rs"]
mod support;

use neural_trader_clients::neural::{NeuralCircuitBreaker, NeuralError, TrainOptions};
use support::{grid, labels, line, unique, TempPath};

fn options(epochs: u32, learning_rate: f64, hidden_sizes: &[usize]) -> TrainOptions {
    TrainOptions {
        epochs,
        learning_rate,
        hidden_sizes: hidden_sizes.to_vec(),
    }
}

fn close(got: f64, want: f64, tolerance: f64, what: &str) {
    assert!(
        (got - want).abs() <= tolerance,
        "{what}: got {got}, want {want} ± {tolerance}"
    );
}

async fn predict1(cb: &NeuralCircuitBreaker, features: &[f64]) -> f64 {
    let out = cb.predict(features.to_vec()).await.unwrap();
    assert_eq!(out.len(), 1);
    out[0]
}

fn linear_map(r: &[f64]) -> f64 {
    2.0 * r[0] - 3.0 * r[1] + 1.0
}

#[tokio::test]
async fn a_linear_model_learns_a_linear_map_exactly() {
    let cb = NeuralCircuitBreaker::new(&unique("linear"));
    let data = grid(16, -2.0, 2.0);
    let y = labels(&data, linear_map);
    // No hidden layer: least squares by AdamW, in the standardised space.
    let report = cb
        .train_with(data, y, options(200, 0.05, &[]))
        .await
        .unwrap();
    assert_eq!(report.epochs, 200);
    eprintln!("linear map, linear model: loss {:e}", report.loss);
    assert!(report.loss < 1e-6, "loss {}", report.loss);
    // Off the grid, and a little outside it: a linear model extrapolates.
    for p in [[0.3, -1.1], [1.7, 0.9], [-2.5, 2.5]] {
        close(predict1(&cb, &p).await, linear_map(&p), 1e-3, "y(a, b)");
    }
    let m = cb.breaker().metrics();
    assert_eq!((m.total_calls, m.successful_calls), (4, 4));
}

#[tokio::test]
async fn a_hidden_layer_network_learns_a_linear_map() {
    let cb = NeuralCircuitBreaker::new(&unique("linear-mlp"));
    let data = grid(12, -2.0, 2.0);
    let y = labels(&data, linear_map);
    // The labels span [-9, 11] (variance ~ 19): a loss of 0.05 is a 0.2 RMS error.
    let report = cb
        .train_with(data, y, options(150, 0.01, &[16]))
        .await
        .unwrap();
    eprintln!("linear map, [16] network: loss {:e}", report.loss);
    assert!(report.loss < 0.05, "loss {}", report.loss);
    for p in [[0.3, -1.1], [1.5, 0.5], [-1.0, -1.0]] {
        close(predict1(&cb, &p).await, linear_map(&p), 0.3, "y(a, b)");
    }
}

#[tokio::test]
async fn a_network_learns_sine_where_a_linear_model_cannot() {
    let data = line(128, -3.0, 3.0);
    let y = labels(&data, |r| r[0].sin());

    let linear = NeuralCircuitBreaker::new(&unique("sine-linear"));
    let report = linear
        .train_with(data.clone(), y.clone(), options(100, 0.05, &[]))
        .await
        .unwrap();
    // The best line through sin on [-3, 3] leaves most of its variance (~0.5) unexplained.
    eprintln!("sine, linear model: loss {:e}", report.loss);
    assert!(report.loss > 0.05, "a line fits sine? loss {}", report.loss);

    let cb = NeuralCircuitBreaker::new(&unique("sine"));
    let report = cb
        .train_with(data, y, options(300, 0.01, &[32]))
        .await
        .unwrap();
    eprintln!("sine, [32] network: loss {:e}", report.loss);
    assert!(report.loss < 2e-3, "loss {}", report.loss);
    for x in [-2.55, -1.3, 0.07, 1.0, 2.2] {
        close(predict1(&cb, &[x]).await, f64::sin(x), 0.1, "sin x");
    }
}

#[tokio::test]
async fn the_default_options_learn_a_square() {
    let cb = NeuralCircuitBreaker::new(&unique("square"));
    let data = line(64, -2.0, 2.0);
    let y: Vec<f64> = data.iter().map(|r| r[0] * r[0]).collect();
    // `train`: one label per row, the defaults ([32, 32], 200 epochs, learning rate 0.01).
    let report = cb.train(data, y).await.unwrap();
    assert_eq!(report.epochs, 200);
    eprintln!("square, default [32, 32] network: loss {:e}", report.loss);
    assert!(report.loss < 5e-3, "loss {}", report.loss);
    for x in [-1.5, -0.4, 0.0, 0.9, 1.75] {
        close(predict1(&cb, &[x]).await, x * x, 0.15, "x²");
    }
}

#[tokio::test]
async fn several_outputs_are_learned_at_once() {
    let cb = NeuralCircuitBreaker::new(&unique("multi"));
    let data = grid(10, -1.0, 1.0);
    let y: Vec<Vec<f64>> = data
        .iter()
        .map(|r| vec![r[0] + r[1], 10.0 * (r[0] - r[1]), -5.0])
        .collect();
    let report = cb
        .train_with(data, y, options(200, 0.05, &[]))
        .await
        .unwrap();
    eprintln!("three outputs, linear model: loss {:e}", report.loss);
    assert!(report.loss < 1e-6, "loss {}", report.loss);
    let out = cb.predict(vec![0.25, -0.5]).await.unwrap();
    assert_eq!(out.len(), 3);
    close(out[0], -0.25, 1e-3, "a + b");
    close(out[1], 7.5, 1e-2, "10 (a - b)");
    // A constant column is learned as its value.
    close(out[2], -5.0, 1e-3, "constant");
}

#[tokio::test]
async fn a_saved_model_loads_with_the_same_predictions() {
    let cb = NeuralCircuitBreaker::new(&unique("save"));
    let data = grid(8, -1.0, 1.0);
    let y: Vec<Vec<f64>> = data
        .iter()
        .map(|r| vec![(r[0] * 3.0).sin(), r[0] * r[1] * 1000.0])
        .collect();
    cb.train_with(data, y, options(20, 0.01, &[8, 4]))
        .await
        .unwrap();
    let file = TempPath::new("model.safetensors");
    cb.save(file.path()).await.unwrap();

    let other = NeuralCircuitBreaker::new(&unique("load"));
    other.load(file.path()).await.unwrap();
    for p in [[0.1, 0.2], [-0.9, 0.4], [1.3, -1.7]] {
        let want = cb.predict(p.to_vec()).await.unwrap();
        let got = other.predict(p.to_vec()).await.unwrap();
        assert_eq!(
            got, want,
            "the same weights and standardisation, bit for bit"
        );
    }

    // Saving again replaces the file (written aside and renamed into place).
    other.save(file.path()).await.unwrap();
    cb.load(file.path()).await.unwrap();
    let leftovers = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with(
                &file
                    .path()
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
            ) && name.ends_with(".tmp")
        })
        .count();
    assert_eq!(leftovers, 0);
}

#[tokio::test]
async fn bad_model_files_are_refused_and_the_model_in_use_stays() {
    let cb = NeuralCircuitBreaker::new(&unique("files"));
    let data = line(16, 0.0, 1.0);
    cb.train_with(data.clone(), labels(&data, |r| r[0]), options(5, 0.01, &[]))
        .await
        .unwrap();
    let before = cb.predict(vec![0.5]).await.unwrap();

    let garbage = TempPath::new("garbage.safetensors");
    std::fs::write(
        garbage.path(),
        b"\x10\x00\x00\x00\x00\x00\x00\x00not a header at all",
    )
    .unwrap();
    let foreign = TempPath::new("foreign.safetensors");
    let tensor = candle_core::Tensor::new(&[1.0_f32, 2.0], &candle_core::Device::Cpu).unwrap();
    candle_core::safetensors::save(
        &std::collections::HashMap::from([("embedding".to_string(), tensor)]),
        foreign.path(),
    )
    .unwrap();
    let empty = TempPath::new("empty.safetensors");
    std::fs::write(empty.path(), b"").unwrap();
    for file in [&garbage, &foreign, &empty] {
        let err = cb.load(file.path()).await.unwrap_err();
        assert_eq!(
            err.code(),
            "ERR_MODEL_FILE",
            "{}: {err}",
            file.path().display()
        );
        assert!(matches!(err, NeuralError::InvalidModelFile(_)));
    }

    let missing = TempPath::new("missing.safetensors");
    let err = cb.load(missing.path()).await.unwrap_err();
    assert_eq!(err.code(), "ERR_MODEL_IO", "{err}");
    assert!(err.to_string().contains("missing.safetensors"), "{err}");
    let err = cb
        .save(std::env::temp_dir().join(unique("no-such-dir")).join("m"))
        .await;
    assert_eq!(err.unwrap_err().code(), "ERR_MODEL_IO");

    assert_eq!(cb.predict(vec![0.5]).await.unwrap(), before);
    let m = cb.breaker().metrics();
    assert_eq!(
        (m.total_calls, m.failed_calls),
        (3, 0),
        "files are not breaker calls (3: one training, two predictions)"
    );
}

#[tokio::test]
async fn an_untrained_model_neither_predicts_nor_saves() {
    let cb = NeuralCircuitBreaker::new(&unique("untrained"));
    for _ in 0..10 {
        let err = cb.predict(vec![1.0, 2.0]).await.unwrap_err();
        assert_eq!(err.code(), "ERR_MODEL_NOT_TRAINED");
    }
    let file = TempPath::new("untrained.safetensors");
    assert_eq!(
        cb.save(file.path()).await.unwrap_err().code(),
        "ERR_MODEL_NOT_TRAINED"
    );
    assert!(!file.path().exists());
    assert_eq!(cb.get_state().await, "CLOSED");
    assert_eq!(
        cb.breaker().metrics().total_calls,
        0,
        "refused before the breaker"
    );
}

#[tokio::test]
async fn bad_training_data_and_options_are_refused_before_the_breaker() {
    let cb = NeuralCircuitBreaker::new(&unique("bad-data"));
    let row = vec![vec![1.0, 2.0]];
    let one = vec![vec![1.0]];
    type Case = (Vec<Vec<f64>>, Vec<Vec<f64>>, TrainOptions, &'static str);
    let cases: Vec<Case> = vec![
        (
            vec![],
            vec![],
            TrainOptions::default(),
            "ERR_INVALID_ARG_VALUE",
        ),
        (
            row.clone(),
            vec![],
            TrainOptions::default(),
            "ERR_INVALID_ARG_VALUE",
        ),
        (
            vec![vec![1.0, 2.0], vec![3.0]],
            vec![vec![1.0]; 2],
            TrainOptions::default(),
            "ERR_INVALID_ARG_VALUE",
        ),
        (
            row.clone(),
            vec![vec![]],
            TrainOptions::default(),
            "ERR_INVALID_ARG_VALUE",
        ),
        (
            vec![vec![1.0, f64::NAN]],
            one.clone(),
            TrainOptions::default(),
            "ERR_INVALID_ARG_VALUE",
        ),
        (
            row.clone(),
            vec![vec![f64::INFINITY]],
            TrainOptions::default(),
            "ERR_INVALID_ARG_VALUE",
        ),
        (
            vec![vec![f64::MAX], vec![-f64::MAX], vec![f64::MAX]],
            vec![vec![1.0]; 3],
            TrainOptions::default(),
            "ERR_INVALID_ARG_VALUE",
        ),
        (
            row.clone(),
            one.clone(),
            options(0, 0.01, &[]),
            "ERR_OUT_OF_RANGE",
        ),
        (
            row.clone(),
            one.clone(),
            options(1, 0.0, &[]),
            "ERR_OUT_OF_RANGE",
        ),
        (
            row.clone(),
            one.clone(),
            options(1, f64::NAN, &[]),
            "ERR_OUT_OF_RANGE",
        ),
        (
            row.clone(),
            one.clone(),
            options(1, 11.0, &[]),
            "ERR_OUT_OF_RANGE",
        ),
        (
            row.clone(),
            one.clone(),
            options(1, 0.01, &[0]),
            "ERR_OUT_OF_RANGE",
        ),
        (
            row.clone(),
            one.clone(),
            options(1, 0.01, &[4097]),
            "ERR_OUT_OF_RANGE",
        ),
        (
            row.clone(),
            one.clone(),
            options(1, 0.01, &[4096, 4096]),
            "ERR_OUT_OF_RANGE",
        ),
    ];
    for (i, (data, y, opts, code)) in cases.into_iter().enumerate() {
        let err = cb.train_with(data, y, opts).await.unwrap_err();
        assert_eq!(err.code(), code, "case {i}: {err}");
    }
    assert_eq!(cb.breaker().metrics().total_calls, 0);
    let err = cb.predict(vec![1.0, 2.0]).await.unwrap_err();
    assert_eq!(err.code(), "ERR_MODEL_NOT_TRAINED", "nothing was trained");
}

#[tokio::test]
async fn training_is_repeatable() {
    let data = grid(6, -1.0, 1.0);
    let y = labels(&data, |r| (r[0] * 2.0).sin() + r[1]);
    let mut results = Vec::new();
    for _ in 0..2 {
        let cb = NeuralCircuitBreaker::new(&unique("repeat"));
        let report = cb
            .train_with(data.clone(), y.clone(), options(10, 0.01, &[8]))
            .await
            .unwrap();
        results.push((report.loss, cb.predict(vec![0.3, 0.4]).await.unwrap()));
    }
    assert_eq!(results[0], results[1], "same data and options, same model");
}
