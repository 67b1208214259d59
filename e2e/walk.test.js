// The random walk of e2e/walk.js, bounded: fixed seeds (so a failure is the same one on
// every run), as many as fit in about a minute per engine. Long walks: npm run walk.
import { test } from 'node:test'
import { engine, named, setup } from './helpers.js'
import { walk } from './walk.js'

const env = setup({ bfcache: true })
const BUDGET_MS = Number(process.env.TAB_KEYSTORE_WALK_MS || 45_000)
const STEPS = 60

test(named(`random walks: seeds from 1, ${STEPS} steps each, for about ${Math.round(BUDGET_MS / 1000)} s`), { timeout: BUDGET_MS + 120_000 }, async (t) => {
  const started = Date.now()
  let steps = 0
  let seed = 1
  for (; Date.now() - started < BUDGET_MS; seed++) {
    const context = await env.browser.newContext()
    try {
      // Throws with the seed and the whole trace on the first divergence from the model.
      steps += (await walk({ context, server: env.server, seed, steps: STEPS })).stats.steps
    } finally {
      await context.close()
    }
  }
  t.diagnostic(`${engine.name}: ${seed - 1} seeds, ${steps} steps in ${((Date.now() - started) / 1000).toFixed(0)} s; replay one with npm run walk -- --engine ${engine.name} --seed S --steps ${STEPS}`)
})

// Traces long walks found, replayed in every engine (each failed before its fix).
const FOUND = [
  // Chromium: a page back from the cache wrote its share into window.name, the very value
  // of its own stale view, and Chromium dropped the write; the reload then found a later
  // page's share (tampered). Fixed by writing another value first (src/share.ts).
  'delete a; away; back; reload; forward; link; go -2; go 2; set a s1 @2; go -2; set b #10,88; forward; back; away; back; set b s3; set c s1; persist; link; delete a; reload; set c s1; away; link; set b #24,92; set b s3; go -2; set c s1; forward; back; reload; set a s1 @2; set a #32,168 @2; forward; back; set b s2; forward; back; set b s2 @1; away; link; away; back; forward; back; back; back; go 2; go -2; set a s1; set a s0; reload',
]

test(named('random walks: the traces long walks found'), async () => {
  for (const trace of FOUND) {
    const context = await env.browser.newContext()
    try {
      await walk({ context, server: env.server, trace })
    } finally {
      await context.close()
    }
  }
})
