'use strict'
// Secrets that must not escape (issue 9): every query value is `***` in an HttpError's message
// and url unless listed in `safeQueryParams`; credential headers (and `secretHeaders`) never
// follow a redirect to another origin, E2B's X-API-Key included. Real servers on 127.0.0.1.
const test = require('ava')
const { ApiCircuitBreaker, HttpError } = require('../resilience.js')
const { uniqueName } = require('./_helpers.js')
const { startServer } = require('./_http-server.js')
const { client: e2bClient, e2bServer } = require('./_e2b.js')

let origin
test.before(async () => {
  origin = await startServer()
})
test.after.always(() => origin.close())

/** Two servers of this test only (ava runs a file's tests concurrently): two origins. */
async function twoOrigins(t) {
  const [a, b] = await Promise.all([startServer(), startServer()])
  t.teardown(() => Promise.all([a.close(), b.close()]))
  return [a, b]
}

function makeApi(options = {}) {
  return new ApiCircuitBreaker(uniqueName('api-secrets'), { proxyFromEnv: false, failureThreshold: 1000, ...options })
}

const LEAKED = ['refresh_token', 'access_key', 'X-Amz-Signature', 'X-Amz-Credential', 'id_token', 'secret_key', 'jwt', 'session']

for (const name of LEAKED) {
  test(`the value of ${name} is masked in err.message and err.url`, async (t) => {
    const api = makeApi()
    const value = `leak-${name.length}-value`
    const err = await t.throwsAsync(api.get(origin.url('/status/500'), { query: { [name]: value, symbol: 'AAPL' } }), {
      instanceOf: HttpError,
    })
    t.is(err.code, 'ERR_HTTP_STATUS')
    for (const shown of [err.message, err.url]) {
      t.false(shown.includes(value), shown)
      t.true(shown.includes(`${encodeURIComponent(name)}=***`), shown)
      t.true(shown.includes('symbol=***'), shown)
    }
    await api.close()
  })
}

test('a parameter listed in safeQueryParams is shown, the others are not', async (t) => {
  const api = makeApi({ safeQueryParams: ['symbol'] })
  const err = await t.throwsAsync(api.get(origin.url('/status/404?symbol=AAPL&jwt=eyJ-secret&Symbol=x9')))
  t.true(err.url.includes('symbol=AAPL'), err.url)
  t.true(err.message.includes('symbol=AAPL'), err.message)
  for (const shown of [err.message, err.url]) t.false(/eyJ-secret|x9/.test(shown), shown)
  await api.close()
})

test('safeQueryParams and secretHeaders are arrays of strings', (t) => {
  const name = uniqueName('bad')
  let err = t.throws(() => new ApiCircuitBreaker(name, { safeQueryParams: 'symbol' }), { instanceOf: TypeError })
  t.is(err.code, 'ERR_INVALID_ARG_TYPE')
  err = t.throws(() => new ApiCircuitBreaker(name, { secretHeaders: ['x-ok', 5] }), { instanceOf: TypeError })
  t.is(err.code, 'ERR_INVALID_ARG_TYPE')
  err = t.throws(() => new ApiCircuitBreaker(name, { secretHeaders: ['not a header'] }), { instanceOf: TypeError })
  t.is(err.code, 'ERR_INVALID_ARG_VALUE')
  err = t.throws(() => new ApiCircuitBreaker(name, { safeQueryParams: new Array(1e6) }), { instanceOf: RangeError })
  t.is(err.code, 'ERR_OUT_OF_RANGE')
})

const CREDENTIALS = { 'x-api-key': 'key-111', 'x-auth': 'auth-222', 'api-credential': 'cred-333', 'x-desk': 'desk-444' }

function lastSeen(server) {
  return server.state.seen[server.state.seen.length - 1]
}

test('a cross-origin redirect drops credential headers; a same-origin one keeps them', async (t) => {
  const [origin, other] = await twoOrigins(t)
  const api = makeApi({ secretHeaders: ['X-Desk'] })
  const headers = { ...CREDENTIALS, authorization: 'Bearer tok-555', 'x-request-id': 'req-1' }

  const before = other.state.requests
  const echoed = await api.get(origin.url(`/to/${other.port}/echo?q=1`), { headers })
  t.is(other.state.requests, before + 1, 'the redirect was followed')
  t.is(echoed.url, '/echo?q=1')
  for (const name of [...Object.keys(CREDENTIALS), 'authorization']) t.is(echoed.headers[name], undefined, name)
  t.is(echoed.headers['x-request-id'], 'req-1')

  const same = await api.get(origin.url(`/to/${origin.port}/echo`), { headers })
  t.is(same.url, '/echo')
  for (const [name, value] of Object.entries(CREDENTIALS)) t.is(same.headers[name], value, name)
  t.is(same.headers.authorization, 'Bearer tok-555')
  t.is(lastSeen(origin).headers['x-api-key'], 'key-111')
  await api.close()
})

test("E2B's X-API-Key never reaches another host", async (t) => {
  const s = await e2bServer(t)
  const [origin, other] = await twoOrigins(t)
  const e2b = e2bClient(s, { apiUrl: origin.url(`/to/${other.port}/`) })
  const before = other.state.seen.length
  await t.throwsAsync(e2b.listSandboxes()) // `other` is no E2B server: 404
  const seen = other.state.seen.slice(before)
  t.is(seen.length, 1, 'the redirect was followed')
  t.true(seen[0].url.startsWith('/v2/sandboxes'), seen[0].url)
  t.is(seen[0].headers['x-api-key'], undefined)
  t.false(JSON.stringify(seen[0].headers).includes(s.apiKey))
  await e2b.close()
})
