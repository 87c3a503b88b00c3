'use strict'
// `transaction(fn)`, which resilience.js installs as `DatabaseCircuitBreaker.prototype.transaction`:
// the orchestration of a database transaction around a callback.
//
// Kept in JavaScript so that the callback's result and error are returned as they are (the
// same objects), whatever they are. The native side provides the steps as hidden methods:
// `__begin()` (src/database/mod.rs) takes a breaker permit and a connection (rejecting with
// CircuitOpenError when the circuit is open) and resolves with the transaction
// (src/database/transaction.rs), which `fn` receives. The transaction commits (`__commit()`)
// when `fn` resolves and rolls back (`__rollback()`) when it throws or rejects. The breaker's
// timeout covers the whole transaction and is the transaction's own: `__expiry()` rejects with
// CircuitTimeoutError when it elapses (the transaction is then rolled back, and its operations
// reject), whatever `fn` does later, and resolves once the transaction has ended.
//
// Imports: lib/errors.js, lib/receiver.js.

const { invalidArgType, invalidThis } = require('./errors.js')
const { isWrongReceiver } = require('./receiver.js')

const ignore = () => {}

const wrongThis = () =>
  Promise.reject(invalidThis('DatabaseCircuitBreaker.prototype.transaction', 'DatabaseCircuitBreaker'))

function transaction(fn) {
  if (this === null || (typeof this !== 'object' && typeof this !== 'function')) return wrongThis()
  if (typeof fn !== 'function') return Promise.reject(invalidArgType('fn', 'function', fn))
  let begun
  try {
    const begin = this.__begin
    if (typeof begin !== 'function') return wrongThis()
    begun = begin.call(this)
  } catch (error) {
    // napi-rs's report of a receiver the class did not make (lib/receiver.js).
    return isWrongReceiver(error) ? wrongThis() : Promise.reject(error)
  }
  return begun.then(
    (tx) =>
      new Promise((resolve, reject) => {
        let settled = false
        tx.__expiry().then(ignore, (timedOut) => {
          if (settled) return
          settled = true
          reject(timedOut)
        })
        let result
        try {
          result = Promise.resolve(fn(tx))
        } catch (error) {
          result = Promise.reject(error)
        }
        result.then(
          (value) => {
            if (settled) return
            settled = true
            tx.__commit().then(() => resolve(value), reject)
          },
          (error) => {
            if (settled) return
            settled = true
            const fail = () => reject(error)
            tx.__rollback().then(fail, fail)
          },
        )
      }),
  )
}

module.exports = { transaction }
