// The file outbox: what add() stored is there after a reopen (positions too), adding an id twice does
// nothing, finished entries leave open(), a torn last line is ignored, and compaction (also one a crash
// interrupted) keeps exactly what is open, with its latest deliveries.
import { appendFileSync, copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import type { Delivery, Notification } from '../src/alerts/model'
import { FileOutbox, OUTBOX_DIR } from '../src/alerts/outbox'

interface Test { teardown: (fn: () => unknown) => void }

function logDir (t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'maap-outbox-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

function delivery (status: Delivery['status'], channel = 0): Delivery {
  return { channel, type: 'webhook', status, attempts: status === 'pending' ? 0 : 1, last_error: status === 'failed' ? 'HTTP 500' : null, delivered_at: null }
}

function notification (id: string, message = 'boom'): Notification {
  return {
    id,
    alert_id: 'a',
    alert_name: 'payments 5xx',
    revision: 1,
    state: 'firing',
    condition: { type: 'each' },
    count: 1,
    events: [{ _id: '0'.repeat(24), timestamp: '2026-03-01T03:00:00.000Z', received_at: '2026-03-01T03:00:00.000Z', level: 'ERROR', app_name: 'ünï', message }],
    link: 'http://maap.test/',
    range: { from: '2026-03-01T03:00:00.000Z', to: '2026-03-01T03:00:00.000Z' },
    created_at: '2026-03-01T03:00:00.000Z',
    channels: [{ type: 'webhook', url: 'http://127.0.0.1:1/hook', secret: 's' }, { type: 'slack', url: 'http://127.0.0.1:1/slack' }],
    deliveries: [delivery('pending', 0), delivery('pending', 1)]
  }
}

async function ids (box: FileOutbox): Promise<string[]> {
  const out: string[] = []
  for await (const e of box.open()) out.push(e.notification.id)
  return out
}

const position = (offset: number): { alert_id: string, revision: number, point: { journal: string, segment: string, offset: number } } =>
  ({ alert_id: 'a', revision: 1, point: { journal: '', segment: 'maap-20260301T030000Z-000001.ndjson', offset } })

t.test('add, update and reopen: positions, idempotent adds, entries leave when finished and recorded', async t => {
  const dir = logDir(t)
  const box = await FileOutbox.open(dir)
  let added = 0
  box.onAdded(() => added++)
  await box.add(notification('n1'), position(100))
  await box.add(notification('n1'), position(999))
  await box.add(notification('n2'))
  await box.advance(position(300))
  t.equal(added, 3, 'told after each add')
  t.same(await ids(box), ['n1', 'n2'], 'a second add of an id does nothing')
  t.equal(box.position('a')!.point.offset, 300)

  await box.update('n1', [delivery('delivered', 0), delivery('retrying', 1)], true)
  await box.update('n2', [delivery('delivered', 0), delivery('failed', 1)], false)
  await box.update('missing', [], true)
  t.same(box.stats(), { pending: 1, failed: 0, notifications: 2, bytes: box.stats().bytes })
  const entries = []
  for await (const e of box.open()) entries.push(e)
  t.same(entries.map(e => [e.notification.id, e.recorded, e.notification.deliveries.map(d => d.status)]),
    [['n1', true, ['delivered', 'retrying']], ['n2', false, ['delivered', 'failed']]])
  t.equal(entries[0]!.notification.channels[0]!.type, 'webhook')
  await box.update('n2', [delivery('delivered', 0), delivery('failed', 1)], true)
  t.same(await ids(box), ['n1'], 'final and recorded: out of open()')
  await box.add(notification('n2'))
  t.same(await ids(box), ['n1'], 'a finished id added again still does nothing')
  t.equal(box.stats().failed, 1)
  await box.close()

  const again = await FileOutbox.open(dir)
  t.same(await ids(again), ['n1'])
  t.equal(again.position('a')!.point.offset, 300)
  t.same(again.stats(), { ...box.stats(), bytes: again.stats().bytes })
  for await (const e of again.open()) t.same(e.notification.deliveries.map(d => d.status), ['delivered', 'retrying'], 'the latest deliveries')
  await again.close()
})

t.test('open(skip) passes over the recorded notifications of a skipped alert, and still yields unrecorded ones', async t => {
  const box = await FileOutbox.open(logDir(t))
  for (const id of ['n1', 'n2', 'n3']) await box.add(notification(id))
  await box.update('n1', [delivery('retrying', 0), delivery('pending', 1)], true)
  await box.update('n2', [delivery('pending', 0), delivery('pending', 1)], true)
  const seen: string[] = []
  for await (const e of box.open(alertId => alertId === 'a')) seen.push(e.notification.id)
  t.same(seen, ['n3'], 'n1 and n2 are recorded and their alert is skipped; n3 is not recorded yet')
  t.same(await ids(box), ['n1', 'n2', 'n3'], 'without skip: all')
  await box.close()
  const again = await FileOutbox.open(logDir(t))
  t.same(await ids(again), [], 'another directory: nothing')
})

t.test('a torn last line (a kill mid-write) is ignored, and the next add follows whole lines', async t => {
  const dir = logDir(t)
  const box = await FileOutbox.open(dir)
  await box.add(notification('n1'), position(10))
  await box.close()
  const file = join(dir, OUTBOX_DIR, readdirSync(join(dir, OUTBOX_DIR))[0]!)
  appendFileSync(file, '{"t":"n","n":{"id":"torn","alert_')
  const again = await FileOutbox.open(dir)
  t.same(await ids(again), ['n1'])
  await again.add(notification('n2'), position(20))
  await again.close()
  const third = await FileOutbox.open(dir)
  t.same(await ids(third), ['n1', 'n2'])
  t.equal(third.position('a')!.point.offset, 20)
  await third.close()
})

t.test('compaction keeps exactly what is open, with positions and latest deliveries; a crash in it loses nothing', async t => {
  const dir = logDir(t)
  const box = await FileOutbox.open(dir, { compactBytes: 8 * 1024 })
  const open: string[] = []
  for (let i = 0; i < 60; i++) {
    const id = `n${i}`
    await box.add(notification(id, 'x'.repeat(200)), position(i))
    if (i % 3 === 0) await box.update(id, [delivery('delivered', 0), delivery('delivered', 1)], true)
    else if (i % 3 === 1) await box.update(id, [delivery('delivered', 0), delivery('retrying', 1)], false)
    else if (i % 3 === 2 && i % 2 === 0) await box.update(id, [delivery('failed', 0), delivery('delivered', 1)], true)
    if (i % 3 === 1 || (i % 3 === 2 && i % 2 !== 0)) open.push(id)
  }
  t.same(await ids(box), open)
  const files = readdirSync(join(dir, OUTBOX_DIR))
  t.equal(files.length, 1, 'the old file is gone')
  t.not(files[0], 'outbox-0000000001.ndjson', 'it was compacted')
  t.equal(box.stats().notifications, open.length)
  t.equal(box.stats().failed, 10)
  const stats = box.stats()
  await box.close()

  // A crash after the new file was renamed into place but before the old was deleted (an older file is
  // there too), and one in the middle of writing a next (a .tmp).
  const current = join(dir, OUTBOX_DIR, files[0]!)
  copyFileSync(current, join(dir, OUTBOX_DIR, 'outbox-0000000000.ndjson'))
  appendFileSync(join(dir, OUTBOX_DIR, 'outbox-0000000000.ndjson'), JSON.stringify({ t: 'n', n: notification('stale') }) + '\n')
  writeFileSync(join(dir, OUTBOX_DIR, 'outbox-9999999999.ndjson.tmp'), '{"t":"s","fa')
  const again = await FileOutbox.open(dir, { compactBytes: 8 * 1024 })
  t.same(await ids(again), open, 'the newest whole file: nothing lost, nothing twice')
  t.same(readdirSync(join(dir, OUTBOX_DIR)), [files[0]])
  t.equal(again.position('a')!.point.offset, 59)
  t.same(again.stats(), stats)
  // Done before the compaction, made again (a count alert whose state was not saved after its add): still once.
  await again.add(notification('n0', 'again'))
  t.same(await ids(again), open, 'a done id stays done across a compaction')
  for await (const e of again.open()) {
    const i = Number(e.notification.id.slice(1))
    t.same(e.notification.deliveries.map(d => d.status), i % 3 === 1 ? ['delivered', 'retrying'] : ['pending', 'pending'])
    t.equal(e.recorded, false)
  }
  await again.close()
})
