// The disk spool: one NDJSON file per batch, already mapped to collector events, named so that a plain
// sort is the order the records were written in: `<run, 15 digits>-<batch, 10 digits>-<part, 4 digits>.<key>.ndjson`,
// where run is the epoch ms at which the shipper started (a restarted application sorts after the last
// run), batch the batch's sequence number within the run (a retried batch spilled late still sorts
// before newer ones) and key the batch's Idempotency-Key (batch-key.ts), so that the process replaying
// the file sends it as the same request the first attempt was. (Files of an older version have no key
// part and are sent without one.) Files are
// written to a `.tmp` name and renamed, so a crash never leaves half a batch under a replayable name.
// One shipper owns a directory at a time (`.lock` holds its pid): two replaying the same files would
// deliver them twice. A lock left by a dead process is taken over, which is what makes the spool survive
// an application restart.
//
// All I/O here is synchronous on purpose: spilling happens on the exit path too (pino's worker while the
// main thread waits in Atomics.wait), where a pending async write would simply never complete.

import { closeSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { threadId } from 'node:worker_threads'
import { KEY_IN_FILE_NAME } from './batch-key'
import { ShipperError } from './errors'

const FILE = /^\d{15}-\d{10}-\d{4}(?:\.([0-9a-f.-]+))?\.ndjson$/

/** The Idempotency-Key a spool file name carries, if any. */
export function keyOfFile (name: string): string | undefined {
  const key = FILE.exec(name)?.[1]
  return key !== undefined && KEY_IN_FILE_NAME.test(key) ? key : undefined
}

export class Spool {
  readonly dir: string
  readonly #lockFile: string
  readonly #token: string
  /** Files waiting to be replayed, oldest first; the head may be in flight. */
  readonly #queue: string[]
  readonly #run = String(Date.now()).padStart(15, '0')
  #part = 0
  #released = false

  constructor (dir: string) {
    this.dir = dir
    this.#lockFile = join(dir, '.lock')
    this.#token = `${process.pid} ${threadId}`
    try {
      mkdirSync(dir, { recursive: true })
      this.#lock()
      this.#queue = readdirSync(dir).filter(f => FILE.test(f)).sort()
    } catch (err) {
      if (err instanceof ShipperError) throw err
      throw new ShipperError('MAAP_SHIP_SPOOL', `spool directory ${dir} is unusable: ${(err as Error).message}`, { cause: err })
    }
  }

  get pendingFiles (): number { return this.#queue.length }

  /** Whether this spool (this run) wrote the file, rather than an earlier run. */
  isOwn (name: string): boolean { return name.startsWith(`${this.#run}-`) }

  /** Writes batch number `seq` (with its Idempotency-Key) as a new file, queued in sequence order; returns its name. */
  write (body: Buffer, seq: number, key: string | undefined): string {
    const keyPart = key !== undefined && KEY_IN_FILE_NAME.test(key) ? `.${key}` : ''
    const name = `${this.#run}-${String(seq % 1e10).padStart(10, '0')}-${String(this.#part++ % 1e4).padStart(4, '0')}${keyPart}.ndjson`
    const tmp = join(this.dir, `${name}.tmp`)
    writeFileSync(tmp, body)
    renameSync(tmp, join(this.dir, name))
    let i = this.#queue.length
    while (i > 0 && this.#queue[i - 1]! > name) i--
    this.#queue.splice(i, 0, name)
    return name
  }

  /** The oldest file not yet taken, removed from the queue; undefined when there is none. */
  take (): string | undefined { return this.#queue.shift() }

  /** Puts a file taken earlier back in its place (it could not be delivered yet). */
  giveBack (name: string): void {
    let i = 0
    while (i < this.#queue.length && this.#queue[i]! < name) i++
    this.#queue.splice(i, 0, name)
  }

  read (name: string): string[] {
    return readFileSync(join(this.dir, name), 'utf8').split('\n').filter(line => line !== '')
  }

  remove (name: string): void {
    try { unlinkSync(join(this.dir, name)) } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
  }

  release (): void {
    if (this.#released) return
    this.#released = true
    try {
      if (readFileSync(this.#lockFile, 'utf8') === this.#token) unlinkSync(this.#lockFile)
    } catch { /* already gone: nothing to release */ }
  }

  #lock (): void {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(this.#lockFile, 'wx')
        try { writeSync(fd, this.#token) } finally { closeSync(fd) }
        return
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      }
      const holder = readFileSync(this.#lockFile, 'utf8')
      const pid = Number(holder.split(' ')[0])
      if (holder === this.#token) return
      if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
        throw new ShipperError('MAAP_SHIP_SPOOL', `spool directory ${this.dir} is in use by process ${holder} (${this.#lockFile})`)
      }
      // The holder died without releasing it: take over, and its files with it.
      unlinkSync(this.#lockFile)
    }
    throw new ShipperError('MAAP_SHIP_SPOOL', `could not lock spool directory ${this.dir}`)
  }
}

function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
