'use strict'
// E2BSandboxCircuitBreaker against the protocol-faithful local E2B server: the create / execute /
// list / timeout / stop round trip, the output stream read into { stdout, stderr, results, error,
// executionCount }, exceptions in user code as results, and where the API key may appear. What
// trips the breaker is in e2b-breaker.spec.js, argument errors in e2b-validation.spec.js.
const test = require('ava')
const { E2BSandboxCircuitBreaker, CircuitBreaker } = require('../resilience.js')
const { KEY, e2bServer, client, errorText } = require('./_e2b.js')
const { settle, uniqueName } = require('./_helpers.js')

test('create, execute, list, extend and stop a sandbox', async (t) => {
  const s = await e2bServer(t)
  const e2b = client(s)
  t.true(e2b.configured)
  const id = await e2b.createSandbox('base', {
    timeout: 120,
    metadata: { strategy: 'momentum' },
    envVars: { GREETING: 'hi' },
  })
  t.is(typeof id, 'string')
  const [created] = s.sandboxes
  t.is(created.sandboxID, id)
  t.deepEqual(created.envVars, { GREETING: 'hi' })
  t.deepEqual(s.requests[0].json, {
    templateID: 'base',
    timeout: 120,
    metadata: { strategy: 'momentum' },
    envVars: { GREETING: 'hi' },
    secure: true,
  })

  t.deepEqual(await e2b.executeCode(id, "print('hello')"), {
    stdout: ['hello\n'],
    stderr: [],
    results: [],
    error: null,
    executionCount: 1,
  })

  const listed = await e2b.listSandboxes()
  const mine = listed.find((sb) => sb.sandboxId === id)
  t.like(mine, { templateId: 'base', state: 'running', metadata: { strategy: 'momentum' }, memoryMB: 512, cpuCount: 2 })
  t.is(typeof mine.endAt, 'string')

  const endBefore = Date.parse(s.sandboxes[0].endAt)
  t.is(await e2b.setSandboxTimeout(id, 3600), undefined)
  t.true(Date.parse(s.sandboxes[0].endAt) > endBefore + 3000 * 1000)
  t.deepEqual(s.requests.at(-1).json, { timeout: 3600 })

  t.true(await e2b.stopSandbox(id))
  t.deepEqual(s.sandboxes, [])
  t.false(await e2b.stopSandbox(id), 'already gone')

  t.like(e2b.getMetrics(), { totalCalls: 6, successfulCalls: 5, failedCalls: 0, ignoredCalls: 1 })
  t.is(e2b.state, 'CLOSED')
  t.is(e2b.getState(), 'CLOSED')
})

test('createSandbox defaults to the base template for 300 s', async (t) => {
  const s = await e2bServer(t)
  const e2b = client(s)
  const id = await e2b.createSandbox()
  t.deepEqual(s.requests[0].json, { templateID: 'base', timeout: 300, secure: true })
  t.is(s.requests[0].headers['x-api-key'], KEY)
  t.true(await e2b.stopSandbox(id))
})

test('the output stream is read in order: stdout, stderr, results, execution count', async (t) => {
  const s = await e2bServer(t, { keepaliveMs: 30 })
  const e2b = client(s)
  const id = await e2b.createSandbox('base', { envVars: { GREETING: 'hi' } })
  const code = [
    'import os, sys',
    "x = {'a': 1, 'b': [1, 2]}",
    "print(os.environ['GREETING'], os.environ['RUN'])",
    "print('careful', file=sys.stderr)",
    'sleep(0.1)', // keepalive lines while it sleeps
    "print('é€', 2)",
    'display(JSON(x))',
    "'done'",
  ].join('\n')
  const run = await e2b.executeCode(id, code, { language: 'python', envVars: { RUN: 'r1' } })
  t.deepEqual(run.stdout, ['hi r1\n', 'é€ 2\n'])
  t.deepEqual(run.stderr, ['careful\n'])
  t.is(run.results.length, 2)
  t.like(run.results[0], { isMainResult: false, json: { a: 1, b: [1, 2] } })
  t.deepEqual(run.results[1], { isMainResult: true, text: 'done' })
  t.is(run.error, null)
  t.is(run.executionCount, 1)
  t.deepEqual(s.requests.at(-1).json, { code, language: 'python', env_vars: { RUN: 'r1' } })

  const second = await e2b.executeCode(id, 'x')
  t.is(second.executionCount, 2, 'state persists in the default context')
  t.is(second.results[0].text, "{'a': 1, 'b': [1, 2]}")
})

test('an exception in user code is a result, not a rejection, and does not trip', async (t) => {
  const s = await e2bServer(t)
  const e2b = client(s, { failureThreshold: 1 })
  const id = await e2b.createSandbox()
  for (const [code, name] of [
    ["print('before')\n1 / 0", 'ZeroDivisionError'],
    ['undefined_name', 'NameError'],
    ["raise ValueError('bad input')", 'ValueError'],
    ['def f(:', 'SyntaxError'],
  ]) {
    const run = await e2b.executeCode(id, code)
    t.is(run.error.name, name, code)
    t.is(typeof run.error.value, 'string')
    t.true(run.error.traceback.includes(name), run.error.traceback)
  }
  const run = await e2b.executeCode(id, "print('before')\n1 / 0")
  t.deepEqual(run.stdout, ['before\n'])
  t.is(run.error.value, 'division by zero')
  t.is(e2b.state, 'CLOSED')
  t.like(e2b.getMetrics(), { successfulCalls: 6, failedCalls: 0 })
})

test('a sandbox created elsewhere is looked up once for its access token', async (t) => {
  const s = await e2bServer(t)
  const { sandboxID } = s.createSandbox({ templateID: 'base', timeout: 60 })
  const e2b = client(s)
  t.deepEqual((await e2b.executeCode(sandboxID, 'print(1)')).stdout, ['1\n'])
  t.deepEqual((await e2b.executeCode(sandboxID, 'print(2)')).stdout, ['2\n'])
  t.deepEqual(
    s.requests.map((r) => r.route),
    ['getSandbox', 'execute', 'execute'],
  )
})

test('the API key is sent only in X-API-Key to the control plane, never to a sandbox', async (t) => {
  const s = await e2bServer(t)
  const e2b = client(s, { failureThreshold: 10 })
  const id = await e2b.createSandbox('base', { metadata: { owner: 'desk-1' } })
  await e2b.executeCode(id, 'print(1)')
  await e2b.listSandboxes()
  await e2b.setSandboxTimeout(id, 60)
  const errors = []
  s.setFault({ route: 'execute', status: 500, times: 1 })
  errors.push((await settle(e2b.executeCode(id, '1'))).reason)
  s.setFault({ route: 'execute', kind: 'drop', afterLines: 1, times: 1 })
  errors.push((await settle(e2b.executeCode(id, 'print(1)\nprint(2)'))).reason)
  s.setFault({ route: 'createSandbox', status: 429, retryAfter: 1, times: 1 })
  errors.push((await settle(e2b.createSandbox())).reason)
  errors.push((await settle(e2b.executeCode('nosuchsandbox', '1'))).reason)
  const wrong = client(s, { apiUrl: `${s.url}/`, apiKey: 'e2b_00ff00ff' })
  errors.push((await settle(wrong.listSandboxes())).reason)
  t.true(await e2b.stopSandbox(id))

  const interpreter = s.requests.filter((r) => r.route === 'execute')
  t.true(interpreter.length >= 3)
  for (const r of interpreter) {
    t.is(r.headers['x-api-key'], undefined, 'no API key to the sandbox host')
    t.is(r.headers['e2b-sandbox-id'], id)
    t.is(r.headers['e2b-sandbox-port'], '49999')
    t.is(typeof r.headers['x-access-token'], 'string')
  }
  for (const r of s.requests) {
    const others = Object.entries(r.headers).filter(([name]) => name !== 'x-api-key')
    t.false(JSON.stringify(others).includes(KEY), `${r.method} ${r.path}`)
    t.false(r.body.includes(KEY) || r.path.includes(KEY))
    if (r.route !== 'execute') t.true(r.headers['x-api-key'] === KEY || r.headers['x-api-key'] === 'e2b_00ff00ff')
  }
  for (const err of errors) {
    t.truthy(err, 'every call above failed')
    t.false(errorText(err).includes(KEY), errorText(err))
    t.false(errorText(err).includes('e2b_00ff00ff'))
  }
  t.is(errors[4].status, 401)
  t.false(JSON.stringify(e2b.getMetrics()).includes(KEY))
  t.false(JSON.stringify(e2b.breaker.options).includes(KEY))
})

test('the API key, URLs and domain default to process.env as in the E2B SDKs', async (t) => {
  const s = await e2bServer(t)
  const saved = { ...process.env }
  let e2b
  try {
    process.env.E2B_API_KEY = KEY
    process.env.E2B_API_URL = s.url
    process.env.E2B_SANDBOX_URL = s.url
    e2b = new E2BSandboxCircuitBreaker({ name: uniqueName('e2b-env'), proxyFromEnv: false })
    delete process.env.E2B_API_KEY
    t.false(new E2BSandboxCircuitBreaker({ name: uniqueName('e2b-env') }).configured)
  } finally {
    for (const k of ['E2B_API_KEY', 'E2B_API_URL', 'E2B_SANDBOX_URL']) {
      if (saved[k] === undefined) delete process.env[k]
      else process.env[k] = saved[k]
    }
  }
  t.true(e2b.configured)
  const id = await e2b.createSandbox()
  t.deepEqual((await e2b.executeCode(id, 'print(7)')).stdout, ['7\n'])
})

test('without an API key every call rejects with ERR_E2B_NO_API_KEY before sending', async (t) => {
  const s = await e2bServer(t)
  const e2b = client(s, { apiKey: null })
  t.false(e2b.configured)
  t.is(e2b.name.startsWith('e2b'), true)
  for (const call of [
    () => e2b.createSandbox(),
    () => e2b.executeCode('abc', '1'),
    () => e2b.stopSandbox('abc'),
    () => e2b.setSandboxTimeout('abc', 10),
    () => e2b.listSandboxes(),
  ]) {
    const err = await t.throwsAsync(call())
    t.is(err.code, 'ERR_E2B_NO_API_KEY')
    t.true(err instanceof Error)
    t.regex(err.message, /E2B_API_KEY/)
  }
  t.is(client(s, { apiKey: '' }).configured, false)
  t.deepEqual(s.requests, [])
  t.is(e2b.getMetrics().totalCalls, 0)
})

test('breaker getter, defaults of the original design and a custom name', (t) => {
  const e2b = new E2BSandboxCircuitBreaker({ apiKey: KEY })
  t.is(e2b.name, 'e2b_sandbox')
  t.true(e2b.breaker instanceof CircuitBreaker)
  t.is(e2b.breaker.name, 'e2b_sandbox')
  t.like(e2b.breaker.options, { failureThreshold: 3, successThreshold: 2, timeout: 60000, resetTimeout: 120000 })
  const named = new E2BSandboxCircuitBreaker({ apiKey: KEY, name: 'sandboxes', timeout: false, failureThreshold: 7 })
  t.like(named.breaker.options, { failureThreshold: 7, timeout: false })
  t.like(named.getMetrics(), { totalCalls: 0, timesOpened: 0 })
})
