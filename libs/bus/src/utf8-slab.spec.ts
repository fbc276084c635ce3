import { Utf8Slab } from './utf8-slab';

describe('Utf8Slab', () => {
  it('gives each string its own UTF-8 bytes, as Buffer.from does, across chunk boundaries', () => {
    const slab = new Utf8Slab(64);
    const texts = ['{"a":1}', 'héllo wörld', '€ and 𝄞', 'x'.repeat(15), '', 'plain ascii again'];
    const views = texts.map((t) => slab.encode(t));
    views.forEach((view, i) => expect(view.equals(Buffer.from(texts[i], 'utf8'))).toBe(true));
    // Views written earlier are not overwritten by later ones.
    expect(views.map((v) => v.toString('utf8'))).toEqual(texts);
  });

  it('writes a string too large for a chunk into its own buffer', () => {
    const slab = new Utf8Slab(64);
    const big = 'é'.repeat(100);
    expect(slab.encode(big).toString('utf8')).toBe(big);
    expect(slab.encode('after').toString('utf8')).toBe('after');
  });
});
