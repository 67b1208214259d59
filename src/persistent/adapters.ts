import { KeystoreError, invalid } from '../errors'

/** Where sealed entries go: a key-value store of strings, synchronous or not. */
export interface StorageAdapter {
  get(key: string): string | null | undefined | Promise<string | null | undefined>
  set(key: string, value: string): void | Promise<void>
  delete(key: string): void | Promise<void>
  keys(): Iterable<string> | Promise<Iterable<string>>
}

/** `localStorage` as an adapter. */
export function localStorageAdapter(storage: Storage = localStorage): StorageAdapter {
  return {
    get: (key) => storage.getItem(key),
    set: (key, value) => storage.setItem(key, value),
    delete: (key) => storage.removeItem(key),
    keys: () => Array.from({ length: storage.length }, (_, i) => storage.key(i)).filter((k): k is string => k !== null),
  }
}

/**
 * IndexedDB as an adapter: one object store of strings in database `databaseName`. One
 * connection, opened on first use, closed when another page deletes or upgrades the
 * database (a logout that deletes it must not wait for this page), and opened again if
 * a first attempt failed.
 *
 * @example
 * await PersistentKeystore.open({ namespace, key, storage: indexedDBAdapter() })
 */
export function indexedDBAdapter(databaseName = 'tab-keystore'): StorageAdapter {
  let db: Promise<IDBDatabase> | undefined
  const promised = <T>(request: IDBRequest<T>): Promise<T> =>
    new Promise((resolve, reject) => {
      request.onsuccess = () => resolve(request.result)
      request.onerror = () => reject(request.error)
    })
  const connect = (): Promise<IDBDatabase> =>
    new Promise((resolve, reject) => {
      const request = indexedDB.open(databaseName, 1)
      request.onupgradeneeded = () => request.result.createObjectStore('entries')
      request.onsuccess = () => {
        const connection = request.result
        connection.onversionchange = () => {
          connection.close()
          db = undefined
        }
        resolve(connection)
      }
      request.onerror = () => reject(request.error)
    })
  const store = async (mode: IDBTransactionMode): Promise<IDBObjectStore> => {
    const opening = (db ??= connect().catch((error: unknown) => {
      db = undefined
      throw error
    }))
    return (await opening).transaction('entries', mode).objectStore('entries')
  }
  return {
    get: async (key) => promised<string | undefined>((await store('readonly')).get(key)),
    set: async (key, value) => void (await promised((await store('readwrite')).put(value, key))),
    delete: async (key) => void (await promised((await store('readwrite')).delete(key))),
    keys: async () =>
      (await promised((await store('readonly')).getAllKeys())).filter((k): k is string => typeof k === 'string'),
  }
}

/** The built-in IndexedDB adapter, made once: drop() and namespaces() reuse its open connection. */
let sharedIndexedDB: StorageAdapter | undefined

export function adapterFor(storage: 'localStorage' | 'indexedDB' | StorageAdapter | undefined): StorageAdapter {
  if (storage === undefined || storage === 'localStorage') {
    if (typeof localStorage !== 'object') {
      throw new KeystoreError(
        'storage-unavailable',
        "options.storage: there is no localStorage here (Node, SSR or a worker); pass 'indexedDB' where it exists, or an adapter with get, set, delete and keys",
      )
    }
    return localStorageAdapter()
  }
  if (storage === 'indexedDB') return (sharedIndexedDB ??= indexedDBAdapter())
  if (
    storage &&
    typeof storage === 'object' &&
    ['get', 'set', 'delete', 'keys'].every(
      (m) => typeof (storage as unknown as Record<string, unknown>)[m] === 'function',
    )
  ) {
    return storage
  }
  return invalid('options.storage', "'localStorage', 'indexedDB' or an adapter with get, set, delete and keys", storage)
}
