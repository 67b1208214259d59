// Finds and launches Chromium for the browser tests. Playwright cannot download its own
// browsers here, so we use the system's: $TAB_KEYSTORE_CHROMIUM, $CHROMIUM_PATH, or a
// known install path (Debian's `apt-get install chromium` gives /usr/bin/chromium).
import { existsSync } from 'node:fs'
import { chromium } from 'playwright-core'

const candidates = [
  process.env.TAB_KEYSTORE_CHROMIUM,
  process.env.CHROMIUM_PATH,
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
].filter(Boolean)

export function chromiumPath() {
  const found = candidates.find((path) => existsSync(path))
  if (!found) {
    throw new Error(
      `No Chromium found (looked at ${candidates.join(', ')}). Install it (Debian: apt-get install -y chromium) ` +
        'or set TAB_KEYSTORE_CHROMIUM to the browser binary.',
    )
  }
  return found
}

// Without the background-networking flags Chromium keeps trying to reach Google's hosts,
// which a closed network refuses.
export const args = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
]

/** `bfcache: true` keeps the back/forward cache on (Playwright disables it by default). */
export function launch({ bfcache = false } = {}) {
  return chromium.launch({
    executablePath: chromiumPath(),
    args,
    headless: true,
    ...(bfcache ? { ignoreDefaultArgs: ['--disable-back-forward-cache'] } : {}),
  })
}

export function launchPersistent(userDataDir) {
  return chromium.launchPersistentContext(userDataDir, { executablePath: chromiumPath(), args, headless: true })
}
