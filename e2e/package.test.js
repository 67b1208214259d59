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
    assert.deepEqual(files, ['CHANGELOG.md', 'LICENSE', 'README.md', 'SECURITY.md', 'dist/index.cjs', 'dist/index.d.cts', 'dist/index.d.ts', 'dist/index.js', 'package.json'])

    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }))
    run('npm', ['install', '--no-audit', '--no-fund', join(dir, packed.filename)], dir)

    await writeFile(
      join(dir, 'esm.mjs'),
      `import Default, { SessionKeystore } from 'tab-keystore'
if (Default !== SessionKeystore) throw new Error('default export differs')
const store = new SessionKeystore({ name: 'esm' })
store.set('k', new Uint8Array([1, 2]))
console.log(JSON.stringify([...store.get('k')]))`,
    )
    await writeFile(
      join(dir, 'cjs.cjs'),
      `const { SessionKeystore, default: Default } = require('tab-keystore')
if (Default !== SessionKeystore) throw new Error('default export differs')
const store = new SessionKeystore({ name: 'cjs' })
store.set('k', 'v')
console.log(store.get('k'))`,
    )
    assert.equal(run('node', ['esm.mjs'], dir).trim(), '[1,2]')
    assert.equal(run('node', ['cjs.cjs'], dir).trim(), 'v')

    await writeFile(
      join(dir, 'consumer.ts'),
      `import { SessionKeystore, type KeystoreEvents } from 'tab-keystore'
const store = new SessionKeystore<{ masterKey: Uint8Array; token: string }>({ name: 'ts' })
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
