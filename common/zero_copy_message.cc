#include "common/zero_copy_message.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/wire_format_lite.h>
#include <grpcpp/support/proto_buffer_reader.h>

#include <memory>

#include "absl/strings/str_cat.h"

namespace custody {

using google::protobuf::internal::WireFormatLite;

grpc::ByteBuffer MessageWithBytes(const google::protobuf::Message& rest, int field_number,
                                  std::string bytes) {
  std::string head = rest.SerializeAsString();
  {
    google::protobuf::io::StringOutputStream s(&head);
    google::protobuf::io::CodedOutputStream out(&s);
    out.WriteTag(WireFormatLite::MakeTag(field_number, WireFormatLite::WIRETYPE_LENGTH_DELIMITED));
    out.WriteVarint64(bytes.size());
  }
  auto* owned = new std::string(std::move(bytes));
  grpc::Slice slices[2] = {grpc::Slice(head),
                           grpc::Slice(
                               owned->data(), owned->size(),
                               [](void* p) { delete static_cast<std::string*>(p); }, owned)};
  return grpc::ByteBuffer(slices, 2);
}

absl::Status ParseByteBuffer(grpc::ByteBuffer* buffer, google::protobuf::Message* out) {
  if (!buffer->Valid()) {  // a callback call may end OK with no message
    return absl::InternalError(absl::StrCat("no ", out->GetTypeName(), " came from the peer"));
  }
  grpc::ProtoBufferReader reader(buffer);
  if (!reader.status().ok() || !out->ParseFromZeroCopyStream(&reader)) {
    return absl::InternalError(
        absl::StrCat("a ", out->GetTypeName(), " from the peer does not parse"));
  }
  return absl::OkStatus();
}

}  // namespace custody
