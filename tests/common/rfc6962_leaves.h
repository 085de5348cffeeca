// The eight leaves of the RFC 6962 test vectors (certificate-transparency's
// merkle_tree_test.cc, transparency-dev/merkle testonly/constants.go), in
// hex: the merkle and witness tests build their trees from them.
#ifndef CUSTODY_TESTS_COMMON_RFC6962_LEAVES_H_
#define CUSTODY_TESTS_COMMON_RFC6962_LEAVES_H_

namespace custody::testing {

inline constexpr const char* kRfc6962Leaves[8] = {"",
                                                  "00",
                                                  "10",
                                                  "2021",
                                                  "3031",
                                                  "40414243",
                                                  "5051525354555657",
                                                  "606162636465666768696a6b6c6d6e6f"};

}  // namespace custody::testing

#endif  // CUSTODY_TESTS_COMMON_RFC6962_LEAVES_H_
