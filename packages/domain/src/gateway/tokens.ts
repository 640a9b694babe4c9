import { ValidationError } from '../shared/errors.ts';

/**
 * Embeddings input given as token ids, as OpenAI's API takes it and as clients send it
 * (LangChain's `OpenAIEmbeddings` tokenizes long texts itself and sends the tokens). Our
 * providers take text, so the ids are decoded with cl100k_base: the encoding of OpenAI's
 * embedding models, and the one such clients use for a model they do not know.
 *
 * The vocabulary (a megabyte) is loaded on the first call that sends tokens, in a chunk of its
 * own: no other call, and no cold start, pays for it.
 */

/** cl100k_base's ordinary tokens are 0…100255; its special tokens (`<|endoftext|>`, …) are not text. */
export const MAX_TOKEN_ID = 100_255;
/** The most tokens one input holds, as for OpenAI's embedding models. */
export const MAX_INPUT_TOKENS = 8_192;

let table: Promise<string[]> | undefined;

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

/** The texts an embeddings input names: its strings as they are, or its token arrays decoded. */
export async function textsOf(input: string | string[] | number[] | number[][]): Promise<string[]> {
  if (typeof input === 'string') return [input];
  if (!input.length || typeof input[0] === 'string') return input as string[];
  const arrays = typeof input[0] === 'number' ? [input as number[]] : (input as number[][]);
  const byId = await cl100k();
  return arrays.map((tokens, index) =>
    Buffer.concat(
      tokens.map((id) => {
        const token = byId[id];
        if (token === undefined)
          throw new ValidationError(`${id} is not a token of cl100k_base`, [
            { path: `body.input.${index}`, message: 'Not a token id' },
          ]);
        return Buffer.from(token, 'base64');
      }),
    ).toString('utf8'),
  );
}
