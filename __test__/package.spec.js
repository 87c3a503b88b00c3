'use strict'
// The package as a user installs it: `npm pack` of the root and of this machine's platform package
// (npm/<platform> with the built addon copied in), both installed into a fresh project with no
// network (--offline, an unreachable registry and an empty cache, so the root's optionalDependency
// can only come from the local tarball), then a CommonJS script, an ESM script, `tsc --strict`
// under `module: nodenext` and `module: commonjs` (each compiled and run), an esbuild bundle, and
// arethetypeswrong on the root tarball. Skips, saying why, only when the addon of this platform
// has not been built.
const test = require('ava')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFile } = require('node:child_process')
const { promisify } = require('node:util')

const run = promisify(execFile)
const root = path.join(__dirname, '..')
const rootPkg = require('../package.json')
const tsc = require.resolve('typescript/bin/tsc')
const attw = path.join(path.dirname(require.resolve('@arethetypeswrong/cli/package.json')), 'dist', 'index.js')
const { platformDir, pack, install } = require('./support/install.js')

function node(args, cwd) {
  return run(process.execPath, args, { cwd, maxBuffer: 16 << 20 })
}

const ctx = {}

test.before(async () => {
  if (!platformDir) return
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'resilience-pack-'))
  ctx.tmp = tmp
  const packed = await pack(tmp)
  ctx.rootPack = packed.rootPack
  ctx.platformPack = packed.platformPack

  const app = path.join(tmp, 'app')
  fs.mkdirSync(app)
  ctx.app = app
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }))
  await install(packed, app)
  fs.cpSync(path.join(__dirname, 'fixtures', 'installed'), app, { recursive: true })
})

test.after.always(() => {
  if (ctx.tmp) fs.rmSync(ctx.tmp, { recursive: true, force: true })
})

function maybe(title, fn) {
  test(title, async (t) => {
    if (!platformDir) {
      t.log(`skipped: no addon built for this platform (run npm run build); npm/*/package.json main files are all missing`)
      t.pass()
      return
    }
    await fn(t)
  })
}

maybe('the tarballs hold what is published, and their sizes', (t) => {
  const files = ctx.rootPack.files.map((f) => f.path).sort()
  const libFiles = fs.readdirSync(path.join(root, 'lib')).map((f) => `lib/${f}`)
  t.deepEqual(files, ['LICENSE', 'README.md', 'index.d.ts', 'index.js', ...libFiles, 'package.json', 'resilience.js'].sort())
  const platformFiles = ctx.platformPack.files.map((f) => f.path).sort()
  const main = require(`../npm/${platformDir}/package.json`).main
  t.deepEqual(platformFiles, ['LICENSE', 'README.md', main, 'package.json'].sort())
  const mb = (n) => `${(n / 1e6).toFixed(2)} MB`
  t.log(`${ctx.rootPack.filename}: packed ${(ctx.rootPack.size / 1e3).toFixed(1)} kB, unpacked ${(ctx.rootPack.unpackedSize / 1e3).toFixed(1)} kB, ${files.length} files`)
  t.log(`${ctx.platformPack.filename}: packed ${mb(ctx.platformPack.size)}, unpacked ${mb(ctx.platformPack.unpackedSize)}`)
})

maybe('the root declares every platform package at its own version, and each is complete', (t) => {
  const expected = {}
  for (const dir of fs.readdirSync(path.join(root, 'npm'))) {
    const pkg = require(`../npm/${dir}/package.json`)
    expected[pkg.name] = rootPkg.version
    t.is(pkg.version, rootPkg.version, pkg.name)
    t.is(pkg.name, `${rootPkg.name}-${dir}`)
    t.is(pkg.main, `${rootPkg.napi.binaryName}.${dir}.node`)
    t.deepEqual(pkg.files, [pkg.main])
    t.is(pkg.license, rootPkg.license)
    t.deepEqual(pkg.engines, rootPkg.engines)
    t.deepEqual(pkg.repository, rootPkg.repository)
    t.true(Array.isArray(pkg.os) && Array.isArray(pkg.cpu), pkg.name)
    if (dir.startsWith('linux-')) t.deepEqual(pkg.libc, [dir.endsWith('-musl') ? 'musl' : 'glibc'])
    t.is(fs.readFileSync(path.join(root, 'npm', dir, 'LICENSE'), 'utf8'), fs.readFileSync(path.join(root, 'LICENSE'), 'utf8'))
  }
  t.deepEqual(rootPkg.optionalDependencies, expected)
  t.is(Object.keys(expected).length, rootPkg.napi.targets.length)
})

maybe('installed offline: the optionalDependency resolved from the local tarball', (t) => {
  const lock = JSON.parse(fs.readFileSync(path.join(ctx.app, 'node_modules', '.package-lock.json'), 'utf8'))
  const platformName = `${rootPkg.name}-${platformDir}`
  const entry = lock.packages[`node_modules/${platformName}`]
  t.truthy(entry, `${platformName} installed`)
  t.true(String(entry.resolved).startsWith('file:'), String(entry.resolved))
  t.false(fs.existsSync(path.join(ctx.app, 'node_modules', rootPkg.name, `${rootPkg.napi.binaryName}.${platformDir}.node`)))
})

maybe('CommonJS: require() of the installed package', async (t) => {
  const { stdout } = await node(['cjs.cjs'], ctx.app)
  t.deepEqual(JSON.parse(stdout), { value: 42, open: true, code: 'ERR_CIRCUIT_OPEN', state: 'OPEN', privateNames: [] })
})

maybe('ESM: named imports and import * of the installed package, one instance shared with require()', async (t) => {
  const { stdout } = await node(['esm.mjs'], ctx.app)
  t.deepEqual(JSON.parse(stdout), {
    value: 42,
    open: true,
    code: 'ERR_CIRCUIT_OPEN',
    state: 'OPEN',
    sameAsRequire: true,
    nsHasNames: true,
    privateNames: [],
  })
})

for (const mode of ['nodenext', 'commonjs']) {
  maybe(`TypeScript: tsc --strict with module ${mode} against the installed typings, compiled and run`, async (t) => {
    const r = await node([tsc, '-p', `tsconfig.${mode}.json`], ctx.app).catch((e) => e)
    t.is(r.code ?? 0, 0, `${r.stdout}${r.stderr}`)
    const out = mode === 'nodenext' ? path.join('out-nodenext', 'usage-esm.js') : path.join('out-commonjs', 'usage-cjs.js')
    const { stdout } = await node([out], ctx.app)
    t.deepEqual(JSON.parse(stdout), { value: 101.5, open: true, totalCalls: 3, typo: 'function' })
  })
}

maybe('a bundler: esbuild inlines the installed package and the named imports work in the bundle', async (t) => {
  // The binary packages are marked external, as the README says: Node loads them at run time from
  // the bundle's folder. The loader's require() of a local `.node` file sits in try blocks, which
  // esbuild leaves to run time.
  await require('esbuild').build({
    absWorkingDir: ctx.app,
    entryPoints: ['bundle-entry.mjs'],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    logLevel: 'error',
    outfile: 'bundle/out.cjs',
    external: ['@neural-trader/resilience-*'],
  })
  const bundled = fs.readFileSync(path.join(ctx.app, 'bundle', 'out.cjs'), 'utf8')
  t.true(bundled.includes('guardReceivers'), 'the package JavaScript is in the bundle')
  const { stdout } = await node([path.join('bundle', 'out.cjs')], ctx.app)
  t.deepEqual(JSON.parse(stdout), { value: 42, open: true, nsHasClass: true })
})

maybe('arethetypeswrong reports no problem on the root tarball', async (t) => {
  const tarball = path.join(ctx.tmp, ctx.rootPack.filename)
  const r = await node([attw, tarball, '--format', 'ascii'], ctx.app).catch((e) => e)
  t.log(r.stdout.trim())
  t.is(r.code ?? 0, 0, `${r.stdout}${r.stderr}`)
})
