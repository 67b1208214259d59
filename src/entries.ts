import { type Entry, type Value, copy, sameValue, wipe } from './encoding'
import { type ClearReason, Emitter, type ErrorReason, type KeystoreEvents } from './events'
import { at } from './expiry'

export type KeyEventName = 'created' | 'read' | 'updated' | 'deleted' | 'expired'

/** The callbacks of the store's options (`session-keystore`'s). */
export interface Callbacks {
  onAccess?: ((name: string, callStack: string) => void) | undefined
  onChanged?: ((name: string, callStack: string) => void) | undefined
  onExpired?: ((name: string) => void) | undefined
}

/**
 * The keys of a store and what a change of them does: each key's expiry timer, the
 * per-key events and callbacks, `version`, the batched subscribers, and the one hook the
 * tab's lifecycle hears changes by. Byte values are the store's own copies, zero-filled
 * whenever they leave.
 */
export class Entries {
  readonly map: Map<string, Entry> = new Map()
  readonly events: Emitter<KeystoreEvents> = new Emitter()
  /** The callbacks as the store's options now give them. */
  callbacks: Callbacks = {}
  /** Grows by one with every change (the store's `version`). */
  version = 0
  /** The tab's lifecycle, told of every change (see lifecycle/machine.ts). */
  onChange: (() => void) | undefined
  /** The cancel function of each key's expiry timer. */
  readonly #timers = new Map<string, () => void>()
  readonly #subscribers = new Set<() => void>()
  #notifying = false
  /** Keys set aside, unseen, while the page opens the tab's newer state (a return from the cache: `pending`). */
  #aside: Map<string, Entry> | undefined

  /**
   * The live entry of `name`, expiring it first if its time has come: timers can be late,
   * and `now` (session-keystore's `get(name, now)`) may be ahead of the clock. No clock is
   * read for a key that never expires: in Chromium a Date.now() costs more than the rest
   * of a get.
   */
  lookup(name: string, now?: number): Entry | undefined {
    const entry = this.map.get(name)
    if (entry && entry.expiresAt !== Infinity && entry.expiresAt <= (now ?? Date.now())) {
      this.expire(name)
      return undefined
    }
    return entry
  }

  /** `set`, its arguments checked: an expiry already past expires the key at once, the same value changes only the expiry. */
  set(name: string, value: Value, until: number): void {
    const old = this.lookup(name)
    if (until <= Date.now()) {
      this.remove(name)
      this.tell('expired', name)
    } else if (old && sameValue(old.value, value)) {
      this.put(name, { value: old.value, expiresAt: until })
      if (old.expiresAt !== until) this.changed()
    } else {
      // Replaced in place: the key keeps its place in insertion order.
      if (old) wipe(old.value)
      this.put(name, { value: copy(value), expiresAt: until })
      this.tell(old ? 'updated' : 'created', name)
    }
  }

  /** A copy of `entry`'s value, `read` told (only when someone listens: a call stack costs more than the read). */
  read(name: string, entry: Entry): Value {
    if (this.callbacks.onAccess || this.events.has('read')) this.tell('read', name)
    return copy(entry.value)
  }

  put(name: string, entry: Entry): void {
    this.map.set(name, entry)
    this.#timers.get(name)?.()
    if (entry.expiresAt === Infinity) this.#timers.delete(name)
    else
      this.#timers.set(
        name,
        at(entry.expiresAt, () => this.expire(name)),
      )
  }

  /** Removes `name` without an event; false when it was not there. */
  remove(name: string): boolean {
    const entry = this.map.get(name)
    if (!entry) return false
    this.map.delete(name)
    this.#timers.get(name)?.()
    this.#timers.delete(name)
    wipe(entry.value)
    return true
  }

  delete(name: string): boolean {
    const removed = this.remove(name)
    if (removed) this.tell('deleted', name)
    return removed
  }

  expire(name: string): void {
    if (this.remove(name)) this.tell('expired', name)
  }

  /** How many keys are unexpired at `now`, without expiring any (no events). */
  count(now: number): number {
    let count = 0
    for (const { expiresAt } of this.map.values()) if (expiresAt > now) count++
    return count
  }

  sweep(): void {
    const now = Date.now()
    for (const [name, { expiresAt }] of this.map) if (expiresAt <= now) this.expire(name)
  }

  /** Every key goes, one `deleted` each, then one `cleared` saying why. */
  clear(reason: ClearReason): void {
    this.sweep()
    const names = [...this.map.keys()]
    for (const name of names) this.delete(name)
    this.events.emit('cleared', { reason, count: names.length })
  }

  /** Becomes `next` (taking its byte arrays), telling what differs as it would have been told here. */
  take(next: Map<string, Entry>): void {
    for (const name of [...this.map.keys()]) if (!next.has(name)) this.delete(name)
    for (const [name, entry] of next) {
      const old = this.map.get(name)
      const same = old !== undefined && sameValue(old.value, entry.value)
      if (old) wipe(same ? entry.value : old.value)
      this.put(name, same ? { value: old.value, expiresAt: entry.expiresAt } : entry)
      if (!same) this.tell(old ? 'updated' : 'created', name)
    }
  }

  /** Whether keys are set aside (`setAside`). */
  get aside(): boolean {
    return this.#aside !== undefined
  }

  /** The keys leave the store's view, kept, without an event: the store is `pending`. */
  setAside(): void {
    this.#aside = new Map(this.map)
    for (const cancel of this.#timers.values()) cancel()
    this.#timers.clear()
    this.map.clear()
    this.#bump()
  }

  /** The keys set aside come back, without an event (where one was set meanwhile, that one stays). */
  putBack(): void {
    const aside = this.#aside
    if (!aside) return
    this.#aside = undefined
    for (const [name, entry] of aside) {
      if (this.map.has(name)) wipe(entry.value)
      else this.put(name, entry)
    }
    this.#bump()
  }

  /** For good (`destroy()`): every key zero-filled and forgotten, listeners and subscribers dropped, no events. */
  destroy(): void {
    for (const entry of this.#aside?.values() ?? []) wipe(entry.value)
    this.#aside = undefined
    for (const name of [...this.map.keys()]) this.remove(name)
    this.events.clear()
    this.#subscribers.clear()
  }

  report(reason: ErrorReason, error?: unknown): void {
    this.events.emit('error', error === undefined ? { reason } : { reason, error })
  }

  subscribe(listener: () => void): () => void {
    this.#subscribers.add(listener)
    return () => void this.#subscribers.delete(listener)
  }

  /** Something changed: a new version now, subscribers once in a microtask (never mid-render). */
  changed(): void {
    this.version++
    this.onChange?.()
    this.#notify()
  }

  /** A new version for what the lifecycle causes itself (`pending`), subscribers told. */
  #bump(): void {
    this.version++
    this.#notify()
  }

  #notify(): void {
    if (this.#notifying || !this.#subscribers.size) return
    this.#notifying = true
    queueMicrotask(() => {
      this.#notifying = false
      for (const subscriber of [...this.#subscribers]) this.events.call('subscribe', subscriber)
    })
  }

  /** Tells a change (or a read) of key `name`: its callback, its event, and for a change a new version. */
  tell(event: KeyEventName, name: string): void {
    if (event !== 'read') this.changed()
    const { onAccess, onChanged, onExpired } = this.callbacks
    if (event === 'expired') {
      if (onExpired) this.events.call(event, onExpired, name)
    } else {
      const callback = event === 'read' ? onAccess : onChanged
      if (callback) this.events.call(event, callback, name, new Error('tab-keystore call stack').stack ?? '')
    }
    this.events.emit(event, { name })
  }
}
