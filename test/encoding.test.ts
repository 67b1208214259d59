import { describe, expect, it } from 'vitest'
import { MIN_PADDED, decodeEntries, encodeEntries, padLength, type Entry } from '../src/encoding'
import { SHARE_LENGTH, randomBytes, seal } from '../src/seal'

const meta = { epoch: '', lastActive: 0 }

describe('padding', () => {
  it('pads to at least 1 KiB and at most 12% more, monotonically', () => {
    expect(padLength(0)).toBe(MIN_PADDED)
    expect(padLength(1024)).toBe(1024)
    let previous = 0
    for (let n = 1; n < 200_000; n += 97) {
      const padded = padLength(n)
      expect(padded).toBeGreaterThanOrEqual(n)
      expect(padded).toBeGreaterThanOrEqual(previous)
      if (n > MIN_PADDED) expect(padded / n).toBeLessThanOrEqual(1.12)
      previous = padded
    }
  })

  it('small stores of different sizes and counts seal to the same length', () => {
    const s1 = randomBytes(SHARE_LENGTH)
    const one = encodeEntries(new Map([['k', { value: 'v', expiresAt: Infinity }]]), 0, meta)
    const many = encodeEntries(
      new Map(
        Array.from({ length: 10 }, (_, i): [string, Entry] => [`key${i}`, { value: 'x'.repeat(40), expiresAt: 1e12 }]),
      ),
      0,
      { epoch: '1763900000000-abcdefgh', lastActive: 1e12 },
    )
    expect(seal(one.bytes, s1, 'a', '').length).toBe(seal(many.bytes, s1, 'a', '').length)
  })
})

describe('entries encoding', () => {
  it('round-trips names, string and byte values and expiry times', () => {
    const entries: [string, Entry][] = [
      ['masterKey', { value: new Uint8Array([0, 255, 7]), expiresAt: Infinity }],
      ['tökén 🔑', { value: 'välue ✓ \u{1F511}', expiresAt: 1_893_456_000_123 }],
      ['', { value: '', expiresAt: 5 }],
      ['empty-bytes', { value: new Uint8Array(0), expiresAt: Infinity }],
    ]
    const { bytes, count } = encodeEntries(new Map(entries), 0, { epoch: 'épöch-1', lastActive: 1_893_456_000_000 })
    expect(count).toBe(4)
    expect(decodeEntries(bytes)).toEqual({ entries, epoch: 'épöch-1', lastActive: 1_893_456_000_000 })
  })

  it('leaves out entries expired at the given time', () => {
    const entries = new Map<string, Entry>([
      ['gone', { value: 'x', expiresAt: 100 }],
      ['kept', { value: 'y', expiresAt: 101 }],
    ])
    const { bytes, count } = encodeEntries(entries, 100, meta)
    expect(count).toBe(1)
    expect(decodeEntries(bytes).entries.map(([name]) => name)).toEqual(['kept'])
  })

  it('throws on truncated or malformed input, never returns a shortened value', () => {
    const { bytes } = encodeEntries(new Map([['k', { value: new Uint8Array(2000), expiresAt: Infinity }]]), 0, meta)
    expect(() => decodeEntries(bytes.subarray(0, 10))).toThrow()
    expect(() => decodeEntries(bytes.subarray(0, 1500))).toThrow(/run past the end/)
    const notJson = bytes.slice()
    notJson[4] = 0x7b // '{' where '[' was
    expect(() => decodeEntries(notJson)).toThrow()
    const longHeader = bytes.slice()
    longHeader[0] = 0xff
    expect(() => decodeEntries(longHeader)).toThrow()
  })
})
