//! The options of `NeuralCircuitBreaker` and of `train`, declared once (see
//! `js/options.rs`), and the shapes its methods resolve with. Ranges are checked by the
//! client's `NeuralOptions::validate` and `TrainOptions::validate`.

use napi::{Env, JsValue, Result, Unknown, ValueType};
use napi_derive::napi;
use neural_trader_binding_derive::OptionSet;
use neural_trader_clients::neural::{NeuralOptions, RemoteOptions, RemoteProtocol, TrainOptions};

use crate::breaker::{count, CircuitBreakerOptions};
use crate::js::errors::{JsErrorSpec, OrThrow};
use crate::js::options::{
    given, one_of, read, At, Both, FromJs, Merge, OptionSet, StringMap, ToField,
};
use crate::js::Arg;

/// The options of a `NeuralCircuitBreaker` beside the circuit breaker's (all but
/// `timeout`: a prediction and a training have deadlines of their own). Durations are in
/// milliseconds. Without `endpoint` the model is the built-in one (trained with `train`);
/// with it, a model server.
#[napi(object, object_to_js = false, object_from_js = false)]
#[derive(Default, OptionSet)]
#[option_set(what = "a NeuralCircuitBreaker option", into = NeuralOptions)]
pub struct NeuralModelOptions {
    /// The deadline of a prediction, in ms (default 30000). An overrun rejects with
    /// `CircuitTimeoutError` and counts as a failure.
    pub predict_timeout: Option<f64>,
    /// The deadline of a training, in ms (default 120000). An overrun rejects with
    /// `CircuitTimeoutError`, counts as a failure, stops the training and keeps the model
    /// in use.
    pub train_timeout: Option<f64>,
    /// The base URL of a model server (`http://127.0.0.1:8000`): predictions go there.
    #[option(skip)]
    pub endpoint: Option<String>,
}

/// The options of a `NeuralCircuitBreaker` that apply to a model server (with `endpoint`).
#[napi(object, object_to_js = false, object_from_js = false)]
#[derive(Default, OptionSet)]
#[option_set(what = "a NeuralCircuitBreaker option", into = RemoteOptions)]
pub struct NeuralRemoteOptions {
    /// The protocol the server speaks: `'v2'` (Open Inference Protocol: Triton, KServe,
    /// MLServer; the default) or `'tfserving'` (TensorFlow Serving REST).
    #[napi(ts_type = "'v2' | 'tfserving'")]
    pub protocol: Option<Protocol>,
    /// The model's name on the server (default: the breaker's name).
    pub model: Option<String>,
    /// The model version to ask for (default: the server's choice, usually the latest).
    #[napi(ts_type = "string | number")]
    pub version: Option<Version>,
    /// Headers sent with every request to the server (authorization, say; never shown in
    /// errors).
    #[napi(ts_type = "Record<string, string>")]
    pub headers: Option<StringMap>,
    /// How long a connection attempt to the server may take, in ms (default 5000).
    pub connect_timeout: Option<f64>,
    /// Whether `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY` and `NO_PROXY` apply (default
    /// `true`).
    pub proxy_from_env: Option<bool>,
}

/// Options of `train(data, labels, options)`.
#[napi(object, object_to_js = false, object_from_js = false)]
#[derive(Default, OptionSet)]
#[option_set(what = "a training option", into = TrainOptions)]
pub struct NeuralTrainOptions {
    /// Passes over the training data (default 200; an integer from 1 to 1000000).
    pub epochs: Option<f64>,
    /// The AdamW learning rate (default 0.01; > 0 and <= 10).
    pub learning_rate: Option<f64>,
    /// Widths of the hidden layers, ReLU between them (default `[32, 32]`; `[]`: a linear
    /// model; at most 16 layers of 1 to 4096).
    #[napi(ts_type = "number[]")]
    pub hidden_sizes: Option<Widths>,
}

/// What a training achieved.
#[napi(object)]
pub struct NeuralTrainResult {
    /// Mean squared error on the training data after the last epoch, in the labels' units
    /// (averaged over the outputs).
    pub loss: f64,
    /// Epochs run.
    pub epochs: u32,
}

/// The input and output sizes of a trained or loaded built-in model.
#[napi(object)]
pub struct NeuralModelDimensions {
    /// Features per prediction.
    pub inputs: u32,
    /// Values per prediction.
    pub outputs: u32,
}

/// Every option of a `NeuralCircuitBreaker`: the model's, a model server's, the breaker's.
pub(crate) type AllNeuralOptions =
    Both<NeuralModelOptions, Both<NeuralRemoteOptions, CircuitBreakerOptions>>;

/// Reads the options of `new NeuralCircuitBreaker(modelName, options)`.
pub(crate) fn read_neural_options(
    env: &Env,
    model_name: &str,
    options: Arg<'_>,
) -> Result<NeuralOptions> {
    neural_options(env, model_name, read(env, "options", options)?)
}

/// The client's options: these and the breaker's (but its `timeout`) over the defaults,
/// checked; the remote options only with `endpoint`.
pub(crate) fn neural_options(
    env: &Env,
    model_name: &str,
    options: AllNeuralOptions,
) -> Result<NeuralOptions> {
    let Both(own, Both(remote, breaker)) = &options;
    if breaker.timeout.is_some() {
        let expected =
            "left out: a NeuralCircuitBreaker has \"predictTimeout\" and \"trainTimeout\"";
        return Err(At::option(env, "timeout").invalid_value(expected, ""));
    }
    if let (None, Some(key)) = (&own.endpoint, remote.first_given()) {
        let message =
            format!("The option \"{key}\" applies to a model server: give \"endpoint\" too");
        return Err(JsErrorSpec::type_error("ERR_INVALID_ARG_VALUE", message).throw(env));
    }
    let mut o = NeuralOptions::default();
    o.breaker = breaker.config(o.breaker).or_throw(env)?;
    own.merge(&mut o);
    if let Some(endpoint) = &own.endpoint {
        let mut r =
            RemoteOptions::new(endpoint.clone(), RemoteProtocol::V2, model_name.to_string());
        remote.merge(&mut r);
        o.remote = Some(r);
    }
    o.validate().map_err(|e| given(e, &options)).or_throw(env)?;
    Ok(o)
}

/// Reads the options of `train(data, labels, options)`.
pub(crate) fn read_train_options(env: &Env, options: Arg<'_>) -> Result<TrainOptions> {
    let given_options: NeuralTrainOptions = read(env, "options", options)?;
    let mut o = TrainOptions::default();
    given_options.merge(&mut o);
    o.validate()
        .map_err(|e| given(e, &given_options))
        .or_throw(env)?;
    Ok(o)
}

/// `'v2'` or `'tfserving'`.
#[derive(Clone, Copy)]
pub(crate) struct Protocol(RemoteProtocol);

impl FromJs for Protocol {
    fn from_js(at: At<'_>, value: Unknown<'_>) -> Result<Self> {
        one_of(
            at,
            value,
            &[
                ("v2", RemoteProtocol::V2),
                ("tfserving", RemoteProtocol::TfServing),
            ],
        )
        .map(Protocol)
    }
}

impl ToField<RemoteProtocol> for Protocol {
    fn to_field(&self) -> RemoteProtocol {
        self.0
    }
}

/// A model version: a string, or a non-negative integer (as TF Serving numbers them).
pub(crate) struct Version(String);

impl FromJs for Version {
    fn from_js(at: At<'_>, value: Unknown<'_>) -> Result<Self> {
        match value.get_type()? {
            ValueType::String => String::from_js(at, value).map(Version),
            ValueType::Number => {
                let n = unsafe { value.cast::<f64>()? };
                if n.fract() != 0.0 || !(0.0..=9_007_199_254_740_991.0).contains(&n) {
                    return Err(
                        at.out_of_range("a non-negative integer", crate::js::describe::number(n))
                    );
                }
                Ok(Version(format!("{}", n as u64)))
            }
            _ => Err(at.invalid_type("a string or an integer", &value)),
        }
    }
}

impl ToField<Option<String>> for Version {
    fn to_field(&self) -> Option<String> {
        Some(self.0.clone())
    }
}

/// Hidden layer widths: an array of numbers (ranges: `TrainOptions::validate`).
pub(crate) struct Widths(Vec<f64>);

/// More widths than this are refused before they are read (16 are allowed).
const MAX_WIDTHS: u32 = 1024;

impl FromJs for Widths {
    fn from_js(at: At<'_>, value: Unknown<'_>) -> Result<Self> {
        if !value.is_array()? {
            return Err(at.invalid_type("an array of integers", &value));
        }
        super::args::numbers(at.env, &value, &|| at.name.to_string(), MAX_WIDTHS).map(Widths)
    }

    fn received(&self) -> String {
        let widths: Vec<String> = self
            .0
            .iter()
            .map(|n| crate::js::describe::number(*n))
            .collect();
        format!("[{}]", widths.join(", "))
    }
}

impl ToField<Vec<usize>> for Widths {
    fn to_field(&self) -> Vec<usize> {
        self.0.iter().map(|&n| count(n) as usize).collect()
    }
}
