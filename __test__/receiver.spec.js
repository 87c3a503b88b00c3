'use strict'
// Every public method and getter of the native classes called on a wrong receiver is a TypeError
// `ERR_INVALID_THIS` (issue 9: napi-rs's "Illegal invocation" without a code, or `InvalidArg`);
// the methods that return a Promise reject with it. Which methods return a Promise is read from
// the typings, so a method added later is checked too.
const test = require('ava')
const fs = require('node:fs')
const path = require('node:path')

const resilience = require('../resilience.js')
const { PROMISE_METHODS } = require('../lib/receiver.js')
const { uniqueName } = require('./_helpers.js')

const CLASSES = Object.keys(resilience).filter(
  (name) => typeof resilience[name] === 'function' && /CircuitBreaker|Transaction/.test(name),
)

const DTS = fs.readFileSync(path.join(__dirname, '..', 'index.d.ts'), 'utf8')

/** The bodies of the declarations of `className` in index.d.ts: its class, and the interface
 * that adds the methods written in JavaScript (`call`, `transaction`). */
function bodies(className) {
  const out = []
  for (const head of [`export declare class ${className} `, `export interface ${className} {`]) {
    const start = DTS.indexOf(head)
    if (start >= 0) out.push(DTS.slice(start, DTS.indexOf('\n}\n', start)))
  }
  return out
}

/** `{ method: returnsPromise }` of `className` from index.d.ts, getters as `get name`. */
function declared(className) {
  const members = {}
  for (const line of bodies(className).join('\n').split('\n')) {
    const getter = /^ {2}get (\w+)\(\)/.exec(line)
    if (getter) members[`get ${getter[1]}`] = false
    const method = /^ {2}(?!constructor|static|get )(\w+)(<[^(]*>)?\(.*\): (.*)$/.exec(line)
    if (method) members[method[1]] = method[3].startsWith('Promise<')
  }
  return members
}

function wrongReceivers(Class) {
  const other = new resilience.CircuitBreaker(uniqueName('other'))
  const receivers = [undefined, null, 42, 'str', {}, [], Object.create(Class.prototype), () => {}]
  if (!(other instanceof Class)) receivers.push(other)
  return receivers
}

test('the promise-returning methods listed in lib/receiver.js are those of the typings', (t) => {
  for (const className of CLASSES) {
    const promises = Object.entries(declared(className))
      .filter(([, isPromise]) => isPromise)
      .map(([name]) => name)
      // `call` checks its receiver itself (lib/call.js), on the per-call path.
      .filter((name) => !(className === 'CircuitBreaker' && name === 'call'))
    t.deepEqual([...(PROMISE_METHODS[className] ?? [])].sort(), promises.sort(), className)
  }
})

test('every method and getter on a wrong receiver is a TypeError ERR_INVALID_THIS', async (t) => {
  let checked = 0
  for (const className of CLASSES) {
    const Class = resilience[className]
    const members = declared(className)
    t.true(Object.keys(members).length > 0, className)
    for (const [member, isPromise] of Object.entries(members)) {
      const isGetter = member.startsWith('get ')
      const name = isGetter ? member.slice(4) : member
      const descriptor = Object.getOwnPropertyDescriptor(Class.prototype, name)
      t.truthy(descriptor, `${className}.${name} is on the prototype`)
      const fn = isGetter ? descriptor.get : descriptor.value
      for (const receiver of wrongReceivers(Class)) {
        const what = `${className}.${member} on ${typeof receiver === 'object' ? Object.prototype.toString.call(receiver) : String(receiver)}`
        let result
        let thrown
        try {
          // A function first: `call` and `transaction` check their argument too.
          result = Reflect.apply(fn, receiver, [() => 1])
        } catch (error) {
          thrown = error
        }
        if (isPromise) {
          t.is(thrown, undefined, `${what} threw instead of rejecting`)
          t.true(result instanceof Promise, what)
          thrown = await result.then(
            () => undefined,
            (error) => error,
          )
        }
        t.true(thrown instanceof TypeError, `${what}: ${thrown}`)
        t.is(thrown?.code, 'ERR_INVALID_THIS', `${what}: ${thrown?.message}`)
        checked += 1
      }
    }
  }
  t.log(`${checked} wrong receivers checked`)
})

test('the guarded methods still work on their own objects and keep their names', async (t) => {
  const cb = new resilience.CircuitBreaker(uniqueName('guarded'))
  t.is(cb.getState(), 'CLOSED')
  t.is(cb.state, 'CLOSED')
  t.is(resilience.CircuitBreaker.prototype.getState.name, 'getState')
  t.is(await cb.call(() => 7), 7)
  const db = new resilience.DatabaseCircuitBreaker(uniqueName('guarded-db'))
  t.deepEqual(await db.query('SELECT 1 AS one'), [{ one: 1 }])
  t.is(await db.transaction(async (tx) => (await tx.query('SELECT 2 AS two'))[0].two), 2)
  await db.close()
  // An error thrown by the method itself is not taken for a wrong receiver.
  const err = await t.throwsAsync(db.query(42))
  t.is(err.code, 'ERR_INVALID_ARG_TYPE')
})
