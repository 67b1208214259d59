// Runs a command and shows its output only when it fails: `npm test` stays quiet on
// success and loud on failure. Usage: node .ci/quiet.js <label> <command> [args...]
import { spawnSync } from 'node:child_process'

const [label, command, ...args] = process.argv.slice(2)
const started = Date.now()
const result = spawnSync(command, args, {
  encoding: 'utf8',
  shell: process.platform === 'win32',
  env: { ...process.env, NO_COLOR: '1' },
})
if (result.status === 0) {
  // A test runner's count line, when it has one, says what passed.
  const plain = (result.stdout ?? '').replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '') // colours off
  const count = /^\s*Tests\s+(.*passed.*)$/m.exec(plain)?.[1].trim()
  console.log(`✔ ${label}${count ? `: ${count}` : ''} (${((Date.now() - started) / 1000).toFixed(1)} s)`)
} else {
  process.stdout.write(result.stdout ?? '')
  process.stderr.write(result.stderr ?? '')
  if (result.error) console.error(result.error)
  console.error(`✖ ${label} failed (exit ${result.status})`)
  process.exit(result.status || 1)
}
