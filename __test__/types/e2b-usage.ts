// Compiled with `tsc -p __test__/types` by types.spec.js: the typings of E2BSandboxCircuitBreaker.
import {
  CircuitBreaker,
  CircuitOpenError,
  E2BSandboxCircuitBreaker,
  HttpError,
  type CircuitBreakerMetrics,
  type E2BCreateSandboxOptions,
  type E2BExecuteOptions,
  type E2BExecution,
  type E2BExecutionError,
  type E2BExecutionResult,
  type E2BSandboxCircuitBreakerOptions,
  type E2BSandboxInfo,
  type TradingSystemOptions,
} from '../..'

async function e2bUsage(): Promise<void> {
  const options: E2BSandboxCircuitBreakerOptions = {
    name: 'sandboxes',
    apiKey: null, // default: process.env.E2B_API_KEY
    apiUrl: 'https://api.e2b.app',
    domain: 'e2b.app',
    sandboxUrl: null,
    timeout: 120000,
    failureThreshold: 3,
    successThreshold: 2,
    resetTimeout: 120000,
    halfOpenMaxCalls: 1,
    connectTimeout: 5000,
    maxRetryAfter: 60000,
    proxyFromEnv: true,
  }
  const e2b = new E2BSandboxCircuitBreaker(options)
  const configured: boolean = e2b.configured
  if (!configured) return

  const create: E2BCreateSandboxOptions = { timeout: 600, metadata: { desk: 'fx' }, envVars: { K: 'v' } }
  const id: string = await e2b.createSandbox('code-interpreter-v1', create)
  await e2b.createSandbox()

  const run: E2BExecuteOptions = { language: 'python', envVars: { RUN: '1' }, timeout: false }
  const execution: E2BExecution = await e2b.executeCode(id, "print('hello')", run)
  const out: string[] = execution.stdout.concat(execution.stderr)
  const error: E2BExecutionError | null = execution.error
  if (error !== null) console.log(error.name, error.value, error.traceback)
  const count: number | null = execution.executionCount
  const main: E2BExecutionResult | undefined = execution.results.find((r) => r.isMainResult)
  const text: string | undefined = main?.text
  const json: unknown = main?.json
  console.log(out, count, text, json, main?.extra)

  await e2b.setSandboxTimeout(id, 300)
  const listed: E2BSandboxInfo[] = await e2b.listSandboxes()
  const first: E2BSandboxInfo | undefined = listed[0]
  console.log(first?.sandboxId, first?.templateId, first?.metadata.desk, first?.memoryMB, first?.state)
  const stopped: boolean = await e2b.stopSandbox(id)

  const state: 'CLOSED' | 'OPEN' | 'HALF_OPEN' = e2b.state
  const metrics: CircuitBreakerMetrics = e2b.getMetrics()
  const breaker: CircuitBreaker = e2b.breaker
  await e2b.close()
  await e2b[Symbol.asyncDispose]()
  console.log(stopped, state, e2b.getState(), metrics.ignoredCalls, breaker.options.timeout, e2b.name)

  try {
    await e2b.executeCode(id, '1')
  } catch (err) {
    if (err instanceof CircuitOpenError) console.log(err.breaker)
    else if (err instanceof HttpError) console.log(err.status, err.body)
    else if ((err as { code?: string }).code === 'ERR_SANDBOX_NOT_FOUND') console.log('gone')
  }
}

// The trading system takes its sandbox options as `e2b` (issue 9: the typings said `e2B`, which
// the runtime refuses as an unknown option).
const tradingOptions: TradingSystemOptions = { e2b: { apiKey: null, timeout: 60000 } }

void e2bUsage
void tradingOptions
