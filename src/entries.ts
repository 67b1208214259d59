import { type Entry, sameValue, wipe } from './encoding'
import { at } from './expiry'

export type KeyEventName = 'created' | 'read' | 'updated' | 'deleted' | 'expired'

/**
 * The keys of a store, each with its expiry timer, and the per-key events their changes
 * make (through `emit`). Byte values are the store's own copies, zero-filled whenever
 * they leave.
 */
export class Entries {
  readonly map: Map<string, Entry> = new Map()
  /** The cancel function of each key's expiry timer. */
  readonly #timers = new Map<string, () => void>()
  readonly #emit: (event: KeyEventName, name: string) => void

  constructor(emit: (event: KeyEventName, name: string) => void) {
    this.#emit = emit
  }

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

  put(name: string, entry: Entry): void {
    this.map.set(name, entry)
    this.#timers.get(name)?.()
    if (entry.expiresAt === Infinity) this.#timers.delete(name)
    else this.#timers.set(name, at(entry.expiresAt, () => this.expire(name)))
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
    if (removed) this.#emit('deleted', name)
    return removed
  }

  expire(name: string): void {
    if (this.remove(name)) this.#emit('expired', name)
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

  /** Deletes every key, one `deleted` event each; returns how many there were. */
  clear(): number {
    this.sweep()
    const names = [...this.map.keys()]
    for (const name of names) this.delete(name)
    return names.length
  }

  /** Becomes `next` (taking its byte arrays), telling what differs as it would have been told here. */
  take(next: Map<string, Entry>): void {
    for (const name of [...this.map.keys()]) if (!next.has(name)) this.delete(name)
    for (const [name, entry] of next) {
      const old = this.map.get(name)
      const same = old !== undefined && sameValue(old.value, entry.value)
      if (old) wipe(same ? entry.value : old.value)
      this.put(name, same ? { value: old.value, expiresAt: entry.expiresAt } : entry)
      if (!same) this.#emit(old ? 'updated' : 'created', name)
    }
  }

  /** Zero-fills and forgets every key, without events. */
  wipe(): void {
    for (const name of [...this.map.keys()]) this.remove(name)
  }

}
