// GETs for the queries: each answer read to its end (the time of a query is until its last byte), either
// kept as text or, for an export, only counted as it streams by (tens of MB that nobody needs to keep).
import { get as httpGet } from 'node:http'

/** Resolves with { ms, status, text } — or, with `count: true`, { ms, status, bytes, lines } without keeping it. */
export function get (url, { headers, count = false } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now()
    httpGet(url, { headers }, res => {
      const chunks = []
      let bytes = 0
      let lines = 0
      res.on('data', c => {
        if (!count) return chunks.push(c)
        bytes += c.length
        for (let i = c.indexOf(10); i !== -1; i = c.indexOf(10, i + 1)) lines++
      }).on('end', () => {
        const ms = performance.now() - t0
        if (res.statusCode !== 200) {
          return reject(new Error(`GET ${url} answered ${res.statusCode}: ${Buffer.concat(chunks).toString().slice(0, 500)}`))
        }
        resolve(count ? { ms, status: res.statusCode, bytes, lines } : { ms, status: res.statusCode, text: Buffer.concat(chunks).toString() })
      }).on('error', reject)
    }).on('error', reject)
  })
}

/** The NDJSON lines of a text, parsed. */
export const ndjson = text => text.split('\n').filter(Boolean).map(line => JSON.parse(line))
