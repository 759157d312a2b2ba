// Builds an in-process collector on a temp LOG_DIR for API tests (inject() or a real port).
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { build, loadConfig } from '@maap-event-logger/collector'

export async function buildTestApp (t: { teardown: (fn: () => unknown) => void }, env: Record<string, string> = {}):
Promise<{ app: FastifyInstance, logDir: string }> {
  const logDir = mkdtempSync(join(tmpdir(), 'maap-api-'))
  const config = loadConfig({ LOG_DIR: logDir, ...env })
  const app = await build(config)
  t.teardown(() => app.close())
  return { app, logDir }
}

/** Listens on 127.0.0.1 (`port` 0: any free port) and resolves with the base URL. */
export async function listen (app: FastifyInstance, port = 0): Promise<string> {
  await app.listen({ host: '127.0.0.1', port })
  return `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
}
