// The three engines behind one small interface, so that every browser test is written
// once: launch({ bfcache }) -> { version, newContext() -> { newPage(url), waitForPage(trigger),
// close() }, close() }, and launchProfile(dir, url) for a browser on a profile directory.
// Pages are e2e/engines/page.js.
import * as chromium from './chromium.js'
import * as firefox from './firefox.js'
import * as webkit from './webkit.js'

export const ENGINES = { chromium, firefox, webkit }

/** The engines asked for by TAB_KEYSTORE_ENGINES (comma-separated), all three by default. */
export function requestedEngines() {
  const names = (process.env.TAB_KEYSTORE_ENGINES || Object.keys(ENGINES).join(','))
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean)
  for (const name of names) {
    if (!ENGINES[name])
      throw new Error(`TAB_KEYSTORE_ENGINES: unknown engine "${name}"; use any of ${Object.keys(ENGINES).join(', ')}`)
  }
  return names
}

/** Fails, naming what to install, when an engine's browser is not on this machine. */
export function assertInstalled(names) {
  const missing = names.filter((name) => !ENGINES[name].binary())
  if (missing.length) {
    throw new Error(
      `Browser engine(s) not found: ${missing.join(', ')}.\n` +
        missing.map((name) => `  ${name}: ${ENGINES[name].install}`).join('\n') +
        `\nOr pick engines with TAB_KEYSTORE_ENGINES=${names.filter((n) => !missing.includes(n)).join(',') || 'chromium'}.`,
    )
  }
}

/** The engine this test process runs (the runner sets TAB_KEYSTORE_ENGINE; chromium otherwise). */
export function currentEngine() {
  const name = process.env.TAB_KEYSTORE_ENGINE || 'chromium'
  if (!ENGINES[name]) throw new Error(`TAB_KEYSTORE_ENGINE: unknown engine "${name}"`)
  assertInstalled([name])
  return { name, ...ENGINES[name] }
}
