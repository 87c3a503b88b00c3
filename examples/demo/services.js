'use strict'
// The demo's own services on 127.0.0.1, real HTTP servers:
// - a market-data API whose quotes fail (503, then dropped connections) during a window of the
//   run and then recover;
// - an order API that accepts orders idempotently by clientOrderId and rate-limits with
//   429 + Retry-After.

const http = require('node:http')

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`))
  })
}

function send(res, status, body, headers = {}) {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers })
  res.end(text)
}

function readJson(req) {
  return new Promise((resolve) => {
    let text = ''
    req.setEncoding('utf8')
    req.on('data', (chunk) => (text += chunk))
    req.on('end', () => {
      try {
        resolve(JSON.parse(text))
      } catch {
        resolve(undefined)
      }
    })
  })
}

/** Prices: a slow sine wave plus a little noise, per symbol. */
class PriceFeed {
  constructor(symbols, startedAt) {
    this.startedAt = startedAt
    this.symbols = new Map(symbols.map((s, i) => [s, { base: 100 + 50 * i, phase: i * 1.7 }]))
  }

  price(symbol, at = Date.now()) {
    const s = this.symbols.get(symbol)
    const t = (at - this.startedAt) / 1000
    return Math.round((s.base * (1 + 0.05 * Math.sin(t / 3 + s.phase)) + (Math.random() - 0.5) * 0.2) * 100) / 100
  }
}

/**
 * Market data: `GET /v1/quotes/{symbol}`. Between `outage.from` and `outage.to` (ms after start)
 * it answers 503 for the first half of the window and drops connections for the second.
 */
async function startMarketData({ symbols, startedAt, outage }) {
  const feed = new PriceFeed(symbols, startedAt)
  const stats = { served: 0, failed: 0 }
  const server = http.createServer((req, res) => {
    const match = /^\/v1\/quotes\/([A-Z]+)$/.exec(req.url)
    if (req.method !== 'GET' || !match) return send(res, 404, { error: 'not found' })
    if (!feed.symbols.has(match[1])) return send(res, 404, { error: `unknown symbol ${match[1]}` })
    const t = Date.now() - startedAt
    if (t >= outage.from && t < outage.to) {
      stats.failed++
      if (t < (outage.from + outage.to) / 2) return send(res, 503, { error: 'market data feed unavailable' })
      return req.socket.destroy()
    }
    stats.served++
    send(res, 200, { symbol: match[1], price: feed.price(match[1]), ts: new Date().toISOString() })
  })
  server.keepAliveTimeout = 5000
  const url = await listen(server)
  return { url, stats, feed, close: () => new Promise((r) => server.close(r)) }
}

/**
 * Orders: `POST /v1/orders` `{clientOrderId, symbol, side, quantity, price}` -> 201 with the
 * exchange's order (200 with the same order when that clientOrderId was seen before); at most
 * `perSecond` new orders a second, then 429 with `Retry-After: retryAfter`. `GET /v1/orders`
 * lists every accepted order.
 */
async function startOrders({ perSecond, retryAfter }) {
  const accepted = new Map()
  const stats = { accepted: 0, duplicates: 0, limited: 0 }
  let windowStart = Date.now()
  let inWindow = 0
  let blockedUntil = 0
  const server = http.createServer(async (req, res) => {
    if (req.method === 'GET' && req.url === '/v1/orders') return send(res, 200, [...accepted.values()])
    if (req.method !== 'POST' || req.url !== '/v1/orders') return send(res, 404, { error: 'not found' })
    const order = await readJson(req)
    if (!order || typeof order.clientOrderId !== 'string' || !['buy', 'sell'].includes(order.side)) {
      return send(res, 400, { error: 'invalid order' })
    }
    const known = accepted.get(order.clientOrderId)
    if (known) {
      stats.duplicates++
      return send(res, 200, known)
    }
    const now = Date.now()
    if (now - windowStart >= 1000) {
      windowStart = now
      inWindow = 0
    }
    if (now < blockedUntil || inWindow >= perSecond) {
      stats.limited++
      if (now >= blockedUntil) blockedUntil = now + retryAfter * 1000
      return send(res, 429, { error: 'rate limit exceeded' }, { 'retry-after': String(retryAfter) })
    }
    inWindow++
    stats.accepted++
    const placed = {
      orderId: `ex-${accepted.size + 1}`,
      clientOrderId: order.clientOrderId,
      symbol: order.symbol,
      side: order.side,
      quantity: order.quantity,
      price: order.price,
      status: 'accepted',
      acceptedAt: new Date(now).toISOString(),
    }
    accepted.set(order.clientOrderId, placed)
    send(res, 201, placed)
  })
  const url = await listen(server)
  return { url, stats, accepted, close: () => new Promise((r) => server.close(r)) }
}

module.exports = { startMarketData, startOrders, PriceFeed }
