'use strict'
const test = require('ava')
const path = require('node:path')
const { execFile } = require('node:child_process')
const { CircuitBreaker, CircuitOpenError } = require('../resilience.js')
const { sleep, uniqueName, deferred, settle, readyToProbe } = require('./_helpers.js')

// ---- the paths a call can take through resilience.js ------------------------------------------

const paths = {
  'closed, no timeout': async () =>
    new CircuitBreaker(uniqueName('call-closed'), { timeout: false, failureThreshold: 1000 }),
  'closed, with timeout': async () =>
    new CircuitBreaker(uniqueName('call-timed'), { timeout: 10000, failureThreshold: 1000 }),
  'half-open probe, no timeout': () => readyToProbe('call-probe', { timeout: false }),
  'half-open probe, with timeout': () => readyToProbe('call-probe-timed', { timeout: 10000 }),
}

// ---- what fn can produce ----------------------------------------------------------------------

const values = () => [
  ['a number', 42],
  ['a string', 'text'],
  ['undefined', undefined],
  ['null', null],
  ['an object', { some: 'object' }],
  ['an array', [1, 2, 3]],
  ['a function', function notAThenable() {}],
  ['a symbol', Symbol('value')],
  ['an Error (as a value)', new Error('returned, not thrown')],
]

const throwables = () => [
  ['an Error', new Error('failure')],
  ['a TypeError', new TypeError('type failure')],
  ['a string', 'just a string'],
  ['undefined', undefined],
  ['null', null],
  ['zero', 0],
  ['a plain object', { reason: 'object' }],
  ['a symbol', Symbol('thrown')],
  ['a function', function thrownFunction() {}],
]

const resolvers = {
  'returns it synchronously': (v) => () => v,
  'async function returns it': (v) => async () => v,
  'returns Promise.resolve(it)': (v) => () => Promise.resolve(v),
  'resolves it later': (v) => () => new Promise((resolve) => setTimeout(() => resolve(v), 5)),
  'returns a thenable resolving synchronously': (v) => () => ({ then: (resolve) => resolve(v) }),
  'returns a thenable resolving later': (v) => () => ({
    then: (resolve) => setTimeout(() => resolve(v), 5),
  }),
  'returns a thenable resolving to a thenable': (v) => () => ({
    then: (resolve) => resolve({ then: (inner) => inner(v) }),
  }),
}

const rejecters = {
  'throws it synchronously': (e) => () => {
    throw e
  },
  'async function throws it': (e) => async () => {
    throw e
  },
  'returns Promise.reject(it)': (e) => () => Promise.reject(e),
  'rejects it later': (e) => () => new Promise((_, reject) => setTimeout(() => reject(e), 5)),
  'returns a thenable rejecting synchronously': (e) => () => ({ then: (_, reject) => reject(e) }),
  'returns a thenable rejecting later': (e) => () => ({
    then: (_, reject) => setTimeout(() => reject(e), 5),
  }),
  'returns a thenable whose then method throws it': (e) => () => ({
    then() {
      throw e
    },
  }),
}

const isProbePath = (name) => name.startsWith('half-open')

for (const [pathName, makeBreaker] of Object.entries(paths)) {
  for (const [how, make] of Object.entries(resolvers)) {
    test(`${pathName}: fn ${how} -> call resolves with exactly that value`, async (t) => {
      await Promise.all(
        values().map(async ([label, value]) => {
          const cb = await makeBreaker()
          let p
          t.notThrows(() => {
            p = cb.call(make(value))
          }, label)
          t.true(p instanceof Promise, label)
          const r = await settle(p)
          t.is(r.status, 'fulfilled', label)
          t.is(r.value, value, label)
          const m = cb.getMetrics()
          t.is(m.successfulCalls, 1, label)
          t.is(m.failedCalls, isProbePath(pathName) ? 1 : 0, label)
          if (isProbePath(pathName)) t.is(cb.state, 'CLOSED', label)
        }),
      )
    })
  }

  for (const [how, make] of Object.entries(rejecters)) {
    test(`${pathName}: fn ${how} -> call rejects with that very throwable`, async (t) => {
      await Promise.all(
        throwables().map(async ([label, thrown]) => {
          const cb = await makeBreaker()
          const failedBefore = cb.getMetrics().failedCalls
          let p
          t.notThrows(() => {
            p = cb.call(make(thrown))
          }, `${label}: call must not throw synchronously`)
          t.true(p instanceof Promise, label)
          const r = await settle(p)
          t.is(r.status, 'rejected', label)
          t.is(r.reason, thrown, label)
          const m = cb.getMetrics()
          t.is(m.failedCalls, failedBefore + 1, label)
          t.is(m.successfulCalls, 0, label)
          if (isProbePath(pathName)) t.is(cb.state, 'OPEN', `${label}: a failed probe reopens`)
        }),
      )
    })
  }
}

// ---- call never throws synchronously ----------------------------------------------------------

test('call with the wrong receiver rejects (ERR_INVALID_THIS) instead of throwing', async (t) => {
  const { call } = CircuitBreaker.prototype
  for (const receiver of [undefined, null, {}, 42, Object.create(CircuitBreaker.prototype)]) {
    let p
    t.notThrows(() => {
      p = call.call(receiver, () => 1)
    })
    const r = await settle(p)
    t.is(r.status, 'rejected')
    t.true(r.reason instanceof TypeError)
  }
  const r = await settle(call.call({}, () => 1))
  t.is(r.reason.code, 'ERR_INVALID_THIS')
})

test('a detached call (const { call } = cb) rejects instead of throwing', async (t) => {
  const cb = new CircuitBreaker(uniqueName('call-detached'))
  const detached = cb.call
  let p
  t.notThrows(() => {
    p = detached(() => 1)
  })
  const r = await settle(p)
  t.true(r.reason instanceof TypeError)
  t.is(await cb.call.bind(cb)(() => 'bound'), 'bound')
})

for (const [pathName, makeBreaker] of Object.entries(paths)) {
  test(`${pathName}: fn returning an object whose \`then\` getter throws -> call rejects with that error`, async (t) => {
    const cb = await makeBreaker()
    const err = new Error('then getter throws')
    const hostile = {
      get then() {
        throw err
      },
    }
    let p
    t.notThrows(() => {
      p = cb.call(() => hostile)
    }, 'call must not throw synchronously')
    if (p === undefined) return
    const r = await settle(p)
    t.is(r.status, 'rejected')
    t.is(r.reason, err)
    t.is(cb.getMetrics().totalCalls, cb.getMetrics().successfulCalls + cb.getMetrics().failedCalls + cb.getMetrics().rejectedCalls)
  })
}

test('a half-open breaker is not wedged by a probe returning a hostile thenable', async (t) => {
  const cb = await readyToProbe('call-wedge', { halfOpenMaxCalls: 1, successThreshold: 1, resetTimeout: 30 })
  try {
    await settle(
      cb.call(() => ({
        get then() {
          throw new Error('hostile')
        },
      })),
    )
  } catch {
    // the synchronous throw itself is asserted by the test above
  }
  // The probe ended (with a failure): the circuit must be OPEN again and half-open after a new
  // reset timeout, not stuck HALF_OPEN with its only probe slot taken forever.
  t.is(cb.state, 'OPEN')
  await sleep(30 + 60)
  t.is(await cb.call(() => 'recovered'), 'recovered')
  t.is(cb.state, 'CLOSED')
})

// ---- misc -------------------------------------------------------------------------------------

test('fn is called synchronously, exactly once, with no arguments', async (t) => {
  const cb = new CircuitBreaker(uniqueName('call-args'))
  let calls = 0
  let args
  const p = cb.call((...a) => {
    calls++
    args = a
    return 'x'
  })
  t.is(calls, 1, 'fn ran before call returned')
  t.deepEqual(args, [])
  await p
  t.is(calls, 1)
})

test('a thenable that settles more than once: only the first outcome counts', async (t) => {
  const cb = new CircuitBreaker(uniqueName('call-twice'), { failureThreshold: 1, resetTimeout: 60000 })
  const v = await cb.call(() => ({
    then(resolve, reject) {
      resolve('first')
      reject(new Error('second'))
      resolve('third')
    },
  }))
  t.is(v, 'first')
  t.is(cb.state, 'CLOSED')
  t.like(cb.getMetrics(), { totalCalls: 1, successfulCalls: 1, failedCalls: 0 })
})

test('concurrent calls each settle with their own outcome', async (t) => {
  const cb = new CircuitBreaker(uniqueName('call-concurrent'), { failureThreshold: 1000 })
  const ds = Array.from({ length: 50 }, () => deferred())
  const ps = ds.map((d) => cb.call(() => d.promise))
  const errors = []
  ds.forEach((d, i) => {
    if (i % 3 === 0) {
      const e = new Error(`e${i}`)
      errors[i] = e
      d.reject(e)
    } else {
      d.resolve(i)
    }
  })
  const results = await Promise.all(ps.map(settle))
  results.forEach((r, i) => {
    if (i % 3 === 0) t.is(r.reason, errors[i])
    else t.is(r.value, i)
  })
})

test('a breaker error while open is not an error fn produced: fn is never invoked', async (t) => {
  const cb = new CircuitBreaker(uniqueName('call-open'), { failureThreshold: 1, resetTimeout: 60000 })
  await settle(cb.call(() => Promise.reject(new Error('x'))))
  let invoked = false
  const r = await settle(cb.call(() => {
    invoked = true
  }))
  t.false(invoked)
  t.true(r.reason instanceof CircuitOpenError)
})

// ---- unhandled rejections (child processes) ---------------------------------------------------

const entry = path.join(__dirname, '..', 'resilience.js')

/**
 * Runs `body` (the statements of an async function that may set `expected`) in a fresh Node.js
 * process that counts 'unhandledRejection' events; resolves with
 * { count, allExpected, codes }.
 */
function countUnhandled(body, settleMs = 100) {
  const script = `
'use strict'
const { CircuitBreaker } = require(${JSON.stringify(entry)})
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const events = []
let expected = Symbol('nothing expected')
process.on('unhandledRejection', (reason) => { events.push(reason) })
;(async () => {
  ${body}
})().then(async () => {
  await sleep(${settleMs})
  process.stdout.write(JSON.stringify({
    count: events.length,
    allExpected: events.every((e) => e === expected),
    codes: events.map((e) => (e && typeof e === 'object' ? e.code ?? null : null)),
  }))
}, (error) => {
  console.error(error)
  process.exit(3)
})
`
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', script], { timeout: 30000 }, (error, stdout, stderr) => {
      if (error) {
        error.message += `\nstderr: ${stderr}`
        reject(error)
        return
      }
      resolve(JSON.parse(stdout))
    })
  })
}

const unhandledCases = {
  'closed, sync throw': `
    const cb = new CircuitBreaker('u', { timeout: false })
    expected = new Error('sync')
    cb.call(() => { throw expected })`,
  'closed, async rejection, no timeout': `
    const cb = new CircuitBreaker('u', { timeout: false })
    expected = new Error('async')
    cb.call(() => Promise.reject(expected))`,
  'closed, async rejection later, with timeout': `
    const cb = new CircuitBreaker('u', { timeout: 10000 })
    expected = new Error('async later')
    cb.call(() => new Promise((_, reject) => setTimeout(() => reject(expected), 10)))`,
  'closed, thenable rejection': `
    const cb = new CircuitBreaker('u', { timeout: 10000 })
    expected = 'a string reason'
    cb.call(() => ({ then: (_, reject) => reject(expected) }))`,
  'closed, undefined thrown': `
    const cb = new CircuitBreaker('u', { timeout: false })
    expected = undefined
    cb.call(() => { throw undefined })`,
  'half-open probe, async rejection': `
    const cb = new CircuitBreaker('u', { failureThreshold: 1, resetTimeout: 20, timeout: 10000 })
    await cb.call(() => { throw new Error('trip') }).catch(() => {})
    await sleep(80)
    expected = new Error('probe failed')
    cb.call(() => Promise.reject(expected))`,
}

for (const [label, body] of Object.entries(unhandledCases)) {
  test(`un-awaited failing call raises unhandledRejection exactly once (${label})`, async (t) => {
    const r = await countUnhandled(body)
    t.is(r.count, 1)
    t.true(r.allExpected, 'the reason is the very throwable')
  })
}

test('un-awaited call rejected by an open circuit raises unhandledRejection exactly once', async (t) => {
  const r = await countUnhandled(`
    const cb = new CircuitBreaker('u', { failureThreshold: 1, resetTimeout: 60000 })
    await cb.call(() => { throw new Error('trip') }).catch(() => {})
    cb.call(() => 1)`)
  t.is(r.count, 1)
  t.deepEqual(r.codes, ['ERR_CIRCUIT_OPEN'])
})

test('un-awaited call with a non-function raises unhandledRejection exactly once', async (t) => {
  const r = await countUnhandled(`
    const cb = new CircuitBreaker('u')
    cb.call('not a function')`)
  t.is(r.count, 1)
  t.deepEqual(r.codes, ['ERR_INVALID_ARG_TYPE'])
})

test('ten un-awaited failing calls raise exactly ten unhandledRejection events', async (t) => {
  const r = await countUnhandled(`
    const cb = new CircuitBreaker('u', { failureThreshold: 1000 })
    expected = new Error('same')
    for (let i = 0; i < 5; i++) cb.call(() => { throw expected })
    for (let i = 0; i < 5; i++) cb.call(async () => { throw expected })`)
  t.is(r.count, 10)
  t.true(r.allExpected)
})

test('un-awaited call that times out raises one unhandledRejection (the timeout), none when fn rejects later', async (t) => {
  const r = await countUnhandled(
    `
    const cb = new CircuitBreaker('u', { timeout: 30 })
    cb.call(() => new Promise((_, reject) => setTimeout(() => reject(new Error('late')), 400)))
    await sleep(500)`,
  )
  t.is(r.count, 1)
  t.deepEqual(r.codes, ['ERR_CIRCUIT_TIMEOUT'])
})

test('a call that timed out (and was awaited) and whose fn rejects later raises no unhandledRejection', async (t) => {
  const r = await countUnhandled(
    `
    const cb = new CircuitBreaker('u', { timeout: 30 })
    const error = await cb.call(
      () => new Promise((_, reject) => setTimeout(() => reject(new Error('late')), 400)),
    ).catch((e) => e)
    if (error.code !== 'ERR_CIRCUIT_TIMEOUT') throw new Error('expected a timeout, got ' + String(error))
    await sleep(500)
    const m = cb.getMetrics()
    if (m.failedCalls !== 1 || m.totalCalls !== 1) throw new Error('bad metrics ' + JSON.stringify(m))`,
  )
  t.is(r.count, 0)
})

test('a timed-out call whose thenable rejects later raises no unhandledRejection', async (t) => {
  const r = await countUnhandled(
    `
    const cb = new CircuitBreaker('u', { timeout: 30 })
    await cb.call(() => ({ then: (_, reject) => setTimeout(() => reject(new Error('late')), 400) })).catch(() => {})
    await sleep(500)`,
  )
  t.is(r.count, 0)
})

test('awaited failing calls of every kind raise no unhandledRejection', async (t) => {
  const r = await countUnhandled(`
    const cb = new CircuitBreaker('u', { failureThreshold: 3, resetTimeout: 20 })
    const e = new Error('x')
    const fns = [
      () => { throw e },
      async () => { throw e },
      () => Promise.reject(e),
      () => ({ then: (_, reject) => reject(e) }),
      () => new Promise(() => {}),
    ]
    for (let round = 0; round < 3; round++) {
      for (const fn of fns) await cb.call(fn).catch(() => {})
      await sleep(40)
    }
    await cb.call(42).catch(() => {})`)
  t.is(r.count, 0)
})
