import { type Entry, type StateMeta, type Value, assertWellFormed, copy, decodeEntries, encodeEntries, isBytes, padLength, sameValue, wipe } from './encoding'
import { Entries, type KeyEventName } from './entries'
import { KeystoreError, invalid } from './errors'
import { type ClearReason, Emitter, type ErrorReason, type KeystoreEvents, type Listener, STORE_EVENTS, assertListener } from './events'
import { toExpiry } from './expiry'
import type { IdleConnect, IdleLink, IdlePlugin } from './idle'
import { type TabHost, type TabLink, linkTab } from './lifecycle/machine'
import type { Deleted } from './lifecycle/tab'
import type { StoreInternals, TabsConnect, TabsLink } from './tabs/protocol'
import type { EverywhereOptions, KeyName, Schema, SessionKeystoreOptions, Stored, ValueOf } from './schema'

/** Keys from elsewhere after screening: the live ones, names of the expired ones, or all dropped. */
interface Screened {
  live: [string, Entry][]
  expired: string[]
  dropped?: { reason: ClearReason; count: number }
}

/** The options other than `name`, the type each must have, and what to say when it has not. */
const OPTIONS = [
  ['tabs', 'function', "the `tabs` export of 'tab-keystore/tabs'"],
  ['idle', 'function', "made by `idle()` of 'tab-keystore/idle'"],
  ['onAccess', 'function', 'a function'],
  ['onChanged', 'function', 'a function'],
  ['onExpired', 'function', 'a function'],
  ['sealWhenHidden', 'boolean', 'a boolean'],
] as const

/** Sealed state can be at most 5 Mi UTF-16 units, 15 bits each (Chromium's and Firefox's quota). */
const MAX_SEALED = 9_830_400

/** The stores tied to this page's tab, by name: a second `new` with the same name gets the live one. */
const live = /* @__PURE__ */ new Map<string, SessionKeystore<never>>()

/**
 * Secret keys held in memory, surviving reloads and same-tab navigations (sealed across
 * them under a key split between `window.name` and web storage), gone when the tab
 * closes. Outside a browser window (Node, SSR, Web Workers) it is a memory-only store.
 *
 * `new SessionKeystore({ name })` where a store of that name is already open in the page
 * returns that store, with the options given replacing its own (those left out keep theirs): hot reload and React
 * StrictMode create stores twice, and two stores of one name would overwrite each other's
 * sealed state.
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
export class SessionKeystore<S extends Schema<S> = Record<string, Value>> {
  /** The namespace given as `options.name`. */
  readonly name!: string
  readonly #entries!: Entries
  readonly #events = new Emitter<KeystoreEvents>()
  readonly #subscribers = new Set<() => void>()
  #idle: IdleLink | undefined
  readonly #tab: TabLink | undefined
  #options: SessionKeystoreOptions = {}
  #tabs: TabsLink | undefined
  #version = 0
  #pending = false
  #notifying = false
  #destroyed = false
  /** The logout-everywhere epoch the keys belong to (see TabLink.epoch). */
  #epoch = ''
  /** The keys deleted everywhere, as this page last saw them (see `Deleted` in lifecycle/tab.ts). */
  #deleted: Deleted = {}

  constructor(options: SessionKeystoreOptions<KeyName<S>> = {}) {
    if (typeof options !== 'object' || options === null) invalid('options', 'an object', options)
    const { name = 'default' } = options
    if (typeof name !== 'string' || !name) invalid('options.name', 'a non-empty string', name)
    for (const [option, type, expected] of OPTIONS) {
      if (options[option] !== undefined && typeof options[option] !== type) invalid(`options.${option}`, expected, options[option])
    }
    const open = live.get(name)
    if (open) {
      open.#configure(options as SessionKeystoreOptions)
      return open as unknown as SessionKeystore<S>
    }
    this.name = name
    this.#options = options as SessionKeystoreOptions
    this.#entries = new Entries((event, key) => this.#emitKey(event, key))
    this.#connectIdle(options.idle)
    // What happens while restoring is told after the constructor returns, so that
    // listeners attached right after `new SessionKeystore()` hear it too.
    this.#events.hold()
    this.#tab = linkTab(name, this.#host())
    if (this.#tab) live.set(name, this as unknown as SessionKeystore<never>)
    this.#epoch = this.#tab?.epoch() ?? ''
    this.#tab?.start(Boolean(this.#tab.restored) && !this.#open(this.#tab.restored!, 'reload'))
    // After the restore: the tabs option asks other tabs only when nothing came back.
    this.#configure(options as SessionKeystoreOptions)
    this.#events.release()
    // Timers sleep with the machine and are throttled in hidden tabs: look at the clock
    // again as soon as the page is seen.
    if (typeof document === 'object') {
      window.addEventListener('pageshow', this.#onVisible)
      document.addEventListener('visibilitychange', this.#onVisible)
    }
  }

  /**
   * Applies options: at construction, and again when `new` is called for a store already
   * open, where the options given replace the store's and those left out keep theirs (a
   * `new SessionKeystore({ name })` that only wants the store must not turn its
   * idleTimeout or tabs off).
   */
  #configure(given: SessionKeystoreOptions): void {
    const options = { ...this.#options }
    for (const [option, value] of Object.entries(given)) if (value !== undefined) options[option as 'name'] = value
    if (options.idle !== this.#options.idle) this.#connectIdle(options.idle)
    this.#options = options
    const connect = options.tabs as unknown as TabsConnect | undefined
    if (connect && !this.#tabs) this.#tabs = connect(this.#internals())
  }

  /**
   * Stores `value` under `name`, replacing what was there. Bytes are copied in.
   * `expiresAt` (a Date or epoch milliseconds) makes the key disappear at that time; one
   * already past makes it expire at once (an `expired` event, not `created`). One before
   * the year 2000 is refused as a unit mistake (a duration, or seconds). Setting the value
   * a key already holds emits nothing (its expiry is still updated). A value too large to
   * survive a reload in any browser (about 9.7 MB) is refused.
   *
   * @example
   * store.set('token', 'abc', Date.now() + 60_000)
   */
  set<K extends KeyName<S>>(name: K, value: ValueOf<S, K>, expiresAt?: Date | number): void {
    this.#assertAlive()
    if (typeof name !== 'string') invalid('name', 'a string', name)
    if (typeof value === 'string') assertWellFormed(value, 'value')
    else if (!isBytes(value)) invalid('value', 'a string or a Uint8Array', value)
    if (value.length > 8e6 && padLength(value.length + name.length + 64) > MAX_SEALED) {
      invalid('value', 'small enough to survive a reload (about 9.7 MB at most in any browser)', value, true)
    }
    const until = toExpiry(expiresAt)
    // A name already in the store was checked when it came in.
    if (!this.#entries.map.has(name)) assertWellFormed(name, 'name')
    const old = this.#entries.lookup(name)
    this.#idle?.touch()
    if (until <= Date.now()) {
      this.#entries.remove(name)
      this.#emitKey('expired', name)
    } else if (old && sameValue(old.value, value)) {
      this.#entries.put(name, { value: old.value, expiresAt: until })
      if (old.expiresAt !== until) this.#changed()
    } else {
      // Replaced in place: the key keeps its place in insertion order.
      if (old) wipe(old.value)
      this.#entries.put(name, { value: copy(value), expiresAt: until })
      this.#emitKey(old ? 'updated' : 'created', name)
    }
  }

  /**
   * The value under `name` (bytes as a fresh copy), or `null` when absent or expired.
   * Emits `read` (and calls `onAccess`) on success. `now` replaces the clock for the
   * expiry check, as in `session-keystore`: a key whose time has come by then expires for
   * good (an `expired` event), as it would have at that time.
   *
   * @example
   * const key = store.get('masterKey')
   * if (key === null) await unlock()
   */
  get<K extends KeyName<S>>(name: K, now?: number): Stored<ValueOf<S, K>> | null {
    if (now !== undefined && typeof now !== 'number') invalid('now', 'epoch milliseconds', now)
    const entry = this.#lookup(name, now)
    if (!entry) return null
    this.#idle?.touch()
    if (this.#options.onAccess || this.#events.has('read')) this.#emitKey('read', name)
    return copy(entry.value) as Stored<ValueOf<S, K>>
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
    return at === undefined ? null : Math.max(at - Date.now(), 0)
  }

  /**
   * Names of the unexpired keys, in insertion order.
   *
   * @example
   * for (const name of store.keys()) console.log(name)
   */
  keys(): KeyName<S>[] {
    this.#assertAlive()
    this.#entries.sweep()
    return [...this.#entries.map.keys()] as KeyName<S>[]
  }

  /**
   * How many unexpired keys the store holds.
   *
   * @example
   * if (store.size === 0) showLogin()
   */
  get size(): number {
    return this.keys().length
  }

  /**
   * Grows by one with every change of any kind (set, delete, expiry, clear, restore,
   * handoff, a newer state taken back from the back/forward cache, `pending`): a snapshot
   * for UI frameworks, with `subscribe`.
   *
   * @example
   * const version = useSyncExternalStore(store.subscribe, () => store.version)
   */
  get version(): number {
    return this.#version
  }

  /**
   * True while a new tab waits for another tab to hand the keys over (`tabs` option,
   * at most about a second): show a spinner rather than a login form meanwhile.
   *
   * @example
   * if (!store.pending && !store.has('masterKey')) showLogin()
   */
  get pending(): boolean {
    return this.#pending
  }

  /**
   * Calls `listener` (with no arguments) after every change of any kind: once per change,
   * or once for all the changes a task made together, in a microtask. Returns the function
   * that unsubscribes. Bound to the store, so it can be passed as it is. For what
   * changed, use `on()`.
   *
   * @example
   * const unsubscribe = store.subscribe(() => render(store.version))
   */
  readonly subscribe = (listener: () => void): (() => void) => {
    if (typeof listener !== 'function') invalid('listener', 'a function', listener)
    this.#subscribers.add(listener)
    return () => void this.#subscribers.delete(listener)
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
      if (typeof name !== 'string') invalid('name', 'a string', name)
      // Also left in localStorage, as clear's epoch is: tabs that do not hear the message
      // (away from the app, in the back/forward cache, reloading, mid-handoff) drop the
      // key from any state that predates the delete (see `Deleted` in lifecycle/tab.ts).
      this.#tabs?.deleteEverywhere(name)
    }
    return this.#lookup(name) !== undefined && this.#entries.delete(name)
  }

  /**
   * Removes every key, emitting `deleted` once per key and then `cleared`; pages of this
   * tab that sit in the back/forward cache drop theirs when they come back (a logout).
   * `{ everywhere: true }` does the same in every tab (`tabs` option), including tabs
   * that are away or asking for keys at that moment.
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
    this.#clear('clear')
  }

  /**
   * Seals the store into `sessionStorage` now, as leaving the page does anyway, and again
   * after every change until the page goes: a fallback for a crash, whose state then sits
   * in `sessionStorage` (which Chromium and Firefox write to disk, sealed) until the next
   * load takes it. A no-op outside a browser tab.
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
    assertListener(event, listener, STORE_EVENTS)
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
   * nothing left for the next page of the tab, and pages of the tab in the back/forward
   * cache drop theirs when they come back. Any later call but `off`/`destroy` throws
   * (`KeystoreError` with code `destroyed`); a later `new SessionKeystore()` of the same
   * name starts afresh.
   *
   * @example
   * store.destroy()
   */
  destroy(): void {
    if (this.#destroyed) return
    this.#destroyed = true
    this.#entries.wipe()
    this.#events.clear()
    this.#subscribers.clear()
    this.#tabs?.close()
    this.#idle?.stop()
    if (typeof document === 'object') {
      window.removeEventListener('pageshow', this.#onVisible)
      document.removeEventListener('visibilitychange', this.#onVisible)
    }
    if (this.#tab) {
      this.#tab.detach()
      live.delete(this.name)
    }
  }

  readonly #onVisible = (): void => this.#idle?.check()

  /** (Re)connects the `idle` option; the last activity carries over, and a first one counts from now. */
  #connectIdle(plugin: IdlePlugin | undefined): void {
    this.#idle?.stop()
    this.#idle = (plugin as unknown as IdleConnect | undefined)?.(() => this.#entries.map.size && this.#clear('idle'), this.#idle?.last)
  }

  /** What the page lifecycle gets (lifecycle/machine.ts). */
  #host(): TabHost {
    return {
      // Timers may not have fired: keys past their idle time are not handed to the next page.
      encode: () => {
        this.#idle?.check()
        return encodeEntries(this.#entries.map, Date.now(), this.#meta())
      },
      // Unexpired keys only, as `encode` seals them: a key whose timer has not fired yet must
      // not make the record promise keys that no seal holds (the next page would say `lost`).
      size: () => this.#entries.count(Date.now()),
      lastActive: () => this.#meta().lastActive,
      sealWhenHidden: () => Boolean(this.#options.sealWhenHidden),
      adopt: (plain) => this.#open(plain, 'history'),
      drop: (why) => {
        const held = this.#entries.map.size
        // Told even when this page held nothing: the tab's latest state may have had keys.
        if (why !== 'empty') this.#report(why)
        if (held) this.#clear('other-page')
      },
      returned: (lastActive) => {
        // A logout everywhere while this page sat in the back/forward cache.
        const epoch = this.#tab!.epoch()
        if (epoch !== this.#epoch) {
          this.#epoch = epoch
          if (this.#entries.map.size) this.#clear('other-tab')
        }
        // A delete everywhere meanwhile: those keys go, each told as `deleted`.
        const gone = this.#since(this.#deleted)
        if (gone) for (const key of [...this.#entries.map.keys()]) if (gone(key)) this.#entries.delete(key)
        if (this.#idle && lastActive > this.#idle.last) this.#idle.last = lastActive
      },
      frozen: (frozen) => this.#idle?.freeze(frozen),
      report: (reason, error) => this.#report(reason, error),
      persisted: (count) => this.#events.emit('persisted', { count }),
    }
  }

  /** What the `tabs` plugin gets: the store's insides, not a public API. */
  #internals(): StoreInternals {
    return {
      name: this.name,
      entries: this.#entries.map,
      checkIdle: () => this.#idle?.check(),
      meta: () => this.#meta(),
      pending: (pending) => {
        this.#pending = pending
        this.#changed()
      },
      receive: (handed, meta) =>
        void this.#take(
          handed.map(([key, value, expiresAt]): [string, Entry] => {
            // Our own copy, exactly the bytes; the clone that came over the channel is wiped.
            const own = copy(value)
            wipe(value)
            return [key, { value: own, expiresAt }]
          }),
          meta,
          'tab',
        ),
      unanswered: () => this.#restored('none', 0),
      clear: (epoch) => {
        this.#epoch = epoch ?? this.#tab?.epoch() ?? this.#epoch
        this.#clear('other-tab')
      },
      remove: (key) => void this.#entries.delete(key),
      deleted: () => this.#deleted,
    }
  }

  #assertAlive(): void {
    if (this.#destroyed) throw new KeystoreError('destroyed', `SessionKeystore "${this.name}" was destroyed; create a new one`)
    this.#idle?.check()
  }

  /** Validates `options` of clear/delete; true when the caller asks for every tab. */
  #everywhere(options: EverywhereOptions | undefined): boolean {
    this.#assertAlive()
    if (options === undefined) return false
    if (typeof options !== 'object' || options === null) invalid('options', 'an object', options)
    const { everywhere = false } = options
    if (typeof everywhere !== 'boolean') invalid('options.everywhere', 'a boolean', everywhere)
    if (everywhere && !this.#options.tabs) invalid('options.everywhere', "false: the store was created without the option tabs (from 'tab-keystore/tabs')", everywhere)
    return everywhere
  }

  #lookup(name: unknown, now?: number): Entry | undefined {
    this.#assertAlive()
    if (typeof name !== 'string') invalid('name', 'a string', name)
    return this.#entries.lookup(name, now)
  }

  /** Every key goes, one `deleted` each, then one `cleared` saying why. */
  #clear(reason: ClearReason): void {
    this.#events.emit('cleared', { reason, count: this.#entries.clear() })
  }

  #meta(): StateMeta {
    return { epoch: this.#epoch, lastActive: this.#idle?.last ?? Date.now(), deleted: this.#deleted }
  }

  /**
   * The keys deleted everywhere, as localStorage has them now, become this page's
   * knowledge; returns a test for the names deleted since `known` (undefined: none). The
   * `tabs` option brings the code, as only its apps can delete everywhere.
   */
  #since(known: Deleted | undefined): ((key: string) => boolean) | undefined {
    const since = (this.#options.tabs as unknown as TabsConnect | undefined)?.since
    if (!since) return
    const [now, gone] = since(this.name, known)
    this.#deleted = now
    return gone
  }

  #report(reason: ErrorReason, error?: unknown): void {
    this.#events.emit('error', error === undefined ? { reason } : { reason, error })
  }

  /**
   * Keys from elsewhere (a sealed state, a handoff), screened: all dropped when a logout
   * everywhere or the idle time came between, those deleted everywhere since left out
   * (a state from before the delete may turn up long after it), expired ones left out
   * (and wiped).
   */
  #screen(entries: [string, Entry][], meta: StateMeta): Screened {
    const now = Date.now()
    const reason = meta.epoch !== this.#epoch ? 'other-tab' : this.#idle?.past(meta.lastActive) ? 'idle' : undefined
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
    if (this.#idle) this.#idle.last = meta.lastActive
    return { live, expired }
  }

  /**
   * Takes keys from elsewhere: a sealed state at load (`reload`), a handoff (`tab`), the
   * tab's newer state on a return from the back/forward cache (`history`: what differs
   * from this page's keys is told as it would have been here). False when not all of it
   * was taken (dropped for a logout or idle time, deleted everywhere, or expired meanwhile).
   * Keys deleted everywhere are left out silently: where this page held one, `history`
   * tells it as `deleted`.
   */
  #take(entries: [string, Entry][], meta: StateMeta, source: 'reload' | 'tab' | 'history'): boolean {
    const { live, expired, dropped } = this.#screen(entries, meta)
    if (dropped && source === 'history') {
      // On a return, this page's keys go.
      if (this.#entries.map.size) this.#clear(dropped.reason)
      return false
    }
    // Keys dropped on arrival never were in the store: only `cleared` says so.
    if (dropped) this.#events.emit('cleared', dropped)
    else if (source === 'history') this.#entries.take(new Map(live))
    else for (const [key, entry] of live) this.#entries.put(key, entry)
    if (source === 'reload') for (const key of expired) this.#emitKey('expired', key)
    this.#restored(source, expired.length)
    return !dropped && live.length === entries.length
  }

  /** An opened seal, decoded (and wiped) and taken; false when not all of it was. */
  #open(plain: Uint8Array, source: 'reload' | 'history'): boolean {
    let state: ReturnType<typeof decodeEntries>
    try {
      state = decodeEntries(plain)
    } catch {
      // Authenticated yet unreadable: only a bug or a format change gets here. The parser's
      // error is not passed on: V8's JSON.parse quotes the text it failed on, the plaintext.
      this.#report('corrupt')
      if (this.#entries.map.size) this.#clear('other-page')
      return false
    } finally {
      plain.fill(0)
    }
    const { entries, ...meta } = state
    return this.#take(entries, meta, source)
  }

  #restored(source: 'reload' | 'history' | 'tab' | 'none', expired: number): void {
    if (source === 'tab' || source === 'none') this.#pending = false
    this.#changed()
    this.#events.emit('restored', { count: this.#entries.map.size, expired, source })
  }

  /** Something changed: a new version now, subscribers once in a microtask (never mid-render). */
  #changed(): void {
    this.#version++
    this.#tab?.changed()
    if (this.#notifying || !this.#subscribers.size) return
    this.#notifying = true
    queueMicrotask(() => {
      this.#notifying = false
      for (const subscriber of [...this.#subscribers]) this.#events.call('subscribe', subscriber)
    })
  }

  #emitKey(event: KeyEventName, name: string): void {
    if (event !== 'read') this.#changed()
    if (event === 'expired') {
      if (this.#options.onExpired) this.#events.call(event, this.#options.onExpired, name)
    } else {
      const callback = event === 'read' ? this.#options.onAccess : this.#options.onChanged
      if (callback) this.#events.call(event, callback, name, new Error('tab-keystore call stack').stack ?? '')
    }
    this.#events.emit(event, { name })
  }
}

/*
 * `using store = new SessionKeystore()` destroys the store at the end of the scope where
 * the engine has Symbol.dispose. Left out of the type declarations on purpose: naming
 * Symbol.dispose there breaks consumers compiling with skipLibCheck: false and without
 * TypeScript's esnext.disposable lib.
 */
if (typeof Symbol.dispose === 'symbol') {
  Object.defineProperty(SessionKeystore.prototype, Symbol.dispose, {
    value(this: SessionKeystore) {
      this.destroy()
    },
  })
}
