// The Promise.withResolvers polyfill @restatedev/restate-sdk needs on Node 20, for the tests: the
// example's own (one copy); import it before the SDK.
import '../../examples/restate/polyfill';
