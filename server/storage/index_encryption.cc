#include "server/storage/index_encryption.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstring>
#include <fstream>
#include <map>

#include "common/random.h"
#include "rocksdb/env_encryption.h"

namespace custody {

namespace {

constexpr char kMagic[4] = {'C', 'I', 'X', '1'};
constexpr size_t kPrefix = 4096, kIdAt = 4, kNonceAt = 12, kNonceSize = 16;

using Key = std::array<uint8_t, 32>;

Key DeriveIndexKey(const DataKey& k) {
  static const char kLabel[] = "custody index key v1";
  Key out{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), k.bytes.data(), static_cast<int>(k.bytes.size()),
       reinterpret_cast<const unsigned char*>(kLabel), sizeof(kLabel) - 1, out.data(), &len);
  return out;
}

// AES-256-CTR keystream from `nonce` + block index, XORed at any offset.
class CtrStream : public rocksdb::BlockAccessCipherStream {
 public:
  CtrStream(const Key& key, const uint8_t* nonce) : key_(key) {
    std::memcpy(nonce_, nonce, kNonceSize);
  }
  size_t BlockSize() override { return 16; }
  rocksdb::Status Encrypt(uint64_t offset, char* data, size_t size) override {
    return Xor(offset, data, size);
  }
  rocksdb::Status Decrypt(uint64_t offset, char* data, size_t size) override {
    return Xor(offset, data, size);
  }

 protected:
  void AllocateScratch(std::string&) override {}
  rocksdb::Status EncryptBlock(uint64_t block, char* data, char*) override {
    return Xor(block * 16, data, 16);
  }
  rocksdb::Status DecryptBlock(uint64_t block, char* data, char*) override {
    return Xor(block * 16, data, 16);
  }

 private:
  rocksdb::Status Xor(uint64_t offset, char* data, size_t size) {
    uint8_t iv[16];
    std::memcpy(iv, nonce_, 16);
    uint64_t add = offset / 16;  // big-endian 128-bit counter + add
    for (int i = 15; i >= 0 && add != 0; --i) {
      uint64_t sum = static_cast<uint64_t>(iv[i]) + (add & 0xff);
      iv[i] = static_cast<uint8_t>(sum);
      add = (add >> 8) + (sum >> 8);
    }
    std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(),
                                                                        EVP_CIPHER_CTX_free);
    int n = 0;
    uint8_t skip[16];
    size_t lead = offset % 16;
    if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_ctr(), nullptr, key_.data(), iv) != 1 ||
        (lead > 0 && EVP_EncryptUpdate(ctx.get(), skip, &n, skip, static_cast<int>(lead)) != 1)) {
      return rocksdb::Status::IOError("index encryption: AES-CTR setup failed (OpenSSL)");
    }
    auto* p = reinterpret_cast<unsigned char*>(data);
    for (size_t done = 0; done < size;) {
      int step = static_cast<int>(std::min<size_t>(size - done, 1 << 30));
      if (EVP_EncryptUpdate(ctx.get(), p + done, &n, p + done, step) != 1) {
        return rocksdb::Status::IOError("index encryption: AES-CTR failed (OpenSSL)");
      }
      done += static_cast<size_t>(step);
    }
    return rocksdb::Status::OK();
  }

  Key key_;
  uint8_t nonce_[kNonceSize];
};

class IndexCipherProvider : public rocksdb::EncryptionProvider {
 public:
  IndexCipherProvider(const DataKey& current, const std::vector<DataKey>& old)
      : current_id_(current.id) {
    keys_[current.id] = DeriveIndexKey(current);
    for (const DataKey& k : old) keys_.emplace(k.id, DeriveIndexKey(k));
  }
  const char* Name() const override { return "CustodyIndexAesCtr"; }
  size_t GetPrefixLength() const override { return kPrefix; }
  rocksdb::Status CreateNewPrefix(const std::string&, char* prefix, size_t len) const override {
    if (len < kPrefix) return rocksdb::Status::InvalidArgument("index encryption: short prefix");
    std::memset(prefix, 0, len);
    std::memcpy(prefix, kMagic, 4);
    std::memcpy(prefix + kIdAt, current_id_.data(), 8);
    absl::Status s = FillRandom(prefix + kNonceAt, kNonceSize, "an index file's nonce");
    return s.ok() ? rocksdb::Status::OK() : rocksdb::Status::IOError(std::string(s.message()));
  }
  rocksdb::Status AddCipher(const std::string&, const char*, size_t, bool) override {
    return rocksdb::Status::NotSupported("keys come from --data-key and --old-data-key");
  }
  rocksdb::Status CreateCipherStream(
      const std::string& fname, const rocksdb::EnvOptions&, rocksdb::Slice& prefix,
      std::unique_ptr<rocksdb::BlockAccessCipherStream>* result) override {
    if (prefix.size() < kPrefix || std::memcmp(prefix.data(), kMagic, 4) != 0) {
      return rocksdb::Status::Corruption(
          fname +
          " is not encrypted with a data key (a plaintext index: start once with "
          "--rebuild-index to encrypt it)");
    }
    auto key = keys_.find(std::string(prefix.data() + kIdAt, 8));
    if (key == keys_.end()) {
      return rocksdb::Status::Corruption(
          fname + " is encrypted with a data key that was not given: pass it with --old-data-key");
    }
    *result = std::make_unique<CtrStream>(
        key->second, reinterpret_cast<const uint8_t*>(prefix.data() + kNonceAt));
    return rocksdb::Status::OK();
  }

 private:
  std::string current_id_;
  std::map<std::string, Key> keys_;
};

}  // namespace

std::unique_ptr<rocksdb::Env> NewIndexEnv(rocksdb::Env* base, const DataKey& current,
                                          const std::vector<DataKey>& old) {
  auto provider = std::make_shared<IndexCipherProvider>(current, old);
  return std::unique_ptr<rocksdb::Env>(rocksdb::NewEncryptedEnv(base, provider));
}

bool IndexIsEncrypted(const std::string& dir) {
  std::ifstream in(dir + "/CURRENT", std::ios::binary);
  char magic[4] = {};
  in.read(magic, 4);
  return in.gcount() == 4 && std::memcmp(magic, kMagic, 4) == 0;
}

}  // namespace custody
