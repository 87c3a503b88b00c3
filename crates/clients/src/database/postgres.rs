//! PostgreSQL: parameters converted to the types the server inferred for them.
//!
//! sqlx sends parameters in binary, declaring a type for each, so a JS string bound as TEXT
//! for a bigint column fails where node-postgres (which sends text) succeeds. So each statement
//! is first described (`Executor::describe`, once per SQL text, cached) to learn the parameter
//! types the server infers, and every value is converted to its parameter's type: a number or a
//! numeric string to int2/4/8, a string or a number to numeric, an object or JSON text to
//! json/jsonb, a `Date` or ISO text to a timestamp, text to a UUID... Each value is bound
//! declaring exactly the described type, so the statement means what it would have meant
//! untyped.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use bigdecimal::BigDecimal;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgArguments, PgConnection, PgTypeInfo, PgTypeKind};
use sqlx::types::Json;
use sqlx::{Arguments, Either, Encode, Executor, Postgres, Type, TypeInfo};
use uuid::Uuid;

use super::error::{DbError, DbErrorKind};
use super::parse::{parse_bool, parse_date, parse_naive_datetime, parse_time, parse_timestamp};
use super::pg_decode::{decode_rows, oid};
use super::value::{ExecuteResult, Rows, Value};

/// Statements whose parameter types are cached at most (the cache is cleared when full).
const CACHE_CAPACITY: usize = 1024;

/// Parameter types per SQL text, shared by the pool's connections.
#[derive(Debug, Default)]
pub(crate) struct ParamTypes(Mutex<HashMap<Box<str>, Arc<[PgTypeInfo]>>>);

impl ParamTypes {
    fn get(&self, sql: &str) -> Option<Arc<[PgTypeInfo]>> {
        self.0.lock().ok()?.get(sql).cloned()
    }

    fn put(&self, sql: &str, types: Arc<[PgTypeInfo]>) {
        if let Ok(mut map) = self.0.lock() {
            if map.len() >= CACHE_CAPACITY {
                map.clear();
            }
            map.insert(sql.into(), types);
        }
    }

    /// Forgets `sql` (after an error: the schema may have changed under it).
    fn forget(&self, sql: &str) {
        if let Ok(mut map) = self.0.lock() {
            map.remove(sql);
        }
    }
}

/// A value encoded by `T` but declared as the described parameter type.
struct Typed<T>(T, PgTypeInfo);

impl<'q, T: Encode<'q, Postgres>> Encode<'q, Postgres> for Typed<T> {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        self.0.encode_by_ref(buf)
    }

    fn produces(&self) -> Option<PgTypeInfo> {
        Some(self.1.clone())
    }

    fn size_hint(&self) -> usize {
        self.0.size_hint()
    }
}

impl<T> Type<Postgres> for Typed<T> {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(sqlx::postgres::types::Oid(oid::UNKNOWN))
    }
}

/// The base of a domain, and whether `ty` is an enum (text on the wire).
fn base_of(ty: &PgTypeInfo) -> (Option<u32>, bool) {
    match ty.kind() {
        PgTypeKind::Domain(base) => base_of(base),
        PgTypeKind::Enum(_) => (None, true),
        _ if ty.name().eq_ignore_ascii_case("citext") => (Some(oid::TEXT), false),
        _ => (ty.oid().map(|o| o.0), false),
    }
}

fn f64_to_int(i: usize, f: f64, min: f64, max: f64, what: &str) -> Result<i64, DbError> {
    if f.fract() != 0.0 || !f.is_finite() {
        return Err(DbError::param(
            DbErrorKind::ParamValue,
            i,
            format!("{what} needs an integer, got a number with a fraction"),
        ));
    }
    if f < min || f > max {
        return Err(DbError::param(
            DbErrorKind::ParamRange,
            i,
            format!("the number is out of range for {what}"),
        ));
    }
    Ok(f as i64)
}

fn to_i64(i: usize, v: &Value, what: &str, min: i64, max: i64) -> Result<i64, DbError> {
    let n = match v {
        Value::Int(n) | Value::BigInt(n) => *n,
        // 2^63 is exactly representable; anything >= it is out of range.
        Value::Float(f) => f64_to_int(
            i,
            *f,
            -9.223_372_036_854_776e18,
            9.223_372_036_854_775e18,
            what,
        )?,
        Value::Text(s) | Value::Decimal(s) => match s.trim().parse::<i64>() {
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow
                ) =>
            {
                return Err(DbError::param(
                    DbErrorKind::ParamRange,
                    i,
                    format!("the string is out of range for {what}"),
                ))
            }
            Err(_) => {
                return Err(DbError::param(
                    DbErrorKind::ParamValue,
                    i,
                    format!("the string is not a valid {what}"),
                ))
            }
        },
        other => return Err(mismatch(i, other, what)),
    };
    if n < min || n > max {
        return Err(DbError::param(
            DbErrorKind::ParamRange,
            i,
            format!("the value is out of range for {what}"),
        ));
    }
    Ok(n)
}

fn mismatch(i: usize, v: &Value, what: &str) -> DbError {
    DbError::param(
        DbErrorKind::ParamType,
        i,
        format!("{} cannot be bound to a {what} parameter", v.type_name()),
    )
}

fn bad(i: usize, what: &str) -> DbError {
    DbError::param(
        DbErrorKind::ParamValue,
        i,
        format!("the string is not a valid {what}"),
    )
}

/// Text for a text parameter, as node-postgres would send it.
fn to_text(i: usize, v: &Value) -> Result<String, DbError> {
    Ok(match v {
        Value::Text(s) | Value::Decimal(s) | Value::Special(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Int(n) | Value::BigInt(n) => n.to_string(),
        Value::Float(f) => js_number_text(*f),
        Value::Json(j) => j.to_string(),
        Value::Timestamp(t) => Value::iso_timestamp(t),
        Value::DateTime(t) => Value::iso_datetime(t),
        Value::Date(d) => d.to_string(),
        Value::Time(t) => t.format("%H:%M:%S%.f").to_string(),
        Value::Uuid(u) => u.hyphenated().to_string(),
        other => return Err(mismatch(i, other, "text")),
    })
}

/// `String(n)` for the numbers people bind as text (integers print without `.0`).
fn js_number_text(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else if f.fract() == 0.0 && f.abs() < 1e21 {
        format!("{f:.0}")
    } else {
        f.to_string()
    }
}

fn to_json(i: usize, v: &Value) -> Result<serde_json::Value, DbError> {
    use serde_json::Value as J;
    Ok(match v {
        Value::Json(j) => j.clone(),
        Value::Text(s) => serde_json::from_str(s).map_err(|_| {
            DbError::param(
                DbErrorKind::ParamValue,
                i,
                "the string is not valid JSON text",
            )
        })?,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(n) | Value::BigInt(n) => J::from(*n),
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(J::Number)
            .ok_or_else(|| {
                DbError::param(
                    DbErrorKind::ParamValue,
                    i,
                    "a non-finite number is not JSON",
                )
            })?,
        other @ (Value::Timestamp(_)
        | Value::DateTime(_)
        | Value::Date(_)
        | Value::Uuid(_)
        | Value::Decimal(_)) => J::String(to_text(i, other)?),
        other => return Err(mismatch(i, other, "json")),
    })
}

fn to_decimal(i: usize, v: &Value) -> Result<BigDecimal, DbError> {
    let text = match v {
        Value::Int(n) | Value::BigInt(n) => return Ok(BigDecimal::from(*n)),
        Value::Float(f) if f.is_finite() => f.to_string(),
        Value::Float(_) => {
            return Err(DbError::param(
                DbErrorKind::ParamValue,
                i,
                "a non-finite number cannot be bound to numeric",
            ))
        }
        Value::Text(s) | Value::Decimal(s) => s.trim().to_string(),
        other => return Err(mismatch(i, other, "numeric")),
    };
    BigDecimal::from_str(&text).map_err(|_| bad(i, "numeric"))
}

/// Converts and binds parameter `i` (`v`) as the described type `ty`.
fn bind_one(args: &mut PgArguments, i: usize, v: &Value, ty: &PgTypeInfo) -> Result<(), DbError> {
    let declared = ty.clone();
    let added = if matches!(v, Value::Null) {
        args.add(Typed(None::<String>, declared))
    } else {
        let (base, is_enum) = base_of(ty);
        match (base, is_enum) {
            (_, true) => args.add(Typed(to_text(i, v)?, declared)),
            (Some(oid::BOOL), _) => {
                let b = match v {
                    Value::Bool(b) => *b,
                    Value::Int(0) | Value::BigInt(0) => false,
                    Value::Int(1) | Value::BigInt(1) => true,
                    Value::Float(f) if *f == 0.0 || *f == 1.0 => *f == 1.0,
                    Value::Text(s) => parse_bool(s).ok_or_else(|| bad(i, "boolean"))?,
                    other => return Err(mismatch(i, other, "boolean")),
                };
                args.add(Typed(b, declared))
            }
            (Some(oid::INT2), _) => {
                let n = to_i64(i, v, "smallint", i16::MIN.into(), i16::MAX.into())?;
                args.add(Typed(n as i16, declared))
            }
            (Some(oid::INT4), _) => {
                let n = to_i64(i, v, "integer", i32::MIN.into(), i32::MAX.into())?;
                args.add(Typed(n as i32, declared))
            }
            (Some(oid::INT8), _) => args.add(Typed(to_i64(i, v, "bigint", i64::MIN, i64::MAX)?, declared)),
            (Some(oid::OID), _) => {
                let n = to_i64(i, v, "oid", 0, u32::MAX.into())?;
                args.add(Typed(sqlx::postgres::types::Oid(n as u32), declared))
            }
            (Some(oid::FLOAT4 | oid::FLOAT8), _) => {
                let f = match v {
                    Value::Float(f) => *f,
                    Value::Int(n) | Value::BigInt(n) => *n as f64,
                    Value::Text(s) | Value::Decimal(s) => {
                        s.trim().parse::<f64>().map_err(|_| bad(i, "floating-point number"))?
                    }
                    other => return Err(mismatch(i, other, "floating-point")),
                };
                if ty.oid().map(|o| o.0) == Some(oid::FLOAT4) {
                    args.add(Typed(f as f32, declared))
                } else {
                    args.add(Typed(f, declared))
                }
            }
            (Some(oid::NUMERIC), _) => args.add(Typed(to_decimal(i, v)?, declared)),
            (Some(oid::TEXT | oid::VARCHAR | oid::BPCHAR | oid::NAME | oid::UNKNOWN | oid::XML), _) => {
                args.add(Typed(to_text(i, v)?, declared))
            }
            (Some(oid::BYTEA), _) => match v {
                Value::Bytes(b) => args.add(Typed(b.as_slice(), declared)),
                other => return Err(mismatch(i, other, "bytea")),
            },
            (Some(oid::JSON | oid::JSONB), _) => args.add(Typed(Json(to_json(i, v)?), declared)),
            (Some(oid::TIMESTAMPTZ), _) => {
                let t: DateTime<Utc> = match v {
                    Value::Timestamp(t) => *t,
                    Value::DateTime(t) => t.and_utc(),
                    Value::Text(s) => parse_timestamp(s).ok_or_else(|| bad(i, "timestamp"))?,
                    other => return Err(mismatch(i, other, "timestamptz")),
                };
                args.add(Typed(t, declared))
            }
            (Some(oid::TIMESTAMP), _) => {
                let t: NaiveDateTime = match v {
                    Value::Timestamp(t) => t.naive_utc(),
                    Value::DateTime(t) => *t,
                    Value::Text(s) => parse_naive_datetime(s).ok_or_else(|| bad(i, "timestamp"))?,
                    other => return Err(mismatch(i, other, "timestamp")),
                };
                args.add(Typed(t, declared))
            }
            (Some(oid::DATE), _) => {
                let d: NaiveDate = match v {
                    Value::Date(d) => *d,
                    Value::Timestamp(t) => t.date_naive(),
                    Value::DateTime(t) => t.date(),
                    Value::Text(s) => parse_date(s).ok_or_else(|| bad(i, "date"))?,
                    other => return Err(mismatch(i, other, "date")),
                };
                args.add(Typed(d, declared))
            }
            (Some(oid::TIME), _) => {
                let t: NaiveTime = match v {
                    Value::Time(t) => *t,
                    Value::Text(s) => parse_time(s).ok_or_else(|| bad(i, "time"))?,
                    other => return Err(mismatch(i, other, "time")),
                };
                args.add(Typed(t, declared))
            }
            (Some(oid::UUID), _) => {
                let u = match v {
                    Value::Uuid(u) => *u,
                    Value::Text(s) => Uuid::parse_str(s.trim()).map_err(|_| bad(i, "UUID"))?,
                    other => return Err(mismatch(i, other, "uuid")),
                };
                args.add(Typed(u, declared))
            }
            _ => {
                return Err(DbError::param(
                    DbErrorKind::ParamType,
                    i,
                    format!(
                        "PostgreSQL type {} is not supported as a parameter; cast in SQL (for example $1::text::{})",
                        ty.name(),
                        ty.name()
                    ),
                ))
            }
        }
    };
    added.map_err(|e| DbError::param(DbErrorKind::ParamValue, i, e))
}

/// The described parameter types of `sql` (cached).
async fn param_types(
    conn: &mut PgConnection,
    cache: &ParamTypes,
    sql: &str,
    secrets: &[String],
) -> Result<Arc<[PgTypeInfo]>, DbError> {
    if let Some(types) = cache.get(sql) {
        return Ok(types);
    }
    let described = conn
        .describe(sql)
        .await
        .map_err(|e| DbError::from_sqlx(e, secrets))?;
    let types: Arc<[PgTypeInfo]> = match described.parameters() {
        Some(Either::Left(types)) => types.to_vec().into(),
        _ => Arc::from([]),
    };
    cache.put(sql, Arc::clone(&types));
    Ok(types)
}

async fn bind(
    conn: &mut PgConnection,
    cache: &ParamTypes,
    sql: &str,
    params: &[Value],
    secrets: &[String],
) -> Result<PgArguments, DbError> {
    check_sql(sql)?;
    let types = param_types(conn, cache, sql, secrets).await?;
    if types.len() != params.len() {
        return Err(DbError::new(
            DbErrorKind::ParamValue,
            format!(
                "The statement takes {} parameter(s), {} given",
                types.len(),
                params.len()
            ),
        ));
    }
    let mut args = PgArguments::default();
    for (i, (v, ty)) in params.iter().zip(types.iter()).enumerate() {
        bind_one(&mut args, i, v, ty)?;
    }
    Ok(args)
}

/// A NUL byte would end the statement early on the wire (a protocol error, which would trip).
pub(crate) fn check_sql(sql: &str) -> Result<(), DbError> {
    if sql.contains('\0') {
        return Err(DbError::new(
            DbErrorKind::ParamValue,
            "The SQL text must not contain a NUL character",
        ));
    }
    Ok(())
}

fn forget_on_db_error<T>(
    r: Result<T, DbError>,
    cache: &ParamTypes,
    sql: &str,
) -> Result<T, DbError> {
    if let Err(e) = &r {
        if e.sql_state().is_some() {
            cache.forget(sql);
        }
    }
    r
}

/// Runs `sql` and returns its rows.
pub(crate) async fn fetch(
    conn: &mut PgConnection,
    cache: &ParamTypes,
    sql: &str,
    params: &[Value],
    secrets: &[String],
) -> Result<Rows, DbError> {
    let args = bind(conn, cache, sql, params, secrets).await?;
    let rows = sqlx::query_with(sql, args)
        .fetch_all(conn)
        .await
        .map_err(|e| DbError::from_sqlx(e, secrets));
    decode_rows(forget_on_db_error(rows, cache, sql)?)
}

/// Runs `sql` for its effect (no last insert id: use `RETURNING`).
pub(crate) async fn execute(
    conn: &mut PgConnection,
    cache: &ParamTypes,
    sql: &str,
    params: &[Value],
    secrets: &[String],
) -> Result<ExecuteResult, DbError> {
    let args = bind(conn, cache, sql, params, secrets).await?;
    let done = sqlx::query_with(sql, args)
        .execute(conn)
        .await
        .map_err(|e| DbError::from_sqlx(e, secrets));
    let done = forget_on_db_error(done, cache, sql)?;
    Ok(ExecuteResult {
        rows_affected: done.rows_affected(),
        last_insert_id: None,
    })
}
