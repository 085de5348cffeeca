#include "common/zero_copy_message.h"

#include <gtest/gtest.h>

#include <vector>

#include "custody/internal/v1/offsite_peer.grpc.pb.h"
#include "custody/v1/offsite.pb.h"

namespace custody {
namespace {

internal::v1::PeerPutRequest Rest() {
  internal::v1::PeerPutRequest r;
  r.set_key(std::string(32, 'k'));
  r.set_object(std::string(32, 'o'));
  r.set_index(7);
  return r;
}

TEST(ZeroCopyMessageTest, ParsesAsTheWholeMessage) {
  std::string data(5 << 20, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 131 + i / 7);
  const std::string expected = data;
  grpc::ByteBuffer b =
      MessageWithBytes(Rest(), internal::v1::PeerPutRequest::kDataFieldNumber, std::move(data));
  internal::v1::PeerPutRequest whole = Rest();
  whole.set_data(expected);
  EXPECT_EQ(b.Length(), whole.ByteSizeLong());
  internal::v1::PeerPutRequest parsed;
  ASSERT_TRUE(ParseByteBuffer(&b, &parsed).ok());
  EXPECT_EQ(parsed.key(), whole.key());
  EXPECT_EQ(parsed.object(), whole.object());
  EXPECT_EQ(parsed.index(), 7u);
  EXPECT_TRUE(parsed.data() == expected);
}

TEST(ZeroCopyMessageTest, TheBytesAreNotCopied) {
  std::string data(1 << 20, 'x');
  const char* where = data.data();
  grpc::ByteBuffer b =
      MessageWithBytes(Rest(), internal::v1::PeerPutRequest::kDataFieldNumber, std::move(data));
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(b.Dump(&slices).ok());
  ASSERT_EQ(slices.size(), 2u);
  EXPECT_EQ(reinterpret_cast<const char*>(slices[1].begin()), where);
  EXPECT_EQ(slices[1].size(), size_t{1} << 20);
}

TEST(ZeroCopyMessageTest, EmptyBytesAndBadInput) {
  grpc::ByteBuffer b = MessageWithBytes(Rest(), internal::v1::PeerPutRequest::kDataFieldNumber, "");
  internal::v1::PeerPutRequest parsed;
  ASSERT_TRUE(ParseByteBuffer(&b, &parsed).ok());
  EXPECT_EQ(parsed.key(), Rest().key());
  EXPECT_TRUE(parsed.data().empty());

  grpc::Slice junk(std::string("\xff\xff\xff\xff", 4));
  grpc::ByteBuffer bad(&junk, 1);
  absl::Status s = ParseByteBuffer(&bad, &parsed);
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_NE(s.message().find("custody.internal.v1.PeerPutRequest"), std::string::npos);

  grpc::ByteBuffer none;  // a call that ended without a message
  EXPECT_EQ(ParseByteBuffer(&none, &parsed).code(), absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace custody
