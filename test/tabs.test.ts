import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  HANDOFF_TIMEOUT,
  type ChannelLike,
  type HandoffEntry,
  type LocksLike,
  type StoreInternals,
  type TabsConnect,
  type TabsHost,
  connectTabs,
} from '../src/tabs/protocol'
import { type TabsPlugin, tabs as tabsPlugin } from '../src/tabs/index'
import type { StateMeta } from '../src/encoding'
import type { SessionKeystore } from '../src/index'
import { flush, makeStore } from './helpers'
import { idle } from '../src/idle'

// A fake BroadcastChannel hub: structured clones, delivered asynchronously, never to the sender.
class Hub {
  readonly channels = new Set<FakeChannel>()
  readonly sent: unknown[] = []
  open(): FakeChannel {
    const channel = new FakeChannel(this)
    this.channels.add(channel)
    return channel
  }
}
class FakeChannel implements ChannelLike {
  listeners: ((event: { data: unknown }) => void)[] = []
  constructor(readonly hub: Hub) {}
  postMessage(message: unknown): void {
    this.hub.sent.push(message)
    const data = structuredClone(message)
    for (const other of this.hub.channels) {
      if (other !== this) setTimeout(() => other.listeners.forEach((l) => l({ data })), 0)
    }
  }
  addEventListener(_: 'message', listener: (event: { data: unknown }) => void): void {
    this.listeners.push(listener)
  }
  close(): void {
    this.hub.channels.delete(this)
  }
}
class FakeLocks implements LocksLike {
  readonly held = new Set<string>()
  async request(
    name: string,
    _: { ifAvailable: true },
    callback: (lock: unknown) => Promise<void> | void,
  ): Promise<unknown> {
    if (this.held.has(name)) return callback(null)
    this.held.add(name)
    try {
      return await callback({ name })
    } finally {
      this.held.delete(name)
    }
  }
}

function tab(
  hub: Hub,
  entries: HandoffEntry[],
  locks?: LocksLike,
  meta: StateMeta = { epoch: 'e1', lastActive: 1000 },
) {
  const calls: string[] = []
  const state = {
    entries: [...entries],
    received: undefined as HandoffEntry[] | undefined,
    meta: undefined as StateMeta | undefined,
  }
  const host: TabsHost = {
    isEmpty: () => state.entries.length === 0,
    entries: () => state.entries,
    meta: () => meta,
    receive: (list, received) => {
      calls.push('receive')
      state.received = list
      state.meta = received
      state.entries = list
    },
    unanswered: () => calls.push('unanswered'),
    clearHere: (epoch) => calls.push(`clear:${epoch}`),
    deleteHere: (name) => calls.push(`delete:${name}`),
    forget: (name) => `token-of-${name}`,
  }
  const channel = hub.open()
  const link = connectTabs(channel, host, locks, 'tab-keystore:app:answer')
  return { link, calls, state, channel }
}

const secret: HandoffEntry[] = [
  ['token', 'secret', 1e15],
  ['key', new Uint8Array([1, 2, 3]), Infinity],
]

afterEach(() => {
  vi.useRealTimers()
})

describe('tabs protocol', () => {
  it('a new empty tab receives the entries of an open tab, expiry times included', async () => {
    vi.useFakeTimers()
    const hub = new Hub()
    tab(hub, secret)
    const fresh = tab(hub, [])
    fresh.link.ask()
    await vi.advanceTimersByTimeAsync(10)
    expect(fresh.calls).toEqual(['receive'])
    expect(fresh.state.received).toEqual(secret)
    expect(fresh.state.meta).toEqual({ epoch: 'e1', lastActive: 1000 })
    await vi.advanceTimersByTimeAsync(HANDOFF_TIMEOUT * 2)
    expect(fresh.calls).toEqual(['receive']) // and no "unanswered" afterwards
  })

  it('with Web Locks exactly one of several open tabs answers', async () => {
    vi.useFakeTimers()
    const hub = new Hub()
    const locks = new FakeLocks()
    for (let i = 0; i < 4; i++) tab(hub, secret, locks)
    const fresh = tab(hub, [], locks)
    fresh.link.ask()
    await vi.advanceTimersByTimeAsync(HANDOFF_TIMEOUT * 2)
    expect(hub.sent.filter((m) => (m as { type: string }).type === 'give')).toHaveLength(1)
    expect(fresh.calls).toEqual(['receive'])
  })

  it('an open tab with an empty store does not take the lock from one that has keys', async () => {
    vi.useFakeTimers()
    const hub = new Hub()
    const locks = new FakeLocks()
    tab(hub, [], locks) // hears the request first
    tab(hub, secret, locks)
    const fresh = tab(hub, [], locks)
    fresh.link.ask()
    await vi.advanceTimersByTimeAsync(10)
    expect(fresh.calls).toEqual(['receive'])
  })

  it('a logout wins over a handoff in flight: an answer arriving after the clear is not taken', async () => {
    vi.useFakeTimers()
    const hub = new Hub()
    const fresh = tab(hub, [])
    const intruder = hub.open()
    fresh.link.ask()
    const id = (hub.sent[0] as { id: string }).id
    intruder.postMessage({ v: 1, type: 'clear', epoch: 'e2' })
    await vi.advanceTimersByTimeAsync(1)
    intruder.postMessage({ v: 1, type: 'give', id, entries: secret, epoch: 'e1', lastActive: 1000 })
    await vi.advanceTimersByTimeAsync(HANDOFF_TIMEOUT * 2)
    expect(fresh.calls).toEqual(['unanswered', 'clear:e2'])
  })

  it('without Web Locks every tab answers and only the first answer is taken', async () => {
    vi.useFakeTimers()
    const hub = new Hub()
    for (let i = 0; i < 3; i++) tab(hub, secret)
    const fresh = tab(hub, [])
    fresh.link.ask()
    await vi.advanceTimersByTimeAsync(HANDOFF_TIMEOUT * 2)
    expect(hub.sent.filter((m) => (m as { type: string }).type === 'give')).toHaveLength(3)
    expect(fresh.calls).toEqual(['receive'])
  })

  it('empty tabs do not answer; with no answer the new tab stays empty and says so', async () => {
    vi.useFakeTimers()
    const hub = new Hub()
    tab(hub, [])
    const fresh = tab(hub, [])
    fresh.link.ask()
    await vi.advanceTimersByTimeAsync(HANDOFF_TIMEOUT - 1)
    expect(fresh.calls).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    expect(fresh.calls).toEqual(['unanswered'])
    expect(hub.sent.filter((m) => (m as { type: string }).type === 'give')).toHaveLength(0)
  })

  it('an answer that comes too late, for another request, or to a tab no longer empty is not applied', async () => {
    vi.useFakeTimers()
    const hub = new Hub()
    const fresh = tab(hub, [])
    const intruder = hub.open()
    fresh.link.ask()
    const id = (hub.sent[0] as { id: string }).id
    const meta = { epoch: '', lastActive: 0 }
    intruder.postMessage({ v: 1, type: 'give', id: 'another-request', entries: secret, ...meta })
    await vi.advanceTimersByTimeAsync(HANDOFF_TIMEOUT)
    intruder.postMessage({ v: 1, type: 'give', id, entries: secret, ...meta })
    await vi.advanceTimersByTimeAsync(10)
    expect(fresh.calls).toEqual(['unanswered'])

    const busy = tab(hub, [])
    busy.link.ask()
    busy.state.entries = [['own', 'set meanwhile', Infinity]]
    intruder.postMessage({ v: 1, type: 'give', id: (hub.sent.at(-1) as { id: string }).id, entries: secret, ...meta })
    await vi.advanceTimersByTimeAsync(10)
    expect(busy.calls).toEqual([])
  })

  it('clear and delete messages reach every other tab', async () => {
    vi.useFakeTimers()
    const hub = new Hub()
    const a = tab(hub, secret)
    const b = tab(hub, secret)
    const c = tab(hub, [])
    a.link.clearEverywhere('e2')
    a.link.deleteEverywhere('token')
    await vi.advanceTimersByTimeAsync(10)
    expect(a.calls).toEqual([])
    expect(b.calls).toEqual(['clear:e2', 'delete:token'])
    expect(c.calls).toEqual(['clear:e2', 'delete:token'])
  })

  it('the deletions everywhere a tab knows travel with its answer; a delete carries its token', async () => {
    vi.useFakeTimers()
    const hub = new Hub()
    const deleted = { '0123456789abcdef': 'fedcba9876543210' }
    tab(hub, secret, undefined, { epoch: 'e1', lastActive: 1000, deleted })
    const fresh = tab(hub, [])
    fresh.link.ask()
    await vi.advanceTimersByTimeAsync(10)
    expect(fresh.state.meta).toEqual({ epoch: 'e1', lastActive: 1000, deleted })
    fresh.link.deleteEverywhere('token')
    expect(hub.sent.at(-1)).toEqual({ v: 1, type: 'delete', name: 'token', token: 'token-of-token' })
  })

  it('ignores junk: foreign shapes, other versions, bad entries, oversized lists; never throws', async () => {
    vi.useFakeTimers()
    const hub = new Hub()
    const fresh = tab(hub, [])
    fresh.link.ask()
    const target = tab(hub, secret) // opened after the request: it only sees the junk
    const id = (hub.sent[0] as { id: string }).id
    const junk: unknown[] = [
      null,
      undefined,
      42,
      'clear',
      [],
      {},
      { type: 'clear' },
      { v: 2, type: 'clear' },
      { v: '1', type: 'clear' },
      { v: 1, type: 'delete' },
      { v: 1, type: 'delete', name: 7 },
      { v: 1, type: 'ask' },
      { v: 1, type: 'ask', id: 'x'.repeat(65) },
      { v: 1, type: 'give', id, entries: 'all' },
      { v: 1, type: 'give', id, entries: [['k']] },
      { v: 1, type: 'give', id, entries: [['k', 5, 1]] },
      { v: 1, type: 'give', id, entries: [['k', 'v', NaN]] },
      { v: 1, type: 'give', id, entries: [['k', '\ud800', 1e15]] },
      { v: 1, type: 'give', id, entries: [[1, 'v', 1e15]] },
      { v: 1, type: 'give', id, entries: Array.from({ length: 100_001 }, () => ['k', 'v', 1e15]) },
      { v: 1, type: 'give', id, entries: [...secret, 'trailing junk'] },
      { v: 1, type: 'give', id, entries: secret },
      { v: 1, type: 'give', id, entries: secret, epoch: 1, lastActive: 0 },
      { v: 1, type: 'give', id, entries: secret, epoch: '', lastActive: '0' },
      Object.assign(Object.create({ v: 1, type: 'clear' }), {}),
    ]
    const intruder = hub.open()
    for (const message of junk) intruder.postMessage(message)
    await vi.advanceTimersByTimeAsync(10)
    expect(target.calls).toEqual([])
    expect(fresh.calls).toEqual([])
    // A throwing host is contained too.
    const broken = connectTabs(
      hub.open(),
      {
        ...({} as TabsHost),
        isEmpty: () => {
          throw new Error('boom')
        },
      },
      undefined,
      'x',
    )
    intruder.postMessage({ v: 1, type: 'ask', id: 'abc' })
    await vi.advanceTimersByTimeAsync(10)
    broken.close()
  })

  it('close() stops answering and listening', async () => {
    vi.useFakeTimers()
    const hub = new Hub()
    const open = tab(hub, secret)
    open.link.close()
    const fresh = tab(hub, [])
    fresh.link.ask()
    await vi.advanceTimersByTimeAsync(HANDOFF_TIMEOUT)
    expect(fresh.calls).toEqual(['unanswered'])
  })
})

describe('handed-over keys, screened by the store', () => {
  const capture = (): { plugin: TabsPlugin; internals: () => StoreInternals } => {
    let internals: StoreInternals | undefined
    const connect: TabsConnect = (store) => void (internals = store)
    return { plugin: connect as unknown as TabsPlugin, internals: () => internals! }
  }
  const record = (store: SessionKeystore): string[] => {
    const log: string[] = []
    store.on('cleared', ({ reason, count }) => log.push(`cleared:${reason}:${count}`))
    store.on('restored', ({ count, source }) => log.push(`restored:${source}:${count}`))
    return log
  }

  it('keys of another logout epoch are dropped, not taken', () => {
    const { plugin, internals } = capture()
    const store = makeStore({ name: 'epoch', tabs: plugin })
    const log = record(store)
    internals().intake.receive([['k', 'v', Infinity]], { epoch: 'before-the-logout', lastActive: Date.now() })
    expect(store.keys()).toEqual([])
    expect(log).toEqual(['cleared:other-tab:1', 'restored:tab:0'])
  })

  it('keys past their idle time (time away counts) are dropped; the last activity travels', () => {
    const { plugin, internals } = capture()
    const store = makeStore({ name: 'idle-handoff', idle: idle(60_000), tabs: plugin })
    const log = record(store)
    internals().intake.receive([['k', 'v', Infinity]], {
      epoch: internals().intake.meta().epoch,
      lastActive: Date.now() - 61_000,
    })
    expect(store.keys()).toEqual([])
    internals().intake.receive([['k', 'v', Infinity]], {
      epoch: internals().intake.meta().epoch,
      lastActive: Date.now() - 59_000,
    })
    expect(store.get('k')).toBe('v')
    expect(log).toEqual(['cleared:idle:1', 'restored:tab:0', 'restored:tab:1'])
  })
})

describe('the tabs option', () => {
  it('does nothing outside a browser window and leaves the store working', () => {
    vi.stubGlobal('BroadcastChannel', undefined)
    const store = makeStore({ name: 'no-channel', tabs: tabsPlugin })
    store.set('k', 'v')
    expect(() => store.clear({ everywhere: true })).not.toThrow()
    expect(store.size).toBe(0)
    vi.unstubAllGlobals()
  })
})

describe('store options for tabs and idle lock', () => {
  it('clear/delete everywhere need tabs: true; bad options are refused by name', () => {
    const store = makeStore()
    store.set('k', 'v')
    expect(() => store.clear({ everywhere: true })).toThrow(
      /^options\.everywhere must be false: the store was created without the option tabs/,
    )
    expect(() => store.delete('k', { everywhere: true })).toThrow(/options\.everywhere/)
    expect(() => store.clear({ everywhere: 'yes' as unknown as boolean })).toThrow(
      /^options\.everywhere must be a boolean/,
    )
    expect(() => store.clear(null as unknown as undefined)).toThrow(/^options must be an object/)
    expect(store.get('k')).toBe('v')
    for (const tabs of [true, 1, 'yes']) {
      expect(() => makeStore({ name: 'x', tabs: tabs as unknown as TabsPlugin })).toThrow(
        /^options\.tabs must be the `tabs` export of 'tab-keystore\/tabs'/,
      )
    }
    for (const timeout of [0, -1, NaN, Infinity, '10' as unknown as number]) {
      expect(() => idle(timeout)).toThrow(/^timeout must be a positive number/)
    }
  })

  it('clear() says why with a cleared event after the deleted ones', () => {
    const store = makeStore()
    const log: string[] = []
    store.on('deleted', ({ name }) => log.push(`deleted:${name}`))
    store.on('cleared', ({ reason, count }) => log.push(`cleared:${reason}:${count}`))
    store.set('a', '1')
    store.set('b', '2')
    store.clear()
    expect(log).toEqual(['deleted:a', 'deleted:b', 'cleared:clear:2'])
  })

  it('idle lock: clears after the period without get/set, and get/set push it back', () => {
    vi.useFakeTimers()
    const store = makeStore({ idle: idle(60_000) })
    const cleared: string[] = []
    store.on('cleared', ({ reason }) => cleared.push(reason))
    store.set('k', 'v')
    vi.advanceTimersByTime(50_000)
    expect(store.get('k')).toBe('v') // activity
    vi.advanceTimersByTime(50_000)
    expect(cleared).toEqual([])
    store.has('k') // not activity
    vi.advanceTimersByTime(10_001)
    expect(cleared).toEqual(['idle'])
    expect(store.size).toBe(0)
  })

  it('idle lock checks the clock on access even when its timer never fired (throttled or asleep)', () => {
    const store = makeStore({ idle: idle(1000) })
    store.set('k', 'v')
    const now = Date.now()
    vi.spyOn(Date, 'now').mockReturnValue(now + 1000)
    expect(store.get('k')).toBeNull()
  })

  it('idle lock is checked before sealing in pagehide and before answering another tab', async () => {
    const store = makeStore({ name: 'idle-hide', idle: idle(1000) })
    store.set('k', 'v')
    const now = Date.now()
    vi.spyOn(Date, 'now').mockReturnValue(now + 5000)
    window.dispatchEvent(new Event('pagehide'))
    expect(sessionStorage.getItem('tab-keystore:idle-hide')).toBeNull()

    let internals: StoreInternals | undefined
    const connect: TabsConnect = (store) => void (internals = store)
    const other = makeStore({ name: 'idle-tabs', idle: idle(1000), tabs: connect as unknown as TabsPlugin })
    vi.mocked(Date.now).mockReturnValue(now)
    other.set('k', 'v')
    vi.mocked(Date.now).mockReturnValue(now + 5000)
    internals!.intake.idle?.check()
    expect(internals!.entries.map.size).toBe(0)
    await flush()
  })

  it('idle lock checks the clock when the page is shown again', () => {
    const store = makeStore({ idle: idle(1000) })
    const cleared: string[] = []
    store.on('cleared', ({ reason }) => cleared.push(reason))
    store.set('k', 'v')
    const now = Date.now()
    vi.spyOn(Date, 'now').mockReturnValue(now + 5000)
    document.dispatchEvent(new Event('visibilitychange'))
    expect(cleared).toEqual(['idle'])
  })
})
