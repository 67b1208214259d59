// WebKit (Safari's engine): WebKitGTK's MiniBrowser driven by WebKitWebDriver on an Xvfb
// display (MiniBrowser has no headless mode). One driver and one MiniBrowser per context:
// automation sessions keep their storage in memory (an ephemeral data manager), so two
// sessions never share it, and nothing they do reaches the disk. The disk test therefore
// runs MiniBrowser without automation, on a data directory of its own (launchProfile).
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { Page } from './page.js'
import { findBinary as find, stopProcess } from './process.js'
import { WebDriverSession } from './webdriver.js'

const MINIBROWSER = [
  process.env.TAB_KEYSTORE_MINIBROWSER,
  '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser',
  '/usr/lib/aarch64-linux-gnu/webkit2gtk-4.1/MiniBrowser',
  '/usr/libexec/webkit2gtk-4.1/MiniBrowser',
]
const DRIVER = [process.env.TAB_KEYSTORE_WEBKITDRIVER, '/usr/bin/WebKitWebDriver']
const XVFB = ['/usr/bin/Xvfb']

export const install =
  'apt-get install -y webkit2gtk-driver xvfb (or set TAB_KEYSTORE_MINIBROWSER and TAB_KEYSTORE_WEBKITDRIVER)'
export const binary = () => find(MINIBROWSER) && find(DRIVER) && find(XVFB) && find(MINIBROWSER)

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
    server.on('error', reject)
  })
}

/** An X display of our own: Xvfb picks a free number and writes it to fd 3. */
async function startDisplay() {
  const child = spawn(find(XVFB), ['-displayfd', '3', '-nolisten', 'tcp', '-screen', '0', '1280x1024x24'], {
    stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
  })
  const display = await new Promise((resolve, reject) => {
    let seen = ''
    child.stdio[3].on('data', (chunk) => {
      seen += chunk
      if (seen.includes('\n')) resolve(`:${seen.trim()}`)
    })
    child.once('exit', (code) => reject(new Error(`Xvfb exited with ${code}`)))
  })
  return { display, stop: () => stopProcess(child) }
}

async function waitForDriver(base) {
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(`${base}/status`)
      return
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  throw new Error(`WebKitWebDriver did not answer at ${base}`)
}

async function newSession(display, browserArgs) {
  const port = await freePort()
  const driver = spawn(find(DRIVER), [`--port=${port}`], { stdio: 'ignore', env: { ...process.env, DISPLAY: display } })
  const base = `http://127.0.0.1:${port}`
  await waitForDriver(base)
  // pageLoadStrategy none: the layer waits for documents itself. With the default, a
  // command sent during a cross-site navigation waited up to the 300 s page-load timeout.
  const session = await WebDriverSession.create(base, {
    browserName: 'MiniBrowser',
    pageLoadStrategy: 'none',
    'webkitgtk:browserOptions': {
      binary: find(MINIBROWSER),
      args: ['--automation', '--javascript-can-open-windows-automatically=true', ...browserArgs],
    },
  })
  await session.command('POST', '/timeouts', { script: 30_000 })
  return { session, stop: async () => (await session.delete().catch(() => undefined), await stopProcess(driver)) }
}

export async function launch({ bfcache = true } = {}) {
  const display = await startDisplay()
  const contexts = new Set()
  const browserArgs = bfcache ? [] : ['--enable-page-cache=false']
  return {
    version: 'WebKitGTK 2.50',
    async newContext() {
      const { session, stop } = await newSession(display.display, browserArgs)
      contexts.add(stop)
      // One window is current at a time in WebDriver: commands are queued and each
      // switches to its page's window first.
      let queue = Promise.resolve()
      let current = await session.command('GET', '/window')
      let first = current
      const serial = (handle, work) => {
        const next = queue.then(async () => {
          if (handle !== current) {
            await session.command('POST', '/window', { handle })
            current = handle
          }
          return work()
        })
        queue = next.catch(() => undefined)
        return next
      }
      const wrap = (handle) =>
        new Page({
          // A script sent while the window changes documents (a cross-site Back, measured)
          // sometimes never answers, though the driver goes on serving other commands:
          // polls give up after 3 s and are retried.
          run: (source, { quick }) =>
            serial(handle, () =>
              session.executeAsync(
                `const done = arguments[arguments.length - 1]; ${source}.then(done)`,
                [],
                quick ? 3000 : 30_000,
              ),
            ),
          goto: (url) => serial(handle, () => session.command('POST', '/url', { url })),
          back: () => serial(handle, () => session.command('POST', '/back', {})),
          close: () =>
            serial(handle, async () => {
              // Closing the last window quits MiniBrowser and ends the session: keep it,
              // blank, for the next newPage().
              const handles = await session.command('GET', '/window/handles')
              if (handles.length > 1) {
                await session.command('DELETE', '/window')
                // The driver has no current window after a close: pick another.
                current = handles.find((h) => h !== handle)
                await session.command('POST', '/window', { handle: current })
                return
              }
              await session.command('POST', '/url', { url: 'about:blank' })
              first = handle
            }),
        })
      return {
        async newPage(url) {
          let handle
          if (first) {
            // The session's first window is a tab like any other. Popups need
            // --javascript-can-open-windows-automatically: tests open them without a click.
            handle = first
            first = undefined
          } else {
            ;({ handle } = await serial(current, () => session.command('POST', '/window/new', { type: 'tab' })))
          }
          const page = wrap(handle)
          if (url) await page.goto(url)
          return page
        },
        async waitForPage(trigger) {
          const known = new Set(await serial(current, () => session.command('GET', '/window/handles')))
          await trigger()
          for (let i = 0; i < 200; i++) {
            const handles = await serial(current, () => session.command('GET', '/window/handles'))
            const fresh = handles.find((h) => !known.has(h))
            if (fresh) return wrap(fresh)
            await new Promise((resolve) => setTimeout(resolve, 50))
          }
          throw new Error('no new window appeared')
        },
        async close() {
          contexts.delete(stop)
          await stop()
        },
      }
    },
    async close() {
      await Promise.all([...contexts].map((stop) => stop()))
      await display.stop()
    },
  }
}

/** MiniBrowser without automation on a data directory of its own, opening `url`. */
export async function launchProfile(dir, url) {
  const display = await startDisplay()
  // Cookies persist only with --cookies-file; storage goes under XDG_DATA_HOME.
  const child = spawn(find(MINIBROWSER), [`--cookies-file=${dir}/cookies.sqlite`, url], {
    stdio: 'ignore',
    env: {
      ...process.env,
      DISPLAY: display.display,
      HOME: dir,
      XDG_DATA_HOME: `${dir}/data`,
      XDG_CACHE_HOME: `${dir}/cache`,
      XDG_CONFIG_HOME: `${dir}/config`,
    },
  })
  return { close: async () => (await stopProcess(child), await display.stop()) }
}
