// A seeded, model-based random walk through one tab, as a user clicking around would make
// it: set, delete, clear and persist; reload, links, Back, Forward, history.go(±2); trips to
// another site and back, by Back and by a link into the app. After every step the store
// is compared with a model of the tab's latest state (the rule "one tab, one latest
// state" of DESIGN.md):
// - a page shown right after another page of the app (a reload, a link, or a traversal
//   that passes no other site), and a page back from the back/forward cache that missed
//   no change, show exactly the latest state and report no error;
// - a fresh page reached through another site shows nothing, and reports an `error` if
//   keys were lost (one reached by a traversal within the app that skipped another site's
//   entry may also show the latest state: nothing of that site was shown in between);
// - a page back from the cache that missed a change shows the latest state or nothing
//   (with an `error` if that loses keys): never its own older copy.
// Whether the browser kept a page in its back/forward cache is its choice: the walk reads
// it (pageshow's `persisted`) and the model follows.
//
// Moves where an assumption of the design breaks (fail closed, DESIGN.md): `wipe` (the app
// clears localStorage, the tab's record with it), `fill` and `unfill` (localStorage full to
// the brim: while it is, any page may drop the latest state, told, never show an older
// one), `hook clear` / `hook delete K` (the app logs out in its own pagehide listener,
// added after the store's: the logout holds when the page leaves, however it leaves), and,
// in a walk run `opened`, a window another site opened, which that site navigates away
// (`taken`) by script: no page is told where it goes, and other origins read its name.
//
// `npm run walk -- --seed 7 --steps 3000 [--engine firefox]` runs long walks;
// `--trace "set a s1; away; link; back; back"` replays a printed trace.
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { fillLocalStorage, unfillLocalStorage } from './storage.js'

export const KEYS = ['a', 'b', 'c']
const DAY = 86_400_000

/** mulberry32: a small seeded generator, the same sequence in every run. */
export function seeded(seed) {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
  }
}

/** The next action, from the generator and where the tab is (never from what the browser did). */
export function pick(random, tab, step) {
  const int = (n) => Math.floor(random() * n)
  const onApp = tab.entries[tab.index].site === 'A'
  const hooked = tab.entries[tab.index].hook
  const options = []
  const add = (weight, make) => options.push([weight, make])
  if (onApp) {
    add(6, () => {
      const key = KEYS[int(KEYS.length)]
      const value = random() < 0.3 ? `#${step % 256},${int(256)}` : `s${int(4)}`
      return random() < 0.25 ? `set ${key} ${value} @${1 + int(2)}` : `set ${key} ${value}`
    })
    add(2, () => `delete ${KEYS[int(KEYS.length)]}`)
    add(1, () => 'clear')
    add(1, () => 'persist')
    add(2, () => 'reload')
    add(4, () => 'link')
    add(2, () => 'away')
    add(0.5, () => 'wipe')
    add(0.5, () => (tab.full ? 'unfill' : 'fill'))
    if (!hooked) add(1, () => (random() < 0.5 ? 'hook clear' : `hook delete ${KEYS[int(KEYS.length)]}`))
    if (tab.opened) add(1, () => 'taken')
  } else {
    add(4, () => 'link')
  }
  if (tab.index > 0) add(4, () => 'back')
  if (tab.index < tab.entries.length - 1) add(3, () => 'forward')
  if (tab.index >= 2) add(1, () => 'go -2')
  if (tab.index + 2 < tab.entries.length) add(1, () => 'go 2')
  let roll = random() * options.reduce((sum, [weight]) => sum + weight, 0)
  for (const [weight, make] of options) if ((roll -= weight) < 0) return make()
  return options.at(-1)[1]()
}

/** What the last observation saw of the record and lifecycle, for a failure message. */
let lastDiag

/** Reads what the shown page of the app holds, and what it has told. */
const observe = (page) =>
  page
    .eval((keys) => {
      const store = window.store
      const entries = {}
      for (const key of store.keys()) {
        const value = store.get(key)
        entries[key] = [
          typeof value === 'string' ? value : `#${Array.from(value).join(',')}`,
          store.expiresAt(key)?.getTime() ?? null,
        ]
      }
      const absent = keys.filter((key) => !(key in entries) && store.get(key) !== null)
      const shows = window.events.filter((e) => e.event === 'pageshow')
      return {
        doc: window.doc,
        url: location.href,
        persisted: shows.at(-1)?.persisted ?? false,
        shows: shows.length,
        errors: window.events.filter((e) => e.event === 'error').map((e) => e.reason),
        entries,
        absent,
        // For the failure message only: the tab's record and the page's last events (no secrets).
        diag: {
          record: window.seenRecord(),
          events: window.events.slice(-8).map((e) => JSON.stringify(e).slice(0, 120)),
          lifecycle: window.lifecycle.slice(-8),
        },
      }
    }, KEYS)
    .then((obs) => ((lastDiag = obs.diag), obs))

const sorted = (entries) =>
  JSON.stringify(Object.fromEntries(Object.entries(entries).sort(([a], [b]) => a.localeCompare(b))))
const LOSS_REASONS = ['left-origin', 'stale', 'missing-share', 'lost']
/** Told while localStorage is full: the record could not be written (`quota`), or was gone (`unrecorded`). */
const FULL_REASONS = ['unrecorded', 'quota']

/** One walk in a new tab of `context`; throws with the seed and the trace on the first divergence. */
export async function walk({ context, server, seed, steps = 100, trace: given, log = () => {}, opened = false }) {
  const random = seeded(seed ?? 1)
  const actions = given
    ? given
        .split(';')
        .map((a) => a.trim())
        .filter(Boolean)
    : undefined
  const base = Math.ceil(Date.now() / DAY) * DAY + 10 * DAY
  let urls = 0
  const appUrl = () => `${server.origin}/e2e/pages/index.html?w=${++urls}`
  const otherUrl = () => `${server.otherSite}/e2e/pages/peek.html?x=${++urls}`
  const tab = { entries: [{ site: 'A', url: appUrl() }], index: 0, opened, full: false }
  // `other`: how many times another site was shown in the tab (issue 25 counts the `stale`
  // drops of pages back from the cache after one); `broken`: how many times the app
  // cleared, filled or emptied localStorage, where the tab's record, and the pages it
  // names, may go (Chromium shows pages of other processes a stale localStorage after such
  // a large write, and what they write from it can leave a page out: DESIGN.md).
  const model = { latest: new Map(), gen: 0, docs: new Map(), shown: undefined, other: 0, broken: 0 }
  const done = []
  lastDiag = undefined
  const stats = {
    steps: 0,
    current: 0,
    direct: 0,
    freshAfterOther: 0,
    behindAdopted: 0,
    behindDropped: 0,
    behindDroppedDirect: 0,
    staleAfterOther: 0,
    staleAfterOtherBroken: 0,
    restored: 0,
  }
  const fail = (message) => {
    const error = new Error(
      `${message}\n  seed: ${seed ?? '(trace)'}, step ${done.length}\n  trace: ${done.join('; ')}\n  last seen: ${JSON.stringify(lastDiag)}`,
    )
    error.trace = done.join('; ')
    throw error
  }
  // `opened`: another site's page opens the window the walk runs in, and keeps it in hand.
  const opener = opened ? await context.newPage(otherUrl()) : undefined
  const page = opener
    ? await context.waitForPage(() => opener.eval((url) => void (window.w = window.open(url)), tab.entries[0].url))
    : await context.newPage(tab.entries[0].url)
  if (opener) await page.ready()

  const expectLatest = (obs, why, told = []) => {
    const want = sorted(Object.fromEntries(model.latest))
    if (sorted(obs.entries) !== want)
      fail(
        `${why}: the store holds ${sorted(obs.entries)}, the tab's latest state is ${want}${told.length ? ` (told: ${told})` : ''}`,
      )
    if (obs.absent.length) fail(`${why}: get() returns values for keys not in keys(): ${obs.absent}`)
  }
  const lose = () => {
    if (model.latest.size) model.gen++
    model.latest.clear()
  }

  /** The tab shows entry `tab.index`, reached from `from` (an index) by `how`: check it against the model. */
  const arrive = async (from) => {
    const entry = tab.entries[tab.index]
    const previous = model.shown
    if (entry.site === 'X') {
      model.other++
      model.shown = { site: 'X', index: tab.index }
      return
    }
    let obs = await observe(page)
    const known = model.docs.get(obs.doc)
    // Wait for this document's pageshow (a page back from the cache may be evaluated before it fires).
    if (known && obs.shows <= known.shows) {
      await page.waitFor((n) => window.events.filter((e) => e.event === 'pageshow').length > n, [known.shows], {
        timeout: 5000,
        message: 'pageshow',
      })
    }
    if (obs.persisted || known) await page.sleep(100)
    // A page back from the cache may still be opening the tab's newer state (`pending`).
    await page.waitFor(() => !window.store.pending, [], { timeout: 5000, message: 'the store no longer pending' })
    obs = await observe(page)
    if (obs.url !== entry.url)
      fail(`the browser shows ${obs.url}, the walk expected ${entry.url} (a harness problem, not the store's)`)
    if (obs.persisted && !known) fail(`a document restored from the cache that the walk never saw`)
    const doc = known ?? { gen: -1, errors: 0 }
    const told = obs.errors.slice(doc.errors)
    // While localStorage is full, pages say that the record could not be written: not a loss.
    // While localStorage is full, and after the app cleared it (the record gone, until a
    // page that saw it go writes it again: one that leaves unannounced does not), pages say
    // the record could not be written or is gone.
    const broken = doc.full || tab.full || model.wiped
    const quiet = broken ? told.filter((r) => !FULL_REASONS.includes(r)) : told
    const lost = broken ? [...LOSS_REASONS, ...FULL_REASONS] : LOSS_REASONS
    const between = tab.entries.slice(Math.min(from, tab.index) + 1, Math.max(from, tab.index))
    const direct = previous?.site === 'A' && between.every((e) => e.site === 'A')
    const hadKeys = model.latest.size > 0
    if (tab.full && !Object.keys(obs.entries).length && hadKeys) {
      // localStorage full: the record could not be written, so the page could not vouch
      // for the latest state and dropped it, told; never an older state (checked below).
      // In Chromium a page back from the cache may read a stale localStorage after the
      // fill (written from another process), and hear what it missed as storage events
      // later (DESIGN.md, engine facts): told within the 3 s it listens for them.
      const lossTold = (errors) => errors.some((r) => [...LOSS_REASONS, ...FULL_REASONS].includes(r))
      if (!lossTold(told) && obs.persisted) {
        await page
          .waitFor((n) => window.events.filter((e) => e.event === 'error').length > n, [obs.errors.length], {
            timeout: 3500,
          })
          .catch(() => undefined)
        const later = await observe(page)
        told.push(...later.errors.slice(obs.errors.length))
        obs = { ...later, errors: later.errors }
      }
      if (!lossTold(told)) fail(`with localStorage full, the keys went without an error (events: ${told})`)
      stats.droppedFull = (stats.droppedFull ?? 0) + 1
      lose()
    } else if (obs.persisted && doc.gen === model.gen) {
      stats.current++
      expectLatest(obs, 'back from the cache, having missed no change', told)
      if (quiet.length) fail(`back from the cache, having missed no change: unexpected error events ${told}`)
    } else if (!obs.persisted && direct) {
      stats.direct++
      expectLatest(obs, 'a fresh page right after a page of the app', told)
      if (quiet.length) fail(`a fresh page right after a page of the app: unexpected error events ${told}`)
    } else if (
      !obs.persisted &&
      previous?.site === 'A' &&
      sorted(obs.entries) === sorted(Object.fromEntries(model.latest)) &&
      !quiet.length
    ) {
      // A traversal within the app that skipped another site's entry: nothing of that site
      // was shown in between, so the latest state may come along (WebKit, which binds no
      // seal to its history), or not (Chromium, Firefox: another same-origin history).
      stats.direct++
    } else if (!obs.persisted) {
      stats.freshAfterOther++
      if (Object.keys(obs.entries).length)
        fail(
          `a fresh page reached through another site holds ${sorted(obs.entries)}: keys must not cross another origin`,
        )
      if (hadKeys && !told.some((r) => lost.includes(r)))
        fail(`keys were lost on the way through another site, but no error told it (events: ${told})`)
      lose()
    } else {
      // Back from the cache, having missed a change: the latest state, or nothing.
      const latest = sorted(Object.fromEntries(model.latest))
      if (sorted(obs.entries) === latest && !quiet.length) stats.behindAdopted++
      else {
        stats.behindDropped++
        if (told.includes('stale') && model.other > (doc.other ?? 0)) {
          // Issue 25: none, unless the record lost the page (localStorage cleared or full).
          if (model.broken > (doc.broken ?? 0) || tab.full) stats.staleAfterOtherBroken++
          else {
            stats.staleAfterOther++
            log(`stale after another site at step ${done.length}: ${done.slice(-12).join('; ')} (told: ${told})`)
          }
        }
        if (direct) {
          stats.behindDroppedDirect++
          log(`dropped on a direct return at step ${done.length}: ${done.slice(-12).join('; ')} (told: ${told})`)
        }
        if (Object.keys(obs.entries).length)
          fail(
            `back from the cache after missing a change, the page shows ${sorted(obs.entries)}; the tab's latest state is ${latest}`,
          )
        if (hadKeys && !told.some((r) => lost.includes(r)))
          fail(`back from the cache, the page dropped the latest keys without an error (events: ${told})`)
        lose()
      }
    }
    if (obs.persisted) stats.restored++
    const bad = told.filter((r) => !lost.includes(r))
    model.wiped = false
    if (bad.length) fail(`error events that no walk step should cause: ${bad}`)
    doc.gen = model.gen
    doc.other = model.other
    doc.broken = model.broken
    doc.full = tab.full
    doc.errors = obs.errors.length
    doc.shows = obs.shows
    model.docs.set(obs.doc, doc)
    entry.doc = obs.doc
    model.shown = { site: 'A', index: tab.index, doc: obs.doc }
  }

  const leaving = async () => {
    // The app's logout in its own pagehide listener happens as the page leaves.
    const hook = tab.entries[tab.index].hook
    if (hook) {
      tab.entries[tab.index].hook = undefined
      if (hook === 'clear') lose()
      else if (model.latest.delete(hook.slice('delete '.length))) model.gen++
    }
    // Remember how many pageshows the leaving document had, to know when it is shown again.
    if (model.shown?.site !== 'A') return
    const doc = model.docs.get(model.shown.doc)
    doc.shows = await page.eval(() => window.events.filter((e) => e.event === 'pageshow').length)
  }

  const navigateTo = async (url, site, { byOpener = false } = {}) => {
    const from = tab.index
    await leaving()
    tab.entries = tab.entries.slice(0, tab.index + 1)
    tab.entries.push({ site, url })
    tab.index++
    if (byOpener) {
      await opener.eval((url) => void (window.w.location = url), url)
      await page.waitFor((url) => location.href === url && window.ready === true, [url], {
        message: 'the page the opener sent the window to',
      })
    } else await page.navigate(url)
    await arrive(from)
  }
  const traverse = async (delta) => {
    const from = tab.index
    await leaving()
    tab.index += delta
    if (delta === -1) await page.back()
    else if (delta === 1) await page.forward()
    else await page.go(delta)
    await arrive(from)
  }

  await arrive(0)
  for (let i = 0; actions ? i < actions.length : i < steps; i++) {
    const action = actions ? actions[i] : pick(random, tab, i)
    done.push(action)
    stats.steps++
    log(action)
    try {
      await step(action)
    } catch (error) {
      // A harness or engine error (a page that never became ready): with the seed and trace too.
      if (error.trace === undefined) fail(`"${action}" failed: ${error.message.split('\n')[0]}`)
      throw error
    }
  }
  if (tab.full) await page.eval(() => localStorage.clear()).catch(() => undefined)
  await page.close()
  await opener?.close()
  return { stats, trace: done.join('; ') }

  async function step(action) {
    const [op, ...args] = action.split(' ')
    if (
      ['set', 'delete', 'clear', 'persist', 'wipe', 'fill', 'unfill', 'hook', 'taken'].includes(op) &&
      tab.entries[tab.index].site !== 'A'
    )
      fail(`"${action}" on another site's page: the trace does not fit`)
    if (op === 'set') {
      const [key, value, slot] = args
      const expiresAt = slot ? base + Number(slot.slice(1)) * DAY : null
      await page.eval(
        (key, value, expiresAt) => {
          window.store.set(
            key,
            value.startsWith('#') ? new Uint8Array(value.slice(1).split(',').map(Number)) : value,
            expiresAt ?? undefined,
          )
        },
        key,
        value,
        expiresAt,
      )
      const old = model.latest.get(key)
      if (!old || old[0] !== value || old[1] !== expiresAt) model.gen++
      model.latest.set(key, [value, expiresAt])
    } else if (op === 'delete') {
      await page.eval((key) => window.store.delete(key), args[0])
      if (model.latest.delete(args[0])) model.gen++
    } else if (op === 'clear') {
      await page.eval(() => window.store.clear())
      lose()
    } else if (op === 'persist') {
      await page.eval(() => window.store.persist())
    } else if (op === 'wipe') {
      await page.eval(() => localStorage.clear())
      // The logout epoch went with it; the full storage too.
      tab.full = false
      model.broken++
      model.wiped = true
    } else if (op === 'fill') {
      await page.eval(fillLocalStorage)
      tab.full = true
      model.broken++
      model.docs.get(model.shown.doc).full = true
    } else if (op === 'unfill') {
      await page.eval(unfillLocalStorage)
      tab.full = false
      model.broken++
    } else if (op === 'hook') {
      // One-shot, added after the store's own listener: the app's logout as the page goes.
      await page.eval((how) => {
        window.addEventListener(
          'pagehide',
          () => (how === 'clear' ? window.store.clear() : window.store.delete(how.slice('delete '.length))),
          { once: true },
        )
      }, args.join(' '))
      tab.entries[tab.index].hook = args.join(' ')
    } else if (op === 'taken') {
      await navigateTo(otherUrl(), 'X', { byOpener: true })
    } else if (op === 'reload') {
      await leaving()
      await page.reload()
      await arrive(tab.index)
    } else if (op === 'link') {
      await navigateTo(appUrl(), 'A')
    } else if (op === 'away') {
      await navigateTo(otherUrl(), 'X')
    } else if (op === 'back' || op === 'forward' || op === 'go') {
      const delta = op === 'back' ? -1 : op === 'forward' ? 1 : Number(args[0])
      const to = tab.index + delta
      if (to < 0 || to >= tab.entries.length) fail(`"${action}" leaves the history: the trace does not fit`)
      await traverse(delta)
    } else fail(`unknown action "${action}"`)
    if (['set', 'delete', 'clear'].includes(op)) {
      const obs = await observe(page)
      expectLatest(obs, `right after "${action}"`)
      model.docs.get(obs.doc).gen = model.gen
    }
  }
}

// `npm run walk -- --seed S --steps N [--engine E] [--trace T]`: long walks, or a replay.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string' },
      steps: { type: 'string', default: '500' },
      engine: { type: 'string' },
      trace: { type: 'string' },
      seeds: { type: 'string', default: '1' },
      opened: { type: 'boolean', default: false },
    },
  })
  if (values.engine) process.env.TAB_KEYSTORE_ENGINE = values.engine
  const { currentEngine } = await import('./engines/index.js')
  const { startServer } = await import('./server.js')
  const engine = currentEngine()
  const server = await startServer()
  const browser = await engine.launch({ bfcache: true })
  const first = Number(values.seed ?? Math.floor(Math.random() * 1e6))
  let failed = false
  try {
    for (let s = first; s < first + Number(values.seeds); s++) {
      const context = await browser.newContext()
      const started = Date.now()
      try {
        const { stats } = await walk({
          context,
          server,
          opened: values.opened,
          seed: values.trace ? undefined : s,
          steps: Number(values.steps),
          trace: values.trace,
          log: (line) => /^(dropped|stale after)/.test(line) && console.log(`[${engine.name}] ${line}`),
        })
        console.log(
          `[${engine.name}] seed ${values.trace ? '(trace)' : s}: ${stats.steps} steps in ${((Date.now() - started) / 1000).toFixed(0)} s, nothing found ${JSON.stringify(stats)}`,
        )
      } catch (error) {
        failed = true
        console.log(`[${engine.name}] FOUND: ${error.message}`)
      } finally {
        await context.close().catch(() => undefined)
      }
      if (values.trace) break
    }
  } finally {
    await browser.close()
    await server.close()
  }
  process.exit(failed ? 1 : 0)
}
