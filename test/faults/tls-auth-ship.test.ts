// HTTPS and API keys end to end: maap-ship (the shipping core) trusts a CA it is given and sends its key;
// the collector refuses a wrong key for good (403 is permanent: counted, not retried).
import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { selfSignedCertificate } from '../helpers/certificate'
import { startCollector } from '../helpers/collector'
import { maapShip } from '../helpers/ship'

async function ship (args: string[], lines: number): Promise<{ code: number | null, stderr: string }> {
  const child = spawn(process.execPath, [maapShip, ...args], { stdio: ['pipe', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (c: Buffer) => { stderr += c })
  const exited = once(child, 'exit')
  child.stdin.end(Array.from({ length: lines }, (_, i) => JSON.stringify({ level: 'info', message: `tls ${i}`, i })).join('\n') + '\n')
  const [code] = await exited
  return { code: code as number | null, stderr }
}

function journaled (logDir: string): number {
  return readdirSync(logDir).filter(n => /^maap-\d{8}T/.test(n))
    .reduce((n, f) => n + readFileSync(join(logDir, f), 'utf8').split('\n').filter(l => l !== '').length, 0)
}

t.test('maap-ship → HTTPS collector with API keys', async t => {
  const { cert, key } = selfSignedCertificate()
  const apiKey = 'ship-key-0123456789'
  const c = await startCollector(t, { env: { TLS_CERT_FILE: cert, TLS_KEY_FILE: key, API_KEYS: `tls-app:${apiKey}` } })
  t.match(c.url, /^https:/)

  const good = await ship(['--url', c.url, '--ca', cert, '--api-key', apiKey], 300)
  t.equal(good.code, 0, good.stderr)
  t.equal(journaled(c.logDir), 300, 'every line arrived over TLS with the key')

  const wrongKey = await ship(['--url', c.url, '--ca', cert, '--api-key', 'not-the-right-key'], 10)
  t.equal(wrongKey.code, 1, 'a refused key is a permanent failure: exit 1')
  t.match(wrongKey.stderr, /rejected 10/)

  const untrusted = await ship(['--url', c.url, '--api-key', apiKey, '--close-timeout', '1000'], 10)
  t.not(untrusted.code, 0, 'without the CA the certificate is not trusted and nothing is delivered')
  t.equal(journaled(c.logDir), 300, 'nothing from the refused runs was stored')
  const lines = readdirSync(c.logDir).filter(n => /^maap-\d{8}T/.test(n)).map(f => readFileSync(join(c.logDir, f), 'utf8')).join('')
  t.notMatch(lines, /"app_name":"(?!tls-app)/, 'the key pins app_name')
})
