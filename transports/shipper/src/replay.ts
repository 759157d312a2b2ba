// Spool replay: files on disk go back to the collector one at a time, oldest first, so records keep
// the order they were written in even across restarts. This class owns that rule — a file is "out"
// from the moment it is read until it is delivered (then removed) or given back (then first in line
// again); while one is out, no other is read.
//
//   Spool files (oldest first) ─► next() ─► batch (spoolFile set) ─► delivered ─► remove file
//                                    ▲                               └► not delivered ─► giveBack
//                                    └── only when no file is out
//
// A 413 splits a replayed batch into halves that carry no file of their own: the file stays out until
// both halves are settled (split()).
import { batchOfLines, type Batch } from './batch'
import { ShipperError } from './errors'
import { keyOfFile, type Spool } from './spool'

export class Replay {
  readonly #spool: Spool
  readonly #report: (err: ShipperError) => void
  /** The file whose records are in memory now, if any. */
  #out: string | undefined

  constructor (spool: Spool, report: (err: ShipperError) => void) {
    this.#spool = spool
    this.#report = report
  }

  /** Whether the file out now (its records in memory, unsettled) is one this run wrote. */
  get ownOut (): boolean { return this.#out !== undefined && this.#spool.isOwn(this.#out) }

  /** Files waiting to be read (the one out is not counted: its records are in memory). */
  get pendingFiles (): number { return this.#spool.pendingFiles }

  /**
   * The next file as a batch, or undefined while one is out or none is left. Unreadable files are left
   * in place (and reported); emptied ones are removed.
   */
  next (): Batch | undefined {
    while (this.#out === undefined) {
      const file = this.#spool.take()
      if (file === undefined) return undefined
      let lines: string[]
      try {
        lines = this.#spool.read(file)
      } catch (err) {
        this.#report(new ShipperError('MAAP_SHIP_SPOOL', `spool file ${file} could not be read, left in place: ${(err as Error).message}`, { cause: err }))
        continue
      }
      if (lines.length === 0) {
        // Nothing to send (a file emptied by hand): it is done.
        this.#remove(file)
        continue
      }
      this.#out = file
      // Spooled records are older than anything this run wrote: batch number 0 keeps them first if they
      // have to be spooled again (a spool file name needs a non-negative number). The key is the one the
      // batch was first sent with, so a send whose answer was lost before the spill is not stored twice.
      return batchOfLines(lines, 0, keyOfFile(file), file, !this.#spool.isOwn(file))
    }
    return undefined
  }

  /** The batch read from the file is settled for good (delivered or rejected): the file goes. */
  delivered (batch: Batch): void {
    if (batch.spoolFile === undefined) return
    this.#remove(batch.spoolFile)
    this.#free(batch.spoolFile)
  }

  /** The batch could not be delivered yet: its file is first in line again, still on disk. */
  giveBack (batch: Batch): void {
    if (batch.spoolFile === undefined) return
    this.#spool.giveBack(batch.spoolFile)
    this.#free(batch.spoolFile)
  }

  /** The batch was cut in halves: its file stays out until `halvesDone`, then goes. */
  split (batch: Batch, halvesDone: Promise<unknown>, then: () => void): void {
    const file = batch.spoolFile
    if (file === undefined) return
    void halvesDone.then(() => {
      this.#remove(file)
      this.#free(file)
      then()
    })
  }

  #free (file: string): void {
    if (this.#out === file) this.#out = undefined
  }

  #remove (file: string): void {
    try {
      this.#spool.remove(file)
    } catch (err) {
      this.#report(new ShipperError('MAAP_SHIP_SPOOL', `delivered spool file ${file} could not be removed and may be sent again: ${(err as Error).message}`, { cause: err }))
    }
  }
}
