//! Inputs that used to harm the process or the model (issue 9), from Rust: a training that
//! diverges is a failure and the model in use stays; `load` refuses what is not a regular file
//! without blocking or reading it; training data beyond `MAX_CELLS` numbers is refused before
//! any work. (The model file reader's own bounds are property-tested in `tests/properties.rs`.)

use neural_trader_clients::neural::builtin::MAX_CELLS;
use neural_trader_clients::neural::{NeuralCircuitBreaker, NeuralError, TrainOptions};

use crate::support::{line, unique, TempPath};

fn linear(epochs: u32) -> TrainOptions {
    TrainOptions {
        epochs,
        learning_rate: 0.01,
        hidden_sizes: vec![],
    }
}

#[tokio::test]
async fn a_training_that_diverges_fails_and_the_model_in_use_stays() {
    let cb = NeuralCircuitBreaker::new(&unique("diverge"));
    let data = line(8, 0.0, 1.0);
    let labels: Vec<Vec<f64>> = data.iter().map(|r| vec![2.0 * r[0]]).collect();
    cb.train_with(data.clone(), labels, linear(20))
        .await
        .unwrap();
    let before = cb.predict(vec![0.5]).await.unwrap();
    // Labels of ±1e300 standardise, but their squared errors overflow f64: the loss is infinite.
    let huge: Vec<Vec<f64>> = (0..data.len())
        .map(|i| vec![if i % 2 == 0 { -1e300 } else { 1e300 }])
        .collect();
    let err = cb.train_with(data, huge, linear(5)).await.unwrap_err();
    assert_eq!(err.code(), "ERR_MODEL_NON_FINITE", "{err}");
    assert_eq!(cb.breaker().metrics().failed_calls, 1, "a failure");
    assert_eq!(
        cb.predict(vec![0.5]).await.unwrap(),
        before,
        "the model in use stays"
    );
}

#[tokio::test]
async fn load_refuses_what_is_not_a_regular_file_without_blocking() {
    let cb = NeuralCircuitBreaker::new(&unique("special"));
    let fifo = TempPath::new("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(fifo.path())
        .status()
        .is_ok_and(|s| s.success());
    let mut paths = vec![std::env::temp_dir()];
    if std::path::Path::new("/dev/zero").exists() {
        paths.push("/dev/zero".into());
    }
    if made {
        paths.push(fifo.path().to_path_buf());
    }
    for path in paths {
        let err = cb.load(path.clone()).await.unwrap_err();
        assert!(
            matches!(err, NeuralError::InvalidModelFile(_)),
            "{}: {err}",
            path.display()
        );
    }
}

#[tokio::test]
async fn training_data_beyond_max_cells_is_refused_before_training() {
    let cb = NeuralCircuitBreaker::new(&unique("cells"));
    let err = cb
        .train_with(vec![vec![0.0; MAX_CELLS + 1]], vec![vec![1.0]], linear(1))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "ERR_OUT_OF_RANGE", "{err}");
    assert_eq!(
        cb.breaker().metrics().total_calls,
        0,
        "refused before the breaker"
    );
}
