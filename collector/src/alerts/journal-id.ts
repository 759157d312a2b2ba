// Which journal this is, among every collector that shares a MongoDB: a random id kept beside the outbox.
// An `each` notification's id comes from its alert, revision, journal and first position, and two collectors'
// journals have the same segment names (opening time to the second, then a count) and offsets, so without
// this two collectors started together made the same id for different events: the shared history kept one
// and a receiver deduping by Idempotency-Key dropped the other's events.
//
//   LOG_DIR[/worker-<i>]/alerts-outbox/journal-id   made once (tmp, fsync, rename, fsync dir), read ever after
//
// Kept with the outbox and the positions it identifies: a restart on the same LOG_DIR rebuilds the same ids.
import { randomBytes } from 'node:crypto'
import { mkdir, open, readFile, rename } from 'node:fs/promises'
import { join } from 'node:path'
import { OUTBOX_DIR } from './outbox'

const FILE = 'journal-id'
/** 128 random bits, base64url. */
const ID = /^[A-Za-z0-9_-]{22}$/

/** The journal id under `logDir` (the process's own journal directory), made on first use. */
export async function journalId (logDir: string): Promise<string> {
  const dir = join(logDir, OUTBOX_DIR)
  const path = join(dir, FILE)
  try {
    const text = (await readFile(path, 'utf8')).trim()
    if (ID.test(text)) return text
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  // Missing (or not whole, which the rename below rules out unless edited by hand): no notification of
  // this journal can exist yet under another id, since the outbox is only written after this returns.
  const id = randomBytes(16).toString('base64url')
  await mkdir(dir, { recursive: true })
  // The outbox removes a *.tmp it finds in its directory: a crash here leaves nothing behind.
  const tmp = `${path}.tmp`
  const fh = await open(tmp, 'w')
  try {
    await fh.writeFile(`${id}\n`)
    await fh.sync()
  } finally {
    await fh.close()
  }
  await rename(tmp, path)
  const d = await open(dir, 'r')
  try {
    await d.sync()
  } finally {
    await d.close()
  }
  return id
}
