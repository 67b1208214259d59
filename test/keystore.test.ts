import { describe, expect, it, vi } from 'vitest'
import DefaultExport, { KeystoreError, SessionKeystore } from '../src/index'
import { makeStore, recordEvents, waitingTabs } from './helpers'
import type { StoreInternals, TabsConnect } from '../src/tabs/protocol'
import type { TabsPlugin } from '../src/tabs/index'
import { idle } from '../src/idle'

describe('SessionKeystore basics', () => {
  it('is also the default export (drop-in for session-keystore)', () => {
    expect(DefaultExport).toBe(SessionKeystore)
  })

  it('stores, reads, lists and deletes string and byte values', () => {
    const store = makeStore()
    expect(store.name).toBe('default')
    store.set('a', 'secret-a')
    store.set('b', new Uint8Array([1, 2, 3]))
    expect(store.get('a')).toBe('secret-a')
    expect(store.get('b')).toEqual(new Uint8Array([1, 2, 3]))
    expect(store.has('a')).toBe(true)
    expect(store.has('nope')).toBe(false)
    expect(store.get('nope')).toBeNull()
    expect(store.keys()).toEqual(['a', 'b'])
    expect(store.size).toBe(2)
    expect(store.delete('a')).toBe(true)
    expect(store.delete('a')).toBe(false)
    expect(store.get('a')).toBeNull()
    store.clear()
    expect(store.size).toBe(0)
  })

  it('keeps stores with different names apart', () => {
    const one = makeStore({ name: 'one' })
    const two = makeStore({ name: 'two' })
    one.set('k', '1')
    two.set('k', '2')
    expect(one.get('k')).toBe('1')
    expect(two.get('k')).toBe('2')
  })

  it('a second `new` of a name open in the page returns that store, keys kept, options applied (hot reload, StrictMode)', async () => {
    const first = makeStore({ name: 'dup' })
    first.set('k', 'kept')
    const cleared: string[] = []
    const second = new SessionKeystore({ name: 'dup', idle: idle(50) })
    expect(second).toBe(first)
    expect(second.get('k')).toBe('kept')
    second.on('cleared', ({ reason }) => cleared.push(reason))
    await new Promise((resolve) => setTimeout(resolve, 120))
    expect(cleared).toEqual(['idle']) // the options of the second call apply
    expect(() => new SessionKeystore({ name: 'dup', idle: 5 as never })).toThrow(
      /^options\.idle must be made by `idle\(\)`/,
    ) // and are checked
    first.destroy()
    const fresh = makeStore({ name: 'dup' })
    expect(fresh).not.toBe(first)
    expect(fresh.size).toBe(0)
  })
})

describe('byte values', () => {
  it('copies bytes in and out', () => {
    const store = makeStore()
    const input = new Uint8Array([7, 7, 7])
    store.set('k', input)
    input.fill(0)
    const out = store.get('k') as Uint8Array
    expect(out).toEqual(new Uint8Array([7, 7, 7]))
    out.fill(1)
    expect(store.get('k')).toEqual(new Uint8Array([7, 7, 7]))
  })

  it('copies a Node Buffer instead of keeping a view of it', () => {
    const store = makeStore()
    const buffer = Buffer.from([5, 6])
    store.set('k', buffer)
    buffer[0] = 0
    expect(store.get('k')).toEqual(new Uint8Array([5, 6]))
  })

  // Spy on the store's own copy: the only way to see it is to catch the array it made
  // (the last one constructed during `run`, after the caller's argument).
  function captureStoredCopy(run: () => void): Uint8Array {
    const made: Uint8Array[] = []
    const Original = Uint8Array
    const spy = vi.spyOn(globalThis, 'Uint8Array').mockImplementation(function (this: unknown, ...args: unknown[]) {
      const arr = new (Original as unknown as new (...a: unknown[]) => Uint8Array)(...args)
      made.push(arr)
      return arr
    } as unknown as typeof Uint8Array)
    try {
      run()
    } finally {
      spy.mockRestore()
    }
    return made.at(-1)!
  }

  it.each([
    ['replaced', (s: SessionKeystore) => s.set('k', new Uint8Array([9]))],
    ['deleted', (s: SessionKeystore) => s.delete('k')],
    ['cleared', (s: SessionKeystore) => s.clear()],
    ['destroyed', (s: SessionKeystore) => s.destroy()],
  ])('zero-fills its own copy when the key is %s', (_, action) => {
    const store = makeStore()
    const copyOfStore = captureStoredCopy(() => store.set('k', new Uint8Array([1, 2, 3, 4])))
    expect(copyOfStore).toEqual(new Uint8Array([1, 2, 3, 4]))
    action(store)
    expect(copyOfStore).toEqual(new Uint8Array(4))
  })

  it('zero-fills its own copy when the key expires', () => {
    vi.useFakeTimers()
    const store = makeStore()
    const copyOfStore = captureStoredCopy(() => store.set('k', new Uint8Array([1, 2]), Date.now() + 1000))
    vi.advanceTimersByTime(1000)
    expect(copyOfStore).toEqual(new Uint8Array(2))
  })
})

describe('events (session-keystore semantics)', () => {
  it('created, updated, nothing for the same value, deleted', () => {
    const store = makeStore()
    const log = recordEvents(store)
    store.set('k', 'v1')
    store.set('k', 'v1')
    store.set('k', 'v2')
    store.set('b', new Uint8Array([1]))
    store.set('b', new Uint8Array([1]))
    store.set('b', new Uint8Array([2]))
    store.set('b', 'now a string')
    store.get('k')
    store.delete('k')
    store.delete('k')
    expect(log).toEqual(['created:k', 'updated:k', 'created:b', 'updated:b', 'updated:b', 'read:k', 'deleted:k'])
  })

  it('a key set with an expiry in the past emits expired, never created', () => {
    const store = makeStore()
    const log = recordEvents(store)
    store.set('k', 'v', Date.now() - 1)
    store.set('k', 'v', new Date('2001-01-01'))
    expect(log).toEqual(['expired:k', 'expired:k'])
    expect(store.has('k')).toBe(false)
  })

  it('an expiresAt that can only be a unit mistake (a duration, seconds) is refused, naming the mistake', () => {
    const store = makeStore()
    store.set('k', 'kept')
    for (const mistake of [60_000, Date.now() / 1000 + 60, 0, -1, new Date(5000)]) {
      expect(() => store.set('k', 'v', mistake)).toThrow(
        /^expiresAt must be epoch milliseconds, not a duration nor seconds \(before the year 2000\)/,
      )
    }
    expect(store.get('k')).toBe('kept')
  })

  it("get(name, now) with a clock past the expiry expires the key for good, as session-keystore's own test asserts", () => {
    // session-keystore's test: set a key expiring at t, get(name, t + 100) is null and one
    // `expired` event is emitted; the key is gone.
    const store = makeStore()
    const expired: string[] = []
    store.on('expired', ({ name }) => expired.push(name))
    const at = Date.now() + 60_000
    store.set('k', 'v', at)
    expect(store.get('k', at - 1)).toBe('v')
    expect(expired).toEqual([])
    expect(store.get('k', at + 100)).toBeNull()
    expect(expired).toEqual(['k'])
    expect([store.get('k'), store.has('k'), store.keys()]).toEqual([null, false, []])
    expect(store.get('k', at + 200)).toBeNull()
    expect(expired).toEqual(['k'])
    expect(() => store.get('k', 'now' as never)).toThrow(/^now must be a Date or epoch milliseconds/)
  })

  it('get(name, now) does what session-keystore itself does, step by step', async () => {
    const { default: Theirs } = await import('session-keystore')
    const run = (store: {
      on(e: 'expired', l: (p: { name: string }) => void): unknown
      set(n: string, v: string, at: number): void
      get(n: string, now?: number): string | null
    }): unknown[] => {
      const log: unknown[] = []
      store.on('expired', ({ name }) => log.push(`expired:${name}`))
      const at = Date.now() + 60_000
      store.set('k', 'v', at)
      log.push(store.get('k', at - 1), store.get('k', at + 100), store.get('k'), store.get('k', at + 200))
      return log
    }
    const theirs = run(new Theirs<'k'>({ name: 'differential' }) as never)
    expect(run(makeStore({ name: 'differential' }) as never)).toEqual(theirs)
    expect(theirs).toEqual(['expired:k', 'v', null, null, null]) // the events as they come, then what each get returned
  })

  it('replacing a live key with an expiry in the past removes it with expired', () => {
    const store = makeStore()
    store.set('k', 'v')
    const log = recordEvents(store)
    store.set('k', 'v2', Date.now() - 5)
    expect(log).toEqual(['expired:k'])
    expect(store.get('k')).toBeNull()
  })

  it('expiry emits expired, not deleted; clear emits deleted once per key', () => {
    vi.useFakeTimers()
    const store = makeStore()
    const log = recordEvents(store)
    store.set('a', '1', Date.now() + 100)
    store.set('b', '2')
    store.set('c', '3')
    vi.advanceTimersByTime(100)
    store.clear()
    expect(log).toEqual(['created:a', 'created:b', 'created:c', 'expired:a', 'deleted:b', 'deleted:c'])
  })

  it('has, keys, size, expiresAt and expiresIn emit no read', () => {
    const store = makeStore()
    store.set('k', 'v', Date.now() + 60_000)
    const log = recordEvents(store)
    store.has('k')
    store.keys()
    void store.size
    store.expiresAt('k')
    store.expiresIn('k')
    expect(log).toEqual([])
  })

  it('on() returns an unsubscribe function, off() removes a listener', () => {
    const store = makeStore()
    const seen: string[] = []
    const listener = ({ name }: { name: string }): void => void seen.push(name)
    const unsubscribe = store.on('created', listener)
    store.on('deleted', listener)
    store.set('a', '1')
    unsubscribe()
    store.set('b', '1')
    store.delete('a')
    store.off('deleted', listener)
    store.delete('b')
    expect(seen).toEqual(['a', 'a'])
  })

  it('does not bind this to the store in listeners and callbacks', () => {
    const thisValues: unknown[] = []
    const store = makeStore({
      onChanged: function (this: unknown) {
        thisValues.push(this)
      },
    })
    store.on('created', function (this: unknown) {
      thisValues.push(this)
    })
    store.set('k', 'v')
    expect(thisValues).toEqual([undefined, undefined])
  })

  it('a throwing listener stops neither the operation nor the others; the error event gets it', () => {
    const store = makeStore()
    const boom = new Error('listener bug')
    const errors: unknown[] = []
    const after: string[] = []
    store.on('error', (e) => errors.push(e))
    store.on('created', () => {
      throw boom
    })
    store.on('created', ({ name }) => after.push(name))
    store.set('k', 'v')
    expect(store.get('k')).toBe('v')
    expect(after).toEqual(['k'])
    expect(errors).toEqual([{ reason: 'listener', event: 'created', error: boom }])
  })

  it('without an error listener a throwing listener is reported with console.error', () => {
    const store = makeStore({
      onAccess: () => {
        throw new Error('callback bug')
      },
    })
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    store.set('k', 'v')
    expect(store.get('k')).toBe('v')
    expect(consoleError).toHaveBeenCalledTimes(1)
    expect(String(consoleError.mock.calls[0]![0])).toContain('"read" listener threw')
    // Nothing secret reaches the console: only the event name and the listener's own error.
    expect(JSON.stringify(consoleError.mock.calls)).not.toContain('"v"')
  })

  it('a listener that unsubscribes while an event is delivered does not skip the next one', () => {
    const store = makeStore()
    const calls: string[] = []
    const off = store.on('created', () => {
      calls.push('first')
      off()
    })
    store.on('created', () => calls.push('second'))
    store.set('a', '1')
    store.set('b', '1')
    expect(calls).toEqual(['first', 'second', 'second'])
  })
})

describe('callbacks (session-keystore options)', () => {
  it('onAccess, onChanged and onExpired receive the name, and a call stack for the first two', () => {
    vi.useFakeTimers()
    const access = vi.fn()
    const changed = vi.fn()
    const expired = vi.fn()
    const store = makeStore({ onAccess: access, onChanged: changed, onExpired: expired })
    store.set('k', 'v', Date.now() + 10)
    store.get('k')
    store.set('j', 'w')
    store.delete('j')
    vi.advanceTimersByTime(10)
    expect(access.mock.calls.map((c) => c[0])).toEqual(['k'])
    expect(access.mock.calls[0]![1]).toMatch(/keystore\.test\.ts/)
    expect(changed.mock.calls.map((c) => c[0])).toEqual(['k', 'j', 'j'])
    expect(changed.mock.calls[0]![1]).toMatch(/keystore\.test\.ts/)
    expect(expired.mock.calls).toEqual([['k']])
  })

  it('captures no call stack when no callback wants one', () => {
    const store = makeStore()
    store.set('k', 'v')
    store.on('read', () => undefined)
    const stackReads = vi.fn()
    const OriginalError = globalThis.Error
    vi.spyOn(globalThis, 'Error').mockImplementation(function (this: unknown, ...args: unknown[]) {
      stackReads()
      return new OriginalError(...(args as [string]))
    } as unknown as ErrorConstructor)
    store.get('k')
    store.set('k', 'w')
    expect(stackReads).not.toHaveBeenCalled()
  })
})

describe('expiry', () => {
  it('get and has compare the absolute time even when the timer has not fired (throttled or asleep)', () => {
    const store = makeStore()
    const now = Date.now()
    store.set('k', 'v', now + 1000)
    const log = recordEvents(store)
    // Timers are real and have not run; only the clock moves.
    vi.spyOn(Date, 'now').mockReturnValue(now + 1000)
    expect(store.get('k')).toBeNull()
    expect(store.has('k')).toBe(false)
    expect(log).toEqual(['expired:k'])
  })

  it('keys() keeps insertion order when a value is replaced', () => {
    const store = makeStore()
    store.set('a', '1')
    store.set('b', '2')
    store.set('a', 'replaced')
    store.set('b', new Uint8Array([1]))
    expect(store.keys()).toEqual(['a', 'b'])
  })

  it('keys and size drop expired keys', () => {
    const store = makeStore()
    const now = Date.now()
    store.set('old', 'v', now + 10)
    store.set('new', 'v', now + 1000)
    vi.spyOn(Date, 'now').mockReturnValue(now + 10)
    expect(store.keys()).toEqual(['new'])
    expect(store.size).toBe(1)
  })

  it('expiresAt and expiresIn report the expiry', () => {
    const store = makeStore()
    const now = Date.now()
    vi.spyOn(Date, 'now').mockReturnValue(now)
    store.set('k', 'v', new Date(now + 5000))
    store.set('forever', 'v')
    expect(store.expiresAt('k')).toEqual(new Date(now + 5000))
    expect(store.expiresIn('k')).toBe(5000)
    expect(store.expiresAt('forever')).toBeNull()
    expect(store.expiresIn('forever')).toBe(Infinity)
    expect(store.expiresAt('absent')).toBeNull()
    expect(store.expiresIn('absent')).toBeNull()
  })

  it('setting the same value with a new expiry moves the expiry without an event', () => {
    vi.useFakeTimers()
    const store = makeStore()
    const log = recordEvents(store)
    store.set('k', 'v', Date.now() + 100)
    store.set('k', 'v', Date.now() + 1000)
    vi.advanceTimersByTime(500)
    expect(store.get('k')).toBe('v')
    store.set('k', 'v')
    vi.advanceTimersByTime(10_000)
    expect(store.get('k')).toBe('v')
    expect(log).toEqual(['created:k', 'read:k', 'read:k'])
  })
})

describe('destroy', () => {
  it('wipes everything; later calls throw a clear error; off and destroy stay harmless', () => {
    vi.useFakeTimers()
    const expired = vi.fn()
    const store = makeStore({ name: 'gone', onExpired: expired })
    const listener = vi.fn()
    store.on('deleted', listener)
    store.set('k', 'v', Date.now() + 100)
    store.destroy()
    vi.advanceTimersByTime(1000)
    expect(expired).not.toHaveBeenCalled()
    expect(listener).not.toHaveBeenCalled()
    for (const call of [
      () => store.get('k'),
      () => store.set('k', 'v'),
      () => store.has('k'),
      () => store.delete('k'),
      () => store.clear(),
      () => store.keys(),
      () => store.size,
      () => store.expiresAt('k'),
      () => store.expiresIn('k'),
      () => store.persist(),
      () => store.on('read', listener),
      () => store.subscribe(listener),
      () => store.version,
      () => store.pending,
    ]) {
      expect(call).toThrow('SessionKeystore "gone" was destroyed')
    }
    expect(() => store.off('deleted', listener)).not.toThrow()
    expect(() => store.destroy()).not.toThrow()
  })

  it('is what `using` calls (Symbol.dispose at runtime; left out of the types, see keystore.ts)', () => {
    let leaked: SessionKeystore | undefined
    {
      using store = new SessionKeystore({ name: 'scoped' }) as SessionKeystore & Disposable
      store.set('k', 'v')
      leaked = store
    }
    expect(() => leaked.get('k')).toThrow(/destroyed/)
  })
})

describe('for UI frameworks: subscribe, version, pending', () => {
  const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0))

  it('subscribers hear once per change, or once for the changes a task made together, after it', async () => {
    const store = makeStore()
    let calls = 0
    const { subscribe } = store // bound: passable as it is
    const unsubscribe = subscribe(() => calls++)
    const before = store.version
    store.set('a', '1')
    expect(store.version).toBe(before + 1) // the snapshot moves at once
    expect(calls).toBe(0) // the call comes after the task, never in the middle of a render
    await tick()
    expect(calls).toBe(1)
    store.set('b', '2')
    store.set('c', '3')
    store.clear()
    await tick()
    expect(calls).toBe(2)
    store.set('a', '1', Date.now() + 20)
    await tick()
    await new Promise((resolve) => setTimeout(resolve, 40)) // expiry
    expect(calls).toBe(4)
    store.get('missing')
    store.get('a')
    await tick()
    expect(calls).toBe(4) // reads are not changes
    unsubscribe()
    store.set('z', '1')
    await tick()
    expect(calls).toBe(4)
  })

  it('a subscriber that throws goes to the error event and does not stop the others', async () => {
    const store = makeStore()
    const errors: string[] = []
    store.on('error', ({ reason, event }) => errors.push(`${reason}:${event}`))
    let heard = false
    store.subscribe(() => {
      throw new Error('boom')
    })
    store.subscribe(() => (heard = true))
    store.set('k', 'v')
    await tick()
    expect([heard, errors]).toEqual([true, ['listener:subscribe']])
    expect(() => store.subscribe('no' as never)).toThrow(/^listener must be a function/)
  })

  it('pending is true while a handoff is asked for, and a subscriber hears both changes', async () => {
    const tabs = waitingTabs()
    const store = makeStore({ name: 'pending', tabs: tabs.plugin })
    const seen: boolean[] = []
    store.subscribe(() => seen.push(store.pending))
    expect(store.pending).toBe(true)
    tabs.end()
    expect(store.pending).toBe(false)
    await tick()
    expect(seen).toEqual([false])
  })
})

describe('errors apps can handle by code', () => {
  it('a destroyed store throws KeystoreError "destroyed"; bad arguments carry "invalid-argument"', () => {
    const store = makeStore({ name: 'codes' })
    const codeOf = (run: () => unknown): unknown => {
      try {
        run()
      } catch (error) {
        return [(error as Error).constructor.name, (error as { code?: string }).code]
      }
      return 'no error'
    }
    expect(codeOf(() => store.set(42 as never, 'v' as never))).toEqual(['TypeError', 'invalid-argument'])
    expect(codeOf(() => store.set('k', 'v', 60_000))).toEqual(['RangeError', 'invalid-argument'])
    expect(codeOf(() => new SessionKeystore({ name: '' }))).toEqual(['RangeError', 'invalid-argument']) // a string, the wrong one
    store.destroy()
    expect(codeOf(() => store.get('k'))).toEqual(['KeystoreError', 'destroyed'])
    try {
      store.keys()
    } catch (error) {
      expect(error).toBeInstanceOf(KeystoreError)
    }
  })

  it('a value too large to survive a reload in any browser is refused up front, and nothing changes', () => {
    const store = makeStore()
    store.set('k', 'kept')
    expect(() => store.set('k', new Uint8Array(9_900_000))).toThrow(/^value must be small enough to survive a reload/)
    expect(store.get('k')).toBe('kept')
    store.set('big', new Uint8Array(9_000_000)) // fits in Chromium and Firefox
    expect(store.size).toBe(2)
  })
})

describe('review: a second `new` of an open name', () => {
  it('keeps the options it leaves out (idle, tabs), takes those it gives', () => {
    vi.useFakeTimers()
    const first = makeStore({ name: 'merge', idle: idle(60_000) })
    first.set('k', 'v')
    const handle = new SessionKeystore({ name: 'merge' }) // only wants the store
    expect(handle).toBe(first)
    vi.advanceTimersByTime(61_000)
    expect(first.has('k')).toBe(false) // the idle timeout still applies
    vi.useRealTimers()
  })

  it('a handoff whose last activity is not a finite time is ignored; one in the future counts as now', async () => {
    let internals: StoreInternals | undefined
    const connect: TabsConnect = (store) => void (internals = store)
    const store = makeStore({ name: 'future', idle: idle(60_000), tabs: connect as unknown as TabsPlugin })
    internals!.intake.receive([['k', 'v', Infinity]], { epoch: internals!.intake.meta().epoch, lastActive: 1e15 })
    const now = Date.now()
    vi.spyOn(Date, 'now').mockReturnValue(now + 61_000)
    expect(store.has('k')).toBe(false) // a far-future last activity did not switch the timeout off
  })
})
