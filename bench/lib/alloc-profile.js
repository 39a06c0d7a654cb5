'use strict';
/**
 * A preload for finding what a process allocates (not only what it retains, which is all that
 * `node --heap-prof` shows): V8's sampling heap profiler, keeping the samples of objects the
 * garbage collector has freed. Used through the bench, Tributary alone:
 *
 *   BENCH_SYSTEMS=tributary BENCH_TRIBUTARY_NODE_FLAGS="-r ./bench/lib/alloc-profile.js" \
 *     npm run bench -- --quick --only S1
 *
 * When the process ends it writes `alloc-<pid>.heapprofile` (open it in Chrome DevTools, Memory
 * tab) into ALLOC_PROFILE_DIR (default: the working directory) and prints the functions that
 * allocated most, by their own allocations, to stderr: each app's log in
 * bench/results/<scenario>.tmp/.
 */
const inspector = require('node:inspector');
const fs = require('node:fs');
const path = require('node:path');

const session = new inspector.Session();
session.connect();
session.post('HeapProfiler.enable');
session.post('HeapProfiler.startSampling', {
  samplingInterval: 16384,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: true,
});

function summary(profile) {
  const bySelf = new Map();
  const walk = (node) => {
    const f = node.callFrame;
    const where = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${f.lineNumber + 1}`;
    bySelf.set(where, (bySelf.get(where) ?? 0) + node.selfSize);
    for (const child of node.children) walk(child);
  };
  walk(profile.head);
  const total = [...bySelf.values()].reduce((a, b) => a + b, 0);
  const top = [...bySelf.entries()].sort((a, b) => b[1] - a[1]).slice(0, 15);
  return [
    `[alloc-profile] pid ${process.pid}: ${(total / 1e6).toFixed(1)} MB allocated (sampled), by own allocations:`,
    ...top.map(
      ([where, bytes]) =>
        `[alloc-profile] ${((100 * bytes) / total).toFixed(1).padStart(5)}% ${where}`,
    ),
  ].join('\n');
}

let written = false;
function write() {
  if (written) return;
  written = true;
  // Synchronous on 'exit': the inspector session answers within the same call.
  session.post('HeapProfiler.stopSampling', (err, result) => {
    if (err) return;
    const dir = process.env.ALLOC_PROFILE_DIR ?? process.cwd();
    fs.writeFileSync(
      path.join(dir, `alloc-${process.pid}.heapprofile`),
      JSON.stringify(result.profile),
    );
    process.stderr.write(`${summary(result.profile)}\n`);
  });
}
process.on('exit', write);
