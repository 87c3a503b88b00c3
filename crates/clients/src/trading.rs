//! The trading system: every domain breaker of the design, grouped in one registry.
//!
//! `market_data_api` and `order_execution_api` are [`ApiCircuitBreaker`]s (base URLs from the
//! options), `e2b_sandbox` an [`E2BSandboxCircuitBreaker`], `neural_predictor` a
//! [`NeuralCircuitBreaker`] (the built-in model unless a remote one is configured) and `database`
//! a [`DatabaseCircuitBreaker`] (SQLite in memory unless a URL is given). Each client builds its
//! own breaker with its own defaults; the registry adopts them all, so that
//! [`TradingSystemCircuitBreakers::registry`] reports every one.

use std::fmt;
use std::sync::Arc;

use neural_trader_resilience::{CircuitBreakerMetrics, CircuitBreakerRegistry};

use crate::database::{DatabaseCircuitBreaker, DatabaseOptions, DbError};
use crate::e2b::{E2BError, E2BOptions, E2BSandboxCircuitBreaker};
use crate::http::{ApiCircuitBreaker, ApiError, ApiOptions};
use crate::neural::{NeuralCircuitBreaker, NeuralError, NeuralOptions};

/// The names of the system's breakers, in the order [`TradingSystemCircuitBreakers::health_status`]
/// reports them.
pub const BREAKER_NAMES: [&str; 5] = [
    "market_data_api",
    "order_execution_api",
    "e2b_sandbox",
    "neural_predictor",
    "database",
];

/// Options of every client of the system.
#[derive(Clone)]
pub struct TradingOptions {
    /// The market-data API (set `base_url` to resolve `/v1/quotes/...`).
    pub market_data: ApiOptions,
    /// The order-execution API.
    pub order_execution: ApiOptions,
    /// E2B (default: from the environment, see [`E2BOptions::from_env`]).
    pub e2b: E2BOptions,
    /// The predictor (default: the built-in model).
    pub neural: NeuralOptions,
    /// The database (default: SQLite in memory).
    pub database: DatabaseOptions,
}

impl Default for TradingOptions {
    fn default() -> Self {
        Self {
            market_data: ApiOptions::default(),
            order_execution: ApiOptions::default(),
            e2b: E2BOptions::from_env(),
            neural: NeuralOptions::default(),
            database: DatabaseOptions::default(),
        }
    }
}

/// Why the system could not be built: the client at fault and its error.
#[derive(Debug)]
pub enum TradingError {
    /// An API client's options.
    Api(&'static str, ApiError),
    /// The E2B client's options.
    E2B(E2BError),
    /// The predictor's options.
    Neural(NeuralError),
    /// The database's options.
    Database(DbError),
}

impl TradingError {
    /// The stable code of the underlying error.
    pub fn code(&self) -> &'static str {
        match self {
            TradingError::Api(_, e) => e.code(),
            TradingError::E2B(e) => e.code(),
            TradingError::Neural(e) => e.code(),
            TradingError::Database(e) => e.code(),
        }
    }
}

impl fmt::Display for TradingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TradingError::Api(name, e) => write!(f, "{name}: {e}"),
            TradingError::E2B(e) => write!(f, "e2b_sandbox: {e}"),
            TradingError::Neural(e) => write!(f, "neural_predictor: {e}"),
            TradingError::Database(e) => write!(f, "database: {e}"),
        }
    }
}

impl std::error::Error for TradingError {}

/// Every breaker of a trading system.
///
/// ```no_run
/// use neural_trader_clients::trading::{TradingOptions, TradingSystemCircuitBreakers};
///
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut options = TradingOptions::default();
/// options.market_data.base_url = Some("http://127.0.0.1:8080".into());
/// let system = TradingSystemCircuitBreakers::with_options(options)?;
/// let quote: serde_json::Value = system.market_data_api.get("/v1/quotes/AAPL").await?;
/// for (service, state) in system.health_status().await {
///     println!("{service}: {state} ({quote})");
/// }
/// # Ok(()) }
/// ```
pub struct TradingSystemCircuitBreakers {
    /// Quotes and market data.
    pub market_data_api: Arc<ApiCircuitBreaker>,
    /// Order placement.
    pub order_execution_api: Arc<ApiCircuitBreaker>,
    /// Code execution in E2B sandboxes.
    pub e2b_sandbox: Arc<E2BSandboxCircuitBreaker>,
    /// Price prediction.
    pub neural_predictor: Arc<NeuralCircuitBreaker>,
    /// The system's database.
    pub database: Arc<DatabaseCircuitBreaker>,
    registry: CircuitBreakerRegistry,
}

impl fmt::Debug for TradingSystemCircuitBreakers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TradingSystemCircuitBreakers")
            .field("breakers", &self.registry.names())
            .finish()
    }
}

impl TradingSystemCircuitBreakers {
    /// The system with the default options: no base URLs (give absolute URLs), E2B from the
    /// environment, the built-in predictor and an in-memory SQLite database.
    ///
    /// # Panics
    ///
    /// If the environment's E2B settings are malformed or the TLS backend cannot start;
    /// [`TradingSystemCircuitBreakers::with_options`] returns that as an error instead.
    pub fn new() -> Self {
        match Self::with_options(TradingOptions::default()) {
            Ok(system) => system,
            Err(e) => panic!("cannot create the trading system: {e}"),
        }
    }

    /// The system with `options`. A database URL for a server needs a Tokio runtime.
    pub fn with_options(options: TradingOptions) -> Result<Self, TradingError> {
        let api = |name: &'static str, options: ApiOptions| {
            ApiCircuitBreaker::with_options(name, options).map_err(|e| TradingError::Api(name, e))
        };
        let market_data_api = api("market_data_api", options.market_data)?;
        let order_execution_api = api("order_execution_api", options.order_execution)?;
        let mut e2b = options.e2b;
        e2b.name = "e2b_sandbox".into();
        let e2b_sandbox = E2BSandboxCircuitBreaker::with_options(e2b).map_err(TradingError::E2B)?;
        let neural_predictor =
            NeuralCircuitBreaker::with_options("neural_predictor", options.neural)
                .map_err(TradingError::Neural)?;
        let database = DatabaseCircuitBreaker::with_options("database", options.database)
            .map_err(TradingError::Database)?;
        let registry = CircuitBreakerRegistry::new();
        for breaker in [
            market_data_api.breaker(),
            order_execution_api.breaker(),
            e2b_sandbox.breaker(),
            neural_predictor.breaker(),
            Arc::clone(database.breaker()),
        ] {
            registry.adopt(breaker);
        }
        Ok(Self {
            market_data_api: Arc::new(market_data_api),
            order_execution_api: Arc::new(order_execution_api),
            e2b_sandbox: Arc::new(e2b_sandbox),
            neural_predictor: Arc::new(neural_predictor),
            database: Arc::new(database),
            registry,
        })
    }

    /// The registry holding every breaker of the system.
    pub fn registry(&self) -> &CircuitBreakerRegistry {
        &self.registry
    }

    /// `(service, state)` for each breaker, in the order of [`BREAKER_NAMES`].
    pub async fn health_status(&self) -> Vec<(String, String)> {
        BREAKER_NAMES
            .iter()
            .filter_map(|name| {
                self.registry
                    .lookup(name)
                    .map(|cb| (name.to_string(), cb.state().as_str().to_string()))
            })
            .collect()
    }

    /// Metrics of every breaker, by name.
    pub fn all_metrics(&self) -> std::collections::HashMap<String, CircuitBreakerMetrics> {
        self.registry.all_metrics()
    }
}

impl Default for TradingSystemCircuitBreakers {
    fn default() -> Self {
        Self::new()
    }
}
