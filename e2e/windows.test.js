// The kinds of window an app page can live in, measured in each engine with the
// back/forward cache on: a tab of its own (A), a window another page opened, from the
// app's origin or another site (B1, B2), one opened with noopener (C), a same-origin
// iframe (D), and the app framed by another site (E). For each, and each way the app page
// can leave it (its own link, the user's address bar, its opener, its parent): does the
// other origin that loads next see the window.name the app page set; which of navigate,
// pageswap and pagehide fire in the leaving page, in what order; does Back bring the page
// back from the cache, and what window.name does it find there. Then window.opener once
// the opener left or closed, and what a reload fires (the page's own, and the driver's).
// Facts the library relies on are asserted; the rest are printed as `[engine] fact: value`.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { chromium as playwrightChromium } from 'playwright-core'
import puppeteer from 'puppeteer-core'
import { WebDriverSession } from './engines/webdriver.js'
import { collect, engine, named, setup } from './helpers.js'

// The engine layer has no driver reload (the browser's Reload button). This file reaches
// the driver objects the adapters create (Playwright's browser, puppeteer's over BiDi,
// the WebDriver session) by wrapping the calls that create them, before setup() launches.
const drivers = []
const wrapCreate = (owner, method) => {
  const create = owner[method]
  owner[method] = async function (...args) {
    const made = await create.apply(this, args)
    drivers.push(made)
    return made
  }
}
if (engine.name === 'chromium') wrapCreate(playwrightChromium, 'launch')
if (engine.name === 'firefox') wrapCreate(puppeteer, 'connect')
if (engine.name === 'webkit') wrapCreate(WebDriverSession, 'create')

/**
 * The browser's own reload of `page` (the one whose URL carries `tag`), without waiting for
 * it: Playwright's and puppeteer's page.reload (CDP Page.reload; BiDi browsingContext.reload),
 * WebDriver's Refresh on the current window (the last one the layer drove: `page`, which
 * the caller has just evaluated in).
 */
async function driverReload(page, tag) {
  await page.eval(() => 1)
  if (engine.name === 'chromium') {
    const target = drivers.flatMap((b) => b.contexts().flatMap((c) => c.pages())).find((p) => p.url().includes(tag))
    void target.reload({ waitUntil: 'commit' }).catch(() => undefined)
  } else if (engine.name === 'firefox') {
    const pages = (await Promise.all(drivers.map((b) => b.pages()))).flat()
    void pages
      .find((p) => p.url().includes(tag))
      .reload({ timeout: 20_000 })
      .catch(() => undefined)
  } else {
    void drivers
      .at(-1)
      .command('POST', '/refresh', {})
      .catch(() => undefined)
  }
}

const logs = []
const env = setup({
  api: collect('/log', logs),
})

const pageUrl = (origin, tag, role, extra = {}) =>
  `${origin}/e2e/pages/windows.html?${new URLSearchParams({ tag, role, ...extra })}`
/** The app page (the app's origin), which writes its share into window.name as it loads. */
const appUrl = (tag) => pageUrl(env.server.origin, tag, 'app', { set: `S1-${tag}` })
/** The other site's page: logs the window.name it finds, then writes its own, as any site may. */
const destUrl = (tag) => pageUrl(env.server.otherSite, tag, 'dest', { set: 'other-wrote' })
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

const record = (fact, value) => console.log(`[${engine.name}] ${fact}: ${JSON.stringify(value)}`)

async function waitLog(predicate, message, timeout = 15_000) {
  const deadline = Date.now() + timeout
  for (;;) {
    const hit = logs.find(predicate)
    if (hit) return hit
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${message}`)
    await sleep(50)
  }
}

const describe = (e) =>
  e.what === 'navigate'
    ? `navigate(${e.type}${e.cross ? ', cross-origin' : ''}${e.userInitiated ? ', user' : ''})`
    : e.what === 'pageswap'
      ? `pageswap(activation ${e.activation})`
      : e.what === 'unload'
        ? 'unload'
        : `${e.what}(persisted ${e.persisted})`

/**
 * What `doc` fired from its first pageshow up to its next (a return from the cache), in
 * order; `relayed`: entries a framed page also posted to its parent.
 */
function leaving(doc, relayed = []) {
  const told = [...relayed, ...logs]
  const all = [...told, ...told.filter((l) => l.what === 'stored').flatMap((l) => l.entries)]
  const bySeq = new Map(all.filter((l) => l.doc === doc && l.what !== 'stored').map((l) => [l.seq, l]))
  const mine = [...bySeq.values()].sort((a, b) => a.seq - b.seq)
  const start = mine.findIndex((l) => l.what === 'pageshow')
  const end = mine.findIndex((l, i) => i > start && l.what === 'pageshow')
  return mine.slice(start + 1, end === -1 ? undefined : end).map(describe)
}

/**
 * How `doc` came back: from the cache (its pageshow persisted) or as a fresh document, and
 * the window.name it found (at that pageshow, or as the fresh document loaded).
 */
async function comeback(doc, tag, role = 'app') {
  const back = await waitLog(
    (l) =>
      l.tag === tag &&
      l.role === role &&
      ((l.doc === doc && l.what === 'pageshow' && l.persisted) || (l.doc !== doc && l.what === 'load')),
    `${tag}: the app page again`,
  )
  return { cached: back.doc === doc, nameOnReturn: back.name, openerOnReturn: back.opener }
}

const rows = []
const row = (kind, way, { doc, ...result }) => {
  rows.push({ kind, way, doc, ...result })
  record(`${kind} left by ${way}`, result)
}

/**
 * The app page shown in `win` leaves for the other site by `way` (link, address bar,
 * opener), the other site writes window.name and goes Back.
 */
async function leaveTopLevel(way, win, tag, opener) {
  await win.ready()
  const { doc, name } = await win.eval(() => ({ doc: window.info.doc, name: window.name }))
  assert.equal(name, `S1-${tag}`, 'the app page set window.name')
  if (way === 'link') await win.navigate(destUrl(tag), { ready: false })
  // The driver's navigation resolves on a load that a page from the cache, or Firefox, may
  // never fire: wait for the other site's page itself.
  else if (way === 'address bar') void win.goto(destUrl(tag), { ready: false }).catch(() => undefined)
  else await opener.eval((url) => void (window.popup.location = url), destUrl(tag))
  const seen = await win.waitFor(
    (origin) => location.origin === origin && window.ready === true && window.info,
    [env.server.otherSite],
    {
      message: 'the other site',
      timeout: 20_000,
    },
  )
  await win.back()
  const back = await comeback(doc, tag)
  await sleep(300)
  return {
    otherSees: seen.name === `S1-${tag}` ? 'yes' : JSON.stringify(seen.name),
    events: leaving(doc).join(' > ') || 'none',
    ...back,
    otherHasOpener: seen.opener,
    doc,
  }
}

/** A window `opener` opens on the app page: with an opener, or with `noopener`. */
async function openFrom(context, opener, tag, features = '') {
  const win = await context.waitForPage(() =>
    opener.eval((url, features) => void (window.popup = window.open(url, '_blank', features)), appUrl(tag), features),
  )
  await win.ready()
  return win
}

test(named('A. a tab of its own'), async () => {
  const context = await env.browser.newContext()
  for (const way of ['link', 'address bar']) {
    const tag = `A-${way.replace(' ', '-')}`
    const win = await context.newPage(appUrl(tag))
    const info = await win.eval(() => window.info)
    row('A tab', way, await leaveTopLevel(way, win, tag))
    if (way === 'link') record('A: a tab has the Navigation API', info.navigationApi)
    await win.close()
  }
  await context.close()
})

for (const [kind, openerOrigin] of [
  ['B1', 'origin'],
  ['B2', 'otherSite'],
]) {
  test(
    named(`${kind}. a window opened by a page of ${openerOrigin === 'origin' ? 'the app' : 'another site'}`),
    async () => {
      const context = await env.browser.newContext()
      for (const way of ['link', 'address bar', 'opener']) {
        const tag = `${kind}-${way.replace(' ', '-')}`
        const opener = await context.newPage(pageUrl(env.server[openerOrigin], tag, 'opener'))
        const win = await openFrom(context, opener, tag)
        const info = await win.eval(() => window.info)
        assert.equal(info.opener, true, 'a window.open window has an opener')
        const result = await leaveTopLevel(way, win, tag, opener)
        row(`${kind} popup`, way, result)
        if (way === 'link') {
          // The opener goes elsewhere (to the other one of the two sites), then closes.
          await opener.navigate(
            pageUrl(openerOrigin === 'origin' ? env.server.otherSite : env.server.origin, tag, 'opener-next'),
          )
          await sleep(200)
          const afterNavigate = await win.eval(() => window.opener !== null)
          await opener.close()
          await sleep(500)
          const afterClose = await win.eval(() => window.opener !== null)
          record(`${kind}: window.opener in the app page after the opener navigated away / closed`, {
            afterNavigate,
            afterClose,
          })
        } else await opener.close()
        await win.close()
      }
      await context.close()
    },
  )
}

test(named('C. a window opened with noopener'), async () => {
  const context = await env.browser.newContext()
  for (const way of ['link', 'address bar']) {
    const tag = `C-${way.replace(' ', '-')}`
    const opener = await context.newPage(pageUrl(env.server.origin, tag, 'opener'))
    const win = await openFrom(context, opener, tag, 'noopener')
    const info = await win.eval(() => window.info)
    assert.equal(info.opener, false, 'a noopener window has no opener')
    if (way === 'link') record('C: window.name a noopener window starts with', info.name)
    await opener.close()
    row('C noopener', way, await leaveTopLevel(way, win, tag))
    await win.close()
  }
  await context.close()
})

/**
 * The app page in an iframe of a `parentOrigin` page leaves by `way`: its own link, or its
 * parent setting the iframe's src; then the parent's history.back().
 */
async function leaveFrame(context, kind, way, parentOrigin) {
  const tag = `${kind}-${way}`
  const top = await context.newPage(pageUrl(parentOrigin, tag, 'top', { frame: appUrl(tag) }))
  await top.ready()
  const app = await waitLog(
    (l) => l.tag === tag && l.role === 'app' && l.what === 'pageshow',
    `${tag}: the framed app page`,
  )
  if (way === 'self') await top.eval((url) => frames[0].postMessage({ go: url }, '*'), destUrl(tag))
  else await top.eval((url) => void (document.querySelector('iframe').src = url), destUrl(tag))
  const dest = await waitLog(
    (l) => l.tag === tag && l.role === 'dest' && l.what === 'load',
    `${tag}: the other site in the frame`,
  )
  await top.eval(() => history.back())
  const back = await comeback(app.doc, tag)
  await sleep(300)
  const relayed = await top.eval(() => window.childLog)
  const events = leaving(app.doc, relayed)
  const result = {
    otherSees: dest.name === `S1-${tag}` ? 'yes' : JSON.stringify(dest.name),
    events: events.join(' > ') || 'none',
    cached: back.cached,
    nameOnReturn: back.nameOnReturn,
    doc: app.doc,
  }
  await top.close()
  return result
}

test(named('D. a same-origin iframe in an app page'), async () => {
  const context = await env.browser.newContext()
  for (const way of ['self', 'parent'])
    row(
      'D same-origin iframe',
      way === 'self' ? 'its own link' : 'its parent (iframe.src)',
      await leaveFrame(context, 'D', way, env.server.origin),
    )
  await context.close()
})

test(named('E. the app framed by another site'), async () => {
  const context = await env.browser.newContext()
  for (const way of ['parent', 'self'])
    row(
      'E framed by the other site',
      way === 'self' ? 'its own link' : 'its parent (iframe.src)',
      await leaveFrame(context, 'E', way, env.server.otherSite),
    )
  await context.close()
})

test(named("reloads: what the leaving page is told, the page's own and the driver's"), async () => {
  const context = await env.browser.newContext()
  const tag = 'R-reload'
  const win = await context.newPage(appUrl(tag))
  await win.ready()
  for (const how of ['location.reload()', 'driver reload']) {
    const doc = await win.eval(() => window.info.doc)
    if (how === 'location.reload()') await win.reload()
    else {
      await driverReload(win, tag)
      await win.waitFor((doc) => window.info?.doc !== doc && window.ready === true, [doc], {
        message: 'the reloaded page',
        timeout: 20_000,
      })
    }
    await sleep(400)
    const events = leaving(doc)
    record(`A: ${how} fires in the leaving page`, events.join(' > ') || 'none')
    // An engine with pageswap fires it for a reload, with an activation: a departure without
    // it counts as one nobody announced (src/lifecycle/machine.ts), which loses the keys.
    if (engine.name !== 'firefox')
      assert.match(
        events.join(' > '),
        /pageswap\(activation reload\)/,
        `${how}: pageswap with an activation (relied on)`,
      )
    assert.equal(
      await win.eval(() => window.info.name),
      `S1-${tag}`,
      `${how} keeps window.name (relied on: the share survives a reload)`,
    )
  }
  await context.close()
})

// Measured in Firefox ESR 153, not asserted: where the leaving app page is the only page of
// its site around (a window another site opened, B2; the app framed by another site, E) and
// is not kept for the cache, its pagehide is sometimes not told by any way the page logs
// (a beacon, a synchronous request, postMessage to the parent, localStorage), while the
// frame's unload is: in about half the runs for B2 left by its opener and E left by its
// own link, less often for the others. B1 and D (another page of the app's site around)
// and A and C (kept for the cache) always told it.
test(named('the table, and what the library relies on'), () => {
  for (const r of rows) {
    console.log(
      `[${engine.name}] | ${r.kind} | ${r.way} | ${r.otherSees} | ${r.events} | ${r.cached}, name ${JSON.stringify(r.nameOnReturn)} |`,
    )
  }
  // An event that reached the server only after its row was written (none so far).
  for (const r of rows) {
    const late = leaving(r.doc).filter((e) => !r.events.includes(e))
    if (late.length) record(`${r.kind} left by ${r.way}: told later`, late.join(' > '))
  }
  // A window another page opened, and a frame, keep their name across origins: every page
  // there takes a fresh share, and a departure nobody announced seals nothing (relied on).
  for (const r of rows.filter((r) => /^[BDE]/.test(r.kind)))
    assert.equal(r.otherSees, 'yes', `${r.kind}, left by ${r.way}: the other origin reads window.name (relied on)`)
  const topLevel = rows.filter((r) => /^[ABC]/.test(r.kind))
  assert.equal(topLevel.length, 10, 'every top-level row was measured')
  for (const r of topLevel) {
    const where = `${r.kind}, left by ${r.way}`
    // Firefox and WebKit clear window.name for another site, in a window without an opener only.
    if (engine.name !== 'chromium' && /^[AC]/.test(r.kind))
      assert.equal(r.otherSees, '""', `${where}: the other site finds window.name empty (relied on)`)
    // The page hears that it leaves for another origin: pageswap without activation (Chromium, WebKit) ...
    if (engine.name !== 'firefox')
      assert.match(
        r.events,
        /pageswap\(activation null\) > pagehide/,
        `${where}: pageswap without activation, then pagehide (relied on)`,
      )
    // ... and, where it navigates itself, navigate before anything else (Chromium, Firefox).
    if (engine.name !== 'webkit' && r.way === 'link')
      assert.match(r.events, /^navigate\(push, cross-origin\)/, `${where}: navigate first (relied on)`)
  }
})
