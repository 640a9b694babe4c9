import { describe, expect, it } from 'vitest';
import { Tiktoken } from 'js-tiktoken/lite';
import cl100k from 'js-tiktoken/ranks/cl100k_base';
import { embeddingInput } from '@platform/domain/gateway/tokens';

/** Token arrays in embeddings input, decoded as the texts a client encoded with cl100k_base. */
describe('embeddingInput', () => {
  it('decodes what cl100k_base encoded, whole characters split across tokens included', async () => {
    const encoder = new Tiktoken(cl100k);
    const texts = ['a lighthouse', 'Zoë’s 🌊 at night — 灯台', '  leading spaces\nand lines', 'x'.repeat(500)];
    const arrays = texts.map((t) => encoder.encode(t));
    expect(await embeddingInput(arrays)).toEqual({ texts, tokens: arrays.flat().length });
    expect(await embeddingInput(encoder.encode(texts[1]!))).toEqual({ texts: [texts[1]], tokens: arrays[1]!.length });
  });

  it('stops decoding an input past a text’s 100,000 characters, naming it', async () => {
    // Token 58040 is 128 spaces: 8,192 of them would be a megabyte of text.
    const wide = Array.from({ length: 800 }, () => 58_040);
    await expect(embeddingInput([[64], wide])).rejects.toMatchObject({
      status: 400,
      fieldErrors: [{ path: 'body.input.1', message: 'Too much text' }],
    });
    expect((await embeddingInput([wide.slice(0, 780)])).texts[0]).toHaveLength(99_840);
  });

  it('passes texts through and refuses an id cl100k_base does not have, naming the input', async () => {
    expect(await embeddingInput('as is')).toEqual({ texts: ['as is'] });
    expect(await embeddingInput(['one', 'two'])).toEqual({ texts: ['one', 'two'] });
    await expect(embeddingInput([[64], [100_256]])).rejects.toMatchObject({
      status: 400,
      fieldErrors: [{ path: 'body.input.1', message: 'Not a token id' }],
    });
  });
});
