// maap-logs export --dir, the real bin over the files real collectors wrote (WORKER_COUNT=2, compacted and
// NDJSON segments): every event exactly once, the same set as the collector's GET /logs for the same
// filters, nothing in LOG_DIR changed, `| head -1` ends quietly, and damaged files are skipped with a
// warning naming them and exit 1.
import t from 'tap'
import { execFile } from 'node:child_process'
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { collectorStatus, freshRequest, poll, startCollector, type RunningCollector } from '../../test/support'
import { binPath, runCli } from './maap-logs-run'

const execFileP = promisify(execFile)

type Event = Record<string, any>
const BASE = Date.parse('2026-03-01T00:00:00.000Z')
const APPS = ['api', 'web', 'billing']
const LEVELS = ['debug', 'info', 'warn', 'error']

function eventsFrom (from: number, n: number, pad = ''): Event[] {
  return Array.from({ length: n }, (_, k) => {
    const seq = from + k
    return {
      seq,
      app_name: APPS[seq % 3],
      level: LEVELS[seq % 4],
      timestamp: new Date(BASE + (seq * 7919 % 3600) * 1000).toISOString(), // out of arrival order
      message: seq % 5 === 0 ? `upstream Timeout after ${seq} ms` : `request ${seq} served`,
      ctx: { n: seq, tag: `t${seq % 7}` },
      ...(pad === '' ? {} : { pad })
    }
  })
}

async function post (c: RunningCollector, events: Event[]): Promise<void> {
  const res = await freshRequest(c, 'POST', '/logs', { body: events.map(e => JSON.stringify(e)).join('\n'), headers: { 'content-type': 'application/x-ndjson' } })
  if (res.status !== 200) throw new Error(`ingest: ${res.status} ${res.text}`)
}

const lines = (text: string): string[] => text.split('\n').filter(l => l !== '')
const seqs = (text: string): number[] => lines(text).map(l => JSON.parse(l).seq as number)
const ascending = (xs: number[]): number[] => [...xs].sort((a, b) => a - b)
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i)

/** Segment files of a directory by form. */
function forms (dir: string): { plain: string[], packed: string[] } {
  const files = existsSync(dir) ? readdirSync(dir) : []
  return { plain: files.filter(f => f.endsWith('.ndjson') && f.startsWith('maap-2')).sort(), packed: files.filter(f => f.endsWith('.ndjson.z')).sort() }
}

/** Every file under `dir` with its size and mtime: what an export must leave as it was. */
function snapshot (dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .map(e => join(e.parentPath ?? (e as any).path, e.name))
    .map(p => { const s = statSync(p); return `${p} ${s.isDirectory() ? 'dir' : s.size} ${s.mtimeMs}` })
    .sort()
}

// [maap-logs export flags, GET /logs parameters]: the same filters both ways.
const FILTERS: Array<[string[], string]> = [
  [[], ''],
  [['-a', 'api'], 'app_name=api'],
  [['--app-name', 'web,billing', '-l', 'warning'], 'app_name=web,billing&level=warning'],
  [['-q', 'timeout'], 'q=timeout'],
  [['-f', 'ctx.tag=t3'], 'f.ctx.tag=t3'],
  [['--field', 'ctx.n=42'], 'f.ctx.n=42'],
  [['--from', '2026-03-01T00:20:00.000Z', '--to', '2026-03-01T00:40:00.000Z'], 'from=2026-03-01T00:20:00.000Z&to=2026-03-01T00:40:00.000Z'],
  [['level >= WARNING and ctx.n > 100 and not app_name = web'], `query=${encodeURIComponent('level >= WARNING and ctx.n > 100 and not app_name = web')}`],
  [['timeout or ctx.tag in (t1, t2)', '-a', 'billing', '--from', '2026-03-01T00:10:00.000Z'],
    `query=${encodeURIComponent('timeout or ctx.tag in (t1, t2)')}&app_name=billing&from=2026-03-01T00:10:00.000Z`]
]

t.test('WORKER_COUNT=2, compacted and NDJSON segments: every event once, in arrival order, the same sets as GET /logs', async t => {
  const c = await startCollector(t, { env: { WORKER_COUNT: '2', JOURNAL_SEGMENT_BYTES: '4096', JOURNAL_COMPACT: 'on' } })
  const dirs = ['worker-1', 'worker-2'].map(w => join(c.logDir, w))
  let sent = 0
  for (; sent < 400; sent += 20) await post(c, eventsFrom(sent, 20))
  // More only while a worker has not compacted a segment yet (one that came up late is dealt few connections).
  await poll(async () => {
    if (dirs.every(d => forms(d).packed.length > 0)) return true
    await post(c, eventsFrom(sent, 20))
    sent += 20
    return false
  }, 50)

  const live = await runCli(['export', '--dir', c.logDir])
  t.equal(live.code, 0, live.stderr)
  t.same(ascending(seqs(live.stdout)), range(sent), 'while the collector runs (and compacts): every event once')

  const answers = new Map<string, string[]>()
  for (const [, params] of FILTERS) {
    const res = await freshRequest(c, 'GET', `/logs?${params}`, { headers: { accept: 'application/x-ndjson' } })
    t.equal(res.status, 200, params)
    answers.set(params, lines(res.text).sort())
  }
  t.equal(await c.stop(), 0, 'the collector stopped')
  t.ok(dirs.every(d => forms(d).packed.length > 0 && forms(d).plain.length > 0), 'both forms in both worker directories')

  const before = snapshot(c.logDir)
  const all = await runCli(['export', '--dir', c.logDir])
  t.equal(all.code, 0, all.stderr)
  t.equal(all.stderr, '')
  t.same(ascending(seqs(all.stdout)), range(sent), 'stopped: every event once')
  const received = lines(all.stdout).map(l => JSON.parse(l).received_at as string)
  t.ok(received.every((r, i) => i === 0 || received[i - 1]! <= r), 'in the order the service received them, across both workers')
  t.same(snapshot(c.logDir), before, 'nothing in LOG_DIR written, renamed or deleted')

  // Each run only reads LOG_DIR (as the one above did): all started at once, each checked as it was.
  const filtered = await Promise.all(FILTERS.map(async ([args]) => await runCli(['export', ...args, '--dir', c.logDir])))
  for (const [i, [args, params]] of FILTERS.entries()) {
    const run = filtered[i]!
    t.equal(run.code, 0, `${args.join(' ')}: ${run.stderr}`)
    const got = lines(run.stdout)
    t.same([...got].sort(), answers.get(params), `${args.join(' ') || 'no filter'}: the lines GET /logs?${params} answers, byte for byte`)
    if (args.length > 0) t.ok(got.length > 0 && got.length < sent, `${args.join(' ')}: ${got.length} of ${sent}`)
  }

  // One worker's directory, pointed at directly, is a journal too: its events, as the whole export has them.
  const whole = new Set(lines(all.stdout))
  const workers = await Promise.all(dirs.map(async d => await runCli(['export', '-d', d])))
  t.same(workers.map(w => w.code), [0, 0])
  t.ok(workers.every(w => lines(w.stdout).length > 0 && lines(w.stdout).every(l => whole.has(l))), 'each worker\'s lines are the whole export\'s')
  t.equal(lines(workers[0]!.stdout).length + lines(workers[1]!.stdout).length, sent, 'and together all of them')
})

t.test('bad usage names what is wrong, exit 2; a directory that cannot be read, or one torn line, exit 1', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'maap-export-usage-'))
  writeFileSync(join(dir, 'maap-20260301T000000Z-000001.ndjson'), '')
  const cases: Array<[string[], RegExp]> = [
    [['export'], /^maap-logs: export needs --dir <dir>/],
    [['export', '--dir', join(dir, 'nope')], /--dir .*nope: no such directory/],
    [['export', '--dir', join(dir, 'maap-20260301T000000Z-000001.ndjson')], /: not a directory/],
    [['export', '--dir', mkdtempSync(join(tmpdir(), 'maap-export-none-'))], /no journal segments there .* is it the collector's LOG_DIR\?/],
    [['export', '--dir', dir, '--level', 'LOUD'], /^maap-logs: --level: unknown level "LOUD"/],
    [['export', '--dir', dir, '--from', 'yesterday'], /^maap-logs: --from: "yesterday" is not a time/],
    [['export', '--dir', dir, '-f', 'a..b=1'], /^maap-logs: --field a\.\.b: a field path/],
    [['export', '--dir', dir, '--url', 'http://x'], /unknown option --url/],
    [['export', '--dir', dir, 'a', 'b'], /the query must be one argument/]
  ]
  // These runs stop at their arguments or read `dir` as it is here (the runs after them change it), and --help
  // reads nothing: all started at once, each checked as it was.
  const usage = Promise.all(cases.map(async ([argv]) => await runCli(argv)))
  const caretRun = runCli(['export', '--dir', dir, 'level >= ERROR and region in (eu us)'])
  const helpRun = runCli(['export', '--help'])
  for (const [i, run] of (await usage).entries()) {
    const [argv, message] = cases[i]!
    t.equal(run.code, 2, argv.join(' '))
    t.match(run.stderr, message, argv.join(' '))
    t.equal(run.stdout, '')
  }
  const caret = await caretRun
  t.equal(caret.code, 2)
  t.equal(caret.stderr, 'maap-logs: query: expected "," or ")" in the list of in, found "us" at 34\n' +
    '  level >= ERROR and region in (eu us)\n' +
    '                                   ^\n', 'a query that does not parse: the caret under the place')
  const loop = join(dir, 'loop')
  symlinkSync('loop', loop)
  const unreadable = await runCli(['export', '--dir', loop])
  t.same([unreadable.code, unreadable.stderr], [1, `maap-logs: --dir ${loop}: cannot be read (ELOOP)\n`], 'a directory that cannot be read: exit 1')
  const empty = await runCli(['export', '--dir', dir])
  t.same([empty.code, empty.stdout, empty.stderr], [0, '', ''], 'a journal with no events: nothing, exit 0')
  appendFileSync(join(dir, 'maap-20260301T000000Z-000001.ndjson'), '{"timestamp":"2026-03-01T00:00:00.000Z","level":"INFO","_id":"x","message":"un')
  const writing = await runCli(['export', '--dir', dir])
  t.same([writing.code, writing.stdout, writing.stderr], [0, '', ''], 'the newest segment\'s last line unfinished (being written, never acknowledged): left quietly')
  writeFileSync(join(dir, 'maap-20260301T000000Z-000002.ndjson'), '')
  const torn = await runCli(['export', '--dir', dir])
  t.equal(torn.code, 1, 'a closed segment\'s last line unfinished: cut by a crash')
  t.match(torn.stderr, /: its last line is unfinished \(\d+ bytes at offset 0: cut short by a crash\); skipped\nmaap-logs: what the warning above names was skipped; everything else was printed\n$/)
  const help = await helpRun
  t.match(help.stdout, /^Usage: maap-logs export --dir <LOG_DIR>/)
  t.match(help.stdout, /prints? .*on disk|What is on disk is what is printed/)
  t.match(help.stdout, /until the collector\ndeletes it \(by DELETE_LOGS_OLDER_THAN, or with RETENTION_RULES/, 'the settings that delete journal files')
  t.notMatch(help.stdout, /LOG_RETENTION_DAYS/)
})

t.test('| head -1 ends it quietly, exit 0; damaged files are skipped with a warning naming them, exit 1', async t => {
  const c = await startCollector(t, { env: { JOURNAL_SEGMENT_BYTES: '65536', JOURNAL_COMPACT: 'on' } })
  const total = 3000
  for (let i = 0; i < total; i += 250) await post(c, eventsFrom(i, 250, 'x'.repeat(200)))
  await poll(async () => forms(c.logDir).packed.length >= 6 && !((await collectorStatus(c)) as any).journal.compaction.running, 50)
  t.equal(await c.stop(), 0)
  const dir = c.logDir

  // Far more than a pipe holds: the export is still writing when head exits.
  const piped = await execFileP('bash', ['-c', 'set -o pipefail; "$0" "$1" export --dir "$2" | head -1', process.execPath, binPath, dir])
  t.equal(lines(piped.stdout).length, 1, 'head printed its line (the pipeline exited 0, the CLI with it)')
  t.equal(piped.stderr, '', 'no EPIPE on stderr')

  const packed = forms(dir).packed
  const plain = forms(dir).plain
  const seqsOf = async (name: string): Promise<number[]> => seqs((await runCli(['export', '--dir', await only(name)])).stdout)
  // A directory holding one segment, to learn which events a file holds.
  const only = async (name: string): Promise<string> => {
    const d = mkdtempSync(join(tmpdir(), 'maap-export-one-'))
    cpSync(join(dir, name), join(d, name))
    return d
  }
  const [flipped, torn, setAside] = [packed[1]!, packed[3]!, packed[4]!]
  const partlyLost = new Set(await seqsOf(flipped))
  const lost = new Set([...await seqsOf(torn), ...await seqsOf(setAside)])
  t.ok(partlyLost.size > 0 && lost.size > 0)

  // One block's byte changed (only a read sees it), one torn in half (its footer gone), one as a collector
  // sets aside a .z it found damaged at start, and the newest NDJSON segment with a last line cut short.
  const bytes = readFileSync(join(dir, flipped))
  bytes[20] = bytes[20]! ^ 0xff
  writeFileSync(join(dir, flipped), bytes)
  truncateSync(join(dir, torn), Math.floor(statSync(join(dir, torn)).size / 2))
  renameSync(join(dir, setAside), join(dir, `${setAside}.damaged`))
  const newest = plain.at(-1)!
  appendFileSync(join(dir, newest), '{"timestamp":"2026-03-01T00:00:00.000Z","level":"INFO","app_name":"api","message":"cut sh')
  // A file named like a segment that cannot be read as one (a directory), and one that cannot be opened.
  mkdirSync(join(dir, 'maap-20000101T000000Z-000001.ndjson'))
  writeFileSync(join(dir, 'maap-20000101T000000Z-000001.ndjson', 'x'), '') // a size of its own on every file system
  symlinkSync('maap-20000101T000000Z-000002.ndjson', join(dir, 'maap-20000101T000000Z-000002.ndjson'))

  const run = await runCli(['export', '--dir', dir])
  t.equal(run.code, 1, 'the exit status says something was skipped')
  const got = seqs(run.stdout)
  t.equal(new Set(got).size, got.length, 'none twice')
  const expected = range(total).filter(s => !lost.has(s))
  t.ok(got.every(s => expected.includes(s)), 'none of the lost ones (the torn one read as empty)')
  t.same(ascending(got).filter(s => !partlyLost.has(s)), expected.filter(s => !partlyLost.has(s)), 'every event of the undamaged files')
  t.ok(got.filter(s => partlyLost.has(s)).length < partlyLost.size, 'the changed block skipped')
  t.notOk(run.stdout.includes('cut sh'), 'no part of an unfinished line')
  t.ok(run.stdout.endsWith('\n'))
  const warned = run.stderr.split('\n').filter(l => l !== '')
  for (const [file, why] of [
    [join(dir, `${setAside}.damaged`), /a compacted segment a collector found damaged and set aside; its events are not in this output$/],
    [join(dir, 'maap-20000101T000000Z-000001.ndjson'), /cannot be read past offset 0 \(EISDIR\); the rest of it skipped/],
    [join(dir, 'maap-20000101T000000Z-000002.ndjson'), /cannot be read \(ELOOP\); skipped/],
    [join(dir, flipped), /not a readable compacted segment .*; what could not be read of it is skipped/],
    [join(dir, torn), /not a readable compacted segment .*; what could not be read of it is skipped/]
  ] as Array<[string, RegExp]>) {
    t.ok(warned.some(l => l.startsWith(`maap-logs: ${file}: `) && why.test(l)), `warned of ${file}`)
  }
  t.notOk(warned.some(l => l.includes(newest)), 'the newest segment\'s unfinished line (never acknowledged) is not warned of')
  t.match(warned.at(-1), /^maap-logs: what the 5 warnings above name were skipped; everything else was printed$/)

  // A file set aside makes the exit status 1 whatever the filters (as documented): its footer is not trusted.
  const later = await runCli(['export', '--dir', dir, '--from', '2030-01-01T00:00:00.000Z'])
  t.same([later.code, later.stdout], [1, ''])
  t.match(later.stderr, `maap-logs: ${join(dir, `${setAside}.damaged`)}: a compacted segment a collector found damaged and set aside`)

  // A reader that goes away first: the warnings it met, exit 1, and no claim that everything else was printed.
  const early = await execFileP('bash', ['-c', 'set -o pipefail; "$0" "$1" export --dir "$2" | head -1', process.execPath, binPath, dir])
    .then(() => ({ code: 0, stdout: '', stderr: '' }), (err: { code: number, stdout: string, stderr: string }) => err)
  t.equal(early.code, 1)
  t.equal(lines(early.stdout).length, 1)
  t.match(early.stderr, `maap-logs: ${join(dir, `${setAside}.damaged`)}: a compacted segment a collector found damaged and set aside`)
  t.notMatch(early.stderr, /everything else was printed/)
})
