'use strict'
const test = require('ava')
const { Worker } = require('node:worker_threads')
const path = require('node:path')
const { CircuitBreakerRegistry } = require('../resilience.js')

function once(worker, event) {
  return new Promise((resolve, reject) => {
    worker.once(event, resolve)
    worker.once('error', reject)
  })
}

async function startWorker(file, workerData) {
  const worker = new Worker(path.join(__dirname, 'fixtures', file), { workerData })
  return worker
}

test('global breakers are one breaker across worker threads: 4 workers x 1 failure open a threshold-4 breaker', async (t) => {
  const name = 'workers-shared-threshold'
  const main = CircuitBreakerRegistry.global().getOrCreate(name, { failureThreshold: 4, resetTimeout: 60000 })
  const workers = []
  for (let id = 0; id < 4; id++) {
    const w = await startWorker('shared-failure-worker.js', { name, threshold: 4, id })
    t.is(await once(w, 'message'), 'ready')
    workers.push(w)
  }
  for (let id = 0; id < 3; id++) {
    workers[id].postMessage('fail')
    t.regex((await once(workers[id], 'message')).message, /failure from worker/)
  }
  t.is(main.state, 'CLOSED', 'three failures do not open a threshold-4 breaker')
  workers[3].postMessage('fail')
  t.regex((await once(workers[3], 'message')).message, /failure from worker 3/)
  t.is(main.state, 'OPEN', 'the fourth failure, from a fourth thread, opens it')
  const m = main.getMetrics()
  t.is(m.failedCalls, 4)
  t.is(m.timesOpened, 1)
  // Metrics read in a worker include every thread's calls, and the main thread's rejection.
  await t.throwsAsync(main.call(async () => 1), { code: 'ERR_CIRCUIT_OPEN' })
  const reader = await startWorker('shared-failure-worker.js', { name, threshold: 4, id: 9 })
  t.is(await once(reader, 'message'), 'ready')
  reader.postMessage('read')
  const seen = await once(reader, 'message')
  t.is(seen.state, 'OPEN')
  t.is(seen.metrics.failedCalls, 4)
  t.is(seen.metrics.rejectedCalls, 1)
  t.is(seen.metrics.totalCalls, 5)
  await Promise.all([...workers, reader].map((w) => w.terminate()))
})

test('successes counted in worker threads show up in the main thread', async (t) => {
  const name = 'workers-shared-successes'
  const main = CircuitBreakerRegistry.global().getOrCreate(name, { failureThreshold: 1000000, timeout: 1000 })
  const workers = await Promise.all([0, 1].map((id) => startWorker('busy-worker.js', { name, id })))
  await Promise.all(workers.map((w) => once(w, 'message')))
  await Promise.all(workers.map((w) => w.terminate()))
  const m = main.getMetrics()
  t.true(m.successfulCalls > 0)
  t.true(m.failedCalls > 0)
  t.is(m.totalCalls, m.successfulCalls + m.failedCalls + m.rejectedCalls)
  t.is(main.state, 'CLOSED')
})

test('terminating workers in the middle of calls crashes nothing, and the breaker keeps working', async (t) => {
  const name = 'workers-terminated'
  for (let round = 0; round < 8; round++) {
    const workers = await Promise.all([0, 1, 2].map((id) => startWorker('busy-worker.js', { name, id })))
    await Promise.all(workers.map((w) => once(w, 'message')))
    const codes = await Promise.all(workers.map((w) => w.terminate()))
    t.deepEqual(codes, [1, 1, 1])
  }
  const cb = CircuitBreakerRegistry.global().get(name)
  t.is(await cb.call(async () => 'still here'), 'still here')
  const m = cb.getMetrics()
  t.is(m.totalCalls, m.successfulCalls + m.failedCalls + m.rejectedCalls)
  global.gc?.()
})
