// A log record's attributes on the direct path (direct-lines.ts): each KeyValue read from its bytes into
// its key and a scalar value, then written into the line the way mapping.ts lays attributes out:
//   - every key plain (no '.'): each as a field of its own, in order;
//   - some key dotted: nested by the dots with mapping.ts's own nest(), run once per sequence of keys on
//     the keys alone (each value stands in as its index), and the tree kept as a plan of steps that the
//     records with the same keys replay with their values.
// Anything else sends the record to the decoded path: a value that is an array or a key-value list, a
// key to rename or too long, an integer-like key (JSON.stringify would move it), a key that is one of
// the event's own fields, a plain key repeated, nesting deeper than MAX_EVENT_DEPTH.
import type { LineBuffer } from '../journal/line-buffer'
import { needsRename } from '../normalise/field-names'
import type { EventLimits } from '../normalise/normalise'
import { nest, OWN_FIELDS } from './mapping'
import { FIXED64, VARINT, type Reader } from './protobuf'

const NONE = 0
const STRING = 1
const BOOL = 2
const INT = 3
const DOUBLE = 4
const BYTES = 5

/** An attribute key seen in this request, and what the line writes for it. */
interface Key {
  /** Unique in the request: plans are found by their keys' ids. */
  id: number
  bytes: Uint8Array
  text: string
  /** `,"key":` */
  json: Buffer
  /** A field name as it is (a plain key). */
  plain: boolean
  /** A key with dots: nested by a plan. */
  dotted: boolean
  /** The record that last used it, to find a plain key repeated. */
  seenIn: number
}

/** One step of a nesting plan: a member's name (`,"a":` or `"a":`) and the value of attribute `index`; or only text (`,"a":{`, `}`). */
interface Step {
  text: Buffer
  /** The attribute whose value follows the text; NO_VALUE for an object's opening or closing. */
  index: number
}

interface Plan {
  keys: Key[]
  steps: Step[]
  /** Field names at every depth. */
  fields: number
}

const NO_VALUE = -1
const CLOSE_STEP: Step = { text: Buffer.from('}'), index: NO_VALUE }
const F = { null: Buffer.from('null'), true: Buffer.from('true'), false: Buffer.from('false') }

const isDigit = (c: number): boolean => c >= 48 && c <= 57

export class DirectAttributes {
  /** The attributes of the record being read. */
  private count = 0
  /** The field names they add to the event, at every depth. */
  fields = 0
  private keys: Key[] = []
  /** Where each KeyValue is in the body. */
  private kvStarts: Int32Array = new Int32Array(32)
  private kvEnds: Int32Array = new Int32Array(32)
  /** Each value's kind, and where its text or bytes are (or its number). */
  private kinds: Int32Array = new Int32Array(32)
  private starts: Int32Array = new Int32Array(32)
  private ends: Int32Array = new Int32Array(32)
  private numbers: Array<number | string> = []
  private plan: Plan | undefined
  private readonly known = new Map<string, Key>()
  /** The key last seen at each attribute index: the records of one request mostly repeat their keys. */
  private readonly slots: Key[] = []
  /** Plans by their keys' ids; null for a sequence of keys that must take the decoded path. */
  private readonly plans = new Map<string, Plan | null>()
  private lastPlan: Plan | undefined
  private record = 0

  constructor (private readonly body: Buffer, private readonly reader: Reader, private readonly limits: EventLimits) {}

  /** Starts a record. */
  begin (): void {
    this.count = 0
  }

  /** The record's next KeyValue is at body[start, end). */
  add (start: number, end: number): void {
    if (this.count === this.kinds.length) this.grow()
    this.kvStarts[this.count] = start
    this.kvEnds[this.count++] = end
  }

  /** Reads the record's KeyValues; false when the record must take the decoded path. */
  read (): boolean {
    this.record++
    const n = this.count
    let dotted = false
    for (let i = 0; i < n; i++) {
      if (!this.keyValue(i, this.kvStarts[i]!, this.kvEnds[i]!)) return false
      if (this.keys[i]!.dotted) dotted = true
    }
    if (!dotted) {
      for (let i = 0; i < n; i++) {
        const key = this.keys[i]!
        if (!key.plain || key.seenIn === this.record) return false
        key.seenIn = this.record
      }
      this.plan = undefined
      this.fields = n
      return true
    }
    this.plan = this.planFor(n)
    if (this.plan === undefined) return false
    this.fields = this.plan.fields
    return true
  }

  /** Writes the attributes read last as the line's fields (each preceded by a comma). */
  write (out: LineBuffer): void {
    const plan = this.plan
    if (plan === undefined) {
      for (let i = 0; i < this.count; i++) {
        out.put(this.keys[i]!.json)
        this.value(out, i)
      }
      return
    }
    for (const step of plan.steps) {
      out.put(step.text)
      if (step.index !== NO_VALUE) this.value(out, step.index)
    }
  }

  /**
   * The KeyValue at body[start, end): its key (the last wins, as in the decoder), and its value's kind and
   * place (the last of its fields wins; a second value declines, as the decoder would read both).
   */
  private keyValue (i: number, start: number, end: number): boolean {
    const r = this.reader
    let keyAt = 0
    let keyEnd = 0
    let valueAt = -1
    let valueEnd = 0
    r.pos = start
    while (r.pos < end) {
      const f = r.tag(end)
      if (f === 1) {
        keyEnd = r.span(end)
        keyAt = r.spanStart
      } else if (f === 2) {
        // The decoder reads (and checks) every value; only the last is read here.
        if (valueAt !== -1) return false
        valueEnd = r.span(end)
        valueAt = r.spanStart
      } else r.skipField(r.wire, end)
    }
    const key = this.keyAt(i, keyAt, keyEnd)
    if (!key.plain && !key.dotted) return false
    this.keys[i] = key
    let kind = NONE
    if (valueAt !== -1) {
      r.pos = valueAt
      while (r.pos < valueEnd) {
        switch (r.tag(valueEnd)) {
          case 1: this.ends[i] = r.span(valueEnd); this.starts[i] = r.spanStart; kind = STRING; break
          case 2: r.expect(VARINT); this.numbers[i] = r.uint32(valueEnd); kind = BOOL; break
          case 3: r.expect(VARINT); this.numbers[i] = r.int64(valueEnd); kind = INT; break
          case 4: r.expect(FIXED64); this.numbers[i] = r.double(valueEnd); kind = DOUBLE; break
          case 5: case 6: return false
          case 7: this.ends[i] = r.span(valueEnd); this.starts[i] = r.spanStart; kind = BYTES; break
          default: r.skipField(r.wire, valueEnd)
        }
      }
    }
    this.kinds[i] = kind
    return true
  }

  /** Attribute i's value as JSON: as mapping.ts writes the decoder's value. */
  private value (out: LineBuffer, i: number): void {
    switch (this.kinds[i]) {
      case STRING: out.jsonText(this.body, this.starts[i]!, this.ends[i]!); break
      case BOOL: out.put(this.numbers[i] !== 0 ? F.true : F.false); break
      // An int64 beyond 2^53 is its decimal text, as a JSON string; so is a double that is not finite.
      case INT:
      case DOUBLE: {
        const n = this.numbers[i]!
        if (typeof n === 'number' && Number.isFinite(n)) out.number(n)
        else out.latin1('"' + String(n) + '"')
        break
      }
      case BYTES: out.latin1('"' + this.body.toString('base64', this.starts[i]!, this.ends[i]!) + '"'); break
      default: out.put(F.null)
    }
  }

  /** The Key of the key bytes body[at, end): the one last seen at `index` when the bytes match. */
  private keyAt (index: number, at: number, end: number): Key {
    const body = this.body
    const slot = this.slots[index]
    if (slot !== undefined && slot.bytes.length === end - at) {
      const bytes = slot.bytes
      let i = 0
      while (i < bytes.length && bytes[i] === body[at + i]) i++
      if (i === bytes.length) return slot
    }
    const text = body.utf8Slice(at, end)
    let key = this.known.get(text)
    if (key === undefined) {
      const plain = this.fieldName(text) && !OWN_FIELDS.has(text)
      // Its parts (and whatever nest() makes of them) are the plan's to check.
      const dotted = text.includes('.')
      key = { id: this.known.size, bytes: body.subarray(at, end), text, json: Buffer.from(',' + JSON.stringify(text) + ':'), plain, dotted, seenIn: 0 }
      this.known.set(text, key)
    }
    this.slots[index] = key
    return key
  }

  /** A name normaliseEvent keeps as it is, and JSON.stringify keeps in its place. */
  private fieldName (name: string): boolean {
    return !needsRename(name) && name.length <= this.limits.maxFieldNameLength && !isDigit(name.charCodeAt(0))
  }

  /** The plan for the keys read last: the one of the record before when they are the same, else made (once, like a refusal). */
  private planFor (n: number): Plan | undefined {
    const last = this.lastPlan
    if (last !== undefined && last.keys.length === n) {
      let i = 0
      while (i < n && last.keys[i] === this.keys[i]) i++
      if (i === n) return last
    }
    const keys = this.keys.slice(0, n)
    // Ids, not texts: texts joined by any separator could read the same for other keys (one holding it).
    const signature = keys.map(k => k.id).join(',')
    let plan = this.plans.get(signature)
    if (plan === undefined) {
      plan = makePlan(keys, this.limits, name => this.fieldName(name)) ?? null
      this.plans.set(signature, plan)
    }
    if (plan === null) return undefined
    this.lastPlan = plan
    return plan
  }

  private grow (): void {
    const copy = (a: Int32Array): Int32Array => { const b = new Int32Array(a.length * 2); b.set(a); return b }
    this.kvStarts = copy(this.kvStarts)
    this.kvEnds = copy(this.kvEnds)
    this.kinds = copy(this.kinds)
    this.starts = copy(this.starts)
    this.ends = copy(this.ends)
  }
}

/**
 * The nesting of `keys` by mapping.ts's nest() (values stand in as their index: the values here are
 * scalars, which nest() treats alike), as steps; undefined when a name in the tree is one normaliseEvent
 * would rename, a top-level one is one of the event's own fields, or the tree nests past the limit.
 */
function makePlan (keys: Key[], limits: EventLimits, fieldName: (name: string) => boolean): Plan | undefined {
  const tree = nest(keys.map((k, i) => ({ key: k.text, value: i })))
  const steps: Step[] = []
  let fields = 0
  // `obj` is a member of an object `depth` levels down from the event (the event's own members are at 0).
  const compile = (obj: Record<string, unknown>, depth: number): boolean => {
    let first = depth > 0
    for (const name of Object.keys(obj)) {
      if (!fieldName(name) || (depth === 0 && OWN_FIELDS.has(name))) return false
      fields++
      const text = (first ? '' : ',') + JSON.stringify(name) + ':'
      first = false
      const v = obj[name]
      if (typeof v === 'number') {
        steps.push({ text: Buffer.from(text), index: v })
        continue
      }
      if (depth + 1 > limits.maxDepth) return false
      steps.push({ text: Buffer.from(text + '{'), index: NO_VALUE })
      if (!compile(v as Record<string, unknown>, depth + 1)) return false
      steps.push(CLOSE_STEP)
    }
    return true
  }
  return compile(tree, 0) ? { keys, steps, fields } : undefined
}
