// The one table, shaped like issue #24's: a row per measure, VictoriaLogs, ours, and ours / theirs —
// for times the speed ratio (their time / ours: above 1× we are faster), for sizes ours / theirs.
import { fmt, median } from '../lib.mjs'

const MB = 2 ** 20
const ms = xs => xs === undefined ? 'n/a' : `${fmtMs(median(xs))} ms (best ${fmtMs(Math.min(...xs))})`
const fmtMs = v => v < 10 ? v.toFixed(1) : fmt(v)
const x = v => Number.isFinite(v) ? `${v.toFixed(2)}×` : 'n/a'

export function printTable ({ n, seed, runs, version, batch, counts, vl, ours, two, timings, vlName, oursName, mismatches }) {
  const rows = []
  const speed = name => {
    const theirs = vlName && timings[name][vlName]
    const mine = timings[name][oursName]
    return [ms(theirs), ms(mine), theirs ? x(median(theirs) / median(mine)) : 'n/a']
  }
  const exportMb = s => timings.exportWord[`${s} bytes`] === undefined ? '' : `, ${fmt(timings.exportWord[`${s} bytes`] / MB)} MB`
  rows.push([`ingest, batches of ${fmt(batch)}, 4 in flight`,
    vl ? `${fmt(vl.ingest)} ev/s` : 'n/a',
    `${fmt(ours.ingest)} (one process); ${fmt(two.ingest)} (\`WORKER_COUNT=2\`)`,
    vl ? `${x(ours.ingest / vl.ingest)}; ${x(two.ingest / vl.ingest)} with 2 workers` : 'n/a'])
  rows.push([`newest 100 with a rare word (${fmt(counts.rare)} matches)`, ...speed('newestRare')])
  rows.push([`newest 100 of one app at ERROR and above (${fmt(counts.appErrors)} matches)`, ...speed('newestAppErrors')])
  rows.push([`count of a common word (${fmt(counts.common)} matches)`, ...speed('countWord')])
  const [theirExport, ourExport, exportRatio] = speed('exportWord')
  rows.push(['export every event with that word (NDJSON)', theirExport + (vlName ? exportMb(vlName) : ''), ourExport + exportMb(oursName), exportRatio])
  rows.push(['24 × 1 h histogram by level', ...speed('histogram')])
  rows.push(['disk, after settling',
    vl ? `${fmt(vl.disk / MB)} MB` : 'n/a',
    `${fmt(ours.disk / MB)} MB (\`WORKER_COUNT=2\`: ${fmt(two.disk / MB)} MB)`,
    vl ? `${x(ours.disk / vl.disk)} the size` : 'n/a'])
  rows.push(['peak RSS (VmHWM)', vl ? `${fmt(vl.rss)} MB` : 'n/a', `${fmt(ours.rss)} MB (one process)`, vl ? `${x(ours.rss / vl.rss)} the size` : 'n/a'])
  const underLoad = r => `${x(r.underLoad.loaded / r.underLoad.alone)} (${fmt(r.underLoad.loaded)} vs ${fmt(r.underLoad.alone)} ev/s alone; ${r.underLoad.queries} counts, ${fmt(r.underLoad.queryMs)} ms each)`
  rows.push(['ingest while a heavy count loops, vs alone (goal ≥ 0.70×)', vl ? underLoad(vl) : 'n/a', underLoad(ours), ''])
  rows.push(['answers vs the generator and each other', vl ? (mismatches.some(m => m.startsWith(vlName)) ? 'MISMATCH' : 'all match') : 'n/a',
    mismatches.some(m => m.startsWith(oursName)) ? 'MISMATCH' : 'all match', mismatches.length === 0 ? '' : `${mismatches.length} mismatches (below)`])

  console.log(`${fmt(n)} events, seed ${seed}, VictoriaLogs ${version}, each query ${runs}× on each: median (best)\n`)
  console.log('| | VictoriaLogs | ours | ours / theirs |')
  console.log('|---|---|---|---|')
  for (const row of rows) console.log(`| ${row.join(' | ')} |`)
  console.log('\nours / theirs: for a time, their time / ours (above 1× ours is faster); for ingest, our rate / theirs; for disk and RSS, ours / theirs.')
  if (mismatches.length > 0) console.log('\nMismatches:\n' + mismatches.map(m => `- ${m}`).join('\n'))
}
