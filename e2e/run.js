// `npm run test:e2e`: the browser suite in every engine asked for (TAB_KEYSTORE_ENGINES,
// all three by default), each in its own process, three at a time, with a readable report
// whose lines say which engine they come from. Engine-independent files (the packed
// tarball) run once. Exits non-zero when any engine fails.
import { spawn } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { assertInstalled, requestedEngines } from './engines/index.js'

const here = dirname(fileURLToPath(import.meta.url))
const ONCE = ['package.test.js']
const only = process.argv.slice(2)
const files = readdirSync(here)
  .filter((f) => f.endsWith('.test.js') && (!only.length || only.some((o) => f.includes(o))))
  .sort()
const browserFiles = files.filter((f) => !ONCE.includes(f))
const onceFiles = files.filter((f) => ONCE.includes(f))

let engines
try {
  engines = requestedEngines()
  assertInstalled(engines)
} catch (error) {
  console.error(error.message)
  process.exit(1)
}
console.log(`browser tests: ${engines.join(', ')} (TAB_KEYSTORE_ENGINES picks), ${browserFiles.length} files each${onceFiles.length ? `; once: ${onceFiles.join(', ')}` : ''}`)

const started = Date.now()
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`

function run(label, env, testFiles) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--test', '--test-reporter=spec', '--test-concurrency=1', ...testFiles.map((f) => join(here, f))], {
      env: { ...process.env, ...env, FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let pending = ''
    const print = (chunk) => {
      pending += chunk
      const lines = pending.split('\n')
      pending = lines.pop()
      for (const line of lines) if (line.trim()) console.log(`[${label} ${elapsed()}] ${line}`)
    }
    child.stdout.on('data', print)
    child.stderr.on('data', print)
    child.on('exit', (code) => {
      if (pending.trim()) console.log(`[${label}] ${pending}`)
      console.log(`[${label}] ${code === 0 ? 'passed' : `FAILED (exit ${code})`} after ${elapsed()}`)
      resolve(code === 0)
    })
  })
}

const jobs = [
  ...engines.map((name) => () => run(name, { TAB_KEYSTORE_ENGINE: name }, browserFiles)),
  ...(onceFiles.length ? [() => run('node', {}, onceFiles)] : []),
]
// Three at a time on CI's two cores: the browser tests mostly wait (on timers, pages,
// storage commits), and the longest engine no longer waits for another to finish.
const parallel = Math.max(1, Number(process.env.TAB_KEYSTORE_E2E_JOBS || 3))
const results = []
const queue = [...jobs]
await Promise.all(
  Array.from({ length: Math.min(parallel, jobs.length) }, async () => {
    while (queue.length) results.push(await queue.shift()())
  }),
)
console.log(`browser tests ${results.every(Boolean) ? 'passed' : 'FAILED'} in ${elapsed()} (${engines.join(', ')})`)
process.exit(results.every(Boolean) ? 0 : 1)
