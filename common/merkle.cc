#include "common/merkle.h"

#include <cstring>

#include "absl/base/internal/endian.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace custody::merkle {
namespace {

bool IsPowerOfTwo(uint64_t n) { return n != 0 && (n & (n - 1)) == 0; }

int Log2(uint64_t n) { return 63 - __builtin_clzll(n); }

absl::Status ProofError(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("proof does not hold: ", what));
}

// PATH(m, D[begin:end]) appended to `out`, nearest sibling first.
absl::Status Path(uint64_t m, uint64_t begin, uint64_t end, NodeSource nodes,
                  std::vector<Digest>* out) {
  uint64_t n = end - begin;
  if (n <= 1) return absl::OkStatus();
  uint64_t k = SplitPoint(n);
  if (m < k) {
    RETURN_IF_ERROR(Path(m, begin, begin + k, nodes, out));
    ASSIGN_OR_RETURN(Digest right, SubtreeHash(begin + k, end, nodes));
    out->push_back(right);
  } else {
    RETURN_IF_ERROR(Path(m - k, begin + k, end, nodes, out));
    ASSIGN_OR_RETURN(Digest left, SubtreeHash(begin, begin + k, nodes));
    out->push_back(left);
  }
  return absl::OkStatus();
}

// SUBPROOF(m, D[begin:end], b) appended to `out`.
absl::Status SubProof(uint64_t m, uint64_t begin, uint64_t end, bool b, NodeSource nodes,
                      std::vector<Digest>* out) {
  uint64_t n = end - begin;
  if (m == n) {
    if (!b) {
      ASSIGN_OR_RETURN(Digest h, SubtreeHash(begin, end, nodes));
      out->push_back(h);
    }
    return absl::OkStatus();
  }
  uint64_t k = SplitPoint(n);
  if (m <= k) {
    RETURN_IF_ERROR(SubProof(m, begin, begin + k, b, nodes, out));
    ASSIGN_OR_RETURN(Digest right, SubtreeHash(begin + k, end, nodes));
    out->push_back(right);
  } else {
    RETURN_IF_ERROR(SubProof(m - k, begin + k, end, false, nodes, out));
    ASSIGN_OR_RETURN(Digest left, SubtreeHash(begin, begin + k, nodes));
    out->push_back(left);
  }
  return absl::OkStatus();
}

}  // namespace

Digest HashLeaf(absl::string_view data) {
  Sha256 h;
  const char zero = 0;
  h.Update(&zero, 1);
  h.Update(data);
  return h.Finish();
}

Digest HashChildren(const Digest& left, const Digest& right) {
  Sha256 h;
  const char one = 1;
  h.Update(&one, 1);
  h.Update(left.data(), Digest::kSize);
  h.Update(right.data(), Digest::kSize);
  return h.Finish();
}

Digest EmptyRoot() { return Digest::Of(""); }

uint64_t SplitPoint(uint64_t n) {
  uint64_t k = uint64_t{1} << Log2(n);
  return k == n ? k >> 1 : k;
}

absl::StatusOr<Digest> SubtreeHash(uint64_t begin, uint64_t end, NodeSource nodes) {
  uint64_t n = end - begin;
  if (n == 0) return EmptyRoot();
  if (IsPowerOfTwo(n) && begin % n == 0) {
    int level = Log2(n);
    return nodes(level, begin >> level);
  }
  uint64_t k = SplitPoint(n);
  ASSIGN_OR_RETURN(Digest left, SubtreeHash(begin, begin + k, nodes));
  ASSIGN_OR_RETURN(Digest right, SubtreeHash(begin + k, end, nodes));
  return HashChildren(left, right);
}

absl::StatusOr<std::vector<Digest>> InclusionProof(uint64_t index, uint64_t size,
                                                   NodeSource nodes) {
  if (index >= size) {
    return absl::OutOfRangeError(absl::StrCat("leaf ", index, " is not in a tree of ", size));
  }
  std::vector<Digest> out;
  RETURN_IF_ERROR(Path(index, 0, size, nodes, &out));
  return out;
}

absl::StatusOr<std::vector<Digest>> ConsistencyProof(uint64_t old_size, uint64_t size,
                                                     NodeSource nodes) {
  if (old_size > size) {
    return absl::OutOfRangeError(absl::StrCat("tree size ", old_size, " is after ", size));
  }
  std::vector<Digest> out;
  if (old_size == 0 || old_size == size) return out;
  RETURN_IF_ERROR(SubProof(old_size, 0, size, true, nodes, &out));
  return out;
}

absl::Status VerifyInclusion(uint64_t index, uint64_t size, const Digest& leaf_hash,
                             absl::Span<const Digest> proof, const Digest& root) {
  if (index >= size) return ProofError("leaf index is not below the tree size");
  uint64_t fn = index, sn = size - 1;
  Digest r = leaf_hash;
  for (const Digest& p : proof) {
    if (sn == 0) return ProofError("inclusion proof is too long");
    if ((fn & 1) || fn == sn) {
      r = HashChildren(p, r);
      while (!(fn & 1) && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = HashChildren(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return ProofError("inclusion proof is too short");
  if (r != root) return ProofError("inclusion proof leads to another root");
  return absl::OkStatus();
}

absl::Status VerifyConsistency(uint64_t old_size, uint64_t size, const Digest& old_root,
                               const Digest& root, absl::Span<const Digest> proof) {
  if (old_size > size) return ProofError("the old tree is larger than the new one");
  if (old_size == size) {
    if (!proof.empty()) return ProofError("consistency proof of equal sizes must be empty");
    return old_root == root ? absl::OkStatus() : ProofError("same size, different roots");
  }
  if (old_size == 0) {
    return proof.empty() ? absl::OkStatus() : ProofError("proof from the empty tree");
  }
  std::vector<Digest> c(proof.begin(), proof.end());
  if (IsPowerOfTwo(old_size)) c.insert(c.begin(), old_root);
  if (c.empty()) return ProofError("consistency proof is empty");
  uint64_t fn = old_size - 1, sn = size - 1;
  while (fn & 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Digest fr = c[0], sr = c[0];
  for (size_t i = 1; i < c.size(); ++i) {
    if (sn == 0) return ProofError("consistency proof is too long");
    if ((fn & 1) || fn == sn) {
      fr = HashChildren(c[i], fr);
      sr = HashChildren(c[i], sr);
      while (!(fn & 1) && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = HashChildren(sr, c[i]);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return ProofError("consistency proof is too short");
  if (fr != old_root) return ProofError("consistency proof does not lead to the old root");
  if (sr != root) return ProofError("consistency proof does not lead to the new root");
  return absl::OkStatus();
}

void CompactRange::Append(const Digest& leaf_hash,
                          absl::FunctionRef<void(int, uint64_t, const Digest&)> emit) {
  uint64_t idx = size_;
  int level = 0;
  Digest h = leaf_hash;
  emit(0, idx, h);
  while (idx & 1) {
    h = HashChildren(hashes_.back(), h);
    hashes_.pop_back();
    idx >>= 1;
    ++level;
    emit(level, idx, h);
  }
  hashes_.push_back(h);
  ++size_;
}

absl::Status CompactRange::AppendSubtree(int level, const Digest& hash) {
  uint64_t width = uint64_t{1} << level;
  if (size_ % width != 0 || (size_ != 0 && (size_ & -size_) < width)) {
    return absl::InvalidArgumentError("subtree is not aligned at the end of the range");
  }
  uint64_t idx = size_ >> level;
  Digest h = hash;
  while (idx & 1) {
    h = HashChildren(hashes_.back(), h);
    hashes_.pop_back();
    idx >>= 1;
  }
  hashes_.push_back(h);
  size_ += width;
  return absl::OkStatus();
}

std::vector<std::pair<int, Digest>> CompactRange::Subtrees() const {
  std::vector<std::pair<int, Digest>> out;
  size_t i = 0;
  for (int level = 63; level >= 0; --level) {
    if (size_ & (uint64_t{1} << level)) out.emplace_back(level, hashes_[i++]);
  }
  return out;
}

Digest CompactRange::Root() const {
  if (hashes_.empty()) return EmptyRoot();
  Digest r = hashes_.back();
  for (size_t i = hashes_.size() - 1; i-- > 0;) r = HashChildren(hashes_[i], r);
  return r;
}

std::string CompactRange::Serialize() const {
  std::string out(8, '\0');
  absl::little_endian::Store64(out.data(), size_);
  for (const Digest& d : hashes_) out.append(d.Raw().data(), Digest::kSize);
  return out;
}

absl::StatusOr<CompactRange> CompactRange::Parse(absl::string_view bytes) {
  if (bytes.size() < 8) return absl::DataLossError("compact range is truncated");
  CompactRange r;
  r.size_ = absl::little_endian::Load64(bytes.data());
  bytes.remove_prefix(8);
  if (bytes.size() != Digest::kSize * static_cast<size_t>(__builtin_popcountll(r.size_))) {
    return absl::DataLossError("compact range has the wrong number of hashes");
  }
  for (size_t i = 0; i < bytes.size(); i += Digest::kSize) {
    ASSIGN_OR_RETURN(Digest d, Digest::FromRaw(bytes.substr(i, Digest::kSize)));
    r.hashes_.push_back(d);
  }
  return r;
}

}  // namespace custody::merkle
