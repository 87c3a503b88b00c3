//! The `NeuralCircuitBreaker` class: a model behind a circuit breaker. The built-in model (a
//! small feed-forward regressor, candle-nn) trains on a blocking thread of the binding's Tokio
//! runtime, off the JS thread; a remote model is reached over HTTP (Open Inference Protocol v2
//! or TensorFlow Serving REST). Options are in `options.rs`, array and path arguments in
//! `args.rs`, errors in `error.rs`.

use std::sync::Arc;

mod args;
mod error;
mod options;

use napi::{Env, Result};
use napi_derive::napi;
use neural_trader_clients::neural::{self as client, Backend, NeuralError, RemoteProtocol};
use neural_trader_resilience as core;

use self::args::{read_data, read_features, read_labels, read_path};
pub(crate) use self::options::{neural_options, AllNeuralOptions};
use self::options::{
    read_neural_options, read_train_options, NeuralModelDimensions, NeuralTrainResult,
};
use crate::breaker::breaker_accessors;
use crate::http::error::Failure;
use crate::js::errors::OrThrow;
use crate::js::options::read_name;
use crate::js::promise::promise;
use crate::js::{Arg, Async};
use crate::runtime::{spawn, FirstPoll};

/// A model behind a circuit breaker: predictions (and trainings of the built-in model) are
/// breaker calls. NaN or infinite outputs, timeouts, connection errors and 5xx answers count
/// as failures; a wrong input dimension (`RangeError` `ERR_INPUT_DIMENSION`), a model not
/// trained yet and 4xx answers of a model server do not move the circuit.
#[napi]
pub struct NeuralCircuitBreaker {
    inner: Arc<client::NeuralCircuitBreaker>,
}

/// Runs `future` and settles a promise with `convert` of its value. All of it runs on the
/// runtime: the built-in model's forward pass computes before its first wait.
fn settle<'e, T, V, Fut, C>(env: &'e Env, future: Fut, convert: C) -> Async<'e, V>
where
    T: Send + 'static,
    V: napi::bindgen_prelude::ToNapiValue,
    Fut: std::future::Future<Output = std::result::Result<T, NeuralError>> + Send + 'static,
    C: FnOnce(T) -> V + Send + 'static,
{
    spawn(
        env,
        FirstPoll::Runtime,
        async move { future.await.map_err(Failure::from) },
        move |_, value| Ok(convert(value)),
    )
}

impl NeuralCircuitBreaker {
    /// Wraps a client built elsewhere (by the trading system, say).
    pub(crate) fn wrap(inner: Arc<client::NeuralCircuitBreaker>) -> Self {
        Self { inner }
    }

    fn core_breaker(&self) -> Arc<core::CircuitBreaker> {
        self.inner.breaker()
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
    pub fn new(env: Env, model_name: Arg, options: Arg) -> Result<Self> {
        let name = read_name(&env, model_name)?;
        let options = read_neural_options(&env, &name, options)?;
        let breaker =
            core::CircuitBreaker::try_new(name.as_str(), options.breaker).or_throw(&env)?;
        let inner = client::NeuralCircuitBreaker::with_breaker(Arc::new(breaker), options)
            .or_throw(&env)?;
        Ok(Self::wrap(Arc::new(inner)))
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
    pub fn train<'e>(
        &self,
        env: &'e Env,
        data: Arg<'e>,
        labels: Arg<'e>,
        options: Arg<'e>,
    ) -> Async<'e, NeuralTrainResult> {
        promise(env, || {
            let (data, labels) = (read_data(env, data)?, read_labels(env, labels)?);
            let options = read_train_options(env, options)?;
            let inner = Arc::clone(&self.inner);
            let training = async move { inner.train_with(data, labels, options).await };
            settle(env, training, |r| NeuralTrainResult {
                loss: r.loss,
                epochs: r.epochs,
            })
        })
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
    pub fn predict<'e>(&self, env: &'e Env, features: Arg<'e>) -> Async<'e, Vec<f64>> {
        promise(env, || {
            let (features, inner) = (read_features(env, features)?, Arc::clone(&self.inner));
            settle(env, async move { inner.predict(features).await }, |v| v)
        })
    }

    /// Saves the built-in model to the file at `path` (safetensors: weights and
    /// standardisation), written off the JS thread and renamed into place. Rejects with
    /// `ERR_MODEL_NOT_TRAINED` or `ERR_MODEL_IO`. Not a breaker call.
    #[napi(ts_args_type = "path: string", ts_return_type = "Promise<void>")]
    pub fn save<'e>(&self, env: &'e Env, path: Arg<'e>) -> Async<'e, ()> {
        promise(env, || {
            let (path, inner) = (read_path(env, path)?, Arc::clone(&self.inner));
            settle(env, async move { inner.save(path).await }, |()| ())
        })
    }

    /// Replaces the built-in model with the one saved at `path`, read off the JS thread.
    /// Rejects with `ERR_MODEL_FILE` for a file that is not a saved model (the model in use
    /// stays) or `ERR_MODEL_IO`. Not a breaker call: it does not close an open circuit.
    #[napi(ts_args_type = "path: string", ts_return_type = "Promise<void>")]
    pub fn load<'e>(&self, env: &'e Env, path: Arg<'e>) -> Async<'e, ()> {
        promise(env, || {
            let (path, inner) = (read_path(env, path)?, Arc::clone(&self.inner));
            settle(env, async move { inner.load(path).await }, |()| ())
        })
    }

    /// Closes a model server's HTTP client: predictions in flight and later ones reject with
    /// an `HttpError` `ERR_HTTP_CLOSED` (not counted), its keep-alive connections are
    /// dropped. The built-in model holds no connection: nothing to close. Calling it again
    /// resolves at once. `await using` calls it too.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn close<'e>(&self, env: &'e Env) -> Async<'e, ()> {
        let inner = Arc::clone(&self.inner);
        let close = async move {
            inner.close().await;
            Ok(())
        };
        promise(env, || settle(env, close, |()| ()))
    }
}

breaker_accessors!(NeuralCircuitBreaker);
