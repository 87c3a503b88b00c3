'use strict'
// Property test (fast-check) of every public method of every class: called with up to three
// arbitrary values (fast-check's `anything`, plus the hostile ones: huge sparse arrays, getters
// and Proxy traps that throw, lone surrogates, BigInt, NaN, circular objects), a method that
// returns a Promise never throws and settles with a value or a typed error (`code`); any other
// method returns or throws a typed error. No crash, no hang (each call is bounded). The methods
// are read from the typings, so a method added later is covered too.
//
// Left out: methods that would act outside the test (`save` writes files, `train` may run long
// with random epochs, `close` ends the instance; they have their own argument tests), and
// `call` / `transaction`, whose argument is a callback (tested in call.spec.js, database*.spec.js).
const test = require('ava')
const fc = require('fast-check')
const fs = require('node:fs')
const path = require('node:path')

const resilience = require('../resilience.js')
const { uniqueName } = require('./_helpers.js')
const { startServer } = require('./_http-server.js')

const SKIP = new Set(['save', 'train', 'close', 'call', 'transaction', 'load'])
const DTS = fs.readFileSync(path.join(__dirname, '..', 'index.d.ts'), 'utf8')

/** The methods of `className` in index.d.ts: `{ name: returnsPromise }`. */
function methods(className) {
  const start = DTS.indexOf(`export declare class ${className} `)
  const body = DTS.slice(start, DTS.indexOf('\n}\n', start))
  const out = {}
  for (const line of body.split('\n')) {
    const m = /^ {2}(?!constructor|static|get |\[)(\w+)(<[^(]*>)?\(.*\): (.*)$/.exec(line)
    if (m && !SKIP.has(m[1])) out[m[1]] = m[3].startsWith('Promise<')
  }
  return out
}

class Hostile extends Error {
  constructor() {
    super('hostile getter')
    this.code = 'HOSTILE'
  }
}

function hostileValues() {
  const sparse = []
  sparse.length = 2 ** 32 - 1
  const circular = { a: 1 }
  circular.self = circular
  const throwingGetter = Object.defineProperty({}, 'timeout', {
    enumerable: true,
    get() {
      throw new Hostile()
    },
  })
  const trap = () => {
    throw new Hostile()
  }
  const proxy = new Proxy({}, { get: trap, ownKeys: trap, getOwnPropertyDescriptor: trap, has: trap })
  return [sparse, [sparse], circular, throwingGetter, proxy, '\ud800', 'a\udfffb', 10n ** 30n, NaN, -0, Symbol('s')]
}

/** A stand-in for one of the hostile values, swapped in inside the property: fast-check itself
 * would trip over a throwing Proxy while generating. */
class HostileRef {
  constructor(index) {
    this.index = index
  }
}
const HOSTILE = hostileValues()
const anyValue = fc.oneof(
  { weight: 4, arbitrary: fc.anything({ withBigInt: true, withSparseArray: true, withTypedArray: true, withNullPrototype: true }) },
  { weight: 1, arbitrary: fc.nat({ max: HOSTILE.length - 1 }).map((i) => new HostileRef(i)) },
)

function isTyped(error) {
  return error instanceof Error && typeof error.code === 'string' && (/^ERR_/.test(error.code) || error.code === 'HOSTILE')
}

const within = (promise, ms) =>
  Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error(`unsettled after ${ms} ms`)), ms).unref())])

test('every public method, called with arbitrary values, settles or throws with a typed error', async (t) => {
  const server = await startServer()
  const instances = {
    CircuitBreaker: new resilience.CircuitBreaker(uniqueName('prop')),
    CircuitBreakerRegistry: new resilience.CircuitBreakerRegistry(),
    // Relative URLs only reach the local server; absolute ones are replaced below.
    ApiCircuitBreaker: new resilience.ApiCircuitBreaker(uniqueName('prop'), {
      baseUrl: server.url('/'),
      timeout: 2000,
      proxyFromEnv: false,
    }),
    DatabaseCircuitBreaker: new resilience.DatabaseCircuitBreaker(uniqueName('prop'), { timeout: 2000 }),
    // No API key: every call rejects before anything is sent.
    E2BSandboxCircuitBreaker: new resilience.E2BSandboxCircuitBreaker({ apiKey: null, apiUrl: server.url('/') }),
    NeuralCircuitBreaker: new resilience.NeuralCircuitBreaker(uniqueName('prop')),
  }
  let checked = 0
  try {
    for (const [className, instance] of Object.entries(instances)) {
      for (const [name, returnsPromise] of Object.entries(methods(className))) {
        await fc.assert(
          fc.asyncProperty(fc.array(anyValue, { maxLength: 3 }), async (args) => {
            // Never let a generated string name another host.
            const safe = args.map((a) =>
              a instanceof HostileRef ? HOSTILE[a.index] : typeof a === 'string' && a.includes(':') ? 'x' : a,
            )
            let result
            try {
              result = instance[name](...safe)
            } catch (error) {
              if (returnsPromise) throw new Error(`${className}.${name} threw instead of rejecting: ${error}`)
              if (!isTyped(error)) throw new Error(`${className}.${name} threw an untyped ${error}`)
              return
            }
            if (!returnsPromise) return
            if (!(result instanceof Promise)) throw new Error(`${className}.${name} returned no Promise`)
            await within(result, 10_000).then(
              () => {},
              (error) => {
                if (!isTyped(error)) throw new Error(`${className}.${name} rejected with an untyped ${error}`)
              },
            )
          }),
          { numRuns: 100 },
        )
        checked++
      }
    }
  } finally {
    await Promise.all(['ApiCircuitBreaker', 'DatabaseCircuitBreaker', 'E2BSandboxCircuitBreaker', 'NeuralCircuitBreaker'].map((c) => instances[c].close()))
    await server.close()
  }
  t.true(checked >= 15, `${checked} methods checked`)
  t.log(`${checked} methods, 100 argument lists each`)
})
