import { chacha20poly1305 } from '@noble/ciphers/chacha.js'

/**
 * Sealing and shares. The state is sealed under K = S1 xor S2, two random 32-byte shares:
 * S1 lives in `window.name` (kept by the tab across reloads, never written to disk, but
 * readable and writable by any site the tab visits), S2 sits beside the ciphertext in
 * `sessionStorage` (private to the origin, but written to disk by Chromium). Each share
 * alone is uniformly random and says nothing about K, so neither place alone opens the seal.
 *
 * The AEAD is ChaCha20-Poly1305 from `@noble/ciphers`: synchronous, because a `pagehide`
 * handler cannot await WebCrypto. Every seal draws a fresh S2 and hence a fresh K, so a
 * key is never used twice and a random 96-bit nonce is more than enough.
 */

export const FORMAT_VERSION: number = 1
export const SHARE_LENGTH: number = 32
const NONCE_LENGTH = 12
const HEADER = 1 + SHARE_LENGTH + NONCE_LENGTH
const SHARE_PREFIX = 'tab-keystore:'

export type OpenFailure = 'tampered' | 'corrupt' | 'unsupported-version'

export function randomBytes(length: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(length))
}

/** Binds the format version and the store's name: a seal cannot be opened as another store. */
function associatedData(storeName: string): Uint8Array {
  return new TextEncoder().encode(`tab-keystore/${FORMAT_VERSION}/${storeName}`)
}

function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length)
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!
  return out
}

/** Seals `plain` for the store named `storeName` under S1 and a fresh S2; returns the text for `sessionStorage`. */
export function seal(plain: Uint8Array, s1: Uint8Array, storeName: string): string {
  const envelope = new Uint8Array(HEADER + plain.length + 16)
  const s2 = randomBytes(SHARE_LENGTH)
  const nonce = randomBytes(NONCE_LENGTH)
  const key = xor(s1, s2)
  envelope[0] = FORMAT_VERSION
  envelope.set(s2, 1)
  envelope.set(nonce, 1 + SHARE_LENGTH)
  chacha20poly1305(key, nonce, associatedData(storeName)).encrypt(plain, envelope.subarray(HEADER))
  key.fill(0)
  return pack(envelope)
}

/** Opens what `seal` wrote. Never returns an altered plaintext: any change is a failure. */
export function open(text: string, s1: Uint8Array, storeName: string): Uint8Array | OpenFailure {
  const envelope = unpack(text)
  if (!envelope || envelope.length < HEADER + 16) return 'corrupt'
  if (envelope[0] !== FORMAT_VERSION) return 'unsupported-version'
  const key = xor(s1, envelope.subarray(1, 1 + SHARE_LENGTH))
  try {
    return chacha20poly1305(key, envelope.subarray(1 + SHARE_LENGTH, HEADER), associatedData(storeName))
      .decrypt(envelope.subarray(HEADER))
  } catch {
    return 'tampered'
  } finally {
    key.fill(0)
  }
}

/*
 * Bytes to text, 15 bits per UTF-16 code unit, every unit in U+0800..U+87FF: no
 * surrogates and no control characters, so any storage that keeps Unicode text keeps
 * it exactly. It is 16/15 the size of the bytes where base64 is 4/3, which matters:
 * Chromium counts `sessionStorage` in UTF-16 against a 10 MiB quota, so a 5 MB store
 * fits where its base64 would not. The first unit says whether the last one carries a
 * spare byte; decoding is strict, so every change to the text changes the bytes or fails.
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
  if (units < 0 || spare >>> 1 || decoded < spare) return undefined
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
  return out.subarray(0, decoded - spare)
}


/*
 * `window.name` holds a JSON object with one entry per store (`tab-keystore:<name>`, S1 in
 * hex); entries of other stores and other libraries are kept. A `window.name` that is not
 * a JSON object (a plain window name, or junk a foreign site left) is replaced: there is
 * no way to add an entry to it.
 */
function readWindowName(): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(window.name)
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>
  } catch {
    // not JSON: ours to replace
  }
  return {}
}

/** S1 of a store: the bytes, `undefined` when there is none, `null` when something else sits in its place. */
export function readShare(storeName: string): Uint8Array | undefined | null {
  const hex = readWindowName()[SHARE_PREFIX + storeName]
  if (hex === undefined) return undefined
  if (typeof hex !== 'string' || !/^[0-9a-f]{64}$/.test(hex)) return null
  return Uint8Array.from({ length: SHARE_LENGTH }, (_, i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16))
}

/** Writes (or with `undefined`, removes) S1 of a store, keeping every other entry. */
export function writeShare(storeName: string, share: Uint8Array | undefined): void {
  const shares = readWindowName()
  const key = SHARE_PREFIX + storeName
  if (share) shares[key] = Array.from(share, (b) => b.toString(16).padStart(2, '0')).join('')
  // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- a plain JSON object of our own parsing
  else delete shares[key]
  window.name = Object.keys(shares).length ? JSON.stringify(shares) : ''
}
