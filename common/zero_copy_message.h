// A protobuf message with one large bytes field, framed for gRPC without
// copying that field: the rest of the message is serialized as usual, then
// the field's tag and length, then the bytes themselves as a slice that owns
// them. Protobuf parses fields in any order, so the receiver sees an ordinary
// message. Used where a node sends chunks (offsite sync, doc/offsite.md): it
// saves a copy of every byte sent.
#ifndef CUSTODY_COMMON_ZERO_COPY_MESSAGE_H_
#define CUSTODY_COMMON_ZERO_COPY_MESSAGE_H_

#include <google/protobuf/message.h>
#include <grpcpp/support/byte_buffer.h>

#include <string>

#include "absl/status/statusor.h"

namespace custody {

// `rest` must not set field `field_number` (a bytes field of its type).
grpc::ByteBuffer MessageWithBytes(const google::protobuf::Message& rest, int field_number,
                                  std::string bytes);

// Parses a message received as a ByteBuffer; INTERNAL if there is none or it
// does not parse.
absl::Status ParseByteBuffer(grpc::ByteBuffer* buffer, google::protobuf::Message* out);

}  // namespace custody

#endif  // CUSTODY_COMMON_ZERO_COPY_MESSAGE_H_
