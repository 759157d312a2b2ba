// The one polling loop of the tests: for outcomes a process reaches by itself and announces nowhere
// (a collector's /status, a file appearing). No timing is asserted: the test's timeout bounds it, or a
// deadline given here, which fails with what never came instead of a test that hangs to its file's timeout.

/** What a poll waits for, and how long before it gives up (a failure bound, generous for a loaded CI machine). */
export interface Deadline { what: string, ms: number }

/** Resolves with the first truthy result of `check`, asked every `everyMs`; rejects once `deadline` has passed. */
export async function poll<T> (check: () => T | undefined | false | Promise<T | undefined | false>, everyMs = 25, deadline?: Deadline): Promise<T> {
  const giveUpAt = deadline === undefined ? Infinity : Date.now() + deadline.ms
  for (;;) {
    const result = await check()
    if (result !== undefined && result !== false) return result
    if (Date.now() > giveUpAt) throw new Error(`gave up after ${deadline!.ms / 1000} s waiting for ${deadline!.what}`)
    await new Promise(resolve => setTimeout(resolve, everyMs))
  }
}
