/**
 * `sampleNamesAsync` of @backprop/data/names (each position's logits read
 * with `await toHost()`, which a GPU needs) for a model in this worker, which
 * may train the model between two of those reads: each forward runs on the
 * model's backend and in eval mode for that forward only, so training in
 * between is not in eval mode. On the CPU the names are `sampleNames`' own.
 */
import { type NameModel, type SampleOptions, type Vocabulary, sampleNamesAsync } from '@backprop/data/names';
import { type Backend, getBackend, toBackend } from '@backprop/ndarray';
import { within } from '../run-on';

export function sampleNamesOn(model: NameModel, vocab: Vocabulary, options: SampleOptions, backend: Backend = getBackend()): Promise<string[]> {
  const onItsBackend: NameModel = {
    config: model.config,
    training: false,
    forward: (ids) =>
      within(backend, () => {
        const wasTraining = model.training;
        model.eval();
        try {
          return model.forward(toBackend(ids));
        } finally {
          model.train(wasTraining);
        }
      }),
    // The mode is the forward's own business here.
    train: () => undefined,
    eval: () => undefined,
  };
  return sampleNamesAsync(onItsBackend, vocab, options);
}
