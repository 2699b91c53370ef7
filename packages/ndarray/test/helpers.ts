/**
 * ndarray's fixture plumbing; tolerances, relative error, seeded test data
 * and the assertions are `@backprop/ndarray/test`'s (src/testing), shared by
 * every package.
 */
import { readFixture } from '../src/testing/index';

export { type FixtureTensor, assertClose, fromFixture, randomArray, testRandom } from '../src/testing/index';

export function loadFixture<T>(name: string): T {
  return readFixture<T>(new URL(`./fixtures/${name}.json`, import.meta.url));
}
