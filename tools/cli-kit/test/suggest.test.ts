import { describe, expect, it } from 'vitest';
import { didYouMean, suggest } from '../src/index';

const FLAGS = ['model', 'epochs', 'batch-size', 'lr', 'optimizer', 'seed', 'threads', 'out', 'eval', 'help'];

describe('suggest', () => {
  it('finds the flag a typo meant: a swap, a missing, extra or wrong character', () => {
    expect(suggest('modle', FLAGS)).toBe('model');
    expect(suggest('epoch', FLAGS)).toBe('epochs');
    expect(suggest('batchsize', FLAGS)).toBe('batch-size');
    expect(suggest('batch_size', FLAGS)).toBe('batch-size');
    expect(suggest('optimiser', FLAGS)).toBe('optimizer');
    expect(suggest('thread', FLAGS)).toBe('threads');
    expect(suggest('Model', FLAGS)).toBe('model');
  });

  it('finds enumerated values', () => {
    expect(suggest('cnm', ['mlp', 'cnn'])).toBe('cnn');
    expect(suggest('adm', ['sgd', 'adam', 'adamw'])).toBe('adam');
    expect(suggest('tranformer', ['bigram', 'mlp', 'lstm', 'transformer'])).toBe('transformer');
    expect(suggest('CNN', ['mlp', 'cnn'])).toBe('cnn');
  });

  it('suggests nothing when no name is close', () => {
    expect(suggest('x', FLAGS)).toBeUndefined();
    expect(suggest('lbfgs', ['sgd', 'adam', 'adamw'])).toBeUndefined();
    expect(suggest('verbose', FLAGS)).toBeUndefined();
    expect(suggest('', FLAGS)).toBeUndefined();
    expect(suggest('model', [])).toBeUndefined();
  });

  it('keeps the first of equally close names, as listed', () => {
    expect(suggest('ab', ['ax', 'xb'])).toBe('ax');
    expect(suggest('ab', ['xb', 'ax'])).toBe('xb');
  });

  it('rejects arguments of the wrong type, naming them', () => {
    expect(() => suggest(3 as unknown as string, FLAGS)).toThrow('suggest: given must be a string, got number');
    expect(() => suggest('a', 'model' as unknown as string[])).toThrow('suggest: known must be an array of strings');
    expect(() => suggest('a', [1] as unknown as string[])).toThrow('suggest: known must be an array of strings');
  });
});

describe('didYouMean', () => {
  it('renders the suggestion as the user would type it, or says nothing', () => {
    expect(didYouMean('modle', FLAGS, (flag) => `--${flag}`)).toBe(' (did you mean --model?)');
    expect(didYouMean('cnm', ['mlp', 'cnn'], (value) => `'${value}'`)).toBe(" (did you mean 'cnn'?)");
    expect(didYouMean('cnm', ['mlp', 'cnn'])).toBe(' (did you mean cnn?)');
    expect(didYouMean('x', FLAGS, (flag) => `--${flag}`)).toBe('');
  });
});
