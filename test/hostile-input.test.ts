import { describe, expect, it } from 'vitest'
import { SessionKeystore } from '../src/index'
import { makeStore } from './helpers'

// Every API must reject these with an error that names the argument, and leave the store as it was.
const notStrings = [undefined, null, 42, NaN, true, Symbol('s'), {}, [], new Uint8Array(1), () => 'k', 1n]
const notValues = [
  undefined,
  null,
  42,
  true,
  {},
  [],
  new Uint16Array(2),
  new ArrayBuffer(2),
  new DataView(new ArrayBuffer(2)),
  [1, 2],
  new Date(),
  1n,
]
const badExpiries: [unknown, ErrorConstructor, RegExp][] = [
  [NaN, RangeError, /expiresAt.*NaN/],
  [Infinity, RangeError, /expiresAt.*Infinity/],
  [-Infinity, RangeError, /expiresAt/],
  [new Date('not a date'), RangeError, /expiresAt must be a valid Date/],
  [null, TypeError, /expiresAt.*null/],
  ['2030-01-01', TypeError, /expiresAt.*string/],
  [{ valueOf: () => 5 }, TypeError, /expiresAt/],
]

function snapshot(store: SessionKeystore): unknown {
  return store.keys().map((k) => [k, store.get(k), store.expiresAt(k)])
}

describe('hostile input', () => {
  const withData = (): SessionKeystore => {
    const store = makeStore()
    store.set('a', 'secret', Date.now() + 60_000)
    store.set('b', new Uint8Array([1, 2]))
    return store
  }
  type Loose = SessionKeystore & Record<string, (...args: unknown[]) => unknown>

  it.each(notStrings.map((n) => [n]))('key names: rejects %s with a TypeError naming `name`', (name) => {
    const store = withData() as Loose
    const before = snapshot(store)
    for (const method of ['get', 'has', 'delete', 'expiresAt', 'expiresIn']) {
      expect(() => store[method]!(name), method).toThrow(TypeError)
      expect(() => store[method]!(name), method).toThrow(/^name must be a string/)
    }
    expect(() => store.set(name as string, 'v')).toThrow(/^name must be a string/)
    expect(snapshot(store)).toEqual(before)
  })

  it.each(notValues.map((v) => [v]))('values: rejects %s with a TypeError naming `value`', (value) => {
    const store = withData()
    const before = snapshot(store)
    expect(() => store.set('a', value as string)).toThrow(TypeError)
    expect(() => store.set('a', value as string)).toThrow(/^value must be a string or a Uint8Array/)
    expect(() => store.set('new', value as string)).toThrow(TypeError)
    expect(snapshot(store)).toEqual(before)
  })

  it('strings with lone surrogates, which UTF-8 cannot carry across a reload unchanged', () => {
    const store = withData()
    const before = snapshot(store)
    for (const bad of ['\ud800', 'a\udc00b', '🔑'.slice(0, 1)]) {
      expect(() => store.set('a', bad)).toThrow(/^value must be a well-formed string/)
      expect(() => store.set(bad, 'v')).toThrow(/^name must be a well-formed string/)
      // A string of the wrong value, not the wrong type.
      expect(() => store.set('a', bad)).toThrow(RangeError)
    }
    expect(snapshot(store)).toEqual(before)
    expect(() => store.set('emoji', '🔑 ok')).not.toThrow()
  })

  it.each(badExpiries)('expiry: rejects %s', (expiresAt, kind, message) => {
    const store = withData()
    const before = snapshot(store)
    expect(() => store.set('a', 'other', expiresAt as number)).toThrow(kind)
    expect(() => store.set('a', 'other', expiresAt as number)).toThrow(message)
    expect(snapshot(store)).toEqual(before)
  })

  it('events: rejects unknown event names and non-function listeners', () => {
    const store = withData() as SessionKeystore & { on(e: unknown, l: unknown): unknown }
    // A string that names no event is a wrong value (RangeError), anything else a wrong type.
    for (const [event, kind] of [
      ['change', RangeError],
      ['Created', RangeError],
      ['', RangeError],
      [undefined, TypeError],
      [1, TypeError],
      [null, TypeError],
    ] as const) {
      expect(() => store.on(event, () => undefined)).toThrow(kind)
      expect(() => store.on(event, () => undefined)).toThrow(/^event must be one of created, read/)
    }
    for (const listener of [undefined, null, 'fn', {}]) {
      expect(() => store.on('read', listener)).toThrow(/^listener must be a function/)
    }
  })

  it('options: rejects bad options naming the option', () => {
    const Ctor = SessionKeystore as unknown as new (o?: unknown) => SessionKeystore
    expect(() => new Ctor(null)).toThrow(/^options must be an object/)
    expect(() => new Ctor('app')).toThrow(/^options must be an object/)
    expect(() => new Ctor({ name: '' })).toThrow(/^options\.name must be a non-empty string/)
    expect(() => new Ctor({ name: 7 })).toThrow(/^options\.name must be a non-empty string; got the number 7/)
    expect(() => new Ctor({ name: 'x', onAccess: 'log' })).toThrow(/^options\.onAccess must be a function/)
    expect(() => new Ctor({ name: 'x', onChanged: {} })).toThrow(/^options\.onChanged must be a function/)
    expect(() => new Ctor({ name: 'x', onExpired: 1 })).toThrow(/^options\.onExpired must be a function/)
    expect(() => new Ctor({ name: 'x', onexpired: () => undefined })).toThrow(/^options\.onexpired is not an option/)
    expect(() => new Ctor({ name: 'x', idleTimeout: 60_000 })).toThrow(/^options\.idleTimeout was replaced by idle/)
  })

  it('never echoes a rejected value in the message (it may be a secret)', () => {
    const store = withData()
    const secret = 'hunter2-very-secret'
    const messages: string[] = []
    for (const call of [
      () => store.set('a', 'x', secret as unknown as number),
      () => store.get(secret.length as unknown as string),
      () => store.set('a', { secret } as unknown as string),
    ]) {
      try {
        call()
      } catch (error) {
        messages.push(String(error))
      }
    }
    expect(messages).toHaveLength(3)
    for (const message of messages) expect(message).not.toContain(secret)
  })
})
