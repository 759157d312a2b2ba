// How far the journal is confirmed in MongoDB. Written atomically (temp file + rename) after each
// stored batch. It is not fsynced: losing it only means replaying a batch, and a replay is idempotent
// because every event's _id was fixed at ingest.
import { readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { JournalPosition } from './writer'

export const CHECKPOINT_FILE = 'maap-checkpoint.json'

export class Checkpoint {
  private readonly file: string

  constructor (dir: string) {
    this.file = join(dir, CHECKPOINT_FILE)
  }

  /** The saved position, or undefined when nothing was ever confirmed (replay from the first segment). */
  async load (): Promise<JournalPosition | undefined> {
    let text: string
    try {
      text = await readFile(this.file, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw err
    }
    const parsed = JSON.parse(text) as Partial<JournalPosition>
    if (typeof parsed.segment !== 'string' || typeof parsed.offset !== 'number') {
      throw new Error(`${this.file} is not a checkpoint: ${text.slice(0, 100)}`)
    }
    return { segment: parsed.segment, offset: parsed.offset }
  }

  async save (pos: JournalPosition): Promise<void> {
    const tmp = `${this.file}.tmp`
    await writeFile(tmp, JSON.stringify(pos))
    await rename(tmp, this.file)
  }
}
