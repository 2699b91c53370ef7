/**
 * Models beyond a chain, written as a user writes them (the layers README
 * shows the same GPT block and ResNet basic block), checked against the same
 * models in PyTorch (tools/torch-fixtures/composite.py): outputs, every
 * gradient, BatchNorm's running statistics, and state dicts saved by PyTorch
 * as safetensors loading as they are.
 */
import { readFileSync } from 'node:fs';
import {
  type DType,
  type NDArray,
  add,
  arange,
  decodeSafetensors,
  encodeSafetensors,
  randn,
  sum,
  TorchGenerator,
} from '@backprop/ndarray';
import { type FixtureTensor, fromFixture } from '@backprop/ndarray/test';
import { describe, expect, it } from 'vitest';
import {
  type BackwardOptions,
  BatchNorm2d,
  Conv2d,
  Embedding,
  GELU,
  LSTM,
  LayerNorm,
  Linear,
  ModuleList,
  MultiheadAttention,
  NeuralLayer,
  ReLU,
  Sequential,
  gradcheck,
} from '../src/index';
import { expectClose, expectInProjBiasGrad, loadFixture } from './helpers';

// ---- The README's GPT block ------------------------------------------------

/** x + attn(ln1(x)), then + mlp(ln2(x)): a pre-LayerNorm GPT block with causal self-attention. */
class Block extends NeuralLayer {
  readonly ln1: LayerNorm;
  readonly attn: MultiheadAttention;
  readonly ln2: LayerNorm;
  readonly mlp: Sequential;

  constructor(dim: number, heads: number, dtype: DType = 'float32') {
    super();
    this.ln1 = new LayerNorm(dim, { dtype });
    this.attn = new MultiheadAttention(dim, heads, { batchFirst: true, dtype });
    this.ln2 = new LayerNorm(dim, { dtype });
    this.mlp = new Sequential(new Linear(dim, 4 * dim, { dtype }), new GELU(), new Linear(4 * dim, dim, { dtype }));
  }

  forward(x: NDArray): NDArray {
    const h = add(x, this.attn.forward(this.ln1.forward(x), { isCausal: true }));
    return add(h, this.mlp.forward(this.ln2.forward(h)));
  }

  backward(outputGrad: NDArray): NDArray {
    // Each residual sums the gradient that skips the branch and the one through it.
    const h = add(outputGrad, this.ln2.backward(this.mlp.backward(outputGrad)));
    return add(h, this.ln1.backward(this.attn.backward(h)));
  }
}

// ---- The README's ResNet basic block ---------------------------------------

/** relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), with torchvision's child names. */
class BasicBlock extends NeuralLayer {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly relu = new ReLU();
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly downsample: Sequential | null = null;
  readonly relu2 = new ReLU(); // a layer caches its last call, so the second ReLU is its own instance

  constructor(inPlanes: number, planes: number, stride = 1, dtype: DType = 'float32') {
    super();
    this.conv1 = new Conv2d(inPlanes, planes, 3, { stride, padding: 1, bias: false, dtype });
    this.bn1 = new BatchNorm2d(planes, { dtype });
    this.conv2 = new Conv2d(planes, planes, 3, { padding: 1, bias: false, dtype });
    this.bn2 = new BatchNorm2d(planes, { dtype });
    if (stride !== 1 || inPlanes !== planes) {
      this.downsample = new Sequential(
        new Conv2d(inPlanes, planes, 1, { stride, bias: false, dtype }),
        new BatchNorm2d(planes, { dtype }),
      );
    }
  }

  forward(x: NDArray): NDArray {
    const body = this.bn2.forward(this.conv2.forward(this.relu.forward(this.bn1.forward(this.conv1.forward(x)))));
    const shortcut = this.downsample === null ? x : this.downsample.forward(x);
    return this.relu2.forward(add(body, shortcut));
  }

  backward(outputGrad: NDArray): NDArray {
    const g = this.relu2.backward(outputGrad);
    const body = this.conv1.backward(this.bn1.backward(this.relu.backward(this.conv2.backward(this.bn2.backward(g)))));
    return add(body, this.downsample === null ? g : this.downsample.backward(g));
  }
}

// ---- Language models whose state dicts PyTorch wrote ------------------------

class TinyGPT extends NeuralLayer {
  readonly tok: Embedding;
  readonly pos: Embedding;
  readonly blocks: ModuleList;
  readonly ln_f: LayerNorm;
  readonly head: Linear;

  constructor(vocab: number, context: number, dim: number, heads: number, layers: number, dtype: DType) {
    super();
    this.tok = new Embedding(vocab, dim, { dtype });
    this.pos = new Embedding(context, dim, { dtype });
    this.blocks = new ModuleList(Array.from({ length: layers }, () => new Block(dim, heads, dtype)));
    this.ln_f = new LayerNorm(dim, { dtype });
    this.head = new Linear(dim, vocab, { dtype });
  }

  forward(idx: NDArray): NDArray {
    const positions = arange(0, idx.shape[1], 1, { dtype: 'int32' });
    let x = add(this.tok.forward(idx), this.pos.forward(positions));
    for (const block of this.blocks) x = block.forward(x);
    return this.head.forward(this.ln_f.forward(x));
  }

  // Token ids have no gradient: backward adds the parameters' gradients and returns nothing.
  override backward(outputGrad: NDArray): NDArray;
  override backward(outputGrad: NDArray, options?: BackwardOptions): NDArray | undefined;
  override backward(outputGrad: NDArray): NDArray | undefined {
    let g = this.ln_f.backward(this.head.backward(outputGrad));
    for (const block of [...this.blocks].reverse()) g = block.backward(g);
    this.tok.backward(g, { inputGrad: false });
    this.pos.backward(sum(g, 0), { inputGrad: false }); // positions broadcast over the batch
    return undefined;
  }
}

class LSTMLM extends NeuralLayer {
  readonly embed: Embedding;
  readonly lstm: LSTM;
  readonly head: Linear;

  constructor(vocab: number, dim: number, hidden: number, layers: number, dtype: DType) {
    super();
    this.embed = new Embedding(vocab, dim, { dtype });
    this.lstm = new LSTM(dim, hidden, { numLayers: layers, batchFirst: true, dtype });
    this.head = new Linear(hidden, vocab, { dtype });
  }

  forward(idx: NDArray): NDArray {
    return this.head.forward(this.lstm.forward(this.embed.forward(idx)));
  }

  override backward(outputGrad: NDArray): NDArray;
  override backward(outputGrad: NDArray, options?: BackwardOptions): NDArray | undefined;
  override backward(outputGrad: NDArray): NDArray | undefined {
    this.embed.backward(this.lstm.backward(this.head.backward(outputGrad)), { inputGrad: false });
    return undefined;
  }
}

// ---- Checks ----------------------------------------------------------------

interface CompositeCase {
  name: string;
  dtype: DType;
  input: FixtureTensor;
  output: FixtureTensor;
  outputGrad: FixtureTensor;
  inputGrad?: FixtureTensor;
  paramGrads: Record<string, FixtureTensor>;
}
interface BlockCase extends CompositeCase {
  buffersAfter: Record<string, FixtureTensor>;
}
interface LanguageModelCase extends CompositeCase {
  file: string;
  vocab: number;
  context: number;
  keys: string[];
}

const fixture = loadFixture<{
  blocks: BlockCase[];
  initialStates: Record<string, Record<string, FixtureTensor>>;
  languageModels: LanguageModelCase[];
}>('composite');

function makeBlock(name: string, dtype: DType): NeuralLayer {
  switch (name) {
    case 'gpt block':
      return new Block(8, 2, dtype);
    case 'resnet basic block':
      return new BasicBlock(4, 4, 1, dtype);
    default:
      return new BasicBlock(4, 6, 2, dtype);
  }
}

function stateOf(tensors: Record<string, FixtureTensor>): Record<string, NDArray> {
  return Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, fromFixture(t)]));
}

function expectGrads(model: NeuralLayer, c: CompositeCase, label: string): void {
  const named = model.namedParameters();
  expect(named.map(([name]) => name)).toEqual(Object.keys(c.paramGrads));
  for (const [name, parameter] of named) {
    if (name.endsWith('in_proj_bias')) expectInProjBiasGrad(parameter.grad, c.paramGrads[name], `${label} ${name}`);
    else expectClose(parameter.grad, c.paramGrads[name], `${label} ${name}.grad`);
  }
}

describe('a GPT block and a ResNet basic block written by hand equal PyTorch', () => {
  it.each(fixture.blocks.map((c) => [`${c.name} ${c.dtype}`, c] as const))('%s', (label, c) => {
    const block = makeBlock(c.name, c.dtype);
    const initial = fixture.initialStates[c.name];
    expect(Object.keys(block.stateDict())).toEqual(Object.keys(initial));
    block.loadStateDict(stateOf(initial));
    const output = block.forward(fromFixture(c.input));
    expectClose(output, c.output, `${label} output`);
    const inputGrad = block.backward(fromFixture(c.outputGrad));
    expectClose(inputGrad, c.inputGrad as FixtureTensor, `${label} input grad`);
    expectGrads(block, c, label);
    const buffers = Object.fromEntries(block.namedBuffers());
    for (const [name, expected] of Object.entries(c.buffersAfter)) {
      if (name.endsWith('num_batches_tracked')) expect(buffers[name].data[0], name).toBe(expected.data[0]);
      else expectClose(buffers[name], expected, `${label} ${name}`);
    }
  });

  it.each([
    ['gpt block', () => new Block(4, 2, 'float64'), [2, 3, 4]],
    ['resnet basic block, downsample', () => new BasicBlock(2, 3, 2, 'float64'), [2, 2, 4, 4]],
  ] as const)('%s: gradcheck', (_name, make, shape) => {
    // Small sizes: finite differences run two forward passes per parameter entry.
    // BatchNorm in training mode normalises by the batch statistics, a smooth function of the input.
    const result = gradcheck(make(), randn([...shape], { dtype: 'float64', rng: new TorchGenerator(0) }));
    expect(result.ok, JSON.stringify(result.worst)).toBe(true);
  });
});

describe('state dicts PyTorch saved as safetensors load as they are', () => {
  it.each(fixture.languageModels.map((c) => [`${c.name} ${c.dtype}`, c] as const))('%s', (label, c) => {
    const model =
      c.name === 'tiny-gpt' ? new TinyGPT(c.vocab, c.context, 8, 2, 2, c.dtype) : new LSTMLM(c.vocab, 6, 8, 2, c.dtype);
    const bytes = readFileSync(new URL(`./fixtures/${c.file}`, import.meta.url));
    const { tensors } = decodeSafetensors(bytes);
    expect(Object.keys(model.stateDict())).toEqual(c.keys);
    expect(model.loadStateDict(tensors)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    const logits = model.forward(fromFixture(c.input));
    expectClose(logits, c.output, `${label} logits`);
    model.backward(fromFixture(c.outputGrad));
    expectGrads(model, c, label);
    // And the other way round: what we write is what PyTorch wrote, key for key and bit for bit.
    const again = decodeSafetensors(encodeSafetensors(model.stateDict())).tensors;
    for (const [key, value] of Object.entries(tensors)) {
      expect(Array.from(again[key].data as ArrayLike<number>), key).toEqual(Array.from(value.data as ArrayLike<number>));
    }
  });
});
