import { describeBlobStoreContract } from '../contract/describe-blob-store-contract.js';
import { memoryBlobStore } from './memory-blob-store.js';

describeBlobStoreContract('memory', async () => ({ store: memoryBlobStore() }), { watch: true });
