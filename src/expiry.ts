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
  if (!Number.isFinite(ms))
    invalid('expiresAt', 'a valid Date or finite epoch milliseconds (omit it for no expiry)', expiresAt, true)
  if (ms < PLAUSIBLE) {
    invalid(
      'expiresAt',
      'epoch milliseconds, not a duration nor seconds (before the year 2000); for "in 60 s" pass Date.now() + 60_000',
      ms,
      true,
    )
  }
  return ms
}

/**
 * The `now` of `get`, as epoch milliseconds: a time as `expiresAt` is one, with the same
 * mistakes refused (seconds would let a key be read after its expiry), and no `Infinity`
 * (it would expire every key).
 */
export function toNow(now: unknown): number | undefined {
  if (now === undefined) return undefined
  const ms = now instanceof Date ? now.getTime() : now
  if (typeof ms !== 'number') invalid('now', 'a Date or epoch milliseconds', now)
  // NaN and the infinities fail the comparison too.
  if (!(ms >= PLAUSIBLE && ms < Infinity))
    invalid('now', 'a valid Date or epoch milliseconds after the year 2000', now, true)
  return ms
}

/**
 * Calls `fn` once the clock has reached `time` (`Infinity`: never); returns the function
 * that cancels. The timer is only a convenience that makes events arrive on time:
 * browsers throttle timers in background tabs and they stall while the machine sleeps,
 * so the store also compares the absolute time on every read. It can also fire a little
 * early against the wall clock: then it waits for the rest.
 */
export function at(time: number, fn: () => void): () => void {
  let timer: Timer | undefined
  const arm = (): void => {
    if (!(time < Infinity)) return // never, NaN included
    timer = setTimeout(
      () => (Date.now() >= time ? fn() : arm()),
      Math.min(Math.max(time - Date.now(), 0), MAX_TIMER_DELAY),
    )
    // Node: a pending expiry must not keep the process alive. Browsers return a number.
    ;(timer as { unref?: () => void }).unref?.()
  }
  arm()
  return () => clearTimeout(timer)
}
