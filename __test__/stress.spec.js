'use strict'
const test = require('ava')
const {
  CircuitBreaker,
  CircuitBreakerRegistry,
  CircuitOpenError,
  CircuitTimeoutError,
} = require('../resilience.js')
const { sleep, uniqueName, withoutOpenTime } = require('./_helpers.js')

// Reproduce a run with STRESS_SEED=<seed printed by the test> npx ava __test__/stress.spec.js
const SEED = Number(process.env.STRESS_SEED ?? Date.now() % 2 ** 31)

function mulberry32(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = a
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

const TOTAL_CALLS = 100_000
// When a 'hang' call that does settle settles: far past its breaker's 150 ms timeout, so that it
// times out even if the event loop lags (see deadline.spec.js for why lag matters). The timeout
// itself is far above the 0-8 ms of the other calls, which a loaded machine can stretch.
const LATE_MS = 1000
const BATCH = 500

// How fn produces its outcome.
const SUCCESS_KINDS = ['syncValue', 'asyncResolve', 'promiseResolve', 'thenableResolve', 'laterResolve']
const FAILURE_KINDS = ['syncThrow', 'asyncReject', 'promiseReject', 'thenableReject', 'laterReject']

function makeFn(kind, payload, record) {
  switch (kind) {
    case 'syncValue':
      return () => {
        record.invoked = true
        return payload
      }
    case 'asyncResolve':
      return async () => {
        record.invoked = true
        return payload
      }
    case 'promiseResolve':
      return () => {
        record.invoked = true
        return Promise.resolve(payload)
      }
    case 'thenableResolve':
      return () => {
        record.invoked = true
        return { then: (resolve) => queueMicrotask(() => resolve(payload)) }
      }
    case 'laterResolve':
      return () => {
        record.invoked = true
        return new Promise((resolve) => setTimeout(resolve, record.delay, payload))
      }
    case 'syncThrow':
      return () => {
        record.invoked = true
        throw payload
      }
    case 'asyncReject':
      return async () => {
        record.invoked = true
        throw payload
      }
    case 'promiseReject':
      return () => {
        record.invoked = true
        return Promise.reject(payload)
      }
    case 'thenableReject':
      return () => {
        record.invoked = true
        return { then: (_, reject) => reject(payload) }
      }
    case 'laterReject':
      return () => {
        record.invoked = true
        return new Promise((_, reject) => setTimeout(reject, record.delay, payload))
      }
    case 'hang':
      // Settles long after the breaker's timeout (or never): must count as one timed-out failure.
      return () => {
        record.invoked = true
        return record.delay < 0 ? new Promise(() => {}) : new Promise((resolve) => setTimeout(resolve, LATE_MS, payload))
      }
    default:
      throw new Error(`unknown kind ${kind}`)
  }
}

test('100k random calls: metrics match our own tallies exactly, breakers open and half-open along the way', async (t) => {
  t.timeout(20_000)
  t.log(`STRESS_SEED=${SEED}`)
  const random = mulberry32(SEED)
  const pick = (items) => items[Math.floor(random() * items.length)]

  const registry = new CircuitBreakerRegistry()
  const sharedName = uniqueName('stress-shared')
  const sharedA = registry.getOrCreate(sharedName, {
    failureThreshold: 20,
    successThreshold: 2,
    resetTimeout: 5,
    timeout: false,
  })
  const sharedB = registry.getOrCreate(sharedName)

  const subjects = [
    {
      label: 'never-opens',
      objects: [new CircuitBreaker(uniqueName('stress-never'), { failureThreshold: 2 ** 30 - 1, timeout: false })],
      opens: false,
    },
    {
      label: 'threshold-20-untimed',
      objects: [
        new CircuitBreaker(uniqueName('stress-20'), {
          failureThreshold: 20,
          successThreshold: 2,
          resetTimeout: 5,
          timeout: false,
        }),
      ],
      opens: true,
    },
    {
      label: 'threshold-20-timed',
      objects: [
        new CircuitBreaker(uniqueName('stress-20-timed'), {
          failureThreshold: 20,
          successThreshold: 3,
          halfOpenMaxCalls: 4,
          resetTimeout: 5,
          // default timeout (30 s): every async call takes the timed path
        }),
      ],
      opens: true,
    },
    {
      label: 'hair-trigger',
      objects: [
        new CircuitBreaker(uniqueName('stress-hair'), {
          failureThreshold: 3,
          successThreshold: 1,
          halfOpenMaxCalls: 1,
          resetTimeout: 5,
          timeout: 10_000,
        }),
      ],
      opens: true,
    },
    {
      label: 'timeouts',
      objects: [
        new CircuitBreaker(uniqueName('stress-timeouts'), {
          failureThreshold: 10,
          successThreshold: 2,
          resetTimeout: 5,
          timeout: 150,
        }),
      ],
      opens: true,
      hangs: true,
    },
    {
      label: 'registry-shared (two JS objects)',
      objects: [sharedA, sharedB],
      opens: true,
    },
  ]
  for (const s of subjects) {
    s.issued = 0
    s.invoked = 0
    s.resolved = 0
    s.fnRejected = 0
    s.timedOut = 0
    s.breakerRejected = 0
    s.unexpected = []
  }

  // Phases of failure probability, so that breakers trip, recover, and trip again.
  const phases = [0.05, 0.4, 0.97, 0.15, 0.7, 0.01]
  let pending = []
  let issued = 0
  let syncThrows = 0
  let batchNo = 0
  const started = Date.now()

  while (issued < TOTAL_CALLS) {
    const failP = phases[Math.floor(batchNo / 8) % phases.length]
    const n = Math.min(BATCH, TOTAL_CALLS - issued)
    for (let i = 0; i < n; i++) {
      const subject = pick(subjects)
      const cb = pick(subject.objects)
      const record = { invoked: false, delay: Math.floor(random() * 8) }
      let kind
      let payload
      let fails
      if (subject.hangs && random() < 0.05) {
        kind = 'hang'
        if (random() < 0.3) record.delay = -1
        payload = { hung: issued }
        fails = 'timeout'
      } else if (random() < failP) {
        kind = pick(FAILURE_KINDS)
        const r = random()
        payload = r < 0.6 ? new Error(`failure ${issued}`) : r < 0.8 ? `string failure ${issued}` : { failure: issued }
        fails = 'fn'
      } else {
        kind = pick(SUCCESS_KINDS)
        payload = random() < 0.5 ? issued : { value: issued }
        fails = null
      }
      subject.issued++
      issued++
      let p
      try {
        p = cb.call(makeFn(kind, payload, record))
      } catch (error) {
        syncThrows++
        continue
      }
      pending.push(
        p.then(
          (value) => {
            if (record.invoked) subject.invoked++
            if (record.invoked && fails === null && value === payload) subject.resolved++
            else subject.unexpected.push({ kind, outcome: 'resolved', invoked: record.invoked })
          },
          (error) => {
            if (record.invoked) subject.invoked++
            if (record.invoked && fails === 'fn' && error === payload) subject.fnRejected++
            else if (record.invoked && fails === 'timeout' && error instanceof CircuitTimeoutError) subject.timedOut++
            else if (!record.invoked && error instanceof CircuitOpenError && error.breaker === cb.name) {
              subject.breakerRejected++
            } else {
              subject.unexpected.push({ kind, outcome: 'rejected', invoked: record.invoked, error: String(error) })
            }
          },
        ),
      )
    }
    batchNo++
    // Sometimes let everything settle, sometimes leave calls in flight across the next batch;
    // pauses longer than the 5 ms reset timeouts let open breakers half-open.
    const r = random()
    if (r < 0.4 || pending.length > 5000) {
      await Promise.all(pending)
      pending = []
    }
    if (r < 0.5) await sleep(Math.floor(random() * 12))
    else if (r < 0.8) await new Promise((resolve) => setImmediate(resolve))
  }
  await Promise.all(pending)
  // Calls that hang for good have timed out (20 ms) by now; late results of the others arrive
  // within LATE_MS and must change nothing.
  await sleep(LATE_MS + 100)

  t.is(syncThrows, 0, 'call never throws synchronously')
  t.is(issued, TOTAL_CALLS)
  let issuedSum = 0
  for (const s of subjects) {
    const m = s.objects[0].getMetrics()
    issuedSum += s.issued
    t.log(
      `${s.label}: issued ${s.issued}, metrics ${JSON.stringify(m)}, state ${s.objects[0].state}`,
    )
    t.deepEqual(s.unexpected.slice(0, 5), [], `${s.label}: every call settled as planned`)
    t.is(m.totalCalls, m.successfulCalls + m.failedCalls + m.rejectedCalls, `${s.label}: total = parts`)
    t.is(m.totalCalls, s.issued, `${s.label}: every call counted once`)
    t.is(m.successfulCalls, s.resolved, `${s.label}: successes`)
    t.is(m.failedCalls, s.fnRejected + s.timedOut, `${s.label}: failures`)
    t.is(m.rejectedCalls, s.breakerRejected, `${s.label}: rejections`)
    t.is(s.invoked, s.resolved + s.fnRejected + s.timedOut, `${s.label}: fn ran exactly for admitted calls`)
    if (s.opens) {
      t.true(m.timesOpened >= 1, `${s.label}: opened at least once`)
      t.true(m.timesHalfOpened >= 1, `${s.label}: half-opened at least once`)
      t.true(m.rejectedCalls >= 1, `${s.label}: rejected some calls`)
      t.true(m.timesHalfOpened <= m.timesOpened, `${s.label}: half-openings <= openings`)
      t.true(m.timesOpened <= m.timesHalfOpened + 1, `${s.label}: openings <= half-openings + 1`)
    } else {
      t.is(m.rejectedCalls, 0)
      t.is(m.timesOpened, 0)
      t.is(s.objects[0].state, 'CLOSED')
    }
    if (s.hangs) t.true(s.timedOut > 0, `${s.label}: some calls timed out`)
  }
  t.is(issuedSum, TOTAL_CALLS)
  t.deepEqual(withoutOpenTime(sharedA.getMetrics()), withoutOpenTime(sharedB.getMetrics()))
  t.deepEqual(withoutOpenTime(registry.getAllMetrics()[sharedName]), withoutOpenTime(sharedA.getMetrics()))
  t.log(`${TOTAL_CALLS} calls in ${Date.now() - started} ms`)
})

test('bursts of concurrent probes never exceed halfOpenMaxCalls', async (t) => {
  t.timeout(20_000)
  const random = mulberry32(SEED + 1)
  const maxProbes = 3
  const cb = new CircuitBreaker(uniqueName('stress-probes'), {
    failureThreshold: 2,
    successThreshold: 4,
    halfOpenMaxCalls: maxProbes,
    resetTimeout: 5,
    timeout: false,
  })
  let inFlightProbes = 0
  let maxSeen = 0
  let violations = 0
  for (let round = 0; round < 150; round++) {
    // Trip (a no-op if already open), wait out the reset timeout, then burst.
    await cb.call(() => Promise.reject(new Error('trip'))).catch(() => {})
    await cb.call(() => Promise.reject(new Error('trip'))).catch(() => {})
    await sleep(12)
    const burst = []
    for (let i = 0; i < 10; i++) {
      const stateBefore = cb.state
      const willFail = random() < 0.1
      burst.push(
        cb
          .call(() => {
            const probing = stateBefore !== 'CLOSED'
            if (probing) {
              inFlightProbes++
              maxSeen = Math.max(maxSeen, inFlightProbes)
              if (inFlightProbes > maxProbes) violations++
            }
            return new Promise((resolve, reject) =>
              setTimeout(() => {
                if (probing) inFlightProbes--
                if (willFail) reject(new Error('probe failed'))
                else resolve('ok')
              }, Math.floor(random() * 4)),
            )
          })
          .catch(() => {}),
      )
    }
    await Promise.all(burst)
  }
  t.is(violations, 0)
  t.true(maxSeen <= maxProbes)
  t.true(maxSeen >= 1)
  const m = cb.getMetrics()
  t.is(m.totalCalls, m.successfulCalls + m.failedCalls + m.rejectedCalls)
  t.true(m.timesHalfOpened >= 100, `half-opened ${m.timesHalfOpened} times`)
})
