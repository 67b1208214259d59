import { type Entry, type StateMeta, type Value, copy, decodeEntries, encodeEntries, wipe } from './encoding'
import type { Entries } from './entries'
import type { ClearReason } from './events'
import type { IdleLink } from './idle'
import type { TabHost, TabLink } from './lifecycle/machine'
import type { Deleted } from './lifecycle/tab'

/** An entry as another tab hands it over (tabs/protocol.ts): name, value, absolute expiry (`Infinity`: never). */
export type HandoffEntry = [name: string, value: Value, expiresAt: number]

/** The keys of store `name` deleted everywhere, as localStorage has them, and a test for those deleted since `known` (the `tabs` option). */
export type Since = (name: string, known: Deleted | undefined) => [Deleted, ((key: string) => boolean) | undefined]

/** Keys from elsewhere after screening: the live ones, names of the expired ones, or all dropped. */
interface Screened {
  live: [string, Entry][]
  expired: string[]
  dropped?: { reason: ClearReason; count: number }
}

/**
 * Keys from elsewhere (a sealed state at load, a handoff from another tab, the tab's newer
 * state on a return from the back/forward cache) and what this page knows to screen them
 * with: the logout epoch, the keys deleted everywhere, the last activity. It is also the
 * store's side of the tie to its tab: what the lifecycle reads to seal, and the calls it
 * makes when the page comes back.
 */
export class Intake implements TabHost {
  readonly name: string
  readonly #entries: Entries
  /** The logout-everywhere epoch the keys belong to (see TabLink.epoch). */
  epoch = ''
  /** The keys deleted everywhere, as this page last saw them (see `Deleted` in lifecycle/tab.ts). */
  deleted: Deleted = {}
  /** The `idle` option, connected. */
  idle: IdleLink | undefined
  /** The tie to the tab, once made (none outside a browser window). */
  tab: TabLink | undefined
  /** The `sealWhenHidden` option. */
  whenHidden = false
  /**
   * The `tabs` option's reading of the keys deleted everywhere: only its apps can delete
   * everywhere, so only they ship the code.
   */
  since: Since | undefined

  constructor(name: string, entries: Entries) {
    this.name = name
    this.#entries = entries
  }

  meta(): StateMeta {
    return { epoch: this.epoch, lastActive: this.lastActive(), deleted: this.deleted }
  }

  lastActive(): number {
    return this.idle?.last ?? Date.now()
  }

  // Timers may not have fired: keys past their idle time are not handed to the next page.
  encode(): { bytes: Uint8Array; count: number } {
    this.idle?.check()
    return encodeEntries(this.#entries.map, Date.now(), this.meta())
  }

  // Unexpired keys only, as `encode` seals them: a key whose timer has not fired yet must
  // not make the record promise keys that no seal holds (the next page would say `lost`).
  size(): number {
    return this.#entries.count(Date.now())
  }

  sealWhenHidden(): boolean {
    return this.whenHidden
  }

  adopt(plain: Uint8Array): boolean {
    return this.open(plain, 'history')
  }

  drop(why: 'empty' | 'stale' | 'unrecorded'): void {
    const held = this.#entries.map.size
    // Told even when this page held nothing: the tab's latest state may have had keys.
    if (why !== 'empty') this.#entries.report(why)
    if (held) this.#entries.clear('other-page')
  }

  returned(epoch: string, lastActive: number): void {
    // A logout everywhere while this page sat in the back/forward cache.
    if (epoch !== this.epoch) {
      this.epoch = epoch
      if (this.#entries.map.size) this.#entries.clear('other-tab')
    }
    // A delete everywhere meanwhile: those keys go, each told as `deleted`.
    const gone = this.#since(this.deleted)
    if (gone) for (const key of [...this.#entries.map.keys()]) if (gone(key)) this.#entries.delete(key)
    if (this.idle && lastActive > this.idle.last) this.idle.last = lastActive
  }

  setAside(): void {
    this.#entries.setAside()
  }

  putBack(): void {
    this.#entries.putBack()
  }

  frozen(frozen: boolean): void {
    this.idle?.freeze(frozen)
  }

  report(...args: Parameters<Entries['report']>): void {
    this.#entries.report(...args)
  }

  persisted(count: number): void {
    this.#entries.events.emit('persisted', { count })
  }

  hold(): void {
    this.#entries.events.hold()
  }

  release(): void {
    this.#entries.events.release()
  }

  /** Keys another tab handed over (`tabs`): our own copies, exactly the bytes; the clones that came over the channel are wiped. */
  receive(handed: HandoffEntry[], meta: StateMeta): void {
    const entries = handed.map(([key, value, expiresAt]): [string, Entry] => {
      const own = copy(value)
      wipe(value)
      return [key, { value: own, expiresAt }]
    })
    this.take(entries, meta, 'tab')
  }

  /** Cleared as another tab asked, under its logout epoch. */
  clearFrom(epoch: string | undefined): void {
    this.epoch = epoch ?? this.tab?.epoch() ?? this.epoch
    this.#entries.clear('other-tab')
  }

  /** An opened seal, decoded (and wiped) and taken; false when not all of it was. */
  open(plain: Uint8Array, source: 'reload' | 'history'): boolean {
    let state: ReturnType<typeof decodeEntries>
    try {
      state = decodeEntries(plain)
    } catch {
      // Authenticated yet unreadable: only a bug or a format change gets here. The parser's
      // error is not passed on: V8's JSON.parse quotes the text it failed on, the plaintext.
      this.#entries.report('corrupt')
      if (this.#entries.map.size) this.#entries.clear('other-page')
      return false
    } finally {
      plain.fill(0)
    }
    const { entries, ...meta } = state
    return this.take(entries, meta, source)
  }

  /**
   * Takes keys from elsewhere: a sealed state at load (`reload`), a handoff (`tab`), the
   * tab's newer state on a return from the back/forward cache (`history`: what differs
   * from this page's keys is told as it would have been here). False when not all of it
   * was taken (dropped for a logout or idle time, deleted everywhere, or expired meanwhile).
   * Keys deleted everywhere are left out silently: where this page held one, `history`
   * tells it as `deleted`.
   */
  take(entries: [string, Entry][], meta: StateMeta, source: 'reload' | 'tab' | 'history'): boolean {
    const { live, expired, dropped } = this.#screen(entries, meta)
    if (dropped && source === 'history') {
      // On a return, this page's keys go.
      if (this.#entries.map.size) this.#entries.clear(dropped.reason)
      return false
    }
    // Keys dropped on arrival never were in the store: only `cleared` says so.
    if (dropped) this.#entries.events.emit('cleared', dropped)
    else if (source === 'history') this.#entries.take(new Map(live))
    else for (const [key, entry] of live) this.#entries.put(key, entry)
    if (source === 'reload') for (const key of expired) this.#entries.tell('expired', key)
    this.restored(source, expired.length)
    return !dropped && live.length === entries.length
  }

  restored(source: 'reload' | 'history' | 'tab' | 'none', expired: number): void {
    this.#entries.changed()
    this.#entries.events.emit('restored', { count: this.#entries.map.size, expired, source })
  }

  /**
   * Keys from elsewhere, screened: all dropped when a logout everywhere or the idle time
   * came between, those deleted everywhere since left out (a state from before the delete
   * may turn up long after it), expired ones left out (and wiped).
   */
  #screen(entries: [string, Entry][], meta: StateMeta): Screened {
    const now = Date.now()
    const reason = meta.epoch !== this.epoch ? 'other-tab' : this.idle?.past(meta.lastActive) ? 'idle' : undefined
    const gone = this.#since(meta.deleted)
    const live: [string, Entry][] = []
    const expired: string[] = []
    for (const item of entries) {
      const out = reason || gone?.(item[0])
      if (out || item[1].expiresAt <= now) {
        wipe(item[1].value)
        if (!out) expired.push(item[0])
      } else live.push(item)
    }
    if (reason) return { live, expired, dropped: { reason, count: entries.length } }
    if (this.idle) this.idle.last = meta.lastActive
    return { live, expired }
  }

  /**
   * The keys deleted everywhere, as localStorage has them now, become this page's
   * knowledge; returns a test for the names deleted since `known` (undefined: none).
   */
  #since(known: Deleted | undefined): ((key: string) => boolean) | undefined {
    if (!this.since) return
    const [now, gone] = this.since(this.name, known)
    this.deleted = now
    return gone
  }
}
