// An attacker's offline opener, written from the format the README documents (not from
// src/): takes a sealed state as a disk reader finds it, and the shares a visited site
// saw in window.name, and tries to open it. Used by e2e/atrest.test.js.
import { chacha20poly1305 } from '@noble/ciphers/chacha.js'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'

const BASE = 0x800

/** The library's text packing reversed: 15 bits per UTF-16 unit from U+0800, a first unit saying whether the last carries a spare byte. */
export function unpackText(text) {
  const spare = text.charCodeAt(0) - BASE
  const units = text.length - 1
  const out = []
  let acc = 0
  let bits = 0
  for (let i = 1; i <= units; i++) {
    acc = (acc << 15) | (text.charCodeAt(i) - BASE)
    bits += 15
    while (bits >= 8) {
      bits -= 8
      out.push((acc >>> bits) & 0xff)
    }
    acc &= (1 << bits) - 1
  }
  return Uint8Array.from(spare ? out.slice(0, -1) : out)
}

/** The shares in a window.name the way a visited site reads them: every 64-hex value of a `tab-keystore:` entry. */
export function sharesIn(windowName) {
  try {
    const parsed = JSON.parse(windowName)
    return Object.entries(parsed)
      .filter(([key, value]) => key.startsWith('tab-keystore:') && /^[0-9a-f]{64}$/.test(value))
      .map(([key, value]) => ({ store: key.slice('tab-keystore:'.length), share: Buffer.from(value, 'hex') }))
  } catch {
    return []
  }
}

/** The plaintext of sealed state `text` of store `store`, opened with `share` (bytes), or null. */
export function openOffline(text, share, store) {
  try {
    const envelope = unpackText(text)
    const s2 = envelope.subarray(1, 33)
    const nonce = envelope.subarray(33, 45)
    const length = envelope[45]
    const context = Buffer.from(envelope.subarray(46, 46 + length)).toString('utf8')
    const key = share.map((b, i) => b ^ s2[i])
    const aad = new TextEncoder().encode(JSON.stringify(['tab-keystore', envelope[0], store, context]))
    return chacha20poly1305(key, nonce, aad).decrypt(envelope.subarray(46 + length))
  } catch {
    return null
  }
}

/**
 * Every sealed state in what the library wrote: sessionStorage seals, records carrying
 * one, and the seals to the pages of the tab a record carries (`kind: 'pages'`: the body
 * and each page's wrap, which the README says are the same envelope under other keys).
 */
export function sealsIn(writes) {
  const seals = []
  for (const { at, area, key, value } of writes) {
    if (value === null) continue
    if (area === 'session' && key.startsWith('tab-keystore:')) seals.push({ at, key, text: value })
    if (area === 'local' && key.startsWith('tab-keystore/tab/')) {
      try {
        const { s, e } = JSON.parse(value)
        if (s) seals.push({ at, key, text: s })
        if (e) for (const text of [e.c, ...e.r.map(([, wrap]) => wrap)]) seals.push({ at, key, text, kind: 'pages' })
      } catch {
        // not a record
      }
    }
  }
  return seals
}

/**
 * Candidate sealed states in raw file bytes (Chromium stores DOM storage as UTF-16LE in
 * LevelDB): every run of at least `min` units in the packing's range, and its tails.
 */
export function sealsInBytes(bytes, min = 400) {
  const found = []
  let start = -1
  const flush = (end) => {
    if (start >= 0 && (end - start) / 2 >= min) found.push(Buffer.from(bytes.subarray(start, end)).toString('utf16le'))
    start = -1
  }
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    const unit = bytes[i] | (bytes[i + 1] << 8)
    if (unit >= BASE && unit <= BASE + 0x7fff) {
      if (start < 0) start = i
    } else flush(i)
  }
  flush(bytes.length - (bytes.length % 2))
  return found
}

/**
 * What a disk reader opens in the files under `dir` with `shares`: every run of text in the
 * packing's range (both byte alignments), tried from every unit a seal can start with to
 * every end, as nothing in the file says where a value ends.
 */
export async function openFromDisk(dir, shares) {
  const opened = new Set()
  for (const run of await runsOnDisk(dir)) {
    for (let start = 0; start < run.length - 400; start++) {
      if (run.charCodeAt(start) > 0x801) continue
      for (let end = start + 400; end <= run.length; end++) {
        for (const share of shares) {
          const plain = openOffline(run.slice(start, end), share, 'e2e')
          if (plain) opened.add(`${shares.indexOf(share)}:${Buffer.from(plain).toString('latin1')}`)
        }
      }
    }
  }
  return [...opened]
}

/** Every run of text in the packing's range in the files under `dir`, in both byte alignments. */
export async function runsOnDisk(dir) {
  const runs = []
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue
    const bytes = await readFile(join(entry.parentPath ?? entry.path, entry.name))
    runs.push(...sealsInBytes(bytes), ...sealsInBytes(bytes.subarray(1)))
  }
  return runs
}
