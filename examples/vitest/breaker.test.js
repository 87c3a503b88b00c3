import { expect, test, vi } from 'vitest'
import { CircuitBreaker, CircuitBreakerRegistry, CircuitOpenError, CircuitTimeoutError } from '@neural-trader/resilience'
import { quoteService } from './quotes.js'

test('opens, half-opens after resetTimeout on fake time, closes', async () => {
  vi.useFakeTimers()
  let up = false
  const { breaker, quote } = quoteService(async (symbol) => {
    if (!up) throw new Error('exchange down')
    return { symbol, px: 101.5 }
  })
  for (let i = 0; i < 3; i++) await expect(quote('AAPL')).rejects.toThrow('exchange down')
  expect(breaker.state).toBe('OPEN')
  await expect(quote('AAPL')).rejects.toBeInstanceOf(CircuitOpenError)
  vi.advanceTimersByTime(60_001)
  up = true
  await expect(quote('AAPL')).resolves.toEqual({ symbol: 'AAPL', px: 101.5 })
  expect(breaker.state).toBe('HALF_OPEN')
  await quote('AAPL')
  expect(breaker.state).toBe('CLOSED')
})

test('a hung call times out on fake time', async () => {
  vi.useFakeTimers()
  const { quote } = quoteService(() => new Promise(() => {}))
  const pending = quote('MSFT')
  vi.advanceTimersByTime(5_001)
  await expect(pending).rejects.toBeInstanceOf(CircuitTimeoutError)
})

test('bad options throw RangeError and TypeError of this realm', () => {
  expect(() => new CircuitBreaker('x', { failureThreshold: 0 })).toThrow(RangeError)
  expect(() => new CircuitBreaker('x', { timeout: 'soon' })).toThrow(TypeError)
})

test('the registry gives back the same breaker object', () => {
  const registry = CircuitBreakerRegistry.global()
  const cb = registry.getOrCreate('same')
  expect(registry.get('same')).toBe(cb)
})
