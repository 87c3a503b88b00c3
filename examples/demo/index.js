'use strict'
// `npm run demo [-- --duration 30]`: a trading loop behind circuit breakers, against services
// the demo starts on 127.0.0.1 (see services.js), with a live view of every breaker and a
// summary that proves no order was lost or written twice.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const crypto = require('node:crypto')

const { TradingSystemCircuitBreakers } = require('../../resilience.js')
const { startMarketData, startOrders, PriceFeed } = require('./services.js')
const { View } = require('./view.js')

const SYMBOLS = ['AAPL', 'MSFT', 'NVDA']
const TICK_MS = 250
const LOOKBACK = 3 // quotes per prediction
const THRESHOLD_PCT = 0.05 // predicted move that makes the loop trade
const QUANTITY = 10

function parseArgs(argv) {
  const args = { duration: 30 }
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=')
    const value = inline ?? argv[i + 1]
    if (flag === '--duration') {
      args.duration = Number(value)
      if (inline === undefined) i++
      if (!(args.duration > 0 && args.duration <= 3600)) throw new RangeError('--duration must be 1..3600 seconds')
    } else if (flag === '--help' || flag === '-h') {
      console.log('usage: npm run demo [-- --duration SECONDS]')
      process.exit(0)
    } else {
      throw new TypeError(`unknown argument ${argv[i]}`)
    }
  }
  return args
}

/** Training data from the feed's own past: the last LOOKBACK prices (as % of the latest) -> the
 * next move in %. */
function trainingSet(feed, startedAt) {
  const data = []
  const labels = []
  for (const symbol of SYMBOLS) {
    for (let k = 0; k < 400; k++) {
      const t = startedAt - 120_000 + k * TICK_MS
      const prices = Array.from({ length: LOOKBACK + 1 }, (_, j) => feed.price(symbol, t + j * TICK_MS))
      const last = prices[LOOKBACK - 1]
      data.push(prices.slice(0, LOOKBACK).map((p) => (p / last - 1) * 100))
      labels.push((prices[LOOKBACK] / last - 1) * 100)
    }
  }
  return { data, labels }
}

async function main() {
  const args = parseArgs(process.argv.slice(2))
  const durationMs = args.duration * 1000
  const startedAt = Date.now()
  const runId = crypto.randomBytes(3).toString('hex')
  const view = new View()
  const log = (line) => (view.tty ? null : console.log(line))

  // --- services and breakers ---------------------------------------------------------------
  const market = await startMarketData({
    symbols: SYMBOLS,
    startedAt,
    outage: { from: durationMs * 0.2, to: durationMs * 0.45 },
  })
  const exchange = await startOrders({ perSecond: 5, retryAfter: 2 })
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'neural-trader-demo-'))
  const dbFile = path.join(dir, 'orders.db')

  const system = new TradingSystemCircuitBreakers({
    marketDataUrl: market.url,
    orderExecutionUrl: exchange.url,
    databaseUrl: `sqlite://${dbFile}`,
    marketData: { failureThreshold: 3, successThreshold: 2, resetTimeout: 1500, timeout: 1000, proxyFromEnv: false },
    orderExecution: { failureThreshold: 2, successThreshold: 1, resetTimeout: 500, timeout: 2000, proxyFromEnv: false },
    neural: { failureThreshold: 3, predictTimeout: 1000, trainTimeout: 60000 },
    database: { failureThreshold: 3, timeout: 5000 },
  })
  const db = system.database
  await db.execute(
    `CREATE TABLE orders (client_order_id TEXT PRIMARY KEY, order_id TEXT NOT NULL, symbol TEXT NOT NULL,
       side TEXT NOT NULL, quantity INTEGER NOT NULL, price REAL NOT NULL, accepted_at TEXT NOT NULL)`,
  )
  await db.execute('CREATE TABLE positions (symbol TEXT PRIMARY KEY, quantity INTEGER NOT NULL)')

  // --- the predictor, trained at start-up --------------------------------------------------
  log('training the predictor...')
  const { data, labels } = trainingSet(new PriceFeed(SYMBOLS, startedAt), startedAt)
  const trained = await system.neuralPredictor.train(data, labels, { epochs: 150, learningRate: 0.01, hiddenSizes: [16, 16] })

  // --- E2B: real sandboxes only when a key is configured ------------------------------------
  const e2b = system.e2bSandbox
  let sandboxId = null
  let e2bNote = 'not configured (set E2B_API_KEY)'
  if (e2b.configured) {
    try {
      sandboxId = await e2b.createSandbox('code-interpreter-v1', { timeout: Math.ceil(args.duration + 60) })
      e2bNote = `sandbox ${sandboxId}`
    } catch (error) {
      e2bNote = `sandbox not created: ${error.code}`
    }
  }

  // --- the loop ----------------------------------------------------------------------------
  const history = new Map(SYMBOLS.map((s) => [s, []]))
  const tally = {
    quotes: 0,
    quotesRefused: 0,
    quotesFailed: 0,
    predictions: 0,
    ordersSent: 0,
    ordersAccepted: 0,
    ordersRefusedOpen: 0,
    ordersRateLimited: 0,
    ordersUncertain: 0,
    recordRetries: 0,
  }
  const acknowledged = new Map() // clientOrderId -> order as the exchange accepted it
  const uncertain = new Map() // clientOrderId -> order whose fate is unknown (re-sent as is)
  const unrecorded = new Map() // accepted but not yet in the database
  let seq = 0
  let e2bResult = ''

  async function record(placed) {
    const signed = placed.side === 'buy' ? placed.quantity : -placed.quantity
    try {
      await db.transaction(async (tx) => {
        await tx.execute(
          'INSERT INTO orders (client_order_id, order_id, symbol, side, quantity, price, accepted_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
          [placed.clientOrderId, placed.orderId, placed.symbol, placed.side, placed.quantity, placed.price, placed.acceptedAt],
        )
        await tx.execute(
          'INSERT INTO positions (symbol, quantity) VALUES ($1, $2) ON CONFLICT(symbol) DO UPDATE SET quantity = quantity + excluded.quantity',
          [placed.symbol, signed],
        )
      })
      unrecorded.delete(placed.clientOrderId)
    } catch (error) {
      // Already recorded (a retry after an unclear failure): the primary key says so.
      if (error.code === 'ERR_DB_CONSTRAINT') unrecorded.delete(placed.clientOrderId)
      else {
        unrecorded.set(placed.clientOrderId, placed)
        tally.recordRetries++
      }
    }
  }

  async function send(order) {
    tally.ordersSent++
    try {
      const placed = await system.orderExecutionApi.post('/v1/orders', order)
      uncertain.delete(order.clientOrderId)
      if (!acknowledged.has(placed.clientOrderId)) {
        acknowledged.set(placed.clientOrderId, placed)
        tally.ordersAccepted++
        await record(placed)
      }
    } catch (error) {
      if (error.code === 'ERR_CIRCUIT_OPEN') {
        // Never sent. A re-sent order keeps waiting; a new one is dropped (the next tick decides anew).
        if (!uncertain.has(order.clientOrderId)) tally.ordersRefusedOpen++
      } else if (error.code === 'ERR_HTTP_STATUS' && error.status < 500 && error.status !== 408) {
        // Refused by the exchange (429: rate limit): not placed.
        uncertain.delete(order.clientOrderId)
        if (error.status === 429) tally.ordersRateLimited++
      } else {
        // A timeout or a broken connection: the exchange may or may not have the order.
        // Re-send the same clientOrderId until the exchange says (it is idempotent).
        if (!uncertain.has(order.clientOrderId)) tally.ordersUncertain++
        uncertain.set(order.clientOrderId, order)
      }
    }
  }

  async function tick() {
    for (const order of [...uncertain.values()]) await send(order)
    for (const placed of [...unrecorded.values()]) await record(placed)
    await Promise.all(
      SYMBOLS.map(async (symbol) => {
        let quote
        try {
          quote = await system.marketDataApi.get(`/v1/quotes/${symbol}`)
          tally.quotes++
        } catch (error) {
          if (error.code === 'ERR_CIRCUIT_OPEN') tally.quotesRefused++
          else tally.quotesFailed++
          return
        }
        const prices = history.get(symbol)
        prices.push(quote.price)
        if (prices.length > LOOKBACK) prices.shift()
        if (prices.length < LOOKBACK) return
        const last = prices[LOOKBACK - 1]
        let move
        try {
          ;[move] = await system.neuralPredictor.predict(prices.map((p) => (p / last - 1) * 100))
          tally.predictions++
        } catch {
          return
        }
        if (Math.abs(move) < THRESHOLD_PCT) return
        await send({
          clientOrderId: `demo-${runId}-${++seq}`,
          symbol,
          side: move > 0 ? 'buy' : 'sell',
          quantity: QUANTITY,
          price: quote.price,
        })
      }),
    )
  }

  async function riskInSandbox() {
    if (!sandboxId) return
    const rows = await db.query('SELECT symbol, quantity FROM positions ORDER BY symbol')
    const code = `positions = ${JSON.stringify(Object.fromEntries(rows.map((r) => [r.symbol, r.quantity])))}\nprint(sum(abs(v) for v in positions.values()))`
    try {
      const run = await e2b.executeCode(sandboxId, code, { timeout: 10000 })
      e2bResult = run.error ? `error ${run.error.name}` : `gross exposure ${run.stdout.join('').trim()}`
    } catch (error) {
      e2bResult = `${error.code}`
    }
  }

  function frame() {
    const metrics = system.getAllMetrics()
    const rows = system.healthStatus().map(([name, state]) => ({
      name,
      state: name === 'e2b_sandbox' && !e2b.configured ? '-' : state,
      metrics: name === 'e2b_sandbox' && !e2b.configured ? null : metrics[name],
      note: e2bNote,
    }))
    view.render(Date.now() - startedAt, durationMs, rows, [
      `quotes ${tally.quotes} (refused while open ${tally.quotesRefused}, failed ${tally.quotesFailed})   predictions ${tally.predictions}   predictor loss ${trained.loss.toFixed(5)}`,
      `orders accepted ${tally.ordersAccepted}, refused while open ${tally.ordersRefusedOpen}, rate-limited ${tally.ordersRateLimited}, uncertain ${tally.ordersUncertain} (re-sending ${uncertain.size})`,
      `E2B: ${e2bNote}${e2bResult ? ` - ${e2bResult}` : ''}`,
    ])
  }

  const refresh = setInterval(frame, view.tty ? 200 : 1000)
  let lastRisk = 0
  while (Date.now() - startedAt < durationMs) {
    const began = Date.now()
    await tick()
    if (Date.now() - lastRisk > 5000) {
      lastRisk = Date.now()
      riskInSandbox()
    }
    await new Promise((r) => setTimeout(r, Math.max(0, TICK_MS - (Date.now() - began))))
  }

  // --- drain: settle every order whose fate is unknown, record every accepted order ------------
  const drainUntil = Date.now() + 15000
  while ((uncertain.size > 0 || unrecorded.size > 0) && Date.now() < drainUntil) {
    for (const order of [...uncertain.values()]) await send(order)
    for (const placed of [...unrecorded.values()]) await record(placed)
    if (uncertain.size > 0 || unrecorded.size > 0) await new Promise((r) => setTimeout(r, 250))
  }
  clearInterval(refresh)
  frame()
  if (sandboxId) await e2b.stopSandbox(sandboxId).catch(() => false)

  // --- the proof -----------------------------------------------------------------------------
  const onExchange = new Map(
    (await (await fetch(`${exchange.url}/v1/orders`)).json()).map((o) => [o.clientOrderId, o]),
  )
  const rows = await db.query('SELECT client_order_id, order_id FROM orders')
  const [{ n: distinct }] = await db.query('SELECT COUNT(DISTINCT client_order_id) AS n FROM orders')
  const inDb = new Map(rows.map((r) => [r.client_order_id, r.order_id]))
  const missing = [...onExchange.keys()].filter((id) => !inDb.has(id))
  const unknown = [...inDb.keys()].filter((id) => !onExchange.has(id))
  const mismatched = [...inDb].filter(([id, orderId]) => onExchange.get(id)?.orderId !== orderId)
  const positions = await db.query('SELECT COALESCE(SUM(quantity), 0) AS q FROM positions')
  const expectedNet = [...onExchange.values()].reduce((s, o) => s + (o.side === 'buy' ? o.quantity : -o.quantity), 0)
  const noLoss = missing.length === 0 && uncertain.size === 0
  const noDuplicates = rows.length === distinct && unknown.length === 0 && mismatched.length === 0
  const positionsAgree = Number(positions[0].q) === expectedNet

  const m = system.getAllMetrics()
  console.log('')
  console.log('Summary')
  console.log(`  run                       ${args.duration} s, ${tally.ordersSent} order requests, breakers: ${system.healthStatus().map(([n, s]) => `${n}=${s}`).join(', ')}`)
  console.log(`  orders placed             ${onExchange.size} (accepted by the exchange)`)
  console.log(`  refused while open        ${tally.ordersRefusedOpen} orders (order API circuit open), ${tally.quotesRefused} quotes (market data circuit open)`)
  console.log(`  rate-limited (429)        ${tally.ordersRateLimited} orders; order API opened ${m.order_execution_api.timesOpened} times`)
  console.log(`  market data outage        ${market.stats.failed} failed requests reached the server; circuit opened ${m.market_data_api.timesOpened} times, ${m.market_data_api.rejectedCalls} calls answered at once`)
  console.log(`  predictor                 trained to loss ${trained.loss.toFixed(5)} in ${trained.epochs} epochs; ${tally.predictions} predictions`)
  console.log(`  database rows             ${rows.length} orders in SQLite (${dbFile}, removed at exit)`)
  console.log(`  no order lost             ${noLoss ? 'yes' : 'NO'} (every order the exchange accepted is in the database${missing.length ? `; missing ${missing.join(', ')}` : ''})`)
  console.log(`  no order written twice    ${noDuplicates ? 'yes' : 'NO'} (${rows.length} rows, ${distinct} distinct client order ids, ${unknown.length} unknown to the exchange)`)
  console.log(`  positions agree           ${positionsAgree ? 'yes' : 'NO'} (net ${positions[0].q} in the database, ${expectedNet} from the exchange's orders)`)
  console.log(`  E2B                       ${e2bNote}`)

  await db.close()
  await Promise.all([market.close(), exchange.close()])
  fs.rmSync(dir, { recursive: true, force: true })
  process.exitCode = noLoss && noDuplicates && positionsAgree ? 0 : 1
}

main().catch((error) => {
  console.error(error)
  process.exitCode = 1
})
