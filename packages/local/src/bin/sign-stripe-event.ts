import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { repoRoot } from '../../../../infra/paths.ts';
import { LOCAL_STRIPE_WEBHOOK_SECRET } from '../cloud.ts';
import { bodyOf, resignWebhookEvent, type WebhookEvent } from '../stripe-events.ts';

/**
 * `npm run -s stripe:sign -- [event.json] [--post [url]]`: signs a stored Stripe webhook event
 * (default `events/stripe-webhook.json`) again, now, so that it verifies. The secret is
 * STRIPE_WEBHOOK_SECRET, else the running local cloud's (`.local/dev.json`), else the fixed
 * local one. Prints the Lambda event (for `sam local invoke -e`), or with `--post` sends its
 * body and header to the webhook URL (the local API's by default) and prints the answer.
 */
const args = process.argv.slice(2);
const isUrl = (arg: string) => /^https?:\/\//.test(arg);
const post = args.includes('--post');
const postTo = args.find(isUrl);
const file = args.find((arg) => !arg.startsWith('--') && !isUrl(arg)) ?? 'events/stripe-webhook.json';

const devFile = join(process.env.LOCAL_DIR ?? join(repoRoot, '.local'), 'dev.json');
const dev = existsSync(devFile)
  ? (JSON.parse(readFileSync(devFile, 'utf8')) as { stripe?: { webhookSecret?: string; webhookUrl?: string } })
  : {};
const secret = process.env.STRIPE_WEBHOOK_SECRET ?? dev.stripe?.webhookSecret ?? LOCAL_STRIPE_WEBHOOK_SECRET;

const event = resignWebhookEvent(JSON.parse(readFileSync(resolve(file), 'utf8')) as WebhookEvent, secret);

if (!post) {
  console.log(JSON.stringify(event, null, 2));
} else {
  const url = postTo ?? dev.stripe?.webhookUrl ?? 'http://localhost:3000/v1/webhooks/stripe';
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': event.headers['stripe-signature']! },
    body: bodyOf(event),
  }).catch((error: Error) => {
    console.error(
      `Could not reach ${url} (is \`npm run dev\` running?): ${(error.cause as Error | undefined)?.message ?? error.message}`,
    );
    return undefined;
  });
  if (response) console.log(response.status, await response.text());
  if (!response?.ok) process.exitCode = 1;
}
