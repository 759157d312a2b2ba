// A text/event-stream body → its messages, a batch per chunk received, parsed by eventsource-parser
// (the field rules, line endings and chunk boundaries of the SSE spec, well tested elsewhere).
import { createParser } from 'eventsource-parser'

export type SseItem =
  | { type: 'event', event: string | undefined, id: string | undefined, data: string }
  | { type: 'comment', text: string }
  | { type: 'retry', ms: number }

export async function * sseBatches (body: AsyncIterable<Uint8Array>): AsyncGenerator<SseItem[]> {
  let batch: SseItem[] = []
  const parser = createParser({
    onEvent: e => batch.push({ type: 'event', event: e.event, id: e.id, data: e.data }),
    onComment: text => batch.push({ type: 'comment', text: text.trim() }),
    onRetry: ms => batch.push({ type: 'retry', ms })
  })
  const decoder = new TextDecoder()
  for await (const chunk of body) {
    parser.feed(decoder.decode(chunk, { stream: true }))
    if (batch.length > 0) {
      yield batch
      batch = []
    }
  }
}
