/**
 * The backend in a browser: headless Chromium creates it from
 * `navigator.gpu` (SwiftShader's adapter) and runs the suites of
 * ./browser/suites.ts there (the conformance suite, as the Node test runs
 * it, and more). The page collects their cases; each becomes a case here,
 * under the same describes, which asks the page to run it and fails with
 * its message.
 */
import { afterAll, describe, it } from 'vitest';
import { openBrowserTests } from './browser/chromium';
import type { TestNode } from './browser/protocol';

const browser = await openBrowserTests();
const { vendor, architecture, device, description } = browser.adapter;
console.log(`Chromium ${browser.chromium}, WebGPU adapter: ${JSON.stringify({ vendor, architecture, device, description })}`);

afterAll(() => browser.close());

function mirror(nodes: TestNode[]): void {
  for (const node of nodes) {
    if ('suite' in node) describe(node.suite, () => mirror(node.children));
    else it(node.case, () => browser.run(node.id));
  }
}

describe('in Chromium', () => mirror(browser.tree));
