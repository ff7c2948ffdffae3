import { VmkitError } from '../errors/vmkit-error.js';

/** The {@link VmkitError} a promise rejects with; fails the test when it resolves or throws anything else. */
export async function rejection(promise: Promise<unknown>): Promise<VmkitError> {
  try {
    await promise;
  } catch (error) {
    if (VmkitError.is(error)) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}
