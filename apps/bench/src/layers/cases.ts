import type { NeuralLayer } from '@backprop/layers';
import type { Generator } from '@backprop/ndarray';
import type { RepeatPlan } from '../stats';

/** A layer class as the bench finds it in @backprop/layers (looked up by name, so an absent one can be skipped). */
// biome-ignore lint/suspicious/noExplicitAny: constructors of different layers take different arguments
export type LayerClass = new (...args: any[]) => NeuralLayer;

/**
 * How one forward runs on both sides: `plain` is `layer(x)`; `recurrent`
 * takes the output sequence (torch's `[0]`); `causal-self-attention` is
 * `mha(x, x, x, attn_mask=triu(ones(L, L), 1) as bool, need_weights=False)`
 * in torch (1.13 has no `is_causal`) and `mha.forward(x, { isCausal: true })`
 * in ours (the same mask; no attention weights kept).
 */
export type CallKind = 'plain' | 'recurrent' | 'causal-self-attention';

/** One row of the layer bench: what is built, on what input, on both sides. */
export interface LayerCase {
  /** torch's class name: ours is looked up under it in @backprop/layers; the `--only` name. */
  name: string;
  /** The constructor call as torch writes it: `LayerNorm(256)`. */
  label: string;
  /** `torch.nn.<cls>(*args, **kwargs)`. */
  torch: { cls: string; args: unknown[]; kwargs: Record<string, unknown> };
  /** Ours: `new Cls(...)` with the same arguments, camelCased options, and the generator. */
  make: (Cls: LayerClass, rng: Generator) => NeuralLayer;
  /** randn of this shape, or, with `indices`, the int indices (31·i + 7) mod `indices`. */
  input: { shape: number[]; indices?: number };
  call: CallKind;
  /** Training mode (dropout off everywhere here; BatchNorm uses the batch statistics). */
  train: boolean;
  /** The seed both sides give `manualSeed` before building the layer and drawing the input and output gradient. */
  seed: number;
  /** How it is warmed up and repeated (the same on both sides). */
  plan: RepeatPlan;
}

/** What the bench passes to torch_layers.py: the case without the TypeScript constructor. */
export type TorchCase = Omit<LayerCase, 'make' | 'plan'>;

export function torchCase(c: LayerCase): TorchCase {
  const { make: _make, plan: _plan, ...rest } = c;
  return rest;
}

/** Sizes of every case; `--quick` shrinks them to tiny ones. */
function sizes(quick: boolean) {
  if (quick) {
    return {
      rows: 8,
      ln: 16,
      img: [2, 8, 4, 4],
      bnC: 8,
      groups: 2,
      act: [8, 32],
      softmax: [4, 8, 8],
      vocab: 11,
      embed: [2, 8],
      embedDim: 16,
      mha: { batch: 2, length: 8, embed: 16, heads: 4 },
      rnn: { batch: 2, length: 5, input: 8, hidden: 16 },
      conv1d: { batch: 2, channels: 8, length: 16 },
      convT: { batch: 2, inC: 8, outC: 4, hw: 4 },
      pool: [2, 8, 7, 7],
    };
  }
  return {
    rows: 64 * 128,
    ln: 256,
    img: [32, 64, 16, 16],
    bnC: 64,
    groups: 8,
    act: [64 * 128, 1024],
    softmax: [64 * 4, 128, 128],
    vocab: 65,
    embed: [64, 128],
    embedDim: 256,
    mha: { batch: 16, length: 128, embed: 256, heads: 4 },
    rnn: { batch: 32, length: 64, input: 128, hidden: 256 },
    conv1d: { batch: 32, channels: 64, length: 256 },
    convT: { batch: 16, inC: 32, outC: 16, hw: 16 },
    pool: [32, 256, 7, 7],
  };
}

/**
 * The repeat plan: in a full run about 2 s of timing per case and side for
 * calls of milliseconds; a call of a second or more runs 4 times (the checked
 * first pass, which is the warm-up, and 3 timed repeats). A few milliseconds
 * with `--quick`.
 */
export function repeatPlan(quick: boolean): RepeatPlan {
  if (quick) return { warmupMs: 0, warmupCalls: 1, repeatMs: 1, repeats: 2, minRepeats: 2, capMs: 20 };
  return { warmupMs: 300, warmupCalls: 1, repeatMs: 200, repeats: 7, minRepeats: 3, capMs: 1_500 };
}

/**
 * The layers of the bench, at the sizes of the brief (batch first): norms on
 * transformer and CNN activations, elementwise activations and softmax over
 * attention scores, a character-level embedding, causal self-attention,
 * recurrent layers over 64 steps, and the convolution family.
 */
export function layerCases(quick: boolean): LayerCase[] {
  const s = sizes(quick);
  const base = { train: true, seed: 0, call: 'plain' as CallKind, plan: repeatPlan(quick) };
  const { mha, rnn, conv1d, convT } = s;
  return [
    {
      ...base,
      name: 'LayerNorm',
      label: `LayerNorm(${s.ln})`,
      torch: { cls: 'LayerNorm', args: [s.ln], kwargs: {} },
      make: (C, rng) => new C(s.ln, { rng }),
      input: { shape: [s.rows, s.ln] },
    },
    {
      ...base,
      name: 'BatchNorm2d',
      label: `BatchNorm2d(${s.bnC}), training`,
      torch: { cls: 'BatchNorm2d', args: [s.bnC], kwargs: {} },
      make: (C, rng) => new C(s.bnC, { rng }),
      input: { shape: s.img },
    },
    {
      ...base,
      name: 'GroupNorm',
      label: `GroupNorm(${s.groups}, ${s.bnC})`,
      torch: { cls: 'GroupNorm', args: [s.groups, s.bnC], kwargs: {} },
      make: (C, rng) => new C(s.groups, s.bnC, { rng }),
      input: { shape: s.img },
    },
    {
      ...base,
      name: 'GELU',
      label: 'GELU()',
      torch: { cls: 'GELU', args: [], kwargs: {} },
      make: (C) => new C(),
      input: { shape: s.act },
    },
    {
      ...base,
      name: 'SiLU',
      label: 'SiLU()',
      torch: { cls: 'SiLU', args: [], kwargs: {} },
      make: (C) => new C(),
      input: { shape: s.act },
    },
    {
      ...base,
      name: 'Softmax',
      label: 'Softmax(dim=-1)',
      torch: { cls: 'Softmax', args: [], kwargs: { dim: -1 } },
      make: (C) => new C({ dim: -1 }),
      input: { shape: s.softmax },
    },
    {
      ...base,
      name: 'Embedding',
      label: `Embedding(${s.vocab}, ${s.embedDim})`,
      torch: { cls: 'Embedding', args: [s.vocab, s.embedDim], kwargs: {} },
      make: (C, rng) => new C(s.vocab, s.embedDim, { rng }),
      input: { shape: s.embed, indices: s.vocab },
    },
    {
      ...base,
      name: 'MultiheadAttention',
      label: `MultiheadAttention(${mha.embed}, ${mha.heads}, batch_first), causal`,
      torch: { cls: 'MultiheadAttention', args: [mha.embed, mha.heads], kwargs: { batch_first: true } },
      make: (C, rng) => new C(mha.embed, mha.heads, { batchFirst: true, rng }),
      input: { shape: [mha.batch, mha.length, mha.embed] },
      call: 'causal-self-attention',
    },
    {
      ...base,
      name: 'LSTM',
      label: `LSTM(${rnn.input}, ${rnn.hidden}, batch_first)`,
      torch: { cls: 'LSTM', args: [rnn.input, rnn.hidden], kwargs: { batch_first: true } },
      make: (C, rng) => new C(rnn.input, rnn.hidden, { batchFirst: true, rng }),
      input: { shape: [rnn.batch, rnn.length, rnn.input] },
      call: 'recurrent',
    },
    {
      ...base,
      name: 'GRU',
      label: `GRU(${rnn.input}, ${rnn.hidden}, batch_first)`,
      torch: { cls: 'GRU', args: [rnn.input, rnn.hidden], kwargs: { batch_first: true } },
      make: (C, rng) => new C(rnn.input, rnn.hidden, { batchFirst: true, rng }),
      input: { shape: [rnn.batch, rnn.length, rnn.input] },
      call: 'recurrent',
    },
    {
      ...base,
      name: 'Conv1d',
      label: `Conv1d(${conv1d.channels}, ${conv1d.channels}, 5, padding=2)`,
      torch: { cls: 'Conv1d', args: [conv1d.channels, conv1d.channels, 5], kwargs: { padding: 2 } },
      make: (C, rng) => new C(conv1d.channels, conv1d.channels, 5, { padding: 2, rng }),
      input: { shape: [conv1d.batch, conv1d.channels, conv1d.length] },
    },
    {
      ...base,
      name: 'ConvTranspose2d',
      label: `ConvTranspose2d(${convT.inC}, ${convT.outC}, 4, stride=2, padding=1)`,
      torch: { cls: 'ConvTranspose2d', args: [convT.inC, convT.outC, 4], kwargs: { stride: 2, padding: 1 } },
      make: (C, rng) => new C(convT.inC, convT.outC, 4, { stride: 2, padding: 1, rng }),
      input: { shape: [convT.batch, convT.inC, convT.hw, convT.hw] },
    },
    {
      ...base,
      name: 'AdaptiveAvgPool2d',
      label: 'AdaptiveAvgPool2d(1)',
      torch: { cls: 'AdaptiveAvgPool2d', args: [1], kwargs: {} },
      make: (C) => new C(1),
      input: { shape: s.pool },
    },
  ];
}
