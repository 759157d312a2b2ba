// GET /health (liveness) and GET /ready (readiness), for orchestrators and load balancers. No key: they
// say nothing about the events.
//
//   /health ─► 200 while this process serves HTTP (MongoDB is never asked)
//   /ready  ─► 200 serving, journal writable │ 503 starting │ shutting down │ journal cannot be written
//
// Start-up order: build() opens the journal and replays it into MongoDB before the port opens, so while a
// collector starts a probe finds the port closed; "starting" is what an in-process caller (inject) sees
// before listen. On close, `return503OnClosing` is off: the hook below answers every request with 503 and
// a reason (this file's reply for /ready), instead of Fastify's bare 503.
import { open, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { ShuttingDownError } from '../errors'
import type { CollectorService } from '../service'

type Phase = 'starting' | 'serving' | 'shutting_down'

/** Written and removed in LOG_DIR to learn whether the journal can be written again after a failure. */
const PROBE_FILE = '.maap-ready-probe'

export class Readiness {
  phase: Phase = 'starting'
  /** Why the last journal write failed, until a later write (or a probe write) succeeds. */
  private journalError: string | undefined
  /** Why the last probe write failed too. */
  private probeError: string | undefined
  private probing: Promise<void> | undefined

  constructor (private readonly service: CollectorService) {
    service.journal.on('write-error', (err: Error) => { this.journalError = err.message })
    service.journal.on('committed', () => { this.journalError = this.probeError = undefined })
  }

  /**
   * After a failed write the journal is not written again until an event arrives, and a collector taken
   * out of rotation gets none: so /ready itself tries a write like the journal's next one (a new file in
   * LOG_DIR, written and synced), and reports ready again once that works.
   */
  private async probeJournal (): Promise<void> {
    const file = join(this.service.config.logDir, `${PROBE_FILE}-${process.pid}`)
    try {
      const fh = await open(file, 'w')
      try {
        await fh.write('ok\n')
        await fh.datasync()
      } finally {
        await fh.close()
      }
      await unlink(file)
      this.journalError = this.probeError = undefined
    } catch (err) {
      this.probeError = (err as NodeJS.ErrnoException).code ?? (err as Error).message
      await unlink(file).catch(() => {})
    }
  }

  async report (): Promise<{ ready: boolean, body: object }> {
    if (this.journalError !== undefined && this.phase === 'serving') {
      this.probing ??= this.probeJournal().finally(() => { this.probing = undefined })
      await this.probing
    }
    const reasons: string[] = []
    if (this.phase === 'starting') reasons.push('starting: the journal is being opened and replayed')
    if (this.phase === 'shutting_down') reasons.push('shutting down: flushing and closing the journal')
    if (this.journalError !== undefined) {
      const probe = this.probeError === undefined ? '' : ` (a test write in LOG_DIR just failed too: ${this.probeError})`
      reasons.push(`the journal cannot be written: ${this.journalError}${probe}`)
    }
    const ready = reasons.length === 0
    return {
      ready,
      body: {
        status: ready ? 'ready' : 'not_ready',
        reasons,
        checks: {
          process: this.phase,
          journal: this.journalError === undefined ? 'writable' : 'failing',
          // Not a reason: the journal keeps accepting while MongoDB is away, and replays when it returns.
          mongodb: this.service.mongoStatus
        }
      }
    }
  }
}

/** Registers /health, /ready and the closing hook on the root instance (their hooks apply to every route). */
export function installProbes (app: FastifyInstance, service: CollectorService): Readiness {
  const readiness = new Readiness(service)
  app.addHook('onListen', async () => { if (readiness.phase === 'starting') readiness.phase = 'serving' })
  app.addHook('preClose', async () => { readiness.phase = 'shutting_down' })
  // Callback style: on every request, so no promise per request for a check that is almost always false.
  app.addHook('onRequest', (request, _reply, done) => {
    if (readiness.phase === 'shutting_down' && request.routeOptions.url !== '/ready' && request.routeOptions.url !== '/health') done(new ShuttingDownError())
    else done()
  })

  app.get('/health', async () => ({ status: 'ok' }))
  app.get('/ready', async (_request, reply) => {
    const { ready, body } = await readiness.report()
    if (!ready) reply.header('retry-after', '1')
    return await reply.code(ready ? 200 : 503).send(body)
  })
  return readiness
}
