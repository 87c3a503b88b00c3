//! The `TradingSystemCircuitBreakers` class: every domain breaker, built from one options object.

use std::sync::Arc;

use napi::bindgen_prelude::{Object, Unknown};
use napi::{Env, JsValue, Result, ValueType};
use napi_derive::napi;
use neural_trader_clients::http::ApiOptions;
use neural_trader_clients::trading::{self as client, TradingOptions, BREAKER_NAMES};
use neural_trader_resilience::ConfigError;

use crate::database::DatabaseCircuitBreaker;
use crate::database_options::read_database_options;
use crate::e2b::E2BSandboxCircuitBreaker;
use crate::e2b_options::read_e2b_options;
use crate::error::throw_config_error;
use crate::http::ApiCircuitBreaker;
use crate::http_options::{entries, read_api_options, read_string, unknown_key};
use crate::js_error::IntoJsError;
use crate::neural::NeuralCircuitBreaker;
use crate::neural_options::read_neural_options;
use crate::registry::CircuitBreakerRegistry;

const KEYS: &str =
    "marketDataUrl, orderExecutionUrl, databaseUrl, marketData, orderExecution, e2b, neural, database";

/// Every breaker of a trading system: `marketDataApi` and `orderExecutionApi`
/// (ApiCircuitBreakers), `e2bSandbox`, `neuralPredictor` (the built-in model unless a remote one
/// is configured) and `database` (SQLite in memory unless a URL is given), all in one registry.
#[napi]
pub struct TradingSystemCircuitBreakers {
    inner: Arc<client::TradingSystemCircuitBreakers>,
}

fn with_base(env: &Env, options: Option<Unknown<'_>>, url: Option<String>) -> Result<ApiOptions> {
    let mut options = read_api_options(env, options)?;
    if url.is_some() {
        options.base_url = url;
    }
    Ok(options)
}

fn read_trading_options(env: &Env, options: Option<Unknown<'_>>) -> Result<TradingOptions> {
    let mut urls: [Option<String>; 3] = [None, None, None];
    let mut nested: [Option<Unknown<'_>>; 5] = [None, None, None, None, None];
    if let Some(options) = options {
        match options.get_type()? {
            ValueType::Undefined | ValueType::Null => {}
            ValueType::Object if !options.is_array()? => {
                let object: Object = unsafe { options.cast()? };
                for (key, value) in entries(&object)? {
                    let slot = match key.as_str() {
                        "marketDataUrl" => Err(0),
                        "orderExecutionUrl" => Err(1),
                        "databaseUrl" => Err(2),
                        "marketData" => Ok(0),
                        "orderExecution" => Ok(1),
                        "e2b" => Ok(2),
                        "neural" => Ok(3),
                        "database" => Ok(4),
                        _ => return Err(unknown_key(env, "trading system", &key, KEYS)),
                    };
                    match slot {
                        Err(i) => {
                            let field = ["marketDataUrl", "orderExecutionUrl", "databaseUrl"][i];
                            urls[i] = Some(read_string(env, field, &value)?);
                        }
                        Ok(i) => nested[i] = Some(value),
                    }
                }
            }
            _ => {
                let message = "The \"options\" argument must be of type object".to_string();
                return Err(throw_config_error(
                    env,
                    &ConfigError::invalid_type("options", message.clone()),
                    &message,
                ));
            }
        }
    }
    let [market_url, orders_url, database_url] = urls;
    let [market, orders, e2b, neural, database] = nested;
    let mut database = read_database_options(env, database)?;
    if database_url.is_some() {
        database.url = database_url;
    }
    Ok(TradingOptions {
        market_data: with_base(env, market, market_url)?,
        order_execution: with_base(env, orders, orders_url)?,
        e2b: read_e2b_options(env, e2b)?,
        neural: read_neural_options(env, "neural_predictor", neural)?,
        database,
    })
}

#[napi]
impl TradingSystemCircuitBreakers {
    /// Builds every breaker. `marketDataUrl` / `orderExecutionUrl` are the APIs' base URLs and
    /// `databaseUrl` the database (default: SQLite in memory); `marketData`, `orderExecution`,
    /// `e2b`, `neural` and `database` take the options of the respective classes. Throws
    /// `TypeError` / `RangeError` with a code for bad options.
    #[napi(constructor, ts_args_type = "options?: TradingSystemOptions")]
    pub fn new(env: Env, options: Option<Unknown>) -> Result<Self> {
        let options = read_trading_options(&env, options)?;
        let inner = napi::bindgen_prelude::within_runtime_if_available(|| {
            client::TradingSystemCircuitBreakers::with_options(options)
        })
        .map_err(|e| {
            crate::js_error::JsErrorSpec::new(
                crate::js_error::ErrorClass::TypeError,
                e.code(),
                e.to_string(),
            )
            .into_napi_error(&env)
        })?;
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// The market-data API.
    #[napi(getter)]
    pub fn market_data_api(&self) -> ApiCircuitBreaker {
        ApiCircuitBreaker::wrap(Arc::clone(&self.inner.market_data_api))
    }

    /// The order-execution API.
    #[napi(getter)]
    pub fn order_execution_api(&self) -> ApiCircuitBreaker {
        ApiCircuitBreaker::wrap(Arc::clone(&self.inner.order_execution_api))
    }

    /// E2B sandboxes (`configured` is false without an API key).
    #[napi(getter, js_name = "e2bSandbox")]
    pub fn e2b_sandbox(&self) -> E2BSandboxCircuitBreaker {
        E2BSandboxCircuitBreaker::wrap(Arc::clone(&self.inner.e2b_sandbox))
    }

    /// The price predictor.
    #[napi(getter)]
    pub fn neural_predictor(&self) -> NeuralCircuitBreaker {
        NeuralCircuitBreaker::wrap(Arc::clone(&self.inner.neural_predictor))
    }

    /// The database.
    #[napi(getter)]
    pub fn database(&self) -> DatabaseCircuitBreaker {
        DatabaseCircuitBreaker::wrap(Arc::clone(&self.inner.database))
    }

    /// The registry holding every breaker of the system.
    #[napi(getter)]
    pub fn registry(&self) -> CircuitBreakerRegistry {
        CircuitBreakerRegistry::wrap(self.inner.registry().clone())
    }

    /// `[service, state]` for each breaker: market_data_api, order_execution_api, e2b_sandbox,
    /// neural_predictor, database.
    #[napi(ts_return_type = "Array<[string, 'CLOSED' | 'OPEN' | 'HALF_OPEN']>")]
    pub fn health_status(&self) -> Vec<Vec<String>> {
        BREAKER_NAMES
            .iter()
            .filter_map(|name| {
                self.inner
                    .registry()
                    .lookup(name)
                    .map(|cb| vec![name.to_string(), cb.state().as_str().to_string()])
            })
            .collect()
    }

    /// Metrics of every breaker of the system, by name.
    #[napi(ts_return_type = "Record<string, CircuitBreakerMetrics>")]
    pub fn get_all_metrics<'env>(&self, env: &'env Env) -> Result<Unknown<'env>> {
        self.registry().get_all_metrics(env)
    }
}

impl IntoJsError for client::TradingError {
    fn into_js_error(self) -> crate::js_error::JsErrorSpec {
        crate::js_error::JsErrorSpec::new(
            crate::js_error::ErrorClass::TypeError,
            self.code(),
            self.to_string(),
        )
    }
}

/// Options of `TradingSystemCircuitBreakers`.
#[napi(object)]
// Only its typing is used: the constructor reads the options strictly, key by key.
#[allow(dead_code)]
pub struct TradingSystemOptions {
    /// Base URL of the market-data API.
    pub market_data_url: Option<String>,
    /// Base URL of the order-execution API.
    pub order_execution_url: Option<String>,
    /// The database URL (default: SQLite in memory).
    pub database_url: Option<String>,
    /// Options of the market-data `ApiCircuitBreaker`.
    #[napi(ts_type = "ApiCircuitBreakerOptions")]
    pub market_data: Option<Object<'static>>,
    /// Options of the order-execution `ApiCircuitBreaker`.
    #[napi(ts_type = "ApiCircuitBreakerOptions")]
    pub order_execution: Option<Object<'static>>,
    /// Options of the `E2BSandboxCircuitBreaker`.
    #[napi(ts_type = "E2BSandboxCircuitBreakerOptions")]
    pub e2b: Option<Object<'static>>,
    /// Options of the `NeuralCircuitBreaker`.
    #[napi(ts_type = "NeuralCircuitBreakerOptions")]
    pub neural: Option<Object<'static>>,
    /// Options of the `DatabaseCircuitBreaker` (its `url` is overridden by `databaseUrl`).
    #[napi(ts_type = "DatabaseCircuitBreakerOptions")]
    pub database: Option<Object<'static>>,
}
