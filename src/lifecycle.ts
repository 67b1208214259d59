import type { ErrorReason } from './events'
import { SHARE_LENGTH, open, randomBytes, readShare, seal, tabId, writeShare } from './seal'

/** What the page lifecycle needs from a store. */
export interface TabHost {
  /** Serialises the live entries; the caller wipes `bytes` once sealed. */
  encode(): { bytes: Uint8Array; count: number }
  /** How many keys the store holds. */
  size(): number
  /** A later page of this tab left its state for this one, back from the back/forward cache. */
  adopt(plain: Uint8Array): void
  /** A later page of this tab left a state this one cannot read: its own keys are stale. */
  stale(): void
  /** A later page of this tab called `clear()` while this one sat in the back/forward cache. */
  clearedElsewhere(): void
  /** Back from the back/forward cache, before any state is taken: check for a logout everywhere. */
  returned(): void
  /**
   * Entering the back/forward cache (true), and back from it with the later page's state
   * taken (false). Meanwhile this page's own last activity says nothing: the user may
   * have used the keys on the later page (`visibilitychange` fires before `pageshow`).
   */
  frozen(frozen: boolean): void
  report(reason: ErrorReason, error?: unknown): void
  persisted(count: number): void
}

/** A store's tie to its tab, present only where a window with `sessionStorage` exists. */
export interface TabLink {
  /** The plaintext state handed over by the previous page of the tab, if any. */
  readonly restored: Uint8Array | undefined
  /** Seals now, and again after every change (`changed`), until the page goes. */
  persist(): void
  /** The store changed: a state sealed by `persist()` must not outlive it. */
  changed(): void
  /** This tab's store was cleared (a logout): pages of the tab in the back/forward cache drop their keys. */
  cleared(): void
  /** The logout-everywhere marker (`''` when none): keys sealed under another one are dropped. */
  epoch(): string
  /** Starts a new logout-everywhere epoch and returns it. */
  logout(): string
  detach(): void
}

/** The part of the Navigation API used here (Chromium, Firefox; not WebKitGTK 2.50). */
interface NavigationLike {
  readonly currentEntry: { readonly key: string } | null
  readonly activation?: { readonly from: { readonly key: string } | null } | null
  entries(): { readonly key: string }[]
  addEventListener(type: 'navigate', listener: (event: { destination: { url: string; sameDocument: boolean }; navigationType: string }) => void): void
  removeEventListener(type: 'navigate', listener: (event: never) => void): void
}

interface PageSwapLike extends Event {
  readonly activation: { readonly navigationType: string } | null
}

/** Where the page is going, as far as the engine tells. */
interface Leaving {
  crossOrigin: boolean
  traverse: boolean
}

const isQuotaError = (error: unknown): boolean =>
  error instanceof DOMException && (error.name === 'QuotaExceededError' || error.code === 22)

/** Left in place of a state too large to seal: the next page reports `quota` (nobody listens in `pagehide`). */
const QUOTA = '!quota'
/** A state left in a tab's slot for a back/forward-cache return is taken within seconds, or never. */
const SLOT_LIFETIME = 60_000
/** Pages stay in the back/forward cache for minutes (Chromium: 10), not days. */
const CLEARED_LIFETIME = 86_400_000
/** After a return from the cache, how long a later page's state may still arrive (Chromium writes it after). */
const RETURN_WINDOW = 3000

const token = (): string => `${Date.now()}-${Math.random().toString(36).slice(2)}`

/**
 * Restores what the previous page of this tab sealed, and arranges for this page to seal
 * its state when it leaves. Returns `undefined` (memory only) in Node, SSR and Workers,
 * and where `sessionStorage` cannot be used.
 *
 * Engine facts this relies on (measured in Chromium 156, Firefox ESR 153 and WebKitGTK
 * 2.50; e2e/facts.test.js measures them again in each engine):
 * - A `window.name` written while leaving reaches the next page in Firefox (reload) and
 *   WebKit, never in Chromium. S1 is written while the page is alive, and only when it
 *   changes: it stays the same for the life of the tab.
 * - On a cross-site navigation Chromium keeps `window.name` (the other site reads S1);
 *   Firefox and WebKit clear it. Coming back through the back/forward cache, Chromium
 *   shows the restored page its own stale value while keeping the other site's write for
 *   the next load, WebKit leaves it empty, and Firefox restores it but reverts any write
 *   made after the return at the next reload. Rewriting the same S1 at every return is
 *   right in all three.
 * - `pageswap` (Chromium, WebKit) says where the page goes: `activation` is null for
 *   another origin. Firefox has no `pageswap`, but fires the Navigation API's `navigate`
 *   event with the destination, also for its Back button. A page leaving for another
 *   origin seals nothing: its keys cross the trip in the back/forward cache or not at all.
 * - `navigation.entries()` lists the tab's contiguous same-origin history: a page reached
 *   through another origin, or in a window another page opened, starts a new one.
 *   `navigation.activation.from` names the previous document's entry when it was of this
 *   origin, also on a reload after a renderer crash (which gives the page a new entry)
 *   and after a back/forward-cache return. Seals are bound to the sealing entry (seal.ts).
 * - Going back, Chromium fires the restored page's `pageshow` before the departing page's
 *   `pagehide`; Firefox and WebKit fire `pagehide` first. A Firefox page restored from the
 *   cache sees `sessionStorage` as it left it (later writes are invisible, and its view
 *   then wins), but sees `localStorage` live. So a page leaving by a history traversal
 *   puts its state in this tab's slot in `localStorage`, where the restored page (told by
 *   a `storage` event in Chromium) takes it.
 * - A `sessionStorage` write in `pagehide` reaches the next document, and one that the next
 *   document removes at once never reached the disk (Chromium writes DOM storage to disk
 *   after a delay, Firefox's session store every 15 s). S2 and the ciphertext are written
 *   in `pagehide` and removed first thing at load.
 * - No `unload` listener: it would keep the page out of the back/forward cache.
 */
export function linkTab(storeName: string, host: TabHost): TabLink | undefined {
  // `window` alone is not enough: happy-dom and some SSR setups define it without a document.
  if (typeof window !== 'object' || typeof document !== 'object') return undefined
  const key = `tab-keystore:${storeName}`
  const logoutKey = `tab-keystore/logout/${storeName}`
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
  let local: Storage | undefined
  try {
    local = window.localStorage
  } catch {
    // Blocked on its own (some privacy settings): no slot for returns and no logout marker.
  }
  const get = (area: Storage | undefined, k: string): string | null => {
    try {
      return area?.getItem(k) ?? null
    } catch {
      return null
    }
  }
  const remove = (area: Storage | undefined, k: string): void => {
    try {
      area?.removeItem(k)
    } catch {
      // nothing of ours can be there then
    }
  }
  const take = (area: Storage | undefined, k: string): string | null => {
    const value = get(area, k)
    if (value !== null) remove(area, k)
    return value
  }
  const navigation = (window as { navigation?: NavigationLike }).navigation
  /**
   * Whether a seal made by history entry `entry` may be opened here: the entry must be in
   * this page's same-origin history (after a crash-reload, Chromium gives the page a new
   * entry and names the old one in `activation.from`). Without the Navigation API, seals
   * are unbound (`''`), and bound ones cannot come from this engine.
   */
  const allowed = (entry: string): boolean =>
    navigation ? entry !== '' && (navigation.activation?.from?.key === entry || navigation.entries().some((e) => e.key === entry)) : entry === ''

  const share = readShare(storeName)
  const s1 = share || randomBytes(SHARE_LENGTH)
  if (!share) writeShare(storeName, s1)
  const id = tabId(s1)
  const slot = `tab-keystore/back/${id}/${storeName}`
  const clearedKey = `tab-keystore/cleared/${id}/${storeName}`
  /** The state in this tab's slot (`<time written>:<sealed>`, the time for `sweep`), removed. */
  const takeSlot = (): string | null => {
    const value = take(local, slot)
    return value === null ? null : value.slice(value.indexOf(':') + 1)
  }

  sweep(local, storeName)
  // A fresh S1 names a new tab, whose slot cannot exist.
  const found = (share && takeSlot()) ?? sealed

  let restored: Uint8Array | undefined
  if (found === '' || found === QUOTA) host.report(found ? 'quota' : 'left-origin')
  else if (found !== null) {
    if (!share) {
      // Gone or rewritten: Firefox and WebKit clear `window.name` on a cross-site
      // navigation, and any site the tab visited could have rewritten it.
      host.report(share === null ? 'tampered' : 'missing-share')
    } else {
      const opened = open(found, s1, storeName, allowed)
      if (typeof opened === 'string') host.report(opened)
      else restored = opened
    }
  }

  let seenClear = get(local, clearedKey)
  let written: string | undefined
  let persistent = false
  let scheduled = false
  let detached = false
  let leaving: Leaving | undefined
  let returnedAt = -Infinity
  /** Sealed at `pageswap` for a traversal, and unchanged since. */
  let sealedAtSwap = false

  /** Seals the state: into the tab's slot for a history traversal, into sessionStorage otherwise. */
  const sealState = (traverse: boolean): void => {
    const { bytes, count } = host.encode()
    try {
      // An empty state still travels back: the page it reaches must drop its keys.
      if (!count && !traverse) {
        remove(storage, key)
        return
      }
      written = seal(bytes, s1, storeName, navigation?.currentEntry?.key ?? '')
      let inSlot = false
      if (traverse && local) {
        try {
          local.setItem(slot, `${Date.now()}:${written}`)
          inSlot = true
        } catch {
          // localStorage is smaller (5 MiB per origin) or blocked: sessionStorage, which a
          // fresh load reads too.
        }
      }
      if (!inSlot) storage.setItem(key, written)
    } catch (error) {
      const quota = isQuotaError(error)
      host.report(quota ? 'quota' : 'storage-unavailable', error)
      if (quota) {
        remove(storage, key)
        written = QUOTA // ours, if this page comes back
        try {
          storage.setItem(key, QUOTA)
        } catch {
          // then even a marker does not fit: the next page just starts empty
        }
      }
      return
    } finally {
      bytes.fill(0)
    }
    if (count) host.persisted(count)
  }

  const persist = (): void => {
    if (detached) return
    persistent = true
    sealState(false)
  }

  // A later page of this tab left its state (see the facts above): take it. If it cannot be
  // opened, or the later page only left a marker (it went to another origin, or its state
  // was too large), ours is outdated: drop it rather than seal it over the newer one.
  const takeNewer = (): void => {
    const inSlot = takeSlot()
    const inSession = take(storage, key)
    const text = inSlot ?? inSession
    if (text === null || text === written) return
    const opened = open(text, s1, storeName, allowed)
    if (typeof opened === 'string') host.stale()
    else host.adopt(opened)
  }

  // Going back, Chromium fires the departing page's `pageswap` before the restored page's
  // `pageshow`, and its `pagehide` after: a traversal is sealed at `pageswap`, so that the
  // restored page finds the newer state (and its last activity) as it is shown, as in the
  // other engines. `pagehide` seals again only if something changed in between.
  const onPageSwap = (event: Event): void => {
    const activation = (event as PageSwapLike).activation
    leaving = { crossOrigin: !activation, traverse: activation?.navigationType === 'traverse' }
    if (leaving.traverse) {
      sealState(true)
      sealedAtSwap = true
    }
  }
  // Firefox has no `pageswap`. Its `navigate` event is trusted for traversals only: a
  // link's navigation may never happen (a download), and browser-UI navigations fire none.
  // For a link to another origin it leaves the marker at once (pagehide overwrites it with
  // a seal): with its back/forward cache off, Firefox may cut such a page's pagehide short
  // (measured: 2 of 5 seals were never written), and the page that comes back should
  // still learn that keys were left.
  const onNavigate = ({ destination, navigationType }: { destination: { url: string; sameDocument: boolean }; navigationType: string }): void => {
    if (destination.sameDocument) return
    const crossOrigin = new URL(destination.url).origin !== location.origin
    if (navigationType === 'traverse') leaving = { crossOrigin, traverse: true }
    else if (crossOrigin && host.size()) {
      try {
        storage.setItem(key, '')
      } catch {
        // the marker is only a courtesy
      }
    }
  }

  const onPageHide = (event: PageTransitionEvent): void => {
    if (event.persisted) host.frozen(true)
    const where = leaving
    const unchanged = sealedAtSwap
    leaving = undefined
    sealedAtSwap = false
    if (where?.crossOrigin) {
      // Only memory keeps the keys now (the back/forward cache); nothing sealed waits at
      // rest. An empty marker tells a fresh load on the way back that keys were left (in
      // sessionStorage: it needs no S1, which Firefox and WebKit clear), and a page of this
      // tab restored later that its copy is outdated.
      written = ''
      try {
        if (host.size()) storage.setItem(key, '')
        else storage.removeItem(key)
      } catch {
        // the marker is only a courtesy
      }
      return
    }
    if (!unchanged) sealState(where?.traverse ?? false)
  }

  const onPageShow = (event: PageTransitionEvent): void => {
    if (!event.persisted) return
    leaving = undefined
    writeShare(storeName, s1)
    host.returned()
    const cleared = get(local, clearedKey)
    if (cleared !== seenClear) {
      seenClear = cleared
      host.clearedElsewhere()
    }
    // `written` stays: Firefox shows this page its own seal from when it left, not a newer one.
    returnedAt = Date.now()
    takeNewer()
    host.frozen(false)
  }
  const onStorage = (event: StorageEvent): void => {
    // Only right after a return: the departing page's state arrives after our pageshow in
    // Chromium. At any other time a write to our slot is not ours to take.
    if ((event.key === key || event.key === slot) && event.newValue !== null && Date.now() - returnedAt < RETURN_WINDOW) takeNewer()
  }

  window.addEventListener('pagehide', onPageHide)
  window.addEventListener('pageshow', onPageShow)
  window.addEventListener('pageswap', onPageSwap)
  window.addEventListener('storage', onStorage)
  navigation?.addEventListener('navigate', onNavigate)

  return {
    restored,
    persist,
    changed(): void {
      // A change here after a return ends the wait for a later page's state, and makes a
      // seal taken at pageswap outdated.
      returnedAt = -Infinity
      sealedAtSwap = false
      if (!persistent || scheduled) return
      scheduled = true
      queueMicrotask(() => {
        scheduled = false
        persist()
      })
    },
    cleared(): void {
      // Not secret: a token that tells pages of this tab restored from the back/forward
      // cache that the store was cleared after they left. In localStorage, keyed by the
      // tab, because Firefox hides later sessionStorage writes from restored pages.
      seenClear = token()
      try {
        local?.setItem(clearedKey, seenClear)
      } catch {
        // Storage went away: a page restored from the cache cannot be told, nothing else breaks.
      }
      if (persistent) remove(storage, key)
    },
    epoch: () => get(local, logoutKey) ?? '',
    logout(): string {
      const epoch = token()
      try {
        local?.setItem(logoutKey, epoch)
      } catch {
        // Without localStorage only the tabs that hear the message log out.
      }
      return epoch
    },
    detach(): void {
      detached = true
      window.removeEventListener('pagehide', onPageHide)
      window.removeEventListener('pageshow', onPageShow)
      window.removeEventListener('pageswap', onPageSwap)
      window.removeEventListener('storage', onStorage)
      navigation?.removeEventListener('navigate', onNavigate)
      remove(storage, key)
      remove(local, slot)
      writeShare(storeName, undefined)
      s1.fill(0)
    },
  }
}

/**
 * Removes what tabs that are gone left of this store in localStorage: states for a
 * return that never came (the tab closed right after leaving) and old clear markers.
 */
function sweep(local: Storage | undefined, storeName: string): void {
  try {
    if (!local) return
    const now = Date.now()
    for (const k of Object.keys(local)) {
      const match = /^tab-keystore\/(back|cleared)\/[0-9a-f]{16}\//.exec(k)
      if (!match || k.slice(match[0].length) !== storeName) continue
      const at = parseInt(local.getItem(k) ?? '', 10)
      if (!(now - at < (match[1] === 'back' ? SLOT_LIFETIME : CLEARED_LIFETIME))) local.removeItem(k)
    }
  } catch {
    // storage went away
  }
}
