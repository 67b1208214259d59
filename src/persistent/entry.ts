import { chacha20poly1305, xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import { type Value, copy, padLength } from '../encoding'

/**
 * The persistent tier's entries as they sit on disk (the storage key each takes, the
 * record stored there, how its value is sealed), apart from the keystore (index.ts) so
 * that the format, which vaults already on disk depend on, reads on one page.
 */

/**
 * Why format 3 (XChaCha20-Poly1305): every write draws a random nonce under the
 * namespace's one key, and with 96 bits (format 2, ChaCha20-Poly1305) the odds of a
 * repeat, which leaks the XOR of two values and lets tags be forged, grow with every
 * write; with 192 bits they stay negligible. Format 2 is still read so that vaults
 * already on disk stay open.
 */
const FORMAT = 3
const LEGACY = 2
const PREFIX = 'tab-keystore:p:'
/** The name the check entry is sealed under, which no entry may take. */
export const CHECK = '\0check'

export const utf8 = (text: string): Uint8Array<ArrayBuffer> => new TextEncoder().encode(text)
export const prefixOf = (namespace: string): string => `${PREFIX}${encodeURIComponent(namespace)}:`
/** Entries sit under `<prefix>.<name>`; the namespace's check entry under `<prefix>` itself, which no name can reach. */
const ENTRY = '.'

export const entryKey = (prefix: string, name: string): string => prefix + ENTRY + encodeURIComponent(name)

/** The name of the entry stored under `key` in the namespace of `prefix`; `undefined` for any other key. */
export function nameOf(prefix: string, key: unknown): string | undefined {
  const entries = prefix + ENTRY
  if (typeof key !== 'string' || !key.startsWith(entries)) return undefined
  try {
    return decodeURIComponent(key.slice(entries.length))
  } catch {
    return undefined
  }
}

/** The namespace that a storage key belongs to; `undefined` for a key that is not ours. */
export function namespaceOf(key: string): string | undefined {
  const end = key.startsWith(PREFIX) ? key.indexOf(':', PREFIX.length) : -1
  if (end < 0) return undefined
  try {
    return decodeURIComponent(key.slice(PREFIX.length, end))
  } catch {
    return undefined
  }
}

function toBase64(bytes: Uint8Array): string {
  let binary = ''
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(binary)
}

/** Base64 or base64url (what servers' JWT-style libraries emit), padded or not. */
export function fromBase64(text: unknown): Uint8Array | undefined {
  if (typeof text !== 'string' || !/^[\w+/-]*={0,2}$/.test(text) || text.length % 4 === 1) return undefined
  try {
    return Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '')), (c) => c.charCodeAt(0))
  } catch {
    return undefined
  }
}

export interface SealedRecord {
  v: typeof FORMAT | typeof LEGACY
  expiresAt: number
  nonce: Uint8Array
  sealed: Uint8Array
}

/** Parses a stored record; `undefined` for anything this library did not write. */
export function parseRecord(text: unknown): SealedRecord | undefined {
  if (typeof text !== 'string' || text.length > 64 * 1024 * 1024) return undefined
  try {
    const record: unknown = JSON.parse(text)
    if (!record || typeof record !== 'object') return undefined
    const { v, e, n, c } = record as Record<string, unknown>
    const nonce = fromBase64(n)
    const sealed = fromBase64(c)
    if (
      (v !== FORMAT && v !== LEGACY) ||
      !(e === null || (typeof e === 'number' && Number.isFinite(e))) ||
      nonce?.length !== (v === FORMAT ? 24 : 12) ||
      !sealed ||
      sealed.length < 17
    ) {
      return undefined
    }
    return { v, expiresAt: e === null ? Infinity : e, nonce, sealed }
  } catch {
    return undefined
  }
}

const associatedData = (version: number, namespace: string, name: string, expiresAt: number): Uint8Array =>
  utf8(
    JSON.stringify([`tab-keystore/persistent/${version}`, namespace, name, expiresAt === Infinity ? null : expiresAt]),
  )

/**
 * The namespace's key: HKDF-SHA-256(server key, namespace) through WebCrypto (opening
 * is async anyway). Its salt stays that of format 2: another would orphan every vault
 * already on disk. `raw` must be the caller's own copy of the server key: it is wiped.
 */
export async function deriveKey(raw: Uint8Array<ArrayBuffer>, namespace: string): Promise<Uint8Array> {
  let material: CryptoKey
  try {
    material = await crypto.subtle.importKey('raw', raw, 'HKDF', false, ['deriveBits'])
  } finally {
    raw.fill(0)
  }
  return new Uint8Array(
    await crypto.subtle.deriveBits(
      { name: 'HKDF', hash: 'SHA-256', salt: utf8(`tab-keystore/persistent/${LEGACY}`), info: utf8(namespace) },
      material,
      256,
    ),
  )
}

/** Seals `kind:u8 length:u32 value` (kind 0 for text, 1 for bytes), zero-padded like the session seal. */
export function sealEntry(key: Uint8Array, namespace: string, name: string, value: Value, expiresAt: number): string {
  const isText = typeof value === 'string'
  const bytes = isText ? utf8(value) : value
  const plain = new Uint8Array(padLength(5 + bytes.length))
  plain[0] = isText ? 0 : 1
  new DataView(plain.buffer).setUint32(1, bytes.length)
  plain.set(bytes, 5)
  if (isText) bytes.fill(0)
  const nonce = crypto.getRandomValues(new Uint8Array(24))
  const sealed = xchacha20poly1305(key, nonce, associatedData(FORMAT, namespace, name, expiresAt)).encrypt(plain)
  plain.fill(0)
  return JSON.stringify({
    v: FORMAT,
    e: expiresAt === Infinity ? null : expiresAt,
    n: toBase64(nonce),
    c: toBase64(sealed),
  })
}

/** The plaintext of a record, or `undefined` when it does not authenticate. */
function openEntry(key: Uint8Array, namespace: string, name: string, record: SealedRecord): Uint8Array | undefined {
  try {
    const aead = record.v === FORMAT ? xchacha20poly1305 : chacha20poly1305
    return aead(key, record.nonce, associatedData(record.v, namespace, name, record.expiresAt)).decrypt(record.sealed)
  } catch {
    return undefined
  }
}

/** Whether a record authenticates under `key` (the plaintext is wiped at once). */
export function authenticates(key: Uint8Array, namespace: string, name: string, record: SealedRecord): boolean {
  const plain = openEntry(key, namespace, name, record)
  plain?.fill(0)
  return plain !== undefined
}

/**
 * The value a record holds: `tampered` when it does not open to `kind:u8 length:u32
 * value`, `expired` past its expiry (authenticated first). Text is decoded only for a
 * live entry: a string cannot be wiped.
 */
export function unseal(
  key: Uint8Array,
  namespace: string,
  name: string,
  record: SealedRecord,
): { value: Value } | 'tampered' | 'expired' {
  const plain = openEntry(key, namespace, name, record)
  const length = plain && plain.length >= 5 ? new DataView(plain.buffer, plain.byteOffset).getUint32(1) : -1
  if (!plain || (plain[0] !== 0 && plain[0] !== 1) || length < 0 || 5 + length > plain.length) {
    plain?.fill(0)
    return 'tampered'
  }
  if (record.expiresAt <= Date.now()) {
    plain.fill(0)
    return 'expired'
  }
  const body = plain.subarray(5, 5 + length)
  const value = plain[0] === 0 ? new TextDecoder().decode(body) : copy(body)
  plain.fill(0)
  return { value }
}
