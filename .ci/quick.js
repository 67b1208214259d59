// `npm run test:quick`: the contributor's loop, about two minutes on a 2-core machine
// where `npm test` takes about thirteen. Types, lint, unit tests, the build and its size
// limits, then the browser tests in Chromium alone, on the files that cover the core
// paths. What it leaves to `npm test`: Firefox and WebKit, the other browser test files,
// and the packed tarball (publint, attw, e2e/package.test.js, which installs from npm).
import { spawnSync } from 'node:child_process'

/**
 * The browser test files of the quick loop, 10 to 15 s each in Chromium: a reload, one
 * latest state per tab, the back/forward cache, other tabs, failing closed, the demo. The
 * rest (the walks alone take a minute) runs in `npm test`.
 */
export const QUICK_FILES = ['reload', 'latest', 'bfcache', 'tabs', 'failclosed', 'demo']

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
const steps = [
  [npm, ['run', '-s', 'typecheck']],
  [npm, ['run', '-s', 'lint']],
  [npm, ['run', '-s', 'test:unit']],
  [process.execPath, ['.ci/quiet.js', 'build (tsup)', npm, 'run', 'build']],
  [npm, ['run', '-s', 'size']],
  [process.execPath, ['e2e/run.js', ...QUICK_FILES], { TAB_KEYSTORE_ENGINES: 'chromium' }],
]
const started = Date.now()
for (const [command, args, env] of steps) {
  const { status } = spawnSync(command, args, {
    stdio: 'inherit',
    shell: process.platform === 'win32',
    env: { ...process.env, ...env },
  })
  if (status !== 0) process.exit(status || 1)
}
console.log(
  `quick checks passed in ${((Date.now() - started) / 1000).toFixed(0)} s; before a pull request, \`npm test\` runs everything`,
)
