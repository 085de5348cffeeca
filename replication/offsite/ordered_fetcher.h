// Fetching a long sequence of blobs from the offsite peer in parallel while
// handing them out strictly in order (the restore's pipeline;
// doc/offsite.md, "Restore"): one fetcher thread per channel, at most
// `window` blobs fetched ahead of the consumer, so memory stays bounded at
// window x chunk size however long the sequence is.
#ifndef CUSTODY_REPLICATION_OFFSITE_ORDERED_FETCHER_H_
#define CUSTODY_REPLICATION_OFFSITE_ORDERED_FETCHER_H_

#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/digest.h"

namespace custody {

// Starts fetching on construction. Next() is for one consumer thread; the
// destructor stops the fetchers and waits for them. Bytes are not checked
// here: the store that takes them checks each against its name.
class OrderedFetcher {
 public:
  // Fetches one blob through channel `c`; called from `channels` threads
  // at once, each with its own c.
  using FetchFn = std::function<absl::StatusOr<std::string>(int c, const Digest& key)>;

  OrderedFetcher(FetchFn fetch, int channels, std::vector<Digest> keys, size_t window);
  ~OrderedFetcher();
  OrderedFetcher(const OrderedFetcher&) = delete;
  OrderedFetcher& operator=(const OrderedFetcher&) = delete;

  // The blob of keys[i] for the i-th call, once fetched; OUT_OF_RANGE past
  // the end. The peer's error for a blob is returned in its turn.
  absl::StatusOr<std::string> Next();

 private:
  void Fetch(int channel);

  const FetchFn fetch_;
  const std::vector<Digest> keys_;
  const size_t window_;
  absl::Mutex mu_;
  std::map<size_t, absl::StatusOr<std::string>> ready_ ABSL_GUARDED_BY(mu_);
  size_t next_fetch_ ABSL_GUARDED_BY(mu_) = 0;
  size_t next_out_ ABSL_GUARDED_BY(mu_) = 0;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> fetchers_;
};

}  // namespace custody

#endif  // CUSTODY_REPLICATION_OFFSITE_ORDERED_FETCHER_H_
