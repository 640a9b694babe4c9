/**
 * The conversions every provider dialect needs from our OpenAI-like messages: the system prompt
 * split out (Anthropic, Gemini and Bedrock take it apart from the turns), plain text of a message,
 * and inline images from data URLs (the only image form every provider accepts).
 */
import { ProviderError } from '../types.ts';
import type { ChatMessage, ContentPart } from '../types.ts';

export interface SplitMessages {
  /** Every system message's text, joined by blank lines; undefined when there is none. */
  system: string | undefined;
  turns: Array<ChatMessage & { role: 'user' | 'assistant' }>;
}

export function splitSystem(messages: ChatMessage[]): SplitMessages {
  const system: string[] = [];
  const turns: SplitMessages['turns'] = [];
  for (const message of messages) {
    if (message.role === 'system') system.push(textOf(message.content));
    else turns.push(message as SplitMessages['turns'][number]);
  }
  return { system: system.length ? system.join('\n\n') : undefined, turns };
}

/** A message's text, its text parts joined (images have none). */
export function textOf(content: ChatMessage['content']): string {
  if (typeof content === 'string') return content;
  return content
    .filter((part): part is Extract<ContentPart, { type: 'text' }> => part.type === 'text')
    .map((part) => part.text)
    .join('');
}

export function partsOf(content: ChatMessage['content']): ContentPart[] {
  return typeof content === 'string' ? [{ type: 'text', text: content }] : content;
}

export interface InlineImage {
  mediaType: string;
  /** Base64, as in the data URL. */
  data: string;
}

const DATA_URL = /^data:(image\/[a-z0-9.+-]+);base64,(.*)$/is;

/** The image of a `data:image/...;base64,` URL; any other URL is the caller's mistake for this provider. */
export function inlineImage(url: string, provider: string): InlineImage {
  const match = DATA_URL.exec(url);
  if (!match) throw new ProviderError('invalid', `${provider} takes images as base64 data URLs`);
  return { mediaType: match[1]!.toLowerCase(), data: match[2]! };
}
