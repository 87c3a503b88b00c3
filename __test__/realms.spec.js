'use strict'
// The package loaded in a realm of its own, as jest and vitest (vmThreads) load it: the .js files
// run in a new vm context while the addon is required once by the outer realm. Errors made by the
// native side must then be instances of that realm's Error / TypeError / RangeError, and our
// own classes those of the realm's copy of lib/errors.js. The addon keeps one set of classes per
// thread: those of the realm that loaded the package last (jest runs a worker's files one after
// the other), hence serial tests.

const test = require('ava')
const fs = require('node:fs')
const path = require('node:path')
const vm = require('node:vm')
const { builtinModules } = require('node:module')

const root = path.join(__dirname, '..')

/** Loads `entry` with every .js file compiled in `context` (a tiny jest-like module loader). */
function loadInRealm(context, entry) {
  const cache = new Map()
  const load = (file) => {
    if (file.endsWith('.node')) return require(file)
    const known = cache.get(file)
    if (known !== undefined) return known.exports
    const module = { exports: {} }
    cache.set(file, module)
    const source = fs.readFileSync(file, 'utf8')
    const fn = vm.compileFunction(source, ['module', 'exports', 'require', '__filename', '__dirname'], {
      parsingContext: context,
      filename: file,
    })
    const dir = path.dirname(file)
    const localRequire = (spec) => {
      if (spec.startsWith('node:') || builtinModules.includes(spec)) return require(spec)
      return load(require.resolve(spec, { paths: [dir] }))
    }
    fn.call(module.exports, module, module.exports, localRequire, file, dir)
    return module.exports
  }
  return load(entry)
}

function newRealm() {
  const context = vm.createContext({
    console,
    process,
    performance,
    setTimeout,
    clearTimeout,
    setInterval,
    clearInterval,
    setImmediate,
    queueMicrotask,
    Buffer,
    URL,
  })
  const { Error, TypeError, RangeError } = vm.runInContext('({ Error, TypeError, RangeError })', context)
  return { context, Error, TypeError, RangeError }
}

test.serial('errors made natively belong to the realm that loaded the package', async (t) => {
  const outer = require('../resilience.js')
  const realm = newRealm()
  const inner = loadInRealm(realm.context, path.join(root, 'resilience.js'))
  t.is(inner.CircuitBreaker, outer.CircuitBreaker, 'one addon per thread, shared by the realms')

  const range = t.throws(() => new inner.CircuitBreaker('x', { failureThreshold: 0 }))
  t.true(range instanceof realm.RangeError, 'RangeError of the realm')
  t.false(range instanceof RangeError)
  t.is(range.code, 'ERR_OUT_OF_RANGE')
  const type = t.throws(() => new inner.CircuitBreaker(42))
  t.true(type instanceof realm.TypeError)
  t.true(type instanceof realm.Error)

  const db = new inner.DatabaseCircuitBreaker('realm-db')
  try {
    const failed = await db.query('SELECT * FROM no_such_table').catch((e) => e)
    t.true(failed instanceof inner.DatabaseError, 'the realm copy of DatabaseError')
    t.true(failed instanceof realm.Error)
    t.is(failed.code, 'ERR_DB_QUERY')
  } finally {
    await db.close()
  }

  const cb = new inner.CircuitBreaker('realm-open', { failureThreshold: 1 })
  await cb.call(() => Promise.reject(new Error('down'))).catch(() => {})
  const open = await cb.call(() => 1).catch((e) => e)
  t.true(open instanceof inner.CircuitOpenError)
  t.true(open instanceof realm.Error)
})

test.serial('loading the package again does not stack a second set of wrappers on the shared classes', (t) => {
  const outer = require('../resilience.js')
  const getState = Object.getOwnPropertyDescriptor(outer.CircuitBreaker.prototype, 'getState').value
  for (let i = 0; i < 3; i++) loadInRealm(newRealm().context, path.join(root, 'resilience.js'))
  const after = Object.getOwnPropertyDescriptor(outer.CircuitBreaker.prototype, 'getState').value
  const cb = new outer.CircuitBreaker('realm-wrappers')
  // One wrapper deep: the error of a wrong receiver has one frame of lib/receiver.js above the
  // native method, whatever the number of loads.
  const error = t.throws(() => after.call({}))
  t.is(error.code, 'ERR_INVALID_THIS')
  t.is(cb.getState(), 'CLOSED')
  t.is(typeof getState, 'function')
  const depth = (fn) => {
    let stack
    try {
      fn.call({})
    } catch (e) {
      stack = e.stack
    }
    return (stack.match(/receiver\.js/g) ?? []).length
  }
  t.true(depth(after) <= 1, 'not nested')
})
