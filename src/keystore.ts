import { type Callbacks, Entries } from './entries'
import { KeystoreError, invalid } from './errors'
import { type KeystoreEvents, type Listener, STORE_EVENTS, assertListener } from './events'
import { checkEntry, checkEverywhere, checkName, checkOptions } from './checks'
import { toExpiry, toNow } from './expiry'
import type { IdleConnect, IdlePlugin } from './idle'
import { Intake } from './intake'
import { dropLegacy } from './migrate'
import { type TabLink, linkTab } from './lifecycle/machine'
import type { TabsConnect, TabsLink } from './tabs/protocol'
import type { EverywhereOptions, KeyName, Schema, SessionKeystoreOptions, Stored, ValueOf } from './schema'
import type { Entry, Value } from './encoding'

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
  /** The keys and what a change does. */
  readonly #entries!: Entries
  /** Keys from elsewhere, and the store's side of the tie to its tab. */
  readonly #intake!: Intake
  readonly #tab: TabLink | undefined
  #options: SessionKeystoreOptions = {}
  #tabs: TabsLink | undefined
  #destroyed = false

  constructor(options: SessionKeystoreOptions<KeyName<S>> = {}) {
    const name = checkOptions(options as SessionKeystoreOptions)
    const open = live.get(name)
    if (open) {
      open.#configure(options as SessionKeystoreOptions)
      return open as unknown as SessionKeystore<S>
    }
    this.name = name
    this.#entries = new Entries()
    this.#intake = new Intake(name, this.#entries)
    try {
      this.#use(options as SessionKeystoreOptions)
      this.#connectIdle(options.idle)
      // What happens while restoring is told after the constructor returns, so that
      // listeners attached right after `new SessionKeystore()` hear it too.
      this.#entries.events.hold()
      dropLegacy(name)
      this.#tab = this.#intake.tab = linkTab(name, this.#intake)
      if (this.#tab) {
        live.set(name, this as unknown as SessionKeystore<never>)
        this.#entries.onChange = this.#tab.changed.bind(this.#tab)
      }
      this.#intake.epoch = this.#tab?.epoch() ?? ''
      this.#tab?.start(Boolean(this.#tab.restored) && !this.#intake.open(this.#tab.restored!, 'reload'))
      // After the restore: the tabs option asks other tabs only when nothing came back.
      this.#configure(options as SessionKeystoreOptions)
      this.#entries.events.release(true)
    } catch (error) {
      // A store that did not come up leaves nothing behind: still registered, every later
      // `new` of its name would return it half-built; still listening, it would act on a
      // page's events with no one to tell. (A broken environment, e.g. a getRandomValues
      // that does not fill its argument.) Listeners go first: the rest may fail the same way.
      live.delete(name)
      this.#intake.idle?.stop()
      try {
        this.destroy()
      } catch {
        // what could be undone was
      }
      throw error
    }
  }

  /**
   * Applies options: at construction, and again when `new` is called for a store already
   * open, where the options given replace the store's and those left out keep theirs (a
   * `new SessionKeystore({ name })` that only wants the store must not turn its
   * idle lock or tabs off).
   */
  #configure(given: SessionKeystoreOptions): void {
    const options = { ...this.#options }
    for (const [option, value] of Object.entries(given)) if (value !== undefined) options[option as 'name'] = value
    if (options.idle !== this.#options.idle) this.#connectIdle(options.idle)
    this.#use(options)
    const connect = options.tabs as unknown as TabsConnect | undefined
    if (connect && !this.#tabs) this.#tabs = connect({ name: this.name, entries: this.#entries, intake: this.#intake })
  }

  /** Each part takes what it needs of the options. */
  #use(options: SessionKeystoreOptions): void {
    this.#options = options
    this.#entries.callbacks = options as Callbacks
    this.#intake.whenHidden = Boolean(options.sealWhenHidden)
    this.#intake.since = (options.tabs as unknown as TabsConnect | undefined)?.since
  }

  /** (Re)connects the `idle` option; the last activity carries over, and a first one counts from now. */
  #connectIdle(plugin: IdlePlugin | undefined): void {
    const { idle } = this.#intake
    const entries = this.#entries
    idle?.stop()
    this.#intake.idle = (plugin as unknown as IdleConnect | undefined)?.(
      () => entries.map.size && entries.clear('idle'),
      idle?.last,
    )
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
    checkEntry(name, value, this.#entries.map.has(name))
    const until = toExpiry(expiresAt)
    this.#intake.idle?.touch()
    this.#entries.set(name, value as Value, until)
  }

  /**
   * The value under `name` (bytes as a fresh copy), or `null` when absent or expired.
   * Emits `read` (and calls `onAccess`) on success. `now` (a Date or epoch milliseconds,
   * refused as `expiresAt` is when it can only be a mistake) replaces the clock for the
   * expiry check, as in `session-keystore`: a key whose time has come by then expires for
   * good (an `expired` event), as it would have at that time.
   *
   * @example
   * const key = store.get('masterKey')
   * if (key === null) await unlock()
   */
  get<K extends KeyName<S>>(name: K, now?: Date | number): Stored<ValueOf<S, K>> | null {
    const entry = this.#lookup(name, toNow(now))
    if (!entry) return null
    this.#intake.idle?.touch()
    return this.#entries.read(name, entry) as Stored<ValueOf<S, K>>
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
    this.#assertAlive(true)
    return this.#entries.version
  }

  /**
   * True while a new tab waits for another tab to hand the keys over (`tabs` option,
   * at most about a second), and while a page back from the back/forward cache opens the
   * tab's newer state (about a millisecond; the store shows no keys meanwhile, never
   * older ones): show a spinner rather than a login form meanwhile.
   *
   * @example
   * if (!store.pending && !store.has('masterKey')) showLogin()
   */
  get pending(): boolean {
    this.#assertAlive(true)
    return this.#entries.aside || (this.#tabs?.pending ?? false)
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
    this.#assertAlive(true)
    if (typeof listener !== 'function') invalid('listener', 'a function', listener)
    return this.#entries.subscribe(listener)
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
      checkName(name)
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
      const intake = this.#intake
      intake.epoch = this.#tab?.logout() ?? intake.epoch
      this.#tabs?.clearEverywhere(intake.epoch)
    }
    this.#entries.clear('clear')
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
    this.#entries.events.on(event, listener)
    return () => this.off(event, listener)
  }

  /**
   * Unsubscribes a listener given to `on`. Never throws, even after `destroy()`.
   *
   * @example
   * store.off('read', onRead)
   */
  off<E extends keyof KeystoreEvents>(event: E, listener: Listener<KeyName<S>, E>): void {
    this.#entries.events.off(event, listener)
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
    this.#entries.destroy()
    this.#tabs?.close()
    this.#intake.idle?.stop()
    if (this.#tab) {
      this.#tab.detach()
      live.delete(this.name)
    }
  }

  /** `snapshot`: for the reads of UI frameworks, which must not change the store (no idle check). */
  #assertAlive(snapshot?: boolean): void {
    if (this.#destroyed)
      throw new KeystoreError('destroyed', `SessionKeystore "${this.name}" was destroyed; create a new one`)
    if (!snapshot) this.#intake.idle?.check()
  }

  #everywhere(options: EverywhereOptions | undefined): boolean {
    this.#assertAlive()
    return checkEverywhere(options, Boolean(this.#options.tabs))
  }

  #lookup(name: unknown, now?: number): Entry | undefined {
    this.#assertAlive()
    checkName(name)
    return this.#entries.lookup(name, now)
  }

  /**
   * `using store = new SessionKeystore()` destroys the store at the end of the scope where
   * the engine has Symbol.dispose (all three we test, and Node 20; elsewhere the method
   * sits under the key "undefined", unused).
   * Internal to the type declarations on purpose: naming Symbol.dispose there breaks
   * consumers compiling with skipLibCheck: false and without TypeScript's
   * esnext.disposable lib. A method, not a defineProperty at the top level: a bundler
   * keeps a module with such a statement, and with it the core, for an app that imports
   * only `KeystoreError` (esbuild: 13.52 kB instead of 0.12 kB, measured).
   *
   * @internal
   */
  [Symbol.dispose](): void {
    this.destroy()
  }
}
