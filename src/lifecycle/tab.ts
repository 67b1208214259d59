import { randomBytes, tag, toHex } from '../seal'

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
 *   Nothing in it is secret but a sealed state in transit (`s`, S2 and ciphertext), and
 *   the state sealed to the pages of the tab (`e`), which opens only in their memory.
 * - `tab-keystore/logout/<name>`: the logout-everywhere epoch (the `tabs` option).
 * - `tab-keystore/deleted/<name>`: the keys deleted everywhere since the last logout
 *   everywhere (`Deleted`; the `tabs` option), by a one-way tag of their names.
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
  /**
   * The pages of the tab that may come back from the back/forward cache: each one's id and
   * public key (peers.ts), newest last. Public keys: nothing in them is secret.
   */
  p?: [id: string, pub: string][]
  /** The latest state sealed to those pages as the page holding it left (peers.ts). */
  e?: PageSeal
  /** When it was written, for sweeping. */
  t: number
}

/**
 * The tab's latest state sealed to the pages of `p`: generation `g`, the sealing page's
 * public key `f`, the state sealed under a random data key (`c`), and that key wrapped
 * for each page (`r`: id, wrap). Both kinds of seal are seal.ts's envelope.
 */
export interface PageSeal {
  g: string
  f: string
  c: string
  r: [id: string, wrap: string][]
}

/**
 * How many pages a record names, the one shown last at the end: Chromium keeps at most 6
 * pages of a tab in its cache and evicts the one shown least recently, Firefox at most 8
 * (their defaults); a page that fell off the end drops its keys, told, on a return that
 * missed a change. Pages that unload remove themselves; a page the cache evicted stays
 * named until it falls off.
 */
const MAX_PAGES = 8

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
  const { g, n, w, a, k, v, s, p } = (r ?? {}) as Partial<TabRecord>
  return (
    typeof g === 'string' &&
    /^[0-9a-f]{16}$/.test(g) &&
    typeof n === 'number' &&
    typeof a === 'number' &&
    typeof k === 'string' &&
    Array.isArray(v) &&
    ['live', 'sealed', 'slot', 'away', 'quota'].includes(w!) &&
    (w !== 'slot' || typeof s === 'string') &&
    (p === undefined || Array.isArray(p))
  )
}

/** A record as stored (`null`: none, or not one). */
export function parseRecord(text: string | null): TabRecord | null {
  try {
    const parsed: unknown = JSON.parse(text ?? 'null')
    return isRecord(parsed) ? parsed : null
  } catch {
    return null
  }
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
   * older state (a full localStorage refuses only writes that grow). The pages it names
   * stay as they are, or are `pages` where the record was gone; the writer, `self`, is
   * named last (the page shown most recently).
   */
  write(record: Omit<TabRecord, 't'>, pages?: [string, string][], self?: [string, string]): boolean
  /** Names page `id` in the record with public key `pub`, or (`undefined`) no longer; nothing while the tab has no record. */
  publish(id: string, pub: string | undefined): void
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
const get = (area: Storage | undefined, key: string): string | null => attempt(() => area?.getItem(key) ?? null, null)
const remove = (area: Storage | undefined, key: string): void => attempt(() => area?.removeItem(key), undefined)
const set = (area: Storage | undefined, key: string, value: string): boolean =>
  attempt(() => (area!.setItem(key, value), true), false)

/**
 * The storage of this tab for store `name`, or the error that makes it unusable
 * (sessionStorage throws in sandboxed frames and where storage is disabled). `copy`: this
 * window did not inherit the tab's share, yet was opened by another page, so its
 * sessionStorage is a copy of the opener's: it is a new tab, and what the copy holds of
 * the opener's tab is dropped unread.
 */
export function openTab(name: string, copy: boolean): TabStorage | { error: unknown } {
  const sealedKey = `tab-keystore:${name}`
  const idKey = `tab-keystore/tab/${name}`
  let session: Storage
  let local: Storage
  let id: string | null
  try {
    session = window.sessionStorage
    id = session.getItem(idKey)
    if (copy && id !== null) {
      remove(session, idKey)
      remove(session, sealedKey)
      id = null
    }
    // localStorage blocked on its own (some privacy settings) throws here, at the latest in
    // the sweep (a SecurityError, or a null storage): without the record no page can tell
    // whether what it holds or finds is the tab's latest state, so none is kept.
    local = window.localStorage
    sweep(local, name, id)
  } catch (error) {
    return { error }
  }
  const recordKey = (): string => `tab-keystore/tab/${id}/${name}`
  const logoutKey = `tab-keystore/logout/${name}`
  const record = (): TabRecord | undefined | null => (id === null ? undefined : parseRecord(get(local, recordKey())))
  const store = (record: Omit<TabRecord, 't'>): boolean => {
    const p = (record.p ?? []).slice(-MAX_PAGES)
    return set(local, recordKey(), JSON.stringify({ ...record, v: record.v.slice(-MAX_VOUCHED), p, t: Date.now() }))
  }
  return {
    takeSealed() {
      const text = get(session, sealedKey)
      if (text !== null) remove(session, sealedKey)
      return text
    },
    seal: (text) => session.setItem(sealedKey, text),
    unseal: () => remove(session, sealedKey),
    record,
    owns: (key) => id !== null && key === recordKey(),
    write(written, pages = [], self) {
      if (id === null && !set(session, idKey, (id = token()))) return ((id = null), false)
      // The pages of the tab stay named, whichever page writes.
      const now = record()
      const named = (written.p ?? (now ? (now.p ?? []) : pages)).filter((page) => page[0] !== self?.[0])
      if (store({ ...written, p: self ? [...named, self] : named })) return true
      remove(local, recordKey())
      return false
    },
    publish(page, pub) {
      const now = record()
      if (!now) return
      const p = (now.p ?? []).filter((named) => named[0] !== page)
      if (pub) p.push([page, pub])
      // Refused (storage full): the page is not named, and no seal is made for it. The
      // record stays: it names the same state as before.
      store({ ...now, p })
    },
    epoch: () => get(local, logoutKey) ?? '',
    logout() {
      const epoch = token()
      // Without localStorage only the tabs that hear the message log out.
      set(local, logoutKey, epoch)
      // Every state from before a logout is dropped whole: its deletions say nothing more.
      remove(local, deletedKey(name))
      return epoch
    },
  }
}

/**
 * Keys deleted everywhere, as a delete everywhere leaves them for the tabs that do not
 * hear it (away from the app, in the back/forward cache, reloading, mid-handoff), as the
 * logout epoch does for a clear: a one-way tag of each key's name (`nameTag`) and a random
 * token, new with every such delete. A state (sealed or handed over) carries the map its
 * page last saw (StateMeta); wherever it turns up, a key whose tag has another token in
 * localStorage than the state knew was deleted since, and goes. A key set again by a page
 * that knew the new token stays.
 *
 * Tokens rather than times, so that no clock, and no localStorage the app emptied, can make
 * an old state look newer than a delete. One map next to the epoch rather than a key per
 * name, so that it stays bounded and a logout, which drops every older state whole anyway,
 * drops it at once. Bounded fail-closed: the map keeps the latest `MAX_DELETED` tags, and
 * a state older than one it let go cannot tell which of its keys went, so all of them go
 * (`*`, which no tag equals, holds the tag and token of the newest one let go: a state
 * that knew that deletion, or `*` as it is, is not older than any of those let go).
 *
 * Only the `tabs` option calls these functions (delete everywhere needs it), so only its
 * apps ship them: the store reaches them through the option (`since`, tabs/protocol.ts).
 */
export type Deleted = Record<string, string>

/** Far more names than an app deletes everywhere between two logouts. */
const MAX_DELETED = 64
const deletedKey = (name: string): string => `tab-keystore/deleted/${name}`
let utf8: TextEncoder | undefined

/**
 * A one-way tag of a key name, 16 hex digits, for what rests in localStorage (on disk in
 * every engine): names are sealed everywhere else, and they can say whose keys these are.
 * No hash function ships with the library: the name goes in 16-byte chunks, each beside
 * the tag so far (at first the name's length, so that no two names pad alike) into the
 * `tag` of seal.ts, whose output ChaCha20 derives from its input as the key. It hides only
 * names that cannot be guessed: a disk reader can try the app's own. Two names with one
 * tag (2^-64) would be deleted together.
 */
export function nameTag(key: string): string {
  const bytes = (utf8 ??= new TextEncoder()).encode(key)
  let t = String(bytes.length)
  for (let at = 0; !at || at < bytes.length; at += 16) {
    const chunk = new Uint8Array(32)
    chunk.set(utf8.encode(t))
    chunk.set(bytes.subarray(at, at + 16), 16)
    t = tag(chunk)
  }
  return t
}

/** The keys of store `name` deleted everywhere: `{}` when none, or unreadable (any junk compares as unknown tokens). */
export const deletions = (name: string): Deleted =>
  attempt(() => Object(JSON.parse(window.localStorage.getItem(deletedKey(name))!)) as Deleted, {})

/** Records a delete everywhere of the key tagged `t` in store `name`; returns its token. */
export function deleteEverywhere(name: string, t: string): string {
  const fresh = token()
  const { '*': before, ...old } = deletions(name)
  // Oldest first: a name deleted again moves to the end, and the oldest are let go.
  const list = Object.entries(old).filter(([k]) => k !== t)
  list.push([t, fresh])
  const star = list.at(-MAX_DELETED - 1)?.join('') ?? before
  const map = Object.fromEntries(list.slice(-MAX_DELETED)) as Deleted
  if (star) map['*'] = star
  // Without localStorage only the tabs that hear the message delete the key.
  attempt(() => window.localStorage.setItem(deletedKey(name), JSON.stringify(map)), undefined)
  return fresh
}

/**
 * A test for the names deleted everywhere since `known` was current (a state's map; absent
 * in states sealed before these existed: every deletion then counts), by `now` (the map
 * in localStorage); undefined when none was.
 */
export function deletedSince(known: Deleted | undefined, now: Deleted): ((key: string) => boolean) | undefined {
  const seen = Object(known) as Deleted
  const changed = new Set(Object.keys(now).filter((t) => seen[t] !== now[t]))
  const star = now['*']
  if (typeof star === 'string' && seen[star.slice(0, 16)] === star.slice(16)) changed.delete('*')
  return changed.size ? (key) => changed.has('*') || changed.has(nameTag(key)) : undefined
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
