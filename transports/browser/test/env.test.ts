// pageEnv() looks at the page when a logger is made: in Node (no page) it has no beacon and no page
// listeners; with a page's globals it wires pagehide, pageshow and visibilitychange.
import t from 'tap'
import { pageEnv } from '../src/env.js'
import { createLogger } from '../src/index.js'

t.test('outside a page: fetch, clock and timers only', async t => {
  const env = pageEnv()
  t.equal(env.sendBeacon, undefined)
  t.equal(env.watchPage, undefined)
  t.equal(typeof env.now(), 'number')
  let fired = false
  env.clearTimeout(env.setTimeout(() => { fired = true }, 1))
  await new Promise(resolve => setTimeout(resolve, 5))
  t.notOk(fired, 'a cleared timer does not fire')
  const res = await env.fetch('data:text/plain,hi', { method: 'GET' })
  t.equal(await res.text(), 'hi')
  const log = createLogger({ url: 'http://127.0.0.1:9', key: 'pk_shop_3f9a2c1d', appName: 'a' })
  t.equal(log.level, 'info')
  await log.close()
})

t.test('in a page: sendBeacon, and hide/show from pagehide, pageshow and visibilitychange', async t => {
  const listeners = { window: new Map<string, () => void>(), document: new Map<string, () => void>() }
  const g = globalThis as Record<string, unknown>
  const doc = {
    visibilityState: 'visible',
    addEventListener: (type: string, fn: () => void) => listeners.document.set(type, fn),
    removeEventListener: (type: string) => listeners.document.delete(type)
  }
  const beacons: string[] = []
  Object.assign(g, {
    document: doc,
    navigator: { sendBeacon: (url: string) => { beacons.push(url); return true } },
    addEventListener: (type: string, fn: () => void) => listeners.window.set(type, fn),
    removeEventListener: (type: string) => listeners.window.delete(type)
  })
  t.teardown(() => { for (const k of ['document', 'navigator', 'addEventListener', 'removeEventListener']) delete g[k] })
  const env = pageEnv()
  t.ok(env.sendBeacon!('http://x.example/logs', ''))
  t.same(beacons, ['http://x.example/logs'])
  const seen: string[] = []
  const stop = env.watchPage!(() => seen.push('hide'), () => seen.push('show'))
  t.same([...listeners.window.keys()].sort(), ['pagehide', 'pageshow'])
  listeners.window.get('pagehide')!()
  listeners.window.get('pageshow')!()
  doc.visibilityState = 'hidden'
  listeners.document.get('visibilitychange')!()
  doc.visibilityState = 'visible'
  listeners.document.get('visibilitychange')!()
  t.same(seen, ['hide', 'show', 'hide', 'show'])
  stop()
  t.equal(listeners.window.size + listeners.document.size, 0, 'every listener removed')
})
