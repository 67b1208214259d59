// Keys through what real apps and devices do (issue 16): pages the back/forward cache
// refuses, renderer crashes, background kills, storage that is full.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { engine, eventsOf, named, open, pageUrl, setup } from './helpers.js'

const env = setup({ bfcache: true })
let n = 0
const app = (query = '') => pageUrl(env.server.origin, `?real=${++n}${query}`)
const other = () => `${env.server.otherSite}/e2e/pages/peek.html?real=${++n}`
const errors = async (page) => (await eventsOf(page, 'error')).map((e) => e.reason)
const cached = async (page) => (await eventsOf(page, 'pageshow')).at(-1)?.persisted === true
const openSocket = (page) =>
  page.eval(
    () =>
      new Promise((resolve, reject) => {
        window.socket = new WebSocket(`${location.origin.replace('http', 'ws')}/ws`)
        window.socket.onopen = resolve
        window.socket.onerror = reject
      }),
  )

// Measured (3 runs each, see the README's browser table): Firefox keeps a page with an open
// WebSocket out of the cache, and closing it in pagehide or at navigate does not help;
// Chromium and WebKit cache it.
test(
  named(
    '16.1 a page with an open WebSocket, across a trip to another site: its keys come back from the cache, or the loss is told (left-origin)',
  ),
  async () => {
    const context = await env.browser.newContext()
    const page = await open(context, app())
    await page.eval(() => window.store.set('k', 'held by a page with a WebSocket'))
    await openSocket(page)
    await page.navigate(other())
    await page.back()
    const fromCache = await cached(page)
    console.log(
      `[${engine.name}] a page with an open WebSocket ${fromCache ? 'came back from the cache' : 'was loaded afresh'}`,
    )
    if (fromCache)
      assert.deepEqual(
        [await page.eval(() => window.store.get('k')), await errors(page)],
        ['held by a page with a WebSocket', []],
      )
    else assert.deepEqual([await page.eval(() => window.store.size), await errors(page)], [0, ['left-origin']])
    assert.equal(fromCache, engine.name !== 'firefox', 'as measured: only Firefox refuses it')
    await context.close()
  },
)

// A link out to another site that redirects straight back (a single sign-on bounce): the
// page left for another origin as far as it could know, so the keys stay in its memory;
// their loss is told. Measured: left-origin in all three engines (Chromium's and WebKit's
// pageswap, too, name no activation for it).
test(
  named('16.2 a link to another site that redirects back into the app: the keys arrive, or their loss is told'),
  async () => {
    const context = await env.browser.newContext()
    const page = await open(context, app())
    await page.eval(() => window.store.set('k', 'through a bounce'))
    await page.navigate(`${env.server.otherSite}/redirect?to=${encodeURIComponent(app())}`)
    const [value, told] = [await page.eval(() => window.store.get('k')), await errors(page)]
    console.log(
      `[${engine.name}] after a bounce through another site: ${value === null ? `keys lost, told ${told.join(', ')}` : 'keys kept'}`,
    )
    if (value === null)
      assert.ok(
        told.some((reason) => ['missing-share', 'left-origin'].includes(reason)),
        `the loss is told: ${told}`,
      )
    else assert.deepEqual([value, told], ['through a bounce', []])
    await context.close()
  },
)

test(
  named(
    '16.1 with the tabs option, another open tab hands the keys back to a page that lost them on a trip to another site',
  ),
  async () => {
    // Without the cache, every engine loads the page afresh after the trip (left-origin).
    const browser = await engine.launch({ bfcache: false })
    try {
      const context = await browser.newContext()
      const page = await open(context, app('&tabs=1'))
      await page.eval(() => window.store.set('k', 'handed back'))
      const keeper = await open(context, app('&tabs=1'))
      await keeper.waitFor(() => window.store.get('k') === 'handed back', [], {
        message: 'the second tab to get the keys',
      })
      await page.navigate(other())
      await page.back()
      await page.waitFor(() => window.events.some((e) => e.event === 'restored' && e.source === 'tab'), [], {
        message: 'a handoff',
      })
      assert.deepEqual(
        [await page.eval(() => window.store.get('k')), await errors(page)],
        ['handed back', ['left-origin']],
      )
      await context.close()
    } finally {
      await browser.close()
    }
  },
)

test(
  named(
    '16.1 the recipe for a page holding a Web Lock: released at navigate and pagehide, taken again at pageshow, the page stays cacheable and keeps its keys',
  ),
  async () => {
    const context = await env.browser.newContext()
    const page = await open(context, app())
    await page.eval(() => {
      window.store.set('k', 'held by a page with a lock')
      let release
      const take = () => navigator.locks.request('app-lock', () => new Promise((resolve) => (release = resolve)))
      const letGo = () => release?.()
      take()
      // Firefox decides before pagehide whether a page may be cached (measured): let go at navigate too.
      window.navigation?.addEventListener('navigate', letGo)
      addEventListener('pagehide', letGo)
      addEventListener('pageshow', (event) => event.persisted && take())
    })
    await page.navigate(other())
    await page.back()
    assert.equal(await cached(page), true, 'the page came back from the cache')
    assert.deepEqual(
      [await page.eval(() => window.store.get('k')), await errors(page)],
      ['held by a page with a lock', []],
    )
    await context.close()
  },
)

test(
  named('16.2 a renderer crash with keys and nothing sealed: the reload is told (lost), not left empty in silence'),
  { skip: engine.name !== 'chromium' && 'no driver here crashes a Firefox or WebKit renderer' },
  async () => {
    const context = await env.browser.newContext()
    const page = await open(context, app())
    await page.eval(() => window.store.set('k', 'in a page that crashes'))
    await page.sleep(100)
    await page.crashAndReload()
    assert.deepEqual([await page.eval(() => window.store.size), await errors(page)], [0, ['lost']])
    await context.close()
  },
)

test(named('16.2 storage too full for the sealed state: the next page is told (quota)'), async () => {
  const context = await env.browser.newContext()
  const page = await open(context, app())
  await page.eval(() => {
    // The app filled sessionStorage itself (all but one 256 Ki-unit chunk of it).
    const chunk = 'x'.repeat(256 * 1024)
    for (let i = 0; ; i++) {
      try {
        sessionStorage.setItem(`app-${i}`, chunk)
      } catch {
        break
      }
    }
    sessionStorage.removeItem('app-0')
    window.store.set('k', new Uint8Array(1_000_000)) // sealed, about 530 K units: more than is left
  })
  await page.reload()
  assert.deepEqual([await page.eval(() => window.store.size), await errors(page)], [0, ['quota']])
  await page.eval(() => sessionStorage.clear())
  await context.close()
})

test(
  named(
    '16.3 sealWhenHidden: a page killed while hidden comes back with its keys; shown again, it takes its seal back',
  ),
  { skip: engine.name !== 'chromium' && "only Chromium's driver can hide a page and crash it" },
  async () => {
    const browser = await engine.launchTabs()
    try {
      const page = await browser.newPage(app('&hidden'))
      await page.ready()
      await page.eval(() => window.store.set('k', 'kept through a background kill'))
      const sealed = () => page.eval(() => sessionStorage.getItem('tab-keystore:e2e') !== null)
      assert.equal(await sealed(), false, 'nothing sealed while the page is shown')
      const front = await browser.newPage(other())
      await front.front()
      await page.waitFor(() => document.visibilityState === 'hidden', [], { message: 'the page to be hidden' })
      assert.equal(await sealed(), true, 'sealed while hidden')
      await page.front()
      await page.waitFor(() => document.visibilityState === 'visible')
      assert.equal(await sealed(), false, 'shown again: the seal taken back')
      await front.front()
      await page.waitFor(() => document.visibilityState === 'hidden')
      await page.crashAndReload()
      assert.deepEqual(
        [await page.eval(() => window.store.get('k')), await errors(page)],
        ['kept through a background kill', []],
      )
    } finally {
      await browser.close()
    }
  },
)
