'use strict'
// A real HTTP server on 127.0.0.1:0 for the ApiCircuitBreaker specs (not a spec itself).
//
//   /json                        200 {"symbol":"AAPL","price":101.5}
//   /text                        200 text/plain "hello"
//   /binary                      200 application/octet-stream [0, 1, 2, 255]
//   .../echo                     200 JSON of the request: method, url, headers, body (text), bodyHex
//   /empty                       204
//   /status/<code>?retry_after=  <code> with {"error":"status <code>"} (and Retry-After)
//   /delay/<ms>                  200 JSON after <ms>
//   /hang                        never answers
//   /close                       destroys the socket without answering
//   /truncate                    announces 100 bytes, sends 10, destroys the socket
//   /redirect-loop               302 to itself
//   /flaky                       503 while server.failing, else 200 {"ok":true}
//   /to/<port>/<rest>            307 to http://127.0.0.1:<port>/<rest> (query kept)
//
// `openConnections()` counts the sockets the client has not closed yet (server.getConnections).

const http = require('node:http')

/** `options.keepAliveTimeout`: how long the server keeps an idle connection (Node: 5000 ms). */
function startServer(options = {}) {
  const sockets = new Set()
  const state = { requests: 0, connections: 0, failing: false, seen: [] }
  const server = http.createServer((req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      state.requests++
      const body = Buffer.concat(chunks)
      const url = new URL(req.url, 'http://127.0.0.1')
      state.seen.push({ method: req.method, url: req.url, headers: req.headers, body })
      route(req, res, url, body)
    })
  })
  if (options.keepAliveTimeout !== undefined) server.keepAliveTimeout = options.keepAliveTimeout
  server.on('connection', (socket) => {
    state.connections++
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })

  function json(res, status, value, headers = {}) {
    res.writeHead(status, { 'content-type': 'application/json', ...headers })
    res.end(JSON.stringify(value))
  }

  function route(req, res, url, body) {
    const path = url.pathname
    if (path.startsWith('/to/')) {
      const [port, ...rest] = path.slice('/to/'.length).split('/')
      res.writeHead(307, { location: `http://127.0.0.1:${port}/${rest.join('/')}${url.search}` })
      return res.end()
    }
    if (path === '/json') return json(res, 200, { symbol: 'AAPL', price: 101.5 })
    if (path === '/text') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' })
      return res.end('hello')
    }
    if (path === '/binary') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      return res.end(Buffer.from([0, 1, 2, 255]))
    }
    if (path.endsWith('/echo')) {
      return json(res, 200, {
        method: req.method,
        url: req.url,
        headers: req.headers,
        body: body.toString('utf8'),
        bodyHex: body.toString('hex'),
      })
    }
    if (path === '/empty') {
      res.writeHead(204)
      return res.end()
    }
    if (path.startsWith('/status/')) {
      const code = Number(path.slice('/status/'.length))
      const retryAfter = url.searchParams.get('retry_after')
      return json(res, code, { error: `status ${code}` }, retryAfter === null ? {} : { 'retry-after': retryAfter })
    }
    if (path.startsWith('/delay/')) {
      const ms = Number(path.slice('/delay/'.length))
      const timer = setTimeout(() => json(res, 200, { delayed: ms }), ms)
      res.on('close', () => clearTimeout(timer))
      return undefined
    }
    if (path.startsWith('/big/')) {
      // N bytes of JSON text ('"xxx…"'), with a Content-Length, or chunked in 1 KiB pieces
      // when ?chunked=1.
      const n = Number(path.slice('/big/'.length))
      const text = Buffer.from(`"${'x'.repeat(Math.max(0, n - 2))}"`)
      if (url.searchParams.get('chunked') !== '1') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(text.length) })
        return res.end(text)
      }
      res.writeHead(200, { 'content-type': 'application/json' })
      for (let at = 0; at < text.length; at += 1024) res.write(text.subarray(at, at + 1024))
      return res.end()
    }
    if (path === '/hang') return undefined
    if (path === '/close') return req.socket.destroy()
    if (path === '/truncate') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' })
      res.write('{"partial"')
      return setTimeout(() => req.socket.destroy(), 20)
    }
    if (path === '/redirect-loop') {
      res.writeHead(302, { location: '/redirect-loop' })
      return res.end()
    }
    if (path === '/flaky') return state.failing ? json(res, 503, { error: 'down' }) : json(res, 200, { ok: true })
    return json(res, 404, { error: 'no such path' })
  }

  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      resolve({
        port,
        state,
        url: (path = '/') => `http://127.0.0.1:${port}${path}`,
        openConnections: () => new Promise((done, fail) => server.getConnections((e, n) => (e ? fail(e) : done(n)))),
        close: () =>
          new Promise((done) => {
            for (const socket of sockets) socket.destroy()
            server.close(() => done())
          }),
      })
    })
  })
}

/** A port on 127.0.0.1 where nothing listens. */
function closedPort() {
  return new Promise((resolve) => {
    const probe = http.createServer()
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address()
      probe.close(() => resolve(port))
    })
  })
}

module.exports = { startServer, closedPort }
