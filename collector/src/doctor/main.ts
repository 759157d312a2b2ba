// `maap-collector doctor [--json]`: reads the configuration exactly as the collector does (environment
// and ./.env), checks MongoDB (when MONGODB_URI is set) and LOG_DIR, prints the report with every trace
// of the URI's credentials masked, and answers the exit status: 0 the collector can run, 1 it cannot.
import { ConfigError, loadConfig, loadDotEnv, type CollectorConfig } from '../config'
import { fail, ok, type CheckResult } from './check'
import { checkLogDir } from './log-dir'
import { mongoChecks } from './mongo'
import { canRun, formatHuman, formatJson } from './report'
import { redactor, uriHosts } from './uri'

function heading (config: Readonly<CollectorConfig> | undefined): string {
  if (config === undefined) return 'maap-collector doctor: the configuration'
  const mongo = config.mongodbUri === undefined
    ? 'no MongoDB (embedded mode)'
    : `MongoDB ${uriHosts(config.mongodbUri)}, collection ${config.mongodbDbName}.${config.mongodbCollection}`
  return `maap-collector doctor: ${mongo}; LOG_DIR ${config.logDir}`
}

/** Runs every check and writes the report on stdout (warnings on stderr); resolves with the exit status. */
export async function doctor (json: boolean): Promise<number> {
  const checks: CheckResult[] = []
  const warnings: string[] = []
  let config: Readonly<CollectorConfig> | undefined
  try {
    loadDotEnv()
    config = loadConfig()
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    checks.push(fail('config', err.message, 'the collector would not start (exit 2): fix the variable'))
  }
  if (config !== undefined) {
    if (config.mongodbUri === undefined) {
      checks.push(ok('connection', 'MONGODB_URI is not set: embedded mode, the journal in LOG_DIR is the store and nothing goes to MongoDB'))
    } else {
      const mongo = await mongoChecks(config, config.mongodbUri)
      checks.push(...mongo.checks)
      warnings.push(...mongo.leftovers)
    }
    checks.push(await checkLogDir(config))
  }
  const redact = redactor(config?.mongodbUri ?? process.env.MONGODB_URI)
  process.stdout.write(redact(json ? formatJson(checks) : formatHuman(checks, heading(config))))
  for (const w of warnings) process.stderr.write(redact(`maap-collector doctor: ${w}\n`))
  return canRun(checks) ? 0 : 1
}
