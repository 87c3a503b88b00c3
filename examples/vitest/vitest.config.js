import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    // The recipe for every test file: a clean global registry after each test.
    setupFiles: ['./setup.js'],
  },
})
