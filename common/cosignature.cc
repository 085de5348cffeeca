#include "common/cosignature.h"

#include "absl/base/internal/endian.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/digest.h"
#include "common/status_macros.h"

namespace custody {
namespace {

constexpr absl::string_view kSigPrefix = "\xE2\x80\x94 ";  // em dash, space
constexpr size_t kBlobSize = 4 + 8 + 64;

std::string SignedMessage(absl::string_view body, int64_t unix_seconds) {
  return absl::StrCat("cosignature/v1\ntime ", unix_seconds, "\n", body);
}

}  // namespace

uint32_t CosignatureKeyId(absl::string_view name, absl::string_view public_raw) {
  Digest d = Digest::Of(absl::StrCat(name, "\n", std::string(1, '\x04'), public_raw));
  return absl::big_endian::Load32(d.data());
}

absl::StatusOr<std::string> NoteBody(absl::string_view note) {
  size_t split = note.find("\n\n");
  if (split == absl::string_view::npos) {
    return absl::DataLossError("not a signed note: no blank line before the signatures");
  }
  return std::string(note.substr(0, split + 1));
}

std::vector<std::string> NoteSignatureLines(absl::string_view note) {
  size_t split = note.find("\n\n");
  if (split == absl::string_view::npos) return {};
  return absl::StrSplit(note.substr(split + 2), '\n', absl::SkipEmpty());
}

std::string AddNoteSignature(absl::string_view note, absl::string_view line) {
  absl::string_view bare = absl::StripSuffix(line, "\n");
  for (const std::string& have : NoteSignatureLines(note)) {
    if (have == bare) return std::string(note);
  }
  std::string out(note);
  if (!out.empty() && out.back() != '\n') out += '\n';
  return absl::StrCat(out, bare, "\n");
}

absl::StatusOr<std::string> Cosign(absl::string_view body, absl::string_view name,
                                   const Ed25519Key& key, int64_t unix_seconds) {
  if (unix_seconds < 0) return absl::InvalidArgumentError("a cosignature's time is before 1970");
  ASSIGN_OR_RETURN(std::string sig, key.Sign(SignedMessage(body, unix_seconds)));
  char head[12];
  absl::big_endian::Store32(head, CosignatureKeyId(name, key.public_raw()));
  absl::big_endian::Store64(head + 4, static_cast<uint64_t>(unix_seconds));
  return absl::StrCat(kSigPrefix, name, " ",
                      absl::Base64Escape(absl::StrCat(absl::string_view(head, 12), sig)), "\n");
}

absl::StatusOr<VerifiedCosignature> VerifyCosignature(absl::string_view note,
                                                      absl::string_view public_raw) {
  ASSIGN_OR_RETURN(std::string body, NoteBody(note));
  for (absl::string_view line : NoteSignatureLines(note)) {
    if (!absl::ConsumePrefix(&line, kSigPrefix)) continue;
    std::pair<absl::string_view, absl::string_view> parts = absl::StrSplit(line, ' ');
    std::string blob;
    if (!absl::Base64Unescape(parts.second, &blob) || blob.size() != kBlobSize) continue;
    if (absl::big_endian::Load32(blob.data()) != CosignatureKeyId(parts.first, public_raw)) {
      continue;  // another signer's line
    }
    uint64_t time = absl::big_endian::Load64(blob.data() + 4);
    if (time > static_cast<uint64_t>(INT64_MAX)) {
      return absl::DataLossError("the cosignature's time is out of range");
    }
    absl::Status s = Ed25519Verify(public_raw, SignedMessage(body, static_cast<int64_t>(time)),
                                   absl::string_view(blob).substr(12));
    if (!s.ok()) {
      return absl::DataLossError(absl::StrCat("the cosignature of witness ", parts.first,
                                              " does not verify over this checkpoint"));
    }
    return VerifiedCosignature{std::string(parts.first), static_cast<int64_t>(time)};
  }
  return absl::NotFoundError("the checkpoint carries no cosignature by this witness key");
}

}  // namespace custody
