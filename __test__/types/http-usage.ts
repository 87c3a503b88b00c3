// Compiled with `tsc -p __test__/types` by types.spec.js: the typings of ApiCircuitBreaker.
import {
  ApiCircuitBreaker,
  CircuitBreaker,
  CircuitOpenError,
  CircuitTimeoutError,
  HttpError,
  HttpErrorCode,
  type ApiCircuitBreakerOptions,
  type ApiRequestOptions,
  type ApiResponse,
  type CircuitBreakerMetrics,
} from '../..'

interface Quote {
  symbol: string
  price: number
}

async function httpUsage(): Promise<void> {
  const options: ApiCircuitBreakerOptions = {
    baseUrl: 'https://api.example.test/v1/',
    timeout: 2000,
    connectTimeout: 500,
    headers: { 'x-api-key': 'k' },
    failureThreshold: 3,
    successThreshold: 2,
    resetTimeout: 30000,
    halfOpenMaxCalls: 1,
    maxRetryAfter: 60000,
    proxyFromEnv: false,
    safeQueryParams: ['symbol', 'fields'],
    secretHeaders: ['x-desk-id'],
  }
  const api = new ApiCircuitBreaker('market_data_api', options)
  const quote: Quote = await api.get<Quote>('quotes/AAPL', { query: { fields: ['bid', 'ask'], depth: 1 } })
  const anything = await api.get('quotes/MSFT')
  const created = await api.post<{ id: string }>('orders', { symbol: 'AAPL', qty: 10 }, { headers: { 'idempotency-key': 'o-1' } })
  const replaced: unknown = await api.put('orders/1', 'text body')
  const removed = await api.delete<null>('orders/1', { timeout: false, responseType: 'json' })
  const perCall: ApiRequestOptions = { responseType: 'buffer', timeout: 100 }
  const response: ApiResponse<Quote> = await api.request<Quote>({ method: 'GET', url: 'quotes/AAPL', ...perCall })
  const status: number = response.status
  const contentType: string | undefined = response.headers['content-type']
  const state: 'CLOSED' | 'OPEN' | 'HALF_OPEN' = api.state
  const same: 'CLOSED' | 'OPEN' | 'HALF_OPEN' = api.getState()
  const metrics: CircuitBreakerMetrics = api.getMetrics()
  const breaker: CircuitBreaker = api.breaker
  const name: string = api.name

  try {
    await api.get('quotes/FAIL')
  } catch (e) {
    if (e instanceof HttpError) {
      const code: string = e.code
      const narrowed: HttpErrorCode = e.code
      // @ts-expect-error the codes of an HttpError are a literal union
      const wrong = e.code === 'ERR_HTTP_TEAPOT'
      void narrowed, wrong
      const httpStatus: number | undefined = e.status
      const body: unknown = e.body
      void code, httpStatus, body
    } else if (e instanceof CircuitOpenError || e instanceof CircuitTimeoutError) {
      const breakerName: string = e.breaker
      void breakerName
    }
  }

  const closing: Promise<void> = api.close()
  await closing
  await api[Symbol.asyncDispose]()

  // @ts-expect-error safeQueryParams is an array of strings
  new ApiCircuitBreaker('x', { safeQueryParams: 'symbol' })
  // @ts-expect-error unknown options are refused
  new ApiCircuitBreaker('x', { baseURL: 'https://x.test' })
  // @ts-expect-error headers are strings
  new ApiCircuitBreaker('x', { headers: { retries: 3 } })
  // @ts-expect-error responseType is one of four
  await api.get('x', { responseType: 'blob' })
  // @ts-expect-error request needs a url
  await api.request({ method: 'GET' })
  // @ts-expect-error get returns what it is told
  const wrong: string = await api.get<number>('x')

  void [quote, anything, created, replaced, removed, status, contentType, state, same, metrics, breaker, name, wrong]
}

void httpUsage
