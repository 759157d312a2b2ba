// What the logger needs from its surroundings, looked up when a logger is made (never at import, so the
// module loads in Node, in a worker and during server-side rendering). Tests hand in fakes: a fetch, a
// clock and a page that fires pagehide on demand.

export interface Answer {
  status: number
  headers: { get: (name: string) => string | null }
  text: () => Promise<string>
}

export interface Env {
  fetch: (url: string, init: RequestInit) => Promise<Answer>
  now: () => number
  setTimeout: (fn: () => void, ms: number) => unknown
  clearTimeout: (handle: unknown) => void
  random: () => number
  /** navigator.sendBeacon; undefined where there is none (then unload uses fetch with keepalive). */
  sendBeacon: ((url: string, body: string) => boolean) | undefined
  /**
   * Calls `onHide` when the page is hidden or left (pagehide, visibilitychange to hidden) and `onShow`
   * when it is back; returns what removes the listeners. Undefined outside a page.
   */
  watchPage: ((onHide: () => void, onShow: () => void) => () => void) | undefined
}

interface PageGlobals {
  navigator?: { sendBeacon?: (url: string, body: string) => boolean }
  addEventListener?: (type: string, fn: () => void) => void
  removeEventListener?: (type: string, fn: () => void) => void
  document?: { visibilityState?: string, addEventListener: (type: string, fn: () => void) => void, removeEventListener: (type: string, fn: () => void) => void }
}

export function pageEnv (): Env {
  const g = globalThis as unknown as PageGlobals & typeof globalThis
  const nav = g.navigator
  const doc = g.document
  const win = typeof g.addEventListener === 'function' && typeof g.removeEventListener === 'function' ? g : undefined
  return {
    fetch: async (url, init) => await g.fetch(url, init),
    now: () => Date.now(),
    setTimeout: (fn, ms) => g.setTimeout(fn, ms),
    clearTimeout: handle => g.clearTimeout(handle as number),
    random: Math.random,
    sendBeacon: typeof nav?.sendBeacon === 'function' ? (url, body) => nav.sendBeacon!(url, body) : undefined,
    watchPage: win === undefined || doc === undefined
      ? undefined
      : (onHide, onShow) => {
          const onVisibility = (): void => { if (doc.visibilityState === 'hidden') onHide(); else onShow() }
          win.addEventListener!('pagehide', onHide)
          win.addEventListener!('pageshow', onShow)
          doc.addEventListener('visibilitychange', onVisibility)
          return () => {
            win.removeEventListener!('pagehide', onHide)
            win.removeEventListener!('pageshow', onShow)
            doc.removeEventListener('visibilitychange', onVisibility)
          }
        }
  }
}
