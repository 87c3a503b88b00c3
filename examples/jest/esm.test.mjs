import { jest } from '@jest/globals'
import { CircuitBreaker, CircuitOpenError } from '@neural-trader/resilience'

test('named ESM imports, fake timers switched on and off within the test', async () => {
  const cb = new CircuitBreaker('esm', { failureThreshold: 1, successThreshold: 1, resetTimeout: 10_000 })
  await expect(cb.call(() => Promise.reject(new Error('down')))).rejects.toThrow('down')
  await expect(cb.call(() => 1)).rejects.toBeInstanceOf(CircuitOpenError)
  jest.useFakeTimers()
  jest.advanceTimersByTime(10_001)
  await expect(cb.call(() => 2)).resolves.toBe(2)
  jest.useRealTimers()
  expect(cb.state).toBe('CLOSED')
})
