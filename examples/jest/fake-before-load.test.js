// Fake timers installed before the package is loaded.
jest.useFakeTimers()
const { CircuitBreaker, CircuitTimeoutError } = require('@neural-trader/resilience')

test('deadlines and resets follow fake timers installed before load', async () => {
  const cb = new CircuitBreaker('before-load', { timeout: 1_000, failureThreshold: 1, successThreshold: 1 })
  const pending = cb.call(() => new Promise(() => {}))
  jest.advanceTimersByTime(1_001)
  await expect(pending).rejects.toBeInstanceOf(CircuitTimeoutError)
  expect(cb.state).toBe('OPEN')
  jest.advanceTimersByTime(60_001)
  await expect(cb.call(async () => 'ok')).resolves.toBe('ok')
  expect(cb.state).toBe('CLOSED')
})
