// custodyd's flags for witnessing and trusted time (doc/witness.md): the
// witness a storage node asks to cosign its checkpoints, the TSA that
// timestamps them, and, on a witness (--role witness) or an offsite peer,
// the Witness service. Owns the node's Attester and the witness's book.
#ifndef CUSTODY_REPLICATION_WITNESS_WITNESS_FLAGS_H_
#define CUSTODY_REPLICATION_WITNESS_WITNESS_FLAGS_H_

#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "replication/witness/attester.h"
#include "replication/witness/witness_book.h"
#include "replication/witness/witness_service.h"
#include "replication/witness/witness_store.h"
#include "server/node.h"

namespace custody {

class WitnessFlags {
 public:
  explicit WitnessFlags(CLI::App* app);
  // Checks the flags after parsing; `serves_witness` for --role witness and
  // --role offsite.
  absl::Status Apply(bool serves_witness);
  // Makes the node's attester (and, when it serves, the witness's book with
  // its key DIR/witness.key); before the services are made.
  absl::Status Open(Node* node);
  // Registers the Witness service when the node serves one.
  void Register(grpc::ServerBuilder* builder);
  // Starts and stops the background rounds.
  void Start();
  void Stop();

  // Null before Open.
  Attester* attester() { return attester_.get(); }
  bool serves_witness() const { return serves_witness_; }

 private:
  std::string every_ = "60s", tsa_interval_ = "60s", tsa_cert_file_;
  AttestOptions options_;
  bool serves_witness_ = false;
  std::unique_ptr<Attester> attester_;
  std::unique_ptr<IndexWitnessStore> store_;
  std::unique_ptr<WitnessBook> book_;
  std::unique_ptr<WitnessService> service_;
};

}  // namespace custody

#endif  // CUSTODY_REPLICATION_WITNESS_WITNESS_FLAGS_H_
