//! The `NeuralCircuitBreaker` class: a model behind a circuit breaker. The built-in model (a
//! small feed-forward regressor, candle-nn) trains on a blocking thread of the binding's Tokio
//! runtime, off the JS thread; a remote model is reached over HTTP (Open Inference Protocol v2
//! or TensorFlow Serving REST).
//!
//! Every method but the constructor returns a Promise; bad arguments reject it (never throw)
//! with a `TypeError` / `RangeError`, as `ApiCircuitBreaker` requests do.

use std::sync::Arc;

use napi::bindgen_prelude::PromiseRaw;
use napi::{Env, Result, Unknown};
use napi_derive::napi;
use neural_trader_clients::neural::{self as client, Backend, NeuralError, RemoteProtocol};
use neural_trader_resilience as core;

use crate::breaker::CircuitBreaker;
use crate::error::throw_config_error;
use crate::http_error::Failure as HttpFailure;
use crate::js_error::{reject, ErrorClass, IntoJsError, JsErrorSpec, Prop};
use crate::metrics::CircuitBreakerMetrics;
use crate::neural_args::{
    read_data, read_features, read_labels, read_path, read_train_options, ArgResult,
};
use crate::neural_options::{read_neural_options, NeuralModelDimensions, NeuralTrainResult};
use crate::options::read_name;
use crate::settle::{self, FirstPoll};

/// A model behind a circuit breaker: predictions (and trainings of the built-in model) are
/// breaker calls. NaN or infinite outputs, timeouts, connection errors and 5xx answers count
/// as failures; a wrong input dimension (`RangeError` `ERR_INPUT_DIMENSION`), a model not
/// trained yet and 4xx answers of a model server do not move the circuit.
#[napi]
pub struct NeuralCircuitBreaker {
    inner: Arc<client::NeuralCircuitBreaker>,
}

/// Why a method rejected: its arguments, or the model.
enum Failure {
    Arg(JsErrorSpec),
    Neural(NeuralError),
}

impl From<NeuralError> for Failure {
    fn from(e: NeuralError) -> Self {
        Failure::Neural(e)
    }
}

impl IntoJsError for Failure {
    fn into_js_error(self) -> JsErrorSpec {
        match self {
            Failure::Arg(spec) => spec,
            Failure::Neural(e) => e.into_js_error(),
        }
    }
}

impl Failure {
    /// The JS error, made on the JS thread (an `HttpError` carries the answer's headers and
    /// body, which need the environment).
    fn into_js(self, env: &Env) -> napi::Error {
        match self {
            Failure::Neural(NeuralError::Remote(api)) => HttpFailure::from(api).into_js(env),
            other => other.into_js_error().into_napi_error(env),
        }
    }
}

impl IntoJsError for NeuralError {
    fn into_js_error(self) -> JsErrorSpec {
        let code = self.code();
        let message = self.to_string();
        match self {
            NeuralError::Remote(api) => api.into_js_error(),
            NeuralError::Circuit(e) => e.into_js_error(),
            NeuralError::InputDimension { expected, got } => {
                JsErrorSpec::new(ErrorClass::RangeError, code, message)
                    .with("expected", Prop::Num(expected as f64))
                    .with("received", Prop::Num(got as f64))
            }
            NeuralError::InvalidOption(_) | NeuralError::InputOutOfRange(_) => {
                JsErrorSpec::new(ErrorClass::RangeError, code, message)
            }
            NeuralError::InvalidInput(_) | NeuralError::InvalidTrainingData(_) => {
                JsErrorSpec::new(ErrorClass::TypeError, code, message)
            }
            NeuralError::Cancelled => JsErrorSpec::new(ErrorClass::CircuitTimeout, code, message),
            _ => JsErrorSpec::new(ErrorClass::Error, code, message),
        }
    }
}

/// Runs `future` (after `args` were read) and settles a promise with `convert` of its value.
fn settle<'env, A, T, V, F, Fut, C>(
    env: &'env Env,
    args: ArgResult<A>,
    run: F,
    convert: C,
) -> Result<PromiseRaw<'env, V>>
where
    A: Send + 'static,
    T: Send + 'static,
    V: napi::bindgen_prelude::ToNapiValue,
    F: FnOnce(A) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = std::result::Result<T, NeuralError>> + Send + 'static,
    C: FnOnce(T) -> V + Send + 'static,
{
    // The built-in model's forward pass computes before its first wait: all of it runs on the
    // runtime.
    settle::spawn(
        env,
        FirstPoll::Runtime,
        async move {
            let result = match args {
                Ok(args) => run(args).await.map_err(Failure::from),
                Err(spec) => Err(Failure::Arg(spec)),
            };
            Ok::<_, Failure>(result)
        },
        move |env, result| match result {
            Ok(value) => Ok(convert(value)),
            Err(failure) => Err(failure.into_js(env)),
        },
        reject::<Failure>,
    )
}

impl NeuralCircuitBreaker {
    /// Wraps a client built elsewhere (by the trading system, say).
    pub(crate) fn wrap(inner: Arc<client::NeuralCircuitBreaker>) -> Self {
        Self { inner }
    }
}

#[napi]
impl NeuralCircuitBreaker {
    /// Creates the breaker and its model: the built-in one (untrained), or with `endpoint` a
    /// model server. Throws `TypeError` (`ERR_INVALID_ARG_TYPE`, `ERR_INVALID_ARG_VALUE`,
    /// `ERR_INVALID_URL` for `endpoint`) or `RangeError` (`ERR_OUT_OF_RANGE`) for a bad name or
    /// options.
    #[napi(
        constructor,
        ts_args_type = "modelName: string, options?: NeuralCircuitBreakerOptions"
    )]
    pub fn new(env: Env, model_name: Option<Unknown>, options: Option<Unknown>) -> Result<Self> {
        let name = read_name(&env, model_name)?;
        let options = read_neural_options(&env, &name, options)?;
        let breaker = core::CircuitBreaker::try_new(name.as_str(), options.breaker)
            .map_err(|e| throw_config_error(&env, &e, &e.to_string()))?;
        let inner = client::NeuralCircuitBreaker::with_breaker(Arc::new(breaker), options)
            .map_err(|e| e.into_js_error().into_napi_error(&env))?;
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// The breaker's name (the model name given).
    #[napi(getter)]
    pub fn name(&self) -> String {
        self.inner.breaker().name().to_string()
    }

    /// Where predictions come from: the built-in model, or a server speaking `'v2'` or
    /// `'tfserving'`.
    #[napi(getter, ts_return_type = "'builtin' | 'v2' | 'tfserving'")]
    pub fn backend(&self) -> &'static str {
        match self.inner.backend() {
            Backend::Builtin(_) => "builtin",
            Backend::Remote(remote) => match remote.protocol() {
                RemoteProtocol::V2 => "v2",
                RemoteProtocol::TfServing => "tfserving",
            },
        }
    }

    /// The sizes of the built-in model once trained or loaded; `null` before, and for a remote
    /// model.
    #[napi(getter)]
    pub fn dimensions(&self) -> Option<NeuralModelDimensions> {
        match self.inner.backend() {
            Backend::Builtin(model) => {
                model.dims().map(|(inputs, outputs)| NeuralModelDimensions {
                    inputs: inputs as u32,
                    outputs: outputs as u32,
                })
            }
            Backend::Remote(_) => None,
        }
    }

    /// The current state of the breaker.
    #[napi(getter, ts_return_type = "'CLOSED' | 'OPEN' | 'HALF_OPEN'")]
    pub fn state(&self) -> &'static str {
        self.inner.breaker().state().as_str()
    }

    /// The current state (same as the `state` getter).
    #[napi(ts_return_type = "'CLOSED' | 'OPEN' | 'HALF_OPEN'")]
    pub fn get_state(&self) -> &'static str {
        self.state()
    }

    /// A snapshot of the breaker's counters (predictions and trainings; `ignoredCalls`: 4xx
    /// answers of a model server).
    #[napi]
    pub fn get_metrics(&self) -> CircuitBreakerMetrics {
        self.inner.breaker().metrics().into()
    }

    /// The underlying `CircuitBreaker` (a new wrapper object on each read, over the same
    /// breaker). Its `options.timeout` is not used: see `predictTimeout` and `trainTimeout`.
    #[napi(getter)]
    pub fn breaker(&self) -> CircuitBreaker {
        CircuitBreaker::wrap(self.inner.breaker())
    }

    /// Trains the built-in model on rows of `data` with their `labels` (one number per row, or
    /// a row of numbers for several outputs), on a thread of its own; predictions keep using the
    /// previous model until it is done. Inputs and labels are standardised from the data.
    /// Resolves with the final loss; rejects with `CircuitTimeoutError` past `trainTimeout`
    /// (the training stops and the previous model stays), `TypeError` for bad data,
    /// `RangeError` for options out of range, and `ERR_NOT_SUPPORTED` for a remote model.
    #[napi(
        ts_args_type = "data: readonly (readonly number[])[], labels: readonly number[] | readonly (readonly number[])[], options?: NeuralTrainOptions",
        ts_return_type = "Promise<NeuralTrainResult>"
    )]
    pub fn train<'env>(
        &self,
        env: &'env Env,
        data: Option<Unknown<'env>>,
        labels: Option<Unknown<'env>>,
        options: Option<Unknown<'env>>,
    ) -> Result<PromiseRaw<'env, NeuralTrainResult>> {
        let args = read_data(data).and_then(|data| {
            let labels = read_labels(labels)?;
            Ok((data, labels, read_train_options(options)?))
        });
        let inner = Arc::clone(&self.inner);
        settle(
            env,
            args,
            move |(data, labels, options)| async move { inner.train_with(data, labels, options).await },
            |report| NeuralTrainResult {
                loss: report.loss,
                epochs: report.epochs,
            },
        )
    }

    /// One prediction for one row of features. Rejects with `RangeError`
    /// `ERR_INPUT_DIMENSION` for the wrong number of features (the circuit does not move),
    /// `ERR_MODEL_NOT_TRAINED` before the built-in model is trained or loaded,
    /// `ERR_MODEL_NON_FINITE` for NaN or infinite outputs (a failure), `CircuitOpenError`,
    /// `CircuitTimeoutError`, or an `HttpError` from a model server.
    #[napi(
        ts_args_type = "features: readonly number[]",
        ts_return_type = "Promise<number[]>"
    )]
    pub fn predict<'env>(
        &self,
        env: &'env Env,
        features: Option<Unknown<'env>>,
    ) -> Result<PromiseRaw<'env, Vec<f64>>> {
        let inner = Arc::clone(&self.inner);
        settle(
            env,
            read_features(features),
            move |features| async move { inner.predict(features).await },
            |values| values,
        )
    }

    /// Saves the built-in model to the file at `path` (safetensors: weights and
    /// standardisation), written off the JS thread and renamed into place. Rejects with
    /// `ERR_MODEL_NOT_TRAINED` or `ERR_MODEL_IO`. Not a breaker call.
    #[napi(ts_args_type = "path: string", ts_return_type = "Promise<void>")]
    pub fn save<'env>(
        &self,
        env: &'env Env,
        path: Option<Unknown<'env>>,
    ) -> Result<PromiseRaw<'env, ()>> {
        let inner = Arc::clone(&self.inner);
        settle(
            env,
            read_path(path),
            move |path| async move { inner.save(path).await },
            |()| (),
        )
    }

    /// Replaces the built-in model with the one saved at `path`, read off the JS thread.
    /// Rejects with `ERR_MODEL_FILE` for a file that is not a saved model (the model in use
    /// stays) or `ERR_MODEL_IO`. Not a breaker call: it does not close an open circuit.
    #[napi(ts_args_type = "path: string", ts_return_type = "Promise<void>")]
    pub fn load<'env>(
        &self,
        env: &'env Env,
        path: Option<Unknown<'env>>,
    ) -> Result<PromiseRaw<'env, ()>> {
        let inner = Arc::clone(&self.inner);
        settle(
            env,
            read_path(path),
            move |path| async move { inner.load(path).await },
            |()| (),
        )
    }
}
