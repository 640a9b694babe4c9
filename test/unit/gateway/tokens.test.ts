import { describe, expect, it } from 'vitest';
import { Tiktoken } from 'js-tiktoken/lite';
import cl100k from 'js-tiktoken/ranks/cl100k_base';
import { textsOf } from '@platform/domain/gateway/tokens';

/** Token arrays in embeddings input, decoded as the texts a client encoded with cl100k_base. */
describe('textsOf', () => {
  it('decodes what cl100k_base encoded, whole characters split across tokens included', async () => {
    const encoder = new Tiktoken(cl100k);
    const texts = ['a lighthouse', 'Zoë’s 🌊 at night — 灯台', '  leading spaces\nand lines', 'x'.repeat(500)];
    expect(await textsOf(texts.map((t) => encoder.encode(t)))).toEqual(texts);
    expect(await textsOf(encoder.encode(texts[1]!))).toEqual([texts[1]]);
  });

  it('passes texts through and refuses an id cl100k_base does not have, naming the input', async () => {
    expect(await textsOf('as is')).toEqual(['as is']);
    expect(await textsOf(['one', 'two'])).toEqual(['one', 'two']);
    await expect(textsOf([[64], [100_256]])).rejects.toMatchObject({
      status: 400,
      fieldErrors: [{ path: 'body.input.1', message: 'Not a token id' }],
    });
  });
});
