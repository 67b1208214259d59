import type { ErrorReason } from './events'
import { SHARE_LENGTH, open, randomBytes, readShare, seal, writeShare } from './seal'

/** What the page lifecycle needs from a store. */
export interface TabHost {
  /** Serialises the live entries; the caller wipes `bytes` once sealed. */
  encode(): { bytes: Uint8Array; count: number }
  /** A later page of this tab cleared the store while this page sat in the back/forward cache. */
  clearedElsewhere(): void
  report(reason: ErrorReason, error?: unknown): void
  persisted(count: number): void
}

/** A store's tie to its tab, present only where a window with `sessionStorage` exists. */
export interface TabLink {
  /** The plaintext state handed over by the previous page of the tab, if any. */
  readonly restored: Uint8Array | undefined
  persist(): void
  markCleared(): void
  detach(): void
}

const isQuotaError = (error: unknown): boolean =>
  error instanceof DOMException && (error.name === 'QuotaExceededError' || error.code === 22)

/**
 * Restores what the previous page of this tab sealed, and arranges for this page to seal
 * its state when it leaves. Returns `undefined` (memory only) in Node, SSR and Workers,
 * and where `sessionStorage` cannot be used.
 *
 * Browser facts this relies on (measured in Chromium 156):
 * - a `window.name` written in `pagehide`/`unload`/`visibilitychange` does not reach the
 *   next document, one written while the page is alive does: S1 is written at start
 *   (and at every return from the back/forward cache), never while leaving;
 * - a `sessionStorage` write in `pagehide` does reach the next document, and one that the
 *   next document removes at once never reached the disk: S2 and the ciphertext are
 *   written in `pagehide` and removed first thing at load;
 * - no `unload` listener: it would make the page ineligible for the back/forward cache.
 */
export function linkTab(storeName: string, host: TabHost): TabLink | undefined {
  // `window` alone is not enough: happy-dom and some SSR setups define it without a document.
  if (typeof window !== 'object' || typeof document !== 'object') return undefined
  const key = `tab-keystore:${storeName}`
  const clearedKey = `${key}#cleared`
  let storage: Storage
  let sealed: string | null
  try {
    // Throws in sandboxed frames without allow-same-origin and where storage is disabled.
    storage = window.sessionStorage
    sealed = storage.getItem(key)
    if (sealed !== null) storage.removeItem(key)
  } catch (error) {
    host.report('storage-unavailable', error)
    return undefined
  }

  let restored: Uint8Array | undefined
  if (sealed !== null) {
    const share = readShare(storeName)
    if (share) {
      const opened = open(sealed, share, storeName)
      if (typeof opened === 'string') host.report(opened)
      else restored = opened
      share.fill(0)
    } else {
      // Gone or rewritten: any site the tab visited could have touched `window.name`.
      host.report(share === null ? 'tampered' : 'missing-share')
    }
  }

  let s1 = randomBytes(SHARE_LENGTH)
  const rotateShare = (): void => {
    s1.fill(0)
    s1 = randomBytes(SHARE_LENGTH)
    writeShare(storeName, s1)
  }
  writeShare(storeName, s1)

  const read = (k: string): string | null => {
    try {
      return storage.getItem(k)
    } catch {
      return null
    }
  }
  let seenClear = read(clearedKey)
  let written: string | undefined
  let detached = false

  // While this page is alive it holds the live state: a sealed entry for this store that
  // it did not write itself is a departing page's and must not stay at rest.
  const wipeStale = (): void => {
    if (detached) return
    const found = read(key)
    if (found !== null && found !== written) storage.removeItem(key)
  }

  const persist = (): void => {
    const { bytes, count } = host.encode()
    try {
      if (count) storage.setItem(key, (written = seal(bytes, s1, storeName)))
      else storage.removeItem(key)
    } catch (error) {
      host.report(isQuotaError(error) ? 'quota' : 'storage-unavailable', error)
      return
    } finally {
      bytes.fill(0)
    }
    if (count) host.persisted(count)
  }

  const onPageHide = (): void => persist()

  // Back/forward cache, measured in Chromium 156: going back, this page's `pageshow`
  // fires before the departing page's `pagehide`. This page keeps the keys in its memory,
  // but a logout in a later page must win, and whatever got sealed (ours when we left,
  // the departing page's shortly after this event) must not stay in `sessionStorage`.
  const onPageShow = (event: PageTransitionEvent): void => {
    if (!event.persisted) return
    const cleared = read(clearedKey)
    if (cleared !== seenClear) {
      seenClear = cleared
      host.clearedElsewhere()
    }
    rotateShare()
    written = undefined
    wipeStale()
    for (const delay of [100, 500, 1500]) setTimeout(wipeStale, delay)
  }
  const onStorage = (event: StorageEvent): void => {
    if (event.key === key && event.newValue !== null) wipeStale()
  }

  window.addEventListener('pagehide', onPageHide)
  window.addEventListener('pageshow', onPageShow)
  window.addEventListener('storage', onStorage)

  return {
    restored,
    persist,
    markCleared(): void {
      // Not secret: just a token that tells pages restored from the back/forward cache
      // that the store was cleared after they left.
      seenClear = `${Date.now()}-${Math.random().toString(36).slice(2)}`
      try {
        storage.setItem(clearedKey, seenClear)
      } catch {
        // Storage went away: a page restored from the cache cannot be told, nothing else breaks.
      }
    },
    detach(): void {
      detached = true
      window.removeEventListener('pagehide', onPageHide)
      window.removeEventListener('pageshow', onPageShow)
      window.removeEventListener('storage', onStorage)
      try {
        storage.removeItem(key)
      } catch {
        // nothing of ours can be there then
      }
      writeShare(storeName, undefined)
      s1.fill(0)
    },
  }
}
