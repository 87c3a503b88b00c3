'use strict'
// DatabaseCircuitBreaker against a real PostgreSQL (DATABASE_URL; skipped when unset).
const test = require('ava')

const { CircuitTimeoutError, DatabaseCircuitBreaker, DatabaseError } = require('../resilience.js')
const { uniqueName, settle } = require('./_helpers.js')
const { tableName, serverUrl } = require('./_database.js')

const url = serverUrl('DATABASE_URL')
const pgTest = url ? test : test.skip

const dbs = []
function make(options) {
  const db = new DatabaseCircuitBreaker(uniqueName('pg'), { url, maxConnections: 4, ...options })
  dbs.push(db)
  return db
}
const tables = []
async function table(db, columns) {
  const name = tableName('nt_pg')
  await db.execute(`CREATE TABLE ${name} (${columns})`)
  tables.push(name)
  return name
}
test.after.always(async () => {
  if (!url) return
  const db = new DatabaseCircuitBreaker(uniqueName('pg-cleanup'), { url })
  for (const name of tables) await settle(db.execute(`DROP TABLE IF EXISTS ${name}`))
  await db.close()
  await Promise.all(dbs.map((d) => d.close()))
})

pgTest('results map as node-postgres maps them', async (t) => {
  const db = make()
  const [row] = await db.query(`SELECT
      1::int2 AS i2, 2::int4 AS i4, 9007199254740993::int8 AS i8, 1.50::numeric AS num,
      'NaN'::numeric AS num_nan, 0.5::float4 AS f4, 'Infinity'::float8 AS f8, true AS b,
      '{"b":1,"a":[1,null]}'::jsonb AS jb, '{"z":1,"a":2}'::json AS j,
      '2024-01-02 03:04:05.678+00'::timestamptz AS tz, '2024-01-02 03:04:05'::timestamp AS ts,
      '2024-02-29'::date AS d, '13:45:01'::time AS tm,
      '6f1c3a8e-9a51-4b8e-8d0c-3c2f8b0f5e11'::uuid AS u, '\\x00ff'::bytea AS by,
      NULL::text AS n, 'héllo'::varchar AS v, ARRAY[[1,2],[3,4]] AS arr,
      ARRAY['a', NULL]::text[] AS tarr, 'infinity'::timestamptz AS inf`)
  t.deepEqual(row, {
    i2: 1,
    i4: 2,
    i8: '9007199254740993',
    num: '1.50',
    num_nan: 'NaN',
    f4: 0.5,
    f8: Infinity,
    b: true,
    jb: { a: [1, null], b: 1 },
    j: { z: 1, a: 2 },
    tz: '2024-01-02T03:04:05.678Z',
    ts: '2024-01-02T03:04:05',
    d: '2024-02-29',
    tm: '13:45:01',
    u: '6f1c3a8e-9a51-4b8e-8d0c-3c2f8b0f5e11',
    by: Buffer.from([0, 255]),
    n: null,
    v: 'héllo',
    arr: [
      [1, 2],
      [3, 4],
    ],
    tarr: ['a', null],
    inf: 'infinity',
  })
  const err = await t.throwsAsync(db.query(`SELECT '(1,2)'::point AS p`), {
    instanceOf: DatabaseError,
    code: 'ERR_DB_UNSUPPORTED_TYPE',
  })
  t.regex(err.message, /point/i)
})

pgTest('parameters convert to the inferred types, as pg accepts them', async (t) => {
  const db = make()
  const name = await table(
    db,
    'id bigserial PRIMARY KEY, qty bigint, small smallint, px numeric(14,4), doc jsonb, raw json, at timestamptz, local timestamp, d date, u uuid, b bytea, ok boolean, f float8, note text',
  )
  const insert = `INSERT INTO ${name} (qty, small, px, doc, raw, at, local, d, u, b, ok, f, note)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`
  const [first] = await db.query(insert, [
    '9007199254740993',
    7,
    '123.45',
    { side: 'buy', legs: [1, 2] },
    '{"z": 1}',
    new Date('2024-01-02T03:04:05.678Z'),
    '2024-01-02T03:04:05',
    '2024-02-29',
    '6F1C3A8E-9A51-4B8E-8D0C-3C2F8B0F5E11',
    Buffer.from('bytes'),
    true,
    0.25,
    42,
  ])
  t.is(first.id, '1')
  await db.execute(insert, [12n, '8', 1.5, '[1,2]', [3, 4], '2024-01-02T05:04:05.678+02:00', new Date(0), new Date('2024-03-01T10:00:00Z'), null, null, 'false', '1e3', 'x'])
  const rows = await db.query(`SELECT qty, small, px, doc, raw, at, local, d, u, b, ok, f, note FROM ${name} ORDER BY id`)
  t.deepEqual(rows, [
    {
      qty: '9007199254740993',
      small: 7,
      px: '123.4500',
      doc: { side: 'buy', legs: [1, 2] },
      raw: { z: 1 },
      at: '2024-01-02T03:04:05.678Z',
      local: '2024-01-02T03:04:05',
      d: '2024-02-29',
      u: '6f1c3a8e-9a51-4b8e-8d0c-3c2f8b0f5e11',
      b: Buffer.from('bytes'),
      ok: true,
      f: 0.25,
      note: '42',
    },
    {
      qty: '12',
      small: 8,
      px: '1.5000',
      doc: [1, 2],
      raw: [3, 4],
      at: '2024-01-02T03:04:05.678Z',
      local: '1970-01-01T00:00:00',
      d: '2024-03-01',
      u: null,
      b: null,
      ok: false,
      f: 1000,
      note: 'x',
    },
  ])
  // Comparisons and arithmetic on typed parameters.
  t.deepEqual(await db.query(`SELECT count(*) AS n FROM ${name} WHERE qty > $1 AND at = $2`, [100, '2024-01-02T03:04:05.678Z']), [
    { n: '1' },
  ])
  t.deepEqual(await db.query('SELECT $1::int8 + 1 AS n, $2 || $3 AS s', ['41', 'a', 'b']), [{ n: '42', s: 'ab' }])
})

pgTest('array parameters bind as arrays of the inferred element type (= ANY($1), unnest)', async (t) => {
  const db = make()
  const name = await table(db, 'id bigint, sym varchar(10), at timestamptz, u uuid')
  await db.execute(
    `INSERT INTO ${name} SELECT * FROM unnest($1::bigint[], $2::varchar[], $3::timestamptz[], $4::uuid[])`,
    [
      [1, '2', 3n],
      ['AAPL', 'MSFT', null],
      [new Date('2024-01-02T03:04:05Z'), '2024-01-03T00:00:00Z', null],
      ['6f1c3a8e-9a51-4b8e-8d0c-3c2f8b0f5e11', null, null],
    ],
  )
  t.deepEqual(await db.query(`SELECT id FROM ${name} WHERE id = ANY($1) ORDER BY id`, [[1, 3, 99]]), [{ id: '1' }, { id: '3' }])
  t.deepEqual(await db.query(`SELECT id FROM ${name} WHERE sym = ANY($1)`, [['MSFT']]), [{ id: '2' }])
  t.deepEqual(await db.query(`SELECT count(*) AS n FROM ${name} WHERE id = ANY($1)`, [[]]), [{ n: '0' }])
  t.deepEqual(await db.query('SELECT $1::int[] AS a, $2::text[] AS b, $3::jsonb[] AS c', [[1, null], ['x'], [{ k: 1 }]]), [
    { a: [1, null], b: ['x'], c: [{ k: 1 }] },
  ])
  const [row] = await db.query(`SELECT at, u FROM ${name} WHERE id = 1`)
  t.deepEqual(row, { at: '2024-01-02T03:04:05Z', u: '6f1c3a8e-9a51-4b8e-8d0c-3c2f8b0f5e11' })
  await t.throwsAsync(db.query('SELECT $1::int[] AS a', [[[1], [2]]]), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
  await t.throwsAsync(db.query('SELECT $1::int[] AS a', [['x']]), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_VALUE' })
  await t.throwsAsync(db.query('SELECT $1::int[] AS a', [5]), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
})

pgTest('parameters that cannot be converted reject with TypeError / RangeError and do not trip', async (t) => {
  const db = make({ failureThreshold: 1 })
  const name = await table(db, 'qty bigint, small smallint, u uuid, doc jsonb, b bytea, p point')
  const bad = [
    ['qty', 'abc', TypeError, 'ERR_INVALID_ARG_VALUE'],
    ['qty', 1.5, TypeError, 'ERR_INVALID_ARG_VALUE'],
    ['qty', '99999999999999999999', RangeError, 'ERR_OUT_OF_RANGE'],
    ['small', 70000, RangeError, 'ERR_OUT_OF_RANGE'],
    ['u', 'not-a-uuid', TypeError, 'ERR_INVALID_ARG_VALUE'],
    ['doc', 'not json', TypeError, 'ERR_INVALID_ARG_VALUE'],
    ['b', 'text', TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['qty', { a: 1 }, TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['p', '(1,2)', TypeError, 'ERR_INVALID_ARG_TYPE'],
  ]
  for (const [column, value, instanceOf, code] of bad) {
    await t.throwsAsync(db.execute(`INSERT INTO ${name} (${column}) VALUES ($1)`, [value]), { instanceOf, code }, column)
  }
  await t.throwsAsync(db.query('SELECT $1::int AS a, $2::int AS b', [1]), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_VALUE' })
  await db.execute(`INSERT INTO ${name} (p) VALUES ($1::text::point)`, ['(1,2)'])
  t.is(db.state, 'CLOSED')
  t.is(db.getMetrics().failedCalls, 0)
})

pgTest('constraint violations and syntax errors carry SQLSTATE and do not trip', async (t) => {
  const db = make({ failureThreshold: 1 })
  const name = await table(db, 'sym text CONSTRAINT sym_unique UNIQUE, qty int CHECK (qty > 0)')
  await db.execute(`INSERT INTO ${name} VALUES ($1, $2)`, ['AAPL', 1])
  const dup = await t.throwsAsync(db.execute(`INSERT INTO ${name} VALUES ($1, $2)`, ['AAPL', 1]), {
    instanceOf: DatabaseError,
    code: 'ERR_DB_CONSTRAINT',
  })
  t.is(dup.sqlState, '23505')
  t.is(dup.dbCode, '23505')
  t.is(dup.constraint, 'sym_unique')
  const check = await t.throwsAsync(db.execute(`INSERT INTO ${name} VALUES ($1, $2)`, ['MSFT', -1]), { code: 'ERR_DB_CONSTRAINT' })
  t.is(check.sqlState, '23514')
  const syntax = await t.throwsAsync(db.query('SELEKT 1'), { code: 'ERR_DB_QUERY' })
  t.is(syntax.sqlState, '42601')
  const missing = await t.throwsAsync(db.query('SELECT * FROM no_such_table_xyz'), { code: 'ERR_DB_QUERY' })
  t.is(missing.sqlState, '42P01')
  const division = await t.throwsAsync(db.query('SELECT 1 / $1::int AS x', [0]), { code: 'ERR_DB_QUERY' })
  t.is(division.sqlState, '22012')
  t.is(db.state, 'CLOSED')
  t.is(db.getMetrics().failedCalls, 0)
})

pgTest('SQL injection through parameters is stored as inert text', async (t) => {
  const db = make()
  const name = await table(db, 'note text')
  const evil = `x'); DROP TABLE ${name}; --`
  await db.execute(`INSERT INTO ${name} VALUES ($1)`, [evil])
  t.deepEqual(await db.query(`SELECT note FROM ${name} WHERE note = $1`, [evil]), [{ note: evil }])
})

pgTest('transactions: commit, rollback, and a failed statement aborts the whole transaction', async (t) => {
  const db = make()
  const name = await table(db, 'n int PRIMARY KEY')
  t.is(
    await db.transaction(async (tx) => {
      await tx.execute(`INSERT INTO ${name} VALUES ($1)`, [1])
      return (await tx.query(`SELECT count(*) AS c FROM ${name}`))[0].c
    }),
    '1',
  )
  const boom = new Error('boom')
  t.is(
    await t.throwsAsync(
      db.transaction(async (tx) => {
        await tx.execute(`INSERT INTO ${name} VALUES ($1)`, [2])
        throw boom
      }),
    ),
    boom,
  )
  // The caller swallows the error of a failed statement and returns: PostgreSQL has aborted the
  // transaction, so the commit must not report success.
  const err = await t.throwsAsync(
    db.transaction(async (tx) => {
      await tx.execute(`INSERT INTO ${name} VALUES ($1)`, [3])
      await settle(tx.execute(`INSERT INTO ${name} VALUES ($1)`, [1]))
      return 'ok?'
    }),
    { instanceOf: DatabaseError, code: 'ERR_DB_TRANSACTION_ABORTED' },
  )
  t.is(err.sqlState, '25P02')
  t.deepEqual(await db.query(`SELECT n FROM ${name} ORDER BY n`), [{ n: 1 }])
  t.is(db.getMetrics().failedCalls, 0)
})

pgTest('a transaction that outlives the timeout is rolled back (server-side sleep)', async (t) => {
  const db = make({ timeout: 300 })
  const name = await table(db, 'n int')
  await t.throwsAsync(
    db.transaction(async (tx) => {
      await tx.execute(`INSERT INTO ${name} VALUES (1)`)
      await tx.query('SELECT pg_sleep(2)')
    }),
    { instanceOf: CircuitTimeoutError },
  )
  t.deepEqual(await db.query(`SELECT n FROM ${name}`), [])
  t.is(db.getMetrics().failedCalls, 1)
})

pgTest('an admin shutdown of the connection (SQLSTATE 57P01) trips the breaker', async (t) => {
  const db = make({ failureThreshold: 1 })
  const err = await t.throwsAsync(db.query('SELECT pg_terminate_backend(pg_backend_pid())'))
  t.true(['ERR_DB_UNAVAILABLE', 'ERR_DB_CONNECTION'].includes(err.code), `${err.code} ${err.message}`)
  t.is(db.state, 'OPEN')
})

pgTest('an exhausted pool trips the breaker', async (t) => {
  const db = make({ maxConnections: 1, acquireTimeout: 100, failureThreshold: 1 })
  const seen = await db.transaction(async (tx) => {
    await tx.query('SELECT 1')
    return settle(db.query('SELECT 1'))
  })
  t.is(seen.reason.code, 'ERR_DB_POOL_TIMEOUT')
  t.is(db.state, 'OPEN')
})

pgTest('a wrong user or password is a connection failure whose message does not show it', async (t) => {
  const u = new URL(url)
  u.username = 'nt_no_such_user'
  u.password = 'Wr0ngPassw0rd'
  const db = make({ url: u.toString(), acquireTimeout: 2000, failureThreshold: 1 })
  const err = await t.throwsAsync(db.query('SELECT 1'), { instanceOf: DatabaseError, code: 'ERR_DB_CONNECTION' })
  t.is(err.sqlState?.slice(0, 2), '28')
  t.false(err.message.includes('Wr0ngPassw0rd'), err.message)
  t.is(db.state, 'OPEN')
})

pgTest('a database name that does not exist (SQLSTATE 3D000) is a connection failure that trips', async (t) => {
  // Issue 9: every call fails, as with a wrong password, so it counts against the database.
  const u = new URL(url)
  u.pathname = '/nt_no_such_database'
  const db = make({ url: u.toString(), acquireTimeout: 2000, failureThreshold: 1 })
  const err = await t.throwsAsync(db.query('SELECT 1'), { instanceOf: DatabaseError, code: 'ERR_DB_CONNECTION' })
  t.is(err.sqlState, '3D000')
  t.is(db.state, 'OPEN')
  t.is(db.getMetrics().failedCalls, 1)
})

pgTest('a void column (pg_sleep) is an empty string, as node-postgres gives it', async (t) => {
  // Issue 9: it was ERR_DB_UNSUPPORTED_TYPE.
  const db = make()
  t.deepEqual(await db.query('SELECT pg_sleep(0) AS slept, 1 AS n'), [{ slept: '', n: 1 }])
})

pgTest('columns sharing a name keep the first position and the last value; a __proto__ column is a plain own property', async (t) => {
  const db = make()
  const [row] = await db.query(`SELECT 1 AS a, 2 AS b, 3 AS a, $1::bytea AS c, 'NaN'::float8 AS "__proto__"`, [Buffer.from('hi')])
  t.deepEqual(Object.keys(row), ['a', 'b', 'c', '__proto__'])
  t.is(row.a, 3)
  t.is(Object.getPrototypeOf(row), Object.prototype)
  t.true(Object.hasOwn(row, '__proto__'))
  t.true(Number.isNaN(Object.getOwnPropertyDescriptor(row, '__proto__').value))
  t.deepEqual(row.c, Buffer.from('hi'))
  // Another column list gets its own row shape; the same list again reuses it.
  t.deepEqual(await db.query('SELECT 1 AS x'), [{ x: 1 }])
  t.deepEqual((await db.query(`SELECT 4 AS a, 5 AS b, 6 AS a, $1::bytea AS c, 1::float8 AS "__proto__"`, [Buffer.from('')]))[0].a, 6)
})

pgTest('connections kept between queries serve transactions and queries mixed, with every connection busy', async (t) => {
  const db = make({ maxConnections: 2, acquireTimeout: 3000 })
  const name = await table(db, 'id int PRIMARY KEY')
  // Both connections are used, then kept idle by the breaker.
  await Promise.all([db.query('SELECT 1 AS one FROM pg_sleep(0.05)'), db.query('SELECT 1 AS one FROM pg_sleep(0.05)')])
  const work = []
  for (let i = 0; i < 12; i++) {
    work.push(
      i % 3 === 0
        ? db.transaction(async (tx) => {
            await tx.execute(`INSERT INTO ${name} VALUES ($1)`, [i])
            return (await tx.query(`SELECT count(*)::int AS n FROM ${name} WHERE id = $1`, [i]))[0].n
          })
        : db.query('SELECT $1::int AS i FROM pg_sleep(0.01)', [i]).then((rows) => rows[0].i),
    )
  }
  const results = await Promise.all(work)
  t.deepEqual(results, [1, 1, 2, 1, 4, 5, 1, 7, 8, 1, 10, 11])
  t.deepEqual(await db.query(`SELECT id FROM ${name} ORDER BY id`), [{ id: 0 }, { id: 3 }, { id: 6 }, { id: 9 }])
  t.is(db.getMetrics().failedCalls, 0)
})

pgTest('a kept connection the server closed is replaced without a failed call', async (t) => {
  const db = make({ maxConnections: 1 })
  const [{ pid }] = await db.query('SELECT pg_backend_pid() AS pid')
  const admin = make()
  t.deepEqual(await admin.query('SELECT pg_terminate_backend($1) AS killed', [pid]), [{ killed: true }])
  // Idle for more than a second: the kept connection is pinged before use, found dead, replaced.
  await new Promise((resolve) => setTimeout(resolve, 1100))
  const [{ pid: next }] = await db.query('SELECT pg_backend_pid() AS pid')
  t.not(next, pid)
  t.is(db.getMetrics().failedCalls, 0)
  t.is(db.state, 'CLOSED')
})

pgTest('sslmode in the URL chooses the transport; without it TLS is used when the server offers it', async (t) => {
  const base = url.replace(/[?&]sslmode=[^&]*/, '')
  const sep = base.includes('?') ? '&' : '?'
  const tls = async (suffix) => {
    const db = make({ url: base + suffix })
    const rows = await db.query('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')
    return rows[0]?.ssl
  }
  t.is(await tls(`${sep}sslmode=disable`), false)
  const offered = (await make({ url: base }).query("SELECT current_setting('ssl') AS ssl"))[0].ssl === 'on'
  t.is(await tls(''), offered)
  if (offered) t.is(await tls(`${sep}sslmode=require`), true)
})
