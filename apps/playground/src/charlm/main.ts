/**
 * The character-LM page (charlm.html): the live run in a Web Worker
 * (src/charlm/worker.ts; this thread only draws what it posts) and names
 * from a model file written by `pnpm charlm`, read by the same worker.
 */
import '../style.css';
import './charlm.css';
import { BACKEND_NAMES, type BackendChoice, kernelsLabel, showOffer, speedsHtml } from '../backends';
import { type Series, chartWidth, redrawOnResize, renderChart } from '../chart';
import { type FromNamesWorker, MAX_MODEL_FILE_BYTES, type NamesProgress, type NamesRunConfig, type SampleRequest, type ToNamesWorker } from './protocol';

const $ = <T extends Element = HTMLElement>(selector: string): T => {
  const element = document.querySelector<T>(selector);
  if (element === null) throw new Error(`playground: the page has no ${selector}`);
  return element;
};

const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
const send = (message: ToNamesWorker, transfer: Transferable[] = []) => worker.postMessage(message, transfer);

const section = $('#charlm');
const trainButton = $<HTMLButtonElement>('#train');
const resetButton = $<HTMLButtonElement>('#reset');
const stepsSelect = $<HTMLSelectElement>('#steps');
const backendSelect = $<HTMLSelectElement>('#backend');
const status = $('#status');

const run = {
  totalSteps: 0,
  step: 0,
  running: false,
  done: false,
  trainLoss: [] as [number, number][],
  valLoss: [] as [number, number][],
  loaded: '',
  /** The backend the run trains on (from the worker's 'ready'). */
  backend: 'cpu' as BackendChoice,
};

/** The last speed measured on each backend in this tab, kept across resets so the two can be compared. */
const speeds = new Map<BackendChoice, number>();

const config = (): NamesRunConfig => ({ steps: Number(stepsSelect.value), seed: 0 });
const escapeHtml = (text: string) => text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
const nameItems = (names: readonly string[]) =>
  names.map((name) => (name === '' ? '<li class="empty">(empty)</li>' : `<li>${escapeHtml(name)}</li>`)).join('');

let chartPending = false;
function drawChart(): void {
  if (chartPending) return;
  chartPending = true;
  requestAnimationFrame(() => {
    chartPending = false;
    const series: Series[] = [
      { name: 'train loss', color: '#2563eb', axis: 'loss', points: run.trainLoss },
      { name: 'validation loss', color: '#16a34a', axis: 'loss', points: run.valLoss, dots: true },
    ];
    const box = $('#chart');
    box.innerHTML = renderChart(series, { width: chartWidth(box), height: 250, maxStep: run.totalSteps, accuracyAxis: false });
  });
}

function showProgress(p: NamesProgress): void {
  run.step = p.step;
  run.trainLoss.push([p.step, p.loss]);
  $('#stat-step').textContent = `${p.step.toLocaleString('en-US')} / ${p.totalSteps.toLocaleString('en-US')}`;
  $('#stat-loss').textContent = p.loss.toFixed(4);
  $('#stat-lr').textContent = p.lr.toExponential(2);
  $('#stat-speed').textContent = Math.round(p.namesPerSecond).toLocaleString('en-US');
  if (p.namesPerSecond > 0) {
    speeds.set(run.backend, p.namesPerSecond);
    $('#speeds').innerHTML = `${speedsHtml(speeds)} names/s`;
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

// ---------------------------------------------------------------- model files

const fileInput = $<HTMLInputElement>('#file');
const temperature = $<HTMLSelectElement>('#temperature');
const prefix = $<HTMLInputElement>('#prefix');
const sampleButton = $<HTMLButtonElement>('#sample');
const loadSection = $('#load');
const loadStatus = $('#load-status');
let sampleSeed = 0;
let loadedDescription = '';

const request = (): SampleRequest => ({ count: 10, temperature: Number(temperature.value), prefix: prefix.value.trim().toLowerCase(), seed: sampleSeed });

function showLoadStatus(text: string, error = false): void {
  loadStatus.textContent = text;
  loadStatus.classList.toggle('error', error);
}

fileInput.addEventListener('change', async () => {
  const file = fileInput.files?.[0];
  if (file === undefined) return;
  if (file.size > MAX_MODEL_FILE_BYTES) {
    // Refused before it is read: a huge file would be copied into the page's memory first.
    showLoadStatus(`${file.name} is ${file.size.toLocaleString('en-US')} bytes; a model file may be at most ${MAX_MODEL_FILE_BYTES.toLocaleString('en-US')} bytes`, true);
    return;
  }
  showLoadStatus(`Reading ${file.name}…`);
  loadSection.dataset.state = 'loading';
  const bytes = await file.arrayBuffer();
  sampleSeed = 0;
  send({ type: 'load', name: file.name, bytes, request: request() }, [bytes]);
});
sampleButton.addEventListener('click', () => {
  sampleSeed++;
  send({ type: 'sample', request: request() });
});
for (const control of [temperature, prefix]) {
  control.addEventListener('change', () => {
    if (!sampleButton.disabled) send({ type: 'sample', request: request() });
  });
}

// ---------------------------------------------------------------- the worker's messages

worker.onmessage = ({ data: message }: MessageEvent<FromNamesWorker>) => {
  switch (message.type) {
    case 'ready':
      Object.assign(run, { totalSteps: message.totalSteps, step: 0, running: false, done: false, trainLoss: [], valLoss: [] });
      $('#summary').textContent = message.summary;
      $('#param-count').textContent = message.parameters.toLocaleString('en-US');
      run.backend = message.choice;
      section.dataset.backend = message.choice;
      backendSelect.value = message.choice;
      $('#stat-backend').textContent = kernelsLabel(message.backend, 1, message.adapter);
      $('#stat-speed-on').textContent = `${BACKEND_NAMES[message.choice]}:`;
      $('#stat-step').textContent = `0 / ${message.totalSteps.toLocaleString('en-US')}`;
      for (const id of ['#stat-loss', '#stat-val', '#stat-lr', '#stat-speed']) $(id).textContent = '–';
      $('#history').innerHTML = '';
      if (message.loadMs > 0) {
        run.loaded = `: ${message.names.toLocaleString('en-US')} names loaded in ${(message.loadMs / 1000).toFixed(1)} s, ${message.trainSize.toLocaleString('en-US')} of them to train on`;
      }
      drawChart();
      showState();
      break;
    case 'backends':
      showOffer(backendSelect, message.webgpu);
      break;
    case 'progress':
      showProgress(message.progress);
      break;
    case 'samples': {
      run.valLoss.push([message.step, message.valLoss]);
      $('#stat-val').textContent = message.valLoss.toFixed(4);
      $('#samples-title').textContent = `Names it makes up at step ${message.step}`;
      const list = $('#samples');
      list.innerHTML = nameItems(message.names);
      list.dataset.step = String(message.step);
      $('#history').insertAdjacentHTML(
        'afterbegin',
        `<li data-step="${message.step}"><b>step ${message.step}</b> · ${message.valLoss.toFixed(3)} · ${message.names.map((n) => escapeHtml(n) || '∅').join(' ')}</li>`,
      );
      drawChart();
      break;
    }
    case 'state':
      run.running = message.running;
      run.done = message.done;
      showState();
      break;
    case 'loaded':
      loadedDescription = `${message.name}: ${message.description}, ${message.parameters.toLocaleString('en-US')} weights`;
      showLoadStatus(loadedDescription);
      sampleButton.disabled = false;
      loadSection.dataset.state = 'loaded';
      break;
    case 'loadError':
      showLoadStatus(`${message.name} is not a model this page can read: ${message.message}`, true);
      loadSection.dataset.state = 'error';
      break;
    case 'sampled':
      showLoadStatus(loadedDescription);
      $('#loaded-samples').innerHTML = nameItems(message.names);
      loadSection.dataset.sampled = String(Number(loadSection.dataset.sampled ?? 0) + 1);
      break;
    case 'sampleError':
      showLoadStatus(message.message, true);
      break;
    case 'error':
      backendSelect.value = run.backend; // a backend that could not start leaves the choice as it was
      status.textContent = `Error: ${message.message}`;
      status.classList.add('error');
      console.error(`playground names worker: ${message.message}`);
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
stepsSelect.addEventListener('change', reset);
// Another backend: a new run, its model built there.
backendSelect.addEventListener('change', reset);
showOffer(backendSelect, undefined);

send({ type: 'init', dataUrl: new URL('baby-names.bin', document.baseURI).href, config: config() });
drawChart();
redrawOnResize($('#chart'), drawChart);
