// The errors contract (fastify's test does the same): every code a package can report is documented
// in its README, as a row of the "Errors" table: | `MAAP_…` | … |.
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'

/** Codes with no README table row of their own. */
export function undocumentedCodes (readmePath: string, codes: readonly string[]): string[] {
  const readme = readFileSync(readmePath, 'utf8')
  return codes.filter(code => !new RegExp(`^\\|\\s*\`${code}\`\\s*\\|`, 'm').test(readme))
}

/** Codes the README's rows name that the package does not have (a renamed or removed code). */
export function unknownCodes (readmePath: string, codes: readonly string[]): string[] {
  const readme = readFileSync(readmePath, 'utf8')
  const rows = [...readme.matchAll(/^\|\s*`(MAAP_[A-Z_]+)`\s*\|/gm)].map(m => m[1]!)
  return rows.filter(code => !codes.includes(code))
}

/** The one test every package runs: its codes and its README's (or errors page's) Errors table name the same codes. */
export function testErrorsDocumented (t: typeof import('tap').default, readmePath: string, codes: readonly string[]): void {
  const doc = basename(readmePath)
  t.test(`every error code is documented in ${doc}, and ${doc} names no other`, async t => {
    t.ok(codes.length > 0)
    t.same(undocumentedCodes(readmePath, codes), [], 'undocumented codes')
    t.same(unknownCodes(readmePath, codes), [], 'documented codes that do not exist')
  })
}
