import { type Entry, type StateMeta, type Value, assertWellFormed, copy, decodeEntries, encodeEntries, isBytes, sameValue, wipe } from './encoding'
import { type ClearReason, Emitter, type ErrorReason, type KeystoreEvents, type Listener, assertEvent, describe } from './events'
import { ExpiryTimers, IdleLock, toExpiry } from './expiry'
import { type TabLink, linkTab } from './lifecycle'
import type { TabsLink, TabsPlugin } from './tabs'

/**
 * What a store holds: a union of key names (string values, as in `session-keystore`),
 * or a record from key name to value type.
 *
 * @example
 * new SessionKeystore<'masterKey' | 'token'>()                       // string values
 * new SessionKeystore<{ masterKey: Uint8Array; token: string }>()    // typed per key
 */
export type Schema = string | { readonly [name: string]: Value }

/**
 * The key names of a schema.
 *
 * @example
 * type N = KeyName<{ masterKey: Uint8Array }> // 'masterKey'
 */
export type KeyName<S extends Schema> = S extends string ? S : Extract<keyof S, string>

/**
 * The value type stored under key `K` of schema `S`.
 *
 * @example
 * type V = ValueOf<{ masterKey: Uint8Array }, 'masterKey'> // Uint8Array
 */
export type ValueOf<S extends Schema, K extends KeyName<S>> = [S] extends [string]
  ? string
  : K extends keyof S
    ? S[K]
    : never

/**
 * Options of `new SessionKeystore()`. The callbacks are those of `session-keystore`;
 * `callStack` is captured (an `Error().stack`) only when the callback is given.
 *
 * @example
 * const options: SessionKeystoreOptions<'token'> = { name: 'app', onExpired: (name) => lock(name) }
 */
export interface SessionKeystoreOptions<N extends string = string> {
  /** Namespace of the store, `'default'` unless given. Stores with different names coexist. */
  name?: string
  /** Every successful read (`get`). */
  onAccess?: (name: N, callStack: string) => void
  /** A value was created, replaced or deleted. */
  onChanged?: (name: N, callStack: string) => void
  /** A value expired. */
  onExpired?: (name: N) => void
  /**
   * Opt-in, from `tab-keystore/tabs`: a new tab of the same origin whose store is empty
   * asks the open tabs for this store's keys over a BroadcastChannel, and `clear`/`delete`
   * can act in every tab. Any same-origin script can listen on that channel. A separate
   * entry point, so that apps without it do not ship it.
   *
   * @example
   * import { tabs } from 'tab-keystore/tabs'
   * new SessionKeystore({ name: 'app', tabs })
   */
  tabs?: TabsPlugin
  /** Clears the store after this many milliseconds without a `get` or `set` (a `cleared` event says why). */
  idleTimeout?: number
}

/**
 * Options of `clear()` and `delete()`.
 *
 * @example
 * store.clear({ everywhere: true }) // log out in every tab (needs the `tabs` option)
 */
export interface EverywhereOptions {
  /** Also in every other tab of this origin that opened the store with `tabs`. */
  everywhere?: boolean
}

type KeyEventName = 'created' | 'read' | 'updated' | 'deleted' | 'expired'

/** Keys from elsewhere after screening: the live ones, names of the expired ones, or all dropped. */
interface Screened {
  live: [string, Entry][]
  expired: string[]
  dropped?: { reason: ClearReason; count: number }
}

/** Names of the stores tied to this page's tab: two of them would overwrite each other's sealed state. */
const linked = /* @__PURE__ */ new Set<string>()

function assertName(name: unknown): asserts name is string {
  if (typeof name !== 'string') throw new TypeError(`name must be a string; got ${describe(name)}`)
}

/**
 * Secret keys held in memory, surviving reloads and same-tab navigations (sealed across
 * them under a key split between `window.name` and `sessionStorage`), gone when the tab
 * closes. Outside a browser window (Node, SSR, Web Workers) it is a memory-only store.
 *
 * @example
 * import { SessionKeystore } from 'tab-keystore'
 *
 * const store = new SessionKeystore<{ masterKey: Uint8Array; token: string }>({ name: 'app' })
 * store.set('masterKey', key)                          // kept until the tab closes
 * store.set('token', token, Date.now() + 15 * 60_000)  // or until it expires
 * store.get('masterKey')                               // a copy of the bytes, or null
 * store.on('expired', ({ name }) => console.log(`${name} expired`))
 */
export class SessionKeystore<S extends Schema = Record<string, Value>> {
  /** The namespace given as `options.name`. */
  readonly name: string
  readonly #entries = new Map<string, Entry>()
  readonly #events = new Emitter()
  readonly #timers = new ExpiryTimers((name) => this.#expire(name))
  readonly #onAccess: SessionKeystoreOptions['onAccess']
  readonly #onChanged: SessionKeystoreOptions['onChanged']
  readonly #onExpired: SessionKeystoreOptions['onExpired']
  readonly #tab: TabLink | undefined
  readonly #tabs: TabsLink | undefined
  readonly #tabsOption: boolean
  readonly #idle: IdleLock | undefined
  readonly #onVisible: (() => void) | undefined
  #destroyed = false
  /** The logout-everywhere epoch the keys belong to (see TabLink.epoch). */
  #epoch = ''
  /** Time of the last get or set: it travels with the keys, for idleTimeout. */
  #lastActive = Date.now()

  constructor(options: SessionKeystoreOptions<KeyName<S>> = {}) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(`options must be an object; got ${describe(options)}`)
    }
    const { name = 'default', onAccess, onChanged, onExpired, tabs, idleTimeout } = options
    if (typeof name !== 'string' || !name) {
      throw new TypeError(`options.name must be a non-empty string; got ${describe(name)}`)
    }
    if (tabs !== undefined && typeof tabs !== 'function') {
      throw new TypeError(`options.tabs must be the \`tabs\` export of 'tab-keystore/tabs'; got ${describe(tabs)}`)
    }
    if (idleTimeout !== undefined && !(typeof idleTimeout === 'number' && idleTimeout > 0 && idleTimeout < Infinity)) {
      throw new RangeError(`options.idleTimeout must be a positive number of milliseconds; got ${describe(idleTimeout)}`)
    }
    for (const [option, fn] of Object.entries({ onAccess, onChanged, onExpired })) {
      if (fn !== undefined && typeof fn !== 'function') {
        throw new TypeError(`options.${option} must be a function; got ${describe(fn)}`)
      }
    }
    if (linked.has(name)) {
      throw new Error(
        `options.name: a SessionKeystore named "${name}" is already open in this page; destroy() it first or choose another name`,
      )
    }
    this.name = name
    this.#tabsOption = tabs !== undefined
    this.#onAccess = onAccess as SessionKeystoreOptions['onAccess']
    this.#onChanged = onChanged as SessionKeystoreOptions['onChanged']
    this.#onExpired = onExpired as SessionKeystoreOptions['onExpired']
    if (idleTimeout !== undefined) {
      this.#idle = new IdleLock(idleTimeout, () => {
        if (this.#entries.size) this.#clearEntries('idle')
      })
    }
    // What happens while restoring is told after the constructor returns, so that
    // listeners attached right after `new SessionKeystore()` hear it too.
    const deferred: (() => void)[] = []
    let restoring = true
    const report = (reason: ErrorReason, error?: unknown): void => {
      const emit = (): void => this.#events.emit('error', error === undefined ? { reason } : { reason, error })
      if (restoring) deferred.push(emit)
      else emit()
    }
    this.#tab = linkTab(name, {
      // Timers may not have fired: keys past their idle time are not handed to the next page.
      encode: () => {
        this.#idle?.check()
        return encodeEntries(this.#entries, Date.now(), this.#meta())
      },
      size: () => this.#entries.size,
      adopt: (plain) => this.#adopt(plain),
      stale: () => {
        report('stale')
        this.#clearEntries('other-page')
      },
      clearedElsewhere: () => this.#clearEntries('other-page'),
      returned: () => this.#checkEpoch(),
      report,
      persisted: (count) => this.#events.emit('persisted', { count }),
    })
    if (this.#tab) linked.add(name)
    this.#epoch = this.#tab?.epoch() ?? ''
    const restored = this.#tab?.restored
    if (restored) {
      try {
        const state = this.#unseal(restored)
        if (state.dropped) {
          const { reason, count } = state.dropped
          deferred.push(() => this.#events.emit('cleared', { reason, count }))
        }
        for (const [key, entry] of state.live) {
          this.#entries.set(key, entry)
          this.#timers.arm(key, entry.expiresAt)
        }
        for (const key of state.expired) deferred.push(() => this.#emitKey('expired', key))
        const count = this.#entries.size
        deferred.push(() => this.#events.emit('restored', { count, expired: state.expired.length, source: 'reload' }))
      } catch (error) {
        // Authenticated yet unreadable: only a bug or a format change gets here.
        this.#wipeAll()
        report('corrupt', error)
      }
    }
    restoring = false
    if (deferred.length) {
      queueMicrotask(() => {
        if (!this.#destroyed) for (const emit of deferred) emit()
      })
    }
    this.#tabs = tabs?.({
      name,
      entries: this.#entries,
      checkIdle: () => this.#idle?.check(),
      meta: () => this.#meta(),
      receive: (handed, meta) => {
        const { live, expired, dropped } = this.#screen(
          handed.map(([key, value, expiresAt]): [string, Entry] => [key, { value: copy(value), expiresAt }]),
          meta,
        )
        if (dropped) this.#events.emit('cleared', dropped)
        for (const [key, entry] of live) {
          this.#entries.set(key, entry)
          this.#timers.arm(key, entry.expiresAt)
        }
        this.#events.emit('restored', { count: live.length, expired: expired.length, source: 'tab' })
      },
      unanswered: () => this.#events.emit('restored', { count: 0, expired: 0, source: 'none' }),
      clear: (epoch) => {
        this.#epoch = epoch ?? this.#tab?.epoch() ?? this.#epoch
        this.#clearAll('other-tab')
      },
      remove: (key) => {
        const entry = this.#entries.get(key)
        if (entry) {
          this.#remove(key, entry)
          this.#emitKey('deleted', key)
        }
      },
    })
    if (this.#idle) {
      // Timers sleep with the machine and are throttled in hidden tabs: look at the
      // clock again as soon as the page is seen.
      if (typeof document === 'object') {
        const idle = this.#idle
        this.#onVisible = () => idle.check()
        window.addEventListener('pageshow', this.#onVisible)
        document.addEventListener('visibilitychange', this.#onVisible)
      }
    }
  }

  /**
   * Stores `value` under `name`, replacing what was there. Bytes are copied in.
   * `expiresAt` (a Date or epoch milliseconds) makes the key disappear at that time;
   * one already past makes it expire at once (an `expired` event, not `created`).
   * Setting the value a key already holds emits nothing (its expiry is still updated).
   *
   * @example
   * store.set('token', 'abc', Date.now() + 60_000)
   */
  set<K extends KeyName<S>>(name: K, value: ValueOf<S, K>, expiresAt?: Date | number): void {
    this.#assertAlive()
    assertName(name)
    if (typeof value === 'string') assertWellFormed(value, 'value')
    else if (!isBytes(value)) throw new TypeError(`value must be a string or a Uint8Array; got ${describe(value)}`)
    const until = toExpiry(expiresAt)
    // A name already in the store was checked when it came in.
    if (!this.#entries.has(name)) assertWellFormed(name, 'name')
    const old = this.#lookup(name)
    this.#touch()
    if (until <= Date.now()) {
      if (old) this.#remove(name, old)
      this.#emitKey('expired', name)
      return
    }
    if (old && sameValue(old.value, value)) {
      old.expiresAt = until
      this.#timers.arm(name, until)
      return
    }
    if (old) wipe(old.value)
    this.#entries.set(name, { value: copy(value), expiresAt: until })
    this.#timers.arm(name, until)
    this.#emitKey(old ? 'updated' : 'created', name)
  }

  /**
   * The value under `name` (bytes as a fresh copy), or `null` when absent or expired.
   * Emits `read` (and calls `onAccess`) on success.
   *
   * @example
   * const key = store.get('masterKey')
   * if (key === null) await unlock()
   */
  get<K extends KeyName<S>>(name: K): ValueOf<S, K> | null {
    const entry = this.#lookup(name)
    if (!entry) return null
    this.#touch()
    if (this.#onAccess || this.#events.has('read')) this.#emitKey('read', name)
    return copy(entry.value) as ValueOf<S, K>
  }

  /**
   * Whether `name` holds an unexpired value. Emits no `read` event.
   *
   * @example
   * if (!store.has('masterKey')) showLogin()
   */
  has(name: KeyName<S>): boolean {
    return this.#lookup(name) !== undefined
  }

  /**
   * When `name` expires, or `null` when it is absent or never expires.
   *
   * @example
   * store.expiresAt('token')?.toISOString()
   */
  expiresAt(name: KeyName<S>): Date | null {
    const at = this.#lookup(name)?.expiresAt
    return at === undefined || at === Infinity ? null : new Date(at)
  }

  /**
   * Milliseconds until `name` expires: `Infinity` when it never does, `null` when absent.
   *
   * @example
   * const left = store.expiresIn('token') // e.g. 59_000
   */
  expiresIn(name: KeyName<S>): number | null {
    const at = this.#lookup(name)?.expiresAt
    return at === undefined ? null : at === Infinity ? Infinity : Math.max(at - Date.now(), 0)
  }

  /**
   * Names of the unexpired keys, in insertion order.
   *
   * @example
   * for (const name of store.keys()) console.log(name)
   */
  keys(): KeyName<S>[] {
    this.#assertAlive()
    this.#sweep()
    return [...this.#entries.keys()] as KeyName<S>[]
  }

  /**
   * How many unexpired keys the store holds.
   *
   * @example
   * if (store.size === 0) showLogin()
   */
  get size(): number {
    this.#assertAlive()
    this.#sweep()
    return this.#entries.size
  }

  /**
   * Removes `name` (zero-filling its bytes) and emits `deleted`.
   * Returns whether a key was removed here; an expired key emits `expired` instead and
   * returns false. `{ everywhere: true }` also deletes it in the other tabs (`tabs` option).
   *
   * @example
   * store.delete('token')
   */
  delete(name: KeyName<S>, options?: EverywhereOptions): boolean {
    if (this.#everywhere(options)) {
      assertName(name)
      this.#tabs?.deleteEverywhere(name)
    }
    const entry = this.#lookup(name)
    if (!entry) return false
    this.#remove(name, entry)
    this.#emitKey('deleted', name)
    return true
  }

  /**
   * Removes every key, emitting `deleted` once per key and then `cleared`, and tells
   * pages of this tab that sit in the back/forward cache to drop theirs when they come
   * back (a logout). `{ everywhere: true }` does the same in every tab (`tabs` option).
   *
   * @example
   * logoutButton.onclick = () => store.clear({ everywhere: true })
   */
  clear(options?: EverywhereOptions): void {
    if (this.#everywhere(options)) {
      // A new epoch in localStorage: tabs that do not hear the message (away from the app,
      // in the back/forward cache, mid-handoff) drop keys of the old one when they see it.
      this.#epoch = this.#tab?.logout() ?? this.#epoch
      this.#tabs?.clearEverywhere(this.#epoch)
    }
    this.#clearAll('clear')
  }

  /**
   * Seals the store into `sessionStorage` now, as leaving the page does anyway.
   * Rarely needed: the sealed entry then stays in `sessionStorage` (which Chromium
   * writes to disk) until the next page load takes it. A no-op outside a browser tab.
   *
   * @example
   * store.persist()
   */
  persist(): void {
    this.#assertAlive()
    this.#tab?.persist()
  }

  /**
   * Subscribes to an event; returns the function that unsubscribes.
   * Listeners are called without `this`; one that throws stops neither the operation
   * nor the other listeners (see the `error` event).
   *
   * @example
   * const off = store.on('read', ({ name }) => audit('read', name))
   * off()
   */
  on<E extends keyof KeystoreEvents>(event: E, listener: Listener<KeyName<S>, E>): () => void {
    this.#assertAlive()
    assertEvent(event)
    if (typeof listener !== 'function') {
      throw new TypeError(`listener must be a function; got ${describe(listener)}`)
    }
    this.#events.on(event, listener)
    return () => this.#events.off(event, listener)
  }

  /**
   * Unsubscribes a listener given to `on`. Never throws, even after `destroy()`.
   *
   * @example
   * store.off('read', onRead)
   */
  off<E extends keyof KeystoreEvents>(event: E, listener: Listener<KeyName<S>, E>): void {
    this.#events.off(event, listener)
  }

  /**
   * Wipes the store for good: timers stopped, listeners dropped, bytes zero-filled,
   * nothing left for the next page of the tab. Any later call but `off`/`destroy` throws.
   *
   * @example
   * store.destroy()
   */
  destroy(): void {
    if (this.#destroyed) return
    this.#destroyed = true
    this.#wipeAll()
    this.#events.clear()
    this.#tabs?.close()
    this.#idle?.stop()
    if (this.#onVisible) {
      window.removeEventListener('pageshow', this.#onVisible)
      document.removeEventListener('visibilitychange', this.#onVisible)
    }
    if (this.#tab) {
      this.#tab.detach()
      linked.delete(this.name)
    }
  }

  /**
   * `using store = new SessionKeystore()` destroys the store at the end of the scope.
   *
   * @example
   * { using store = new SessionKeystore(); store.set('k', 'v') } // destroyed here
   */
  [Symbol.dispose](): void {
    this.destroy()
  }

  #assertAlive(): void {
    if (this.#destroyed) {
      throw new Error(`SessionKeystore "${this.name}" was destroyed; create a new one`)
    }
    this.#idle?.check()
  }

  /** Validates `options` of clear/delete; true when the caller asks for every tab. */
  #everywhere(options: EverywhereOptions | undefined): boolean {
    this.#assertAlive()
    if (options === undefined) return false
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(`options must be an object; got ${describe(options)}`)
    }
    const { everywhere = false } = options
    if (typeof everywhere !== 'boolean') {
      throw new TypeError(`options.everywhere must be a boolean; got ${describe(everywhere)}`)
    }
    if (everywhere && !this.#tabsOption) {
      throw new TypeError(`options.everywhere needs the store to be created with the option tabs (from 'tab-keystore/tabs')`)
    }
    return everywhere
  }

  /** The live entry of `name`, expiring it first if its time has come (timers can be late). */
  #lookup(name: unknown): Entry | undefined {
    this.#assertAlive()
    assertName(name)
    const entry = this.#entries.get(name)
    if (entry && entry.expiresAt !== Infinity && entry.expiresAt <= Date.now()) {
      this.#expire(name)
      return undefined
    }
    return entry
  }

  #remove(name: string, entry: Entry): void {
    this.#entries.delete(name)
    this.#timers.disarm(name)
    wipe(entry.value)
  }

  #expire(name: string): void {
    const entry = this.#entries.get(name)
    if (!entry) return
    this.#remove(name, entry)
    this.#emitKey('expired', name)
  }

  #sweep(): void {
    const now = Date.now()
    for (const [name, { expiresAt }] of this.#entries) if (expiresAt <= now) this.#expire(name)
  }

  /** A logout here or from another tab: pages of this tab in the back/forward cache must drop their keys too. */
  #clearAll(reason: 'clear' | 'other-tab'): void {
    this.#tab?.cleared()
    this.#clearEntries(reason)
  }

  #touch(): void {
    this.#lastActive = Date.now()
    this.#idle?.touch(this.#lastActive)
  }

  #meta(): StateMeta {
    return { epoch: this.#epoch, lastActive: this.#lastActive }
  }

  /** A logout everywhere seen on a return from the back/forward cache. */
  #checkEpoch(): void {
    const epoch = this.#tab?.epoch() ?? this.#epoch
    if (epoch === this.#epoch) return
    this.#epoch = epoch
    if (this.#entries.size) this.#clearEntries('other-tab')
  }

  /**
   * Keys from elsewhere (a sealed state, a handoff), screened: all dropped when a logout
   * everywhere or the idle time came between, expired ones left out (and wiped).
   */
  #screen(entries: [string, Entry][], meta: StateMeta): Screened {
    const now = Date.now()
    const reason = meta.epoch !== this.#epoch ? 'other-tab' : this.#idle?.expired(meta.lastActive) ? 'idle' : undefined
    const live: [string, Entry][] = []
    const expired: string[] = []
    for (const item of entries) {
      if (reason || item[1].expiresAt <= now) {
        wipe(item[1].value)
        if (!reason) expired.push(item[0])
      } else live.push(item)
    }
    if (reason) return { live, expired, dropped: { reason, count: entries.length } }
    this.#lastActive = meta.lastActive
    this.#idle?.touch(meta.lastActive)
    return { live, expired }
  }

  /** Decodes an opened seal (wiping it) and screens its keys. Throws on a malformed state. */
  #unseal(plain: Uint8Array): Screened {
    try {
      const { entries, ...meta } = decodeEntries(plain)
      return this.#screen(entries, meta)
    } finally {
      plain.fill(0)
    }
  }

  /**
   * The state a later page of this tab left, taken on a return from the back/forward
   * cache: what changed there is told as it would have been here.
   */
  #adopt(plain: Uint8Array): void {
    let state: Screened
    try {
      state = this.#unseal(plain)
    } catch (error) {
      this.#events.emit('error', { reason: 'corrupt', error })
      return
    }
    if (state.dropped) {
      if (this.#entries.size) this.#clearEntries(state.dropped.reason)
      return
    }
    const next = new Map(state.live)
    for (const [name, entry] of [...this.#entries]) {
      if (!next.has(name)) {
        this.#remove(name, entry)
        this.#emitKey('deleted', name)
      }
    }
    for (const [name, entry] of next) {
      const old = this.#entries.get(name)
      const same = old !== undefined && sameValue(old.value, entry.value)
      if (same) {
        wipe(entry.value)
        old.expiresAt = entry.expiresAt
      } else {
        if (old) wipe(old.value)
        this.#entries.set(name, entry)
      }
      this.#timers.arm(name, entry.expiresAt)
      if (!same) this.#emitKey(old ? 'updated' : 'created', name)
    }
    this.#events.emit('restored', { count: this.#entries.size, expired: state.expired.length, source: 'history' })
  }

  #clearEntries(reason: ClearReason): void {
    this.#sweep()
    const entries = [...this.#entries]
    for (const [name, entry] of entries) {
      this.#remove(name, entry)
      this.#emitKey('deleted', name)
    }
    this.#events.emit('cleared', { reason, count: entries.length })
  }

  #wipeAll(): void {
    this.#timers.disarmAll()
    for (const { value } of this.#entries.values()) wipe(value)
    this.#entries.clear()
  }

  #emitKey(event: KeyEventName, name: string): void {
    // A state sealed by persist() must not outlive a change.
    if (event !== 'read') this.#tab?.changed()
    if (event === 'expired') {
      if (this.#onExpired) this.#events.call(event, this.#onExpired, name)
    } else {
      const callback = event === 'read' ? this.#onAccess : this.#onChanged
      if (callback) this.#events.call(event, callback, name, new Error('tab-keystore call stack').stack ?? '')
    }
    this.#events.emit(event, { name })
  }
}
