//! What the built-in model means for its breaker: non-finite outputs are failures and trip it;
//! a wrong input dimension, out-of-range features and bad files do not count; a training that
//! outlives its deadline fails with `ERR_CIRCUIT_TIMEOUT`, stops, and leaves the model in use
//! as it was (predictions keep being served meanwhile).

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use candle_core::{Device, Tensor};
use neural_trader_clients::neural::{
    BuiltinModel, NeuralCircuitBreaker, NeuralError, NeuralOptions, TrainOptions,
};

use crate::support::{grid, line, unique, TempPath};

/// One layer: weight rows (out x in) and bias.
type Layer<'a> = (&'a [&'a [f32]], &'a [f32]);

/// Writes a model file of the built-in format by hand: `layers`, and inputs and outputs
/// standardised with mean 0 and spread 1 (so the network sees the features as they are).
fn write_model(path: &Path, layers: &[Layer<'_>]) {
    let cpu = Device::Cpu;
    let mut tensors = HashMap::new();
    for (i, (weight, bias)) in layers.iter().enumerate() {
        let rows: Vec<Vec<f32>> = weight.iter().map(|r| r.to_vec()).collect();
        tensors.insert(format!("layer{i}.weight"), Tensor::new(rows, &cpu).unwrap());
        tensors.insert(format!("layer{i}.bias"), Tensor::new(*bias, &cpu).unwrap());
    }
    let dims = [layers[0].0[0].len(), layers[layers.len() - 1].1.len()];
    for (prefix, dim) in ["inputs", "outputs"].into_iter().zip(dims) {
        tensors.insert(
            format!("{prefix}.mean"),
            Tensor::new(vec![0.0_f64; dim], &cpu).unwrap(),
        );
        tensors.insert(
            format!("{prefix}.std"),
            Tensor::new(vec![1.0_f64; dim], &cpu).unwrap(),
        );
    }
    candle_core::safetensors::save(&tensors, path).unwrap();
}

fn breaker(failure_threshold: u32, train_timeout: Duration) -> NeuralCircuitBreaker {
    let mut options = NeuralOptions {
        train_timeout,
        ..NeuralOptions::default()
    };
    options.breaker.failure_threshold = failure_threshold;
    options.breaker.reset_timeout = Duration::from_secs(60);
    NeuralCircuitBreaker::with_options(&unique("builtin"), options).unwrap()
}

#[tokio::test]
async fn non_finite_outputs_are_failures_that_trip_the_breaker() {
    // relu(3e38 x + 3e38) overflows f32 for x = 1 in both hidden units, and the output layer
    // subtracts one from the other: inf - inf = NaN. For x = -1 every value is 0.
    let file = TempPath::new("overflow.safetensors");
    let big = 3e38_f32;
    write_model(
        file.path(),
        &[(&[&[big], &[big]], &[big, big]), (&[&[1.0, -1.0]], &[0.0])],
    );
    let cb = breaker(3, Duration::from_secs(120));
    cb.load(file.path()).await.unwrap();
    assert_eq!(cb.predict(vec![-1.0]).await.unwrap(), vec![0.0]);
    for i in 0..3 {
        assert_eq!(cb.get_state().await, "CLOSED", "before failure {i}");
        let err = cb.predict(vec![1.0]).await.unwrap_err();
        assert_eq!(err.code(), "ERR_MODEL_NON_FINITE", "{err}");
    }
    assert_eq!(cb.get_state().await, "OPEN");
    let err = cb.predict(vec![-1.0]).await.unwrap_err();
    assert_eq!(err.code(), "ERR_CIRCUIT_OPEN", "{err}");
    let m = cb.breaker().metrics();
    assert_eq!(
        (
            m.successful_calls,
            m.failed_calls,
            m.rejected_calls,
            m.times_opened
        ),
        (1, 3, 1, 1)
    );
}

#[tokio::test]
async fn a_model_file_with_non_finite_weights_is_refused() {
    let file = TempPath::new("nan.safetensors");
    write_model(file.path(), &[(&[&[f32::NAN]], &[0.0])]);
    let cb = breaker(1, Duration::from_secs(120));
    let err = cb.load(file.path()).await.unwrap_err();
    assert_eq!(err.code(), "ERR_MODEL_FILE", "{err}");
    assert_eq!(
        cb.predict(vec![1.0]).await.unwrap_err().code(),
        "ERR_MODEL_NOT_TRAINED"
    );
}

#[tokio::test]
async fn wrong_dimensions_and_bad_features_do_not_count() {
    let file = TempPath::new("two-inputs.safetensors");
    // y = a + 2b
    write_model(file.path(), &[(&[&[1.0, 2.0]], &[0.0])]);
    let cb = breaker(1, Duration::from_secs(120));
    cb.load(file.path()).await.unwrap();
    for features in [vec![], vec![1.0], vec![1.0, 2.0, 3.0]] {
        let got = features.len();
        let err = cb.predict(features).await.unwrap_err();
        assert_eq!(err.code(), "ERR_INPUT_DIMENSION");
        assert!(
            matches!(err, NeuralError::InputDimension { expected: 2, got: g } if g == got),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!("the model takes 2 features, got {got}")
        );
    }
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let err = cb.predict(vec![1.0, bad]).await.unwrap_err();
        assert_eq!(err.code(), "ERR_INVALID_ARG_VALUE", "{err}");
    }
    // Finite, but 1e300 standardised is not an f32: refused, not a NaN that trips.
    let err = cb.predict(vec![1e300, 0.0]).await.unwrap_err();
    assert_eq!(err.code(), "ERR_OUT_OF_RANGE", "{err}");
    assert_eq!(cb.get_state().await, "CLOSED");
    assert_eq!(cb.breaker().metrics().total_calls, 0);
    assert_eq!(cb.predict(vec![1.0, 2.0]).await.unwrap(), vec![5.0]);
}

#[tokio::test]
async fn a_training_past_its_deadline_stops_and_the_model_in_use_stays() {
    let file = TempPath::new("previous.safetensors");
    write_model(file.path(), &[(&[&[2.0]], &[1.0])]); // y = 2x + 1
    let cb = Arc::new(breaker(5, Duration::from_millis(300)));
    cb.load(file.path()).await.unwrap();
    assert_eq!(cb.predict(vec![3.0]).await.unwrap(), vec![7.0]);

    let data = line(256, -1.0, 1.0);
    let y: Vec<Vec<f64>> = data.iter().map(|r| vec![r[0].sin()]).collect();
    let started = Instant::now();
    let training = tokio::spawn({
        let cb = Arc::clone(&cb);
        async move {
            cb.train_with(
                data,
                y,
                TrainOptions {
                    epochs: 1_000_000,
                    ..TrainOptions::default()
                },
            )
            .await
        }
    });
    // Meanwhile the previous model answers (training runs on a blocking thread).
    let mut served = 0;
    while !training.is_finished() {
        assert_eq!(cb.predict(vec![3.0]).await.unwrap(), vec![7.0]);
        served += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(served > 0);
    let err = training.await.unwrap().unwrap_err();
    assert_eq!(err.code(), "ERR_CIRCUIT_TIMEOUT", "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the deadline ends the call, not the million epochs"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(cb.predict(vec![3.0]).await.unwrap(), vec![7.0]);
    let m = cb.breaker().metrics();
    assert_eq!(m.failed_calls, 1, "a training timeout is a failure");
    assert_eq!(m.successful_calls, served + 2);
}

#[test]
fn cancelling_stops_a_training_between_two_batches() {
    let model = Arc::new(BuiltinModel::new());
    let cancel = Arc::new(AtomicBool::new(false));
    let data = grid(16, -1.0, 1.0);
    let y: Vec<Vec<f64>> = data.iter().map(|r| vec![r[0] * r[1]]).collect();
    let worker = std::thread::spawn({
        let (model, cancel) = (Arc::clone(&model), Arc::clone(&cancel));
        move || {
            let options = TrainOptions {
                epochs: 1_000_000,
                ..TrainOptions::default()
            };
            model.train_blocking(&data, &y, &options, &cancel)
        }
    });
    std::thread::sleep(Duration::from_millis(100));
    let stopped = Instant::now();
    cancel.store(true, Ordering::Release);
    let result = worker.join().unwrap();
    assert!(matches!(result, Err(NeuralError::Cancelled)), "{result:?}");
    assert!(
        stopped.elapsed() < Duration::from_secs(5),
        "within one batch"
    );
    assert_eq!(model.dims(), None, "a cancelled training swaps nothing in");
}

#[tokio::test]
async fn a_trained_model_reports_its_dimensions() {
    let cb = breaker(1, Duration::from_secs(120));
    let data = grid(4, 0.0, 1.0);
    let y: Vec<Vec<f64>> = data.iter().map(|r| vec![r[0], r[1], 1.0]).collect();
    cb.train_with(
        data,
        y,
        TrainOptions {
            epochs: 2,
            learning_rate: 0.01,
            hidden_sizes: vec![],
        },
    )
    .await
    .unwrap();
    match cb.backend() {
        neural_trader_clients::neural::Backend::Builtin(model) => {
            assert_eq!(model.dims(), Some((2, 3)))
        }
        other => panic!("{other:?}"),
    }
}
