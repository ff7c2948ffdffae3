import { describeBlobStoreContract } from '../testing/describe-blob-store-contract.js';
import { memoryBlobStore } from './memory-blob-store.js';

describeBlobStoreContract('memory', async () => ({ store: memoryBlobStore() }));
