import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { FORMAT_VERSION, SHARE_LENGTH, open, pack, randomBytes, readShare, seal, unpack, writeShare } from '../src/seal'
import { encodeEntries } from '../src/encoding'

afterEach(() => {
  window.name = ''
})

describe('text packing (15 bits per UTF-16 unit)', () => {
  it('round-trips any bytes, using only U+0800..U+87FF', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const text = pack(bytes)
        for (let i = 0; i < text.length; i++) {
          const unit = text.charCodeAt(i)
          expect(unit >= 0x800 && unit <= 0x87ff).toBe(true)
        }
        expect(unpack(text)).toEqual(bytes)
      }),
      { numRuns: 500 },
    )
  })

  it('is 16/15 the size of the bytes (base64 would be 4/3)', () => {
    expect(pack(new Uint8Array(15_000)).length).toBe(8_001)
  })

  it('rejects every other text, or decodes it to other bytes: never the same bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.nat(), fc.integer({ min: 1, max: 0xffff }), (bytes, at, flip) => {
        const text = pack(bytes)
        const i = at % text.length
        const changed = text.slice(0, i) + String.fromCharCode(text.charCodeAt(i) ^ flip) + text.slice(i + 1)
        const decoded = unpack(changed)
        expect(decoded === undefined || !decoded.every((b, j) => b === bytes[j]) || decoded.length !== bytes.length).toBe(true)
      }),
      { numRuns: 1000 },
    )
    expect(unpack('\u0800')).toEqual(new Uint8Array(0)) // the one encoding of no bytes
    for (const junk of ['', 'hello', '\u0801', '\u0802abc', '\ud800\u0800', '{"a":1}']) expect(unpack(junk)).toBeUndefined()
  })
})

describe('seal and open', () => {
  const plain = encodeEntries(new Map([['k', { value: 'secret value', expiresAt: Infinity }]]), 0).bytes

  it('opens what it sealed, under the same S1 and store name only', () => {
    const s1 = randomBytes(SHARE_LENGTH)
    const text = seal(plain, s1, 'app')
    expect(open(text, s1, 'app')).toEqual(plain)
    expect(open(text, s1, 'other')).toBe('tampered')
    expect(open(text, randomBytes(SHARE_LENGTH), 'app')).toBe('tampered')
  })

  it('detects a change to one bit of S1', () => {
    const s1 = randomBytes(SHARE_LENGTH)
    const text = seal(plain, s1, 'app')
    for (let bit = 0; bit < SHARE_LENGTH * 8; bit += 13) {
      const flipped = s1.slice()
      flipped[bit >> 3]! ^= 1 << (bit & 7)
      expect(open(text, flipped, 'app')).toBe('tampered')
    }
  })

  it('detects a change to any bit of the sealed text', () => {
    const s1 = randomBytes(SHARE_LENGTH)
    const text = seal(plain, s1, 'app')
    for (let i = 0; i < text.length; i += 7) {
      for (const bit of [0, 5, 11, 14, 15]) {
        const changed = text.slice(0, i) + String.fromCharCode(text.charCodeAt(i) ^ (1 << bit)) + text.slice(i + 1)
        expect(['tampered', 'corrupt', 'unsupported-version']).toContain(open(changed, s1, 'app'))
      }
    }
  })

  it('reports another format version as unsupported, and junk, truncation and random text as corrupt or tampered', () => {
    const s1 = randomBytes(SHARE_LENGTH)
    const envelope = unpack(seal(plain, s1, 'app'))!
    for (const version of [0, FORMAT_VERSION + 1, 255]) {
      const other = envelope.slice()
      other[0] = version
      expect(open(pack(other), s1, 'app')).toBe('unsupported-version')
    }
    expect(open(pack(envelope.subarray(0, 40)), s1, 'app')).toBe('corrupt')
    expect(open(pack(envelope.subarray(0, envelope.length - 1)), s1, 'app')).toBe('tampered')
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (junk) => {
        expect(['corrupt', 'tampered', 'unsupported-version']).toContain(open(junk, s1, 'app'))
      }),
    )
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        expect(['corrupt', 'tampered', 'unsupported-version']).toContain(open(pack(bytes), s1, 'app'))
      }),
    )
  })

  it('seals to text that contains neither the secret nor S1 in any usual encoding', () => {
    const s1 = randomBytes(SHARE_LENGTH)
    const text = seal(plain, s1, 'app')
    const hex = Array.from(s1, (b) => b.toString(16).padStart(2, '0')).join('')
    for (const needle of ['secret value', btoa('secret value'), hex, btoa(String.fromCharCode(...s1))]) {
      expect(text).not.toContain(needle)
    }
  })
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
