// Opens the global 'quotes' breaker; registry-b.test.js, which jest may run in the same process,
// must still find it closed (setup.js clears the global registry after each test).
const { quoteService } = require('./quotes.js')

test('file A leaves the shared breaker OPEN at the end of its test', async () => {
  const { breaker, quote } = quoteService(async () => {
    throw new Error('down')
  })
  for (let i = 0; i < 3; i++) await quote('A').catch(() => {})
  expect(breaker.state).toBe('OPEN')
})
