// The transpiler tap's ts-node uses for the tests (the "ts-node" section of tsconfig.json): TypeScript's own
// transpile, exactly as ts-node does it in transpile-only mode, with its output kept on disk.
//
//   .ts source ─► key = sha256(TypeScript version, compiler options, module kind, file name, source)
//                   ├─ node_modules/.cache/maap-ts-transpile/<key>.json exists ─► its code + source map
//                   └─ else ts-node's own transpileModule ─► code + source map ─► written there (tmp + rename)
//
// Why: every test file is a process of its own, and each transpiled the test and every collector source it
// imports again: ~4 s of CPU in each file that imports the collector's app, some 150 files a run, on a
// 2-core CI machine. The output is byte for byte what ts-node would have made (same function, same
// options), so coverage and behaviour are unchanged; a source that changes has another key. Threads that
// inherit the loader (the scan pool's) read the same cache.
'use strict'
const { createHash } = require('node:crypto')
const { mkdirSync, readFileSync, renameSync, writeFileSync } = require('node:fs')
const { dirname, join, resolve } = require('node:path')

const CACHE = resolve(__dirname, '..', '..', 'node_modules', '.cache', 'maap-ts-transpile')
// ts-node's transpile-only function for TypeScript ≥ 4.7; not in its package's exports, hence the path.
const TS_NODE_DIST = dirname(require.resolve('@isaacs/ts-node-temp-fork-for-pr-2009'))

/** ts-node's custom transpiler hook (TranspilerModule): one transpiler per module kind ts-node asks for. */
exports.create = function create ({ service, nodeModuleEmitKind }) {
  const compilerOptions = service.config.options
  let ts
  let transpileModule
  const settings = createHash('sha256')
    .update(JSON.stringify([require('typescript/package.json').version, compilerOptions, nodeModuleEmitKind ?? null]))
    .digest('hex')
  return {
    transpile (code, { fileName }) {
      const key = createHash('sha256').update(settings).update('\0').update(fileName).update('\0').update(code).digest('hex')
      const file = join(CACHE, `${key}.json`)
      try {
        return JSON.parse(readFileSync(file, 'utf8'))
      } catch {
        // Not cached yet (or a write cut short): transpile.
      }
      if (transpileModule === undefined) {
        ts = require('typescript')
        const { createTsTranspileModule } = require(join(TS_NODE_DIST, 'ts-transpile-module.js'))
        transpileModule = createTsTranspileModule(ts, { compilerOptions, reportDiagnostics: true })
      }
      // As ts-node calls it: a module kind of 'module' for an ES module, else 'commonjs'.
      const result = transpileModule(code, { fileName }, nodeModuleEmitKind === 'nodeesm' ? 'module' : 'commonjs')
      // A source with syntax errors is not cached: ts-node reports its diagnostics each time.
      if (result.diagnostics !== undefined && result.diagnostics.length > 0) return result
      const out = { outputText: result.outputText, sourceMapText: result.sourceMapText }
      try {
        mkdirSync(CACHE, { recursive: true })
        const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
        writeFileSync(tmp, JSON.stringify(out))
        renameSync(tmp, file) // whole or not at all: another test process may be reading it
      } catch {
        // A cache that cannot be written only costs the next process a transpile.
      }
      return out
    }
  }
}
