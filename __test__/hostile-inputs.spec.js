'use strict'
// Inputs that used to kill or hang the process (issue 9): sparse arrays with a huge `length`
// as parameters and as training data, and model paths that are not model files. Each repro runs
// in a child process, so that a regression kills the child, not the test runner; the child's
// `timeout` only stops a hang, nothing asserts a duration.
const test = require('ava')
const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const { tempPath, removeAll } = require('./_neural.js')

const entry = JSON.stringify(path.join(__dirname, '..', 'resilience.js'))

// In the child: `outcome(() => promise)` is 'resolved', ['threw', class, code] for a synchronous
// throw (a bug for these methods), or [class, code] for a rejection.
const prelude = `
  const m = require(${entry})
  async function outcome(start) {
    let p
    try { p = start() } catch (e) { return ['threw', e.constructor.name, e.code] }
    try { await p; return 'resolved' } catch (e) { return [e.constructor.name, e.code] }
  }
  function sparse() { const a = []; a.length = 2 ** 32 - 1; return a }
`

/** Runs `body` (an async function body returning JSON-able data) in a child process. */
function inChild(t, body, env = {}) {
  const source = `${prelude}
    ;(async () => { ${body} })().then(
      (out) => process.stdout.write(JSON.stringify(out)),
      (e) => { console.error(e); process.exit(3) })`
  const r = spawnSync(process.execPath, ['-e', source], {
    encoding: 'utf8',
    timeout: 120000,
    env: { ...process.env, ...env },
  })
  t.is(r.signal, null, `the child was killed (${r.signal}): ${r.stderr}`)
  t.is(r.status, 0, r.stderr)
  return JSON.parse(r.stdout)
}

const OUT_OF_RANGE = ['RangeError', 'ERR_OUT_OF_RANGE']

test('a sparse array with a huge length as parameters is a RangeError, not an abort (SQLite)', (t) => {
  const out = inChild(t, `
    const db = new m.DatabaseCircuitBreaker('sparse-sqlite')
    const result = {
      params: await outcome(() => db.query('SELECT $1 AS a', sparse())),
      execute: await outcome(() => db.execute('SELECT $1 AS a', sparse())),
      oneParam: await outcome(() => db.query('SELECT $1 AS a', [sparse()])),
      nested: await outcome(() => db.query('SELECT $1 AS a', [[1, sparse()]])),
      tooManyParams: await outcome(() => db.query('SELECT 1', new Array(65536).fill(1))),
      tooManyElements: await outcome(() => db.query('SELECT $1 AS a, $2 AS b', [new Array(2 ** 19).fill(1), new Array(2 ** 19 + 1).fill(1)])),
    }
    await db.transaction(async (tx) => {
      result.tx = await outcome(() => tx.query('SELECT $1 AS a', sparse()))
      result.txOneParam = await outcome(() => tx.execute('SELECT $1 AS a', [sparse()]))
    })
    result.after = await db.query('SELECT $1 AS a', ['still works'])
    result.failures = db.getMetrics().failedCalls
    return result
  `)
  for (const key of ['params', 'execute', 'oneParam', 'nested', 'tooManyParams', 'tooManyElements', 'tx', 'txOneParam']) {
    t.deepEqual(out[key], OUT_OF_RANGE, key)
  }
  t.deepEqual(out.after, [{ a: 'still works' }])
  t.is(out.failures, 0, 'an argument error does not count against the database')
})

for (const [variable, driver] of [
  ['DATABASE_URL', 'PostgreSQL'],
  ['MYSQL_URL', 'MySQL'],
]) {
  const url = process.env[variable]
  if (!url) console.log(`skipped: ${variable} is not set (sparse parameters on ${driver})`)
  ;(url ? test : test.skip)(`a sparse array with a huge length as parameters is a RangeError (${driver})`, (t) => {
    const placeholder = driver === 'MySQL' ? '?' : '$1'
    const out = inChild(
      t,
      `
      const db = new m.DatabaseCircuitBreaker('sparse-remote', { url: process.env.URL_UNDER_TEST })
      const result = {
        params: await outcome(() => db.query('SELECT ${placeholder} AS a', sparse())),
        oneParam: await outcome(() => db.query('SELECT ${placeholder} AS a', [sparse()])),
      }
      await db.transaction(async (tx) => {
        result.tx = await outcome(() => tx.query('SELECT ${placeholder} AS a', sparse()))
      })
      await db.close()
      return result
    `,
      { URL_UNDER_TEST: url },
    )
    t.deepEqual(out, { params: OUT_OF_RANGE, oneParam: OUT_OF_RANGE, tx: OUT_OF_RANGE })
  })
}

test('a sparse array with a huge length as training data or features is a RangeError', (t) => {
  const out = inChild(t, `
    const nn = new m.NeuralCircuitBreaker('sparse-nn')
    return {
      data: await outcome(() => nn.train(sparse(), [1])),
      labels: await outcome(() => nn.train([[1]], sparse())),
      row: await outcome(() => nn.train([sparse()], [1])),
      labelRow: await outcome(() => nn.train([[1]], [sparse()])),
      features: await outcome(() => nn.predict(sparse())),
      // 10 million numbers at most in all: of two rows of 6 million, the second is refused by
      // its length (it has no element to read).
      cells: await outcome(() => nn.train([new Array(6e6).fill(0), Object.assign([], { length: 6e6 })], [1, 2])),
    }
  `)
  t.deepEqual(out, {
    data: OUT_OF_RANGE,
    labels: OUT_OF_RANGE,
    row: OUT_OF_RANGE,
    labelRow: OUT_OF_RANGE,
    features: OUT_OF_RANGE,
    cells: OUT_OF_RANGE,
  })
})

test('load refuses what is not a regular file: /dev/zero, a FIFO, a directory', (t) => {
  const fifo = tempPath('fifo')
  const made = spawnSync('mkfifo', [fifo])
  t.teardown(() => fs.rmSync(fifo, { force: true }))
  const out = inChild(
    t,
    `
    const fs = require('node:fs')
    const nn = new m.NeuralCircuitBreaker('load-special')
    return {
      zero: fs.existsSync('/dev/zero') ? await outcome(() => nn.load('/dev/zero')) : 'none',
      fifo: process.env.FIFO ? await outcome(() => nn.load(process.env.FIFO)) : 'none',
      directory: await outcome(() => nn.load(require('node:os').tmpdir())),
      missing: await outcome(() => nn.load(process.env.MISSING)),
    }
  `,
    { FIFO: made.status === 0 ? fifo : '', MISSING: tempPath('missing') },
  )
  const refused = ['Error', 'ERR_MODEL_FILE']
  if (out.zero !== 'none') t.deepEqual(out.zero, refused, '/dev/zero')
  if (out.fifo !== 'none') t.deepEqual(out.fifo, refused, 'a FIFO')
  else t.log('mkfifo is not available: the FIFO case is not run')
  t.deepEqual(out.directory, refused)
  t.deepEqual(out.missing, ['Error', 'ERR_MODEL_IO'])
})

test('load reads a large file that is not a model no further than its first bytes', (t) => {
  if (!fs.existsSync('/proc/self/io')) return t.pass('no /proc/self/io here to count the bytes read')
  const big = tempPath('big.bin')
  const headed = tempPath('headed.bin')
  t.teardown(() => {
    removeAll(big)
    removeAll(headed)
  })
  // 300 MB (sparse on disk): text, so its "header length" is absurd.
  fs.writeFileSync(big, 'this is not a model file at all')
  fs.truncateSync(big, 300 * 1024 * 1024)
  // A JSON header that is well-formed but lists a tensor of another model, then 300 MB.
  const header = Buffer.from(JSON.stringify({ weights: { dtype: 'F32', shape: [75 * 1024 * 1024], data_offsets: [0, 300 * 1024 * 1024] } }))
  const length = Buffer.alloc(8)
  length.writeBigUInt64LE(BigInt(header.length))
  fs.writeFileSync(headed, Buffer.concat([length, header]))
  fs.truncateSync(headed, 8 + header.length + 300 * 1024 * 1024)
  const out = inChild(
    t,
    `
    const fs = require('node:fs')
    const readBytes = () => Number(/rchar: (\\d+)/.exec(fs.readFileSync('/proc/self/io', 'utf8'))[1])
    const nn = new m.NeuralCircuitBreaker('load-big')
    const result = {}
    for (const file of [process.env.BIG, process.env.HEADED]) {
      const before = readBytes()
      const o = await outcome(() => nn.load(file))
      result[file === process.env.BIG ? 'big' : 'headed'] = { outcome: o, read: readBytes() - before }
    }
    return result
  `,
    { BIG: big, HEADED: headed },
  )
  for (const key of ['big', 'headed']) {
    t.deepEqual(out[key].outcome, ['Error', 'ERR_MODEL_FILE'], key)
    t.true(out[key].read < 1024 * 1024, `${key}: ${out[key].read} bytes read`)
  }
})

test('a throwing getter or Proxy in the arguments of a Promise-returning method rejects, never throws', async (t) => {
  const m = require('../resilience.js')
  const boom = () => {
    throw new Error('boom')
  }
  const getter = { get timeout() { return boom() } }
  const proxy = new Proxy({}, { ownKeys: boom, get: boom, has: boom, getOwnPropertyDescriptor: boom })
  const api = new m.ApiCircuitBreaker('hostile-api')
  const db = new m.DatabaseCircuitBreaker('hostile-db')
  const nn = new m.NeuralCircuitBreaker('hostile-nn')
  const e2b = new m.E2BSandboxCircuitBreaker({ apiKey: 'not-used' })
  t.teardown(() => db.close())
  const starts = [
    () => api.get('http://127.0.0.1:1/', getter),
    () => api.get('http://127.0.0.1:1/', proxy),
    () => api.request(proxy),
    () => api.get('http://127.0.0.1:1/', { headers: proxy }),
    () => api.get('http://127.0.0.1:1/', { query: proxy }),
    () => db.query('SELECT $1', [proxy]),
    () => db.query('SELECT $1', new Proxy([1], { get: boom })),
    () => nn.train([[1], [2]], [1, 2], proxy),
    () => nn.predict(new Proxy([1], { get: boom })),
    () => e2b.executeCode('sandbox', 'x', proxy),
    () => e2b.createSandbox('base', getter),
  ]
  for (const start of starts) {
    let promise
    t.notThrows(() => {
      promise = start()
    }, String(start))
    const err = await t.throwsAsync(promise, undefined, String(start))
    t.true(err.message === 'boom' || typeof err.code === 'string', `${start}: ${err.message}`)
  }
  t.is(api.getMetrics().totalCalls + db.getMetrics().totalCalls + nn.getMetrics().totalCalls, 0)
})
