//! The options of `NeuralCircuitBreaker` and of `train`, declared once (see
//! `js/options.rs`), and the shapes its methods resolve with. Ranges are checked by the
//! client's `NeuralOptions::validate` and `TrainOptions::validate`.

use napi::{Env, JsValue, Result, Unknown, ValueType};
use napi_derive::napi;
use neural_trader_binding_derive::OptionSet;
use neural_trader_clients::neural::{NeuralOptions, RemoteOptions, RemoteProtocol, TrainOptions};
use neural_trader_resilience::ConfigError;

use crate::breaker::{count, millis, CircuitBreakerOptions};
use crate::js::errors::{ErrorClass, IntoJsError, JsErrorSpec, Noun};
use crate::js::options::{
    given, invalid_type, invalid_value, one_of, read, Both, FromJs, Received, StringMap,
};

/// The options of a `NeuralCircuitBreaker` beside the circuit breaker's (all but
/// `timeout`: a prediction and a training have deadlines of their own). Durations are in
/// milliseconds. Without `endpoint` the model is the built-in one (trained with `train`);
/// with it, a model server.
#[napi(object, object_to_js = false, object_from_js = false)]
#[derive(Default, OptionSet)]
#[option_set(what = "a NeuralCircuitBreaker option")]
pub struct NeuralModelOptions {
    /// The deadline of a prediction, in ms (default 30000). An overrun rejects with
    /// `CircuitTimeoutError` and counts as a failure.
    pub predict_timeout: Option<f64>,
    /// The deadline of a training, in ms (default 120000). An overrun rejects with
    /// `CircuitTimeoutError`, counts as a failure, stops the training and keeps the model
    /// in use.
    pub train_timeout: Option<f64>,
    /// The base URL of a model server (`http://127.0.0.1:8000`): predictions go there.
    pub endpoint: Option<String>,
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
#[option_set(what = "a training option")]
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

/// Reads the options of `new NeuralCircuitBreaker(modelName, options)`.
pub(crate) fn read_neural_options(
    env: &Env,
    model_name: &str,
    options: Option<Unknown<'_>>,
) -> Result<NeuralOptions> {
    let Both(own, breaker): Both<NeuralModelOptions, CircuitBreakerOptions> =
        crate::js::options::read(env, "options", options)?;
    neural_options(env, model_name, own, &breaker)
}

/// The client's options: these and the breaker's (but its `timeout`) over the defaults,
/// checked; the remote options only with `endpoint`.
pub(crate) fn neural_options(
    env: &Env,
    model_name: &str,
    own: NeuralModelOptions,
    breaker: &CircuitBreakerOptions,
) -> Result<NeuralOptions> {
    if breaker.timeout.is_some() {
        return Err(invalid_value(
            env,
            "timeout",
            Noun::Option,
            "left out: a NeuralCircuitBreaker has \"predictTimeout\" and \"trainTimeout\"",
            "",
        ));
    }
    let remote_only = [
        ("protocol", own.protocol.is_some()),
        ("model", own.model.is_some()),
        ("version", own.version.is_some()),
        ("headers", own.headers.is_some()),
        ("connectTimeout", own.connect_timeout.is_some()),
        ("proxyFromEnv", own.proxy_from_env.is_some()),
    ];
    if own.endpoint.is_none() {
        if let Some((key, _)) = remote_only.iter().find(|(_, given)| *given) {
            let message =
                format!("The option \"{key}\" applies to a model server: give \"endpoint\" too");
            return Err(
                JsErrorSpec::new(ErrorClass::TypeError, "ERR_INVALID_ARG_VALUE", message)
                    .into_napi_error(env),
            );
        }
    }
    own.options(breaker, model_name)
        .map_err(|e| e.into_js_error().into_napi_error(env))
}

impl NeuralModelOptions {
    fn options(
        self,
        breaker: &CircuitBreakerOptions,
        model_name: &str,
    ) -> std::result::Result<NeuralOptions, ConfigError> {
        let mut o = NeuralOptions::default();
        o.breaker = breaker.config(o.breaker)?;
        if let Some(ms) = self.predict_timeout {
            o.predict_timeout = millis(ms);
        }
        if let Some(ms) = self.train_timeout {
            o.train_timeout = millis(ms);
        }
        if let Some(endpoint) = self.endpoint.clone() {
            let mut r = RemoteOptions::new(
                endpoint,
                self.protocol.as_ref().map_or(RemoteProtocol::V2, |p| p.0),
                self.model.clone().unwrap_or_else(|| model_name.to_string()),
            );
            r.version = self.version.as_ref().map(|v| v.0.clone());
            r.headers = self.headers.clone().map(|h| h.0).unwrap_or_default();
            if let Some(ms) = self.connect_timeout {
                r.connect_timeout = millis(ms);
            }
            if let Some(proxy) = self.proxy_from_env {
                r.proxy_from_env = proxy;
            }
            o.remote = Some(r);
        }
        o.validate().map_err(|e| given(e, &self))?;
        Ok(o)
    }
}

/// Reads the options of `train(data, labels, options)`.
pub(crate) fn read_train_options(env: &Env, options: Option<Unknown<'_>>) -> Result<TrainOptions> {
    let given_options: NeuralTrainOptions = read(env, "options", options)?;
    let mut o = TrainOptions::default();
    if let Some(n) = given_options.epochs {
        o.epochs = count(n);
    }
    if let Some(rate) = given_options.learning_rate {
        o.learning_rate = rate;
    }
    if let Some(Widths(widths)) = &given_options.hidden_sizes {
        o.hidden_sizes = widths.iter().map(|&n| count(n) as usize).collect();
    }
    o.validate().map_err(|e| {
        given(e, &given_options)
            .into_js_error()
            .into_napi_error(env)
    })?;
    Ok(o)
}

/// `'v2'` or `'tfserving'`.
pub(crate) struct Protocol(RemoteProtocol);

impl FromJs for Protocol {
    fn from_js(env: &Env, field: &str, value: Unknown<'_>) -> Result<Self> {
        let choices = [
            ("v2", RemoteProtocol::V2),
            ("tfserving", RemoteProtocol::TfServing),
        ];
        one_of(env, field, value, &choices).map(Protocol)
    }
}

/// A model version: a string, or a non-negative integer (as TF Serving numbers them).
pub(crate) struct Version(String);

impl FromJs for Version {
    fn from_js(env: &Env, field: &str, value: Unknown<'_>) -> Result<Self> {
        match value.get_type()? {
            ValueType::String => String::from_js(env, field, value).map(Version),
            ValueType::Number => {
                let n = unsafe { value.cast::<f64>()? };
                if n.fract() != 0.0 || !(0.0..=9_007_199_254_740_991.0).contains(&n) {
                    let error = ConfigError::out_of_range(
                        field.to_string(),
                        "a non-negative integer",
                        crate::js::describe::number(n),
                    );
                    return Err(error.into_js_error().into_napi_error(env));
                }
                Ok(Version(format!("{}", n as u64)))
            }
            _ => Err(invalid_type(
                env,
                field,
                Noun::Option,
                "a string or an integer",
                &value,
            )),
        }
    }
}

/// Hidden layer widths: an array of numbers (ranges: `TrainOptions::validate`).
pub(crate) struct Widths(Vec<f64>);

impl FromJs for Widths {
    fn from_js(env: &Env, field: &str, value: Unknown<'_>) -> Result<Self> {
        if !value.is_array()? {
            return Err(invalid_type(
                env,
                field,
                Noun::Option,
                "an array of integers",
                &value,
            ));
        }
        super::args::numbers(env, &value, &|| field.to_string(), MAX_WIDTHS).map(Widths)
    }
}

/// More widths than this are refused before they are read (16 are allowed).
const MAX_WIDTHS: u32 = 1024;

impl Received for Widths {
    fn received(&self) -> String {
        format!(
            "[{}]",
            self.0
                .iter()
                .map(|n| crate::js::describe::number(*n))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

impl Received for Protocol {}

impl Received for Version {}
