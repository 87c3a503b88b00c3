//! The value model shared by every driver: parameters going in, cells coming out.
//!
//! A parameter is converted to the type the statement needs by the driver (PostgreSQL learns it
//! from the server, see `postgres.rs`); a cell is decoded from the column's runtime type. The
//! variants keep what JavaScript needs to render a cell the way node-postgres does: an
//! [`Value::Int`] is a JS number, a [`Value::BigInt`] (int8, BIGINT) and a [`Value::Decimal`]
//! (numeric, DECIMAL) are decimal strings there, while Rust gets the integer itself.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, SecondsFormat, Utc};
use serde::de::DeserializeOwned;
use serde_json::Map;
use uuid::Uuid;

use super::error::{DbError, DbErrorKind};

/// The largest integer a JS number holds exactly.
#[cfg(any(feature = "database-sqlite", feature = "database-mysql"))]
pub(crate) const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// One parameter or one cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer that JavaScript gets as a number (int2, int4, MySQL INT, SQLite integers up
    /// to 2^53-1).
    Int(i64),
    /// An integer that JavaScript gets as a decimal string (int8, BIGINT, larger SQLite
    /// integers); as a parameter, a JS `BigInt`.
    BigInt(i64),
    /// A floating-point number (a JS number as a parameter).
    Float(f64),
    /// An exact decimal as text (numeric, DECIMAL, BIGINT UNSIGNED above `i64::MAX`).
    Decimal(String),
    /// Text.
    Text(String),
    /// Bytes (bytea, BLOB; a `Buffer` in JavaScript).
    Bytes(Vec<u8>),
    /// A JSON document (json, jsonb, MySQL JSON; a plain object or array as a parameter).
    Json(serde_json::Value),
    /// A point in time (timestamptz, MySQL TIMESTAMP; a JS `Date` as a parameter).
    Timestamp(DateTime<Utc>),
    /// A date and time without a zone (timestamp, DATETIME).
    DateTime(NaiveDateTime),
    /// A date.
    Date(NaiveDate),
    /// A time of day.
    Time(NaiveTime),
    /// A UUID.
    Uuid(Uuid),
    /// An array: a PostgreSQL array (cell or parameter); as a parameter for a json column, or
    /// for SQLite and MySQL, it is sent as JSON text.
    Array(Vec<Value>),
    /// A value PostgreSQL sent as text that has no better mapping: `infinity` timestamps,
    /// `NaN` numerics (cells only; rendered as the string).
    Special(String),
}

impl Value {
    /// A timestamp as ISO 8601 in UTC with as many fractional digits as it has
    /// (`2024-01-02T03:04:05.123Z`).
    pub fn iso_timestamp(t: &DateTime<Utc>) -> String {
        t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
    }

    /// A zoneless date-time as ISO 8601 (`2024-01-02T03:04:05.123456`).
    pub fn iso_datetime(t: &NaiveDateTime) -> String {
        t.format("%Y-%m-%dT%H:%M:%S%.f").to_string()
    }

    /// The value as JSON for deserializing rows in Rust: integers stay integers, decimals are
    /// strings, bytes are arrays of numbers, dates and times ISO strings, non-finite floats
    /// null.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(n) | Value::BigInt(n) => J::from(*n),
            // An integral float prints as an integer, as JSON.stringify prints it.
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 => {
                J::from(*f as i64)
            }
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::Decimal(s) | Value::Text(s) | Value::Special(s) => J::String(s.clone()),
            Value::Bytes(b) => J::Array(b.iter().map(|x| J::from(*x)).collect()),
            Value::Json(v) => v.clone(),
            Value::Timestamp(t) => J::String(Self::iso_timestamp(t)),
            Value::DateTime(t) => J::String(Self::iso_datetime(t)),
            Value::Date(d) => J::String(d.to_string()),
            Value::Time(t) => J::String(t.format("%H:%M:%S%.f").to_string()),
            Value::Uuid(u) => J::String(u.hyphenated().to_string()),
            Value::Array(items) => J::Array(items.iter().map(Value::to_json).collect()),
        }
    }

    /// A JS `Date` (milliseconds since the epoch); `None` if invalid or out of range.
    pub fn from_js_date(ms: f64) -> Option<Value> {
        if !ms.is_finite() {
            return None;
        }
        DateTime::from_timestamp_millis(ms as i64).map(Value::Timestamp)
    }

    /// A JSON document from its text (what `JSON.stringify` returned); `None` if not JSON.
    pub fn from_json_text(text: &str) -> Option<Value> {
        serde_json::from_str(text).ok().map(Value::Json)
    }

    /// A short name of the variant, for error messages (never the value: it may be private).
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) | Value::Float(_) => "a number",
            Value::BigInt(_) => "a bigint",
            Value::Decimal(_) => "a decimal",
            Value::Text(_) | Value::Special(_) => "a string",
            Value::Bytes(_) => "a Buffer",
            Value::Json(_) => "an object",
            Value::Timestamp(_) | Value::DateTime(_) => "a Date",
            Value::Date(_) => "a date",
            Value::Time(_) => "a time",
            Value::Uuid(_) => "a UUID",
            Value::Array(_) => "an array",
        }
    }
}

macro_rules! value_from {
    ($($t:ty => $variant:ident),* $(,)?) => {
        $(impl From<$t> for Value {
            fn from(v: $t) -> Self {
                Value::$variant(v.into())
            }
        })*
    };
}

value_from!(
    bool => Bool,
    i32 => Int,
    i64 => BigInt,
    f64 => Float,
    String => Text,
    &str => Text,
    Vec<u8> => Bytes,
    serde_json::Value => Json,
    DateTime<Utc> => Timestamp,
    NaiveDateTime => DateTime,
    NaiveDate => Date,
    Uuid => Uuid,
);

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// The rows of a result: column names (shared) and one `Vec<Value>` per row, in column order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rows {
    /// Column names, in order (a name may repeat; in an object the last one's value wins).
    pub columns: Arc<[String]>,
    /// The rows.
    pub rows: Vec<Vec<Value>>,
}

impl Rows {
    /// Each row as a JSON object keyed by column name (see [`Value::to_json`]).
    pub fn to_json_objects(&self) -> Vec<serde_json::Value> {
        self.rows
            .iter()
            .map(|row| {
                let mut object = Map::with_capacity(row.len());
                for (name, value) in self.columns.iter().zip(row) {
                    object.insert(name.clone(), value.to_json());
                }
                serde_json::Value::Object(object)
            })
            .collect()
    }

    /// Deserializes every row into `T` through [`Rows::to_json_objects`].
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<Vec<T>, DbError> {
        self.to_json_objects()
            .into_iter()
            .enumerate()
            .map(|(i, row)| {
                serde_json::from_value(row).map_err(|e| {
                    DbError::new(DbErrorKind::Decode, format!("Row {i} does not fit: {e}"))
                })
            })
            .collect()
    }
}

/// What `execute` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExecuteResult {
    /// Rows inserted, updated or deleted.
    pub rows_affected: u64,
    /// The id of the last inserted row: SQLite's `last_insert_rowid()` (as better-sqlite3
    /// reports it, whatever the statement), MySQL's `LAST_INSERT_ID()` when the statement
    /// generated one; `None` for PostgreSQL (use `RETURNING`).
    pub last_insert_id: Option<LastInsertId>,
}

/// A last insert id: SQLite's rowid is signed, MySQL's id unsigned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LastInsertId {
    /// A SQLite rowid.
    Signed(i64),
    /// A MySQL AUTO_INCREMENT value.
    Unsigned(u64),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_deserialize_into_structs() {
        #[derive(serde::Deserialize)]
        struct Trade {
            id: i64,
            price: String,
            ok: bool,
        }
        let rows = Rows {
            columns: vec!["id".to_string(), "price".to_string(), "ok".to_string()].into(),
            rows: vec![vec![
                Value::BigInt(9_007_199_254_740_993),
                Value::Decimal("1.50".into()),
                Value::Bool(true),
            ]],
        };
        let trades: Vec<Trade> = rows.deserialize().unwrap();
        assert_eq!(trades[0].id, 9_007_199_254_740_993);
        assert_eq!(trades[0].price, "1.50");
        assert!(trades[0].ok);
        let err = rows.deserialize::<(u8,)>().unwrap_err();
        assert_eq!(err.code(), "ERR_DB_DECODE");
    }

    #[test]
    fn timestamps_render_as_iso() {
        let t = DateTime::from_timestamp_millis(1_700_000_000_123).unwrap();
        assert_eq!(Value::iso_timestamp(&t), "2023-11-14T22:13:20.123Z");
        assert_eq!(
            Value::Timestamp(t).to_json(),
            serde_json::json!("2023-11-14T22:13:20.123Z")
        );
    }
}
