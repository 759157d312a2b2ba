// npm run build:ui — type-checks nothing (tsc -p ui does), bundles the page into dist/ui:
//   ui/src/main.ts (+ uPlot) → dist/ui/main.js, ui/styles.css (+ uPlot's CSS) → dist/ui/styles.css,
//   ui/index.html copied as it is. One script and one stylesheet, both local: the page works offline.
import { build } from 'esbuild'
import { copyFileSync, mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const out = join(here, '..', 'dist', 'ui')
mkdirSync(out, { recursive: true })
await build({
  entryPoints: { main: join(here, 'src', 'main.ts'), styles: join(here, 'styles.css') },
  outdir: out,
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['chrome110', 'firefox110', 'safari16'],
  legalComments: 'eof',
  logLevel: 'warning'
})
copyFileSync(join(here, 'index.html'), join(out, 'index.html'))
