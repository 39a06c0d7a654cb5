/**
 * The node flags each app runs with by default: `npm run start:<app>`, `npm run dev`, the compose
 * file, the Kubernetes manifests and `npm run bench` use these (scripts/node-flags.spec.ts and
 * test/deploy/kubernetes.spec.ts check that they agree). Chosen
 * per app from measurements (docs/operations.md, "Memory").
 *
 * `--max-old-space-size=512` is not there to cap the heap at 512 MiB: without a limit V8 takes one
 * from the host's memory (about 4 GiB on a 24 GiB host) and then lets garbage grow to about 4 times
 * the live heap between full collections; under a limit of 512 MiB it lets it grow to about 1.4
 * times. The live heaps are bounded and far below it (the invoker holds at most 10,000 scheduled
 * invocations: under 70 MB; the worker about 40 MB). Measured in S1 at full size: invoker peak RSS
 * 194 to 198 instead of 313 to 330 MiB, consumer worker (with the smaller fetch defaults) 183
 * instead of 274 to 283, for about 50 µs more of the invoker's CPU per event and no events/s the
 * runs could tell apart. The admin API stays near 130 MiB without any flag.
 */
export type App = 'admin-api' | 'consumer-worker' | 'invoker';

export const APP_NODE_FLAGS: Readonly<Record<App, readonly string[]>> = {
  'admin-api': [],
  'consumer-worker': ['--max-old-space-size=512'],
  invoker: ['--max-old-space-size=512'],
};
