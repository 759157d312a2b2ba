// The alerts view (#alerts): every alert with how it stands, and what can be done to it.
//
//   #alerts ──► GET /alerts (admin key) ──► a card each: name, query, condition, state, last notification,
//                                           deliveries pending/failed
//     Disable/Enable ──► PUT /alerts/:id (its fields as answered, enabled flipped; masked secrets go back
//                        as they came and the collector keeps the stored ones)
//     Test ──► POST /alerts/:id/test ──► each channel's result under the card
//     History ──► GET /alerts/:id/history ──► notifications newest first: state, count, time, deliveries,
//                                             the events and the link to them
//     Delete ──► a confirm step ──► DELETE /alerts/:id
import { ApiError } from './api'
import { alerts, inputOf, type Alert, type Notification, type TestResult } from './alerts-api'
import { byId, el } from './dom'
import { shortTime } from './format'
import { levelClass, levelText } from './levels'
import { refusal } from './searches'

export class AlertsView {
  private readonly section = byId('alertsview')
  private readonly list = byId('alertlist')
  private readonly msg = byId('alertsmsg')
  private loading = 0

  constructor () {
    addEventListener('hashchange', () => this.sync())
    byId('alertsrefresh').addEventListener('click', () => { void this.load() })
    byId('backtosearch').addEventListener('click', () => {
      history.pushState(null, '', location.pathname + location.search)
      this.sync()
    })
    this.sync()
  }

  get on (): boolean { return location.hash === '#alerts' }

  /** Shows the view when the URL's hash says so (and loads it), the search otherwise. */
  sync (): void {
    const on = this.on
    const was = document.body.dataset.view === 'alerts'
    document.body.dataset.view = on ? 'alerts' : 'search'
    this.section.hidden = !on
    if (on && !was) void this.load()
  }

  /** Opens the view (after an alert was made: it is there). */
  show (): void {
    if (this.on) { void this.load(); return }
    location.hash = 'alerts'
  }

  async load (): Promise<void> {
    const mine = ++this.loading
    document.body.dataset.alerts = 'loading'
    try {
      const all = await alerts.list()
      if (mine !== this.loading) return
      all.sort((a, b) => a.name.localeCompare(b.name))
      this.list.replaceChildren(...all.map(a => this.card(a)))
      this.say(all.length === 0 ? 'No alerts yet. Search for what matters, then "Alert on this search".' : '')
    } catch (err) {
      if (mine !== this.loading) return
      this.list.replaceChildren()
      const retry = el('button', 'link', 'Try again')
      retry.type = 'button'
      retry.addEventListener('click', () => { void this.load() })
      const needsKey = err instanceof ApiError && (err.status === 401 || err.status === 403)
      this.say(needsKey ? 'Alerts need the ADMIN_API_KEY. ' : `Could not list alerts: ${refusal(err)} `, retry)
    }
    document.body.dataset.alerts = String(this.list.childElementCount)
  }

  private say (...content: Array<Node | string>): void {
    this.msg.hidden = content.length === 0 || content[0] === ''
    this.msg.replaceChildren(...content)
  }

  private card (a: Alert): HTMLElement {
    const card = el('article', 'acard')
    card.dataset.id = a.id
    const state = !a.enabled ? 'disabled' : a.state ?? 'ok'
    card.dataset.state = state
    const head = el('div', 'ahead')
    head.append(el('span', `astate st-${state}`, state), el('h3', 'aname', a.name), el('span', 'acond', conditionText(a)))
    const actions = el('div', 'aactions')
    const toggle = button('toggle', a.enabled ? 'Disable' : 'Enable', () => { void this.setEnabled(a, !a.enabled, card) })
    const test = button('test', 'Test', () => { void this.test(a, card) })
    const hist = button('hist', 'History', () => { void this.history(a, card, hist) })
    hist.setAttribute('aria-expanded', 'false')
    const del = button('delete danger-text', 'Delete', () => this.confirmDelete(a, card))
    actions.append(toggle, test, hist, del)
    head.append(actions)

    const facts = el('div', 'afacts')
    const pending = a.deliveries?.pending ?? 0
    const failed = a.deliveries?.failed ?? 0
    facts.append(
      el('span', '', `Last notified: ${a.last_notified_at == null ? 'never' : shortTime(a.last_notified_at)}`),
      el('span', pending > 0 ? 'warn' : '', `${pending} pending`),
      el('span', failed > 0 ? 'bad' : '', `${failed} failed`),
      el('span', '', `To: ${a.channels.map(c => c.type).join(', ') || 'no channel'}`)
    )
    card.append(head, el('code', 'aquery', a.query === '' ? '(every event)' : a.query), facts, el('div', 'aextra'))
    return card
  }

  private async setEnabled (a: Alert, enabled: boolean, card: HTMLElement): Promise<void> {
    try {
      await alerts.update(a.id, { ...inputOf(a), enabled })
      await this.load()
    } catch (err) {
      extra(card).replaceChildren(el('div', 'formerror', `Could not ${enabled ? 'enable' : 'disable'}: ${refusal(err)}`))
    }
  }

  private async test (a: Alert, card: HTMLElement): Promise<void> {
    const box = extra(card)
    box.replaceChildren(el('div', 'muted', 'Sending a test notification to each channel…'))
    try {
      const results = await alerts.test(a.id)
      const list = el('ul', 'tests')
      for (const r of results) list.append(testLine(a, r))
      box.replaceChildren(el('div', 'subhead', 'Test notification'), list)
      card.dataset.tested = String(results.length)
    } catch (err) {
      box.replaceChildren(el('div', 'formerror', `Could not test: ${refusal(err)}`))
    }
  }

  private confirmDelete (a: Alert, card: HTMLElement): void {
    const box = extra(card)
    const ask = el('div', 'confirm')
    const yes = button('yes danger', 'Delete', () => {
      alerts.remove(a.id).then(() => this.load(), err => { ask.replaceChildren(el('span', 'formerror', `Could not delete: ${refusal(err)}`)) })
    })
    ask.append(el('span', '', `Delete "${a.name}" and its history? It stops notifying at once.`), yes,
      button('cancel', 'Cancel', () => box.replaceChildren()))
    box.replaceChildren(ask)
    yes.focus()
  }

  private async history (a: Alert, card: HTMLElement, toggle: HTMLButtonElement): Promise<void> {
    const box = extra(card)
    if (toggle.getAttribute('aria-expanded') === 'true') {
      toggle.setAttribute('aria-expanded', 'false')
      box.replaceChildren()
      return
    }
    toggle.setAttribute('aria-expanded', 'true')
    box.replaceChildren(el('div', 'muted', 'Loading the history…'))
    try {
      const ns = await alerts.history(a.id)
      box.replaceChildren(el('div', 'subhead', 'History'), ...(ns.length === 0
        ? [el('div', 'muted', 'No notification yet: it has not fired since it was made, enabled or changed.')]
        : ns.map(n => notification(a, n))))
      card.dataset.history = String(ns.length)
    } catch (err) {
      box.replaceChildren(el('div', 'formerror', `Could not load the history: ${refusal(err)}`))
    }
  }
}

function extra (card: HTMLElement): HTMLElement {
  return card.querySelector<HTMLElement>('.aextra')!
}

function button (cls: string, text: string, onClick: () => void): HTMLButtonElement {
  const b = el('button', `tool ${cls}`, text)
  b.type = 'button'
  b.addEventListener('click', onClick)
  return b
}

function conditionText (a: Alert): string {
  const c = a.condition
  if (c.type === 'each') return `each event · grouped ${a.group_window} · up to ${a.sample} shown`
  const n = 'above' in c ? `more than ${c.above}` : `fewer than ${c.below}`
  return `${n} in ${c.window}${a.repeat_after === null ? '' : ` · again every ${a.repeat_after}`}`
}

function channelName (a: Alert, index: number, type: string | undefined): string {
  const c = a.channels[index]
  const what = c === undefined ? type ?? 'channel' : c.type === 'email' ? `e-mail ${c.to.join(', ')}` : `${c.type} ${c.url}`
  return `#${index + 1} ${what}`
}

function testLine (a: Alert, r: TestResult): HTMLElement {
  const li = el('li', r.ok ? 'ok' : 'bad')
  li.append(el('span', 'mark', r.ok ? '✓' : '✗'), el('span', 'cname', channelName(a, r.channel, r.type)),
    // The collector's error names the HTTP status already ("HTTP 500: …"): the status alone only without one.
    el('span', 'muted', r.ok ? `delivered${r.status == null ? '' : ` (${r.status})`}` : r.error ?? (r.status == null ? 'failed' : `HTTP ${r.status}`)))
  return li
}

function notification (a: Alert, n: Notification): HTMLElement {
  const box = el('section', `notif st-${n.state}`)
  box.dataset.id = n.id
  const head = el('div', 'nhead')
  const link = el('a', 'nlink', 'Show these events')
  link.href = n.link
  head.append(el('span', `astate st-${n.state === 'firing' ? 'firing' : 'ok'}`, n.state),
    el('strong', '', `${n.count.toLocaleString()} event${n.count === 1 ? '' : 's'}`),
    el('time', 'muted', shortTime(n.created_at)), link)
  const deliveries = el('ul', 'deliveries')
  for (const d of n.deliveries) {
    const li = el('li', `dl dl-${d.status}`)
    li.append(el('span', 'cname', channelName(a, d.channel, d.type)), el('span', `dstatus`, d.status),
      el('span', 'muted', `${d.attempts} attempt${d.attempts === 1 ? '' : 's'}${d.delivered_at === null ? '' : ` · ${shortTime(d.delivered_at)}`}`))
    if (d.last_error !== null && d.status !== 'delivered') li.append(el('span', 'derr', d.last_error))
    deliveries.append(li)
  }
  const events = el('div', 'nevents')
  for (const e of n.events) {
    const row = el('div', 'nev')
    const ts = el('time', 'ts', shortTime(e.timestamp))
    ts.setAttribute('datetime', e.timestamp)
    row.append(ts, el('span', `lv ${levelClass(e.level)}`, levelText(e.level)), el('span', 'app', e.app_name), el('span', 'msg', e.message))
    events.append(row)
  }
  const more = n.count > n.events.length ? [el('div', 'muted', `…and ${(n.count - n.events.length).toLocaleString()} more (the link shows them all)`)] : []
  box.append(head, deliveries, events, ...more)
  return box
}
