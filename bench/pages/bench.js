// Runs in the benchmark page (cross-origin isolated, so performance.now() is precise to
// a few microseconds). Both libraries live in this one page; runs are interleaved and
// every figure is a median over repetitions, so the ratios compare like with like.
import { Ours, Peers, Theirs, chacha20poly1305 } from '/bench/.scratch/libs.js'

const NAME = 'bench'
const OUR_KEY = `tab-keystore:${NAME}`

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

function randomBytes(length) {
  const out = new Uint8Array(length)
  for (let i = 0; i < length; i += 65536) crypto.getRandomValues(out.subarray(i, i + 65536))
  return out
}
const base64 = (bytes) => btoa(String.fromCharCode(...bytes))

function makeSecrets(count, secretBytes) {
  return Array.from({ length: count }, (_, i) => {
    const bytes = randomBytes(secretBytes)
    return { name: `key-${String(i).padStart(5, '0')}`, bytes, text: base64(bytes) }
  })
}

/**
 * Times `run` once per iteration, with `prepare` and `cleanup` outside the clock. One
 * untimed run first, for both libraries alike: a page-leaving handler runs on a store
 * that has lived a while, not on one whose every object was allocated a moment ago.
 */
function timeEach(iterations, prepare, run, cleanup) {
  const samples = []
  for (let i = -1; i < iterations; i++) {
    const state = prepare()
    const start = performance.now()
    const result = run(state)
    if (i >= 0) samples.push(performance.now() - start)
    cleanup(result, state)
  }
  return samples
}

function resetTab() {
  window.name = ''
  sessionStorage.clear()
  localStorage.clear()
}

// --- tab-keystore ------------------------------------------------------------------

function ourStore(secrets, bytes) {
  resetTab()
  const store = new Ours({ name: NAME })
  for (const { name, bytes: b, text } of secrets) store.set(name, bytes ? b : text)
  return store
}

function ourSealed(secrets) {
  const store = ourStore(secrets, false)
  store.persist()
  // What the next page finds: the seal, the share, and the tab's id and record.
  const sealed = {
    text: sessionStorage.getItem(OUR_KEY),
    windowName: window.name,
    session: { ...sessionStorage },
    local: { ...localStorage },
  }
  store.destroy()
  return sealed
}

// As in `pagehide`: the entry was removed at load, so the flush writes to an absent key.
// (Overwriting costs more in Chromium, which also ships the old value for storage events.)
function ourFlush(secrets, iterations) {
  const store = ourStore(secrets, false)
  const samples = timeEach(
    iterations,
    () => sessionStorage.removeItem(OUR_KEY),
    () => store.persist(),
    () => undefined,
  )
  if (!sessionStorage.getItem(OUR_KEY)) throw new Error('tab-keystore flush wrote nothing')
  store.destroy()
  return samples
}

function ourRestore(secrets, iterations) {
  const { windowName, session, local } = ourSealed(secrets)
  return timeEach(
    iterations,
    () => {
      window.name = windowName
      for (const [key, value] of Object.entries(session)) sessionStorage.setItem(key, value)
      for (const [key, value] of Object.entries(local)) localStorage.setItem(key, value)
    },
    () => new Ours({ name: NAME }),
    (store) => {
      if (store.size !== secrets.length)
        throw new Error(`tab-keystore restored ${store.size} of ${secrets.length} keys`)
      store.destroy()
    },
  )
}

// --- session-keystore@1.0.3 --------------------------------------------------------

function theirStore(secrets) {
  resetTab()
  const store = new Theirs({ name: NAME })
  for (const { name, text } of secrets) store.set(name, text)
  return store
}

function theirFlush(secrets, iterations) {
  const store = theirStore(secrets)
  const prepare = () => {
    window.name = ''
    sessionStorage.removeItem(`session-keystore:${NAME}`)
  }
  return timeEach(
    iterations,
    prepare,
    () => store.persist(),
    () => undefined,
  )
}

function theirRestore(secrets, iterations) {
  const store = theirStore(secrets)
  window.name = ''
  store.persist()
  const windowName = window.name
  const text = sessionStorage.getItem(`session-keystore:${NAME}`)
  const probe = secrets[secrets.length - 1]
  return timeEach(
    iterations,
    () => {
      window.name = windowName
      sessionStorage.setItem(`session-keystore:${NAME}`, text)
    },
    () => new Theirs({ name: NAME }),
    (restored) => {
      if (restored.get(probe.name) !== probe.text) throw new Error('session-keystore did not restore')
    },
  )
}

// --- per-operation costs, timed in batches -------------------------------------------

function perOp(store, secrets, op, minOps) {
  const rounds = Math.max(1, Math.ceil(minOps / secrets.length))
  const names = secrets.map((s) => s.name)
  const start = performance.now()
  let sink = 0
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < names.length; i++) sink += op(store, names[i], i, r) ? 1 : 0
  }
  const elapsed = performance.now() - start
  if (sink < 0) throw new Error('unreachable')
  return (elapsed * 1e6) / (rounds * names.length) // nanoseconds per operation
}

const ops = {
  // Every set replaces the value (alternating two values), as an app refreshing a token does.
  set: (secrets, bytes) => (store, name, i, r) =>
    store.set(name, r & 1 ? secrets[i].alt : bytes ? secrets[i].bytes : secrets[i].text),
  get: () => (store, name) => store.get(name) !== null,
}

function opFigures(secrets, reps) {
  for (const s of secrets) s.alt = base64(randomBytes(32))
  const results = {}
  const cases = [
    ['set', 'ours', () => ourStore(secrets, false), ops.set(secrets, false), 50_000],
    ['set', 'ours (bytes)', () => ourStore(secrets, true), ops.set(secrets, true), 50_000],
    ['set', 'theirs', () => theirStore(secrets), ops.set(secrets, false), 50_000],
    ['get', 'ours', () => ourStore(secrets, false), ops.get(), 200_000],
    ['get', 'ours (bytes)', () => ourStore(secrets, true), ops.get(), 200_000],
    ['get', 'theirs', () => theirStore(secrets), ops.get(), 200_000],
    ['get + read listener', 'ours', () => withReadListener(ourStore(secrets, false)), ops.get(), 200_000],
    ['get + read listener', 'theirs', () => withReadListener(theirStore(secrets)), ops.get(), 200_000],
    ['get + onAccess (call stack)', 'ours', () => ourStoreWithOnAccess(secrets), ops.get(), 20_000],
  ]
  for (let rep = 0; rep < reps; rep++) {
    const order = rep & 1 ? [...cases].reverse() : cases
    for (const [op, lib, make, fn, minOps] of order) {
      const store = make()
      const ns = perOp(store, secrets, fn, minOps)
      store.destroy?.()
      ;((results[op] ??= {})[lib] ??= []).push(ns)
    }
  }
  resetTab()
  const out = {}
  for (const [op, libs] of Object.entries(results)) {
    out[op] = Object.fromEntries(Object.entries(libs).map(([lib, samples]) => [lib, median(samples)]))
  }
  return out
}

function withReadListener(store) {
  store.on('read', () => undefined)
  return store
}

function ourStoreWithOnAccess(secrets) {
  resetTab()
  const store = new Ours({ name: NAME, onAccess: () => undefined })
  for (const { name, text } of secrets) store.set(name, text)
  return store
}

// --- the physical floor of a flush: one setItem of the same length, and the AEAD alone ---

function floorCase(secrets) {
  const { text } = ourSealed(secrets)
  // Same length and same kind of string (two-byte characters) as the sealed state, and a
  // different one each time: Chromium skips a write of the value already stored.
  const fillers = [3, 5, 7, 11].map((k) =>
    text.replace(/[\s\S]/g, (c) => String.fromCharCode(0x800 + ((c.charCodeAt(0) * k) & 0x7fff))),
  )
  const envelope = Math.floor(((text.length - 1) * 15) / 8) - (text.charCodeAt(0) - 0x800)
  const plain = randomBytes(envelope - 1 - 32 - 12 - 16)
  const key = randomBytes(32)
  const nonce = randomBytes(12)
  return {
    fillers,
    plain,
    key,
    nonce,
    sealed: chacha20poly1305(key, nonce).encrypt(plain),
    sealedChars: text.length,
    turn: 0,
  }
}

/** One batch of each floor measurement, taken between batches of ours so that both see the same conditions. */
function floorSamples(floor, iterations, into) {
  into.setItem.push(
    ...timeEach(
      iterations,
      () => sessionStorage.removeItem('floor'),
      () => sessionStorage.setItem('floor', floor.fillers[floor.turn++ % floor.fillers.length]),
      () => undefined,
    ),
  )
  into.getItem.push(
    ...timeEach(
      iterations,
      () => null,
      () => sessionStorage.getItem('floor'),
      () => undefined,
    ),
  )
  sessionStorage.removeItem('floor')
  into.encrypt.push(
    ...timeEach(
      iterations,
      () => null,
      () => chacha20poly1305(floor.key, floor.nonce).encrypt(floor.plain),
      () => undefined,
    ),
  )
  into.decrypt.push(
    ...timeEach(
      iterations,
      () => null,
      () => chacha20poly1305(floor.key, floor.nonce).decrypt(floor.sealed),
      () => undefined,
    ),
  )
}

/** One size: flush and restore of both libraries, interleaved, then floors and per-op costs. */
window.benchSize = ({ count, secretBytes, iterations, opReps, theirs = true }) => {
  const secrets = makeSecrets(count, secretBytes)
  const flush = { ours: [], theirs: [] }
  const restore = { ours: [], theirs: [] }
  let theirError = null
  const floor = floorCase(secrets)
  const floorTimes = { setItem: [], getItem: [], encrypt: [], decrypt: [] }
  const batch = 5
  const runOurs = () => {
    flush.ours.push(...ourFlush(secrets, batch))
    restore.ours.push(...ourRestore(secrets, batch))
  }
  const runTheirs = () => {
    if (!theirs || theirError) return
    try {
      flush.theirs.push(...theirFlush(secrets, batch))
      restore.theirs.push(...theirRestore(secrets, batch))
    } catch (error) {
      theirError = `${error.name}: ${error.message}`
    }
  }
  // Each library goes first in every other round: neither always runs right after the
  // other's garbage, nor always first after the floor.
  for (let rep = 0; rep < Math.ceil(iterations / batch); rep++) {
    if (rep & 1) runTheirs()
    runOurs()
    floorSamples(floor, batch, floorTimes)
    if (!(rep & 1)) runTheirs()
  }
  resetTab()
  const storeBytes = secrets.reduce((sum, s) => sum + s.name.length + s.text.length, 0)
  return {
    count,
    secretBytes,
    storeBytes,
    flush: { ours: median(flush.ours), theirs: theirError ? null : median(flush.theirs) },
    restore: { ours: median(restore.ours), theirs: theirError ? null : median(restore.theirs) },
    theirError,
    floor: {
      ...Object.fromEntries(Object.entries(floorTimes).map(([k, v]) => [k, median(v)])),
      sealedChars: floor.sealedChars,
    },
    ops: opReps ? opFigures(secrets, opReps) : null,
  }
}

/** The per-operation figures of one size on their own (bench/run.js runs them after every flush and restore). */
window.benchOps = ({ count, secretBytes, opReps }) => opFigures(makeSecrets(count, secretBytes), opReps)

window.ready = true

/** A page's key pair, once made; and how long that took. */
async function pageWithPair() {
  const start = performance.now()
  let ready
  const done = new Promise((resolve) => (ready = resolve))
  const peers = new Peers(NAME, () => ready())
  await done
  return { peers, made: performance.now() - start }
}

/**
 * Issue 25: what sealing to the pages of the tab costs. As a page leaves: the state
 * sealed under a data key, the key wrapped for each page (synchronous, in `pagehide`).
 * At `pageshow`: the wrap and the body opened (synchronous), and, the first time the two
 * pages meet, the key they share derived first (ECDH and HKDF, asynchronous: the store is
 * `pending` meanwhile). A key pair at load, off its path.
 */
window.benchPages = async ({ stateBytes, recipients, iterations }) => {
  const plain = randomBytes(stateBytes)
  const sealer = (await pageWithPair()).peers
  const made = []
  const pages = []
  for (let i = 0; i < recipients; i++) {
    const page = await pageWithPair()
    made.push(page.made)
    pages.push(page.peers)
  }
  await sealer.derive(pages.map((p) => p.pub))
  const named = pages.map((p) => [p.id, p.pub])
  const gen = '00000000000000a1'
  const seal = []
  let sealed
  for (let i = -1; i < iterations; i++) {
    const start = performance.now()
    sealed = sealer.seal(plain, named, gen)
    if (i >= 0) seal.push(performance.now() - start)
  }
  const derive = []
  const open = []
  for (let i = -1; i < iterations; i++) {
    // A fresh page each time: the first meeting, the key not derived yet.
    const { peers } = await pageWithPair()
    // The sealer derived its side while it was shown.
    await sealer.derive([peers.pub])
    const wrapped = sealer.seal(plain, [[peers.id, peers.pub]], gen)
    const start = performance.now()
    await peers.derive([sealer.pub])
    const derived = performance.now()
    const opened = peers.open(wrapped, gen)
    const end = performance.now()
    if (!(opened instanceof Uint8Array)) throw new Error('the seal to the page did not open')
    if (i >= 0) {
      derive.push(derived - start)
      open.push(end - derived)
    }
  }
  return {
    stateBytes,
    recipients,
    sealedChars: sealed.c.length + sealed.r.reduce((n, [id, w]) => n + id.length + w.length, 0),
    made: median(made),
    seal: median(seal),
    derive: median(derive),
    open: median(open),
  }
}
