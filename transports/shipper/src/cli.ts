#!/usr/bin/env node
// maap-ship: stdin NDJSON → collector. Reads with split2, respects the shipper's backpressure (so
// memory stays flat however fast the producer writes), and on EOF or SIGINT/SIGTERM delivers what it
// has before exiting with a status that says whether everything arrived.

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import split from 'split2'
import { parseCli, HELP } from './cli-args'
import { Shipper } from './shipper'
import type { ShipperStats } from './stats'
import { noticeLine } from './notices'

/** Every stderr line of this process — its own and the core's (notices.ts) — names it. */
const PREFIX = 'maap-ship'
const say = (text: string): void => noticeLine(PREFIX, text)

/** This package's version, read where npm installed it (dist/ sits next to package.json). */
function version (): string {
  return (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version
}

export const EXIT = { ok: 0, lost: 1, usage: 2, spooled: 3 } as const

// Two V8 defaults cost this process more peak RSS than all the records it holds (bench/ship.mjs measures it):
// - once undici's llhttp WebAssembly parser is hot, TurboFan recompiles it, a spike of compiler
//   memory; the baseline (Liftoff) code parses our small responses just as well;
// - a steady stream of short-lived line strings makes the young generation grow to 2 × 16 MB; kept at its
//   initial size it is scavenged more often, each time with almost nothing alive.
// Set here, not on a command line, so they apply however maap-ship is started (npm's bin link, npx,
// node dist/cli.js); V8 reads both when it uses them, so setting them at start-up takes effect.
export const V8_FLAGS = '--liftoff-only --semi-space-growth-factor=1'

export function main (): void {
  let config
  try {
    config = parseCli(process.argv.slice(2))
  } catch (err) {
    say(`${(err as Error).message} (see --help)`)
    process.exitCode = EXIT.usage
    return
  }
  if (config.help) {
    process.stdout.write(HELP + '\n')
    return
  }
  if (config.version) {
    process.stdout.write(version() + '\n')
    return
  }
  setFlagsFromString(V8_FLAGS)
  let shipper: Shipper
  try {
    shipper = new Shipper(config.options, process.env, { prefix: PREFIX })
  } catch (err) {
    say((err as Error).message)
    process.exitCode = EXIT.usage
    return
  }

  // The shipper's timers never hold a process; this one does, until delivery is finished: the CLI's
  // whole job is that delivery, and stdin paused for backpressure holds nothing either.
  const hold = setInterval(() => {}, 1 << 30)
  const lines = process.stdin.pipe(split())
  if (config.tee) process.stdin.pipe(process.stdout)
  lines.on('data', (line: string) => {
    if (!shipper.write(line)) {
      lines.pause()
      shipper.once('drain', () => lines.resume())
    }
  })

  let finishing = false
  let reason = 'end of input'
  const finish = (why: string): void => {
    if (finishing) return
    finishing = true
    shipper.close().then(stats => {
      const code = exitCode(stats)
      if (!config.quiet || code !== EXIT.ok) say(summary(stats, why, config.options.spoolDir))
      process.exitCode = code
      clearInterval(hold)
      // stdin may still be open (a signal arrived mid-stream); nothing else should hold us now.
      process.stdin.destroy()
      lines.destroy()
    })
  }
  lines.on('end', () => finish(reason))
  lines.on('error', err => finish(`input error: ${err.message}`))
  const onSignal = (signal: NodeJS.Signals): void => {
    // A second signal means "now": leave without waiting for delivery.
    if (finishing || reason !== 'end of input') process.exit(128 + (signal === 'SIGINT' ? 2 : 15))
    reason = signal
    // Stop reading, but let split2 hand over the lines it already holds: 'end' follows, then finish().
    process.stdin.unpipe()
    lines.end()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
}

export function exitCode (stats: ShipperStats): number {
  if (stats.dropped > 0 || stats.rejected > 0) return EXIT.lost
  if (stats.spoolFiles > 0 || stats.queued > 0) return EXIT.spooled
  return EXIT.ok
}

function summary (s: ShipperStats, why: string, spoolDir: string | undefined): string {
  const counts = `sent ${s.sent}, rejected ${s.rejected}, dropped ${s.dropped}, spooled ${s.spooled}, retried ${s.retried}`
  if (s.dropped > 0 || s.rejected > 0) return `${why}: not everything was delivered (${counts})`
  if (s.spoolFiles > 0) return `${why}: collector unreachable, undelivered records kept in ${spoolDir} (${s.spoolFiles} files; ${counts})`
  return `${why}: all delivered (${counts})`
}

// Run when started directly (tests spawn dist/cli.js); the bin launcher calls main() itself.
if (require.main === module) void main()
