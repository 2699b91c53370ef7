/**
 * The link targets of a markdown text that only resolve inside the
 * repository: relative paths such as `../ndarray` or `docs/api.md`, which the
 * package's page on npm cannot follow (it shows the README without the
 * repository around it). Absolute URLs (any `scheme:`, or `//host`) and
 * in-page anchors (`#api`) pass. Inline links and images, reference
 * definitions and HTML `href`/`src` attributes are read; fenced code blocks
 * and `code spans` are not, since `f[0](x)` in code is no link.
 */
export function relativeLinks(markdown: string): string[] {
  if (typeof markdown !== 'string') throw new TypeError(`relativeLinks: expected markdown text, got ${typeof markdown}`);
  const prose = markdown
    .replace(/^ {0,3}(`{3,}|~{3,})[^\n]*\n[\s\S]*?(?:^ {0,3}\1[^\n]*$|(?![\s\S]))/gm, '')
    .replace(/(`+)[\s\S]*?\1/g, 'code');
  const targets = [
    ...[...prose.matchAll(/\]\(\s*<?([^)\s>]+)/g)].map((m) => m[1]),
    ...[...prose.matchAll(/^ {0,3}\[[^\]\n]+\]:\s*<?([^\s>]+)/gm)].map((m) => m[1]),
    ...[...prose.matchAll(/\b(?:href|src)\s*=\s*["']([^"']*)["']/gi)].map((m) => m[1]),
  ];
  return targets.filter((target) => !/^(?:[a-z][a-z\d+.-]*:|\/\/|#)/i.test(target));
}
