/**
 * The backend choice both pages offer, and how they show it: what the
 * workers tell the page about WebGPU, the labels of the choice, and the line
 * that keeps the last speed measured on each backend in this browser.
 */

/** Where a run trains: ndarray's CPU kernels (WebAssembly SIMD) or @backprop/webgpu. */
export type BackendChoice = 'cpu' | 'webgpu';

export const BACKEND_CHOICES: readonly BackendChoice[] = ['cpu', 'webgpu'];

/** What a worker found when it asked for WebGPU. */
export type WebGpuOffer =
  | { available: true; /** The adapter, as its info describes it (vendor, architecture, description); may be empty. */ adapter: string }
  | { available: false; /** Why not, e.g. "not available in this browser". */ reason: string };

/** The short name of a backend, as the speed figures are labelled. */
export const BACKEND_NAMES: Record<BackendChoice, string> = { cpu: 'CPU', webgpu: 'WebGPU' };

/** The choice's label in the select: "CPU (WebAssembly)", "WebGPU", or "WebGPU: <why not>". */
export function choiceLabel(choice: BackendChoice, offer?: WebGpuOffer): string {
  if (choice === 'cpu') return 'CPU (WebAssembly)';
  if (offer === undefined) return 'WebGPU: checking…';
  return offer.available ? 'WebGPU' : `WebGPU: ${offer.reason}`;
}

/** The kernels a run's ops are on, for the stats: "WebAssembly SIMD, 2 threads", "TypeScript", "WebGPU (adapter)". */
export function kernelsLabel(backend: string, threads = 1, adapter = ''): string {
  if (backend === 'wasm') return `WebAssembly SIMD${threads > 1 ? `, ${threads} threads` : ''}`;
  if (backend === 'js') return 'TypeScript';
  return adapter === '' ? 'WebGPU' : `WebGPU (${adapter})`;
}

const format = (n: number) => Math.round(n).toLocaleString('en-US');

/**
 * The last speed measured on each backend, as HTML: "CPU 4,100 · WebGPU 950",
 * each figure a span with `data-backend` and `data-value` (for the tests);
 * empty before anything was measured.
 */
export function speedsHtml(speeds: ReadonlyMap<BackendChoice, number>): string {
  return BACKEND_CHOICES.filter((choice) => speeds.has(choice))
    .map((choice) => {
      const value = speeds.get(choice) as number;
      return `<span data-backend="${choice}" data-value="${value}">${BACKEND_NAMES[choice]} <b>${format(value)}</b></span>`;
    })
    .join(' · ');
}

/**
 * Fills the page's backend select (`option[value=cpu|webgpu]`) for what the
 * worker offers: WebGPU enabled where it started, else disabled with the
 * reason (also the select's tooltip).
 */
export function showOffer(select: HTMLSelectElement, offer: WebGpuOffer | undefined): void {
  for (const option of select.options) {
    const choice = option.value as BackendChoice;
    option.textContent = choiceLabel(choice, offer);
    if (choice === 'webgpu') option.disabled = offer?.available !== true;
  }
  select.title =
    offer === undefined
      ? 'Checking whether this browser has WebGPU…'
      : offer.available
        ? `WebGPU${offer.adapter === '' ? '' : `: ${offer.adapter}`}`
        : `WebGPU: ${offer.reason}`;
}
