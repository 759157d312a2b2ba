// doctor's pure parts: what each check concludes from what the server answered (the answers no test
// server gives: a replica set, a refused privilege, a write concern timeout, a wrong count, a low disk),
// the report's two formats, the URI masking, and the command line.
import t from 'tap'
import { MongoServerError } from 'mongodb'
import { binCommand, helpText, UsageError } from '../src/bin-args'
import { failed, reasonOf } from '../src/doctor/check'
import { histogramVerdict, ttlVerdict } from '../src/doctor/features'
import { diskVerdict, formatBytes } from '../src/doctor/log-dir'
import { probeEvents } from '../src/doctor/probe-events'
import { readIndexesVerdict } from '../src/doctor/read-indexes'
import { canRun, formatHuman, formatJson } from '../src/doctor/report'
import { connectionFailure, describeWriteConcern, replicaSetVerdict, writeConcernVerdict } from '../src/doctor/server'
import { redactor, uriHosts } from '../src/doctor/uri'
import { insertVerdict, replayVerdict } from '../src/doctor/writes'
import { TransientMongoError } from '../src/sink/mongo-sink'

const serverError = (code: number, codeName: string, message: string): MongoServerError =>
  new MongoServerError({ message, errmsg: message, code, codeName })
const unauthorized = serverError(13, 'Unauthorized', 'not authorized on event_logs to execute command { insert: "logs_doctor" }')

t.test('failed(): a refused privilege names what to grant, found inside the sink\'s TransientMongoError', async t => {
  const wrapped = new TransientMongoError(unauthorized)
  t.same(failed('insert', wrapped, 'insert', 'db.scratch', 'no event would reach MongoDB'), {
    name: 'insert',
    status: 'fail',
    detail: 'not authorized to insert on db.scratch (code 13 Unauthorized: not authorized on event_logs to execute command { insert: "logs_doctor" })',
    action: 'grant the user in MONGODB_URI insert on the database (the readWrite role has it): no event would reach MongoDB'
  })
  t.same(failed('delete', serverError(2, 'BadValue', 'bad'), 'remove', 'db.scratch', 'x'),
    { name: 'delete', status: 'fail', detail: 'remove on db.scratch failed: code 2 BadValue: bad', action: 'x' })
  t.equal(reasonOf(new Error('outer', { cause: new Error('inner') })), 'inner', 'a non-server error: its cause\'s message')
  t.equal(reasonOf(new Error('alone')), 'alone')
})

t.test('connection: authentication refused vs no answer', async t => {
  t.match(connectionFailure(serverError(18, 'AuthenticationFailed', 'Authentication failed.'), 'db1:27017', 5000),
    { status: 'fail', detail: 'authentication to db1:27017 failed (code 18 AuthenticationFailed: Authentication failed.)', action: /check the user, password and authSource/ })
  t.match(connectionFailure(new TransientMongoError(new Error('connect ECONNREFUSED 10.0.0.1:27017')), 'db1:27017', 2500),
    { status: 'fail', detail: 'MongoDB at db1:27017 did not answer within 2.5 s (connect ECONNREFUSED 10.0.0.1:27017)', action: /keeps every event in its journal and retries/ })
})

t.test('replica_set: a set\'s primary, mongos, a secondary, a standalone server', async t => {
  t.same(replicaSetVerdict({ isWritablePrimary: true, setName: 'rs0', hosts: ['a:1', 'b:1', 'c:1'], primary: 'a:1' }, 30),
    { name: 'replica_set', status: 'ok', detail: 'replica set rs0, 3 data-bearing members, writing to the primary a:1' })
  t.match(replicaSetVerdict({ isWritablePrimary: true, setName: 'rs0', me: 'a:1' }, 30), { status: 'ok', detail: 'replica set rs0, 1 data-bearing member, writing to the primary a:1' })
  t.match(replicaSetVerdict({ isWritablePrimary: true, msg: 'isdbgrid' }, 30), { status: 'ok', detail: /sharded cluster \(mongos\)/ })
  t.same(replicaSetVerdict({ isWritablePrimary: false, secondary: true, setName: 'rs0', me: 'b:1' }, 30), {
    name: 'replica_set',
    status: 'fail',
    detail: 'b:1 (replica set rs0) is not a writable primary',
    action: 'the collector\'s inserts would be refused: name the replica set in MONGODB_URI (replicaSet=…) rather than one secondary'
  })
  t.match(replicaSetVerdict({ isWritablePrimary: false }, 30), { status: 'fail', detail: 'the server is not a writable primary' })
  t.match(replicaSetVerdict({ isWritablePrimary: true }, 30), { status: 'fallback', detail: /standalone/, action: /for 30 days \(DELETE_LOGS_OLDER_THAN\)/ })
  t.match(replicaSetVerdict({ isWritablePrimary: true }, 0), { status: 'fallback', action: /for good \(DELETE_LOGS_OLDER_THAN 0\)/ })
})

t.test('write_concern: acknowledged, timed out, refused', async t => {
  const majority = { w: 'majority' as const }
  t.equal(describeWriteConcern(undefined), 'the server\'s default write concern (MONGODB_URI sets none)')
  t.equal(describeWriteConcern({ w: 'majority', journal: true, wtimeoutMS: 2000 }), 'w=majority, journal=true, wtimeoutMS=2000 (from MONGODB_URI)')
  t.match(writeConcernVerdict(undefined, false, undefined, 'db.s'), { status: 'ok', detail: /on a standalone server that is this server/ })
  t.match(writeConcernVerdict(undefined, false, undefined, 'db.s').action, undefined)
  t.same(writeConcernVerdict(majority, true, undefined, 'db.s'),
    { name: 'write_concern', status: 'ok', detail: 'an insert with w=majority was acknowledged by a majority of the replica set; the collector writes with w=majority (from MONGODB_URI)' })
  t.match(writeConcernVerdict({ w: 1 }, true, undefined, 'db.s'), { status: 'ok', action: 'add w=majority to MONGODB_URI so that a confirmed flush survives a failover' })
  const timeout = serverError(64, 'WriteConcernFailed', 'waiting for replication timed out')
  t.match(writeConcernVerdict(majority, true, timeout, 'db.s'),
    { status: 'fail', detail: /^w=majority was not acknowledged within 5 s \(code 64 WriteConcernFailed: waiting for replication timed out\)/, action: /every flush would fail/ })
  t.match(writeConcernVerdict({ w: 1 }, true, timeout, 'db.s'),
    { status: 'fallback', action: /^the collector writes with w=1 \(from MONGODB_URI\): a flush confirmed that way can be rolled back by a failover/ })
  t.match(writeConcernVerdict(undefined, true, unauthorized, 'db.s'), { status: 'fail', detail: /^not authorized to insert on db\.s/ })
})

t.test('insert and replay: rejections and duplicates not recognised fail', async t => {
  const rejected = [{ line: '{}', reason: 'field name starts with $', code: 2 }]
  t.match(insertVerdict({ stored: 3, duplicates: 0, rejected: [] }, 3, 'db.s'), { status: 'ok' })
  t.same(insertVerdict({ stored: 2, duplicates: 0, rejected }, 3, 'db.s'),
    { name: 'insert', status: 'fail', detail: 'the server rejected 1 of 3 probe events (field name starts with $)', action: 'events like these would go to the dead-letter file instead of MongoDB' })
  t.match(replayVerdict({ stored: 3, duplicates: 3, rejected: [] }, 3), { status: 'ok' })
  t.match(replayVerdict({ stored: 3, duplicates: 0, rejected: [] }, 3),
    { status: 'fail', detail: 'the same 3 events inserted again: 3 stored, 0 recognised as duplicates, 0 rejected', action: /would not be idempotent/ })
  t.match(replayVerdict({ stored: 2, duplicates: 2, rejected }, 3), { status: 'fail', detail: /1 rejected \(field name starts with \$\)$/ })
})

t.test('ttl: a TTL index, retention off, a refusal', async t => {
  const config = { logRetentionDays: 14, retentionSweepSeconds: 60 }
  t.match(ttlVerdict({ ttl: true, action: 'created', index: 'maap_ttl_timestamp' }, config), { status: 'ok', detail: /older than 14 days .* itself; every 60 s/ })
  t.same(ttlVerdict({ ttl: false, reason: 'LOG_RETENTION_DAYS is 0: documents are kept forever' }, { ...config, logRetentionDays: 0 }),
    { name: 'ttl', status: 'ok', detail: 'LOG_RETENTION_DAYS is 0: documents are kept forever' })
  t.same(ttlVerdict({ ttl: false, reason: 'LOG_RETENTION_DAYS 1e9 is beyond what a TTL index can express (24855 days); the periodic sweeper enforces it', index: 'maap_timestamp' }, config), {
    name: 'ttl',
    status: 'fallback',
    detail: 'no TTL index: LOG_RETENTION_DAYS 1e9 is beyond what a TTL index can express (24855 days)',
    action: 'every 60 s (RETENTION_SWEEP_INTERVAL) the retention sweeper deletes documents older than 14 days, using the plain index maap_timestamp'
  })
})

t.test('histogram: the server\'s buckets checked against the probe events\' known counts', async t => {
  const probe = probeEvents(Date.parse('2026-12-01T12:00:30Z'))
  t.same(probe.expected, { 'INFO@0': 1, 'ERROR@0': 1, 'INFO@1': 1 })
  t.equal(probe.first, Date.parse('2026-11-29T12:00:00Z'), 'two days back, on a minute')
  t.equal(probe.lines.length, 3)
  const right = [{ _id: { level: 'INFO', b: 0 }, n: 1 }, { _id: { level: 'ERROR', b: 0 }, n: 1 }, { _id: { level: 'INFO', b: 1 }, n: 1 }]
  t.match(histogramVerdict({ groups: right }, probe.expected), { status: 'ok' })
  t.same(histogramVerdict({ groups: right.slice(1) }, probe.expected), {
    name: 'histogram',
    status: 'fail',
    detail: 'the histogram\'s $group counted ERROR@0:1 INFO@1:1 where ERROR@0:1 INFO@0:1 INFO@1:1 was expected',
    action: 'GET /logs/histogram would report wrong counts from this server'
  })
  t.match(histogramVerdict({ groups: [] }, probe.expected), { detail: /counted nothing where/ })
  t.match(histogramVerdict({ error: serverError(238, 'NotImplemented', 'no $floor') }, probe.expected), { status: 'fallback', action: /counts them in the collector/ })
  t.match(histogramVerdict({ error: unauthorized }, probe.expected), { status: 'fallback', detail: /\$group failed \(code 13/, action: /journal alone/ })
})

t.test('read_indexes: absent collection, all present, missing, a name or key taken', async t => {
  const id = { name: '_id_', key: { _id: 1 } }
  const read = [
    { name: 'maap_read_time', key: { timestamp: -1, _id: -1 } },
    { name: 'maap_read_app_time', key: { app_name: 1, timestamp: -1, _id: -1 } },
    { name: 'maap_read_level_time', key: { level: 1, timestamp: -1, _id: -1 } }
  ]
  const ttl = { name: 'maap_ttl_timestamp', key: { timestamp: 1 } }
  t.match(readIndexesVerdict(undefined, 'db.logs'), { status: 'ok', detail: 'db.logs does not exist yet: the collector creates it, and its indexes, at start' })
  t.same(readIndexesVerdict([id, ...read, ttl], 'db.logs'),
    { name: 'read_indexes', status: 'ok', detail: 'on db.logs: maap_read_time, maap_read_app_time, maap_read_level_time, maap_ttl_timestamp (retention) present' })
  t.same(readIndexesVerdict([id], 'db.logs'), {
    name: 'read_indexes',
    status: 'ok',
    detail: 'on db.logs: missing maap_read_time, maap_read_app_time, maap_read_level_time, an index on timestamp (retention)',
    action: 'the collector creates the missing ones at start'
  })
  t.match(readIndexesVerdict([id, read[0]!], 'db.logs'), { detail: 'on db.logs: maap_read_time present; missing maap_read_app_time, maap_read_level_time, an index on timestamp (retention)' })
  t.match(readIndexesVerdict([id, { name: 'maap_read_time', key: { level: 1 } }], 'db.logs'),
    { status: 'fallback', detail: 'on db.logs: maap_read_time is on {level:1}', action: /refused and retried every minute/ })
})

t.test('log_dir: free space against one segment', async t => {
  t.equal(formatBytes(512), '512 bytes')
  t.equal(formatBytes(64 * 1024 * 1024), '64.0 MiB')
  t.equal(formatBytes(3 * 1024 ** 5), '3072.0 TiB')
  t.same(diskVerdict('/var/log/maap', 10 * 1024 * 1024, 64 * 1024 * 1024, false), {
    name: 'log_dir',
    status: 'fail',
    detail: '/var/log/maap is writable, but only 10.0 MiB is free, less than one journal segment (JOURNAL_SEGMENT_BYTES 64.0 MiB)',
    action: 'free space on that file system (or lower JOURNAL_SEGMENT_BYTES): with a full disk every ingest is answered 503 MAAP_JOURNAL_UNAVAILABLE'
  })
  t.same(diskVerdict('/var/log/maap', 2 * 1024 ** 3, 64 * 1024 * 1024, true),
    { name: 'log_dir', status: 'ok', detail: '/var/log/maap does not exist yet and can be created (the collector creates it at start); 2.0 GiB free' })
})

t.test('the report: one line per check, a summary, JSON for scripts, the exit decision', async t => {
  const checks = [
    { name: 'connection', status: 'ok' as const, detail: 'connected' },
    { name: 'ttl', status: 'fallback' as const, detail: 'no TTL\nSee the docs', action: 'the sweeper' },
    { name: 'log_dir', status: 'fail' as const, detail: 'not writable', action: 'fix it' }
  ]
  t.equal(formatHuman(checks, 'heading'), [
    'heading',
    'ok        connection  connected',
    'fallback  ttl         no TTL See the docs → the sweeper',
    'FAIL      log_dir     not writable → fix it',
    'NOT READY: the collector cannot run as configured (failed: log_dir)',
    ''
  ].join('\n'))
  t.equal(formatHuman(checks.slice(0, 2), 'h').split('\n').at(-2), 'ready: the collector can run (1 ok, 1 fallback)')
  t.equal(formatHuman(checks.slice(0, 1), 'h').split('\n').at(-2), 'ready: the collector can run (1 ok, 0 fallbacks)')
  t.same(JSON.parse(formatJson(checks)), { ok: false, checks })
  t.equal(canRun(checks.slice(0, 2)), true)
  t.equal(canRun(checks), false)
})

t.test('MONGODB_URI shown by its hosts; credentials masked wherever they appear', async t => {
  t.equal(uriHosts('mongodb://u:p@db1:27017,db2:27017/app?replicaSet=rs0'), 'db1:27017,db2:27017')
  t.equal(uriHosts('mongodb+srv://u:p@cluster0.example.net/?retryWrites=true'), 'cluster0.example.net (SRV)')
  t.equal(uriHosts('mongodb://127.0.0.1'), '127.0.0.1')
  t.equal(uriHosts('http://x'), 'an unparseable URI')
  const uri = 'mongodb://admin:p%40ss%3Aword@db1:27017/?authSource=admin'
  const redact = redactor(uri)
  t.equal(redact(`failed for ${uri} as admin:p%40ss%3Aword@ with p@ss:word and p%40ss%3Aword`),
    'failed for mongodb://***@db1:27017 as ***@ with *** and ***')
  t.equal(redactor('mongodb://u:abc@h/')('u:abc@h and abc'), '***@h and abc', 'a password under 4 characters is left in ordinary words')
  t.equal(redactor('mongodb://h:1/')('mongodb://h:1/ is down'), 'mongodb://h:1 is down')
  t.equal(redactor(undefined)('as is'), 'as is')
  t.equal(redactor('mongodb://u:%E0%A4%A@h/')('%E0%A4%A'), '***', 'an undecodable password is masked as written')
})

t.test('the command line: doctor [--json], its help, and usage errors', async t => {
  t.same(binCommand([]), { name: 'run' })
  t.same(binCommand(['-V']), { name: 'version' })
  t.same(binCommand(['--help']), { name: 'help' })
  t.same(binCommand(['doctor']), { name: 'doctor', json: false })
  t.same(binCommand(['doctor', '--json']), { name: 'doctor', json: true })
  t.same(binCommand(['doctor', '-h']), { name: 'help' })
  const usageError = (argv: string[]): string => {
    try {
      binCommand(argv)
    } catch (err) {
      if (err instanceof UsageError) return err.message
      throw err
    }
    throw new Error(`${argv.join(' ')} was accepted`)
  }
  t.equal(usageError(['doctor', '--version']), 'unknown option --version', 'doctor takes --json and --help only')
  t.equal(usageError(['--json']), 'unknown option --json', '--json belongs to doctor')
  t.equal(usageError(['doctor', 'now']), 'unexpected argument "now"')
  t.match(helpText(), /maap-collector doctor \[--json\][^]*Checks: connection, replica_set, write_concern,\ninsert, replay, create_index, ttl, histogram, delete, lease, read_indexes, log_dir\./)
})
