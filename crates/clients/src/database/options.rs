//! Options of a database breaker, and the URL that selects the driver.
//!
//! `sqlite://path.db` (created if missing), `sqlite::memory:` / `sqlite://:memory:`,
//! `postgres://` or `postgresql://`, `mysql://` or `mariadb://`. Anything else is refused with
//! a typed error whose message shows the URL with its password masked, and so is the scheme of a
//! driver whose Cargo feature is off (the message names the feature).

use std::str::FromStr;
use std::time::Duration;

use neural_trader_resilience::{
    validate_count, validate_duration, CircuitBreakerConfig, ConfigError,
};
#[cfg(feature = "database-mysql")]
use sqlx::mysql::MySqlConnectOptions;
#[cfg(feature = "database-postgres")]
use sqlx::postgres::PgConnectOptions;
#[cfg(feature = "database-sqlite")]
use sqlx::sqlite::SqliteConnectOptions;

use super::error::{scrub, DbError, DbErrorKind};
use crate::redact::redact_url_str;

/// The largest pool.
pub const MAX_CONNECTIONS: u32 = 10_000;

/// Options of a [`crate::database::DatabaseCircuitBreaker`].
#[derive(Debug, Clone)]
pub struct DatabaseOptions {
    /// The database URL; `None` means a private in-memory SQLite database (with the
    /// `database-sqlite` feature; without it, `None` is refused with `ERR_INVALID_URL_SCHEME`).
    pub url: Option<String>,
    /// The most connections the pool opens (default 10; an in-memory SQLite database always
    /// has exactly one, since each connection would otherwise see a database of its own).
    pub max_connections: u32,
    /// How long an operation waits for a free connection before failing with
    /// `ERR_DB_POOL_TIMEOUT` (default 30 s). Also bounds connecting to the server.
    pub acquire_timeout: Duration,
    /// The breaker's configuration. Its `timeout` bounds each query and each whole
    /// transaction.
    pub breaker: CircuitBreakerConfig,
}

impl DatabaseOptions {
    /// Checks every field but `url` (parsed when the pool is made) and `breaker` (checked when
    /// the breaker is made) against its range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        validate_count("max_connections", self.max_connections, MAX_CONNECTIONS)?;
        validate_duration("acquire_timeout", self.acquire_timeout)
    }
}

impl Default for DatabaseOptions {
    fn default() -> Self {
        Self {
            url: None,
            max_connections: 10,
            acquire_timeout: Duration::from_secs(30),
            breaker: CircuitBreakerConfig::default(),
        }
    }
}

/// The driver a URL selects, with its parsed connect options.
#[derive(Debug, Clone)]
pub(crate) enum Target {
    #[cfg(feature = "database-sqlite")]
    Sqlite {
        options: SqliteConnectOptions,
        in_memory: bool,
    },
    #[cfg(feature = "database-postgres")]
    Postgres(PgConnectOptions),
    #[cfg(feature = "database-mysql")]
    MySql(MySqlConnectOptions),
}

/// Each driver's URL schemes, its Cargo feature and whether this build has it.
const DRIVERS: [(&[&str], &str, bool); 3] = [
    (
        &["sqlite"],
        "database-sqlite",
        cfg!(feature = "database-sqlite"),
    ),
    (
        &["postgres", "postgresql"],
        "database-postgres",
        cfg!(feature = "database-postgres"),
    ),
    (
        &["mysql", "mariadb"],
        "database-mysql",
        cfg!(feature = "database-mysql"),
    ),
];

/// The message refusing `scheme`: an unknown scheme, or the scheme of a driver not compiled in.
fn unsupported_scheme(scheme: &str, shown: &str) -> String {
    let schemes: Vec<String> = DRIVERS
        .iter()
        .filter(|(_, _, on)| *on)
        .flat_map(|(schemes, _, _)| schemes.iter().map(|s| format!("{s}:")))
        .collect();
    let expected = match schemes.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => schemes.concat(),
    };
    match DRIVERS
        .iter()
        .find(|(schemes, _, on)| !on && schemes.contains(&scheme))
    {
        Some((_, feature, _)) => format!(
            "Unsupported database URL scheme '{scheme}:' in {shown}: its driver is not compiled in (the `{feature}` feature of neural-trader-clients is off; expected {expected})"
        ),
        None => format!("Unsupported database URL scheme '{scheme}:' in {shown} (expected {expected})"),
    }
}

/// The error of a breaker given no URL when there is no default database (the in-memory SQLite
/// database needs the `database-sqlite` feature).
#[cfg(not(feature = "database-sqlite"))]
pub(crate) fn no_default_database() -> DbError {
    DbError::new(
        DbErrorKind::UnsupportedScheme,
        "No database URL was given, and the default database (a private in-memory SQLite database) needs the `database-sqlite` feature of neural-trader-clients, which is off",
    )
}

/// The parts of a URL that must never be shown (the password, raw and percent-decoded).
pub(crate) fn secrets_of(url: &str) -> Vec<String> {
    let mut secrets = Vec::new();
    if let Ok(parsed) = url::Url::parse(url) {
        if let Some(password) = parsed.password() {
            secrets.push(password.to_string());
            if let Ok(decoded) = percent_decode(password) {
                secrets.push(decoded);
            }
        }
        for (key, value) in parsed.query_pairs() {
            if key.to_ascii_lowercase().contains("password") && !value.is_empty() {
                secrets.push(value.into_owned());
            }
        }
    }
    // Longest first, so that a secret containing another is masked whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets.dedup();
    secrets
}

fn percent_decode(text: &str) -> Result<String, std::string::FromUtf8Error> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out)
}

/// Parses `url` into the driver and its options.
pub(crate) fn parse_url(url: &str) -> Result<Target, DbError> {
    let secrets = secrets_of(url);
    let shown = redact_url_str(url);
    let invalid = |why: String| {
        DbError::new(
            DbErrorKind::InvalidUrl,
            scrub(&format!("Invalid database URL {shown}: {why}"), &secrets),
        )
    };
    let scheme = match url.split_once(':') {
        Some((scheme, _))
            if !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
        {
            scheme.to_ascii_lowercase()
        }
        _ => return Err(invalid("it has no scheme".to_string())),
    };
    match scheme.as_str() {
        #[cfg(feature = "database-sqlite")]
        "sqlite" => {
            let lower = url.to_ascii_lowercase();
            let in_memory = lower.contains(":memory:") || lower.contains("mode=memory");
            let options = SqliteConnectOptions::from_str(url)
                .map_err(|e| invalid(e.to_string()))?
                .create_if_missing(true);
            Ok(Target::Sqlite { options, in_memory })
        }
        #[cfg(feature = "database-postgres")]
        "postgres" | "postgresql" => {
            check_server_url(url).map_err(invalid)?;
            PgConnectOptions::from_str(url)
                .map(Target::Postgres)
                .map_err(|e| invalid(e.to_string()))
        }
        #[cfg(feature = "database-mysql")]
        "mysql" | "mariadb" => {
            check_server_url(url).map_err(invalid)?;
            MySqlConnectOptions::from_str(url)
                .map(Target::MySql)
                .map_err(|e| invalid(e.to_string()))
        }
        other => Err(DbError::new(
            DbErrorKind::UnsupportedScheme,
            scrub(&unsupported_scheme(other, &shown), &secrets),
        )),
    }
}

/// A server URL must parse as a URL with a host.
#[cfg(any(feature = "database-postgres", feature = "database-mysql"))]
fn check_server_url(url: &str) -> Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|e| e.to_string())?;
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err("it has no host".to_string());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "database-sqlite")]
    #[test]
    fn sqlite_urls_select_sqlite() {
        assert!(matches!(
            parse_url("sqlite::memory:"),
            Ok(Target::Sqlite {
                in_memory: true,
                ..
            })
        ));
        assert!(matches!(
            parse_url("sqlite://trades.db"),
            Ok(Target::Sqlite {
                in_memory: false,
                ..
            })
        ));
    }

    #[cfg(feature = "database-postgres")]
    #[test]
    fn postgres_urls_select_postgres() {
        assert!(matches!(
            parse_url("postgres://u:p@localhost/db"),
            Ok(Target::Postgres(_))
        ));
        assert!(matches!(
            parse_url("postgresql://localhost/db"),
            Ok(Target::Postgres(_))
        ));
    }

    #[cfg(feature = "database-mysql")]
    #[test]
    fn mysql_urls_select_mysql() {
        assert!(matches!(
            parse_url("mysql://root@127.0.0.1/db"),
            Ok(Target::MySql(_))
        ));
        assert!(matches!(
            parse_url("mariadb://root@127.0.0.1/db"),
            Ok(Target::MySql(_))
        ));
    }

    #[test]
    fn bad_urls_are_typed_and_never_show_the_password() {
        let e = parse_url("redis://u:hunter22@h/0").unwrap_err();
        assert_eq!(e.code(), "ERR_INVALID_URL_SCHEME");
        assert!(!e.message().contains("hunter22"), "{}", e.message());
        let e = parse_url("not a url").unwrap_err();
        assert_eq!(e.code(), "ERR_INVALID_URL");
    }

    #[cfg(feature = "database-postgres")]
    #[test]
    fn bad_server_urls_are_invalid_and_never_show_the_password() {
        let e = parse_url("postgres://u:hunter22@[bad/db").unwrap_err();
        assert_eq!(e.code(), "ERR_INVALID_URL");
        assert!(!e.message().contains("hunter22"), "{}", e.message());
        let e = parse_url("postgres:///db").unwrap_err();
        assert_eq!(e.code(), "ERR_INVALID_URL");
    }

    #[cfg(all(
        feature = "database-sqlite",
        feature = "database-postgres",
        feature = "database-mysql"
    ))]
    #[test]
    fn an_unknown_scheme_lists_every_scheme() {
        let e = parse_url("redis://h/0").unwrap_err();
        assert_eq!(
            e.message(),
            "Unsupported database URL scheme 'redis:' in redis://h/0 (expected sqlite:, postgres:, postgresql:, mysql: or mariadb:)"
        );
    }

    #[cfg(not(feature = "database-sqlite"))]
    #[test]
    fn no_url_is_refused_without_sqlite() {
        let e =
            crate::database::DatabaseCircuitBreaker::with_options("db", DatabaseOptions::default())
                .unwrap_err();
        assert_eq!(e.code(), "ERR_INVALID_URL_SCHEME");
        assert!(
            e.message().contains("`database-sqlite` feature"),
            "{}",
            e.message()
        );
    }

    #[cfg(not(feature = "database-mysql"))]
    #[test]
    fn a_driver_not_compiled_in_is_refused_naming_its_feature() {
        let e = parse_url("mariadb://u:hunter22@h/db").unwrap_err();
        assert_eq!(e.code(), "ERR_INVALID_URL_SCHEME");
        assert!(
            e.message().contains("`database-mysql` feature"),
            "{}",
            e.message()
        );
        assert!(!e.message().contains("hunter22"), "{}", e.message());
        assert!(!e.message().contains("mysql:"), "{}", e.message());
    }

    #[test]
    fn secrets_include_the_decoded_password() {
        let s = secrets_of("postgres://u:p%40ss%21word@h/db?password=other1");
        assert!(s.contains(&"p@ss!word".to_string()), "{s:?}");
        assert!(s.contains(&"p%40ss%21word".to_string()), "{s:?}");
        assert!(s.contains(&"other1".to_string()), "{s:?}");
    }
}
