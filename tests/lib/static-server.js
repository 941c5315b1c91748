/*
 * static-server.js - a small static file server for tests and the interim
 * demo, on 127.0.0.1 only. Serves the runtime (build/runtime) under
 * /runtime/ and a page directory under /, with the headers the runtime
 * needs: application/wasm, and COOP/COEP so pages are cross-origin isolated.
 *
 *   const srv = await serve({ routes: { '/runtime/': dir, '/': pages }, port: 0 })
 *   srv.url, srv.close(), srv.log (every request: "GET /path 200")
 *
 * isolated: false leaves out COOP/COEP (a page that is not cross-origin
 * isolated). srv.delayMs delays every archive (.tar.zst) response, and
 * srv.stats.maxInFlight records the most archive requests served at once
 * and srv.stats.arrivals when each arrived: parallel or sequential downloads.
 *
 * Faults, for the hostile-mirror tests: srv.faults[urlPath] = { kind, times }
 * makes the next `times` requests of urlPath fail: kind 404 or 500 (that
 * status), 'cut' (full Content-Length, half the bytes, then the connection
 * is dropped) or 'flip' (one byte of the body altered).
 */
'use strict';
const http = require('http');
const fs = require('fs');
const path = require('path');

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm', '.zip': 'application/zip', '.json': 'application/json',
  '.css': 'text/css; charset=utf-8', '.png': 'image/png', '.zst': 'application/zstd',
};

function resolve(routes, urlPath) {
  const prefixes = Object.keys(routes).sort((a, b) => b.length - a.length);
  for (const prefix of prefixes) {
    if (!urlPath.startsWith(prefix)) continue;
    const root = path.resolve(routes[prefix]);
    let rel = urlPath.slice(prefix.length) || 'index.html';
    const file = path.resolve(root, rel);
    if (file !== root && !file.startsWith(root + path.sep)) return null; // traversal
    return file;
  }
  return null;
}

function serve({ routes, port = 0, host = '127.0.0.1', log = null, isolated = true }) {
  const requests = [];
  const faults = {};
  const stats = { delayMs: 0, inFlight: 0, maxInFlight: 0, arrivals: [] };
  const record = (line) => {
    requests.push(line);
    if (log) log(line);
  };
  const server = http.createServer((req, res) => {
    let urlPath;
    try {
      urlPath = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    } catch {
      res.writeHead(400).end('bad request\n');
      return;
    }
    const file = resolve(routes, urlPath);
    const headers = isolated ? {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cross-Origin-Resource-Policy': 'same-origin',
      'Cache-Control': 'no-cache',
    } : { 'Cache-Control': 'no-cache' };
    const fault = faults[urlPath];
    let kind = null;
    if (fault && fault.times > 0) {
      kind = fault.kind;
      if (--fault.times === 0) delete faults[urlPath];
    }
    if (kind === 404 || kind === 500) {
      res.writeHead(kind, headers).end(kind === 404 ? 'not found\n' : 'internal error\n');
      record(`${req.method} ${urlPath} ${kind}`);
      return;
    }
    const archive = urlPath.endsWith('.tar.zst');
    if (archive) {
      stats.arrivals.push(Date.now());
      stats.inFlight++;
      stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
      // done when the response is handed over ('finish'), or dropped ('close')
      let done = false;
      const end = () => { if (!done) { done = true; stats.inFlight--; } };
      res.on('finish', end);
      res.on('close', end);
    }
    setTimeout(() => fs.stat(file || '', (err, st) => {
      if (!file || err || !st.isFile()) {
        res.writeHead(404, headers).end('not found\n');
        record(`${req.method} ${urlPath} 404`);
        return;
      }
      headers['Content-Type'] = TYPES[path.extname(file)] || 'application/octet-stream';
      headers['Content-Length'] = st.size;
      res.writeHead(200, headers);
      record(`${req.method} ${urlPath} 200 ${st.size}${kind ? ' ' + kind : ''}`);
      if (req.method === 'HEAD') {
        res.end();
      } else if (kind === 'cut' || kind === 'flip') {
        const body = fs.readFileSync(file);
        if (kind === 'flip') {
          body[body.length >> 1] ^= 1;
          res.end(body);
        } else {
          res.write(body.subarray(0, body.length >> 1));
          setTimeout(() => res.socket.destroy(), 20);
        }
      } else {
        fs.createReadStream(file).pipe(res);
      }
    }), archive ? stats.delayMs : 0);
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const { port: p } = server.address();
      resolvePromise({
        url: `http://${host}:${p}`,
        log: requests,
        faults,
        stats,
        close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }),
      });
    });
  });
}

module.exports = { serve };

if (require.main === module) {
  // node static-server.js PORT PREFIX=DIR...
  const [port, ...specs] = process.argv.slice(2);
  const routes = Object.fromEntries(specs.map((s) => s.split('=')));
  serve({ routes, port: Number(port), log: (l) => console.log(l) }).then((s) => {
    console.log(`serving on ${s.url}/ (Ctrl-C stops)`);
    const stop = () => s.close().then(() => process.exit(0));
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
