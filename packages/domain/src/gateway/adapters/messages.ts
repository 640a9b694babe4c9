/**
 * The conversions every provider dialect needs from our OpenAI-like messages: the system prompt
 * split out (Anthropic, Gemini and Bedrock take it apart from the turns), turns that alternate
 * (Anthropic, Bedrock and Gemini), stop sequences Anthropic's models accept, plain text of a
 * message, and inline images from data URLs (the only image form every provider accepts).
 */
import { UnsupportedError } from '../types.ts';
import type { ChatMessage, ContentPart } from '../types.ts';

export interface SplitMessages {
  /** Every system message's text, joined by blank lines; undefined when there is none. */
  system: string | undefined;
  turns: Array<ChatMessage & { role: 'user' | 'assistant' }>;
}

/**
 * Blank text: Anthropic, Bedrock and Gemini refuse it as a text block; it says nothing as a system
 * prompt; Anthropic's models refuse it as a stop sequence.
 */
const isBlank = (text: string) => text.trim() === '';

export function splitSystem(messages: ChatMessage[]): SplitMessages {
  const system: string[] = [];
  const turns: SplitMessages['turns'] = [];
  for (const message of messages) {
    if (message.role !== 'system') turns.push(message as SplitMessages['turns'][number]);
    else if (!isBlank(textOf(message.content))) system.push(textOf(message.content));
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

export interface Turn {
  role: 'user' | 'assistant';
  /** Never empty, and no text part is blank. */
  parts: ContentPart[];
}

export interface Conversation {
  system: string | undefined;
  /** At least one; they alternate, starting with the user's. */
  turns: Turn[];
}

/** The user's turn put before a conversation that opens with the assistant's (a greeting). */
export const OPENING_TURN = '(conversation start)';

/**
 * The turns as Anthropic's Messages API and Bedrock's Converse require them, where OpenAI takes
 * any order: they refuse an empty or blank text block, turns that do not alternate, a first turn
 * that is not the user's, and no turn at all (Gemini refuses an empty text part and no content
 * too, so it is sent the same turns). So blank text parts are dropped (and a turn left
 * with nothing), consecutive turns of one role are merged into one (their parts in order), an
 * assistant-first conversation gets a minimal user turn before it, and a request that is only a
 * system prompt sends that prompt as the user's turn. A request with no text or image at all is
 * what these providers cannot take (OpenAI's can): refused before anything is sent (`UnsupportedError`).
 */
export function alternatingTurns(messages: ChatMessage[], provider: string): Conversation {
  const { system, turns } = splitSystem(messages);
  const merged: Turn[] = [];
  for (const { role, content } of turns) {
    const parts = partsOf(content).filter((part) => part.type !== 'text' || !isBlank(part.text));
    if (!parts.length) continue;
    const last = merged.at(-1);
    if (last?.role === role) last.parts.push(...parts);
    else merged.push({ role, parts });
  }
  if (!merged.length) {
    if (!system) throw new UnsupportedError(`${provider} needs a message with some text or an image`, 'messages');
    // Moved rather than copied: the prompt is the request to answer, and is not billed twice.
    return { system: undefined, turns: [{ role: 'user', parts: [{ type: 'text', text: system }] }] };
  }
  if (merged[0]!.role === 'assistant') merged.unshift({ role: 'user', parts: [{ type: 'text', text: OPENING_TURN }] });
  return { system, turns: merged };
}

/**
 * The stop sequences Anthropic's models (direct or on Bedrock) accept: they refuse the whole call
 * for one that is only whitespace (`stop: ["\n"]`, common from completion-style clients), so those
 * are dropped and the others kept; undefined when none is left. The answer may then run past
 * where the dropped sequence would have stopped it, which the client can cut; a refusal it cannot.
 */
export function nonBlankStops(stop: string[] | undefined): string[] | undefined {
  const kept = stop?.filter((sequence) => !isBlank(sequence));
  return kept?.length ? kept : undefined;
}

export interface InlineImage {
  mediaType: string;
  /** Base64, as in the data URL. */
  data: string;
}

const DATA_URL = /^data:(image\/[a-z0-9.+-]+);base64,(.*)$/is;

/** Media types clients write that providers know by another name (Anthropic takes image/jpeg only). */
const MEDIA_TYPE_ALIASES: Record<string, string> = { 'image/jpg': 'image/jpeg' };

/**
 * The image of a `data:image/...;base64,` URL; any other URL (an https one, which OpenAI's models
 * fetch) is what this provider cannot take: refused before anything is sent (`UnsupportedError`).
 */
export function inlineImage(url: string, provider: string): InlineImage {
  const match = DATA_URL.exec(url);
  if (!match) throw new UnsupportedError(`${provider} takes images as base64 data URLs`, 'messages');
  const mediaType = match[1]!.toLowerCase();
  return { mediaType: MEDIA_TYPE_ALIASES[mediaType] ?? mediaType, data: match[2]! };
}

/**
 * What a provider sent `alternatingTurns` cannot take of a conversation, checked before anything is
 * sent (its adapter's `checkChat`) by the rules its requests are built with: turns with some text
 * or an image, each image inline, and read by `image` (the provider's own rule for one, its formats).
 */
export function checkConversation(
  messages: ChatMessage[],
  provider: string,
  image: (inline: InlineImage) => void = () => undefined,
): void {
  for (const turn of alternatingTurns(messages, provider).turns)
    for (const part of turn.parts) if (part.type === 'image_url') image(inlineImage(part.image_url.url, provider));
}
