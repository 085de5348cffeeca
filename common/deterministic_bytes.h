// A protobuf message serialized with a fixed map order.
#ifndef CUSTODY_COMMON_DETERMINISTIC_BYTES_H_
#define CUSTODY_COMMON_DETERMINISTIC_BYTES_H_

#include <google/protobuf/message.h>

#include <string>

namespace custody {

// `m` serialized with deterministic map order, so that every node encodes the
// same message (a manifest, a snapshot body) to the same bytes. Thread-safe.
std::string DeterministicBytes(const google::protobuf::Message& m);

}  // namespace custody

#endif  // CUSTODY_COMMON_DETERMINISTIC_BYTES_H_
