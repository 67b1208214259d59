// Firefox ESR through puppeteer-core over WebDriver BiDi. We start Firefox ourselves and
// connect: puppeteer.launch() forces every site into one content process
// (fission.webContentIsolationStrategy = 0), which hides real behaviour. A cross-site
// round trip passed there and failed in a normally configured Firefox.
import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import puppeteer from 'puppeteer-core'
import { Page } from './page.js'
import { findBinary, stopProcess } from './process.js'

export const install = 'apt-get install -y firefox-esr (or set TAB_KEYSTORE_FIREFOX to the binary)'
export const binary = () => findBinary([process.env.TAB_KEYSTORE_FIREFOX, '/usr/bin/firefox-esr', '/usr/bin/firefox'])

// Quiet and offline, as a test profile should be; nothing here touches the process model,
// the back/forward cache or storage.
const basePrefs = {
  'app.normandy.enabled': false,
  'app.update.disabledForTesting': true,
  'browser.shell.checkDefaultBrowser': false,
  'browser.startup.homepage_override.mstone': 'ignore',
  'browser.startup.page': 0,
  'browser.newtabpage.enabled': false,
  'browser.safebrowsing.malware.enabled': false,
  'browser.safebrowsing.phishing.enabled': false,
  'browser.safebrowsing.downloads.enabled': false,
  'browser.search.update': false,
  'browser.aboutwelcome.enabled': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'datareporting.healthreport.uploadEnabled': false,
  'toolkit.telemetry.reportingpolicy.firstRun': false,
  'dom.disable_open_during_load': false,
  'extensions.update.enabled': false,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'services.settings.server': 'http://127.0.0.1:9/',
  'remote.enabled': true,
}

async function writeProfile(dir, prefs) {
  const lines = Object.entries({ ...basePrefs, ...prefs }).map(
    ([k, v]) => `user_pref(${JSON.stringify(k)}, ${JSON.stringify(v)});`,
  )
  await writeFile(join(dir, 'user.js'), lines.join('\n') + '\n')
}

function start(profile, extraArgs) {
  const child = spawn(binary(), ['--headless', '--no-remote', '--profile', profile, ...extraArgs], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, MOZ_CRASHREPORTER_DISABLE: '1' },
  })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  return { child, exited }
}

function listening({ child, exited }) {
  return new Promise((resolve, reject) => {
    let seen = ''
    child.stderr.on('data', (chunk) => {
      seen += chunk
      const match = /WebDriver BiDi listening on (ws:\/\/\S+)/.exec(seen)
      if (match) resolve(match[1])
    })
    exited.then((code) => reject(new Error(`Firefox exited with ${code} before listening: ${seen.slice(-500)}`)))
  })
}

const wrap = (page) =>
  new Page({
    run: (source) => page.evaluate(source),
    goto: (url) => page.goto(url),
    // Waiting for a load hangs when the page comes back from the back/forward cache.
    back: () => page.goBack({ timeout: 0 }),
    close: () => page.close(),
  })

export async function launch({ bfcache = true } = {}) {
  const profile = await mkdtemp(join(tmpdir(), 'tab-keystore-firefox-'))
  await writeProfile(profile, bfcache ? {} : { 'browser.sessionhistory.max_total_viewers': 0 })
  const proc = start(profile, ['--remote-debugging-port=0', 'about:blank'])
  const endpoint = await listening(proc)
  const browser = await puppeteer.connect({ browserWSEndpoint: `${endpoint}/session`, protocol: 'webDriverBiDi' })
  const version = await browser.version()
  return {
    version: version.replace(/^firefox\//, 'Firefox ESR '),
    async newContext() {
      const context = await browser.createBrowserContext()
      return {
        async newPage(url) {
          const page = wrap(await context.newPage())
          if (url) await page.goto(url)
          return page
        },
        async waitForPage(trigger) {
          const known = new Set(context.targets())
          const [target] = await Promise.all([
            context.waitForTarget((t) => t.type() === 'page' && !known.has(t)),
            trigger(),
          ])
          return wrap(await target.page())
        },
        close: () => context.close(),
      }
    },
    async close() {
      await browser.close().catch(() => undefined)
      await stopProcess(proc.child)
      await rm(profile, { recursive: true, force: true })
    },
  }
}

/**
 * Firefox on a profile directory, opening `url`. Its session store (which keeps
 * sessionStorage) writes every `browser.sessionstore.interval` ms: 2 s here instead of 15,
 * so the disk test need not wait long; what is written is the same. It is closed through
 * WebDriver BiDi, as a user quits: a killed Firefox loses its last localStorage writes.
 */
export async function launchProfile(dir, url) {
  await writeProfile(dir, { 'browser.sessionstore.interval': 2000 })
  const proc = start(dir, ['--remote-debugging-port=0', url])
  const endpoint = await listening(proc)
  const browser = await puppeteer.connect({ browserWSEndpoint: `${endpoint}/session`, protocol: 'webDriverBiDi' })
  return { close: async () => (await browser.close().catch(() => undefined), await stopProcess(proc.child)) }
}
