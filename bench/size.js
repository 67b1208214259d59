// Bundle size of `import { SessionKeystore } from 'tab-keystore'` as an app ships it:
// bundled with its dependencies by esbuild, minified, gzipped (level 9). The same for
// session-keystore@1.0.3. `--check` fails when ours exceeds the budget (run by npm test).
import { build } from 'esbuild'
import { gzipSync } from 'node:zlib'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/**
 * The budget enforced in CI, in gzipped bytes, for `import { SessionKeystore }` all in
 * (the AEAD included), with about 100 bytes of slack above today's size so that growth
 * fails CI.
 *
 * Issue 14 asked to keep the budget at 11.30 kB and set a target of 5.0 kB for our own
 * code. Neither holds: the tab's record and the state machine that make "one tab, one
 * latest state" true, and what issues 15 and 16 added to it (the share kept from other
 * origins and replaced after one may have seen it, the crash and quota records,
 * `sealWhenHidden`, `get(name, now)` expiring for real), cost more than the markers and
 * slots they replaced: our own code went from 6.36 kB to 7.61 kB (0.11 kB of it for
 * following each navigation to its own end: intercepted ones, downloads, Stop), with the
 * idle timeout moved out to `tab-keystore/idle` (0.19 kB). Measured one by one, every part left is
 * 0.03 to 0.15 kB (bench/.scratch experiments, reported in the README): 11.30 kB would
 * take dropping behaviour that the issues require. The AEAD alone (chacha20poly1305 from
 * @noble/ciphers, bundled the same way) weighs 4.84 kB. Opt-in entries are reported.
 *
 * Issue 22 (fail closed) added 0.52 kB to the core, 12.45 to 12.97 kB: the record's
 * vouched shares and what a gone or refused record means (`unrecorded`), departures
 * nobody announced and the windows whose name other origins read, changes after leaving
 * and the `storage` catch-up of a restored page, the `away` mark, and the deletions
 * everywhere carried in every sealed state (0.12 kB; their storage and tags live in
 * /tabs, which grew from 0.74 to 1.11 kB). Behaviour the issue requires; issue 23 sets a
 * limit per entry point from a reason instead of following the figure.
 */
export const BUDGET = 13_050
export const TARGET = 5_000

async function gzippedSize(contents, external = []) {
  const result = await build({
    stdin: { contents, resolveDir: root, loader: 'js' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    // session-keystore requires Node's crypto only outside browsers.
    external: ['crypto', ...external],
    logLevel: 'silent',
  })
  const code = result.outputFiles[0].contents
  return { minified: code.length, gzipped: gzipSync(code, { level: 9 }).length }
}

export async function sizes() {
  return {
    ours: await gzippedSize(`import { SessionKeystore } from './dist/index.js'; globalThis.x = SessionKeystore`),
    withTabs: await gzippedSize(
      `import { SessionKeystore } from './dist/index.js'; import { tabs } from './dist/tabs.js'; globalThis.x = [SessionKeystore, tabs]`,
    ),
    withIdle: await gzippedSize(
      `import { SessionKeystore } from './dist/index.js'; import { idle } from './dist/idle.js'; globalThis.x = [SessionKeystore, idle]`,
    ),
    persistent: await gzippedSize(
      `import { PersistentKeystore } from './dist/persistent.js'; globalThis.x = PersistentKeystore`,
    ),
    // What the React entry adds to the core import (React itself left out, as the app has it).
    withReact: await gzippedSize(
      `import { SessionKeystore } from './dist/index.js'; import { useKey, usePending } from './dist/react.js'; globalThis.x = [SessionKeystore, useKey, usePending]`,
      ['react'],
    ),
    aead: await gzippedSize(
      `import { chacha20poly1305 } from '@noble/ciphers/chacha.js'; globalThis.x = chacha20poly1305`,
    ),
    theirs: await gzippedSize(`import SessionKeystore from 'session-keystore'; globalThis.x = SessionKeystore`),
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { ours, withTabs, withIdle, withReact, persistent, aead, theirs } = await sizes()
  const kb = (n) => `${(n / 1000).toFixed(2)} kB`
  console.log(
    `tab-keystore       ${kb(ours.gzipped)} gzipped (${kb(ours.minified)} minified): the AEAD ${kb(aead.gzipped)} alone, our own code ${kb(ours.gzipped - aead.gzipped)}`,
  )
  console.log(
    `  with /tabs       ${kb(withTabs.gzipped)} gzipped (${kb(withTabs.minified)} minified): /tabs adds ${kb(withTabs.gzipped - ours.gzipped)}`,
  )
  console.log(
    `  with /idle       ${kb(withIdle.gzipped)} gzipped (${kb(withIdle.minified)} minified): /idle adds ${kb(withIdle.gzipped - ours.gzipped)}`,
  )
  console.log(
    `  with /react      ${kb(withReact.gzipped)} gzipped (${kb(withReact.minified)} minified), React left out: /react adds ${kb(withReact.gzipped - ours.gzipped)}`,
  )
  console.log(`  /persistent      ${kb(persistent.gzipped)} gzipped (${kb(persistent.minified)} minified), on its own`)
  console.log(`session-keystore   ${kb(theirs.gzipped)} gzipped (${kb(theirs.minified)} minified)`)
  if (process.argv.includes('--check')) {
    if (ours.gzipped > BUDGET) {
      console.error(`size budget exceeded: ${ours.gzipped} B gzipped > ${BUDGET} B (bench/size.js)`)
      process.exit(1)
    }
    const own = ours.gzipped - aead.gzipped
    console.log(
      `within the budget of ${kb(BUDGET)}; our own code is ${kb(own)}, the target ${kb(TARGET)} ${own <= TARGET ? 'is met' : 'is not met: see bench/size.js'}`,
    )
  }
}
