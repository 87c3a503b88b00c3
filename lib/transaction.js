'use strict'
// `transaction(fn)`, which resilience.js installs as `DatabaseCircuitBreaker.prototype.transaction`:
// the orchestration of a database transaction around a callback.
//
// Kept in JavaScript so that the callback's result and error are returned as they are (the
// same objects), whatever they are. The native side provides the steps as hidden methods:
// `__begin()` (src/database.rs) takes a breaker permit and a connection (rejecting with
// CircuitOpenError when the circuit is open) and resolves with the transaction
// (src/database_transaction.rs), which `fn` receives. The transaction commits (`__commit()`)
// when `fn` resolves and rolls back (`__rollback()`) when it throws or rejects. The breaker's
// timeout covers the whole transaction (`__remaining()`: the milliseconds left when it began,
// or null without a timeout): when it elapses, `__timeout()` rolls the transaction back and
// rejects with CircuitTimeoutError, whatever `fn` does later (its operations then reject too).
// One `setTimeout` per transaction rather than the wheel of lib/deadline.js: a transaction
// costs database round trips anyway.
//
// Imports: lib/errors.js.

const { invalidArgType } = require('./errors.js')

function transaction(fn) {
  if (typeof fn !== 'function') return Promise.reject(invalidArgType('fn', 'function', fn))
  let begun
  try {
    begun = this.__begin()
  } catch (error) {
    return Promise.reject(error)
  }
  return begun.then(
    (tx) =>
      new Promise((resolve, reject) => {
        let settled = false
        const remaining = tx.__remaining()
        const timer =
          remaining === null || remaining === undefined
            ? null
            : setTimeout(() => {
                if (settled) return
                settled = true
                tx.__timeout().then(resolve, reject)
              }, Math.max(0, Math.ceil(remaining)))
        const finish = () => {
          settled = true
          if (timer !== null) clearTimeout(timer)
        }
        let result
        try {
          result = Promise.resolve(fn(tx))
        } catch (error) {
          result = Promise.reject(error)
        }
        result.then(
          (value) => {
            if (settled) return
            finish()
            tx.__commit().then(() => resolve(value), reject)
          },
          (error) => {
            if (settled) return
            finish()
            const fail = () => reject(error)
            tx.__rollback().then(fail, fail)
          },
        )
      }),
  )
}

module.exports = { transaction }
