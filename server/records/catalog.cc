#include "server/records/catalog.h"

#include <cstdlib>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/files.h"
#include "common/log.h"

namespace custody {

extern const char kBuiltInCatalogCsv[];  // generated from deploy/catalog/matters.csv

namespace {

constexpr const char* kHeader =
    "no,category,matter,record_scope,place,recorder,start_trigger,process,end_trigger,"
    "record_class";
// Optional English names after the regulation's ten columns.
constexpr const char* kEnglishColumns = ",category_en,matter_en";

absl::StatusOr<v1::Matter> ParseRow(absl::string_view line, int line_no, size_t columns) {
  std::vector<std::string> f = absl::StrSplit(line, ',');
  if (f.size() != columns) {
    return absl::InvalidArgumentError(
        absl::StrCat("line ", line_no, " has ", f.size(), " fields, not ", columns));
  }
  v1::Matter m;
  uint32_t n = 0;
  if (!absl::SimpleAtoi(f[0], &n) || n == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("line ", line_no, ": \"", f[0], "\" is not a matter number"));
  }
  m.set_number(n);
  m.set_category(f[1]);
  m.set_matter(f[2]);
  m.set_record_scope(f[3]);
  m.set_place(f[4]);
  m.set_recorder(f[5]);
  m.set_start_trigger(f[6]);
  m.set_process(f[7]);
  m.set_end_trigger(f[8]);
  m.set_record_class(f[9]);
  if (columns == 12) {
    m.set_category_en(f[10]);
    m.set_matter_en(f[11]);
  }
  return m;
}

}  // namespace

absl::StatusOr<Catalog> Catalog::Parse(const std::string& csv, const std::string& source) {
  Catalog c;
  c.source_ = source;
  int line_no = 0;
  size_t columns = 10;
  for (absl::string_view line : absl::StrSplit(csv, '\n')) {
    ++line_no;
    line = absl::StripSuffix(line, "\r");
    if (line_no == 1) {
      absl::string_view header = absl::StripPrefix(line, "\xEF\xBB\xBF");
      if (header == absl::StrCat(kHeader, kEnglishColumns)) {
        columns = 12;
      } else if (header != kHeader) {
        return absl::InvalidArgumentError(
            absl::StrCat(source, ": the first line must be the header \"", kHeader,
                         "\" (optionally followed by \"", kEnglishColumns, "\")"));
      }
      continue;
    }
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    absl::StatusOr<v1::Matter> m = ParseRow(line, line_no, columns);
    if (!m.ok())
      return absl::InvalidArgumentError(absl::StrCat(source, ": ", m.status().message()));
    if (!c.matters_.emplace(m->number(), *m).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": matter ", m->number(), " appears twice"));
    }
  }
  if (c.matters_.empty()) return absl::InvalidArgumentError(source + ": no matters");
  return c;
}

Catalog Catalog::BuiltIn() {
  absl::StatusOr<Catalog> c = Parse(kBuiltInCatalogCsv, "built-in");
  if (!c.ok()) {
    LOG(ERROR) << "the built-in catalog does not parse: " << c.status();
    std::abort();
  }
  return *std::move(c);
}

absl::StatusOr<Catalog> Catalog::Load(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFileToString(path);
  if (!text.ok()) return text.status();
  return Parse(*text, path);
}

const v1::Matter* Catalog::Find(uint32_t number) const {
  auto it = matters_.find(number);
  return it == matters_.end() ? nullptr : &it->second;
}

}  // namespace custody
