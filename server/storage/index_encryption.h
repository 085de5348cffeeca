// Encryption of the index's RocksDB files with --data-key (doc/security.md,
// "Encryption at rest"): object metadata, manifests, the audit log, the
// security ledger and upload resume state all live in the index, so every
// file RocksDB writes there (tables, write-ahead log, MANIFEST, info log)
// goes through RocksDB's EncryptedEnv with this provider.
//
// Format: each file starts with a 4096-byte plaintext prefix: "CIX1", the
// 8-byte id of the data key, a 16-byte random nonce (OpenSSL), zeros. The
// rest is AES-256-CTR under a key derived from the data key
// (HMAC-SHA256(data key, "custody index key v1")), the counter starting at
// the nonce. Confidentiality only; RocksDB's block checksums catch damage.
// New files use the current key; a file names its key, so files written
// under an --old-data-key still open.
#ifndef CUSTODY_SERVER_STORAGE_INDEX_ENCRYPTION_H_
#define CUSTODY_SERVER_STORAGE_INDEX_ENCRYPTION_H_

#include <memory>
#include <vector>

#include "rocksdb/env.h"
#include "server/storage/chunk_sealer.h"

namespace custody {

// An Env over `base` that encrypts with `current` and opens what `current`
// or any of `old` encrypted. Thread-safe, as RocksDB requires.
std::unique_ptr<rocksdb::Env> NewIndexEnv(rocksdb::Env* base, const DataKey& current,
                                          const std::vector<DataKey>& old);

// Whether the RocksDB files in `dir` are encrypted this way (its CURRENT
// file starts with the prefix); false for a plaintext or missing index.
bool IndexIsEncrypted(const std::string& dir);

}  // namespace custody

#endif  // CUSTODY_SERVER_STORAGE_INDEX_ENCRYPTION_H_
