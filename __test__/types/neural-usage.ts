// Compiled with `tsc -p __test__/types` by types.spec.js: the typings of NeuralCircuitBreaker.
import {
  CircuitBreaker,
  CircuitOpenError,
  CircuitTimeoutError,
  HttpError,
  NeuralCircuitBreaker,
  type CircuitBreakerMetrics,
  type NeuralCircuitBreakerOptions,
  type NeuralModelDimensions,
  type NeuralTrainOptions,
  type NeuralTrainResult,
} from '../..'

async function neuralUsage(): Promise<void> {
  const builtin = new NeuralCircuitBreaker('price_predictor', {
    failureThreshold: 3,
    successThreshold: 1,
    resetTimeout: 30000,
    halfOpenMaxCalls: 1,
    predictTimeout: 500,
    trainTimeout: 60000,
  })
  const rows: number[][] = [[1, 2], [3, 4]]
  const frozen: readonly (readonly number[])[] = rows
  const training: NeuralTrainOptions = { epochs: 100, learningRate: 0.01, hiddenSizes: [32, 32] }
  const result: NeuralTrainResult = await builtin.train(rows, [1, 2], training)
  const loss: number = result.loss
  await builtin.train(frozen, [[1, 0], [0, 1]])
  const prediction: number[] = await builtin.predict([1, 2])
  const saved: void = await builtin.save('/tmp/model.safetensors')
  await builtin.load('/tmp/model.safetensors')
  const dims: NeuralModelDimensions | null = builtin.dimensions
  const backend: 'builtin' | 'v2' | 'tfserving' = builtin.backend
  const state: 'CLOSED' | 'OPEN' | 'HALF_OPEN' = builtin.state
  const same: 'CLOSED' | 'OPEN' | 'HALF_OPEN' = builtin.getState()
  const metrics: CircuitBreakerMetrics = builtin.getMetrics()
  const breaker: CircuitBreaker = builtin.breaker
  const name: string = builtin.name

  const options: NeuralCircuitBreakerOptions = {
    endpoint: 'http://127.0.0.1:8000',
    protocol: 'tfserving',
    model: 'price',
    version: 3,
    headers: { authorization: 'Bearer t' },
    connectTimeout: 1000,
    proxyFromEnv: false,
  }
  const remote = new NeuralCircuitBreaker('price', options)
  new NeuralCircuitBreaker('price', { endpoint: 'http://127.0.0.1:8000', protocol: 'v2', version: '2' })

  try {
    await remote.predict([1, 2, 3])
  } catch (e) {
    if (e instanceof HttpError) {
      const status: number | undefined = e.status
      void status
    } else if (e instanceof CircuitOpenError || e instanceof CircuitTimeoutError) {
      const breakerName: string = e.breaker
      void breakerName
    } else if (e instanceof RangeError) {
      const code: unknown = (e as RangeError & { code?: string }).code
      void code
    }
  }

  // @ts-expect-error the protocol is one of two
  new NeuralCircuitBreaker('x', { endpoint: 'http://x.test', protocol: 'grpc' })
  // @ts-expect-error unknown options are refused
  new NeuralCircuitBreaker('x', { timeout: 100 })
  // @ts-expect-error features are numbers
  await builtin.predict(['1'])
  // @ts-expect-error data is rows of numbers
  await builtin.train([1, 2], [1, 2])
  // @ts-expect-error labels are numbers or rows of numbers
  await builtin.train(rows, ['a', 'b'])
  // @ts-expect-error epochs is a number
  await builtin.train(rows, [1, 2], { epochs: '5' })

  await remote.close()
  await builtin[Symbol.asyncDispose]()

  void [loss, prediction, saved, dims, backend, state, same, metrics, breaker, name]
}

void neuralUsage
