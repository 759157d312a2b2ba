// Events MongoDB refused for good are appended here with the reason, so nothing acknowledged is lost
// silently: `LOG_DIR/maap-dead-letter.ndjson`, one `{ failed_at, code, reason, event }` per line.
import { appendFile } from 'node:fs/promises'
import { join } from 'node:path'

export const DEAD_LETTER_FILE = 'maap-dead-letter.ndjson'

export interface DeadLetterEntry {
  line: string
  reason: string
  code?: number | string | undefined
}

function isJsonObjectText (line: string): boolean {
  try {
    const v: unknown = JSON.parse(line)
    return typeof v === 'object' && v !== null
  } catch {
    return false
  }
}

export class DeadLetter {
  readonly file: string
  count = 0

  constructor (dir: string) {
    this.file = join(dir, DEAD_LETTER_FILE)
  }

  async append (entries: DeadLetterEntry[]): Promise<void> {
    if (entries.length === 0) return
    const failedAt = new Date().toISOString()
    let text = ''
    for (const e of entries) {
      const event = isJsonObjectText(e.line) ? e.line : JSON.stringify(e.line)
      text += `{"failed_at":"${failedAt}","code":${JSON.stringify(e.code ?? null)},"reason":${JSON.stringify(e.reason)},"event":${event}}\n`
    }
    await appendFile(this.file, text)
    this.count += entries.length
  }
}
