import { SHARE_LENGTH, fromHex, randomBytes, tag, toHex } from './seal'

/*
 * S1, the share a tab keeps in `window.name`: it lives as long as the tab, no engine we
 * test writes it to disk, and a new tab starts without it. Chromium shows it to pages of
 * other origins the tab visits (measured: e2e/facts.test.js); see DESIGN.md for how the
 * lifecycle keeps it from them where it can, and what it does when it could not.
 *
 * `window.name` holds a JSON object with one entry per store (`tab-keystore:<name>`, S1 in
 * hex). Any site the tab visits may have left anything there, so reading it is capped: a
 * value over 8 KiB is not parsed at all, and of a JSON object only small flat entries of
 * other libraries are kept (strings up to 1 KiB, numbers, booleans, null; 32 at most).
 * Re-serialising a deeply nested value could overflow the stack, and a huge one would be
 * carried (and parsed) on every load. Anything else is replaced: a plain window name
 * (or junk) cannot hold an entry.
 */
const SHARE_PREFIX = 'tab-keystore:'
const MAX_WINDOW_NAME = 8192
const MAX_FOREIGN_VALUE = 1024
const MAX_FOREIGN_ENTRIES = 32

function readWindowName(): Record<string, string | number | boolean | null> {
  const kept: Record<string, string | number | boolean | null> = {}
  try {
    const text = window.name
    if (text.length > MAX_WINDOW_NAME || text[0] !== '{') return kept
    const parsed: unknown = JSON.parse(text)
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return kept
    let count = 0
    for (const [key, value] of Object.entries(parsed)) {
      const flat =
        value === null ||
        ['number', 'boolean'].includes(typeof value) ||
        (typeof value === 'string' && value.length <= MAX_FOREIGN_VALUE)
      // A deep value under a store's key stays as `null`: something else sits in its place.
      if (key.startsWith(SHARE_PREFIX) && key.length <= MAX_FOREIGN_VALUE) kept[key] = flat ? (value as string) : null
      else if (flat && key.length <= MAX_FOREIGN_VALUE && count++ < MAX_FOREIGN_ENTRIES)
        kept[key] = value as string | number | boolean | null
    }
  } catch {
    // junk: ours to replace
  }
  return kept
}

/** What a page leaving for another origin leaves in its share's place, where the name is kept. */
export const AWAY = 'away'

/**
 * S1 of a store: the bytes, `undefined` when there is none, `AWAY` when a page that left
 * for another origin took it out, `null` when something else sits in its place.
 */
export function readShare(storeName: string): Uint8Array | undefined | null | typeof AWAY {
  const hex = readWindowName()[SHARE_PREFIX + storeName]
  if (hex === undefined || hex === AWAY) return hex
  if (typeof hex !== 'string' || !/^[0-9a-f]{64}$/.test(hex)) return null
  return fromHex(hex)
}

/**
 * Writes S1 of a store, or a mark in its place (a string that is not a share), or with
 * `undefined` removes it, keeping small flat entries of others.
 */
export function writeShare(storeName: string, share: Uint8Array | string | undefined): void {
  const shares = readWindowName()
  const key = SHARE_PREFIX + storeName
  if (share !== undefined) shares[key] = typeof share === 'string' ? share : toHex(share)
  // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- a plain JSON object of our own parsing
  else delete shares[key]
  const name = Object.keys(shares).length ? JSON.stringify(shares) : ''
  // A page back from Chromium's back/forward cache sees its own stale `window.name`, and
  // Chromium drops a write of that same value although the tab holds another one (a later
  // page's): the next page would find the wrong share (measured). A different value first.
  // Only then: a write of any other value is not dropped, and each write costs as much as
  // the rest of a load's work on the share (an IPC in Chromium, measured).
  if (window.name === name) window.name = '\0'
  window.name = name
}

/** S1 of a store as this page holds it: its bytes, its tag (computed once per share), and whether `window.name` shows it. */
export class Share {
  bytes!: Uint8Array
  tag!: string
  shown = false
  readonly #store: string

  constructor(store: string) {
    this.#store = store
  }

  use(bytes: Uint8Array, known?: string): void {
    this.bytes = bytes
    this.tag = known ?? tag(bytes)
  }

  /** A fresh share, that nobody but this tab has seen. */
  renew(): void {
    this.use(randomBytes(SHARE_LENGTH))
  }

  show(force?: boolean): void {
    if (this.shown && !force) return
    writeShare(this.#store, this.bytes)
    this.shown = true
  }

  hide(mark?: typeof AWAY): void {
    if (!this.shown) return
    writeShare(this.#store, mark)
    this.shown = false
  }
}
