// Promise.withResolvers for Node 20 (added in Node 22), which @restatedev/restate-sdk uses.
// Loaded before the Restate handler with `node --require ./bench/restate/polyfill.js`.
'use strict';
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers() {
    let resolve;
    let reject;
    const promise = new this((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}
