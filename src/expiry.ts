import { invalid } from './errors'

/**
 * `setTimeout` stores its delay as a signed 32-bit integer: anything above 2^31-1 ms
 * (24.8 days) fires at once in Chromium and in Node. Longer expiries are reached in
 * steps of at most this size.
 */
export const MAX_TIMER_DELAY: number = 2 ** 31 - 1

type Timer = ReturnType<typeof setTimeout>

/** 2000-01-01T00:00:00Z: an expiry before it can only be a duration or seconds passed by mistake. */
const PLAUSIBLE = 946_684_800_000

/**
 * An `expiresAt` argument as epoch milliseconds: `Infinity` when omitted. Throws, naming
 * it, when it is not a time, or when it can only be a unit mistake: `60_000` (a duration)
 * or `Date.now() / 1000 + 60` (seconds) would otherwise expire the key at once. A time
 * genuinely in the past (after 2000) keeps its meaning: the key expires at once.
 */
export function toExpiry(expiresAt: unknown): number {
  if (expiresAt === undefined) return Infinity
  const ms = expiresAt instanceof Date ? expiresAt.getTime() : expiresAt
  if (typeof ms !== 'number') invalid('expiresAt', 'a Date or epoch milliseconds', expiresAt)
  if (!Number.isFinite(ms)) invalid('expiresAt', 'a valid Date or finite epoch milliseconds (omit it for no expiry)', expiresAt, true)
  if (ms < PLAUSIBLE) {
    invalid('expiresAt', 'epoch milliseconds, not a duration nor seconds (before the year 2000); for "in 60 s" pass Date.now() + 60_000', ms, true)
  }
  return ms
}

/**
 * One timer per key name, firing `onDue(name)` once `Date.now()` has reached the expiry.
 * Timers are only a convenience that makes `expired` events arrive on time: browsers
 * throttle them in background tabs and they stall while the machine sleeps, so the
 * store also compares the absolute time on every read.
 */
export class ExpiryTimers {
  readonly #timers = new Map<string, Timer>()
  readonly #onDue: (name: string) => void

  constructor(onDue: (name: string) => void) {
    this.#onDue = onDue
  }

  arm(name: string, expiresAt: number): void {
    this.disarm(name)
    if (expiresAt === Infinity) return
    const delay = Math.min(Math.max(expiresAt - Date.now(), 0), MAX_TIMER_DELAY)
    const timer = setTimeout(() => {
      this.#timers.delete(name)
      // A timer can also fire a little early against the wall clock: wait for the rest.
      if (Date.now() >= expiresAt) this.#onDue(name)
      else this.arm(name, expiresAt)
    }, delay)
    // Node: a pending expiry must not keep the process alive. Browsers return a number.
    ;(timer as { unref?: () => void }).unref?.()
    this.#timers.set(name, timer)
  }

  disarm(name: string): void {
    const timer = this.#timers.get(name)
    if (timer !== undefined) {
      clearTimeout(timer)
      this.#timers.delete(name)
    }
  }

  disarmAll(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer)
    this.#timers.clear()
  }
}

/**
 * Calls `onIdle` once `timeout` ms have passed since the last activity. Like expiry, the
 * timer is only a convenience: `check()` compares the clock, and the store calls it on
 * every access and when the page becomes visible again, so throttled timers and a
 * sleeping machine cannot keep keys past their idle time. The last activity travels with
 * the keys (reload, back/forward cache, handoff), so time away counts too.
 */
export class IdleLock {
  #last: number
  #timer: Timer | undefined
  readonly #timeout: number
  readonly #onIdle: () => void

  constructor(timeout: number, onIdle: () => void, last: number = Date.now()) {
    this.#timeout = timeout
    this.#onIdle = onIdle
    this.#last = last
    this.#arm()
  }

  /** Activity at `at` (now by default). */
  touch(at: number = Date.now()): void {
    this.#last = at
  }

  check(): void {
    if (Date.now() - this.#last >= this.#timeout) {
      this.#last = Date.now()
      this.#onIdle()
    }
  }

  stop(): void {
    clearTimeout(this.#timer)
  }

  #arm(): void {
    const delay = Math.min(Math.max(this.#last + this.#timeout - Date.now(), 0), MAX_TIMER_DELAY)
    this.#timer = setTimeout(() => {
      this.check()
      this.#arm()
    }, delay)
    ;(this.#timer as { unref?: () => void }).unref?.()
  }
}
