// The random walk of e2e/walk.js, bounded: fixed seeds (so a failure is the same one on
// every run), as many as fit in about a minute per engine. Long walks: npm run walk.
import { test } from 'node:test'
import { engine, named, setup } from './helpers.js'
import { walk } from './walk.js'

const env = setup({ bfcache: true })
const BUDGET_MS = Number(process.env.TAB_KEYSTORE_WALK_MS || 45_000)
const STEPS = 60

// A tab of its own, for most of the budget; a window another site opened (and navigates
// away by script), for the rest.
for (const [opened, share] of [
  [false, 0.7],
  [true, 0.3],
]) {
  const budget = Math.round(BUDGET_MS * share)
  const where = opened ? 'in a window another site opened' : 'in a tab'
  test(
    named(`random walks ${where}: seeds from 1, ${STEPS} steps each, for about ${Math.round(budget / 1000)} s`),
    { timeout: budget + 120_000 },
    async (t) => {
      const started = Date.now()
      let steps = 0
      let seed = 1
      for (; Date.now() - started < budget; seed++) {
        const context = await env.browser.newContext()
        try {
          // Throws with the seed and the whole trace on the first divergence from the model.
          steps += (await walk({ context, server: env.server, seed, steps: STEPS, opened })).stats.steps
        } finally {
          await context.close()
        }
      }
      t.diagnostic(
        `${engine.name}: ${seed - 1} seeds, ${steps} steps in ${((Date.now() - started) / 1000).toFixed(0)} s; replay one with npm run walk -- --engine ${engine.name} --seed S --steps ${STEPS}${opened ? ' --opened' : ''}`,
      )
    },
  )
}

// Traces long walks found, replayed in every engine (each failed before its fix). Those of
// a window another site opened are marked `opened`.
const FOUND = [
  // A window another site opened, back from a trip to another site by a fresh load: the
  // share was out of window.name, so the page took itself for a new window (a copy of its
  // opener's sessionStorage) and lost the keys in silence (Chromium). Fixed by marking the
  // share's place (src/lifecycle/machine.ts).
  {
    opened: true,
    trace:
      'link; clear; delete b; back; link; link; persist; taken; link; taken; link; reload; back; back; set c s3 @2; set a #15,1; link; away; go -2',
  },
  // WebKit, a window another site opened, localStorage full: a page back from the cache
  // holding nothing dropped nothing, and the tab's latest keys went untold. Fixed by
  // telling `unrecorded` whenever the record is gone.
  {
    opened: true,
    trace:
      'link; set b #1,195; link; set a s0 @2; link; taken; back; persist; taken; link; away; back; back; back; set c s3; link; fill; set b s0 @1; back; away; back; back; away; back; set b s3; link; link; link; taken; back; hook clear; taken; back; link; go -2; forward; taken; back; forward; back; set a s3; link; delete b; link; link; reload; hook clear; back; unfill; back; back; set b #51,176; fill; go 2',
  },
  // Chromium: a page back from the cache wrote its share into window.name, the very value
  // of its own stale view, and Chromium dropped the write; the reload then found a later
  // page's share (tampered). Fixed by writing another value first (src/share.ts).
  'delete a; away; back; reload; forward; link; go -2; go 2; set a s1 @2; go -2; set b #10,88; forward; back; away; back; set b s3; set c s1; persist; link; delete a; reload; set c s1; away; link; set b #24,92; set b s3; go -2; set c s1; forward; back; reload; set a s1 @2; set a #32,168 @2; forward; back; set b s2; forward; back; set b s2 @1; away; link; away; back; forward; back; back; back; go 2; go -2; set a s1; set a s0; reload',
]

test(named('random walks: the traces long walks found'), async () => {
  for (const found of FOUND) {
    const { trace, opened = false, repeat = 1 } = typeof found === 'string' ? { trace: found } : found
    for (let i = 0; i < repeat; i++) {
      const context = await env.browser.newContext()
      try {
        await walk({ context, server: env.server, trace, opened })
      } finally {
        await context.close()
      }
    }
  }
})
