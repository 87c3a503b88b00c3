//! The one error type of the database client, each kind with a stable code, and the
//! classification that decides which errors count against the database.
//!
//! Why these trip the breaker and no others: a circuit breaker protects the caller from a
//! database that is down or drowning, so only errors that say so count (I/O, TLS, protocol,
//! a pool with no connection to give, SQLSTATE class 08 "connection exception", 28 "invalid
//! authorization" (a wrong password fails every call), 3D000 "invalid catalog name" (a database
//! name that does not exist fails every call just as surely; so does MySQL's 1049,
//! `ER_BAD_DB_ERROR`; the price is that `DROP DATABASE` of a missing database, the one
//! statement that also reports it, counts too: use `IF EXISTS`), 53
//! "insufficient resources", 57P "operator intervention" such as an admin shutdown, 58 "system
//! error", XX "internal error", and SQLite's I/O, full-disk, corruption, can't-open and busy
//! codes). A constraint violation, a syntax error or a bad parameter is the caller's fault: it
//! is returned with the database's own code and counted as an ignored call.

use std::fmt;

use neural_trader_resilience::{CallError, CircuitBreakerError, Outcome};

/// What went wrong, one variant per stable code (see [`DbErrorKind::code`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DbErrorKind {
    /// The circuit is open: the operation did not run (`ERR_CIRCUIT_OPEN`).
    CircuitOpen,
    /// The operation (or the whole transaction) outlived the breaker's timeout and was rolled
    /// back (`ERR_CIRCUIT_TIMEOUT`).
    CircuitTimeout,
    /// No Tokio runtime was there to run a deadline or the pool (`ERR_CIRCUIT_NO_TIMER`).
    NoRuntime,
    /// I/O, TLS or protocol failure talking to the server, or SQLSTATE class 08 or 28
    /// (`ERR_DB_CONNECTION`). Trips.
    Connection,
    /// The server is there but cannot serve: SQLSTATE classes 53, 57P, 58, XX; SQLite busy,
    /// I/O, full, corrupt or unopenable database (`ERR_DB_UNAVAILABLE`). Trips.
    Unavailable,
    /// No connection became free within `acquire_timeout` (`ERR_DB_POOL_TIMEOUT`). Trips.
    PoolTimeout,
    /// The breaker's pool was closed with `close()` (`ERR_DB_CLOSED`).
    Closed,
    /// A unique, foreign-key, not-null or check constraint was violated (`ERR_DB_CONSTRAINT`).
    Constraint,
    /// Any other error the database reported: syntax, unknown table, bad data...
    /// (`ERR_DB_QUERY`).
    Query,
    /// A statement failed inside a PostgreSQL transaction, which PostgreSQL then aborts: the
    /// commit rolled back instead (`ERR_DB_TRANSACTION_ABORTED`).
    TransactionAborted,
    /// The transaction was already committed, rolled back or timed out
    /// (`ERR_DB_TRANSACTION_CLOSED`).
    TransactionClosed,
    /// A result column has a type this client does not map (`ERR_DB_UNSUPPORTED_TYPE`).
    UnsupportedType,
    /// A value could not be decoded, or rows could not be deserialized into the requested type
    /// (`ERR_DB_DECODE`).
    Decode,
    /// A URL that does not parse, or options the driver refuses (`ERR_INVALID_URL`).
    InvalidUrl,
    /// A URL whose scheme is not `sqlite`, `postgres(ql)`, `mysql` or `mariadb`, or is the scheme
    /// of a driver whose Cargo feature is off; no URL without the `database-sqlite` feature
    /// (`ERR_INVALID_URL_SCHEME`).
    UnsupportedScheme,
    /// A parameter whose type cannot be bound to the statement's parameter
    /// (`ERR_INVALID_ARG_TYPE`).
    ParamType,
    /// A parameter whose value is not valid for the statement's parameter (a string that is not
    /// a bigint, a UUID or JSON; the wrong number of parameters) (`ERR_INVALID_ARG_VALUE`).
    ParamValue,
    /// A number outside the range of the statement's parameter (`ERR_OUT_OF_RANGE`).
    ParamRange,
    /// A bug caught before it could escape (a panic in a driver) (`ERR_DB_INTERNAL`).
    Internal,
}

impl DbErrorKind {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            DbErrorKind::CircuitOpen => "ERR_CIRCUIT_OPEN",
            DbErrorKind::CircuitTimeout => "ERR_CIRCUIT_TIMEOUT",
            DbErrorKind::NoRuntime => "ERR_CIRCUIT_NO_TIMER",
            DbErrorKind::Connection => "ERR_DB_CONNECTION",
            DbErrorKind::Unavailable => "ERR_DB_UNAVAILABLE",
            DbErrorKind::PoolTimeout => "ERR_DB_POOL_TIMEOUT",
            DbErrorKind::Closed => "ERR_DB_CLOSED",
            DbErrorKind::Constraint => "ERR_DB_CONSTRAINT",
            DbErrorKind::Query => "ERR_DB_QUERY",
            DbErrorKind::TransactionAborted => "ERR_DB_TRANSACTION_ABORTED",
            DbErrorKind::TransactionClosed => "ERR_DB_TRANSACTION_CLOSED",
            DbErrorKind::UnsupportedType => "ERR_DB_UNSUPPORTED_TYPE",
            DbErrorKind::Decode => "ERR_DB_DECODE",
            DbErrorKind::InvalidUrl => "ERR_INVALID_URL",
            DbErrorKind::UnsupportedScheme => "ERR_INVALID_URL_SCHEME",
            DbErrorKind::ParamType => "ERR_INVALID_ARG_TYPE",
            DbErrorKind::ParamValue => "ERR_INVALID_ARG_VALUE",
            DbErrorKind::ParamRange => "ERR_OUT_OF_RANGE",
            DbErrorKind::Internal => "ERR_DB_INTERNAL",
        }
    }

    /// Whether an error of this kind counts as a failure of the database (moves the breaker).
    pub fn trips(self) -> bool {
        matches!(
            self,
            DbErrorKind::Connection
                | DbErrorKind::Unavailable
                | DbErrorKind::PoolTimeout
                | DbErrorKind::CircuitTimeout
        )
    }
}

/// An error of [`crate::database::DatabaseCircuitBreaker`]: a kind (with its stable code), a
/// message that never contains the password of the URL, and what the database said.
///
/// Boxed: it is the error of every operation, so it stays one pointer wide.
#[derive(Debug, Clone, PartialEq)]
pub struct DbError(Box<Inner>);

#[derive(Debug, Clone, PartialEq)]
struct Inner {
    kind: DbErrorKind,
    message: String,
    sql_state: Option<String>,
    db_code: Option<String>,
    constraint: Option<String>,
    breaker: Option<CircuitBreakerError>,
}

impl DbError {
    /// An error of `kind` with `message`.
    pub fn new(kind: DbErrorKind, message: impl Into<String>) -> Self {
        Self(Box::new(Inner {
            kind,
            message: message.into(),
            sql_state: None,
            db_code: None,
            constraint: None,
            breaker: None,
        }))
    }

    /// The error of a failed parameter conversion, naming the parameter (1-based).
    pub(crate) fn param(kind: DbErrorKind, index: usize, message: impl fmt::Display) -> Self {
        Self::new(kind, format!("Parameter ${}: {message}", index + 1))
    }

    /// The kind.
    pub fn kind(&self) -> DbErrorKind {
        self.0.kind
    }

    /// The stable code (`ERR_DB_*`, `ERR_CIRCUIT_*`, or a Node.js argument-error code).
    pub fn code(&self) -> &'static str {
        self.0.kind.code()
    }

    /// The message (without the password of the URL).
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The SQLSTATE the database reported (PostgreSQL, MySQL; SQLite has none).
    pub fn sql_state(&self) -> Option<&str> {
        self.0.sql_state.as_deref()
    }

    /// The driver's own code: the SQLSTATE for PostgreSQL, the error number for MySQL
    /// (`"1062"`), the extended result code for SQLite (`"2067"`).
    pub fn db_code(&self) -> Option<&str> {
        self.0.db_code.as_deref()
    }

    /// The violated constraint, when the database names it (PostgreSQL).
    pub fn constraint(&self) -> Option<&str> {
        self.0.constraint.as_deref()
    }

    /// The breaker's own error (open circuit, timeout), if this is one.
    pub fn breaker_error(&self) -> Option<&CircuitBreakerError> {
        self.0.breaker.as_ref()
    }

    /// Whether this error counts as a failure of the database.
    pub fn trips(&self) -> bool {
        self.0.kind.trips()
    }

    /// What the breaker records for a result ending with this error.
    pub fn outcome(&self) -> Outcome {
        if self.trips() {
            Outcome::Failure
        } else {
            Outcome::Ignored
        }
    }

    pub(crate) fn with_db(
        mut self,
        sql_state: Option<String>,
        db_code: Option<String>,
        constraint: Option<String>,
    ) -> Self {
        self.0.sql_state = sql_state;
        self.0.db_code = db_code;
        self.0.constraint = constraint;
        self
    }

    /// Converts an sqlx error, removing `secrets` from its message.
    pub(crate) fn from_sqlx(err: sqlx::Error, secrets: &[String]) -> Self {
        use sqlx::Error as E;
        let kind = match &err {
            E::Io(_) | E::Tls(_) | E::Protocol(_) | E::WorkerCrashed => DbErrorKind::Connection,
            E::PoolTimedOut => DbErrorKind::PoolTimeout,
            E::PoolClosed => DbErrorKind::Closed,
            E::Configuration(_) => DbErrorKind::InvalidUrl,
            E::Database(db) => return Self::from_database(&**db, secrets),
            E::ColumnDecode { .. } | E::Decode(_) => DbErrorKind::Decode,
            E::Encode(_) | E::InvalidArgument(_) => DbErrorKind::ParamValue,
            E::TypeNotFound { .. } => DbErrorKind::UnsupportedType,
            // BeginFailed, savepoint misuse, RowNotFound...: the driver's view of our usage.
            _ => DbErrorKind::Query,
        };
        Self::new(kind, scrub(&err.to_string(), secrets))
    }

    fn from_database(db: &dyn sqlx::error::DatabaseError, secrets: &[String]) -> Self {
        let message = scrub(db.message(), secrets);
        let Classified {
            mut kind,
            sql_state,
            db_code,
            constraint,
        } = classify_database(db);
        if db.is_unique_violation()
            || db.is_foreign_key_violation()
            || db.is_check_violation()
            || matches!(db.kind(), sqlx::error::ErrorKind::NotNullViolation)
        {
            kind = DbErrorKind::Constraint;
        }
        Self::new(kind, message).with_db(sql_state, db_code, constraint)
    }

    pub(crate) fn from_breaker(err: CircuitBreakerError) -> Self {
        let kind = match err {
            CircuitBreakerError::Open { .. } => DbErrorKind::CircuitOpen,
            CircuitBreakerError::Timeout { .. } => DbErrorKind::CircuitTimeout,
            _ => DbErrorKind::NoRuntime,
        };
        let mut e = Self::new(kind, err.to_string());
        e.0.breaker = Some(err);
        e
    }

    pub(crate) fn from_call(err: CallError<DbError>) -> Self {
        match err {
            CallError::Breaker(b) => Self::from_breaker(b),
            CallError::Operation(e) => e,
        }
    }
}

/// The error of an operation refused or ended by `close()`.
pub(crate) fn closed_error() -> DbError {
    DbError::new(DbErrorKind::Closed, "The database breaker is closed")
}

/// What a database error says, read the way its driver reports it.
struct Classified {
    kind: DbErrorKind,
    sql_state: Option<String>,
    db_code: Option<String>,
    constraint: Option<String>,
}

/// Reads a database error with the driver that raised it (each driver compiled in is tried).
fn classify_database(db: &dyn sqlx::error::DatabaseError) -> Classified {
    let db_code = db.code().map(|c| c.into_owned());
    let constraint = db.constraint().map(str::to_string);
    #[cfg(feature = "database-postgres")]
    if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        return Classified {
            kind: classify_sql_state(pg.code()),
            sql_state: Some(pg.code().to_string()),
            db_code,
            constraint: pg.constraint().map(str::to_string),
        };
    }
    #[cfg(feature = "database-mysql")]
    if let Some(my) = db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
        let sql_state = my.code().map(str::to_string);
        let mut kind = sql_state
            .as_deref()
            .map_or(DbErrorKind::Query, classify_sql_state);
        if kind == DbErrorKind::Query {
            kind = classify_mysql_number(my.number());
        }
        return Classified {
            kind,
            sql_state,
            db_code: Some(my.number().to_string()),
            constraint,
        };
    }
    // SQLite's code is its extended result code, a number.
    #[cfg(feature = "database-sqlite")]
    if let Some(code) = db_code.as_deref().and_then(|c| c.parse::<i32>().ok()) {
        return Classified {
            kind: classify_sqlite_code(code),
            sql_state: None,
            db_code,
            constraint,
        };
    }
    Classified {
        kind: DbErrorKind::Query,
        sql_state: None,
        db_code,
        constraint,
    }
}

/// The kind of a database error by its SQLSTATE.
#[cfg(any(feature = "database-postgres", feature = "database-mysql"))]
fn classify_sql_state(state: &str) -> DbErrorKind {
    let class = state.get(..2).unwrap_or("");
    match class {
        // Connection exception; invalid authorization (a wrong password fails every call);
        // invalid catalog name (so does a database name that does not exist).
        "08" | "28" => DbErrorKind::Connection,
        "3D" if state == "3D000" => DbErrorKind::Connection,
        "53" | "58" | "XX" => DbErrorKind::Unavailable,
        "57" if state.starts_with("57P") => DbErrorKind::Unavailable,
        "23" => DbErrorKind::Constraint,
        _ => DbErrorKind::Query,
    }
}

/// MySQL errors whose SQLSTATE is the generic HY000 but that say the server cannot serve.
#[cfg(feature = "database-mysql")]
fn classify_mysql_number(number: u16) -> DbErrorKind {
    match number {
        // ER_CON_COUNT_ERROR, ER_OUT_OF_RESOURCES, ER_SERVER_SHUTDOWN, ER_NORMAL_SHUTDOWN,
        // ER_SHUTDOWN_COMPLETE, ER_DISK_FULL, ER_RECORD_FILE_FULL, ER_OUTOFMEMORY,
        // ER_TOO_MANY_USER_CONNECTIONS, ER_SERVER_OFFLINE_MODE (MySQL) / ER_CONNECTION_KILLED.
        1040 | 1041 | 1053 | 1077 | 1079 | 1021 | 1114 | 1037 | 1203 | 3032 | 1927 => {
            DbErrorKind::Unavailable
        }
        // ER_BAD_DB_ERROR: the database named in the URL does not exist (SQLSTATE 42000).
        1049 => DbErrorKind::Connection,
        _ => DbErrorKind::Query,
    }
}

/// SQLite result codes (the primary code is the low byte of the extended one).
#[cfg(feature = "database-sqlite")]
fn classify_sqlite_code(code: i32) -> DbErrorKind {
    match code & 0xff {
        // BUSY, LOCKED, NOMEM, IOERR, CORRUPT, FULL, CANTOPEN, PROTOCOL, NOTADB
        5 | 6 | 7 | 10 | 11 | 13 | 14 | 15 | 26 => DbErrorKind::Unavailable,
        19 => DbErrorKind::Constraint,
        _ => DbErrorKind::Query,
    }
}

/// `text` with every secret (of 3 characters or more) replaced by `***`.
pub(crate) fn scrub(text: &str, secrets: &[String]) -> String {
    let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
    crate::redact::scrub(text, &refs)
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message)
    }
}

impl std::error::Error for DbError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(any(feature = "database-postgres", feature = "database-mysql"))]
    #[test]
    fn sql_states_classify() {
        assert_eq!(classify_sql_state("08006"), DbErrorKind::Connection);
        assert_eq!(classify_sql_state("3D000"), DbErrorKind::Connection);
        assert_eq!(classify_sql_state("3F000"), DbErrorKind::Query);
        assert_eq!(classify_sql_state("57P01"), DbErrorKind::Unavailable);
        assert_eq!(classify_sql_state("57014"), DbErrorKind::Query);
        assert_eq!(classify_sql_state("53300"), DbErrorKind::Unavailable);
        assert_eq!(classify_sql_state("23505"), DbErrorKind::Constraint);
        assert_eq!(classify_sql_state("42601"), DbErrorKind::Query);
        assert_eq!(classify_sql_state(""), DbErrorKind::Query);
    }

    #[test]
    fn only_service_failures_trip() {
        assert!(DbErrorKind::Connection.trips());
        assert!(DbErrorKind::PoolTimeout.trips());
        assert!(!DbErrorKind::Constraint.trips());
        assert!(!DbErrorKind::Query.trips());
        assert!(!DbErrorKind::ParamValue.trips());
        assert_eq!(
            DbError::new(DbErrorKind::Query, "x").outcome(),
            Outcome::Ignored
        );
    }

    #[cfg(feature = "database-sqlite")]
    #[test]
    fn sqlite_codes_classify() {
        assert_eq!(classify_sqlite_code(2067), DbErrorKind::Constraint);
        assert_eq!(classify_sqlite_code(5), DbErrorKind::Unavailable);
        assert_eq!(classify_sqlite_code(1), DbErrorKind::Query);
    }
}
