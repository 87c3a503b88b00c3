'use strict'
// Helpers of the database specs (not a spec file itself).
const net = require('node:net')

let n = 0
/** A table name no other test run uses (tests and test files may run concurrently). */
function tableName(prefix = 'nt') {
  n += 1
  return `${prefix}_${process.pid}_${n}_${Math.random().toString(36).slice(2, 8)}`
}

/** The URL in `variable`, or null after printing why the tests that need it are skipped. */
function serverUrl(variable) {
  const url = process.env[variable]
  if (url) return url
  console.log(`skipped: ${variable} is not set`)
  return null
}

/** A TCP port on 127.0.0.1 that nothing listens on (bound, then released). */
function closedPort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

module.exports = { tableName, serverUrl, closedPort }
