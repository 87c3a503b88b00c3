//! Model inference and training behind a circuit breaker.
//!
//! Two backends:
//! - [`Backend::Builtin`]: a small feed-forward regressor trained in-process with candle-nn
//!   ([`builtin`]); training runs on a blocking thread, off the async workers and the JS thread.
//! - [`Backend::Remote`]: a model server speaking the Open Inference Protocol v2 (Triton, KServe,
//!   MLServer) or TensorFlow Serving REST ([`remote`]), over the HTTP layer of
//!   [`crate::http::ApiCircuitBreaker`].
//!
//! Behind the `neural` feature (candle), which implies `http`: the remote backend is always
//! there, so that [`Backend`] and [`NeuralError`] carry no `cfg`.
//!
//! Failures that trip: timeouts (30 s to predict, 120 s to train, by default), 5xx, connection
//! errors, NaN or infinite outputs. A wrong input dimension is refused before the breaker
//! (`ERR_INPUT_DIMENSION`) and does not trip.

pub mod builtin;
mod error;
pub mod remote;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use neural_trader_resilience::{
    validate_duration, CallError, CircuitBreaker, CircuitBreakerConfig, ConfigError, Outcome,
};

pub use builtin::{BuiltinModel, TrainOptions, TrainReport};
pub use error::NeuralError;
pub use remote::{RemoteModel, RemoteOptions, RemoteProtocol};

/// Where predictions come from.
#[derive(Debug)]
pub enum Backend {
    /// The in-process model.
    Builtin(Arc<BuiltinModel>),
    /// A model server.
    Remote(Box<RemoteModel>),
}

/// Options of a [`NeuralCircuitBreaker`].
#[derive(Debug, Clone)]
pub struct NeuralOptions {
    /// The breaker (its `timeout` is not used: see the two timeouts below).
    pub breaker: CircuitBreakerConfig,
    /// Deadline of a prediction (default 30 s).
    pub predict_timeout: Duration,
    /// Deadline of a training (default 120 s).
    pub train_timeout: Duration,
    /// `None`: the built-in model; `Some`: a model server.
    pub remote: Option<RemoteOptions>,
}

impl NeuralOptions {
    /// Checks every field but `breaker` (checked when the breaker is made) against its range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        validate_duration("predict_timeout", self.predict_timeout)?;
        validate_duration("train_timeout", self.train_timeout)?;
        if let Some(remote) = &self.remote {
            remote.validate()?;
        }
        Ok(())
    }
}

impl Default for NeuralOptions {
    fn default() -> Self {
        Self {
            breaker: CircuitBreakerConfig::default(),
            predict_timeout: Duration::from_secs(30),
            train_timeout: Duration::from_secs(120),
            remote: None,
        }
    }
}

/// A model behind a circuit breaker.
///
/// ```
/// use neural_trader_clients::neural::NeuralCircuitBreaker;
///
/// # #[tokio::main(flavor = "multi_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let neural_cb = NeuralCircuitBreaker::new("price_predictor");
/// let training_data: Vec<Vec<f64>> = (0..64).map(|i| vec![i as f64, 1.0, 2.0]).collect();
/// let labels: Vec<f64> = training_data.iter().map(|r| 2.0 * r[0] + 1.0).collect();
/// neural_cb.train(training_data, labels).await?;
/// let prediction = neural_cb.predict(vec![1.0, 2.0, 3.0]).await?;
/// assert_eq!(prediction.len(), 1);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct NeuralCircuitBreaker {
    breaker: Arc<CircuitBreaker>,
    backend: Backend,
    predict_timeout: Duration,
    train_timeout: Duration,
}

/// Sets `cancel` when dropped: a training whose call was dropped (deadline) stops.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

fn classify<T>(result: &Result<T, NeuralError>) -> Outcome {
    match result {
        Ok(_) => Outcome::Success,
        Err(e) => e.outcome(),
    }
}

fn flatten<T>(result: Result<T, CallError<NeuralError>>) -> Result<T, NeuralError> {
    result.map_err(|e| match e {
        CallError::Breaker(e) => NeuralError::Circuit(e),
        CallError::Operation(e) => e,
    })
}

impl NeuralCircuitBreaker {
    /// The built-in (untrained) model behind a breaker named `model_name`, default options.
    pub fn new(model_name: &str) -> Self {
        let breaker = Arc::new(CircuitBreaker::new(
            model_name,
            CircuitBreakerConfig::default(),
        ));
        Self {
            breaker,
            backend: Backend::Builtin(Arc::new(BuiltinModel::new())),
            predict_timeout: Duration::from_secs(30),
            train_timeout: Duration::from_secs(120),
        }
    }

    /// A breaker named `model_name` with `options` (validated).
    pub fn with_options(model_name: &str, options: NeuralOptions) -> Result<Self, NeuralError> {
        let config = options.breaker;
        let breaker = CircuitBreaker::try_new(model_name, config)
            .map_err(|e| NeuralError::InvalidOption(e.to_string()))?;
        Self::with_breaker(Arc::new(breaker), options)
    }

    /// A model behind an existing breaker (from a registry, say).
    pub fn with_breaker(
        breaker: Arc<CircuitBreaker>,
        options: NeuralOptions,
    ) -> Result<Self, NeuralError> {
        options
            .validate()
            .map_err(|e| NeuralError::InvalidOption(e.to_string()))?;
        let backend = match options.remote {
            None => Backend::Builtin(Arc::new(BuiltinModel::new())),
            Some(remote) => {
                Backend::Remote(Box::new(RemoteModel::new(Arc::clone(&breaker), remote)?))
            }
        };
        Ok(Self {
            breaker,
            backend,
            predict_timeout: options.predict_timeout,
            train_timeout: options.train_timeout,
        })
    }

    /// The breaker, for metrics and state.
    pub fn breaker(&self) -> Arc<CircuitBreaker> {
        Arc::clone(&self.breaker)
    }

    /// The backend.
    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// Closes a remote model's HTTP client (then `ERR_HTTP_CLOSED`); a no-op for the built-in.
    pub async fn close(&self) {
        if let Backend::Remote(remote) = &self.backend {
            remote.close().await;
        }
    }

    /// The state: `CLOSED`, `OPEN` or `HALF_OPEN`.
    pub async fn get_state(&self) -> String {
        self.breaker.get_state().await
    }

    /// One prediction for one row of features.
    pub async fn predict(&self, features: Vec<f64>) -> Result<Vec<f64>, NeuralError> {
        match &self.backend {
            Backend::Builtin(model) => {
                // Refused before the breaker (not counted): no model yet, or the caller's
                // mistake. The network checked is the one that runs, even if a training ends
                // in between.
                let trained = model.current()?;
                trained.check_input(&features)?;
                let work = async move {
                    let mut rows = trained.predict(&[features])?;
                    let row = rows.pop().unwrap_or_default();
                    if row.iter().any(|v| !v.is_finite()) {
                        return Err(NeuralError::NonFinite(
                            "the model's output is not a finite number".into(),
                        ));
                    }
                    Ok(row)
                };
                flatten(
                    self.breaker
                        .execute_with(work, Some(self.predict_timeout), classify)
                        .await,
                )
            }
            Backend::Remote(remote) => remote.predict(features, self.predict_timeout).await,
        }
    }

    /// Trains the built-in model on rows of `data` with one label each (default options).
    pub async fn train(
        &self,
        data: Vec<Vec<f64>>,
        labels: Vec<f64>,
    ) -> Result<TrainReport, NeuralError> {
        let labels = labels.into_iter().map(|l| vec![l]).collect();
        self.train_with(data, labels, TrainOptions::default()).await
    }

    /// Trains the built-in model on rows of `data` with a row of labels each. Runs on a
    /// blocking thread; if the train timeout passes, training stops between two epochs and the
    /// model in use stays as it was.
    pub async fn train_with(
        &self,
        data: Vec<Vec<f64>>,
        labels: Vec<Vec<f64>>,
        options: TrainOptions,
    ) -> Result<TrainReport, NeuralError> {
        let Backend::Builtin(model) = &self.backend else {
            return Err(NeuralError::Unsupported(
                "a remote model is trained by its own server; only the built-in model trains here"
                    .into(),
            ));
        };
        builtin::check_training(&data, &labels, &options)?;
        let model = Arc::clone(model);
        let cancel = Arc::new(AtomicBool::new(false));
        let guard = CancelOnDrop(Arc::clone(&cancel));
        let work = async move {
            let _guard = guard;
            let handle = tokio::task::spawn_blocking(move || {
                model.train_blocking(&data, &labels, &options, &cancel)
            });
            handle
                .await
                .map_err(|e| NeuralError::Compute(format!("the training thread failed: {e}")))?
        };
        flatten(
            self.breaker
                .execute_with(work, Some(self.train_timeout), classify)
                .await,
        )
    }

    /// Saves the built-in model to `path` (one safetensors file, written on a blocking thread
    /// and renamed into place). Not a breaker call.
    pub async fn save(&self, path: impl Into<PathBuf>) -> Result<(), NeuralError> {
        let model = self.builtin("saved")?;
        let path = path.into();
        blocking(move || model.save(&path)).await
    }

    /// Loads a model saved by [`NeuralCircuitBreaker::save`] into the built-in backend (read on
    /// a blocking thread). A file that is not one is `ERR_MODEL_FILE` and the model in use
    /// stays. Not a breaker call: loading a good model does not close an open circuit.
    pub async fn load(&self, path: impl Into<PathBuf>) -> Result<(), NeuralError> {
        let model = self.builtin("loaded")?;
        let path = path.into();
        blocking(move || model.load(&path)).await
    }

    fn builtin(&self, what: &str) -> Result<Arc<BuiltinModel>, NeuralError> {
        match &self.backend {
            Backend::Builtin(model) => Ok(Arc::clone(model)),
            Backend::Remote(_) => Err(NeuralError::Unsupported(format!(
                "a remote model is {what} by its own server"
            ))),
        }
    }
}

/// Runs file I/O on Tokio's blocking pool.
async fn blocking<F>(work: F) -> Result<(), NeuralError>
where
    F: FnOnce() -> Result<(), NeuralError> + Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| NeuralError::Io(format!("the file thread failed: {e}")))?
}
