/**
 * The chunk size of the file streams that carry disks (shared masters, blobs, guest files): 1 MiB,
 * where Node's default is 64 KiB. Each chunk costs a read, a write and a hop through the thread
 * pool; sixteen times fewer of them matters when many processes move disks at once (a fleet
 * adopting a master) and costs 1 MiB of buffer per open stream.
 */
export const FILE_CHUNK_BYTES = 1024 * 1024;
