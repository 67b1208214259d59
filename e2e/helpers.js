import { after, before } from 'node:test'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { currentEngine } from './engines/index.js'
import { startServer } from './server.js'

export { fillLocalStorage, unfillLocalStorage } from './storage.js'

/** The engine this process runs (the runner sets TAB_KEYSTORE_ENGINE). */
export const engine = currentEngine()

/** Test names carry the engine, so interleaved output stays readable. */
export const named = (title) => `[${engine.name}] ${title}`

/**
 * One server and one browser per test file. The back/forward cache is on by default, as
 * in real browsers; `bfcache: false` turns it off (Chromium's switch, Firefox's
 * browser.sessionhistory.max_total_viewers, WebKit's enable-page-cache).
 */
export function setup({ bfcache = true, api } = {}) {
  const env = { notFound: [] }
  before(async () => {
    env.server = await startServer({ api, notFound: (path) => env.notFound.push(path) })
    env.browser = await engine.launch({ bfcache })
  })
  after(async () => {
    await env.browser?.close()
    await env.server?.close()
  })
  return env
}

/**
 * A test-server route that keeps every JSON body posted to `path` (beacons the pages send)
 * in `into`, for `setup({ api })`.
 */
export const collect = (path, into) => async (request, response) => {
  if (new URL(request.url, 'http://x').pathname !== path) return false
  let body = ''
  for await (const chunk of request) body += chunk
  into.push(JSON.parse(body))
  response.end()
  return true
}

export const pageUrl = (origin, query = '') => `${origin}/e2e/pages/index.html${query}`

/** A new tab in `context` at `url`, once its store exists. */
export const open = (context, url) => context.newPage(url)

/** Events the page recorded, e.g. [{ event: 'restored', count: 2, expired: 0, source: 'reload' }]. */
export const events = (page) => page.eval(() => window.events)
export const eventsOf = async (page, name) => (await events(page)).filter((e) => e.event === name)

/** Everything the store holds, with bytes as arrays, read in one go. */
export const contents = (page) =>
  page.eval(() => {
    const now = Date.now()
    const entries = {}
    for (const name of window.store.keys()) {
      const value = window.store.get(name)
      // Expired between keys() and get() (a short expiry, a busy machine): absent, as it should be.
      if (value === null) continue
      entries[name] = {
        value: typeof value === 'string' ? value : Array.from(value),
        expiresAt: window.store.expiresAt(name)?.getTime() ?? null,
      }
    }
    return { now, entries }
  })

/**
 * Where this page's web storage holds a sealed state (S2 and ciphertext) of the library:
 * sessionStorage's `tab-keystore:<name>`, or a tab record carrying one (`s`). The rest of
 * what the library keeps there (the tab's id and record) holds nothing secret.
 */
export const sealedAtRest = (page) =>
  page.eval(() => {
    const sealed = Object.keys(sessionStorage).filter((k) => k.startsWith('tab-keystore:'))
    for (const key of Object.keys(localStorage).filter((k) => k.startsWith('tab-keystore/tab/'))) {
      if (localStorage.getItem(key).includes('"s":')) sealed.push(`local:${key}`)
    }
    return sealed.sort()
  })
export const windowName = (page) => page.eval(() => window.name)

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

/**
 * Firefox compresses its session store (which holds sessionStorage) as mozLz4: the magic
 * `mozLz40\0`, the decompressed size (u32 LE), then one LZ4 block. A scan that does not
 * decompress it would find nothing there, not even a control.
 */
export function decompressMozLz4(data) {
  if (data.length < 12 || data.toString('latin1', 0, 8) !== 'mozLz40\0') return undefined
  const out = Buffer.alloc(data.readUInt32LE(8))
  let i = 12
  let o = 0
  while (i < data.length) {
    const token = data[i++]
    let literals = token >> 4
    if (literals === 15) for (let b = 255; b === 255; literals += b) b = data[i++]
    data.copy(out, o, i, i + literals)
    i += literals
    o += literals
    if (i >= data.length) break
    const offset = data[i] | (data[i + 1] << 8)
    i += 2
    let length = token & 15
    if (length === 15) for (let b = 255; b === 255; length += b) b = data[i++]
    length += 4
    for (let k = 0; k < length; k++, o++) out[o] = out[o - offset]
  }
  return out.subarray(0, o)
}

/**
 * Reads every file under `dir` (mozLz4 files decompressed too) and says where each needle
 * was found, and how many files were read.
 */
export async function scanDirectory(dir, needles) {
  const hits = []
  let files = 0
  for await (const path of filesUnder(dir)) {
    const raw = await readFile(path)
    files++
    const views = [[path.slice(dir.length), raw]]
    const unpacked = decompressMozLz4(raw)
    if (unpacked) views.push([`${path.slice(dir.length)} (decompressed)`, unpacked])
    for (const [where, data] of views)
      for (const [label, needle] of needles) if (data.includes(needle)) hits.push(`${label} in ${where}`)
  }
  return { hits, files }
}
