// Sealed to the page that will show it (issue 25, DESIGN.md): a page of the tab back from
// the back/forward cache after a visit to another site takes the tab's newer state, sealed
// to it alone by the page that held it, where before it dropped its keys (`stale`). And the
// hostile side: that seal opens in no other page nor tab, an older one is refused, and a
// page the record does not name meets the old rule (its keys go, told).
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { collect, engine, eventsOf, named, open, pageUrl, setup } from './helpers.js'
import { openFromDisk, runsOnDisk, sealsIn, sharesIn } from './offline.js'
import { startServer } from './server.js'

const env = setup({ bfcache: true })
let n = 0
const app = () => pageUrl(env.server.origin, `?peers=${++n}`)
const other = () => `${env.server.otherSite}/e2e/pages/peek.html?peers=${++n}`
const keys = (page) => page.eval(() => Object.fromEntries(window.store.keys().map((k) => [k, window.store.get(k)])))
const errors = async (page) => (await eventsOf(page, 'error')).map((e) => e.reason)
/** What a test's rewrite of the record left as proof that it ran. */
const tampered = (page) => page.eval(() => localStorage.getItem('tampered'))
const persisted = async (page) => (await eventsOf(page, 'pageshow')).at(-1)?.persisted
/** The record of the tab as the shown page finds it (no secrets: public keys and ciphertexts). */
const record = (page) =>
  page.eval(() =>
    JSON.parse(localStorage.getItem(`tab-keystore/tab/${sessionStorage.getItem('tab-keystore/tab/e2e')}/e2e`)),
  )

/**
 * Set a=1, link, link to X, a link back into the app (a new page: a=1 stayed with the page
 * left for X, told), set b: the page it returns, once it knows the pages before it.
 */
async function laterPage(context, b = '2') {
  const page = await open(context, app())
  await page.eval(() => window.store.set('a', '1'))
  await page.navigate(app())
  await page.navigate(other())
  await page.navigate(app())
  assert.deepEqual([await keys(page), await errors(page)], [{}, ['left-origin']], 'the new page lost a=1, told')
  await page.eval((b) => window.store.set('b', b), b)
  // The page's key pair and the keys it shares with the pages before it are made off the
  // load's path: a user takes longer than this to click.
  await page.waitFor(
    () =>
      JSON.parse(localStorage.getItem(`tab-keystore/tab/${sessionStorage.getItem('tab-keystore/tab/e2e')}/e2e`)).p
        .length >= 3,
  )
  await page.sleep(50)
  return page
}

/**
 * The later page goes `history.go(-2)`, over X's entry, to the second page, which the
 * cache kept: the share it holds is not the one the later page sealed with (Chromium:
 * moved on since X could read it; Firefox and WebKit: cleared by X's visit). `tamper`, run
 * in the later page, rewrites what it writes to the record as it leaves.
 */
async function overAnotherSite(context, tamper) {
  const page = await laterPage(context)
  if (tamper) await page.eval(tamper)
  await page.go(-2)
  assert.equal(await persisted(page), true, 'the page came back from the back/forward cache')
  await page.sleep(100)
  return page
}

test(
  named('25.1 over another site, a page back from the cache takes the newer state sealed to it: no stale'),
  async () => {
    const context = await env.browser.newContext()
    const page = await overAnotherSite(context)
    assert.deepEqual([await keys(page), await errors(page)], [{ b: '2' }, []], 'the latest state, and nothing lost')
    const [shown] = await page.eval(() => window.atShow)
    assert.deepEqual(shown, { pending: true, keys: [] }, 'right after pageshow: pending, and no older key shown')
    const after = await record(page)
    assert.equal(after.e, undefined, 'taken: the seal to the pages no longer rests in the record')
    await page.reload()
    assert.deepEqual([await keys(page), await errors(page)], [{ b: '2' }, []], 'and it is the tab’s state from now on')
    await context.close()
  },
)

test(
  named('25.1 the address bar to another site, Back, a change, Back: the first page takes the change'),
  { skip: engine.name === 'firefox' && "Firefox's driver cannot use the address bar on a page the cache may restore" },
  async () => {
    const context = await env.browser.newContext()
    const page = await open(context, app())
    await page.eval(() => window.store.set('a', '1'))
    await page.navigate(app())
    await page.sleep(50)
    await page.goto(other(), { ready: false })
    await page.waitFor((origin) => location.origin === origin && window.ready === true, [env.server.otherSite])
    await page.back()
    assert.deepEqual(await keys(page), { a: '1' }, 'back from the other site, the page kept its keys')
    await page.eval(() => window.store.set('b', '2'))
    await page.sleep(50)
    await page.back()
    assert.equal(await persisted(page), true)
    await page.sleep(100)
    assert.deepEqual([await keys(page), await errors(page)], [{ a: '1', b: '2' }, []])
    await context.close()
  },
)

// Hostile: the later page's writes are rewritten as it leaves, as a script in storage could.
const SWAP_WRAPS = () => {
  const { setItem } = Storage.prototype
  Storage.prototype.setItem = function (key, value) {
    if (key.startsWith('tab-keystore/tab/')) {
      const r = JSON.parse(value)
      // Each page's wrap put under the next page's id: every page finds one, none its own.
      if (r.e && r.e.r.length > 1) {
        r.e.r = r.e.r.map((w, i, all) => [all[(i + 1) % all.length][0], w[1]])
        setItem.call(localStorage, 'tampered', String(r.e.r.length))
      }
      value = JSON.stringify(r)
    }
    return setItem.call(this, key, value)
  }
}

test(named('25.3 a wrap sealed to one page, put under another page’s id, opens nowhere: stale, told'), async () => {
  const context = await env.browser.newContext()
  const page = await overAnotherSite(context, SWAP_WRAPS)
  assert.equal(await tampered(page), '2', 'the seal had a wrap for each earlier page, and they were swapped')
  assert.deepEqual([await keys(page), await errors(page)], [{}, ['stale']], 'nothing opened, and the loss is told')
  await context.close()
})

test(
  named('25.3 a seal of another tab, copied into this tab’s record under its pages’ ids, opens nowhere'),
  async () => {
    const context = await env.browser.newContext()
    // Tab A leaves a seal to its pages in its record (its page goes Back, over X, to a page in the cache).
    const a = await laterPage(context, 'tab A')
    await a.eval(() => {
      const { setItem } = Storage.prototype
      Storage.prototype.setItem = function (key, value) {
        if (key.startsWith('tab-keystore/tab/') && JSON.parse(value).e) localStorage.setItem('stolen', value)
        return setItem.call(this, key, value)
      }
    })
    await a.go(-2)
    await a.sleep(100)
    // Tab B (another tab of the origin) goes the same way; its later page puts tab A's seal
    // in its own record as it leaves, re-addressed to tab B's pages and generation.
    const b = await overAnotherSite(context, () => {
      const stolen = JSON.parse(localStorage.getItem('stolen')).e
      const { setItem } = Storage.prototype
      Storage.prototype.setItem = function (key, value) {
        if (key.startsWith('tab-keystore/tab/') && key !== 'stolen') {
          const r = JSON.parse(value)
          if (r.e) {
            r.e = { ...stolen, g: r.g, r: r.e.r.map(([id], i) => [id, stolen.r[i % stolen.r.length][1]]) }
            setItem.call(localStorage, 'tampered', 'tab A')
          }
          value = JSON.stringify(r)
        }
        return setItem.call(this, key, value)
      }
    })
    assert.equal(await tampered(b), 'tab A', 'tab B left with tab A’s seal in its record')
    assert.deepEqual([await keys(b), await errors(b)], [{}, ['stale']], 'tab B opened nothing of tab A’s')
    await context.close()
  },
)

test(named('25.3 an older seal to the same page, replayed under the newer generation, is refused'), async () => {
  const context = await env.browser.newContext()
  const page = await laterPage(context, 'old')
  // Keep the seal this page leaves with: b=old, to the earlier pages.
  await page.eval(() => {
    const { setItem } = Storage.prototype
    Storage.prototype.setItem = function (key, value) {
      if (key.startsWith('tab-keystore/tab/') && JSON.parse(value).e) setItem.call(this, 'older', value)
      return setItem.call(this, key, value)
    }
  })
  await page.back()
  await page.forward()
  assert.equal(await persisted(page), true)
  // Now b=new, and as the page leaves the record gets the older seal back, with the newer generation.
  await page.eval(() => {
    window.store.set('b', 'new')
    const older = JSON.parse(localStorage.getItem('older')).e
    const { setItem } = Storage.prototype
    Storage.prototype.setItem = function (key, value) {
      if (key.startsWith('tab-keystore/tab/')) {
        const r = JSON.parse(value)
        if (r.e) {
          r.e = { ...older, g: r.g }
          setItem.call(localStorage, 'tampered', 'older')
        }
        value = JSON.stringify(r)
      }
      return setItem.call(this, key, value)
    }
  })
  await page.sleep(50)
  await page.go(-2)
  assert.equal(await persisted(page), true)
  await page.sleep(100)
  assert.equal(await tampered(page), 'older')
  assert.deepEqual([await keys(page), await errors(page)], [{}, ['stale']], 'never b=old; the loss is told')
  await context.close()
})

test(
  named('25.2 a page the record no longer names (fell off the list, or rewritten) drops its keys, told'),
  async () => {
    const context = await env.browser.newContext()
    const page = await overAnotherSite(context, () => {
      const { setItem } = Storage.prototype
      Storage.prototype.setItem = function (key, value) {
        if (key.startsWith('tab-keystore/tab/')) {
          const r = JSON.parse(value)
          if (r.e) setItem.call(localStorage, 'tampered', 'removed')
          delete r.e
          value = JSON.stringify(r)
        }
        return setItem.call(this, key, value)
      }
    })
    assert.equal(await tampered(page), 'removed')
    assert.deepEqual([await keys(page), await errors(page)], [{}, ['stale']])
    await context.close()
  },
)

test(
  named(
    "25.3 Chromium, from the profile's own files after the browser closed: the seal to the pages of the tab opens with no share the tab ever had, nor with what the site saw",
  ),
  {
    skip:
      engine.name !== 'chromium' && 'a profile driven page in Chromium only (the other engines show no site the share)',
    timeout: 180_000,
  },
  async () => {
    const writes = []
    const spy = await startServer({ api: collect('/spy', writes) })
    const dir = await mkdtemp(join(tmpdir(), 'tab-keystore-peers-'))
    const url = () => pageUrl(spy.origin, `?spy&disk=${++n}`)
    const browser = await engine.launchProfile(dir, url(), { bfcache: true })
    try {
      const { page } = browser
      await page.ready()
      const own = []
      await page.eval(() => window.store.set('a', 'sealed to the pages of the tab'))
      own.push(...sharesIn(await page.eval(() => window.name)))
      await page.navigate(url())
      await page.eval(() => window.store.set('b', 'sealed to the pages of the tab'))
      own.push(...sharesIn(await page.eval(() => window.name)))
      await page.sleep(100)
      // The address bar: Chromium shows the site the share; the page seals only to the first page.
      await page.goto(`${spy.otherSite}/e2e/pages/peek.html?disk=${++n}`, { ready: false })
      await page.waitFor((origin) => location.origin === origin && window.ready === true, [spy.otherSite])
      const saw = sharesIn(await page.eval(() => window.name))
      await page.sleep(1000)
      await browser.close()
      const sealed = sealsIn(writes).filter((s) => s.kind === 'pages')
      assert.ok(sealed.length >= 2, 'the page sealed to the first page as it left (body and wrap)')
      assert.equal(saw.length, 1, 'Chromium showed the address-bar destination the share')
      const runs = await runsOnDisk(dir)
      const body = sealed.at(-2).text
      assert.ok(
        runs.some((run) => run.includes(body.slice(1, 200))),
        'control: the seal to the pages reached the disk, and the scan finds it',
      )
      const opened = await openFromDisk(
        dir,
        [...saw, ...own].map((s) => s.share),
      )
      assert.deepEqual(
        opened.filter((p) => p.includes('sealed to the pages')),
        [],
        'no share the tab had, nor what the site saw, opens it',
      )
      console.log(
        `[chromium] on disk: the seal to the pages found; ${opened.length} seal(s) open with the tab's shares, none of it`,
      )
    } finally {
      await browser.close().catch(() => undefined)
      await spy.close()
      await rm(dir, { recursive: true, force: true })
    }
  },
)
