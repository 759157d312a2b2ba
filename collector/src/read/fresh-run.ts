// One run of an async read (a directory listing) shared by the callers that asked while another was under
// way, never one that started before its caller asked: what a caller gets is as fresh as a run of its own.
//
//   caller A ─► run 1 ───────────► A
//   callers B, C (ask during run 1) ─► wait ─► run 2 ───► B, C
//   caller D (asks during run 2) ─────────────► wait ─► run 3 ─► D
//
// Why: searches and live tails list a sibling's journal directory (tails at the end of its newest segment,
// at every wake-up, content with a listing up to 20 ms old: tail.ts), and a search's listing must not be
// older than the search (it reads what a sibling acknowledged before it began). Shared, callers at once
// cost one listing whatever their number.
export class FreshRun<T> {
  private running: Promise<T> | undefined
  /** The run the callers that asked during `running` share: started once it ends. */
  private next: Promise<T> | undefined

  constructor (private readonly run: () => Promise<T>) {}

  async get (): Promise<T> {
    if (this.running === undefined) return await this.start()
    this.next ??= this.running.then(noop, noop).then(async () => {
      this.next = undefined
      return await this.start()
    })
    return await this.next
  }

  private async start (): Promise<T> {
    const p = this.run().finally(() => {
      if (this.running === p) this.running = undefined
    })
    this.running = p
    return await p
  }
}

function noop (): void {}
