'use strict'
// What the built-in model means for its breaker: NaN or infinite outputs are failures that
// trip it; a wrong input dimension is a RangeError that does not count; a training past its
// deadline rejects with CircuitTimeoutError, stops, and leaves the model in use; training runs
// off the event loop.
const test = require('ava')
const { NeuralCircuitBreaker, CircuitOpenError, CircuitTimeoutError } = require('../resilience.js')
const { uniqueName } = require('./_helpers.js')
const { tempPath, removeAll, line, grid, writeModel } = require('./_neural.js')

/** A breaker whose built-in model is the one in `layers` (see writeModel). */
async function withModel(t, layers, options = {}) {
  const file = tempPath('model.safetensors')
  t.teardown(() => removeAll(file))
  writeModel(file, layers)
  const cb = new NeuralCircuitBreaker(uniqueName('nn-breaker'), { resetTimeout: 60000, ...options })
  await cb.load(file)
  return cb
}

test('NaN outputs are failures that open the circuit', async (t) => {
  // relu(3e38 x + 3e38) overflows f32 for x = 1 in both hidden units and the output layer
  // subtracts one from the other: Infinity - Infinity = NaN. For x = -1 everything is 0.
  const big = 3e38
  const cb = await withModel(t, [[[[big], [big]], [big, big]], [[[1, -1]], [0]]], { failureThreshold: 3 })
  t.deepEqual(await cb.predict([-1]), [0])
  for (let i = 0; i < 3; i++) {
    t.is(cb.state, 'CLOSED')
    const err = await t.throwsAsync(cb.predict([1]))
    t.is(err.constructor, Error)
    t.is(err.code, 'ERR_MODEL_NON_FINITE')
  }
  t.is(cb.state, 'OPEN')
  const open = await t.throwsAsync(cb.predict([-1]))
  t.true(open instanceof CircuitOpenError)
  t.is(open.code, 'ERR_CIRCUIT_OPEN')
  t.is(open.breaker, cb.name)
  const m = cb.getMetrics()
  t.is(m.successfulCalls, 1)
  t.is(m.failedCalls, 3)
  t.is(m.rejectedCalls, 1)
  t.is(m.timesOpened, 1)
})

test('a wrong input dimension is a RangeError that does not count', async (t) => {
  const cb = await withModel(t, [[[[1, 2]], [0]]], { failureThreshold: 1 }) // y = a + 2b
  for (const features of [[], [1], [1, 2, 3]]) {
    const err = await t.throwsAsync(cb.predict(features))
    t.true(err instanceof RangeError)
    t.is(err.code, 'ERR_INPUT_DIMENSION')
    t.is(err.expected, 2)
    t.is(err.received, features.length)
    t.is(err.message, `the model takes 2 features, got ${features.length}`)
  }
  for (const bad of [NaN, Infinity, -Infinity]) {
    const err = await t.throwsAsync(cb.predict([1, bad]))
    t.true(err instanceof TypeError)
    t.is(err.code, 'ERR_INVALID_ARG_VALUE')
  }
  // Finite, but 1e300 times the training data's spread is beyond the network's f32.
  const far = await t.throwsAsync(cb.predict([1e300, 0]))
  t.true(far instanceof RangeError)
  t.is(far.code, 'ERR_OUT_OF_RANGE')
  t.is(cb.state, 'CLOSED')
  t.is(cb.getMetrics().totalCalls, 0)
  t.deepEqual(await cb.predict([1, 2]), [5])
})

test('a model file with NaN weights is refused', async (t) => {
  const file = tempPath('nan.safetensors')
  t.teardown(() => removeAll(file))
  writeModel(file, [[[[NaN]], [0]]])
  const cb = new NeuralCircuitBreaker(uniqueName('nn-nan-file'))
  const err = await t.throwsAsync(cb.load(file))
  t.is(err.code, 'ERR_MODEL_FILE')
  t.is((await t.throwsAsync(cb.predict([1]))).code, 'ERR_MODEL_NOT_TRAINED')
})

test('a training past trainTimeout rejects, stops, and the previous model stays in use', async (t) => {
  const cb = await withModel(t, [[[[2]], [1]]], { trainTimeout: 300 }) // y = 2x + 1
  t.deepEqual(await cb.predict([3]), [7])
  const data = line(256, -1, 1)
  const started = Date.now()
  const training = cb.train(data, data.map(([x]) => Math.sin(x)), { epochs: 1000000 })
  // Meanwhile the previous model answers.
  let served = 0
  let done = false
  training.then(() => {}, () => {}).finally(() => {
    done = true
  })
  while (!done) {
    t.deepEqual(await cb.predict([3]), [7])
    served += 1
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  const err = await t.throwsAsync(training)
  t.true(err instanceof CircuitTimeoutError)
  t.is(err.code, 'ERR_CIRCUIT_TIMEOUT')
  t.is(err.timeout, 300)
  t.is(err.breaker, cb.name)
  t.true(Date.now() - started < 10000, 'the deadline ends the call, not the million epochs')
  t.true(served > 0)
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.deepEqual(await cb.predict([3]), [7])
  const m = cb.getMetrics()
  t.is(m.failedCalls, 1, 'a training timeout is a failure')
  t.is(m.successfulCalls, served + 2)
})

test('training runs off the event loop: timers keep firing', async (t) => {
  const cb = new NeuralCircuitBreaker(uniqueName('nn-event-loop'))
  const data = grid(16, -1, 1)
  const labels = data.map(([a, b]) => a * b)
  let ticks = 0
  const timer = setInterval(() => {
    ticks += 1
  }, 5)
  const started = process.hrtime.bigint()
  try {
    // A training of a few hundred ms: while it runs, the JS thread is free.
    await cb.train(data, labels, { epochs: 100, hiddenSizes: [64, 64] })
  } finally {
    clearInterval(timer)
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  t.log(`training took ${ms.toFixed(0)} ms; the 5 ms interval fired ${ticks} times meanwhile`)
  // Had training blocked the JS thread, the interval could not have fired before it ended.
  t.true(ticks >= 3, `${ticks} ticks in ${ms} ms`)
})

test('a training that diverges (infinite loss) rejects, counts as a failure, and the previous model stays', async (t) => {
  const cb = new NeuralCircuitBreaker(uniqueName('nn-diverge'))
  const data = line(8, 0, 1)
  await cb.train(data, data.map(([x]) => 2 * x), { hiddenSizes: [], epochs: 20 })
  const before = await cb.predict([0.5])
  // Issue 9: labels of ±1e300 standardise fine, but their squared errors overflow f64: this
  // training reported `loss: Infinity` as a success and replaced the model.
  const labels = data.map((_, i) => (i % 2 ? 1e300 : -1e300))
  const err = await t.throwsAsync(cb.train(data, labels, { hiddenSizes: [], epochs: 5 }))
  t.is(err.code, 'ERR_MODEL_NON_FINITE')
  t.regex(err.message, /diverged/)
  const m = cb.getMetrics()
  t.is(m.failedCalls, 1, 'a diverged training is a failure')
  t.deepEqual(await cb.predict([0.5]), before, 'the previous model is still the one in use')
})
