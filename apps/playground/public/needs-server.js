/**
 * Opened as a file (file://), the page cannot work: browsers refuse its
 * module scripts, its stylesheet and its Web Worker from file URLs (the
 * console shows only CORS errors), so it would stay at "Loading…". This
 * classic script, which browsers do run from a file, says so at the top of
 * the page, with the commands that serve it, styled inline since the
 * stylesheet does not load. Served over HTTP it does nothing.
 */
(() => {
  if (location.protocol !== 'file:') return;
  const path = decodeURIComponent(location.pathname);
  const folder = path.slice(0, path.lastIndexOf('/')) || '/';
  const page = path.slice(path.lastIndexOf('/') + 1);
  const box = document.createElement('section');
  box.className = 'needs-server';
  box.setAttribute('role', 'alert');
  box.style.cssText =
    'font: 16px/1.45 system-ui, sans-serif; color: #0f172a; max-width: 72ch; margin: 16px auto; padding: 14px 18px; ' +
    'border: 2px solid #dc2626; border-radius: 12px; background: #fef2f2;';
  const add = (tag, text, css = '') => {
    const element = document.createElement(tag);
    element.textContent = text;
    element.style.cssText = css;
    box.append(element);
  };
  const code = 'margin: 4px 0 8px; padding: 8px 12px; background: #0f172a; color: #e2e8f0; border-radius: 8px; overflow-x: auto;';
  add('h2', 'This page needs a web server', 'margin: 0 0 6px; font-size: 1.2em; color: #dc2626;');
  add(
    'p',
    'It was opened as a file (file://), and browsers do not load its scripts, its stylesheet or its Web Worker from files, so nothing here can run. ' +
      'Serve its folder over HTTP and open the address instead. From the backprop repository:',
  );
  add('pre', 'pnpm --filter @backprop/app-playground preview', code);
  add('p', `then open http://localhost:4173/${page}. Or, with Python, from this folder:`);
  add('pre', `cd '${folder.replace(/'/g, `'\\''`)}'\npython3 -m http.server 8000`, code);
  add('p', `then open http://localhost:8000/${page} (that server sends no cross-origin isolation headers, so the page trains on one thread).`);
  document.body.prepend(box);
  const status = document.querySelector('#status');
  if (status) {
    status.textContent = 'Not loaded: this page needs a web server (see the top of the page).';
    status.style.color = '#dc2626';
  }
})();
