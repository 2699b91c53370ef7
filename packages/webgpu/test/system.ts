/**
 * What the WebGPU tests need from the machine, where it has no GPU: Debian's
 * `chromium` (the browser tests drive it, and it ships SwiftShader's Vulkan
 * driver, on which Node's Dawn runs) and `libvulkan1` (the Vulkan loader
 * Dawn opens). As root with apt-get, a missing package is installed, so the
 * README's test command works on a fresh machine; otherwise the tests stop
 * at once with the command that installs them.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Debian's Chromium. */
export const CHROMIUM = '/usr/bin/chromium';
/** SwiftShader's Vulkan driver, from Debian's chromium package. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

function hasVulkanLoader(): boolean {
  const cache = spawnSync('ldconfig', ['-p'], { encoding: 'utf8' });
  return cache.status === 0 && cache.stdout.includes('libvulkan.so.1');
}

/** The packages missing for `needs`, by Debian name. */
function missing(needs: readonly ('chromium' | 'libvulkan1')[]): string[] {
  return needs.filter((name) => (name === 'chromium' ? !existsSync(CHROMIUM) || !existsSync(SWIFTSHADER_ICD) : !hasVulkanLoader()));
}

/** Installs the packages of `needs` that are missing (root with apt-get), or throws naming the command. */
export function requirePackages(needs: readonly ('chromium' | 'libvulkan1')[]): void {
  let absent = missing(needs);
  if (absent.length === 0) return;
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (root && spawnSync('apt-get', ['--version']).status === 0) {
    console.log(`webgpu tests: installing ${absent.join(' ')} with apt-get`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const install = () => spawnSync('apt-get', ['install', '-y', '-qq', ...absent], { env, stdio: 'inherit' }).status === 0;
    if (!install()) {
      spawnSync('apt-get', ['update', '-qq'], { env, stdio: 'inherit' });
      install();
    }
    absent = missing(needs);
    if (absent.length === 0) return;
  }
  throw new Error(
    `The WebGPU tests run on SwiftShader (a GPU in software) through Debian's ${absent.join(' and ')}, which ` +
      `${absent.length === 1 ? 'is' : 'are'} not installed${root ? ' (apt-get could not install them)' : ''}. ` +
      `Install with: apt-get install -y ${absent.join(' ')} (with sudo when not root). .ci/run installs them first.`,
  );
}
