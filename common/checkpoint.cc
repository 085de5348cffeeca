#include "common/checkpoint.h"

#include <vector>

#include "absl/base/internal/endian.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"

namespace custody {
namespace {
constexpr absl::string_view kSigPrefix = "\xE2\x80\x94 ";  // em dash, space
}  // namespace

std::string Checkpoint::Body() const {
  return absl::StrCat(origin, "\n", size, "\n", absl::Base64Escape(root.Raw()), "\ntime ",
                      time_unix_nanos, "\n");
}

absl::StatusOr<Checkpoint> Checkpoint::ParseBody(absl::string_view body) {
  std::vector<absl::string_view> lines = absl::StrSplit(body, '\n');
  if (lines.size() < 4 || !lines.back().empty()) {
    return absl::DataLossError("checkpoint body must have at least 3 lines, each ending in \\n");
  }
  Checkpoint c;
  c.origin = std::string(lines[0]);
  if (c.origin.empty()) return absl::DataLossError("checkpoint has no origin");
  if (!absl::SimpleAtoi(lines[1], &c.size)) {
    return absl::DataLossError("checkpoint tree size is not a number");
  }
  std::string raw;
  // Canonical base64 only: another spelling of the same bytes is refused,
  // so that no byte of a checkpoint can change without it being detected.
  if (!absl::Base64Unescape(lines[2], &raw) || absl::Base64Escape(raw) != lines[2]) {
    return absl::DataLossError("checkpoint root hash is not canonical base64");
  }
  ASSIGN_OR_RETURN(c.root, Digest::FromRaw(raw));
  for (size_t i = 3; i + 1 < lines.size(); ++i) {
    if (absl::ConsumePrefix(&lines[i], "time ") &&
        !absl::SimpleAtoi(lines[i], &c.time_unix_nanos)) {
      return absl::DataLossError("checkpoint time is not a number");
    }
  }
  return c;
}

uint32_t NoteKeyId(absl::string_view name, absl::string_view public_raw) {
  Digest d = Digest::Of(absl::StrCat(name, "\n", std::string(1, '\x01'), public_raw));
  return absl::big_endian::Load32(d.data());
}

absl::StatusOr<std::string> SignCheckpoint(const Checkpoint& c, const Ed25519Key& key) {
  std::string body = c.Body();
  ASSIGN_OR_RETURN(std::string sig, key.Sign(body));
  char id[4];
  absl::big_endian::Store32(id, NoteKeyId(c.origin, key.public_raw()));
  return absl::StrCat(body, "\n", kSigPrefix, c.origin, " ",
                      absl::Base64Escape(absl::StrCat(absl::string_view(id, 4), sig)), "\n");
}

absl::StatusOr<Checkpoint> VerifyCheckpoint(absl::string_view note, absl::string_view public_raw) {
  size_t split = note.find("\n\n");
  if (split == absl::string_view::npos) {
    return absl::DataLossError("not a signed note: no blank line before the signatures");
  }
  absl::string_view body = note.substr(0, split + 1);
  ASSIGN_OR_RETURN(Checkpoint c, Checkpoint::ParseBody(body));
  uint32_t want_id = NoteKeyId(c.origin, public_raw);
  for (absl::string_view line : absl::StrSplit(note.substr(split + 2), '\n', absl::SkipEmpty())) {
    if (!absl::ConsumePrefix(&line, kSigPrefix)) {
      return absl::DataLossError("malformed signature line in the note");
    }
    std::pair<absl::string_view, absl::string_view> parts = absl::StrSplit(line, ' ');
    std::string blob;
    if (!absl::Base64Unescape(parts.second, &blob) || absl::Base64Escape(blob) != parts.second) {
      return absl::DataLossError("a signature in the note is not canonical base64");
    }
    if (parts.first != c.origin || blob.size() != 68 ||
        absl::big_endian::Load32(blob.data()) != want_id) {
      continue;  // a signature by another key (e.g. a witness)
    }
    absl::Status s = Ed25519Verify(public_raw, body, absl::string_view(blob).substr(4));
    if (!s.ok()) return absl::DataLossError("the checkpoint's signature does not verify");
    return c;
  }
  return absl::DataLossError(
      absl::StrCat("the checkpoint carries no signature by this key for ", c.origin));
}

}  // namespace custody
