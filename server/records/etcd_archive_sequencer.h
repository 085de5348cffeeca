// Archive numbers from etcd (doc/etcd.md): one transaction moves a prefix's
// counter and claims the number for the record, so any node may archive any
// record while a quorum of etcd is up, and numbers are unique, without gaps.
//
// Keys, under `root` ("/custody/"):
//   archive/seq/<prefix>          the prefix's last sequence (decimal)
//   archive/claim/<record id>     "<prefix>\n<sequence>": the record's number, forever
//   archive/pending/<record id>   "<prefix>\n<sequence>\n<actor>\n<unix seconds>":
//                                 claimed, the ledger entry not yet confirmed written
// Thread-safe.
#ifndef CUSTODY_SERVER_RECORDS_ETCD_ARCHIVE_SEQUENCER_H_
#define CUSTODY_SERVER_RECORDS_ETCD_ARCHIVE_SEQUENCER_H_

#include <string>

#include "replication/etcd/etcd_client.h"
#include "server/records/archive_sequencer.h"

namespace custody {

class EtcdArchiveSequencer : public ArchiveSequencer {
 public:
  EtcdArchiveSequencer(EtcdClient* etcd, std::string root) : etcd_(etcd), root_(std::move(root)) {}

  absl::StatusOr<uint64_t> Reserve(const std::string& prefix, const std::string& record_id,
                                   uint64_t at_least, const std::string& actor) override;
  absl::StatusOr<std::vector<ArchiveReservation>> Pending() override;
  absl::Status Done(const std::string& record_id) override;

 private:
  EtcdClient* etcd_;
  const std::string root_;
};

}  // namespace custody

#endif  // CUSTODY_SERVER_RECORDS_ETCD_ARCHIVE_SEQUENCER_H_
