#include "common/cosignature.h"

#include <gtest/gtest.h>

#include "absl/base/internal/endian.h"
#include "absl/strings/escaping.h"
#include "common/checkpoint.h"

namespace custody {
namespace {

struct Signed {
  Ed25519Key log, witness;
  std::string note;
};

Signed Sample() {
  Signed s{*Ed25519Key::Generate(), *Ed25519Key::Generate(), ""};
  Checkpoint c;
  c.origin = "custody-node-n1";
  c.size = 20852163;
  c.root = Digest::Of("root");
  c.time_unix_nanos = 1764316800000000000;
  s.note = *SignCheckpoint(c, s.log);
  return s;
}

TEST(CosignatureTest, FollowsTlogCosignatureAndVerifiesBesideTheLogsSignature) {
  Signed s = Sample();
  auto line = Cosign(*NoteBody(s.note), "custody-witness-w1", s.witness, 1679315147);
  ASSERT_TRUE(line.ok()) << line.status();
  ASSERT_EQ(line->rfind("\xE2\x80\x94 custody-witness-w1 ", 0), 0u) << *line;
  std::string blob;
  ASSERT_TRUE(absl::Base64Unescape(line->substr(line->rfind(' ') + 1), &blob));
  ASSERT_EQ(blob.size(), 76u);  // key id, timestamp, Ed25519 signature
  EXPECT_EQ(absl::big_endian::Load32(blob.data()),
            CosignatureKeyId("custody-witness-w1", s.witness.public_raw()));
  EXPECT_EQ(absl::big_endian::Load64(blob.data() + 4), 1679315147u);
  // The signed message is the C2SP one: header, time, then the note body.
  std::string message = "cosignature/v1\ntime 1679315147\n" + *NoteBody(s.note);
  EXPECT_TRUE(Ed25519Verify(s.witness.public_raw(), message, blob.substr(12)).ok());

  std::string cosigned = AddNoteSignature(s.note, *line);
  EXPECT_EQ(AddNoteSignature(cosigned, *line), cosigned);  // once
  EXPECT_EQ(NoteSignatureLines(cosigned).size(), 2u);
  auto v = VerifyCosignature(cosigned, s.witness.public_raw());
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->name, "custody-witness-w1");
  EXPECT_EQ(v->unix_seconds, 1679315147);
  // The log's own signature still verifies; the witness's line is ignored.
  EXPECT_TRUE(VerifyCheckpoint(cosigned, s.log.public_raw()).ok());
}

TEST(CosignatureTest, AnotherKeyIsMissingAndAnotherCheckpointFails) {
  Signed s = Sample();
  std::string cosigned =
      AddNoteSignature(s.note, *Cosign(*NoteBody(s.note), "w", s.witness, 1700000000));
  auto other = Ed25519Key::Generate();
  EXPECT_TRUE(absl::IsNotFound(VerifyCosignature(cosigned, other->public_raw()).status()));
  EXPECT_TRUE(absl::IsNotFound(VerifyCosignature(s.note, s.witness.public_raw()).status()));
  // The same line over another tree size.
  std::string moved = cosigned;
  moved.replace(moved.find("20852163"), 8, "20852164");
  auto v = VerifyCosignature(moved, s.witness.public_raw());
  EXPECT_TRUE(absl::IsDataLoss(v.status())) << v.status();
  // A changed time in the line.
  std::string line = NoteSignatureLines(cosigned)[1];
  std::string blob;
  ASSERT_TRUE(absl::Base64Unescape(line.substr(line.rfind(' ') + 1), &blob));
  blob[11] ^= 1;
  std::string retimed =
      s.note + line.substr(0, line.rfind(' ') + 1) + absl::Base64Escape(blob) + "\n";
  EXPECT_TRUE(absl::IsDataLoss(VerifyCosignature(retimed, s.witness.public_raw()).status()));
}

}  // namespace
}  // namespace custody
