// The data set of `npm run bench:peers`, and the answers each query must give, counted while it is made:
//
//   seed ─► PRNG ─► event i (app, level, message, nested fields, timestamp in [start, end)) ─► NDJSON line
//                                │                                                             │
//                                └─► counts (common word, rare word, app at ERROR+, hour×level)  └─► file, batches of 1,000
//
// Written once to a file with each batch's byte range, so every ingest (both stores, every row) sends the
// very same bytes and the client only reads them back, instead of spending a core making them again.
import { open } from 'node:fs/promises'

export const APPS = ['api', 'web', 'worker', 'billing', 'auth', 'search', 'mailer', 'cron', 'gateway', 'images']
// Busy apps log more: weights per app, in the order above.
const APP_WEIGHTS = [22, 18, 14, 8, 10, 9, 5, 3, 7, 4]
// A realistic mix (pino/winston names as applications send them), and the name our collector stores.
export const LEVELS = [
  { name: 'trace', stored: 'TRACE', weight: 1 },
  { name: 'debug', stored: 'DEBUG', weight: 12 },
  { name: 'info', stored: 'INFO', weight: 70 },
  { name: 'warn', stored: 'WARNING', weight: 11 },
  { name: 'error', stored: 'ERROR', weight: 5.5 },
  { name: 'fatal', stored: 'CRITICAL', weight: 0.5 }
]
export const COMMON_WORD = 'timeout' // in ~12 % of messages
export const RARE_WORD = 'deadlock' // in ~0.05 % of messages
export const APP_FOR_ERRORS = 'billing'
export const BATCH = 1000
const HOUR = 3600_000
const COMMON_SHARE = 0.12
const RARE_SHARE = 0.0005
const ERROR_RANK = 4 // LEVELS index of 'error': this and above

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
function prng (seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const cumulative = weights => {
  const total = weights.reduce((a, b) => a + b, 0)
  let run = 0
  return weights.map(w => (run += w / total))
}
const APP_CUT = cumulative(APP_WEIGHTS)
const LEVEL_CUT = cumulative(LEVELS.map(l => l.weight))
const pick = (cuts, r) => { let i = 0; while (i < cuts.length - 1 && r >= cuts[i]) i++; return i }

// Messages never hold the two words except where placed, nor any word that contains them (both stores
// must agree: LogsQL matches whole words, our `q` substrings).
const ROUTES = ['/api/orders', '/api/users', '/api/cart', '/api/invoices', '/api/search', '/healthz', '/api/login', '/api/products']
const METHODS = ['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE']
const PLAIN = [
  c => `${c.method} ${c.route}/${c.id} answered ${c.status} in ${c.ms} ms`,
  c => `user ${c.user} signed in from ${c.ip}`,
  c => `cache miss for key session:${c.user}`,
  c => `job ${c.id} finished in ${c.ms} ms`,
  c => `payment ${c.id} captured for ${c.amount} EUR`,
  c => `queue depth ${c.ms % 500} on partition ${c.id % 16}`,
  c => `sent mail to user ${c.user}`,
  c => `slow query on orders took ${c.ms} ms`
]
const WITH_COMMON = [
  c => `upstream ${COMMON_WORD} after ${c.ms} ms calling ${c.route}`,
  c => `request ${c.id} failed: ${COMMON_WORD} waiting for connection from pool`,
  c => `database ${COMMON_WORD} on replica ${c.id % 3} after ${c.ms} ms`
]
const WITH_RARE = c => `transaction ${c.id} aborted: ${RARE_WORD} detected on table orders`

/**
 * Writes `n` events (seeded by `seed`, timestamps spread over the 24 h before `end`) to `file` and
 * returns { batches: [[offset, length]…], bytes, start, end, counts } where counts holds the answers.
 */
export async function generate ({ file, n, seed, end }) {
  const rand = prng(seed)
  const start = end - 24 * HOUR
  const step = (end - start) / n
  const counts = {
    total: n,
    common: 0,
    commonBytes: 0,
    rareTimes: [], // timestamps (ms) of every rare-word event
    appErrorTimes: [], // timestamps of APP_FOR_ERRORS at ERROR and above
    hourly: Array.from({ length: 24 }, () => Object.fromEntries(LEVELS.map(l => [l.stored, 0])))
  }
  const fh = await open(file, 'w')
  const batches = []
  let offset = 0
  try {
    for (let b = 0; b < n; b += BATCH) {
      let chunk = ''
      for (let i = b; i < Math.min(n, b + BATCH); i++) {
        // In order with a little jitter (±2 s), as several hosts' clocks and buffers deliver them.
        const ts = Math.min(end - 1, Math.max(start, Math.floor(start + i * step + (rand() - 0.5) * 4000)))
        const app = APPS[pick(APP_CUT, rand())]
        const level = pick(LEVEL_CUT, rand())
        const c = {
          id: Math.floor(rand() * 1e9),
          user: Math.floor(rand() * 50_000),
          ms: Math.floor(rand() * rand() * 5000),
          route: ROUTES[Math.floor(rand() * ROUTES.length)],
          method: METHODS[Math.floor(rand() * METHODS.length)],
          status: level >= ERROR_RANK ? 500 + Math.floor(rand() * 4) : (rand() < 0.9 ? 200 : 404),
          ip: `10.${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}`,
          amount: (rand() * 500).toFixed(2)
        }
        const roll = rand()
        let message
        if (roll < RARE_SHARE) {
          message = WITH_RARE(c)
          counts.rareTimes.push(ts)
        } else if (roll < RARE_SHARE + COMMON_SHARE) {
          message = WITH_COMMON[Math.floor(rand() * WITH_COMMON.length)](c)
        } else {
          message = PLAIN[Math.floor(rand() * PLAIN.length)](c)
        }
        const line = JSON.stringify({
          timestamp: new Date(ts).toISOString(),
          level: LEVELS[level].name,
          app_name: app,
          message,
          hostname: `${app}-${Math.floor(rand() * 4)}`,
          pid: 1000 + Math.floor(rand() * 50),
          trace_id: Math.floor(rand() * 2 ** 32).toString(16).padStart(8, '0') + Math.floor(rand() * 2 ** 32).toString(16).padStart(8, '0'),
          req: { method: c.method, url: `${c.route}/${c.id}` },
          res: { status: c.status, duration_ms: c.ms },
          user: { id: c.user, plan: rand() < 0.8 ? 'free' : 'pro' }
        }) + '\n'
        if (message.includes(COMMON_WORD)) {
          counts.common++
          counts.commonBytes += Buffer.byteLength(line)
        }
        if (app === APP_FOR_ERRORS && level >= ERROR_RANK) counts.appErrorTimes.push(ts)
        counts.hourly[Math.floor((ts - start) / HOUR)][LEVELS[level].stored]++
        chunk += line
      }
      const buf = Buffer.from(chunk)
      await fh.write(buf)
      batches.push([offset, buf.length])
      offset += buf.length
    }
  } finally {
    await fh.close()
  }
  const newest = times => times.sort((a, b) => b - a).slice(0, 100)
  counts.rareNewest = newest(counts.rareTimes)
  counts.rare = counts.rareTimes.length
  counts.appErrorNewest = newest(counts.appErrorTimes)
  counts.appErrors = counts.appErrorTimes.length
  delete counts.rareTimes
  delete counts.appErrorTimes
  return { batches, bytes: offset, start, end, counts }
}
