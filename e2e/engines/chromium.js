// Chromium through Playwright, with Debian's binary: Playwright cannot download its own here.
import { chromium } from 'playwright-core'
import puppeteer from 'puppeteer-core'
import { Page } from './page.js'
import { findBinary } from './process.js'

export const install = 'apt-get install -y chromium (or set TAB_KEYSTORE_CHROMIUM to the binary)'
export const binary = () =>
  findBinary([
    process.env.TAB_KEYSTORE_CHROMIUM,
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/usr/bin/google-chrome',
  ])

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

const wrap = (page) =>
  new Page({
    run: (source) => page.evaluate(source),
    goto: (url) => page.goto(url),
    back: () => page.goBack({ waitUntil: 'commit' }),
    close: () => page.close(),
    // Playwright's page is dead once its renderer crashed: the reload and everything after
    // go through a fresh CDP session to the same tab.
    async crash() {
      void (await page.context().newCDPSession(page)).send('Page.crash').catch(() => undefined)
      await new Promise((resolve) => setTimeout(resolve, 500))
      const session = await page.context().newCDPSession(page)
      await session.send('Page.reload')
      return async (source) => {
        const { result, exceptionDetails } = await session.send('Runtime.evaluate', {
          expression: source,
          awaitPromise: true,
          returnByValue: true,
        })
        if (exceptionDetails) throw new Error(exceptionDetails.text)
        return result.value
      }
    },
  })

/** Playwright passes --disable-back-forward-cache unless told not to: real Chromium caches. */
export async function launch({ bfcache = true } = {}) {
  const browser = await chromium.launch({
    executablePath: binary(),
    args,
    headless: true,
    ...(bfcache ? { ignoreDefaultArgs: ['--disable-back-forward-cache'] } : {}),
  })
  return {
    version: `Chromium ${browser.version()}`,
    async newContext() {
      const context = await browser.newContext()
      return {
        async newPage(url) {
          const page = wrap(await context.newPage())
          if (url) await page.goto(url)
          return page
        },
        async waitForPage(trigger) {
          const [page] = await Promise.all([context.waitForEvent('page'), trigger()])
          return wrap(page)
        },
        close: () => context.close(),
      }
    },
    close: () => browser.close(),
  }
}

/**
 * A browser on a profile directory, opening `url`: for what must reach the disk. Chromium
 * keeps what it writes there under automation, so `page` drives it (the other engines'
 * pages drive themselves).
 */
export async function launchProfile(dir, url, { bfcache = false } = {}) {
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: binary(),
    args,
    headless: true,
    ...(bfcache ? { ignoreDefaultArgs: ['--disable-back-forward-cache'] } : {}),
  })
  const page = context.pages()[0] ?? (await context.newPage())
  await page.goto(url)
  return { page: wrap(page), close: () => context.close() }
}

/**
 * Chromium through puppeteer-core, for what a hidden page does: Playwright keeps every page
 * visible (measured: neither another tab in front, a minimized window nor a frozen
 * lifecycle state makes its pages hidden), puppeteer's background tabs are hidden and can
 * be frozen. `newPage(url)` pages can `crashAndReload()` like Playwright's.
 */
export async function launchTabs() {
  const browser = await puppeteer.launch({ executablePath: binary(), args, headless: true })
  return {
    async newPage(url) {
      const page = await browser.newPage()
      const wrapped = new Page({
        run: (source) => page.evaluate(source),
        goto: (url) => page.goto(url),
        back: () => page.goBack(),
        close: () => page.close(),
        async crash() {
          void (await page.createCDPSession()).send('Page.crash').catch(() => undefined)
          await new Promise((resolve) => setTimeout(resolve, 500))
          const session = await page.createCDPSession()
          await session.send('Page.reload')
          return async (source) => {
            const { result, exceptionDetails } = await session.send('Runtime.evaluate', {
              expression: source,
              awaitPromise: true,
              returnByValue: true,
            })
            if (exceptionDetails) throw new Error(exceptionDetails.text)
            return result.value
          }
        },
      })
      wrapped.front = () => page.bringToFront()
      if (url) await wrapped.goto(url)
      return wrapped
    },
    close: () => browser.close(),
  }
}
