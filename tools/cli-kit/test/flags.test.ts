import { describe, expect, it } from 'vitest';
import { UsageError, choiceFlag, exitCodeFor, integerFlag, printable, stretch } from '../src/index';

describe('integerFlag and choiceFlag', () => {
  it('take a value in range or among the choices', () => {
    expect(integerFlag('epochs', ' +12 ', 1, 1000)).toBe(12);
    expect(choiceFlag('model', 'cnn', ['mlp', 'cnn'])).toBe('cnn');
  });

  it('refuse anything else with a UsageError (exit code 2) naming the flag and the value', () => {
    expect(() => integerFlag('epochs', '1.5', 1, 1000)).toThrow(new UsageError("--epochs must be an integer from 1 to 1000, got '1.5'"));
    expect(() => integerFlag('epochs', '0', 1, 1000)).toThrow(/from 1 to 1000, got '0'/);
    expect(() => choiceFlag('model', 'cnm', ['mlp', 'cnn'])).toThrow("--model must be one of mlp, cnn, got 'cnm' (did you mean 'cnn'?)");
    expect(new UsageError('x').exitCode).toBe(2);
  });
});

describe('printable', () => {
  it('shows control characters and bidirectional overrides escaped, and keeps the rest', () => {
    expect(printable('a\x1b[2Jb\nc\u202ed é')).toBe('a\\x1b[2Jb\\x0ac\\u202ed é');
  });
});

describe('exitCodeFor', () => {
  class FileError extends Error {}
  const stderr = () => {
    const lines: string[] = [];
    return { lines, write: (text: string) => lines.push(text) };
  };

  it('2 and the --help hint for a usage error, 1 and one printable line for an expected one, and throws anything else', () => {
    const usage = stderr();
    expect(exitCodeFor('mnist', new UsageError('unknown flag --x'), usage, [FileError])).toBe(2);
    expect(usage.lines).toEqual(['mnist: unknown flag --x\nRun with --help for usage.\n']);
    const file = stderr();
    expect(exitCodeFor('mnist', new FileError('bad name\x1b[2J'), file, [FileError])).toBe(1);
    expect(file.lines).toEqual(['mnist: bad name\\x1b[2J\n']);
    const bug = new TypeError('a bug');
    expect(() => exitCodeFor('mnist', bug, stderr(), [FileError])).toThrow(bug);
  });
});

describe('stretch', () => {
  it('interpolates a few points onto a width, and repeats a single one', () => {
    expect(stretch([0, 2], 5)).toEqual([0, 0.5, 1, 1.5, 2]);
    expect(stretch([3], 3)).toEqual([3, 3, 3]);
    expect(stretch([], 2)).toEqual([0, 0]);
  });
});
