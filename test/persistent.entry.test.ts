import { describe, expect, it } from 'vitest'
import { entryKey, nameOf, namespaceOf, prefixOf } from '../src/persistent/entry'

// Storage keys are read back from storage that anyone on the origin can write: what is
// not exactly ours must be passed over, never misread as another name or namespace.
describe('persistent storage keys', () => {
  it('a name comes back from its key, whatever it holds; keys of the check, of other namespaces or broken give none', () => {
    const prefix = prefixOf('user:1:s1')
    for (const name of ['k', '', 'a.b:c', '100%', 'ключ ✓']) expect(nameOf(prefix, entryKey(prefix, name))).toBe(name)
    expect(nameOf(prefix, prefix)).toBeUndefined()
    expect(nameOf(prefix, entryKey(prefixOf('user:1:s2'), 'k'))).toBeUndefined()
    expect(nameOf(prefixOf('a'), entryKey(prefixOf('a:.b'), 'k'))).toBeUndefined()
    expect(nameOf(prefix, `${prefix}.%E0%A4%A`)).toBeUndefined()
    expect(nameOf(prefix, 42)).toBeUndefined()
  })

  it('a namespace comes back from its check and its entries; keys not ours give none', () => {
    const prefix = prefixOf('user:1:ü%.')
    expect(namespaceOf(prefix)).toBe('user:1:ü%.')
    expect(namespaceOf(entryKey(prefix, 'k:1'))).toBe('user:1:ü%.')
    expect(namespaceOf('unrelated')).toBeUndefined()
    expect(namespaceOf('tab-keystore:p:no-colon')).toBeUndefined()
    expect(namespaceOf('tab-keystore:p:%E0%A4%A:.k')).toBeUndefined()
  })
})
