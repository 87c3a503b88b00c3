'use strict'
// A tiny, deterministic stand-in for the Python kernel behind the E2B code interpreter's /execute.
// It does not execute Python: it parses a small subset (see README in e2b-server.js) and reports
// what a Jupyter kernel would (stdout / stderr text, display results, the main result of a last
// expression, or an exception with name, value and a traceback). Test support only.

const UNSUPPORTED = new Set([
  'def', 'class', 'for', 'while', 'if', 'elif', 'else', 'try', 'except', 'finally', 'with',
  'async', 'await', 'lambda', 'return', 'yield', 'global', 'nonlocal', 'del', 'assert', 'match',
])
const KNOWN_MODULES = new Set([
  'os', 'sys', 'time', 'json', 'math', 'random', 're', 'datetime', 'asyncio', 'collections',
  'itertools', 'functools', 'typing', 'IPython', 'IPython.display',
])

class PyError extends Error {
  /** A Python exception: `name` (ename) and `value` (evalue). */
  constructor(name, value, line) {
    super(`${name}: ${value}`)
    this.pyName = name
    this.pyValue = value
    this.line = line
  }
}

class PySyntaxError extends PyError {
  constructor(value, line, name = 'SyntaxError') {
    super(name, value, line)
  }
}

// ---- tokens -----------------------------------------------------------------------------------

const OPS = ['**', '//', '==', '!=', '<=', '>=', '+', '-', '*', '/', '%', '(', ')', '[', ']', '{',
  '}', ',', ':', '.', '=', '<', '>', ';']

function tokenize(code) {
  const toks = []
  let i = 0
  let line = 1
  let depth = 0
  let atLineStart = true
  let indented = false
  const push = (tok) => {
    if (atLineStart && indented && depth === 0) {
      throw new PySyntaxError('unexpected indent', line, 'IndentationError')
    }
    atLineStart = false
    toks.push({ ...tok, line })
  }
  const endStatement = () => {
    if (depth === 0 && toks.length && toks[toks.length - 1].t !== 'NL') toks.push({ t: 'NL', line })
  }
  while (i < code.length) {
    const c = code[i]
    if (c === '\n') {
      endStatement()
      line++
      i++
      if (depth === 0) {
        atLineStart = true
        indented = false
      }
      continue
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f') {
      if (atLineStart) indented = true
      i++
      continue
    }
    if (c === '#') {
      while (i < code.length && code[i] !== '\n') i++
      continue
    }
    if (c === '\\' && code[i + 1] === '\n') {
      i += 2
      line++
      continue
    }
    // strings, with optional r / u / b prefixes (f-strings are not supported)
    const prefix = /^([rRuUbB]?)(['"])/.exec(code.slice(i, i + 2))
    if (prefix || c === '"' || c === "'") {
      const raw = prefix ? /r/i.test(prefix[1]) : false
      let j = i + (prefix ? prefix[1].length : 0)
      const quote = code[j]
      const triple = code.slice(j, j + 3) === quote.repeat(3)
      const close = triple ? quote.repeat(3) : quote
      j += close.length
      let value = ''
      const startLine = line
      for (;;) {
        if (j >= code.length || (!triple && code[j] === '\n')) {
          throw new PySyntaxError('unterminated string literal', startLine)
        }
        if (code.startsWith(close, j)) {
          j += close.length
          break
        }
        const ch = code[j]
        if (ch === '\n') line++
        if (ch === '\\' && !raw) {
          const n = code[j + 1]
          const simple = { n: '\n', t: '\t', r: '\r', 0: '\0', '\\': '\\', "'": "'", '"': '"' }
          if (n in simple) {
            value += simple[n]
            j += 2
          } else if (n === 'x' && /^[0-9a-fA-F]{2}$/.test(code.slice(j + 2, j + 4))) {
            value += String.fromCharCode(parseInt(code.slice(j + 2, j + 4), 16))
            j += 4
          } else if (n === 'u' && /^[0-9a-fA-F]{4}$/.test(code.slice(j + 2, j + 6))) {
            value += String.fromCharCode(parseInt(code.slice(j + 2, j + 6), 16))
            j += 6
          } else if (n === '\n') {
            line++
            j += 2
          } else {
            value += ch
            j += 1
          }
          continue
        }
        value += ch
        j++
      }
      const prev = toks[toks.length - 1]
      if (prev && prev.t === 'STR' && prev.line === line && !atLineStart) {
        prev.v += value // implicit concatenation of adjacent literals
      } else {
        push({ t: 'STR', v: value })
      }
      i = j
      continue
    }
    const num = /^(?:\d[\d_]*(?:\.[\d_]*)?(?:[eE][+-]?\d+)?|\.\d[\d_]*(?:[eE][+-]?\d+)?)/.exec(
      code.slice(i),
    )
    if (num) {
      const text = num[0].replace(/_/g, '')
      if (/[.eE]/.test(text)) push({ t: 'NUM', v: Number(text) })
      else push({ t: 'NUM', v: BigInt(text) })
      i += num[0].length
      if (/[A-Za-z_]/.test(code[i] ?? '')) throw new PySyntaxError('invalid decimal literal', line)
      continue
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(code.slice(i))
    if (name) {
      push({ t: 'NAME', v: name[0] })
      i += name[0].length
      continue
    }
    const op = OPS.find((o) => code.startsWith(o, i))
    if (op) {
      if (op === ';' && depth === 0) {
        if (!toks.length || toks[toks.length - 1].t === 'NL') throw new PySyntaxError('invalid syntax', line)
        endStatement()
        i++
        continue
      }
      if ('([{'.includes(op)) depth++
      if (')]}'.includes(op)) {
        if (depth === 0) throw new PySyntaxError(`unmatched '${op}'`, line)
        depth--
      }
      push({ t: 'OP', v: op })
      i += op.length
      continue
    }
    throw new PySyntaxError(`invalid character '${c}' (U+${c.codePointAt(0).toString(16).toUpperCase().padStart(4, '0')})`, line)
  }
  if (depth > 0) throw new PySyntaxError("'(' was never closed", line)
  endStatement()
  return toks
}

// ---- parser -----------------------------------------------------------------------------------

class Parser {
  constructor(toks) {
    this.toks = toks
    this.i = 0
  }

  peek(offset = 0) {
    return this.toks[this.i + offset]
  }

  line() {
    return (this.peek() ?? this.toks[this.toks.length - 1])?.line ?? 1
  }

  isOp(v) {
    const t = this.peek()
    return t && t.t === 'OP' && t.v === v
  }

  isName(v) {
    const t = this.peek()
    return t && t.t === 'NAME' && t.v === v
  }

  fail(msg = 'invalid syntax') {
    throw new PySyntaxError(msg, this.line())
  }

  expectOp(v) {
    if (!this.isOp(v)) this.fail()
    this.i++
  }

  name() {
    const t = this.peek()
    if (!t || t.t !== 'NAME') this.fail()
    this.i++
    return t.v
  }

  atEnd() {
    const t = this.peek()
    return !t || t.t === 'NL'
  }

  program() {
    const statements = []
    while (this.i < this.toks.length) {
      if (this.peek().t === 'NL') {
        this.i++
        continue
      }
      const line = this.line()
      const node = this.statement()
      if (!this.atEnd()) this.fail()
      this.i++
      statements.push({ ...node, line })
    }
    return statements
  }

  dotted() {
    let n = this.name()
    while (this.isOp('.')) {
      this.i++
      n += `.${this.name()}`
    }
    return n
  }

  statement() {
    const t = this.peek()
    if (t.t === 'NAME' && UNSUPPORTED.has(t.v)) {
      this.fail(`'${t.v}' is not supported by the E2B test server's mini interpreter`)
    }
    if (t.t === 'NAME' && t.v === 'pass') {
      this.i++
      return { k: 'pass' }
    }
    if (t.t === 'NAME' && t.v === 'import') {
      this.i++
      const names = []
      do {
        if (names.length) this.i++
        const module = this.dotted()
        let as
        if (this.isName('as')) {
          this.i++
          as = this.name()
        }
        names.push({ module, as })
      } while (this.isOp(','))
      return { k: 'import', names }
    }
    if (t.t === 'NAME' && t.v === 'from') {
      this.i++
      const module = this.dotted()
      if (!this.isName('import')) this.fail()
      this.i++
      const names = []
      if (this.isOp('*')) {
        this.i++
        return { k: 'from', module, names: '*' }
      }
      const paren = this.isOp('(')
      if (paren) this.i++
      do {
        if (names.length) this.i++
        const name = this.name()
        let as
        if (this.isName('as')) {
          this.i++
          as = this.name()
        }
        names.push({ name, as })
      } while (this.isOp(','))
      if (paren) this.expectOp(')')
      return { k: 'from', module, names }
    }
    if (t.t === 'NAME' && t.v === 'raise') {
      this.i++
      if (this.atEnd()) return { k: 'raise', e: null }
      return { k: 'raise', e: this.expr() }
    }
    const e = this.expr()
    if (this.isOp('=')) {
      if (e.k !== 'name' && e.k !== 'index') this.fail('cannot assign to expression')
      this.i++
      return { k: 'assign', target: e, e: this.expr() }
    }
    return { k: 'expr', e }
  }

  expr() {
    return this.not()
  }

  not() {
    if (this.isName('not')) {
      this.i++
      return { k: 'not', e: this.not() }
    }
    return this.comparison()
  }

  comparison() {
    const l = this.additive()
    const t = this.peek()
    if (t && t.t === 'OP' && ['==', '!=', '<', '>', '<=', '>='].includes(t.v)) {
      this.i++
      return { k: 'cmp', op: t.v, l, r: this.additive() }
    }
    return l
  }

  additive() {
    let l = this.term()
    while (this.isOp('+') || this.isOp('-')) {
      const op = this.peek().v
      this.i++
      l = { k: 'bin', op, l, r: this.term() }
    }
    return l
  }

  term() {
    let l = this.unary()
    while (['*', '/', '//', '%'].some((o) => this.isOp(o))) {
      const op = this.peek().v
      this.i++
      l = { k: 'bin', op, l, r: this.unary() }
    }
    return l
  }

  unary() {
    if (this.isOp('-') || this.isOp('+')) {
      const op = this.peek().v
      this.i++
      return { k: 'unary', op, e: this.unary() }
    }
    return this.power()
  }

  power() {
    const base = this.postfix()
    if (this.isOp('**')) {
      this.i++
      return { k: 'bin', op: '**', l: base, r: this.unary() }
    }
    return base
  }

  postfix() {
    let e = this.atom()
    for (;;) {
      if (this.isOp('.')) {
        this.i++
        e = { k: 'attr', e, name: this.name() }
      } else if (this.isOp('(')) {
        this.i++
        const args = []
        const kwargs = []
        while (!this.isOp(')')) {
          const t = this.peek()
          const next = this.peek(1)
          if (t?.t === 'NAME' && next?.t === 'OP' && next.v === '=') {
            this.i += 2
            kwargs.push({ name: t.v, e: this.expr() })
          } else {
            if (kwargs.length) this.fail('positional argument follows keyword argument')
            args.push(this.expr())
          }
          if (!this.isOp(',')) break
          this.i++
        }
        this.expectOp(')')
        e = { k: 'call', f: e, args, kwargs }
      } else if (this.isOp('[')) {
        this.i++
        const index = this.expr()
        this.expectOp(']')
        e = { k: 'index', e, index }
      } else {
        return e
      }
    }
  }

  atom() {
    const t = this.peek()
    if (!t || t.t === 'NL') this.fail()
    this.i++
    if (t.t === 'NUM') return { k: 'lit', v: t.v }
    if (t.t === 'STR') return { k: 'lit', v: t.v }
    if (t.t === 'NAME') {
      if (t.v === 'True') return { k: 'lit', v: true }
      if (t.v === 'False') return { k: 'lit', v: false }
      if (t.v === 'None') return { k: 'lit', v: null }
      if (UNSUPPORTED.has(t.v) || ['import', 'from', 'raise', 'pass', 'and', 'or', 'in', 'is'].includes(t.v)) {
        this.i--
        this.fail()
      }
      return { k: 'name', id: t.v }
    }
    if (t.v === '(') {
      const e = this.expr()
      if (this.isOp(',')) this.fail('tuples are not supported by the mini interpreter')
      this.expectOp(')')
      return e
    }
    if (t.v === '[') {
      const items = []
      while (!this.isOp(']')) {
        items.push(this.expr())
        if (!this.isOp(',')) break
        this.i++
      }
      this.expectOp(']')
      return { k: 'list', items }
    }
    if (t.v === '{') {
      const entries = []
      while (!this.isOp('}')) {
        const key = this.expr()
        this.expectOp(':')
        entries.push([key, this.expr()])
        if (!this.isOp(',')) break
        this.i++
      }
      this.expectOp('}')
      return { k: 'dict', entries }
    }
    this.i--
    return this.fail()
  }
}

function parse(code) {
  return new Parser(tokenize(code)).program()
}

// ---- values -----------------------------------------------------------------------------------

const isInt = (v) => typeof v === 'bigint'
const isNum = (v) => typeof v === 'bigint' || typeof v === 'number' || typeof v === 'boolean'

function typeName(v) {
  if (v === null) return 'NoneType'
  if (typeof v === 'bigint') return 'int'
  if (typeof v === 'number') return 'float'
  if (typeof v === 'string') return 'str'
  if (typeof v === 'boolean') return 'bool'
  switch (v.py) {
    case 'list':
      return 'list'
    case 'dict':
      return 'dict'
    case 'fn':
      return 'builtin_function_or_method'
    case 'module':
      return 'module'
    case 'exc':
      return 'type'
    case 'excinst':
      return v.name
    default:
      return 'object'
  }
}

function floatRepr(x) {
  if (Number.isNaN(x)) return 'nan'
  if (x === Infinity) return 'inf'
  if (x === -Infinity) return '-inf'
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return `${Object.is(x, -0) ? '-0' : x}.0`
  return String(x).replace(/e([+-])(\d)$/, 'e$10$2')
}

function strRepr(s) {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'"
  let out = ''
  for (const ch of s) {
    if (ch === '\\') out += '\\\\'
    else if (ch === quote) out += `\\${quote}`
    else if (ch === '\n') out += '\\n'
    else if (ch === '\t') out += '\\t'
    else if (ch === '\r') out += '\\r'
    else if (ch < ' ') out += `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`
    else out += ch
  }
  return quote + out + quote
}

function repr(v) {
  if (v === null) return 'None'
  if (typeof v === 'boolean') return v ? 'True' : 'False'
  if (typeof v === 'bigint') return v.toString()
  if (typeof v === 'number') return floatRepr(v)
  if (typeof v === 'string') return strRepr(v)
  switch (v.py) {
    case 'list':
      return `[${v.items.map(repr).join(', ')}]`
    case 'dict':
      return `{${v.entries.map(([k, x]) => `${repr(k)}: ${repr(x)}`).join(', ')}}`
    case 'fn':
      return `<built-in function ${v.name}>`
    case 'module':
      return `<module '${v.name}'>`
    case 'exc':
      return `<class '${v.name}'>`
    case 'excinst':
      return `${v.name}(${v.args.map(repr).join(', ')})`
    case 'environ':
      return `environ({${[...v.env.entries()].map(([k, x]) => `${strRepr(k)}: ${strRepr(x)}`).join(', ')}})`
    case 'stream':
      return `<_io.TextIOWrapper name='<${v.name}>' mode='w' encoding='utf-8'>`
    case 'json':
      return '<IPython.core.display.JSON object>'
    default:
      return '<object>'
  }
}

function str(v) {
  if (typeof v === 'string') return v
  if (v && v.py === 'excinst') {
    if (v.args.length === 0) return ''
    if (v.args.length === 1) return v.name === 'KeyError' ? repr(v.args[0]) : str(v.args[0])
    return `(${v.args.map(repr).join(', ')})`
  }
  return repr(v)
}

function truthy(v) {
  if (v === null || v === false) return false
  if (typeof v === 'bigint') return v !== 0n
  if (typeof v === 'number') return v !== 0
  if (typeof v === 'string') return v.length > 0
  if (v.py === 'list') return v.items.length > 0
  if (v.py === 'dict') return v.entries.length > 0
  return true
}

function equals(a, b) {
  if (isNum(a) && isNum(b)) {
    const x = typeof a === 'boolean' ? BigInt(a) : a
    const y = typeof b === 'boolean' ? BigInt(b) : b
    // eslint-disable-next-line eqeqeq
    return x == y
  }
  if (typeof a === 'string' || typeof b === 'string') return a === b
  if (a === null || b === null) return a === b
  if (a.py === 'list' && b.py === 'list') {
    return a.items.length === b.items.length && a.items.every((x, i) => equals(x, b.items[i]))
  }
  return a === b
}

/** A value as plain JSON (for JSON() display data and json.dumps). */
function toJson(v, line) {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v
  if (typeof v === 'bigint') return Number(v)
  if (typeof v === 'number') return v
  if (v.py === 'list') return v.items.map((x) => toJson(x, line))
  if (v.py === 'dict') {
    const out = {}
    for (const [k, x] of v.entries) out[typeof k === 'string' ? k : str(k)] = toJson(x, line)
    return out
  }
  throw new PyError('TypeError', `Object of type ${typeName(v)} is not JSON serializable`, line)
}

// ---- evaluation -------------------------------------------------------------------------------

function numeric(v) {
  return typeof v === 'boolean' ? BigInt(v) : v
}

function arith(op, a, b, line) {
  const bad = () => {
    if (op === '+' && typeof a === 'string') {
      return new PyError('TypeError', `can only concatenate str (not "${typeName(b)}") to str`, line)
    }
    return new PyError(
      'TypeError',
      `unsupported operand type(s) for ${op}: '${typeName(a)}' and '${typeName(b)}'`,
      line,
    )
  }
  if (op === '+' && typeof a === 'string' && typeof b === 'string') return a + b
  if (op === '+' && a?.py === 'list' && b?.py === 'list') return { py: 'list', items: [...a.items, ...b.items] }
  if (op === '*' && ((typeof a === 'string' && isInt(numeric(b))) || (isInt(numeric(a)) && typeof b === 'string'))) {
    const [s, n] = typeof a === 'string' ? [a, numeric(b)] : [b, numeric(a)]
    return n > 0n ? s.repeat(Number(n)) : ''
  }
  if (!isNum(a) || !isNum(b)) throw bad()
  const x = numeric(a)
  const y = numeric(b)
  if (isInt(x) && isInt(y)) {
    switch (op) {
      case '+':
        return x + y
      case '-':
        return x - y
      case '*':
        return x * y
      case '/':
        if (y === 0n) throw new PyError('ZeroDivisionError', 'division by zero', line)
        return Number(x) / Number(y)
      case '//': {
        if (y === 0n) throw new PyError('ZeroDivisionError', 'integer division or modulo by zero', line)
        const q = x / y
        return (x % y !== 0n) && ((x < 0n) !== (y < 0n)) ? q - 1n : q
      }
      case '%': {
        if (y === 0n) throw new PyError('ZeroDivisionError', 'integer modulo by zero', line)
        const r = x % y
        return r !== 0n && (r < 0n) !== (y < 0n) ? r + y : r
      }
      case '**':
        return y >= 0n ? x ** y : Number(x) ** Number(y)
      default:
        throw bad()
    }
  }
  const fx = Number(x)
  const fy = Number(y)
  switch (op) {
    case '+':
      return fx + fy
    case '-':
      return fx - fy
    case '*':
      return fx * fy
    case '/':
      if (fy === 0) throw new PyError('ZeroDivisionError', 'float division by zero', line)
      return fx / fy
    case '//':
      if (fy === 0) throw new PyError('ZeroDivisionError', 'float floor division by zero', line)
      return Math.floor(fx / fy)
    case '%':
      if (fy === 0) throw new PyError('ZeroDivisionError', 'float modulo', line)
      return fx - fy * Math.floor(fx / fy)
    case '**':
      return fx ** fy
    default:
      throw bad()
  }
}

function compare(op, a, b, line) {
  if (op === '==') return equals(a, b)
  if (op === '!=') return !equals(a, b)
  const ok = (isNum(a) && isNum(b)) || (typeof a === 'string' && typeof b === 'string')
  if (!ok) {
    throw new PyError(
      'TypeError',
      `'${op}' not supported between instances of '${typeName(a)}' and '${typeName(b)}'`,
      line,
    )
  }
  const x = numeric(a)
  const y = numeric(b)
  switch (op) {
    case '<':
      return x < y
    case '>':
      return x > y
    case '<=':
      return x <= y
    default:
      return x >= y
  }
}

function isExceptionName(name) {
  return /(Error|Exception|Warning)$/.test(name) || ['KeyboardInterrupt', 'StopIteration', 'SystemExit', 'GeneratorExit'].includes(name)
}

/**
 * Runs `code` against `io`:
 *   io.stdout(text), io.stderr(text), io.display(result, isMain), io.sleep(seconds): async
 *   io.env: Map of environment variables (os.environ); io.globals: Map of kernel variables
 * Returns { error } when the code raised (error: { name, value, line }) or {} on success; the
 * main result (the value of a last expression statement, unless None) goes through io.display.
 */
async function run(code, io) {
  let statements
  try {
    statements = parse(code)
  } catch (err) {
    if (err instanceof PyError) return { error: err, syntax: true }
    throw err
  }

  const fn = (name, call) => ({ py: 'fn', name, call })
  const streams = { stdout: { py: 'stream', name: 'stdout' }, stderr: { py: 'stream', name: 'stderr' } }
  const environ = { py: 'environ', env: io.env }

  const sleepFn = fn('sleep', async ([secs], _kw, line) => {
    if (!isNum(secs)) throw new PyError('TypeError', `'${typeName(secs)}' object cannot be interpreted as an integer`, line)
    const s = Number(numeric(secs))
    if (s < 0) throw new PyError('ValueError', 'sleep length must be non-negative', line)
    await io.sleep(s)
    return null
  })
  const getenv = fn('getenv', async ([key, dflt = null]) => (io.env.has(key) ? io.env.get(key) : dflt))
  const modules = {
    os: { py: 'module', name: 'os', attrs: { environ, getenv } },
    sys: { py: 'module', name: 'sys', attrs: { stdout: streams.stdout, stderr: streams.stderr, version: '3.12.0 (e2b test server)' } },
    time: { py: 'module', name: 'time', attrs: { sleep: sleepFn } },
    json: {
      py: 'module',
      name: 'json',
      attrs: {
        dumps: fn('dumps', async ([v], _kw, line) => require('./harness.js').pyJson(toJson(v, line))),
      },
    },
  }
  const jsonDisplay = fn('JSON', async ([v], _kw, line) => ({ py: 'json', data: toJson(v, line) }))
  const displayFn = fn('display', async (args) => {
    for (const v of args) await io.display(v, false)
    return null
  })
  modules['IPython.display'] = { py: 'module', name: 'IPython.display', attrs: { JSON: jsonDisplay, display: displayFn } }
  modules.IPython = { py: 'module', name: 'IPython', attrs: { display: modules['IPython.display'] } }

  const builtins = {
    print: fn('print', async (args, kw, line) => {
      const sep = kw.sep === undefined || kw.sep === null ? ' ' : kw.sep
      const end = kw.end === undefined || kw.end === null ? '\n' : kw.end
      const file = kw.file ?? streams.stdout
      if (file?.py !== 'stream') throw new PyError('AttributeError', `'${typeName(file)}' object has no attribute 'write'`, line)
      const text = args.map(str).join(sep) + end
      if (file.name === 'stderr') await io.stderr(text)
      else await io.stdout(text)
      return null
    }),
    len: fn('len', async ([v], _kw, line) => {
      if (typeof v === 'string') return BigInt([...v].length)
      if (v?.py === 'list') return BigInt(v.items.length)
      if (v?.py === 'dict') return BigInt(v.entries.length)
      throw new PyError('TypeError', `object of type '${typeName(v)}' has no len()`, line)
    }),
    str: fn('str', async ([v = '']) => str(v)),
    repr: fn('repr', async ([v]) => repr(v)),
    int: fn('int', async ([v = 0n], _kw, line) => {
      if (typeof v === 'string') {
        if (!/^\s*[+-]?\d+\s*$/.test(v)) throw new PyError('ValueError', `invalid literal for int() with base 10: ${repr(v)}`, line)
        return BigInt(v.trim())
      }
      if (typeof v === 'number') return BigInt(Math.trunc(v))
      if (isNum(v)) return numeric(v)
      throw new PyError('TypeError', `int() argument must be a string or a number, not '${typeName(v)}'`, line)
    }),
    float: fn('float', async ([v = 0], _kw, line) => {
      if (typeof v === 'string') {
        const n = Number(v.trim())
        if (v.trim() === '' || Number.isNaN(n)) throw new PyError('ValueError', `could not convert string to float: ${repr(v)}`, line)
        return n
      }
      if (isNum(v)) return Number(numeric(v))
      throw new PyError('TypeError', `float() argument must be a string or a real number, not '${typeName(v)}'`, line)
    }),
    abs: fn('abs', async ([v], _kw, line) => {
      const x = numeric(v)
      if (typeof x === 'bigint') return x < 0n ? -x : x
      if (typeof x === 'number') return Math.abs(x)
      throw new PyError('TypeError', `bad operand type for abs(): '${typeName(v)}'`, line)
    }),
    // Lenient (unlike Python): usable without importing.
    os: modules.os,
    sys: modules.sys,
    time: modules.time,
    sleep: sleepFn,
    display: displayFn,
    JSON: jsonDisplay,
  }

  const lookup = (id, line) => {
    if (io.globals.has(id)) return io.globals.get(id)
    if (id in builtins) return builtins[id]
    if (isExceptionName(id)) return { py: 'exc', name: id }
    throw new PyError('NameError', `name '${id}' is not defined`, line)
  }

  async function ev(node, line) {
    switch (node.k) {
      case 'lit':
        return node.v
      case 'name':
        return lookup(node.id, line)
      case 'list':
        return { py: 'list', items: await Promise.all(node.items.map((x) => ev(x, line))) }
      case 'dict': {
        const entries = []
        for (const [k, x] of node.entries) {
          const key = await ev(k, line)
          const value = await ev(x, line)
          const at = entries.findIndex(([e]) => equals(e, key))
          if (at === -1) entries.push([key, value])
          else entries[at] = [key, value]
        }
        return { py: 'dict', entries }
      }
      case 'not':
        return !truthy(await ev(node.e, line))
      case 'unary': {
        const v = await ev(node.e, line)
        if (!isNum(v)) throw new PyError('TypeError', `bad operand type for unary ${node.op}: '${typeName(v)}'`, line)
        const x = numeric(v)
        return node.op === '-' ? -x : x
      }
      case 'bin':
        return arith(node.op, await ev(node.l, line), await ev(node.r, line), line)
      case 'cmp':
        return compare(node.op, await ev(node.l, line), await ev(node.r, line), line)
      case 'attr': {
        const target = await ev(node.e, line)
        if (target?.py === 'module' && node.name in target.attrs) return target.attrs[node.name]
        if (target?.py === 'environ' && node.name === 'get') {
          return fn('get', async ([key, dflt = null]) => (io.env.has(key) ? io.env.get(key) : dflt))
        }
        if (target?.py === 'module') {
          throw new PyError('AttributeError', `module '${target.name}' has no attribute '${node.name}'`, line)
        }
        throw new PyError('AttributeError', `'${typeName(target)}' object has no attribute '${node.name}'`, line)
      }
      case 'call': {
        const f = await ev(node.f, line)
        const args = []
        for (const a of node.args) args.push(await ev(a, line))
        const kw = {}
        for (const { name, e } of node.kwargs) kw[name] = await ev(e, line)
        if (f?.py === 'fn') return f.call(args, kw, line)
        if (f?.py === 'exc') return { py: 'excinst', name: f.name, args }
        throw new PyError('TypeError', `'${typeName(f)}' object is not callable`, line)
      }
      case 'index': {
        const target = await ev(node.e, line)
        const key = await ev(node.index, line)
        if (target?.py === 'environ') {
          if (typeof key !== 'string') throw new PyError('TypeError', `str expected, not ${typeName(key)}`, line)
          if (!io.env.has(key)) throw new PyError('KeyError', repr(key), line)
          return io.env.get(key)
        }
        if (target?.py === 'dict') {
          const hit = target.entries.find(([k]) => equals(k, key))
          if (!hit) throw new PyError('KeyError', repr(key), line)
          return hit[1]
        }
        if (target?.py === 'list' || typeof target === 'string') {
          if (!isInt(numeric(key)) || typeof key === 'boolean') {
            throw new PyError('TypeError', `${typeName(target)} indices must be integers or slices, not ${typeName(key)}`, line)
          }
          const seq = typeof target === 'string' ? [...target] : target.items
          let i = Number(key)
          if (i < 0) i += seq.length
          if (i < 0 || i >= seq.length) throw new PyError('IndexError', `${typeName(target)} index out of range`, line)
          return seq[i]
        }
        throw new PyError('TypeError', `'${typeName(target)}' object is not subscriptable`, line)
      }
      default:
        throw new PyError('SystemError', `unknown node ${node.k}`, line)
    }
  }

  try {
    for (let s = 0; s < statements.length; s++) {
      const st = statements[s]
      const line = st.line
      switch (st.k) {
        case 'pass':
          break
        case 'import':
          for (const { module, as } of st.names) {
            if (!KNOWN_MODULES.has(module) && !KNOWN_MODULES.has(module.split('.')[0])) {
              throw new PyError('ModuleNotFoundError', `No module named '${module}'`, line)
            }
            const top = as ? module : module.split('.')[0]
            io.globals.set(as ?? top, modules[top] ?? { py: 'module', name: top, attrs: {} })
          }
          break
        case 'from': {
          if (!KNOWN_MODULES.has(st.module) && !KNOWN_MODULES.has(st.module.split('.')[0])) {
            throw new PyError('ModuleNotFoundError', `No module named '${st.module}'`, line)
          }
          const mod = modules[st.module] ?? { py: 'module', name: st.module, attrs: {} }
          const names = st.names === '*' ? Object.keys(mod.attrs).map((name) => ({ name })) : st.names
          for (const { name, as } of names) {
            if (!(name in mod.attrs)) {
              throw new PyError('ImportError', `cannot import name '${name}' from '${st.module}'`, line)
            }
            io.globals.set(as ?? name, mod.attrs[name])
          }
          break
        }
        case 'raise': {
          if (st.e === null) throw new PyError('RuntimeError', 'No active exception to reraise', line)
          const v = await ev(st.e, line)
          if (v?.py === 'exc') throw new PyError(v.name, '', line)
          if (v?.py === 'excinst') throw new PyError(v.name, str(v), line)
          throw new PyError('TypeError', 'exceptions must derive from BaseException', line)
        }
        case 'assign': {
          const value = await ev(st.e, line)
          if (st.target.k === 'name') {
            io.globals.set(st.target.id, value)
          } else {
            const target = await ev(st.target.e, line)
            const key = await ev(st.target.index, line)
            if (target?.py === 'environ') {
              if (typeof key !== 'string' || typeof value !== 'string') {
                throw new PyError('TypeError', `str expected, not ${typeName(typeof key !== 'string' ? key : value)}`, line)
              }
              io.env.set(key, value)
              io.onEnvSet?.(key, value)
            } else if (target?.py === 'dict') {
              const at = target.entries.findIndex(([k]) => equals(k, key))
              if (at === -1) target.entries.push([key, value])
              else target.entries[at] = [key, value]
            } else if (target?.py === 'list') {
              let i = Number(numeric(key))
              if (i < 0) i += target.items.length
              if (!(i >= 0 && i < target.items.length)) throw new PyError('IndexError', 'list assignment index out of range', line)
              target.items[i] = value
            } else {
              throw new PyError('TypeError', `'${typeName(target)}' object does not support item assignment`, line)
            }
          }
          break
        }
        case 'expr': {
          const value = await ev(st.e, line)
          if (s === statements.length - 1 && value !== null) await io.display(value, true)
          break
        }
        default:
          throw new PyError('SystemError', `unknown statement ${st.k}`, line)
      }
    }
  } catch (err) {
    if (err instanceof PyError) return { error: err }
    throw err
  }
  return {}
}

/** IPython-like traceback text for an error from run(). */
function traceback(code, error, executionCount, syntax) {
  const lines = code.split('\n')
  const at = error.line ?? 1
  if (syntax) {
    return [
      `  Cell In[${executionCount}], line ${at}`,
      `    ${(lines[at - 1] ?? '').trim()}`,
      '    ^',
      `${error.pyName}: ${error.pyValue}`,
    ].join('\n')
  }
  const out = [
    '---------------------------------------------------------------------------',
    `${error.pyName.padEnd(42)}Traceback (most recent call last)`,
    `Cell In[${executionCount}], line ${at}`,
  ]
  for (let n = Math.max(1, at - 2); n <= at; n++) {
    out.push(`${n === at ? '---->' : '     '} ${String(n).padStart(1)} ${lines[n - 1] ?? ''}`)
  }
  out.push('', error.pyValue === '' ? error.pyName : `${error.pyName}: ${error.pyValue}`)
  return out.join('\n')
}

/** The `result` line fields for a displayed value (text, json), as the E2B Result model has them. */
function resultFields(value) {
  if (value?.py === 'json') return { text: repr(value), json: value.data }
  let text = repr(value)
  if (text.length >= 2 && text.startsWith("'") && text.endsWith("'")) text = text.slice(1, -1)
  return { text }
}

module.exports = { run, parse, traceback, resultFields, repr, str, PyError }
