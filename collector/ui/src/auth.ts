// The keys. With keys configured the read routes answer 401 without one: the page then asks once
// (one dialog, however many requests were refused at the same moment), keeps the key in sessionStorage —
// this tab only, gone when it closes — and says plainly when a key was refused (403).
// Alerts need the admin key: the alerts view asks for it the same way, kept apart from the read key (a
// read key that works for searching must not be overwritten by a prompt for alerts). Unlike the read key,
// the admin prompt can be cancelled: the page behind it still works.
import { byId } from './dom'

export type KeyKind = 'read' | 'admin'

const STORAGE: Record<KeyKind, string> = { read: 'maap.readKey', admin: 'maap.adminKey' }
const keys: Record<KeyKind, string | null> = {
  read: sessionStorage.getItem(STORAGE.read),
  admin: sessionStorage.getItem(STORAGE.admin)
}
let asking: { kind: KeyKind, done: Promise<boolean> } | null = null

export class KeyCancelled extends Error {}

/** The read routes' header; the admin routes use the admin key when there is one, else try the read key. */
export function authHeaders (kind: KeyKind = 'read'): Record<string, string> {
  const key = kind === 'admin' ? keys.admin ?? keys.read : keys.read
  return key === null ? {} : { authorization: `Bearer ${key}` }
}

/** Whether a key of this kind was given (the admin routes are first tried with the read key). */
export function hasKey (kind: KeyKind): boolean {
  return keys[kind] !== null
}

const TEXT: Record<KeyKind, { title: string, ask: string, refused: string }> = {
  read: {
    title: 'A read key is needed',
    ask: 'This collector has API keys. Enter a key from READ_API_KEYS or the ADMIN_API_KEY; it is kept for this tab only.',
    refused: 'That key may not read logs (403). Use a key from READ_API_KEYS or the ADMIN_API_KEY — an ingest key cannot read.'
  },
  admin: {
    title: 'The admin key is needed',
    ask: 'Alerts are managed with the ADMIN_API_KEY. Enter it to continue; it is kept for this tab only.',
    refused: 'That key may not manage alerts (403). Alerts need the ADMIN_API_KEY — a read or ingest key cannot.'
  }
}

/**
 * Shows the key dialog (once for concurrent callers) and resolves when a new key was entered. The admin
 * prompt rejects with KeyCancelled when it is dismissed.
 */
export async function askForKey (refused: boolean, kind: KeyKind = 'read'): Promise<void> {
  if (asking === null || asking.kind !== kind) {
    // A read prompt over an open admin prompt waits for it (one dialog at a time).
    if (asking !== null) await asking.done.catch(() => false)
    asking = { kind, done: prompt(refused, kind) }
  }
  if (!await asking.done) throw new KeyCancelled(`${TEXT[kind].title}: none was given`)
}

async function prompt (refused: boolean, kind: KeyKind): Promise<boolean> {
  return await new Promise<boolean>(resolve => {
    const dialog = byId<HTMLDialogElement>('keydialog')
    const input = byId<HTMLInputElement>('keyinput')
    const msg = byId('keymsg')
    byId('keytitle').textContent = TEXT[kind].title
    input.setAttribute('aria-label', kind === 'admin' ? 'Admin key' : 'Read key')
    msg.textContent = refused ? TEXT[kind].refused : TEXT[kind].ask
    msg.classList.toggle('bad', refused)
    document.body.dataset.keyprompt = refused ? 'refused' : 'asked'
    document.body.dataset.keykind = kind
    input.value = ''
    const form = byId<HTMLFormElement>('keyform')
    const cancel = byId<HTMLButtonElement>('keycancel')
    cancel.hidden = kind !== 'admin'
    const finish = (given: boolean): void => {
      form.removeEventListener('submit', onSubmit)
      dialog.removeEventListener('cancel', onCancel)
      cancel.removeEventListener('click', onDismiss)
      delete document.body.dataset.keyprompt
      delete document.body.dataset.keykind
      if (dialog.open) dialog.close()
      asking = null
      resolve(given)
    }
    const onSubmit = (e: Event): void => {
      e.preventDefault()
      const v = input.value.trim()
      if (v === '') return
      keys[kind] = v
      sessionStorage.setItem(STORAGE[kind], v)
      finish(true)
    }
    // Esc on the read prompt would leave nothing to show behind it: it stays open until a key is given.
    const onCancel = (e: Event): void => { e.preventDefault(); if (kind === 'admin') finish(false) }
    const onDismiss = (): void => finish(false)
    form.addEventListener('submit', onSubmit)
    dialog.addEventListener('cancel', onCancel)
    cancel.addEventListener('click', onDismiss)
    if (!dialog.open) dialog.showModal()
    input.focus()
  })
}
