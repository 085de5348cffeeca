#include "client/device_cli.h"

#include <iostream>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/cli_errors.h"
#include "client/record_text.h"
#include "client/unary_call.h"
#include "custody/v1/records.grpc.pb.h"

namespace custody {

namespace {

using json = nlohmann::ordered_json;
using Stub = v1::Records::Stub;

json DeviceJson(const v1::Device& d) {
  json holdings = json::array();
  for (const v1::Device::Holding& h : d.holdings()) {
    holdings.push_back({{"officer", h.officer()},
                        {"from", TimeJson(h.from_unix_nanos())},
                        {"to", TimeJson(h.to_unix_nanos())},
                        {"check", h.check()}});
  }
  return json{{"id", d.id()},           {"agency", d.agency()},
              {"model", d.model()},     {"added_by", d.added_by()},
              {"held_by", d.held_by()}, {"checked_out", TimeJson(d.checked_out_unix_nanos())},
              {"holdings", holdings}};
}

std::string OrDash(const std::string& s) { return s.empty() ? "-" : s; }

// With --json the device, otherwise `confirmation`.
int Done(const RecordArgs& a, const v1::Device& d, const std::string& confirmation) {
  std::cout << (a.json ? DeviceJson(d).dump() : confirmation) << "\n";
  return 0;
}

v1::DeviceRef Ref(const RecordArgs& a) {
  v1::DeviceRef ref;
  ref.set_id(a.device);
  return ref;
}

}  // namespace

int DeviceAddCommand(const RecordArgs& a) {
  v1::DeviceAddRequest req;
  req.set_id(a.device);
  req.set_agency(a.agency);
  req.set_model(a.model);
  v1::Device d;
  absl::Status s = UnaryCall(a.server, &Stub::DeviceAdd, req, &d);
  if (!s.ok()) return PrintFailure(s);
  return Done(a, d, absl::StrCat("added device ", d.id()));
}

int DeviceListCommand(const RecordArgs& a) {
  v1::DeviceListResponse resp;
  absl::Status s = UnaryCall(a.server, &Stub::DeviceList, v1::DeviceListRequest(), &resp);
  if (!s.ok()) return PrintFailure(s);
  if (a.json) {
    json devices = json::array();
    for (const v1::Device& d : resp.devices()) devices.push_back(DeviceJson(d));
    std::cout << devices.dump() << "\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const v1::Device& d : resp.devices()) {
    rows.push_back({d.id(), OrDash(d.agency()), OrDash(d.model()),
                    d.held_by().empty() ? "in store" : d.held_by(),
                    d.held_by().empty() ? "-" : TimeText(d.checked_out_unix_nanos())});
  }
  PrintTable(std::cout, {"DEVICE", "AGENCY", "MODEL", "HELD BY", "SINCE"}, rows);
  std::cerr << resp.devices_size() << " device(s)\n";
  return 0;
}

int DeviceCheckoutCommand(const RecordArgs& a) {
  v1::DeviceCheckoutRequest req;
  req.set_id(a.device);
  req.set_officer(a.officer);
  req.set_battery(a.battery);
  req.set_storage(a.storage);
  req.set_clock(a.clock);
  v1::Device d;
  absl::Status s = UnaryCall(a.server, &Stub::DeviceCheckout, req, &d);
  if (!s.ok()) return PrintFailure(s);
  return Done(a, d, absl::StrCat("checked out ", d.id(), " to ", d.held_by()));
}

int DeviceCheckinCommand(const RecordArgs& a) {
  v1::Device d;
  absl::Status s = UnaryCall(a.server, &Stub::DeviceCheckin, Ref(a), &d);
  if (!s.ok()) return PrintFailure(s);
  return Done(a, d, absl::StrCat("checked in ", d.id()));
}

}  // namespace custody
