import { chacha20poly1305 } from '@noble/ciphers/chacha.js'

/**
 * Sealing and shares. The state is sealed under K = S1 xor S2, two random 32-byte shares:
 * S1 lives in `window.name` (kept by the tab across reloads and never written to disk by
 * any engine we test, but readable by some sites the tab visits), S2 sits beside the
 * ciphertext in web storage (private to the origin, but written to disk by Chromium and
 * Firefox). Each share alone is uniformly random and says nothing about K.
 *
 * The AEAD is ChaCha20-Poly1305 from `@noble/ciphers`: synchronous, because a `pagehide`
 * handler cannot await WebCrypto. Every seal draws a fresh S2 and hence a fresh K, so a
 * key is never used twice and a random 96-bit nonce is more than enough.
 *
 * The associated data binds the format version, the store's name and the sealing page's
 * history entry (`navigation.currentEntry.key`, carried in the envelope): the loader opens
 * it only when that entry is in its own same-origin history (`navigation.entries()`, or
 * `navigation.activation.from` after a renderer crash). A window that another site opened
 * with a copy of this tab's sessionStorage (Chromium copies it) and S1 in its name has
 * history entries of its own, so it opens nothing; neither does a page reached through
 * another origin, where the same-origin history starts again. Engines without the
 * Navigation API (WebKitGTK 2.50) seal with `''` and have only S1 to rely on.
 */

export const FORMAT_VERSION: number = 2
export const SHARE_LENGTH: number = 32
const NONCE_LENGTH = 12
const HEADER = 1 + SHARE_LENGTH + NONCE_LENGTH
const SHARE_PREFIX = 'tab-keystore:'

/** `left-origin`: sealed by a history entry the loader does not have (see above). */
export type OpenFailure = 'tampered' | 'corrupt' | 'unsupported-version' | 'left-origin'

export function randomBytes(length: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(length))
}

const toHex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')

const associatedData = (storeName: string, entry: string): Uint8Array =>
  new TextEncoder().encode(JSON.stringify(['tab-keystore', FORMAT_VERSION, storeName, entry]))

function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length)
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!
  return out
}

/**
 * Seals `plain` for store `storeName` under S1 and a fresh S2, bound to history entry
 * `entry` (a UUID, or `''`). Envelope: version, S2, nonce, entry length and entry, ciphertext.
 */
export function seal(plain: Uint8Array, s1: Uint8Array, storeName: string, entry: string): string {
  const entryBytes = new TextEncoder().encode(entry.slice(0, 100))
  const body = HEADER + 1 + entryBytes.length
  const envelope = new Uint8Array(body + plain.length + 16)
  const s2 = randomBytes(SHARE_LENGTH)
  const nonce = randomBytes(NONCE_LENGTH)
  const key = xor(s1, s2)
  envelope[0] = FORMAT_VERSION
  envelope.set(s2, 1)
  envelope.set(nonce, 1 + SHARE_LENGTH)
  envelope[HEADER] = entryBytes.length
  envelope.set(entryBytes, HEADER + 1)
  chacha20poly1305(key, nonce, associatedData(storeName, entry.slice(0, 100))).encrypt(plain, envelope.subarray(body))
  key.fill(0)
  return pack(envelope)
}

/**
 * Opens what `seal` wrote, if `allowed` accepts the history entry that sealed it. Never
 * returns an altered plaintext: any change is a failure.
 */
export function open(text: string, s1: Uint8Array, storeName: string, allowed: (entry: string) => boolean): Uint8Array | OpenFailure {
  const envelope = unpack(text)
  if (!envelope || envelope.length < HEADER + 17) return 'corrupt'
  if (envelope[0] !== FORMAT_VERSION) return 'unsupported-version'
  const body = HEADER + 1 + envelope[HEADER]!
  if (envelope.length < body + 16) return 'corrupt'
  let entry: string
  try {
    entry = new TextDecoder('utf-8', { fatal: true }).decode(envelope.subarray(HEADER + 1, body))
  } catch {
    return 'tampered'
  }
  if (!allowed(entry)) return 'left-origin'
  const key = xor(s1, envelope.subarray(1, 1 + SHARE_LENGTH))
  try {
    return chacha20poly1305(key, envelope.subarray(1 + SHARE_LENGTH, HEADER), associatedData(storeName, entry)).decrypt(envelope.subarray(body))
  } catch {
    return 'tampered'
  } finally {
    key.fill(0)
  }
}

/**
 * A name for this tab, derived from S1 by a one-way function (the AEAD's tag over nothing,
 * under S1): it keys the tab's slot in `localStorage` and tells nothing about S1.
 */
export function tabId(s1: Uint8Array): string {
  return toHex(chacha20poly1305(s1, new Uint8Array(NONCE_LENGTH)).encrypt(new Uint8Array(0)).subarray(0, 8))
}

/*
 * Bytes to text, 15 bits per UTF-16 code unit, every unit in U+0800..U+87FF: no
 * surrogates and no control characters, so any storage that keeps Unicode text keeps
 * it exactly. It is 16/15 the size of the bytes where base64 is 4/3, which matters:
 * Chromium counts `sessionStorage` in UTF-16 against a 10 MiB quota, so a 5 MB store
 * fits where its base64 would not. The first unit says whether the last one carries a
 * spare byte. Decoding is canonical: each byte string has exactly one text, and any
 * other text fails (the AEAD would catch a change anyway; this keeps the format exact).
 */
const BASE = 0x800

export function pack(bytes: Uint8Array): string {
  const units = Math.ceil((bytes.length * 8) / 15)
  // Little-endian UTF-16 written byte by byte: right on any platform, and one native
  // decode of the whole text (a per-unit closure here cost twice the time in Chromium).
  const out = new Uint8Array((units + 1) * 2)
  const first = BASE + Math.floor((units * 15) / 8) - bytes.length
  out[0] = first & 0xff
  out[1] = first >>> 8
  let acc = 0
  let bits = 0
  let at = 2
  for (let i = 0; i < bytes.length; i++) {
    acc = (acc << 8) | bytes[i]!
    bits += 8
    if (bits >= 15) {
      bits -= 15
      const unit = BASE + (acc >>> bits)
      out[at++] = unit & 0xff
      out[at++] = unit >>> 8
      acc &= (1 << bits) - 1
    }
  }
  if (bits) {
    const unit = BASE + (acc << (15 - bits))
    out[at++] = unit & 0xff
    out[at] = unit >>> 8
  }
  return new TextDecoder('utf-16le').decode(out)
}

export function unpack(text: string): Uint8Array | undefined {
  const units = text.length - 1
  const spare = text.charCodeAt(0) - BASE
  const decoded = Math.floor((units * 15) / 8)
  const length = decoded - spare
  // The only text of `length` bytes has exactly ceil(length * 8 / 15) units after the first.
  if (units < 0 || spare >>> 1 || length < 0 || units !== Math.ceil((length * 8) / 15)) return undefined
  const out = new Uint8Array(decoded)
  let acc = 0
  let bits = 0
  let at = 0
  let seen = 0
  for (let i = 1; i <= units; i++) {
    const unit = text.charCodeAt(i) - BASE
    seen |= unit
    // Fewer than 8 bits are left over from the last unit, so one byte always comes out.
    acc = (acc << 15) | unit
    bits += 7
    out[at++] = acc >>> bits
    if (bits >= 8) {
      bits -= 8
      out[at++] = acc >>> bits
    }
    acc &= (1 << bits) - 1
  }
  // Out-of-range units, or padding that is not zero: two texts would decode to the same bytes.
  if (seen >>> 15 || acc !== 0 || (spare && out[decoded - 1] !== 0)) return undefined
  return out.subarray(0, length)
}

/*
 * `window.name` holds a JSON object with one entry per store (`tab-keystore:<name>`, S1 in
 * hex). Any site the tab visits may have left anything there, so reading it is capped: a
 * value over 8 KiB is not parsed at all, and of a JSON object only small flat entries of
 * other libraries are kept (strings up to 1 KiB, numbers, booleans, null; 32 at most).
 * Re-serialising a deeply nested value could overflow the stack, and a huge one would be
 * carried (and parsed) on every load. Anything else is replaced: a plain window name
 * (or junk) cannot hold an entry.
 */
const MAX_WINDOW_NAME = 8192
const MAX_FOREIGN_VALUE = 1024
const MAX_FOREIGN_ENTRIES = 32

function readWindowName(): Record<string, string | number | boolean | null> {
  const kept: Record<string, string | number | boolean | null> = {}
  try {
    const text = window.name
    if (text.length > MAX_WINDOW_NAME || text[0] !== '{') return kept
    const parsed: unknown = JSON.parse(text)
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return kept
    let count = 0
    for (const [key, value] of Object.entries(parsed)) {
      const flat = value === null || ['number', 'boolean'].includes(typeof value) || (typeof value === 'string' && value.length <= MAX_FOREIGN_VALUE)
      // A deep value under a store's key stays as `null`: something else sits in its place.
      if (key.startsWith(SHARE_PREFIX) && key.length <= MAX_FOREIGN_VALUE) kept[key] = flat ? (value as string) : null
      else if (flat && key.length <= MAX_FOREIGN_VALUE && count++ < MAX_FOREIGN_ENTRIES) kept[key] = value as string | number | boolean | null
    }
  } catch {
    // junk: ours to replace
  }
  return kept
}

/** S1 of a store: the bytes, `undefined` when there is none, `null` when something else sits in its place. */
export function readShare(storeName: string): Uint8Array | undefined | null {
  const hex = readWindowName()[SHARE_PREFIX + storeName]
  if (hex === undefined) return undefined
  if (typeof hex !== 'string' || !/^[0-9a-f]{64}$/.test(hex)) return null
  return Uint8Array.from({ length: SHARE_LENGTH }, (_, i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16))
}

/** Writes (or with `undefined`, removes) S1 of a store, keeping small flat entries of others. */
export function writeShare(storeName: string, share: Uint8Array | undefined): void {
  const shares = readWindowName()
  const key = SHARE_PREFIX + storeName
  if (share) shares[key] = toHex(share)
  // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- a plain JSON object of our own parsing
  else delete shares[key]
  window.name = Object.keys(shares).length ? JSON.stringify(shares) : ''
}
