// A notification as a Slack incoming-webhook message (issue #21, "slack"):
//
//   Notification ─► slackBody ─► { text, blocks } ─► postJson (the hook URL is a secret: never shown)
//
//   blocks: header "Firing: payments 5xx" · summary (count, window, time range) · the sample events as
//           monospace lines, in as many sections as Slack's 3000-character limit needs · "View in MAAP"
//
// Slack reads mrkdwn: &, < and > are escaped (a message holding "<!channel>" must not ping anyone), and a
// backtick in an event could end the code block early, so it is shown as a look-alike.
import type { ChannelContext, Notification, SendResult } from '../model'
import { postJson } from './http'
import { clipChars, countLine, eventFields, oneLine } from './render'

/** Slack's limits for a message: blocks, a section's text, a header's text, a button's URL. */
export const SLACK_LIMITS = Object.freeze({ blocks: 50, text: 3000, header: 150, url: 3000 })
const MESSAGE_CHARS = 160

/** `text` safe in Slack mrkdwn: the three characters Slack asks to escape. */
export function escapeMrkdwn (text: string): string {
  return text.replace(/[&<>]/g, c => c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;')
}

type Block = Record<string, unknown>

function section (text: string): Block {
  return { type: 'section', text: { type: 'mrkdwn', text } }
}

/** `05-01 10:00:00 ERROR payments  card declined`, escaped for a code block. */
function eventRow (e: Notification['events'][number]): string {
  const f = eventFields(e, MESSAGE_CHARS)
  const time = f.time.length >= 19 ? `${f.time.slice(5, 10)} ${f.time.slice(11, 19)}` : f.time
  return escapeMrkdwn(`${time} ${f.level.padEnd(5)} ${f.app}  ${f.message}`.replace(/`/g, 'ˋ'))
}

/** The sample events as code-block sections, each within Slack's text limit, at most `maxBlocks` of them. */
function eventBlocks (n: Notification, maxBlocks: number): { blocks: Block[], shown: number } {
  const blocks: Block[] = []
  let lines: string[] = []
  let size = 0
  let shown = 0
  const fence = 8 // "```\n" + "\n```"
  for (const e of n.events) {
    const row = clipChars(eventRow(e), SLACK_LIMITS.text - fence)
    if (size + row.length + 1 + fence > SLACK_LIMITS.text) {
      if (blocks.length + 1 >= maxBlocks) break
      blocks.push(section(`\`\`\`\n${lines.join('\n')}\n\`\`\``))
      lines = []
      size = 0
    }
    lines.push(row)
    size += row.length + 1
    shown++
  }
  if (lines.length > 0) blocks.push(section(`\`\`\`\n${lines.join('\n')}\n\`\`\``))
  return { blocks, shown }
}

/** The incoming-webhook body: `text` (the notification for clients without blocks) and `blocks`. */
export function slackBody (n: Notification): { text: string, blocks: Block[] } {
  const name = oneLine(n.alert_name)
  const text = escapeMrkdwn(`[${n.state}] ${name} — ${countLine(n)}`)
  const blocks: Block[] = [
    { type: 'header', text: { type: 'plain_text', text: clipChars(`${n.state === 'firing' ? 'Firing' : 'Resolved'}: ${name}`, SLACK_LIMITS.header), emoji: false } },
    section(clipChars(`*${escapeMrkdwn(countLine(n))}*\n${escapeMrkdwn(`${n.range.from} → ${n.range.to}`)}`, SLACK_LIMITS.text))
  ]
  // Room kept for the "shown of" line and the link.
  const { blocks: events, shown } = eventBlocks(n, SLACK_LIMITS.blocks - blocks.length - 2)
  blocks.push(...events)
  if (shown < n.count) {
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `${shown} of ${n.count} events shown` }] })
  }
  if (n.link.length <= SLACK_LIMITS.url) {
    blocks.push({ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'View in MAAP' }, url: n.link }] })
  } else {
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: 'The link to these events is too long for Slack: open the alert\'s history in MAAP.' }] })
  }
  return { text, blocks }
}

export async function sendSlack (channel: { url: string }, n: Notification, ctx: ChannelContext): Promise<SendResult> {
  return await postJson(channel.url, Buffer.from(JSON.stringify(slackBody(n))), {}, ctx.timeoutMs)
}
