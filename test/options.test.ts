import { describe, expect, it, vi } from 'vitest'
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
