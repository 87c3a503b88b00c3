//! MySQL and MariaDB: binding by the value's own type (the server converts, as it does for
//! mysql2), decoding by the column type.
//!
//! Cells: TINYINT..INT and YEAR as numbers, BIGINT and DECIMAL as strings, FLOAT/DOUBLE as
//! numbers, DATE as `YYYY-MM-DD`, DATETIME as zoneless ISO 8601, TIMESTAMP as ISO 8601 UTC (sqlx
//! sets the session time zone to `+00:00`), TIME as `[-]HH:MM:SS[.ffffff]`, JSON parsed, BLOB
//! and BINARY types and BIT as bytes, text types as strings. MariaDB reports a JSON column as
//! LONGTEXT, so there it comes back as its text.

use sqlx::mysql::{MySqlArguments, MySqlConnection, MySqlRow, MySqlValueRef};
use sqlx::types::Json;
use sqlx::{Arguments, Column, Decode, MySql, Row, TypeInfo, ValueRef};

use super::error::{DbError, DbErrorKind};
use super::pool::check_sql;
use super::value::{ExecuteResult, LastInsertId, Rows, Value, MAX_SAFE_INTEGER};

fn bind(params: &[Value]) -> Result<MySqlArguments, DbError> {
    let mut args = MySqlArguments::default();
    for (i, p) in params.iter().enumerate() {
        let added = match p {
            Value::Null => args.add(None::<i64>),
            Value::Bool(b) => args.add(*b),
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
            Value::Json(v) => args.add(Json(v)),
            Value::Timestamp(t) => args.add(t.naive_utc()),
            Value::DateTime(t) => args.add(*t),
            Value::Date(d) => args.add(*d),
            Value::Time(t) => args.add(*t),
            Value::Uuid(u) => args.add(u.hyphenated().to_string()),
            // An array is sent as JSON text.
            Value::Array(_) => args.add(p.to_json().to_string()),
        };
        added.map_err(|e| DbError::param(DbErrorKind::ParamValue, i, e))?;
    }
    Ok(args)
}

fn decode_cell(value: MySqlValueRef<'_>) -> Result<Value, sqlx::error::BoxDynError> {
    if value.is_null() {
        return Ok(Value::Null);
    }
    let ty = value.type_info().name().to_string();
    Ok(match ty.as_str() {
        "BOOLEAN" | "TINYINT" | "SMALLINT" | "MEDIUMINT" | "INT" | "YEAR" => {
            Value::Int(<i64 as Decode<MySql>>::decode(value)?)
        }
        "TINYINT UNSIGNED" | "SMALLINT UNSIGNED" | "MEDIUMINT UNSIGNED" | "INT UNSIGNED" => {
            Value::Int(<u64 as Decode<MySql>>::decode(value)? as i64)
        }
        "BIGINT" => Value::BigInt(<i64 as Decode<MySql>>::decode(value)?),
        "BIGINT UNSIGNED" => {
            let n = <u64 as Decode<MySql>>::decode(value)?;
            i64::try_from(n).map_or_else(|_| Value::Decimal(n.to_string()), Value::BigInt)
        }
        "FLOAT" => Value::Float(<f32 as Decode<MySql>>::decode(value)?.into()),
        "DOUBLE" => Value::Float(<f64 as Decode<MySql>>::decode(value)?),
        "DECIMAL" => Value::Decimal(<&str as Decode<MySql>>::decode(value)?.to_string()),
        "DATE" => Value::Date(Decode::<MySql>::decode(value)?),
        "DATETIME" => Value::DateTime(Decode::<MySql>::decode(value)?),
        "TIMESTAMP" => Value::Timestamp(Decode::<MySql>::decode(value)?),
        "TIME" => Value::Text(
            <sqlx::mysql::types::MySqlTime as Decode<MySql>>::decode(value)?.to_string(),
        ),
        "JSON" => Value::Json(<Json<serde_json::Value> as Decode<MySql>>::decode(value)?.0),
        "BLOB" | "TINYBLOB" | "MEDIUMBLOB" | "LONGBLOB" | "BINARY" | "VARBINARY" | "BIT"
        | "GEOMETRY" => Value::Bytes(<Vec<u8> as Decode<MySql>>::decode(value)?),
        "NULL" => Value::Null,
        _ => Value::Text(<&str as Decode<MySql>>::decode(value)?.to_string()),
    })
}

fn decode_rows(rows: Vec<MySqlRow>) -> Result<Rows, DbError> {
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
            let ty = raw.type_info().name().to_string();
            cells.push(decode_cell(raw).map_err(|e| {
                DbError::new(
                    DbErrorKind::Decode,
                    format!("Column '{name}' ({ty}) could not be decoded: {e}"),
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
    conn: &mut MySqlConnection,
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
    conn: &mut MySqlConnection,
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
    let id = done.last_insert_id();
    Ok(ExecuteResult {
        rows_affected: done.rows_affected(),
        last_insert_id: (id != 0).then_some(LastInsertId::Unsigned(id)),
    })
}
