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
if (!files.length) {
  console.error(`no test file matches ${only.join(', ')}`)
  process.exit(1)
}
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
console.log(
  `browser tests: ${engines.join(', ')} (TAB_KEYSTORE_ENGINES picks), ${browserFiles.length} files each${onceFiles.length ? `; once: ${onceFiles.join(', ')}` : ''}`,
)

const started = Date.now()
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`

/**
 * How long an engine may print nothing before it counts as hung: its longest test (the
 * walks) prints within two minutes. A WebKitWebDriver that stopped answering once left a
 * test file waiting for ever, with CI's whole allowance to run out: killed, it fails now.
 */
const SILENT_LIMIT_MS = 4 * 60_000

function run(label, env, testFiles) {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--test', '--test-reporter=spec', '--test-concurrency=1', ...testFiles.map((f) => join(here, f))],
      {
        env: { ...process.env, ...env, FORCE_COLOR: '0' },
        stdio: ['ignore', 'pipe', 'pipe'],
        // Its own process group, so that a hung run is killed with the browsers it started.
        detached: true,
      },
    )
    let hung = false
    let silence
    const watch = () => {
      clearTimeout(silence)
      silence = setTimeout(() => {
        hung = true
        console.log(
          `[${label}] HUNG: nothing printed for ${SILENT_LIMIT_MS / 60_000} min; killing it and what it started`,
        )
        try {
          process.kill(-child.pid, 'SIGKILL')
        } catch {
          child.kill('SIGKILL')
        }
      }, SILENT_LIMIT_MS)
    }
    watch()
    let pending = ''
    const print = (chunk) => {
      watch()
      pending += chunk
      const lines = pending.split('\n')
      pending = lines.pop()
      for (const line of lines) if (line.trim()) console.log(`[${label} ${elapsed()}] ${line}`)
    }
    child.stdout.on('data', print)
    child.stderr.on('data', print)
    child.on('exit', (code) => {
      clearTimeout(silence)
      if (pending.trim()) console.log(`[${label}] ${pending}`)
      console.log(
        `[${label}] ${code === 0 && !hung ? 'passed' : `FAILED (${hung ? 'hung' : `exit ${code}`})`} after ${elapsed()}`,
      )
      resolve(code === 0 && !hung)
    })
  })
}

const jobs = [
  // `node --test` given no file runs every test file it finds: a filter that matches only
  // the once-files (`node e2e/run.js package`) ran the whole browser suite too.
  ...(browserFiles.length ? engines : []).map((name) => () => run(name, { TAB_KEYSTORE_ENGINE: name }, browserFiles)),
  ...(onceFiles.length ? [() => run('node', {}, onceFiles)] : []),
]
// Two at a time on CI's two cores: three at once (which saved time when CI allowed 15
// minutes) made WebKit's driver drop a script now and then under the load (a 30 s
// timeout, then a hung test file: seen once in a clean-clone run here).
const parallel = Math.max(1, Number(process.env.TAB_KEYSTORE_E2E_JOBS || 2))
const results = []
const queue = [...jobs]
await Promise.all(
  Array.from({ length: Math.min(parallel, jobs.length) }, async () => {
    while (queue.length) results.push(await queue.shift()())
  }),
)
console.log(`browser tests ${results.every(Boolean) ? 'passed' : 'FAILED'} in ${elapsed()} (${engines.join(', ')})`)
process.exit(results.every(Boolean) ? 0 : 1)
