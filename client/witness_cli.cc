// `custody audit witness`: who a witness is (its name and the key verifiers
// give as --witness-key) and the logs it cosigns (doc/witness.md).
#include <iostream>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "client/audit_cli.h"
#include "client/cli_errors.h"
#include "client/record_text.h"
#include "client/shown_time.h"
#include "client/unary_call.h"
#include "custody/v1/witness.grpc.pb.h"

namespace custody {

int AuditWitnessCommand(const AuditArgs& a) {
  v1::WitnessInfoResponse r;
  absl::Status st =
      UnaryCall(a.server, &v1::Witness::Stub::WitnessInfo, v1::WitnessInfoRequest(), &r);
  if (!st.ok()) return PrintFailure(st);
  if (a.key_only) {
    std::cout << r.public_key_pem();
    return 0;
  }
  if (a.json) {
    nlohmann::ordered_json logs = nlohmann::ordered_json::array();
    for (const v1::WitnessedLog& l : r.logs()) {
      logs.push_back({{"origin", l.origin()},
                      {"size", l.size()},
                      {"cosigned", ShownTime(l.cosigned_unix_nanos())},
                      {"refusals", l.refusals()}});
    }
    std::cout << nlohmann::ordered_json{{"name", r.name()},
                                        {"public_key_pem", r.public_key_pem()},
                                        {"logs", logs}}
                     .dump()
              << "\n";
    return 0;
  }
  std::cout << "witness " << r.name() << "; its key (verifiers give it as --witness-key):\n"
            << r.public_key_pem();
  std::vector<std::vector<std::string>> rows;
  for (const v1::WitnessedLog& l : r.logs()) {
    rows.push_back({l.origin(), absl::StrCat(l.size()), ShownTime(l.cosigned_unix_nanos()),
                    absl::StrCat(l.refusals())});
  }
  PrintTable(std::cout, {"LOG", "SIZE", "COSIGNED", "REFUSED"}, rows);
  return 0;
}

}  // namespace custody
