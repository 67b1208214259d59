import { afterEach, describe, expect, it, vi } from 'vitest'
import { SessionKeystore, isKeystoreError } from '../src/index'
import { idle } from '../src/idle'
import { tabs } from '../src/tabs/index'
import { makeStore } from './helpers'

const Loose = SessionKeystore as unknown as new (options?: unknown) => SessionKeystore

describe('unknown options are refused (issue 24, item 2)', () => {
  it("0.1's idleTimeout throws, pointing at idle(ms) from 'tab-keystore/idle'", () => {
    let error: unknown
    try {
      new Loose({ name: 'o', idleTimeout: 1000 })
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(TypeError)
    expect(isKeystoreError(error, 'invalid-argument')).toBe(true)
    expect((error as Error).message).toBe(
      "options.idleTimeout was replaced by idle: idle(ms), from 'tab-keystore/idle'",
    )
  })

  it('a misspelt option throws, naming it and listing the options; so does one given as undefined', () => {
    const message =
      /^options\.nmae is not an option; the options are name, tabs, idle, onAccess, onChanged, onExpired, sealWhenHidden$/
    expect(() => new Loose({ nmae: 'app' })).toThrow(TypeError)
    expect(() => new Loose({ nmae: 'app' })).toThrow(message)
    expect(() => new Loose({ name: 'x', nmae: undefined })).toThrow(message)
    expect(() => new Loose({ name: 'x', onChange: () => undefined })).toThrow(/^options\.onChange is not an option/)
  })

  it('every known option is still taken', () => {
    const store = makeStore({
      name: 'all-options',
      tabs,
      idle: idle(60_000),
      onAccess: () => undefined,
      onChanged: () => undefined,
      onExpired: () => undefined,
      sealWhenHidden: true,
    })
    store.set('k', 'v')
    expect(store.get('k')).toBe('v')
  })

  it('for a name already open, a bad option throws before anything changes: its idle lock and callbacks stay', () => {
    vi.useFakeTimers()
    const changed: string[] = []
    const first = makeStore({ name: 'open', idle: idle(60_000), onChanged: (name) => changed.push(name) })
    first.set('k', 'v')
    // Each call would replace idle (with one that never fires in the test) and onChanged, were it applied.
    const replacing = { name: 'open', idle: idle(1e12), onChanged: () => undefined }
    expect(() => new Loose({ ...replacing, idleTimeout: 1000 })).toThrow(/^options\.idleTimeout/)
    expect(() => new Loose({ ...replacing, nmae: 1 })).toThrow(/^options\.nmae/)
    expect(() => new Loose({ ...replacing, sealWhenHidden: 'yes' })).toThrow(/^options\.sealWhenHidden/)
    first.set('j', 'w')
    expect(changed).toEqual(['k', 'j']) // its own onChanged still
    vi.advanceTimersByTime(61_000)
    expect(first.has('k')).toBe(false) // its own idle lock still
  })
})

describe('a constructor that throws leaves nothing behind (issue 24, item 9)', () => {
  type Listening = Map<string, number>
  let listening: Listening
  const key = (target: EventTarget, type: string): string => `${target === window ? 'window' : 'document'}:${type}`

  /** Counts the listeners added to and removed from window and document. */
  function trackListeners(): void {
    listening = new Map()
    for (const target of [window, document] as EventTarget[]) {
      const add = target.addEventListener.bind(target)
      const remove = target.removeEventListener.bind(target)
      vi.spyOn(target, 'addEventListener').mockImplementation((type, listener, options) => {
        listening.set(key(target, type), (listening.get(key(target, type)) ?? 0) + 1)
        add(type, listener, options)
      })
      vi.spyOn(target, 'removeEventListener').mockImplementation((type, listener, options) => {
        listening.set(key(target, type), (listening.get(key(target, type)) ?? 0) - 1)
        remove(type, listener, options)
      })
    }
  }
  const held = (): string[] => [...listening].filter(([, count]) => count > 0).map(([name]) => name)

  afterEach(() => {
    sessionStorage.clear()
    window.name = ''
  })

  // A test environment's shim: getRandomValues returns a new buffer instead of filling the
  // one given (here: a plain array, which the cipher refuses).
  const newBuffer = (array: Uint8Array): unknown => Array.from(array, () => 7)

  it('with a getRandomValues that returns a new buffer: the constructor throws, holds no listener, registers nothing', () => {
    trackListeners()
    vi.spyOn(crypto, 'getRandomValues').mockImplementation(newBuffer as never)
    expect(() => new SessionKeystore({ name: 'shim', idle: idle(60_000), tabs })).toThrow()
    expect(held()).toEqual([])
    vi.mocked(crypto.getRandomValues).mockRestore()
    // A later `new` of the name builds a store of its own, whose events are delivered.
    const store = makeStore({ name: 'shim' })
    const created: string[] = []
    store.on('created', ({ name }) => created.push(name))
    store.set('k', 'v')
    expect(created).toEqual(['k'])
  })

  it('wherever in the construction randomness fails, nothing stays registered nor listening', () => {
    // Counts the draws of a whole construction, then fails each one in turn.
    let draws = 0
    const real = crypto.getRandomValues.bind(crypto)
    const spy = vi.spyOn(crypto, 'getRandomValues').mockImplementation(((array: Uint8Array) => {
      draws++
      return real(array)
    }) as never)
    const options = { idle: idle(60_000), tabs }
    new SessionKeystore({ name: 'count', ...options }).destroy()
    spy.mockRestore()
    expect(draws).toBeGreaterThan(1)
    for (let failing = 1; failing <= draws; failing++) {
      sessionStorage.clear()
      window.name = ''
      trackListeners()
      let call = 0
      vi.spyOn(crypto, 'getRandomValues').mockImplementation(((array: Uint8Array) =>
        ++call === failing ? undefined : real(array)) as never)
      const name = `fail-${failing}`
      let store: SessionKeystore | undefined
      let threw = false
      try {
        store = new SessionKeystore({ name, ...options })
      } catch {
        threw = true
      }
      vi.restoreAllMocks()
      if (!threw) {
        store!.destroy() // a draw the construction survives (not every one is needed to come up)
        continue
      }
      expect(held(), `draw ${failing}`).toEqual([])
      const again = makeStore({ name })
      const created: string[] = []
      again.on('created', ({ name: key }) => created.push(key))
      again.set('k', 'v')
      expect(created, `draw ${failing}`).toEqual(['k'])
    }
  })
})
