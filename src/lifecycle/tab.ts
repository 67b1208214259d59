import { randomBytes, toHex } from '../seal'

/*
 * The tab's storage: every key the library writes in web storage for one store, its
 * format, and how long it stays. (S1 in `window.name` is share.ts.)
 *
 * sessionStorage, per tab and origin; it survives reloads and trips to other sites, and
 * Chromium and Firefox write it to disk (WebKit never does):
 * - `tab-keystore:<name>`: the state sealed for the next page of the tab, removed by that
 *   page at once.
 * - `tab-keystore/tab/<name>`: the tab's id, random, written when the store first holds
 *   keys. A window that a page opens gets a copy of sessionStorage (all three engines,
 *   measured), so a copy must not be taken for the tab itself: see `openTab`.
 * localStorage, per origin and live in every page in every engine (a Firefox page back
 * from the back/forward cache sees sessionStorage as it left it, but localStorage as it
 * is: measured), written to disk by all three:
 * - `tab-keystore/tab/<id>/<name>`: the tab's record of its latest state (`TabRecord`).
 *   Nothing in it is secret but a sealed state in transit (`s`, S2 and ciphertext).
 * - `tab-keystore/logout/<name>`: the logout-everywhere epoch (the `tabs` option).
 */

/**
 * Where the tab's latest state is: held by the page shown (`live`), sealed for the next
 * page in sessionStorage (`sealed`) or in the record (`slot`, for a history traversal),
 * only in the memory of a page that left for another origin (`away`), or nowhere because
 * it was too large (`quota`).
 */
export type Where = 'live' | 'sealed' | 'slot' | 'away' | 'quota'

/** The tab's record: one per tab and store, the single source of truth for the tab's latest state. */
export interface TabRecord {
  /** The generation of the latest state: a new random token whenever it changes. */
  g: string
  /** How many keys it holds: 0 when the latest state is empty. */
  n: number
  w: Where
  /** Its last `get` or `set`, for idleTimeout. */
  a: number
  /** The tag of the share it goes with: a fresh page trusts the share in `window.name` only if it is this one. */
  k: string
  /**
   * Tags of the shares the tab vouches no other origin saw (newest last): a page trusts its
   * share only while it is listed, and takes a fresh one otherwise. A list of the shares
   * that are good rather than of those seen, so that what falls off its end, or a record
   * that is gone, fails closed: a fresh share, never a trusted one.
   */
  v: string[]
  /** The sealed state, when `w` is `slot`. */
  s?: string
  /** When it was written, for sweeping. */
  t: number
}

/**
 * How many vouched shares a record keeps: a page whose share fell off the end takes a
 * fresh one on return (and keeps its keys if it missed no change). A tab moves to a fresh
 * share once per exposure; browsers keep a handful of pages in the cache for minutes.
 */
const MAX_VOUCHED = 32
/**
 * A record whose tab wrote nothing for 30 days is dropped by the next load of any tab of
 * the origin: long enough for a tab left open and idle (a weekend, a holiday), as a live
 * tab without its record trusts no share and loses nothing only by luck. Not secret.
 */
const RECORD_LIFETIME = 30 * 86_400_000
/** A sealed state left for a traversal is taken within milliseconds, or its tab is gone. */
const SLOT_LIFETIME = 60_000

export const token = (): string => toHex(randomBytes(8))

const isRecord = (r: unknown): r is TabRecord => {
  const { g, n, w, a, k, v, s } = (r ?? {}) as Partial<TabRecord>
  return typeof g === 'string' && /^[0-9a-f]{16}$/.test(g) && typeof n === 'number' && typeof a === 'number' && typeof k === 'string' && Array.isArray(v) && ['live', 'sealed', 'slot', 'away', 'quota'].includes(w!) && (w !== 'slot' || typeof s === 'string')
}

/** What one store keeps in the tab's storage, through methods that never throw (except `seal`, for its quota). */
export interface TabStorage {
  /** The state sealed for this page, removed: read first thing at load, as it must not linger. */
  takeSealed(): string | null
  /** Seals for the next page; throws when the quota refuses it. */
  seal(text: string): void
  unseal(): void
  /**
   * The tab's record; `undefined` while the tab has none yet (a new tab), `null` when it
   * had one that is gone or is not one (an app cleared localStorage, a write was refused,
   * a script rewrote it): then nothing the page holds can be vouched for.
   */
  record(): TabRecord | undefined | null
  /** Whether `key` (of a `storage` event) is this tab's record. */
  owns(key: string | null): boolean
  /**
   * Writes the record (creating the tab's id on first use); false when storage refused it,
   * and then the old record is removed: a record that stays behind would vouch for an
   * older state (a full localStorage refuses only writes that grow).
   */
  write(record: Omit<TabRecord, 't'>): boolean
  /** The logout-everywhere epoch, `''` when none. */
  epoch(): string
  /** Starts a new logout-everywhere epoch and returns it. */
  logout(): string
}

/** Runs `action` on storage, which may throw (blocked, full, gone): `fallback` then. */
const attempt = <T>(action: () => T, fallback: T): T => {
  try {
    return action()
  } catch {
    return fallback
  }
}
const idKeyOf = (name: string): string => `tab-keystore/tab/${name}`
const get = (area: Storage | undefined, key: string): string | null => attempt(() => area?.getItem(key) ?? null, null)
const remove = (area: Storage | undefined, key: string): void => attempt(() => area?.removeItem(key), undefined)
const set = (area: Storage | undefined, key: string, value: string): boolean => attempt(() => (area!.setItem(key, value), true), false)

/**
 * The storage of this tab for store `name`, or the error that makes it unusable
 * (sessionStorage throws in sandboxed frames and where storage is disabled). `copy`: this
 * window did not inherit the tab's share, yet was opened by another page, so its
 * sessionStorage is a copy of the opener's: it is a new tab, and what the copy holds of
 * the opener's tab is dropped unread.
 */
export function openTab(name: string, copy: boolean): TabStorage | { error: unknown } {
  let session: Storage
  let id: string | null
  try {
    session = window.sessionStorage
    id = session.getItem(`tab-keystore/tab/${name}`)
  } catch (error) {
    return { error }
  }
  let local: Storage
  try {
    local = window.localStorage
    local.getItem(idKeyOf(name))
  } catch (error) {
    // Blocked on its own (some privacy settings): without the record no page can tell
    // whether what it holds or finds is the tab's latest state, so none is kept.
    return { error }
  }
  const sealedKey = `tab-keystore:${name}`
  const idKey = idKeyOf(name)
  if (copy && id !== null) {
    remove(session, idKey)
    remove(session, sealedKey)
    id = null
  }
  const recordKey = (): string => `tab-keystore/tab/${id}/${name}`
  sweep(local, name, id)
  const logoutKey = `tab-keystore/logout/${name}`
  return {
    takeSealed() {
      const text = get(session, sealedKey)
      if (text !== null) remove(session, sealedKey)
      return text
    },
    seal: (text) => session.setItem(sealedKey, text),
    unseal: () => remove(session, sealedKey),
    record() {
      if (id === null) return undefined
      try {
        const parsed: unknown = JSON.parse(get(local, recordKey()) ?? 'null')
        return isRecord(parsed) ? parsed : null
      } catch {
        return null
      }
    },
    owns: (key) => id !== null && key === recordKey(),
    write(record) {
      if (id === null && !set(session, idKey, (id = token()))) return (id = null), false
      if (set(local, recordKey(), JSON.stringify({ ...record, v: record.v.slice(-MAX_VOUCHED), t: Date.now() }))) return true
      remove(local, recordKey())
      return false
    },
    epoch: () => get(local, logoutKey) ?? '',
    logout() {
      const epoch = token()
      // Without localStorage only the tabs that hear the message log out.
      set(local, logoutKey, epoch)
      return epoch
    },
  }
}

/**
 * Removes what closed tabs left of this store in localStorage: records of no change for
 * 30 days, sealed states never taken, and the keys of earlier versions (`back`, `cleared`).
 */
function sweep(local: Storage, name: string, own: string | null): void {
  const now = Date.now()
  for (const key of Object.keys(local)) {
    const match = /^tab-keystore\/(\w+)\/([0-9a-f]{16})\//.exec(key)
    if (!match || key.slice(match[0].length) !== name || match[2] === own) continue
    let record: Partial<TabRecord> = {}
    try {
      // Object(): `null` and other non-objects in storage are junk, not a crash of the constructor.
      record = Object(JSON.parse(local.getItem(key)!)) as TabRecord
    } catch {
      // junk: swept
    }
    if (match[1] !== 'tab' || !(now - record.t! < (record.s ? SLOT_LIFETIME : RECORD_LIFETIME))) remove(local, key)
  }
}
