const {
  CircuitBreaker,
  CircuitBreakerRegistry,
  CircuitOpenError,
  CircuitTimeoutError,
} = require('@neural-trader/resilience')
const { quoteService } = require('./quotes.js')

afterEach(() => {
  jest.useRealTimers()
})

test('opens after three failures, half-opens after resetTimeout, closes after two successes', async () => {
  jest.useFakeTimers()
  let up = false
  const { breaker, quote } = quoteService(async (symbol) => {
    if (!up) throw new Error('exchange down')
    return { symbol, px: 101.5 }
  })
  for (let i = 0; i < 3; i++) await expect(quote('AAPL')).rejects.toThrow('exchange down')
  expect(breaker.state).toBe('OPEN')
  await expect(quote('AAPL')).rejects.toBeInstanceOf(CircuitOpenError)

  jest.advanceTimersByTime(60_001)
  up = true
  await expect(quote('AAPL')).resolves.toEqual({ symbol: 'AAPL', px: 101.5 })
  expect(breaker.state).toBe('HALF_OPEN')
  await quote('AAPL')
  expect(breaker.state).toBe('CLOSED')
})

test('a hung call times out when fake time passes its deadline', async () => {
  jest.useFakeTimers()
  const { quote } = quoteService(() => new Promise(() => {}))
  const pending = quote('MSFT')
  jest.advanceTimersByTime(5_001)
  await expect(pending).rejects.toBeInstanceOf(CircuitTimeoutError)
})

test('bad options throw RangeError and TypeError of this realm', () => {
  expect(() => new CircuitBreaker('x', { failureThreshold: 0 })).toThrow(RangeError)
  expect(() => new CircuitBreaker('x', { failureThreshold: 'many' })).toThrow(TypeError)
  let caught
  try {
    new CircuitBreaker('x', { nope: 1 })
  } catch (error) {
    caught = error
  }
  expect(caught).toBeInstanceOf(Error)
  expect(caught.code).toBe('ERR_INVALID_ARG_VALUE')
})

test('the registry gives back the same breaker object', () => {
  const registry = CircuitBreakerRegistry.global()
  const cb = registry.getOrCreate('same')
  expect(registry.get('same')).toBe(cb)
  expect(registry.getOrCreate('same')).toBe(cb)
})

test('an open-circuit rejection points at the caller', async () => {
  const cb = new CircuitBreaker('stack', { failureThreshold: 1 })
  await expect(cb.call(() => Promise.reject(new Error('down')))).rejects.toThrow('down')
  const error = await cb.call(() => 1).catch((e) => e)
  expect(error).toBeInstanceOf(CircuitOpenError)
  expect(error.stack).toContain('breaker.test.js')
})
