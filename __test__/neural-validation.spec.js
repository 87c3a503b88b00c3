'use strict'
// NeuralCircuitBreaker arguments: the constructor throws TypeError / RangeError for a bad name or
// options (unknown keys included); the methods never throw, they reject, and none of these
// reaches the breaker.
const test = require('ava')
const { NeuralCircuitBreaker } = require('../resilience.js')
const { uniqueName } = require('./_helpers.js')

function throwsCode(t, fn, Class, code, message) {
  const err = t.throws(fn)
  t.true(err instanceof Class, `${err}`)
  t.is(err.code, code)
  if (message !== undefined) t.regex(err.message, message)
}

test('constructor: name and options are checked', (t) => {
  throwsCode(t, () => new NeuralCircuitBreaker(), TypeError, 'ERR_INVALID_ARG_TYPE')
  throwsCode(t, () => new NeuralCircuitBreaker(''), TypeError, 'ERR_INVALID_ARG_VALUE')
  throwsCode(t, () => new NeuralCircuitBreaker('m', 5), TypeError, 'ERR_INVALID_ARG_TYPE')
  throwsCode(t, () => new NeuralCircuitBreaker('m', [1]), TypeError, 'ERR_INVALID_ARG_TYPE')
  const bad = [
    [{ failureThreshold: 0 }, RangeError, 'ERR_OUT_OF_RANGE'],
    [{ failureThreshold: '3' }, TypeError, 'ERR_INVALID_ARG_TYPE'],
    [{ resetTimeout: -1 }, RangeError, 'ERR_OUT_OF_RANGE'],
    [{ halfOpenMaxCalls: 1.5 }, RangeError, 'ERR_OUT_OF_RANGE'],
    [{ predictTimeout: 0 }, RangeError, 'ERR_OUT_OF_RANGE'],
    [{ predictTimeout: false }, TypeError, 'ERR_INVALID_ARG_TYPE'],
    [{ trainTimeout: Infinity }, RangeError, 'ERR_OUT_OF_RANGE'],
    [{ trainTimeout: '1s' }, TypeError, 'ERR_INVALID_ARG_TYPE'],
    [{ timeout: 100 }, TypeError, 'ERR_INVALID_ARG_VALUE', /predictTimeout/],
    [{ epochs: 3 }, TypeError, 'ERR_INVALID_ARG_VALUE', /"epochs" is not a NeuralCircuitBreaker option/],
    [{ endpoint: 42 }, TypeError, 'ERR_INVALID_ARG_TYPE'],
    [{ endpoint: 'not a url' }, TypeError, 'ERR_INVALID_URL'],
    [{ endpoint: 'ftp://127.0.0.1/' }, TypeError, 'ERR_INVALID_URL'],
    [{ endpoint: 'http://127.0.0.1:1', protocol: 'grpc' }, TypeError, 'ERR_INVALID_ARG_VALUE'],
    [{ endpoint: 'http://127.0.0.1:1', model: '' }, TypeError, 'ERR_INVALID_ARG_VALUE'],
    [{ endpoint: 'http://127.0.0.1:1', version: '' }, TypeError, 'ERR_INVALID_ARG_VALUE'],
    [{ endpoint: 'http://127.0.0.1:1', version: 1.5 }, RangeError, 'ERR_OUT_OF_RANGE'],
    [{ endpoint: 'http://127.0.0.1:1', version: true }, TypeError, 'ERR_INVALID_ARG_TYPE'],
    [{ endpoint: 'http://127.0.0.1:1', headers: { a: 1 } }, TypeError, 'ERR_INVALID_ARG_TYPE'],
    [{ endpoint: 'http://127.0.0.1:1', headers: { 'bad name': 'x' } }, TypeError, 'ERR_INVALID_ARG_VALUE'],
    [{ endpoint: 'http://127.0.0.1:1', proxyFromEnv: 'no' }, TypeError, 'ERR_INVALID_ARG_TYPE'],
    [{ endpoint: 'http://127.0.0.1:1', connectTimeout: 0 }, RangeError, 'ERR_OUT_OF_RANGE'],
    // Remote-only options without an endpoint are a mistake, not silently ignored.
    [{ protocol: 'v2' }, TypeError, 'ERR_INVALID_ARG_VALUE', /give "endpoint"/],
    [{ model: 'm' }, TypeError, 'ERR_INVALID_ARG_VALUE', /give "endpoint"/],
    [{ headers: {} }, TypeError, 'ERR_INVALID_ARG_VALUE', /give "endpoint"/],
  ]
  for (const [options, Class, code, message] of bad) {
    throwsCode(t, () => new NeuralCircuitBreaker(uniqueName('nn-opt'), options), Class, code, message)
  }
  // undefined values are absent keys.
  const cb = new NeuralCircuitBreaker(uniqueName('nn-opt'), { failureThreshold: undefined, endpoint: undefined })
  t.is(cb.backend, 'builtin')
  t.is(new NeuralCircuitBreaker(uniqueName('nn-opt'), null).backend, 'builtin')
  const remote = new NeuralCircuitBreaker(uniqueName('nn-opt'), { endpoint: 'http://127.0.0.1:1', protocol: 'tfserving', version: 3 })
  t.is(remote.backend, 'tfserving')
  t.is(remote.dimensions, null)
  t.is(new NeuralCircuitBreaker(uniqueName('nn-opt'), { endpoint: 'http://127.0.0.1:1' }).backend, 'v2')
})

/** Checks that `promise` rejects with an instance of `Class` with `code`. */
async function rejects(t, promise, Class, code, message) {
  t.true(promise instanceof Promise, 'a promise, not a throw')
  const err = await t.throwsAsync(promise)
  t.true(err instanceof Class, `${err}`)
  t.is(err.code, code, err.message)
  if (message !== undefined) t.regex(err.message, message)
}

test('methods reject bad arguments instead of throwing', async (t) => {
  const cb = new NeuralCircuitBreaker(uniqueName('nn-args'))
  const T = TypeError
  await rejects(t, cb.predict(), T, 'ERR_INVALID_ARG_TYPE')
  await rejects(t, cb.predict('1,2'), T, 'ERR_INVALID_ARG_TYPE')
  await rejects(t, cb.predict([1, '2']), T, 'ERR_INVALID_ARG_TYPE', /^features\[1\] must be a number/)
  await rejects(t, cb.predict([1, , 3]), T, 'ERR_INVALID_ARG_TYPE') // eslint-disable-line no-sparse-arrays
  await rejects(t, cb.predict(new Float64Array([1])), T, 'ERR_INVALID_ARG_TYPE')
  await rejects(t, cb.train(), T, 'ERR_INVALID_ARG_TYPE')
  await rejects(t, cb.train({}, [1]), T, 'ERR_INVALID_ARG_TYPE')
  await rejects(t, cb.train([1, 2], [1, 2]), T, 'ERR_INVALID_ARG_TYPE', /data\[0\]/)
  await rejects(t, cb.train([[1], [null]], [1, 2]), T, 'ERR_INVALID_ARG_TYPE', /^data\[1\]\[0\] must be a number\. Received null/)
  await rejects(t, cb.train([[1]]), T, 'ERR_INVALID_ARG_TYPE', /labels/)
  await rejects(t, cb.train([[1]], 'a'), T, 'ERR_INVALID_ARG_TYPE')
  await rejects(t, cb.train([[1], [2]], [[1], 2]), T, 'ERR_INVALID_ARG_TYPE', /labels\[1\]/)
  await rejects(t, cb.train([[1], [2]], [1, [2]]), T, 'ERR_INVALID_ARG_TYPE', /labels\[1\]/)
  await rejects(t, cb.train([[1]], [1], 'fast'), T, 'ERR_INVALID_ARG_TYPE')
  await rejects(t, cb.train([[1]], [1], { epochs: '5' }), T, 'ERR_INVALID_ARG_TYPE')
  await rejects(t, cb.train([[1]], [1], { hiddenSizes: 8 }), T, 'ERR_INVALID_ARG_TYPE')
  await rejects(t, cb.train([[1]], [1], { hiddenSizes: ['8'] }), T, 'ERR_INVALID_ARG_TYPE')
  await rejects(t, cb.train([[1]], [1], { batchSize: 8 }), T, 'ERR_INVALID_ARG_VALUE', /batchSize/)
  // Shapes and values: the model's own checks.
  await rejects(t, cb.train([], []), T, 'ERR_INVALID_ARG_VALUE')
  await rejects(t, cb.train([[1], [2, 3]], [1, 2]), T, 'ERR_INVALID_ARG_VALUE', /row 1 has 2 features/)
  await rejects(t, cb.train([[1], [2]], [1]), T, 'ERR_INVALID_ARG_VALUE', /2 rows but labels has 1/)
  await rejects(t, cb.train([[1], [NaN]], [1, 2]), T, 'ERR_INVALID_ARG_VALUE')
  await rejects(t, cb.train([[1], [2]], [1, Infinity]), T, 'ERR_INVALID_ARG_VALUE')
  await rejects(t, cb.train([[]], [1]), T, 'ERR_INVALID_ARG_VALUE')
  const R = RangeError
  for (const options of [{ epochs: 0 }, { epochs: 1.5 }, { epochs: 1e7 }, { learningRate: 0 }, { learningRate: 11 }, { learningRate: NaN }, { hiddenSizes: [0] }, { hiddenSizes: [4097] }, { hiddenSizes: new Array(17).fill(1) }, { hiddenSizes: [4096, 4096] }]) {
    await rejects(t, cb.train([[1]], [1], options), R, 'ERR_OUT_OF_RANGE')
  }
  await rejects(t, cb.save(), T, 'ERR_INVALID_ARG_TYPE')
  await rejects(t, cb.save(Buffer.from('m')), T, 'ERR_INVALID_ARG_TYPE')
  await rejects(t, cb.load(''), T, 'ERR_INVALID_ARG_VALUE')
  await rejects(t, cb.load('a\0b'), T, 'ERR_INVALID_ARG_VALUE')
  await rejects(t, cb.load('\ud800'), T, 'ERR_INVALID_ARG_VALUE')
  t.is(cb.getMetrics().totalCalls, 0)
  t.is(cb.dimensions, null)
})

test('a remote model is neither trained nor saved here', async (t) => {
  const cb = new NeuralCircuitBreaker(uniqueName('nn-remote-args'), { endpoint: 'http://127.0.0.1:1' })
  for (const promise of [cb.train([[1]], [1]), cb.save('m.safetensors'), cb.load('m.safetensors')]) {
    const err = await t.throwsAsync(promise)
    t.is(err.code, 'ERR_NOT_SUPPORTED')
  }
  t.is(cb.getMetrics().totalCalls, 0)
})
