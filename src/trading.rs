//! The `TradingSystemCircuitBreakers` class: every domain breaker, built from one options
//! object whose nested options are those of the domain classes (declared in their folders).

use std::sync::Arc;

use napi::bindgen_prelude::{within_runtime_if_available, Unknown};
use napi::{Env, Result};
use napi_derive::napi;
use neural_trader_binding_derive::OptionSet;
use neural_trader_clients::http::ApiOptions;
use neural_trader_clients::trading::{self as client, TradingOptions, BREAKER_NAMES};

use crate::breaker::{CircuitBreakerOptions, CircuitBreakerRegistry};
use crate::database::{DatabaseCircuitBreaker, DatabaseClientOptions};
use crate::e2b::{e2b_options, E2BClientOptions, E2BSandboxCircuitBreaker};
use crate::http::{ApiCircuitBreaker, ApiClientOptions};
use crate::js::errors::{IntoJsError, JsErrorSpec, OrThrow};
use crate::js::options::{read, Both};
use crate::js::Arg;
use crate::neural::{neural_options, AllNeuralOptions, NeuralCircuitBreaker};

/// Options of `TradingSystemCircuitBreakers`.
#[napi(object, object_to_js = false, object_from_js = false)]
#[derive(Default, OptionSet)]
#[option_set(what = "a trading system option")]
pub struct TradingSystemOptions {
    /// Base URL of the market-data API.
    pub market_data_url: Option<String>,
    /// Base URL of the order-execution API.
    pub order_execution_url: Option<String>,
    /// The database URL (default: SQLite in memory).
    pub database_url: Option<String>,
    /// Options of the market-data `ApiCircuitBreaker`.
    #[napi(ts_type = "ApiCircuitBreakerOptions")]
    pub market_data: Option<Both<ApiClientOptions, CircuitBreakerOptions>>,
    /// Options of the order-execution `ApiCircuitBreaker`.
    #[napi(ts_type = "ApiCircuitBreakerOptions")]
    pub order_execution: Option<Both<ApiClientOptions, CircuitBreakerOptions>>,
    /// Options of the `E2BSandboxCircuitBreaker`.
    #[napi(ts_type = "E2BSandboxCircuitBreakerOptions", js_name = "e2b")]
    pub e2b: Option<Both<E2BClientOptions, CircuitBreakerOptions>>,
    /// Options of the `NeuralCircuitBreaker`.
    #[napi(ts_type = "NeuralCircuitBreakerOptions")]
    pub neural: Option<AllNeuralOptions>,
    /// Options of the `DatabaseCircuitBreaker` (its `url` is overridden by `databaseUrl`).
    #[napi(ts_type = "DatabaseCircuitBreakerOptions")]
    pub database: Option<Both<DatabaseClientOptions, CircuitBreakerOptions>>,
}

/// Every breaker of a trading system: `marketDataApi` and `orderExecutionApi`
/// (ApiCircuitBreakers), `e2bSandbox`, `neuralPredictor` (the built-in model unless a remote one
/// is configured) and `database` (SQLite in memory unless a URL is given), all in one registry.
#[napi]
pub struct TradingSystemCircuitBreakers {
    inner: Arc<client::TradingSystemCircuitBreakers>,
}

fn api(
    env: &Env,
    options: Option<Both<ApiClientOptions, CircuitBreakerOptions>>,
    url: Option<String>,
) -> Result<ApiOptions> {
    let Both(own, breaker) = options.unwrap_or_default();
    let mut options = own.options(&breaker, ApiOptions::default()).or_throw(env)?;
    options.base_url = url.or(options.base_url);
    Ok(options)
}

fn read_trading_options(env: &Env, options: Arg<'_>) -> Result<TradingOptions> {
    let o: TradingSystemOptions = read(env, "options", options)?;
    let Both(own, breaker) = o.database.unwrap_or_default();
    let mut database = own.options(&breaker).or_throw(env)?;
    database.url = o.database_url.or(database.url);
    let Both(own, breaker) = o.e2b.unwrap_or_default();
    let e2b = e2b_options(env, own, &breaker)?;
    let neural = neural_options(env, "neural_predictor", o.neural.unwrap_or_default())?;
    Ok(TradingOptions {
        market_data: api(env, o.market_data, o.market_data_url)?,
        order_execution: api(env, o.order_execution, o.order_execution_url)?,
        e2b,
        neural,
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
    pub fn new(env: Env, options: Arg) -> Result<Self> {
        let options = read_trading_options(&env, options)?;
        let inner = within_runtime_if_available(|| {
            client::TradingSystemCircuitBreakers::with_options(options)
        });
        Ok(Self {
            inner: Arc::new(inner.or_throw(&env)?),
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
    pub fn get_all_metrics<'e>(&self, env: &'e Env) -> Result<Unknown<'e>> {
        self.registry().get_all_metrics(env)
    }
}

impl IntoJsError for client::TradingError {
    fn into_js_error(self) -> JsErrorSpec {
        JsErrorSpec::type_error(self.code(), self.to_string())
    }
}
