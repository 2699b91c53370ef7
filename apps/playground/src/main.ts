/**
 * The page: the MNIST run (in a Web Worker; this thread only draws what it
 * posts), the drawing pad, and the two small networks (tiny, so they step
 * here, between frames).
 */
import './style.css';
import { BACKEND_NAMES, type BackendChoice, kernelsLabel, showOffer, speedsHtml } from './backends';
import { type Series, chartWidth, redrawOnResize, renderChart } from './chart';
import { formatNumber, renderNetworkSvg } from './diagram';
import { grayFromRgba, toMnistInput } from './preprocess';
import type { FromWorker, Progress, RunConfig, ToWorker } from './protocol';
import { NOTEBOOK_002, SmallNet, type SmallNetSpec, XOR_281 } from './small-nets';

const $ = <T extends Element = HTMLElement>(selector: string, root: ParentNode = document): T => {
  const element = root.querySelector<T>(selector);
  if (element === null) throw new Error(`playground: the page has no ${selector}`);
  return element;
};

// ---------------------------------------------------------------- MNIST training

const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
const send = (message: ToWorker) => worker.postMessage(message);

const section = $('#mnist');
const trainButton = $<HTMLButtonElement>('#train');
const resetButton = $<HTMLButtonElement>('#reset');
const epochsSelect = $<HTMLSelectElement>('#epochs');
const backendSelect = $<HTMLSelectElement>('#backend');
const status = $('#status');

/** What the chart and the stats show, rebuilt from the worker's messages. */
const run = {
  totalSteps: 0,
  running: false,
  done: false,
  trainLoss: [] as [number, number][],
  trainAccuracy: [] as [number, number][],
  testAccuracy: [] as [number, number][],
  step: 0,
  /** How long the digits took to load, shown until training starts. */
  loaded: '',
  /** The backend the run trains on (from the worker's 'ready'). */
  backend: 'cpu' as BackendChoice,
};

/** The last speed measured on each backend in this tab, kept across resets so the two can be compared. */
const speeds = new Map<BackendChoice, number>();

const config = (): RunConfig => ({ epochs: Number(epochsSelect.value), lr: 0.05, batchSize: 64, seed: 0 });

let chartPending = false;
/** Redraws the chart at the next frame, once however many messages arrive before it. */
function drawChart(): void {
  if (chartPending) return;
  chartPending = true;
  requestAnimationFrame(() => {
    chartPending = false;
    renderTrainingChart();
  });
}

function renderTrainingChart(): void {
  const series: Series[] = [
    { name: 'train loss', color: '#2563eb', axis: 'loss', points: run.trainLoss },
    { name: 'train accuracy', color: '#94a3b8', axis: 'accuracy', points: run.trainAccuracy, dashed: true },
    { name: 'test accuracy', color: '#16a34a', axis: 'accuracy', points: run.testAccuracy, dots: true },
  ];
  const box = $('#chart');
  box.innerHTML = renderChart(series, { width: chartWidth(box), height: 250, maxStep: run.totalSteps });
}

function showProgress(p: Progress): void {
  run.step = p.step;
  run.trainLoss.push([p.step, p.loss]);
  run.trainAccuracy.push([p.step, p.accuracy]);
  $('#stat-step').textContent = `${p.step.toLocaleString('en-US')} / ${p.totalSteps.toLocaleString('en-US')}`;
  $('#stat-epoch').textContent = String(p.epoch);
  $('#stat-loss').textContent = p.loss.toFixed(4);
  $('#stat-lr').textContent = p.lr.toFixed(4);
  $('#stat-speed').textContent = Math.round(p.samplesPerSecond).toLocaleString('en-US');
  if (p.samplesPerSecond > 0) {
    speeds.set(run.backend, p.samplesPerSecond);
    $('#speeds').innerHTML = `${speedsHtml(speeds)} digits/s`;
  }
  drawChart();
}

function showState(): void {
  section.dataset.state = run.running ? 'training' : run.done ? 'done' : 'ready';
  trainButton.textContent = run.running ? 'Pause' : run.step > 0 && !run.done ? 'Resume' : 'Train';
  trainButton.disabled = run.done;
  resetButton.disabled = false;
  status.classList.remove('error');
  status.textContent = run.running
    ? 'Training in a Web Worker…'
    : run.done
      ? `Done: ${run.totalSteps.toLocaleString('en-US')} steps. Reset to train again.`
      : run.step > 0
        ? 'Paused.'
        : `Ready${run.loaded}.`;
}

worker.onmessage = ({ data: message }: MessageEvent<FromWorker>) => {
  switch (message.type) {
    case 'ready':
      Object.assign(run, { totalSteps: message.totalSteps, running: false, done: false, step: 0 });
      run.trainLoss = [];
      run.trainAccuracy = [];
      run.testAccuracy = [];
      $('#summary').textContent = message.summary;
      run.backend = message.choice;
      section.dataset.backend = message.choice;
      backendSelect.value = message.choice;
      $('#stat-backend').textContent = kernelsLabel(message.backend, message.threads, message.adapter);
      $('#stat-speed-on').textContent = `${BACKEND_NAMES[message.choice]}:`;
      $('#stat-step').textContent = `0 / ${message.totalSteps.toLocaleString('en-US')}`;
      for (const id of ['#stat-epoch', '#stat-loss', '#stat-lr', '#stat-speed']) $(id).textContent = '–';
      if (message.loadMs > 0) run.loaded = `: ${(message.trainSize + message.testSize).toLocaleString('en-US')} digits loaded in ${(message.loadMs / 1000).toFixed(1)} s`;
      drawChart();
      showState();
      predictDrawing(); // the drawing, if any, read by the fresh model
      break;
    case 'backends':
      showOffer(backendSelect, message.webgpu);
      break;
    case 'progress':
      showProgress(message.progress);
      break;
    case 'evaluation':
      run.testAccuracy.push([message.evaluation.step, message.evaluation.testAccuracy]);
      $('#stat-test-acc').textContent = `${(100 * message.evaluation.testAccuracy).toFixed(2)}%`;
      drawChart();
      predictDrawing(); // the model changed: read the drawing again
      break;
    case 'state':
      run.running = message.running;
      run.done = message.done;
      showState();
      break;
    case 'prediction':
      if (message.id === predictionId) showProbabilities(message.probabilities);
      break;
    case 'error':
      backendSelect.value = run.backend; // a backend that could not start leaves the choice as it was
      status.textContent = `Error: ${message.message}`;
      status.classList.add('error');
      console.error(`playground worker: ${message.message}`);
      break;
  }
};
worker.onerror = (event) => {
  status.textContent = `The worker failed: ${event.message}`;
  status.classList.add('error');
};

trainButton.addEventListener('click', () => send({ type: run.running ? 'pause' : 'start' }));
const reset = () => send({ type: 'reset', config: config(), backend: backendSelect.value as BackendChoice });
resetButton.addEventListener('click', reset);
epochsSelect.addEventListener('change', reset);
// Another backend: a new run, its model built there.
backendSelect.addEventListener('change', reset);
showOffer(backendSelect, undefined);

send({ type: 'init', dataUrl: new URL('mnist-digits.bin', document.baseURI).href, config: config() });
drawChart();
redrawOnResize($('#chart'), drawChart);

// ---------------------------------------------------------------- Drawing pad

const pad = $<HTMLCanvasElement>('#pad');
const padContext = pad.getContext('2d', { willReadFrequently: true })!;
const preview = $<HTMLCanvasElement>('#preview');
const previewContext = preview.getContext('2d')!;
const probs = $('#probs');
const guess = $('#guess');
let predictionId = 0;
let pending = false;
let drawn = false;

for (let digit = 0; digit < 10; digit++) {
  probs.insertAdjacentHTML(
    'beforeend',
    `<div class="prob" data-digit="${digit}" data-prob="0"><span class="digit">${digit}</span><span class="bar"><span class="fill"></span></span><span class="pct">–</span></div>`,
  );
}

function clearPad(): void {
  padContext.fillStyle = '#000';
  padContext.fillRect(0, 0, pad.width, pad.height);
  previewContext.fillStyle = '#000';
  previewContext.fillRect(0, 0, preview.width, preview.height);
  drawn = false;
  predictionId++; // a prediction still on its way is for the old drawing
  for (const row of probs.querySelectorAll<HTMLElement>('.prob')) {
    row.dataset.prob = '0';
    row.classList.remove('best');
    $('.fill', row).style.width = '0';
    $('.pct', row).textContent = '–';
  }
  guess.textContent = 'Draw something.';
}

/** Reads the pad as MNIST would see it, shows that, and asks the worker for the probabilities. */
function predictDrawing(): void {
  if (!drawn) return;
  const image = padContext.getImageData(0, 0, pad.width, pad.height);
  const input = toMnistInput(grayFromRgba(image.data, pad.width, pad.height), pad.width, pad.height);
  if (input === null) return;
  const small = previewContext.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const v = Math.round(255 * input[i]);
    small.data.set([v, v, v, 255], 4 * i);
  }
  previewContext.putImageData(small, 0, 0);
  send({ type: 'predict', id: ++predictionId, pixels: input });
}

function showProbabilities(probabilities: number[]): void {
  const best = probabilities.indexOf(Math.max(...probabilities));
  probs.querySelectorAll<HTMLElement>('.prob').forEach((row, digit) => {
    const p = probabilities[digit];
    row.dataset.prob = String(p);
    row.classList.toggle('best', digit === best);
    $('.fill', row).style.width = `${(100 * p).toFixed(1)}%`;
    $('.pct', row).textContent = `${(100 * p).toFixed(1)}%`;
  });
  guess.innerHTML = `The network reads <b>${best}</b> (${(100 * probabilities[best]).toFixed(1)}%)${run.step === 0 ? ', untrained: press Train above' : ''}.`;
}

/** At most one prediction a frame while drawing. */
function schedulePrediction(): void {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => {
    pending = false;
    predictDrawing();
  });
}

let last: { x: number; y: number } | null = null;
const padPoint = (event: PointerEvent) => {
  const rect = pad.getBoundingClientRect();
  return { x: ((event.clientX - rect.left) * pad.width) / rect.width, y: ((event.clientY - rect.top) * pad.height) / rect.height };
};
pad.addEventListener('pointerdown', (event) => {
  pad.setPointerCapture(event.pointerId);
  last = padPoint(event);
  // A dot for a tap.
  padContext.fillStyle = '#fff';
  padContext.beginPath();
  padContext.arc(last.x, last.y, 11, 0, 2 * Math.PI);
  padContext.fill();
  drawn = true;
  schedulePrediction();
});
pad.addEventListener('pointermove', (event) => {
  if (last === null) return;
  const point = padPoint(event);
  padContext.strokeStyle = '#fff';
  padContext.lineWidth = 22; // about 2 px once the digit is scaled to 20×20, as MNIST's strokes
  padContext.lineCap = 'round';
  padContext.lineJoin = 'round';
  padContext.beginPath();
  padContext.moveTo(last.x, last.y);
  padContext.lineTo(point.x, point.y);
  padContext.stroke();
  last = point;
  schedulePrediction();
});
const endStroke = () => {
  last = null;
};
pad.addEventListener('pointerup', endStroke);
pad.addEventListener('pointercancel', endStroke);
$('#clear').addEventListener('click', clearPad);
clearPad();

// ---------------------------------------------------------------- Small networks

interface NetView {
  spec: SmallNetSpec;
  root: HTMLElement;
  net: SmallNet;
  /** Neuron values before the last step, for the notebook's chain-rule check. */
  before: number[][] | null;
  sample: number;
}

const fmt = (v: number) => formatNumber(v);
/** The widths a small network is drawn at (SVG units), scaled to its box beyond them. */
const DIAGRAM_WIDTH = { min: 480, max: 640 };

function renderNet(view: NetView): void {
  const { net, root, spec } = view;
  const notebook = spec === NOTEBOOK_002;
  const values = net.neuronValues(view.sample);
  const names = notebook ? [['x1', 'x2'], ['y1', 'y2'], ['y3', 'y4'], []] : [['x1', 'x2'], [], []];
  const output = values[values.length - 1][0];
  const diagram = $('.diagram', root);
  diagram.innerHTML = renderNetworkSvg({
    sizes: spec.sizes,
    activations: net.activations,
    synapses: net.synapses(),
    biases: net.biases(),
    values,
    names,
    outputName: `${notebook ? 'y' : 'ŷ'} = ${Number(output.toPrecision(3))}`,
    // Drawn at the box's width between these bounds, so that its text shrinks
    // little on a phone; the layers' room (diagramWidth, diagramHeight) grows it.
    width: Math.min(DIAGRAM_WIDTH.max, Math.max(DIAGRAM_WIDTH.min, diagram.clientWidth)),
    height: 300,
    marginLeft: 96,
    marginRight: 136,
  });
  const loss = net.loss();
  $('.net-status', root).textContent = `step ${net.steps} · E = ${fmt(loss)}`;
  root.dataset.steps = String(net.steps);
  root.dataset.loss = String(loss);
  renderLossChart(view);
  if (notebook) {
    const rows = net
      .synapses()
      .map((s) => `<tr><td><i>${s.label}</i></td><td>${fmt(s.weight)}</td><td>${s.grad === null ? '–' : fmt(s.grad)}</td></tr>`)
      .join('');
    $('.params', root).innerHTML = `<thead><tr><th>weight</th><th>w</th><th>∂E/∂w (last step)</th></tr></thead><tbody>${rows}</tbody>`;
    showChainRule(view);
  } else {
    const predictions = net.predictions();
    const inputs = net.inputs.data;
    const targets = net.targets.data;
    const rows = predictions
      .map(
        (p, i) =>
          `<tr${i === view.sample ? ' class="shown"' : ''}><td>(${inputs[2 * i]}, ${inputs[2 * i + 1]})</td><td>${targets[i]}</td><td>${p.toFixed(3)}</td><td>${Math.round(p) === targets[i] ? '✓' : '✗'}</td></tr>`,
      )
      .join('');
    $('.xor-table', root).innerHTML = `<thead><tr><th>x1, x2</th><th>target</th><th>output</th><th></th></tr></thead><tbody>${rows}</tbody>`;
  }
}

/** The small network's loss, step by step, at its box's width. */
function renderLossChart({ net, root }: NetView): void {
  const box = $('.loss-chart', root);
  const losses = net.losses.map((v, i) => [i + 1, v] as [number, number]);
  box.innerHTML = renderChart([{ name: 'loss', color: '#2563eb', axis: 'loss', points: losses, dots: losses.length < 40 }], {
    width: chartWidth(box),
    height: 150,
    maxStep: Math.max(10, net.steps),
    accuracyAxis: false,
  });
}

/**
 * The notebook's own check: ∂E/∂w9 = 2(y − y*)·y3 and ∂E/∂w10 = 2(y − y*)·y4
 * by the chain rule, against the gradients backward() filled.
 */
function showChainRule(view: NetView): void {
  const check = $('.check', view.root);
  if (view.before === null) {
    check.textContent = 'Step once to compare the notebook’s chain rule for ∂E/∂w9 and ∂E/∂w10 with backward().';
    return;
  }
  const [, , [y3, y4], [y]] = view.before;
  const target = view.net.targets.data[0];
  const grads = view.net.synapses().filter((s) => s.label === 'w9' || s.label === 'w10');
  const line = (name: string, yi: string, value: number, grad: number) => {
    const ok = Math.abs(value - grad) <= 1e-5 * Math.max(1, Math.abs(grad));
    return `∂E/∂${name} = 2(y − y*)·${yi} = ${fmt(value)}, backward() ${fmt(grad)} <span class="${ok ? 'ok' : ''}">${ok ? '✓' : '✗'}</span>`;
  };
  check.innerHTML = `Chain rule, as the notebook derives it: ${line('w9', 'y3', 2 * (y - target) * y3, grads[0].grad!)}; ${line('w10', 'y4', 2 * (y - target) * y4, grads[1].grad!)}.`;
}

function setupNet(spec: SmallNetSpec, selector: string, lede: (net: SmallNet) => string): void {
  const root = $(selector);
  const view: NetView = { spec, root, net: new SmallNet(spec), before: null, sample: 0 };
  $('.net-lede', root).innerHTML = lede(view.net);
  let animating = 0;
  const step = () => {
    view.before = view.net.neuronValues(0);
    view.net.step();
  };
  $('.step', root).addEventListener('click', () => {
    step();
    renderNet(view);
  });
  $('.run', root).addEventListener('click', () => {
    // One step a frame, so the drawing moves.
    let left = 50;
    const id = ++animating;
    const frame = () => {
      if (id !== animating || left-- <= 0) return;
      step();
      renderNet(view);
      requestAnimationFrame(frame);
    };
    frame();
  });
  $('.reset', root).addEventListener('click', () => {
    animating++;
    view.net = new SmallNet(spec);
    view.before = null;
    renderNet(view);
  });
  const sample = root.querySelector<HTMLSelectElement>('.sample');
  if (sample) {
    for (let i = 0; i < view.net.samples; i++) {
      const x = view.net.inputs.data;
      sample.insertAdjacentHTML('beforeend', `<option value="${i}">x = (${x[2 * i]}, ${x[2 * i + 1]})</option>`);
    }
    sample.addEventListener('change', () => {
      view.sample = Number(sample.value);
      renderNet(view);
    });
  }
  renderNet(view);
  redrawOnResize(root, () => renderNet(view));
}

setupNet(NOTEBOOK_002, '#net-notebook', (net) => {
  const [x1, x2] = net.inputs.data;
  return `As in the notebook: no biases, tanh, one sample x = (${fmt(x1)}, ${fmt(x2)}) with target y* = ${fmt(net.targets.data[0])}, MSE, weights from <code>torch.manual_seed(0)</code>. Each step is plain SGD, w ← w − 0.1·∂E/∂w.`;
});
setupNet(
  XOR_281,
  '#net-xor',
  () =>
    'Eight tanh neurons with biases (a neuron’s tint is its bias), a sigmoid output, binary cross-entropy over the four points, plain SGD with lr 1. No line separates XOR’s classes: the hidden layer has to bend the plane.',
);
