'use strict'
const test = require('ava')
const { CircuitBreaker, CircuitOpenError } = require('../resilience.js')
const {
  sleep,
  uniqueName,
  deferred,
  settle,
  failTimes,
  succeedTimes,
  readyToProbe,
  RESET_MARGIN,
} = require('./_helpers.js')

const boom = () => {
  throw new Error('boom')
}

test('CLOSED -> OPEN exactly when consecutive failures reach failureThreshold', async (t) => {
  const cb = new CircuitBreaker(uniqueName('tr-open'), { failureThreshold: 3, resetTimeout: 60000 })
  await failTimes(cb, 1)
  t.is(cb.state, 'CLOSED')
  await failTimes(cb, 1)
  t.is(cb.state, 'CLOSED')
  t.is(cb.getState(), 'CLOSED')
  await failTimes(cb, 1)
  t.is(cb.state, 'OPEN')
  t.is(cb.getState(), 'OPEN')
})

test('failureThreshold 1 opens on the first failure', async (t) => {
  const cb = new CircuitBreaker(uniqueName('tr-open1'), { failureThreshold: 1, resetTimeout: 60000 })
  await failTimes(cb, 1)
  t.is(cb.state, 'OPEN')
})

test('every kind of failure counts toward opening (sync throw, async reject, thenable reject)', async (t) => {
  const cb = new CircuitBreaker(uniqueName('tr-kinds'), { failureThreshold: 4, resetTimeout: 60000 })
  await settle(cb.call(boom))
  await settle(cb.call(async () => {
    throw new Error('async')
  }))
  await settle(cb.call(() => ({ then: (_res, rej) => rej(new Error('thenable')) })))
  t.is(cb.state, 'CLOSED')
  await settle(cb.call(() => Promise.reject('not an error')))
  t.is(cb.state, 'OPEN')
})

test('a success between failures resets the consecutive count', async (t) => {
  const cb = new CircuitBreaker(uniqueName('tr-reset'), { failureThreshold: 3, resetTimeout: 60000 })
  await failTimes(cb, 2)
  await succeedTimes(cb, 1)
  await failTimes(cb, 2)
  t.is(cb.state, 'CLOSED', 'the count restarted after the success')
  await cb.call(async () => 'async success')
  await failTimes(cb, 2)
  t.is(cb.state, 'CLOSED', 'an async success resets it too')
  await failTimes(cb, 1)
  t.is(cb.state, 'OPEN')
})

test('OPEN rejects without calling fn, until the reset timeout has passed', async (t) => {
  const cb = new CircuitBreaker(uniqueName('tr-reject'), { failureThreshold: 2, resetTimeout: 60000 })
  await failTimes(cb, 2)
  t.is(cb.state, 'OPEN')
  let invoked = 0
  for (let i = 0; i < 5; i++) {
    const r = await settle(cb.call(() => {
      invoked++
      return 1
    }))
    t.is(r.status, 'rejected')
    t.true(r.reason instanceof CircuitOpenError)
  }
  t.is(invoked, 0)
  t.is(cb.state, 'OPEN')
  const m = cb.getMetrics()
  t.is(m.rejectedCalls, 5)
  t.is(m.timesHalfOpened, 0)
})

test('OPEN -> HALF_OPEN only at the first call after resetTimeout; state reads OPEN until then', async (t) => {
  const cb = new CircuitBreaker(uniqueName('tr-lazy'), {
    failureThreshold: 1,
    successThreshold: 2,
    resetTimeout: 30,
    timeout: false,
  })
  await failTimes(cb, 1)
  t.is(cb.state, 'OPEN')
  await sleep(30 + RESET_MARGIN + 40)
  t.is(cb.state, 'OPEN', 'reading the state makes no transition')
  t.is(cb.getState(), 'OPEN')
  t.is(cb.getMetrics().timesHalfOpened, 0)

  const probe = deferred()
  let invoked = false
  const p = cb.call(() => {
    invoked = true
    return probe.promise
  })
  t.true(invoked, 'the probe runs')
  t.is(cb.state, 'HALF_OPEN')
  t.is(cb.getMetrics().timesHalfOpened, 1)
  probe.resolve('probed')
  t.is(await p, 'probed')
  t.is(cb.state, 'HALF_OPEN', 'one success of two needed')
})

test('HALF_OPEN -> CLOSED after successThreshold consecutive successes', async (t) => {
  const cb = await readyToProbe('tr-close', { successThreshold: 3, halfOpenMaxCalls: 1 })
  t.is(await cb.call(() => 'a'), 'a')
  t.is(cb.state, 'HALF_OPEN')
  t.is(await cb.call(async () => 'b'), 'b')
  t.is(cb.state, 'HALF_OPEN')
  t.is(await cb.call(() => 'c'), 'c')
  t.is(cb.state, 'CLOSED')
  const m = cb.getMetrics()
  t.is(m.timesOpened, 1)
  t.is(m.timesHalfOpened, 1)
})

test('after closing, a full failureThreshold of new failures is needed to open again', async (t) => {
  const cb = await readyToProbe('tr-fresh', { failureThreshold: 3, successThreshold: 1 })
  await succeedTimes(cb, 1)
  t.is(cb.state, 'CLOSED')
  await failTimes(cb, 2)
  t.is(cb.state, 'CLOSED')
  await failTimes(cb, 1)
  t.is(cb.state, 'OPEN')
})

test('a failure in HALF_OPEN reopens the circuit, which rejects again until a new resetTimeout passes', async (t) => {
  // Long enough that the call right after reopening is surely rejected, even on a loaded machine.
  const resetTimeout = 200
  const cb = await readyToProbe('tr-reopen', { successThreshold: 3, halfOpenMaxCalls: 1, resetTimeout })
  await succeedTimes(cb, 1)
  t.is(cb.state, 'HALF_OPEN')
  const err = new Error('probe failed')
  const r = await settle(cb.call(() => Promise.reject(err)))
  t.is(r.reason, err)
  t.is(cb.state, 'OPEN')

  let invoked = 0
  const rejected = await settle(cb.call(() => {
    invoked++
  }))
  t.true(rejected.reason instanceof CircuitOpenError)
  t.is(invoked, 0)
  t.is(cb.state, 'OPEN')

  await sleep(resetTimeout + RESET_MARGIN)
  t.is(cb.state, 'OPEN')
  await succeedTimes(cb, 1)
  t.is(cb.state, 'HALF_OPEN', 'a new half-open period; the earlier success does not carry over')
  await succeedTimes(cb, 2)
  t.is(cb.state, 'CLOSED')
  const m = cb.getMetrics()
  t.is(m.timesOpened, 2)
  t.is(m.timesHalfOpened, 2)
})

test('HALF_OPEN admits at most halfOpenMaxCalls concurrent probes; the rest get ERR_CIRCUIT_OPEN', async (t) => {
  const cb = await readyToProbe('tr-probes', { successThreshold: 3, halfOpenMaxCalls: 2 })
  const name = cb.name
  const d1 = deferred()
  const d2 = deferred()
  const invoked = []
  const p1 = cb.call(() => {
    invoked.push(1)
    return d1.promise
  })
  const p2 = cb.call(() => {
    invoked.push(2)
    return d2.promise
  })
  t.is(cb.state, 'HALF_OPEN')
  const r3 = await settle(cb.call(() => invoked.push(3)))
  t.is(r3.status, 'rejected')
  t.true(r3.reason instanceof CircuitOpenError)
  t.is(r3.reason.code, 'ERR_CIRCUIT_OPEN')
  t.is(r3.reason.message, `Circuit breaker '${name}' is OPEN`)
  t.deepEqual(invoked, [1, 2])

  // A finished probe frees its slot.
  d1.resolve('one')
  t.is(await p1, 'one')
  const d4 = deferred()
  const p4 = cb.call(() => {
    invoked.push(4)
    return d4.promise
  })
  const r5 = await settle(cb.call(() => invoked.push(5)))
  t.true(r5.reason instanceof CircuitOpenError)
  t.deepEqual(invoked, [1, 2, 4])
  t.is(cb.state, 'HALF_OPEN')

  d2.resolve('two')
  d4.resolve('four')
  t.is(await p2, 'two')
  t.is(await p4, 'four')
  t.is(cb.state, 'CLOSED')
  const m = cb.getMetrics()
  t.is(m.successfulCalls, 3)
  t.is(m.rejectedCalls, 2)
  t.is(m.failedCalls, 1)
  t.is(m.totalCalls, 6)
})

test('halfOpenMaxCalls defaults to successThreshold', async (t) => {
  const cb = await readyToProbe('tr-probes-default', { successThreshold: 2, halfOpenMaxCalls: undefined })
  t.is(cb.options.halfOpenMaxCalls, 2)
  const d1 = deferred()
  const d2 = deferred()
  const p1 = cb.call(() => d1.promise)
  const p2 = cb.call(() => d2.promise)
  const r3 = await settle(cb.call(() => 3))
  t.true(r3.reason instanceof CircuitOpenError)
  d1.resolve(1)
  d2.resolve(2)
  t.deepEqual(await Promise.all([p1, p2]), [1, 2])
  t.is(cb.state, 'CLOSED')
})

test('a failed probe among concurrent probes reopens; the other probes\' late outcomes change nothing', async (t) => {
  const b = await readyToProbe('tr-probe-race', { successThreshold: 2, halfOpenMaxCalls: 3, resetTimeout: 40 })
  const d1 = deferred()
  const d2 = deferred()
  const d3 = deferred()
  const p1 = b.call(() => d1.promise)
  const p2 = b.call(() => d2.promise)
  const p3 = b.call(() => d3.promise)
  const err = new Error('probe 1 fails')
  d1.reject(err)
  t.is((await settle(p1)).reason, err)
  t.is(b.state, 'OPEN')
  d2.resolve('late ok')
  d3.resolve('late ok too')
  t.is(await p2, 'late ok')
  t.is(await p3, 'late ok too')
  t.is(b.state, 'OPEN', 'successes of probes of an earlier half-open period do not close the circuit')
  const m = b.getMetrics()
  t.is(m.successfulCalls, 2)
  t.is(m.timesOpened, 2)
})

test('a timeout counts as a failure and can trip the breaker', async (t) => {
  const cb = new CircuitBreaker(uniqueName('tr-timeout'), {
    failureThreshold: 2,
    timeout: 40,
    resetTimeout: 60000,
  })
  const never = () => new Promise(() => {})
  const [r1, r2] = await Promise.all([settle(cb.call(never)), settle(cb.call(never))])
  t.is(r1.reason.code, 'ERR_CIRCUIT_TIMEOUT')
  t.is(r2.reason.code, 'ERR_CIRCUIT_TIMEOUT')
  t.is(cb.state, 'OPEN')
  const r3 = await settle(cb.call(() => 1))
  t.is(r3.reason.code, 'ERR_CIRCUIT_OPEN')
  const m = cb.getMetrics()
  t.is(m.failedCalls, 2)
  t.is(m.rejectedCalls, 1)
  t.is(m.timesOpened, 1)
})

test('a probe that times out reopens the circuit', async (t) => {
  const cb = await readyToProbe('tr-probe-timeout', { timeout: 40, successThreshold: 1, resetTimeout: 60 })
  const r = await settle(cb.call(() => new Promise(() => {})))
  t.is(r.reason.code, 'ERR_CIRCUIT_TIMEOUT')
  t.is(cb.state, 'OPEN')
  t.is(cb.getMetrics().timesOpened, 2)
})

for (const timeout of [false, 10000]) {
  test(`a call admitted while CLOSED whose failure arrives once HALF_OPEN does not reopen it (timeout ${timeout})`, async (t) => {
    const cb = new CircuitBreaker(uniqueName('tr-stale'), {
      failureThreshold: 2,
      successThreshold: 2,
      resetTimeout: 40,
      timeout,
    })
    const slow = deferred()
    const pSlow = cb.call(() => slow.promise)
    await failTimes(cb, 2)
    t.is(cb.state, 'OPEN')
    await sleep(40 + RESET_MARGIN)
    const probe = deferred()
    const pProbe = cb.call(() => probe.promise)
    t.is(cb.state, 'HALF_OPEN')

    const err = new Error('stale failure')
    slow.reject(err)
    t.is((await settle(pSlow)).reason, err, 'the caller still gets its own error')
    t.is(cb.state, 'HALF_OPEN', 'the stale failure does not reopen the circuit')

    probe.resolve('p1')
    t.is(await pProbe, 'p1')
    t.is(await cb.call(() => 'p2'), 'p2')
    t.is(cb.state, 'CLOSED')
    const m = cb.getMetrics()
    t.is(m.failedCalls, 3)
    t.is(m.successfulCalls, 2)
    t.is(m.timesOpened, 1)
    t.is(m.totalCalls, 5)
  })

  test(`a call admitted while CLOSED whose success arrives once HALF_OPEN is not a probe success (timeout ${timeout})`, async (t) => {
    const cb = new CircuitBreaker(uniqueName('tr-stale-ok'), {
      failureThreshold: 1,
      successThreshold: 1,
      resetTimeout: 40,
      timeout,
    })
    const slow = deferred()
    const pSlow = cb.call(() => slow.promise)
    await failTimes(cb, 1)
    await sleep(40 + RESET_MARGIN)
    const probe = deferred()
    const pProbe = cb.call(() => probe.promise)
    t.is(cb.state, 'HALF_OPEN')
    slow.resolve('stale ok')
    t.is(await pSlow, 'stale ok')
    t.is(cb.state, 'HALF_OPEN')
    probe.resolve('probe ok')
    await pProbe
    t.is(cb.state, 'CLOSED')
    t.is(cb.getMetrics().successfulCalls, 2)
  })
}

test('a call admitted while CLOSED that succeeds after the circuit opened does not close it', async (t) => {
  const cb = new CircuitBreaker(uniqueName('tr-stale-open'), { failureThreshold: 2, resetTimeout: 60000 })
  const slow = deferred()
  const pSlow = cb.call(() => slow.promise)
  await failTimes(cb, 2)
  t.is(cb.state, 'OPEN')
  slow.resolve('late')
  t.is(await pSlow, 'late')
  t.is(cb.state, 'OPEN')
  t.true((await settle(cb.call(() => 1))).reason instanceof CircuitOpenError)
})

test('the state machine goes through several full cycles', async (t) => {
  const resetTimeout = 30
  const cb = new CircuitBreaker(uniqueName('tr-cycles'), {
    failureThreshold: 2,
    successThreshold: 2,
    resetTimeout,
    timeout: false,
  })
  for (let cycle = 1; cycle <= 3; cycle++) {
    await failTimes(cb, 2)
    t.is(cb.state, 'OPEN')
    await sleep(resetTimeout + RESET_MARGIN)
    await succeedTimes(cb, 1)
    t.is(cb.state, 'HALF_OPEN')
    await succeedTimes(cb, 1)
    t.is(cb.state, 'CLOSED')
    const m = cb.getMetrics()
    t.is(m.timesOpened, cycle)
    t.is(m.timesHalfOpened, cycle)
  }
})
