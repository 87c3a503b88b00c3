'use strict'
// NeuralCircuitBreaker with its built-in model: it learns a linear map, a non-linear one and
// several outputs at once to a stated loss; save / load round trips through a file; bad files
// and predictions before training are typed errors that leave the breaker alone. What trips
// the breaker is in neural-breaker.spec.js, argument checks in neural-validation.spec.js,
// model servers in neural-remote.spec.js.
const test = require('ava')
const fs = require('node:fs')
const path = require('node:path')
const { NeuralCircuitBreaker, CircuitBreaker } = require('../resilience.js')
const { uniqueName } = require('./_helpers.js')
const { tempPath, removeAll, line, grid } = require('./_neural.js')

const linearMap = ([a, b]) => 2 * a - 3 * b + 1

function close(t, got, want, tolerance, what) {
  t.true(Math.abs(got - want) <= tolerance, `${what}: got ${got}, want ${want} ± ${tolerance}`)
}

test('a linear model learns y = 2a - 3b + 1 exactly', async (t) => {
  const cb = new NeuralCircuitBreaker(uniqueName('nn-linear'))
  t.is(cb.backend, 'builtin')
  t.is(cb.dimensions, null)
  const data = grid(16, -2, 2)
  const result = await cb.train(data, data.map(linearMap), { hiddenSizes: [], learningRate: 0.05, epochs: 200 })
  t.log(`loss ${result.loss.toExponential(2)}`)
  t.deepEqual(Object.keys(result).sort(), ['epochs', 'loss'])
  t.is(result.epochs, 200)
  t.true(result.loss < 1e-6, String(result.loss))
  t.deepEqual(cb.dimensions, { inputs: 2, outputs: 1 })
  for (const p of [[0.3, -1.1], [1.7, 0.9], [-2.5, 2.5]]) {
    const out = await cb.predict(p)
    t.true(Array.isArray(out))
    t.is(out.length, 1)
    close(t, out[0], linearMap(p), 1e-3, `y(${p})`)
  }
  const m = cb.getMetrics()
  t.is(m.totalCalls, 4)
  t.is(m.successfulCalls, 4)
})

test('a hidden-layer network learns sine where a linear model cannot', async (t) => {
  const data = line(128, -3, 3)
  const labels = data.map(([x]) => Math.sin(x))
  const linear = new NeuralCircuitBreaker(uniqueName('nn-sine-linear'))
  const flat = await linear.train(data, labels, { hiddenSizes: [], epochs: 100, learningRate: 0.05 })
  t.true(flat.loss > 0.05, `a line fits sine? ${flat.loss}`)

  const cb = new NeuralCircuitBreaker(uniqueName('nn-sine'))
  const result = await cb.train(data, labels, { hiddenSizes: [32], epochs: 300, learningRate: 0.01 })
  t.log(`linear model loss ${flat.loss.toExponential(2)}, [32] network loss ${result.loss.toExponential(2)}`)
  t.true(result.loss < 2e-3, String(result.loss))
  for (const x of [-2.55, -1.3, 0.07, 1, 2.2]) {
    close(t, (await cb.predict([x]))[0], Math.sin(x), 0.1, `sin ${x}`)
  }
})

test('the default options learn a square', async (t) => {
  const cb = new NeuralCircuitBreaker(uniqueName('nn-square'))
  const data = line(64, -2, 2)
  const result = await cb.train(data, data.map(([x]) => x * x))
  t.log(`default [32, 32] network, loss ${result.loss.toExponential(2)}`)
  t.is(result.epochs, 200)
  t.true(result.loss < 5e-3, String(result.loss))
  for (const x of [-1.5, -0.4, 0, 0.9, 1.75]) {
    close(t, (await cb.predict([x]))[0], x * x, 0.15, `${x}²`)
  }
})

test('labels given as rows teach several outputs at once', async (t) => {
  const cb = new NeuralCircuitBreaker(uniqueName('nn-multi'))
  const data = grid(10, -1, 1)
  const labels = data.map(([a, b]) => [a + b, 10 * (a - b), -5])
  const result = await cb.train(data, labels, { hiddenSizes: [], learningRate: 0.05 })
  t.true(result.loss < 1e-6, String(result.loss))
  t.deepEqual(cb.dimensions, { inputs: 2, outputs: 3 })
  const [sum, diff, constant] = await cb.predict([0.25, -0.5])
  close(t, sum, -0.25, 1e-3, 'a + b')
  close(t, diff, 7.5, 1e-2, '10 (a - b)')
  close(t, constant, -5, 1e-3, 'a constant column')
})

test('a saved model loads into another breaker with the same predictions', async (t) => {
  const file = tempPath('model.safetensors')
  t.teardown(() => removeAll(file))
  const cb = new NeuralCircuitBreaker(uniqueName('nn-save'))
  const data = grid(8, -1, 1)
  await cb.train(data, data.map(([a, b]) => [Math.sin(3 * a), 1000 * a * b]), { hiddenSizes: [8, 4], epochs: 20 })
  t.is(await cb.save(file), undefined)
  t.true(fs.statSync(file).size > 0)

  const other = new NeuralCircuitBreaker(uniqueName('nn-load'))
  t.is(await other.load(file), undefined)
  t.deepEqual(other.dimensions, { inputs: 2, outputs: 2 })
  for (const p of [[0.1, 0.2], [-0.9, 0.4], [1.3, -1.7]]) {
    t.deepEqual(await other.predict(p), await cb.predict(p), 'bit for bit')
  }
  // Saving over the file replaces it and leaves no temporary file behind.
  await other.save(file)
  await cb.load(file)
  const leftovers = fs.readdirSync(path.dirname(file)).filter((e) => e.startsWith(`${path.basename(file)}.`))
  t.deepEqual(leftovers, [])
})

test('bad model files are refused and the model in use stays', async (t) => {
  const garbage = tempPath('garbage.safetensors')
  const missing = tempPath('missing.safetensors')
  t.teardown(() => removeAll(garbage))
  fs.writeFileSync(garbage, 'this is not a model file')
  const cb = new NeuralCircuitBreaker(uniqueName('nn-files'))
  const data = line(16, 0, 1)
  await cb.train(data, data.map(([x]) => x), { hiddenSizes: [], epochs: 5 })
  const before = await cb.predict([0.5])

  const err = await t.throwsAsync(cb.load(garbage))
  t.is(err.constructor, Error)
  t.is(err.code, 'ERR_MODEL_FILE')
  t.regex(err.message, /^not a model file of this library/)
  const io = await t.throwsAsync(cb.load(missing))
  t.is(io.code, 'ERR_MODEL_IO')
  t.true(io.message.includes(missing), io.message)
  const dir = await t.throwsAsync(cb.save(`${missing}/no/such/dir/m`))
  t.is(dir.code, 'ERR_MODEL_IO')

  t.deepEqual(await cb.predict([0.5]), before)
  t.is(cb.getMetrics().failedCalls, 0, 'files are not breaker calls')
})

test('an untrained model neither predicts nor saves, and the breaker does not count it', async (t) => {
  const cb = new NeuralCircuitBreaker(uniqueName('nn-untrained'), { failureThreshold: 1 })
  for (let i = 0; i < 3; i++) {
    const err = await t.throwsAsync(cb.predict([1, 2]))
    t.is(err.code, 'ERR_MODEL_NOT_TRAINED')
    t.is(err.message, 'the model has not been trained or loaded yet')
  }
  const file = tempPath('untrained.safetensors')
  t.is((await t.throwsAsync(cb.save(file))).code, 'ERR_MODEL_NOT_TRAINED')
  t.false(fs.existsSync(file))
  t.is(cb.state, 'CLOSED')
  t.is(cb.getState(), 'CLOSED')
  t.is(cb.getMetrics().totalCalls, 0)
})

test('the breaker getter is the same circuit', async (t) => {
  const cb = new NeuralCircuitBreaker(uniqueName('nn-getter'), { failureThreshold: 3, resetTimeout: 1234, successThreshold: 1 })
  const breaker = cb.breaker
  t.true(breaker instanceof CircuitBreaker)
  t.is(breaker.name, cb.name)
  t.is(breaker.options.failureThreshold, 3)
  t.is(breaker.options.resetTimeout, 1234)
  await t.throwsAsync(breaker.call(() => Promise.reject(new Error('shared'))))
  t.is(cb.getMetrics().failedCalls, 1)
})
