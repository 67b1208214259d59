/** What a store holds under one name. */
export type Value = string | Uint8Array

/** A stored value and its absolute expiry in epoch milliseconds (`Infinity`: never). */
export interface Entry {
  value: Value
  expiresAt: number
}

/** Accepts Uint8Arrays from other realms (iframes) too, as `@noble/ciphers` does. */
export function isBytes(value: unknown): value is Uint8Array {
  return (
    value instanceof Uint8Array ||
    (ArrayBuffer.isView(value) && value.constructor.name === 'Uint8Array')
  )
}

/**
 * Copies bytes in and out so the caller never holds a reference to the store's copy.
 * `new Uint8Array(bytes)` rather than `slice()`: Node's `Buffer#slice` does not copy.
 */
export function copy<V extends Value>(value: V): V {
  return (typeof value === 'string' ? value : new Uint8Array(value)) as V
}

/**
 * Zero-fills the store's copy of a byte value. JS gives no guarantee that no other copy
 * exists (the engine may have moved it), and strings are immutable: they cannot be
 * wiped at all and stay in memory until the garbage collector reuses it.
 */
export function wipe(value: Value): void {
  if (typeof value !== 'string') value.fill(0)
}

export function sameValue(a: Value, b: Value): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!
  return diff === 0
}

const STRING = 0
const BYTES = 1
/** kind (1) + expiresAt (8) + name length (4) + value length (4) */
const ENTRY_HEADER = 17
/** Every sealed store is at least this long, so small stores all look alike. */
export const MIN_PADDED: number = 1024

/**
 * Padmé padding (Nikitin et al., PETS 2019): rounds a length up so that it reveals
 * O(log log n) bits instead of O(log n), for at most 12% overhead. The sealed state's
 * length then tells the size of the store only roughly, and nothing below 1 KiB.
 */
export function padLength(n: number): number {
  if (n <= MIN_PADDED) return MIN_PADDED
  const e = Math.floor(Math.log2(n))
  const step = 2 ** (e - Math.floor(Math.log2(e)) - 1)
  return Math.ceil(n / step) * step
}

let utf8: TextEncoder | undefined
let utf8Strict: TextDecoder | undefined

/**
 * Serialises entries into one padded buffer:
 * `count:u32, then per entry kind:u8 expiresAt:f64 nameLength:u32 name valueLength:u32 value`,
 * zeros up to the padded length. The caller must wipe the buffer once sealed.
 */
export function encodeEntries(entries: Iterable<readonly [string, Entry]>): {
  bytes: Uint8Array
  count: number
} {
  const list = [...entries]
  // UTF-8 needs at most 3 bytes per UTF-16 code unit: size for the worst case once,
  // rather than measuring every string first.
  let bound = 4
  for (const [name, { value }] of list) {
    bound += ENTRY_HEADER + name.length * 3 + (typeof value === 'string' ? value.length * 3 : value.length)
  }
  const buffer = new Uint8Array(padLength(bound))
  const view = new DataView(buffer.buffer)
  const encoder = (utf8 ??= new TextEncoder())
  view.setUint32(0, list.length)
  let at = 4
  const putText = (text: string): void => {
    const { written } = encoder.encodeInto(text, buffer.subarray(at + 4))
    view.setUint32(at, written)
    at += 4 + written
  }
  for (const [name, { value, expiresAt }] of list) {
    view.setUint8(at, typeof value === 'string' ? STRING : BYTES)
    view.setFloat64(at + 1, expiresAt)
    at += 9
    putText(name)
    if (typeof value === 'string') putText(value)
    else {
      view.setUint32(at, value.length)
      buffer.set(value, at + 4)
      at += 4 + value.length
    }
  }
  return { bytes: buffer.subarray(0, padLength(at)), count: list.length }
}

/** Reverses `encodeEntries`. Throws a RangeError or TypeError on anything malformed. */
export function decodeEntries(bytes: Uint8Array): [string, Entry][] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const decoder = (utf8Strict ??= new TextDecoder('utf-8', { fatal: true }))
  let at = 4
  const take = (): Uint8Array => {
    const length = view.getUint32(at)
    const start = at + 4
    at = start + length
    if (at > bytes.length) throw new RangeError('entry runs past the end')
    return bytes.subarray(start, at)
  }
  const count = view.getUint32(0)
  const out: [string, Entry][] = []
  for (let i = 0; i < count; i++) {
    const kind = view.getUint8(at)
    const expiresAt = view.getFloat64(at + 1)
    at += 9
    const name = decoder.decode(take())
    const raw = take()
    if ((kind !== STRING && kind !== BYTES) || Number.isNaN(expiresAt)) {
      throw new TypeError('unknown entry kind or expiry')
    }
    out.push([name, { value: kind === STRING ? decoder.decode(raw) : raw.slice(), expiresAt }])
  }
  return out
}
