// The package as users get it: `npm pack`, installed into a fresh project, imported from
// ESM and from CommonJS, and a consumer file type-checked against the shipped .d.ts.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })

test('the packed tarball installs, imports from ESM and CJS, and type-checks', { timeout: 180_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tab-keystore-smoke-'))
  try {
    const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', dir], root))[0]
    const files = packed.files.map((f) => f.path).sort()
    for (const file of files) assert.match(file, /^(CHANGELOG\.md|LICENSE|README\.md|SECURITY\.md|package\.json|dist\/[\w-]+\.(js|cjs|d\.ts|d\.cts))$/, `${file} should not ship`)
    for (const entry of ['index', 'tabs', 'persistent']) {
      for (const ext of ['js', 'cjs', 'd.ts', 'd.cts']) assert.ok(files.includes(`dist/${entry}.${ext}`), `dist/${entry}.${ext} ships`)
    }

    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }))
    run('npm', ['install', '--no-audit', '--no-fund', join(dir, packed.filename)], dir)

    await writeFile(
      join(dir, 'esm.mjs'),
      `import Default, { SessionKeystore } from 'tab-keystore'
import { tabs } from 'tab-keystore/tabs'
import { PersistentKeystore } from 'tab-keystore/persistent'
if (Default !== SessionKeystore) throw new Error('default export differs')
if (typeof PersistentKeystore.open !== 'function') throw new Error('no PersistentKeystore')
const store = new SessionKeystore({ name: 'esm', tabs })
store.set('k', new Uint8Array([1, 2]))
console.log(JSON.stringify([...store.get('k')]))`,
    )
    await writeFile(
      join(dir, 'cjs.cjs'),
      `const { SessionKeystore, default: Default } = require('tab-keystore')
const { tabs } = require('tab-keystore/tabs')
const { PersistentKeystore } = require('tab-keystore/persistent')
if (typeof PersistentKeystore.drop !== 'function') throw new Error('no PersistentKeystore')
if (Default !== SessionKeystore) throw new Error('default export differs')
const store = new SessionKeystore({ name: 'cjs', tabs })
store.set('k', 'v')
console.log(store.get('k'))`,
    )
    assert.equal(run('node', ['esm.mjs'], dir).trim(), '[1,2]')
    assert.equal(run('node', ['cjs.cjs'], dir).trim(), 'v')

    await writeFile(
      join(dir, 'consumer.ts'),
      `import { SessionKeystore, type KeystoreEvents } from 'tab-keystore'
import { tabs } from 'tab-keystore/tabs'
import { PersistentKeystore, type StorageAdapter } from 'tab-keystore/persistent'
export async function vault(adapter: StorageAdapter): Promise<Uint8Array | null> {
  const v = await PersistentKeystore.open<{ masterKey: Uint8Array }>({ namespace: 'n', key: new Uint8Array(32), storage: adapter })
  // @ts-expect-error: masterKey holds bytes
  await v.set('masterKey', 'text')
  return v.get('masterKey')
}
const store = new SessionKeystore<{ masterKey: Uint8Array; token: string }>({ name: 'ts', tabs, idleTimeout: 60_000 })
store.clear({ everywhere: true })
// @ts-expect-error: tabs is the plugin, not a flag
new SessionKeystore({ tabs: true })
const key: Uint8Array | null = store.get('masterKey')
store.on('restored', ({ count }: KeystoreEvents['restored']) => count.toFixed())
// @ts-expect-error: the token is a string
store.set('token', new Uint8Array(1))
// @ts-expect-error: unknown key
store.get('other')
export { key }`,
    )
    await writeFile(
      join(dir, 'consumer.cts'),
      `import tk = require('tab-keystore')
const store = new tk.SessionKeystore<'a'>({ name: 'cts' })
// @ts-expect-error: unknown key
store.get('b')
export = store`,
    )
    await writeFile(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { strict: true, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', lib: ['es2022', 'dom', 'esnext.disposable'], types: [] }, files: ['consumer.ts', 'consumer.cts'] }),
    )
    run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], dir)
    assert.ok((await readdir(join(dir, 'node_modules', 'tab-keystore', 'dist'))).includes('index.d.cts'))
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
