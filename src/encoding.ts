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
  return value instanceof Uint8Array || (ArrayBuffer.isView(value) && value.constructor.name === 'Uint8Array')
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
  // A string, but not one that survives encoding: a wrong value (RangeError).
  if (!text.isWellFormed()) invalid(argument, 'a well-formed string (this one holds a lone surrogate)', text, true)
}

export function sameValue(a: Value, b: Value): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!
  return diff === 0
}

/** Every sealed store is at least this long, so small stores all look alike. */
export const MIN_PADDED: number = 1024

/**
 * What travels with the keys: `epoch` is the logout-everywhere marker the keys belong to
 * (a load that sees another one drops them), `lastActive` the time of the last `get` or
 * `set`, so that time spent away counts towards `idleTimeout`, and `deleted` the keys
 * deleted everywhere as the page knew them (`Deleted` in lifecycle/tab.ts: a key deleted
 * everywhere since is dropped); absent in states sealed before it existed.
 */
export interface StateMeta {
  epoch: string
  lastActive: number
  deleted?: Record<string, string> | undefined
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

/**
 * Serialises the entries still live at `now`, and `meta`, into one padded buffer:
 * `headerLength:u32`, the header as UTF-8 JSON `[epoch, lastActive, name, value, expiresAt,
 * ...]` (a byte value stands there as its length, `null` for a never-expiring key), every
 * byte value in order, then zeros up to the padded length. Strings are well-formed (the
 * store refuses lone surrogates), so JSON and UTF-8 give them back exactly.
 *
 * With keys deleted everywhere, `[epoch, deleted]` stands in the place of `epoch`: states
 * sealed before (a plain epoch) still open with the same format version, so an upgrade
 * loses no keys, and an older version that reads the new form sees an epoch that is not
 * its own and drops the keys (a logout) rather than misreading the entries.
 *
 * All text goes through one `encodeInto` call: in Chromium each call into TextEncoder or
 * TextDecoder costs about a microsecond, which per key made a 10,000-key flush 18 ms
 * slower (measured). The caller must wipe the buffer once sealed.
 */
export function encodeEntries(
  entries: ReadonlyMap<string, Entry>,
  now: number,
  meta: StateMeta,
): {
  bytes: Uint8Array
  count: number
} {
  const { epoch, deleted } = meta
  const header: unknown[] = [deleted && Object.keys(deleted).length ? [epoch, deleted] : epoch, meta.lastActive]
  const blobs: Uint8Array[] = []
  let blobLength = 0
  for (const [name, { value, expiresAt }] of entries) {
    if (expiresAt <= now) continue
    if (typeof value === 'string') header.push(name, value, expiresAt)
    else {
      header.push(name, value.length, expiresAt)
      blobs.push(value)
      blobLength += value.length
    }
  }
  const text = JSON.stringify(header)
  // Secrets are mostly ASCII (base64, hex, JWTs): try one byte per UTF-16 unit first,
  // and only when that does not fit, the worst case of three: less to allocate and to
  // collect in a page-leaving handler.
  let buffer: Uint8Array
  let written: number
  for (let perUnit = 1; ; perUnit = 3) {
    buffer = new Uint8Array(padLength(4 + text.length * perUnit + blobLength))
    const result = (utf8 ??= new TextEncoder()).encodeInto(text, buffer.subarray(4, 4 + text.length * perUnit))
    written = result.written
    if (result.read === text.length) break
    buffer.fill(0) // the part of the text that fitted is secret too
  }
  new DataView(buffer.buffer).setUint32(0, written)
  let at = 4 + written
  for (const blob of blobs) {
    buffer.set(blob, at)
    at += blob.length
  }
  return { bytes: buffer.subarray(0, padLength(at)), count: (header.length - 2) / 3 }
}

/** Reverses `encodeEntries` (on authenticated input only). Throws on anything malformed. */
export function decodeEntries(bytes: Uint8Array): { entries: [string, Entry][] } & StateMeta {
  const end = 4 + new DataView(bytes.buffer, bytes.byteOffset).getUint32(0)
  // The entries are read in place, from index 2: no copy of the header without its first two.
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, end))) as unknown[]
  const head = header[0] as string | [string, Record<string, string>]
  const [epoch, deleted] = typeof head === 'string' ? [head] : head
  const entries: [string, Entry][] = []
  let at = end
  for (let i = 2; i < header.length; i += 3) {
    const value = header[i + 1] as string | number
    entries.push([
      header[i] as string,
      {
        value: typeof value === 'string' ? value : bytes.slice(at, (at += value)),
        expiresAt: (header[i + 2] as number | null) ?? Infinity,
      },
    ])
  }
  if (at > bytes.length) throw new RangeError('byte values run past the end')
  return { entries, epoch, lastActive: header[1] as number, deleted }
}
