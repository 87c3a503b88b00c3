//! `DbError` as JavaScript errors: `DatabaseError` (with `code` and, when the database gave
//! them, `sqlState`, `dbCode` and `constraint`), the breaker's own error classes, or
//! `TypeError` / `RangeError` for bad arguments and URLs.

use neural_trader_clients::database::{DbError, DbErrorKind};

use crate::js::errors::{ErrorClass, IntoJsError, JsErrorSpec, Prop};

impl IntoJsError for DbError {
    fn into_js_error(self) -> JsErrorSpec {
        if let Some(breaker) = self.breaker_error() {
            return breaker.clone().into_js_error();
        }
        let class = match self.kind() {
            DbErrorKind::ParamType
            | DbErrorKind::ParamValue
            | DbErrorKind::InvalidUrl
            | DbErrorKind::UnsupportedScheme => ErrorClass::TypeError,
            DbErrorKind::ParamRange => ErrorClass::RangeError,
            _ => ErrorClass::Database,
        };
        let mut spec = JsErrorSpec::new(class, self.code(), self.message());
        if class == ErrorClass::Database {
            // Only what the database said: absent fields are left out.
            for (name, value) in [
                ("sqlState", self.sql_state()),
                ("dbCode", self.db_code()),
                ("constraint", self.constraint()),
            ] {
                if let Some(value) = value {
                    spec = spec.with(name, Prop::Str(value.to_string()));
                }
            }
        }
        spec
    }
}
