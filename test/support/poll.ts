// The one polling loop of the tests: for outcomes a process reaches by itself and announces nowhere
// (a collector's /status, a file appearing). No timing is asserted: the test's timeout bounds it.

/** Resolves with the first truthy result of `check`, asked every `everyMs`. */
export async function poll<T> (check: () => T | undefined | false | Promise<T | undefined | false>, everyMs = 25): Promise<T> {
  for (;;) {
    const result = await check()
    if (result !== undefined && result !== false) return result
    await new Promise(resolve => setTimeout(resolve, everyMs))
  }
}
