import { after, before } from 'node:test'
import { launch } from './browser.js'
import { startServer } from './server.js'

/** One server and one browser per test file. */
export function setup({ bfcache = false } = {}) {
  const env = {}
  before(async () => {
    env.server = await startServer()
    env.browser = await launch({ bfcache })
  })
  after(async () => {
    await env.browser?.close()
    await env.server?.close()
  })
  return env
}

export const pageUrl = (origin, query = '') => `${origin}/e2e/pages/index.html${query}`

export async function ready(page) {
  await page.waitForFunction(() => window.ready === true)
  const startError = await page.evaluate(() => window.startError)
  if (startError) throw new Error(`the page failed to create its store: ${startError}`)
}

export async function open(context, url) {
  const page = await context.newPage()
  await page.goto(url)
  await ready(page)
  return page
}

export async function reload(page) {
  await page.reload()
  await ready(page)
}

/** Events the page recorded, e.g. [{ event: 'restored', count: 2, expired: 0, source: 'reload' }]. */
export const events = (page) => page.evaluate(() => window.events)

/** Everything the store holds, with bytes as arrays, read in one go. */
export const contents = (page) =>
  page.evaluate(() => {
    const now = Date.now()
    const entries = {}
    for (const name of window.store.keys()) {
      const value = window.store.get(name)
      entries[name] = { value: typeof value === 'string' ? value : Array.from(value), expiresAt: window.store.expiresAt(name)?.getTime() ?? null }
    }
    return { now, entries }
  })

export const storageKeys = (page) => page.evaluate(() => Object.keys(sessionStorage))
export const windowName = (page) => page.evaluate(() => window.name)
