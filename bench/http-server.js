'use strict'
// The loopback server of bench/http.js, in a process of its own so that it does not share an
// event loop (or a core's worth of time slices) with the clients being measured.
//
// GET /quote answers a small JSON document (keep-alive, content-length). Over IPC it reports its
// port once listening, and answers 'cpu' with its process.cpuUsage() so that the benchmark can
// tell how much of the machine the server took.

const http = require('node:http')

const body = Buffer.from(
  JSON.stringify({
    symbol: 'AAPL',
    bid: 189.41,
    ask: 189.43,
    last: 189.42,
    volume: 51234567,
    exchange: 'NASDAQ',
    timestamp: '2026-11-29T05:30:00.000Z',
    tags: ['equity', 'us', 'tech'],
  }),
)

const server = http.createServer((req, res) => {
  req.resume()
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length })
  res.end(body)
})
// The clients keep their connections for the whole run.
server.keepAliveTimeout = 120_000
server.headersTimeout = 125_000

server.listen(0, '127.0.0.1', () => {
  process.send({ port: server.address().port, bytes: body.length })
})

process.on('message', (msg) => {
  if (msg === 'cpu') process.send({ cpu: process.cpuUsage() })
  if (msg === 'exit') server.close(() => process.exit(0))
})
process.on('disconnect', () => process.exit(0))
