import { chacha20poly1305 } from '@noble/ciphers/chacha.js'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { padLength } from '../src/encoding'
import { PersistentKeystore, type StorageAdapter, localStorageAdapter } from '../src/persistent/index'

const open: PersistentKeystore[] = []
const serverKey = (): Uint8Array => crypto.getRandomValues(new Uint8Array(32))
const base64 = (bytes: Uint8Array): string => btoa(String.fromCharCode(...bytes))

async function openStore(
  options: Partial<Parameters<typeof PersistentKeystore.open>[0]> & { key: Uint8Array | string },
) {
  const store = await PersistentKeystore.open({ namespace: 'user:1:s1', cleanupInterval: false, ...options })
  open.push(store)
  const events: string[] = []
  for (const event of ['created', 'updated', 'deleted', 'expired', 'read'] as const)
    store.on(event, ({ name }) => events.push(`${event}:${name}`))
  store.on('error', ({ reason }) => events.push(`error:${reason}`))
  return { store, events }
}

/** A Map-backed adapter, asynchronous, that can be told to fail or to return junk. */
function memoryAdapter(map = new Map<string, string>()) {
  const faults = { throwOn: new Set<string>(), junkFor: new Set<string>() }
  const adapter: StorageAdapter = {
    get: async (key) => {
      if (faults.throwOn.has('get')) throw new Error('get failed')
      return faults.junkFor.has(key) ? ('{"v":1,"junk":' as string) : (map.get(key) ?? null)
    },
    set: async (key, value) => {
      if (faults.throwOn.has('set')) throw new Error('set failed')
      map.set(key, value)
    },
    delete: async (key) => {
      if (faults.throwOn.has('delete')) throw new Error('delete failed')
      map.delete(key)
    },
    keys: async () => {
      if (faults.throwOn.has('keys')) throw new Error('keys failed')
      return [...map.keys()]
    },
  }
  return { adapter, map, faults }
}

beforeEach(() => localStorage.clear())
afterEach(() => {
  for (const store of open.splice(0)) store.close()
  vi.useRealTimers()
  vi.restoreAllMocks()
})

describe('PersistentKeystore', () => {
  it('round-trips strings and bytes across re-opening with the same key (bytes or base64)', async () => {
    const key = serverKey()
    const { store, events } = await openStore({ key })
    await store.set('token', 'secret ✓')
    await store.set('masterKey', new Uint8Array([0, 1, 255]))
    await store.set('token', 'secret ✓')
    await store.set('token', 'replaced')
    expect(events).toEqual(['created:token', 'created:masterKey', 'updated:token'])
    store.close()
    const again = await openStore({ key: base64(key) })
    expect(await again.store.get('token')).toBe('replaced')
    expect(await again.store.get('masterKey')).toEqual(new Uint8Array([0, 1, 255]))
    expect((await again.store.keys()).sort()).toEqual(['masterKey', 'token'])
    expect(await again.store.has('absent')).toBe(false)
  })

  it('never writes the server key nor a value in readable form', async () => {
    const key = serverKey()
    const { store } = await openStore({ key })
    await store.set('token', 'visible-secret-text')
    await store.set('bytes', new TextEncoder().encode('visible-bytes-text'))
    const everything = Object.keys(localStorage)
      .map((k) => k + localStorage.getItem(k))
      .join('\n')
    for (const needle of [
      'visible-secret-text',
      'visible-bytes-text',
      btoa('visible-secret-text'),
      base64(key),
      Array.from(key, (b) => b.toString(16).padStart(2, '0')).join(''),
    ]) {
      expect(everything).not.toContain(needle)
    }
    // Expiry times stay readable for cleanup.
    expect(everything).toContain('"e":null')
  })

  it('the wrong key: open rejects with a clear error and deletes nothing', async () => {
    const { store } = await openStore({ key: serverKey() })
    await store.set('token', 'x')
    const before = { ...localStorage }
    await expect(
      PersistentKeystore.open({ namespace: 'user:1:s1', key: serverKey(), cleanupInterval: false }),
    ).rejects.toThrow(/does not open namespace "user:1:s1" \(wrong or revoked key\); nothing was deleted/)
    expect({ ...localStorage }).toEqual(before)
  })

  it('moving, renaming, extending or editing an entry is detected; the others still load', async () => {
    const { store, events } = await openStore({ key: serverKey() })
    const until = Date.now() + 60_000
    await store.set('a', 'value a', until)
    await store.set('b', 'value b', until)
    await store.set('c', 'value c')
    await store.set('d', 'value d')
    const prefix = 'tab-keystore:p:user%3A1%3As1:.'
    const recordOf = (name: string) => JSON.parse(localStorage.getItem(prefix + name)!)
    // renamed: a's record under the name b
    localStorage.setItem(prefix + 'b', JSON.stringify(recordOf('a')))
    // extended: a later expiry
    localStorage.setItem(prefix + 'a', JSON.stringify({ ...recordOf('a'), e: until + 86_400_000 }))
    // edited ciphertext
    const c = recordOf('c')
    c.c = (c.c[0] === 'A' ? 'B' : 'A') + c.c.slice(1)
    localStorage.setItem(prefix + 'c', JSON.stringify(c))
    events.length = 0
    expect(await store.get('a')).toBeNull()
    expect(await store.get('b')).toBeNull()
    expect(await store.get('c')).toBeNull()
    expect(await store.get('d')).toBe('value d')
    expect(events).toEqual(['error:tampered', 'error:tampered', 'error:tampered', 'read:d'])
  })

  it('namespaces never see each other’s entries, even with the same server key', async () => {
    const key = serverKey()
    const one = await openStore({ key, namespace: 'user:1:s1' })
    const two = await openStore({ key, namespace: 'user:2:s9' })
    await one.store.set('k', 'one')
    expect(await two.store.get('k')).toBeNull()
    expect(await two.store.keys()).toEqual([])
    // A record copied across namespaces does not open there.
    localStorage.setItem('tab-keystore:p:user%3A2%3As9:.k', localStorage.getItem('tab-keystore:p:user%3A1%3As1:.k')!)
    expect(await two.store.get('k')).toBeNull()
    expect(two.events).toContain('error:tampered')
    expect((await PersistentKeystore.namespaces()).sort()).toEqual(['user:1:s1', 'user:2:s9'])
  })

  it('expiry, default TTL, periodic and manual cleanup; a failed cleanup does not stop later ones', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval', 'setTimeout'] })
    const memory = memoryAdapter()
    const { store, events } = await openStore({
      key: serverKey(),
      storage: memory.adapter,
      defaultTtl: 1000,
      cleanupInterval: 500,
    })
    await store.set('short', 'x')
    await store.set('long', 'y', Date.now() + 10_000)
    await store.set('past', 'z', Date.now() - 1)
    expect(events).toEqual(['created:short', 'created:long', 'expired:past'])
    memory.faults.throwOn.add('keys')
    await vi.advanceTimersByTimeAsync(1000)
    expect([...memory.map.keys()].some((k) => k.endsWith(':.short'))).toBe(true) // the failing cleanup removed nothing
    memory.faults.throwOn.clear()
    await vi.advanceTimersByTimeAsync(500)
    expect([...memory.map.keys()].some((k) => k.endsWith(':.short'))).toBe(false)
    expect(events).toContain('expired:short')
    expect(events).toContain('error:storage-unavailable')
    vi.setSystemTime(Date.now() + 20_000)
    expect(await store.cleanup()).toBe(1)
    expect(await store.keys()).toEqual([])
  })

  it('an adapter that throws or returns junk never corrupts other entries nor stops the store', async () => {
    const memory = memoryAdapter()
    const { store, events } = await openStore({ key: serverKey(), storage: memory.adapter })
    await store.set('good', 'kept')
    await store.set('bad', 'junked')
    memory.faults.junkFor.add('tab-keystore:p:user%3A1%3As1:.bad')
    expect(await store.get('bad')).toBeNull()
    expect(await store.get('good')).toBe('kept')
    memory.faults.throwOn.add('get')
    expect(await store.get('good')).toBeNull()
    memory.faults.throwOn.clear()
    memory.faults.throwOn.add('set')
    await expect(store.set('new', 'v')).rejects.toThrow(/storage refused the entry "new"/)
    memory.faults.throwOn.clear()
    expect(await store.get('good')).toBe('kept')
    expect(events.filter((e) => e.startsWith('error'))).toEqual([
      'error:corrupt',
      'error:storage-unavailable',
      'error:storage-unavailable',
    ])
  })

  it('works with a synchronous custom adapter', async () => {
    const map = new Map<string, string>()
    const adapter: StorageAdapter = {
      get: (k) => map.get(k),
      set: (k, v) => void map.set(k, v),
      delete: (k) => void map.delete(k),
      keys: () => map.keys(),
    }
    const { store } = await openStore({ key: serverKey(), storage: adapter })
    await store.set('k', 'v')
    expect(await store.get('k')).toBe('v')
    expect(await store.delete('k')).toBe(true)
    expect(await store.delete('k')).toBe(false)
  })

  it('drop() deletes a whole namespace without its key, and nothing else', async () => {
    const a = await openStore({ key: serverKey(), namespace: 'user:1:old' })
    const b = await openStore({ key: serverKey(), namespace: 'user:1:new' })
    await a.store.set('k', '1')
    await b.store.set('k', '2')
    localStorage.setItem('unrelated', 'keep')
    expect(await PersistentKeystore.drop('user:1:old')).toBe(2) // the entry and the key check
    expect(await b.store.get('k')).toBe('2')
    expect(localStorage.getItem('unrelated')).toBe('keep')
    expect(await PersistentKeystore.namespaces()).toEqual(['user:1:new'])
    // A forgotten or empty namespace is refused, not taken for one named "undefined" (or for all of them).
    await expect(PersistentKeystore.drop(undefined as unknown as string)).rejects.toThrow(
      /^namespace must be a non-empty, well-formed string/,
    )
    await expect(PersistentKeystore.drop('')).rejects.toThrow(/^namespace must be/)
    await expect(PersistentKeystore.drop('')).rejects.toThrow(RangeError) // a string, of the wrong value
    await expect(PersistentKeystore.drop(undefined as unknown as string)).rejects.toThrow(TypeError)
    expect(await PersistentKeystore.namespaces()).toEqual(['user:1:new'])
  })

  it('clear() empties the namespace, which stays usable', async () => {
    const { store, events } = await openStore({ key: serverKey() })
    await store.set('a', '1')
    await store.set('b', '2')
    await store.clear()
    expect(await store.keys()).toEqual([])
    expect(events.filter((e) => e.startsWith('deleted')).sort()).toEqual(['deleted:a', 'deleted:b'])
    await store.set('c', '3')
    expect(await store.get('c')).toBe('3')
  })

  it('refuses bad options and arguments by name, and calls after close()', async () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ namespace: '', key: serverKey() }, /^options\.namespace must be/],
      [
        { namespace: 'n', key: 'not base64!' },
        /^options\.key must be a Uint8Array or a base64 \(or base64url\) string/,
      ],
      [
        { namespace: 'n', key: new Uint8Array(16) },
        /^options\.key length must be at least 32 \(random bytes\); got the number 16/,
      ],
      [{ namespace: 'n', key: serverKey(), storage: 'sessionStorage' }, /^options\.storage must be/],
      [{ namespace: 'n', key: serverKey(), storage: { get() {} } }, /^options\.storage must be/],
      [{ namespace: 'n', key: serverKey(), defaultTtl: -5 }, /^options\.defaultTtl/],
      [{ namespace: 'n', key: serverKey(), cleanupInterval: 0 }, /^options\.cleanupInterval/],
    ]
    for (const [options, message] of bad) {
      await expect(PersistentKeystore.open(options as never), JSON.stringify(Object.keys(options))).rejects.toThrow(
        message,
      )
    }
    expect(localStorage.length).toBe(0)
    const { store } = await openStore({ key: serverKey() })
    // Its events are its own list: a store's `restored` is not one of them.
    expect(() => store.on('restored' as never, () => undefined)).toThrow(
      /^event must be one of created, read, updated, deleted, expired, error; got/,
    )
    await expect(store.set('k', 42 as never)).rejects.toThrow(/^value must be a string or a Uint8Array/)
    await expect(store.set('k', '\ud800')).rejects.toThrow(/^value must be a well-formed string/)
    await expect(store.set('k', 'v', NaN)).rejects.toThrow(RangeError)
    await expect(store.set('k', 'v', new Date('x'))).rejects.toThrow(/^expiresAt must be a valid Date/)
    await expect(store.get(7 as never)).rejects.toThrow(/^name must be a string/)
    await expect(store.get('\udc00' as never)).rejects.toThrow(/^name must be a well-formed string/)
    store.close()
    await expect(store.get('k')).rejects.toThrow(/was closed/)
  })

  it('the localStorage adapter is the default and lists only what is there', () => {
    localStorage.setItem('x', '1')
    expect([...(localStorageAdapter().keys() as string[])]).toEqual(['x'])
  })
})

describe('review findings', () => {
  const prefix = 'tab-keystore:p:user%3A1%3As1:'
  const entryKey = () => Object.keys(localStorage).filter((k) => k.startsWith(prefix) && k !== prefix)

  it('an entry named "" does not overwrite the namespace check: the right key still opens it', async () => {
    const key = serverKey()
    const { store } = await openStore({ key })
    await store.set('', 'empty name')
    store.close()
    const again = await openStore({ key })
    expect(await again.store.get('')).toBe('empty name')
  })

  it('an expiry edited into the past is reported as tampering; nothing is deleted, by get() nor cleanup()', async () => {
    const { store, events } = await openStore({ key: serverKey() })
    await store.set('a', 'value a', Date.now() + 60_000)
    const [k] = entryKey()
    const record = JSON.parse(localStorage.getItem(k!)!)
    localStorage.setItem(k!, JSON.stringify({ ...record, e: Date.now() - 1000 }))
    events.length = 0
    expect(await store.get('a')).toBeNull()
    expect(await store.cleanup()).toBe(0)
    expect(localStorage.getItem(k!)).not.toBeNull()
    expect(events).toEqual(['error:tampered', 'error:tampered'])
  })

  it('keys() lists only entries that authenticate', async () => {
    const { store } = await openStore({ key: serverKey() })
    await store.set('real', 'x')
    const [k] = entryKey()
    localStorage.setItem(k!.replace(/real$/, 'forged'), localStorage.getItem(k!)!)
    expect(await store.keys()).toEqual(['real'])
  })

  it('values are padded: a 1-byte and a 500-byte value leave records of the same length', async () => {
    const { store } = await openStore({ key: serverKey() })
    await store.set('short', 'x')
    await store.set('long', 'y'.repeat(500))
    const lengths = entryKey().map((k) => JSON.parse(localStorage.getItem(k)!).c.length)
    expect(new Set(lengths).size).toBe(1)
  })

  it('no rollback protection (stated in SECURITY.md): an older record put back opens again', async () => {
    const { store } = await openStore({ key: serverKey() })
    await store.set('token', 'old')
    const [k] = entryKey()
    const old = localStorage.getItem(k!)!
    await store.set('token', 'new')
    localStorage.setItem(k!, old)
    expect(await store.get('token')).toBe('old')
  })
})

describe('keys and errors as apps meet them', () => {
  it('accepts the server key as base64url, padded or not', async () => {
    const key = serverKey()
    const url = base64(key).replace(/\+/g, '-').replace(/\//g, '_')
    const { store } = await openStore({ key: url })
    await store.set('k', 'v')
    store.close()
    const again = await openStore({ key: url.replace(/=+$/, '') })
    expect(await again.store.get('k')).toBe('v')
  })

  it('errors carry codes: wrong-key, storage-refused, closed, invalid-argument', async () => {
    const codeOf = (promise: Promise<unknown>): Promise<unknown> =>
      promise.then(
        () => 'no error',
        (error) => (error as { code?: string }).code,
      )
    const { store } = await openStore({ key: serverKey() })
    await store.set('k', 'v')
    expect(
      await codeOf(PersistentKeystore.open({ namespace: 'user:1:s1', key: serverKey(), cleanupInterval: false })),
    ).toBe('wrong-key')
    const memory = memoryAdapter()
    const other = await openStore({ key: serverKey(), storage: memory.adapter, namespace: 'x' })
    memory.faults.throwOn.add('set')
    expect(await codeOf(other.store.set('k', 'v'))).toBe('storage-refused')
    expect(await codeOf(store.get(5 as never))).toBe('invalid-argument')
    store.close()
    expect(await codeOf(store.get('k'))).toBe('closed')
  })
})

describe('review: races and failures while opening or closing', () => {
  it('a set() still running when close() is called writes nothing, under no key (it used to seal under zeros)', async () => {
    const memory = memoryAdapter()
    const { store } = await openStore({ key: serverKey(), storage: memory.adapter })
    const before = new Set(memory.map.keys())
    const pending = store.set('masterKey', 'TOP-SECRET')
    store.close()
    await expect(pending).rejects.toMatchObject({ code: 'closed' })
    expect([...memory.map.keys()].filter((k) => !before.has(k))).toEqual([])
  })

  it('open() that fails on the storage closes what it built (no cleanup timer left running)', async () => {
    const memory = memoryAdapter()
    memory.faults.throwOn.add('get')
    const intervals = vi.spyOn(globalThis, 'setInterval')
    const cleared = vi.spyOn(globalThis, 'clearInterval')
    await expect(
      PersistentKeystore.open({ namespace: 'n', key: serverKey(), storage: memory.adapter }),
    ).rejects.toThrow('get failed')
    expect(intervals).toHaveBeenCalledTimes(1)
    expect(cleared).toHaveBeenCalledWith(intervals.mock.results[0]!.value)
  })
})

describe('review: the key check, delete, clear and the nonce', () => {
  const checkKey = 'tab-keystore:p:user%3A1%3As1:'
  const entryOf = (name: string) => `${checkKey}.${name}`
  const codeOf = (promise: Promise<unknown>): Promise<unknown> =>
    promise.then(
      () => 'no error',
      (error) => (error as { code?: string }).code,
    )
  // Well-formed, as the library writes records, but sealed under no key at all.
  const forgedCheck = JSON.stringify({ v: 2, e: null, n: base64(new Uint8Array(12)), c: base64(new Uint8Array(48)) })

  it('a missing or junk check entry lets in only a key that opens the entries, and no other key overwrites it', async () => {
    const key = serverKey()
    const { store } = await openStore({ key })
    await store.set('token', 'kept')
    store.close()
    for (const check of [null, 'not json', forgedCheck]) {
      if (check === null) localStorage.removeItem(checkKey)
      else localStorage.setItem(checkKey, check)
      const before = { ...localStorage }
      expect(
        await codeOf(PersistentKeystore.open({ namespace: 'user:1:s1', key: serverKey(), cleanupInterval: false })),
      ).toBe('wrong-key')
      expect({ ...localStorage }).toEqual(before)
      const again = await openStore({ key })
      expect(await again.store.get('token')).toBe('kept')
      again.store.close()
      // The right key wrote a new check: a wrong key is now refused by it.
      expect(localStorage.getItem(checkKey)).not.toBe(check)
      expect(
        await codeOf(PersistentKeystore.open({ namespace: 'user:1:s1', key: serverKey(), cleanupInterval: false })),
      ).toBe('wrong-key')
    }
  })

  it('a namespace without entries is new: a missing or junk check is (re)written under the key given', async () => {
    localStorage.setItem(checkKey, 'not json')
    const key = serverKey()
    await openStore({ key })
    expect(localStorage.getItem(checkKey)).not.toBe('not json')
    expect(
      await codeOf(PersistentKeystore.open({ namespace: 'user:1:s1', key: serverKey(), cleanupInterval: false })),
    ).toBe('wrong-key')
  })

  it('open() rejects, writing no check, when listing the entries fails with the check missing', async () => {
    const memory = memoryAdapter()
    const key = serverKey()
    const { store } = await openStore({ key, storage: memory.adapter })
    await store.set('token', 'kept')
    store.close()
    memory.map.delete(checkKey)
    memory.faults.throwOn.add('keys')
    await expect(
      PersistentKeystore.open({
        namespace: 'user:1:s1',
        key: serverKey(),
        storage: memory.adapter,
        cleanupInterval: false,
      }),
    ).rejects.toThrow('keys failed')
    expect(memory.map.has(checkKey)).toBe(false)
  })

  it('delete() authenticates first: only a live, authentic entry is reported and resolves to true; a forgery goes quietly', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const { store, events } = await openStore({ key: serverKey() })
    await store.set('real', 'x')
    await store.set('soon', 'y', Date.now() + 1000)
    localStorage.setItem(entryOf('forged'), localStorage.getItem(entryOf('real'))!)
    localStorage.setItem(entryOf('junk'), 'not json')
    events.length = 0
    expect(await store.delete('forged')).toBe(false)
    expect(await store.delete('junk')).toBe(false)
    expect(localStorage.getItem(entryOf('forged'))).toBeNull()
    expect(localStorage.getItem(entryOf('junk'))).toBeNull()
    expect(events).toEqual([])
    vi.setSystemTime(Date.now() + 2000)
    expect(await store.delete('soon')).toBe(false) // as has('soon') says
    expect(await store.delete('real')).toBe(true)
    expect(await store.delete('real')).toBe(false)
    expect(events).toEqual(['expired:soon', 'deleted:real'])
  })

  it('delete() rejects with storage-refused when the storage does not delete, and the entry stays', async () => {
    const memory = memoryAdapter()
    const { store, events } = await openStore({ key: serverKey(), storage: memory.adapter })
    await store.set('k', 'v')
    memory.faults.throwOn.add('delete')
    expect(await codeOf(store.delete('k'))).toBe('storage-refused')
    memory.faults.throwOn.clear()
    expect(await store.get('k')).toBe('v')
    expect(events).not.toContain('deleted:k')
  })

  it('clear() reports only entries that authenticate, and removes the rest quietly', async () => {
    const { store, events } = await openStore({ key: serverKey() })
    await store.set('real', 'x')
    localStorage.setItem(entryOf('forged'), localStorage.getItem(entryOf('real'))!)
    localStorage.setItem(entryOf('junk'), 'not json')
    events.length = 0
    await store.clear()
    expect(events).toEqual(['deleted:real'])
    expect(Object.keys(localStorage)).toEqual([checkKey])
  })

  /** A record as format 2 sealed it (ChaCha20-Poly1305, a 12-byte nonce): as format 2 wrote it, step by step. */
  async function sealV2(
    key: Uint8Array,
    name: string,
    kind: number,
    value: Uint8Array,
    e: number | null,
  ): Promise<string> {
    const material = await crypto.subtle.importKey('raw', new Uint8Array(key), 'HKDF', false, ['deriveBits'])
    const info = new TextEncoder().encode('user:1:s1')
    const salt = new TextEncoder().encode('tab-keystore/persistent/2')
    const derived = new Uint8Array(
      await crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt, info }, material, 256),
    )
    const plain = new Uint8Array(padLength(5 + value.length))
    plain[0] = kind
    new DataView(plain.buffer).setUint32(1, value.length)
    plain.set(value, 5)
    const nonce = crypto.getRandomValues(new Uint8Array(12))
    const ad = new TextEncoder().encode(JSON.stringify(['tab-keystore/persistent/2', 'user:1:s1', name, e]))
    return JSON.stringify({ v: 2, e, n: base64(nonce), c: base64(chacha20poly1305(derived, nonce, ad).encrypt(plain)) })
  }

  it('a vault written in format 2 (ChaCha20-Poly1305) still opens; a new set() rewrites the entry with a 24-byte nonce', async () => {
    const key = serverKey()
    const until = Date.now() + 60_000
    localStorage.setItem(checkKey, await sealV2(key, '\0check', 1, new TextEncoder().encode('tab-keystore'), null))
    localStorage.setItem(entryOf('masterKey'), await sealV2(key, 'masterKey', 1, new Uint8Array([1, 2, 3]), null))
    localStorage.setItem(entryOf('token'), await sealV2(key, 'token', 0, new TextEncoder().encode('old ✓'), until))
    expect(
      await codeOf(PersistentKeystore.open({ namespace: 'user:1:s1', key: serverKey(), cleanupInterval: false })),
    ).toBe('wrong-key')
    const { store, events } = await openStore({ key })
    expect(await store.get('masterKey')).toEqual(new Uint8Array([1, 2, 3]))
    expect(await store.get('token')).toBe('old ✓')
    expect((await store.keys()).sort()).toEqual(['masterKey', 'token'])
    await store.set('token', 'new')
    const record = JSON.parse(localStorage.getItem(entryOf('token'))!)
    expect(record.v).toBe(3)
    expect(atob(record.n).length).toBe(24)
    expect(await store.get('token')).toBe('new')
    expect(events.filter((e) => e.startsWith('error'))).toEqual([])
  })
})
