// A journal's id (alerts/journal-id.ts): made once per LOG_DIR and kept, so a restart rebuilds the same
// notification ids, and different for every journal, so two collectors' ids never meet.
import t from 'tap'
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { journalId } from '../src/alerts/journal-id'
import { OUTBOX_DIR } from '../src/alerts/outbox'

function dir (t: { teardown: (fn: () => void) => void }): string {
  const d = mkdtempSync(join(tmpdir(), 'maap-journal-id-'))
  t.teardown(() => rmSync(d, { recursive: true, force: true }))
  return d
}

t.test('made once, kept across opens, one per journal', async t => {
  const a = dir(t)
  const first = await journalId(a)
  t.match(first, /^[A-Za-z0-9_-]{22}$/)
  t.equal(await journalId(a), first, 'the same id after a restart')
  t.same(readdirSync(join(a, OUTBOX_DIR)), ['journal-id'], 'no temporary file left')
  t.not(await journalId(dir(t)), first, 'another journal, another id')
})

t.test('a file that is not an id is replaced; one that cannot be read is an error', async t => {
  const a = dir(t)
  mkdirSync(join(a, OUTBOX_DIR))
  writeFileSync(join(a, OUTBOX_DIR, 'journal-id'), 'not an id\n')
  const id = await journalId(a)
  t.match(id, /^[A-Za-z0-9_-]{22}$/)
  t.equal(await journalId(a), id)

  const b = dir(t)
  mkdirSync(join(b, OUTBOX_DIR, 'journal-id'), { recursive: true }) // a directory where the file goes
  await t.rejects(journalId(b), { code: 'EISDIR' })
})
