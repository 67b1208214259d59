import { afterEach, describe, expect, it } from 'vitest'
import { SHARE_LENGTH, randomBytes } from '../src/seal'
import { readShare, writeShare } from '../src/share'

afterEach(() => {
  window.name = ''
})

describe('shares in window.name', () => {
  it('writes one entry per store and keeps entries of other stores and libraries', () => {
    window.name = JSON.stringify({ 'other-lib': 'keep me', 'tab-keystore:b': 'x' })
    const share = randomBytes(SHARE_LENGTH)
    writeShare('a', share)
    expect(readShare('a')).toEqual(share)
    const parsed = JSON.parse(window.name)
    expect(parsed['other-lib']).toBe('keep me')
    expect(parsed['tab-keystore:b']).toBe('x')
    expect(parsed['tab-keystore:a']).toMatch(/^[0-9a-f]{64}$/)
    writeShare('a', undefined)
    expect(JSON.parse(window.name)).toEqual({ 'other-lib': 'keep me', 'tab-keystore:b': 'x' })
  })

  it('tells a missing share from a foreign value in its place', () => {
    for (const name of ['', 'plain-window-name', '[1,2]', 'null', '{"tab-keystore:a":1}', '{bad json', '"str"']) {
      window.name = name
      const expected = name === '{"tab-keystore:a":1}' ? null : undefined
      expect(readShare('a'), name).toBe(expected)
    }
    for (const value of ['', 'zz'.repeat(32), 'ab'.repeat(31), 'AB'.repeat(32), 'ab'.repeat(33), 42, null, ['ab']]) {
      window.name = JSON.stringify({ 'tab-keystore:a': value })
      expect(readShare('a')).toBeNull()
    }
  })

  it('replaces a window.name that is not a JSON object', () => {
    window.name = 'my-popup'
    writeShare('a', randomBytes(SHARE_LENGTH))
    expect(Object.keys(JSON.parse(window.name))).toEqual(['tab-keystore:a'])
  })
})

describe('hostile window.name', () => {
  it('nothing in window.name makes reading or writing a share throw, however deep or large', () => {
    const deep = '['.repeat(10_000) + ']'.repeat(10_000)
    const deepObject = `{"x":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)},"tab-keystore:a":"${'ab'.repeat(32)}"}`
    const big = JSON.stringify({ junk: 'x'.repeat(30_000_000) })
    for (const name of [deep, deepObject, big, `{"a":${deep}}`]) {
      window.name = name
      expect(() => readShare('a')).not.toThrow()
      expect(() => writeShare('a', randomBytes(SHARE_LENGTH))).not.toThrow()
      expect(readShare('a')).toBeInstanceOf(Uint8Array)
      expect(window.name.length).toBeLessThan(10_000)
    }
  })

  it('writes another value first only when the one it writes is the one the page sees (Chromium drops that write)', () => {
    const share = randomBytes(SHARE_LENGTH)
    const own =
      Object.getOwnPropertyDescriptor(window, 'name') ??
      Object.getOwnPropertyDescriptor(Object.getPrototypeOf(window), 'name')!
    const writes: string[] = []
    Object.defineProperty(window, 'name', {
      configurable: true,
      get: () => own.get!.call(window),
      set: (v: string) => (writes.push(v), own.set!.call(window, v)),
    })
    try {
      writeShare('a', share)
      const value = window.name
      writeShare('a', share) // the same again: a page back from the cache rewriting the share it sees
      writeShare('a', undefined)
      expect(writes).toEqual([value, '\0', value, ''])
    } finally {
      Object.defineProperty(window, 'name', own)
    }
  })

  it('keeps foreign entries only when they are small and flat', () => {
    window.name = JSON.stringify({ flat: 'kept', n: 1, nested: { a: 1 }, list: [1], long: 'x'.repeat(5000) })
    writeShare('a', randomBytes(SHARE_LENGTH))
    expect(Object.keys(JSON.parse(window.name)).sort()).toEqual(['flat', 'n', 'tab-keystore:a'])
  })
})
