import { afterEach, describe, expect, it, vi } from 'vitest'
import { openTab, type TabStorage } from '../../src/lifecycle/tab'
import { refusing } from './page'

afterEach(() => {
  vi.restoreAllMocks()
  sessionStorage.clear()
  localStorage.clear()
})

const tab = (copy = false): TabStorage => openTab('app', copy) as TabStorage
const record = { g: '00000000000000a1', n: 1, w: 'live' as const, a: 5, k: 'ab', v: ['ab'] }

describe("the tab's storage", () => {
  it('keeps no id and no record until the first write, then one record per tab and store', () => {
    const storage = tab()
    expect(storage.record()).toBeUndefined()
    expect(sessionStorage.length + localStorage.length).toBe(0)
    expect(storage.write(record)).toBe(true)
    const id = sessionStorage.getItem('tab-keystore/tab/app')!
    expect(id).toMatch(/^[0-9a-f]{16}$/)
    expect(Object.keys(localStorage)).toEqual([`tab-keystore/tab/${id}/app`])
    expect(tab().record()).toMatchObject(record)
  })

  it('a record that is not one (junk another script left) or is gone vouches for nothing: null, not a new tab', () => {
    tab().write(record)
    const key = Object.keys(localStorage)[0]!
    for (const junk of [
      '',
      '{',
      'null',
      '[]',
      '{"g":1}',
      JSON.stringify({ ...record, g: 'not hex' }),
      JSON.stringify({ ...record, w: 'elsewhere' }),
      JSON.stringify({ ...record, w: 'slot' }),
    ]) {
      localStorage.setItem(key, junk)
      expect(tab().record(), junk).toBeNull()
    }
    localStorage.clear()
    expect(tab().record()).toBeNull()
  })

  it('vouches for the last 32 shares: an older one falls off, and is then no longer trusted', () => {
    const storage = tab()
    storage.write({ ...record, v: Array.from({ length: 40 }, (_, i) => `t${i}`) })
    expect(storage.record()!.v).toEqual(Array.from({ length: 32 }, (_, i) => `t${i + 8}`))
  })

  it('a write storage refuses removes the record: no older record stays to vouch for an older state', () => {
    const storage = tab()
    expect(storage.write(record)).toBe(true)
    expect(
      refusing(
        localStorage,
        () => true,
        () => storage.write({ ...record, g: '00000000000000b2' }),
      ),
    ).toBe(false)
    expect(storage.record()).toBeNull()
  })

  it("a copy (a window another page opened) drops the opener's id and seal, unread", () => {
    tab().write(record)
    sessionStorage.setItem('tab-keystore:app', 'sealed by the opener')
    const copy = tab(true)
    expect([copy.record(), copy.takeSealed(), sessionStorage.getItem('tab-keystore/tab/app')]).toEqual([
      undefined,
      null,
      null,
    ])
  })

  it('takes the seal out of sessionStorage as it reads it', () => {
    const storage = tab()
    storage.seal('sealed')
    expect([storage.takeSealed(), storage.takeSealed()]).toEqual(['sealed', null])
  })

  it('sweeps what closed tabs left: records after 30 days, seals in transit after a minute, keys of earlier versions', () => {
    const now = Date.now()
    const other = (id: string, value: object): void =>
      localStorage.setItem(`tab-keystore/tab/${id}/app`, JSON.stringify({ ...record, ...value }))
    other('0000000000000001', { t: now - 3_600_000 }) // an open tab, quiet for an hour: kept
    other('0000000000000009', { t: now - 20 * 86_400_000 }) // idle for 20 days: kept
    other('0000000000000002', { t: now - 31 * 86_400_000 })
    other('0000000000000003', { t: now - 120_000, w: 'slot', s: 'x' })
    other('0000000000000004', { t: now - 1000, w: 'slot', s: 'x' }) // in transit: kept
    localStorage.setItem('tab-keystore/tab/0000000000000005/app', 'junk')
    localStorage.setItem(`tab-keystore/back/0000000000000006/app`, `${now}:old slot`)
    localStorage.setItem(`tab-keystore/cleared/0000000000000007/app`, `${now}-x`)
    localStorage.setItem(`tab-keystore/tab/0000000000000008/other-store`, 'not ours to judge')
    localStorage.setItem('tab-keystore/logout/app', 'epoch')
    localStorage.setItem('tab-keystore/tab/000000000000000a/app', 'null')
    tab()
    expect(Object.keys(localStorage).sort()).toEqual([
      'tab-keystore/logout/app',
      'tab-keystore/tab/0000000000000001/app',
      'tab-keystore/tab/0000000000000004/app',
      'tab-keystore/tab/0000000000000008/other-store',
      'tab-keystore/tab/0000000000000009/app',
    ])
  })

  it('reports unusable sessionStorage, and unusable localStorage: without the record nothing can be vouched for', () => {
    vi.spyOn(window, 'sessionStorage', 'get').mockImplementation(() => {
      throw new DOMException('sandboxed', 'SecurityError')
    })
    expect(openTab('app', false)).toHaveProperty('error')
    vi.restoreAllMocks()
    vi.spyOn(window, 'localStorage', 'get').mockImplementation(() => {
      throw new DOMException('blocked', 'SecurityError')
    })
    expect(openTab('app', false)).toHaveProperty('error')
    vi.restoreAllMocks()
    vi.spyOn(window, 'localStorage', 'get').mockReturnValue(null as never)
    expect(openTab('app', false)).toHaveProperty('error')
  })

  it('names the pages of the tab (public keys): kept by every write, the newest 8, and a refused one leaves the record as it was', () => {
    const storage = tab()
    storage.publish('p0', 'k0')
    expect(storage.record()).toBeUndefined()
    storage.write(record)
    for (let i = 0; i < 10; i++) storage.publish(`p${i}`, `k${i}`)
    storage.publish('p5', undefined)
    expect(storage.record()!.p).toEqual([2, 3, 4, 6, 7, 8, 9].map((i) => [`p${i}`, `k${i}`]))
    storage.write({ ...record, g: '00000000000000b2' })
    expect(storage.record()).toMatchObject({ g: '00000000000000b2', p: expect.arrayContaining([['p9', 'k9']]) })
    const before = localStorage.getItem(Object.keys(localStorage).find((k) => k.startsWith('tab-keystore/tab/'))!)
    refusing(
      localStorage,
      () => true,
      () => storage.publish('p10', 'k10'),
    )
    expect(localStorage.getItem(Object.keys(localStorage).find((k) => k.startsWith('tab-keystore/tab/'))!)).toBe(before)
    // Control: a refused write of the state removes the record (it would vouch for an older state).
    refusing(
      localStorage,
      () => true,
      () => storage.write(record),
    )
    expect(storage.record()).toBeNull()
  })
})
