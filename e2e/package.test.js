// The package as users get it: `npm pack`, installed into fresh projects, imported from
// ESM and CommonJS, type-checked under strict consumer settings, and run as apps: a Vite
// dev server with a hot edit of the module that creates the store, and a React 19 app in
// StrictMode (development mode, where StrictMode double-invokes). Chromium is enough
// here: what is tested is the package, not the engine.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { chromium } from 'playwright-core'
import { args, binary } from './engines/chromium.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const run = (cmd, argv, cwd) => {
  try {
    return execFileSync(cmd, argv, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (error) {
    // tsc says what failed on stdout: without it the report reads "Command failed" alone.
    error.message += `\n${error.stdout ?? ''}${error.stderr ?? ''}`
    throw error
  }
}
const state = {}

before(async () => {
  state.dir = await mkdtemp(join(tmpdir(), 'tab-keystore-package-'))
  // Packed from a copy of the working tree without dist/, as a fresh clone is: `npm pack`
  // must build it (prepack). The copy also keeps that build away from the dist/ the
  // browser tests read meanwhile.
  const clone = join(state.dir, 'clone')
  const tracked = run('git', ['ls-files', '--cached', '--others', '--exclude-standard'], root)
    .split('\n')
    .filter(Boolean)
  for (const file of tracked)
    if (!file.startsWith('node_modules')) await cp(join(root, file), join(clone, file)).catch(() => undefined)
  await symlink(join(root, 'node_modules'), join(clone, 'node_modules'))
  const output = run('npm', ['pack', '--json', '--pack-destination', state.dir], clone)
  // The prepack build prints first; npm's JSON comes last.
  state.packed = JSON.parse(output.slice(output.lastIndexOf('\n[') + 1))[0]
  state.tarball = join(state.dir, state.packed.filename)
})
after(async () => {
  await state.browser?.close()
  await rm(state.dir, { recursive: true, force: true })
})

/** A fresh project with the tarball and `deps` installed from the registry. */
async function project(name, deps = [], type = 'module') {
  const dir = join(state.dir, name)
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name, private: true, type }))
  run('npm', ['install', '--no-audit', '--no-fund', state.tarball, ...deps], dir)
  return dir
}

/** Type-checks `files` of the consumer project in `dir` strictly, with `options` for its module system. */
async function typecheck(dir, options, files) {
  const compilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: false,
    target: 'es2022',
    lib: ['es2022', 'dom'],
    types: [],
    ...options,
  }
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files }))
  run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], dir)
}

test(
  'the tarball ships dist/ and the docs the README links, and imports from ESM and CJS',
  { timeout: 180_000 },
  async () => {
    const files = state.packed.files.map((f) => f.path).sort()
    for (const file of files)
      assert.match(
        file,
        /^(CHANGELOG\.md|DESIGN\.md|LICENSE|README\.md|SECURITY\.md|package\.json|dist\/[\w-]+\.(js|cjs|d\.ts|d\.cts))$/,
        `${file} should not ship`,
      )
    for (const doc of ['README.md', 'LICENSE', 'CHANGELOG.md', 'SECURITY.md', 'DESIGN.md'])
      assert.ok(files.includes(doc), `${doc} ships`)
    for (const entry of ['index', 'errors', 'tabs', 'idle', 'persistent', 'react']) {
      for (const ext of ['js', 'cjs', 'd.ts', 'd.cts'])
        assert.ok(files.includes(`dist/${entry}.${ext}`), `dist/${entry}.${ext} ships`)
    }
    const dir = await project('plain')
    await writeFile(
      join(dir, 'esm.mjs'),
      `import Default, { SessionKeystore, KeystoreError } from 'tab-keystore'
import { KeystoreError as FromErrors } from 'tab-keystore/errors'
import { tabs } from 'tab-keystore/tabs'
import { PersistentKeystore } from 'tab-keystore/persistent'
if (Default !== SessionKeystore) throw new Error('default export differs')
if (FromErrors !== KeystoreError) throw new Error('two KeystoreError classes')
if (typeof PersistentKeystore.open !== 'function' || typeof KeystoreError !== 'function') throw new Error('exports missing')
const store = new SessionKeystore({ name: 'esm', tabs })
store.set('k', new Uint8Array([1, 2]))
console.log(JSON.stringify([...store.get('k')]))`,
    )
    await writeFile(
      join(dir, 'cjs.cjs'),
      `const { SessionKeystore, default: Default } = require('tab-keystore')
const { tabs } = require('tab-keystore/tabs')
const { idle } = require('tab-keystore/idle')
const { PersistentKeystore } = require('tab-keystore/persistent')
const { KeystoreError } = require('tab-keystore/errors')
if (typeof PersistentKeystore.drop !== 'function') throw new Error('no PersistentKeystore')
if (KeystoreError !== require('tab-keystore').KeystoreError) throw new Error('two KeystoreError classes')
if (Default !== SessionKeystore) throw new Error('default export differs')
const store = new SessionKeystore({ name: 'cjs', tabs, idle: idle(60_000) })
store.set('k', 'v')
PersistentKeystore.open({ namespace: 'n', key: new Uint8Array(32) }).catch((error) => {
  if (!(error instanceof KeystoreError)) throw new Error('an error of /persistent is not a KeystoreError')
  console.log(store.get('k'))
})`,
    )
    assert.equal(run('node', ['esm.mjs'], dir).trim(), '[1,2]')
    assert.equal(run('node', ['cjs.cjs'], dir).trim(), 'v')
    assert.ok((await readdir(join(dir, 'node_modules', 'tab-keystore', 'dist'))).includes('index.d.cts'))
  },
)

test(
  'the declarations compile for a strict consumer: skipLibCheck false, exactOptionalPropertyTypes, no esnext.disposable',
  { timeout: 180_000 },
  async () => {
    const dir = await project('types', ['@types/react@19', 'react@19'])
    await writeFile(
      join(dir, 'consumer.ts'),
      `import { SessionKeystore, KeystoreError, type KeystoreEvents } from 'tab-keystore'
import { tabs } from 'tab-keystore/tabs'
import { idle } from 'tab-keystore/idle'
// @ts-expect-error: the store's side of the idle option is not an API
import type { IdleLink } from 'tab-keystore/idle'
import { KeystoreError as Handled, type ErrorCode } from 'tab-keystore/errors'
import { PersistentKeystore, type StorageAdapter } from 'tab-keystore/persistent'
import { useKey, usePending } from 'tab-keystore/react'
export const handled: ErrorCode | null = new Handled('closed', 'x') instanceof KeystoreError ? 'closed' : null
export type Link = IdleLink
interface Keys { masterKey: Uint8Array; token: string }
export async function vault(adapter: StorageAdapter): Promise<Uint8Array | null> {
  const v = await PersistentKeystore.open<Keys>({ namespace: 'n', key: new Uint8Array(32), storage: adapter })
  // @ts-expect-error: masterKey holds bytes
  await v.set('masterKey', 'text')
  return v.get('masterKey')
}
declare const multiTab: boolean
const store = new SessionKeystore<Keys>({ name: 'ts', tabs: multiTab ? tabs : undefined, idle: idle(60_000) })
// @ts-expect-error: idle is the plugin, not a number
new SessionKeystore({ idle: 60_000 })
store.clear({ everywhere: true })
// @ts-expect-error: tabs is the plugin, not a flag
new SessionKeystore({ tabs: true })
export const key: Promise<CryptoKey> = crypto.subtle.importKey('raw', store.get('masterKey')!, 'HKDF', false, ['deriveBits'])
store.on('restored', ({ count }: KeystoreEvents['restored']) => count.toFixed())
// @ts-expect-error: the token is a string
store.set('token', new Uint8Array(1))
// @ts-expect-error: unknown key
store.get('other')
export function useToken(): string | null {
  return usePending(store) ? null : useKey(store, 'token')
}
export const isWrongKey = (error: unknown): boolean => error instanceof KeystoreError && error.code === 'wrong-key'`,
    )
    await writeFile(
      join(dir, 'consumer.cts'),
      `import tk = require('tab-keystore')
const store = new tk.SessionKeystore<'a'>({ name: 'cts' })
// @ts-expect-error: unknown key
store.get('b')
export = store`,
    )
    await typecheck(dir, { exactOptionalPropertyTypes: true, module: 'nodenext', moduleResolution: 'nodenext' }, [
      'consumer.ts',
      'consumer.cts',
    ])
  },
)

test(
  'the declarations resolve under the legacy moduleResolution node (node10), subpaths included',
  { timeout: 180_000 },
  async () => {
    const dir = await project('types-node10', ['@types/react@19'], 'commonjs')
    await writeFile(
      join(dir, 'consumer.ts'),
      `import { SessionKeystore, KeystoreError } from 'tab-keystore'
import { KeystoreError as FromErrors, type ErrorCode } from 'tab-keystore/errors'
import { tabs } from 'tab-keystore/tabs'
import { idle } from 'tab-keystore/idle'
import { PersistentKeystore } from 'tab-keystore/persistent'
import { useKey } from 'tab-keystore/react'
const store = new SessionKeystore<{ token: string }>({ name: 'n10', tabs, idle: idle(60_000) })
// @ts-expect-error: the token is a string
store.set('token', new Uint8Array(1))
export const code: ErrorCode = 'wrong-key'
export const same: boolean = new FromErrors('wrong-key', 'x') instanceof KeystoreError
export const open: typeof PersistentKeystore.open = PersistentKeystore.open
export const hook: typeof useKey = useKey`,
    )
    await typecheck(dir, { module: 'commonjs', moduleResolution: 'node' }, ['consumer.ts'])
  },
)

/** A Vite dev server of the project in `dir`, from the project's own Vite, on a free port. */
async function devServer(dir) {
  const { createServer } = await import(pathToFileURL(join(dir, 'node_modules', 'vite', 'dist', 'node', 'index.js')))
  const server = await createServer({
    root: dir,
    logLevel: 'error',
    server: { host: '127.0.0.1', port: 0 },
    configFile: false,
  })
  await server.listen()
  return { url: server.resolvedUrls.local[0], close: () => server.close() }
}

async function openPage(url) {
  state.browser ??= await chromium.launch({ executablePath: binary(), args, headless: true })
  const page = await state.browser.newPage()
  const problems = []
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`))
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning')
      problems.push(`${message.type()}: ${message.text()}`)
  })
  await page.goto(url)
  await page.waitForFunction(() => window.ready === true)
  return { page, problems }
}

test(
  'a Vite dev server: editing the module that creates the store keeps the keys, one store, no error',
  { timeout: 180_000 },
  async () => {
    const dir = await project('vite-hmr', ['vite@8'])
    await writeFile(
      join(dir, 'index.html'),
      '<!doctype html><link rel="icon" href="data:,"><script type="module" src="/main.js"></script>',
    )
    const storeModule = `import { SessionKeystore } from 'tab-keystore'
window.storeModuleRuns = (window.storeModuleRuns ?? 0) + 1
export const store = new SessionKeystore({ name: 'hmr' })
window.stores = [...(window.stores ?? []), store]
if (import.meta.hot) import.meta.hot.accept()
`
    await writeFile(join(dir, 'store.js'), storeModule)
    await writeFile(
      join(dir, 'main.js'),
      `import { store } from './store.js'\nwindow.store = store\nwindow.ready = true\n`,
    )
    const server = await devServer(dir)
    try {
      const { page, problems } = await openPage(server.url)
      await page.evaluate(() => {
        window.store.set('masterKey', 'survives the edit')
        window.notReloaded = true
      })
      await writeFile(join(dir, 'store.js'), storeModule + '// edited: the module runs again\n')
      await page.waitForFunction(() => window.storeModuleRuns === 2, null, { timeout: 15_000 })
      assert.deepEqual(
        await page.evaluate(() => [
          window.notReloaded,
          window.stores[0] === window.stores[1],
          window.stores[1].get('masterKey'),
        ]),
        [true, true, 'survives the edit'],
      )
      await page.reload()
      await page.waitForFunction(() => window.ready === true)
      assert.equal(await page.evaluate(() => window.store.get('masterKey')), 'survives the edit')
      assert.deepEqual(problems, [])
    } finally {
      await server.close()
    }
  },
)

test(
  'a React 19 app in StrictMode: useState(() => new SessionKeystore()), useKey, WebCrypto import, a reload',
  { timeout: 180_000 },
  async () => {
    const dir = await project('react-app', ['vite@8', 'react@19', 'react-dom@19'])
    await writeFile(
      join(dir, 'index.html'),
      '<!doctype html><link rel="icon" href="data:,"><div id="root"></div><script type="module" src="/main.js"></script>',
    )
    await writeFile(
      join(dir, 'main.js'),
      `import { StrictMode, createElement as h, useEffect, useState } from 'react'
import { createRoot } from 'react-dom/client'
import { SessionKeystore } from 'tab-keystore'
import { useKey } from 'tab-keystore/react'

window.reads = 0
function App() {
  const [store] = useState(() => new SessionKeystore({ name: 'react-app' }))
  useEffect(() => {
    window.store = store
    return store.on('read', () => window.reads++)
  }, [store])
  const masterKey = useKey(store, 'masterKey')
  const [imported, setImported] = useState('')
  useEffect(() => {
    if (!masterKey) return
    // The bytes go straight to WebCrypto, non-extractable.
    crypto.subtle.importKey('raw', masterKey, 'HKDF', false, ['deriveBits']).then((key) => setImported(key.type))
  }, [masterKey])
  const unlock = async () => {
    const bits = await crypto.subtle.digest('SHA-256', new TextEncoder().encode('correct horse'))
    store.set('masterKey', new Uint8Array(bits))
  }
  return h('main', null,
    h('p', { id: 'status' }, masterKey ? 'unlocked: ' + masterKey.length + ' bytes, ' + imported : 'locked'),
    h('button', { id: 'unlock', onClick: unlock }, 'unlock'))
}
createRoot(document.getElementById('root')).render(h(StrictMode, null, h(App)))
window.ready = true
`,
    )
    const server = await devServer(dir)
    try {
      const { page, problems } = await openPage(server.url)
      await page.waitForSelector('#status')
      assert.equal(await page.textContent('#status'), 'locked')
      await page.click('#unlock')
      await page.waitForFunction(() => document.getElementById('status').textContent === 'unlocked: 32 bytes, secret')
      // Re-renders without a change do not read again (StrictMode reads twice per change in development).
      const reads = await page.evaluate(() => window.reads)
      assert.ok(reads <= 4, `${reads} read events for one change`)
      await page.reload()
      await page.waitForFunction(() => document.getElementById('status')?.textContent === 'unlocked: 32 bytes, secret')
      assert.deepEqual(problems, [])
    } finally {
      await server.close()
    }
  },
)

test('package.json tells the registry where the sources, issues and links live', async () => {
  const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'))
  for (const field of ['repository', 'homepage', 'bugs']) assert.ok(manifest[field], `${field} is set`)
  assert.equal(manifest.scripts.prepack, 'npm run build', 'npm pack builds dist/ first')
})
