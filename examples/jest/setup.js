// The recipe for every test file: a clean global registry after each test, so that a breaker one
// test opened (or one file: jest may run several files in one process) is not seen by the next.
const { CircuitBreakerRegistry } = require('@neural-trader/resilience')

afterEach(() => {
  CircuitBreakerRegistry.global().clear()
})
