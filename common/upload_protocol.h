// What client and node agree on for an Upload stream besides its messages
// (proto/custody/v1/custody.proto, UploadHeader.sha256).
#ifndef CUSTODY_COMMON_UPLOAD_PROTOCOL_H_
#define CUSTODY_COMMON_UPLOAD_PROTOCOL_H_

namespace custody {

// When a header names the file's hash and the node does not answer at once
// (it does not hold that object for the caller), it sends this initial
// metadata: the client sends the file's bytes only after it.
inline constexpr char kUploadMetadataKey[] = "custody-upload";
inline constexpr char kSendBytes[] = "send-bytes";

}  // namespace custody

#endif  // CUSTODY_COMMON_UPLOAD_PROTOCOL_H_
