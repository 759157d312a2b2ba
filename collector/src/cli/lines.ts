// A response body → its lines, a batch per chunk received (the NDJSON export): one write per batch.
import { StringDecoder } from 'node:string_decoder'

export async function * lineBatches (body: AsyncIterable<Uint8Array>): AsyncGenerator<string[]> {
  const decoder = new StringDecoder('utf8')
  let rest = ''
  for await (const chunk of body) {
    const parts = (rest + decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))).split('\n')
    rest = parts.pop()!
    const batch = parts.filter(l => l !== '')
    if (batch.length > 0) yield batch
  }
  rest += decoder.end()
  if (rest !== '') yield [rest]
}
