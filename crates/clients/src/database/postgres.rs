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
use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgArguments, PgConnection, PgRow, PgTypeInfo, PgTypeKind};
use sqlx::types::Json;
use sqlx::{Arguments, Either, Encode, Executor, Postgres, Type, TypeInfo};
use uuid::Uuid;

use super::error::{DbError, DbErrorKind};
use super::parse::{parse_bool, parse_date, parse_naive_datetime, parse_time, parse_timestamp};
use super::pg_array::to_array;
use super::pg_convert::{bad, base_of, mismatch, to_decimal, to_i64, to_json, to_text};
use super::pg_decode::oid;
use super::pool::check_sql;
use super::value::{ExecuteResult, Value};

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

/// Converts and binds parameter `i` (`v`) as the described type `ty`.
fn bind_one(args: &mut PgArguments, i: usize, v: &Value, ty: &PgTypeInfo) -> Result<(), DbError> {
    let declared = ty.clone();
    let added = if matches!(v, Value::Null) {
        args.add(Typed(None::<String>, declared))
    } else if let PgTypeKind::Array(elem) = ty.kind() {
        args.add(Typed(to_array(i, v, ty, elem)?, declared))
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

/// Runs `sql` and returns its rows as the driver read them (decoded or rendered by the caller).
pub(crate) async fn fetch(
    conn: &mut PgConnection,
    cache: &ParamTypes,
    sql: &str,
    params: &[Value],
    secrets: &[String],
) -> Result<Vec<PgRow>, DbError> {
    let args = bind(conn, cache, sql, params, secrets).await?;
    let rows = sqlx::query_with(sql, args)
        .fetch_all(conn)
        .await
        .map_err(|e| DbError::from_sqlx(e, secrets));
    forget_on_db_error(rows, cache, sql)
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
