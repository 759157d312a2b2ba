// A pipe tool should stay small. V8's default young generation (16 MB semi-spaces) is a large part of
// maap-ship's footprint at full speed, and a smaller one costs little throughput here (bench/ship).
// It only takes effect before the young generation has grown, hence this module is imported first.
// An explicit --max-semi-space-size on the command line (or NODE_OPTIONS) wins.
import { setFlagsFromString } from 'node:v8'

const explicit = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some(a => a.startsWith('--max-semi-space-size'))
if (!explicit) setFlagsFromString('--max-semi-space-size=2')
