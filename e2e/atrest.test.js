// What rests where (issue 15): a site the tab visits records window.name, a disk reader
// takes every sealed state the library ever wrote (here: all of them, at once, as if each
// reached the disk), and together they try to open the keys offline. Nothing sealed after
// the visit may open with what the site saw. Positive controls prove the opener works: the
// page's own share opens what it sealed, and in Chromium, where the address bar shows the
// other site the share, a seal written before that visit opens (the path the threat model
// says remains).
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { collect, engine, named, open, pageUrl, setup } from './helpers.js'
import { openFromDisk, openOffline, sealsIn, sharesIn } from './offline.js'

const writes = []
const env = setup({
  bfcache: true,
  api: collect('/spy', writes),
})
let n = 0
const app = (query = '') => pageUrl(env.server.origin, `?spy&atrest=${++n}${query}`)
const other = () => `${env.server.otherSite}/e2e/pages/peek.html?atrest=${++n}`
const now = (page) => page.eval(() => performance.timeOrigin + performance.now())
const beacons = () => new Promise((resolve) => setTimeout(resolve, 300))

/** Goes to the other site as `how`, and returns what it read in window.name, and when. */
async function visit(page, how) {
  const at = await now(page)
  if (how === 'Back') {
    // Back to the site the tab came from, which reloads itself to read window.name as it is
    // (a page back from the cache sees a stale one in Chromium).
    await page.back()
    await page.reload()
  } else if (how === 'link') await page.navigate(other())
  else if (how === 'form') {
    await page.eval((url) => {
      window.__leftWith = 'form'
      const form = Object.assign(document.createElement('form'), { method: 'get', action: url })
      document.body.append(form)
      setTimeout(() => form.submit())
    }, other())
    await page.waitFor(() => window.__leftWith !== 'form' && document.readyState !== 'loading' && window.ready === true)
  } else {
    await page.goto(other(), { ready: false })
    await page.waitFor((origin) => location.origin === origin && window.ready === true, [env.server.otherSite], {
      message: 'the other site',
    })
  }
  return { at, saw: await page.eval(() => window.name) }
}

const PATHS = [
  // Firefox's driver cannot use the address bar on a page the cache may restore (it waits
  // for a load that never comes): links and forms there.
  ...(engine.name === 'firefox' ? [] : [['address bar', '']]),
  ['link', ''],
  ['form', ''],
  ['link', '&nostore'],
  ['Back', ''],
]

for (const [how, query] of PATHS) {
  test(
    named(
      `15. reached by ${how}${query ? ', a no-store page' : ''}: what the other site saw opens nothing sealed after the visit`,
    ),
    async () => {
      writes.length = 0
      const context = await env.browser.newContext()
      const page = await open(context, how === 'Back' ? other() : app(query))
      if (how === 'Back') await page.navigate(app(query))
      await page.eval(() => {
        window.store.set('before', 'sealed before the visit')
        window.store.persist()
      })
      await page.sleep(100)
      const { at, saw } = await visit(page, how)
      const seen = sharesIn(saw)
      await (how === 'Back' ? page.forward() : page.back())
      // After the visit: changes, a reload, a link and Back, persist() again.
      await page.eval(() => window.store.set('after', 'sealed after the visit'))
      await page.reload()
      await page.navigate(app(query))
      await page.back()
      await page.eval(() => window.store.persist())
      await beacons()
      const own = sharesIn(await page.eval(() => window.name))
      const seals = sealsIn(writes)
      const later = seals.filter((s) => s.at > at)
      assert.ok(later.length >= 2, `seals written after the visit: ${later.length}`)
      for (const seal of later)
        for (const { share } of seen)
          assert.equal(
            openOffline(seal.text, share, 'e2e'),
            null,
            `a seal of ${seal.key} written after the visit opened with what the site saw`,
          )
      // Positive control: the page's own share opens its latest seal.
      const shared = later.filter((s) => s.kind !== 'pages')
      assert.ok(own.length === 1 && openOffline(shared.at(-1).text, own[0].share, 'e2e'), 'the opener works')
      // Issue 25: the seals to the pages of the tab were among those tried.
      assert.ok(
        later.some((s) => s.kind === 'pages'),
        'seals to the pages of the tab were written after the visit',
      )
      const opensBefore = seals.filter(
        (s) => s.at < at && seen.some(({ share }) => openOffline(s.text, share, 'e2e')),
      ).length
      console.log(
        `[${engine.name}] by ${how}${query}: the site saw ${seen.length} share(s); ${later.length} seals after the visit, none opens; ${opensBefore} seal(s) from before it open with what it saw`,
      )
      if (engine.name === 'chromium' && (how === 'address bar' || how === 'Back'))
        assert.ok(
          opensBefore > 0,
          'Chromium shows the share to a destination it gets no navigate event for: the remaining path',
        )
      else assert.equal(seen.length, 0, 'the other site saw no share')
      await context.close()
    },
  )
}

test(
  named(
    '15. no state sealed under a share rests in storage while another site is shown, even for a page the cache refuses (Firefox: no-store)',
  ),
  async () => {
    writes.length = 0
    const context = await env.browser.newContext()
    const page = await open(context, app('&nostore'))
    await page.eval(() => {
      window.store.set('k', 'secret')
      window.store.persist()
    })
    await page.sleep(100)
    const at = await now(page)
    await page.navigate(other())
    await page.sleep(300)
    const shownAt = await now(page)
    await page.back()
    await beacons()
    // Seals to the pages of the tab (issue 25) may rest meanwhile: they open only in the
    // memory of those pages, whatever the site saw.
    const sealedMeanwhile = sealsIn(writes).filter((s) => s.at > at && s.at < shownAt && s.kind !== 'pages')
    assert.deepEqual(sealedMeanwhile, [], 'sealed under a share while leaving for the other site')
    // The persisted seal was removed when the page left: the page the tab shows on return
    // (from the cache, or fresh when the cache refused it) found none at rest.
    assert.equal(await page.eval(() => window.atLoad ?? null), null)
    const persisted = await page.eval(() => window.events.filter((e) => e.event === 'pageshow').at(-1).persisted)
    console.log(
      `[${engine.name}] a no-store page ${persisted ? 'came back from the cache' : 'was loaded afresh'} after the trip`,
    )
    await context.close()
  },
)

test(
  named(
    "15. Chromium, from the profile's own files after the browser closed: what an address-bar destination saw opens only what was sealed before the visit",
  ),
  {
    skip: engine.name !== 'chromium' && 'the other engines show no other site the share (see the tests above)',
    timeout: 180_000,
  },
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tab-keystore-atrest-'))
    const browser = await engine.launchProfile(dir, pageUrl(env.server.origin, '?disk'), { bfcache: true })
    try {
      const { page } = browser
      await page.ready()
      await page.eval(() => {
        window.store.set('before', 'sealed before the visit')
        window.store.persist()
      })
      // Chromium writes DOM storage about 5 s after a change (measured): the seal reaches the disk.
      await page.sleep(7000)
      const { saw } = await visit(page, 'address bar')
      await page.back()
      await page.eval(() => {
        window.store.set('after', 'sealed after the visit')
        window.store.persist()
      })
      // After its first write, Chromium commits a storage area at most about once a minute,
      // but a clean close commits what is pending (measured: the control below finds the
      // seal made after the visit on disk), so no need to wait for the minute.
      await page.sleep(1_000)
      const own = sharesIn(await page.eval(() => window.name))
      await browser.close()
      const seen = sharesIn(saw)
      assert.equal(seen.length, 1, 'Chromium showed the address-bar destination the share')
      const found = await openFromDisk(dir, [seen[0].share, own[0].share])
      const opened = found.filter((p) => p.startsWith('0:'))
      const ownOpened = found.filter((p) => p.startsWith('1:'))
      console.log(
        `[chromium] on disk: ${opened.length} seal(s) open with what the site saw, ${ownOpened.length} with the page's own share`,
      )
      assert.ok(
        ownOpened.some((p) => p.includes('after')),
        'control: the seal made after the visit reached the disk, and the scan finds it',
      )
      assert.ok(
        opened.some((p) => p.includes('before')),
        'control: the seal made before the visit opens with what the site saw (the remaining path)',
      )
      assert.ok(
        opened.every((p) => !p.includes('after')),
        'nothing sealed after the visit opens with what the site saw',
      )
    } finally {
      await browser.close().catch(() => undefined)
      await rm(dir, { recursive: true, force: true })
    }
  },
)

test(
  named(
    "15. how long a seal rests: from the write as a page leaves to its removal by the next page's store (Chromium writes DOM storage to disk about 5 s after a change)",
  ),
  async () => {
    writes.length = 0
    const context = await env.browser.newContext()
    const page = await open(context, app())
    await page.eval(() => window.store.set('k', 'v'))
    for (let i = 0; i < 5; i++) {
      await page.reload()
      await page.navigate(app())
    }
    await beacons()
    const gaps = []
    for (const [i, write] of writes.entries()) {
      if (write.area !== 'session' || !write.key.startsWith('tab-keystore:') || write.value === null) continue
      const removal = writes.slice(i + 1).find((w) => w.key === write.key && w.value === null)
      if (removal) gaps.push(Math.round(removal.at - write.at))
    }
    gaps.sort((a, b) => a - b)
    console.log(
      `[${engine.name}] a seal rests ${gaps[0]} to ${gaps.at(-1)} ms (median ${gaps[gaps.length >> 1]}) between the leaving page and the next page's store, over ${gaps.length} reloads and links`,
    )
    assert.equal(gaps.length, 10, 'every reload and link sealed, and the next page took it')
    assert.ok(gaps.at(-1) < 4000, 'well inside the window before Chromium writes DOM storage to disk')
    await context.close()
  },
)
