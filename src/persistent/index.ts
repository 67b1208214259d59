import { chacha20poly1305, xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import { type Value, assertWellFormed, copy, isBytes, padLength, sameValue, wipe } from '../encoding'
import { KeystoreError, invalid } from '../errors'
import { Emitter, type EventNames, type KeystoreEvents, type Listener, assertListener } from '../events'
import { toExpiry } from '../expiry'
import type { KeyName, Schema, Stored, ValueOf } from '../schema'
import { type StorageAdapter, adapterFor } from './adapters'

export { indexedDBAdapter, localStorageAdapter } from './adapters'
export type { StorageAdapter } from './adapters'

/**
 * The persistent tier: keys that survive new tabs and browser restarts, sealed on disk
 * under a key that only the app's server holds (one per login session). The server
 * hands the key to the authenticated client; logout or revocation on the server deletes
 * it, and what sits on disk can no longer be opened. The library never writes the key.
 *
 * Each entry is sealed on its own with XChaCha20-Poly1305 (`@noble/ciphers`) under
 * HKDF-SHA-256(server key, namespace), with associated data binding the namespace, the
 * entry's name and its expiry time: an entry moved to another name or namespace, or
 * given another expiry, no longer opens. Nothing is acted on before it authenticates:
 * an entry whose readable expiry was edited is reported as tampered, never expired or
 * deleted (`delete()` and `clear()`, asked to, remove it without reporting it). Values
 * are padded (Padmé, at least 1 KiB) so a record's length tells little. Entries of format 2 (ChaCha20-Poly1305) still open, and are rewritten on their next set.
 *
 * What stays visible on disk: the namespace, each entry's name and expiry time, how many
 * entries there are, and roughly how large each is. There is no rollback protection:
 * whoever can write the storage can put back an older record of a name, or a deleted
 * one, and it opens, as long as the server still hands out this session's key. Nothing
 * kept on the same disk can detect that; the server would have to keep a version (or
 * a hash of the namespace) per session.
 */

/**
 * Options of `PersistentKeystore.open()`.
 *
 * @example
 * const options: PersistentKeystoreOptions = { namespace: `user:${id}:${session}`, key: serverKey }
 */
export interface PersistentKeystoreOptions {
  /** One per login session, e.g. `user:42:session:abc` (it stays readable on disk: see the README). */
  namespace: string
  /** The key the server issued for this login session: at least 32 random bytes, as bytes, base64 or base64url. */
  key: Uint8Array | string
  /** Where entries go: `localStorage` (default), `indexedDB`, or an adapter of your own. */
  storage?: 'localStorage' | 'indexedDB' | StorageAdapter | undefined
  /** Time to live, in milliseconds, of entries set without an expiry. Default: none. */
  defaultTtl?: number | undefined
  /** How often expired entries are removed from storage, in milliseconds; `false` to never. Default: 60 s. */
  cleanupInterval?: number | false | undefined
}

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
const CHECK = '\0check'
const MIN_KEY_BYTES = 32

const utf8 = (text: string): Uint8Array<ArrayBuffer> => new TextEncoder().encode(text)
const prefixOf = (namespace: string): string => `${PREFIX}${encodeURIComponent(namespace)}:`
/** Entries sit under `<prefix>.<name>`; the namespace's check entry under `<prefix>` itself, which no name can reach. */
const ENTRY = '.'

function toBase64(bytes: Uint8Array): string {
  let binary = ''
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(binary)
}

/** Base64 or base64url (what servers' JWT-style libraries emit), padded or not. */
function fromBase64(text: unknown): Uint8Array | undefined {
  if (typeof text !== 'string' || !/^[\w+/-]*={0,2}$/.test(text) || text.length % 4 === 1) return undefined
  try {
    return Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '')), (c) => c.charCodeAt(0))
  } catch {
    return undefined
  }
}

interface SealedRecord {
  v: typeof FORMAT | typeof LEGACY
  expiresAt: number
  nonce: Uint8Array
  sealed: Uint8Array
}

/** Parses a stored record; `undefined` for anything this library did not write. */
function parseRecord(text: unknown): SealedRecord | undefined {
  if (typeof text !== 'string' || text.length > 64 * 1024 * 1024) return undefined
  try {
    const record: unknown = JSON.parse(text)
    if (!record || typeof record !== 'object') return undefined
    const { v, e, n, c } = record as Record<string, unknown>
    const nonce = fromBase64(n)
    const sealed = fromBase64(c)
    if ((v !== FORMAT && v !== LEGACY) || !(e === null || (typeof e === 'number' && Number.isFinite(e))) || nonce?.length !== (v === FORMAT ? 24 : 12) || !sealed || sealed.length < 17) {
      return undefined
    }
    return { v, expiresAt: e === null ? Infinity : e, nonce, sealed }
  } catch {
    return undefined
  }
}

const associatedData = (version: number, namespace: string, name: string, expiresAt: number): Uint8Array =>
  utf8(JSON.stringify([`tab-keystore/persistent/${version}`, namespace, name, expiresAt === Infinity ? null : expiresAt]))

/**
 * The events a `PersistentKeystore` emits: those of `SessionKeystore` about single keys,
 * and `error`.
 *
 * @example
 * vault.on('error', ({ reason }: PersistentEvents['error']) => report(reason))
 */
export type PersistentEvents<N extends string = string> = Pick<KeystoreEvents<N>, 'created' | 'read' | 'updated' | 'deleted' | 'expired' | 'error'>

const EVENTS: EventNames<PersistentEvents> = { created: 1, read: 1, updated: 1, deleted: 1, expired: 1, error: 1 }

/**
 * A namespace of sealed entries in persistent storage, opened with the server's key.
 * Every method is async (storage may be). Emits the per-key events of `SessionKeystore`
 * and `error` (see `PersistentEvents`).
 *
 * @example
 * import { PersistentKeystore } from 'tab-keystore/persistent'
 *
 * const { key } = await (await fetch('/api/session-key')).json()  // base64, from your server
 * const vault = await PersistentKeystore.open<{ masterKey: Uint8Array }>({ namespace: `user:${userId}:${sessionId}`, key })
 * await vault.set('masterKey', masterKey)
 * const again = await vault.get('masterKey')   // also in a new tab, or after a browser restart
 */
export class PersistentKeystore<S extends Schema<S> = Record<string, Value>> {
  /** The namespace given to `open`. */
  readonly namespace: string
  readonly #key: Uint8Array
  readonly #storage: StorageAdapter
  readonly #prefix: string
  readonly #defaultTtl: number | undefined
  readonly #events = new Emitter<PersistentEvents>()
  readonly #cleanupTimer: ReturnType<typeof setInterval> | undefined
  #closed = false

  private constructor(namespace: string, key: Uint8Array, storage: StorageAdapter, defaultTtl: number | undefined, interval: number | false) {
    this.namespace = namespace
    this.#key = key
    this.#storage = storage
    this.#prefix = prefixOf(namespace)
    this.#defaultTtl = defaultTtl
    if (interval !== false) {
      // A failed cleanup is reported and the next one runs anyway.
      this.#cleanupTimer = setInterval(() => void this.cleanup().catch(() => undefined), interval)
      ;(this.#cleanupTimer as { unref?: () => void }).unref?.()
    }
  }

  /**
   * Opens (or creates) a namespace with the server's key. Rejects with a clear error,
   * deleting nothing, when the key is not the one the namespace was created with: when it
   * opens neither the namespace's check entry nor any of its entries.
   *
   * @example
   * const vault = await PersistentKeystore.open({ namespace: 'user:42:s1', key: serverKeyBase64 })
   */
  static async open<S extends Schema<S> = Record<string, Value>>(options: PersistentKeystoreOptions): Promise<PersistentKeystore<S>> {
    if (typeof options !== 'object' || options === null) invalid('options', 'an object', options)
    const { namespace, key, storage, defaultTtl, cleanupInterval = 60_000 } = options
    if (typeof namespace !== 'string' || !namespace || !namespace.isWellFormed()) {
      invalid('options.namespace', 'a non-empty, well-formed string', namespace)
    }
    const serverKey = typeof key === 'string' ? fromBase64(key) : isBytes(key) ? key : undefined
    if (!serverKey) invalid('options.key', 'a Uint8Array or a base64 (or base64url) string', key)
    if (serverKey.length < MIN_KEY_BYTES) invalid('options.key length', `at least ${MIN_KEY_BYTES} (random bytes)`, serverKey.length, true)
    if (defaultTtl !== undefined && !(typeof defaultTtl === 'number' && defaultTtl > 0 && defaultTtl < Infinity)) {
      invalid('options.defaultTtl', 'a positive number of milliseconds', defaultTtl, true)
    }
    if (cleanupInterval !== false && !(typeof cleanupInterval === 'number' && cleanupInterval > 0 && cleanupInterval < 2 ** 31)) {
      invalid('options.cleanupInterval', 'a positive number of milliseconds or false', cleanupInterval, true)
    }
    const adapter = adapterFor(storage)
    // HKDF through WebCrypto (open is async anyway); the derived key never leaves memory.
    // Its salt stays that of format 2: another would orphan every vault already on disk.
    const raw = new Uint8Array(serverKey)
    if (serverKey !== key) serverKey.fill(0) // our copy decoded from base64
    let material: CryptoKey
    try {
      material = await crypto.subtle.importKey('raw', raw, 'HKDF', false, ['deriveBits'])
    } finally {
      raw.fill(0)
    }
    const derived = new Uint8Array(
      await crypto.subtle.deriveBits(
        { name: 'HKDF', hash: 'SHA-256', salt: utf8(`tab-keystore/persistent/${LEGACY}`), info: utf8(namespace) },
        material,
        256,
      ),
    )
    const store = new PersistentKeystore<S>(namespace, derived, adapter, defaultTtl, cleanupInterval)
    try {
      // A check entry tells a wrong (or revoked and reissued) key from tampered entries.
      const checkKey = store.#prefix
      const check = parseRecord(await adapter.get(checkKey))
      if (!(check && store.#opens(CHECK, check))) {
        // Fail closed. A check that is missing or junk (a lost write, storage edited by
        // hand) must not let any key in: that key would seal a new check, and the right
        // key, then refused as `wrong-key`, gets the vault dropped by the README's
        // recipe. So the entries decide: a key that opens one of them is the vault's and
        // may (re)write the check; only a namespace with no entries at all is new and
        // takes any key. A well-formed check that this key does not open, with no entry
        // to vouch for it, is another key's: it stays, as before.
        const records = await store.#records(true)
        const vouched = records.length > 0 ? records.some(([name, record]) => record && store.#opens(name, record)) : !check
        if (!vouched) {
          throw new KeystoreError('wrong-key', `PersistentKeystore.open: this key does not open namespace "${namespace}" (wrong or revoked key); nothing was deleted`)
        }
        await adapter.set(checkKey, store.#seal(CHECK, 1, utf8('tab-keystore'), Infinity))
      }
    } catch (error) {
      // Nothing half-open is left behind: no cleanup timer, no key in memory.
      store.close()
      throw error
    }
    return store
  }

  /**
   * Deletes every entry of a namespace, without its key (logout, or a revoked session).
   *
   * @example
   * await PersistentKeystore.drop(`user:${userId}:${sessionId}`)
   */
  static async drop(namespace: string, storage?: PersistentKeystoreOptions['storage']): Promise<number> {
    const adapter = adapterFor(storage)
    const prefix = prefixOf(namespace)
    let dropped = 0
    for (const key of [...(await adapter.keys())]) {
      if (key.startsWith(prefix)) {
        await adapter.delete(key)
        dropped++
      }
    }
    return dropped
  }

  /**
   * The namespaces that have entries in `storage`: for dropping those of old sessions.
   *
   * @example
   * for (const ns of await PersistentKeystore.namespaces()) if (ns !== current) await PersistentKeystore.drop(ns)
   */
  static async namespaces(storage?: PersistentKeystoreOptions['storage']): Promise<string[]> {
    const found = new Set<string>()
    for (const key of await adapterFor(storage).keys()) {
      if (!key.startsWith(PREFIX)) continue
      const end = key.indexOf(':', PREFIX.length)
      if (end < 0) continue
      try {
        found.add(decodeURIComponent(key.slice(PREFIX.length, end)))
      } catch {
        // not ours
      }
    }
    return [...found]
  }

  /**
   * Seals and stores `value` under `name`; bytes are copied. Without `expiresAt`,
   * `defaultTtl` applies when set. Events as in `SessionKeystore`.
   *
   * @example
   * await vault.set('token', token, Date.now() + 86_400_000)
   */
  async set<K extends KeyName<S>>(name: K, typedValue: ValueOf<S, K>, expiresAt?: Date | number): Promise<void> {
    const value: unknown = typedValue
    this.#assertOpen()
    this.#assertName(name)
    const isText = typeof value === 'string'
    if (isText) assertWellFormed(value, 'value')
    else if (!isBytes(value)) invalid('value', 'a string or a Uint8Array', value)
    const bytes = isText ? utf8(value) : (value as Uint8Array)
    const until =
      expiresAt === undefined && this.#defaultTtl !== undefined ? Date.now() + this.#defaultTtl : toExpiry(expiresAt)
    const old = await this.#read(name)
    // Compared, then wiped: the old value need not stay in memory.
    const changed = old !== undefined && !sameValue(old.value, value as Value)
    if (old) wipe(old.value)
    if (until <= Date.now()) {
      if (old !== undefined) await this.#call(() => this.#storage.delete(this.#keyOf(name)))
      this.#emit('expired', name)
      return
    }
    let sealed: string
    try {
      sealed = this.#seal(name, isText ? 0 : 1, bytes, until)
    } finally {
      if (isText) bytes.fill(0)
    }
    const stored = await this.#call(() => this.#storage.set(this.#keyOf(name), sealed))
    if (stored === FAILED) throw new KeystoreError('storage-refused', `set: the storage refused the entry "${name}" (see the error event)`)
    if (old === undefined) this.#emit('created', name)
    else if (changed) this.#emit('updated', name)
  }

  /**
   * The value under `name`, or `null` when absent, expired, or unreadable (tampered
   * entries are reported with an `error` event and skipped).
   *
   * @example
   * const key = await vault.get('masterKey')
   */
  async get<K extends KeyName<S>>(name: K): Promise<Stored<ValueOf<S, K>> | null> {
    this.#assertOpen()
    this.#assertName(name)
    const entry = await this.#read(name)
    if (!entry) return null
    this.#emit('read', name)
    return entry.value as Stored<ValueOf<S, K>>
  }

  /**
   * Whether `name` holds a readable, unexpired value.
   *
   * @example
   * if (await vault.has('masterKey')) skipLogin()
   */
  async has(name: KeyName<S>): Promise<boolean> {
    this.#assertOpen()
    this.#assertName(name)
    return (await this.#read(name)) !== undefined
  }

  /**
   * Names of the unexpired entries that authenticate (each is decrypted, then wiped).
   *
   * @example
   * for (const name of await vault.keys()) console.log(name)
   */
  async keys(): Promise<KeyName<S>[]> {
    this.#assertOpen()
    const now = Date.now()
    const names: KeyName<S>[] = []
    for (const [name, record] of await this.#records()) {
      const plain = record && this.#open(name, record)
      if (!plain) continue
      plain.fill(0)
      if (record.expiresAt > now) names.push(name as KeyName<S>)
    }
    return names
  }

  /**
   * Deletes `name`; resolves to whether it held a live entry (one that authenticates and
   * has not expired, as `has()` tells). Rejects with `storage-refused` when the storage
   * does not delete it.
   *
   * @example
   * await vault.delete('token')
   */
  async delete(name: KeyName<S>): Promise<boolean> {
    this.#assertOpen()
    this.#assertName(name)
    const text = await this.#call(() => this.#storage.get(this.#keyOf(name)))
    if (text === FAILED || text === null || text === undefined) return false
    const removed = await this.#remove(name, parseRecord(text))
    if (removed === FAILED) throw new KeystoreError('storage-refused', `delete: the storage refused to delete the entry "${name}" (see the error event)`)
    return removed
  }

  /**
   * Deletes every entry of the namespace (the namespace stays open). Events as in
   * `delete()`: only entries that authenticate are reported.
   *
   * @example
   * await vault.clear()
   */
  async clear(): Promise<void> {
    this.#assertOpen()
    for (const [name, record] of await this.#records()) await this.#remove(name, record)
  }

  /**
   * Removes expired entries from storage now (the interval does it too); resolves to how
   * many went. Only entries that authenticate are removed: an expiry edited into the past
   * is reported as tampering (`error`), and the entry stays.
   *
   * @example
   * await vault.cleanup()
   */
  async cleanup(): Promise<number> {
    if (this.#closed) return 0
    const now = Date.now()
    let removed = 0
    for (const [name, record] of await this.#records()) {
      if (!record || record.expiresAt > now) continue
      const plain = this.#open(name, record)
      if (!plain) {
        this.#events.emit('error', { reason: 'tampered' })
        continue
      }
      plain.fill(0)
      if ((await this.#call(() => this.#storage.delete(this.#keyOf(name)))) !== FAILED) {
        removed++
        this.#emit('expired', name)
      }
    }
    return removed
  }

  /**
   * Subscribes to an event; returns the function that unsubscribes.
   *
   * @example
   * vault.on('error', ({ reason }) => report(reason))
   */
  on<E extends keyof PersistentEvents>(event: E, listener: Listener<KeyName<S>, E>): () => void {
    assertListener(event, listener, EVENTS)
    this.#events.on(event, listener)
    return () => this.#events.off(event, listener)
  }

  /**
   * Unsubscribes a listener given to `on`.
   *
   * @example
   * vault.off('read', onRead)
   */
  off<E extends keyof PersistentEvents>(event: E, listener: Listener<KeyName<S>, E>): void {
    this.#events.off(event, listener)
  }

  /**
   * Stops the cleanup timer and wipes the key from memory; later calls throw.
   *
   * @example
   * vault.close()
   */
  close(): void {
    this.#closed = true
    clearInterval(this.#cleanupTimer)
    this.#key.fill(0)
    this.#events.clear()
  }

  #assertOpen(): void {
    if (this.#closed) throw new KeystoreError('closed', `PersistentKeystore "${this.namespace}" was closed`)
  }

  #assertName(name: unknown): asserts name is string {
    if (typeof name !== 'string' || name === CHECK) invalid('name', 'a string', name)
    assertWellFormed(name, 'name')
  }

  #emit(event: 'created' | 'read' | 'updated' | 'deleted' | 'expired', name: string): void {
    this.#events.emit(event, { name })
  }

  /** Runs a storage call; a throw becomes an `error` event (reason `storage-unavailable`) and `FAILED`. */
  async #call<T>(run: () => T | Promise<T>): Promise<T | typeof FAILED> {
    try {
      return await run()
    } catch (error) {
      this.#events.emit('error', { reason: 'storage-unavailable', error })
      return FAILED
    }
  }

  #keyOf(name: string): string {
    return this.#prefix + ENTRY + encodeURIComponent(name)
  }

  /** Seals `kind:u8 length:u32 value`, zero-padded like the session seal. Never after close(): the key is zeros then. */
  #seal(name: string, kind: number, value: Uint8Array, expiresAt: number): string {
    this.#assertOpen()
    const plain = new Uint8Array(padLength(5 + value.length))
    plain[0] = kind
    new DataView(plain.buffer).setUint32(1, value.length)
    plain.set(value, 5)
    const nonce = crypto.getRandomValues(new Uint8Array(24))
    const sealed = xchacha20poly1305(this.#key, nonce, associatedData(FORMAT, this.namespace, name, expiresAt)).encrypt(plain)
    plain.fill(0)
    return JSON.stringify({ v: FORMAT, e: expiresAt === Infinity ? null : expiresAt, n: toBase64(nonce), c: toBase64(sealed) })
  }

  /** Opens a record, or `undefined` when it does not authenticate. Never after close(), whose key is zeros. */
  #open(name: string, record: SealedRecord): Uint8Array | undefined {
    this.#assertOpen()
    try {
      const aead = record.v === FORMAT ? xchacha20poly1305 : chacha20poly1305
      return aead(this.#key, record.nonce, associatedData(record.v, this.namespace, name, record.expiresAt)).decrypt(record.sealed)
    } catch {
      return undefined
    }
  }

  /** Whether a record authenticates under this key (the plaintext is wiped at once). */
  #opens(name: string, record: SealedRecord): boolean {
    const plain = this.#open(name, record)
    plain?.fill(0)
    return plain !== undefined
  }

  /**
   * Removes the record of `name`; true when it was a live entry. Only what authenticates
   * is reported (`deleted`, or `expired` past its authenticated expiry): anything else
   * under the name is removed too, quietly, since the caller wants the name gone and a
   * record this key does not open (an expiry edited, say) could be put right and open again.
   */
  async #remove(name: string, record: SealedRecord | undefined): Promise<boolean | typeof FAILED> {
    const authentic = record !== undefined && this.#opens(name, record)
    if ((await this.#call(() => this.#storage.delete(this.#keyOf(name)))) === FAILED) return FAILED
    if (!authentic) return false
    const live = record.expiresAt > Date.now()
    this.#emit(live ? 'deleted' : 'expired', name)
    return live
  }

  /**
   * The live value of `name`. Authenticated first: one that does not open is reported as
   * tampered and left alone; one that opens and has expired is deleted (`expired`).
   */
  async #read(name: string): Promise<{ value: Value } | undefined> {
    const key = this.#keyOf(name)
    const text = await this.#call(() => this.#storage.get(key))
    if (text === FAILED || text === null || text === undefined) return undefined
    const record = parseRecord(text)
    if (!record) {
      this.#events.emit('error', { reason: 'corrupt' })
      return undefined
    }
    const plain = this.#open(name, record)
    const length = plain && plain.length >= 5 ? new DataView(plain.buffer, plain.byteOffset).getUint32(1) : -1
    if (!plain || (plain[0] !== 0 && plain[0] !== 1) || length < 0 || 5 + length > plain.length) {
      plain?.fill(0)
      this.#events.emit('error', { reason: 'tampered' })
      return undefined
    }
    if (record.expiresAt <= Date.now()) {
      plain.fill(0)
      await this.#call(() => this.#storage.delete(key))
      this.#emit('expired', name)
      return undefined
    }
    const body = plain.subarray(5, 5 + length)
    const value = plain[0] === 0 ? new TextDecoder().decode(body) : copy(body)
    plain.fill(0)
    return { value }
  }

  /**
   * Every entry of this namespace as [name, record | undefined (unparsable)], the check
   * entry left out. `strict` (open) lets a storage failure reject: an unreadable
   * namespace must not pass for an empty one, which would take any key.
   */
  async #records(strict = false): Promise<[string, SealedRecord | undefined][]> {
    const call = <T>(run: () => T | Promise<T>) => (strict ? run() : this.#call(run))
    const keys = await call(() => this.#storage.keys())
    if (keys === FAILED) return []
    const out: [string, SealedRecord | undefined][] = []
    const entries = this.#prefix + ENTRY
    for (const key of [...keys]) {
      if (typeof key !== 'string' || !key.startsWith(entries)) continue
      let name: string
      try {
        name = decodeURIComponent(key.slice(entries.length))
      } catch {
        continue
      }
      const text = await call(() => this.#storage.get(key))
      out.push([name, text === FAILED ? undefined : parseRecord(text)])
    }
    return out
  }
}

const FAILED: unique symbol = Symbol('failed')
