#include "common/spot_check.h"

#include <gtest/gtest.h>

#include <set>

namespace custody {
namespace {

Checkpoint At(uint64_t size, const std::string& root) {
  return Checkpoint{"custody-node-n1", size, Digest::Of(root), 1};
}

TEST(SpotCheckTest, TheSameCheckpointGivesTheSameSampleAnotherADifferentOne) {
  Digest seed = SpotCheckSeed("A", 0, 100, At(42, "r"));
  EXPECT_EQ(seed, SpotCheckSeed("A", 0, 100, At(42, "r")));
  std::vector<uint64_t> s = DrawSample(seed, 500, 20);
  ASSERT_EQ(s.size(), 20u);
  EXPECT_EQ(s, DrawSample(seed, 500, 20));
  EXPECT_EQ(std::set<uint64_t>(s.begin(), s.end()).size(), 20u);  // distinct
  for (uint64_t i : s) EXPECT_LT(i, 500u);
  // Any other checkpoint, agency or period: another seed, another sample.
  for (const Digest& other :
       {SpotCheckSeed("A", 0, 100, At(43, "r")), SpotCheckSeed("A", 0, 100, At(42, "r2")),
        SpotCheckSeed("B", 0, 100, At(42, "r")), SpotCheckSeed("A", 1, 100, At(42, "r"))}) {
    EXPECT_NE(other, seed);
    EXPECT_NE(DrawSample(other, 500, 20), s);
  }
  // Asking for more than there are gives each once.
  std::vector<uint64_t> all = DrawSample(seed, 7, 20);
  EXPECT_EQ(std::set<uint64_t>(all.begin(), all.end()), (std::set<uint64_t>{0, 1, 2, 3, 4, 5, 6}));
  EXPECT_TRUE(DrawSample(seed, 0, 5).empty());
}

// Over 1000 seeds, each of 50 records is drawn (5 a time) about equally
// often: a chi-squared test at a loose bound (49 degrees of freedom; the
// 0.1% critical value is 85.4).
TEST(SpotCheckTest, TheDrawIsUniformOverSeeds) {
  const uint64_t population = 50, n = 5, seeds = 1000;
  std::vector<double> counts(population, 0);
  std::vector<double> first(population, 0);
  for (uint64_t k = 0; k < seeds; ++k) {
    std::vector<uint64_t> s =
        DrawSample(SpotCheckSeed("A", 0, 100, At(k + 1, "root")), population, n);
    for (uint64_t i : s) counts[i] += 1;
    first[s[0]] += 1;
  }
  auto chi2 = [](const std::vector<double>& c, double expected) {
    double x = 0;
    for (double v : c) x += (v - expected) * (v - expected) / expected;
    return x;
  };
  EXPECT_LT(chi2(counts, static_cast<double>(seeds * n) / population), 85.4);
  EXPECT_LT(chi2(first, static_cast<double>(seeds) / population), 85.4);
  // And the test can fail: a draw that favours low positions is caught.
  std::vector<double> skewed(population, 0);
  for (uint64_t k = 0; k < seeds * n; ++k) skewed[(k * k) % (population / 2)] += 1;
  EXPECT_GT(chi2(skewed, static_cast<double>(seeds * n) / population), 85.4);
}

}  // namespace
}  // namespace custody
