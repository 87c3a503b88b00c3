//! SQLite: binding by the value's own type, decoding by each cell's storage class.
//!
//! SQLite is dynamically typed, so a parameter is stored as what it is: a JS number that is an
//! integer as INTEGER, another number as REAL, a boolean as 0/1, a `Date` as ISO 8601 text
//! (which sorts), an object as JSON text. A cell comes back by its storage class: INTEGER as a
//! number when |n| <= 2^53-1 and a decimal string otherwise (as [`Value::BigInt`]), REAL as a
//! number, TEXT as a string, BLOB as bytes.

use sqlx::sqlite::{SqliteArguments, SqliteConnection, SqliteRow, SqliteValueRef};
use sqlx::{Arguments, Column, Decode, Row, TypeInfo, ValueRef};

use super::error::{DbError, DbErrorKind};
use super::pool::check_sql;
use super::value::{ExecuteResult, LastInsertId, Rows, Value, MAX_SAFE_INTEGER};

/// Binds `params` in order (`$1`, `?1` or `?` parameter markers).
fn bind(params: &[Value]) -> Result<SqliteArguments<'_>, DbError> {
    let mut args = SqliteArguments::default();
    for (i, p) in params.iter().enumerate() {
        let added = match p {
            Value::Null => args.add(None::<i64>),
            Value::Bool(b) => args.add(i64::from(*b)),
            Value::Int(n) | Value::BigInt(n) => args.add(*n),
            Value::Float(f) => {
                if f.fract() == 0.0 && f.abs() <= MAX_SAFE_INTEGER as f64 {
                    args.add(*f as i64)
                } else {
                    args.add(*f)
                }
            }
            Value::Decimal(s) | Value::Text(s) | Value::Special(s) => args.add(s.as_str()),
            Value::Bytes(b) => args.add(b.as_slice()),
            Value::Json(v) => args.add(v.to_string()),
            Value::Timestamp(t) => args.add(Value::iso_timestamp(t)),
            Value::DateTime(t) => args.add(Value::iso_datetime(t)),
            Value::Date(d) => args.add(d.to_string()),
            Value::Time(t) => args.add(t.format("%H:%M:%S%.f").to_string()),
            Value::Uuid(u) => args.add(u.hyphenated().to_string()),
            // An array is stored as JSON text.
            Value::Array(_) => args.add(p.to_json().to_string()),
        };
        added.map_err(|e| DbError::param(DbErrorKind::ParamValue, i, e))?;
    }
    Ok(args)
}

fn decode_cell(value: SqliteValueRef<'_>) -> Result<Value, sqlx::error::BoxDynError> {
    if value.is_null() {
        return Ok(Value::Null);
    }
    let storage = value.type_info().name().to_string();
    Ok(match storage.as_str() {
        "INTEGER" => {
            let n = <i64 as Decode<sqlx::Sqlite>>::decode(value)?;
            if n.unsigned_abs() <= MAX_SAFE_INTEGER as u64 {
                Value::Int(n)
            } else {
                Value::BigInt(n)
            }
        }
        "REAL" => Value::Float(<f64 as Decode<sqlx::Sqlite>>::decode(value)?),
        "BLOB" => Value::Bytes(<Vec<u8> as Decode<sqlx::Sqlite>>::decode(value)?),
        _ => Value::Text(<String as Decode<sqlx::Sqlite>>::decode(value)?),
    })
}

fn decode_rows(rows: Vec<SqliteRow>) -> Result<Rows, DbError> {
    let Some(first) = rows.first() else {
        return Ok(Rows::default());
    };
    let columns: Vec<String> = first
        .columns()
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let mut cells = Vec::with_capacity(columns.len());
        for (i, name) in columns.iter().enumerate() {
            let raw = row.try_get_raw(i).map_err(|e| DbError::from_sqlx(e, &[]))?;
            cells.push(decode_cell(raw).map_err(|e| {
                DbError::new(
                    DbErrorKind::Decode,
                    format!("Column '{name}' could not be decoded: {e}"),
                )
            })?);
        }
        out.push(cells);
    }
    Ok(Rows {
        columns: columns.into(),
        rows: out,
    })
}

/// Runs `sql` and returns its rows.
pub(crate) async fn fetch(
    conn: &mut SqliteConnection,
    sql: &str,
    params: &[Value],
    secrets: &[String],
) -> Result<Rows, DbError> {
    check_sql(sql)?;
    let args = bind(params)?;
    let rows = sqlx::query_with(sql, args)
        .fetch_all(conn)
        .await
        .map_err(|e| DbError::from_sqlx(e, secrets))?;
    decode_rows(rows)
}

/// Runs `sql` for its effect.
pub(crate) async fn execute(
    conn: &mut SqliteConnection,
    sql: &str,
    params: &[Value],
    secrets: &[String],
) -> Result<ExecuteResult, DbError> {
    check_sql(sql)?;
    let args = bind(params)?;
    let done = sqlx::query_with(sql, args)
        .execute(conn)
        .await
        .map_err(|e| DbError::from_sqlx(e, secrets))?;
    Ok(ExecuteResult {
        rows_affected: done.rows_affected(),
        last_insert_id: Some(LastInsertId::Signed(done.last_insert_rowid())),
    })
}
