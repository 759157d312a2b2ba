// MONGODB_URI as doctor shows it: the hosts, never the credentials; and a scrubber run over everything
// doctor prints, in case a driver message ever quotes the URI or its user and password.
const URI = /^(mongodb(?:\+srv)?):\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?#@]*)/

/** "host:port,host2" (or "name (SRV)"); the URI's scheme when it does not parse. */
export function uriHosts (uri: string): string {
  const m = URI.exec(uri)
  if (m === null) return 'an unparseable URI'
  return m[1] === 'mongodb+srv' ? `${m[4]} (SRV)` : m[4]!
}

function decode (s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

/**
 * Replaces the URI, its user:password and (4 characters or longer, so that a one-letter password does not
 * garble every word) the password alone, raw and percent-decoded, with masked text.
 */
export function redactor (uri: string | undefined): (text: string) => string {
  if (uri === undefined) return text => text
  const m = URI.exec(uri)
  const secrets: Array<[string, string]> = [[uri, `${m?.[1] ?? 'mongodb'}://${m?.[2] !== undefined ? '***@' : ''}${m?.[4] ?? '…'}`]]
  if (m?.[2] !== undefined) {
    secrets.push([m[0].slice(m[1]!.length + 3, m[0].length - m[4]!.length), '***@'])
    for (const password of new Set([m[3], m[3] === undefined ? undefined : decode(m[3])])) {
      if (password !== undefined && password.length >= 4) secrets.push([password, '***'])
    }
  }
  return text => secrets.reduce((t, [secret, mask]) => t.split(secret).join(mask), text)
}
