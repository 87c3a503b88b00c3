'use strict'
// Shared helpers of the E2B specs (not a spec file itself): a local protocol-faithful E2B server
// per test (support/e2b-server.js) and clients pointed at it.

const { E2BSandboxCircuitBreaker } = require('../resilience.js')
const { startE2BServer } = require('./support/e2b-server.js')
const { uniqueName } = require('./_helpers.js')

const KEY = 'e2b_5ec7e70123456789abcdef0123456789abcdef01'

/** A server for this test only (closed at its end), so that faults never leak across tests. */
async function e2bServer(t, options = {}) {
  const s = await startE2BServer({ apiKey: KEY, lineDelayMs: 1, ...options })
  t.teardown(() => s.close())
  return s
}

/** A client of `s` (control plane and code interpreter), with `options` over the defaults. */
function client(s, options = {}) {
  return new E2BSandboxCircuitBreaker({
    name: uniqueName('e2b'),
    apiKey: s.apiKey,
    apiUrl: s.url,
    sandboxUrl: s.url,
    proxyFromEnv: false,
    ...options,
  })
}

/** Every string an error shows: message, code, fields, headers and body, serialized. */
function errorText(err) {
  return [String(err), err.stack ?? '', JSON.stringify(err), JSON.stringify(err.headers ?? {}), JSON.stringify(err.body ?? null)].join('\n')
}

module.exports = { KEY, e2bServer, client, errorText }
