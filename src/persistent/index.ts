import { type Value, assertWellFormed, isBytes, sameValue, wipe } from '../encoding'
import { KeystoreError, invalid } from '../errors'
import { Emitter, type EventNames, type KeystoreEvents, type Listener, assertListener } from '../events'
import { toExpiry } from '../expiry'
import type { KeyName, Schema, Stored, ValueOf } from '../schema'
import { type StorageAdapter, adapterFor } from './adapters'
import {
  CHECK,
  type SealedRecord,
  authenticates,
  deriveKey,
  entryKey,
  fromBase64,
  nameOf,
  namespaceOf,
  parseRecord,
  prefixOf,
  sealEntry,
  unseal,
  utf8,
} from './entry'

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

const MIN_KEY_BYTES = 32

/**
 * `open`'s options, checked, as `[namespace, raw, adapter, defaultTtl, cleanupInterval]`:
 * `raw` is a copy of the server key that deriveKey() may wipe, never the caller's bytes.
 */
function checked(options: PersistentKeystoreOptions) {
  if (typeof options !== 'object' || options === null) invalid('options', 'an object', options)
  const { namespace, key, storage, defaultTtl, cleanupInterval = 60_000 } = options
  assertNamespace(namespace, 'options.namespace')
  if (defaultTtl !== undefined && !(typeof defaultTtl === 'number' && defaultTtl > 0 && defaultTtl < Infinity)) {
    invalid('options.defaultTtl', 'a positive number of milliseconds', defaultTtl, true)
  }
  if (
    cleanupInterval !== false &&
    !(typeof cleanupInterval === 'number' && cleanupInterval > 0 && cleanupInterval < 2 ** 31)
  ) {
    invalid('options.cleanupInterval', 'a positive number of milliseconds or false', cleanupInterval, true)
  }
  const adapter = adapterFor(storage)
  // Decoded last: a copy of the key made before another option is refused would not be wiped.
  const serverKey = typeof key === 'string' ? fromBase64(key) : isBytes(key) ? key : undefined
  if (!serverKey) invalid('options.key', 'a Uint8Array or a base64 (or base64url) string', key)
  if (serverKey.length < MIN_KEY_BYTES) {
    if (serverKey !== key) serverKey.fill(0)
    invalid('options.key length', `at least ${MIN_KEY_BYTES} (random bytes)`, serverKey.length, true)
  }
  const raw = new Uint8Array(serverKey)
  if (serverKey !== key) serverKey.fill(0) // our copy decoded from base64
  return [namespace, raw, adapter, defaultTtl, cleanupInterval] as const
}

function assertNamespace(namespace: unknown, what: string): asserts namespace is string {
  if (typeof namespace !== 'string' || !namespace || !namespace.isWellFormed())
    invalid(what, 'a non-empty, well-formed string', namespace, typeof namespace === 'string')
}

function assertName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name === CHECK) invalid('name', 'a string', name)
  assertWellFormed(name, 'name')
}

function assertValue(value: unknown): asserts value is Value {
  if (typeof value === 'string') assertWellFormed(value, 'value')
  else if (!isBytes(value)) invalid('value', 'a string or a Uint8Array', value)
}

/**
 * The events a `PersistentKeystore` emits: those of `SessionKeystore` about single keys,
 * and `error`.
 *
 * @example
 * vault.on('error', ({ reason }: PersistentEvents['error']) => report(reason))
 */
export type PersistentEvents<N extends string = string> = Pick<
  KeystoreEvents<N>,
  'created' | 'read' | 'updated' | 'deleted' | 'expired' | 'error'
>

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
  readonly #derived: Uint8Array
  readonly #storage: StorageAdapter
  readonly #prefix: string
  readonly #defaultTtl: number | undefined
  readonly #events = new Emitter<PersistentEvents>()
  readonly #cleanupTimer: ReturnType<typeof setInterval> | undefined
  #closed = false

  private constructor(
    namespace: string,
    key: Uint8Array,
    storage: StorageAdapter,
    defaultTtl: number | undefined,
    interval: number | false,
  ) {
    this.namespace = namespace
    this.#derived = key
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
  static async open<S extends Schema<S> = Record<string, Value>>(
    options: PersistentKeystoreOptions,
  ): Promise<PersistentKeystore<S>> {
    const [namespace, raw, adapter, defaultTtl, cleanupInterval] = checked(options)
    const store = new PersistentKeystore<S>(
      namespace,
      await deriveKey(raw, namespace),
      adapter,
      defaultTtl,
      cleanupInterval,
    )
    try {
      // A check entry tells a wrong (or revoked and reissued) key from tampered entries.
      const checkKey = store.#prefix
      const check = parseRecord(await adapter.get(checkKey))
      if (!(check && authenticates(store.#key, namespace, CHECK, check))) {
        // Fail closed. A check that is missing or junk (a lost write, storage edited by
        // hand) must not let any key in: that key would seal a new check, and the right
        // key, then refused as `wrong-key`, gets the vault dropped by the README's
        // recipe. So the entries decide: a key that opens one of them is the vault's and
        // may (re)write the check; only a namespace with no entries at all is new and
        // takes any key. A well-formed check that this key does not open, with no entry
        // to vouch for it, is another key's: it stays, as before.
        const records = await store.#records(true)
        const vouched =
          records.length > 0
            ? records.some(([name, record]) => record && authenticates(store.#key, namespace, name, record))
            : !check
        if (!vouched) {
          throw new KeystoreError(
            'wrong-key',
            `PersistentKeystore.open: this key does not open namespace "${namespace}" (wrong or revoked key); nothing was deleted`,
          )
        }
        await adapter.set(checkKey, sealEntry(store.#key, namespace, CHECK, utf8('tab-keystore'), Infinity))
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
    // Not a namespace named "undefined" for a forgotten argument.
    assertNamespace(namespace, 'namespace')
    const adapter = adapterFor(storage)
    const prefix = prefixOf(namespace)
    const keys = [...(await adapter.keys())].filter((key) => key.startsWith(prefix))
    for (const key of keys) await adapter.delete(key)
    return keys.length
  }

  /**
   * The namespaces that have entries in `storage`: for dropping those of old sessions.
   *
   * @example
   * for (const ns of await PersistentKeystore.namespaces()) if (ns !== current) await PersistentKeystore.drop(ns)
   */
  static async namespaces(storage?: PersistentKeystoreOptions['storage']): Promise<string[]> {
    const found = [...(await adapterFor(storage).keys())].map(namespaceOf)
    return [...new Set(found.filter((namespace) => namespace !== undefined))]
  }

  /**
   * Seals and stores `value` under `name`; bytes are copied. Without `expiresAt`,
   * `defaultTtl` applies when set. Events as in `SessionKeystore`.
   *
   * @example
   * await vault.set('token', token, Date.now() + 86_400_000)
   */
  async set<K extends KeyName<S>>(name: K, typedValue: ValueOf<S, K>, expiresAt?: Date | number): Promise<void> {
    this.#assertOpen()
    assertName(name)
    assertValue(typedValue)
    const until =
      expiresAt === undefined && this.#defaultTtl !== undefined ? Date.now() + this.#defaultTtl : toExpiry(expiresAt)
    const old = await this.#read(name)
    // Compared, then wiped: the old value need not stay in memory.
    const changed = old !== undefined && !sameValue(old.value, typedValue)
    if (old) wipe(old.value)
    if (until <= Date.now()) {
      if (old !== undefined) await this.#call(() => this.#storage.delete(entryKey(this.#prefix, name)))
      this.#emit('expired', name)
      return
    }
    const sealed = sealEntry(this.#key, this.namespace, name, typedValue, until)
    const stored = await this.#call(() => this.#storage.set(entryKey(this.#prefix, name), sealed))
    if (stored === FAILED)
      throw new KeystoreError('storage-refused', `set: the storage refused the entry "${name}" (see the error event)`)
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
    assertName(name)
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
    assertName(name)
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
      if (record && authenticates(this.#key, this.namespace, name, record) && record.expiresAt > now)
        names.push(name as KeyName<S>)
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
    assertName(name)
    const text = await this.#call(() => this.#storage.get(entryKey(this.#prefix, name)))
    if (text === FAILED || text === null || text === undefined) return false
    const removed = await this.#remove(name, parseRecord(text))
    if (removed === FAILED)
      throw new KeystoreError(
        'storage-refused',
        `delete: the storage refused to delete the entry "${name}" (see the error event)`,
      )
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
      if (!authenticates(this.#key, this.namespace, name, record)) this.#events.emit('error', { reason: 'tampered' })
      else if ((await this.#call(() => this.#storage.delete(entryKey(this.#prefix, name)))) !== FAILED) {
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
    this.#derived.fill(0)
    this.#events.clear()
  }

  #assertOpen(): void {
    if (this.#closed) throw new KeystoreError('closed', `PersistentKeystore "${this.namespace}" was closed`)
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

  /** The namespace's key, refused after close(), which wiped it to zeros. */
  get #key(): Uint8Array {
    this.#assertOpen()
    return this.#derived
  }

  /**
   * Removes the record of `name`; true when it was a live entry. Only what authenticates
   * is reported (`deleted`, or `expired` past its authenticated expiry): anything else
   * under the name is removed too, quietly, since the caller wants the name gone and a
   * record this key does not open (an expiry edited, say) could be put right and open again.
   */
  async #remove(name: string, record: SealedRecord | undefined): Promise<boolean | typeof FAILED> {
    const authentic = record !== undefined && authenticates(this.#key, this.namespace, name, record)
    if ((await this.#call(() => this.#storage.delete(entryKey(this.#prefix, name)))) === FAILED) return FAILED
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
    const key = entryKey(this.#prefix, name)
    const text = await this.#call(() => this.#storage.get(key))
    if (text === FAILED || text === null || text === undefined) return undefined
    const record = parseRecord(text)
    const entry = record ? unseal(this.#key, this.namespace, name, record) : 'corrupt'
    if (typeof entry !== 'string') return entry
    if (entry === 'expired') {
      await this.#call(() => this.#storage.delete(key))
      this.#emit('expired', name)
    } else {
      this.#events.emit('error', { reason: entry })
    }
    return undefined
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
    for (const key of [...keys]) {
      const name = nameOf(this.#prefix, key)
      if (name === undefined) continue
      const text = await call(() => this.#storage.get(key))
      out.push([name, text === FAILED ? undefined : parseRecord(text)])
    }
    return out
  }
}

const FAILED: unique symbol = Symbol('failed')
