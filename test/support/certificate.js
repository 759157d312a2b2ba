// A self-signed certificate for localhost / 127.0.0.1, made with the openssl CLI, for TLS tests and the
// faults bench. Plain CommonJS so TypeScript tests and .mjs benches share it.
'use strict'
const { execFileSync } = require('node:child_process')
const { mkdtempSync } = require('node:fs')
const { tmpdir } = require('node:os')
const { join } = require('node:path')

/** Writes cert.pem and key.pem to a new temp dir; returns their paths. */
function selfSignedCertificate () {
  const dir = mkdtempSync(join(tmpdir(), 'maap-cert-'))
  const cert = join(dir, 'cert.pem')
  const key = join(dir, 'key.pem')
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' })
  return { cert, key }
}

module.exports = { selfSignedCertificate }
