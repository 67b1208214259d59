// The engine facts the design stands on (src/lifecycle.ts), measured again in each engine.
// Facts the code relies on are asserted; the others are printed, for the README's table.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { collect, engine, named, setup } from './helpers.js'
import { startServer } from './server.js'

const logs = []
const env = setup({
  api: collect('/log', logs),
})
const page = (origin, tag) => `${origin}/e2e/pages/facts.html?${tag}`
const facts = {}
const record = (fact, value) => {
  facts[fact] = value
  console.log(`[${engine.name}] ${fact}: ${JSON.stringify(value)}`)
}
/** The beacons of the last `ms`, as `event(persisted)` in the order the engine fired them. */
const lastEvents = async (since) => {
  await new Promise((resolve) => setTimeout(resolve, 400))
  return logs.filter((l) => l.at >= since).sort((a, b) => a.at - b.at)
}

test(named('engine facts'), async () => {
  const context = await env.browser.newContext()
  const tab = await context.newPage(page(env.server.origin, 'a'))
  const now = () => tab.eval(() => performance.timeOrigin + performance.now())

  // window.name written while alive, and while leaving (pagehide), across a reload.
  await tab.eval(() => {
    window.name = 'alive'
    window.onHide = () => (window.name = 'in-pagehide')
  })
  await tab.reload()
  record(
    'window.name written in pagehide reaches the reloaded page',
    (await tab.eval(() => window.info.name)) === 'in-pagehide',
  )
  assert.notEqual(await tab.eval(() => window.info.name), '', 'window.name survives a reload (relied on)')

  // Same-origin push and Back through the cache: event order, what the restored page sees.
  await tab.eval(() => {
    window.onHide = undefined
    sessionStorage.setItem('s', 'A')
    localStorage.setItem('l', 'A')
  })
  await tab.navigate(page(env.server.origin, 'b'))
  await tab.eval(() => {
    window.onHide = () => {
      sessionStorage.setItem('s', 'B-in-pagehide')
      localStorage.setItem('l', 'B-in-pagehide')
    }
  })
  const leftAt = await now()
  await tab.back()
  const back = await lastEvents(leftAt)
  const order = back
    .filter((e) => e.what === 'pagehide' || e.what === 'pageshow')
    .map((e) => `${e.what}(${e.persisted})`)
  record('order on Back into the cache', order.join(' then '))
  assert.ok(order.includes('pageshow(true)'), 'the page came back from the back/forward cache')
  await tab.sleep(300)
  const seen = await tab.eval(() => ({ session: sessionStorage.getItem('s'), local: localStorage.getItem('l') }))
  record('restored page sees a later sessionStorage write', seen.session === 'B-in-pagehide')
  record('restored page sees a later localStorage write', seen.local === 'B-in-pagehide')
  assert.equal(
    seen.local,
    'B-in-pagehide',
    'a page back from the cache sees localStorage live (relied on: the tab slot)',
  )
  const swap = back.find((e) => e.what === 'pageswap')
  const navigate = back.find((e) => e.what === 'navigate')
  record(
    'how a leaving page learns where it goes',
    swap ? `pageswap (activation: ${swap.activation})` : navigate ? `navigate event (${navigate.type})` : 'it does not',
  )
  assert.ok(swap || navigate, 'pageswap or the navigate event says a traversal is one (relied on)')

  // Another site: does it see window.name; what comes back, through the cache.
  await tab.eval(() => (window.name = 'S1-before-leaving'))
  const crossAt = await now()
  await tab.navigate(page(env.server.otherSite, 'x'))
  record('a cross-site page sees window.name', (await tab.eval(() => window.info.name)) === 'S1-before-leaving')
  await tab.eval(() => (window.name = 'written-by-the-other-site'))
  await tab.back()
  const crossEvents = await lastEvents(crossAt)
  const leavingSwap = crossEvents.find(
    (e) => e.what === 'pageswap' && e.at < crossEvents.find((x) => x.what === 'pageshow')?.at,
  )
  if (leavingSwap)
    assert.equal(leavingSwap.activation, null, 'pageswap has no activation for another origin (relied on)')
  record('window.name after coming back through the cache', await tab.eval(() => window.name))
  await tab.eval(() => (window.name = 'written-after-the-return'))
  await tab.reload()
  record(
    'first reload after that return keeps a write made after it',
    (await tab.eval(() => window.info.name)) === 'written-after-the-return',
  )

  // Another origin of the same site (another port of 127.0.0.1).
  const sameSite = await startServer()
  await tab.eval(() => (window.name = 'S1-before-leaving'))
  await tab.navigate(page(sameSite.origin, 'same-site'))
  record(
    'another origin of the same site sees window.name',
    (await tab.eval(() => window.info.name)) === 'S1-before-leaving',
  )
  await tab.back()
  await sameSite.close()

  // The Navigation API: same-origin history, and a fresh one after another origin.
  if (await tab.eval(() => Boolean(window.navigation))) {
    const first = await tab.eval(() => window.info.current)
    await tab.navigate(page(env.server.origin, 'c'))
    await tab.navigate(page(env.server.origin, 'd'))
    const detour = await tab.eval(() => window.info.entries)
    assert.ok(detour.includes(first), 'entries() holds the same-origin history (relied on)')
    await tab.navigate(page(env.server.otherSite, 'y'))
    await tab.navigate(page(env.server.origin, 'e'))
    const after = await tab.eval(() => window.info)
    assert.ok(
      !after.entries.includes(first) && after.from === null,
      'after another origin, a new same-origin history starts (relied on)',
    )
    record('Navigation API', 'entries() and activation.from as relied on')
  } else {
    record('Navigation API', 'absent: seals are not bound to a history entry')
  }
  await context.close()
})

test(named('engine facts: what another site is shown of window.name, and when a page can know'), async () => {
  const context = await env.browser.newContext()
  // Another site first, so that a Back from the app goes to another site.
  const tab = await context.newPage(page(env.server.otherSite, 'n0'))
  await tab.navigate(page(env.server.origin, 'n1'))
  const hasNavigation = await tab.eval(() => Boolean(window.navigation))
  // A page that takes window.name's value out in its `navigate` handler for another origin.
  const arm = () =>
    tab.eval(() => {
      window.name = 'S1-before-leaving'
      window.navigation?.addEventListener('navigate', (e) => {
        if (new URL(e.destination.url).origin !== location.origin) window.name = ''
      })
    })
  await arm()
  const linkAt = performance.timeOrigin + performance.now()
  await tab.navigate(page(env.server.otherSite, 'n2'))
  const byLink = await tab.eval(() => window.info.name)
  record('a link to another site, with window.name cleared at navigate, shows it', byLink)
  if (hasNavigation)
    assert.equal(byLink, '', 'clearing window.name at `navigate` keeps it from the destination (relied on)')
  const fired = (await lastEvents(linkAt)).some((e) => e.what === 'navigate')
  if (hasNavigation) assert.ok(fired, 'a link fires `navigate` (relied on)')
  await tab.back()

  // A traversal to another site fires no `navigate`: such a share is counted as seen.
  await arm()
  const backAt = performance.timeOrigin + performance.now()
  await tab.back()
  const traversal = (await lastEvents(backAt)).filter((e) => e.what === 'navigate')
  record('a traversal to another site fires navigate', traversal.length > 0)
  await tab.forward()

  // The address bar fires nothing, and Chromium shows the destination the share.
  if (engine.name !== 'firefox') {
    await arm()
    await tab.goto(page(env.server.otherSite, 'n3'), { ready: false })
    await tab.waitFor((origin) => location.origin === origin && window.ready === true, [env.server.otherSite])
    const byAddressBar = await tab.eval(() => window.info.name)
    record('the address bar to another site shows window.name', byAddressBar === 'S1-before-leaving')
    if (engine.name === 'chromium')
      assert.equal(
        byAddressBar,
        'S1-before-leaving',
        'Chromium shows an address-bar destination the share (the threat model says so)',
      )
  }

  // A window a page opens gets a copy of its sessionStorage, and an opener.
  const opener = tab
  await opener.navigate(page(env.server.origin, 'n4'))
  await opener.eval(() => sessionStorage.setItem('copied', 'yes'))
  const popup = await context.waitForPage(() =>
    opener.eval((url) => void window.open(url, '_blank'), page(env.server.origin, 'n5')),
  )
  await popup.waitFor(() => window.ready === true)
  const copy = await popup.eval(() => ({
    session: sessionStorage.getItem('copied'),
    opener: window.opener !== null,
    name: window.name,
  }))
  record('a window a page opens', copy)
  assert.deepEqual(
    copy,
    { session: 'yes', opener: true, name: '' },
    'a popup has a copy of sessionStorage, an opener and no share (relied on: lifecycle/tab.ts)',
  )
  await context.close()
})

test(named('engine facts: a page back from the cache writing the window.name it sees'), async () => {
  const context = await env.browser.newContext()
  const tab = await context.newPage(page(env.server.origin, 'w1'))
  await tab.eval(() => (window.name = 'mine'))
  await tab.navigate(page(env.server.origin, 'w2'))
  await tab.eval(() => (window.name = "a later page's"))
  await tab.back()
  const view = await tab.eval(() => window.name)
  await tab.eval(() => (window.name = 'mine'))
  await tab.reload()
  const once = await tab.eval(() => window.info.name)
  record("a restored page's window.name, and what a reload sees after it writes that value again", { view, once })
  if (engine.name === 'chromium')
    assert.equal(
      once,
      "a later page's",
      "Chromium drops a write of the stale view's own value (worked around: src/share.ts)",
    )
  await tab.navigate(page(env.server.origin, 'w3'))
  await tab.eval(() => (window.name = "a later page's"))
  await tab.back()
  await tab.eval(() => {
    window.name = '\0'
    window.name = 'mine'
  })
  await tab.reload()
  assert.equal(
    await tab.eval(() => window.info.name),
    'mine',
    'another value first, then the share: the reload sees it (relied on)',
  )
  await context.close()
})
