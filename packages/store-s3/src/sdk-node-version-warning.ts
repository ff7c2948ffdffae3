/** The AWS SDK's own switch for its NodeVersionSupportWarning (and for nothing else). */
const FLAG = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';

/**
 * Runs `make` (which constructs an SDK client: that is when the SDK warns, once per process) with
 * the SDK's NodeVersionSupportWarning switched off through the SDK's documented variable, then
 * puts the environment back. A value the user set is left alone, and no other warning is touched.
 * Why: see "Node.js versions" in the package README.
 */
export function withoutNodeVersionWarning<T>(make: () => T): T {
  if (process.env[FLAG] !== undefined) return make();
  process.env[FLAG] = 'true';
  try {
    return make();
  } finally {
    delete process.env[FLAG];
  }
}
