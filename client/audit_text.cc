#include "client/audit_text.h"

#include <iostream>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/record_text.h"
#include "client/shown_time.h"
#include "common/units.h"

namespace custody {

namespace {

using json = nlohmann::ordered_json;

constexpr size_t kDetailsWidth = 100;

std::string Detail(const v1::AuditEvent& e, const std::string& key) {
  for (const auto& d : e.details()) {
    if (d.key() == key) return d.value();
  }
  return "";
}

// A detail's value as people read it: Unix nanoseconds of this century as
// a time.
std::string DetailText(const std::string& value) {
  int64_t n = 0;
  if (value.size() == 19 && absl::SimpleAtoi(value, &n) && n > 946684800000000000) {
    return ShownTime(n);
  }
  return value;
}

std::string DetailsText(const v1::AuditEvent& e) {
  std::string text;
  for (const auto& d : e.details()) {
    if (d.key() == "entry_base64") continue;  // in --json
    absl::StrAppend(&text, text.empty() ? "" : " ", d.key(), "=", DetailText(d.value()));
  }
  if (text.size() > kDetailsWidth) text = text.substr(0, kDetailsWidth - 3) + "...";
  return text;
}

}  // namespace

std::vector<AuditLine> GroupEvents(const std::vector<v1::AuditEvent>& events) {
  std::vector<AuditLine> lines;
  std::map<std::string, size_t> by_entry;  // ledger entry -> line
  for (const v1::AuditEvent& e : events) {
    const std::string entry = Detail(e, "ledger_entry");
    auto it = entry.empty() ? by_entry.end() : by_entry.find(entry);
    if (it == by_entry.end()) {
      if (!entry.empty()) by_entry[entry] = lines.size();
      lines.push_back({e, {e.node_id()}});
      continue;
    }
    AuditLine& line = lines[it->second];
    line.nodes.push_back(e.node_id());
    // The origin's event says what was decided; a copy only that it came.
    if (line.event.action() == "ledger.received" && e.action() != "ledger.received") {
      line.event = e;
      std::swap(line.nodes.front(), line.nodes.back());
    }
  }
  return lines;
}

json EventJson(const v1::AuditEvent& e) {
  json details = json::object();
  for (const auto& d : e.details()) details[d.key()] = d.value();
  return json{{"seq", e.seq()},       {"time", ShownTime(e.time_unix_nanos())},
              {"node", e.node_id()},  {"actor", e.actor()},
              {"action", e.action()}, {"subject", e.subject()},
              {"details", details}};
}

json LineJson(const AuditLine& line) {
  json j = EventJson(line.event);
  j["nodes"] = line.nodes;
  return j;
}

void PrintEvents(const std::vector<v1::AuditEvent>& events) {
  std::vector<AuditLine> lines;
  for (const v1::AuditEvent& e : events) lines.push_back({e, {e.node_id()}});
  PrintLines(lines);
}

void PrintLines(const std::vector<AuditLine>& lines) {
  bool many = false;
  for (const AuditLine& l : lines) {
    many |= l.nodes.size() > 1 || l.event.node_id() != lines.front().event.node_id();
  }
  std::vector<std::string> header = {
      "SEQ", "TIME (" + ShownTimeZoneName() + ")", "ACTOR", "ACTION", "SUBJECT", "DETAILS"};
  if (many) header.insert(header.begin(), "NODES");
  std::vector<std::vector<std::string>> rows;
  for (const AuditLine& l : lines) {
    const v1::AuditEvent& e = l.event;
    std::vector<std::string> row = {
        absl::StrCat(e.seq()), ShownTime(e.time_unix_nanos()), e.actor(), e.action(), e.subject(),
        DetailsText(e)};
    if (many) row.insert(row.begin(), absl::StrJoin(l.nodes, ","));
    rows.push_back(std::move(row));
  }
  PrintTable(std::cout, header, rows);
}

}  // namespace custody
