import { describe, expect, it, vi } from 'vitest'
import { KeystoreError, SessionKeystore, isKeystoreError } from '../src/index'
import * as errorsModule from '../src/errors'
import { idle } from '../src/idle'
import { makeStore, waitingTabs } from './helpers'

/** What `run` threw: the error itself, for the guard and the class to be looked at. */
function thrown(run: () => unknown): unknown {
  try {
    run()
  } catch (error) {
    return error
  }
  throw new Error('did not throw')
}

describe('isKeystoreError: one way to catch every error of the library (issue 24, item 3)', () => {
  it('is true for argument errors (TypeError, RangeError) and for KeystoreErrors, with their code', () => {
    const store = makeStore({ name: 'guard' })
    const wrongType = thrown(() => store.set(42 as never, 'v' as never))
    const wrongValue = thrown(() => store.set('k', 'v', 60_000))
    expect(wrongType).toBeInstanceOf(TypeError)
    expect(wrongValue).toBeInstanceOf(RangeError)
    for (const error of [wrongType, wrongValue]) {
      expect(isKeystoreError(error)).toBe(true)
      expect(isKeystoreError(error, 'invalid-argument')).toBe(true)
      expect(isKeystoreError(error, 'destroyed')).toBe(false)
      expect(error).not.toBeInstanceOf(KeystoreError) // as before: TypeError and RangeError keep their meaning
    }
    store.destroy()
    const destroyed = thrown(() => store.get('k'))
    expect(destroyed).toBeInstanceOf(KeystoreError)
    expect([isKeystoreError(destroyed), isKeystoreError(destroyed, 'destroyed')]).toEqual([true, true])
    expect(isKeystoreError(destroyed, 'invalid-argument')).toBe(false)
  })

  it("is false for anything else: others' errors, one with a code of ours, non-errors", () => {
    const foreign = [
      new TypeError('x'),
      Object.assign(new TypeError('x'), { code: 'ERR_INVALID_ARG_TYPE' }),
      Object.assign(new Error('x'), { code: 'invalid-argument' }), // neither TypeError nor RangeError
      Object.assign(new Error('x'), { code: 'destroyed' }), // not a KeystoreError
      Object.assign(new KeystoreError('destroyed', 'x'), { code: 'unknown-code' }),
      new DOMException('x', 'QuotaExceededError'),
      'invalid-argument',
      { code: 'invalid-argument' },
      null,
      undefined,
      42,
    ]
    for (const error of foreign) expect(isKeystoreError(error), String(error)).toBe(false)
  })

  it('holds across copies of the library (each CommonJS entry point carries its own errors module)', () => {
    // A KeystoreError of another copy: another class, the same name and code.
    class Copy extends Error {
      readonly code = 'wrong-key'
      override name = 'KeystoreError'
    }
    expect(new Copy() instanceof KeystoreError).toBe(false)
    expect(isKeystoreError(new Copy(), 'wrong-key')).toBe(true)
  })

  it('is exported by the errors module, which imports nothing of the core', async () => {
    expect(errorsModule.isKeystoreError).toBe(isKeystoreError)
    const { readFileSync } = await import('node:fs')
    const source = readFileSync('src/errors.ts', 'utf8')
    expect(source).not.toMatch(/^import /m)
  })
})

describe('argument errors: TypeError for a wrong type, RangeError for a wrong value (issue 24, item 3)', () => {
  const kind = (run: () => unknown): string => {
    const error = thrown(run) as Error & { code?: string }
    return `${error.name}:${error.code}`
  }

  it('idle(): a timeout that is not a number is a TypeError, a number out of range a RangeError', () => {
    expect(kind(() => idle('15m' as never))).toBe('TypeError:invalid-argument')
    expect(kind(() => idle(undefined as never))).toBe('TypeError:invalid-argument')
    for (const timeout of [-1, 0, NaN, Infinity]) expect(kind(() => idle(timeout))).toBe('RangeError:invalid-argument')
  })

  it('options.name: not a string is a TypeError, an empty string a RangeError', () => {
    expect(kind(() => new SessionKeystore({ name: 7 as never }))).toBe('TypeError:invalid-argument')
    expect(kind(() => new SessionKeystore({ name: '' }))).toBe('RangeError:invalid-argument')
  })

  it('{ everywhere: true } without the tabs option: a RangeError (a boolean, the wrong one); nothing is changed', () => {
    const store = makeStore({ name: 'everywhere' })
    store.set('k', 'v')
    expect(kind(() => store.clear({ everywhere: true }))).toBe('RangeError:invalid-argument')
    expect(kind(() => store.delete('k', { everywhere: true }))).toBe('RangeError:invalid-argument')
    expect(kind(() => store.clear({ everywhere: 1 as never }))).toBe('TypeError:invalid-argument')
    expect(store.get('k')).toBe('v')
  })
})

describe('get(name, now) takes a Date, as set takes one (issue 24, item 3)', () => {
  it('a Date clock past the expiry expires the key, one before it reads it', () => {
    const store = makeStore({ name: 'clock' })
    const at = Date.now() + 60_000
    store.set('k', 'v', new Date(at))
    expect(store.get('k', new Date(at - 1))).toBe('v')
    expect(store.get('k', new Date(at + 100))).toBeNull()
    expect(store.has('k')).toBe(false)
  })

  it('refuses what expiresAt refuses, naming `now`, and leaves the key as it was', () => {
    const store = makeStore({ name: 'bad-clock' })
    const at = Date.now() + 60_000
    store.set('k', 'v', at)
    const cases: [unknown, string, RegExp][] = [
      ['now', 'TypeError', /^now must be a Date or epoch milliseconds; got a string of length 3$/],
      [null, 'TypeError', /^now must be a Date or epoch milliseconds/],
      [
        new Date('not a date'),
        'RangeError',
        /^now must be a valid Date or epoch milliseconds after the year 2000; got an instance of Date$/,
      ],
      [NaN, 'RangeError', /^now must be a valid Date/],
      [Infinity, 'RangeError', /^now must be a valid Date/], // would expire every key
      [
        (at + 1000) / 1000,
        'RangeError',
        /^now must be a valid Date or epoch milliseconds after the year 2000; got the number/,
      ], // seconds would read an expired key
    ]
    for (const [now, name, message] of cases) {
      const error = thrown(() => store.get('k', now as number)) as Error
      expect(error.name).toBe(name)
      expect(error.message).toMatch(message)
      expect(isKeystoreError(error, 'invalid-argument')).toBe(true)
    }
    expect(store.get('k')).toBe('v')
    expect(store.expiresAt('k')).toEqual(new Date(at))
  })
})

describe('after destroy(), subscribe, version and pending throw as every other call (issue 24, item 3)', () => {
  it('KeystoreError "destroyed"; the unsubscribe functions handed out before still work', () => {
    const tabs = waitingTabs()
    const store = makeStore({ name: 'gone-ui', tabs: tabs.plugin })
    const unsubscribe = store.subscribe(() => undefined)
    store.destroy()
    for (const call of [() => store.subscribe(() => undefined), () => store.version, () => store.pending]) {
      const error = thrown(call)
      expect(error).toBeInstanceOf(KeystoreError)
      expect(isKeystoreError(error, 'destroyed')).toBe(true)
      expect((error as Error).message).toBe('SessionKeystore "gone-ui" was destroyed; create a new one')
    }
    expect(() => unsubscribe()).not.toThrow()
  })

  it('reading version does not run the idle check (a render must not change the store)', () => {
    const store = makeStore({ name: 'snapshot', idle: idle(1000) })
    store.set('k', 'v')
    const before = store.version
    vi.spyOn(Date, 'now').mockReturnValue(Date.now() + 5000)
    expect(store.version).toBe(before)
    expect(store.pending).toBe(false)
    expect(store.has('k')).toBe(false) // any other call does, and clears
    expect(store.version).toBeGreaterThan(before)
  })
})
