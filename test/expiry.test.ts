import { describe, expect, it, vi } from 'vitest'
import { MAX_TIMER_DELAY, at } from '../src/expiry'
import { makeStore } from './helpers'

const DAY = 86_400_000

describe('expiry timers', () => {
  it('an expiry beyond 2^31-1 ms does not fire at once but on time, in chunks', () => {
    vi.useFakeTimers()
    const due = vi.fn()
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout')
    at(Date.now() + 60 * DAY, () => due('k'))
    expect(setTimeoutSpy.mock.calls.every(([, delay]) => (delay ?? 0) <= MAX_TIMER_DELAY)).toBe(true)
    vi.advanceTimersByTime(MAX_TIMER_DELAY)
    expect(due).not.toHaveBeenCalled()
    vi.advanceTimersByTime(60 * DAY - MAX_TIMER_DELAY - 1)
    expect(due).not.toHaveBeenCalled()
    vi.advanceTimersByTime(1)
    expect(due).toHaveBeenCalledExactlyOnceWith('k')
    expect(setTimeoutSpy.mock.calls.length).toBeGreaterThanOrEqual(3)
  })

  it('a store key with a 30-day expiry is still there after 25 days and gone after 30', () => {
    vi.useFakeTimers()
    const expired = vi.fn()
    const store = makeStore({ onExpired: expired })
    store.set('k', 'v', Date.now() + 30 * DAY)
    vi.advanceTimersByTime(25 * DAY)
    expect(expired).not.toHaveBeenCalled()
    expect(store.get('k')).toBe('v')
    vi.advanceTimersByTime(5 * DAY)
    expect(expired).toHaveBeenCalledExactlyOnceWith('k')
  })

  it('a timer that fires early against the wall clock waits for the rest', () => {
    vi.useFakeTimers()
    const due = vi.fn()
    at(Date.now() + 1000, due)
    vi.setSystemTime(Date.now() - 200) // the wall clock stepped back
    vi.advanceTimersByTime(1000)
    expect(due).not.toHaveBeenCalled()
    vi.advanceTimersByTime(200)
    expect(due).toHaveBeenCalledOnce()
  })

  it('cancel cancels, and Infinity never fires', () => {
    vi.useFakeTimers()
    const due = vi.fn()
    at(Date.now() + 10, due)()
    at(Infinity, due)
    vi.advanceTimersByTime(MAX_TIMER_DELAY * 2)
    expect(due).not.toHaveBeenCalled()
  })
})
