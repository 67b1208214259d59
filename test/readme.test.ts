// @vitest-environment node
// The documents users read: every ```ts and ```tsx sample in README.md, SECURITY.md and
// DESIGN.md compiles against the source, as an app would write it (issue 24, item 1), and
// every link works from the npm tarball.
//
// How a sample is compiled:
// - Each block is a module of its own, in one program with the others of its document.
//   A block whose first line is a file name comment (`// store.ts`) is that file, and the
//   blocks after it import it as an app would (`import { store } from './store'`).
// - Whatever a sample needs from the app (a password, a server key, a component) is
//   declared inside it, visibly (`declare const password: string`): there is no hidden
//   preamble.
// - `tab-keystore` and its entry points map to the source (`src/index.ts`, ...), `react`
//   and the rest resolve from node_modules.
// - Settings: strict, exactOptionalPropertyTypes, skipLibCheck false (the declarations a
//   sample pulls in are checked too), lib es2022 + dom only (what a browser app has, and no
//   esnext.disposable), jsx react-jsx, module esnext with bundler resolution, no @types
//   but those imported. Errors are reported for the samples and for declaration files;
//   the library's own .ts files are type-checked by `npm run typecheck` under their own
//   settings (their es2024 lib, which users of the built declarations never need).
import { readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const DOCUMENTS = ['README.md', 'SECURITY.md', 'DESIGN.md']
/** What the npm tarball ships beside dist/: links to anything else must be absolute. */
const SHIPPED = new Set(['README.md', 'LICENSE', 'CHANGELOG.md', 'SECURITY.md', 'DESIGN.md'])
const REPOSITORY = 'https://github.com/tab-keystore/tab-keystore/blob/main/'

const ENTRY_POINTS: Record<string, string> = {
  'tab-keystore': 'src/index.ts',
  'tab-keystore/tabs': 'src/tabs/index.ts',
  'tab-keystore/idle': 'src/idle-entry.ts',
  'tab-keystore/react': 'src/react.ts',
  'tab-keystore/persistent': 'src/persistent/index.ts',
  'tab-keystore/errors': 'src/errors-entry.ts',
}

interface Block {
  document: string
  /** Line of the opening fence, 1-based. */
  line: number
  lang: 'ts' | 'tsx'
  code: string
  file: string
}

/** The fenced blocks of a Markdown text, with the line of each opening fence. */
function fences(text: string): { line: number; lang: string; code: string }[] {
  const lines = text.split('\n')
  const out: { line: number; lang: string; code: string }[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)/.exec(lines[i]!)
    if (!open) continue
    const fence = open[2]!
    const start = i
    const body: string[] = []
    for (i++; i < lines.length && !lines[i]!.trimStart().startsWith(fence); i++) body.push(lines[i]!)
    out.push({ line: start + 1, lang: open[3]!, code: body.join('\n') })
  }
  return out
}

function blocksOf(document: string): Block[] {
  const text = readFileSync(join(root, document), 'utf8')
  const dir = join(root, 'test', 'readme', '.samples', document.replace(/\W/g, '-'))
  return fences(text)
    .filter((fence) => fence.lang === 'ts' || fence.lang === 'tsx' || fence.lang === 'typescript')
    .map((fence, index) => {
      const lang = fence.lang === 'tsx' ? 'tsx' : 'ts'
      const named = /^\/\/ ([\w-]+\.tsx?)\b/.exec(fence.code)?.[1]
      if (named && !named.endsWith(`.${lang}`)) {
        throw new Error(`${document}:${fence.line}: a \`\`\`${lang} block names its file ${named}`)
      }
      return {
        document,
        line: fence.line,
        lang,
        code: fence.code,
        file: join(dir, named ?? `block-${index + 1}-line-${fence.line}.${lang}`),
      }
    })
}

function compilerOptions(): ts.CompilerOptions {
  const paths = Object.fromEntries(Object.entries(ENTRY_POINTS).map(([name, file]) => [name, [`./${file}`]]))
  const parsed = ts.parseJsonConfigFileContent(
    {
      compilerOptions: {
        strict: true,
        exactOptionalPropertyTypes: true,
        skipLibCheck: false,
        noEmit: true,
        target: 'es2022',
        module: 'esnext',
        moduleResolution: 'bundler',
        moduleDetection: 'force',
        lib: ['es2022', 'dom'],
        types: [],
        jsx: 'react-jsx',
        paths,
      },
      files: [],
    },
    ts.sys,
    root,
  )
  // 18002: "the files list is empty": the program's files are the samples, given below.
  const errors = parsed.errors.filter((error) => error.code !== 18002)
  expect(errors.map((error) => ts.flattenDiagnosticMessageText(error.messageText, '\n'))).toEqual([])
  return parsed.options
}

interface Compiled {
  /** Per document, and under '' what is not in a sample (options, declaration files). */
  problems: Map<string, string[]>
}

/** Compiles the blocks in one program; returns each problem as a readable paragraph. */
function compile(blocks: Block[]): Compiled {
  const options = compilerOptions()
  const virtual = new Map(blocks.map((block) => [block.file, block]))
  if (virtual.size !== blocks.length) {
    const names = blocks.map((block) => block.file)
    const twice = names.filter((name, i) => names.indexOf(name) !== i)
    throw new Error(`two blocks name the same file: ${twice.join(', ')}`)
  }
  const host = ts.createCompilerHost(options, true)
  const { getSourceFile, fileExists, readFile } = host
  const dirs = new Set([...virtual.keys()].map((file) => dirname(file)))
  const { directoryExists } = host
  host.directoryExists = (dir) => dirs.has(dir) || (directoryExists?.call(host, dir) ?? ts.sys.directoryExists(dir))
  host.fileExists = (file) => virtual.has(file) || fileExists.call(host, file)
  host.readFile = (file) => virtual.get(file)?.code ?? readFile.call(host, file)
  host.getSourceFile = (file, language, ...rest) => {
    const block = virtual.get(file)
    if (block) return ts.createSourceFile(file, block.code, language, true)
    return getSourceFile.call(host, file, language, ...rest)
  }
  const program = ts.createProgram({ rootNames: [...virtual.keys()], options, host })
  const problems = new Map<string, string[]>()
  const add = (to: Map<string, string[]>, document: string, text: string) =>
    to.set(document, [...(to.get(document) ?? []), text])
  const describeDiagnostic = (diagnostic: ts.Diagnostic): string =>
    `TS${diagnostic.code}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`
  for (const diagnostic of [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()]) {
    add(problems, '', `compiler: ${describeDiagnostic(diagnostic)}`)
  }
  for (const source of program.getSourceFiles()) {
    const block = virtual.get(source.fileName)
    // TypeScript's own lib files are its business (skipDefaultLibCheck); every other
    // declaration file a sample pulls in is checked, as skipLibCheck: false does.
    if (!block && (!source.isDeclarationFile || program.isSourceFileDefaultLibrary(source))) continue
    const diagnostics = [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]
    for (const diagnostic of diagnostics) {
      const message = describeDiagnostic(diagnostic)
      if (!block) {
        add(problems, '', `${source.fileName}: ${message}`)
        continue
      }
      const { line, character } = source.getLineAndCharacterOfPosition(diagnostic.start ?? 0)
      const where = `${block.document}:${block.line + 1 + line} (the \`\`\`${block.lang} block at line ${block.line})`
      const text = `${where}, column ${character + 1}: ${message}\n    ${block.code.split('\n')[line]}`
      add(problems, block.document, text)
    }
  }
  return { problems }
}

let compiled: Compiled | undefined
/** All samples of all documents in one program (creating it takes most of the time). */
const samples = (): Compiled => (compiled ??= compile(DOCUMENTS.flatMap(blocksOf)))

describe('the documents', () => {
  it.each(DOCUMENTS)(
    '%s: every TypeScript sample compiles against the source',
    (document) => {
      const problems = samples().problems.get(document) ?? []
      if (problems.length) {
        throw new Error(
          `${problems.length} problem(s) compiling the samples of ${document}:\n\n${problems.join('\n\n')}`,
        )
      }
    },
    180_000,
  )

  it('the options are valid, and the declarations the samples pull in compile (skipLibCheck: false)', () => {
    expect(samples().problems.get('') ?? []).toEqual([])
  }, 180_000)

  it('README.md has its samples, and they are found', () => {
    // A guard against an extraction that silently finds nothing.
    const blocks = blocksOf('README.md')
    expect(blocks.length).toBeGreaterThanOrEqual(5)
    expect(blocks.some((block) => block.lang === 'tsx')).toBe(true)
  })

  it.each(DOCUMENTS)('%s: every link works from the npm tarball and on GitHub', (document) => {
    const broken = linksOf(document).filter(({ target }) => !linkWorks(document, target))
    expect(broken.map(({ line, target }) => `${document}:${line}: ${target}`)).toEqual([])
  })
})

/** Links outside code: `[text](target)`, with the line each is on. */
function linksOf(document: string): { line: number; target: string }[] {
  const text = readFileSync(join(root, document), 'utf8')
  const out: { line: number; target: string }[] = []
  let inFence = false
  text.split('\n').forEach((line, i) => {
    if (/^\s*(`{3,}|~{3,})/.test(line)) inFence = !inFence
    if (inFence) return
    const prose = line.replace(/`[^`]*`/g, '')
    for (const match of prose.matchAll(/\]\(([^)\s]+)\)/g)) out.push({ line: i + 1, target: match[1]! })
  })
  return out
}

function linkWorks(document: string, target: string): boolean {
  if (target.startsWith(REPOSITORY)) {
    const path = target.slice(REPOSITORY.length).replace(/[?#].*$/, '')
    return ts.sys.fileExists(join(root, path)) || ts.sys.directoryExists(join(root, path))
  }
  if (/^(https?:|mailto:)/.test(target)) return true
  const [file = '', anchor] = target.split('#')
  const into = file === '' ? document : file
  if (!SHIPPED.has(into)) return false
  return anchor === undefined || !into.endsWith('.md') || anchorsOf(into).has(anchor)
}

/** The anchors GitHub (and npm) give a document's headings. */
function anchorsOf(document: string): Set<string> {
  const text = readFileSync(join(root, document), 'utf8')
  const seen = new Map<string, number>()
  const anchors = new Set<string>()
  let inFence = false
  for (const line of text.split('\n')) {
    if (/^\s*(`{3,}|~{3,})/.test(line)) inFence = !inFence
    const heading = !inFence && /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)
    if (!heading) continue
    const slug = heading[1]!
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-')
    const count = seen.get(slug) ?? 0
    seen.set(slug, count + 1)
    anchors.add(count ? `${slug}-${count}` : slug)
  }
  return anchors
}
