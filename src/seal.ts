import { chacha20poly1305 } from '@noble/ciphers/chacha.js'

/**
 * Sealing. The state is sealed under K = S1 xor S2, two random 32-byte shares: S1 lives
 * in `window.name` (share.ts), S2 sits beside the ciphertext in web storage (private to
 * the origin, but written to disk by Chromium and Firefox). Each share alone is uniformly
 * random and says nothing about K.
 *
 * The AEAD is ChaCha20-Poly1305 from `@noble/ciphers`: synchronous, because a `pagehide`
 * handler cannot await WebCrypto. Every seal draws a fresh S2 and hence a fresh K, so a
 * key is never used twice and a random 96-bit nonce is more than enough.
 *
 * A seal says in clear which state it holds and who sealed it (its context: the state's
 * generation and the sealing page's history entry, see lifecycle/placement.ts), and the
 * associated data binds that context, the format version and the store's name: the
 * loader reads the context before it decrypts, to tell an outdated or foreign seal from
 * a tampered one, and any change to it fails the AEAD.
 */

export const FORMAT_VERSION: number = 3
export const SHARE_LENGTH: number = 32
const NONCE_LENGTH = 12
const HEADER = 1 + SHARE_LENGTH + NONCE_LENGTH
/** The longest context kept: a generation and a history entry key (a UUID) fit. */
const MAX_CONTEXT = 200

/**
 * Why a seal did not open. `left-origin` and `outdated` come from the caller's look at
 * the context: sealed by a page this one does not descend from, or a state that is not
 * the tab's latest.
 */
export type OpenFailure = 'tampered' | 'corrupt' | 'unsupported-version' | 'left-origin' | 'outdated'

export function randomBytes(length: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(length))
}

export const toHex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')

/** Hex (checked by the caller) to bytes. `map` of a typed array, not `Uint8Array.from` of an array-like: half the time in V8. */
export const fromHex = (hex: string): Uint8Array<ArrayBuffer> =>
  new Uint8Array(hex.length >> 1).map((_, i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16))

const associatedData = (storeName: string, context: string): Uint8Array =>
  new TextEncoder().encode(JSON.stringify(['tab-keystore', FORMAT_VERSION, storeName, context]))

function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length)
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!
  return out
}

/**
 * Seals `plain` for store `storeName` under S1 and a fresh S2, with `context` (ASCII, at
 * most 200 characters) in clear. Envelope: version, S2, nonce, context length and
 * context, ciphertext.
 */
export function seal(plain: Uint8Array, s1: Uint8Array, storeName: string, context: string): string {
  const clear = new TextEncoder().encode(context.slice(0, MAX_CONTEXT))
  const body = HEADER + 1 + clear.length
  const envelope = new Uint8Array(body + plain.length + 16)
  const s2 = randomBytes(SHARE_LENGTH)
  const nonce = randomBytes(NONCE_LENGTH)
  const key = xor(s1, s2)
  envelope[0] = FORMAT_VERSION
  envelope.set(s2, 1)
  envelope.set(nonce, 1 + SHARE_LENGTH)
  envelope[HEADER] = clear.length
  envelope.set(clear, HEADER + 1)
  chacha20poly1305(key, nonce, associatedData(storeName, context.slice(0, MAX_CONTEXT))).encrypt(
    plain,
    envelope.subarray(body),
  )
  key.fill(0)
  return pack(envelope)
}

/**
 * Opens what `seal` wrote, unless `check` refuses its context first. Never returns an
 * altered plaintext: any change is a failure.
 */
export function open(
  text: string,
  s1: Uint8Array,
  storeName: string,
  check: (context: string) => OpenFailure | undefined,
): Uint8Array | OpenFailure {
  const envelope = unpack(text)
  if (!envelope || envelope.length < HEADER + 17) return 'corrupt'
  if (envelope[0] !== FORMAT_VERSION) return 'unsupported-version'
  const body = HEADER + 1 + envelope[HEADER]!
  if (envelope.length < body + 16) return 'corrupt'
  let context: string
  try {
    context = new TextDecoder('utf-8', { fatal: true }).decode(envelope.subarray(HEADER + 1, body))
  } catch {
    return 'tampered'
  }
  const refused = check(context)
  if (refused) return refused
  const key = xor(s1, envelope.subarray(1, 1 + SHARE_LENGTH))
  try {
    return chacha20poly1305(
      key,
      envelope.subarray(1 + SHARE_LENGTH, HEADER),
      associatedData(storeName, context),
    ).decrypt(envelope.subarray(body))
  } catch {
    return 'tampered'
  } finally {
    key.fill(0)
  }
}

/**
 * A one-way name for a share (the AEAD's tag over nothing, under it): the tab's record
 * lists shares another origin may have seen by these, and they tell nothing about them.
 */
export function tag(share: Uint8Array): string {
  return toHex(chacha20poly1305(share, new Uint8Array(NONCE_LENGTH)).encrypt(new Uint8Array(0)).subarray(0, 8))
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
