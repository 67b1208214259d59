import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FORMAT_VERSION, SHARE_LENGTH, open, pack, randomBytes, seal, tag, unpack } from '../src/seal'
import { encodeEntries } from '../src/encoding'

/** Opens only seals of context `context` (the caller's look at the context: lifecycle/placement.ts). */
const only = (context: string) => (sealed: string) => (sealed === context ? undefined : ('left-origin' as const))

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
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.nat(),
        fc.integer({ min: 1, max: 0xffff }),
        (bytes, at, flip) => {
          const text = pack(bytes)
          const i = at % text.length
          const changed = text.slice(0, i) + String.fromCharCode(text.charCodeAt(i) ^ flip) + text.slice(i + 1)
          const decoded = unpack(changed)
          expect(
            decoded === undefined || !decoded.every((b, j) => b === bytes[j]) || decoded.length !== bytes.length,
          ).toBe(true)
        },
      ),
      { numRuns: 1000 },
    )
    expect(unpack('\u0800')).toEqual(new Uint8Array(0)) // the one encoding of no bytes
    for (const junk of ['', 'hello', '\u0801', '\u0802abc', '\ud800\u0800', '{"a":1}'])
      expect(unpack(junk)).toBeUndefined()
  })
})

describe('seal and open', () => {
  const plain = encodeEntries(new Map([['k', { value: 'secret value', expiresAt: Infinity }]]), 0, {
    epoch: '',
    lastActive: 0,
  }).bytes

  it('opens what it sealed, under the same S1 and store name, once its context is accepted', () => {
    const s1 = randomBytes(SHARE_LENGTH)
    const text = seal(plain, s1, 'app', 'entry')
    expect(open(text, s1, 'app', only('entry'))).toEqual(plain)
    expect(open(text, s1, 'app', only('another-entry'))).toBe('left-origin')
    expect(open(text, s1, 'app', only(''))).toBe('left-origin')
    expect(open(seal(plain, s1, 'app', ''), s1, 'app', only(''))).toEqual(plain)
    expect(open(text, s1, 'other', only('entry'))).toBe('tampered')
    expect(open(text, randomBytes(SHARE_LENGTH), 'app', only('entry'))).toBe('tampered')
  })

  it('detects a change to one bit of S1', () => {
    const s1 = randomBytes(SHARE_LENGTH)
    const text = seal(plain, s1, 'app', 'entry')
    for (let bit = 0; bit < SHARE_LENGTH * 8; bit += 13) {
      const flipped = s1.slice()
      flipped[bit >> 3]! ^= 1 << (bit & 7)
      expect(open(text, flipped, 'app', only('entry'))).toBe('tampered')
    }
  })

  it('detects a change to any bit of the sealed text', () => {
    const s1 = randomBytes(SHARE_LENGTH)
    const text = seal(plain, s1, 'app', 'entry')
    for (let i = 0; i < text.length; i += 7) {
      for (const bit of [0, 5, 11, 14, 15]) {
        const changed = text.slice(0, i) + String.fromCharCode(text.charCodeAt(i) ^ (1 << bit)) + text.slice(i + 1)
        expect(['tampered', 'corrupt', 'unsupported-version', 'left-origin']).toContain(
          open(changed, s1, 'app', only('entry')),
        )
      }
    }
  })

  it('binds its context: one changed in transit fails authentication, whatever the caller accepts', () => {
    const s1 = randomBytes(SHARE_LENGTH)
    const envelope = unpack(seal(plain, s1, 'app', 'g1 entry'))!
    const at = 1 + SHARE_LENGTH + 12 + 1 // the first byte of the context
    for (const i of [at, at + 1, at + 3]) {
      const changed = envelope.slice()
      changed[i]! ^= 1
      expect(open(pack(changed), s1, 'app', () => undefined)).toBe('tampered')
    }
    expect(open(pack(envelope), s1, 'app', () => undefined)).toEqual(plain)
  })

  it('reports another format version as unsupported, and junk, truncation and random text as corrupt or tampered', () => {
    const s1 = randomBytes(SHARE_LENGTH)
    const envelope = unpack(seal(plain, s1, 'app', 'entry'))!
    for (const version of [0, FORMAT_VERSION + 1, 255]) {
      const other = envelope.slice()
      other[0] = version
      expect(open(pack(other), s1, 'app', only('entry'))).toBe('unsupported-version')
    }
    expect(open(pack(envelope.subarray(0, 40)), s1, 'app', only('entry'))).toBe('corrupt')
    expect(open(pack(envelope.subarray(0, envelope.length - 1)), s1, 'app', only('entry'))).toBe('tampered')
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (junk) => {
        expect(['corrupt', 'tampered', 'unsupported-version']).toContain(open(junk, s1, 'app', only('entry')))
      }),
    )
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        expect(['corrupt', 'tampered', 'unsupported-version']).toContain(open(pack(bytes), s1, 'app', only('entry')))
      }),
    )
  })

  it('seals to text that contains neither the secret nor S1 in any usual encoding', () => {
    const s1 = randomBytes(SHARE_LENGTH)
    const text = seal(plain, s1, 'app', 'entry')
    const hex = Array.from(s1, (b) => b.toString(16).padStart(2, '0')).join('')
    for (const needle of ['secret value', btoa('secret value'), hex, btoa(String.fromCharCode(...s1))]) {
      expect(text).not.toContain(needle)
    }
  })
})

describe('share tags', () => {
  it('are the same for the same share, differ between shares, and show nothing of it', () => {
    const s1 = randomBytes(SHARE_LENGTH)
    expect(tag(s1)).toBe(tag(s1.slice()))
    expect(tag(s1)).toMatch(/^[0-9a-f]{16}$/)
    expect(tag(randomBytes(SHARE_LENGTH))).not.toBe(tag(s1))
    const hex = Array.from(s1, (b) => b.toString(16).padStart(2, '0')).join('')
    for (let i = 0; i + 4 <= 16; i += 2) expect(hex).not.toContain(tag(s1).slice(i, i + 8))
  })
})

describe('hostile input (review findings)', () => {
  it('packing is canonical: every text that decodes is the one text of its bytes', () => {
    const canonical = (text: string): void => {
      const bytes = unpack(text)
      if (bytes) expect(pack(bytes)).toBe(text)
    }
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 64 }),
        fc.integer({ min: 0, max: 0x7fff }),
        fc.nat(),
        (bytes, unit, at) => {
          const text = pack(bytes)
          const extra = String.fromCharCode(0x800 + unit)
          const i = at % text.length
          const flipped = String.fromCharCode(text.charCodeAt(0) ^ 1) + text.slice(1)
          for (const changed of [
            text + extra,
            text + extra + extra,
            text.slice(0, -1),
            flipped,
            flipped + extra,
            flipped + extra + extra,
            text.slice(0, i) + extra + text.slice(i + 1),
          ]) {
            canonical(changed)
          }
        },
      ),
      { numRuns: 2000 },
    )
    // Found by the review: the spare flag set and one more zero unit decoded to the same bytes.
    expect(unpack('\u0801\u0800')).toBeUndefined()
  })
})
