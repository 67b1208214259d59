import { after, before } from 'node:test'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
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

/**
 * What to look for on disk for a secret: its bytes raw, as UTF-16LE (how Chromium stores
 * DOM storage), as base64 and hex, and those two again as UTF-16LE.
 */
export function encodings(label, bytes) {
  return [
    [`${label} raw`, bytes],
    [`${label} utf-16le`, Buffer.from(bytes.toString('latin1'), 'utf16le')],
    [`${label} base64`, Buffer.from(bytes.toString('base64'))],
    [`${label} hex`, Buffer.from(bytes.toString('hex'))],
    [`${label} base64 utf-16le`, Buffer.from(bytes.toString('base64'), 'utf16le')],
    [`${label} hex utf-16le`, Buffer.from(bytes.toString('hex'), 'utf16le')],
  ]
}

async function* filesUnder(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) yield* filesUnder(path)
    else if (entry.isFile()) yield path
  }
}

/** Reads every file under `dir` and says where each needle was found, and how many files were read. */
export async function scanDirectory(dir, needles) {
  const hits = []
  let files = 0
  for await (const path of filesUnder(dir)) {
    const data = await readFile(path)
    files++
    for (const [label, needle] of needles) if (data.includes(needle)) hits.push(`${label} in ${path.slice(dir.length)}`)
  }
  return { hits, files }
}
