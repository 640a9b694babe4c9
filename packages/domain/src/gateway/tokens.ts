import { ValidationError } from '../shared/errors.ts';
import { MAX_EMBEDDING_TEXT, MODEL_INPUT_BYTES } from './openai.ts';

/**
 * Embeddings input given as token ids, as OpenAI's API takes it and as clients send it
 * (LangChain's `OpenAIEmbeddings` tokenizes long texts itself and sends the tokens). Our
 * providers take text, so the ids are decoded with cl100k_base: the encoding of OpenAI's
 * embedding models, and the one such clients use for a model they do not know.
 *
 * The vocabulary (a megabyte) is loaded on the first call that sends tokens, in a chunk of its
 * own: no other call, and no cold start, pays for it.
 */

let table: Promise<string[]> | undefined;
/** Each token's bytes, decoded once from `table`. */
const decoded: Buffer[] = [];

/**
 * cl100k_base's tokens by id, each the base64 of its bytes, from js-tiktoken's ranks: lines of
 * `<name> <first id> <token> <token> …`. Only an array of strings (about 10 ms to build): js-tiktoken's
 * own encoder builds both directions' maps, 600 ms, and decoding needs neither.
 */
function cl100k(): Promise<string[]> {
  table ??= import('js-tiktoken/ranks/cl100k_base').then(({ default: ranks }) => {
    const byId: string[] = [];
    for (const line of ranks.bpe_ranks.split('\n')) {
      const [, first, ...tokens] = line.split(' ');
      if (first === undefined) continue;
      const offset = Number(first);
      tokens.forEach((token, i) => (byId[offset + i] = token));
    }
    return byId;
  });
  return table;
}

/**
 * The texts an embeddings input names, and how many tokens they are when the caller counted them
 * (token arrays): its strings as they are, or its token arrays decoded. A byte sequence a token
 * array cuts short (a client's window ending inside a character) decodes to U+FFFD, as tiktoken does.
 * Decoding stops at the first input past a text's limit, or once all of them pass a body's
 * (the limits of `openai.ts`).
 */
export async function embeddingInput(input: string | unknown[]): Promise<{ texts: string[]; tokens?: number }> {
  if (typeof input === 'string') return { texts: [input] };
  if (!input.length || typeof input[0] === 'string') return { texts: input as string[] };
  const arrays = Array.isArray(input[0]) ? (input as number[][]) : [input as number[]];
  const byId = await cl100k();
  let bytes = 0;
  const texts = arrays.map((ids, index) => {
    const parts = ids.map((id) => {
      const token = tokenBytes(byId, id);
      if (!token) throw refused(index, `${id} is not a token of cl100k_base`, 'Not a token id');
      return token;
    });
    const size = parts.reduce((sum, part) => sum + part.length, 0);
    if ((bytes += size) > MODEL_INPUT_BYTES)
      throw refused(index, `The token arrays decode to more than ${MODEL_INPUT_BYTES} bytes of text`, 'Too much text');
    const text = Buffer.concat(parts, size).toString('utf8');
    if (text.length > MAX_EMBEDDING_TEXT)
      throw refused(index, `A token array decodes to more than ${MAX_EMBEDDING_TEXT} characters`, 'Too much text');
    return text;
  });
  return { texts, tokens: arrays.reduce((sum, ids) => sum + ids.length, 0) };
}

function tokenBytes(byId: string[], id: number): Buffer | undefined {
  const cached = decoded[id];
  if (cached) return cached;
  const base64 = byId[id];
  return base64 === undefined ? undefined : (decoded[id] = Buffer.from(base64, 'base64'));
}

const refused = (index: number, detail: string, message: string) =>
  new ValidationError(detail, [{ path: `body.input.${index}`, message }]);
