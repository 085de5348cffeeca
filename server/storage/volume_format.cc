#include "server/storage/volume_format.h"

#include <cstring>

#include "absl/base/internal/endian.h"
#include "absl/strings/str_cat.h"

namespace custody {
namespace {

void Put32(char* p, uint32_t v) { absl::little_endian::Store32(p, v); }
void Put64(char* p, uint64_t v) { absl::little_endian::Store64(p, v); }
uint32_t Get32(const char* p) { return absl::little_endian::Load32(p); }
uint64_t Get64(const char* p) { return absl::little_endian::Load64(p); }

}  // namespace

uint32_t HeaderCheck(const char* data, size_t n) {
  Digest d = Digest::Of(absl::string_view(data, n));
  return Get32(reinterpret_cast<const char*>(d.data()));
}

void EncodeEntryTo(char* out, EntryType type, std::initializer_list<absl::string_view> parts,
                   const Digest& hash) {
  uint64_t used = EntryHeader::kSize;
  for (absl::string_view p : parts) {
    std::memcpy(out + used, p.data(), p.size());
    used += p.size();
  }
  EntryHeader h;
  h.type = type;
  h.length = static_cast<uint32_t>(used - EntryHeader::kSize);
  h.hash = hash;
  h.EncodeTo(out);
  std::memset(out + used, 0, EntryHeader::Span(h.length) - used);
}

std::string EncodeEntry(EntryType type, absl::string_view payload) {
  std::string out(EntryHeader::Span(static_cast<uint32_t>(payload.size())), '\0');
  EncodeEntryTo(out.data(), type, {payload}, Digest::Of(payload));
  return out;
}

std::string Location::Encode() const {
  std::string out(16, '\0');
  Put32(out.data(), volume);
  Put64(out.data() + 4, offset);
  Put32(out.data() + 12, length);
  return out;
}

absl::StatusOr<Location> Location::Decode(absl::string_view bytes) {
  if (bytes.size() != 16) {
    return absl::DataLossError(
        absl::StrCat("index location has ", bytes.size(), " bytes, want 16"));
  }
  Location l;
  l.volume = Get32(bytes.data());
  l.offset = Get64(bytes.data() + 4);
  l.length = Get32(bytes.data() + 12);
  return l;
}

void EntryHeader::EncodeTo(char* out) const {
  std::memset(out, 0, kSize);
  Put32(out, kMagic);
  out[4] = static_cast<char>(type);
  Put32(out + 8, length);
  std::memcpy(out + 12, hash.data(), Digest::kSize);
  Put32(out + 44, HeaderCheck(out, 44));
}

absl::StatusOr<EntryHeader> EntryHeader::Decode(const char* in) {
  if (Get32(in) != kMagic) return absl::DataLossError("entry magic mismatch");
  if (Get32(in + 44) != HeaderCheck(in, 44)) {
    return absl::DataLossError("entry header check mismatch");
  }
  EntryHeader h;
  uint8_t type = static_cast<uint8_t>(in[4]);
  if (type < 1 || type > 4) {
    return absl::DataLossError(absl::StrCat("unknown entry type ", type));
  }
  h.type = static_cast<EntryType>(type);
  h.length = Get32(in + 8);
  std::memcpy(h.hash.mutable_data(), in + 12, Digest::kSize);
  return h;
}

void VolumeHeader::EncodeTo(char* out) const {
  std::memset(out, 0, kSize);
  std::memcpy(out, kMagic, 8);
  Put32(out + 8, kVersion);
  Put32(out + 12, volume_id);
  Put32(out + 16, chunk_size);
  Put64(out + 24, static_cast<uint64_t>(created_unix_nanos));
  Put32(out + 60, HeaderCheck(out, 60));
}

absl::StatusOr<VolumeHeader> VolumeHeader::Decode(const char* in) {
  if (std::memcmp(in, kMagic, 8) != 0) {
    return absl::DataLossError("not a custody volume (bad magic)");
  }
  if (Get32(in + 60) != HeaderCheck(in, 60)) {
    return absl::DataLossError("volume header check mismatch");
  }
  if (Get32(in + 8) != kVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("volume format version ", Get32(in + 8), " is not supported"));
  }
  VolumeHeader h;
  h.volume_id = Get32(in + 12);
  h.chunk_size = Get32(in + 16);
  h.created_unix_nanos = static_cast<int64_t>(Get64(in + 24));
  return h;
}

}  // namespace custody
