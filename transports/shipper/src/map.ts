// Turning what applications log into the collector's event shape: `{ level, message, app_name,
// timestamp?, ...fields }`. One mapper for every way in (pino worker, winston worker, stdin CLI), so a
// record looks the same in MongoDB whichever way it came.

import { basename, extname } from 'node:path'
import { levelOfString, pinoLevelName } from './levels'

export interface MapContext {
  /** app_name for records that carry none of their own; wins over pino's `name`. */
  appName?: string | undefined
}

export type CollectorEvent = Record<string, unknown> & { level: string, message: string, app_name: string }

// Without any app name configured, name the process after its main script: better than a constant,
// and the collector requires one.
const fallbackAppName = (() => {
  const script = process.argv[1]
  return script ? basename(script, extname(script)) : 'node'
})()

/**
 * Maps one record. pino's shape (`msg`, `time`, numeric `level`, `name`) and winston's (`message`,
 * `timestamp`, level names) are both recognised; every other field is kept as it is, child bindings and
 * serialised errors (`err: { type, message, stack }`) included.
 */
export function mapRecord (record: Record<string, unknown>, ctx: MapContext = {}): CollectorEvent {
  const { msg, time, level, ...rest } = record
  const out = rest as CollectorEvent

  const name = typeof level === 'number' ? pinoLevelName(level) : typeof level === 'string' ? levelOfString(level) : undefined
  out.level = name ?? 'info'
  // A level the collector would refuse (a custom label, an object) must not cost the record: ship it as
  // info and keep what the application said.
  if (name === undefined && level !== undefined) out.level_raw = level

  if (typeof out.message !== 'string') {
    if (typeof msg === 'string') out.message = msg
    else if (out.message !== undefined) out.message = stringifyMessage(out.message)
    else if (msg !== undefined) out.message = stringifyMessage(msg)
    else out.message = errorMessage(rest) ?? ''
  } else if (msg !== undefined) {
    // Both present: `message` is the event's text; keep pino's `msg` rather than lose it.
    out.msg = msg
  }

  if (out.timestamp === undefined && (typeof time === 'number' || typeof time === 'string')) out.timestamp = time
  else if (time !== undefined) out.time = time
  // The collector takes ISO 8601 or epoch ms and refuses the record otherwise; a custom format
  // ("27/11/2026 07:00") is kept under timestamp_raw and the collector stamps its own time.
  if (out.timestamp !== undefined && !usableTimestamp(out.timestamp)) {
    out.timestamp_raw = out.timestamp
    delete out.timestamp
  }

  if (typeof out.app_name !== 'string' || out.app_name === '') {
    out.app_name = ctx.appName ?? (typeof rest.name === 'string' && rest.name !== '' ? rest.name : fallbackAppName)
  }
  return out
}

/**
 * Maps one NDJSON line. A line that is not a JSON object (plain text, a number, an array, broken JSON)
 * becomes `{ level: 'info', message: <line> }`: never dropped. Returns null for a blank line.
 */
export function mapLine (line: string, ctx: MapContext = {}): string | null {
  const text = line.endsWith('\r') ? line.slice(0, -1) : line
  if (ctx.appName !== undefined) {
    const fast = fastPinoLine(text, ctx.appName)
    if (fast !== null) return fast
  }
  if (text.trim() === '') return null
  let parsed: unknown
  const first = text.trimStart()[0]
  if (first === '{') {
    try { parsed = JSON.parse(text) } catch { parsed = undefined }
  }
  if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
    return JSON.stringify(mapRecord(parsed as Record<string, unknown>, ctx))
  }
  return JSON.stringify(mapRecord({ level: 'info', message: text }, ctx))
}

function usableTimestamp (value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value)
  return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}(T|$)/.test(value) && !Number.isNaN(Date.parse(value))
}

// pino's default line: {"level":30,"time":1700000000000,<bindings and fields>,"msg":"…"}. msg is the last
// key pino writes, so a line that ends with "msg":"<string>"} has it at the top level (the final brace
// closes the record). For such lines the mapping is a rename at both ends, done on the string: parsing
// and re-serialising was the largest cost in pino's worker. Anything else — other key order, ISO time,
// no msg, fields that would collide with ours — returns null and takes the general path.
const PINO_HEAD = /^\{"level":(\d+),"time":(\d+),/
// Sticky: matched in place from the last ',"msg":"', without slicing the tail off first.
const MSG_TAIL = /,"msg":("(?:[^"\\]|\\.)*")\}$/y
// Only the fields between head and tail can hold a key: inside a JSON string every '"' is escaped.
const OUR_KEYS = /"(?:message|app_name|timestamp)":/

/** `,"app_name":"<appName>"}`, kept for the one appName a shipper has. */
let appNameTail = { appName: '', text: '' }

function fastPinoLine (text: string, appName: string): string | null {
  const head = PINO_HEAD.exec(text)
  if (head === null) return null
  const msgAt = text.lastIndexOf(',"msg":"')
  if (msgAt < 0) return null
  MSG_TAIL.lastIndex = msgAt
  const tail = MSG_TAIL.exec(text)
  if (tail === null) return null
  const middle = text.slice(head[0].length - 1, msgAt)
  if (OUR_KEYS.test(middle)) return null
  if (appNameTail.appName !== appName || appNameTail.text === '') appNameTail = { appName, text: `,"app_name":${JSON.stringify(appName)}}` }
  return '{"level":"' + pinoLevelName(Number(head[1])) + '","timestamp":' + head[2] + middle + ',"message":' + tail[1]! + appNameTail.text
}

function stringifyMessage (value: unknown): string {
  if (typeof value === 'string') return value
  try { return JSON.stringify(value) ?? String(value) } catch { return String(value) }
}

function errorMessage (fields: Record<string, unknown>): string | undefined {
  const err = fields.err ?? fields.error
  if (err !== null && typeof err === 'object' && typeof (err as { message?: unknown }).message === 'string') {
    return (err as { message: string }).message
  }
  return undefined
}
