// TLS_CERT_FILE / TLS_KEY_FILE → HTTPS, with a certificate this test generates.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { request } from 'node:https'
import { selfSignedCertificate } from '../../test/support'
import { buildTestApp } from './helpers'

function post (port: number, ca: Buffer, body: string): Promise<{ status: number, body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/log', method: 'POST', ca, servername: 'localhost', headers: { 'content-type': 'application/json' } }, res => {
      let text = ''
      res.on('data', (c: Buffer) => { text += c.toString() })
      res.on('end', () => resolve({ status: res.statusCode!, body: text }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

t.test('the collector serves HTTPS with the configured certificate', async t => {
  const { cert, key } = selfSignedCertificate()
  const { app } = await buildTestApp(t, { TLS_CERT_FILE: cert, TLS_KEY_FILE: key })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const port = (app.server.address() as { port: number }).port
  const res = await post(port, readFileSync(cert), JSON.stringify({ message: 'over tls', app_name: 'a' }))
  t.equal(res.status, 201)
  t.match(JSON.parse(res.body), { status: 'success' })
  await t.rejects(post(port, Buffer.from(''), '{}'), 'a client that does not trust the certificate cannot connect')
  t.match((await app.inject({ method: 'GET', url: '/status' })).json(), { tls: true })
})
