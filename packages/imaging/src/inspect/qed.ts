import type { FormatProbe } from './format-probe.js';
import { u64, view } from './probe-context.js';

const MAGIC = 0x00444551; // 'QED\0' little-endian
const FEATURE_BACKING_FILE = 1n;

/** QED: recognised and always refused (qemu deprecated it; its backing files are resolved on the host). */
export const qedProbe: FormatProbe = {
  format: 'qed',
  matches: (ctx) => ctx.head.length >= 4 && view(ctx.head).getUint32(0, true) === MAGIC,
  async inspect(ctx) {
    const dv = view(ctx.need(64, 'QED header'));
    const features = dv.getBigUint64(16, true);
    const details = {
      clusterSize: dv.getUint32(4, true),
      hasBackingFile: (features & FEATURE_BACKING_FILE) !== 0n,
    };
    return {
      virtualSize: u64(dv, 48, true, 'QED image_size'),
      details,
      issues: [
        {
          rule: 'qed',
          message: 'QED images are not accepted (a deprecated format that can name backing files)',
        },
      ],
    };
  },
};
