// Known-answer tests: the RFC 6962 test vectors published with Certificate
// Transparency (certificate-transparency, merkle_tree_test.cc) and
// transparency-dev/merkle (testonly/constants.go): the eight leaves below,
// the root of every tree size 0..8, and their inclusion and consistency
// proofs. Then every proof of every tree up to 70 leaves, verified, and
// every single-bit change of them refused.
#include "common/merkle.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>

#include "absl/strings/escaping.h"
#include "tests/common/rfc6962_leaves.h"

namespace custody::merkle {
namespace {

constexpr auto& kLeaves = testing::kRfc6962Leaves;
const char* kRoots[] = {"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
                        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
                        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
                        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
                        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
                        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};

Digest D(const char* hex) { return *Digest::Parse(std::string("sha256:") + hex); }

std::vector<Digest> Ds(std::initializer_list<const char*> hexes) {
  std::vector<Digest> out;
  for (const char* h : hexes) out.push_back(D(h));
  return out;
}

// A tree kept in memory: every perfect subtree node that CompactRange emits.
class MemTree {
 public:
  void Append(const Digest& leaf) {
    range_.Append(leaf, [&](int l, uint64_t i, const Digest& h) { nodes_[{l, i}] = h; });
    roots_.push_back(range_.Root());
  }
  // A std::function, not a NodeSource: a FunctionRef must not outlive the
  // lambda it refers to.
  std::function<absl::StatusOr<Digest>(int, uint64_t)> source() {
    return [this](int l, uint64_t i) -> absl::StatusOr<Digest> {
      auto it = nodes_.find({l, i});
      if (it == nodes_.end()) return absl::NotFoundError("no such node");
      return it->second;
    };
  }
  Digest root(uint64_t size) const { return size == 0 ? EmptyRoot() : roots_[size - 1]; }
  const CompactRange& range() const { return range_; }

 private:
  CompactRange range_;
  std::map<std::pair<int, uint64_t>, Digest> nodes_;
  std::vector<Digest> roots_;
};

MemTree ReferenceTree() {
  MemTree t;
  for (const char* hex : kLeaves) t.Append(HashLeaf(absl::HexStringToBytes(hex)));
  return t;
}

TEST(MerkleTest, RootsMatchTheRfc6962Vectors) {
  MemTree t = ReferenceTree();
  for (uint64_t n = 0; n <= 8; ++n) {
    EXPECT_EQ(t.root(n), D(kRoots[n])) << "size " << n;
    EXPECT_EQ(*SubtreeHash(0, n, t.source()), D(kRoots[n])) << "size " << n;
  }
}

TEST(MerkleTest, SplitIsTheLargestPowerOfTwoBelow) {
  EXPECT_EQ(SplitPoint(2), 1u);
  EXPECT_EQ(SplitPoint(3), 2u);
  EXPECT_EQ(SplitPoint(4), 2u);
  EXPECT_EQ(SplitPoint(5), 4u);
  EXPECT_EQ(SplitPoint(1000), 512u);
}

TEST(MerkleTest, InclusionProofsMatchTheVectors) {
  MemTree t = ReferenceTree();
  struct Case {
    uint64_t index, size;
    std::vector<Digest> proof;
  };
  std::vector<Case> cases = {
      {0, 1, {}},
      {0, 8,
       Ds({"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
           "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
           "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"})},
      {5, 8,
       Ds({"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
           "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
           "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"})},
      {2, 3, Ds({"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"})},
      {1, 5,
       Ds({"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
           "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
           "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"})},
  };
  for (const Case& c : cases) {
    auto p = InclusionProof(c.index, c.size, t.source());
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_EQ(*p, c.proof) << c.index << "/" << c.size;
    Digest leaf = HashLeaf(absl::HexStringToBytes(kLeaves[c.index]));
    EXPECT_TRUE(VerifyInclusion(c.index, c.size, leaf, c.proof, t.root(c.size)).ok());
  }
}

TEST(MerkleTest, ConsistencyProofsMatchTheVectors) {
  MemTree t = ReferenceTree();
  struct Case {
    uint64_t old_size, size;
    std::vector<Digest> proof;
  };
  std::vector<Case> cases = {
      {1, 1, {}},
      {1, 8,
       Ds({"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
           "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
           "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"})},
      {6, 8,
       Ds({"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
           "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
           "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"})},
      {2, 5,
       Ds({"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
           "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"})},
  };
  for (const Case& c : cases) {
    auto p = ConsistencyProof(c.old_size, c.size, t.source());
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_EQ(*p, c.proof) << c.old_size << "->" << c.size;
    EXPECT_TRUE(
        VerifyConsistency(c.old_size, c.size, t.root(c.old_size), t.root(c.size), c.proof).ok());
  }
}

Digest Flip(Digest d, int bit) {
  d.mutable_data()[bit / 8] ^= static_cast<uint8_t>(1 << (bit % 8));
  return d;
}

TEST(MerkleTest, EveryProofOfEveryTreeVerifiesAndNoAlteredOneDoes) {
  MemTree t;
  for (int i = 0; i < 70; ++i) t.Append(HashLeaf(std::string(1 + i % 5, static_cast<char>(i))));
  for (uint64_t n = 1; n <= 70; ++n) {
    for (uint64_t i = 0; i < n; i += (n > 20 ? 7 : 1)) {
      Digest leaf = HashLeaf(std::string(1 + i % 5, static_cast<char>(i)));
      auto p = InclusionProof(i, n, t.source());
      ASSERT_TRUE(p.ok());
      ASSERT_TRUE(VerifyInclusion(i, n, leaf, *p, t.root(n)).ok()) << i << "/" << n;
      EXPECT_FALSE(VerifyInclusion(i, n, Flip(leaf, 3), *p, t.root(n)).ok());
      if (n > 1) {
        EXPECT_FALSE(VerifyInclusion((i + 1) % n, n, leaf, *p, t.root(n)).ok());
      }
      for (size_t k = 0; k < p->size(); ++k) {
        std::vector<Digest> bad = *p;
        bad[k] = Flip(bad[k], static_cast<int>(k * 13 % 256));
        EXPECT_FALSE(VerifyInclusion(i, n, leaf, bad, t.root(n)).ok());
      }
    }
    for (uint64_t m = 1; m <= n; m += (n > 20 ? 5 : 1)) {
      auto c = ConsistencyProof(m, n, t.source());
      ASSERT_TRUE(c.ok());
      ASSERT_TRUE(VerifyConsistency(m, n, t.root(m), t.root(n), *c).ok()) << m << "->" << n;
      if (m < n) {
        EXPECT_FALSE(VerifyConsistency(m, n, Flip(t.root(m), 1), t.root(n), *c).ok());
        EXPECT_FALSE(VerifyConsistency(m, n, t.root(m), Flip(t.root(n), 200), *c).ok());
      }
      for (size_t k = 0; k < c->size(); ++k) {
        std::vector<Digest> bad = *c;
        bad[k] = Flip(bad[k], 77);
        EXPECT_FALSE(VerifyConsistency(m, n, t.root(m), t.root(n), bad).ok());
      }
    }
  }
}

TEST(MerkleTest, RangesComputedApartJoinToTheSameRoot) {
  std::vector<Digest> leaves;
  for (int i = 0; i < 45; ++i) leaves.push_back(HashLeaf(std::string(1, static_cast<char>(i))));
  CompactRange whole;
  for (const Digest& l : leaves) whole.Append(l, [](int, uint64_t, const Digest&) {});
  // [0, 32) and [32, 45) computed separately, then joined.
  CompactRange left, right;
  for (int i = 0; i < 32; ++i) left.Append(leaves[i], [](int, uint64_t, const Digest&) {});
  for (int i = 32; i < 45; ++i) right.Append(leaves[i], [](int, uint64_t, const Digest&) {});
  CompactRange joined;
  ASSERT_TRUE(joined.AppendSubtree(5, left.Root()).ok());
  for (const auto& [level, h] : right.Subtrees()) ASSERT_TRUE(joined.AppendSubtree(level, h).ok());
  EXPECT_EQ(joined.size(), 45u);
  EXPECT_EQ(joined.Root(), whole.Root());
  CompactRange odd;
  odd.Append(leaves[0], [](int, uint64_t, const Digest&) {});
  EXPECT_FALSE(odd.AppendSubtree(1, leaves[1]).ok());  // would not be aligned
}

TEST(MerkleTest, CompactRangeRoundTrips) {
  MemTree t = ReferenceTree();
  auto back = CompactRange::Parse(t.range().Serialize());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->size(), 8u);
  EXPECT_EQ(back->Root(), D(kRoots[8]));
  EXPECT_FALSE(CompactRange::Parse(t.range().Serialize().substr(0, 20)).ok());
}

}  // namespace
}  // namespace custody::merkle
