'use strict'
// The per-call timeout must be a deadline in time. These tests make the event loop lag (as a
// busy trading process does) and check that a fn which settles well after its deadline still
// gets CircuitTimeoutError. Serial: blocking the loop must not disturb other tests in this file.
const test = require('ava')
const { CircuitBreaker, CircuitTimeoutError } = require('../resilience.js')
const { sleep, uniqueName, settle } = require('./_helpers.js')

function busyWait(ms) {
  const end = Date.now() + ms
  while (Date.now() < end) {
    // burn CPU: the event loop is blocked
  }
}

test.serial('a blocked event loop does not stretch the timeout: fn settling 100 ms after its deadline times out', async (t) => {
  const cb = new CircuitBreaker(uniqueName('deadline-block'), { timeout: 50 })
  const started = Date.now()
  const result = settle(cb.call(() => new Promise((resolve) => setTimeout(resolve, 150, 'late'))))
  busyWait(250) // both the deadline (50 ms) and fn's result (150 ms) are due when the loop wakes up
  const { status, value, reason } = await result
  t.log(`settled ${status} ${String(value ?? reason)} after ${Date.now() - started} ms`)
  t.is(status, 'rejected', 'the deadline (50 ms) came before fn settled (150 ms)')
  t.true(reason instanceof CircuitTimeoutError)
  await sleep(50)
  t.like(cb.getMetrics(), { totalCalls: 1, failedCalls: 1, successfulCalls: 0 })
})

test.serial('a busy event loop does not stretch the timeout: 50 ms timeout, fn settles after 150 ms', async (t) => {
  const cb = new CircuitBreaker(uniqueName('deadline-busy'), { timeout: 50 })
  const started = Date.now()
  const result = settle(cb.call(() => new Promise((resolve) => setTimeout(resolve, 150, 'late'))))
  // Other work keeps the loop busy: tasks of 40 ms back to back for ~400 ms.
  await new Promise((resolve) => {
    const step = () => {
      busyWait(40)
      if (Date.now() - started < 400) setImmediate(step)
      else resolve()
    }
    setImmediate(step)
  })
  const { status, value, reason } = await result
  t.log(`settled ${status} ${String(value ?? reason)} after ${Date.now() - started} ms`)
  t.is(status, 'rejected', 'fn settled ~100 ms after its 50 ms deadline')
  t.true(reason instanceof CircuitTimeoutError)
})

test.serial('an idle event loop: the timeout fires close to its deadline, never before it', async (t) => {
  const cb = new CircuitBreaker(uniqueName('deadline-idle'), { timeout: 60 })
  const started = Date.now()
  const { reason } = await settle(cb.call(() => new Promise(() => {})))
  const elapsed = Date.now() - started
  t.true(reason instanceof CircuitTimeoutError)
  t.true(elapsed >= 55, `not early: ${elapsed} ms`)
})

// Lateness of a call's timeout against a plain setTimeout armed at the same moment (the event
// loop's own lag, which no deadline can beat): a deadline is never early, and late by at most
// three ticks (30 ms) beyond that lag: the tick of margin, the rounding of the deadline to a
// tick, and the phase of the interval (typically 10-20 ms).
test.serial('deadlines are never early, and late by at most 30 ms beyond the event loop lag', async (t) => {
  const { performance } = require('node:perf_hooks')
  const worst = { early: 0, late: -Infinity }
  for (let i = 0; i < 24; i++) {
    const timeout = 15 + ((i * 13) % 70)
    const cb = new CircuitBreaker(uniqueName('deadline-bound'), { timeout })
    const started = performance.now()
    let referenceAt
    setTimeout(() => {
      referenceAt = performance.now()
    }, timeout)
    const { reason } = await settle(cb.call(() => new Promise(() => {})))
    const elapsed = performance.now() - started
    t.true(reason instanceof CircuitTimeoutError)
    await sleep(1) // let the reference timer run if it is still due
    const loopLag = (referenceAt ?? performance.now()) - started - timeout
    worst.early = Math.min(worst.early, elapsed - timeout)
    worst.late = Math.max(worst.late, elapsed - timeout - Math.max(loopLag, 0))
    if (i % 5 === 0) await sleep(i % 9) // start the next call at another phase of the tick
  }
  t.log(`worst: ${worst.early.toFixed(1)} ms early, ${worst.late.toFixed(1)} ms late beyond the loop's lag`)
  t.true(worst.early >= 0, `a deadline fired ${-worst.early} ms early`)
  t.true(worst.late <= 31, `a deadline fired ${worst.late} ms late beyond the loop's lag`)
})

test.serial('a call made late in a long synchronous task counts its deadline from when it was made', async (t) => {
  // The deadline clock is kept by a native thread: it moves on while this thread is blocked, so
  // a call made 200 ms into a blocked stretch is not timed as if made at its start.
  const first = new CircuitBreaker(uniqueName('deadline-first'), { timeout: 300 })
  const early = settle(first.call(() => new Promise((resolve) => setTimeout(resolve, 10, 'early'))))
  busyWait(200)
  const cb = new CircuitBreaker(uniqueName('deadline-made-late'), { timeout: 150 })
  const late = settle(cb.call(() => new Promise((resolve) => setTimeout(resolve, 40, 'in time'))))
  const [a, b] = await Promise.all([early, late])
  t.is(a.value, 'early')
  t.is(b.status, 'fulfilled', String(b.reason))
  t.is(b.value, 'in time')
})

test.serial('a late result is ignored: the timed-out call stays rejected and counts one failure', async (t) => {
  const cb = new CircuitBreaker(uniqueName('deadline-late-result'), { timeout: 30 })
  let resolveLate
  let rejectLate
  const resolved = settle(cb.call(() => new Promise((resolve) => (resolveLate = resolve))))
  const rejected = settle(cb.call(() => new Promise((_, reject) => (rejectLate = reject))))
  const unhandled = []
  const onUnhandled = (reason) => unhandled.push(reason)
  process.on('unhandledRejection', onUnhandled)
  try {
    const [a, b] = [await resolved, await rejected]
    t.true(a.reason instanceof CircuitTimeoutError)
    t.true(b.reason instanceof CircuitTimeoutError)
    resolveLate('too late')
    rejectLate(new Error('too late'))
    await sleep(20)
    t.like(cb.getMetrics(), { totalCalls: 2, failedCalls: 2, successfulCalls: 0 })
    t.deepEqual(unhandled, [])
  } finally {
    process.off('unhandledRejection', onUnhandled)
  }
})

test.serial('an idle breaker keeps no process alive: after timed calls settle or time out, the process exits', async (t) => {
  const { spawnSync } = require('node:child_process')
  const path = require('node:path')
  const entry = JSON.stringify(path.join(__dirname, '..', 'resilience.js'))
  const source = `
    const { CircuitBreaker } = require(${entry})
    const cb = new CircuitBreaker('idle-exit', { timeout: 40 })
    const idle = new CircuitBreaker('idle-never-called')
    let last
    Promise.allSettled([
      cb.call(async () => 1),
      cb.call(() => new Promise(() => {})), // times out: its promise never settles
      new CircuitBreaker('idle-default').call(async () => 2), // the default 30 s deadline
    ]).then((r) => { last = Date.now(); console.log(r.map((x) => x.status).join(',')) })
    process.on('exit', () => console.log(Date.now() - last))
  `
  const result = spawnSync(process.execPath, ['-e', source], { encoding: 'utf8', timeout: 20000 })
  t.is(result.status, 0, result.stderr)
  const [statuses, linger] = result.stdout.trim().split('\n')
  t.is(statuses, 'fulfilled,rejected,fulfilled')
  t.true(Number(linger) < 1000, `exited ${linger} ms after the last call settled`)
})

test.serial('each worker thread keeps its own deadlines: a worker times out on time while the main thread is blocked', async (t) => {
  const { Worker } = require('node:worker_threads')
  const path = require('node:path')
  const entry = JSON.stringify(path.join(__dirname, '..', 'resilience.js'))
  const worker = new Worker(
    `
    const { parentPort } = require('node:worker_threads')
    const { performance } = require('node:perf_hooks')
    const { CircuitBreaker, CircuitTimeoutError } = require(${entry})
    parentPort.once('message', async () => {
      const cb = new CircuitBreaker('worker-deadline', { timeout: 50 })
      const started = performance.now()
      const reason = await cb.call(() => new Promise(() => {})).catch((e) => e)
      parentPort.postMessage({ timedOut: reason instanceof CircuitTimeoutError, elapsed: performance.now() - started })
    })
    parentPort.postMessage('ready')
  `,
    { eval: true },
  )
  const messages = []
  const next = () => new Promise((resolve) => worker.once('message', resolve))
  t.is(await next(), 'ready')
  const result = next()
  worker.postMessage('go')
  busyWait(300) // the main thread's loop (and wheel) is blocked; the worker's is not
  messages.push(await result)
  await worker.terminate()
  t.true(messages[0].timedOut)
  t.true(messages[0].elapsed >= 50 && messages[0].elapsed < 250, `timed out after ${messages[0].elapsed} ms`)
})
