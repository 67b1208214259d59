import { invalid } from './errors'

/** Payload of the per-key events. Carries the key's name, never its value. */
export interface KeyEvent<N extends string = string> {
  readonly name: N
}

/**
 * Why an `error` event was emitted. None of them throws from the store:
 * - `tampered`: a share or the sealed state failed authentication (or the share in
 *   `window.name` was rewritten by another site): the keys were dropped.
 * - `corrupt`: the sealed state in `sessionStorage` is not something this library wrote.
 * - `missing-share`: a sealed state was found but its `window.name` share was gone
 *   (Firefox and WebKit clear `window.name` on a cross-site navigation).
 * - `left-origin`: a sealed state was found, but this page does not come straight from the
 *   page that sealed it: the tab went through another origin's page without the
 *   back/forward cache, or this is a window another page opened. Keys do not cross origins.
 * - `stale`: this page, back from the back/forward cache, missed a change made on another
 *   page of the tab and cannot read the newer state (it stayed in the memory of a page
 *   that left for another site, or under a share this page does not hold); it dropped its
 *   own keys rather than show (and later seal) an outdated copy.
 * - `lost`: the tab had keys that did not reach this page: the page holding them crashed
 *   or was killed (mobile browsers kill background tabs), or its `pagehide` was cut short.
 *   Told from a non-secret record the library keeps while the page is alive.
 * - `unrecorded`: the tab's record of its latest state (in `localStorage`) was gone: an
 *   app cleared `localStorage`, or storage refused to write it (full). Without it the
 *   library cannot tell an older state from the latest, so the keys it found or held were
 *   dropped rather than shown.
 * - `unsupported-version`: sealed by another format version of this library.
 * - `storage-unavailable`: `sessionStorage` cannot be used (sandboxed frame, storage
 *   disabled): the store works in memory only and will not survive a reload.
 * - `quota`: storage is full: the keys will not survive this reload. The next page of
 *   the tab is told too (a non-secret marker), since nobody listens while a page leaves.
 * - `listener`: a listener or callback threw; `event` says which.
 */
export type ErrorReason =
  | 'tampered'
  | 'corrupt'
  | 'missing-share'
  | 'left-origin'
  | 'stale'
  | 'lost'
  | 'unrecorded'
  | 'unsupported-version'
  | 'storage-unavailable'
  | 'quota'
  | 'listener'

/** Payload of the `error` event. `error` is the thrown value, when there was one. */
export interface KeystoreErrorEvent {
  readonly reason: ErrorReason
  readonly error?: unknown
  readonly event?: string
}

/**
 * Payload of `restored`: how many keys came back and how many had expired meanwhile, and
 * from where: `reload` (the previous page of this tab), `history` (this page came back from
 * the back/forward cache and took the newer state of the page the user left), `tab`
 * (another tab handed them over, with the `tabs` option), or `none` (with `tabs`, no tab
 * answered in time).
 */
export interface RestoredEvent {
  readonly count: number
  readonly expired: number
  readonly source: 'reload' | 'history' | 'tab' | 'none'
}

/**
 * Why every key went: `clear` (this page called `clear()`), `other-tab` (a tab cleared
 * everywhere: heard now, or found on a load or a return), `other-page` (a later page of
 * this tab cleared the store while this one sat in the back/forward cache), `idle`
 * (`idleTimeout` passed without a `get` or `set`, time away from the page included).
 * Keys dropped while restoring emit only `cleared`: they never were in the store.
 */
export type ClearReason = 'clear' | 'other-tab' | 'other-page' | 'idle'

/** Payload of `cleared`, emitted after the `deleted` events of a clear. */
export interface ClearedEvent {
  readonly reason: ClearReason
  readonly count: number
}

/** Payload of `persisted`: how many keys were sealed into `sessionStorage`. */
export interface PersistedEvent {
  readonly count: number
}

/** Every event a store emits, with its payload. */
export interface KeystoreEvents<N extends string = string> {
  created: KeyEvent<N>
  read: KeyEvent<N>
  updated: KeyEvent<N>
  deleted: KeyEvent<N>
  expired: KeyEvent<N>
  error: KeystoreErrorEvent
  restored: RestoredEvent
  persisted: PersistedEvent
  cleared: ClearedEvent
}

/** A listener for event `E` of a store whose key names are `N`. */
export type Listener<N extends string, E extends keyof KeystoreEvents> = (payload: KeystoreEvents<N>[E]) => void

type AnyListener = (payload: never) => void

/**
 * The names of a set of events, said once: an object of this type, whose keys the
 * compiler holds to the interface (none missing, none extra), and whose keys are the
 * list checked at run time.
 */
export type EventNames<E> = Readonly<Record<keyof E, 1>>

/** The events of a store, for `on()`. */
export const STORE_EVENTS: EventNames<KeystoreEvents> = {
  created: 1,
  read: 1,
  updated: 1,
  deleted: 1,
  expired: 1,
  error: 1,
  restored: 1,
  persisted: 1,
  cleared: 1,
}

/** Throws a TypeError unless `event` is one of `events` and `listener` a function. */
export function assertListener<E>(event: unknown, listener: unknown, events: EventNames<E>): asserts event is keyof E {
  // A string that names no event is a wrong value (RangeError); anything else a wrong type.
  if (!Object.hasOwn(events, event as PropertyKey)) {
    invalid('event', `one of ${Object.keys(events).join(', ')}`, event, typeof event === 'string')
  }
  if (typeof listener !== 'function') invalid('listener', 'a function', listener)
}

/**
 * A small typed emitter of the events `E` (name to payload). Listener arrays are replaced,
 * never mutated, so a listener that subscribes or unsubscribes while an event is delivered
 * affects only later events. `call` also runs callbacks and subscribers, under a name of
 * their own for the `error` event that a throw becomes.
 */
export class Emitter<E extends { error: KeystoreErrorEvent }> {
  readonly #listeners = new Map<keyof E, AnyListener[]>()
  #held: (() => void)[] | undefined
  #holds = 0

  /**
   * Holds events back (while a store is constructed, while the lifecycle makes a
   * transition; holds nest) ...
   */
  hold(): void {
    this.#holds++
    this.#held ??= []
  }

  /**
   * ... and, once the outermost hold is released, delivers them: at once (a transition is
   * over), or `later`, in a microtask (after the constructor returns, so that listeners
   * attached right after it hear them too).
   */
  release(later?: boolean): void {
    if (--this.#holds) return
    const held = this.#held
    this.#held = undefined
    const deliver = (): void => held?.forEach((run) => run())
    if (later) queueMicrotask(deliver)
    else deliver()
  }

  has(event: keyof E): boolean {
    return this.#listeners.has(event)
  }

  // Listeners come typed by the public `on()` (for the store's own key names): here any.
  on(event: keyof E, listener: AnyListener): void {
    this.#listeners.set(event, [...(this.#listeners.get(event) ?? []), listener])
  }

  off(event: keyof E, listener: AnyListener): void {
    const left = this.#listeners.get(event)?.filter((l) => l !== listener)
    if (left?.length) this.#listeners.set(event, left)
    else this.#listeners.delete(event)
  }

  clear(): void {
    this.#listeners.clear()
  }

  emit<K extends keyof E>(event: K, payload: E[K]): void {
    if (this.#held) return void this.#held.push(() => this.emit(event, payload))
    const listeners = this.#listeners.get(event)
    if (listeners) for (const listener of listeners) this.call(event as string, listener, payload)
  }

  /**
   * Calls a listener or callback so that a throw never interrupts the store's operation
   * nor the other listeners: the throw goes to the `error` listeners, or to
   * `console.error` when there are none (or when an `error` listener throws itself).
   */
  call(event: string, fn: (...args: never[]) => void, ...args: unknown[]): void {
    if (this.#held) return void this.#held.push(() => this.call(event, fn, ...args))
    try {
      // A plain call: listeners get `this === undefined`, never the store.
      ;(fn as (...a: unknown[]) => void)(...args)
    } catch (error) {
      if (event !== 'error' && this.has('error')) {
        this.emit('error', { reason: 'listener', event, error } as E['error'])
      } else {
        console.error(`tab-keystore: a "${event}" listener threw`, error)
      }
    }
  }
}
