// The query language's tree: what parse.ts makes of the `query` parameter, once, and what every reader
// evaluates (evaluate.ts), translates (mongo.ts) or mines for needles (implied.ts). Nodes are plain
// frozen data; nothing here runs.

/** A value as written: its text, and what it also reads as. */
export interface Literal {
  readonly text: string
  /** Quoted: a string and nothing else. */
  readonly quoted: boolean
  /** When unquoted text reads as a finite number. */
  readonly number: number | undefined
  /** When unquoted text is true or false. */
  readonly boolean: boolean | undefined
}

/** The fields that hold times (ISO text in the journal, Dates in MongoDB) and compare as times. */
export const TIME_FIELDS: ReadonlySet<string> = new Set(['timestamp', 'received_at'])

export type CompareOp = '=' | '>' | '>=' | '<' | '<='

export type Expr =
  /** Both sides hold. */
  | { readonly kind: 'and', readonly items: readonly Expr[] }
  /** Either side holds. */
  | { readonly kind: 'or', readonly items: readonly Expr[] }
  | { readonly kind: 'not', readonly item: Expr }
  /** `path op value`; `=` with `prefix` set is `path = text*`. */
  | { readonly kind: 'compare', readonly path: readonly string[], readonly op: CompareOp, readonly value: Literal, readonly prefix: boolean }
  /** `path in (a, b, …)`: any of the equalities. */
  | { readonly kind: 'in', readonly path: readonly string[], readonly values: readonly Literal[] }
  | { readonly kind: 'exists', readonly path: readonly string[] }
  /** `path contains text`, or a bare word or quoted phrase (path `message`): case-insensitive substring. */
  | { readonly kind: 'contains', readonly path: readonly string[], readonly text: string }
