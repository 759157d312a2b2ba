// HTTPS and API keys end to end: maap-ship (the shipping core) trusts a CA it is given and sends its key;
// the collector refuses a wrong key for good (403 is permanent: counted, not retried).
import t from 'tap'
import { selfSignedCertificate, startCollector, journaled, maapShip, runNode } from '../support'

const ship = (args: string[], lines: number): ReturnType<typeof runNode> =>
  runNode([maapShip, ...args], {}, Array.from({ length: lines }, (_, i) => JSON.stringify({ level: 'info', message: `tls ${i}`, i })).join('\n') + '\n')

t.test('maap-ship → HTTPS collector with API keys', async t => {
  const { cert, key } = selfSignedCertificate()
  const apiKey = 'ship-key-0123456789'
  const c = await startCollector(t, { env: { TLS_CERT_FILE: cert, TLS_KEY_FILE: key, API_KEYS: `tls-app:${apiKey}` } })
  t.match(c.url, /^https:/)

  const good = await ship(['--url', c.url, '--ca', cert, '--api-key', apiKey], 300)
  t.equal(good.code, 0, good.stderr)
  t.equal(journaled(c.logDir).length, 300, 'every line arrived over TLS with the key')

  const wrongKey = await ship(['--url', c.url, '--ca', cert, '--api-key', 'not-the-right-key'], 10)
  t.equal(wrongKey.code, 1, 'a refused key is a permanent failure: exit 1')
  t.match(wrongKey.stderr, /rejected 10/)

  const untrusted = await ship(['--url', c.url, '--api-key', apiKey, '--close-timeout', '1000'], 10)
  t.not(untrusted.code, 0, 'without the CA the certificate is not trusted and nothing is delivered')
  t.equal(journaled(c.logDir).length, 300, 'nothing from the refused runs was stored')
  t.same([...new Set(journaled(c.logDir).map(e => e.app_name))], ['tls-app'], 'the key pins app_name')
})
