import { invalid } from './errors'

/** What a store holds under one name: a string, or bytes (copied in). */
export type Value = string | Uint8Array

/**
 * Bytes as the store hands them out: a fresh `Uint8Array` on a plain `ArrayBuffer`, which
 * WebCrypto accepts as a `BufferSource` (TypeScript 5.7 and later type it
 * `Uint8Array<ArrayBuffer>`; written this way it also compiles with older versions).
 */
export type Bytes = ReturnType<Uint8Array['slice']>

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

/**
 * Lone surrogates (half of a UTF-16 pair, e.g. from slicing a string mid-emoji) have no
 * UTF-8 form: sealing would turn them into U+FFFD, and the next page would get an
 * altered value. Refused up front instead.
 */
export function assertWellFormed(text: string, argument: string): void {
  if (!text.isWellFormed()) invalid(argument, 'a well-formed string (this one holds a lone surrogate)', text)
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
/** count (4) + text length (4) + last activity (8) + epoch length (4) */
const HEADER = 20
/** kind (1) + expiresAt (8) + name length (4) + value length (4) */
const ENTRY_HEADER = 17
/** Every sealed store is at least this long, so small stores all look alike. */
export const MIN_PADDED: number = 1024

/**
 * What travels with the keys: `epoch` is the logout-everywhere marker the keys belong to
 * (a load that sees another one drops them), `lastActive` the time of the last `get` or
 * `set`, so that time spent away counts towards `idleTimeout`.
 */
export interface StateMeta {
  epoch: string
  lastActive: number
}

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
 * Serialises the entries that are still live at `now`, and `meta`, into one padded buffer:
 * `count:u32 textLength:u32 lastActive:f64 epochLength:u32`, a table of
 * `kind:u8 expiresAt:f64 nameLength:u32 valueLength:u32` per entry, then the epoch, every
 * name and every string value as one UTF-8 text, then every byte value, then zeros up to
 * the padded length. Lengths of names and strings count UTF-16 units.
 *
 * All text goes through one `encodeInto` call: in Chromium each call into TextEncoder or
 * TextDecoder costs about a microsecond, which per key made a 10,000-key flush 18 ms
 * slower (measured). Strings must be well-formed (no lone surrogates: the store refuses
 * them), or UTF-8 would not give them back unchanged.
 * The caller must wipe the buffer once sealed.
 */
export function encodeEntries(entries: ReadonlyMap<string, Entry>, now: number, meta: StateMeta): {
  bytes: Uint8Array
  count: number
} {
  const live: [string, Entry][] = []
  const texts: string[] = [meta.epoch]
  let binaryLength = 0
  for (const item of entries) {
    const { value, expiresAt } = item[1]
    if (expiresAt <= now) continue
    live.push(item)
    texts.push(item[0])
    if (typeof value === 'string') texts.push(value)
    else binaryLength += value.length
  }
  const text = texts.join('')
  const tableEnd = HEADER + live.length * ENTRY_HEADER
  const encoder = (utf8 ??= new TextEncoder())
  // Secrets are mostly ASCII (base64, hex, JWTs): try one byte per UTF-16 unit first,
  // and only when that does not fit, the worst case of three. A flush allocates less,
  // which in a page-leaving handler also means less garbage collection.
  let buffer: Uint8Array
  let written: number
  for (let perUnit = 1; ; perUnit = 3) {
    buffer = new Uint8Array(padLength(tableEnd + text.length * perUnit + binaryLength))
    const result = encoder.encodeInto(text, buffer.subarray(tableEnd, tableEnd + text.length * perUnit))
    written = result.written
    if (result.read === text.length) break
  }
  const view = new DataView(buffer.buffer)
  view.setUint32(0, live.length)
  view.setUint32(4, written)
  view.setFloat64(8, meta.lastActive)
  view.setUint32(16, meta.epoch.length)
  let blob = tableEnd + written
  let at = HEADER
  for (const [name, { value, expiresAt }] of live) {
    view.setUint8(at, typeof value === 'string' ? STRING : BYTES)
    view.setFloat64(at + 1, expiresAt)
    view.setUint32(at + 9, name.length)
    view.setUint32(at + 13, value.length)
    if (typeof value !== 'string') {
      buffer.set(value, blob)
      blob += value.length
    }
    at += ENTRY_HEADER
  }
  return { bytes: buffer.subarray(0, padLength(blob)), count: live.length }
}

/** Reverses `encodeEntries`. Throws a RangeError or TypeError on anything malformed. */
export function decodeEntries(bytes: Uint8Array): { entries: [string, Entry][] } & StateMeta {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const tableEnd = HEADER + view.getUint32(0) * ENTRY_HEADER
  const textEnd = tableEnd + view.getUint32(4)
  if (textEnd > bytes.length) throw new RangeError('entries run past the end')
  const text = (utf8Strict ??= new TextDecoder('utf-8', { fatal: true })).decode(bytes.subarray(tableEnd, textEnd))
  let inText = view.getUint32(16)
  const epoch = text.slice(0, inText)
  const entries: [string, Entry][] = []
  let blob = textEnd
  for (let at = HEADER; at < tableEnd; at += ENTRY_HEADER) {
    const kind = view.getUint8(at)
    const expiresAt = view.getFloat64(at + 1)
    const name = text.slice(inText, (inText += view.getUint32(at + 9)))
    const length = view.getUint32(at + 13)
    const value = kind === STRING ? text.slice(inText, (inText += length)) : bytes.slice(blob, (blob += length))
    if ((kind !== STRING && kind !== BYTES) || Number.isNaN(expiresAt) || inText > text.length || blob > bytes.length) {
      throw new TypeError('malformed entry')
    }
    entries.push([name, { value, expiresAt }])
  }
  if (inText !== text.length) throw new TypeError('text left over')
  return { entries, epoch, lastActive: view.getFloat64(8) }
}
