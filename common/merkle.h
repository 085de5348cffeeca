// RFC 6962 / RFC 9162 Merkle trees: hashing, proofs, and their verification.
// The verifiers are pure functions over bytes, shared by the node and by the
// offline `custody audit verify`, and use none of the node's storage code.
#ifndef CUSTODY_COMMON_MERKLE_H_
#define CUSTODY_COMMON_MERKLE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/digest.h"

namespace custody::merkle {

// SHA-256(0x00 || data).
Digest HashLeaf(absl::string_view data);
// SHA-256(0x01 || left || right).
Digest HashChildren(const Digest& left, const Digest& right);
// The root of the empty tree: SHA-256 of nothing.
Digest EmptyRoot();
// The largest power of two smaller than n (n >= 2): RFC 6962's split.
uint64_t SplitPoint(uint64_t n);

// Gives the hash of a perfect subtree: `level` l and `index` i cover leaves
// [i << l, (i + 1) << l). Level 0 is the leaf hashes.
using NodeSource = absl::FunctionRef<absl::StatusOr<Digest>(int level, uint64_t index)>;

// MTH(D[begin:end]) for the ranges that RFC 6962's recursions visit.
absl::StatusOr<Digest> SubtreeHash(uint64_t begin, uint64_t end, NodeSource nodes);
// PATH(index, D[0:size]) (RFC 9162 2.1.3.1), nearest sibling first.
absl::StatusOr<std::vector<Digest>> InclusionProof(uint64_t index, uint64_t size, NodeSource nodes);
// PROOF(old_size, D[0:size]) (RFC 9162 2.1.4.1).
absl::StatusOr<std::vector<Digest>> ConsistencyProof(uint64_t old_size, uint64_t size,
                                                     NodeSource nodes);

// RFC 9162 2.1.3.2. OK, or DATA_LOSS saying why the proof does not hold.
absl::Status VerifyInclusion(uint64_t index, uint64_t size, const Digest& leaf_hash,
                             absl::Span<const Digest> proof, const Digest& root);
// RFC 9162 2.1.4.2. OK, or DATA_LOSS saying why the proof does not hold.
absl::Status VerifyConsistency(uint64_t old_size, uint64_t size, const Digest& old_root,
                               const Digest& root, absl::Span<const Digest> proof);

// The right edge of a tree: the roots of its perfect subtrees, largest first.
// Enough to append a leaf and to compute the root, in O(log n) space.
// Value type; not thread-safe.
class CompactRange {
 public:
  uint64_t size() const { return size_; }
  // Appends a leaf hash; calls `emit(level, index, hash)` for the leaf and
  // for every perfect subtree the append completes.
  void Append(const Digest& leaf_hash,
              absl::FunctionRef<void(int level, uint64_t index, const Digest&)> emit);
  Digest Root() const;
  // Appends the root of a perfect subtree of 2^level leaves; the range's
  // size must be a multiple of 2^level and its last subtree no smaller.
  // INVALID_ARGUMENT otherwise. (Joins ranges computed apart.)
  absl::Status AppendSubtree(int level, const Digest& hash);
  // The perfect subtrees of the range, largest first: (level, hash).
  std::vector<std::pair<int, Digest>> Subtrees() const;

  std::string Serialize() const;
  static absl::StatusOr<CompactRange> Parse(absl::string_view bytes);

 private:
  uint64_t size_ = 0;
  std::vector<Digest> hashes_;  // one per set bit of size_, high bit first
};

}  // namespace custody::merkle

#endif  // CUSTODY_COMMON_MERKLE_H_
