import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import type { MachineInfo } from './types';

export function machineInfo(): MachineInfo {
  const cores = cpus();
  return {
    cpu: cores[0]?.model.trim() ?? 'unknown',
    cores: cores.length,
    os: `${platform()} ${release()}`,
    node: process.version,
    v8: process.versions.v8,
    totalMemoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    loadAverageAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}
