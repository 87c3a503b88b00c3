'use strict'
const test = require('ava')
const http = require('node:http')
const { spawnSync } = require('node:child_process')
const path = require('node:path')
const {
  TradingSystemCircuitBreakers,
  ApiCircuitBreaker,
  DatabaseCircuitBreaker,
  NeuralCircuitBreaker,
  E2BSandboxCircuitBreaker,
  CircuitBreakerRegistry,
} = require('../resilience.js')

// A real quote server: /v1/quotes/FAIL answers 500, other symbols a quote.
async function quoteServer() {
  const server = http.createServer((req, res) => {
    const symbol = req.url.split('/').pop()
    const status = symbol === 'FAIL' ? 500 : 200
    const body = JSON.stringify(status === 200 ? { symbol, price: 101.5 } : { error: 'feed down' })
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(body)
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  let requests = 0
  server.on('request', () => requests++)
  return { url: `http://127.0.0.1:${server.address().port}`, requests: () => requests, close: () => new Promise((r) => server.close(r)) }
}

test('the design end-to-end scenario: 5 failing quote requests open market_data_api', async (t) => {
  const server = await quoteServer()
  t.teardown(server.close)
  const system = new TradingSystemCircuitBreakers({
    marketDataUrl: server.url,
    orderExecutionUrl: server.url,
    marketData: { proxyFromEnv: false },
    e2b: { apiKey: '' },
  })
  t.is((await system.marketDataApi.get('/v1/quotes/AAPL')).price, 101.5)
  for (let i = 0; i < 5; i++) {
    await t.throwsAsync(system.marketDataApi.get('/v1/quotes/FAIL'), { code: 'ERR_HTTP_STATUS' })
  }
  const health = system.healthStatus()
  t.deepEqual(
    health.map(([name]) => name),
    ['market_data_api', 'order_execution_api', 'e2b_sandbox', 'neural_predictor', 'database'],
  )
  t.true(health.find(([name]) => name === 'market_data_api')[1].startsWith('OPEN'))
  const before = server.requests()
  await t.throwsAsync(system.marketDataApi.get('/v1/quotes/AAPL'), { code: 'ERR_CIRCUIT_OPEN' })
  t.is(server.requests(), before, 'an open circuit does not call the service')
  const all = system.getAllMetrics()
  t.is(all.market_data_api.failedCalls, 5)
  t.is(all.market_data_api.rejectedCalls, 1)
  t.deepEqual(Object.keys(all).sort(), health.map(([n]) => n).sort())
})

test('every part is an instance of its class, backed by one registry', async (t) => {
  const system = new TradingSystemCircuitBreakers({ e2b: { apiKey: '' } })
  t.true(system.marketDataApi instanceof ApiCircuitBreaker)
  t.true(system.orderExecutionApi instanceof ApiCircuitBreaker)
  t.true(system.database instanceof DatabaseCircuitBreaker)
  t.true(system.neuralPredictor instanceof NeuralCircuitBreaker)
  t.true(system.e2bSandbox instanceof E2BSandboxCircuitBreaker)
  t.false(system.e2bSandbox.configured)
  t.true(system.registry instanceof CircuitBreakerRegistry)
  t.deepEqual(system.registry.listNames(), ['database', 'e2b_sandbox', 'market_data_api', 'neural_predictor', 'order_execution_api'])
  const rows = await system.database.query('SELECT 1 AS one')
  t.deepEqual(rows, [{ one: 1 }])
  t.is(system.registry.get('database').getMetrics().successfulCalls, 1)
  const report = await system.neuralPredictor.train([[0], [1], [2], [3]], [1, 3, 5, 7], { hiddenSizes: [], epochs: 300, learningRate: 0.05 })
  t.true(report.loss < 0.01)
})

test('bad options are typed errors', (t) => {
  t.throws(() => new TradingSystemCircuitBreakers({ bogus: 1 }), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_VALUE' })
  t.throws(() => new TradingSystemCircuitBreakers(5), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => new TradingSystemCircuitBreakers({ marketDataUrl: 7 }), { instanceOf: TypeError })
  t.throws(() => new TradingSystemCircuitBreakers({ marketData: { failureThreshold: 0 } }), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' })
  t.throws(() => new TradingSystemCircuitBreakers({ databaseUrl: 'redis://u:hunter2@localhost' }), { instanceOf: TypeError, message: (m) => !m.includes('hunter2') })
})

test('npm run demo: a short run ends with every order accounted for', (t) => {
  const r = spawnSync(process.execPath, [path.join(__dirname, '..', 'examples', 'demo', 'index.js'), '--duration', '8'], {
    encoding: 'utf8',
    timeout: 90_000,
    env: { ...process.env, E2B_API_KEY: '' },
  })
  t.is(r.status, 0, r.stdout + r.stderr)
  t.regex(r.stdout, /no order lost\s+yes/)
  t.regex(r.stdout, /no order written twice\s+yes/)
  t.regex(r.stdout, /positions agree\s+yes/)
  t.regex(r.stdout, /E2B\s+not configured/)
  t.regex(r.stdout, /refused while open\s+\d+ orders/)
})
