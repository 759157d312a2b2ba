// Two event streams in the answer's order merged into one, an event present in both (stored in MongoDB
// while its journal line was not yet checkpointed) answered once.
import { hitBefore, type Hit } from './journal-search'

export async function * mergeHits (a: AsyncGenerator<Hit, void, undefined>, b: AsyncGenerator<Hit, void, undefined>):
AsyncGenerator<Hit, void, undefined> {
  try {
    let x = await a.next()
    let y = await b.next()
    while (x.done !== true || y.done !== true) {
      if (y.done === true || (x.done !== true && hitBefore(x.value, y.value))) {
        yield x.value!
        x = await a.next()
      } else if (x.done === true || hitBefore(y.value, x.value)) {
        yield y.value
        y = await b.next()
      } else {
        // The same key in both: one event (ids are unique); keep the journal's copy, which has its line.
        yield x.value.line !== '' ? x.value : y.value
        x = await a.next()
        y = await b.next()
      }
    }
  } finally {
    await Promise.all([a.return(undefined), b.return(undefined)])
  }
}
